/* builtin.c: the offline provider: a deterministic, clearly labelled demo answer at a
 * steady pace.  With tools it plans calls as a model would, from the input alone: an
 * agent with http_fetch fetches the first URL of the message, one with ask_human asks
 * a person when the message asks for one, and then it answers with what the call
 * gave, so the offline stack shows the whole agent loop. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "worker/worker.h"
#include "core/arena.h"
#include "core/json.h"

#define QUOTE_WORDS	40	/* words of the input quoted back */

struct builtin {
	char		*text;		/* the whole answer */
	size_t		 len;
	size_t		 pos;		/* bytes handed out so far */
	int64_t		 start_us;
	int64_t		 step_us;	/* between two tokens */
	int64_t		 tokens;	/* handed out so far */
	int64_t		 prompt_tokens;
	json_t		*calls;		/* the tool calls planned with the text, or NULL */
};

static int64_t
count_words(const char *s)
{
	int64_t	 n = 0;
	int	 in = 0;

	for (; *s != '\0'; s++) {
		if (isspace((unsigned char)*s))
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	return n;
}

/* The first sentence of s (up to max bytes), into a new string. */
static char *
first_sentence(const char *s, size_t max)
{
	size_t	 n = 0;
	char	*out;

	while (s[n] != '\0' && n < max && !(s[n] == '.' && (s[n + 1] == ' ' || s[n + 1] == '\0')))
		n++;
	n = utf8_prefix(s, n);		/* never half a character */
	out = sb_malloc(n + 1);
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

static int
role_is(json_t *m, const char *role)
{
	const char *r = json_string_value(json_object_get(m, "role"));

	return r != NULL && strcmp(r, role) == 0;
}

/* The tool of that name the request offers ({"name", "description", "parameters"}),
 * or NULL. */
static json_t *
offered(const struct llm_request *q, const char *tool)
{
	json_t	*t;
	size_t	 i;

	json_array_foreach(q->tools, i, t)
		if (strcmp(json_string_value(json_object_get(t, "name")), tool) == 0)
			return t;
	return NULL;
}

/* The first http(s) URL of s (up to a space or a quote), malloc'd, or NULL. */
static char *
first_url(const char *s)
{
	const char	*p = strstr(s, "http://"), *q = strstr(s, "https://");
	size_t		 n = 0;
	char		*out;

	if (p == NULL || (q != NULL && q < p))
		p = q;
	if (p == NULL)
		return NULL;
	while (p[n] != '\0' && !isspace((unsigned char)p[n]) && p[n] != '"' && p[n] != '\'' &&
	    p[n] != '<' && p[n] != '>' && n < 2048)
		n++;
	out = sb_malloc(n + 1);
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

/* Does the text ask for a person?  A few words a user would say. */
static int
asks_for_person(const char *s)
{
	static const char *const words[] = { "a person", "a human", "someone", "a manager",
	    "real agent", "speak to", "talk to" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(s, words[i]) != NULL)
			return 1;
	return 0;
}

/* Where a router (an agent with handoff) sends the message, from the agents it may
 * name: a URL to web-reader, a support matter or a request for a person to
 * support-triage, anything else to kb-answerer, else the first it may name.  NULL: no
 * handoff offered, or nowhere to send it. */
static const char *
route(const struct llm_request *q, const char *input)
{
	static const char *const support[] = { "refund", "invoice", "bill", "charge",
	    "payment", "account", "password", "log in", "login", "bug", "error", "crash",
	    "broken", "outage", "a person", "a human", "someone" };
	const char	*to = NULL;
	json_t		*t, *list;
	size_t		 i;

	list = json_object_get(json_object_get(json_object_get(json_object_get(offered(q,
	    "handoff"), "parameters"), "properties"), "agent"), "enum");
	if (json_array_size(list) == 0)
		return NULL;
	if (strstr(input, "http://") != NULL || strstr(input, "https://") != NULL)
		to = "web-reader";
	for (i = 0; to == NULL && i < sizeof(support) / sizeof(support[0]); i++)
		if (strcasestr(input, support[i]) != NULL)
			to = "support-triage";
	if (to == NULL)
		to = "kb-answerer";
	json_array_foreach(list, i, t)
		if (strcmp(json_string_value(t), to) == 0)
			return json_string_value(t);
	return json_string_value(json_array_get(list, 0));
}

/* One call of tool with these arguments (stolen), as the model's turn has it. */
static json_t *
one_call(const struct llm_request *q, const char *tool, json_t *args)
{
	char	 id[32], *text = json_dumps(args, JSON_COMPACT);
	json_t	*calls;

	/* The model's call ids: "builtin_" and the message count, which differs from
	 * one turn of a conversation to the next. */
	snprintf(id, sizeof(id), "builtin_%zu", json_array_size(q->messages));
	calls = json_pack("[{s:s, s:s, s:s}]", "id", id, "name", tool, "arguments", text);
	free(text);
	json_decref(args);
	return calls;
}

/* The message as a search's query: its first 480 bytes (a whole character). */
static json_t *
query_text(const char *s)
{
	size_t n = strlen(s);

	return json_text(s, n > 480 ? utf8_prefix(s, 480) : n);
}

/* What the user asks to be remembered: the words after "remember" (and a "that" or
 * a colon), malloc'd, or NULL when the message asks for nothing to be remembered. */
static char *
to_remember(const char *s)
{
	const char *p = strcasestr(s, "remember");

	if (p == NULL)
		return NULL;
	p += strlen("remember");
	while (*p == ' ' || *p == ':' || *p == ',')
		p++;
	if (strncasecmp(p, "that ", 5) == 0)
		p += 5;
	return *p != '\0' ? first_sentence(p, 1000) : NULL;
}

/* The plan of a turn with tools, when there is one: the text said with the calls
 * (malloc'd) and the calls.  A router hands over (route); an agent with http_fetch
 * fetches the message's first URL; one with ask_human asks a person when the
 * message asks for one; one with memory_save keeps what it is asked to remember, one
 * with memory_search looks first for what it was told before; one with kb_search
 * searches the knowledge base with the message. */
static char *
plan_calls(const struct llm_request *q, json_t *last, const char *input, json_t **calls)
{
	char		*url, *text, *fact;
	const char	*to;
	size_t		 n;

	*calls = NULL;
	if (!role_is(last, "user"))
		return NULL;
	if ((to = route(q, input)) != NULL) {
		*calls = one_call(q, "handoff", json_pack("{s:s, s:s}", "agent", to, "reason",
		    "the offline router sends it by the words of the message"));
		n = strlen(to) + 64;
		text = sb_malloc(n);
		snprintf(text, n, "This is one for %s: handing it over.", to);
		return text;
	}
	if (offered(q, "http_fetch") && (url = first_url(input)) != NULL) {
		*calls = one_call(q, "http_fetch", json_pack("{s:s}", "url", url));
		n = strlen(url) + 64;
		text = sb_malloc(n);
		snprintf(text, n, "Let me fetch %s first.", url);
		free(url);
		return text;
	}
	if (offered(q, "memory_save") && (fact = to_remember(input)) != NULL) {
		*calls = one_call(q, "memory_save", json_pack("{s:s}", "content", fact));
		free(fact);
		return sb_strdup("I will keep that in mind.");
	}
	if (offered(q, "memory_search")) {
		*calls = one_call(q, "memory_search", json_pack("{s:o}", "query",
		    query_text(input)));
		return sb_strdup("Let me recall what you told me before.");
	}
	if (offered(q, "kb_search")) {
		*calls = one_call(q, "kb_search", json_pack("{s:o}", "query",
		    query_text(input)));
		return sb_strdup("Let me search the knowledge base.");
	}
	if (offered(q, "ask_human") && asks_for_person(input)) {
		n = strlen(input) + 64;
		text = sb_malloc(n);
		snprintf(text, n, "The user asks for a person: %s", input);
		*calls = one_call(q, "ask_human", json_pack("{s:s}", "question", text));
		free(text);
		return sb_strdup("I am asking a person for you; the answer will follow here.");
	}
	return NULL;
}

#define OFFLINE	"[Offline demo answer from the builtin model: no language model was called.] "

/* A passage without the headings it starts with (a Markdown chunk carries its
 * section's). */
static const char *
body_of(const char *p)
{
	while (*p == '#' || *p == '\n' || *p == ' ') {
		if (*p == '#')
			while (*p != '\0' && *p != '\n')
				p++;
		else
			p++;
	}
	return p;
}

/* The string member key of o, or "" when it is none. */
static const char *
sval(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL ? v : "";
}

/* Does a result before the n-th of list come from the same document? */
static int
cited_before(const json_t *list, size_t n)
{
	const char	*id = sval(json_array_get(list, n), "document_id");
	size_t		 i;

	for (i = 0; i < n; i++)
		if (strcmp(sval(json_array_get(list, i), "document_id"), id) == 0)
			return 1;
	return 0;
}

/* The answer from a search's result (the tool message last): the knowledge base's
 * best passage quoted and cited as [doc:ID], the other documents' titles named, each
 * once; what memory recalled; what it kept.  malloc'd, or NULL for the general
 * answer. */

static char *
answer_from(json_t *last)
{
	const char	*name = json_string_value(json_object_get(last, "name"));
	json_t		*res, *list, *m;
	struct sb_buf	 b = { 0 };
	char		*quote;
	size_t		 i, j, others = 0;

	if (name == NULL || (strcmp(name, "kb_search") != 0 && strcmp(name, "memory_search") != 0 &&
	    strcmp(name, "memory_save") != 0))
		return NULL;
	res = json_loads(sval(last, "content"), 0, NULL);
	if (res == NULL)
		return NULL;	/* an error result: the general answer says so */
	buf_puts(&b, OFFLINE);
	if (strcmp(name, "memory_save") == 0)
		buf_puts(&b, "Noted: I will remember that in our later conversations.");
	else if (strcmp(name, "memory_search") == 0) {
		list = json_object_get(res, "memories");
		if (json_array_size(list) == 0)
			buf_puts(&b, "I have nothing saved about that yet; tell me and I will "
			    "remember it.");
		else
			buf_puts(&b, "You told me before:");
		json_array_foreach(list, i, m)
			buf_printf(&b, "%s \"%s\"", i > 0 ? ";" : "",
			    sval(m, "content"));
		if (json_array_size(list) > 0)
			buf_puts(&b, ".");
	} else {
		list = json_object_get(res, "results");
		if (json_array_size(list) == 0)
			buf_printf(&b, "The knowledge base has no document about \"%s\"; I will "
			    "not guess. A document on it would let me answer.",
			    sval(res, "query"));
		json_array_foreach(list, i, m) {
			if (i == 0) {
				quote = first_sentence(body_of(sval(m, "passage")), 400);
				for (j = 0; quote[j] != '\0'; j++)
					if (quote[j] == '\n' || quote[j] == '\r' || quote[j] == '\t')
						quote[j] = ' ';
				buf_printf(&b, "From \"%s\": \"%s.\" [doc:%s]",
				    sval(m, "title"), quote,
				    sval(m, "document_id"));
				free(quote);
			} else if (!cited_before(list, i))
				buf_printf(&b, "%s \"%s\" [doc:%s]", others++ == 0 ? " See also" : ",",
				    sval(m, "title"),
				    sval(m, "document_id"));
		}
		if (others > 0)
			buf_puts(&b, ".");
	}
	json_decref(res);
	return buf_steal(&b, NULL);
}

struct builtin *
builtin_new(const char *agent_name, const struct llm_request *q, int tokens_per_s, int64_t now)
{
	struct builtin	*b = sb_calloc(1, sizeof(*b));
	const char	*input = "";
	json_t		*last;
	char		*quote, *role, *planned, earlier[96] = "";
	size_t		 qn = 0, i, cap, before = json_array_size(q->messages);
	int		 words = 0, in = 0;
	int64_t		 nwords, seen = 0;
	json_t		*m;

	last = json_array_get(q->messages, json_array_size(q->messages) - 1);
	/* Handed over: the new agent answers the user's message, not the handover. */
	if (role_is(last, "tool") && strcmp(json_string_value(json_object_get(last, "name")),
	    "handoff") == 0)
		for (i = json_array_size(q->messages); i > 0; i--)
			if (role_is(json_array_get(q->messages, i - 1), "user")) {
				last = json_array_get(q->messages, i - 1);
				break;
			}
	if (json_is_string(json_object_get(last, "content")))
		input = json_string_value(json_object_get(last, "content"));
	nwords = count_words(input);
	/* The input's first words, spaces folded. */
	quote = sb_malloc(strlen(input) + 4);
	for (i = 0; input[i] != '\0'; i++) {
		if (isspace((unsigned char)input[i])) {
			in = 0;
			continue;
		}
		if (!in) {
			if (words == QUOTE_WORDS)
				break;
			if (words > 0)
				quote[qn++] = ' ';
			words++;
			in = 1;
		}
		quote[qn++] = input[i];
	}
	quote[qn] = '\0';
	if (nwords > QUOTE_WORDS) {
		memcpy(quote + qn, "...", 4);
		qn += 3;
	}
	role = first_sentence(q->system, 300);
	/* A thread's earlier turns came before the message: said, and counted as a
	 * model counts every message it is sent. */
	if (before > 1)
		snprintf(earlier, sizeof(earlier), "It had the %zu earlier message%s of this "
		    "conversation in view. ", before - 1, before == 2 ? "" : "s");
	json_array_foreach(q->messages, i, m)
		if (json_is_string(json_object_get(m, "content")))
			seen += count_words(json_string_value(json_object_get(m, "content")));
	cap = strlen(agent_name) + qn + strlen(role) + 1024;
	b->text = sb_malloc(cap);
	if (role_is(last, "tool"))
		b->len = (size_t)snprintf(b->text, cap,
		    OFFLINE
		    "%s called %s, which answered with %lld word%s, beginning: \"%s\". "
		    "Connected to a real provider, this agent would now answer from it.",
		    agent_name, json_string_value(json_object_get(last, "name")),
		    (long long)nwords, nwords == 1 ? "" : "s", quote);
	else
		b->len = (size_t)snprintf(b->text, cap,
		    OFFLINE
		    "%s received %lld word%s: \"%s\". %s%s%s%s"
		    "Connected to a real provider, this agent would now answer in full. To "
		    "connect one, give the agent the provider openai or anthropic and a model, "
		    "and put the provider's key in the [llm] section of switchboard.conf.",
		    agent_name, (long long)nwords, nwords == 1 ? "" : "s", quote,
		    role[0] != '\0' ? "Its instructions begin: \"" : "", role,
		    role[0] != '\0' ? ".\" " : "", earlier);
	if (b->len >= cap)
		b->len = cap - 1;
	if (role_is(last, "tool") && (planned = answer_from(last)) != NULL) {
		free(b->text);
		b->text = planned;
		b->len = strlen(planned);
	}
	if ((planned = plan_calls(q, last, input, &b->calls)) != NULL) {
		free(b->text);		/* calls planned: what is said with them instead */
		b->text = planned;
		b->len = strlen(planned);
	}
	b->prompt_tokens = seen + count_words(q->system);
	b->start_us = now;
	b->step_us = 1000000 / (tokens_per_s > 0 ? tokens_per_s : 1);
	if (q->max_tokens > 0) {
		/* max_tokens cuts the answer after that many words, like a model would. */
		int64_t n = 0;

		for (i = 0; i < b->len; i++)
			if (b->text[i] == ' ' && ++n == q->max_tokens) {
				b->len = i;
				b->text[i] = '\0';
				break;
			}
	}
	free(quote);
	free(role);
	return b;
}

int
builtin_step(struct builtin *b, int64_t now, llm_text_fn *fn, void *arg, int64_t *next_us)
{
	size_t end;

	/* Every token due by now: a word with the space before it. */
	while (b->pos < b->len && b->start_us + b->tokens * b->step_us <= now) {
		end = b->pos;
		while (end < b->len && b->text[end] == ' ')
			end++;
		while (end < b->len && b->text[end] != ' ')
			end++;
		fn(arg, b->text + b->pos, end - b->pos);
		b->pos = end;
		b->tokens++;
	}
	*next_us = b->start_us + b->tokens * b->step_us;
	return b->pos >= b->len;
}

void
builtin_usage(const struct builtin *b, struct llm_usage *u)
{
	u->prompt_tokens += b->prompt_tokens;
	u->completion_tokens += b->tokens;
}

json_t *
builtin_calls(const struct builtin *b)
{
	return b->calls;
}

void
builtin_free(struct builtin *b)
{
	json_decref(b->calls);
	free(b->text);
	free(b);
}
