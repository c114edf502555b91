/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_msg: the byte stream of vhost-user messages a front-end sends,
 * with fds, into lib/vhu's framing (vhu_conn.c), validation and dispatch
 * (vhu_msg.c) and every handler, on a device driven directly (no control
 * thread): each input is one or more sessions on a socketpair.
 *
 * Input: records until the input ends.
 *   u8 op % 4:
 *   0 message: u8 request, u8 flags (bits 2-3 kept, version 1 unless
 *      bit 7: then the byte as it is), u16 size (% 320), that many payload
 *      bytes, u8 nfds (% 10: 9 overflows the 8 vhost-user allows), and
 *      for each fd a u8 kind (% 6): one of four memfds (4 KiB, 64 KiB,
 *      1 MiB, 1 GiB sparse), an eventfd, or a pipe's read end. The
 *      header, payload and fds go in one sendmsg.
 *   1 raw: u8 n, then n bytes written as they are (split headers,
 *      trailing garbage).
 *   2 hang up: the front-end closes; the device must reset; a new
 *      session starts.
 *   3 pump: handle what was sent so far.
 * After each record the device handles everything readable, exactly as
 * the control thread does, and the front-end side drains the replies.
 *
 * Checked: no crash, no sanitizer report; after every message each ring's
 * view is what vhu_vring_publish() derives from the stored state (memory
 * table, log, features); at the end of the input no fd is left open, and
 * (every 64 inputs) no mapping of guest memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <linux/vhost_types.h>

#include "vhu_conn.h"
#include "vhu_dev.h"
#include "vhu_fuzz.h"
#include "vhu_msg.h"
#include "vhu_offload.h"
#include "vhu_vring.h"

#define MEMFD_NAME "vhu-fuzz-guest"

static const uint64_t memfd_sizes[] = { 4096, 65536, 1 << 20, 1ULL << 30 };
static int memfds[RTE_DIM(memfd_sizes)];
static int fd_base;   /* lowest fd a run may open (after our memfds) */
static int maps_base; /* mappings of our memfds at rest */
static unsigned int runs;

static int
count_guest_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	VHU_FUZZ_CHECK(f != NULL, "cannot read /proc/self/maps");
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, MEMFD_NAME) != NULL)
			n++;
	fclose(f);
	return n;
}

/* Open fds from fd_base on: a run holds at most a few dozen at once,
 * and the kernel hands out the lowest free numbers. */
static int
count_open_fds(void)
{
	int n = 0;

	for (int fd = fd_base; fd < fd_base + 64; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	RTE_SET_USED(argc);
	vhu_fuzz_eal_init((*argv)[0]);
	for (size_t i = 0; i < RTE_DIM(memfd_sizes); i++) {
		memfds[i] = memfd_create(MEMFD_NAME, MFD_CLOEXEC);
		VHU_FUZZ_CHECK(memfds[i] >= 0 &&
			       ftruncate(memfds[i], (off_t)memfd_sizes[i]) == 0,
			       "memfd: %s", strerror(errno));
	}
	fd_base = dup(0);
	VHU_FUZZ_CHECK(fd_base >= 0, "dup: %s", strerror(errno));
	close(fd_base);
	maps_base = count_guest_maps();
	return 0;
}

struct session {
	struct vhu_device *dev;
	int fe;          /* the front-end's end of the socket */
};

static void
session_open(struct session *s)
{
	int sv[2];

	VHU_FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
				  SOCK_CLOEXEC, 0, sv) == 0,
		       "socketpair: %s", strerror(errno));
	s->dev->conn.ep.fd = sv[0];
	s->dev->conn.have = 0;
	s->fe = sv[1];
}

/* What vhu_ctrl_disconnect() does. */
static void
session_close(struct session *s)
{
	if (s->dev->conn.ep.fd >= 0) {
		vhu_conn_close(s->dev);
		/* No burst runs: the reset must happen at once. */
		VHU_FUZZ_CHECK(vhu_dev_reset_when_quiet(s->dev, true),
			       "reset deferred with no burst running");
	}
	if (s->fe >= 0)
		close(s->fe);
	s->fe = -1;
}

/* Each ring's view is what its stored state derives to. */
static void
check_views(const struct vhu_device *dev)
{
	bool log_all = (dev->features >> VHOST_F_LOG_ALL) & 1;

	for (uint16_t i = 0; i < dev->nr_rings; i++) {
		const struct vhu_vring *vr = &dev->rings[i];

		VHU_FUZZ_CHECK(!vr->held, "ring %u held with no burst", i);
		VHU_FUZZ_CHECK(vr->mem == dev->mem, "ring %u: stale table", i);
		VHU_FUZZ_CHECK(vr->features == dev->features,
			       "ring %u: stale features", i);
		VHU_FUZZ_CHECK(vr->log_base == (log_all ? dev->log_base : NULL),
			       "ring %u: stale log", i);
		VHU_FUZZ_CHECK(vr->vnet_hdr_len == vhu_vring_hdr_len(dev->features),
			       "ring %u: stale header length", i);
		VHU_FUZZ_CHECK(vr->dp_mode == vhu_vring_derive_mode(vr),
			       "ring %u: mode %u, derives to %u", i, vr->dp_mode,
			       vhu_vring_derive_mode(vr));
		VHU_FUZZ_CHECK(!vr->started || vr->desc != NULL,
			       "ring %u started but unmapped", i);
	}
}

