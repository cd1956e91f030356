/* schema.h: JSON Schema, the subset tools use: a tool's arguments (from a model) are
 * checked against the tool's schema before the tool runs, and a schema an operator
 * writes in configuration is checked for what this understands.
 *
 * Both functions only read their arguments and allocate nothing that outlives the
 * call; the error names the path of the first offending value ("url", "opts.n",
 * "items[2]", "(root)") and fits errlen bytes, cut between UTF-8 characters. */
#ifndef SB_CORE_SCHEMA_H
#define SB_CORE_SCHEMA_H

#include <stddef.h>
#include <jansson.h>

#define SCHEMA_DEPTH_MAX	32

/* 0 if value satisfies schema; -1 with err set ("url: is required", "n: must be at
 * most 10", "mode: must be one of \"get\", \"post\"", "(root): must be an object") naming
 * the path of the first offending value.  Keywords: type (a string or an array of
 * them: object array string integer number boolean null), properties, required,
 * additionalProperties (boolean only), enum (of any JSON values, compared with
 * json_equal), const, minLength/maxLength (in characters, not bytes), minimum/maximum,
 * exclusiveMinimum/exclusiveMaximum (numbers), items (one schema), minItems/maxItems,
 * description/title/default/examples (ignored).  Nesting is at most SCHEMA_DEPTH_MAX (32)
 * deep (deeper values fail, they do not recurse without bound).
 *
 * Also: a schema may be true (anything) or false (nothing), as JSON Schema allows;
 * numbers compare by value in enum and const (3 equals 3.0); a keyword of the wrong
 * form, or one this does not know, is ignored here (schema_valid() refuses it). */
int	schema_check(const json_t *schema, const json_t *value, char *err, size_t errlen);
/* 0 if schema uses only what schema_check understands, and is well formed (types are
 * known names, required is an array of strings, numbers are numbers...); -1 with err.
 * For schemas an operator writes in configuration.  The error names the place in the
 * schema ("properties.url.type: unknown type \"uri\"").  "$schema" and "$comment"
 * are taken (and ignored) too. */
int	schema_valid(const json_t *schema, char *err, size_t errlen);

#endif /* SB_CORE_SCHEMA_H */
