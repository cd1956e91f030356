/* tooldef.c: HTTP tools defined in configuration: loading, checking, and what a call
 * sends (tooldef.h). */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/conf.h"
#include "core/schema.h"
#include "core/tooldef.h"
#include "core/tools.h"
#include "core/urltmpl.h"

#define DESCRIPTION_MAX	4000
#define HEADER_LINE_MAX	8192
#define SECRET_NAME_MAX	64

static int
fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* [a-z][a-z0-9_]{0,63}: as models and agents name tools. */
static int
name_ok(const char *s)
{
	size_t i;

	if (!islower((unsigned char)s[0]))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return i <= 64;
}

static int
builtin(const char *name)
{
	size_t i;

	for (i = 0; i < ntool_decls; i++)
		if (strcmp(tool_decls[i].name, name) == 0)
			return 1;
	return 0;
}

/* A header name: an HTTP token of letters, digits and '-', and none that libcurl or
 * the tool itself writes. */
static int
header_name_ok(const char *s)
{
	static const char *const theirs[] = { "host", "content-length", "content-type",
	    "transfer-encoding", "connection", "expect", "te", "upgrade" };
	size_t i;

	if (s[0] == '\0' || strlen(s) > 64)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	for (i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++)
		if (strcasecmp(s, theirs[i]) == 0)
			return 0;
	return 1;
}

/* Bytes a header value may not hold: controls (CR and LF above all) but tab. */
static int
clean(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return 0;
	return 1;
}

/* Reads secret name from dir (NULL or "": not there) into out: 1 if read, 0 if the
 * file is not there, -1 with err (which never holds the secret). */
static int
secret_from(const char *dir, const char *name, struct sb_buf *out, char *err, size_t errlen)
{
	char	 path[4096], chunk[1024];
	ssize_t	 n;
	int	 fd, rc = 1;

	if (dir == NULL || dir[0] == '\0')
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		return fail(err, errlen, "secret %s: %s: %s", name, path, strerror(errno));
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(out, chunk, (size_t)n) < 0) {
			rc = fail(err, errlen, "secret %s: %s: longer than %d bytes", name, path,
			    TOOLDEF_SECRET_MAX);
			break;
		}
	if (n < 0)
		rc = fail(err, errlen, "secret %s: %s: %s", name, path, strerror(errno));
	sodium_memzero(chunk, sizeof(chunk));
	close(fd);
	return rc;
}

/* Appends the secret name to line: from $CREDENTIALS_DIRECTORY, else secrets_dir,
 * one line break at its end left out.  0, or -1 with err. */
static int
secret_put(struct sb_buf *line, const char *name, const char *secrets_dir, char *err,
    size_t errlen)
{
	struct sb_buf	 s;
	int		 rc;

	buf_init(&s, TOOLDEF_SECRET_MAX);
	if ((rc = secret_from(getenv("CREDENTIALS_DIRECTORY"), name, &s, err, errlen)) == 0)
		rc = secret_from(secrets_dir, name, &s, err, errlen);
	if (rc == 0)
		rc = fail(err, errlen, "secret %s: in neither $CREDENTIALS_DIRECTORY (systemd "
		    "LoadCredential=) nor tools.secrets_dir", name);
	else if (rc > 0) {
		if (s.len > 0 && s.data[s.len - 1] == '\n')
			s.len--;
		if (s.len > 0 && s.data[s.len - 1] == '\r')
			s.len--;
		if (s.len == 0)
			rc = fail(err, errlen, "secret %s: empty", name);
		else if (!clean(s.data, s.len))
			rc = fail(err, errlen, "secret %s: holds a line break or another "
			    "control character", name);
		else if (buf_append(line, s.data, s.len) < 0)
			rc = fail(err, errlen, "header with secret %s: longer than %d bytes",
			    name, HEADER_LINE_MAX);
		else
			rc = 0;
	}
	if (s.data != NULL)
		sodium_memzero(s.data, s.cap);
	buf_free(&s);
	return rc;
}

/* The header line "name: value", value's {secret:NAME} replaced (with TOOLDEF_SECRETS;
 * else only checked), appended to d's headers.  0, or -1 with err. */
