/* urltmpl.h: the URL template of an operator's HTTP tool (core/tooldef.c), and its
 * expansion with a model's arguments.
 *
 * A template is an http or https URL whose path and query may hold placeholders,
 * "{name}", each naming a property of the tool's argument schema:
 *
 *	https://crm.example.com/api/customers/{customer_id}/orders?status={status}
 *
 * The scheme and the authority (host and port) are the operator's alone: no
 * placeholder, no user information, no fragment.  A value is percent-encoded whole
 * (only RFC 3986's unreserved characters stay as they are), so whatever a model puts
 * in it cannot reach another host, add a path segment or a query parameter, or end the
 * URL: "../", "?", "#", "@", "&", "%00" and CR LF all arrive encoded.  A value that
 * would make a whole path segment "." or ".." is refused, and so is an empty one in the
 * path.  A placeholder in the path must be required by the schema; one of an optional
 * property must be the whole value of a query parameter ("key={name}"), which is
 * dropped when the argument is missing.  Values are strings, numbers or booleans.
 *
 * Nothing here logs; the functions allocate only what they return. */
#ifndef SB_CORE_URLTMPL_H
#define SB_CORE_URLTMPL_H

#include <stddef.h>

#include <jansson.h>

#define URLTMPL_MAX		8192	/* bytes of a template, and of an expanded URL */
#define URLTMPL_NAME_MAX	64	/* bytes of a placeholder's name */

/* 0 if tmpl is a template of the form above whose every placeholder is a property of
 * schema (an object schema, checked by schema_valid) of a type a value may have
 * (string, integer, number, boolean), placed as its being required or not allows;
 * -1 with err saying what is wrong ("placeholder {id} in the path: id must be
 * required"). */
int	 urltmpl_check(const char *tmpl, const json_t *schema, char *err, size_t errlen);
/* The URL tmpl (which urltmpl_check passed) gives for args (a JSON object), malloc'd
 * for the caller to free; NULL with err when an argument is missing from the path, of
 * another type, makes a "." or ".." segment, or the URL would pass URLTMPL_MAX, or
 * (which encoding makes impossible, and is checked all the same) would lead to
 * another origin than the template's. */
char	*urltmpl_expand(const char *tmpl, const json_t *args, char *err, size_t errlen);
/* "scheme://host:port" of an http or https URL (lower case, the port always named),
 * malloc'd; NULL if url is not one libcurl can parse. */
char	*url_origin(const char *url);

#endif /* SB_CORE_URLTMPL_H */
