/* err.h: the one error enum of the code base and the one place it becomes an HTTP
 * status.  Nothing here allocates. */
#ifndef SB_CORE_ERR_H
#define SB_CORE_ERR_H

/* One error enum for the whole code base; 0 is success.  sb_err_status() is the
 * only place where an error becomes an HTTP status. */
enum sb_err {
	SB_OK = 0,
	SB_ERR_INVALID,		/* malformed input: 400 */
	SB_ERR_UNAUTHENTICATED,	/* no valid credentials: 401 */
	SB_ERR_FORBIDDEN,	/* authenticated, but not allowed: 403 */
	SB_ERR_RATE_LIMITED,	/* 429 with Retry-After */
	SB_ERR_NOT_FOUND,	/* 404 */
	SB_ERR_CONFLICT,	/* 409 */
	SB_ERR_TOO_LARGE,	/* 413 */
	SB_ERR_UNSUPPORTED,	/* 415 */
	SB_ERR_UNPROCESSABLE,	/* well-formed but refused: 422 */
	SB_ERR_UNAVAILABLE,	/* a dependency is down: 503 with Retry-After */
	SB_ERR_INTERNAL,	/* a bug or an unexpected failure: 500 */
	SB_ERR_CLIENT_GONE	/* the client left: not an error, nothing to answer */
};

int		 sb_err_status(enum sb_err);
const char	*sb_err_name(enum sb_err);

#endif /* SB_CORE_ERR_H */
