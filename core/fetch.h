/* fetch.h: one bounded HTTP request over libcurl (GET, or POST with a body), for
 * everything Switchboard fetches from a URL it was given: JWKS, OpenID Connect
 * discovery and tokens, and the pages an agent's tool fetches.
 *
 * Every bound is set per call (struct fetch_opts) and there is no state between calls
 * but libcurl's own (curl_global_init, done by each program's main): only http and
 * https, redirects only when asked for and then only to http(s), a total and a connect
 * timeout, and a most body size that is enforced while receiving, so a larger answer
 * is refused without being held.  A guarded call (a URL someone else chose) connects
 * only to public addresses (core/netguard.h).  The result (struct fetch_result) owns
 * its body, content type and location until fetch_result_free(). */
#ifndef SB_FETCH_H
#define SB_FETCH_H

#include <sys/socket.h>

#include <stddef.h>

struct curl_slist;

#define FETCH_DEFAULT_MAX_BYTES		(1024 * 1024)
#define FETCH_DEFAULT_TIMEOUT_MS	5000
#define FETCH_DEFAULT_CONNECT_MS	3000

/* Which bound was hit, or what else went wrong.  A status of 4xx or 5xx is not an
 * error: it is FETCH_OK with the status in the result. */
enum fetch_err {
	FETCH_OK = 0,
	FETCH_ERR_URL,		/* not a URL libcurl can parse */
	FETCH_ERR_PROTOCOL,	/* a scheme other than http or https, redirects included */
	FETCH_ERR_CONNECT,	/* the name did not resolve or the connection failed */
	FETCH_ERR_TIMEOUT,	/* the connect or the total timeout passed */
	FETCH_ERR_TOO_LARGE,	/* the body is (or was announced) over max_bytes */
	FETCH_ERR_REDIRECTS,	/* more redirects than max_redirects */
	FETCH_ERR_TRANSFER,	/* anything else: TLS, a reset, a malformed answer */
	FETCH_ERR_FORBIDDEN	/* guarded, and the guard refused every address */
};

struct fetch_opts {
	const char	*body;		/* NULL: GET; otherwise POST these body_len bytes */
	size_t		 body_len;
	const char	*content_type;	/* of body; NULL: libcurl's form default */
	const char	*accept;	/* the Accept header; NULL: none */
	size_t		 max_bytes;	/* 0: FETCH_DEFAULT_MAX_BYTES */
	long		 timeout_ms;	/* the whole request; 0: FETCH_DEFAULT_TIMEOUT_MS */
	long		 connect_timeout_ms;	/* 0: FETCH_DEFAULT_CONNECT_MS */
	long		 max_redirects;	/* 0: a redirect is answered as it is (3xx) */
	const struct curl_slist *headers; /* extra request headers, or NULL (caller owns;
					 * copied, so it may go once fetch_start returns) */
	/*
	 * 1: refuse to connect to any address netguard_addr_public() refuses, checked on
	 * the address actually connected to, after DNS, on every connection the call
	 * makes (each hop of a redirect included); the call never reuses a connection it
	 * did not make itself, even on a curl multi handle shared with unguarded calls,
	 * and takes no proxy from the environment.
	 */
	int		 guard;
	/* With guard: the policy instead of netguard_addr_public (1: may connect), for an
	 * operator's allow list or a test; NULL: netguard_addr_public. */
	int		(*allow)(const struct sockaddr *, socklen_t);
};

struct fetch_result {
	long		 status;	/* the HTTP status; 0 if none was received */
	char		*content_type;	/* the Content-Type header, or NULL */
	char		*body;		/* NUL-terminated; "" when empty; NULL on error */
	size_t		 len;		/* bytes of body before the NUL */
	char		*location;	/* a 3xx answer's Location resolved against the URL
					 * (any scheme: check it before following), or NULL */
	char		 error[256];	/* on error, libcurl's words for it */
};

/* Requests url with the bounds of opts (NULL: every default).  FETCH_OK with r's body,
 * status, content type and location, or an error with r->error set and no body;
 * either way the caller calls fetch_result_free(r).  Nothing is logged here: the caller knows what
 * the URL was for (and that a POST body may hold secrets). */
enum fetch_err	 fetch(const char *url, const struct fetch_opts *opts, struct fetch_result *r);
void		 fetch_result_free(struct fetch_result *);

/* The same request for a caller with its own curl multi loop (the worker's): start it
 * (NULL if libcurl cannot make a handle; opts->body must then stay valid until the
 * end), add fetch_easy()'s CURL * to the multi handle (its CURLINFO_PRIVATE is the
 * call), and once curl says it is done, remove it and call fetch_finish() with the
 * CURLcode: it fills r as fetch() does and frees the call.  A call given up on is
 * freed by fetch_finish() too, with any code but CURLE_OK. */
struct fetch_call;

struct fetch_call	*fetch_start(const char *url, const struct fetch_opts *opts);
void			*fetch_easy(struct fetch_call *);
enum fetch_err		 fetch_finish(struct fetch_call *, int curlcode, struct fetch_result *);
/* A short name for an error ("timeout", "too-large", ...), for logs and tests. */
const char	*fetch_err_name(enum fetch_err);

#endif /* SB_FETCH_H */
