/* handlers.h: one handler function per route, grouped by resource file. */
#ifndef SB_HANDLERS_H
#define SB_HANDLERS_H

#include "fcgi-app/fcgi-app.h"

/* health.c */
enum sb_err	 h_healthz(struct sb_req *);
enum sb_err	 h_readyz(struct sb_req *);
/* auth.c */
enum sb_err	 h_login(struct sb_req *);
enum sb_err	 h_logout(struct sb_req *);
enum sb_err	 h_logout_all(struct sb_req *);
enum sb_err	 h_me(struct sb_req *);
/* keys.c */
enum sb_err	 h_keys_list(struct sb_req *);
enum sb_err	 h_keys_create(struct sb_req *);
enum sb_err	 h_keys_revoke(struct sb_req *);
/* audit.c */
enum sb_err	 h_audit_list(struct sb_req *);
/* version.c */
enum sb_err	 h_version(struct sb_req *);
/* metrics.c */
enum sb_err	 h_metrics(struct sb_req *);
void		 metrics_render_app(FILE *, const struct app *);

#endif /* SB_HANDLERS_H */
