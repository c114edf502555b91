/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit test of the test front-end (test/frontend) itself, with no
 * back-end: guest memory layout and GPA translation, message framing over
 * a socketpair, the negotiation sequence against a scripted peer (the
 * replies are queued on the socket before the front-end asks), and the
 * virtqueue logic checked by playing the device on the ring memory.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "vhu_fe.h"
#include "vhu_test.h"

VHU_TEST_MAIN_DEFS;

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define QSIZE 64u
#define HDR 12u

/* ---- leak accounting ---- */

static long
count_guest_maps(void)
{
	char line[512];
	long n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "vhu-fe-guest") != NULL)
			n++;
	fclose(f);
	return n;
}

/* ---- guest memory ---- */

static void
mem_cfg(struct vhu_fe_mem_config *c, unsigned int n, uint64_t size)
{
	vhu_fe_mem_config_default(c);
	c->nregions = n;
	c->gpa_base = 1 * MIB;
	c->gpa_gap = 3 * MIB;
	for (unsigned int i = 0; i < n && i < VHU_FE_MAX_REGIONS; i++)
		c->region_size[i] = size * (i + 1);
}

static void
test_mem_layout(void)
{
	struct vhu_fe_mem_config c;
	struct vhu_fe_mem *m;

	mem_cfg(&c, 3, 64 * KIB);
	VT_CHECK_EQ(vhu_fe_mem_create(&c, &m), 0);
	VT_CHECK_EQ(vhu_fe_mem_nregions(m), 3);
	uint64_t gpa = 1 * MIB;
	for (unsigned int i = 0; i < 3; i++) {
		const struct vhu_fe_region *r = vhu_fe_mem_region(m, i);
		uint8_t *h = r->hva;

		VT_CHECK(r != NULL);
		VT_CHECK_EQ(r->gpa, gpa);
		VT_CHECK_EQ(r->size, 64 * KIB * (i + 1));
		VT_CHECK_EQ(r->mmap_offset, 0);
		VT_CHECK(r->fd >= 0);
		if (i > 0)
			VT_CHECK(r->fd != vhu_fe_mem_region(m, i - 1)->fd);
		/* Round trips at the start, inside and at the very end. */
		uint64_t offs[] = { 0, 4095, r->size / 2 + 13, r->size - 1 };
		for (unsigned int k = 0; k < 4; k++) {
			VT_CHECK_EQ(vhu_fe_mem_to_gpa(m, h + offs[k], 1),
				    r->gpa + offs[k]);
			VT_CHECK(vhu_fe_mem_from_gpa(m, r->gpa + offs[k], 1) ==
				 h + offs[k]);
		}
		VT_CHECK(vhu_fe_mem_from_gpa(m, r->gpa, r->size) == h);
		/* One byte too far, or straddling the end: refused. */
		VT_CHECK(vhu_fe_mem_from_gpa(m, r->gpa, r->size + 1) == NULL);
		VT_CHECK(vhu_fe_mem_from_gpa(m, r->gpa + r->size - 1, 2) == NULL);
		VT_CHECK_EQ(vhu_fe_mem_to_gpa(m, h + r->size - 1, 2),
			    VHU_FE_BAD_GPA);
		/* The gap after the region is not memory. */
		VT_CHECK(vhu_fe_mem_from_gpa(m, r->gpa + r->size, 1) == NULL);
		VT_CHECK(vhu_fe_mem_from_gpa(m, r->gpa + r->size + MIB, 1) == NULL);
		gpa += r->size + 3 * MIB;
	}
	VT_CHECK(vhu_fe_mem_from_gpa(m, 0, 1) == NULL);
	VT_CHECK(vhu_fe_mem_from_gpa(m, UINT64_MAX, 2) == NULL);
	VT_CHECK(vhu_fe_mem_region(m, 3) == NULL);
	int local;
	VT_CHECK_EQ(vhu_fe_mem_to_gpa(m, &local, sizeof(local)), VHU_FE_BAD_GPA);

	struct vhu_wire_mem_region w;
	vhu_fe_region_to_wire(vhu_fe_mem_region(m, 1), &w);
	VT_CHECK_EQ(w.guest_phys_addr, vhu_fe_mem_region(m, 1)->gpa);
	VT_CHECK_EQ(w.userspace_addr,
		    (uintptr_t)vhu_fe_mem_region(m, 1)->hva);
	vhu_fe_mem_destroy(m);
}

/* Several regions in one memfd: offsets non-zero, and a back-end mapping
 * the fd from 0 finds each region's bytes at its mmap_offset. */
static void
test_mem_shared_fd(void)
{
	struct vhu_fe_mem_config c;
	struct vhu_fe_mem *m;

	mem_cfg(&c, 4, 16 * KIB);
	c.share_fd = true;
	VT_CHECK_EQ(vhu_fe_mem_create(&c, &m), 0);
	const struct vhu_fe_region *r0 = vhu_fe_mem_region(m, 0);
	uint64_t prev_end = 0;
	for (unsigned int i = 0; i < 4; i++) {
		const struct vhu_fe_region *r = vhu_fe_mem_region(m, i);

		VT_CHECK_EQ(r->fd, r0->fd);
		VT_CHECK(r->mmap_offset > prev_end);
		memset(r->hva, 0xa0 + i, r->size);
		prev_end = r->mmap_offset + r->size;
	}
	const struct vhu_fe_region *last = vhu_fe_mem_region(m, 3);
	size_t span = last->mmap_offset + last->size;
	uint8_t *all = mmap(NULL, span, PROT_READ, MAP_SHARED, r0->fd, 0);
	VT_CHECK(all != MAP_FAILED);
	for (unsigned int i = 0; i < 4; i++) {
		const struct vhu_fe_region *r = vhu_fe_mem_region(m, i);

		VT_CHECK_EQ(all[r->mmap_offset], 0xa0 + i);
		VT_CHECK_EQ(all[r->mmap_offset + r->size - 1], 0xa0 + i);
		VT_CHECK_EQ(all[r->mmap_offset - 1], 0);   /* padding */
	}
	munmap(all, span);
	vhu_fe_mem_destroy(m);
}

static void
test_mem_alloc(void)
{
	struct vhu_fe_mem_config c;
	struct vhu_fe_mem *m;
	void *p[3];

	mem_cfg(&c, 3, 8 * KIB);   /* 8, 16, 24 KiB */
	VT_CHECK_EQ(vhu_fe_mem_create(&c, &m), 0);
	/* Consecutive allocations rotate over the regions. */
	for (unsigned int i = 0; i < 3; i++) {
		p[i] = vhu_fe_mem_alloc(m, 100, 64);
		VT_CHECK(p[i] != NULL);
		VT_CHECK_EQ((uintptr_t)p[i] % 64, 0);
		VT_CHECK(p[i] == vhu_fe_mem_region(m, i)->hva);
	}
	uint8_t *q = vhu_fe_mem_alloc(m, 10, 4096);
	VT_CHECK(q == (uint8_t *)vhu_fe_mem_region(m, 0)->hva + 4096);
	/* Region 0 has 4086 bytes left: a bigger object goes elsewhere. */
	VT_CHECK_EQ(vhu_fe_mem_free_bytes(m, 0), 8 * KIB - 4096 - 10);
	uint8_t *big = vhu_fe_mem_alloc(m, 12 * KIB, 8);
	VT_CHECK(big != NULL);
	VT_CHECK(vhu_fe_mem_to_gpa(m, big, 12 * KIB) != VHU_FE_BAD_GPA);
	VT_CHECK(vhu_fe_mem_alloc_in(m, 0, 8 * KIB, 8) == NULL);
	VT_CHECK(vhu_fe_mem_alloc_in(m, 5, 8, 8) == NULL);
	VT_CHECK(vhu_fe_mem_alloc(m, 64 * KIB, 8) == NULL);
	VT_CHECK(vhu_fe_mem_alloc(m, 8, 3) == NULL);       /* not a power of 2 */
	vhu_fe_mem_destroy(m);
}

static void
test_mem_bad_config(void)
{
	struct vhu_fe_mem_config c;
	struct vhu_fe_mem *m = (void *)1;

	mem_cfg(&c, 0, 4 * KIB);
	VT_CHECK_EQ(vhu_fe_mem_create(&c, &m), -EINVAL);
	VT_CHECK(m == NULL);
	mem_cfg(&c, 9, 4 * KIB);
	VT_CHECK_EQ(vhu_fe_mem_create(&c, &m), -EINVAL);
	mem_cfg(&c, 2, 4 * KIB);
	c.region_size[1] = 5000;
	VT_CHECK_EQ(vhu_fe_mem_create(&c, &m), -EINVAL);
	mem_cfg(&c, 1, 4 * KIB);
	c.gpa_base = 100;
	VT_CHECK_EQ(vhu_fe_mem_create(&c, &m), -EINVAL);
	mem_cfg(&c, 2, 4 * KIB);
	c.gpa_base = UINT64_MAX - 4095;
	VT_CHECK_EQ(vhu_fe_mem_create(&c, &m), -EINVAL);
}

/* ---- message framing ---- */

static bool
same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

static int
pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  0, sv);
}

static void
test_msg_roundtrip(void)
{
	int sv[2], fds[2];
	struct vhu_wire_vring_addr a = { 3, 0, 0x1000, 0x2000, 0x3000, 0x4000 };
	struct vhu_fe_msg msg;
	long before = vhu_test_count_fds();

	VT_CHECK_EQ(pair(sv), 0);
	fds[0] = memfd_create("t0", MFD_CLOEXEC);
	fds[1] = memfd_create("t1", MFD_CLOEXEC);
	VT_CHECK(fds[0] >= 0 && fds[1] >= 0);
	VT_CHECK_EQ(vhu_fe_msg_send(sv[0], VHU_REQ_SET_VRING_ADDR,
				    VHU_WIRE_VERSION, &a, sizeof(a), fds, 2, 1000), 0);
	VT_CHECK_EQ(vhu_fe_msg_send(sv[0], VHU_REQ_GET_FEATURES,
				    VHU_WIRE_VERSION, NULL, 0, NULL, 0, 1000), 0);
	VT_CHECK_EQ(vhu_fe_msg_recv(sv[1], &msg, 1000), 0);
	VT_CHECK_EQ(msg.hdr.request, VHU_REQ_SET_VRING_ADDR);
	VT_CHECK_EQ(msg.hdr.flags, VHU_WIRE_VERSION);
	VT_CHECK_EQ(msg.hdr.size, sizeof(a));
	VT_CHECK_EQ(msg.len, sizeof(a));
	VT_CHECK(memcmp(msg.payload, &a, sizeof(a)) == 0);
	VT_CHECK_EQ(msg.nfds, 2);
	VT_CHECK(same_file(msg.fds[0], fds[0]));
	VT_CHECK(same_file(msg.fds[1], fds[1]));
	vhu_fe_msg_close_fds(&msg);
	/* The next message is intact and carries no fd. */
	VT_CHECK_EQ(vhu_fe_msg_recv(sv[1], &msg, 1000), 0);
	VT_CHECK_EQ(msg.hdr.request, VHU_REQ_GET_FEATURES);
	VT_CHECK_EQ(msg.len, 0);
	VT_CHECK_EQ(msg.nfds, 0);
	/* Nothing more: a timeout, not a hang. */
	VT_CHECK_EQ(vhu_fe_msg_recv(sv[1], &msg, 50), -ETIMEDOUT);
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
	/* Peer gone. */
	VT_CHECK_EQ(vhu_fe_msg_recv(sv[1], &msg, 1000), -ECONNRESET);
	VT_CHECK_EQ(vhu_fe_msg_send(sv[1], VHU_REQ_SET_OWNER, VHU_WIRE_VERSION,
				    NULL, 0, NULL, 0, 1000), -EPIPE);
	close(sv[1]);
	VT_CHECK_EQ(vhu_test_count_fds(), before);
}

/* Malformed messages go out byte for byte; the receiver copes. */
static void
test_msg_malformed(void)
{
	int sv[2], fds[12];
	struct vhu_fe_msg msg;
	uint8_t bytes[64] = { 0 };
	struct vhu_wire_header h = { VHU_REQ_SET_FEATURES, VHU_WIRE_VERSION, 100 };
	long before = vhu_test_count_fds();

	VT_CHECK_EQ(pair(sv), 0);
	/* Header claims 100 payload bytes, only 10 follow: truncated. */
	memcpy(bytes, &h, sizeof(h));
	VT_CHECK_EQ(vhu_fe_msg_send_bytes(sv[0], bytes, sizeof(h) + 10, NULL, 0,
					  1000), 0);
	uint8_t got[128];
	ssize_t n = recv(sv[1], got, sizeof(got), 0);
	VT_CHECK_EQ(n, sizeof(h) + 10);
	VT_CHECK(memcmp(got, bytes, (size_t)n) == 0);
	/* The same through recv: times out waiting for the rest. */
	VT_CHECK_EQ(vhu_fe_msg_send_bytes(sv[0], bytes, sizeof(h) + 10, NULL, 0,
					  1000), 0);
	VT_CHECK_EQ(vhu_fe_msg_recv(sv[1], &msg, 50), -ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);

	/* Unknown request, oversized payload, 12 fds (more than 8). */
	VT_CHECK_EQ(pair(sv), 0);
	for (unsigned int i = 0; i < 12; i++) {
		fds[i] = memfd_create("t", MFD_CLOEXEC);
		VT_CHECK(fds[i] >= 0);
	}
	uint8_t *huge = calloc(1, VHU_FE_MSG_MAX_PAYLOAD + 500);
	VT_CHECK(huge != NULL);
	struct vhu_wire_header hh = { 999, VHU_WIRE_VERSION,
				      VHU_FE_MSG_MAX_PAYLOAD + 500 - 12 };
	memcpy(huge, &hh, sizeof(hh));
	VT_CHECK_EQ(vhu_fe_msg_send_bytes(sv[0], huge, VHU_FE_MSG_MAX_PAYLOAD + 500,
					  fds, 12, 1000), 0);
	free(huge);
	VT_CHECK_EQ(vhu_fe_msg_send(sv[0], VHU_REQ_GET_STATUS, VHU_WIRE_VERSION,
				    NULL, 0, NULL, 0, 1000), 0);
	VT_CHECK_EQ(vhu_fe_msg_recv(sv[1], &msg, 1000), -EMSGSIZE);
	VT_CHECK_EQ(msg.hdr.request, 999);
	VT_CHECK_EQ(msg.nfds, 0);                 /* closed, not leaked */
	VT_CHECK_EQ(vhu_fe_msg_recv(sv[1], &msg, 1000), 0);  /* in step */
	VT_CHECK_EQ(msg.hdr.request, VHU_REQ_GET_STATUS);
	VT_CHECK(strcmp(vhu_fe_req_name(VHU_REQ_SET_MEM_TABLE),
			"SET_MEM_TABLE") == 0);
	VT_CHECK(strcmp(vhu_fe_req_name(12345), "UNKNOWN") == 0);
	/* Send-side argument checks. */
	VT_CHECK_EQ(vhu_fe_msg_send_bytes(sv[0], bytes, 0, NULL, 0, 10), -EINVAL);
	VT_CHECK_EQ(vhu_fe_msg_send_bytes(sv[0], bytes, 4, fds, 33, 10), -EINVAL);
	for (unsigned int i = 0; i < 12; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
	VT_CHECK_EQ(vhu_test_count_fds(), before);
}

/* ---- negotiation against a scripted peer ---- */

#define OFFERED_FEATURES ((1ull << VIRTIO_F_VERSION_1) | \
			  (1ull << VIRTIO_NET_F_MRG_RXBUF) | \
			  (1ull << VIRTIO_RING_F_INDIRECT_DESC) | \
			  (1ull << VIRTIO_NET_F_CSUM) | \
			  (1ull << VHU_F_PROTOCOL_FEATURES))
