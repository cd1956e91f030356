/* handlers.h: one handler function per route, grouped by resource file. */
#ifndef SB_HANDLERS_H
#define SB_HANDLERS_H

#include "fcgi-app/fcgi-app.h"

/* health.c */
enum sb_err	 h_healthz(struct sb_req *);
enum sb_err	 h_readyz(struct sb_req *);
/* version.c */
enum sb_err	 h_version(struct sb_req *);
/* metrics.c */
enum sb_err	 h_metrics(struct sb_req *);
void		 metrics_render_app(FILE *, const struct app *);

#endif /* SB_HANDLERS_H */
