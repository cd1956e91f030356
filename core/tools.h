/* tools.h: the tools an agent may name: what the API validates agents against and what
 * the worker offers a model.  Each built-in tool's code is worker/tools/NAME.c; the
 * HTTP tools an operator defines in configuration (core/tooldef.h) join them at start
 * and all run as worker/tools/http_tool.c. */
#ifndef SB_CORE_TOOLS_H
#define SB_CORE_TOOLS_H

#include <stddef.h>

#include <jansson.h>

struct tooldef;
struct tooldefs;

/* What a model is told of a tool, and what the loop must know of it. */
struct tool_decl {
	const char	*name;		/* [a-z_], as models and agents name it */
	const char	*description;	/* for the model */
	const char	*schema;	/* JSON Schema of its arguments (core/schema.c) */
	int		 idempotent;	/* running it twice is harmless: a call that was in
					 * flight when its worker died runs again; otherwise
					 * the model is told its outcome is unknown */
	int		 needs_approval;	/* a person approves each call first */
};

extern const struct tool_decl	 tool_decls[];
extern const size_t		 ntool_decls;

/* The configured tools join the built-in ones: core/tools.c owns set from here on and
 * frees it at the next call (NULL: none again, the programs' last call).  Their
 * declarations stay valid until then. */
void			 tool_decls_configure(struct tooldefs *set);
/* The tool of that name, built in or configured, or NULL. */
const struct tool_decl	*tool_decl_find(const char *name);
/* The definition of a configured tool's declaration; NULL for a built-in one. */
const struct tooldef	*tool_decl_def(const struct tool_decl *);
/* Its schema as JSON (the tool's own reference: do not decref).  Parsed once. */
json_t			*tool_decl_schema(const struct tool_decl *);
/* What a request to a model offers for the tool names in names (a JSON array of
 * strings; unknown names are skipped): [{"name", "description", "parameters"}], or
 * NULL when there are none.  A new reference, which shares nothing with the
 * declarations. */
json_t			*tool_decls_offer(const json_t *names);

#endif /* SB_CORE_TOOLS_H */