#define OFFERED_PROTO ((1ull << VHU_PROTO_F_REPLY_ACK) | \
		       (1ull << VHU_PROTO_F_MQ) | \
		       (1ull << VHU_PROTO_F_BACKEND_REQ))

struct fixture {
	struct vhu_fe *fe;
	int be;                 /* the scripted back-end's end */
	struct vhu_fe_vring_raw rx, tx;
	uint16_t rx_avail, tx_avail;   /* the device's next avail index */
};

static void
be_reply(int be, uint32_t req, const void *p, uint32_t size)
{
	vhu_fe_msg_send(be, req, VHU_WIRE_VERSION | VHU_WIRE_F_REPLY, p, size,
			NULL, 0, 1000);
}

static void
be_ack(int be, uint32_t req, uint64_t v)
{
	be_reply(be, req, &v, sizeof(v));
}

static void
fe_cfg(struct vhu_fe_config *c)
{
	vhu_fe_config_default(c);
	c->queue_size = QSIZE;
	c->timeout_ms = 1000;
	c->features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	c->mem.nregions = 3;
	c->mem.share_fd = true;
	c->mem.gpa_base = 16 * MIB;
	c->mem.gpa_gap = 32 * MIB;
}

static const uint32_t ring_reqs[] = {
	VHU_REQ_SET_VRING_NUM, VHU_REQ_SET_VRING_BASE, VHU_REQ_SET_VRING_ADDR,
	VHU_REQ_SET_VRING_CALL, VHU_REQ_SET_VRING_KICK, VHU_REQ_SET_VRING_ENABLE,
};

/* Queue every reply the default sequence needs (1 queue pair), with
 * `features` offered. */
static void
queue_replies(int be, uint64_t features, uint64_t mem_ack)
{
	uint64_t f = features, pf = OFFERED_PROTO, qn = 4;

	be_reply(be, VHU_REQ_GET_FEATURES, &f, sizeof(f));
	be_reply(be, VHU_REQ_GET_PROTOCOL_FEATURES, &pf, sizeof(pf));
	be_reply(be, VHU_REQ_GET_QUEUE_NUM, &qn, sizeof(qn));
	be_ack(be, VHU_REQ_SET_FEATURES, 0);
	be_ack(be, VHU_REQ_SET_MEM_TABLE, mem_ack);
	for (unsigned int r = 0; r < 2; r++)
		for (unsigned int k = 0; k < 6; k++)
			be_ack(be, ring_reqs[k], 0);
}

static void
queue_setup_replies(int be, uint64_t mem_ack)
{
	queue_replies(be, OFFERED_FEATURES, mem_ack);
}

/* A device set up with config c against a scripted peer offering
 * `offered`. */
static int
fixture_up_cfg(struct fixture *fx, const struct vhu_fe_config *c,
	       uint64_t offered)
{
	int sv[2];

	memset(fx, 0, sizeof(*fx));
	if (vhu_fe_create(c, &fx->fe) != 0 || pair(sv) != 0)
		return -1;
	fx->be = sv[1];
	if (vhu_fe_attach(fx->fe, sv[0]) != 0)
		return -1;
	queue_replies(fx->be, offered, 0);
	if (vhu_fe_setup(fx->fe) != 0)
		return -1;
	/* Drain what the front-end sent; the sequence test checks it. */
	struct vhu_fe_msg m;
	while (vhu_fe_msg_recv(fx->be, &m, 0) == 0)
		vhu_fe_msg_close_fds(&m);
	vhu_fe_vring_get_raw(vhu_fe_get_vring(fx->fe, 0), &fx->rx);
	vhu_fe_vring_get_raw(vhu_fe_get_vring(fx->fe, 1), &fx->tx);
	return 0;
}

static int
fixture_up(struct fixture *fx)
{
	struct vhu_fe_config c;

	fe_cfg(&c);
	return fixture_up_cfg(fx, &c, OFFERED_FEATURES);
}

static void
fixture_down(struct fixture *fx)
{
	vhu_fe_destroy(fx->fe);
	if (fx->be > 0)
		close(fx->be);
}

/* Expect the next request; returns its message (fds closed by caller). */
static int
expect(int be, struct vhu_fe_msg *m, uint32_t req, uint32_t size,
       unsigned int nfds, bool need_reply)
{
	if (vhu_fe_msg_recv(be, m, 0) != 0)
		return -1;
	if (m->hdr.request != req || m->len != size || m->nfds != nfds ||
	    !!(m->hdr.flags & VHU_WIRE_F_NEED_REPLY) != need_reply ||
	    (m->hdr.flags & VHU_WIRE_VERSION_MASK) != VHU_WIRE_VERSION) {
		fprintf(stderr, "  got %s size %u fds %u flags 0x%x, want %s "
			"size %u fds %u need_reply %d\n",
			vhu_fe_req_name(m->hdr.request), m->len, m->nfds,
			m->hdr.flags, vhu_fe_req_name(req), size, nfds, need_reply);
		vhu_fe_msg_close_fds(m);
		return -1;
	}
	return 0;
}

static void
test_setup_sequence(void)
{
	struct vhu_fe_config c;
	struct vhu_fe *fe;
	struct vhu_fe_msg m;
	uint64_t v;
	int sv[2];
	long fds_before = vhu_test_count_fds(), maps_before = count_guest_maps();

	fe_cfg(&c);
	VT_CHECK_EQ(vhu_fe_create(&c, &fe), 0);
	VT_CHECK_EQ(pair(sv), 0);
	VT_CHECK_EQ(vhu_fe_attach(fe, sv[0]), 0);
	VT_CHECK_EQ(vhu_fe_attach(fe, sv[0]), -EISCONN);
	queue_setup_replies(sv[1], 0);
	VT_CHECK_EQ(vhu_fe_setup(fe), 0);

	uint64_t want = c.features & OFFERED_FEATURES;
	VT_CHECK_EQ(vhu_fe_features(fe), want);
	VT_CHECK_EQ(vhu_fe_protocol_features(fe),
		    (1ull << VHU_PROTO_F_REPLY_ACK) | (1ull << VHU_PROTO_F_MQ));
	VT_CHECK_EQ(vhu_fe_hdr_len(fe), 12);

	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_OWNER, 0, 0, false), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_GET_FEATURES, 0, 0, false), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_GET_PROTOCOL_FEATURES, 0, 0,
			   false), 0);
	/* REPLY_ACK applies only after SET_PROTOCOL_FEATURES went out. */
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_PROTOCOL_FEATURES, 8, 0,
			   false), 0);
	memcpy(&v, m.payload, 8);
	VT_CHECK_EQ(v, vhu_fe_protocol_features(fe));
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_GET_QUEUE_NUM, 0, 0, false), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_FEATURES, 8, 0, true), 0);
	memcpy(&v, m.payload, 8);
	VT_CHECK_EQ(v, want);

	/* The memory table: every region, its fd, the front-end's address. */
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_MEM_TABLE, 8 + 3 * 32, 3,
			   true), 0);
	struct vhu_wire_mem_table t;
	memcpy(&t, m.payload, m.len);
	VT_CHECK_EQ(t.nregions, 3);
	for (unsigned int i = 0; i < 3; i++) {
		const struct vhu_fe_region *r =
			vhu_fe_mem_region(vhu_fe_get_mem(fe), i);

		VT_CHECK_EQ(t.regions[i].guest_phys_addr, r->gpa);
		VT_CHECK_EQ(t.regions[i].memory_size, r->size);
		VT_CHECK_EQ(t.regions[i].userspace_addr, (uintptr_t)r->hva);
		VT_CHECK_EQ(t.regions[i].mmap_offset, r->mmap_offset);
		VT_CHECK(t.regions[i].mmap_offset != 0);
		VT_CHECK(same_file(m.fds[i], r->fd));
	}
	vhu_fe_msg_close_fds(&m);

	for (unsigned int ring = 0; ring < 2; ring++) {
		struct vhu_fe_vring_raw raw;
		struct vhu_wire_vring_state st;
		struct vhu_wire_vring_addr a;

		vhu_fe_vring_get_raw(vhu_fe_get_vring(fe, ring), &raw);
		VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_NUM, 8, 0, true), 0);
		memcpy(&st, m.payload, 8);
		VT_CHECK_EQ(st.index, ring);
		VT_CHECK_EQ(st.num, QSIZE);
		VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_BASE, 8, 0, true), 0);
		memcpy(&st, m.payload, 8);
		VT_CHECK_EQ(st.num, 0);
		VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_ADDR, 40, 0, true), 0);
		memcpy(&a, m.payload, sizeof(a));
		VT_CHECK_EQ(a.index, ring);
		VT_CHECK_EQ(a.desc_user_addr, (uintptr_t)raw.desc);
		VT_CHECK_EQ(a.avail_user_addr, (uintptr_t)raw.avail);
		VT_CHECK_EQ(a.used_user_addr, (uintptr_t)raw.used);
		VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_CALL, 8, 1, true), 0);
		memcpy(&v, m.payload, 8);
		VT_CHECK_EQ(v, ring);
		VT_CHECK(same_file(m.fds[0], vhu_fe_call_fd(fe, ring)));
		vhu_fe_msg_close_fds(&m);
		VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_KICK, 8, 1, true), 0);
		/* The injected kick is there to read on the received fd. */
		uint64_t kicks = 0;
		VT_CHECK_EQ(read(m.fds[0], &kicks, 8), 8);
		VT_CHECK(kicks >= 1);
		vhu_fe_msg_close_fds(&m);
		VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_ENABLE, 8, 0, true), 0);
		memcpy(&st, m.payload, 8);
		VT_CHECK_EQ(st.index, ring);
		VT_CHECK_EQ(st.num, 1);
		VT_CHECK(vhu_fe_ring_started(fe, ring));
	}
	VT_CHECK_EQ(vhu_fe_msg_recv(sv[1], &m, 0), -ETIMEDOUT);

	/* Stop: GET_VRING_BASE per ring, reply read, ring stopped. */
	struct vhu_wire_vring_state b0 = { 0, 7 }, b1 = { 1, 9 };
	be_reply(sv[1], VHU_REQ_GET_VRING_BASE, &b0, sizeof(b0));
	be_reply(sv[1], VHU_REQ_GET_VRING_BASE, &b1, sizeof(b1));
	VT_CHECK_EQ(vhu_fe_stop(fe), 0);
	VT_CHECK(!vhu_fe_ring_started(fe, 0) && !vhu_fe_ring_started(fe, 1));
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_GET_VRING_BASE, 8, 0, false), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_GET_VRING_BASE, 8, 0, false), 0);
	/* A restart sends the base the back-end returned. */
	for (unsigned int k = 0; k < 6; k++)
		be_ack(sv[1], ring_reqs[k], 0);
	VT_CHECK_EQ(vhu_fe_start_ring(fe, 1), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_NUM, 8, 0, true), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_BASE, 8, 0, true), 0);
	struct vhu_wire_vring_state st;
	memcpy(&st, m.payload, 8);
	VT_CHECK_EQ(st.index, 1);
	VT_CHECK_EQ(st.num, 9);
	while (vhu_fe_msg_recv(sv[1], &m, 0) == 0)
		vhu_fe_msg_close_fds(&m);

	close(sv[1]);
	vhu_fe_destroy(fe);
	VT_CHECK_EQ(vhu_test_count_fds(), fds_before);
	VT_CHECK_EQ(count_guest_maps(), maps_before);
}

/* Without PROTOCOL_FEATURES: no protocol messages, no SET_VRING_ENABLE,
 * no NEED_REPLY; a 10-byte header when VERSION_1 and MRG are off. */
