/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control plane vs datapath: a worker lcore loops every packet the guest
 * sends back to it (dequeue → enqueue, never dropping: what it cannot
 * enqueue it keeps and retries) while the main thread, as the front-end,
 * replaces the memory table, adds and removes regions, and stops and
 * restarts both rings, over and over. Run under AddressSanitizer, an
 * unmap or ring swap under a running burst shows up as a crash or report;
 * any loss, duplicate or corruption shows up in the sequence numbers and
 * payload checks. On split rings, or packed ones with VHU_TEST_RING=packed
 * (stress-packed).
 */
#include <errno.h>
#include <sys/mman.h>

#include <rte_launch.h>
#include <rte_lcore.h>

#include "vhu_test_dev.h"
#include "vhu_test_eal.h"

VHU_TEST_MAIN_DEFS;

struct worker {
	struct vhu_device *dev;
	volatile bool stop;
	uint64_t looped;
};

static int
worker_main(void *arg)
{
	struct worker *w = arg;
	struct rte_mbuf *held[32];
	uint16_t nheld = 0, off = 0;

	while (!w->stop || nheld > off) {
		if (off == nheld) {
			nheld = vhu_dequeue_burst(w->dev, 0, vt_pool(), held, 32);
			off = 0;
			if (nheld == 0) {
				if (w->stop)
					break;
				continue;
			}
		}
		/* Enqueue returns how many of the first packets it handled;
		 * the rest stay ours until the ring takes them. */
		{
			uint16_t k = vhu_enqueue_burst(w->dev, 0, held + off,
						       nheld - off);

			rte_pktmbuf_free_bulk(held + off, k);
			off += k;
			w->looped += k;
		}
		if (w->stop)
			break;
	}
	rte_pktmbuf_free_bulk(held + off, nheld - off);
	return 0;
}

struct rx_state {
	uint64_t next;
	uint64_t bad;
};

static int
rx_check(void *arg, unsigned int qp, const struct virtio_net_hdr_v1 *hdr,
		const uint8_t *frame, size_t len)
{
	struct rx_state *s = arg;
	uint64_t seq;

	RTE_SET_USED(qp);
	RTE_SET_USED(hdr);
	if (vhu_fe_frame_check(frame, len, &seq) != 0 || seq != s->next)
		s->bad++;
	s->next++;
	return 0;
}

static void
stress_cfg(struct vhu_fe_config *c)
{
	c->inject_kick = false;
	c->notify = false;
	/* Packed rings may have any size: one that is not a power of two
	 * has the rings wrap at every offset as they are stopped and
	 * restarted. */
	c->queue_size = vt_packed() ? 250 : 256;
	c->tx_buf_size = 4096;
	c->mem.nregions = 3;
	c->mem_add_reg = false;
	/* Longer than lib/vhu's quiesce bound, so a starved worker shows up
	 * as the back-end's ETIMEDOUT nack, not as our own timeout. */
	c->timeout_ms = 20000;
}

/* A 1 MiB region far above guest memory for ADD/REM_MEM_REG: never used
 * for buffers. 0 or -errno. */
static int
extra_region_create(struct vhu_fe_region *r)
{
	const uint64_t size = 1 << 20;
	int fd = memfd_create("vt-stress-extra", MFD_CLOEXEC);
	void *hva;

	if (fd < 0)
		return -errno;
	hva = ftruncate(fd, (off_t)size) == 0 ?
		mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) :
		MAP_FAILED;
	if (hva == MAP_FAILED) {
		int err = errno;

		close(fd);
		return -err;
	}
	*r = (struct vhu_fe_region){ .fd = fd, .gpa = 1ULL << 40,
		.size = size, .hva = hva };
	return 0;
}

static void
extra_region_destroy(struct vhu_fe_region *r)
{
	munmap(r->hva, (size_t)r->size);
	close(r->fd);
}

