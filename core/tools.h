/* tools.h: the tools an agent may name: what the API validates agents against and what
 * the worker offers a model.  Each tool's code is worker/tools/NAME.c. */
#ifndef SB_CORE_TOOLS_H
#define SB_CORE_TOOLS_H

#include <stddef.h>

#include <jansson.h>

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

/* The tool of that name, or NULL. */
const struct tool_decl	*tool_decl_find(const char *name);
/* Its schema as JSON (the tool's own reference: do not decref).  Parsed once. */
json_t			*tool_decl_schema(const struct tool_decl *);
/* What a request to a model offers for the tool names in names (a JSON array of
 * strings; unknown names are skipped): [{"name", "description", "parameters"}], or
 * NULL when there are none.  A new reference, which shares nothing with the
 * declarations. */
json_t			*tool_decls_offer(const json_t *names);

#endif /* SB_CORE_TOOLS_H */
