/* urltmpl.c: URL templates of configured tools and their expansion (urltmpl.h). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/urltmpl.h"

/* Where the authority starts: after "http://" or "https://"; NULL for another scheme. */
static const char *
authority(const char *t)
{
	if (strncmp(t, "http://", 7) == 0)
		return t + 7;
	if (strncmp(t, "https://", 8) == 0)
		return t + 8;
	return NULL;
}

/* The placeholder at p ('{'): its name into name, and the byte after its '}'; NULL if
 * it is not "{" [a-z_][a-z0-9_]* "}" (at most URLTMPL_NAME_MAX bytes of name). */
static const char *
placeholder(const char *p, const char *end, char name[URLTMPL_NAME_MAX + 1])
{
	const char	*s = p + 1;
	size_t		 n = 0;

	while (s + n < end && (islower((unsigned char)s[n]) || s[n] == '_' ||
	    (n > 0 && isdigit((unsigned char)s[n]))))
		n++;
	if (n == 0 || n > URLTMPL_NAME_MAX || s + n >= end || s[n] != '}')
		return NULL;
	memcpy(name, s, n);
	name[n] = '\0';
	return s + n + 1;
}

/* RFC 3986 unreserved: the bytes a value keeps as they are. */
static int
unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static void
encode(struct sb_buf *out, const char *s, size_t n)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			 e[3] = { '%', 0, 0 };
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (unreserved((unsigned char)s[i])) {
			buf_append(out, s + i, 1);
			continue;
		}
		e[1] = hex[(unsigned char)s[i] >> 4];
		e[2] = hex[(unsigned char)s[i] & 0xf];
		buf_append(out, e, 3);
	}
}

/* Cuts out back to len bytes (a query parameter dropped). */
static void
cut(struct sb_buf *out, size_t len)
{
	out->len = len;
	if (out->data != NULL)
		out->data[len] = '\0';
}

/* Appends the value of argument name, encoded; *missing set when args has none.  In
 * a probe (args NULL) every argument is "x".  0, or -1 with err. */
static int
value(struct sb_buf *out, const json_t *args, const char *name, int in_path, int *missing,
    char *err, size_t errlen)
{
	const json_t	*v;
	const char	*s;
	char		 num[64];
	size_t		 n;

	*missing = 0;
	if (args == NULL) {
		s = "x";
		n = 1;
	} else if ((v = json_object_get(args, name)) == NULL) {
		*missing = 1;
		return 0;
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		n = json_string_length(v);
	} else if (json_is_integer(v)) {
		n = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		s = num;
	} else if (json_is_real(v)) {
		n = (size_t)snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		s = num;
	} else if (json_is_boolean(v)) {
		s = json_is_true(v) ? "true" : "false";
		n = strlen(s);
	} else {
		snprintf(err, errlen, "argument %s is not a string, a number or a boolean", name);
		return -1;
	}
	if (n > URLTMPL_MAX) {
		snprintf(err, errlen, "argument %s is longer than %d bytes", name, URLTMPL_MAX);
		return -1;
	}
	if (n == 0 && in_path) {
		snprintf(err, errlen, "argument %s is empty, and it is part of the path", name);
		return -1;
	}
	encode(out, s, n);
	return 0;
}

/* 1 if the path [p, end) has a segment "." or "..": a resolver would move up. */
static int
dot_segment(const char *p, const char *end)
{
	const char	*s;
	size_t		 n;

	while (p < end) {
		s = ++p;	/* after a '/' */
		while (p < end && *p != '/')
			p++;
		n = (size_t)(p - s);
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return 1;
	}
	return 0;
}

/* The expansion of t (a checked template) with args, or with "x" for every argument
 * when args is NULL (a probe), into out.  0, or -1 with err. */
