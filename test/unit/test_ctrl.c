/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control plane through the test front-end: every message, every ring
 * transition of the seed (start on SET_VRING_KICK with no kick, stop on
 * GET_VRING_BASE, restart and resume, started+disabled, stopped), and the
 * bad-input classes: a clear nack, nothing changed, no leaked fd or
 * mapping, other devices unaffected. On split rings, or packed ones with
 * VHU_TEST_RING=packed (ctrl-packed: 32-bit ring bases, any ring size).
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <linux/virtio_config.h>
#include <linux/vhost_types.h>

#include "vhu_test_dev.h"
#include "vhu_test_eal.h"
#include "vhu_unmap.h"

VHU_TEST_MAIN_DEFS;

#define F(b) (1ULL << (b))

static bool
ring_is(struct vhu_device *dev, uint16_t ring, bool started, bool enabled)
{
	struct vhu_ring_state st;

	return vhu_device_ring_state(dev, ring, &st) == 0 &&
		st.started == started && st.enabled == enabled;
}

/* One request with NEED_REPLY; returns 0 (acked 0) or -EREMOTEIO. */
static int
req(struct vhu_fe *fe, uint32_t request, const void *payload, uint32_t size,
		const int *fds, unsigned int nfds)
{
	struct vhu_fe_req r = {
		.request = request,
		.flags = VHU_WIRE_F_NEED_REPLY,
		.payload = payload,
		.size = size,
		.fds = fds,
		.nfds = nfds,
	};

	return vhu_fe_request(fe, &r);
}

static void
no_kick_injection(struct vhu_fe_config *c)
{
	c->inject_kick = false;
	c->notify = false;
}

static void
test_setup_started_enabled(void)
{
	struct vt_dev t = { 0 };

	VT_CHECK_EQ(vt_dev_up(&t, "setup", 1, NULL), 0);
	VT_CHECK(ring_is(t.dev, 0, true, true));
	VT_CHECK(ring_is(t.dev, 1, true, true));
	/* The inline hint (vhu.h) agrees; out of range is never live. */
	VT_CHECK(vhu_dequeue_ring_live(t.dev, 0));
	VT_CHECK(vhu_enqueue_ring_live(t.dev, 0));
	VT_CHECK(!vhu_dequeue_ring_live(t.dev, 1));
	VT_CHECK(!vhu_enqueue_ring_live(t.dev, VHU_MAX_QUEUE_PAIRS));
	VT_CHECK(!vhu_dequeue_ring_live(t.dev, UINT16_MAX));
	VT_CHECK(vt_wait_count(&t.ev.ready, 1));
	VT_CHECK(vhu_device_ready(t.dev));
	VT_CHECK_EQ(vhu_device_features(t.dev), vhu_fe_features(t.fe));
	VT_CHECK_EQ(vhu_device_queue_pairs(t.dev), 1);
	VT_CHECK_EQ(t.ev.features_changes, 1);
	vt_dev_close(&t);
}

/* The seed: the ring is processed right after SET_VRING_KICK with no
 * eventfd write ever made, and the kick fd is never read. */
static void
test_start_without_kick(void)
{
	struct vt_dev t = { 0 };
	uint64_t seq = 0, v;
	int kick;

	VT_CHECK_EQ(vt_dev_up(&t, "nokick", 1, no_kick_injection), 0);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 10, 100, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 10, &seq), 10);
	/* Now write one kick: the back-end must leave it unread. */
	kick = vhu_fe_kick_fd(t.fe, 1);
	VT_CHECK(kick >= 0);
	VT_CHECK_EQ(eventfd_write(kick, 1), 0);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 5, 100, 10), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 5, &seq), 5);
	VT_CHECK_EQ(fcntl(kick, F_SETFL, O_NONBLOCK), 0);
	VT_CHECK_EQ(eventfd_read(kick, &v), 0);
	VT_CHECK_EQ(v, 1);
	vt_dev_close(&t);
}

/* GET_VRING_BASE stops one ring, returns the next avail index; stopped
 * touches nothing; SET_VRING_BASE + SET_VRING_KICK resumes. */
static void
test_stop_restart_resume(void)
{
	struct vt_dev t = { 0 };
	struct vhu_fe_vring_raw raw;
	struct rte_mbuf *pkts[32];
	uint64_t seq = 0;
	uint32_t base;
	uint16_t used_before = 0, flags_before = 0;

	VT_CHECK_EQ(vt_dev_up(&t, "stop", 1, no_kick_injection), 0);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 7, 200, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 7, &seq), 7);
	VT_CHECK_EQ(vhu_fe_get_vring_base(t.fe, 1, &base), 0);
	if (vt_packed()) {
		/* Avail and used positions 7, both wrap counters 1. */
		struct vhu_fe_packed_base b;

		vhu_fe_packed_base_decode(base, &b);
		VT_CHECK_EQ(b.avail_idx, 7);
		VT_CHECK(b.avail_wrap);
		VT_CHECK_EQ(b.used_idx, 7);
		VT_CHECK(b.used_wrap);
		VT_CHECK_EQ(base, 0x80078007u);
	} else {
		VT_CHECK_EQ(base, 7);
	}
	VT_CHECK(ring_is(t.dev, 1, false, true));
	VT_CHECK(ring_is(t.dev, 0, true, true)); /* the other ring runs */
	VT_CHECK(!vhu_dequeue_ring_live(t.dev, 0));
	VT_CHECK(vhu_enqueue_ring_live(t.dev, 0));
	VT_CHECK(vt_wait_count(&t.ev.destroyed, 1));

	/* Stopped: packets posted now are not touched. */
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 200, 7), 0);
	raw = vt_raw(t.fe, 1);
	if (raw.packed) {
		/* The 7 used descriptors, nothing after them. */
		VT_CHECK_EQ(vt_used_pending(t.fe, 1), 7);
		flags_before = raw.pdesc[7].flags;
	} else {
		used_before = raw.used->idx;
	}
	VT_CHECK_EQ(vhu_dequeue_burst(t.dev, 0, vt_pool(), pkts, 32), 0);
	if (raw.packed) {
		VT_CHECK_EQ(vt_used_pending(t.fe, 1), 7);
		VT_CHECK_EQ(raw.pdesc[7].flags, flags_before);
	} else {
		VT_CHECK_EQ(raw.used->idx, used_before);
	}

	/* Restart: resumes with the requests already available. */
	VT_CHECK_EQ(vhu_fe_start_ring(t.fe, 1), 0);
	VT_CHECK(ring_is(t.dev, 1, true, true));
	VT_CHECK(vhu_dequeue_ring_live(t.dev, 0));
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);
	VT_CHECK(vt_wait_count(&t.ev.ready, 2));
	vt_dev_close(&t);
}

