/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sequences a front-end or a guest used to crash, stall or bloat
 * lib/vhu with (issue "hardening"), each replayed through the real socket
 * and rings; plus the rules that fixed them: a quiesce that times out
 * changes nothing, a reset never runs under a burst, SET_LOG_FD is
 * signalled, and the control thread ends with the last device. On split
 * rings, or packed ones with VHU_TEST_RING=packed (hostile-packed).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <linux/fuse.h>
#include <linux/vhost_types.h>

#include "vhu_test_dev.h"
#include "vhu_test_eal.h"
#include "vhu_sync.h"

VHU_TEST_MAIN_DEFS;

#define F(b) (1ULL << (b))
#define GIB (1ULL << 30)

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
tweak_log(struct vhu_fe_config *c)
{
	c->features |= F(VHOST_F_LOG_ALL);
	c->protocol_features |= F(VHU_PROTO_F_LOG_SHMFD);
	c->inject_kick = false;
	c->notify = false;
}

static void
tweak_indirect(struct vhu_fe_config *c)
{
	c->features |= F(VIRTIO_RING_F_INDIRECT_DESC);
	c->inject_kick = false;
	c->notify = false;
}

static void
tweak_slow_replies(struct vhu_fe_config *c)
{
	/* Longer than lib/vhu's 5 s quiesce bound. */
	c->timeout_ms = 9000;
	c->inject_kick = false;
	c->notify = false;
}

static int
set_log_base(struct vhu_fe *fe, int fd, uint64_t size)
{
	struct vhu_wire_log lg = { .mmap_size = size, .mmap_offset = 0 };
	uint8_t empty;
	struct vhu_fe_req r = {
		.request = VHU_REQ_SET_LOG_BASE, .payload = &lg,
		.size = sizeof(lg), .fds = &fd, .nfds = 1,
		/* The reply has an empty payload. */
		.reply = &empty, .reply_size = 0,
	};

	return vhu_fe_request(fe, &r);
}

static int
add_mem_reg(struct vhu_fe *fe, int fd, uint64_t gpa, uint64_t size,
		uint64_t fe_va)
{
	struct vhu_wire_single_region reg = {
		.region = { .guest_phys_addr = gpa, .memory_size = size,
			    .userspace_addr = fe_va, .mmap_offset = 0 },
	};
	struct vhu_fe_req r = {
		.request = VHU_REQ_ADD_MEM_REG, .payload = &reg,
		.size = sizeof(reg), .fds = &fd, .nfds = 1,
	};

	return vhu_fe_request(fe, &r);
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/*
 * Defect 1: a dirty log set before a reset (RESET_OWNER, or the
 * front-end reconnecting) was unmapped by the reset, but each ring kept
 * its pointer: after SET_FEATURES(LOG_ALL) and VHOST_VRING_F_LOG the
 * datapath wrote into the unmapped log (SIGSEGV). Now the rings' view is
 * derived from the device: no log until the front-end sets a new one.
 */
static void
log_survives_reset(bool reconnect)
{
	struct vt_dev t = { 0 };
	const size_t log_size = 1 << 20;
	uint64_t seq = 0;
	uint8_t *old_log, *new_log;
	int old_fd, new_fd;

	VT_CHECK_EQ(vt_dev_up(&t, "logreset", 1, tweak_log), 0);
	old_fd = memfd_create("vt-old-log", MFD_CLOEXEC);
	new_fd = memfd_create("vt-new-log", MFD_CLOEXEC);
	VT_CHECK(old_fd >= 0 && new_fd >= 0);
	VT_CHECK_EQ(ftruncate(old_fd, log_size), 0);
	VT_CHECK_EQ(ftruncate(new_fd, log_size), 0);
	old_log = mmap(NULL, log_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       old_fd, 0);
	new_log = mmap(NULL, log_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       new_fd, 0);
	VT_CHECK(old_log != MAP_FAILED && new_log != MAP_FAILED);
	VT_CHECK_EQ(set_log_base(t.fe, old_fd, log_size), 0);

	if (reconnect) {
		vhu_fe_disconnect(t.fe);
		VT_CHECK(VT_WAIT(!vhu_device_connected(t.dev)));
		VT_CHECK_EQ(vhu_fe_connect(t.fe), 0);
	} else {
		VT_CHECK_EQ(vhu_fe_reset_owner(t.fe), 0);
	}
	/* SET_FEATURES with LOG_ALL, the memory table, rings started. */
	VT_CHECK_EQ(vhu_fe_setup(t.fe), 0);
	VT_CHECK(vhu_device_features(t.dev) & F(VHOST_F_LOG_ALL));
	VT_CHECK_EQ(vt_set_vring_addr_logged(t.fe, 1), 0);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 8, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 8, &seq), 8);
	/* Nothing logged anywhere: the old log is gone for the back-end. */
	VT_CHECK(all_zero(old_log, log_size));

	/* A new log is used at once. */
	VT_CHECK_EQ(set_log_base(t.fe, new_fd, log_size), 0);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 8, 64, 8), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 8, &seq), 8);
	VT_CHECK(!all_zero(new_log, log_size));
	VT_CHECK(all_zero(old_log, log_size));
	munmap(old_log, log_size);
	munmap(new_log, log_size);
	close(old_fd);
	close(new_fd);
	vt_dev_close(&t);
}

static void
test_log_after_reset_owner(void)
{
	log_survives_reset(false);
}

static void
test_log_after_reconnect(void)
{
	log_survives_reset(true);
}

/* Defect 2 (below) on a packed ring: the guest's first two RX buffers
 * (slots 0 and 1) hold 0 and 4 bytes; the used descriptors at slots 0..2
 * say so, and nothing else was written. */
