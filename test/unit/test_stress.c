/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control plane vs datapath: a worker lcore loops every packet the guest
 * sends back to it (dequeue → enqueue, never dropping: what it cannot
 * enqueue it keeps and retries) while the main thread, as the front-end,
 * replaces the memory table, adds and removes regions, and stops and
 * restarts both rings, over and over. Run under AddressSanitizer, an
 * unmap or ring swap under a running burst shows up as a crash or report;
 * any loss, duplicate or corruption shows up in the sequence numbers and
 * payload checks.
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
	c->queue_size = 256;
	c->tx_buf_size = 4096;
	c->mem.nregions = 3;
	c->mem_add_reg = false;
	/* Longer than lib/vhu's quiesce bound, so a starved worker shows up
	 * as the back-end's ETIMEDOUT nack, not as our own timeout. */
	c->timeout_ms = 20000;
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
	int extra_fd;
	void *extra_hva;

	VT_CHECK(worker_lcore < RTE_MAX_LCORE);
	VT_CHECK_EQ(vt_dev_up(&t, "stress", 1, stress_cfg), 0);
	extra_fd = memfd_create("vt-stress-extra", MFD_CLOEXEC);
	VT_CHECK_EQ(ftruncate(extra_fd, 1 << 20), 0);
	extra_hva = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED,
			 extra_fd, 0);
	VT_CHECK(extra_hva != MAP_FAILED);
	extra = (struct vhu_fe_region){ .fd = extra_fd, .gpa = 1ULL << 40,
		.size = 1 << 20, .hva = extra_hva };

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
		if (rc == -EREMOTEIO && vhu_fe_last_ack(t.fe) == ETIMEDOUT &&
		    ++quiesce_nacks <= 5) {
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
	munmap(extra_hva, 1 << 20);
	close(extra_fd);
}

static const struct vhu_test_case cases[] = {
	{ "control_vs_datapath", test_control_vs_datapath },
};

int
main(int argc, char **argv)
{
	RTE_SET_USED(argc);
	return vhu_test_main_eal("stress", cases, RTE_DIM(cases), 2, argv[0]);
}