static int
expand(const char *t, const json_t *args, struct sb_buf *out, char *err, size_t errlen)
{
	const char	*a = authority(t), *end = t + strlen(t), *path, *q, *p, *next;
	const char	*pe;
	char		 name[URLTMPL_NAME_MAX + 1];
	size_t		 path_at, qmark, mark;
	int		 missing, drop, nparams = 0;

	path = a + strcspn(a, "/?");
	buf_append(out, t, (size_t)(path - t));
	path_at = out->len;
	q = memchr(path, '?', (size_t)(end - path));
	pe = q != NULL ? q : end;
	for (p = path; p < pe; p = next) {
		if (*p != '{') {
			buf_append(out, p, 1);
			next = p + 1;
			continue;
		}
		next = placeholder(p, pe, name);
		if (value(out, args, name, 1, &missing, err, errlen) < 0)
			return -1;
		if (missing) {
			snprintf(err, errlen, "argument %s is missing, and it is part of the path",
			    name);
			return -1;
		}
	}
	if (dot_segment(out->data + path_at, out->data + out->len)) {
		snprintf(err, errlen, "the path would have a \".\" or \"..\" segment");
		return -1;
	}
	if (q == NULL)
		goto done;
	qmark = out->len;
	buf_append(out, "?", 1);
	for (p = q + 1; p <= end; p = pe + 1) {
		pe = p + strcspn(p, "&");
		mark = out->len;
		if (nparams > 0)
			buf_append(out, "&", 1);
		drop = 0;
		while (p < pe && !drop) {
			if (*p != '{') {
				buf_append(out, p++, 1);
				continue;
			}
			p = placeholder(p, pe, name);
			if (value(out, args, name, 0, &drop, err, errlen) < 0)
				return -1;
		}
		if (drop)
			cut(out, mark);		/* an optional argument that is missing */
		else
			nparams++;
	}
	if (nparams == 0)
		cut(out, qmark);
done:
	if (out->len > URLTMPL_MAX) {
		snprintf(err, errlen, "the URL would be longer than %d bytes", URLTMPL_MAX);
		return -1;
	}
	return 0;
}

/* The origin of the template's literal "scheme://authority". */
static char *
tmpl_origin(const char *t)
{
	const char	*a = authority(t);
	size_t		 n = (size_t)(a + strcspn(a, "/?") - t);
	char		*s = sb_malloc(n + 2), *o;

	memcpy(s, t, n);
	memcpy(s + n, "/", 2);
	o = url_origin(s);
	free(s);
	return o;
}

/* Does the expansion lead where the template does?  0, or -1 with err. */
static int
same_origin(const char *t, const char *url, char *err, size_t errlen)
{
	char	*want = tmpl_origin(t), *got = url_origin(url);
	int	 rc = want != NULL && got != NULL && strcmp(want, got) == 0 ? 0 : -1;

	if (want == NULL)
		snprintf(err, errlen, "its scheme, host and port are not a URL libcurl can parse");
	else if (rc < 0)
		snprintf(err, errlen, "the URL would not lead to the template's host");
	free(want);
	free(got);
	return rc;
}

