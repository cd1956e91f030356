/* fcgiclient.c: a FastCGI client for tests: requests written straight to a responder's
 * socket, as a web server would, but in ways a web server may not (pipelined on one
 * connection, oversized params, bodies on any route).
 *
 * usage: sb-fcgiclient [-p NAME=VALUE]... [-b BODY] [-B BYTES] [-P BYTES] SOCKET URI...
 * Each URI is one GET (POST with -b/-B) request, all written at once on one connection
 * with FCGI_KEEP_CONN; -p adds a param to every request, -B sends a body of BYTES 'x',
 * -P adds a param HTTP_X_PAD of BYTES 'p'.  Prints, per request answered, its status
 * ("Status: 200" or "Status: none"), then "answers N".  Exits 1 if the responder closed
 * before answering every request. */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <sys/types.h>

#define MAX_PARAMS	16

struct buf {
	unsigned char	*p;
	size_t		 len, cap;
};

static void
put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 1024;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			exit(2);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* One record; content over 65535 bytes goes in several. */
static void
record(struct buf *b, int type, const void *content, size_t n)
{
	const unsigned char	*c = content;
	unsigned char		 h[8];
	size_t			 part;

	do {
		part = n > 65535 ? 65535 : n;
		h[0] = 1;
		h[1] = (unsigned char)type;
		h[2] = 0;
		h[3] = 1;				/* request id 1 */
		h[4] = (unsigned char)(part >> 8);
		h[5] = (unsigned char)part;
		h[6] = 0;
		h[7] = 0;
		put(b, h, 8);
		put(b, c, part);
		c += part;
		n -= part;
	} while (n > 0);
}

static void
pair(struct buf *b, const char *name, const char *value, size_t vlen)
{
	size_t		 nlen = strlen(name), i;
	size_t		 lens[2] = { nlen, vlen };
	unsigned char	 l[4];

	for (i = 0; i < 2; i++) {
		if (lens[i] < 128) {
			l[0] = (unsigned char)lens[i];
			put(b, l, 1);
		} else {
			l[0] = (unsigned char)(0x80 | (lens[i] >> 24));
			l[1] = (unsigned char)(lens[i] >> 16);
			l[2] = (unsigned char)(lens[i] >> 8);
			l[3] = (unsigned char)lens[i];
			put(b, l, 4);
		}
	}
	put(b, name, nlen);
	put(b, value, vlen);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sa;
	struct buf		 out = { 0 }, params, in = { 0 };
	const char		*extra[MAX_PARAMS], *body = NULL, *eq;
	char			*pad = NULL, *big = NULL, len[24];
	size_t			 nextra = 0, padlen = 0, bodylen = 0, i, off, clen;
	unsigned char		 begin[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };	/* responder, keep conn */
	int			 fd, c, j, answers = 0, want;
	ssize_t			 n;

	while ((c = getopt(argc, argv, "p:b:B:P:")) != -1) {
		switch (c) {
		case 'p':
			if (nextra == MAX_PARAMS || strchr(optarg, '=') == NULL)
				return 2;
			extra[nextra++] = optarg;
			break;
		case 'b':
			body = optarg;
			bodylen = strlen(optarg);
			break;
		case 'B':
			bodylen = (size_t)atol(optarg);
			if ((big = malloc(bodylen + 1)) == NULL)
				return 2;
			memset(big, 'x', bodylen);
			body = big;
			break;
		case 'P':
			padlen = (size_t)atol(optarg);
			if ((pad = malloc(padlen + 1)) == NULL)
				return 2;
			memset(pad, 'p', padlen);
			break;
		default:
			return 2;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: sb-fcgiclient [-p NAME=VALUE]... [-b BODY] [-B BYTES] "
		    "[-P BYTES] SOCKET URI...\n");
		return 2;
	}
	want = argc - optind - 1;
	for (j = optind + 1; j < argc; j++) {
		record(&out, 1, begin, sizeof(begin));
		memset(&params, 0, sizeof(params));
		pair(&params, "REQUEST_METHOD", body != NULL ? "POST" : "GET", body != NULL ? 4 : 3);
		pair(&params, "REQUEST_URI", argv[j], strlen(argv[j]));
		pair(&params, "REMOTE_ADDR", "127.0.0.1", 9);
		if (body != NULL) {
			snprintf(len, sizeof(len), "%zu", bodylen);
			pair(&params, "CONTENT_LENGTH", len, strlen(len));
			pair(&params, "CONTENT_TYPE", "application/json", 16);
		}
		for (i = 0; i < nextra; i++) {
			eq = strchr(extra[i], '=');
			{
				char name[128];

				snprintf(name, sizeof(name), "%.*s", (int)(eq - extra[i]), extra[i]);
				pair(&params, name, eq + 1, strlen(eq + 1));
			}
		}
		if (pad != NULL)
			pair(&params, "HTTP_X_PAD", pad, padlen);
		record(&out, 4, params.p, params.len);
		record(&out, 4, "", 0);
		if (body != NULL && bodylen > 0)
			record(&out, 5, body, bodylen);
		record(&out, 5, "", 0);
		free(params.p);
	}

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[optind]);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("sb-fcgiclient: connect");
		return 2;
	}
	for (off = 0; off < out.len; off += (size_t)n)
		if ((n = write(fd, out.p + off, out.len - off)) <= 0)
			break;
	/* Answers: STDOUT records (type 6) then END_REQUEST (3), one after the other. */
	while (answers < want) {
		unsigned char	 chunk[65536];

		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		put(&in, chunk, (size_t)n);
		for (;;) {
			struct buf	 so = { 0 };
			size_t		 p = 0, rl;
			int		 done = 0;

			/* A complete answer in what was read so far? */
			while (p + 8 <= in.len) {
				clen = (size_t)in.p[p + 4] << 8 | in.p[p + 5];
				rl = 8 + clen + in.p[p + 6];
				if (p + rl > in.len)
					break;
				if (in.p[p + 1] == 6)
					put(&so, in.p + p + 8, clen);
				p += rl;
				if (in.p[p - rl + 1] == 3) {
					done = 1;
					break;
				}
			}
			if (!done) {
				free(so.p);
				break;
			}
			put(&so, "", 1);
			if (so.len > 8 && strncmp((char *)so.p, "Status: ", 8) == 0)
				printf("Status: %.3s\n", (char *)so.p + 8);
			else
				printf("Status: none\n");
			answers++;
			memmove(in.p, in.p + p, in.len - p);
			in.len -= p;
			free(so.p);
		}
	}
	printf("answers %d\n", answers);
	close(fd);
	free(out.p);
	free(in.p);
	free(pad);
	free(big);
	return answers == want ? 0 : 1;
}
