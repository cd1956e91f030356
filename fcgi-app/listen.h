/* listen.h: the listening socket of a FastCGI program. */
#ifndef SB_FCGI_APP_LISTEN_H
#define SB_FCGI_APP_LISTEN_H

/* listen.c: systemd socket activation (fd 3), a FastCGI spawner's fd 0, or a socket
 * of our own at path (a unix socket, replacing a stale one but never a live one, or
 * host:port); *created says whether we made it (and must unlink it).  -1 (logged). */
int		 listen_socket(const char *path, int mode, int backlog, int *created);

#endif /* SB_FCGI_APP_LISTEN_H */
