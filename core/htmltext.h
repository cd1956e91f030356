/* htmltext.h: the text a person reads on an HTML page, for a tool that fetched one and
 * hands it to a model.  One forward pass over the bytes, no tree and no recursion:
 * what a browser hides is dropped, what it shows is kept as lines of plain text. */
#ifndef SB_CORE_HTMLTEXT_H
#define SB_CORE_HTMLTEXT_H

#include <stddef.h>

/* The text a person reads in html (len bytes; not NUL-terminated necessarily):
 * tags removed; the contents of script, style, noscript, template, svg, head (but the
 * <title> kept as the first line) dropped; comments and CDATA dropped; character
 * references decoded (numeric decimal/hex, and at least amp lt gt quot apos nbsp
 * mdash ndash hellip copy reg laquo raquo rsquo lsquo rdquo ldquo; unknown ones left as
 * they are; invalid code points -> U+FFFD); block elements (p div br li h1-h6 tr
 * section article header footer nav pre blockquote table ul ol dl dt dd hr) end a line;
 * runs of spaces collapse to one, runs of blank lines to one blank line; leading and
 * trailing space trimmed; the output is valid UTF-8 (invalid input bytes -> U+FFFD) and
 * at most max bytes (cut at a character boundary).  malloc'd, NUL-terminated; *outlen
 * its length. Never fails except on OOM (sb_oom). Linear time: no backtracking, no
 * recursion; arbitrary bytes are safe.
 *
 * Also: iframe, noembed and noframes are dropped like script; table cells are
 * separated by a space; a <br> is a line break of its own (two make a blank line);
 * inside <pre> the line breaks of the source are kept (spaces still collapse); a
 * no-break space (U+00A0, &nbsp;) is a space; U+0000 becomes U+FFFD, so the text holds
 * no NUL.  A <head> ends at the first element that cannot stand in it, as a
 * browser's does. */
char	*html_text(const char *html, size_t len, size_t max, size_t *outlen);

#endif /* SB_CORE_HTMLTEXT_H */
