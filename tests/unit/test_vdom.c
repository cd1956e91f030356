/* test_vdom.c: the web app's virtual DOM and its diff (web/src/vdom.c, diff.c), applied
 * to a stand-in document (websim.c). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "tests/unit/unit.h"
#include "tests/unit/websim.h"
#include "web/src/vdom.h"
#include "web/src/wire.h"

/* Two renders' arenas, as the app keeps them, and the document they patch. */
struct fixture {
	struct sb_arena	*arena[2];
	int		 cur;
	struct vnode	*dom;
	uint32_t	 next_id;
	struct websim	*sim;
	struct sb_buf	 ops;
	struct view	 v;
};

static void
fx_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->arena[0] = arena_new(4096);
	f->arena[1] = arena_new(4096);
	f->next_id = 2;
	f->sim = websim_new();
}

static struct view *
fx_begin(struct fixture *f)
{
	f->cur = !f->cur;
	arena_reset(f->arena[f->cur]);
	view_begin(&f->v, f->arena[f->cur]);
	return &f->v;
}

/* Diffs the render against the one before and applies it: 0, or -1. */
static int
fx_commit(struct fixture *f)
{
	buf_reset(&f->ops);
	vdom_diff(&f->ops, WIRE_MOUNT, f->dom, f->v.root, &f->next_id);
	f->dom = f->v.root;
	return websim_apply(f->sim, f->ops.data, f->ops.len);
}

static void
fx_free(struct fixture *f)
{
	arena_free(f->arena[0]);
	arena_free(f->arena[1]);
	websim_free(f->sim);
	buf_free(&f->ops);
}

/* The second render of test_vdom_create_patch, made twice. */
static void
render_b(struct fixture *f)
{
	struct view	*v = fx_begin(f);

	v_open(v, "div");
	v_attr(v, "class", "b");
	v_attr(v, "title", "t");
	v_open(v, "p");
	v_attr(v, "data-test", "para");
	v_text(v, "world");
	v_close(v);
	v_open(v, "input");
	v_close(v);
	v_close(v);
}

static void
test_vdom_create_patch(void)
{
	struct fixture	 f;
	struct view	*v;
	uint32_t	 p_id;

	fx_init(&f);
	v = fx_begin(&f);
	v_open(v, "div");
	v_attr(v, "class", "a");
	v_open(v, "p");
	v_attr(v, "data-test", "para");
	v_text(v, "hello");
	v_close(v);
	v_open(v, "input");
	v_attr(v, "value", "typed");
	v_close(v);
	v_close(v);
	UNIT_ASSERT_INT(fx_commit(&f), 0);
	UNIT_ASSERT_STR(websim_html(f.sim),
	    "<div class=\"a\"><p data-test=\"para\">hello</p><input .value=\"typed\"></input></div>");
	p_id = websim_find(f.sim, "data-test", "para");
	CU_ASSERT(p_id != 0);

	/* Changed text and attributes are patched in place; the same render again writes
	 * nothing at all. */
	render_b(&f);
	UNIT_ASSERT_INT(fx_commit(&f), 0);
	UNIT_ASSERT_STR(websim_html(f.sim),
	    "<div class=\"b\" title=\"t\"><p data-test=\"para\">world</p><input .value=\"\"></input></div>");
	UNIT_ASSERT_INT(websim_find(f.sim, "data-test", "para"), p_id);

	render_b(&f);
	UNIT_ASSERT_INT(fx_commit(&f), 0);
	UNIT_ASSERT_INT(f.ops.len, 0);

	/* An attribute dropped is removed; a node of another tag is replaced. */
	v = fx_begin(&f);
	v_open(v, "div");
	v_open(v, "span");
	v_text(v, "new");
	v_close(v);
	v_close(v);
	UNIT_ASSERT_INT(fx_commit(&f), 0);
	UNIT_ASSERT_STR(websim_html(f.sim), "<div><span>new</span></div>");
	UNIT_ASSERT_INT(websim_find(f.sim, "data-test", "para"), 0);

	/* A root of another tag replaces the whole tree. */
	v = fx_begin(&f);
	v_open(v, "section");
	v_close(v);
	UNIT_ASSERT_INT(fx_commit(&f), 0);
	UNIT_ASSERT_STR(websim_html(f.sim), "<section></section>");
	fx_free(&f);
}