static void
test_setup_legacy(void)
{
	struct vhu_fe_config c;
	struct vhu_fe *fe;
	struct vhu_fe_msg m;
	uint64_t f = 1ull << VIRTIO_NET_F_CSUM;
	int sv[2];

	fe_cfg(&c);
	c.features = 1ull << VIRTIO_NET_F_CSUM;
	c.mem.share_fd = false;
	c.mem.nregions = 1;
	VT_CHECK_EQ(vhu_fe_create(&c, &fe), 0);
	VT_CHECK_EQ(pair(sv), 0);
	VT_CHECK_EQ(vhu_fe_attach(fe, sv[0]), 0);
	be_reply(sv[1], VHU_REQ_GET_FEATURES, &f, sizeof(f));
	VT_CHECK_EQ(vhu_fe_setup(fe), 0);
	VT_CHECK_EQ(vhu_fe_hdr_len(fe), 10);
	VT_CHECK_EQ(vhu_fe_protocol_features(fe), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_OWNER, 0, 0, false), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_GET_FEATURES, 0, 0, false), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_FEATURES, 8, 0, false), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_MEM_TABLE, 8 + 32, 1, false), 0);
	vhu_fe_msg_close_fds(&m);
	for (unsigned int ring = 0; ring < 2; ring++)
		for (unsigned int k = 0; k < 5; k++) {
			bool fd = k == 3 || k == 4;
			VT_CHECK_EQ(expect(sv[1], &m, ring_reqs[k],
					   k == 2 ? 40 : 8, fd, false), 0);
			vhu_fe_msg_close_fds(&m);
		}
	VT_CHECK_EQ(vhu_fe_msg_recv(sv[1], &m, 0), -ETIMEDOUT);
	close(sv[1]);
	vhu_fe_destroy(fe);
}

/* Nack, wrong reply, silence, hang-up: each a clear error. */
static void
test_request_errors(void)
{
	struct vhu_fe_config c;
	struct vhu_fe *fe;
	uint64_t v;
	int sv[2];

	fe_cfg(&c);
	c.timeout_ms = 100;
	c.always_need_reply = true;
	VT_CHECK_EQ(vhu_fe_create(&c, &fe), 0);
	VT_CHECK_EQ(vhu_fe_set_owner(fe), -ENOTCONN);
	VT_CHECK_EQ(pair(sv), 0);
	VT_CHECK_EQ(vhu_fe_attach(fe, sv[0]), 0);

	be_ack(sv[1], VHU_REQ_SET_OWNER, 5);
	VT_CHECK_EQ(vhu_fe_set_owner(fe), -EREMOTEIO);
	VT_CHECK_EQ(vhu_fe_last_ack(fe), 5);
	be_ack(sv[1], VHU_REQ_SET_OWNER, 0);
	VT_CHECK_EQ(vhu_fe_set_owner(fe), 0);
	VT_CHECK_EQ(vhu_fe_last_ack(fe), 0);
	/* Reply to another request. */
	be_ack(sv[1], VHU_REQ_GET_STATUS, 0);
	VT_CHECK_EQ(vhu_fe_get_features(fe, &v), -EPROTO);
	/* Reply without the REPLY flag. */
	vhu_fe_msg_send(sv[1], VHU_REQ_GET_FEATURES, VHU_WIRE_VERSION, &v, 8,
			NULL, 0, 100);
	VT_CHECK_EQ(vhu_fe_get_features(fe, &v), -EPROTO);
	/* Reply of the wrong size. */
	be_reply(sv[1], VHU_REQ_GET_FEATURES, &v, 4);
	VT_CHECK_EQ(vhu_fe_get_features(fe, &v), -EPROTO);
	/* GET_VRING_BASE answered for another ring. */
	struct vhu_wire_vring_state st = { 1, 0 };
	be_reply(sv[1], VHU_REQ_GET_VRING_BASE, &st, sizeof(st));
	uint32_t base;
	VT_CHECK_EQ(vhu_fe_get_vring_base(fe, 0, &base), -EPROTO);
	VT_CHECK_EQ(vhu_fe_get_vring_base(fe, 7, &base), -EINVAL);
	/* Silence. */
	VT_CHECK_EQ(vhu_fe_get_features(fe, &v), -ETIMEDOUT);
	/* Hang-up. */
	close(sv[1]);
	VT_CHECK_EQ(vhu_fe_peer_closed(fe), 1);
	int rc = vhu_fe_set_owner(fe);
	VT_CHECK(rc == -EPIPE || rc == -ECONNRESET);
	vhu_fe_destroy(fe);
}

/* A nacked SET_MEM_TABLE stops the sequence with -EREMOTEIO. */
static void
test_setup_nack(void)
{
	struct vhu_fe_config c;
	struct vhu_fe *fe;
	int sv[2];

	fe_cfg(&c);
	VT_CHECK_EQ(vhu_fe_create(&c, &fe), 0);
	VT_CHECK_EQ(pair(sv), 0);
	VT_CHECK_EQ(vhu_fe_attach(fe, sv[0]), 0);
	queue_setup_replies(sv[1], 1);
	VT_CHECK_EQ(vhu_fe_setup(fe), -EREMOTEIO);
	VT_CHECK_EQ(vhu_fe_last_ack(fe), 1);
	VT_CHECK(!vhu_fe_ring_started(fe, 0));
	close(sv[1]);
	vhu_fe_destroy(fe);
}

static void *
connect_later(void *arg)
{
	int fd = vhu_fe_sock_connect(arg, 2000);

	return (void *)(intptr_t)fd;
}

/* Listen mode: the back-end (here a thread) connects to us. */
static void
test_listen_mode(void)
{
	struct vhu_fe_config c;
	struct vhu_fe *fe;
	char path[64];
	pthread_t t;
	void *ret;

	snprintf(path, sizeof(path), "/tmp/vhu-fe-test-%d.sock", (int)getpid());
	fe_cfg(&c);
	c.path = path;
	c.listen = true;
	VT_CHECK_EQ(vhu_fe_create(&c, &fe), 0);
	VT_CHECK_EQ(pthread_create(&t, NULL, connect_later, path), 0);
	VT_CHECK_EQ(vhu_fe_connect(fe), 0);
	VT_CHECK_EQ(pthread_join(t, &ret), 0);
	int be = (int)(intptr_t)ret;
	VT_CHECK(be >= 0);
	VT_CHECK(vhu_fe_sock_fd(fe) >= 0);
	VT_CHECK_EQ(vhu_fe_peer_closed(fe), 0);
	close(be);
	VT_CHECK_EQ(vhu_fe_peer_closed(fe), 1);
	vhu_fe_disconnect(fe);
	vhu_fe_destroy(fe);
	VT_CHECK(access(path, F_OK) != 0);   /* socket file removed */
	VT_CHECK_EQ(vhu_fe_sock_connect(path, 100), -ETIMEDOUT);
	int lfd = vhu_fe_sock_listen(path);
	VT_CHECK(lfd >= 0);
	VT_CHECK_EQ(vhu_fe_sock_accept(lfd, 50), -ETIMEDOUT);
	close(lfd);
	unlink(path);
}

/* ---- virtqueues, playing the device ---- */

/* The device takes the next avail head. */
static uint16_t
dev_take(const struct vhu_fe_vring_raw *r, uint16_t *avail)
{
	return r->avail->ring[(*avail)++ & (r->num - 1)];
}

static void
dev_use(const struct vhu_fe_vring_raw *r, uint16_t id, uint32_t len)
{
	uint16_t u = r->used->idx;

	r->used->ring[u & (r->num - 1)].id = id;
	r->used->ring[u & (r->num - 1)].len = len;
	__atomic_store_n(&r->used->idx, (uint16_t)(u + 1), __ATOMIC_RELEASE);
}

/* Read a TX chain as a device would: returns bytes gathered, -1 on a
 * descriptor the front-end should never have written. */
static long
dev_gather(struct fixture *fx, uint16_t head, uint8_t *out, size_t cap,
	   unsigned int *ndesc, bool *indirect)
{
	struct vhu_fe_mem *mem = vhu_fe_get_mem(fx->fe);
	const struct vring_desc *table = fx->tx.desc;
	unsigned int n = fx->tx.num, i = head;
	size_t got = 0;

	*indirect = false;
	*ndesc = 0;
	if (table[head].flags & VRING_DESC_F_INDIRECT) {
		if (table[head].len % 16 != 0)
			return -1;
		table = vhu_fe_mem_from_gpa(mem, table[head].addr, table[head].len);
		if (table == NULL)
			return -1;
		n = fx->tx.desc[head].len / 16;
		i = 0;
		*indirect = true;
	}
	for (unsigned int k = 0; k < n; k++) {
		const struct vring_desc *d = &table[i];
		const uint8_t *p = vhu_fe_mem_from_gpa(mem, d->addr, d->len);

		if (p == NULL || (d->flags & VRING_DESC_F_WRITE) ||
		    got + d->len > cap)
			return -1;
		memcpy(out + got, p, d->len);
		got += d->len;
		(*ndesc)++;
		if (!(d->flags & VRING_DESC_F_NEXT))
			return (long)got;
		i = d->next;
		if (i >= n)
			return -1;
	}
	return -1;
}

static void
test_tx_layouts(void)
{
	struct fixture fx;
	uint8_t frame[1000], got[2048];
	static const struct {
		enum vhu_fe_tx_layout layout;
		unsigned int segs, ndesc;
		bool indirect;
	} cases[] = {
		{ VHU_FE_TX_ONE, 0, 1, false },
		{ VHU_FE_TX_HDR_SPLIT, 0, 2, false },
		{ VHU_FE_TX_CHAIN, 4, 5, false },
		{ VHU_FE_TX_CHAIN, 15, 16, false },
		{ VHU_FE_TX_INDIRECT, 3, 4, true },
	};

	VT_CHECK_EQ(fixture_up(&fx), 0);
	VT_CHECK_EQ(vhu_fe_frame_build(frame, sizeof(frame), 77), 0);
	for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					       .csum_start = 34, .csum_offset = 6 };
		struct vhu_fe_tx_opts o = { cases[c].layout, cases[c].segs, &h };
		unsigned int ndesc, free_before = vhu_fe_vring_num_free(
			vhu_fe_get_vring(fx.fe, 1));
		bool ind;

		VT_CHECK_EQ(vhu_fe_tx_post(fx.fe, 0, frame, sizeof(frame), &o), 0);
		/* Not visible until flushed. */
		VT_CHECK_EQ(fx.tx.avail->idx, fx.tx_avail);
		VT_CHECK_EQ(vhu_fe_tx_flush(fx.fe, 0), 0);
		VT_CHECK_EQ(fx.tx.avail->idx, (uint16_t)(fx.tx_avail + 1));
		uint16_t head = dev_take(&fx.tx, &fx.tx_avail);
		long n = dev_gather(&fx, head, got, sizeof(got), &ndesc, &ind);
		VT_CHECK_EQ(n, HDR + sizeof(frame));
		VT_CHECK_EQ(ndesc, cases[c].ndesc);
		VT_CHECK_EQ(ind, cases[c].indirect);
		VT_CHECK(memcmp(got, &h, HDR) == 0);
		VT_CHECK(memcmp(got + HDR, frame, sizeof(frame)) == 0);
		VT_CHECK_EQ(vhu_fe_tx_inflight(fx.fe, 0), 1);
		VT_CHECK_EQ(vhu_fe_tx_reclaim(fx.fe, 0), 0);
		dev_use(&fx.tx, head, 0);
		VT_CHECK_EQ(vhu_fe_tx_reclaim(fx.fe, 0), 1);
		VT_CHECK_EQ(vhu_fe_tx_inflight(fx.fe, 0), 0);
		VT_CHECK_EQ(vhu_fe_vring_num_free(vhu_fe_get_vring(fx.fe, 1)),
			    free_before);
	}
	/* Bad requests. */
	struct vhu_fe_tx_opts bad = { VHU_FE_TX_CHAIN, 16, NULL };
	VT_CHECK_EQ(vhu_fe_tx_post(fx.fe, 0, frame, sizeof(frame), &bad), -EINVAL);
	VT_CHECK_EQ(vhu_fe_tx_post(fx.fe, 1, frame, sizeof(frame), NULL), -EINVAL);
	VT_CHECK_EQ(vhu_fe_tx_post(fx.fe, 0, frame, 0, NULL), -EINVAL);
	VT_CHECK_EQ(vhu_fe_tx_post(fx.fe, 0, got, 2048 - HDR + 1, NULL), -EMSGSIZE);
	fixture_down(&fx);
}

/* Fill the TX ring, complete out of order, reuse every descriptor. */
static void
test_tx_full_ring(void)
{
	struct fixture fx;
	uint8_t frame[64];
	uint16_t heads[QSIZE];
	struct vhu_fe_tx_opts chain = { VHU_FE_TX_CHAIN, 3, NULL };

	VT_CHECK_EQ(fixture_up(&fx), 0);
	VT_CHECK_EQ(vhu_fe_frame_build(frame, sizeof(frame), 1), 0);
	for (unsigned int round = 0; round < 3; round++) {
		unsigned int n = 0;
		int rc;

		/* Chains of 4 descriptors: QSIZE / 4 fit. */
		while ((rc = vhu_fe_tx_post(fx.fe, 0, frame, sizeof(frame),
					    &chain)) == 0)
			n++;
		VT_CHECK_EQ(rc, -ENOSPC);
		VT_CHECK_EQ(n, QSIZE / 4);
		VT_CHECK_EQ(vhu_fe_tx_flush(fx.fe, 0), 0);
		for (unsigned int i = 0; i < n; i++)
			heads[i] = dev_take(&fx.tx, &fx.tx_avail);
		/* Complete in reverse order, in two batches. */
		for (unsigned int i = n; i-- > n / 2;)
			dev_use(&fx.tx, heads[i], 0);
		VT_CHECK_EQ(vhu_fe_tx_reclaim(fx.fe, 0), n - n / 2);
		for (unsigned int i = n / 2; i-- > 0;)
			dev_use(&fx.tx, heads[i], 0);
		VT_CHECK_EQ(vhu_fe_tx_reclaim(fx.fe, 0), n / 2);
		VT_CHECK_EQ(vhu_fe_vring_num_free(vhu_fe_get_vring(fx.fe, 1)),
			    QSIZE);
	}
	/* Now one-descriptor frames: all QSIZE fit. */
	unsigned int n = 0;
	while (vhu_fe_tx_post(fx.fe, 0, frame, sizeof(frame), NULL) == 0)
		n++;
	VT_CHECK_EQ(n, QSIZE);
	struct vhu_fe_stats st;
	vhu_fe_get_stats(fx.fe, &st);
	VT_CHECK_EQ(st.tx_completed, 3 * QSIZE / 4);
	VT_CHECK_EQ(st.tx_packets, 3 * QSIZE / 4 + QSIZE);
	fixture_down(&fx);
}

