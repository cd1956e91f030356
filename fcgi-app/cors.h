/* cors.h: CORS: the headers for allowed origins and the preflight answer. */
#ifndef SB_FCGI_APP_CORS_H
#define SB_FCGI_APP_CORS_H

#include "fcgi-app/request.h"

/* Adds the CORS headers when the request's Origin is allowed (returns 1);
 * answers an OPTIONS preflight (403 for an origin not allowed). */
int		 cors_apply(struct sb_req *);
void		 cors_preflight(struct sb_req *);

#endif /* SB_FCGI_APP_CORS_H */
