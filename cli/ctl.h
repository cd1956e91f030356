/* ctl.h: switchboardctl's commands. */
#ifndef SB_CTL_H
#define SB_CTL_H

#include <dirent.h>
#include "core/conf.h"
#include "core/db.h"

/* Each command returns the process exit status: 0 all is well, 1 failure, 2 usage. */
int	 cmd_migrate(const struct sb_config *, int argc, char *argv[]);
int	 cmd_check(const struct sb_config *, int argc, char *argv[]);
int	 cmd_org(const struct sb_config *, int argc, char *argv[]);
int	 cmd_user(const struct sb_config *, int argc, char *argv[]);
int	 cmd_key(const struct sb_config *, int argc, char *argv[]);
int	 cmd_agents(const struct sb_config *, int argc, char *argv[]);
int	 cmd_kb(const struct sb_config *, int argc, char *argv[]);

/* common.c: the identity commands' shared pieces. */
/* Connects as the schema owner (database.migrate_url); -1 with the reason printed. */
int		 ctl_connect(const struct sb_config *, struct sb_db *);
/* Runs sql; NULL with the database's message printed. */
PGresult	*ctl_query(struct sb_db *, const char *sql, int n, const char *const *params);
/* The id of the org with this slug; -1 (printed) if none. */
int64_t		 ctl_org_id(struct sb_db *, const char *slug);
/* An audit line by 'system'; details is a JSON object's text or NULL. */
void		 ctl_audit(struct sb_db *, int64_t org_id, const char *action, const char *target,
		    const char *details);
/* scandir()'s order for the files of a directory: by name, byte by byte. */
int		 ctl_by_name(const struct dirent **, const struct dirent **);
/* Drops a cache entry so every worker sees a revocation now. */
void		 ctl_forget(const struct sb_config *, const char *ns, const char *id);

#endif /* SB_CTL_H */
