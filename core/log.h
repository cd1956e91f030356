/* log.h: JSON log lines on stderr (journald reads them) and the access log line. */
#ifndef SB_CORE_LOG_H
#define SB_CORE_LOG_H

#include <stddef.h>

enum sb_log_level { SB_LOG_DEBUG, SB_LOG_INFO, SB_LOG_WARN, SB_LOG_ERROR };

/* One JSON object per line on stderr: ts, level, program, msg, request_id and
 * the fields given as a jansson pack format for an object ("{s:s, s:i}"). */
void	 log_init(const char *program, int level);
void	 log_set_request_id(const char *id);	/* copied; NULL clears */
void	 log_msg(enum sb_log_level, const char *msg, const char *fields_fmt, ...);
int	 log_level_parse(const char *);		/* -1 if unknown */
/* The access log line, formatted by hand: it is written once per request, and
 * building it through jansson cost a sixth of the throughput.  Bytes outside
 * printable ASCII in the strings are written as \u00XX. */
void	 log_access(const char *method, const char *route, const char *path, int status,
	    size_t bytes, double duration_ms);

#define log_debug(...)	log_msg(SB_LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(SB_LOG_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(SB_LOG_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(SB_LOG_ERROR, __VA_ARGS__)

#endif /* SB_CORE_LOG_H */
