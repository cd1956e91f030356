/* test_tooldef.c: HTTP tools defined in configuration (core/tooldef.c): good and bad
 * definitions, secrets, directories, and the configured tools beside the built-ins
 * for the API (agent validation, the offer) and the worker (the registry). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/agent.h"
#include "core/conf.h"
#include "core/tooldef.h"
#include "core/tools.h"
#include "worker/tools/tools.h"
#include "tests/unit/unit.h"

/* A definition's members before "extra" (which may be "" or ", \"key\": value"). */
#define PARAMS	"{\"type\": \"object\", \"properties\": {\"customer_id\": {\"type\": " \
	"\"string\"}, \"query\": {\"type\": \"string\"}}, \"required\": [\"customer_id\"]}"
#define BASE	"\"name\": \"crm_lookup\", \"description\": \"Look a customer up.\", " \
	"\"parameters\": " PARAMS ", \"url\": \"https://crm.example.com/api/customers/" \
	"{customer_id}?q={query}\""

static char	 dir[64];	/* a directory of secrets and definitions */

static int
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sb-tooldef.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to dir/sub/name (sub may be ""). */
static void
put(const char *sub, const char *name, const char *text)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	(void)mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static struct tooldef *
parse(const char *text, unsigned flags, char *err, size_t errlen)
{
	char secrets[128];

	snprintf(secrets, sizeof(secrets), "%s/secrets", dir);
	err[0] = '\0';
	return tooldef_parse("t.json", text, strlen(text), secrets, flags, err, errlen);
}