static void
mrg_rx_short_buffers_packed(void)
{
	struct vt_dev t = { 0 };
	struct vhu_fe_vring_raw rx;
	struct vhu_ring_stats st;
	struct rte_mbuf *m;
	uint16_t id[3], num_buffers;
	const uint8_t *buf;
	uint64_t seq;

	VT_CHECK_EQ(vt_dev_up(&t, "mrgshort", 1, NULL), 0);
	VT_CHECK(vhu_fe_features(t.fe) & F(VIRTIO_NET_F_MRG_RXBUF));
	rx = vt_raw(t.fe, 0);
	VT_CHECK(rx.packed);
	VT_CHECK_EQ(rx.last_used, 0);
	for (unsigned int i = 0; i < 3; i++)
		id[i] = rx.pdesc[i].id;
	rx.pdesc[0].len = 0;
	rx.pdesc[1].len = 4;

	m = rte_pktmbuf_alloc(vt_pool());
	VT_CHECK(m != NULL);
	vhu_fe_frame_build((uint8_t *)rte_pktmbuf_append(m, 64), 64, 7);
	/* The burst's first packet. */
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, &m, 1), 1);
	rte_pktmbuf_free(m);

	VT_CHECK_EQ(vt_used_pending(t.fe, 0), 3);
	for (unsigned int i = 0; i < 3; i++) {
		VT_CHECK(vt_packed_used(rx.pdesc[i].flags, true));
		VT_CHECK_EQ(rx.pdesc[i].id, id[i]);
		VT_CHECK_EQ(rx.pdesc[i].len, i < 2 ? 0 : 12 + 64);
	}
	VT_CHECK(!vt_packed_used(rx.pdesc[3].flags, true));
	buf = vhu_fe_mem_from_gpa(vhu_fe_get_mem(t.fe), rx.pdesc[2].addr, 76);
	VT_CHECK(buf != NULL);
	memcpy(&num_buffers, buf + 10, sizeof(num_buffers));
	VT_CHECK_EQ(num_buffers, 1);
	VT_CHECK_EQ(vhu_fe_frame_check(buf + 12, 64, &seq), 0);
	VT_CHECK_EQ(seq, 7);
	/* The 4-byte buffer was not written either. */
	buf = vhu_fe_mem_from_gpa(vhu_fe_get_mem(t.fe), rx.pdesc[1].addr, 4);
	VT_CHECK(buf != NULL && all_zero(buf, 4));
	VT_CHECK_EQ(vhu_device_ring_stats(t.dev, 0, &st), 0);
	VT_CHECK_EQ(st.drop_bad_desc, 2);
	VT_CHECK_EQ(st.packets, 1);
	vt_dev_close(&t);
}

/*
 * Defect 2: with mergeable RX buffers, a guest RX chain of zero bytes
 * (or fewer than the virtio-net header) walked into no pieces, and the
 * copy then used the buffer vector of another chain (or uninitialised
 * stack as a burst's first packet). Now such a chain is invalid:
 * consumed with length 0, counted, and the packet goes to the next one.
 */
static void
test_mrg_rx_short_buffers(void)
{
	struct vt_dev t = { 0 };
	struct vhu_fe_vring_raw rx;
	struct vhu_ring_stats st;
	struct rte_mbuf *m;
	uint16_t h0, h1, h2, num_buffers;
	const uint8_t *buf;
	uint64_t seq;

	if (vt_packed()) {
		mrg_rx_short_buffers_packed();
		return;
	}
	VT_CHECK_EQ(vt_dev_up(&t, "mrgshort", 1, NULL), 0);
	VT_CHECK(vhu_fe_features(t.fe) & F(VIRTIO_NET_F_MRG_RXBUF));
	vhu_fe_vring_get_raw(vhu_fe_get_vring(t.fe, 0), &rx);
	VT_CHECK_EQ(rx.used->idx, 0);
	h0 = rx.avail->ring[0];
	h1 = rx.avail->ring[1];
	h2 = rx.avail->ring[2];
	rx.desc[h0].len = 0;
	rx.desc[h1].len = 4;

	m = rte_pktmbuf_alloc(vt_pool());
	VT_CHECK(m != NULL);
	vhu_fe_frame_build((uint8_t *)rte_pktmbuf_append(m, 64), 64, 7);
	/* The burst's first packet. */
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, &m, 1), 1);
	rte_pktmbuf_free(m);

	VT_CHECK_EQ(rx.used->idx, 3);
	VT_CHECK_EQ(rx.used->ring[0].id, h0);
	VT_CHECK_EQ(rx.used->ring[0].len, 0);
	VT_CHECK_EQ(rx.used->ring[1].id, h1);
	VT_CHECK_EQ(rx.used->ring[1].len, 0);
	VT_CHECK_EQ(rx.used->ring[2].id, h2);
	VT_CHECK_EQ(rx.used->ring[2].len, 12 + 64);
	buf = vhu_fe_mem_from_gpa(vhu_fe_get_mem(t.fe), rx.desc[h2].addr, 76);
	VT_CHECK(buf != NULL);
	memcpy(&num_buffers, buf + 10, sizeof(num_buffers));
	VT_CHECK_EQ(num_buffers, 1);
	VT_CHECK_EQ(vhu_fe_frame_check(buf + 12, 64, &seq), 0);
	VT_CHECK_EQ(seq, 7);
	/* The 4-byte buffer was not written either. */
	buf = vhu_fe_mem_from_gpa(vhu_fe_get_mem(t.fe), rx.desc[h1].addr, 4);
	VT_CHECK(buf != NULL && all_zero(buf, 4));
	VT_CHECK_EQ(vhu_device_ring_stats(t.dev, 0, &st), 0);
	VT_CHECK_EQ(st.drop_bad_desc, 2);
	VT_CHECK_EQ(st.packets, 1);
	vt_dev_close(&t);
}

