/* log.c: one JSON object per line on stderr, for journald. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

static const char	*log_program = "switchboard";
static int		 log_threshold = SB_LOG_INFO;
static char		 log_request_id[80];

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
log_init(const char *program, int level)
{
	log_program = program;
	log_threshold = level;
}

void
log_set_request_id(const char *id)
{
	if (id == NULL)
		log_request_id[0] = '\0';
	else
		snprintf(log_request_id, sizeof(log_request_id), "%s", id);
}

int
log_level_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void
log_msg(enum sb_log_level level, const char *msg, const char *fields_fmt, ...)
{
	json_t		*o, *fields;
	json_error_t	 jerr;
	va_list		 ap;
	char		 ts[32], *line;
	size_t		 len;

	if ((int)level < log_threshold)
		return;
	clock_iso8601(ts);
	o = json_pack("{s:s, s:s, s:s, s:s}", "ts", ts, "level", level_names[level],
	    "program", log_program, "msg", msg);
	if (o == NULL)
		sb_oom(0);
	if (log_request_id[0] != '\0')
		json_object_set_new(o, "request_id", json_string(log_request_id));
	if (fields_fmt != NULL) {
		va_start(ap, fields_fmt);
		fields = json_vpack_ex(&jerr, 0, fields_fmt, ap);
		va_end(ap);
		if (fields != NULL)
			json_object_update(o, fields);
		else
			json_object_set_new(o, "log_error", json_string(jerr.text));
		json_decref(fields);
	}
	line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (line == NULL)
		sb_oom(0);
	/* One write(2) per line keeps lines whole when processes share stderr. */
	len = strlen(line);
	line[len] = '\n';
	(void)!write(STDERR_FILENO, line, len + 1);
	free(line);
}
