/* wjson.h: the browser app's JSON: a strict reader of API answers into a tree held by
 * an arena, and a writer of request bodies into a buffer.  (The programs use jansson;
 * it is not built for wasm, and the app needs far less of it.)
 *
 * The reader takes RFC 8259 JSON and nothing else: one value with white space around
 * it; no trailing commas, comments, leading zeros, bare control characters, invalid
 * escapes, lone surrogates or bytes that are not UTF-8; nesting at most
 * WJSON_MAX_DEPTH deep.  U+0000 is refused too (the app's strings are C strings, and
 * the API never sends it).  In an object with a repeated key, lookups find the first. */
#ifndef SB_WEB_WJSON_H
#define SB_WEB_WJSON_H

#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"

#define WJSON_MAX_DEPTH	64

enum wj_type { WJ_NULL, WJ_FALSE, WJ_TRUE, WJ_NUMBER, WJ_STRING, WJ_ARRAY, WJ_OBJECT };

struct wj {
	enum wj_type	 type;
	double		 num;		/* WJ_NUMBER */
	const char	*str;		/* WJ_STRING: decoded, NUL-terminated */
	size_t		 len;		/* WJ_STRING: bytes; arrays, objects: members */
	const char	*key;		/* a member of an object: its key */
	struct wj	*first;		/* arrays, objects: the first member */
	struct wj	*next;		/* the next member of the parent */
};

/* Where and why a parse failed. */
struct wj_error {
	size_t		 pos;		/* byte offset */
	const char	*why;		/* a static string */
};

/* The value in text[0..len), or NULL (with *err filled when err is not NULL).  Every
 * node and string is in a; the caller owns a. */
struct wj	*wj_parse(struct sb_arena *a, const char *text, size_t len, struct wj_error *err);

/* An object's member of that key (the first), or NULL when v is no object or lacks it. */
const struct wj	*wj_get(const struct wj *v, const char *key);
/* v's string, or dflt when v is NULL or no string. */
const char	*wj_str(const struct wj *v, const char *dflt);
/* wj_str(wj_get(v, key), dflt). */
const char	*wj_gets(const struct wj *v, const char *key, const char *dflt);
/* v's number, or dflt. */
double		 wj_num(const struct wj *v, double dflt);
/* 1 for true, 0 for anything else. */
int		 wj_true(const struct wj *v);

/* 1 when s[0..n) is UTF-8 without U+0000 (what the API takes as text), else 0. */
int		 wj_utf8_ok(const char *s, size_t n);

/* The value of a hexadecimal digit (either case), or -1. */
int		 wj_hexdigit(int c);

/* Writers.  wj_write_str appends s as a JSON string (quoted, escaped: the control
 * characters, '"', '\\', and '<', '>', '&' as \u escapes); the bytes are passed as they
 * are, so s must be UTF-8. */
void		 wj_write_str(struct sb_buf *out, const char *s);
/* Appends v as JSON (NULL as null); a string as wj_write_str writes it. */
void		 wj_write(struct sb_buf *out, const struct wj *v);
/* Appends "key":"value" with a leading comma unless *first, then clears *first. */
void		 wj_write_member(struct sb_buf *out, int *first, const char *key, const char *value);

#endif /* SB_WEB_WJSON_H */