/* Used entries the device must not produce. */
static void
test_used_checks(void)
{
	struct fixture fx;
	uint8_t frame[64];

	VT_CHECK_EQ(fixture_up(&fx), 0);
	VT_CHECK_EQ(vhu_fe_frame_build(frame, sizeof(frame), 1), 0);
	VT_CHECK_EQ(vhu_fe_tx_post(fx.fe, 0, frame, sizeof(frame), NULL), 0);
	VT_CHECK_EQ(vhu_fe_tx_flush(fx.fe, 0), 0);
	uint16_t head = dev_take(&fx.tx, &fx.tx_avail);
	/* An id out of range. */
	dev_use(&fx.tx, QSIZE + 3, 0);
	VT_CHECK_EQ(vhu_fe_tx_reclaim(fx.fe, 0), -EPROTO);
	fx.tx.used->ring[0].id = (uint16_t)(head + 1);   /* not in flight */
	VT_CHECK_EQ(vhu_fe_tx_reclaim(fx.fe, 0), -EPROTO);
	fx.tx.used->ring[0].id = head;
	VT_CHECK_EQ(vhu_fe_tx_reclaim(fx.fe, 0), 1);
	/* used->idx moved further than what is in flight. */
	__atomic_store_n(&fx.tx.used->idx, (uint16_t)(fx.tx.used->idx + 5),
			 __ATOMIC_RELEASE);
	VT_CHECK_EQ(vhu_fe_tx_reclaim(fx.fe, 0), -EPROTO);
	fixture_down(&fx);
}

struct rx_seen {
	unsigned int n;
	size_t len;
	uint16_t num_buffers;
	uint8_t flags;
	uint8_t data[8192];
};

static int
rx_record(void *arg, unsigned int qp, const struct virtio_net_hdr_v1 *h,
	  const uint8_t *frame, size_t len)
{
	struct rx_seen *s = arg;

	(void)qp;
	s->n++;
	s->len = len;
	s->num_buffers = h->num_buffers;
	s->flags = h->flags;
	if (len <= sizeof(s->data))
		memcpy(s->data, frame, len);
	return 0;
}

/* The device writes `len` frame bytes over `nb` buffers (MRG_RXBUF). */
static void
dev_rx_packet(struct fixture *fx, const uint8_t *frame, size_t len,
	      unsigned int nb, bool publish_all)
{
	struct vhu_fe_mem *mem = vhu_fe_get_mem(fx->fe);
	size_t off = 0;

	for (unsigned int k = 0; k < nb; k++) {
		uint16_t head = dev_take(&fx->rx, &fx->rx_avail);
		const struct vring_desc *d = &fx->rx.desc[head];
		uint8_t *p = vhu_fe_mem_from_gpa(mem, d->addr, d->len);
		size_t room = d->len, put = 0;

		if (k == 0) {
			struct virtio_net_hdr_v1 h = { .num_buffers = (uint16_t)nb };
			memcpy(p, &h, HDR);
			put = HDR;
		}
		size_t chunk = len - off < room - put ? len - off : room - put;
		memcpy(p + put, frame + off, chunk);
		off += chunk;
		if (k + 1 < nb || publish_all)
			dev_use(&fx->rx, head, (uint32_t)(put + chunk));
		else
			fx->rx_avail--;    /* give the last one back for now */
	}
}

static void
test_rx_merge(void)
{
	struct fixture fx;
	struct rx_seen *s = calloc(1, sizeof(*s));
	uint8_t frame[5000];

	VT_CHECK(s != NULL);
	VT_CHECK_EQ(fixture_up(&fx), 0);
	/* Prefilled: every buffer posted, writable, 2048 bytes. */
	VT_CHECK_EQ(fx.rx.avail->idx, QSIZE);
	for (unsigned int i = 0; i < QSIZE; i++) {
		VT_CHECK_EQ(fx.rx.desc[i].len, 2048);
		VT_CHECK_EQ(fx.rx.desc[i].flags, VRING_DESC_F_WRITE);
	}
	VT_CHECK_EQ(vhu_fe_frame_build(frame, sizeof(frame), 4242), 0);

	/* One buffer. */
	dev_rx_packet(&fx, frame, 1500, 1, true);
	VT_CHECK_EQ(vhu_fe_rx_poll(fx.fe, 0, rx_record, s, 64), 1);
	VT_CHECK_EQ(s->len, 1500);
	VT_CHECK(memcmp(s->data, frame, 1500) == 0);
	/* Re-posted. */
	VT_CHECK_EQ(fx.rx.avail->idx, QSIZE + 1);

	/* Three buffers, the last one late: nothing until it arrives. */
	dev_rx_packet(&fx, frame, sizeof(frame), 3, false);
	VT_CHECK_EQ(vhu_fe_rx_poll(fx.fe, 0, rx_record, s, 64), 0);
	VT_CHECK_EQ(s->n, 1);
	fx.rx_avail -= 2;          /* the device restarts this packet */
	__atomic_store_n(&fx.rx.used->idx, (uint16_t)(fx.rx.used->idx - 2),
			 __ATOMIC_RELEASE);
	dev_rx_packet(&fx, frame, sizeof(frame), 3, true);
	VT_CHECK_EQ(vhu_fe_rx_poll(fx.fe, 0, rx_record, s, 64), 1);
	VT_CHECK_EQ(s->n, 2);
	VT_CHECK_EQ(s->num_buffers, 3);
	VT_CHECK_EQ(s->len, sizeof(frame));
	VT_CHECK(memcmp(s->data, frame, sizeof(frame)) == 0);
	VT_CHECK_EQ(vhu_fe_frame_check(s->data, s->len, NULL), 0);

	struct vhu_fe_stats st;
	vhu_fe_get_stats(fx.fe, &st);
	VT_CHECK_EQ(st.rx_packets, 2);
	VT_CHECK_EQ(st.rx_buffers, 4);
	VT_CHECK_EQ(st.rx_bytes, 1500 + sizeof(frame));
	VT_CHECK_EQ(st.rx_violations, 0);

	/* Flags without GUEST_CSUM: counted, still delivered. */
	uint16_t head = dev_take(&fx.rx, &fx.rx_avail);
	uint8_t *p = vhu_fe_mem_from_gpa(vhu_fe_get_mem(fx.fe),
					 fx.rx.desc[head].addr, 2048);
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_DATA_VALID,
				       .num_buffers = 1 };
	memcpy(p, &h, HDR);
	memcpy(p + HDR, frame, 60);
	dev_use(&fx.rx, head, HDR + 60);
	VT_CHECK_EQ(vhu_fe_rx_poll(fx.fe, 0, rx_record, s, 64), 1);
	vhu_fe_get_stats(fx.fe, &st);
	VT_CHECK_EQ(st.rx_violations, 1);

	/* num_buffers 0, then a used length beyond the buffer. */
	head = dev_take(&fx.rx, &fx.rx_avail);
	p = vhu_fe_mem_from_gpa(vhu_fe_get_mem(fx.fe), fx.rx.desc[head].addr, 2048);
	memset(p, 0, HDR);
	dev_use(&fx.rx, head, HDR + 60);
	VT_CHECK_EQ(vhu_fe_rx_poll(fx.fe, 0, rx_record, s, 64), -EPROTO);
	h.flags = 0;
	memcpy(p, &h, HDR);
	fx.rx.used->ring[(fx.rx.used->idx - 1) & (QSIZE - 1)].len = 2049;
	VT_CHECK_EQ(vhu_fe_rx_poll(fx.fe, 0, rx_record, s, 64), -EPROTO);
	fx.rx.used->ring[(fx.rx.used->idx - 1) & (QSIZE - 1)].len = 5;
	VT_CHECK_EQ(vhu_fe_rx_poll(fx.fe, 0, rx_record, s, 64), -EPROTO);
	fixture_down(&fx);
	free(s);
}

/* Raw access: a hostile test writes its own descriptor and pushes it. */
static void
test_raw_push(void)
{
	struct fixture fx;
	uint16_t id;
	uint32_t len;

	VT_CHECK_EQ(fixture_up(&fx), 0);
	struct vhu_fe_vring *vr = vhu_fe_get_vring(fx.fe, 1);
	fx.tx.desc[5].addr = 0xdead0000;
	fx.tx.desc[5].len = 0;
	fx.tx.desc[5].flags = VRING_DESC_F_NEXT;
	fx.tx.desc[5].next = 5;         /* a loop */
	VT_CHECK_EQ(vhu_fe_vring_push_raw(vr, 5), 0);
	VT_CHECK_EQ(vhu_fe_vring_push_raw(vr, QSIZE), -EINVAL);
	VT_CHECK_EQ(fx.tx.avail->idx, 1);
	VT_CHECK_EQ(dev_take(&fx.tx, &fx.tx_avail), 5);
	VT_CHECK_EQ(vhu_fe_vring_inflight(vr), 1);
	dev_use(&fx.tx, 5, 0);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK_EQ(id, 5);
	VT_CHECK_EQ(vhu_fe_vring_num_free(vr), QSIZE);   /* nothing freed */
	/* Reset: memory zeroed, indices back to 0. */
	struct vhu_wire_vring_state b = { 1, 1 };
	be_reply(fx.be, VHU_REQ_GET_VRING_BASE, &b, sizeof(b));
	VT_CHECK_EQ(vhu_fe_ring_reset(fx.fe, 1), -EBUSY);
	uint32_t base;
	VT_CHECK_EQ(vhu_fe_get_vring_base(fx.fe, 1, &base), 0);
	VT_CHECK_EQ(base, 1);
	VT_CHECK_EQ(vhu_fe_ring_reset(fx.fe, 1), 0);
	struct vhu_fe_vring_raw raw;
	vhu_fe_vring_get_raw(vr, &raw);
	VT_CHECK_EQ(raw.avail_idx, 0);
	VT_CHECK_EQ(raw.used->idx, 0);
	VT_CHECK_EQ(raw.desc[5].addr, 0);
	fixture_down(&fx);
}

/* ---- packed virtqueues, playing the device ---- */

#define PF_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define PF_USED ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))
#define OFFERED_PACKED (OFFERED_FEATURES | (1ull << VIRTIO_F_RING_PACKED))
#define PQSIZE 62u     /* packed rings need not be a power of two */

/* The device's side of a packed ring: where it reads the next available
 * descriptor and writes the next used one, each with its wrap counter. */
struct pdev {
	struct vhu_fe_vring_raw r;
	struct vhu_fe_mem *mem;
	uint16_t avail, used;
	bool avail_wrap, used_wrap;
};

/* A buffer the device took: its descriptors (an indirect table's entries
 * in place of the ring descriptor), id, ring slots, and for RX what the
 * device wrote into it. */
struct ptaken {
	struct vring_packed_desc d[VHU_FE_MAX_SEGS];
	unsigned int n;
	unsigned int slots;
	uint16_t id;
	bool indirect;
	uint32_t written;
};

static void
pdev_init(struct pdev *d, struct vhu_fe_vring *vr, struct vhu_fe_mem *mem)
{
	memset(d, 0, sizeof(*d));
	vhu_fe_vring_get_raw(vr, &d->r);
	d->mem = mem;
	d->avail_wrap = d->used_wrap = true;
}

static void
pdev_step(const struct pdev *d, uint16_t *pos, bool *wrap)
{
	if (++*pos == d->r.num) {
		*pos = 0;
		*wrap = !*wrap;
	}
}

/* "Available" in the lap of wrap counter w: AVAIL = w, USED = !w. */
static bool
pdesc_avail(uint16_t flags, bool wrap)
{
	return !!(flags & PF_AVAIL) == wrap && !!(flags & PF_USED) != wrap;
}

/* Replace a taken INDIRECT descriptor by its table's entries. */
static int
pdev_indirect(const struct pdev *d, struct ptaken *t)
{
	uint32_t len = t->d[0].len;
	const struct vring_packed_desc *tab;

	if (t->slots != 1 || len == 0 || len % 16 != 0 ||
	    len / 16 > VHU_FE_MAX_SEGS)
		return -EBADMSG;
	tab = vhu_fe_mem_from_gpa(d->mem, t->d[0].addr, len);
	if (tab == NULL)
		return -EBADMSG;
	t->n = len / 16;
	for (unsigned int k = 0; k < t->n; k++) {
		/* Read in order: no NEXT, no nested INDIRECT. */
		if (tab[k].flags & ~VRING_DESC_F_WRITE)
			return -EBADMSG;
		t->d[k] = tab[k];
	}
	t->indirect = true;
	return 0;
}

/* Take the next available buffer as a device does: 0, -EAGAIN (nothing
 * available), or -EBADMSG (what the driver must not write: a descriptor
 * of the chain not available in its own slot's lap, ids differing inside
 * the chain, a bad indirect table). */
static int
pdev_take(struct pdev *d, struct ptaken *t)
{
	uint16_t pos = d->avail;
	bool wrap = d->avail_wrap;
	int rc;

	memset(t, 0, sizeof(*t));
	if (!pdesc_avail(__atomic_load_n(&d->r.pdesc[pos].flags,
					 __ATOMIC_ACQUIRE), wrap))
		return -EAGAIN;
	for (;;) {
		const struct vring_packed_desc *desc = &d->r.pdesc[pos];

		if (t->slots == VHU_FE_MAX_SEGS || !pdesc_avail(desc->flags, wrap) ||
		    (t->slots > 0 && desc->id != t->id))
			return -EBADMSG;
		t->id = desc->id;
		t->d[t->slots++] = *desc;
		pdev_step(d, &pos, &wrap);
		if (!(desc->flags & VRING_DESC_F_NEXT))
			break;
	}
	t->n = t->slots;
	if (t->d[0].flags & VRING_DESC_F_INDIRECT) {
		rc = pdev_indirect(d, t);
		if (rc < 0)
			return rc;
	}
	d->avail = pos;
	d->avail_wrap = wrap;
	return 0;
}