/* The schema of property name, and whether it is required; NULL if there is none. */
static const json_t *
property(const json_t *schema, const char *name, int *required)
{
	const json_t	*v;
	size_t		 i;

	*required = 0;
	json_array_foreach(json_object_get(schema, "required"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
			*required = 1;
	return json_object_get(json_object_get(schema, "properties"), name);
}

/* May a value of this property's schema go into a URL?  Its type says a scalar. */
static int
scalar(const json_t *prop)
{
	static const char *const ok[] = { "string", "integer", "number", "boolean" };
	const json_t	*type = json_object_get(prop, "type"), *v;
	size_t		 i, j, n = json_is_array(type) ? json_array_size(type) : 1;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		v = json_is_array(type) ? json_array_get(type, i) : type;
		for (j = 0; j < sizeof(ok) / sizeof(ok[0]); j++)
			if (json_is_string(v) && strcmp(json_string_value(v), ok[j]) == 0)
				break;
		if (j == sizeof(ok) / sizeof(ok[0]))
			return 0;
	}
	return 1;
}

/* Checks each placeholder of [p, end) (in the path, or one query parameter). */
static int
check_part(const char *p, const char *end, const json_t *schema, int in_path,
    char *err, size_t errlen)
{
	const char	*s = p, *next, *eq;
	char		 name[URLTMPL_NAME_MAX + 1];
	int		 required;

	for (; p < end; p = next) {
		if (*p == '}') {
			snprintf(err, errlen, "a \"}\" that closes no placeholder");
			return -1;
		}
		if (*p != '{') {
			next = p + 1;
			continue;
		}
		if ((next = placeholder(p, end, name)) == NULL) {
			snprintf(err, errlen, "a placeholder is {name}, name of [a-z0-9_] "
			    "(at most %d), starting with a letter or _", URLTMPL_NAME_MAX);
			return -1;
		}
		if (!scalar(property(schema, name, &required))) {
			snprintf(err, errlen, "placeholder {%s}: not a property of the parameters "
			    "with a type of string, integer, number or boolean", name);
			return -1;
		}
		if (required)
			continue;
		eq = memchr(s, '=', (size_t)(end - s));
		if (in_path || eq == NULL || eq == s || eq + 1 != p || next != end) {
			snprintf(err, errlen, "placeholder {%s}: an optional property may only "
			    "be the whole value of a query parameter (key={%s}); else make it "
			    "required", name, name);
			return -1;
		}
	}
	return 0;
}

int
urltmpl_check(const char *t, const json_t *schema, char *err, size_t errlen)
{
	const char	*a, *path, *q, *p, *pe, *end = t + strlen(t);
	struct sb_buf	 probe;
	int		 rc;

	if (end - t > URLTMPL_MAX) {
		snprintf(err, errlen, "longer than %d bytes", URLTMPL_MAX);
		return -1;
	}
	if ((a = authority(t)) == NULL) {
		snprintf(err, errlen, "not an http:// or https:// URL");
		return -1;
	}
	for (p = t; p < end; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '#' || *p == '\\') {
			snprintf(err, errlen, "a URL template has no blank, control, non-ASCII, "
			    "\"#\" or \"\\\"");
			return -1;
		}
	path = a + strcspn(a, "/?");
	if (path == a || memchr(a, '{', (size_t)(path - a)) != NULL ||
	    memchr(a, '}', (size_t)(path - a)) != NULL || memchr(a, '@', (size_t)(path - a))) {
		snprintf(err, errlen, "the host (and port) must be written out: no "
		    "placeholder and no user:password@ in them (credentials go in headers)");
		return -1;
	}
	q = memchr(path, '?', (size_t)(end - path));
	if (check_part(path, q != NULL ? q : end, schema, 1, err, errlen) < 0)
		return -1;
	for (p = q != NULL ? q + 1 : end + 1; p <= end; p = pe + 1) {
		pe = p + strcspn(p, "&");
		if (check_part(p, pe, schema, 0, err, errlen) < 0)
			return -1;
	}
	buf_init(&probe, 0);
	rc = expand(t, NULL, &probe, err, errlen);
	if (rc == 0)
		rc = same_origin(t, probe.data, err, errlen);
	buf_free(&probe);
	return rc;
}

char *
urltmpl_expand(const char *t, const json_t *args, char *err, size_t errlen)
{
	struct sb_buf	 out;

	if (!json_is_object(args)) {	/* NULL would be expand()'s probe */
		snprintf(err, errlen, "the arguments are not an object");
		return NULL;
	}
	buf_init(&out, 0);
	if (expand(t, args, &out, err, errlen) < 0 ||
	    same_origin(t, out.data, err, errlen) < 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out, NULL);
}

char *
url_origin(const char *url)
{
	CURLU	*u = curl_url();
	char	*scheme = NULL, *host = NULL, *port = NULL, *out = NULL, *p;
	size_t	 n;

	if (u == NULL)
		sb_oom(0);
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0) &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		n = strlen(scheme) + strlen(host) + strlen(port) + 5;
		out = sb_malloc(n);
		snprintf(out, n, "%s://%s:%s", scheme, host, port);
		for (p = out; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}
