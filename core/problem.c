/* problem.c: RFC 9457 problem details. */
#include "config.h"

#include <string.h>
#include <jansson.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/problem.h"

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	switch (status / 100) {
	case 1: return "Informational";
	case 2: return "Success";
	case 3: return "Redirection";
	case 4: return "Client Error";
	}
	return "Server Error";
}

json_t *
problem_new(int status, const char *slug, const char *title, const char *detail)
{
	json_t *p = json_object();

	if (p == NULL)
		sb_oom(0);
	/* Types are relative references documented in docs/api.md#problems. */
	if (slug != NULL)
		json_object_set_new(p, "type", json_sprintf("/problems/%s", slug));
	else
		json_object_set_new(p, "type", json_string("about:blank"));
	json_object_set_new(p, "title", json_string(title != NULL ? title : http_reason(status)));
	json_object_set_new(p, "status", json_integer(status));
	if (detail != NULL)
		json_object_set_new(p, "detail", json_text(detail, strlen(detail)));
	return p;
}
