/* tools.c: the declarations of the tools an agent may name (tools.h). */
#include "config.h"

#include <string.h>

#include "core/arena.h"
#include "core/tooldef.h"
#include "core/tools.h"

const struct tool_decl tool_decls[] = {
	{ "http_fetch",
	  "Fetch a web page or an HTTP API over http or https and return its text (HTML is "
	  "reduced to the readable text; the answer is cut at a size limit). Use it to read "
	  "a URL the user gave or one you know.",
	  "{\"type\": \"object\", \"properties\": {"
	  "\"url\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 2048, "
	  "\"description\": \"The http or https URL to fetch\"}, "
	  "\"method\": {\"type\": \"string\", \"enum\": [\"GET\", \"POST\"], "
	  "\"description\": \"GET (the default); POST only if the agent allows it\"}, "
	  "\"body\": {\"type\": \"string\", \"maxLength\": 65536, "
	  "\"description\": \"The body of a POST, sent as application/json if it parses "
	  "as JSON, else as text/plain\"}}, "
	  "\"required\": [\"url\"], \"additionalProperties\": false}",
	  /* A GET is: a POST is refused unless the agent allows it, and then it is run
	   * again only if the agent says so too (worker/tools/http_fetch.c). */
	  1, 0 },
	{ "ask_human",
	  "Ask a person a question and wait for the answer: the run pauses (for minutes or "
	  "hours, without holding anything) until someone answers in the inbox. Use it when "
	  "the user asks for a person, when a decision is not yours to make, or when you need "
	  "facts only a person has. The answer comes back as this call's result.",
	  "{\"type\": \"object\", \"properties\": {"
	  "\"question\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 4000, "
	  "\"description\": \"The question, complete enough to answer without reading the "
	  "conversation\"}}, \"required\": [\"question\"], \"additionalProperties\": false}",
	  /* Asking again, when the worker died before the question was written, is
	   * harmless. */
	  1, 0 },
	{ "handoff",
	  "Hand the conversation over to another agent, better suited to it: the run goes on "
	  "as that agent, with its instructions and tools, and it answers the user. Say why "
	  "in reason.",
	  "{\"type\": \"object\", \"properties\": {"
	  "\"agent\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 63, "
	  "\"description\": \"The agent to hand over to\"}, "
	  "\"reason\": {\"type\": \"string\", \"maxLength\": 1000, "
	  "\"description\": \"Why that agent, in a sentence\"}}, "
	  "\"required\": [\"agent\"], \"additionalProperties\": false}",
	  1, 0 },
	{ "kb_search",
	  "Search the organisation's knowledge base (its documents) and return the passages "
	  "that best match, best first, each with its document's id and title. Search before "
	  "answering a question the documents may cover, answer from the passages, and cite "
	  "each one you use as [doc:DOCUMENT_ID]. Use the words the documents would use.",
	  "{\"type\": \"object\", \"properties\": {"
	  "\"query\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 500, "
	  "\"description\": \"What to look for, in a few key words\"}, "
	  "\"limit\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 10, "
	  "\"description\": \"How many passages at most (default 5)\"}}, "
	  "\"required\": [\"query\"], \"additionalProperties\": false}",
	  1, 0 },
	{ "memory_save",
	  "Remember a fact for later conversations with this user (or in this thread, as the "
	  "agent is set up): a preference, a name, a decision. One short, self-contained "
	  "sentence per fact; saving the same fact again is harmless.",
	  "{\"type\": \"object\", \"properties\": {"
	  "\"content\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 2000, "
	  "\"description\": \"The fact, in a sentence that makes sense on its own\"}}, "
	  "\"required\": [\"content\"], \"additionalProperties\": false}",
	  /* The same fact saved twice is one memory (sql/020_memory.sql). */
	  1, 0 },
	{ "memory_search",
	  "Recall facts saved earlier with memory_save for this user (or thread): the ones "
	  "sharing a word with the query, best first; with an empty query, the newest. Look "
	  "before answering anything that may depend on what the user told you before.",
	  "{\"type\": \"object\", \"properties\": {"
	  "\"query\": {\"type\": \"string\", \"maxLength\": 500, "
	  "\"description\": \"Words of what to recall; empty for the newest facts\"}, "
	  "\"limit\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 20, "
	  "\"description\": \"How many facts at most (default 5)\"}}, "
	  "\"required\": [\"query\"], \"additionalProperties\": false}",
	  1, 0 },
};

const size_t ntool_decls = sizeof(tool_decls) / sizeof(tool_decls[0]);

/* Parsed schemas, by index: read-only once made; the programs are single-threaded. */
static json_t *schemas[sizeof(tool_decls) / sizeof(tool_decls[0])];

/* The operator's tools (core/tooldef.c), or NULL. */
static struct tooldefs *configured;

void
tool_decls_configure(struct tooldefs *set)
{
	tooldefs_free(configured);
	configured = set;
}

const struct tool_decl *
tool_decl_find(const char *name)
{
	const struct tooldef	*def;
	size_t			 i;

	for (i = 0; i < ntool_decls; i++)
		if (strcmp(tool_decls[i].name, name) == 0)
			return &tool_decls[i];
	return (def = tooldefs_find(configured, name)) != NULL ? &def->decl : NULL;
}

const struct tooldef *
tool_decl_def(const struct tool_decl *d)
{
	const struct tooldef *def = tooldefs_find(configured, d->name);

	return def != NULL && &def->decl == d ? def : NULL;
}

json_t *
tool_decl_schema(const struct tool_decl *d)
{
	const struct tooldef	*def;
	size_t			 i;

	if ((def = tool_decl_def(d)) != NULL)
		return def->schema;	/* parsed when it was loaded */
	i = (size_t)(d - tool_decls);
	if (schemas[i] == NULL && (schemas[i] = json_loads(d->schema, 0, NULL)) == NULL)
		sb_oom(0);	/* the schemas are ours and well formed (tests/unit/test_tools.c) */
	return schemas[i];
}

json_t *
tool_decls_offer(const json_t *names)
{
	const struct tool_decl	*d;
	json_t			*out = NULL, *v;
	size_t			 i;

	json_array_foreach(names, i, v) {
		if (!json_is_string(v) || (d = tool_decl_find(json_string_value(v))) == NULL)
			continue;
		if (out == NULL)
			out = json_array();
		/* A copy: the caller may fit it to an agent (worker/tools/). */
		json_array_append_new(out, json_pack("{s:s, s:s, s:o}", "name", d->name,
		    "description", d->description, "parameters",
		    json_deep_copy(tool_decl_schema(d))));
	}
	return out;
}
