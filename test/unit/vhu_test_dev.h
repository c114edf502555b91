/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared fixture for unit tests that drive lib/vhu through the test
 * front-end in one process: a registered device on a private socket, a
 * vhu_fe connected to it, a mempool, callback bookkeeping, and fd/mapping
 * counters for leak checks.
 *
 * Ring format: the environment picks it for every front-end the fixture
 * creates: VHU_TEST_RING=packed drives packed virtqueues
 * (VIRTIO_F_RING_PACKED), VHU_TEST_RING=split (or unset, or empty) split
 * ones; anything else is an error. meson registers each ring-exercising
 * binary once per format (test/unit/meson.build, "-packed" names).
 */
#ifndef VHU_TEST_DEV_H
#define VHU_TEST_DEV_H

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "vhu.h"
#include "vhu_fe.h"
#include "vhu_test.h"
#include "vhu_test_eal.h"
#include "vhu_unmap.h"

/* VHU_TEST_RING: 0 split (unset, empty or "split"), 1 packed ("packed"),
 * -1 anything else (printed). */
static inline int
vt_ring_format(void)
{
	const char *v = getenv("VHU_TEST_RING");

	if (v == NULL || v[0] == '\0' || strcmp(v, "split") == 0)
		return 0;
	if (strcmp(v, "packed") == 0)
		return 1;
	fprintf(stderr, "VHU_TEST_RING=\"%s\" is not a ring format: use "
		"\"split\" (the default) or \"packed\"\n", v);
	return -1;
}

/* Whether the cases drive packed rings. */
static inline bool
vt_packed(void)
{
	return vt_ring_format() == 1;
}

static inline const char *
vt_ring_name(void)
{
	return vt_packed() ? "packed" : "split";
}

/*
 * Skip the running case on packed rings: for what only a split ring has
 * (say why). Prints "SKIP <case>: split-only (<why>)".
 */
#define VT_SPLIT_ONLY(why) do { \
	if (vt_packed()) \
		VT_SKIP("split-only (%s)", why); \
} while (0)

/* One part of a case that only a split ring has: printed
 * "SKIP <case>: split-only (<part>: <why>)", not counted (the rest of
 * the case runs). */
static inline void
vt_skip_part(const char *part, const char *why)
{
	fprintf(stderr, "  SKIP %s: split-only (%s: %s)\n",
		vhu_test_case_name, part, why);
}

/* main() of a binary whose cases drive rings: check VHU_TEST_RING and
 * print the format before the first case, then run them under EAL. */
static inline int
vt_main(const char *suite, const struct vhu_test_case *cases, size_t n,
		int lcores, const char *argv0)
{
	if (vt_ring_format() < 0)
		return 2;
	fprintf(stderr, "%s: ring format %s (VHU_TEST_RING)\n", suite,
		vt_ring_name());
	return vhu_test_main_eal(suite, cases, n, lcores, argv0);
}

struct vt_events {
	int ready;
	int destroyed;
	int ring_changes;
	int features_changes;
};

static inline void
vt_ev_ready(struct vhu_device *dev, void *ctx)
{
	RTE_SET_USED(dev);
	__atomic_fetch_add(&((struct vt_events *)ctx)->ready, 1, __ATOMIC_SEQ_CST);
}

static inline void
vt_ev_destroyed(struct vhu_device *dev, void *ctx)
{
	RTE_SET_USED(dev);
	__atomic_fetch_add(&((struct vt_events *)ctx)->destroyed, 1,
			   __ATOMIC_SEQ_CST);
}

static inline void
vt_ev_ring(struct vhu_device *dev, uint16_t ring, struct vhu_ring_state st,
		void *ctx)
{
	RTE_SET_USED(dev);
	RTE_SET_USED(ring);
	RTE_SET_USED(st);
	__atomic_fetch_add(&((struct vt_events *)ctx)->ring_changes, 1,
			   __ATOMIC_SEQ_CST);
}

static inline void
vt_ev_features(struct vhu_device *dev, uint64_t f, void *ctx)
{
	RTE_SET_USED(dev);
	RTE_SET_USED(f);
	__atomic_fetch_add(&((struct vt_events *)ctx)->features_changes, 1,
			   __ATOMIC_SEQ_CST);
}

static const struct vhu_device_ops vt_ops = {
	.device_ready = vt_ev_ready,
	.device_destroyed = vt_ev_destroyed,
	.ring_state_changed = vt_ev_ring,
	.features_changed = vt_ev_features,
};

/* Wait up to 5 s for *counter to reach at least want. */
static inline bool
vt_wait_count(const int *counter, int want)
{
	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n(counter, __ATOMIC_SEQ_CST) >= want)
			return true;
		usleep(1000);
	}
	return false;
}

