/* handoff.c: a whole request from the master to a worker: its connection, params and body. */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgi-app.h"

/*
 * One SOCK_SEQPACKET message per request: this head, then the params as "NAME=value"
 * strings each with its NUL, then the body.  The connection travels as the first
 * descriptor.  A payload over HANDOFF_INLINE goes in a memfd, the second descriptor,
 * so that no message outgrows the socket's buffer.
 */
struct handoff_head {
	uint16_t	 id;		/* the FastCGI request id */
	uint16_t	 over;		/* 0, or 413/431: the parser kept no body/params */
	uint32_t	 nparams;
	uint32_t	 params_len;
	uint32_t	 in_len;
};

#define HANDOFF_INLINE	(48 * 1024)

static char	 inbuf[sizeof(struct handoff_head) + HANDOFF_INLINE];

int
handoff_send(int chan, int conn_fd, const struct fcgi_req *r)
{
	struct handoff_head	 h;
	struct iovec		 iov[FCGI_NPARAMS_MAX + 2];
	struct msghdr		 msg;
	union {
		struct cmsghdr	 align;
		char		 buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct cmsghdr		*cmsg;
	size_t			 i, n = 0, payload;
	ssize_t			 w;
	int			 fds[2] = { conn_fd, -1 }, nfds = 1, rc = -1;

	memset(&h, 0, sizeof(h));
	h.id = r->id;
	h.over = (uint16_t)r->over;
	iov[n].iov_base = &h;
	iov[n++].iov_len = sizeof(h);
	for (i = 0; r->envp != NULL && r->envp[i] != NULL; i++) {
		iov[n].iov_base = r->envp[i];
		iov[n].iov_len = strlen(r->envp[i]) + 1;
		h.params_len += (uint32_t)iov[n++].iov_len;
	}
	h.nparams = (uint32_t)i;
	if (r->in_len > 0) {
		iov[n].iov_base = r->in;
		iov[n++].iov_len = r->in_len;
	}
	h.in_len = (uint32_t)r->in_len;
	payload = (size_t)h.params_len + h.in_len;

	memset(&msg, 0, sizeof(msg));
	if (payload > HANDOFF_INLINE) {
		if ((fds[1] = memfd_create("switchboard-request", MFD_CLOEXEC)) < 0)
			goto out;
		if ((w = writev(fds[1], iov + 1, (int)n - 1)) < 0 || (size_t)w != payload)
			goto out;
		nfds = 2;
		n = 1;		/* the head alone goes in the message */
	}
	msg.msg_iov = iov;
	msg.msg_iovlen = n;
	msg.msg_control = cm.buf;
	msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
	memcpy(CMSG_DATA(cmsg), fds, (size_t)nfds * sizeof(int));
	do
		w = sendmsg(chan, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (w < 0 && errno == EINTR);
	rc = w < 0 ? -1 : 0;
out:
	if (fds[1] >= 0)
		close(fds[1]);
	return rc;
}

/* The params: nparams NUL-terminated strings filling exactly len bytes, into envp. */
static int
params_split(char *p, size_t len, uint32_t nparams, struct sb_arena *a, char ***envp)
{
	char	**e;
	char	*end = p + len, *z;
	size_t	 i;

	if (nparams > FCGI_NPARAMS_MAX)
		return -1;
	e = arena_calloc(a, (size_t)nparams + 1, sizeof(*e));
	for (i = 0; i < nparams; i++) {
		if (p >= end || (z = memchr(p, '\0', (size_t)(end - p))) == NULL)
			return -1;
		e[i] = p;
		p = z + 1;
	}
	if (p != end)
		return -1;
	*envp = e;
	return 0;
}

int
handoff_recv(int chan, struct handoff_job *job, struct sb_arena *a)
{
	struct handoff_head	 h;
	struct msghdr		 msg;
	struct iovec		 iov;
	union {
		struct cmsghdr	 align;
		char		 buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct cmsghdr		*cmsg;
	struct stat		 st;
	int			 fds[2] = { -1, -1 };
	size_t			 nfds = 0, payload;
	ssize_t			 n;
	char			*p;

	memset(job, 0, sizeof(*job));
	job->fd = -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = inbuf;
	iov.iov_len = sizeof(inbuf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	if ((n = recvmsg(chan, &msg, MSG_CMSG_CLOEXEC)) <= 0)
		return n == 0 ? 0 : -1;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL; cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
			nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			if (nfds > 2)
				nfds = 2;
			memcpy(fds, CMSG_DATA(cmsg), nfds * sizeof(int));
		}
	if (nfds == 0 || (size_t)n < sizeof(h) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		goto bad;
	memcpy(&h, inbuf, sizeof(h));
	payload = (size_t)h.params_len + h.in_len;
	if (nfds == 2) {
		if ((size_t)n != sizeof(h) || fstat(fds[1], &st) < 0 || (size_t)st.st_size != payload)
			goto bad;
		p = arena_alloc(a, payload + 1);
		if (pread(fds[1], p, payload, 0) != (ssize_t)payload)
			goto bad;
		close(fds[1]);
		fds[1] = -1;
	} else {
		if ((size_t)n - sizeof(h) != payload)
			goto bad;
		p = inbuf + sizeof(h);
	}
	if (params_split(p, h.params_len, h.nparams, a, &job->req.envp) < 0)
		goto bad;
	/* The body is NUL-terminated, as the parser leaves it. */
	job->req.in = arena_alloc(a, (size_t)h.in_len + 1);
	memcpy(job->req.in, p + h.params_len, h.in_len);
	job->req.in[h.in_len] = '\0';
	job->req.in_len = h.in_len;
	job->req.nparams = h.nparams;
	job->req.id = h.id;
	job->req.over = h.over;
	job->req.params_done = job->req.stdin_done = 1;
	job->fd = fds[0];
	return 1;
bad:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	errno = EPROTO;
	return -1;
}

int
handoff_tell(int chan, int flags)
{
	char	 b = (char)flags;

	return send(chan, &b, 1, MSG_NOSIGNAL) == 1 ? 0 : -1;
}