/*
 * Defect 3: indirect tables were bounded only by their 32-bit length
 * (2^28 descriptors). 32 heads at a 4 GiB table whose entry 0 chains to
 * itself kept the lcore walking for tens of seconds. Now a table larger
 * than the queue is invalid, and a burst stops at the ring it broke.
 */
static void
test_huge_indirect_tables(void)
{
	struct vt_dev t = { 0 };
	struct vhu_fe_vring *tx;
	struct vhu_fe_vring_raw raw;
	struct vring_desc *table;
	struct rte_mbuf *pkts[32];
	struct vhu_ring_state rs;
	struct vhu_ring_stats st;
	const uint64_t gpa = 1ULL << 40, size = 4 * GIB;
	uint64_t seq = 0;
	uint32_t base;
	double t0, dt;
	int fd;

	VT_CHECK_EQ(vt_dev_up(&t, "hugeind", 2, tweak_indirect), 0);
	fd = memfd_create("vt-sparse", MFD_CLOEXEC);
	VT_CHECK(fd >= 0);
	VT_CHECK_EQ(ftruncate(fd, (off_t)size), 0);
	VT_CHECK_EQ(add_mem_reg(t.fe, fd, gpa, size, 1ULL << 45), 0);
	table = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	VT_CHECK(table != MAP_FAILED);
	table[0] = (struct vring_desc){ .addr = gpa, .len = 0,
		.flags = VRING_DESC_F_NEXT, .next = 0 };

	tx = vhu_fe_get_vring(t.fe, 1);
	vhu_fe_vring_get_raw(tx, &raw);
	for (uint16_t i = 0; i < 32; i++) {
		uint16_t d = (uint16_t)(raw.num - 1 - i);

		if (raw.packed) {
			/* Packed tables are read in order, every entry: a
			 * table of 2^28 entries would be walked whole. */
			struct vring_packed_desc pd = vt_pdesc(gpa,
				0xfffffff0u, d, VRING_DESC_F_INDIRECT);

			VT_CHECK_EQ(vhu_fe_vring_push_raw_packed(tx, &pd, 1), 0);
			continue;
		}
		raw.desc[d] = (struct vring_desc){ .addr = gpa,
			.len = 0xfffffff0u, .flags = VRING_DESC_F_INDIRECT };
		VT_CHECK_EQ(vhu_fe_vring_push_raw(tx, d), 0);
	}
	t0 = now_s();
	VT_CHECK_EQ(vhu_dequeue_burst(t.dev, 0, vt_pool(), pkts, 32), 0);
	dt = now_s() - t0;
	fprintf(stderr, "  32 heads at a 4 GiB indirect table: burst took %.3f ms\n",
		dt * 1e3);
	VT_CHECK(dt < 0.1);
	/* 16 bad chains break the ring; the burst stops there. */
	VT_CHECK_EQ(vhu_device_ring_stats(t.dev, 1, &st), 0);
	VT_CHECK_EQ(st.drop_bad_desc, 16);
	VT_CHECK(VT_WAIT(vhu_device_ring_state(t.dev, 1, &rs) == 0 && rs.broken));
	/* The control thread answers at once, the other queue pair runs. */
	t0 = now_s();
	VT_CHECK_EQ(vhu_fe_get_vring_base(t.fe, 1, &base), 0);
	VT_CHECK(now_s() - t0 < 1.0);
	/* Packed: avail and used positions 16, both wrap counters 1. */
	VT_CHECK_EQ(base, raw.packed ? 0x80108010u : 16);
	if (raw.packed)
		VT_CHECK_EQ(vt_used_pending(t.fe, 1), 16);
	VT_CHECK_EQ(vt_fe_send(t.fe, 1, 5, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 1, 5, &seq), 5);
	munmap(table, 4096);
	close(fd);
	vt_dev_close(&t);
}

/*
 * Defect 4: under mlockall(MCL_FUTURE) (testpmd; OVS --mlockall) every
 * mmap of guest memory was populated at once: a sparse region made the
 * back-end commit it all, with the control thread blocked meanwhile.
 * Now guest memory and the dirty log are mapped lazily.
 */
static void
test_mlock_sparse_memory(void)
{
	struct vt_dev t = { 0 };
	const uint64_t size = 1 * GIB;
	uint64_t rss0, seq = 0;
	double t0, dt;
	int mem_fd, log_fd;

	VT_CHECK_EQ(vt_dev_up(&t, "mlock", 1, NULL), 0);
	mem_fd = memfd_create("vt-sparse-mem", MFD_CLOEXEC);
	log_fd = memfd_create("vt-sparse-log", MFD_CLOEXEC);
	VT_CHECK(mem_fd >= 0 && log_fd >= 0);
	VT_CHECK_EQ(ftruncate(mem_fd, (off_t)size), 0);
	VT_CHECK_EQ(ftruncate(log_fd, (off_t)size), 0);
	VT_CHECK_EQ(mlockall(MCL_FUTURE), 0);

	rss0 = vhu_test_rss_bytes();
	t0 = now_s();
	VT_CHECK_EQ(add_mem_reg(t.fe, mem_fd, 1ULL << 40, size, 1ULL << 45), 0);
	VT_CHECK_EQ(set_log_base(t.fe, log_fd, size), 0);
	dt = now_s() - t0;
	fprintf(stderr, "  1 GiB region + 1 GiB log under mlockall: %.1f ms, "
		"RSS +%" PRIu64 " KiB\n", dt * 1e3, (vhu_test_rss_bytes() - rss0) >> 10);
	munlockall();
	VT_CHECK(dt < 1.0);
	VT_CHECK(vhu_test_rss_bytes() < rss0 + (64ULL << 20));
	/* The device still works. */
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 4, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 4, &seq), 4);
	close(mem_fd);
	close(log_fd);
	vt_dev_close(&t);
}

