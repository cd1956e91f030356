/* json.h: JSON from outside, parsed within limits, and text made safe to store.
 * Functions that return json_t * return a new reference: the caller decrefs. */
#ifndef SB_CORE_JSON_H
#define SB_CORE_JSON_H

#include <stddef.h>
#include <jansson.h>
#include "core/err.h"

struct json_limits {
	size_t	 max_bytes;
	int	 max_depth;
	size_t	 max_string;		/* bytes in one string or key, as written */
	int	 from_provider;		/* a provider's event: U+0000 and any number kept
					 * (replaced at the event log, json_storable);
					 * else a client's input: both refused */
};

struct json_parse_error {
	enum sb_err	 err;		/* SB_ERR_INVALID or SB_ERR_TOO_LARGE */
	int		 line, column;	/* 0: the whole document, no position */
	size_t		 position;	/* byte offset */
	char		 text[160];
};

/* Parses buf within the limits.  Returns a new reference, or NULL with e set.
 * Depth and string length are checked by a scan before jansson sees the text,
 * so a hostile document cannot make the parser recurse or allocate.  A client's
 * document may not hold U+0000 (C strings and PostgreSQL cut or refuse it) nor a
 * number that cannot be stored and read back exactly (beyond +-2^63: jsonb would
 * give it back as an integer jansson cannot hold). */
json_t	*json_parse_limited(const char *buf, size_t len, const struct json_limits *,
	    struct json_parse_error *e);
/* Text from outside (a model, a provider, a client's bytes quoted in a problem) as a
 * JSON string that can always be built and stored: each byte that is not part of a
 * UTF-8 character, and U+0000 (which PostgreSQL refuses in text and jsonb), becomes
 * U+FFFD.  jansson's json_string() would refuse such text whole.  A new reference,
 * never NULL. */
json_t	*json_text(const char *s, size_t n);
/* The length of s[0..n) without a last UTF-8 sequence that is cut short, so that a
 * text split anywhere is split between characters. */
size_t	 utf8_prefix(const char *s, size_t n);
/* The length in bytes of the UTF-8 character at s (n > 0 bytes there), or 0 if s does
 * not start with a whole, valid one (a stray byte, an overlong form, a surrogate, past
 * U+10FFFF, or cut short).  U+0000 is a character here (1). */
size_t	 utf8_char(const char *s, size_t n);
/* 1 if s[0..n) is UTF-8 without U+0000, else 0. */
int	 utf8_valid(const char *s, size_t n);
/* Replaces U+0000 in every string of v (in place), so that PostgreSQL can store it. */
void	 json_storable(json_t *v);

#endif /* SB_CORE_JSON_H */
