/* kb.c: `switchboardctl kb import --org SLUG DIR`: an org's knowledge base loaded from
 * the *.md and *.txt files of a directory, each replacing the document of its title. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "cli/ctl.h"
#include "core/arena.h"
#include "core/chunk.h"
#include "core/conf.h"
#include "core/db.h"
#include "core/json.h"

#define TITLE_MAX	200		/* bytes, as POST /api/v1/kb/documents takes */
#define CONTENT_MAX	(256 * 1024)

/* The file's bytes (malloc'd, NUL-terminated, *len of them), or NULL (printed) when it
 * cannot be read, is empty or over CONTENT_MAX, or is not UTF-8 without NUL. */
static char *
read_doc(const char *path, size_t *len)
{
	FILE	*f;
	char	*s = sb_malloc(CONTENT_MAX + 2);
	size_t	 n;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "switchboardctl: %s: %s\n", path, strerror(errno));
		free(s);
		return NULL;
	}
	n = fread(s, 1, CONTENT_MAX + 1, f);
	fclose(f);
	s[n] = '\0';
	if (n == 0 || n > CONTENT_MAX || !utf8_valid(s, n)) {
		fprintf(stderr, "switchboardctl: %s: %s\n", path, n == 0 ? "empty" :
		    n > CONTENT_MAX ? "over 262144 bytes" : "not UTF-8 text (or it holds NUL)");
		free(s);
		return NULL;
	}
	*len = n;
	return s;
}

/* The document's title: a Markdown file's first heading, else the file name without
 * its extension; at most TITLE_MAX bytes, cut between characters. */
static char *
doc_title(const char *name, size_t ext, const char *text, size_t len, int markdown)
{
	size_t	 off = 0, n = strlen(name) - ext;
	char	*t;

	if (!markdown || !chunk_title(text, len, &off, &n)) {
		text = name;
		off = 0;
		n = strlen(name) - ext;
	}
	if (n > TITLE_MAX)
		n = utf8_prefix(text + off, TITLE_MAX);
	t = sb_malloc(n + 1);
	memcpy(t, text + off, n);
	t[n] = '\0';
	return t;
}

/* Imports one file into org (its id as text); counts[0] made, counts[1] unchanged.
 * -1 (printed) on failure. */
static int
import_file(struct sb_db *db, const char *org, int64_t org_id, const char *dir,
    const char *name, size_t ext, int counts[2])
{
	char		 path[4096], *text, *title = NULL, *chunks = NULL, *meta = NULL;
	const char	*p[7];
	int		 markdown = strcmp(name + strlen(name) - ext, ".md") == 0, rc = -1;
	size_t		 len;
	json_t		*a;
	PGresult	*res = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((text = read_doc(path, &len)) == NULL)
		return -1;
	title = doc_title(name, ext, text, len, markdown);
	if (!utf8_valid(title, strlen(title)) || *title == '\0') {
		fprintf(stderr, "switchboardctl: %s: no title (a heading or a file name)\n", path);
		goto out;
	}
	a = chunk_json(text, len, markdown);
	if (json_array_size(a) == 0)
		fprintf(stderr, "switchboardctl: %s: nothing but white space\n", path);
	else
		chunks = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	if (chunks == NULL)
		goto out;
	a = json_pack("{s:s}", "source", name);
	meta = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	p[0] = org;
	p[1] = title;
	p[2] = markdown ? "markdown" : "text";
	p[3] = text;
	p[4] = meta;
	p[5] = chunks;
	p[6] = "system";
	if ((res = ctl_query(db, "SELECT outcome, id FROM kb_document_add($1, $2, $3, $4, "
	    "$5::jsonb, $6::jsonb, $7, NULL, true)", 7, p)) == NULL)
		goto out;
	if (strcmp(PQgetvalue(res, 0, 0), "unchanged") == 0)
		counts[1]++;
	else if (strcmp(PQgetvalue(res, 0, 0), "created") == 0) {
		counts[0]++;
		a = json_pack("{s:s, s:s}", "title", title, "source", name);
		free(meta);
		meta = json_dumps(a, JSON_COMPACT);
		json_decref(a);
		ctl_audit(db, org_id, "kb_document.imported", PQgetvalue(res, 0, 1), meta);
	} else {
		fprintf(stderr, "switchboardctl: %s: refused: %s (at most 1000 documents and "
		    "64 MiB per org)\n", path, PQgetvalue(res, 0, 0));
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	free(meta);
	free(chunks);
	free(title);
	free(text);
	return rc;
}

/* The length of name's extension if it is ".md" or ".txt", else 0. */
static size_t
doc_ext(const char *name)
{
	size_t n = strlen(name);

	if (n > 3 && strcmp(name + n - 3, ".md") == 0)
		return 3;
	if (n > 4 && strcmp(name + n - 4, ".txt") == 0)
		return 4;
	return 0;
}

int
cmd_kb(const struct sb_config *cfg, int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "org", required_argument, NULL, 'o' }, { NULL, 0, NULL, 0 }
	};
	const char	*org_slug = NULL, *dir;
	char		 org[24];
	struct dirent	**ents;
	struct sb_db	 db;
	int64_t		 org_id;
	int		 c, i, n = 0, counts[2] = { 0, 0 }, failed = 0;
	size_t		 ext;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (c == 'o')
			org_slug = optarg;
		else
			goto usage;
	if (org_slug == NULL || argc - optind != 2 || strcmp(argv[optind], "import") != 0)
		goto usage;
	dir = argv[optind + 1];
	if (ctl_connect(cfg, &db) < 0)
		return 1;
	if ((org_id = ctl_org_id(&db, org_slug)) < 0 ||
	    (n = scandir(dir, &ents, NULL, ctl_by_name)) < 0) {
		if (org_id >= 0)
			fprintf(stderr, "switchboardctl: cannot read %s: %s\n", dir, strerror(errno));
		db_close(&db);
		return 1;
	}
	snprintf(org, sizeof(org), "%lld", (long long)org_id);
	/* In name order; each file is one statement, so one transaction of its own. */
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' && (ext = doc_ext(ents[i]->d_name)) > 0)
			failed += import_file(&db, org, org_id, dir, ents[i]->d_name, ext, counts) < 0;
		free(ents[i]);
	}
	free(ents);
	db_close(&db);
	printf("%d imported, %d unchanged in org %s\n", counts[0], counts[1], org_slug);
	return failed ? 1 : 0;
usage:
	fprintf(stderr, "usage: switchboardctl kb import --org SLUG DIR\n"
	    "  (DIR's *.md and *.txt files; each replaces the org's document of its title)\n");
	return 2;
}
