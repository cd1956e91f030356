/* test_htmltext.c: core/htmltext.c, the readable text of HTML pages: what is dropped,
 * what is decoded, where lines end, the bound, and hostile bytes. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/htmltext.h"
#include "core/json.h"
#include "tests/unit/unit.h"

#define FFFD	"\xef\xbf\xbd"

/* Asserts the text of html (a C string) under a generous bound. */
#define TEXT_IS(html, want)	text_is((html), strlen(html), (size_t)-1, (want), __LINE__)

static void
text_is(const char *html, size_t len, size_t max, const char *want, unsigned int line)
{
	char	 what[160];
	size_t	 outlen = (size_t)-1;
	char	*got = html_text(html, len, max, &outlen);

	snprintf(what, sizeof(what), "html_text(\"%.100s\")", html);
	unit_assert_str(got, want, what, __FILE__, line);
	unit_assert_int((long long)outlen, (long long)strlen(got), "outlen", __FILE__, line);
	free(got);
}

static void
test_html_basics(void)
{
	TEXT_IS("<p>Hello   <b>world</b></p><p>Next</p>", "Hello world\nNext");
	TEXT_IS("plain text", "plain text");
	TEXT_IS("", "");
	TEXT_IS("<p></p><div> </div>", "");
	TEXT_IS("<a href=\"x>y\" title='p>q'>link</a>", "link");
	TEXT_IS("<a href=x>y</a> <A HREF=\"/\"\n  CLASS=c>z</A>", "y z");
	TEXT_IS("<img src=a.png alt=\"a picture\">after", "after");
	/* A '<' that starts no markup is text; one that does runs to its '>'. */
	TEXT_IS("1 < 2 and 3 <= 4 <3", "1 < 2 and 3 <= 4 <3");
	TEXT_IS("a <", "a <");
	TEXT_IS("a <b", "a");
	text_is(NULL, 0, 100, "", __LINE__);
}

static void
test_html_title(void)
{
	TEXT_IS("<html><head><title> My \n Page </title><meta charset=utf-8>"
	    "<style>p{color:red}</style></head><body><h1>Head</h1><p>Body</p></body></html>",
	    "My Page\nHead\nBody");
	/* The title is text only, decoded: no tags in it. */
	TEXT_IS("<title>a <b>&amp; b</title>x", "a <b>& b\nx");
	/* First line wherever it stands; the first one only; not an SVG's. */
	TEXT_IS("<p>a</p><title>T</title>", "T\na");
	TEXT_IS("<title>A</title><title>B</title>x", "A\nx");
	TEXT_IS("<svg><title>Icon</title></svg><p>x</p><title>Real</title>", "Real\nx");
	TEXT_IS("<title>Only</title>", "Only");
	TEXT_IS("<title></title>x", "x");
	TEXT_IS("<title>unterminated", "unterminated");
}

static void
test_html_dropped(void)
{
	TEXT_IS("a<script>var x = '</p>'; if (a<b && c>d) {}</script>b", "ab");
	TEXT_IS("<SCRIPT type=x>x</Script >y", "y");
	TEXT_IS("<script>a</scriptx>b</script>c", "c");
	TEXT_IS("<script>a</script", "");
	TEXT_IS("a<script>b", "a");
	TEXT_IS("<script/>hidden</script>shown", "shown");
	TEXT_IS("<script><!-- </script>after", "after");
	TEXT_IS("<style>body { content: '<p>' }</style>t", "t");
	TEXT_IS("<noscript><p>enable js</p></noscript>ok", "ok");
	TEXT_IS("<template><template>x</template>y</template>z", "z");
	TEXT_IS("<svg><text>chart</text><g><text>1</text></g></svg>z", "z");
	TEXT_IS("<svg/>z", "z");
	TEXT_IS("<iframe src=x>fallback <p>x</p></iframe>z", "z");
	TEXT_IS("<head><meta name=x content=y>junk</head>body", "body");
	/* A <head> left open ends where a browser ends it. */
	TEXT_IS("<head><title>T</title><link rel=x><p>para", "T\npara");
	TEXT_IS("<head><title>T</title><body>text", "T\ntext");
	/* Comments, CDATA, doctypes, processing instructions. */
	TEXT_IS("a<!-- <p>x</p> -->b<!---->c<!-->d<!--->e<![CDATA[f]]>g<!DOCTYPE html>h"
	    "<?xml x?>i</>j</ bogus>k", "abcdeghijk");
	TEXT_IS("a<!--x--!>b<!-- - -- --->c", "abc");
	TEXT_IS("a<!--b", "a");
	TEXT_IS("a<![CDATA[b]]", "a");
}