static int
count_rx(void *arg, unsigned int qp, const struct virtio_net_hdr_v1 *hdr,
		const uint8_t *frame, size_t len)
{
	RTE_SET_USED(qp);
	RTE_SET_USED(hdr);
	RTE_SET_USED(frame);
	RTE_SET_USED(len);
	(*(int *)arg)++;
	return 0;
}

static struct rte_mbuf *
make_pkt(size_t len, uint64_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(vt_pool());
	uint8_t *p;

	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	vhu_fe_frame_build(p, len, seq);
	return m;
}

/* Started + disabled: dequeue consumes and drops, enqueue supplies
 * nothing. */
static void
test_started_disabled(void)
{
	struct vt_dev t = { 0 };
	struct rte_mbuf *pkts[32], *m;
	struct vhu_ring_stats st;
	struct vhu_fe_vring_raw raw;
	int rx = 0;

	VT_CHECK_EQ(vt_dev_up(&t, "disabled", 1, no_kick_injection), 0);
	VT_CHECK_EQ(vhu_fe_set_vring_enable(t.fe, 1, false), 0);
	VT_CHECK_EQ(vhu_fe_set_vring_enable(t.fe, 0, false), 0);
	VT_CHECK(ring_is(t.dev, 1, true, false));
	/* Disabled still consumes: live. */
	VT_CHECK(vhu_dequeue_ring_live(t.dev, 0));
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 4, 100, 0), 0);
	VT_CHECK_EQ(vhu_dequeue_burst(t.dev, 0, vt_pool(), pkts, 32), 0);
	raw = vt_raw(t.fe, 1);
	/* consumed */
	if (raw.packed)
		VT_CHECK_EQ(vt_used_pending(t.fe, 1), 4);
	else
		VT_CHECK_EQ(raw.used->idx, 4);
	VT_CHECK_EQ(vhu_device_ring_stats(t.dev, 1, &st), 0);
	VT_CHECK_EQ(st.drop_disabled, 4);

	m = make_pkt(100, 0);
	VT_CHECK(m != NULL);
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, &m, 1), 0);
	raw = vt_raw(t.fe, 0);
	if (raw.packed) {
		VT_CHECK_EQ(vt_used_pending(t.fe, 0), 0);
		VT_CHECK(!vt_packed_used(raw.pdesc[0].flags, true));
	} else {
		VT_CHECK_EQ(raw.used->idx, 0);
	}

	/* Enabled again: it flows. */
	VT_CHECK_EQ(vhu_fe_set_vring_enable(t.fe, 0, true), 0);
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, &m, 1), 1);
	rte_pktmbuf_free(m);
	VT_CHECK_EQ(vhu_fe_rx_poll(t.fe, 0, count_rx, &rx, 10), 1);
	VT_CHECK_EQ(rx, 1);
	vt_dev_close(&t);
}

/* Enabling a stopped ring does not start it (QEMU does this). */
static void
test_enable_stopped_ring(void)
{
	struct vt_dev t = { 0 };
	struct rte_mbuf *m;
	uint32_t base;

	VT_CHECK_EQ(vt_dev_up(&t, "enstop", 1, no_kick_injection), 0);
	VT_CHECK_EQ(vhu_fe_get_vring_base(t.fe, 0, &base), 0);
	VT_CHECK_EQ(vhu_fe_set_vring_enable(t.fe, 0, true), 0);
	VT_CHECK(ring_is(t.dev, 0, false, true));
	m = make_pkt(64, 0);
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, &m, 1), 0);
	rte_pktmbuf_free(m);
	vt_dev_close(&t);
}

static void
no_protocol_features(struct vhu_fe_config *c)
{
	c->features &= ~F(VHU_F_PROTOCOL_FEATURES);
	c->protocol_features = 0;
}

/* Without PROTOCOL_FEATURES, SET_FEATURES enables every ring. */
static void
test_features_enable_rings(void)
{
	struct vt_dev t = { 0 };
	uint64_t seq = 0;

	VT_CHECK_EQ(vt_dev_up(&t, "noproto", 1, no_protocol_features), 0);
	/* No REPLY_ACK: the front-end does not wait for the back-end. */
	VT_CHECK(VT_WAIT(ring_is(t.dev, 0, true, true)));
	VT_CHECK(VT_WAIT(ring_is(t.dev, 1, true, true)));
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 80, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);
	vt_dev_close(&t);
}

static void
test_queries_and_status(void)
{
	struct vt_dev t = { 0 };
	struct rte_mbuf *pkts[4];
	uint64_t v;
	uint8_t status;
	const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

	VT_CHECK_EQ(vt_dev_up(&t, "query", 3, NULL), 0);
	VT_CHECK_EQ(vhu_fe_get_queue_num(t.fe, &v), 0);
	VT_CHECK_EQ(v, 3);
	VT_CHECK_EQ(vhu_fe_get_max_mem_slots(t.fe, &v), 0);
	VT_CHECK_EQ(v, 509);
	VT_CHECK_EQ(vhu_device_queue_pairs(t.dev), 3);
	VT_CHECK_EQ(vhu_fe_set_status(t.fe, 0x0f), 0);
	VT_CHECK_EQ(vhu_fe_get_status(t.fe, &status), 0);
	VT_CHECK_EQ(status, 0x0f);
	VT_CHECK_EQ(vhu_fe_net_set_mtu(t.fe, 9000), 0);
	VT_CHECK_EQ(vhu_device_mtu(t.dev), 9000);
	VT_CHECK(vhu_fe_net_set_mtu(t.fe, 20) == -EREMOTEIO);
	VT_CHECK_EQ(vhu_device_mtu(t.dev), 9000);
	/* SEND_RARP: the next dequeue announces the MAC. */
	VT_CHECK_EQ(vhu_fe_send_rarp(t.fe, mac), 0);
	VT_CHECK_EQ(vhu_dequeue_burst(t.dev, 0, vt_pool(), pkts, 4), 1);
	VT_CHECK_EQ(rte_be_to_cpu_16(*rte_pktmbuf_mtod_offset(pkts[0],
					uint16_t *, 12)), 0x8035);
	VT_CHECK(memcmp(rte_pktmbuf_mtod_offset(pkts[0], uint8_t *, 6), mac,
			6) == 0);
	rte_pktmbuf_free(pkts[0]);
	/* VRING_KICK is accepted (and needs nothing). */
	{
		struct vhu_wire_vring_state s = { .index = 1, .num = 0 };

		VT_CHECK_EQ(req(t.fe, VHU_REQ_VRING_KICK, &s, sizeof(s), NULL, 0), 0);
	}
	vt_dev_close(&t);
}