/* Wait up to 5 s for a condition evaluated by the caller's expression. */
#define VT_WAIT(cond) ({ \
	bool ok_ = false; \
	for (int w_ = 0; w_ < 5000 && !ok_; w_++) { \
		ok_ = (cond); \
		if (!ok_) \
			usleep(1000); \
	} \
	ok_; \
})

/* Mappings of memfd guest memory (the front-end's and the back-end's)
 * in /proc/self/maps right now. */
static inline int
vt_count_memfd_maps_now(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "/memfd:") != NULL)
			n++;
	fclose(f);
	return n;
}

/* The same, once the unmap thread has done what it was given. */
static inline int
vt_count_memfd_maps(void)
{
	vhu_unmap_flush();
	return vt_count_memfd_maps_now();
}

static inline void
vt_sock_path(char *buf, size_t len, const char *name)
{
	static int seq;

	snprintf(buf, len, "/tmp/vhu-ut-%d-%s-%d.sock", (int)getpid(), name,
		 seq++);
}

struct vt_dev {
	char path[108];
	struct vhu_device *dev;
	struct vhu_fe *fe;
	struct vt_events ev;
};

/* Register + start a server device and create (not connect) a front-end
 * for it with cfg_tweak applied. */
static inline int
vt_dev_open(struct vt_dev *t, const char *name, uint16_t qps,
		void (*cfg_tweak)(struct vhu_fe_config *))
{
	struct vhu_device_config dc = {
		.max_queue_pairs = qps,
		.ops = &vt_ops,
		.numa_socket = -1,
	};
	struct vhu_fe_config fc;
	int ret;

	if (vt_ring_format() < 0)
		return -EINVAL;
	memset(&t->ev, 0, sizeof(t->ev));
	vt_sock_path(t->path, sizeof(t->path), name);
	dc.path = t->path;
	dc.ctx = &t->ev;
	ret = vhu_device_register(&dc, &t->dev);
	if (ret != 0)
		return ret;
	ret = vhu_device_start(t->dev);
	if (ret != 0)
		return ret;
	vhu_fe_config_default(&fc);
	fc.path = t->path;
	fc.queue_pairs = qps;
	fc.timeout_ms = 3000;
	fc.packed = vt_packed();
	if (cfg_tweak != NULL)
		cfg_tweak(&fc);
	return vhu_fe_create(&fc, &t->fe);
}

/* After set-up: whether the front-end negotiated the ring format the
 * cases asked for and drives its rings in it (a case that passes on the
 * wrong format proves nothing). 0 or -EPROTO (printed). */
static inline int
vt_check_format(struct vhu_fe *fe)
{
	bool packed = (vhu_fe_features(fe) &
		       (1ULL << VIRTIO_F_RING_PACKED)) != 0;

	if (packed == vt_packed() &&
	    vhu_fe_vring_is_packed(vhu_fe_get_vring(fe, 0)) == packed)
		return 0;
	fprintf(stderr, "  the front-end runs %s rings, not %s ones\n",
		packed ? "packed" : "split", vt_ring_name());
	return -EPROTO;
}

/* Open, connect and run the whole start-up sequence. */
static inline int
vt_dev_up(struct vt_dev *t, const char *name, uint16_t qps,
		void (*cfg_tweak)(struct vhu_fe_config *))
{
	int ret = vt_dev_open(t, name, qps, cfg_tweak);

	if (ret == 0)
		ret = vhu_fe_connect(t->fe);
	if (ret == 0)
		ret = vhu_fe_setup(t->fe);
	if (ret == 0)
		ret = vt_check_format(t->fe);
	return ret;
}

static inline void
vt_dev_close(struct vt_dev *t)
{
	if (t->fe != NULL)
		vhu_fe_destroy(t->fe);
	t->fe = NULL;
	if (t->dev != NULL)
		vhu_device_unregister(t->dev);
	t->dev = NULL;
}

static inline struct rte_mempool *
vt_pool(void)
{
	static struct rte_mempool *mp;

	if (mp == NULL)
		mp = rte_pktmbuf_pool_create("vt_pool", 8191, 0, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE,
					     SOCKET_ID_ANY);
	return mp;
}

/* The raw view of ring `ring` of fe (vhu_fe_vring_get_raw). */
static inline struct vhu_fe_vring_raw
vt_raw(struct vhu_fe *fe, unsigned int ring)
{
	struct vhu_fe_vring_raw raw;

	vhu_fe_vring_get_raw(vhu_fe_get_vring(fe, ring), &raw);
	return raw;
}

