/* chunk.h: a knowledge-base document cut into chunks of about CHUNK_TARGET bytes, the
 * pieces full-text search ranks and a model is shown.  Pure: no I/O, no allocation but
 * the array of chunks it returns. */
#ifndef SB_CORE_CHUNK_H
#define SB_CORE_CHUNK_H

#include <stddef.h>
#include <jansson.h>

#define CHUNK_TARGET	1200	/* the most bytes of a chunk's body */
#define CHUNK_MIN	600	/* a chunk is cut shorter only at a heading or the end */
#define CHUNK_HEAD_MAX	200	/* the most bytes of a heading carried as a prefix */

/* One chunk: its body is text[off, off + len), with no leading or trailing white
 * space; head (head_len bytes at text + head_off, 0 when none) is the nearest Markdown
 * heading above a body that does not start with it, which the chunk's text carries
 * first (chunk_text). */
struct chunk {
	size_t	 off, len;
	size_t	 head_off, head_len;
};

/*
 * Cuts text (len bytes, UTF-8; need not be NUL-terminated) into chunks, in order,
 * into *out (a malloc'd array the caller frees; NULL when there are none) and returns
 * how many.  Each body is at most CHUNK_TARGET bytes, cut at the last paragraph break
 * of its window [CHUNK_MIN, CHUNK_TARGET], else the last line break, else the last
 * sentence end (". ", "! ", "? "), else the last space, else the last character
 * boundary: never inside a UTF-8 sequence.  White space between bodies is dropped, and
 * a text of white space alone has no chunk.  With markdown, each ATX heading line
 * ("#" to "######" and a space; not inside a ``` or ~~~ fence) starts a new chunk, and
 * the later chunks of its section carry it as their head (at most CHUNK_HEAD_MAX bytes
 * of it, cut at a character boundary).  Never fails except on OOM (sb_oom).
 */
size_t	 chunk_split(const char *text, size_t len, int markdown, struct chunk **out);

/* The text a chunk is stored and searched with: its head, a blank line and its body,
 * or its body alone.  malloc'd and NUL-terminated; *outlen its length. */
char	*chunk_text(const char *text, const struct chunk *c, size_t *outlen);

/* The first Markdown heading of text outside a fence: the words of its line, without
 * the '#'s and the white space around them, at text + *off, *tlen bytes (a title for a
 * document).  1 if there is one with words, else 0. */
int	 chunk_title(const char *text, size_t len, size_t *off, size_t *tlen);

/* The texts of all chunks of text (chunk_split, chunk_text), in order, as a JSON array
 * of strings: what sql/016_kb.sql's kb_document_add takes.  A new reference; an empty
 * array for a text of white space alone.  text must be UTF-8 (the strings are built
 * with json_text: a stray byte would become U+FFFD). */
json_t	*chunk_json(const char *text, size_t len, int markdown);

#endif /* SB_CORE_CHUNK_H */
