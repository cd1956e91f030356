/* log.c: one JSON object per line on stderr, for journald. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/log.h"

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

/* Appends s to buf as the inside of a JSON string; returns the new length.
 * Stops early (never overflowing) when buf is full. */
static size_t
json_escape(char *buf, size_t len, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c;

	for (; *s != '\0' && len + 6 < cap; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[len++] = '\\';
			buf[len++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			memcpy(buf + len, "\\u00", 4);
			buf[len + 4] = hex[c >> 4];
			buf[len + 5] = hex[c & 15];
			len += 6;
		} else
			buf[len++] = (char)c;
	}
	return len;
}

void
log_access(const char *method, const char *route, const char *path, int status, size_t bytes,
    double duration_ms)
{
	char	 line[4096], ts[32];
	size_t	 n;

	if (SB_LOG_INFO < log_threshold)
		return;
	clock_iso8601(ts);
	n = (size_t)snprintf(line, sizeof(line),
	    "{\"ts\":\"%s\",\"level\":\"info\",\"program\":\"", ts);
	n = json_escape(line, n, sizeof(line), log_program);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"msg\":\"request\"");
	if (log_request_id[0] != '\0') {
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"request_id\":\"");
		n = json_escape(line, n, sizeof(line), log_request_id);
		line[n++] = '"';
	}
	n += (size_t)snprintf(line + n, sizeof(line) - n, ",\"method\":\"");
	n = json_escape(line, n, sizeof(line) - 1024, method);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"route\":\"");
	n = json_escape(line, n, sizeof(line) - 768, route);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"path\":\"");
	/* A path is cut rather than the line: the rest of the fields must fit. */
	n = json_escape(line, n, sizeof(line) - 512, path);
	n += (size_t)snprintf(line + n, sizeof(line) - n,
	    "\",\"status\":%d,\"bytes\":%zu,\"duration_ms\":%.3f}\n", status, bytes, duration_ms);
	(void)!write(STDERR_FILENO, line, n < sizeof(line) ? n : sizeof(line));
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