static void
test_html_references(void)
{
	TEXT_IS("&amp;&lt;&gt;&quot;&apos;&mdash;&ndash;&hellip;&copy;&reg;&laquo;&raquo;"
	    "&rsquo;&lsquo;&rdquo;&ldquo;",
	    "&<>\"'\xe2\x80\x94\xe2\x80\x93\xe2\x80\xa6\xc2\xa9\xc2\xae\xc2\xab\xc2\xbb"
	    "\xe2\x80\x99\xe2\x80\x98\xe2\x80\x9d\xe2\x80\x9c");
	TEXT_IS("&#65;&#x42;&#X43;&#100 &#x1F600;&#128512;",
	    "ABCd \xf0\x9f\x98\x80\xf0\x9f\x98\x80");
	/* Code points that are no characters. */
	TEXT_IS("&#0;&#xD800;&#xdfff;&#x110000;&#99999999999999999999;",
	    FFFD FFFD FFFD FFFD FFFD);
	/* Unknown or malformed: left as they are.  Names are case-sensitive. */
	TEXT_IS("&foo; &amp &#; &#x; & x &AMP; &ampx;", "&foo; &amp &#; &#x; & x &AMP; &ampx;");
	TEXT_IS("&averyveryverylongname;", "&averyveryverylongname;");
	/* A no-break space is a space, and spaces collapse. */
	TEXT_IS("a&nbsp;&nbsp; b\xc2\xa0\xc2\xa0" "c", "a b c");
	TEXT_IS("&#32;a&#9;&#10;b&#32;", "a b");
	/* Decoded text is never markup. */
	TEXT_IS("&lt;script&gt;x&lt;/script&gt;", "<script>x</script>");
}

static void
test_html_lines(void)
{
	static const char *const blocks[] = { "p", "div", "li", "h1", "h2", "h3", "h4", "h5",
		"h6", "tr", "section", "article", "header", "footer", "nav", "pre", "blockquote",
		"table", "ul", "ol", "dl", "dt", "dd" };
	char	 html[128];
	size_t	 i;

	for (i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		snprintf(html, sizeof(html), "x<%s>y</%s>z", blocks[i], blocks[i]);
		text_is(html, strlen(html), 100, "x\ny\nz", __LINE__);
		snprintf(html, sizeof(html), "x<%s class=\"a\">y</%s >z", blocks[i], blocks[i]);
		text_is(html, strlen(html), 100, "x\ny\nz", __LINE__);
	}
	TEXT_IS("x<hr>y<hr/>z", "x\ny\nz");
	TEXT_IS("<ul><li>one</li><li>two</li></ul><div>three</div>", "one\ntwo\nthree");
	/* A <br> breaks even an empty line: two make a blank line, more make no more. */
	TEXT_IS("a<br>b<br><br>c<br><br><br><br>d<br/>e</br>f", "a\nb\n\nc\n\nd\ne\nf");
	TEXT_IS("<br><br>a<br><br>", "a");
	TEXT_IS("<p>a</p><br><p>b</p>", "a\n\nb");
	TEXT_IS("<table><tr><th>h1</th><th>h2</th></tr><tr><td>1</td><td>2</td></tr></table>",
	    "h1 h2\n1 2");
	TEXT_IS("<div><div><p>deep</p></div></div><div>next</div>", "deep\nnext");
	/* Inline elements join words; spaces collapse and are trimmed at line ends. */
	TEXT_IS("  \n\t lead <span>in</span>line  \r\n trail  ", "lead inline trail");
	TEXT_IS("a<b> </b>c", "a c");
	TEXT_IS("<p>  a  </p>  <p>  b  </p>", "a\nb");
	TEXT_IS("a\n\n\n\nb", "a b");
}