static void
test_control_vs_datapath(void)
{
	struct vt_dev t = { 0 };
	struct worker w = { 0 };
	struct rx_state rx = { 0 };
	unsigned int worker_lcore = rte_get_next_lcore(-1, 1, 0);
	uint64_t sent = 0, rng = 7;
	const uint64_t total = 200000;
	unsigned int changes = 0, iter = 0;
	uint32_t base;
	unsigned int quiesce_nacks = 0;
	int rc = 0;
	uint8_t frame[4000];
	struct vhu_fe_region extra;

	VT_CHECK(worker_lcore < RTE_MAX_LCORE);
	VT_CHECK_EQ(vt_dev_up(&t, "stress", 1, stress_cfg), 0);
	VT_CHECK_EQ(extra_region_create(&extra), 0);

	w.dev = t.dev;
	VT_CHECK_EQ(rte_eal_remote_launch(worker_main, &w, worker_lcore), 0);

	while (rx.next < total) {
		unsigned int posted = 0;

		while (sent < total && posted < 32) {
			size_t len;

			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			len = 60 + (rng >> 33) % (sizeof(frame) - 60);
			vhu_fe_frame_build(frame, len, sent);
			if (vhu_fe_tx_post(t.fe, 0, frame, len, NULL) != 0)
				break;
			sent++;
			posted++;
		}
		if (vhu_fe_tx_flush(t.fe, 0) != 0 ||
		    vhu_fe_tx_reclaim(t.fe, 0) < 0 ||
		    vhu_fe_rx_poll(t.fe, 0, rx_check, &rx, 256) < 0) {
			rc = -EPROTO;
			break;
		}
		if (rx.bad != 0)
			break;

		/* Every few rounds, pull the rug. */
		if (++iter % 16 != 0)
			continue;
		switch (changes++ % 5) {
		case 0: /* same memory, new table (virtio-user's way) */
			rc = vhu_fe_set_mem_table(t.fe);
			break;
		case 1: /* a region comes... */
			rc = vhu_fe_add_mem_reg(t.fe, &extra);
			break;
		case 2: /* ...and goes */
			rc = vhu_fe_rem_mem_reg(t.fe, &extra);
			break;
		case 3: /* guest TX ring stopped and restarted */
			rc = vhu_fe_get_vring_base(t.fe, 1, &base);
			if (rc == 0)
				rc = vhu_fe_start_ring(t.fe, 1);
			break;
		case 4: /* guest RX ring stopped and restarted */
			rc = vhu_fe_get_vring_base(t.fe, 0, &base);
			if (rc == 0)
				rc = vhu_fe_start_ring(t.fe, 0);
			break;
		}
		/* A nack for a quiesce timeout is the documented answer when
		 * the worker lcore is starved (an overloaded machine): retry
		 * the change, a few times at most. */
		if (rc == -EREMOTEIO && (vhu_fe_last_ack(t.fe) == ETIMEDOUT ||
					 vhu_fe_last_ack(t.fe) == EBUSY) &&
		    ++quiesce_nacks <= 5) {
			/* EBUSY: the rings are held until the late burst
			 * ends (the control thread's tick sees it). */
			usleep(100 * 1000);
			changes--;
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
	}
	w.stop = true;
	rte_eal_wait_lcore(worker_lcore);
	fprintf(stderr, "  %" PRIu64 " packets looped, %u control changes, "
		"%u quiesce timeouts\n", rx.next, changes, quiesce_nacks);
	VT_CHECK_EQ(rc, 0);
	VT_CHECK_EQ(rx.bad, 0);
	VT_CHECK_EQ(rx.next, total);
	VT_CHECK_EQ(w.looped, total);
	VT_CHECK(changes >= 100);
	vt_dev_close(&t);
	extra_region_destroy(&extra);
}

/* What a storm must leave flat: taken after the warm-up. */
struct footprint {
	uint64_t rss;
	long fds;
	int maps;
};

static struct footprint
footprint_now(void)
{
	/* Unmaps handed to vhu-unmap are done before anything is read (the
	 * initialisers below may be evaluated in any order). */
	vhu_unmap_flush();
	return (struct footprint){ .rss = vhu_test_rss_bytes(),
		.fds = vhu_test_count_fds(), .maps = vt_count_memfd_maps() };
}

/* Print the growth since warm; true when fds and mappings are back where
 * they were and RSS grew by less than 8 MiB. */
static bool
footprint_flat(const char *what, const struct footprint *warm)
{
	struct footprint now = footprint_now();

	fprintf(stderr, "  %s: RSS %+" PRId64 " KiB, fds %+ld, memfd maps %+d "
		"after warm-up\n", what, (int64_t)(now.rss - warm->rss) / 1024,
		now.fds - warm->fds, now.maps - warm->maps);
	return now.fds == warm->fds && now.maps == warm->maps &&
		now.rss < warm->rss + (8ULL << 20);
}

/* Post n frames (seq from *sent) and poll until they all came back. */
static int
storm_round(struct vt_dev *t, struct rx_state *rx, uint64_t *sent,
		unsigned int n, size_t len)
{
	uint8_t frame[2048];
	uint64_t want = *sent + n;

	for (unsigned int i = 0; i < n; i++) {
		vhu_fe_frame_build(frame, len + (*sent % 64), *sent);
		if (vhu_fe_tx_post(t->fe, 0, frame, len + (*sent % 64), NULL) != 0)
			return -ENOSPC;
		(*sent)++;
	}
	if (vhu_fe_tx_flush(t->fe, 0) != 0)
		return -EPROTO;
	for (int spin = 0; spin < 20000 && rx->next < want; spin++) {
		if (vhu_fe_tx_reclaim(t->fe, 0) < 0 ||
		    vhu_fe_rx_poll(t->fe, 0, rx_check, rx, 256) < 0)
			return -EPROTO;
		if (rx->next < want)
			usleep(50);
	}
	return rx->next == want && rx->bad == 0 ? 0 : -EIO;
}

/*
 * Storms: 1000 memory-table changes (SET_MEM_TABLE, ADD_MEM_REG,
 * REM_MEM_REG) with sequence-numbered, checked frames looping through a
 * worker lcore between each, then 1000 front-end disconnect/reconnect
 * cycles with traffic after each. No frame may be lost or corrupted (the
 * front-end waits for its frames before it changes anything), and fds,
 * guest-memory mappings and RSS stay flat after a warm-up.
 */
static void
test_storms(void)
{
	struct vt_dev t = { 0 };
	struct worker w = { 0 };
	struct rx_state rx = { 0 };
	unsigned int worker_lcore = rte_get_next_lcore(-1, 1, 0);
	struct vhu_fe_region extra;
	struct footprint warm = { 0 };
	uint64_t sent = 0;
	int rc = 0;
	unsigned int i;

	VT_CHECK(worker_lcore < RTE_MAX_LCORE);
	/* Thousands of connects and tables: keep the log to warnings. */
	rte_log_set_level_pattern("lib.vhu", RTE_LOG_WARNING);
	VT_CHECK_EQ(vt_dev_up(&t, "storm", 1, stress_cfg), 0);
	VT_CHECK_EQ(extra_region_create(&extra), 0);
	w.dev = t.dev;
	VT_CHECK_EQ(rte_eal_remote_launch(worker_main, &w, worker_lcore), 0);

	for (i = 0; i < 1000 && rc == 0; i++) {
		switch (i % 3) {
		case 0:
			rc = vhu_fe_set_mem_table(t.fe);
			break;
		case 1:
			rc = vhu_fe_add_mem_reg(t.fe, &extra);
			break;
		default:
			rc = vhu_fe_rem_mem_reg(t.fe, &extra);
			break;
		}
		if (rc == 0)
			rc = storm_round(&t, &rx, &sent, 8, 60);
		if (i == 99)
			warm = footprint_now();
	}
	fprintf(stderr, "  memory-table storm: %u changes, %" PRIu64 " frames\n",
		i, rx.next);
	if (rc != 0)
		goto out;
	VT_CHECK(footprint_flat("memory-table storm", &warm));

	for (i = 0; i < 1000 && rc == 0; i++) {
		vhu_fe_disconnect(t.fe);
		if (!VT_WAIT(!vhu_device_connected(t.dev))) {
			rc = -ETIMEDOUT;
			break;
		}
		rc = vhu_fe_connect(t.fe);
		for (unsigned int r = 0; rc == 0 && r < vhu_fe_nrings(t.fe); r++)
			rc = vhu_fe_ring_reset(t.fe, r);
		if (rc == 0)
			rc = vhu_fe_setup(t.fe);
		if (rc == 0)
			rc = storm_round(&t, &rx, &sent, 4, 100);
		if (i == 99)
			warm = footprint_now();
	}
	fprintf(stderr, "  reconnect storm: %u cycles, %" PRIu64 " frames in all\n",
		i, rx.next);
	if (rc == 0)
		VT_CHECK(footprint_flat("reconnect storm", &warm));
out:
	w.stop = true;
	rte_eal_wait_lcore(worker_lcore);
	VT_CHECK_EQ(rc, 0);
	VT_CHECK_EQ(rx.bad, 0);
	VT_CHECK_EQ(rx.next, sent);
	vt_dev_close(&t);
	extra_region_destroy(&extra);
	rte_log_set_level_pattern("lib.vhu", RTE_LOG_INFO);
}

static const struct vhu_test_case cases[] = {
	{ "control_vs_datapath", test_control_vs_datapath },
	{ "storms", test_storms },
};

int
main(int argc, char **argv)
{
	RTE_SET_USED(argc);
	return vt_main("stress", cases, RTE_DIM(cases), 2, argv[0]);
}