/* Handle everything readable, as vhu_ctrl_readable() does. */
static void
session_pump(struct session *s)
{
	uint8_t sink[4096];

	while (s->dev->conn.ep.fd >= 0) {
		int r = vhu_conn_recv(s->dev);

		if (r == 0)
			break;
		if (r < 0) {
			session_close(s);
			break;
		}
		r = vhu_msg_dispatch(s->dev, &s->dev->conn.msg);
		/* No burst runs here, so no request waits for one. */
		VHU_FUZZ_CHECK(r != VHU_MSG_PARKED, "a request was parked");
		vhu_conn_next(s->dev);
		vhu_dev_notify(s->dev);
		check_views(s->dev);
		if (r == VHU_MSG_FATAL) {
			session_close(s);
			break;
		}
		/* Replies: drained so the socket never fills. */
		while (s->fe >= 0 && read(s->fe, sink, sizeof(sink)) > 0)
			;
	}
	while (s->fe >= 0 && read(s->fe, sink, sizeof(sink)) > 0)
		;
}

static int
make_fd(uint8_t kind, int *extra)
{
	int p[2];

	*extra = -1;
	switch (kind % 6) {
	case 0: case 1: case 2: case 3:
		return dup(memfds[kind % 6]);
	case 4:
		return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	default:
		if (pipe2(p, O_CLOEXEC) != 0)
			return -1;
		*extra = p[1];
		return p[0];
	}
}

static void
send_message(struct session *s, struct vhu_fuzz_in *in)
{
	struct {
		struct vhu_wire_header h;
		uint8_t payload[320];
	} __attribute__((packed)) m;
	int fds[9], extra[9];
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh = { 0 };
	uint8_t flags;
	unsigned int nfds, i;

	m.h.request = vhu_fuzz_u8(in);
	flags = vhu_fuzz_u8(in);
	m.h.flags = (flags & 0x80) ? flags : (VHU_WIRE_VERSION | (flags & 0x0c));
	m.h.size = vhu_fuzz_u16(in) % sizeof(m.payload);
	vhu_fuzz_bytes(in, m.payload, m.h.size);
	nfds = vhu_fuzz_u8(in) % 10;
	for (i = 0; i < nfds; i++)
		fds[i] = make_fd(vhu_fuzz_u8(in), &extra[i]);
	iov.iov_base = &m;
	iov.iov_len = sizeof(m.h) + m.h.size;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	/* A full socket (the device stopped reading) is the device's
	 * business; what was not sent is simply not sent. */
	if (sendmsg(s->fe, &mh, MSG_NOSIGNAL) < 0 && errno == EBADF)
		abort();
	for (i = 0; i < nfds; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (extra[i] >= 0)
			close(extra[i]);
	}
}

static void
send_raw(struct session *s, struct vhu_fuzz_in *in)
{
	uint8_t buf[256];
	uint8_t n = vhu_fuzz_u8(in);

	vhu_fuzz_bytes(in, buf, n);
	if (write(s->fe, buf, n) < 0 && errno == EBADF)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhu_device_config cfg = {
		.path = "/nonexistent/vhu-fuzz.sock",
		.max_queue_pairs = 2,
		.numa_socket = -1,
		.offloads = VHU_OFFLOAD_ALL,
	};
	struct vhu_fuzz_in in;
	struct session s = { .fe = -1 };
	int fds_before = count_open_fds(), fds, maps;

	vhu_fuzz_in_init(&in, data, size);
	VHU_FUZZ_CHECK(vhu_dev_create(&cfg, &s.dev) == 0, "device");
	session_open(&s);
	while (!vhu_fuzz_in_empty(&in)) {
		if (s.fe < 0)
			session_open(&s);
		switch (vhu_fuzz_u8(&in) % 4) {
		case 0:
			send_message(&s, &in);
			break;
		case 1:
			send_raw(&s, &in);
			break;
		case 2:
			close(s.fe);
			s.fe = -1;
			break;
		default:
			break;
		}
		session_pump(&s);
		if (s.fe < 0)
			session_close(&s);
	}
	session_close(&s);
	vhu_dev_destroy(s.dev);

	fds = count_open_fds();
	VHU_FUZZ_CHECK(fds == fds_before, "%d fds left open",
		       fds - fds_before);
	/* A leaked table is a leaked allocation (LeakSanitizer reports it
	 * for the input); reading the maps costs more than a run, so the
	 * mappings themselves are counted every 64 runs. */
	if (++runs % 64 == 0) {
		maps = count_guest_maps();
		VHU_FUZZ_CHECK(maps == maps_base, "%d guest memory mappings left",
			       maps - maps_base);
	}
	return 0;
}