/* RESET_DEVICE: every ring stopped and disabled, memory dropped; the
 * front-end sets it up again. */
static void
test_reset_device(void)
{
	struct vt_dev t = { 0 };
	uint64_t seq = 0;

	VT_CHECK_EQ(vt_dev_up(&t, "reset", 1, no_kick_injection), 0);
	VT_CHECK_EQ(vhu_fe_reset_device(t.fe), 0);
	VT_CHECK(ring_is(t.dev, 0, false, false));
	VT_CHECK(ring_is(t.dev, 1, false, false));
	VT_CHECK(vt_wait_count(&t.ev.destroyed, 1));
	VT_CHECK_EQ(vhu_device_features(t.dev), 0);
	vhu_fe_disconnect(t.fe);
	VT_CHECK(VT_WAIT(!vhu_device_connected(t.dev)));
	VT_CHECK_EQ(vhu_fe_connect(t.fe), 0);
	VT_CHECK_EQ(vhu_fe_setup(t.fe), 0);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 2, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 2, &seq), 2);
	vt_dev_close(&t);
}

/* Memory table replaced while rings run (virtio-user does this), and
 * regions added/removed one by one (QEMU with CONFIGURE_MEM_SLOTS). */
static void
test_mem_table_update_running(void)
{
	struct vt_dev t = { 0 };
	uint64_t seq = 0;

	VT_CHECK_EQ(vt_dev_up(&t, "memupd", 1, no_kick_injection), 0);
	for (int i = 0; i < 5; i++) {
		VT_CHECK_EQ(vhu_fe_set_mem_table(t.fe), 0);
		VT_CHECK_EQ(vt_fe_send(t.fe, 0, 4, 300, seq), 0);
		VT_CHECK_EQ(vt_be_recv(t.dev, 0, 4, &seq), 4);
	}
	VT_CHECK(ring_is(t.dev, 1, true, true));
	vt_dev_close(&t);
}

static void
three_regions_add_reg(struct vhu_fe_config *c)
{
	no_kick_injection(c);
	c->mem.nregions = 3;
	c->mem_add_reg = true;
}

static void
test_add_rem_mem_reg(void)
{
	struct vt_dev t = { 0 };
	struct vhu_fe_mem *mem;
	struct vhu_fe_region extra;
	uint64_t seq = 0;
	int memfd;
	void *hva;

	VT_CHECK_EQ(vt_dev_up(&t, "addreg", 1, three_regions_add_reg), 0);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 6, 500, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 6, &seq), 6);
	/* One more region, far away, then removed again; traffic goes on. */
	mem = vhu_fe_get_mem(t.fe);
	memfd = memfd_create("vt-extra", MFD_CLOEXEC);
	VT_CHECK(memfd >= 0);
	VT_CHECK_EQ(ftruncate(memfd, 1 << 20), 0);
	hva = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	VT_CHECK(hva != MAP_FAILED);
	extra = (struct vhu_fe_region){ .fd = memfd, .gpa = 1ULL << 40,
		.size = 1 << 20, .mmap_offset = 0, .hva = hva };
	VT_CHECK_EQ(vhu_fe_add_mem_reg(t.fe, &extra), 0);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 100, seq), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);
	/* QEMU up to 8.x sends ADD_MEM_REG and REM_MEM_REG once per queue
	 * pair of a multiqueue virtio-net, on one connection: a repeat of a
	 * region as it is is acked and changes nothing (no new mapping, its
	 * fd not kept); a region whose ranges overlap from another file is
	 * still refused. */
	{
		int fds0 = vhu_test_count_fds(), other = memfd_create("vt-other", MFD_CLOEXEC);
		struct vhu_fe_region clash = extra;

		struct vhu_device_stats st0, st1;

		VT_CHECK(other >= 0);
		VT_CHECK_EQ(ftruncate(other, 1 << 20), 0);
		VT_CHECK_EQ(vhu_device_stats(t.dev, &st0), 0);
		VT_CHECK_EQ(vhu_fe_add_mem_reg(t.fe, &extra), 0);
		VT_CHECK_EQ(vhu_fe_add_mem_reg(t.fe, &extra), 0);
		VT_CHECK_EQ(vhu_test_count_fds(), fds0 + 1);
		/* No new table was installed for them. */
		VT_CHECK_EQ(vhu_device_stats(t.dev, &st1), 0);
		VT_CHECK_EQ(st1.mem_table_updates, st0.mem_table_updates);
		clash.fd = other;
		VT_CHECK_EQ(vhu_fe_add_mem_reg(t.fe, &clash), -EREMOTEIO);
		VT_CHECK_EQ(vhu_fe_last_ack(t.fe), EEXIST);
		close(other);
	}
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 100, seq), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);
	VT_CHECK_EQ(vhu_fe_rem_mem_reg(t.fe, &extra), 0);
	/* Removing it again (the next queue pair's REM_MEM_REG): acked,
	 * nothing to remove; traffic goes on. A REM_MEM_REG that overlaps
	 * a region without matching it (here: the first region, one page
	 * short) is the front-end's mistake: nacked. */
	VT_CHECK_EQ(vhu_fe_rem_mem_reg(t.fe, &extra), 0);
	VT_CHECK_EQ(vhu_fe_rem_mem_reg(t.fe, &extra), 0);
	{
		struct vhu_fe_region part = *vhu_fe_mem_region(mem, 0);

		part.size -= 4096;
		VT_CHECK_EQ(vhu_fe_rem_mem_reg(t.fe, &part), -EREMOTEIO);
		VT_CHECK_EQ(vhu_fe_last_ack(t.fe), EINVAL);
	}
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 100, seq), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);
	/* Removing a region a running ring lives in: refused, rings keep
	 * running. */
	VT_CHECK_EQ(vhu_fe_rem_mem_reg(t.fe, vhu_fe_mem_region(mem, 0)),
		    -EREMOTEIO);
	VT_CHECK_EQ(vhu_fe_last_ack(t.fe), EINVAL);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 100, seq), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);
	munmap(hva, 1 << 20);
	close(memfd);
	vt_dev_close(&t);
}