static void
test_tooldef_good(void)
{
	struct tooldef	*d;
	json_t		*parsed;
	char		 err[400];

	put("secrets", "crm_token", "s3cr3t-value\n");
	d = parse("{" BASE ", \"headers\": {\"Authorization\": \"Bearer {secret:crm_token}\", "
	    "\"X-Client\": \"switchboard\"}}", TOOLDEF_SECRETS, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	UNIT_ASSERT_STR(err, "");
	UNIT_ASSERT_STR(d->decl.name, "crm_lookup");
	UNIT_ASSERT_STR(d->decl.description, "Look a customer up.");
	parsed = json_loads(d->decl.schema, 0, NULL);
	CU_ASSERT(json_equal(parsed, d->schema));
	json_decref(parsed);
	UNIT_ASSERT_STR(d->origin, "https://crm.example.com:443");
	CU_ASSERT_FALSE(d->post);
	CU_ASSERT_TRUE(d->decl.idempotent);	/* a GET, by default */
	CU_ASSERT_FALSE(d->decl.needs_approval);
	CU_ASSERT_FALSE(d->allow_private);
	UNIT_ASSERT_INT(d->timeout_ms, 10000);
	UNIT_ASSERT_INT(d->max_bytes, 2 * 1024 * 1024);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d->headers);
	/* The secret is in, its line break out; the headers keep their order. */
	UNIT_ASSERT_STR(d->headers->data, "Authorization: Bearer s3cr3t-value");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d->headers->next);
	UNIT_ASSERT_STR(d->headers->next->data, "X-Client: switchboard");
	CU_ASSERT_PTR_NULL(tooldef_body(d, NULL));	/* a GET has none */
	tooldef_free(d);

	/* Without TOOLDEF_SECRETS (the API): checked, not read, no headers. */
	d = parse("{" BASE ", \"headers\": {\"Authorization\": \"Bearer {secret:not_there}\"}}",
	    0, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_PTR_NULL(d->headers);
	tooldef_free(d);

	d = parse("{" BASE ", \"method\": \"POST\", \"idempotent\": true, \"needs_approval\": "
	    "true, \"timeout_s\": 60, \"max_bytes\": 8388608, \"allow_private\": true}", 0, err,
	    sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_TRUE(d->post && d->decl.idempotent && d->decl.needs_approval &&
	    d->allow_private);
	UNIT_ASSERT_INT(d->timeout_ms, 60000);
	UNIT_ASSERT_INT(d->max_bytes, 8388608);
	tooldef_free(d);
	d = parse("{" BASE ", \"method\": \"POST\"}", 0, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_FALSE(d->decl.idempotent);	/* a POST, by default */
	tooldef_free(d);
}

/* The example shipped in conf/tools.d is a good definition. */
static void
test_tooldef_example(void)
{
	struct tooldef	*d;
	FILE		*f = fopen(SB_SRCDIR "/conf/tools.d/example.json.example", "r");
	char		 text[8192], err[400] = "";
	size_t		 n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	d = tooldef_parse("example", text, n, NULL, 0, err, sizeof(err));
	UNIT_ASSERT_STR(err, "");
	CU_ASSERT_PTR_NOT_NULL(d);
	tooldef_free(d);
}

/* $CREDENTIALS_DIRECTORY comes first; CR LF of a secret file's end is cut. */
static void
test_tooldef_credentials(void)
{
	struct tooldef	*d;
	char		 err[400], creds[128];

	put("secrets", "tok", "from-secrets-dir");
	put("creds", "tok", "from-credentials\r\n");
	snprintf(creds, sizeof(creds), "%s/creds", dir);
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	d = parse("{" BASE ", \"headers\": {\"X-Key\": \"{secret:tok}/{secret:tok}\"}}",
	    TOOLDEF_SECRETS, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	UNIT_ASSERT_STR(d->headers->data, "X-Key: from-credentials/from-credentials");
	tooldef_free(d);
	unsetenv("CREDENTIALS_DIRECTORY");
	d = parse("{" BASE ", \"headers\": {\"X-Key\": \"{secret:tok}\"}}", TOOLDEF_SECRETS,
	    err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	UNIT_ASSERT_STR(d->headers->data, "X-Key: from-secrets-dir");
	tooldef_free(d);
}

static void
test_tooldef_bad(void)
{
	static const struct {
		const char	*text;
		const char	*err;
	} cases[] = {
		{ "{" BASE ",}", "line 1:" },
		{ "[1]", "not a JSON object" },
		{ "{" BASE ", \"name\": \"x\"}", "duplicate object key" },
		{ "{" BASE ", \"timeout\": 5}", "unknown member \"timeout\"" },
		{ "{\"description\": \"d\", \"parameters\": " PARAMS ", \"url\": \"https://h/\"}",
		  "name: a string of [a-z0-9_]" },
		{ "{\"name\": \"Crm\", \"description\": \"d\", \"parameters\": " PARAMS ", \"url\": "
		  "\"https://h/\"}", "name: a string of [a-z0-9_]" },
		{ "{\"name\": \"_x\", \"description\": \"d\", \"parameters\": " PARAMS ", \"url\": "
		  "\"https://h/\"}", "name: a string of [a-z0-9_]" },
		{ "{\"name\": \"a1234567890123456789012345678901234567890123456789012345678901234\", "
		  "\"description\": \"d\", \"parameters\": " PARAMS ", \"url\": \"https://h/\"}",
		  "name: a string of [a-z0-9_]" },
		{ "{\"name\": \"http_fetch\", \"description\": \"d\", \"parameters\": " PARAMS ", "
		  "\"url\": \"https://h/\"}", "name: \"http_fetch\" is a built-in tool's" },
		{ "{\"name\": \"a\", \"description\": \"\", \"parameters\": " PARAMS ", \"url\": "
		  "\"https://h/\"}", "description: a string of 1 to 4000 bytes" },
		{ "{\"name\": \"a\", \"description\": \"d\", \"url\": \"https://h/\"}",
		  "parameters: a JSON Schema object" },
		{ "{\"name\": \"a\", \"description\": \"d\", \"parameters\": {\"type\": \"uri\"}, "
		  "\"url\": \"https://h/\"}", "parameters: type: unknown type \"uri\"" },
		{ "{\"name\": \"a\", \"description\": \"d\", \"parameters\": {\"type\": \"string\"}, "
		  "\"url\": \"https://h/\"}", "parameters: the schema of an object" },
		{ "{\"name\": \"a\", \"description\": \"d\", \"parameters\": " PARAMS "}",
		  "url: a string, the URL template" },
		{ "{\"name\": \"a\", \"description\": \"d\", \"parameters\": " PARAMS ", \"url\": "
		  "\"https://h/{query}\"}", "url: placeholder {query}: an optional property" },
		{ "{\"name\": \"a\", \"description\": \"d\", \"parameters\": " PARAMS ", \"url\": "
		  "\"https://{customer_id}/\"}", "url: the host (and port) must be written out" },
		{ "{" BASE ", \"method\": \"DELETE\"}", "method: GET or POST, not \"DELETE\"" },
		{ "{" BASE ", \"method\": 1}", "method: GET or POST" },
		{ "{" BASE ", \"body\": \"json\"}", "body: only a POST has one" },
		{ "{" BASE ", \"method\": \"POST\", \"body\": \"text\"}", "body: \"json\" (the arguments)" },
		{ "{" BASE ", \"method\": \"POST\", \"body\": {\"a\": [\"{nope}\"]}}",
		  "body: \"{nope}\" names no property" },
		{ "{" BASE ", \"headers\": [\"Authorization: x\"]}", "headers: an object" },
		{ "{" BASE ", \"headers\": {\"Host\": \"evil.example\"}}", "not a header name a tool may set" },
		{ "{" BASE ", \"headers\": {\"X Y\": \"v\"}}", "not a header name a tool may set" },
		{ "{" BASE ", \"headers\": {\"X-A\": 1}}", "headers.X-A: a string" },
		{ "{" BASE ", \"headers\": {\"X-A\": \"a\\r\\nHost: evil\"}}",
		  "headers.X-A: holds a line break" },
		{ "{" BASE ", \"headers\": {\"X-A\": \"{query}\"}}", "a \"{\" starts {secret:NAME}" },
		{ "{" BASE ", \"headers\": {\"X-A\": \"{secret:../etc/passwd}\"}}",
		  "a \"{\" starts {secret:NAME}" },
		{ "{" BASE ", \"headers\": {\"X-A\": \"{secret:}\"}}", "a \"{\" starts {secret:NAME}" },
		{ "{" BASE ", \"headers\": {\"X-A\": \"{secret:a\"}}", "a \"{\" starts {secret:NAME}" },
		{ "{" BASE ", \"timeout_s\": 0}", "timeout_s: a whole number from 1 to 60" },
		{ "{" BASE ", \"timeout_s\": 61}", "timeout_s: a whole number from 1 to 60" },
		{ "{" BASE ", \"timeout_s\": 1.5}", "timeout_s: a whole number from 1 to 60" },
		{ "{" BASE ", \"max_bytes\": 0}", "max_bytes: a whole number from 1 to 8388608" },
		{ "{" BASE ", \"max_bytes\": 8388609}", "max_bytes: a whole number from 1 to 8388608" },
		{ "{" BASE ", \"allow_private\": \"yes\"}", "allow_private: true or false" },
		{ "{" BASE ", \"idempotent\": 1}", "idempotent: true or false" },
		{ "{" BASE ", \"needs_approval\": null}", "needs_approval: true or false" },
	};
	struct tooldef	*d;
	char		 err[400];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = parse(cases[i].text, 0, err, sizeof(err));
		CU_ASSERT_PTR_NULL(d);
		UNIT_ASSERT_CONTAINS(err, cases[i].err);
		tooldef_free(d);
	}
}

/* What is wrong with a secret is said; the secret never is. */
static void
test_tooldef_bad_secrets(void)
{
	static const struct {
		const char	*file;		/* NULL: none */
		const char	*err;
	} cases[] = {
		{ NULL, "secret s: in neither $CREDENTIALS_DIRECTORY (systemd LoadCredential=) "
		  "nor tools.secrets_dir" },
		{ "", "secret s: empty" },
		{ "\n", "secret s: empty" },
		{ "top\r\nsecret", "secret s: holds a line break or another control character" },
		{ "top\nsecret\n", "secret s: holds a line break or another control character" },
		{ "top\x01secret", "secret s: holds a line break or another control character" },
	};
	struct tooldef	*d;
	char		 err[400], path[256], *big;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/secrets/s", dir);
		unlink(path);
		if (cases[i].file != NULL)
			put("secrets", "s", cases[i].file);
		d = parse("{" BASE ", \"headers\": {\"X-A\": \"{secret:s}\"}}", TOOLDEF_SECRETS,
		    err, sizeof(err));
		CU_ASSERT_PTR_NULL(d);
		UNIT_ASSERT_STR(err, cases[i].err);
		CU_ASSERT_PTR_NULL(strstr(err, "top"));
	}
	big = malloc(TOOLDEF_SECRET_MAX + 2);
	memset(big, 'k', TOOLDEF_SECRET_MAX + 1);
	big[TOOLDEF_SECRET_MAX + 1] = '\0';
	put("secrets", "s", big);
	d = parse("{" BASE ", \"headers\": {\"X-A\": \"{secret:s}\"}}", TOOLDEF_SECRETS, err,
	    sizeof(err));
	CU_ASSERT_PTR_NULL(d);
	UNIT_ASSERT_CONTAINS(err, "longer than 4096 bytes");
	big[TOOLDEF_SECRET_MAX] = '\0';
	put("secrets", "s", big);
	d = parse("{" BASE ", \"headers\": {\"X-A\": \"{secret:s}\"}}", TOOLDEF_SECRETS, err,
	    sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(d);
	tooldef_free(d);
	free(big);
	snprintf(path, sizeof(path), "%s/secrets/s", dir);
	unlink(path);
}

/* A POST's body: the arguments, or the template filled. */
static void
test_tooldef_body(void)
{
	struct tooldef	*d;
	json_t		*args = json_pack("{s:s, s:i}", "customer_id", "c\"1", "n", 3);
	char		 err[400], *b;

	d = parse("{" BASE ", \"method\": \"POST\", \"body\": \"json\"}", 0, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	b = tooldef_body(d, args);
	UNIT_ASSERT_STR(b, "{\"customer_id\":\"c\\\"1\",\"n\":3}");
	free(b);
	tooldef_free(d);
	d = parse("{" BASE ", \"method\": \"POST\", \"body\": {\"customer\": \"{customer_id}\", "
	    "\"q\": \"{query}\", \"fixed\": \"{not a placeholder}\", \"list\": [\"{customer_id}\", "
	    "\"{query}\", 1]}}", 0, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	b = tooldef_body(d, args);
	UNIT_ASSERT_STR(b, "{\"customer\":\"c\\\"1\",\"fixed\":\"{not a placeholder}\","
	    "\"list\":[\"c\\\"1\",1]}");
	free(b);
	tooldef_free(d);
	json_decref(args);
}

static void
test_tooldef_dir(void)
{
	struct tooldefs	*set;
	char		 err[600], sub[128], path[256];
	int		 i;

	set = tooldefs_load("", NULL, 0, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(set);
	UNIT_ASSERT_INT(set->n, 0);
	tooldefs_free(set);
	snprintf(sub, sizeof(sub), "%s/nope", dir);
	CU_ASSERT_PTR_NULL(tooldefs_load(sub, NULL, 0, err, sizeof(err)));
	UNIT_ASSERT_CONTAINS(err, "tools.dir ");
	UNIT_ASSERT_CONTAINS(err, "No such file or directory");

	put("d", "b.json", "{" BASE "}");
	put("d", "a.json", "{\"name\": \"weather\", \"description\": \"d\", \"parameters\": "
	    "{\"type\": \"object\"}, \"url\": \"http://127.0.0.1:9/w\"}");
	put("d", "notes.txt", "not a definition");
	put("d", "example.json.example", "{");
	put("d", ".hidden.json", "{");
	snprintf(sub, sizeof(sub), "%s/d", dir);
	set = tooldefs_load(sub, NULL, 0, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(set);
	UNIT_ASSERT_INT(set->n, 2);
	UNIT_ASSERT_STR(set->defs[0]->decl.name, "weather");	/* a.json */
	UNIT_ASSERT_CONTAINS(tooldefs_find(set, "crm_lookup")->file, "/d/b.json");
	CU_ASSERT_PTR_NULL(tooldefs_find(set, "nope"));
	tooldefs_free(set);

	/* A name twice; a malformed file: named in the error. */
	put("d", "c.json", "{" BASE "}");
	set = tooldefs_load(sub, NULL, 0, err, sizeof(err));
	CU_ASSERT_PTR_NULL(set);
	UNIT_ASSERT_CONTAINS(err, "/d/c.json: name: \"crm_lookup\" is ");
	UNIT_ASSERT_CONTAINS(err, "/d/b.json's too");
	put("d", "c.json", "{\"name\": \"c\"");
	CU_ASSERT_PTR_NULL(tooldefs_load(sub, NULL, 0, err, sizeof(err)));
	UNIT_ASSERT_CONTAINS(err, "/d/c.json: line 1: ");
	put("d", "c.json", "{" BASE ", \"headers\": {\"A\": \"{secret:gone}\"}}");
	CU_ASSERT_PTR_NULL(tooldefs_load(sub, NULL, TOOLDEF_SECRETS, err, sizeof(err)));
	UNIT_ASSERT_CONTAINS(err, "/d/c.json: secret gone: in neither");

	/* At most TOOLDEF_MAX definitions. */
	snprintf(sub, sizeof(sub), "%s/many", dir);
	for (i = 0; i <= TOOLDEF_MAX; i++) {
		snprintf(path, sizeof(path), "t%03d.json", i);
		put("many", path, "{}");
	}
	CU_ASSERT_PTR_NULL(tooldefs_load(sub, NULL, 0, err, sizeof(err)));
	UNIT_ASSERT_CONTAINS(err, "257 definitions, at most 256");
}

/* Configured, a tool is one of the tools: agents may name it, models are offered it,
 * and the worker runs it as http_tool. */
static void
test_tooldef_configured(void)
{
	struct sb_config	 cfg;
	struct agent_error	 e;
	const struct tool_decl	*d;
	json_t			*agent, *def, *names, *offer;
	char			 err[600], sub[128];

	memset(&cfg, 0, sizeof(cfg));
	snprintf(sub, sizeof(sub), "%s/conf", dir);
	put("conf", "crm.json", "{" BASE "}");
	cfg.tools.dir = sub;
	cfg.tools.secrets_dir = NULL;

	agent = json_pack("{s:s, s:s, s:s, s:s, s:[s, s]}", "slug", "a1", "name", "A",
	    "provider", "builtin", "model", "m", "tools", "http_fetch", "crm_lookup");
	CU_ASSERT_PTR_NULL(tool_decl_find("crm_lookup"));
	CU_ASSERT_PTR_NULL(agent_validate(agent, NULL, &e));
	UNIT_ASSERT_STR(e.slug, "unknown-tool");

	CU_ASSERT_EQUAL_FATAL(tools_configure(&cfg, 0, err, sizeof(err)), 0);
	d = tool_decl_find("crm_lookup");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_PTR_NOT_NULL(tool_decl_def(d));
	CU_ASSERT_PTR_NULL(tool_decl_def(tool_decl_find("http_fetch")));
	UNIT_ASSERT_STR(json_string_value(json_object_get(tool_decl_schema(d), "type")), "object");
	CU_ASSERT_PTR_EQUAL(tool_impl_find("crm_lookup"), &tool_http_tool);
	CU_ASSERT_PTR_EQUAL(tool_impl_find("http_fetch"), &tool_http_fetch);
	def = agent_validate(agent, NULL, &e);
	CU_ASSERT_PTR_NOT_NULL(def);
	json_decref(def);
	names = json_pack("[s, s]", "crm_lookup", "http_fetch");
	offer = tool_decls_offer(names);
	UNIT_ASSERT_INT(json_array_size(offer), 2);
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(offer, 0), "name")),
	    "crm_lookup");
	UNIT_ASSERT_STR(json_string_value(json_object_get(json_array_get(offer, 0),
	    "description")), "Look a customer up.");
	CU_ASSERT(json_equal(json_object_get(json_array_get(offer, 0), "parameters"),
	    tool_decl_schema(d)));
	json_decref(offer);

	/* A failed load leaves the declarations as they were. */
	put("conf", "bad.json", "{");
	CU_ASSERT_EQUAL(tools_configure(&cfg, 0, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(tool_decl_find("crm_lookup"));

	tool_decls_configure(NULL);
	CU_ASSERT_PTR_NULL(tool_decl_find("crm_lookup"));
	CU_ASSERT_PTR_NULL(tool_impl_find("crm_lookup"));
	CU_ASSERT_PTR_NULL(agent_validate(agent, NULL, &e));
	json_decref(names);
	json_decref(agent);
}

void
suite_tooldef(void)
{
	CU_pSuite s = unit_suite("tooldef", setup, teardown);

	unit_test(s, "a good definition, its defaults and its secret", test_tooldef_good);
	unit_test(s, "the example definition is a good one", test_tooldef_example);
	unit_test(s, "secrets from $CREDENTIALS_DIRECTORY first", test_tooldef_credentials);
	unit_test(s, "bad definitions say what is wrong", test_tooldef_bad);
	unit_test(s, "bad secrets say what is wrong, never the secret", test_tooldef_bad_secrets);
	unit_test(s, "a POST's body: the arguments or a template", test_tooldef_body);
	unit_test(s, "a directory of definitions", test_tooldef_dir);
	unit_test(s, "configured tools join the built-in ones", test_tooldef_configured);
}
