/* tooldef.h: the HTTP tools an operator defines in configuration, without C: one JSON
 * file per tool in tools.dir (docs/operations.md), read at start by every program, so
 * that an agent naming one validates in the API (core/agent.c) and runs in the worker
 * (worker/tools/http_tool.c).
 *
 *	{"name": "crm_lookup", "description": "...", "parameters": {an object schema},
 *	 "method": "GET", "url": "https://crm.example.com/api/customers/{customer_id}",
 *	 "headers": {"Authorization": "Bearer {secret:crm_token}"}, "body": "json",
 *	 "idempotent": true, "needs_approval": false, "timeout_s": 10,
 *	 "max_bytes": 2097152, "allow_private": false}
 *
 * A secret named in a header ({secret:NAME}) is read at load from
 * $CREDENTIALS_DIRECTORY/NAME (systemd's LoadCredential=), else from
 * tools.secrets_dir/NAME; it lives only in the definition's header lines, which are
 * wiped when freed, and is never logged nor put in an error.
 *
 * Ownership: a struct tooldefs owns its definitions and everything they point to;
 * tooldefs_free() releases it.  tools_configure() hands a loaded set to core/tools.c,
 * which owns it from then on. */
#ifndef SB_CORE_TOOLDEF_H
#define SB_CORE_TOOLDEF_H

#include <stddef.h>

#include <jansson.h>

#include "core/tools.h"

struct curl_slist;
struct sb_config;

#define TOOLDEF_MAX		256		/* tools in a directory */
#define TOOLDEF_FILE_MAX	(256 * 1024)	/* bytes of a definition */
#define TOOLDEF_HEADERS_MAX	32
#define TOOLDEF_SECRET_MAX	4096		/* bytes of a secret */
#define TOOLDEF_BYTES_MAX	(8 * 1024 * 1024)	/* the most max_bytes may be */
#define TOOLDEF_BYTES_DEFAULT	(2 * 1024 * 1024)
#define TOOLDEF_TIMEOUT_DEFAULT	10		/* seconds */

/* Read the secrets the headers name (the worker, which sends them); without it the
 * names are checked and the headers left out (the API programs, which only validate
 * agents, and switchboardctl). */
#define TOOLDEF_SECRETS		0x1

struct tooldef {
	struct tool_decl	 decl;		/* as the API and the model see it
					 * (tool_decl_def() finds this from it) */
	char			*name, *description, *schema_text;	/* decl's */
	char			*file;		/* the file it was read from */
	json_t			*schema;	/* the parameters: an object schema */
	char			*url;		/* the template (core/urltmpl.h) */
	char			*origin;	/* the template's scheme://host:port */
	int			 post;		/* POST; else GET */
	json_t			*body;		/* POST: NULL sends the arguments as a JSON
					 * object; else a template (tooldef_body) */
	struct curl_slist	*headers;	/* "Name: value" lines, secrets put in, or
					 * NULL (none, or loaded without TOOLDEF_SECRETS) */
	long			 timeout_ms;
	size_t			 max_bytes;
	int			 allow_private;	/* the template's host may be a private
					 * address (an operator's internal service) */
};

struct tooldefs {
	struct tooldef	**defs;
	size_t		  n;
};

/* The definitions of the *.json files of dir, in name order (none when dir is ""):
 * a new set, or NULL with err naming the file and what is wrong with it.  A name
 * must not be a built-in tool's nor another file's. */
struct tooldefs		*tooldefs_load(const char *dir, const char *secrets_dir, unsigned flags,
			    char *err, size_t errlen);
/* One definition from text (file names it in messages): new, or NULL with err (the
 * file is not named in it).  Built-in names are refused; other files are not seen. */
struct tooldef		*tooldef_parse(const char *file, const char *text, size_t len,
			    const char *secrets_dir, unsigned flags, char *err, size_t errlen);
void			 tooldef_free(struct tooldef *);
void			 tooldefs_free(struct tooldefs *);
/* The definition of that name in set, or NULL. */
const struct tooldef	*tooldefs_find(const struct tooldefs *, const char *name);
/* The URL a call with args (which passed the schema) requests: malloc'd, or NULL with
 * err for the model (core/urltmpl.h). */
char			*tooldef_url(const struct tooldef *, const json_t *args, char *err,
			    size_t errlen);
/* A POST's body for args: the arguments, or the template with each string "{name}"
 * replaced by that argument's value (left out where the argument is: a member of an
 * object, an element of an array).  Malloc'd JSON text; NULL for a GET. */
char			*tooldef_body(const struct tooldef *, const json_t *args);

/* Loads cfg's tools.dir (with flags) and gives the set to core/tools.c
 * (tool_decls_configure): 0, or -1 with err, the declarations then left as they were. */
int			 tools_configure(const struct sb_config *cfg, unsigned flags, char *err,
			    size_t errlen);

#endif /* SB_CORE_TOOLDEF_H */