/* A front-end that quits and comes back, twice; nothing leaks. */
static void
test_disconnect_reconnect(void)
{
	struct vt_dev t = { 0 };
	long fds;
	int maps;

	VT_CHECK_EQ(vt_dev_open(&t, "reconn", 1, no_kick_injection), 0);
	fds = vhu_test_count_fds();
	maps = vt_count_memfd_maps();
	for (int round = 0; round < 3; round++) {
		uint64_t seq = 0;

		VT_CHECK_EQ(vhu_fe_connect(t.fe), 0);
		VT_CHECK_EQ(vhu_fe_setup(t.fe), 0);
		VT_CHECK_EQ(vt_check_format(t.fe), 0);
		VT_CHECK(vt_wait_count(&t.ev.ready, round + 1));
		VT_CHECK_EQ(vt_fe_send(t.fe, 0, 5, 64, 0), 0);
		VT_CHECK_EQ(vt_be_recv(t.dev, 0, 5, &seq), 5);
		vhu_fe_disconnect(t.fe);
		VT_CHECK(vt_wait_count(&t.ev.destroyed, round + 1));
		VT_CHECK(VT_WAIT(!vhu_device_connected(t.dev)));
		VT_CHECK(ring_is(t.dev, 0, false, false));
		/* The front-end re-initialises its rings like a new boot. */
		VT_CHECK_EQ(vhu_fe_ring_reset(t.fe, 0), 0);
		VT_CHECK_EQ(vhu_fe_ring_reset(t.fe, 1), 0);
	}
	VT_CHECK(VT_WAIT(vhu_test_count_fds() == fds));
	VT_CHECK_EQ(vt_count_memfd_maps(), maps);
	vt_dev_close(&t);
}

static void
client_mode(struct vhu_fe_config *c)
{
	no_kick_injection(c);
	c->listen = true;
}

/* Client mode: vhu connects to a listening front-end and reconnects
 * after it goes away. */
static void
test_client_mode(void)
{
	struct vt_events ev = { 0 };
	struct vhu_device_config dc = {
		.max_queue_pairs = 1, .client = true, .ops = &vt_ops,
		.ctx = &ev, .numa_socket = -1,
	};
	struct vhu_fe_config fc;
	struct vhu_device *dev;
	struct vhu_fe *fe;
	char path[108];

	vt_sock_path(path, sizeof(path), "client");
	dc.path = path;
	vhu_fe_config_default(&fc);
	fc.path = path;
	fc.packed = vt_packed();
	client_mode(&fc);
	VT_CHECK_EQ(vhu_fe_create(&fc, &fe), 0);
	/* The back-end starts first and retries until we listen. */
	VT_CHECK_EQ(vhu_device_register(&dc, &dev), 0);
	VT_CHECK_EQ(vhu_device_start(dev), 0);
	usleep(300 * 1000);
	for (int round = 0; round < 2; round++) {
		uint64_t seq = 0;

		VT_CHECK_EQ(vhu_fe_connect(fe), 0);
		VT_CHECK_EQ(vhu_fe_setup(fe), 0);
		VT_CHECK_EQ(vt_check_format(fe), 0);
		VT_CHECK_EQ(vt_fe_send(fe, 0, 4, 64, 0), 0);
		VT_CHECK_EQ(vt_be_recv(dev, 0, 4, &seq), 4);
		vhu_fe_disconnect(fe);
		VT_CHECK(vt_wait_count(&ev.destroyed, round + 1));
		VT_CHECK_EQ(vhu_fe_ring_reset(fe, 0), 0);
		VT_CHECK_EQ(vhu_fe_ring_reset(fe, 1), 0);
	}
	vhu_device_unregister(dev);
	vhu_fe_destroy(fe);
}

/* ---- bad input ---- */

/* Connected + owner + REPLY_ACK negotiated, nothing else. */
static int
bare_session(struct vt_dev *t, const char *name)
{
	uint64_t pf;
	int ret = vt_dev_open(t, name, 1, no_kick_injection);

	if (ret == 0)
		ret = vhu_fe_connect(t->fe);
	if (ret == 0)
		ret = vhu_fe_get_protocol_features(t->fe, &pf);
	if (ret == 0)
		ret = vhu_fe_set_protocol_features(t->fe,
				pf & F(VHU_PROTO_F_REPLY_ACK));
	return ret;
}

static void
test_before_set_owner(void)
{
	struct vt_dev t = { 0 };
	uint64_t f = F(VIRTIO_F_VERSION_1);
	struct vhu_wire_vring_state s = { .index = 0, .num = 256 };

	VT_CHECK_EQ(bare_session(&t, "noowner"), 0);
	VT_CHECK(req(t.fe, VHU_REQ_SET_FEATURES, &f, 8, NULL, 0) == -EREMOTEIO);
	VT_CHECK_EQ(vhu_fe_last_ack(t.fe), EPERM);
	VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_NUM, &s, 8, NULL, 0) == -EREMOTEIO);
	VT_CHECK_EQ(vhu_device_features(t.dev), 0);
	/* What virtio-user (server=1) sends first when a back-end
	 * reconnects: harmless on an idle ring, so accepted. */
	{
		uint32_t base = 99;

		VT_CHECK_EQ(vhu_fe_set_vring_enable(t.fe, 0, false), 0);
		if (vt_packed()) {
			/* No features yet: the back-end answers 0, which the
			 * front-end's fresh packed ring (both wrap counters 1)
			 * cannot take; check the reply as it is. */
			struct vhu_wire_vring_state q = { .index = 0 }, rep;
			struct vhu_fe_req r = {
				.request = VHU_REQ_GET_VRING_BASE,
				.payload = &q, .size = sizeof(q),
				.reply = &rep, .reply_size = sizeof(rep),
			};

			VT_CHECK_EQ(vhu_fe_request(t.fe, &r), 0);
			VT_CHECK_EQ(rep.index, 0);
			base = rep.num;
		} else {
			VT_CHECK_EQ(vhu_fe_get_vring_base(t.fe, 0, &base), 0);
		}
		VT_CHECK_EQ(base, 0);
		VT_CHECK(vhu_device_connected(t.dev));
	}
	VT_CHECK_EQ(vhu_fe_set_owner(t.fe), 0);
	VT_CHECK_EQ(req(t.fe, VHU_REQ_SET_FEATURES, &f, 8, NULL, 0), 0);
	vt_dev_close(&t);
}

