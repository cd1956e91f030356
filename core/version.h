/* version.h: what build this is. */
#ifndef SB_CORE_VERSION_H
#define SB_CORE_VERSION_H

const char	*sb_version(void);
const char	*sb_git_commit(void);
const char	*sb_build_time(void);

#endif /* SB_CORE_VERSION_H */
