/* listen.c: the listening socket: from systemd, from a FastCGI spawner, or made here. */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <systemd/sd-daemon.h>

#include "core/daemon.h"
#include "core/log.h"
#include "fcgi-app/listen.h"

/* A unix socket at path, replacing a stale one but never a live one. */
static int
unix_listen(const char *path, int mode, int backlog)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_error("socket path too long", "{s:s}", "socket", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("socket path exists and is not a socket", "{s:s}", "socket", path);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			log_error("another process serves this socket", "{s:s}", "socket", path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, (mode_t)mode) < 0 ||
	    listen(fd, backlog) < 0) {
		log_error("cannot listen", "{s:s, s:s}", "socket", path, "error", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
listen_socket(const char *path, int mode, int backlog, int *created)
{
	int		 n, on = 0;
	socklen_t	 len = sizeof(on);

	*created = 0;
	n = sd_listen_fds(1);
	if (n > 1) {
		log_error("expected one socket from systemd", "{s:i}", "got", n);
		return -1;
	}
	if (n == 1) {
		log_info("listening on the socket systemd passed", NULL);
		return SD_LISTEN_FDS_START;
	}
	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on) {
		log_info("listening on fd 0 from the FastCGI spawner", NULL);
		return 0;
	}
	if (path[0] != '/') {
		/* host:port or :port, for setups that cannot share a socket file. */
		if (FCGX_Init() != 0 || (n = FCGX_OpenSocket(path, backlog)) < 0)
			log_error("cannot listen", "{s:s}", "socket", path);
		return n;
	}
	if ((n = unix_listen(path, mode, backlog)) >= 0) {
		*created = 1;
		log_info("listening", "{s:s}", "socket", path);
	}
	return n;
}