static void
test_bad_sizes_fds_requests(void)
{
	struct vt_dev t = { 0 };
	uint64_t f = F(VIRTIO_F_VERSION_1);
	uint8_t junk[40] = { 0 };
	int efd, fds;

	VT_CHECK_EQ(bare_session(&t, "badsize"), 0);
	VT_CHECK_EQ(vhu_fe_set_owner(t.fe), 0);
	fds = vhu_test_count_fds();
	/* Wrong payload size. */
	VT_CHECK(req(t.fe, VHU_REQ_SET_FEATURES, &f, 4, NULL, 0) == -EREMOTEIO);
	VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_NUM, junk, 12, NULL, 0) == -EREMOTEIO);
	VT_CHECK(req(t.fe, VHU_REQ_SET_OWNER, junk, 8, NULL, 0) == -EREMOTEIO);
	/* Unexpected fds: refused and closed. */
	efd = eventfd(0, EFD_CLOEXEC);
	{
		int three[3] = { efd, efd, efd };

		VT_CHECK(req(t.fe, VHU_REQ_SET_FEATURES, &f, 8, &efd, 1) ==
			 -EREMOTEIO);
		VT_CHECK(req(t.fe, VHU_REQ_SET_LOG_FD, NULL, 0, three, 3) ==
			 -EREMOTEIO);
		VT_CHECK(req(t.fe, VHU_REQ_SET_LOG_FD, NULL, 0, NULL, 0) ==
			 -EREMOTEIO);
	}
	/* Unknown and unsupported requests. */
	VT_CHECK(req(t.fe, 99, junk, 8, NULL, 0) == -EREMOTEIO);
	VT_CHECK_EQ(vhu_fe_last_ack(t.fe), EOPNOTSUPP);
	VT_CHECK(req(t.fe, VHU_REQ_SET_CONFIG, junk, 8, NULL, 0) == -EREMOTEIO);
	/* Bits never offered. */
	f = 1ULL << 63;
	VT_CHECK(req(t.fe, VHU_REQ_SET_FEATURES, &f, 8, NULL, 0) == -EREMOTEIO);
	close(efd);
	VT_CHECK(VT_WAIT(vhu_test_count_fds() == fds));
	VT_CHECK_EQ(vhu_device_features(t.dev), 0);
	/* The connection survived all of it. */
	f = F(VIRTIO_F_VERSION_1);
	VT_CHECK_EQ(req(t.fe, VHU_REQ_SET_FEATURES, &f, 8, NULL, 0), 0);
	vt_dev_close(&t);
}

static void
test_bad_ring_index_and_size(void)
{
	struct vt_dev t = { 0 };
	struct vhu_wire_vring_state s;
	uint64_t file;
	uint32_t sizes[] = { 0, 3, 100, 65536, 1u << 31 };
	int efd;

	VT_CHECK_EQ(bare_session(&t, "badring"), 0);
	VT_CHECK_EQ(vhu_fe_set_owner(t.fe), 0);
	/* Index >= rings, and one that truncates to 0 (CVE-2020-10723). */
	s = (struct vhu_wire_vring_state){ .index = 2, .num = 256 };
	VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_NUM, &s, 8, NULL, 0) == -EREMOTEIO);
	VT_CHECK_EQ(vhu_fe_last_ack(t.fe), ERANGE);
	s.index = 0x10000;
	VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_NUM, &s, 8, NULL, 0) == -EREMOTEIO);
	s.index = 0x100;
	VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_ENABLE, &s, 8, NULL, 0) == -EREMOTEIO);
	file = 5 | VHU_WIRE_VRING_NOFD;
	VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_CALL, &file, 8, NULL, 0) == -EREMOTEIO);
	/* Reserved bits; fd flag not matching the fds. */
	efd = eventfd(0, EFD_CLOEXEC);
	file = 1 | (1u << 9);
	VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_CALL, &file, 8, &efd, 1) == -EREMOTEIO);
	file = 1 | VHU_WIRE_VRING_NOFD;
	VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_CALL, &file, 8, &efd, 1) == -EREMOTEIO);
	file = 1;
	VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_CALL, &file, 8, NULL, 0) == -EREMOTEIO);
	close(efd);
	/* Sizes: 0, not a power of two, too big. */
	for (unsigned int i = 0; i < RTE_DIM(sizes); i++) {
		s = (struct vhu_wire_vring_state){ .index = 0, .num = sizes[i] };
		VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_NUM, &s, 8, NULL, 0) ==
			 -EREMOTEIO);
	}
	s = (struct vhu_wire_vring_state){ .index = 0, .num = 32768 };
	VT_CHECK_EQ(req(t.fe, VHU_REQ_SET_VRING_NUM, &s, 8, NULL, 0), 0);
	s.num = 2;
	VT_CHECK_EQ(req(t.fe, VHU_REQ_SET_VRING_ENABLE, &s, 8, NULL, 0) ==
		    -EREMOTEIO, 1);
	if (vt_packed()) {
		/* RING_PACKED negotiated: any size 1..32768. */
		static const uint32_t bad[] = { 0, 32769, 65536, 1u << 31 };
		static const uint32_t good[] = { 1, 3, 1000, 32768, 100 };
		uint64_t f = F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_PACKED) |
			F(VHU_F_PROTOCOL_FEATURES);

		VT_CHECK_EQ(vhu_fe_set_features(t.fe, f), 0);
		for (unsigned int i = 0; i < RTE_DIM(bad); i++) {
			s = (struct vhu_wire_vring_state){ .index = 0,
							    .num = bad[i] };
			VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_NUM, &s, 8, NULL,
				     0) == -EREMOTEIO);
			VT_CHECK_EQ(vhu_fe_last_ack(t.fe), EINVAL);
		}
		for (unsigned int i = 0; i < RTE_DIM(good); i++) {
			s = (struct vhu_wire_vring_state){ .index = 1,
							    .num = good[i] };
			VT_CHECK_EQ(req(t.fe, VHU_REQ_SET_VRING_NUM, &s, 8,
					NULL, 0), 0);
		}
		/* The size is checked again in the format the ring starts
		 * with: 100 (and the addresses) taken packed, then split
		 * features: not started, the addresses refused. */
		VT_CHECK_EQ(vhu_fe_set_mem_table(t.fe), 0);
		VT_CHECK_EQ(vhu_fe_set_vring_addr(t.fe, 1), 0);
		f &= ~F(VIRTIO_F_RING_PACKED);
		VT_CHECK_EQ(vhu_fe_set_features(t.fe, f), 0);
		file = 1 | VHU_WIRE_VRING_NOFD;
		VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_KICK, &file, 8, NULL, 0) ==
			 -EREMOTEIO);
		VT_CHECK(ring_is(t.dev, 1, false, false));
		VT_CHECK_EQ(vhu_fe_set_vring_addr(t.fe, 1), -EREMOTEIO);
	}
	vt_dev_close(&t);
}

/* GET_VRING_BASE with a bad index cannot be nacked (its reply carries
 * data): the connection is closed, the device accepts a new one. */