/* Renders <ul> with one <li> per letter of keys (keyed by it, with a text). */
static int
render_list(struct fixture *f, const char *keys)
{
	struct view	*v = fx_begin(f);
	char		 k[2] = { 0, 0 };

	v_open(v, "ul");
	for (; *keys != '\0'; keys++) {
		k[0] = *keys;
		v_open(v, "li");
		v_key(v, k);
		v_attr(v, "data-k", k);
		v_text(v, k);
		v_close(v);
	}
	v_close(v);
	return fx_commit(f);
}

static const char *
list_html(const char *keys)
{
	static char	 out[4096];
	size_t		 o;

	o = (size_t)snprintf(out, sizeof(out), "<ul>");
	for (; *keys != '\0'; keys++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "<li data-k=\"%c\">%c</li>", *keys, *keys);
	snprintf(out + o, sizeof(out) - o, "</ul>");
	return out;
}

static void
test_vdom_keyed(void)
{
	struct fixture	 f;
	uint32_t	 a, c, d;

	fx_init(&f);
	UNIT_ASSERT_INT(render_list(&f, "abcd"), 0);
	UNIT_ASSERT_STR(websim_html(f.sim), list_html("abcd"));
	a = websim_find(f.sim, "data-k", "a");
	c = websim_find(f.sim, "data-k", "c");
	d = websim_find(f.sim, "data-k", "d");
	/* Moved, removed and added: the kept nodes are the same nodes. */
	UNIT_ASSERT_INT(render_list(&f, "daec"), 0);
	UNIT_ASSERT_STR(websim_html(f.sim), list_html("daec"));
	UNIT_ASSERT_INT(websim_find(f.sim, "data-k", "a"), a);
	UNIT_ASSERT_INT(websim_find(f.sim, "data-k", "c"), c);
	UNIT_ASSERT_INT(websim_find(f.sim, "data-k", "d"), d);
	UNIT_ASSERT_INT(render_list(&f, ""), 0);
	UNIT_ASSERT_STR(websim_html(f.sim), list_html(""));
	fx_free(&f);
}

/* Random lists of distinct keys, one after another: the document always ends up as
 * the render says. */
static void
test_vdom_keyed_random(void)
{
	static const char	 alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
	struct fixture		 f;
	char			 keys[sizeof(alphabet)], pool[sizeof(alphabet)], fail[128];
	size_t			 round, n, i, j, left;
	unsigned		 seed = 12345;

	fx_init(&f);
	for (round = 0; round < 300; round++) {
		memcpy(pool, alphabet, sizeof(alphabet));
		left = sizeof(alphabet) - 1;
		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % 20;
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			j = (seed >> 16) % left;
			keys[i] = pool[j];
			pool[j] = pool[--left];
		}
		keys[n] = '\0';
		if (render_list(&f, keys) != 0 || strcmp(websim_html(f.sim), list_html(keys)) != 0) {
			snprintf(fail, sizeof(fail), "round %zu: %s", round, keys);
			CU_FAIL(fail);
			break;
		}
	}
	fx_free(&f);
}

static void
test_vdom_unkeyed_and_focus(void)
{
	struct fixture	 f;
	struct view	*v;
	int		 i;

	fx_init(&f);
	for (i = 0; i < 2; i++) {
		v = fx_begin(&f);
		v_open(v, "form");
		if (i == 0)
			v_leaf(v, "p", "error");
		v_open(v, "input");
		v_attr(v, "id", "email");
		v_focus(v);
		v_close(v);
		v_leaf(v, "button", "go");
		v_close(v);
		UNIT_ASSERT_INT(fx_commit(&f), 0);
		/* Focus is asked once, when the node is new. */
		if (i == 0) {
			UNIT_ASSERT_CONTAINS(websim_log(f.sim), "focus ");
			UNIT_ASSERT_STR(websim_html(f.sim),
			    "<form><p>error</p><input id=\"email\"></input><button>go</button></form>");
		} else {
			UNIT_ASSERT_STR(websim_html(f.sim),
			    "<form><input id=\"email\"></input><button>go</button></form>");
			UNIT_ASSERT_STR(websim_log(f.sim), "");
		}
		websim_log_reset(f.sim);
	}
	fx_free(&f);
}

void
suite_vdom(void)
{
	CU_pSuite s = unit_suite("vdom", NULL, NULL);

	unit_test(s, "creates, patches in place, writes nothing for no change", test_vdom_create_patch);
	unit_test(s, "keyed children move, keep their nodes, go and come", test_vdom_keyed);
	unit_test(s, "300 random keyed lists end as rendered", test_vdom_keyed_random);
	unit_test(s, "unkeyed children in order; focus only for new nodes", test_vdom_unkeyed_and_focus);
}