/* Write a used descriptor at the device's used slot, then move that slot
 * on by `slots` (the buffer's, or a whole in-order batch's). */
static void
pdev_use(struct pdev *d, uint16_t id, uint32_t len, unsigned int slots)
{
	struct vring_packed_desc *u = &d->r.pdesc[d->used];

	u->id = id;
	u->len = len;
	__atomic_store_n(&u->flags,
			 (uint16_t)(d->used_wrap ? PF_AVAIL | PF_USED : 0),
			 __ATOMIC_RELEASE);
	while (slots-- > 0)
		pdev_step(d, &d->used, &d->used_wrap);
}

/* The bytes of a taken TX buffer, or -1 for a writable descriptor or one
 * outside guest memory. */
static long
pdev_gather(const struct pdev *d, const struct ptaken *t, uint8_t *out,
	    size_t cap)
{
	size_t got = 0;

	for (unsigned int k = 0; k < t->n; k++) {
		const uint8_t *p = vhu_fe_mem_from_gpa(d->mem, t->d[k].addr,
						       t->d[k].len);

		if (p == NULL || (t->d[k].flags & VRING_DESC_F_WRITE) ||
		    got + t->d[k].len > cap)
			return -1;
		memcpy(out + got, p, t->d[k].len);
		got += t->d[k].len;
	}
	return (long)got;
}

/* The device receives a frame of len bytes into its next nb RX buffers
 * (MRG_RXBUF), header first; t[] gets them, not yet used. 0 or -1. */
static int
pdev_rx(struct pdev *d, struct ptaken *t, const uint8_t *frame, size_t len,
	unsigned int nb)
{
	size_t off = 0;

	for (unsigned int k = 0; k < nb; k++) {
		size_t put = 0;

		if (pdev_take(d, &t[k]) != 0)
			return -1;
		for (unsigned int i = 0; i < t[k].n; i++) {
			const struct vring_packed_desc *dd = &t[k].d[i];
			uint8_t *p = vhu_fe_mem_from_gpa(d->mem, dd->addr, dd->len);
			size_t room = dd->len, at = 0;

			if (p == NULL || !(dd->flags & VRING_DESC_F_WRITE))
				return -1;
			if (k == 0 && i == 0) {
				struct virtio_net_hdr_v1 h = {
					.num_buffers = (uint16_t)nb };

				if (room < HDR)
					return -1;
				memcpy(p, &h, HDR);
				at = HDR;
			}
			size_t chunk = len - off < room - at ? len - off : room - at;
			memcpy(p + at, frame + off, chunk);
			off += chunk;
			put += at + chunk;
		}
		t[k].written = (uint32_t)put;
	}
	return off == len ? 0 : -1;
}

/* Guest memory with a packed ring of num entries in it, and 4 KiB of
 * buffer space at *gpa; no device object. */
static int
pring_up(struct vhu_fe_mem **m, struct vhu_fe_vring **vr, unsigned int num,
	 bool indirect, uint64_t *gpa)
{
	struct vhu_fe_mem_config c;
	void *buf;

	mem_cfg(&c, 1, 1 * MIB);
	if (vhu_fe_mem_create(&c, m) != 0)
		return -1;
	buf = vhu_fe_mem_alloc(*m, 4096, 64);
	if (buf == NULL)
		return -1;
	*gpa = vhu_fe_mem_to_gpa(*m, buf, 4096);
	return vhu_fe_vring_create_packed(*m, num, indirect, vr);
}

static void
test_packed_layout(void)
{
	struct vhu_fe_mem *m;
	struct vhu_fe_vring *vr, *sv;
	struct vhu_fe_vring_raw r;
	struct vhu_fe_packed_base b = { 0, true, 0, true };
	struct vring_packed_desc one = { 0 };
	uint64_t g;

	VT_CHECK_EQ(pring_up(&m, &vr, 6, true, &g), 0);
	VT_CHECK(vhu_fe_vring_is_packed(vr));
	VT_CHECK_EQ(vhu_fe_vring_num(vr), 6);
	VT_CHECK_EQ(vhu_fe_vring_num_free(vr), 6);
	vhu_fe_vring_get_raw(vr, &r);
	VT_CHECK(r.packed);
	VT_CHECK(r.desc == NULL && r.avail == NULL && r.used == NULL);
	VT_CHECK(r.pdesc != NULL && r.driver_event != NULL &&
		 r.device_event != NULL);
	VT_CHECK_EQ((uintptr_t)r.pdesc % 16, 0);
	VT_CHECK_EQ((uintptr_t)r.driver_event % 4, 0);
	VT_CHECK_EQ((uintptr_t)r.device_event % 4, 0);
	VT_CHECK_EQ(r.desc_gpa, vhu_fe_mem_to_gpa(m, r.pdesc, 6 * 16));
	VT_CHECK_EQ(r.avail_gpa, vhu_fe_mem_to_gpa(m, r.driver_event, 4));
	VT_CHECK_EQ(r.used_gpa, vhu_fe_mem_to_gpa(m, r.device_event, 4));
	VT_CHECK_EQ(r.num, 6);
	VT_CHECK(r.avail_idx == 0 && r.avail_wrap);
	VT_CHECK(r.last_used == 0 && r.used_wrap);
	/* Used-buffer notifications: off by default, then asked for. */
	VT_CHECK_EQ(r.driver_event->flags, VRING_PACKED_EVENT_FLAG_DISABLE);
	vhu_fe_vring_set_interrupts(vr, true);
	VT_CHECK_EQ(r.driver_event->flags, VRING_PACKED_EVENT_FLAG_ENABLE);

	/* Any size 1..32768 when packed; split stays a power of two. */
	VT_CHECK_EQ(vhu_fe_vring_create_packed(m, 0, false, &sv), -EINVAL);
	VT_CHECK_EQ(vhu_fe_vring_create_packed(m, 32769, false, &sv), -EINVAL);
	VT_CHECK_EQ(vhu_fe_vring_create(m, 6, false, &sv), -EINVAL);
	VT_CHECK_EQ(vhu_fe_vring_create_packed(m, 1, false, &sv), 0);
	vhu_fe_vring_destroy(sv);
	VT_CHECK_EQ(vhu_fe_vring_create(m, 8, false, &sv), 0);
	VT_CHECK(!vhu_fe_vring_is_packed(sv));
	vhu_fe_vring_get_raw(sv, &r);
	VT_CHECK(!r.packed && r.pdesc == NULL && r.desc != NULL);
	/* Each format refuses the other's raw push. */
	VT_CHECK_EQ(vhu_fe_vring_push_raw_packed(sv, &one, 1), -EINVAL);
	VT_CHECK_EQ(vhu_fe_vring_push_raw(vr, 0), -EINVAL);
	vhu_fe_vring_destroy(sv);

	/* The 32-bit ring base of packed rings. */
	VT_CHECK_EQ(vhu_fe_packed_base_encode(&b), VHU_FE_PACKED_BASE_FRESH);
	b = (struct vhu_fe_packed_base){ 0x1234, false, 0x7fff, true };
	VT_CHECK_EQ(vhu_fe_packed_base_encode(&b), 0xffff1234u);
	vhu_fe_packed_base_decode(0x00058003u, &b);
	VT_CHECK(b.avail_idx == 3 && b.avail_wrap && b.used_idx == 5 &&
		 !b.used_wrap);
	vhu_fe_vring_destroy(vr);
	vhu_fe_mem_destroy(m);
}

/* Direct, chained and indirect buffers; heads stored by publish; used
 * descriptors out of order. */
static void
test_packed_chains(void)
{
	struct vhu_fe_mem *m;
	struct vhu_fe_vring *vr;
	struct vhu_fe_vring_raw r;
	struct pdev d;
	struct ptaken t;
	uint16_t id;
	uint32_t len;
	uint64_t g;

	VT_CHECK_EQ(pring_up(&m, &vr, 8, true, &g), 0);
	pdev_init(&d, vr, m);
	struct vhu_fe_seg one = { g, 100, false };
	struct vhu_fe_seg three[3] = {
		{ g + 100, 12, true }, { g + 200, 300, true }, { g + 600, 50, true },
	};
	struct vhu_fe_seg mixed[3] = {
		{ g + 1000, 12, false }, { g + 1100, 64, true },
		{ g + 1200, 64, true },
	};

	VT_CHECK_EQ(vhu_fe_vring_add(vr, &one, 1, false), 0);
	VT_CHECK_EQ(vhu_fe_vring_add(vr, three, 3, false), 1);
	/* All but the heads are written; the heads wait for publish. */
	VT_CHECK_EQ(d.r.pdesc[0].flags, 0);
	VT_CHECK_EQ(d.r.pdesc[1].flags, 0);
	VT_CHECK_EQ(d.r.pdesc[2].flags,
		    PF_AVAIL | VRING_DESC_F_NEXT | VRING_DESC_F_WRITE);
	VT_CHECK_EQ(d.r.pdesc[3].flags, PF_AVAIL | VRING_DESC_F_WRITE);
	VT_CHECK_EQ(pdev_take(&d, &t), -EAGAIN);
	VT_CHECK_EQ(vhu_fe_vring_num_free(vr), 4);
	VT_CHECK_EQ(vhu_fe_vring_inflight(vr), 2);
	VT_CHECK(vhu_fe_vring_publish(vr));     /* device event flags ENABLE */
	VT_CHECK(!vhu_fe_vring_publish(vr));    /* nothing new */
	VT_CHECK_EQ(d.r.pdesc[0].flags, PF_AVAIL);
	VT_CHECK_EQ(d.r.pdesc[1].flags,
		    PF_AVAIL | VRING_DESC_F_NEXT | VRING_DESC_F_WRITE);
	for (unsigned int k = 1; k <= 3; k++)
		VT_CHECK_EQ(d.r.pdesc[k].id, 1);
	VT_CHECK_EQ(pdev_take(&d, &t), 0);
	VT_CHECK(t.id == 0 && t.n == 1 && t.slots == 1 && !t.indirect);
	VT_CHECK(t.d[0].addr == g && t.d[0].len == 100);
	VT_CHECK_EQ(pdev_take(&d, &t), 0);
	VT_CHECK(t.id == 1 && t.n == 3 && t.slots == 3);
	for (unsigned int k = 0; k < 3; k++)
		VT_CHECK(t.d[k].addr == three[k].gpa && t.d[k].len == three[k].len);

	/* Indirect: one slot; the table is read in order, WRITE per entry.
	 * A device that disabled kicks gets none. */
	VT_CHECK_EQ(vhu_fe_vring_add(vr, mixed, 3, true), 2);
	VT_CHECK_EQ(vhu_fe_vring_num_free(vr), 3);
	d.r.device_event->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
	VT_CHECK(!vhu_fe_vring_publish(vr));
	VT_CHECK_EQ(d.r.pdesc[4].flags, PF_AVAIL | VRING_DESC_F_INDIRECT);
	VT_CHECK_EQ(d.r.pdesc[4].len, 48);
	VT_CHECK_EQ(pdev_take(&d, &t), 0);
	VT_CHECK(t.id == 2 && t.indirect && t.n == 3 && t.slots == 1);
	for (unsigned int k = 0; k < 3; k++)
		VT_CHECK(t.d[k].addr == mixed[k].gpa &&
			 t.d[k].len == mixed[k].len &&
			 t.d[k].flags == (mixed[k].write ? VRING_DESC_F_WRITE : 0));

	/* Out of order: each used descriptor moves the driver's used slot
	 * by the slots of the buffer it returns. */
	VT_CHECK_EQ(vhu_fe_vring_used_pending(vr), 0);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 0);
	pdev_use(&d, 1, 362, 3);
	pdev_use(&d, 2, 128, 1);
	VT_CHECK_EQ(vhu_fe_vring_used_pending(vr), 2);
	VT_CHECK_EQ(vhu_fe_vring_peek_used(vr, 1, &id, &len), 0);
	VT_CHECK(id == 2 && len == 128);
	VT_CHECK_EQ(vhu_fe_vring_peek_used(vr, 2, &id, &len), -ENOENT);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK(id == 1 && len == 362);
	vhu_fe_vring_get_raw(vr, &r);
	VT_CHECK_EQ(r.last_used, 3);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK(id == 2 && len == 128);
	vhu_fe_vring_get_raw(vr, &r);
	VT_CHECK_EQ(r.last_used, 4);
	VT_CHECK_EQ(vhu_fe_vring_num_free(vr), 7);
	/* Freed ids are reused, the last freed first; DESC means kick. */
	d.r.device_event->flags = VRING_PACKED_EVENT_FLAG_DESC;
	VT_CHECK_EQ(vhu_fe_vring_add(vr, &one, 1, false), 2);
	VT_CHECK(vhu_fe_vring_publish(vr));
	VT_CHECK_EQ(pdev_take(&d, &t), 0);
	VT_CHECK_EQ(t.id, 2);
	pdev_use(&d, 0, 0, 1);
	pdev_use(&d, 2, 0, 1);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK_EQ(id, 0);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK_EQ(id, 2);
	VT_CHECK_EQ(vhu_fe_vring_inflight(vr), 0);
	VT_CHECK_EQ(vhu_fe_vring_num_free(vr), 8);

	/* Reset: memory zeroed, slots and wrap counters as new. */
	vhu_fe_vring_reset(vr);
	vhu_fe_vring_get_raw(vr, &r);
	VT_CHECK(r.avail_idx == 0 && r.avail_wrap && r.last_used == 0 &&
		 r.used_wrap);
	VT_CHECK_EQ(r.pdesc[1].flags, 0);
	VT_CHECK_EQ(r.device_event->flags, 0);
	VT_CHECK_EQ(r.driver_event->flags, VRING_PACKED_EVENT_FLAG_DISABLE);
	VT_CHECK_EQ(vhu_fe_vring_add(vr, &one, 1, false), 0);
	vhu_fe_vring_destroy(vr);
	vhu_fe_mem_destroy(m);
}