static void
test_get_vring_base_bad_index_closes(void)
{
	struct vt_dev t = { 0 };
	struct vhu_wire_vring_state s = { .index = 7, .num = 0 };
	struct vhu_wire_vring_state reply;
	struct vhu_fe_req r = {
		.request = VHU_REQ_GET_VRING_BASE, .payload = &s,
		.size = sizeof(s), .reply = &reply, .reply_size = sizeof(reply),
	};

	VT_CHECK_EQ(bare_session(&t, "gvbidx"), 0);
	VT_CHECK_EQ(vhu_fe_set_owner(t.fe), 0);
	VT_CHECK(vhu_fe_request(t.fe, &r) != 0);
	VT_CHECK(VT_WAIT(!vhu_device_connected(t.dev)));
	vhu_fe_disconnect(t.fe);
	VT_CHECK_EQ(vhu_fe_connect(t.fe), 0);
	VT_CHECK_EQ(vhu_fe_setup(t.fe), 0);
	vt_dev_close(&t);
}

/* A header announcing a payload larger than any request: framing can't
 * be trusted, the connection is closed. */
static void
test_oversized_payload_closes(void)
{
	struct vt_dev t = { 0 };
	struct vhu_wire_header h = {
		.request = VHU_REQ_SET_FEATURES, .flags = VHU_WIRE_VERSION,
		.size = 1u << 20,
	};

	VT_CHECK_EQ(bare_session(&t, "bigmsg"), 0);
	VT_CHECK_EQ(vhu_fe_send_raw(t.fe, &h, sizeof(h), NULL, 0), 0);
	VT_CHECK(VT_WAIT(!vhu_device_connected(t.dev)));
	vt_dev_close(&t);
}

static void
region_of(int fd, uint64_t gpa, uint64_t size, void *hva, uint64_t off,
		struct vhu_fe_region *r)
{
	*r = (struct vhu_fe_region){ .fd = fd, .gpa = gpa, .size = size,
		.mmap_offset = off, .hva = hva };
}

/* Bad memory tables: each refused with a nack; the running table stays
 * mapped and in use; nothing leaks. */
static void
test_bad_mem_tables(void)
{
	struct vt_dev t = { 0 };
	struct vhu_fe_region r[2];
	uint64_t seq = 0;
	int fd, ro, pipefd[2], fds, maps;
	uint8_t *hva;
	const uint64_t sz = 1 << 20;

	VT_CHECK_EQ(vt_dev_up(&t, "badmem", 1, no_kick_injection), 0);
	fd = memfd_create("vt-bad", MFD_CLOEXEC);
	VT_CHECK(fd >= 0);
	VT_CHECK_EQ(ftruncate(fd, 4 * sz), 0);
	hva = mmap(NULL, 4 * sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	VT_CHECK(hva != MAP_FAILED);
	VT_CHECK_EQ(pipe(pipefd), 0);
	ro = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	VT_CHECK(ro >= 0);
	fds = vhu_test_count_fds();
	maps = vt_count_memfd_maps();

	/* Overlapping in guest-physical space. */
	region_of(fd, 0x100000, sz, hva, 0, &r[0]);
	region_of(fd, 0x100000 + sz / 2, sz, hva + 2 * sz, 2 * sz, &r[1]);
	VT_CHECK(vhu_fe_set_mem_table_regions(t.fe, r, 2) == -EREMOTEIO);
	/* Zero size. */
	region_of(fd, 0, 0, hva, 0, &r[0]);
	VT_CHECK(vhu_fe_set_mem_table_regions(t.fe, r, 1) == -EREMOTEIO);
	/* Overflowing guest address and offset. */
	region_of(fd, UINT64_MAX - 10, sz, hva, 0, &r[0]);
	VT_CHECK(vhu_fe_set_mem_table_regions(t.fe, r, 1) == -EREMOTEIO);
	region_of(fd, 0, sz, hva, UINT64_MAX - 10, &r[0]);
	VT_CHECK(vhu_fe_set_mem_table_regions(t.fe, r, 1) == -EREMOTEIO);
	/* Past the end of its file. */
	region_of(fd, 0, 8 * sz, hva, 0, &r[0]);
	VT_CHECK(vhu_fe_set_mem_table_regions(t.fe, r, 1) == -EREMOTEIO);
	/* fds that cannot be mapped read-write. */
	region_of(pipefd[0], 0, sz, hva, 0, &r[0]);
	VT_CHECK(vhu_fe_set_mem_table_regions(t.fe, r, 1) == -EREMOTEIO);
	region_of(ro, 0, 4096, hva, 0, &r[0]);
	VT_CHECK(vhu_fe_set_mem_table_regions(t.fe, r, 1) == -EREMOTEIO);
	/* Valid, but the running rings are not in it. */
	region_of(fd, 1ULL << 40, sz, hva, 0, &r[0]);
	VT_CHECK(vhu_fe_set_mem_table_regions(t.fe, r, 1) == -EREMOTEIO);

	VT_CHECK(VT_WAIT(vhu_test_count_fds() == fds));
	VT_CHECK_EQ(vt_count_memfd_maps(), maps);
	/* The old table is still the one in use. */
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 5, 1000, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 5, &seq), 5);
	munmap(hva, 4 * sz);
	close(fd);
	close(ro);
	close(pipefd[0]);
	close(pipefd[1]);
	vt_dev_close(&t);
}

static void
test_bad_ring_addresses(void)
{
	struct vt_dev t = { 0 };
	struct vhu_wire_vring_addr a = { 0 };
	struct vhu_wire_vring_state s = { .index = 1, .num = 5 };
	uint64_t seq = 0, file = 1 | VHU_WIRE_VRING_NOFD;
	uint32_t base;

	VT_CHECK_EQ(vt_dev_up(&t, "badaddr", 1, no_kick_injection), 0);
	/* Outside the table. */
	a.index = 0;
	a.desc_user_addr = 0x10;
	a.avail_user_addr = 0x20;
	a.used_user_addr = 0x40;
	VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0) ==
		 -EREMOTEIO);
	/* SET_VRING_BASE and SET_VRING_NUM on a started ring. */
	VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_BASE, &s, 8, NULL, 0) == -EREMOTEIO);
	VT_CHECK_EQ(vhu_fe_last_ack(t.fe), EBUSY);
	s.num = 64;
	VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_NUM, &s, 8, NULL, 0) == -EREMOTEIO);
	/* Nothing changed: traffic flows from where it was. */
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);

	/* A base that does not fit the ring: split rings take 16 bits
	 * (refused at once); packed positions beyond the ring are refused
	 * when the ring starts. The ring stays stopped, then starts from
	 * the right one and traffic goes on. */
	VT_CHECK_EQ(vhu_fe_get_vring_base(t.fe, 1, &base), 0);
	if (vt_packed()) {
		struct vhu_fe_packed_base b[] = {
			{ .avail_idx = 256, .avail_wrap = true,
			  .used_idx = 3, .used_wrap = true },
			{ .avail_idx = 3, .avail_wrap = true,
			  .used_idx = 300, .used_wrap = true },
		};

		for (unsigned int i = 0; i < RTE_DIM(b); i++) {
			s.num = vhu_fe_packed_base_encode(&b[i]);
			VT_CHECK_EQ(req(t.fe, VHU_REQ_SET_VRING_BASE, &s, 8,
					NULL, 0), 0);
			VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_KICK, &file, 8,
				     NULL, 0) == -EREMOTEIO);
			VT_CHECK(ring_is(t.dev, 1, false, true));
		}
		/* DPDK 22.11's form, without the used half: used = avail. */
		VT_CHECK_EQ(base, 0x80038003u);
		s.num = 0x8003;
		VT_CHECK_EQ(req(t.fe, VHU_REQ_SET_VRING_BASE, &s, 8, NULL, 0), 0);
		VT_CHECK_EQ(req(t.fe, VHU_REQ_SET_VRING_KICK, &file, 8, NULL, 0),
			    0);
		VT_CHECK(ring_is(t.dev, 1, true, true));
		VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 64, 3), 0);
		VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);
		VT_CHECK_EQ(vhu_fe_get_vring_base(t.fe, 1, &base), 0);
		VT_CHECK_EQ(base, 0x80068006u);
	} else {
		s.num = 0x10003;
		VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_BASE, &s, 8, NULL, 0) ==
			 -EREMOTEIO);
		VT_CHECK_EQ(vhu_fe_last_ack(t.fe), EINVAL);
		VT_CHECK(ring_is(t.dev, 1, false, true));
	}
	VT_CHECK_EQ(vhu_fe_start_ring(t.fe, 1), 0);
	VT_CHECK(ring_is(t.dev, 1, true, true));
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 64, seq), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);
	vt_dev_close(&t);
}

