/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-testbe: a small back-end program on lib/vhu for func tests against
 * real front-ends (DPDK virtio-user in stock testpmd, QEMU).
 *
 *   vhu-testbe [EAL args] -- --path SOCK [--client] [--queues N]
 *              [--mode rxonly|txonly|io] [--size BYTES] [--count N]
 *              [--hold]
 *
 * rxonly: dequeue and count (frames must be sane Ethernet/IPv4);
 * txonly: enqueue test frames (count: stop after N handed over);
 * io: every dequeued packet goes back to the same queue pair, unchanged
 * (held and retried, never dropped).
 * --hold: send nothing until SIGUSR1 (a front-end may discard what
 * arrives while it is still starting: DPDK's virtio PMD flushes its RX
 * used ring in dev_start, after its rings were already started).
 * Prints one line per event ("EVENT ready", "EVENT ring R started=S
 * enabled=E broken=B", "EVENT destroyed") and, on SIGINT/SIGTERM, final
 * counters as key=value lines, then unregisters and exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "vhu.h"
#include "vhu_fe.h"

enum mode { MODE_RXONLY, MODE_TXONLY, MODE_IO };

static struct {
	const char *path;
	bool client;
	uint16_t queues;
	enum mode mode;
	uint16_t size;
	uint64_t count;
	bool hold;
} opt = { .queues = 1, .mode = MODE_RXONLY, .size = 64 };

static volatile sig_atomic_t quit;
static volatile sig_atomic_t released;
static volatile bool worker_stop;

static struct {
	uint64_t rx_packets, rx_bytes, rx_bad;
	uint64_t tx_packets, tx_handled;
	uint64_t io_looped;
} stats;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		released = 1;
	else
		quit = 1;
}

static void
ev_ready(struct vhu_device *dev, void *ctx)
{
	(void)ctx;
	printf("EVENT ready features=0x%" PRIx64 " queue_pairs=%u\n",
	       vhu_device_features(dev), vhu_device_queue_pairs(dev));
	fflush(stdout);
}

static void
ev_destroyed(struct vhu_device *dev, void *ctx)
{
	(void)dev;
	(void)ctx;
	printf("EVENT destroyed\n");
	fflush(stdout);
}

static void
ev_ring(struct vhu_device *dev, uint16_t ring, struct vhu_ring_state st,
		void *ctx)
{
	(void)dev;
	(void)ctx;
	printf("EVENT ring %u started=%d enabled=%d broken=%d\n", ring,
	       st.started, st.enabled, st.broken);
	fflush(stdout);
}

static const struct vhu_device_ops ops = {
	.device_ready = ev_ready,
	.device_destroyed = ev_destroyed,
	.ring_state_changed = ev_ring,
};

struct worker_ctx {
	struct vhu_device *dev;
	struct rte_mempool *mp;
};

static void
poll_rxonly(struct worker_ctx *w, uint16_t qp)
{
	struct rte_mbuf *pkts[32];
	uint8_t buf[VHU_FE_FRAME_MAX];
	uint16_t n = vhu_dequeue_burst(w->dev, qp, w->mp, pkts, 32);

	for (uint16_t i = 0; i < n; i++) {
		uint32_t len = rte_pktmbuf_pkt_len(pkts[i]);
		const uint8_t *p = rte_pktmbuf_read(pkts[i], 0, len, buf);

		stats.rx_bytes += len;
		if (p == NULL || vhu_fe_frame_check_eth(p, len) != 0)
			stats.rx_bad++;
	}
	stats.rx_packets += n;
	rte_pktmbuf_free_bulk(pkts, n);
}

static void
poll_txonly(struct worker_ctx *w, uint16_t qp)
{
	struct rte_mbuf *pkts[32];
	uint16_t n = 32, k;

	if (opt.hold && !released)
		return;
	if (opt.count != 0) {
		if (stats.tx_handled >= opt.count)
			return;
		n = (uint16_t)RTE_MIN((uint64_t)n, opt.count - stats.tx_handled);
	}
	if (rte_pktmbuf_alloc_bulk(w->mp, pkts, n) != 0)
		return;
	for (uint16_t i = 0; i < n; i++) {
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(pkts[i], opt.size);

		vhu_fe_frame_build(p, opt.size, stats.tx_handled + i);
	}
	k = vhu_enqueue_burst(w->dev, qp, pkts, n);
	stats.tx_handled += k;
	rte_pktmbuf_free_bulk(pkts, n);
	if (k > 0) {
		struct vhu_ring_stats st;
		uint64_t sent = 0;

		for (uint16_t q = 0; q < opt.queues; q++)
			if (vhu_device_ring_stats(w->dev, 2 * q, &st) == 0)
				sent += st.packets;
		stats.tx_packets = sent;
	}
}

/* io: what cannot be enqueued yet is held per queue pair and retried. */
struct io_hold {
	struct rte_mbuf *pkts[32];
	uint16_t n, off;
};

static void
poll_io(struct worker_ctx *w, uint16_t qp, struct io_hold *h)
{
	uint16_t k;

	if (h->off == h->n) {
		h->n = vhu_dequeue_burst(w->dev, qp, w->mp, h->pkts, 32);
		h->off = 0;
		stats.rx_packets += h->n;
	}
	if (h->off == h->n)
		return;
	k = vhu_enqueue_burst(w->dev, qp, h->pkts + h->off, h->n - h->off);
	rte_pktmbuf_free_bulk(h->pkts + h->off, k);
	h->off += k;
	stats.io_looped += k;
}

