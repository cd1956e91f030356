/* fetch.c: one bounded HTTP request over libcurl (fetch.h). */
#include "config.h"

#include <sys/socket.h>

#include <netdb.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/fetch.h"
#include "core/netguard.h"

/* A request in flight: the easy handle, its headers, the body as it arrives (too_large
 * tells a refused append from curl's other write errors) and curl's words on failure.
 * A guarded call also has its own connection pool (share), its policy, and what the
 * policy said since the last answer arrived: so that the hop that failed is judged
 * alone. */
struct fetch_call {
	CURL			*easy;
	struct curl_slist	*headers;
	struct sb_buf		 body;
	int			 too_large;
	char			 err[CURL_ERROR_SIZE];
	CURLSH			*share;
	int			(*allow)(const struct sockaddr *, socklen_t);
	unsigned		 opened, refused;
	char			 refused_addr[64];	/* the last one, for the error */
};

static size_t
sink_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct fetch_call	*f = arg;
	size_t			 n = size * nmemb;

	if (buf_append(&f->body, p, n) < 0) {
		f->too_large = 1;
		return 0;	/* curl fails the transfer */
	}
	return n;
}

static enum fetch_err
err_from_curl(const struct fetch_call *f, CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return FETCH_OK;
	case CURLE_URL_MALFORMAT:
		return FETCH_ERR_URL;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return FETCH_ERR_PROTOCOL;
	case CURLE_COULDNT_CONNECT:
		return f->refused > 0 && f->opened == 0 ? FETCH_ERR_FORBIDDEN :
		    FETCH_ERR_CONNECT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return FETCH_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return FETCH_ERR_TIMEOUT;
	case CURLE_FILESIZE_EXCEEDED:
		return FETCH_ERR_TOO_LARGE;
	case CURLE_WRITE_ERROR:
		return f->too_large ? FETCH_ERR_TOO_LARGE : FETCH_ERR_TRANSFER;
	case CURLE_TOO_MANY_REDIRECTS:
		return FETCH_ERR_REDIRECTS;
	default:
		return FETCH_ERR_TRANSFER;
	}
}

static struct curl_slist *
header_add(struct curl_slist *h, const char *line)
{
	if ((h = curl_slist_append(h, line)) == NULL)
		sb_oom(0);
	return h;
}

static struct curl_slist *
headers(const struct fetch_opts *o)
{
	struct curl_slist	*h = NULL;
	const struct curl_slist	*x;
	char			 line[256];

	if (o->accept != NULL) {
		snprintf(line, sizeof(line), "Accept: %s", o->accept);
		h = header_add(h, line);
	}
	if (o->body != NULL && o->content_type != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", o->content_type);
		h = header_add(h, line);
	}
	for (x = o->headers; x != NULL; x = x->next)
		h = header_add(h, x->data);
	return h;
}

/* libcurl's socket opener for a guarded call: every connection of the call, to the
 * address resolved, each hop of a redirect and each address of a name (IPv6 and
 * IPv4 alike) asks here first.  A refusal is a failed connect to libcurl, which tries
 * the name's next address. */
static curl_socket_t
guard_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct fetch_call	*f = arg;

	(void)purpose;
	if (f->allow(&a->addr, a->addrlen)) {
		f->opened++;
		return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	}
	f->refused++;
	if (getnameinfo(&a->addr, a->addrlen, f->refused_addr, sizeof(f->refused_addr),
	    NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(f->refused_addr, sizeof(f->refused_addr), "an address");
	return CURL_SOCKET_BAD;
}

/* An answer's header line arrived: the connections tried so far served a hop that is
 * over, so a connect that fails from now on is the next hop's alone. */
static size_t
guard_hop(char *p, size_t size, size_t nmemb, void *arg)
{
	struct fetch_call	*f = arg;

	(void)p;
	f->opened = f->refused = 0;
	return size * nmemb;
}

/* Sets up the guard on f's handle: 0, or -1 if libcurl refused any of it (the call
 * must then not be made).  The call's own connection cache (a share of connections
 * with no other handle) keeps it from reusing a connection of the multi handle's
 * pool that an unguarded call made: libcurl reuses one even with FRESH_CONNECT on a
 * redirect's hop. */
static int
guard(struct fetch_call *f, const struct fetch_opts *o)
{
	CURL	*c = f->easy;

	f->allow = o->allow != NULL ? o->allow : netguard_addr_public;
	if ((f->share = curl_share_init()) == NULL ||
	    curl_share_setopt(f->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK)
		return -1;
	if (curl_easy_setopt(c, CURLOPT_SHARE, f->share) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, guard_open) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, f) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, guard_hop) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HEADERDATA, f) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK)
		return -1;
	return 0;
}

