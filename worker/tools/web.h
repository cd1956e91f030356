/* web.h: a tool's HTTP request on the worker's curl multi handle, for http_fetch and
 * the operators' HTTP tools (http_tool.c): every connection guarded (core/netguard.c)
 * unless the org's allowlist or the request exempts the host, redirects followed here
 * hop by hop so that each new host is checked again, and the answer put as the model
 * reads it (HTML reduced to its text, text and JSON as they are, other types named). */
#ifndef SB_WORKER_TOOLS_WEB_H
#define SB_WORKER_TOOLS_WEB_H

#include <stddef.h>

struct curl_slist;
struct tool_call;

struct web_req {
	const char		*url;		/* http or https */
	const char		*label;		/* what messages to the model call it (a
					 * tool's name); NULL: the URL */
	const char		*body;		/* POST these bytes (NUL-terminated); NULL: GET */
	const char		*content_type;	/* of body; NULL: JSON if it parses, else text */
	const char		*accept;	/* NULL: what a browser reading pages asks */
	const struct curl_slist	*headers;	/* more request headers, or NULL: borrowed
					 * until the call ends (they may hold secrets:
					 * never shown) */
	size_t			 max_bytes;	/* of a body received */
	long			 timeout_ms;	/* of each hop */
	const char		*origin;	/* "scheme://host:port" (core/urltmpl.h): the
					 * only one a redirect may lead to; NULL: any */
	int			 origin_private;	/* origin's host is exempt from the guard */
	int			 head_url;	/* every answer starts "HTTP 200 from URL";
					 * else an error's alone, "HTTP 404" */
};

/* Starts the request of a call (its url and body are copied; headers, label and
 * origin borrowed); the call ends with tool_done() once it is answered or failed. */
void	 web_start(struct tool_call *, const struct web_req *);
/* Gives up the request in flight of a call: its transfer removed and freed. */
void	 web_cancel(struct tool_call *);

#endif /* SB_WORKER_TOOLS_WEB_H */