static int
worker_main(void *arg)
{
	struct worker_ctx *w = arg;
	struct io_hold *holds = calloc(opt.queues, sizeof(*holds));

	if (holds == NULL)
		return -ENOMEM;
	while (!worker_stop) {
		for (uint16_t qp = 0; qp < opt.queues; qp++) {
			switch (opt.mode) {
			case MODE_RXONLY:
				poll_rxonly(w, qp);
				break;
			case MODE_TXONLY:
				poll_txonly(w, qp);
				break;
			case MODE_IO:
				poll_io(w, qp, &holds[qp]);
				break;
			}
		}
	}
	for (uint16_t qp = 0; qp < opt.queues; qp++)
		rte_pktmbuf_free_bulk(holds[qp].pkts + holds[qp].off,
				      holds[qp].n - holds[qp].off);
	free(holds);
	return 0;
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s [EAL args] -- --path SOCK [--client] "
		"[--queues N] [--mode rxonly|txonly|io] [--size BYTES] "
		"[--count N] [--hold]\n", prog);
}

static int
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "path", required_argument, NULL, 'p' },
		{ "client", no_argument, NULL, 'c' },
		{ "queues", required_argument, NULL, 'q' },
		{ "mode", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "hold", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			opt.path = optarg;
			break;
		case 'c':
			opt.client = true;
			break;
		case 'q': {
			unsigned long v = strtoul(optarg, &end, 0);

			if (*end != '\0' || v == 0 || v > VHU_MAX_QUEUE_PAIRS) {
				fprintf(stderr, "--queues: '%s' not in 1..%u\n",
					optarg, VHU_MAX_QUEUE_PAIRS);
				return -1;
			}
			opt.queues = (uint16_t)v;
			break;
		}
		case 'm':
			if (strcmp(optarg, "rxonly") == 0)
				opt.mode = MODE_RXONLY;
			else if (strcmp(optarg, "txonly") == 0)
				opt.mode = MODE_TXONLY;
			else if (strcmp(optarg, "io") == 0)
				opt.mode = MODE_IO;
			else {
				fprintf(stderr, "--mode: '%s' is not rxonly, "
					"txonly or io\n", optarg);
				return -1;
			}
			break;
		case 's': {
			unsigned long v = strtoul(optarg, &end, 0);

			if (*end != '\0' || v < VHU_FE_FRAME_MIN || v > 1500) {
				fprintf(stderr, "--size: '%s' not in %u..1500\n",
					optarg, VHU_FE_FRAME_MIN);
				return -1;
			}
			opt.size = (uint16_t)v;
			break;
		}
		case 'n':
			opt.count = strtoull(optarg, &end, 0);
			if (*end != '\0') {
				fprintf(stderr, "--count: '%s' is not a number\n",
					optarg);
				return -1;
			}
			break;
		case 'H':
			opt.hold = true;
			break;
		default:
			return -1;
		}
	}
	if (opt.path == NULL) {
		fprintf(stderr, "--path is required\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct vhu_device_config cfg = { 0 };
	struct worker_ctx w = { 0 };
	struct vhu_device *dev;
	unsigned int lcore;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (parse_args(argc, argv) != 0) {
		usage("vhu-testbe");
		rte_eal_cleanup();
		return 2;
	}
	lcore = rte_get_next_lcore(-1, 1, 0);
	if (lcore >= RTE_MAX_LCORE) {
		fprintf(stderr, "need a worker lcore (-l with two lcores)\n");
		rte_eal_cleanup();
		return 2;
	}
	w.mp = rte_pktmbuf_pool_create("testbe", 8191, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	if (w.mp == NULL) {
		fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
		rte_eal_cleanup();
		return 1;
	}
	cfg.path = opt.path;
	cfg.client = opt.client;
	cfg.max_queue_pairs = opt.queues;
	cfg.ops = &ops;
	cfg.numa_socket = -1;
	ret = vhu_device_register(&cfg, &dev);
	if (ret == 0)
		ret = vhu_device_start(dev);
	if (ret != 0) {
		fprintf(stderr, "device %s: %s\n", opt.path, strerror(-ret));
		rte_eal_cleanup();
		return 1;
	}
	w.dev = dev;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	printf("READY %s\n", opt.path);
	fflush(stdout);
	rte_eal_remote_launch(worker_main, &w, lcore);
	while (!quit)
		usleep(100 * 1000);
	worker_stop = true;
	rte_eal_wait_lcore(lcore);

	printf("rx_packets=%" PRIu64 "\nrx_bytes=%" PRIu64 "\nrx_bad=%" PRIu64
	       "\ntx_packets=%" PRIu64 "\ntx_handled=%" PRIu64
	       "\nio_looped=%" PRIu64 "\n", stats.rx_packets, stats.rx_bytes,
	       stats.rx_bad, stats.tx_packets, stats.tx_handled,
	       stats.io_looped);
	for (uint16_t r = 0; r < 2 * opt.queues; r++) {
		struct vhu_ring_stats st;

		vhu_device_ring_stats(dev, r, &st);
		printf("ring%u packets=%" PRIu64 " drop_full=%" PRIu64
		       " drop_bad_desc=%" PRIu64 " starts=%" PRIu64
		       " stops=%" PRIu64 "\n", r, st.packets, st.drop_full,
		       st.drop_bad_desc, st.starts, st.stops);
	}
	fflush(stdout);
	vhu_device_unregister(dev);
	rte_mempool_free(w.mp);
	rte_eal_cleanup();
	return 0;
}