/* SET_FEATURES may not change the ring format while a ring is started
 * (its positions mean something in its format only): refused, nothing
 * changed. Once every ring is stopped it may, and a ring then starts in
 * the new format only from a base that fits it. */
static void
test_format_change_while_started(void)
{
	struct vt_dev t = { 0 };
	uint64_t f, seq = 0;
	uint32_t base;

	VT_CHECK_EQ(vt_dev_up(&t, "fmtchg", 1, no_kick_injection), 0);
	f = vhu_fe_features(t.fe);
	VT_CHECK_EQ(vhu_device_features(t.dev), f);
	VT_CHECK(vhu_fe_set_features(t.fe, f ^ F(VIRTIO_F_RING_PACKED)) ==
		 -EREMOTEIO);
	VT_CHECK_EQ(vhu_fe_last_ack(t.fe), EBUSY);
	VT_CHECK_EQ(vhu_device_features(t.dev), f);
	VT_CHECK_EQ(vhu_fe_set_features(t.fe, f), 0); /* the same: fine */
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);
	/* Every ring stopped: the other format is taken. */
	VT_CHECK_EQ(vhu_fe_get_vring_base(t.fe, 0, &base), 0);
	VT_CHECK_EQ(vhu_fe_get_vring_base(t.fe, 1, &base), 0);
	VT_CHECK_EQ(base, vt_packed() ? 0x80038003u : 3);
	{
		struct vhu_wire_vring_state s = { .index = 1, .num = base };
		uint64_t file = 1 | VHU_WIRE_VRING_NOFD;

		VT_CHECK_EQ(req(t.fe, VHU_REQ_SET_FEATURES, &(uint64_t){
			f ^ F(VIRTIO_F_RING_PACKED) }, 8, NULL, 0), 0);
		VT_CHECK_EQ(vhu_device_features(t.dev),
			    f ^ F(VIRTIO_F_RING_PACKED));
		/* Packed to split: the 32-bit base does not fit 16 bits. */
		if (vt_packed()) {
			VT_CHECK_EQ(req(t.fe, VHU_REQ_SET_VRING_BASE, &s, 8,
					NULL, 0), -EREMOTEIO);
			VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_KICK, &file, 8,
				     NULL, 0) == -EREMOTEIO);
			VT_CHECK(ring_is(t.dev, 1, false, true));
		}
		VT_CHECK_EQ(req(t.fe, VHU_REQ_SET_FEATURES, &f, 8, NULL, 0), 0);
	}
	VT_CHECK_EQ(vhu_fe_start_ring(t.fe, 0), 0);
	VT_CHECK_EQ(vhu_fe_start_ring(t.fe, 1), 0);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 64, 3), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);
	vt_dev_close(&t);
}

/* A SET_VRING_KICK on a ring without addresses is refused: not started. */
static void
test_kick_unconfigured_ring(void)
{
	struct vt_dev t = { 0 };
	uint64_t file = 0 | VHU_WIRE_VRING_NOFD;

	VT_CHECK_EQ(bare_session(&t, "kickcfg"), 0);
	VT_CHECK_EQ(vhu_fe_set_owner(t.fe), 0);
	VT_CHECK(req(t.fe, VHU_REQ_SET_VRING_KICK, &file, 8, NULL, 0) ==
		 -EREMOTEIO);
	VT_CHECK(ring_is(t.dev, 0, false, false));
	vt_dev_close(&t);
}

