/* ctl.h: switchboardctl's commands. */
#ifndef SB_CTL_H
#define SB_CTL_H

#include "core.h"

/* Each command returns the process exit status: 0 all is well, 1 failure, 2 usage. */
int	 cmd_migrate(const struct sb_config *, int argc, char *argv[]);
int	 cmd_check(const struct sb_config *, int argc, char *argv[]);

#endif /* SB_CTL_H */