/* Used entries of ring `ring` the device wrote and the driver has not
 * taken yet (split: used->idx past last_used; packed: used descriptors
 * from the driver's next used slot on), each checked by the front-end;
 * negative on a bad one. */
static inline int
vt_used_pending(struct vhu_fe *fe, unsigned int ring)
{
	return vhu_fe_vring_used_pending(vhu_fe_get_vring(fe, ring));
}

/* A packed descriptor as the driver writes it (push_raw_packed sets the
 * AVAIL/USED bits). */
static inline struct vring_packed_desc
vt_pdesc(uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
	return (struct vring_packed_desc){ .addr = addr, .len = len,
		.id = id, .flags = flags };
}

#define VT_PACKED_F_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define VT_PACKED_F_USED ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))

/* Whether packed descriptor flags say "used" for a slot whose used wrap
 * counter is wrap (AVAIL = USED = wrap). */
static inline bool
vt_packed_used(uint16_t flags, bool wrap)
{
	return !!(flags & VT_PACKED_F_AVAIL) == wrap &&
		!!(flags & VT_PACKED_F_USED) == wrap;
}

/*
 * SET_VRING_ADDR of ring `ring` with VHOST_VRING_F_LOG (what QEMU sends
 * for migration), the ring's own addresses in its format. log_guest_addr
 * is the used ring's GPA; for a packed ring QEMU sends the device area's
 * (lib/vhu logs packed used descriptors where they are written: the
 * descriptor ring). @return 0 or what vhu_fe_request() returned.
 */
static inline int
vt_set_vring_addr_logged(struct vhu_fe *fe, unsigned int ring)
{
	struct vhu_fe_vring_raw raw = vt_raw(fe, ring);
	struct vhu_wire_vring_addr a = {
		.index = ring, .flags = VHU_WIRE_VRING_F_LOG,
		.log_guest_addr = raw.used_gpa,
	};
	struct vhu_fe_req r = {
		.request = VHU_REQ_SET_VRING_ADDR,
		.flags = VHU_WIRE_F_NEED_REPLY, .payload = &a,
		.size = sizeof(a),
	};

	if (raw.packed) {
		a.desc_user_addr = (uintptr_t)raw.pdesc;
		a.avail_user_addr = (uintptr_t)raw.driver_event;
		a.used_user_addr = (uintptr_t)raw.device_event;
	} else {
		a.desc_user_addr = (uintptr_t)raw.desc;
		a.avail_user_addr = (uintptr_t)raw.avail;
		a.used_user_addr = (uintptr_t)raw.used;
	}
	return vhu_fe_request(fe, &r);
}

/* Post n test frames of len bytes on the front-end's TX ring of qp,
 * sequence numbers from seq0, and publish them. */
static inline int
vt_fe_send(struct vhu_fe *fe, unsigned int qp, unsigned int n, size_t len,
		uint64_t seq0)
{
	uint8_t frame[VHU_FE_FRAME_MAX];

	for (unsigned int i = 0; i < n; i++) {
		int ret;

		vhu_fe_frame_build(frame, len, seq0 + i);
		ret = vhu_fe_tx_post(fe, qp, frame, len, NULL);
		if (ret != 0)
			return ret;
	}
	return vhu_fe_tx_flush(fe, qp);
}

/* Dequeue until n packets came or 2 s passed; checks each is the test
 * frame with the next sequence number. @return packets dequeued, or -1
 * on a corrupt one. */
static inline int
vt_be_recv(struct vhu_device *dev, uint16_t qp, unsigned int n,
		uint64_t *next_seq)
{
	struct rte_mbuf *pkts[32];
	unsigned int got = 0;
	uint8_t buf[VHU_FE_FRAME_MAX];

	for (int spin = 0; spin < 2000 && got < n; spin++) {
		uint16_t k = vhu_dequeue_burst(dev, qp, vt_pool(), pkts, 32);

		if (k == 0) {
			usleep(1000);
			continue;
		}
		for (uint16_t i = 0; i < k; i++) {
			uint32_t len = rte_pktmbuf_pkt_len(pkts[i]);
			const uint8_t *p = rte_pktmbuf_read(pkts[i], 0, len, buf);
			uint64_t seq;
			bool ok = vhu_fe_frame_check(p, len, &seq) == 0 &&
				(next_seq == NULL || seq == *next_seq);

			if (next_seq != NULL)
				(*next_seq)++;
			rte_pktmbuf_free(pkts[i]);
			if (!ok) {
				rte_pktmbuf_free_bulk(pkts + i + 1, k - i - 1);
				return -1;
			}
		}
		got += k;
	}
	return (int)got;
}

#endif /* VHU_TEST_DEV_H */