/* Chains that straddle the end of an odd-sized ring, lap after lap. */
static void
test_packed_wrap(void)
{
	struct vhu_fe_mem *m;
	struct vhu_fe_vring *vr;
	struct vhu_fe_vring_raw r;
	struct pdev d;
	struct ptaken ta, tb;
	unsigned int laps = 0;
	uint16_t id;
	uint32_t len;
	uint64_t g;

	VT_CHECK_EQ(pring_up(&m, &vr, 5, false, &g), 0);
	pdev_init(&d, vr, m);
	struct vhu_fe_seg two[2] = { { g, 12, false }, { g + 64, 100, false } };
	struct vhu_fe_seg one = { g + 512, 60, true };

	for (unsigned int round = 0; round < 10; round++) {
		vhu_fe_vring_get_raw(vr, &r);
		unsigned int pos = r.avail_idx;
		bool wrap = r.avail_wrap, wrap_b = pos + 2 >= 5 ? !wrap : wrap;
		int a = vhu_fe_vring_add(vr, two, 2, false);
		int b = vhu_fe_vring_add(vr, &one, 1, false);

		VT_CHECK(a >= 0 && b >= 0 && a != b);
		VT_CHECK(vhu_fe_vring_publish(vr));
		/* Every descriptor carries the bits of its own slot's lap. */
		VT_CHECK_EQ(r.pdesc[(pos + 2) % 5].flags,
			    (wrap_b ? PF_AVAIL : PF_USED) | VRING_DESC_F_WRITE);
		VT_CHECK_EQ(pdev_take(&d, &ta), 0);
		VT_CHECK_EQ(pdev_take(&d, &tb), 0);
		VT_CHECK(ta.id == a && ta.slots == 2 && tb.id == b && tb.slots == 1);
		VT_CHECK_EQ(pdev_take(&d, &ta), -EAGAIN);
		/* Completed in reverse order. */
		pdev_use(&d, (uint16_t)b, 60, 1);
		pdev_use(&d, (uint16_t)a, 0, 2);
		VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
		VT_CHECK(id == b && len == 60);
		VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
		VT_CHECK(id == a && len == 0);
		VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 0);
		vhu_fe_vring_get_raw(vr, &r);
		VT_CHECK_EQ(r.avail_idx, (pos + 3) % 5);
		VT_CHECK_EQ(r.last_used, r.avail_idx);
		VT_CHECK(r.avail_wrap == d.avail_wrap && r.used_wrap == d.used_wrap);
		VT_CHECK_EQ(r.avail_wrap, pos + 3 >= 5 ? !wrap : wrap);
		laps += pos + 3 >= 5;
	}
	VT_CHECK_EQ(laps, 6);
	/* A full ring, then no room. */
	for (unsigned int i = 0; i < 5; i++)
		VT_CHECK(vhu_fe_vring_add(vr, &one, 1, false) >= 0);
	VT_CHECK_EQ(vhu_fe_vring_add(vr, &one, 1, false), -ENOSPC);
	VT_CHECK_EQ(vhu_fe_vring_num_free(vr), 0);
	VT_CHECK(vhu_fe_vring_publish(vr));
	for (unsigned int i = 0; i < 5; i++) {
		VT_CHECK_EQ(pdev_take(&d, &ta), 0);
		pdev_use(&d, ta.id, 1, 1);
	}
	VT_CHECK_EQ(vhu_fe_vring_used_pending(vr), 5);
	for (unsigned int i = 0; i < 5; i++)
		VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK_EQ(vhu_fe_vring_num_free(vr), 5);
	vhu_fe_vring_destroy(vr);
	vhu_fe_mem_destroy(m);
}

/* VIRTIO_F_IN_ORDER: one used descriptor returns a batch. */
static void
test_packed_in_order(void)
{
	static const unsigned int sizes[4] = { 1, 2, 1, 3 };
	struct vhu_fe_mem *m;
	struct vhu_fe_vring *vr;
	struct vhu_fe_vring_raw r;
	struct pdev d;
	struct ptaken t;
	uint16_t id, ids[4];
	uint32_t len;
	uint64_t g;

	VT_CHECK_EQ(pring_up(&m, &vr, 8, false, &g), 0);
	vhu_fe_vring_set_in_order(vr, true);
	pdev_init(&d, vr, m);
	struct vhu_fe_seg segs[3] = {
		{ g, 100, false }, { g + 100, 100, false }, { g + 200, 100, false },
	};
	for (unsigned int i = 0; i < 4; i++) {
		int rc = vhu_fe_vring_add(vr, segs, sizes[i], false);

		VT_CHECK(rc >= 0);
		ids[i] = (uint16_t)rc;
	}
	VT_CHECK(vhu_fe_vring_publish(vr));
	for (unsigned int i = 0; i < 4; i++) {
		VT_CHECK_EQ(pdev_take(&d, &t), 0);
		VT_CHECK(t.id == ids[i] && t.slots == sizes[i]);
	}
	/* The first three with one descriptor naming the third; the device
	 * skips their 4 slots. */
	pdev_use(&d, ids[2], 77, 1 + 2 + 1);
	VT_CHECK_EQ(vhu_fe_vring_used_pending(vr), 3);
	VT_CHECK_EQ(vhu_fe_vring_peek_used(vr, 0, &id, &len), 0);
	VT_CHECK(id == ids[0] && len == 0);
	VT_CHECK_EQ(vhu_fe_vring_peek_used(vr, 1, &id, &len), 0);
	VT_CHECK(id == ids[1] && len == 0);
	VT_CHECK_EQ(vhu_fe_vring_peek_used(vr, 2, &id, &len), 0);
	VT_CHECK(id == ids[2] && len == 77);
	VT_CHECK_EQ(vhu_fe_vring_peek_used(vr, 3, &id, &len), -ENOENT);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK(id == ids[0] && len == 0);
	VT_CHECK_EQ(vhu_fe_vring_used_pending(vr), 2);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK(id == ids[1] && len == 0);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK(id == ids[2] && len == 77);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 0);
	vhu_fe_vring_get_raw(vr, &r);
	VT_CHECK_EQ(r.last_used, 4);
	VT_CHECK_EQ(vhu_fe_vring_num_free(vr), 5);
	/* The last alone, then a batch across the end of the ring. */
	pdev_use(&d, ids[3], 9, 3);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK(id == ids[3] && len == 9);
	int e = vhu_fe_vring_add(vr, segs, 2, false);      /* slots 7, 0 */
	int f = vhu_fe_vring_add(vr, segs, 1, false);      /* slot 1 */
	VT_CHECK(e >= 0 && f >= 0);
	VT_CHECK(vhu_fe_vring_publish(vr));
	VT_CHECK_EQ(pdev_take(&d, &t), 0);
	VT_CHECK_EQ(pdev_take(&d, &t), 0);
	pdev_use(&d, (uint16_t)f, 5, 3);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK(id == e && len == 0);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK(id == f && len == 5);
	vhu_fe_vring_get_raw(vr, &r);
	VT_CHECK(r.last_used == 2 && !r.used_wrap);
	/* A batch naming a buffer not in flight, or out of range. */
	int h = vhu_fe_vring_add(vr, segs, 1, false);
	VT_CHECK(h >= 0);
	VT_CHECK(vhu_fe_vring_publish(vr));
	VT_CHECK_EQ(pdev_take(&d, &t), 0);
	struct pdev saved = d;
	pdev_use(&d, (uint16_t)((h + 1) % 8), 1, 1);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), -EPROTO);
	VT_CHECK_EQ(vhu_fe_vring_used_pending(vr), -EPROTO);
	VT_CHECK_EQ(vhu_fe_vring_peek_used(vr, 0, &id, &len), -EPROTO);
	d = saved;
	pdev_use(&d, 8, 1, 1);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), -EPROTO);
	d = saved;
	pdev_use(&d, (uint16_t)h, 1, 1);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK_EQ(id, h);
	VT_CHECK_EQ(vhu_fe_vring_inflight(vr), 0);
	VT_CHECK_EQ(vhu_fe_vring_num_free(vr), 8);
	vhu_fe_vring_destroy(vr);
	vhu_fe_mem_destroy(m);
}

/* Used descriptors the device must not write. */
static void
test_packed_bad_used(void)
{
	struct vhu_fe_mem *m;
	struct vhu_fe_vring *vr;
	struct pdev d, saved;
	struct ptaken t;
	uint16_t id;
	uint32_t len;
	uint64_t g;

	VT_CHECK_EQ(pring_up(&m, &vr, 4, false, &g), 0);
	pdev_init(&d, vr, m);
	struct vhu_fe_seg one = { g, 64, false };
	VT_CHECK_EQ(vhu_fe_vring_add(vr, &one, 1, false), 0);
	VT_CHECK(vhu_fe_vring_publish(vr));
	VT_CHECK_EQ(pdev_take(&d, &t), 0);
	saved = d;
	/* An id out of range, then one not in flight. */
	pdev_use(&d, 9, 0, 1);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), -EPROTO);
	VT_CHECK_EQ(vhu_fe_vring_used_pending(vr), -EPROTO);
	VT_CHECK_EQ(vhu_fe_vring_peek_used(vr, 0, &id, &len), -EPROTO);
	d = saved;
	pdev_use(&d, 2, 0, 1);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), -EPROTO);
	d = saved;
	pdev_use(&d, 0, 0, 1);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK_EQ(id, 0);
	/* Nothing in flight, yet a used descriptor. */
	saved = d;
	pdev_use(&d, 0, 0, 1);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), -EPROTO);
	VT_CHECK_EQ(vhu_fe_vring_used_pending(vr), -EPROTO);
	/* AVAIL alone (or USED alone) is not a used descriptor. */
	d = saved;
	d.r.pdesc[1].flags = PF_AVAIL;
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 0);
	d.r.pdesc[1].flags = PF_USED;
	VT_CHECK_EQ(vhu_fe_vring_used_pending(vr), 0);
	/* One buffer used twice: more used descriptors than in flight. */
	VT_CHECK_EQ(vhu_fe_vring_add(vr, &one, 1, false), 0);
	VT_CHECK(vhu_fe_vring_publish(vr));
	VT_CHECK_EQ(pdev_take(&d, &t), 0);
	pdev_use(&d, 0, 0, 1);
	pdev_use(&d, 0, 0, 1);
	VT_CHECK_EQ(vhu_fe_vring_used_pending(vr), -EPROTO);
	vhu_fe_vring_destroy(vr);
	vhu_fe_mem_destroy(m);
}

/* Raw pushes: the caller's descriptors, the ring's wrap bits. */
static void
test_packed_raw_push(void)
{
	struct vhu_fe_mem *m;
	struct vhu_fe_vring *vr;
	struct vhu_fe_vring_raw r;
	struct pdev d;
	struct ptaken t;
	uint16_t id;
	uint32_t len;
	uint64_t g;
	struct vring_packed_desc descs[9] = {
		{ .addr = 0xdead0000, .len = 10, .id = 5,
		  .flags = VRING_DESC_F_NEXT | PF_USED },
		{ .addr = 0xdead1000, .len = 20, .id = 5, .flags = 0 },
		{ .addr = 0xdead2000, .len = 30, .id = 6,
		  .flags = VRING_DESC_F_WRITE | PF_AVAIL | PF_USED },
	};
	struct vring_packed_desc bad = { .id = 8 };

	VT_CHECK_EQ(pring_up(&m, &vr, 8, false, &g), 0);
	pdev_init(&d, vr, m);
	VT_CHECK_EQ(vhu_fe_vring_push_raw_packed(vr, &bad, 1), -EINVAL);
	VT_CHECK_EQ(vhu_fe_vring_push_raw_packed(vr, descs, 0), -EINVAL);
	VT_CHECK_EQ(vhu_fe_vring_push_raw_packed(vr, descs, 9), -ENOSPC);
	VT_CHECK_EQ(vhu_fe_vring_push_raw_packed(vr, descs, 3), 0);
	VT_CHECK_EQ(d.r.pdesc[0].flags, PF_AVAIL | VRING_DESC_F_NEXT);
	VT_CHECK_EQ(d.r.pdesc[1].flags, PF_AVAIL);
	VT_CHECK_EQ(d.r.pdesc[2].flags, PF_AVAIL | VRING_DESC_F_WRITE);
	VT_CHECK_EQ(d.r.pdesc[2].addr, 0xdead2000);
	VT_CHECK_EQ(vhu_fe_vring_inflight(vr), 2);
	VT_CHECK_EQ(vhu_fe_vring_num_free(vr), 5);
	VT_CHECK_EQ(pdev_take(&d, &t), 0);
	VT_CHECK(t.id == 5 && t.slots == 2);
	VT_CHECK_EQ(pdev_take(&d, &t), 0);
	VT_CHECK(t.id == 6 && t.slots == 1);
	/* A chain added after it takes the next slot and a free id. */
	struct vhu_fe_seg one = { g, 64, false };
	VT_CHECK_EQ(vhu_fe_vring_add(vr, &one, 1, false), 0);
	VT_CHECK(vhu_fe_vring_publish(vr));
	VT_CHECK_EQ(pdev_take(&d, &t), 0);
	VT_CHECK_EQ(t.id, 0);
	pdev_use(&d, 6, 0, 1);
	pdev_use(&d, 0, 0, 1);
	pdev_use(&d, 5, 0, 2);
	VT_CHECK_EQ(vhu_fe_vring_used_pending(vr), 3);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK_EQ(id, 6);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK_EQ(id, 0);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK_EQ(id, 5);
	vhu_fe_vring_get_raw(vr, &r);
	VT_CHECK_EQ(r.last_used, 4);
	VT_CHECK_EQ(vhu_fe_vring_inflight(vr), 0);
	VT_CHECK_EQ(vhu_fe_vring_num_free(vr), 8);
	/* The same id twice in flight. */
	VT_CHECK_EQ(vhu_fe_vring_push_raw_packed(vr, &descs[2], 1), 0);
	VT_CHECK_EQ(vhu_fe_vring_push_raw_packed(vr, &descs[2], 1), 0);
	VT_CHECK_EQ(vhu_fe_vring_inflight(vr), 2);
	pdev_use(&d, 6, 0, 1);
	pdev_use(&d, 6, 0, 1);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 1);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vr, &id, &len), 0);
	VT_CHECK_EQ(vhu_fe_vring_inflight(vr), 0);
	vhu_fe_vring_destroy(vr);
	vhu_fe_mem_destroy(m);
}

