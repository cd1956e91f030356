/* dispatch.h: a request from its params to its answer: body checks, routing,
 * access, the handler, the access log line and the metrics. */
#ifndef SB_FCGI_APP_DISPATCH_H
#define SB_FCGI_APP_DISPATCH_H

#include "fcgi-app/request.h"

void		 dispatch(struct sb_req *);
/* A problem answered outside any handler (the master's 408, switchboard-stream's
 * bounds), with the CORS headers and the access log line dispatch would give it. */
void		 answer_problem(struct sb_req *, int status, const char *slug,
		    const char *detail);

#endif /* SB_FCGI_APP_DISPATCH_H */