/* SET_LOG_FD: its eventfd tells the front-end the log was written. */
static void
test_log_fd_signalled(void)
{
	struct vt_dev t = { 0 };
	const size_t log_size = 1 << 20;
	uint64_t v, seq = 0;
	int log_fd, ev;

	VT_CHECK_EQ(vt_dev_up(&t, "logfd", 1, tweak_log), 0);
	log_fd = memfd_create("vt-log", MFD_CLOEXEC);
	ev = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	VT_CHECK(log_fd >= 0 && ev >= 0);
	VT_CHECK_EQ(ftruncate(log_fd, log_size), 0);
	{
		struct vhu_fe_req r = {
			.request = VHU_REQ_SET_LOG_FD, .fds = &ev, .nfds = 1,
		};

		VT_CHECK_EQ(vhu_fe_request(t.fe, &r), 0);
	}
	VT_CHECK_EQ(set_log_base(t.fe, log_fd, log_size), 0);
	/* No write yet: no signal. */
	usleep(200 * 1000);
	VT_CHECK(read(ev, &v, sizeof(v)) < 0 && errno == EAGAIN);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 4, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 4, &seq), 4);
	VT_CHECK(VT_WAIT(read(ev, &v, sizeof(v)) == (ssize_t)sizeof(v)));
	close(log_fd);
	close(ev);
	vt_dev_close(&t);
}

/* A burst that does not end: a thread enters one and waits. */
struct stuck_burst {
	struct vhu_vring *vr;
	pthread_t thread;
	int inside;
	int release;
};

static void *
stuck_burst_main(void *arg)
{
	struct stuck_burst *s = arg;
	uint32_t seq = vhu_sync_burst_enter(s->vr);

	__atomic_store_n(&s->inside, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&s->release, __ATOMIC_SEQ_CST))
		usleep(1000);
	vhu_sync_burst_exit(s->vr, seq);
	return NULL;
}

static bool
stuck_burst_begin(struct stuck_burst *s, struct vhu_vring *vr)
{
	s->vr = vr;
	s->inside = 0;
	s->release = 0;
	if (pthread_create(&s->thread, NULL, stuck_burst_main, s) != 0)
		return false;
	return VT_WAIT(__atomic_load_n(&s->inside, __ATOMIC_SEQ_CST) == 1);
}

static void
stuck_burst_end(struct stuck_burst *s)
{
	__atomic_store_n(&s->release, 1, __ATOMIC_SEQ_CST);
	pthread_join(s->thread, NULL);
}

static uint8_t
dp_mode(const struct vhu_vring *vr)
{
	return __atomic_load_n(&vr->dp_mode, __ATOMIC_ACQUIRE);
}

/*
 * A quiesce that times out changes nothing: the request is nacked, the
 * rings stay paused with their state as it was, other requests on them
 * are refused at once, and everything resumes when the burst ends. A
 * disconnect meanwhile resets nothing until then, and a new front-end
 * waits (in the listen backlog) until it did.
 */
static void
test_quiesce_timeout_changes_nothing(void)
{
	struct vt_dev t = { 0 };
	struct vhu_device_stats ds;
	struct stuck_burst s;
	struct vhu_vring *vr;
	uint64_t seq = 0, updates;
	double t0;
	int ret;

	VT_CHECK_EQ(vt_dev_up(&t, "stuck", 1, tweak_slow_replies), 0);
	vr = &t.dev->rings[1];
	VT_CHECK_EQ(dp_mode(vr), VHU_DP_RUN);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 64, 0), 0);
	vhu_device_stats(t.dev, &ds);
	updates = ds.mem_table_updates;

	VT_CHECK(stuck_burst_begin(&s, vr));
	t0 = now_s();
	ret = vhu_fe_set_mem_table(t.fe);
	VT_CHECK_EQ(ret, -EREMOTEIO);
	VT_CHECK_EQ(vhu_fe_last_ack(t.fe), ETIMEDOUT);
	VT_CHECK(now_s() - t0 > 4.0);
	vhu_device_stats(t.dev, &ds);
	VT_CHECK_EQ(ds.mem_table_updates, updates);
	VT_CHECK_EQ(ds.quiesce_timeouts, 1);
	/* Paused, not reset: started, enabled, addresses kept. */
	VT_CHECK_EQ(dp_mode(vr), VHU_DP_STOPPED);
	VT_CHECK(vr->started && vr->enabled && vr->desc != NULL);
	/* A held ring is not waited for twice. */
	t0 = now_s();
	VT_CHECK_EQ(vhu_fe_set_vring_enable(t.fe, 1, true), -EREMOTEIO);
	VT_CHECK_EQ(vhu_fe_last_ack(t.fe), EBUSY);
	VT_CHECK(now_s() - t0 < 1.0);

	stuck_burst_end(&s);
	VT_CHECK(VT_WAIT(dp_mode(vr) == VHU_DP_RUN));
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);
	VT_CHECK_EQ(vhu_fe_set_mem_table(t.fe), 0);
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 64, 3), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);

	/* Disconnect with a burst stuck: the reset waits for it, without
	 * holding up the control thread, and counts as a timeout once it
	 * waited 5 s. */
	VT_CHECK(stuck_burst_begin(&s, vr));
	vhu_fe_disconnect(t.fe);
	VT_CHECK(VT_WAIT(!vhu_device_connected(t.dev)));
	usleep(5500 * 1000);
	VT_CHECK(vr->started && vr->desc != NULL);
	VT_CHECK_EQ(dp_mode(vr), VHU_DP_STOPPED);
	vhu_device_stats(t.dev, &ds);
	VT_CHECK_EQ(ds.quiesce_timeouts, 2);
	/* A new front-end waits in the backlog until the reset ran. */
	VT_CHECK_EQ(vhu_fe_connect(t.fe), 0);
	usleep(200 * 1000);
	VT_CHECK(!vhu_device_connected(t.dev));
	stuck_burst_end(&s);
	VT_CHECK(VT_WAIT(!vr->started));
	VT_CHECK(VT_WAIT(vhu_device_connected(t.dev)));
	for (unsigned int r = 0; r < vhu_fe_nrings(t.fe); r++)
		VT_CHECK_EQ(vhu_fe_ring_reset(t.fe, r), 0);
	VT_CHECK_EQ(vhu_fe_setup(t.fe), 0);
	seq = 0;
	VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t.dev, 0, 3, &seq), 3);
	vt_dev_close(&t);
}