static void
test_html_pre(void)
{
	TEXT_IS("<pre>\nline 1\n   line 2\r\n\n\n\nline 3</pre>after",
	    "line 1\nline 2\n\nline 3\nafter");
	TEXT_IS("<pre>a\rb</pre><p>c\nd</p>", "a\nb\nc d");
	TEXT_IS("<pre>a\n</pre>b<pre>c</pre></pre>\nd", "a\nb\nc\nd");
}

static void
test_html_utf8(void)
{
	static const char	 nul[] = "a\0b";

	TEXT_IS("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80");
	TEXT_IS("a\xff\xfe" "b", "a" FFFD FFFD "b");
	TEXT_IS("a\xe4\xb8", "a" FFFD FFFD);
	TEXT_IS("\xc0\xaf\xed\xa0\x80", FFFD FFFD FFFD FFFD FFFD);
	text_is(nul, sizeof(nul) - 1, 100, "a" FFFD "b", __LINE__);
	/* A stray byte in a tag's name or an attribute harms nothing. */
	TEXT_IS("<p\xff>x</p\xff><a title=\"\xff\">y</a>", "xy");
}

static void
test_html_max(void)
{
	static const char	 html[] = "<title>T</title><p>h\xc3\xa9llo world</p>";
	char			*out;
	size_t			 len;

	text_is(html, strlen(html), 0, "", __LINE__);
	text_is(html, strlen(html), 1, "T", __LINE__);
	text_is(html, strlen(html), 2, "T", __LINE__);		/* no trailing newline */
	text_is(html, strlen(html), 3, "T\nh", __LINE__);
	text_is(html, strlen(html), 4, "T\nh", __LINE__);	/* not half of the é */
	text_is(html, strlen(html), 5, "T\nh\xc3\xa9", __LINE__);
	text_is(html, strlen(html), 9, "T\nh\xc3\xa9llo", __LINE__);	/* no trailing space */
	text_is(html, strlen(html), 100, "T\nh\xc3\xa9llo world", __LINE__);
	/* The bound holds on a long page, and what is kept is the page's start. */
	out = sb_malloc(300001);
	memset(out, 'w', 300000);
	memcpy(out, "<p>", 3);
	out[300000] = '\0';
	free(html_text(out, 300000, 1000, &len));
	UNIT_ASSERT_INT(len, 1000);
	free(out);
}

/* Inputs that make a naive scanner go back over the same bytes again and again: each
 * MiB must take about as long as reading it. */
static void
test_html_linear(void)
{
	static const char *const units[] = { "<script>", "</scrip", "<!-", "<!--", "&#", "&amp",
		"<a x=\"", "<a x=", "<a ", "<", "</", "<![CDATA[", "<pre>", "<svg>", "<title>",
		"<p>&nbsp;</p>", "\xf0\x9f" };
	const size_t	 size = 1 << 20;
	char		*html = sb_malloc(size), *out;
	size_t		 i, u, ulen, len;
	int64_t		 t0 = clock_mono_us();

	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		ulen = strlen(units[u]);
		for (i = 0; i + ulen <= size; i += ulen)
			memcpy(html + i, units[u], ulen);
		out = html_text(html, i, size, &len);
		CU_ASSERT(utf8_valid(out, len));
		free(out);
	}
	free(html);
	/* A quadratic pass over 1 MiB would take minutes even once. */
	CU_ASSERT(clock_mono_us() - t0 < 20 * 1000000);
}

void
suite_htmltext(void)
{
	CU_pSuite s = unit_suite("htmltext", NULL, NULL);

	unit_test(s, "tags go, text stays, '<' that is no tag is text", test_html_basics);
	unit_test(s, "the title is the first line", test_html_title);
	unit_test(s, "script, style, noscript, template, svg, head, comments dropped",
	    test_html_dropped);
	unit_test(s, "character references decoded, unknown ones kept", test_html_references);
	unit_test(s, "blocks end lines, spaces and blank lines collapse", test_html_lines);
	unit_test(s, "pre keeps its line breaks", test_html_pre);
	unit_test(s, "the text is valid UTF-8 whatever the bytes", test_html_utf8);
	unit_test(s, "at most max bytes, cut between characters", test_html_max);
	unit_test(s, "hostile inputs take linear time", test_html_linear);
}