static void
call_free(struct fetch_call *f)
{
	buf_free(&f->body);
	curl_easy_cleanup(f->easy);
	if (f->share != NULL)
		curl_share_cleanup(f->share);	/* after the handle: it closes the pool */
	curl_slist_free_all(f->headers);
	free(f);
}

struct fetch_call *
fetch_start(const char *url, const struct fetch_opts *opts)
{
	static const struct fetch_opts	 defaults;
	const struct fetch_opts		*o = opts != NULL ? opts : &defaults;
	struct fetch_call		*f;
	size_t				 max = o->max_bytes > 0 ? o->max_bytes :
					    FETCH_DEFAULT_MAX_BYTES;
	CURL				*c;

	if ((c = curl_easy_init()) == NULL)
		return NULL;
	f = sb_calloc(1, sizeof(*f));
	f->easy = c;
	buf_init(&f->body, max);
	f->headers = headers(o);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (o->max_redirects > 0) {
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, o->max_redirects);
		curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	} else
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms > 0 ?
	    o->connect_timeout_ms : (long)FETCH_DEFAULT_CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms :
	    (long)FETCH_DEFAULT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "switchboard/" PACKAGE_VERSION);
	if (f->headers != NULL)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, f->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, f->err);
	curl_easy_setopt(c, CURLOPT_PRIVATE, f);
	if (o->body != NULL) {
		/* Not copied: a body that holds secrets is the caller's to wipe. */
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
	}
	if (o->guard && guard(f, o) < 0) {
		call_free(f);
		return NULL;
	}
	return f;
}

void *
fetch_easy(struct fetch_call *f)
{
	return f->easy;
}

enum fetch_err
fetch_finish(struct fetch_call *f, int code, struct fetch_result *r)
{
	CURLcode	 rc = (CURLcode)code;
	const char	*ctype = NULL, *loc = NULL;
	enum fetch_err	 e;

	memset(r, 0, sizeof(*r));
	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if ((e = err_from_curl(f, rc)) == FETCH_ERR_FORBIDDEN)
		snprintf(r->error, sizeof(r->error), "refused to connect to %s: not a "
		    "public address", f->refused_addr);
	else if (e != FETCH_OK)
		snprintf(r->error, sizeof(r->error), "%s",
		    f->err[0] != '\0' ? f->err : curl_easy_strerror(rc));
	else {
		if (curl_easy_getinfo(f->easy, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK &&
		    ctype != NULL)
			r->content_type = sb_strdup(ctype);
		if (r->status >= 300 && r->status < 400 &&
		    curl_easy_getinfo(f->easy, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK &&
		    loc != NULL)
			r->location = sb_strdup(loc);
		r->body = buf_steal(&f->body, &r->len);
	}
	call_free(f);
	return e;
}

enum fetch_err
fetch(const char *url, const struct fetch_opts *opts, struct fetch_result *r)
{
	struct fetch_call	*f;

	if ((f = fetch_start(url, opts)) == NULL) {
		memset(r, 0, sizeof(*r));
		snprintf(r->error, sizeof(r->error), "curl_easy_init");
		return FETCH_ERR_TRANSFER;
	}
	return fetch_finish(f, curl_easy_perform(f->easy), r);
}

void
fetch_result_free(struct fetch_result *r)
{
	free(r->body);
	free(r->content_type);
	free(r->location);
	r->body = r->content_type = r->location = NULL;
	r->len = 0;
}

const char *
fetch_err_name(enum fetch_err e)
{
	switch (e) {
	case FETCH_OK:
		return "ok";
	case FETCH_ERR_URL:
		return "url";
	case FETCH_ERR_PROTOCOL:
		return "protocol";
	case FETCH_ERR_CONNECT:
		return "connect";
	case FETCH_ERR_TIMEOUT:
		return "timeout";
	case FETCH_ERR_TOO_LARGE:
		return "too-large";
	case FETCH_ERR_REDIRECTS:
		return "redirects";
	case FETCH_ERR_FORBIDDEN:
		return "forbidden";
	case FETCH_ERR_TRANSFER:
		break;
	}
	return "transfer";
}
