/* handoff.c: connections between the master and a worker, over the worker's channel. */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fcgi-app/prefork.h"
#include "core/arena.h"

/*
 * A channel is a SOCK_SEQPACKET socketpair: one message per connection handed over.
 * A message is a head, then its payload; the connection travels as the first
 * descriptor.  A payload over HANDOFF_INLINE goes in a memfd, the second descriptor,
 * so that no message outgrows the socket's buffer.  A message of one byte is a
 * worker's word (HANDOFF_* flags).
 *
 * To a worker, a whole request: the head below, the params as "NAME=value" strings
 * each with its NUL, then the body.  To the master, a connection to read on: an
 * adopt head, then the bytes already read from it.
 */
struct handoff_head {
	uint16_t	 id;		/* the FastCGI request id */
	uint16_t	 over;		/* 0, or 413/431: the parser kept no body/params */
	uint32_t	 nparams;
	uint32_t	 params_len;
	uint32_t	 in_len;
	uint8_t		 keep_conn;	/* the web server keeps the connection */
	uint8_t		 pad[3];
};

struct adopt_head {
	uint32_t	 mode;		/* ADOPT_READ, ADOPT_LINGER */
	uint32_t	 len;		/* bytes already read */
	uint32_t	 magic;		/* tells it from a request head */
};

#define HANDOFF_INLINE	(48 * 1024)
#define ADOPT_MAGIC	0x41444f50u

static char	 inbuf[sizeof(struct handoff_head) + HANDOFF_INLINE];

/* iov[0] is the head; iov[1..n-1], payload bytes in all, the payload. */
static int
msg_send(int chan, int conn_fd, struct iovec *iov, size_t n, size_t payload)
{
	struct msghdr		 msg;
	union {
		struct cmsghdr	 align;
		char		 buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct cmsghdr		*cmsg;
	ssize_t			 w;
	int			 fds[2] = { conn_fd, -1 }, nfds = 1, rc = -1;

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
		w = sendmsg(chan, &msg, MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	rc = w < 0 ? -1 : 0;
out:
	if (fds[1] >= 0)
		close(fds[1]);
	return rc;
}

enum { MSG_WORD = 1, MSG_CONN = 2 };

/*
 * Receives a message.  MSG_WORD: its one byte in *word.  MSG_CONN: its head copied to
 * head (head_len bytes), the connection in *fd, the payload in *payload and *len: sent
 * in a memfd, it is read into a (or malloc'd when a is NULL); sent inline, it stays in
 * inbuf until the next receive (or is malloc'd when a is NULL: the caller's to free).
 * 0 at end of file, -1 on error (errno; EPROTO for a malformed message).
 */
static int
msg_recv(int chan, void *head, size_t head_len, int *word, int *fd, char **payload,
    size_t *len, struct sb_arena *a)
{
	struct msghdr		 msg;
	struct iovec		 iov;
	union {
		struct cmsghdr	 align;
		char		 buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct cmsghdr		*cmsg;
	struct stat		 st;
	int			 fds[2] = { -1, -1 };
	size_t			 nfds = 0;
	ssize_t			 n;

	*fd = -1;
	*payload = NULL;
	*len = 0;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = inbuf;
	iov.iov_len = sizeof(inbuf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(chan, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return (int)n;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL; cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
			nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			if (nfds > 2)
				nfds = 2;
			memcpy(fds, CMSG_DATA(cmsg), nfds * sizeof(int));
		}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		goto bad;
	if (nfds == 0) {
		if (n != 1)
			goto bad;
		*word = (unsigned char)inbuf[0];
		return MSG_WORD;
	}
	if ((size_t)n < head_len)
		goto bad;
	memcpy(head, inbuf, head_len);
	if (nfds == 2) {
		if ((size_t)n != head_len || fstat(fds[1], &st) < 0 || st.st_size < 0)
			goto bad;
		*len = (size_t)st.st_size;
		*payload = a != NULL ? arena_alloc(a, *len + 1) : sb_malloc(*len + 1);
		if (pread(fds[1], *payload, *len, 0) != (ssize_t)*len)
			goto bad;
		close(fds[1]);
	} else {
		*len = (size_t)n - head_len;
		if (a != NULL)
			*payload = inbuf + head_len;
		else {
			*payload = sb_malloc(*len + 1);
			memcpy(*payload, inbuf + head_len, *len);
		}
	}
	*fd = fds[0];
	return MSG_CONN;
bad:
	if (a == NULL)
		free(*payload);
	*payload = NULL;
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	errno = EPROTO;
	return -1;
}

int
handoff_send(int chan, int conn_fd, const struct fcgi_req *r)
{
	struct handoff_head	 h;
	struct iovec		 iov[FCGI_NPARAMS_MAX + 2];
	size_t			 i, n = 0;

	memset(&h, 0, sizeof(h));
	h.id = r->id;
	h.over = (uint16_t)r->over;
	h.keep_conn = (uint8_t)r->keep_conn;
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
	return msg_send(chan, conn_fd, iov, n, (size_t)h.params_len + h.in_len);
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
	size_t			 len;
	char			*p;
	int			 rc, fd;

	memset(job, 0, sizeof(*job));
	job->fd = -1;
	if ((rc = msg_recv(chan, &h, sizeof(h), &job->flags, &fd, &p, &len, a)) <= 0)
		return rc;
	if (rc == MSG_WORD)
		return 2;
	if (len != (size_t)h.params_len + h.in_len ||
	    params_split(p, h.params_len, h.nparams, a, &job->req.envp) < 0) {
		close(fd);
		errno = EPROTO;
		return -1;
	}
	/* The body is NUL-terminated, as the parser leaves it. */
	job->req.in = arena_alloc(a, (size_t)h.in_len + 1);
	memcpy(job->req.in, p + h.params_len, h.in_len);
	job->req.in[h.in_len] = '\0';
	job->req.in_len = h.in_len;
	job->req.nparams = h.nparams;
	job->req.id = h.id;
	job->req.over = h.over;
	job->req.keep_conn = h.keep_conn;
	job->req.params_done = job->req.stdin_done = 1;
	job->fd = fd;
	return 1;
}

int
handoff_tell(int chan, int flags)
{
	char	 b = (char)flags;

	return send(chan, &b, 1, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

int
handoff_adopt(int chan, int conn_fd, int mode, const char *bytes, size_t len)
{
	struct adopt_head	 h;
	struct iovec		 iov[2];

	memset(&h, 0, sizeof(h));
	h.mode = (uint32_t)mode;
	h.len = (uint32_t)len;
	h.magic = ADOPT_MAGIC;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)(uintptr_t)bytes;
	iov[1].iov_len = len;
	return msg_send(chan, conn_fd, iov, len > 0 ? 2 : 1, len);
}

int
handoff_from_worker(int chan, struct handoff_word *w)
{
	struct adopt_head	 h;
	int			 rc;

	memset(w, 0, sizeof(*w));
	if ((rc = msg_recv(chan, &h, sizeof(h), &w->flags, &w->fd, &w->bytes, &w->len,
	    NULL)) <= 0)
		return rc;
	if (rc == MSG_WORD)
		return 1;
	if (h.magic != ADOPT_MAGIC || (h.mode != ADOPT_READ && h.mode != ADOPT_LINGER) ||
	    w->len != h.len) {
		free(w->bytes);
		close(w->fd);
		w->bytes = NULL;
		w->fd = -1;
		errno = EPROTO;
		return -1;
	}
	w->mode = (int)h.mode;
	return 1;
}