static void
fe_cfg_packed(struct vhu_fe_config *c)
{
	fe_cfg(c);
	c->packed = true;
	c->queue_size = PQSIZE;
}

/* Negotiation, ring addresses and bases of a packed device. */
static void
test_packed_setup(void)
{
	struct vhu_fe_config c;
	struct vhu_fe *fe;
	struct vhu_fe_msg m;
	struct vhu_wire_vring_state st;
	unsigned int bases = 0, addrs = 0;
	uint32_t base;
	uint64_t v;
	int sv[2];

	fe_cfg(&c);
	c.features |= 1ull << VIRTIO_F_RING_PACKED;
	VT_CHECK_EQ(vhu_fe_create(&c, &fe), -EINVAL);   /* packed is false */

	/* Not offered: nothing after GET_FEATURES. */
	fe_cfg_packed(&c);
	VT_CHECK_EQ(vhu_fe_create(&c, &fe), 0);
	VT_CHECK_EQ(pair(sv), 0);
	VT_CHECK_EQ(vhu_fe_attach(fe, sv[0]), 0);
	queue_replies(sv[1], OFFERED_FEATURES, 0);
	VT_CHECK_EQ(vhu_fe_setup(fe), -EOPNOTSUPP);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_OWNER, 0, 0, false), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_GET_FEATURES, 0, 0, false), 0);
	VT_CHECK_EQ(vhu_fe_msg_recv(sv[1], &m, 0), -ETIMEDOUT);
	close(sv[1]);
	vhu_fe_destroy(fe);

	/* Offered: negotiated; every ring starts at the fresh base with its
	 * descriptor ring and event areas. */
	VT_CHECK_EQ(vhu_fe_create(&c, &fe), 0);
	VT_CHECK_EQ(pair(sv), 0);
	VT_CHECK_EQ(vhu_fe_attach(fe, sv[0]), 0);
	queue_replies(sv[1], OFFERED_PACKED, 0);
	VT_CHECK_EQ(vhu_fe_setup(fe), 0);
	VT_CHECK(vhu_fe_features(fe) & (1ull << VIRTIO_F_RING_PACKED));
	while (vhu_fe_msg_recv(sv[1], &m, 0) == 0) {
		struct vhu_wire_vring_addr a;
		struct vhu_fe_vring_raw raw;

		vhu_fe_msg_close_fds(&m);
		if (m.hdr.request == VHU_REQ_SET_FEATURES) {
			memcpy(&v, m.payload, 8);
			VT_CHECK(v & (1ull << VIRTIO_F_RING_PACKED));
		} else if (m.hdr.request == VHU_REQ_SET_VRING_NUM) {
			memcpy(&st, m.payload, 8);
			VT_CHECK_EQ(st.num, PQSIZE);
		} else if (m.hdr.request == VHU_REQ_SET_VRING_BASE) {
			memcpy(&st, m.payload, 8);
			VT_CHECK_EQ(st.num, VHU_FE_PACKED_BASE_FRESH);
			bases++;
		} else if (m.hdr.request == VHU_REQ_SET_VRING_ADDR) {
			memcpy(&a, m.payload, sizeof(a));
			vhu_fe_vring_get_raw(vhu_fe_get_vring(fe, a.index), &raw);
			VT_CHECK(raw.packed);
			VT_CHECK_EQ(a.desc_user_addr, (uintptr_t)raw.pdesc);
			VT_CHECK_EQ(a.avail_user_addr, (uintptr_t)raw.driver_event);
			VT_CHECK_EQ(a.used_user_addr, (uintptr_t)raw.device_event);
			VT_CHECK_EQ(a.log_guest_addr, raw.used_gpa);
			addrs++;
		}
	}
	VT_CHECK(bases == 2 && addrs == 2);

	/* GET_VRING_BASE: the RX ring is full (PQSIZE buffers published),
	 * the device took none: the fresh base fits. The TX ring published
	 * nothing, so an avail index of 1 does not. */
	struct vhu_wire_vring_state b0 = { 0, VHU_FE_PACKED_BASE_FRESH };
	struct vhu_wire_vring_state b1 = { 1, VHU_FE_PACKED_BASE_FRESH | 1 };
	be_reply(sv[1], VHU_REQ_GET_VRING_BASE, &b0, sizeof(b0));
	be_reply(sv[1], VHU_REQ_GET_VRING_BASE, &b1, sizeof(b1));
	VT_CHECK_EQ(vhu_fe_get_vring_base(fe, 0, &base), 0);
	VT_CHECK_EQ(base, VHU_FE_PACKED_BASE_FRESH);
	VT_CHECK_EQ(vhu_fe_get_vring_base(fe, 1, &base), -EPROTO);
	VT_CHECK(!vhu_fe_ring_started(fe, 1));
	/* RX again: the device took every buffer (avail 0 in the next lap),
	 * used none: fits; used ahead of avail does not. */
	static const struct {
		uint32_t reply;
		int rc;
		uint32_t next;     /* the base the next start sends */
	} rx[] = {
		{ 0x80000000u, 0, 0x80000000u },
		{ 0x80018000u, -EPROTO, 0x80018000u },
		/* DPDK's form, no used half: used = avail. */
		{ 0x00008000u, 0, VHU_FE_PACKED_BASE_FRESH },
	};
	for (unsigned int i = 0; i < sizeof(rx) / sizeof(rx[0]); i++) {
		for (unsigned int k = 0; k < 6; k++)
			be_ack(sv[1], ring_reqs[k], 0);
		VT_CHECK_EQ(vhu_fe_start_ring(fe, 0), 0);
		b0.num = rx[i].reply;
		be_reply(sv[1], VHU_REQ_GET_VRING_BASE, &b0, sizeof(b0));
		VT_CHECK_EQ(vhu_fe_get_vring_base(fe, 0, &base), rx[i].rc);
		VT_CHECK_EQ(base, rx[i].reply);
		while (vhu_fe_msg_recv(sv[1], &m, 0) == 0)
			vhu_fe_msg_close_fds(&m);
		for (unsigned int k = 0; k < 6; k++)
			be_ack(sv[1], ring_reqs[k], 0);
		VT_CHECK_EQ(vhu_fe_start_ring(fe, 0), 0);
		VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_NUM, 8, 0, true), 0);
		VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_BASE, 8, 0,
				   true), 0);
		memcpy(&st, m.payload, 8);
		VT_CHECK_EQ(st.num, rx[i].next);
		while (vhu_fe_msg_recv(sv[1], &m, 0) == 0)
			vhu_fe_msg_close_fds(&m);
		be_reply(sv[1], VHU_REQ_GET_VRING_BASE, &b0, sizeof(b0));
		VT_CHECK_EQ(vhu_fe_get_vring_base(fe, 0, &base), rx[i].rc);
	}
	/* A reset ring starts from the fresh base again. */
	VT_CHECK_EQ(vhu_fe_ring_reset(fe, 1), 0);
	while (vhu_fe_msg_recv(sv[1], &m, 0) == 0)
		vhu_fe_msg_close_fds(&m);
	for (unsigned int k = 0; k < 6; k++)
		be_ack(sv[1], ring_reqs[k], 0);
	VT_CHECK_EQ(vhu_fe_start_ring(fe, 1), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_NUM, 8, 0, true), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_BASE, 8, 0, true), 0);
	memcpy(&st, m.payload, 8);
	VT_CHECK_EQ(st.num, VHU_FE_PACKED_BASE_FRESH);
	close(sv[1]);
	vhu_fe_destroy(fe);
}

/* A packed device set up against the scripted peer, and the device's
 * view of its two rings. */
struct pfixture {
	struct fixture fx;
	struct pdev rx, tx;
};

static int
pfixture_up(struct pfixture *p, enum vhu_fe_rx_layout rxl, uint64_t extra)
{
	struct vhu_fe_config c;

	fe_cfg_packed(&c);
	c.rx_layout = rxl;
	c.features |= extra;
	if (fixture_up_cfg(&p->fx, &c, OFFERED_PACKED | extra) != 0)
		return -1;
	pdev_init(&p->rx, vhu_fe_get_vring(p->fx.fe, 0),
		  vhu_fe_get_mem(p->fx.fe));
	pdev_init(&p->tx, vhu_fe_get_vring(p->fx.fe, 1),
		  vhu_fe_get_mem(p->fx.fe));
	return 0;
}

/* Every TX layout on a packed ring, then full rings completed in reverse
 * with chains straddling the end of the ring. */
static void
test_packed_tx(void)
{
	struct pfixture p;
	struct ptaken t, taken[PQSIZE];
	uint8_t frame[1000], got[2048];
	static const struct {
		enum vhu_fe_tx_layout layout;
		unsigned int segs, ndesc, slots;
		bool indirect;
	} cases[] = {
		{ VHU_FE_TX_ONE, 0, 1, 1, false },
		{ VHU_FE_TX_HDR_SPLIT, 0, 2, 2, false },
		{ VHU_FE_TX_CHAIN, 4, 5, 5, false },
		{ VHU_FE_TX_CHAIN, 15, 16, 16, false },
		{ VHU_FE_TX_INDIRECT, 3, 4, 1, true },
	};

	VT_CHECK_EQ(pfixture_up(&p, VHU_FE_RX_ONE, 0), 0);
	struct vhu_fe_vring *vr = vhu_fe_get_vring(p.fx.fe, 1);
	VT_CHECK_EQ(vhu_fe_frame_build(frame, sizeof(frame), 77), 0);
	for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					       .csum_start = 34, .csum_offset = 6 };
		struct vhu_fe_tx_opts o = { cases[c].layout, cases[c].segs, &h };

		VT_CHECK_EQ(vhu_fe_tx_post(p.fx.fe, 0, frame, sizeof(frame), &o), 0);
		VT_CHECK_EQ(pdev_take(&p.tx, &t), -EAGAIN);   /* not flushed */
		VT_CHECK_EQ(vhu_fe_tx_flush(p.fx.fe, 0), 0);
		VT_CHECK_EQ(pdev_take(&p.tx, &t), 0);
		VT_CHECK_EQ(pdev_gather(&p.tx, &t, got, sizeof(got)),
			    HDR + sizeof(frame));
		VT_CHECK_EQ(t.n, cases[c].ndesc);
		VT_CHECK_EQ(t.slots, cases[c].slots);
		VT_CHECK_EQ(t.indirect, cases[c].indirect);
		VT_CHECK(memcmp(got, &h, HDR) == 0);
		VT_CHECK(memcmp(got + HDR, frame, sizeof(frame)) == 0);
		VT_CHECK_EQ(vhu_fe_tx_inflight(p.fx.fe, 0), 1);
		VT_CHECK_EQ(vhu_fe_tx_reclaim(p.fx.fe, 0), 0);
		pdev_use(&p.tx, t.id, 0, t.slots);
		VT_CHECK_EQ(vhu_fe_tx_reclaim(p.fx.fe, 0), 1);
		VT_CHECK_EQ(vhu_fe_tx_inflight(p.fx.fe, 0), 0);
		VT_CHECK_EQ(vhu_fe_vring_num_free(vr), PQSIZE);
	}
	/* Chains of 4 slots: 15 fit in 62; from the second round on they
	 * straddle the end of the ring. */
	struct vhu_fe_tx_opts chain = { VHU_FE_TX_CHAIN, 3, NULL };
	for (unsigned int round = 0; round < 4; round++) {
		unsigned int n = 0;
		int rc;

		while ((rc = vhu_fe_tx_post(p.fx.fe, 0, frame, 64, &chain)) == 0)
			n++;
		VT_CHECK_EQ(rc, -ENOSPC);
		VT_CHECK_EQ(n, PQSIZE / 4);
		VT_CHECK_EQ(vhu_fe_tx_flush(p.fx.fe, 0), 0);
		for (unsigned int i = 0; i < n; i++) {
			VT_CHECK_EQ(pdev_take(&p.tx, &taken[i]), 0);
			VT_CHECK_EQ(pdev_gather(&p.tx, &taken[i], got, sizeof(got)),
				    HDR + 64);
		}
		for (unsigned int i = n; i-- > n / 2;)
			pdev_use(&p.tx, taken[i].id, 0, taken[i].slots);
		VT_CHECK_EQ(vhu_fe_tx_reclaim(p.fx.fe, 0), n - n / 2);
		for (unsigned int i = n / 2; i-- > 0;)
			pdev_use(&p.tx, taken[i].id, 0, taken[i].slots);
		VT_CHECK_EQ(vhu_fe_tx_reclaim(p.fx.fe, 0), n / 2);
		VT_CHECK_EQ(vhu_fe_vring_num_free(vr), PQSIZE);
	}
	/* 25 slots for the layouts, 4 * 60 for the rounds: 4 laps and 17. */
	struct vhu_fe_vring_raw r;
	vhu_fe_vring_get_raw(vr, &r);
	VT_CHECK(r.avail_idx == 265 % PQSIZE && p.tx.avail == r.avail_idx);
	VT_CHECK(r.last_used == r.avail_idx && p.tx.used == r.avail_idx);
	VT_CHECK(r.avail_wrap && p.tx.avail_wrap && r.used_wrap);
	fixture_down(&p.fx);
}

/* IN_ORDER negotiated: TX completions come in batches, RX buffers one
 * used descriptor each. */