/* A hostile front-end on one device; another device keeps working. */
static void
test_other_devices_unaffected(void)
{
	struct vt_dev good = { 0 }, bad = { 0 };
	struct vhu_wire_header h = { .request = 5, .flags = 1, .size = 999 };
	uint64_t seq = 0;

	VT_CHECK_EQ(vt_dev_up(&good, "good", 1, no_kick_injection), 0);
	VT_CHECK_EQ(bare_session(&bad, "bad"), 0);
	/* Half a message, then silence: the control thread must not wait. */
	VT_CHECK_EQ(vhu_fe_send_raw(bad.fe, &h, 6, NULL, 0), 0);
	VT_CHECK_EQ(vhu_fe_set_status(good.fe, 7), 0);
	VT_CHECK_EQ(vt_fe_send(good.fe, 0, 4, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(good.dev, 0, 4, &seq), 4);
	vt_dev_close(&bad);
	VT_CHECK_EQ(vt_fe_send(good.fe, 0, 4, 64, 4), 0);
	VT_CHECK_EQ(vt_be_recv(good.dev, 0, 4, &seq), 4);
	vt_dev_close(&good);
}

/*
 * A munmap that hangs (the kernel's page aging holding the file's mapping
 * lock, doc/testing.md) must delay only the unmap thread: another
 * front-end is still served meanwhile.
 */
static struct {
	sem_t release;
	int entered;   /* calls that reached the stall */
	int returned;  /* calls that left it */
} stall;

static int
stalling_munmap(void *addr, size_t len)
{
	struct timespec until;

	__atomic_add_fetch(&stall.entered, 1, __ATOMIC_SEQ_CST);
	/* Longer than the front-end's 3 s reply timeout, so that an unmap
	 * on the control thread fails the case instead of hanging it. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	while (sem_timedwait(&stall.release, &until) != 0 && errno == EINTR)
		;
	__atomic_add_fetch(&stall.returned, 1, __ATOMIC_SEQ_CST);
	return munmap(addr, len);
}

/* B's whole start-up and traffic while A's unmap is stalled. */
static void
serve_b_while_a_stalls(struct vt_dev *a, struct vt_dev *b, int *maps_stalled)
{
	uint64_t seq = 0;

	vhu_fe_disconnect(a->fe);
	VT_CHECK(vt_wait_count(&a->ev.destroyed, 1));
	VT_CHECK(VT_WAIT(__atomic_load_n(&stall.entered, __ATOMIC_SEQ_CST)
			 >= 1));
	VT_CHECK_EQ(vhu_fe_connect(b->fe), 0);
	VT_CHECK_EQ(vhu_fe_setup(b->fe), 0);
	VT_CHECK(vt_wait_count(&b->ev.ready, 1));
	VT_CHECK_EQ(vt_fe_send(b->fe, 0, 8, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(b->dev, 0, 8, &seq), 8);
	VT_CHECK_EQ(__atomic_load_n(&stall.returned, __ATOMIC_SEQ_CST), 0);
	*maps_stalled = vt_count_memfd_maps_now();
}

static void
test_unmap_off_control_thread(void)
{
	struct vt_dev a = { 0 }, b = { 0 };
	int failed = vhu_test_failed_checks, maps_stalled = -1;

	VT_CHECK_EQ(sem_init(&stall.release, 0, 0), 0);
	stall.entered = stall.returned = 0;
	VT_CHECK_EQ(vt_dev_up(&a, "stall-a", 1, no_kick_injection), 0);
	VT_CHECK_EQ(vt_dev_open(&b, "stall-b", 1, no_kick_injection), 0);

	vhu_unmap_set_fn(stalling_munmap);
	serve_b_while_a_stalls(&a, &b, &maps_stalled);
	for (int i = 0; i < 64; i++)
		sem_post(&stall.release);
	vhu_unmap_flush();
	vhu_unmap_set_fn(NULL);
	if (vhu_test_failed_checks == failed) {
		/* Released, A's memory is unmapped; B's stays. */
		VT_CHECK(__atomic_load_n(&stall.returned, __ATOMIC_SEQ_CST)
			 >= 1);
		VT_CHECK(vt_count_memfd_maps() < maps_stalled);
		VT_CHECK_EQ(vt_fe_send(b.fe, 0, 8, 64, 8), 0);
	}
	vt_dev_close(&b);
	vt_dev_close(&a);
	sem_destroy(&stall.release);
}

/*
 * Whether a request is acked is decided by the protocol features in
 * force when it arrives: SET_PROTOCOL_FEATURES with NEED_REPLY that
 * turns REPLY_ACK off is still acked (the front-end waits for it).
 */
static void
test_ack_decided_on_arrival(void)
{
	struct vt_dev t = { 0 };
	uint64_t pf;

	VT_CHECK_EQ(vt_dev_up(&t, "ackoff", 1, no_kick_injection), 0);
	pf = vhu_fe_protocol_features(t.fe);
	VT_CHECK(pf & F(VHU_PROTO_F_REPLY_ACK));
	pf &= ~F(VHU_PROTO_F_REPLY_ACK);
	VT_CHECK_EQ(req(t.fe, VHU_REQ_SET_PROTOCOL_FEATURES, &pf, sizeof(pf),
			NULL, 0), 0);
	vt_dev_close(&t);
}

static void
test_register_errors(void)
{
	struct vhu_device_config dc = { .max_queue_pairs = 1, .numa_socket = -1 };
	struct vhu_device *d1, *d2;
	char path[108], longpath[200];

	vt_sock_path(path, sizeof(path), "dup");
	dc.path = path;
	VT_CHECK_EQ(vhu_device_register(&dc, &d1), 0);
	VT_CHECK_EQ(vhu_device_register(&dc, &d2), -EEXIST);
	VT_CHECK_EQ(vhu_device_start(d1), 0);
	VT_CHECK_EQ(vhu_device_start(d1), -EALREADY);
	VT_CHECK_EQ(vhu_device_unregister(d1), 0);
	VT_CHECK(access(path, F_OK) != 0); /* socket file removed */
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	dc.path = longpath;
	VT_CHECK_EQ(vhu_device_register(&dc, &d2), -EINVAL);
	dc.path = path;
	dc.max_queue_pairs = 0;
	VT_CHECK_EQ(vhu_device_register(&dc, &d2), -EINVAL);
	dc.max_queue_pairs = VHU_MAX_QUEUE_PAIRS + 1;
	VT_CHECK_EQ(vhu_device_register(&dc, &d2), -EINVAL);
}

static const struct vhu_test_case cases[] = {
	{ "setup_started_enabled", test_setup_started_enabled },
	{ "start_without_kick", test_start_without_kick },
	{ "stop_restart_resume", test_stop_restart_resume },
	{ "started_disabled", test_started_disabled },
	{ "enable_stopped_ring", test_enable_stopped_ring },
	{ "features_enable_rings", test_features_enable_rings },
	{ "queries_and_status", test_queries_and_status },
	{ "reset_device", test_reset_device },
	{ "mem_table_update_running", test_mem_table_update_running },
	{ "add_rem_mem_reg", test_add_rem_mem_reg },
	{ "disconnect_reconnect", test_disconnect_reconnect },
	{ "client_mode", test_client_mode },
	{ "before_set_owner", test_before_set_owner },
	{ "bad_sizes_fds_requests", test_bad_sizes_fds_requests },
	{ "bad_ring_index_and_size", test_bad_ring_index_and_size },
	{ "get_vring_base_bad_index_closes", test_get_vring_base_bad_index_closes },
	{ "oversized_payload_closes", test_oversized_payload_closes },
	{ "bad_mem_tables", test_bad_mem_tables },
	{ "bad_ring_addresses", test_bad_ring_addresses },
	{ "format_change_while_started", test_format_change_while_started },
	{ "kick_unconfigured_ring", test_kick_unconfigured_ring },
	{ "other_devices_unaffected", test_other_devices_unaffected },
	{ "unmap_off_control_thread", test_unmap_off_control_thread },
	{ "ack_decided_on_arrival", test_ack_decided_on_arrival },
	{ "register_errors", test_register_errors },
};

int
main(int argc, char **argv)
{
	RTE_SET_USED(argc);
	return vt_main("ctrl", cases, RTE_DIM(cases), 1, argv[0]);
}