/* A front-end request run on a thread of its own. */
struct async_req {
	struct vhu_fe *fe;
	pthread_t thread;
	int done;
	int ret;
};

static void *
async_set_mem_table_main(void *arg)
{
	struct async_req *a = arg;

	a->ret = vhu_fe_set_mem_table(a->fe);
	__atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* B's whole start-up and traffic while A's request waits for a late
 * burst; fills *b_setup_s. */
static void
serve_b_while_a_parked(struct vt_dev *b, const struct async_req *a,
		double *b_setup_s)
{
	uint64_t seq = 0;
	double t0 = now_s();

	VT_CHECK_EQ(vhu_fe_connect(b->fe), 0);
	VT_CHECK_EQ(vhu_fe_setup(b->fe), 0);
	VT_CHECK(vt_wait_count(&b->ev.ready, 1));
	*b_setup_s = now_s() - t0;
	VT_CHECK_EQ(vt_fe_send(b->fe, 0, 5, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(b->dev, 0, 5, &seq), 5);
	/* A's request is still waiting, not failed. */
	VT_CHECK_EQ(__atomic_load_n(&a->done, __ATOMIC_SEQ_CST), 0);
}

/* A front-end that goes away while its request is parked: the request
 * goes with it, and the reset waits for the late burst. */
static void
parked_then_disconnect(struct vt_dev *a, struct vhu_vring *vr)
{
	struct {
		struct vhu_wire_header hdr;
		struct vhu_wire_vring_state state;
	} __attribute__((packed)) enable = {
		.hdr = { .request = VHU_REQ_SET_VRING_ENABLE,
			 .flags = VHU_WIRE_VERSION,
			 .size = sizeof(struct vhu_wire_vring_state) },
		.state = { .index = 1, .num = 0 },
	};
	struct vt_dev c = { 0 };
	struct stuck_burst s;
	uint64_t seq = 0;
	double t0, c_setup_s;
	bool ok;

	VT_CHECK(stuck_burst_begin(&s, vr));
	VT_CHECK_EQ(vhu_fe_send_raw(a->fe, &enable, sizeof(enable), NULL, 0),
		    0);
	usleep(50 * 1000);
	vhu_fe_disconnect(a->fe);
	VT_CHECK(VT_WAIT(!vhu_device_connected(a->dev)));
	/* Not reset under the burst: still started, the request not run. */
	VT_CHECK(vr->started && vr->enabled && vr->desc != NULL);
	/* The waiting reset does not hold up another device's start-up. */
	t0 = now_s();
	ok = vt_dev_up(&c, "late-c", 1, tweak_slow_replies) == 0;
	c_setup_s = now_s() - t0;
	vt_dev_close(&c);
	stuck_burst_end(&s);
	VT_CHECK(ok);
	VT_CHECK(c_setup_s < 2.0);
	VT_CHECK(VT_WAIT(!vr->started));
	VT_CHECK_EQ(vhu_fe_connect(a->fe), 0);
	for (unsigned int r = 0; r < vhu_fe_nrings(a->fe); r++)
		VT_CHECK_EQ(vhu_fe_ring_reset(a->fe, r), 0);
	VT_CHECK_EQ(vhu_fe_setup(a->fe), 0);
	VT_CHECK_EQ(vt_fe_send(a->fe, 0, 3, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(a->dev, 0, 3, &seq), 3);
}

/*
 * A burst that is late (its lcore descheduled) delays only its own
 * device's request: the request waits, parked, other devices are served
 * meanwhile, and it succeeds once the burst ends, well before the 5 s
 * quiesce bound.
 */
static void
test_late_burst_parks_request(void)
{
	struct vt_dev a = { 0 }, b = { 0 };
	struct async_req req = { 0 };
	struct vhu_device_stats ds;
	struct stuck_burst s;
	struct vhu_vring *vr;
	uint64_t seq = 0, updates;
	double b_setup_s = -1;
	bool started;

	VT_CHECK_EQ(vt_dev_up(&a, "late-a", 1, tweak_slow_replies), 0);
	VT_CHECK_EQ(vt_dev_open(&b, "late-b", 1, tweak_slow_replies), 0);
	vr = &a.dev->rings[1];
	vhu_device_stats(a.dev, &ds);
	updates = ds.mem_table_updates;

	VT_CHECK(stuck_burst_begin(&s, vr));
	req.fe = a.fe;
	started = pthread_create(&req.thread, NULL, async_set_mem_table_main,
				 &req) == 0;
	if (started) {
		usleep(100 * 1000);
		serve_b_while_a_parked(&b, &req, &b_setup_s);
	}
	stuck_burst_end(&s);
	if (started)
		pthread_join(req.thread, NULL);
	VT_CHECK(started);
	VT_CHECK(b_setup_s >= 0 && b_setup_s < 2.0);
	VT_CHECK_EQ(req.ret, 0);
	vhu_device_stats(a.dev, &ds);
	VT_CHECK_EQ(ds.mem_table_updates, updates + 1);
	VT_CHECK_EQ(ds.quiesce_timeouts, 0);
	VT_CHECK(VT_WAIT(dp_mode(vr) == VHU_DP_RUN));
	VT_CHECK_EQ(vt_fe_send(a.fe, 0, 3, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(a.dev, 0, 3, &seq), 3);
	vt_dev_close(&b);
	parked_then_disconnect(&a, vr);
	vt_dev_close(&a);
}

/*
 * A front-end that truncates its memory file after sharing it: the next
 * burst touches pages past the file's end. That must not kill the
 * process (SIGBUS): the page reads zeros, the front-end is disconnected
 * and counted, other devices carry on. A SIGBUS elsewhere still kills.
 */
/* A's memory file, truncated, and its size before. */
static int shrunk_fd = -1;
static off_t shrunk_size;

static void
shrink_and_check(struct vt_dev *a, struct vt_dev *b)
{
	const struct vhu_fe_region *r;
	struct vhu_device_stats ds;
	struct rte_mbuf *pkts[8];
	uint64_t seq = 0;
	int status = 0;
	struct stat st;
	pid_t child;

	r = vhu_fe_mem_region(vhu_fe_get_mem(a->fe), 0);
	VT_CHECK(r != NULL && r->fd >= 0);
	VT_CHECK_EQ(vt_fe_send(a->fe, 0, 4, 64, 0), 0);

	/* All of A's memory goes; the front-end touches it no more until
	 * it is given back (zeroed), before A's front-end is destroyed. */
	VT_CHECK_EQ(fstat(r->fd, &st), 0);
	VT_CHECK_EQ(ftruncate(r->fd, 0), 0);
	shrunk_fd = r->fd;
	shrunk_size = st.st_size;
	VT_CHECK_EQ(vhu_dequeue_burst(a->dev, 0, vt_pool(), pkts, 8), 0);
	VT_CHECK(VT_WAIT(!vhu_device_connected(a->dev)));
	vhu_device_stats(a->dev, &ds);
	VT_CHECK_EQ(ds.memory_faults, 1);
	/* Bursts on A after the disconnect touch nothing. */
	VT_CHECK_EQ(vhu_dequeue_burst(a->dev, 0, vt_pool(), pkts, 8), 0);

	VT_CHECK_EQ(vt_fe_send(b->fe, 0, 4, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(b->dev, 0, 4, &seq), 4);
	vhu_device_stats(b->dev, &ds);
	VT_CHECK_EQ(ds.memory_faults, 0);

	/* A file of the application's own, not guest memory: SIGBUS. */
	child = fork();
	VT_CHECK(child >= 0);
	if (child == 0) {
		int fd = memfd_create("not-guest", 0);
		volatile uint8_t *p;

		if (fd < 0 || ftruncate(fd, 4096) != 0)
			_exit(2);
		/* Larger than the holes our devices' mappings leave in a
		 * child (MADV_DONTFORK), which ASan still has poisoned. */
		p = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
		if (p == MAP_FAILED)
			_exit(2);
		p[4096] = 1;
		_exit(0);
	}
	VT_CHECK_EQ(waitpid(child, &status, 0), child);
#if defined(__SANITIZE_ADDRESS__)
	/* The handler before ours is ASan's: it reports and exits 1. */
	VT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
#else
	VT_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
#endif
}

/*
 * A front-end that truncates its memory file after sharing it: the next
 * burst touches pages past the file's end. That must not kill the
 * process (SIGBUS): the page reads zeros, the front-end is disconnected
 * and counted, other devices carry on. A SIGBUS elsewhere still kills.
 */
static void
test_shrunk_guest_memory(void)
{
	struct vt_dev a = { 0 }, b = { 0 };

	VT_CHECK_EQ(vt_dev_up(&a, "shrink-a", 1, tweak_slow_replies), 0);
	VT_CHECK_EQ(vt_dev_up(&b, "shrink-b", 1, tweak_slow_replies), 0);
	shrink_and_check(&a, &b);
	if (shrunk_fd >= 0)
		VT_CHECK_EQ(ftruncate(shrunk_fd, shrunk_size), 0);
	shrunk_fd = -1;
	vt_dev_close(&b);
	vt_dev_close(&a);
}

/*
 * A tiny FUSE filesystem served by this process over /dev/fuse: one
 * 1 MiB file, "mem", whose reads are answered only after 3 s (the front-
 * end controlling a FUSE daemon can make them wait for ever). Counts the
 * reads it was asked for.
 */
#define FUSE_FILE_SIZE (1u << 20)

static struct {
	int fd;
	char mnt[64];
	pthread_t thread;
	int reads;
	int stop;
} fz = { .fd = -1 };

static void
fuse_reply(uint64_t unique, int error, const void *arg, size_t len)
{
	struct fuse_out_header h = {
		.len = (uint32_t)(sizeof(h) + len), .error = error,
		.unique = unique,
	};
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)(uintptr_t)arg, .iov_len = len },
	};

	if (writev(fz.fd, iov, len ? 2 : 1) < 0 && errno != ENOENT)
		fprintf(stderr, "  fuse reply: %s\n", strerror(errno));
}

static void
fuse_attr_of(uint64_t nodeid, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = nodeid;
	a->nlink = 1;
	a->blksize = 4096;
	if (nodeid == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0755;
	} else {
		a->mode = S_IFREG | 0600;
		a->size = FUSE_FILE_SIZE;
		a->blocks = FUSE_FILE_SIZE / 512;
	}
}

static void *
fuse_serve(void *arg)
{
	static uint8_t buf[FUSE_MIN_READ_BUFFER + FUSE_FILE_SIZE];
	static uint8_t zeros[FUSE_FILE_SIZE];

	RTE_SET_USED(arg);
	for (;;) {
		const struct fuse_in_header *in = (const void *)buf;
		const void *body = buf + sizeof(*in);
		struct pollfd pfd = { .fd = fz.fd, .events = POLLIN };
		ssize_t n;

		/* Polled, so that fuse_down() can end it: a read blocked
		 * on /dev/fuse outlives an unmount. */
		if (__atomic_load_n(&fz.stop, __ATOMIC_SEQ_CST))
			return NULL;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(fz.fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == ENOENT ||
			      errno == EAGAIN))
			continue;
		if (n < (ssize_t)sizeof(*in))
			return NULL; /* unmounted (ENODEV) or closed */
		switch (in->opcode) {
		case FUSE_INIT: {
			const struct fuse_init_in *ii = body;
			struct fuse_init_out o = {
				.major = FUSE_KERNEL_VERSION,
				.minor = ii->minor < FUSE_KERNEL_MINOR_VERSION ?
					ii->minor : FUSE_KERNEL_MINOR_VERSION,
				.max_readahead = 0, .max_write = 4096,
				.time_gran = 1,
			};

			fuse_reply(in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out o = { .nodeid = 2, .entry_valid = 60,
						    .attr_valid = 60 };

			if (strcmp(body, "mem") != 0) {
				fuse_reply(in->unique, -ENOENT, NULL, 0);
				break;
			}
			fuse_attr_of(2, &o.attr);
			fuse_reply(in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out o = { .attr_valid = 60 };

			fuse_attr_of(in->nodeid, &o.attr);
			fuse_reply(in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_OPEN:
		case FUSE_OPENDIR: {
			struct fuse_open_out o = { .fh = 1 };

			fuse_reply(in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_STATFS: {
			struct fuse_statfs_out o = { .st = { .bsize = 4096,
							     .namelen = 255 } };

			fuse_reply(in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_READ: {
			const struct fuse_read_in *ri = body;

			__atomic_add_fetch(&fz.reads, 1, __ATOMIC_SEQ_CST);
			sleep(3);
			fuse_reply(in->unique, 0, zeros,
				   RTE_MIN(ri->size, (uint32_t)sizeof(zeros)));
			break;
		}
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
			break; /* no reply */
		case FUSE_FLUSH:
		case FUSE_RELEASE:
		case FUSE_RELEASEDIR:
			fuse_reply(in->unique, 0, NULL, 0);
			break;
		default:
			fuse_reply(in->unique, -ENOSYS, NULL, 0);
			break;
		}
	}
}

/* Mount it; false (with *why) where this process may not. */
static bool
fuse_up(const char **why)
{
	char opts[128];

	fz.reads = 0;
	fz.stop = 0;
	fz.fd = open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fz.fd < 0) {
		*why = "no /dev/fuse";
		return false;
	}
	snprintf(fz.mnt, sizeof(fz.mnt), "/tmp/vhu-ut-fuse-XXXXXX");
	if (mkdtemp(fz.mnt) == NULL) {
		*why = "mkdtemp failed";
		close(fz.fd);
		return false;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0",
		 fz.fd);
	if (mount("vhu-test", fz.mnt, "fuse.vhu-test", MS_NOSUID | MS_NODEV,
		  opts) != 0) {
		*why = "mount of a FUSE filesystem not permitted here";
		rmdir(fz.mnt);
		close(fz.fd);
		return false;
	}
	if (pthread_create(&fz.thread, NULL, fuse_serve, NULL) != 0) {
		*why = "pthread_create failed";
		umount2(fz.mnt, MNT_DETACH);
		rmdir(fz.mnt);
		close(fz.fd);
		return false;
	}
	return true;
}

static void
fuse_down(void)
{
	umount2(fz.mnt, MNT_DETACH);
	__atomic_store_n(&fz.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(fz.thread, NULL);
	/* The last close of /dev/fuse aborts the connection: nothing can
	 * wait on it any more. */
	close(fz.fd);
	rmdir(fz.mnt);
	fz.fd = -1;
}

static void
fuse_file_checks(struct vt_dev *t)
{
	uint64_t seq = 0;
	char path[96];
	int fd, fd2;

	snprintf(path, sizeof(path), "%s/mem", fz.mnt);
	fd = open(path, O_RDWR | O_CLOEXEC);
	VT_CHECK(fd >= 0);
	/* As guest memory, and as the dirty log. */
	VT_CHECK_EQ(add_mem_reg(t->fe, fd, 1ULL << 40, FUSE_FILE_SIZE,
				1ULL << 45), -EREMOTEIO);
	VT_CHECK_EQ(vhu_fe_last_ack(t->fe), EPERM);
	VT_CHECK_EQ(vt_fe_send(t->fe, 0, 3, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(t->dev, 0, 3, &seq), 3);
	/* Unmounted lazily, the file's mount is in no mountinfo (as one of
	 * another mount namespace would be), and the file still works. */
	fd2 = open(path, O_RDWR | O_CLOEXEC);
	VT_CHECK(fd2 >= 0);
	VT_CHECK_EQ(umount2(fz.mnt, MNT_DETACH), 0);
	VT_CHECK_EQ(add_mem_reg(t->fe, fd2, 1ULL << 40, FUSE_FILE_SIZE,
				1ULL << 45), -EREMOTEIO);
	VT_CHECK_EQ(vhu_fe_last_ack(t->fe), EPERM);
	close(fd2);
	/* SET_LOG_BASE's reply carries data: a refusal closes the
	 * connection. */
	VT_CHECK(set_log_base(t->fe, fd, FUSE_FILE_SIZE) != 0);
	VT_CHECK(VT_WAIT(!vhu_device_connected(t->dev)));
	close(fd);
	/* Refused without touching the file: no page was read. */
	VT_CHECK_EQ(__atomic_load_n(&fz.reads, __ATOMIC_SEQ_CST), 0);
}

/*
 * Guest memory on FUSE (or a network filesystem): a front-end running
 * the FUSE daemon could hold any lcore that touches a page in a fault
 * for ever. Refused, by filesystem type, before the file is asked
 * anything.
 */
static void
test_fuse_memory_refused(void)
{
	struct vt_dev t = { 0 };
	const char *why = NULL;
	bool ok;

	if (!fuse_up(&why)) {
		VT_SKIP("%s", why);
		return;
	}
	ok = vt_dev_up(&t, "fuse", 1, tweak_slow_replies) == 0;
	if (ok)
		fuse_file_checks(&t);
	vt_dev_close(&t);
	fuse_down();
	VT_CHECK(ok);
}

/*
 * A reset cannot be refused (QEMU sends RESET_OWNER on a guest reboot
 * and goes on): one whose rings stay busy past the 5 s bound is acked
 * and runs as soon as the late burst ends, instead of leaving the rings
 * running with their old state.
 */
static void
test_late_reset_still_resets(void)
{
	struct vt_dev t = { 0 };
	struct stuck_burst s;
	struct vhu_vring *vr;
	struct vhu_fe_req r = {
		.request = VHU_REQ_RESET_OWNER,
		.flags = VHU_WIRE_F_NEED_REPLY,
	};
	bool ok_while_stuck;
	int ret;

	VT_CHECK_EQ(vt_dev_up(&t, "latereset", 1, tweak_slow_replies), 0);
	vr = &t.dev->rings[1];
	VT_CHECK(stuck_burst_begin(&s, vr));
	ret = vhu_fe_request(t.fe, &r);
	/* Still waiting for the burst: nothing reset under it. */
	ok_while_stuck = vr->started && dp_mode(vr) == VHU_DP_STOPPED;
	stuck_burst_end(&s);
	VT_CHECK_EQ(ret, 0);
	VT_CHECK(ok_while_stuck);
	VT_CHECK(VT_WAIT(!vr->started));
	vt_dev_close(&t);
}

/* Threads of this process named vhu-ctrl. */
static int
ctrl_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL &&
		    strncmp(comm, "vhu-ctrl", 8) == 0)
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* The control thread lives while devices are registered, so none of
 * ours runs into rte_eal_cleanup() or exit. */
static void
test_ctrl_thread_ends_with_last_device(void)
{
	struct vt_dev a = { 0 }, b = { 0 };
	uint64_t seq = 0;

	VT_CHECK_EQ(ctrl_threads(), 0);
	VT_CHECK_EQ(vt_dev_up(&a, "life-a", 1, NULL), 0);
	VT_CHECK_EQ(vt_dev_up(&b, "life-b", 1, NULL), 0);
	VT_CHECK_EQ(ctrl_threads(), 1);
	vt_dev_close(&a);
	VT_CHECK_EQ(ctrl_threads(), 1);
	VT_CHECK_EQ(vt_fe_send(b.fe, 0, 2, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(b.dev, 0, 2, &seq), 2);
	vt_dev_close(&b);
	VT_CHECK_EQ(ctrl_threads(), 0);
	/* And it comes back for the next device. */
	VT_CHECK_EQ(vt_dev_up(&a, "life-c", 1, NULL), 0);
	VT_CHECK_EQ(ctrl_threads(), 1);
	vt_dev_close(&a);
	VT_CHECK_EQ(ctrl_threads(), 0);
}

static const struct vhu_test_case cases[] = {
	{ "log_after_reset_owner", test_log_after_reset_owner },
	{ "log_after_reconnect", test_log_after_reconnect },
	{ "mrg_rx_short_buffers", test_mrg_rx_short_buffers },
	{ "huge_indirect_tables", test_huge_indirect_tables },
	{ "log_fd_signalled", test_log_fd_signalled },
	{ "quiesce_timeout_changes_nothing", test_quiesce_timeout_changes_nothing },
	{ "late_burst_parks_request", test_late_burst_parks_request },
	{ "late_reset_still_resets", test_late_reset_still_resets },
	{ "shrunk_guest_memory", test_shrunk_guest_memory },
	{ "fuse_memory_refused", test_fuse_memory_refused },
	{ "ctrl_thread_ends_with_last_device", test_ctrl_thread_ends_with_last_device },
	/* Last: it runs the process under mlockall for a while. */
	{ "mlock_sparse_memory", test_mlock_sparse_memory },
};

int
main(int argc, char **argv)
{
	RTE_SET_USED(argc);
	return vt_main("hostile", cases, RTE_DIM(cases), 1, argv[0]);
}
