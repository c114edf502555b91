/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "vhu_conn.h"
#include "vhu_log.h"

#define HDR_SIZE ((uint32_t)sizeof(struct vhu_wire_header))

/* Keep the fds of one control message; refuse any beyond the limit. */
static void
vhu_conn_take_fds(struct vhu_msg *msg, struct msghdr *mh)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n, i;
		int fds[VHU_WIRE_MAX_FDS + 1];

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (n > RTE_DIM(fds))
			n = RTE_DIM(fds);
		memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
		for (i = 0; i < n; i++) {
			if (msg->nfds < VHU_WIRE_MAX_FDS) {
				msg->fds[msg->nfds++] = fds[i];
			} else {
				close(fds[i]);
				msg->fds_truncated = true;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		msg->fds_truncated = true; /* the kernel dropped the rest */
}

int
vhu_conn_recv(struct vhu_device *dev)
{
	struct vhu_conn *c = &dev->conn;
	struct vhu_msg *msg = &c->msg;

	for (;;) {
		/* Room for one fd more than allowed, to notice excess. */
		char cbuf[CMSG_SPACE((VHU_WIRE_MAX_FDS + 1) * sizeof(int))];
		struct iovec iov;
		struct msghdr mh;
		ssize_t n;

		if (c->have < HDR_SIZE) {
			iov.iov_base = (uint8_t *)&msg->hdr + c->have;
			iov.iov_len = HDR_SIZE - c->have;
		} else {
			uint32_t off = c->have - HDR_SIZE;

			if (off == msg->hdr.size)
				return 1;
			iov.iov_base = msg->payload.raw + off;
			iov.iov_len = msg->hdr.size - off;
		}
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);

		n = recvmsg(c->ep.fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		vhu_conn_take_fds(msg, &mh);
		if (n == 0)
			return -ECONNRESET;
		c->have += (uint32_t)n;
		if (c->have == HDR_SIZE) {
			if (msg->hdr.size > VHU_WIRE_MAX_PAYLOAD) {
				VHU_DEV_LOG(ERR, dev, "request %u announces a "
					    "%u-byte payload (at most %zu)",
					    msg->hdr.request, msg->hdr.size,
					    VHU_WIRE_MAX_PAYLOAD);
				return -EMSGSIZE;
			}
			/* Payload bytes not sent stay zero for handlers. */
			memset(&msg->payload, 0, sizeof(msg->payload));
		}
		if (c->have >= HDR_SIZE && c->have - HDR_SIZE == msg->hdr.size)
			return 1;
	}
}

void
vhu_msg_drop_fds(struct vhu_msg *msg)
{
	uint32_t i;

	for (i = 0; i < msg->nfds; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	msg->nfds = 0;
	msg->fds_truncated = false;
}

void
vhu_conn_next(struct vhu_device *dev)
{
	vhu_msg_drop_fds(&dev->conn.msg);
	dev->conn.have = 0;
}

int
vhu_conn_send(struct vhu_device *dev, uint32_t request, const void *payload,
		uint32_t size)
{
	struct vhu_wire_header hdr = {
		.request = request,
		.flags = VHU_WIRE_VERSION | VHU_WIRE_F_REPLY,
		.size = size,
	};
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)(uintptr_t)payload, .iov_len = size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	ssize_t n;

	do {
		n = sendmsg(dev->conn.ep.fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = errno;

		VHU_DEV_LOG(ERR, dev, "reply to %u: %s", request, strerror(err));
		return -err;
	}
	if ((size_t)n != sizeof(hdr) + size) {
		/* A tiny reply into a full socket buffer: the peer is not
		 * reading; the stream is out of step from here. */
		VHU_DEV_LOG(ERR, dev, "reply to %u: short send", request);
		return -EAGAIN;
	}
	return 0;
}

void
vhu_conn_close(struct vhu_device *dev)
{
	vhu_msg_drop_fds(&dev->conn.msg);
	dev->conn.have = 0;
	if (dev->conn.ep.fd >= 0)
		close(dev->conn.ep.fd);
	dev->conn.ep.fd = -1;
}