static void
test_packed_tx_in_order(void)
{
	struct pfixture p;
	struct ptaken t[5];
	struct rx_seen *s = calloc(1, sizeof(*s));
	uint8_t frame[200];

	VT_CHECK(s != NULL);
	VT_CHECK_EQ(pfixture_up(&p, VHU_FE_RX_ONE, 1ull << VIRTIO_F_IN_ORDER), 0);
	VT_CHECK(vhu_fe_features(p.fx.fe) & (1ull << VIRTIO_F_IN_ORDER));
	VT_CHECK_EQ(vhu_fe_frame_build(frame, sizeof(frame), 5), 0);
	for (unsigned int i = 0; i < 5; i++)
		VT_CHECK_EQ(vhu_fe_tx_post(p.fx.fe, 0, frame, sizeof(frame), NULL), 0);
	VT_CHECK_EQ(vhu_fe_tx_flush(p.fx.fe, 0), 0);
	for (unsigned int i = 0; i < 5; i++)
		VT_CHECK_EQ(pdev_take(&p.tx, &t[i]), 0);
	pdev_use(&p.tx, t[4].id, 0, 5);
	VT_CHECK_EQ(vhu_fe_tx_reclaim(p.fx.fe, 0), 5);
	VT_CHECK_EQ(vhu_fe_tx_inflight(p.fx.fe, 0), 0);

	/* RX: the second buffer's used descriptor returns that one only. */
	VT_CHECK_EQ(pdev_rx(&p.rx, &t[0], frame, sizeof(frame), 1), 0);
	VT_CHECK_EQ(pdev_rx(&p.rx, &t[1], frame, 100, 1), 0);
	pdev_use(&p.rx, t[1].id, t[1].written, 1);
	VT_CHECK_EQ(vhu_fe_rx_poll(p.fx.fe, 0, rx_record, s, 64), 1);
	VT_CHECK_EQ(s->len, 100);
	pdev_use(&p.rx, t[0].id, t[0].written, 1);
	VT_CHECK_EQ(vhu_fe_rx_poll(p.fx.fe, 0, rx_record, s, 64), 1);
	VT_CHECK_EQ(s->len, sizeof(frame));
	VT_CHECK_EQ(vhu_fe_frame_check(s->data, s->len, NULL), 0);
	fixture_down(&p.fx);
	free(s);
}

/* RX on packed rings, both buffer layouts: single and merged buffers, a
 * merged packet whose last buffer comes late, laps around the ring, and
 * a used length beyond the buffer. */
static void
test_packed_rx(void)
{
	struct rx_seen *s = calloc(1, sizeof(*s));
	uint8_t frame[5000];
	struct ptaken t[3];

	VT_CHECK(s != NULL);
	VT_CHECK_EQ(vhu_fe_frame_build(frame, sizeof(frame), 4242), 0);
	for (unsigned int split = 0; split < 2; split++) {
		struct pfixture p;
		unsigned int per = split ? 2 : 1;
		struct vhu_fe_stats st;

		memset(s, 0, sizeof(*s));
		VT_CHECK_EQ(pfixture_up(&p, split ? VHU_FE_RX_HDR_SPLIT :
					VHU_FE_RX_ONE, 0), 0);
		struct vhu_fe_vring *vr = vhu_fe_get_vring(p.fx.fe, 0);
		/* Prefilled: the whole ring, writable 2048-byte buffers. */
		VT_CHECK_EQ(vhu_fe_vring_inflight(vr), PQSIZE / per);
		VT_CHECK_EQ(vhu_fe_vring_num_free(vr), PQSIZE % per);

		VT_CHECK_EQ(pdev_rx(&p.rx, t, frame, 1500, 1), 0);
		VT_CHECK_EQ(t[0].n, per);
		pdev_use(&p.rx, t[0].id, t[0].written, t[0].slots);
		VT_CHECK_EQ(vhu_fe_rx_poll(p.fx.fe, 0, rx_record, s, 64), 1);
		VT_CHECK_EQ(s->len, 1500);
		VT_CHECK(memcmp(s->data, frame, 1500) == 0);
		VT_CHECK_EQ(vhu_fe_vring_inflight(vr), PQSIZE / per);  /* re-posted */

		/* Three buffers, the last one late. */
		VT_CHECK_EQ(pdev_rx(&p.rx, t, frame, sizeof(frame), 3), 0);
		pdev_use(&p.rx, t[0].id, t[0].written, t[0].slots);
		pdev_use(&p.rx, t[1].id, t[1].written, t[1].slots);
		VT_CHECK_EQ(vhu_fe_rx_poll(p.fx.fe, 0, rx_record, s, 64), 0);
		VT_CHECK_EQ(s->n, 1);
		pdev_use(&p.rx, t[2].id, t[2].written, t[2].slots);
		VT_CHECK_EQ(vhu_fe_rx_poll(p.fx.fe, 0, rx_record, s, 64), 1);
		VT_CHECK_EQ(s->num_buffers, 3);
		VT_CHECK_EQ(s->len, sizeof(frame));
		VT_CHECK_EQ(vhu_fe_frame_check(s->data, s->len, NULL), 0);

		/* Laps around the ring, refilled as it goes. */
		for (unsigned int i = 0; i < 3 * PQSIZE; i++) {
			size_t len = 60 + i % 1400;

			VT_CHECK_EQ(pdev_rx(&p.rx, t, frame, len, 1), 0);
			pdev_use(&p.rx, t[0].id, t[0].written, t[0].slots);
			if (i % 7 == 6 || i + 1 == 3 * PQSIZE)
				VT_CHECK(vhu_fe_rx_poll(p.fx.fe, 0, rx_record, s,
							64) > 0);
		}
		vhu_fe_get_stats(p.fx.fe, &st);
		VT_CHECK_EQ(st.rx_packets, 2 + 3 * PQSIZE);
		VT_CHECK_EQ(st.rx_buffers, 4 + 3 * PQSIZE);
		VT_CHECK_EQ(st.rx_violations, 0);
		VT_CHECK_EQ(vhu_fe_vring_inflight(vr), PQSIZE / per);

		/* A used length beyond the buffer. */
		VT_CHECK_EQ(pdev_rx(&p.rx, t, frame, 100, 1), 0);
		pdev_use(&p.rx, t[0].id, 2049, t[0].slots);
		VT_CHECK_EQ(vhu_fe_rx_poll(p.fx.fe, 0, rx_record, s, 64), -EPROTO);
		fixture_down(&p.fx);
	}
	free(s);
}

/* A back-end gone without GET_VRING_BASE: the ring restarts after the
 * last used descriptor it wrote, as QEMU does. */
static void
test_packed_resume(void)
{
	struct pfixture p;
	struct ptaken t[3];
	struct vhu_fe_msg m;
	struct vhu_wire_vring_state st;
	struct vhu_fe_packed_base b;
	uint8_t frame[64];
	int sv[2];

	VT_CHECK_EQ(pfixture_up(&p, VHU_FE_RX_ONE, 0), 0);
	VT_CHECK_EQ(vhu_fe_frame_build(frame, sizeof(frame), 1), 0);
	for (unsigned int i = 0; i < 3; i++)
		VT_CHECK_EQ(vhu_fe_tx_post(p.fx.fe, 0, frame, sizeof(frame), NULL), 0);
	VT_CHECK_EQ(vhu_fe_tx_flush(p.fx.fe, 0), 0);
	for (unsigned int i = 0; i < 3; i++)
		VT_CHECK_EQ(pdev_take(&p.tx, &t[i]), 0);
	pdev_use(&p.tx, t[0].id, 0, 1);
	pdev_use(&p.tx, t[1].id, 0, 1);
	vhu_fe_disconnect(p.fx.fe);
	VT_CHECK_EQ(pair(sv), 0);
	VT_CHECK_EQ(vhu_fe_attach(p.fx.fe, sv[0]), 0);
	VT_CHECK_EQ(vhu_fe_start_ring(p.fx.fe, 1), 0);   /* no REPLY_ACK now */
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_NUM, 8, 0, false), 0);
	VT_CHECK_EQ(expect(sv[1], &m, VHU_REQ_SET_VRING_BASE, 8, 0, false), 0);
	memcpy(&st, m.payload, 8);
	vhu_fe_packed_base_decode(st.num, &b);
	VT_CHECK(b.avail_idx == 2 && b.avail_wrap && b.used_idx == 2 &&
		 b.used_wrap);
	/* What was used before is still there to reclaim. */
	VT_CHECK_EQ(vhu_fe_tx_reclaim(p.fx.fe, 0), 2);
	while (vhu_fe_msg_recv(sv[1], &m, 0) == 0)
		vhu_fe_msg_close_fds(&m);
	close(sv[1]);
	fixture_down(&p.fx);
}

/* ---- frames ---- */

static void
test_frames(void)
{
	uint8_t f[1514];
	uint64_t seq = 0;

	VT_CHECK_EQ(vhu_fe_frame_build(f, 59, 1), -EINVAL);
	for (size_t len = 60; len <= sizeof(f); len += 227) {
		VT_CHECK_EQ(vhu_fe_frame_build(f, len, len * 3), 0);
		VT_CHECK_EQ(vhu_fe_frame_check(f, len, &seq), 0);
		VT_CHECK_EQ(seq, len * 3);
		VT_CHECK_EQ(vhu_fe_frame_check_eth(f, len), 0);
		VT_CHECK_EQ(vhu_fe_frame_check(f, len - 1, NULL), -EBADMSG);
		f[len - 1] ^= 1;
		VT_CHECK_EQ(vhu_fe_frame_check(f, len, NULL), -EBADMSG);
		f[len - 1] ^= 1;
		f[24] ^= 0x10;                  /* IPv4 checksum */
		VT_CHECK_EQ(vhu_fe_frame_check_eth(f, len), -EBADMSG);
		VT_CHECK_EQ(vhu_fe_frame_check(f, len, NULL), -EBADMSG);
		f[24] ^= 0x10;
	}
	VT_CHECK_EQ(vhu_fe_frame_check_eth(f, 13), -EBADMSG);
	VT_CHECK_EQ(vhu_fe_frame_check_eth(f, 30), -EBADMSG);  /* IPv4 cut */
}

/* create + destroy leaves no fd and no guest mapping behind. */
static void
test_no_leaks(void)
{
	long fds = vhu_test_count_fds(), maps = count_guest_maps();
	struct vhu_fe_config c;
	struct vhu_fe *fe;

	for (unsigned int shared = 0; shared < 2; shared++) {
		fe_cfg(&c);
		c.queue_pairs = 2;
		c.mem.nregions = 8;
		c.mem.share_fd = shared;
		VT_CHECK_EQ(vhu_fe_create(&c, &fe), 0);
		VT_CHECK(count_guest_maps() >= maps + 8);
		vhu_fe_destroy(fe);
	}
	/* Failing creation cleans up too. */
	fe_cfg(&c);
	c.mem.region_size[0] = 64 * KIB;    /* far too small */
	c.mem.nregions = 1;
	VT_CHECK_EQ(vhu_fe_create(&c, &fe), -ENOMEM);
	fe_cfg(&c);
	c.queue_size = 100;
	VT_CHECK_EQ(vhu_fe_create(&c, &fe), -EINVAL);
	fe_cfg(&c);
	c.tx_layout = VHU_FE_TX_INDIRECT;
	c.features &= ~(1ull << VIRTIO_RING_F_INDIRECT_DESC);
	VT_CHECK_EQ(vhu_fe_create(&c, &fe), -EINVAL);
	VT_CHECK_EQ(vhu_test_count_fds(), fds);
	VT_CHECK_EQ(count_guest_maps(), maps);
}

/* Huge pages: used when the machine has them, else a clear error. */
static void
test_hugetlb(void)
{
	struct vhu_fe_mem_config c;
	struct vhu_fe_mem *m;

	vhu_fe_mem_config_default(&c);
	c.hugetlb = true;
	c.region_size[0] = 2 * MIB;
	int rc = vhu_fe_mem_create(&c, &m);
	if (rc != 0) {
		fprintf(stderr, "  (no huge pages here: %s)\n", strerror(-rc));
		VT_CHECK(rc == -ENOMEM || rc == -ENOSYS || rc == -EINVAL ||
			 rc == -ENOENT);
		return;
	}
	VT_CHECK(vhu_fe_mem_page_size(m) >= 2 * MIB);
	memset(vhu_fe_mem_region(m, 0)->hva, 1, 2 * MIB);
	vhu_fe_mem_destroy(m);
}

int
main(void)
{
	static const struct vhu_test_case cases[] = {
		{ "mem_layout", test_mem_layout },
		{ "mem_shared_fd", test_mem_shared_fd },
		{ "mem_alloc", test_mem_alloc },
		{ "mem_bad_config", test_mem_bad_config },
		{ "mem_hugetlb", test_hugetlb },
		{ "msg_roundtrip", test_msg_roundtrip },
		{ "msg_malformed", test_msg_malformed },
		{ "setup_sequence", test_setup_sequence },
		{ "setup_legacy", test_setup_legacy },
		{ "setup_nack", test_setup_nack },
		{ "request_errors", test_request_errors },
		{ "listen_mode", test_listen_mode },
		{ "tx_layouts", test_tx_layouts },
		{ "tx_full_ring", test_tx_full_ring },
		{ "used_checks", test_used_checks },
		{ "rx_merge", test_rx_merge },
		{ "raw_push", test_raw_push },
		{ "packed_layout", test_packed_layout },
		{ "packed_chains", test_packed_chains },
		{ "packed_wrap", test_packed_wrap },
		{ "packed_in_order", test_packed_in_order },
		{ "packed_bad_used", test_packed_bad_used },
		{ "packed_raw_push", test_packed_raw_push },
		{ "packed_setup", test_packed_setup },
		{ "packed_tx", test_packed_tx },
		{ "packed_tx_in_order", test_packed_tx_in_order },
		{ "packed_rx", test_packed_rx },
		{ "packed_resume", test_packed_resume },
		{ "frames", test_frames },
		{ "no_leaks", test_no_leaks },
	};

	return vhu_test_run("fe", cases, sizeof(cases) / sizeof(cases[0]));
}
