/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user message framing on a connected unix stream socket: a 12-byte
 * header, hdr.size payload bytes, fds as SCM_RIGHTS. Non-blocking socket,
 * poll() with a deadline for every wait, MSG_NOSIGNAL on every send.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhu_fe_priv.h"

/* Most fds one recvmsg() can hand us; more than a message may keep so
 * that surplus ones are received (and closed) rather than dropped. */
#define RECV_FDS_MAX 64

static const char *const req_names[VHU_REQ_MAX] = {
	[VHU_REQ_NONE] = "NONE",
	[VHU_REQ_GET_FEATURES] = "GET_FEATURES",
	[VHU_REQ_SET_FEATURES] = "SET_FEATURES",
	[VHU_REQ_SET_OWNER] = "SET_OWNER",
	[VHU_REQ_RESET_OWNER] = "RESET_OWNER",
	[VHU_REQ_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VHU_REQ_SET_LOG_BASE] = "SET_LOG_BASE",
	[VHU_REQ_SET_LOG_FD] = "SET_LOG_FD",
	[VHU_REQ_SET_VRING_NUM] = "SET_VRING_NUM",
	[VHU_REQ_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VHU_REQ_SET_VRING_BASE] = "SET_VRING_BASE",
	[VHU_REQ_GET_VRING_BASE] = "GET_VRING_BASE",
	[VHU_REQ_SET_VRING_KICK] = "SET_VRING_KICK",
	[VHU_REQ_SET_VRING_CALL] = "SET_VRING_CALL",
	[VHU_REQ_SET_VRING_ERR] = "SET_VRING_ERR",
	[VHU_REQ_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VHU_REQ_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VHU_REQ_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VHU_REQ_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VHU_REQ_SEND_RARP] = "SEND_RARP",
	[VHU_REQ_NET_SET_MTU] = "NET_SET_MTU",
	[VHU_REQ_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
	[VHU_REQ_IOTLB_MSG] = "IOTLB_MSG",
	[VHU_REQ_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
	[VHU_REQ_GET_CONFIG] = "GET_CONFIG",
	[VHU_REQ_SET_CONFIG] = "SET_CONFIG",
	[VHU_REQ_CREATE_CRYPTO_SESSION] = "CREATE_CRYPTO_SESSION",
	[VHU_REQ_CLOSE_CRYPTO_SESSION] = "CLOSE_CRYPTO_SESSION",
	[VHU_REQ_POSTCOPY_ADVISE] = "POSTCOPY_ADVISE",
	[VHU_REQ_POSTCOPY_LISTEN] = "POSTCOPY_LISTEN",
	[VHU_REQ_POSTCOPY_END] = "POSTCOPY_END",
	[VHU_REQ_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
	[VHU_REQ_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
	[VHU_REQ_GPU_SET_SOCKET] = "GPU_SET_SOCKET",
	[VHU_REQ_RESET_DEVICE] = "RESET_DEVICE",
	[VHU_REQ_VRING_KICK] = "VRING_KICK",
	[VHU_REQ_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
	[VHU_REQ_ADD_MEM_REG] = "ADD_MEM_REG",
	[VHU_REQ_REM_MEM_REG] = "REM_MEM_REG",
	[VHU_REQ_SET_STATUS] = "SET_STATUS",
	[VHU_REQ_GET_STATUS] = "GET_STATUS",
};

const char *
vhu_fe_req_name(uint32_t request)
{
	if (request < VHU_REQ_MAX && req_names[request] != NULL)
		return req_names[request];
	return "UNKNOWN";
}

/* Wait until sock is readable (POLLIN) or writable (POLLOUT). */
static int
msg_wait(int sock, short events, int64_t deadline, const char *what)
{
	struct pollfd pfd = { .fd = sock, .events = events };

	for (;;) {
		int n = poll(&pfd, 1, vhu_fe_ms_left(deadline));

		if (n > 0)
			return 0;
		if (n == 0) {
			VHU_FE_LOG("%s: timed out", what);
			return -ETIMEDOUT;
		}
		if (errno != EINTR) {
			int err = errno;
			VHU_FE_LOG("%s: poll failed: %s", what, strerror(err));
			return -err;
		}
	}
}

static int
send_err(int err)
{
	if (err == EPIPE || err == ECONNRESET)
		VHU_FE_LOG("send: back-end closed the connection");
	else
		VHU_FE_LOG("send failed: %s", strerror(err));
	return -err;
}

int
vhu_fe_msg_send_bytes(int sock, const void *bytes, size_t len, const int *fds,
		      unsigned int nfds, int timeout_ms)
{
	int64_t deadline = vhu_fe_now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHU_FE_MSG_MAX_SEND_FDS)];
		struct cmsghdr align;
	} ctl;
	size_t done = 0;

	if (len == 0 || nfds > VHU_FE_MSG_MAX_SEND_FDS || (nfds && !fds)) {
		VHU_FE_LOG("send: bad arguments (len %zu, %u fds)", len, nfds);
		return -EINVAL;
	}
	while (done < len) {
		struct iovec iov = {
			.iov_base = (uint8_t *)(uintptr_t)bytes + done,
			.iov_len = len - done,
		};
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (done == 0 && nfds > 0) {
			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;   /* fds went with the first byte */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return send_err(errno);
		int rc = msg_wait(sock, POLLOUT, deadline, "send");
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
vhu_fe_msg_send(int sock, uint32_t request, uint32_t flags, const void *payload,
		uint32_t size, const int *fds, unsigned int nfds, int timeout_ms)
{
	uint8_t buf[sizeof(struct vhu_wire_header) + VHU_FE_MSG_MAX_PAYLOAD];
	struct vhu_wire_header h = { request, flags, size };

	if (size > VHU_FE_MSG_MAX_PAYLOAD || (size && payload == NULL)) {
		VHU_FE_LOG("send %s: bad payload (%u bytes)",
			   vhu_fe_req_name(request), size);
		return -EINVAL;
	}
	memcpy(buf, &h, sizeof(h));
	if (size)
		memcpy(buf + sizeof(h), payload, size);
	return vhu_fe_msg_send_bytes(sock, buf, sizeof(h) + size, fds, nfds,
				     timeout_ms);
}

void
vhu_fe_msg_close_fds(struct vhu_fe_msg *msg)
{
	for (unsigned int i = 0; i < msg->nfds; i++)
		close(msg->fds[i]);
	msg->nfds = 0;
}

/* Keep the fds of one control message (close what does not fit). */
static void
recv_take_fds(struct vhu_fe_msg *msg, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const uint8_t *data = CMSG_DATA(c);

		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, data + i * sizeof(int), sizeof(int));
			if (msg->nfds < VHU_WIRE_MAX_FDS) {
				msg->fds[msg->nfds++] = fd;
			} else {
				VHU_FE_LOG("recv: closing surplus fd (more than %u)",
					   VHU_WIRE_MAX_FDS);
				close(fd);
			}
		}
	}
}

/* Read exactly len bytes into dst, collecting fds. */
static int
recv_exact(int sock, struct vhu_fe_msg *msg, void *dst, size_t len,
	   int64_t deadline, bool started)
{
	size_t done = 0;

	while (done < len) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * RECV_FDS_MAX)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { (uint8_t *)dst + done, len - done };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n > 0) {
			recv_take_fds(msg, &mh);
			if (mh.msg_flags & MSG_CTRUNC)
				VHU_FE_LOG("recv: control data truncated, fds lost");
			done += (size_t)n;
			continue;
		}
		if (n == 0) {
			if (started || done > 0)
				VHU_FE_LOG("recv: back-end closed the connection "
					   "in the middle of a message");
			return -ECONNRESET;
		}
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET)
			return -ECONNRESET;
		if (errno != EAGAIN) {
			int err = errno;
			VHU_FE_LOG("recv failed: %s", strerror(err));
			return -err;
		}
		int rc = msg_wait(sock, POLLIN, deadline, "recv");
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
vhu_fe_msg_recv(int sock, struct vhu_fe_msg *msg, int timeout_ms)
{
	int64_t deadline = vhu_fe_now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	int rc;

	memset(&msg->hdr, 0, sizeof(msg->hdr));
	msg->len = 0;
	msg->nfds = 0;
	rc = recv_exact(sock, msg, &msg->hdr, sizeof(msg->hdr), deadline, false);
	if (rc < 0)
		goto fail;
	if (msg->hdr.size > VHU_FE_MSG_MAX_PAYLOAD) {
		/* Drain it so the stream stays in step, keep nothing. */
		uint64_t left = msg->hdr.size;

		VHU_FE_LOG("recv %s: payload of %u bytes exceeds %u, dropped",
			   vhu_fe_req_name(msg->hdr.request), msg->hdr.size,
			   VHU_FE_MSG_MAX_PAYLOAD);
		while (left > 0) {
			size_t n = left < sizeof(msg->payload) ? left :
				   sizeof(msg->payload);
			rc = recv_exact(sock, msg, msg->payload, n, deadline, true);
			if (rc < 0)
				goto fail;
			left -= n;
		}
		rc = -EMSGSIZE;
		goto fail;
	}
	rc = recv_exact(sock, msg, msg->payload, msg->hdr.size, deadline, true);
	if (rc < 0)
		goto fail;
	msg->len = msg->hdr.size;
	return 0;
fail:
	vhu_fe_msg_close_fds(msg);
	msg->len = 0;
	return rc;
}