static int
header_add(struct tooldef *d, const char *name, const char *value, const char *secrets_dir,
    unsigned flags, char *err, size_t errlen)
{
	struct sb_buf	 line;
	const char	*p, *e;
	char		 secret[SECRET_NAME_MAX + 1];
	size_t		 n;
	int		 rc = 0;

	if (!header_name_ok(name))
		return fail(err, errlen, "headers: \"%.64s\" is not a header name a tool may "
		    "set (letters, digits and -; not Host, Content-Type, Content-Length, "
		    "Transfer-Encoding, Connection, Expect, TE, Upgrade)", name);
	if (!clean(value, strlen(value)))
		return fail(err, errlen, "headers.%s: holds a line break or another control "
		    "character", name);
	buf_init(&line, HEADER_LINE_MAX);
	buf_printf(&line, "%s: ", name);
	for (p = value; *p != '\0' && rc == 0; p = e) {
		if ((e = strchr(p, '{')) == NULL)
			e = p + strlen(p);
		if (buf_append(&line, p, (size_t)(e - p)) < 0) {
			rc = fail(err, errlen, "headers.%s: longer than %d bytes", name,
			    HEADER_LINE_MAX);
			break;
		}
		if (*e == '\0')
			break;
		n = strncmp(e, "{secret:", 8) == 0 ? strcspn(e + 8, "}") : 0;
		if (n == 0 || e[8 + n] != '}' ||
		    n > SECRET_NAME_MAX || strspn(e + 8, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") < n || e[8] == '.') {
			rc = fail(err, errlen, "headers.%s: a \"{\" starts {secret:NAME} (NAME "
			    "of letters, digits, _ . -, not starting with .) and nothing else",
			    name);
			break;
		}
		memcpy(secret, e + 8, n);
		secret[n] = '\0';
		e += 8 + n + 1;
		if (flags & TOOLDEF_SECRETS)
			rc = secret_put(&line, secret, secrets_dir, err, errlen);
	}
	if (rc == 0 && (flags & TOOLDEF_SECRETS) &&
	    (d->headers = curl_slist_append(d->headers, line.data)) == NULL)
		sb_oom(0);
	if (line.data != NULL)
		sodium_memzero(line.data, line.cap);
	buf_free(&line);
	return rc;
}

/* 1 if v is a string "{name}" of a body template, name ([a-z_][a-z0-9_]*, at most
 * URLTMPL_NAME_MAX bytes) then copied; any other string is taken as it is. */
static int
body_placeholder(const json_t *v, char name[URLTMPL_NAME_MAX + 1])
{
	const char	*s = json_string_value(v);
	size_t		 n = s != NULL ? strlen(s) : 0, i;

	if (n < 3 || n - 2 > URLTMPL_NAME_MAX || s[0] != '{' || s[n - 1] != '}' ||
	    isdigit((unsigned char)s[1]))
		return 0;
	for (i = 1; i < n - 1; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
			return 0;
	memcpy(name, s + 1, n - 2);
	name[n - 2] = '\0';
	return 1;
}

/* Every string "{name}" in a body template names a property. */
static int
body_check(json_t *v, const json_t *schema, char *err, size_t errlen)
{
	const char	*k;
	json_t		*x;
	char		 name[URLTMPL_NAME_MAX + 1];
	size_t		 i;

	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
			if (body_check(x, schema, err, errlen) < 0)
				return -1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (body_check(x, schema, err, errlen) < 0)
				return -1;
	} else if (body_placeholder(v, name) &&
	    json_object_get(json_object_get(schema, "properties"), name) == NULL)
		return fail(err, errlen, "body: \"{%s}\" names no property of the parameters",
		    name);
	return 0;
}

/* A boolean member: its value, or def when it is missing; -1 if not a boolean. */
static int
boolean(const json_t *j, const char *key, int def)
{
	const json_t *v = json_object_get(j, key);

	if (v == NULL)
		return def;
	return json_is_boolean(v) ? json_is_true(v) : -1;
}

/* Fills d from the parsed file j.  0, or -1 with err. */
static int
parse(struct tooldef *d, json_t *j, const char *secrets_dir, unsigned flags, char *err,
    size_t errlen)
{
	static const char *const known[] = { "name", "description", "parameters", "method",
	    "url", "headers", "body", "idempotent", "needs_approval", "timeout_s",
	    "max_bytes", "allow_private" };
	const char	*k, *name, *desc, *method, *url;
	json_t		*v, *params, *body, *headers;
	json_int_t	 n;
	size_t		 i;
	char		 why[300];
	int		 b;

	if (!json_is_object(j))
		return fail(err, errlen, "not a JSON object");
	json_object_foreach(j, k, v) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return fail(err, errlen, "unknown member \"%.64s\"", k);
	}
	name = json_string_value(json_object_get(j, "name"));
	desc = json_string_value(json_object_get(j, "description"));
	params = json_object_get(j, "parameters");
	url = json_string_value(json_object_get(j, "url"));
	if (name == NULL || !name_ok(name))
		return fail(err, errlen, "name: a string of [a-z0-9_], 1 to 64, starting with "
		    "a letter");
	if (builtin(name))
		return fail(err, errlen, "name: \"%s\" is a built-in tool's", name);
	if (desc == NULL || desc[0] == '\0' || strlen(desc) > DESCRIPTION_MAX)
		return fail(err, errlen, "description: a string of 1 to %d bytes",
		    DESCRIPTION_MAX);
	if (!json_is_object(params))
		return fail(err, errlen, "parameters: a JSON Schema object");
	if (schema_valid(params, why, sizeof(why)) < 0)
		return fail(err, errlen, "parameters: %s", why);
	if (!json_is_string(json_object_get(params, "type")) ||
	    strcmp(json_string_value(json_object_get(params, "type")), "object") != 0)
		return fail(err, errlen, "parameters: the schema of an object (\"type\": "
		    "\"object\"): a model calls a tool with an object of arguments");
	if ((v = json_object_get(j, "method")) != NULL && !json_is_string(v))
		return fail(err, errlen, "method: GET or POST");
	method = v != NULL ? json_string_value(v) : "GET";
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		return fail(err, errlen, "method: GET or POST, not \"%.16s\"", method);
	if (url == NULL)
		return fail(err, errlen, "url: a string, the URL template");
	if (urltmpl_check(url, params, why, sizeof(why)) < 0)
		return fail(err, errlen, "url: %s", why);

	d->schema = json_incref(params);
	d->url = sb_strdup(url);
	if ((d->origin = url_origin(url)) == NULL)
		return fail(err, errlen, "url: not a URL libcurl can parse");
	d->post = strcmp(method, "POST") == 0;
	body = json_object_get(j, "body");
	if (body != NULL && !d->post)
		return fail(err, errlen, "body: only a POST has one");
	if (json_is_string(body) && strcmp(json_string_value(body), "json") == 0)
		body = NULL;	/* the arguments as they are: the default */
	else if (body != NULL && !json_is_object(body) && !json_is_array(body))
		return fail(err, errlen, "body: \"json\" (the arguments), or a JSON object or "
		    "array whose strings \"{name}\" are replaced by the arguments");
	if (body != NULL && body_check(body, params, err, errlen) < 0)
		return -1;
	d->body = json_incref(body);

	headers = json_object_get(j, "headers");
	if (headers != NULL && !json_is_object(headers))
		return fail(err, errlen, "headers: an object of names and string values");
	if (json_object_size(headers) > TOOLDEF_HEADERS_MAX)
		return fail(err, errlen, "headers: at most %d", TOOLDEF_HEADERS_MAX);
	json_object_foreach(headers, k, v) {
		if (!json_is_string(v))
			return fail(err, errlen, "headers.%.64s: a string", k);
		if (header_add(d, k, json_string_value(v), secrets_dir, flags, err, errlen) < 0)
			return -1;
	}

	d->timeout_ms = TOOLDEF_TIMEOUT_DEFAULT * 1000L;
	if ((v = json_object_get(j, "timeout_s")) != NULL) {
		if (!json_is_integer(v) || (n = json_integer_value(v)) < 1 || n > 60)
			return fail(err, errlen, "timeout_s: a whole number from 1 to 60");
		d->timeout_ms = (long)n * 1000;
	}
	d->max_bytes = TOOLDEF_BYTES_DEFAULT;
	if ((v = json_object_get(j, "max_bytes")) != NULL) {
		if (!json_is_integer(v) || (n = json_integer_value(v)) < 1 ||
		    n > TOOLDEF_BYTES_MAX)
			return fail(err, errlen, "max_bytes: a whole number from 1 to %d",
			    TOOLDEF_BYTES_MAX);
		d->max_bytes = (size_t)n;
	}
	if ((b = boolean(j, "allow_private", 0)) < 0)
		return fail(err, errlen, "allow_private: true or false");
	d->allow_private = b;
	/* A GET is safe to send again by default; a POST is not unless the operator says. */
	if ((b = boolean(j, "idempotent", !d->post)) < 0)
		return fail(err, errlen, "idempotent: true or false");
	d->decl.idempotent = b;
	if ((b = boolean(j, "needs_approval", 0)) < 0)
		return fail(err, errlen, "needs_approval: true or false");
	d->decl.needs_approval = b;

	d->decl.name = d->name = sb_strdup(name);
	d->decl.description = d->description = sb_strdup(desc);
	if ((d->schema_text = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		sb_oom(0);
	d->decl.schema = d->schema_text;
	return 0;
}

struct tooldef *
tooldef_parse(const char *file, const char *text, size_t len, const char *secrets_dir,
    unsigned flags, char *err, size_t errlen)
{
	struct tooldef	*d;
	json_error_t	 je;
	json_t		*j;

	if (len > TOOLDEF_FILE_MAX) {
		fail(err, errlen, "longer than %d bytes", TOOLDEF_FILE_MAX);
		return NULL;
	}
	if ((j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		fail(err, errlen, "line %d: %s", je.line, je.text);
		return NULL;
	}
	d = sb_calloc(1, sizeof(*d));
	d->file = sb_strdup(file);
	if (parse(d, j, secrets_dir, flags, err, errlen) < 0) {
		tooldef_free(d);
		d = NULL;
	}
	json_decref(j);
	return d;
}

void
tooldef_free(struct tooldef *d)
{
	struct curl_slist *h;

	if (d == NULL)
		return;
	for (h = d->headers; h != NULL; h = h->next)
		sodium_memzero(h->data, strlen(h->data));
	curl_slist_free_all(d->headers);
	free(d->name);
	free(d->description);
	free(d->schema_text);
	free(d->file);
	json_decref(d->schema);
	json_decref(d->body);
	free(d->url);
	free(d->origin);
	free(d);
}

void
tooldefs_free(struct tooldefs *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		tooldef_free(set->defs[i]);
	free(set->defs);
	free(set);
}

const struct tooldef *
tooldefs_find(const struct tooldefs *set, const char *name)
{
	size_t i;

	for (i = 0; set != NULL && i < set->n; i++)
		if (strcmp(set->defs[i]->decl.name, name) == 0)
			return set->defs[i];
	return NULL;
}

static int
json_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
}

/* The text of path (at most TOOLDEF_FILE_MAX + 1 bytes: more is refused by the
 * parser): malloc'd, its length in *len; NULL with err. */
static char *
slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	struct sb_buf	 b;
	char		 chunk[8192];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fail(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	buf_init(&b, 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && b.len <= TOOLDEF_FILE_MAX)
		buf_append(&b, chunk, (size_t)n);
	close(fd);
	if (n < 0) {
		fail(err, errlen, "%s", strerror(errno));
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, len);
}

struct tooldefs *
tooldefs_load(const char *dir, const char *secrets_dir, unsigned flags, char *err,
    size_t errlen)
{
	struct tooldefs	 *set = sb_calloc(1, sizeof(*set));
	struct dirent	**names = NULL;
	const struct tooldef *other;
	struct tooldef	 *d;
	char		  path[4096], why[400], *text;
	size_t		  len;
	int		  n, i;

	if (dir == NULL || dir[0] == '\0')
		return set;
	if ((n = scandir(dir, &names, json_file, alphasort)) < 0) {
		fail(err, errlen, "tools.dir %s: %s", dir, strerror(errno));
		free(set);
		return NULL;
	}
	if (n > TOOLDEF_MAX) {
		fail(err, errlen, "tools.dir %s: %d definitions, at most %d", dir, n, TOOLDEF_MAX);
		goto bad;
	}
	set->defs = sb_calloc((size_t)n + 1, sizeof(*set->defs));
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if ((text = slurp(path, &len, why, sizeof(why))) == NULL) {
			fail(err, errlen, "%s: %s", path, why);
			goto bad;
		}
		d = tooldef_parse(path, text, len, secrets_dir, flags, why, sizeof(why));
		free(text);
		if (d == NULL) {
			fail(err, errlen, "%s: %s", path, why);
			goto bad;
		}
		if ((other = tooldefs_find(set, d->decl.name)) != NULL) {
			fail(err, errlen, "%s: name: \"%s\" is %s's too", path, d->decl.name,
			    other->file);
			tooldef_free(d);
			goto bad;
		}
		set->defs[set->n++] = d;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return set;
bad:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	tooldefs_free(set);
	return NULL;
}

char *
tooldef_url(const struct tooldef *d, const json_t *args, char *err, size_t errlen)
{
	return urltmpl_expand(d->url, args, err, errlen);
}

/* The template v with its "{name}" strings replaced from args: a new reference, or
 * NULL when it is a placeholder whose argument is missing. */
static json_t *
fill(json_t *v, const json_t *args)
{
	const char	*k;
	json_t		*out, *x, *y;
	char		 name[URLTMPL_NAME_MAX + 1];
	size_t		 i;

	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach(v, k, x)
			if ((y = fill(x, args)) != NULL)
				json_object_set_new(out, k, y);
		return out;
	}
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, x)
			if ((y = fill(x, args)) != NULL)
				json_array_append_new(out, y);
		return out;
	}
	if (body_placeholder(v, name)) {
		x = json_object_get(args, name);
		return x != NULL ? json_deep_copy(x) : NULL;
	}
	return json_deep_copy(v);
}

char *
tooldef_body(const struct tooldef *d, const json_t *args)
{
	json_t	*b;
	char	*out;

	if (!d->post)
		return NULL;
	b = d->body != NULL ? fill(d->body, args) : json_deep_copy(args);
	if ((out = json_dumps(b, JSON_COMPACT)) == NULL)
		sb_oom(0);
	json_decref(b);
	return out;
}

int
tools_configure(const struct sb_config *cfg, unsigned flags, char *err, size_t errlen)
{
	struct tooldefs *set;

	if ((set = tooldefs_load(cfg->tools.dir, cfg->tools.secrets_dir, flags, err,
	    errlen)) == NULL)
		return -1;
	tool_decls_configure(set);
	return 0;
}
