/* err.c: the one place where an error becomes an HTTP status. */
#include "config.h"
#include "core/err.h"

int
sb_err_status(enum sb_err e)
{
	switch (e) {
	case SB_OK:			return 200;
	case SB_ERR_INVALID:		return 400;
	case SB_ERR_UNAUTHENTICATED:	return 401;
	case SB_ERR_FORBIDDEN:		return 403;
	case SB_ERR_RATE_LIMITED:	return 429;
	case SB_ERR_NOT_FOUND:		return 404;
	case SB_ERR_CONFLICT:		return 409;
	case SB_ERR_TOO_LARGE:		return 413;
	case SB_ERR_UNSUPPORTED:	return 415;
	case SB_ERR_UNPROCESSABLE:	return 422;
	case SB_ERR_UNAVAILABLE:	return 503;
	case SB_ERR_CLIENT_GONE:	return 499;	/* logged only, never sent */
	case SB_ERR_INTERNAL:		break;
	}
	return 500;
}

const char *
sb_err_name(enum sb_err e)
{
	switch (e) {
	case SB_OK:			return "ok";
	case SB_ERR_INVALID:		return "invalid";
	case SB_ERR_UNAUTHENTICATED:	return "unauthenticated";
	case SB_ERR_FORBIDDEN:		return "forbidden";
	case SB_ERR_RATE_LIMITED:	return "rate_limited";
	case SB_ERR_NOT_FOUND:		return "not_found";
	case SB_ERR_CONFLICT:		return "conflict";
	case SB_ERR_TOO_LARGE:		return "too_large";
	case SB_ERR_UNSUPPORTED:	return "unsupported";
	case SB_ERR_UNPROCESSABLE:	return "unprocessable";
	case SB_ERR_UNAVAILABLE:	return "unavailable";
	case SB_ERR_CLIENT_GONE:	return "client_gone";
	case SB_ERR_INTERNAL:		break;
	}
	return "internal";
}
