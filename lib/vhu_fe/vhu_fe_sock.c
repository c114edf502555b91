/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unix socket set-up for the front-end: connect (back-end is the server)
 * or listen and accept (back-end in client mode), always with timeouts.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vhu_fe_priv.h"

#define CONNECT_RETRY_MS 20

int64_t
vhu_fe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
vhu_fe_ms_left(int64_t deadline)
{
	int64_t left = deadline - vhu_fe_now_ms();

	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

static int
sock_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (path == NULL || path[0] == '\0') {
		VHU_FE_LOG("no socket path given");
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(sa->sun_path)) {
		VHU_FE_LOG("socket path too long (%zu bytes, max %zu): %s",
			   strlen(path), sizeof(sa->sun_path) - 1, path);
		return -ENAMETOOLONG;
	}
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

static int
sock_new(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		int err = errno;
		VHU_FE_LOG("socket(AF_UNIX) failed: %s", strerror(err));
		return -err;
	}
	return fd;
}

int
vhu_fe_sock_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa;
	int64_t deadline = vhu_fe_now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	int rc = sock_addr(path, &sa), last = 0;

	if (rc < 0)
		return rc;
	for (;;) {
		int fd = sock_new();

		if (fd < 0)
			return fd;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		last = errno;
		close(fd);
		/* Not there yet, not listening yet, or backlog full: retry. */
		if (last != ENOENT && last != ECONNREFUSED && last != EAGAIN) {
			VHU_FE_LOG("connect(%s) failed: %s", path, strerror(last));
			return -last;
		}
		if (vhu_fe_ms_left(deadline) == 0)
			break;
		struct timespec ts = { 0, CONNECT_RETRY_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	VHU_FE_LOG("connect(%s) timed out after %d ms (last error: %s)", path,
		   timeout_ms, strerror(last));
	return -ETIMEDOUT;
}

int
vhu_fe_sock_listen(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int rc = sock_addr(path, &sa), fd;

	if (rc < 0)
		return rc;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			VHU_FE_LOG("listen: %s exists and is not a socket", path);
			return -EEXIST;
		}
		if (unlink(path) != 0) {
			int err = errno;
			VHU_FE_LOG("listen: cannot remove stale socket %s: %s",
				   path, strerror(err));
			return -err;
		}
	}
	fd = sock_new();
	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 4) != 0) {
		int err = errno;
		VHU_FE_LOG("bind/listen on %s failed: %s", path, strerror(err));
		close(fd);
		return -err;
	}
	return fd;
}

int
vhu_fe_sock_accept(int listen_fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
	int64_t deadline = vhu_fe_now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);

	for (;;) {
		int n = poll(&pfd, 1, vhu_fe_ms_left(deadline));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			VHU_FE_LOG("poll on listening socket failed: %s",
				   strerror(err));
			return -err;
		}
		if (n == 0) {
			VHU_FE_LOG("no back-end connected within %d ms", timeout_ms);
			return -ETIMEDOUT;
		}
		int fd = accept4(listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			continue;
		int err = errno;
		VHU_FE_LOG("accept failed: %s", strerror(err));
		return -err;
	}
}
