/* builtin.c: the offline provider: a deterministic, clearly labelled demo answer at a steady pace. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
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

struct builtin *
builtin_new(const char *agent_name, const struct llm_request *q, int tokens_per_s, int64_t now)
{
	struct builtin	*b = sb_calloc(1, sizeof(*b));
	const char	*input = "";
	json_t		*last;
	char		*quote, *role, earlier[96] = "";
	size_t		 qn = 0, i, cap, before = json_array_size(q->messages);
	int		 words = 0, in = 0;
	int64_t		 nwords, seen = 0;
	json_t		*m;

	last = json_array_get(q->messages, json_array_size(q->messages) - 1);
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
	b->len = (size_t)snprintf(b->text, cap,
	    "[Offline demo answer from the builtin model: no language model was called.] "
	    "%s received %lld word%s: \"%s\". %s%s%s%s"
	    "Connected to a real provider, this agent would now answer in full. To connect "
	    "one, give the agent the provider openai or anthropic and a model, and put the "
	    "provider's key in the [llm] section of switchboard.conf.",
	    agent_name, (long long)nwords, nwords == 1 ? "" : "s", quote,
	    role[0] != '\0' ? "Its instructions begin: \"" : "", role,
	    role[0] != '\0' ? ".\" " : "", earlier);
	if (b->len >= cap)
		b->len = cap - 1;
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

void
builtin_free(struct builtin *b)
{
	free(b->text);
	free(b);
}
