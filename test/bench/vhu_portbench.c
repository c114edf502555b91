/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-portbench: many vhost-user ports on one lcore, at library level,
 * lib/vhu against DPDK's librte_vhost (the reference we measure against;
 * this benchmark is the only thing that links it).
 *
 * ethdev stops at 32 ports (RTE_MAX_ETHPORTS of Debian's DPDK), so
 * testpmd cannot poll 64 or 256 vhost ports; this loop polls them as an
 * OVS PMD thread would: guest TX of every port, in turn, on the main
 * lcore. Port 0 is the busy one: an outside front-end (usertools/
 * vhu-bench runs testpmd with virtio-user, txonly) sends on it. The other
 * ports have no front-end, or with --idle-frontends a test front-end each
 * (vhu_fe_farm, in a child process) whose rings run idle.
 *
 *   vhu-portbench [EAL args] -- --backend vhu|vhost --ports N --dir DIR
 *       [--idle-frontends] [--warmup S] [--seconds S] [--control-only]
 *
 * Prints, for usertools/vhu-bench:
 *   portbench-listening                        (port 0 may connect now)
 *   portbench-control backend= ports= register_ms= ready_ms=
 *       reconnect_ms= fds_per_port= rss_kib_per_port=
 *                                              (with --idle-frontends)
 *   portbench-poll backend= ports= idle= packets= mpps= lcore_cpp=
 *       busy_cpp= idle_cpp=                   (meanings: at the printf)
 * Exit status 0, or 1 with a message on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_vhost.h>

#include "vhu.h"
#include "vhu_fe_farm.h"

#define BURST 32
#define MAX_PORTS VHU_FE_FARM_MAX

static struct {
	bool vhost;              /* librte_vhost, else lib/vhu */
	unsigned int ports;
	const char *dir;
	bool idle_frontends;
	bool control_only;
	double warmup_s, seconds;
} opt = { .ports = 1, .warmup_s = 2, .seconds = 5 };

static char paths[MAX_PORTS][108];
static struct vhu_device *vhu_devs[MAX_PORTS];
static int vids[MAX_PORTS];            /* librte_vhost: -1 until ready */
static int ready[MAX_PORTS];           /* ready (new_device) events */
static int gone[MAX_PORTS];            /* destroyed events */

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vhu-portbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* ---- lib/vhu ---- */

static void
vhu_ready_cb(struct vhu_device *dev, void *ctx)
{
	RTE_SET_USED(dev);
	__atomic_add_fetch(&ready[(uintptr_t)ctx], 1, __ATOMIC_SEQ_CST);
}

static void
vhu_destroyed_cb(struct vhu_device *dev, void *ctx)
{
	RTE_SET_USED(dev);
	__atomic_add_fetch(&gone[(uintptr_t)ctx], 1, __ATOMIC_SEQ_CST);
}

static const struct vhu_device_ops vhu_ops = {
	.device_ready = vhu_ready_cb,
	.device_destroyed = vhu_destroyed_cb,
};

/* ---- librte_vhost ---- */

static int
port_of_vid(int vid)
{
	char name[108];

	if (rte_vhost_get_ifname(vid, name, sizeof(name)) != 0)
		return -1;
	for (unsigned int i = 0; i < opt.ports; i++)
		if (strcmp(name, paths[i]) == 0)
			return (int)i;
	return -1;
}

static int
vhost_new_device(int vid)
{
	int p = port_of_vid(vid);

	if (p < 0)
		return -1;
	__atomic_store_n(&vids[p], vid, __ATOMIC_RELEASE);
	__atomic_add_fetch(&ready[p], 1, __ATOMIC_SEQ_CST);
	return 0;
}

static void
vhost_destroy_device(int vid)
{
	int p = port_of_vid(vid);

	if (p < 0)
		return;
	__atomic_store_n(&vids[p], -1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&gone[p], 1, __ATOMIC_SEQ_CST);
}

static const struct rte_vhost_device_ops vhost_ops = {
	.new_device = vhost_new_device,
	.destroy_device = vhost_destroy_device,
};

/* ---- both ---- */

static void
register_ports(void)
{
	for (unsigned int i = 0; i < opt.ports; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/p%u.sock", opt.dir, i);
		unlink(paths[i]);
		vids[i] = -1;
		if (opt.vhost) {
			if (rte_vhost_driver_register(paths[i], 0) != 0 ||
			    rte_vhost_driver_callback_register(paths[i],
							       &vhost_ops) != 0 ||
			    rte_vhost_driver_start(paths[i]) != 0)
				die("librte_vhost: cannot register %s", paths[i]);
		} else {
			struct vhu_device_config dc = {
				.path = paths[i], .max_queue_pairs = 1,
				.ops = &vhu_ops, .ctx = (void *)(uintptr_t)i,
				.numa_socket = -1,
			};
			int ret = vhu_device_register(&dc, &vhu_devs[i]);

			if (ret == 0)
				ret = vhu_device_start(vhu_devs[i]);
			if (ret != 0)
				die("lib/vhu: cannot register %s: %s", paths[i],
				    strerror(-ret));
		}
	}
}

static void
unregister_ports(void)
{
	for (unsigned int i = 0; i < opt.ports; i++) {
		if (opt.vhost)
			rte_vhost_driver_unregister(paths[i]);
		else if (vhu_devs[i] != NULL)
			vhu_device_unregister(vhu_devs[i]);
	}
}

static int
sum(const int *events, unsigned int first)
{
	int s = 0;

	for (unsigned int i = first; i < opt.ports; i++)
		s += __atomic_load_n(&events[i], __ATOMIC_SEQ_CST);
	return s;
}

/* Wait up to 60 s until the events of ports first.. add up to want. */
static bool
wait_sum(const int *events, unsigned int first, int want)
{
	for (int i = 0; i < 60000; i++) {
		if (sum(events, first) >= want)
			return true;
		usleep(1000);
	}
	return false;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	long n = 0;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n - 3; /* ".", "..", the DIR's own fd */
}

static long
rss_kib(void)
{
	long pages = -1, resident = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = -1;
		fclose(f);
	}
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Guest TX of port p into pkts: how many. */
static inline uint16_t
poll_port(unsigned int p, struct rte_mempool *mp, struct rte_mbuf **pkts)
{
	if (opt.vhost) {
		/* As OVS does: a port without a device is not polled. */
		int vid = __atomic_load_n(&vids[p], __ATOMIC_RELAXED);

		return vid < 0 ? 0 :
			rte_vhost_dequeue_burst(vid, 1, mp, pkts, BURST);
	}
	/* The same skip through lib/vhu's inline hint (vhu.h), which
	 * also skips stopped rings of a connected front-end. */
	return vhu_dequeue_ring_live(vhu_devs[p], 0) ?
		vhu_dequeue_burst(vhu_devs[p], 0, mp, pkts, BURST) : 0;
}

/* What a window measured. */
struct window {
	uint64_t packets;        /* port 0's */
	uint64_t rounds;         /* sweeps over every port */
	uint64_t cycles;         /* the whole window */
	uint64_t busy_cycles;    /* port 0's polls that brought packets */
	uint64_t idle_cycles;    /* the sweeps over ports 1.. */
};

/* Poll every port for `seconds`, port 0 timed on its own (as testpmd's
 * --record-core-cycles counts busy bursts), the other ports timed as one
 * sweep. */
static void
poll_window(struct rte_mempool *mp, double seconds, struct window *w)
{
	const uint64_t start = rte_rdtsc();
	const uint64_t end = start + (uint64_t)(seconds * rte_get_tsc_hz());
	struct rte_mbuf *pkts[BURST];
	uint64_t t0, t1, t2;

	memset(w, 0, sizeof(*w));
	t0 = start;
	do {
		uint16_t n = poll_port(0, mp, pkts);

		if (n != 0) {
			rte_pktmbuf_free_bulk(pkts, n);
			w->packets += n;
		}
		t1 = rte_rdtsc();
		if (n != 0)
			w->busy_cycles += t1 - t0;
		for (unsigned int p = 1; p < opt.ports; p++) {
			uint16_t k = poll_port(p, mp, pkts);

			/* Idle front-ends send nothing; count it if so. */
			if (unlikely(k != 0))
				rte_pktmbuf_free_bulk(pkts, k);
		}
		t2 = rte_rdtsc();
		w->idle_cycles += t2 - t1;
		w->rounds++;
		t0 = t2;
	} while (t2 < end);
	w->cycles = t2 - start;
}

static void
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "ports", required_argument, NULL, 'p' },
		{ "dir", required_argument, NULL, 'd' },
		{ "idle-frontends", no_argument, NULL, 'i' },
		{ "control-only", no_argument, NULL, 'c' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (strcmp(optarg, "vhost") == 0)
				opt.vhost = true;
			else if (strcmp(optarg, "vhu") != 0)
				die("--backend %s: vhu or vhost", optarg);
			break;
		case 'p':
			opt.ports = (unsigned int)strtoul(optarg, &end, 10);
			if (*end != '\0' || opt.ports < 1 ||
			    opt.ports > MAX_PORTS)
				die("--ports %s: 1..%u", optarg, MAX_PORTS);
			break;
		case 'd':
			opt.dir = optarg;
			break;
		case 'i':
			opt.idle_frontends = true;
			break;
		case 'c':
			opt.control_only = true;
			break;
		case 'w':
		case 's': {
			double *v = c == 'w' ? &opt.warmup_s : &opt.seconds;

			*v = strtod(optarg, &end);
			if (*end != '\0' || *v <= 0)
				die("--%s %s: seconds > 0",
				    c == 'w' ? "warmup" : "seconds", optarg);
			break;
		}
		default:
			die("unknown option (see the comment at the top of "
			    "test/bench/vhu_portbench.c)");
		}
	}
	if (optind != argc)
		die("unexpected argument %s", argv[optind]);
	if (opt.dir == NULL)
		die("--dir is required");
}

int
main(int argc, char **argv)
{
	const char *name = NULL;
	struct vhu_fe_farm farm;
	struct rte_mempool *mp;
	struct rlimit rl;
	unsigned int farm_first, nfarm;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		die("EAL init failed");
	parse_args(argc - ret, argv + ret);
	name = opt.vhost ? "vhost" : "vhu";

	/* Both processes need several fds a port. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (unsigned int i = 0; i < opt.ports; i++)
		snprintf(paths[i], sizeof(paths[i]), "%s/p%u.sock", opt.dir, i);
	/* The farm serves every port in control-only mode, else all but
	 * the busy port 0. Forked before the back-end's threads exist. */
	farm_first = opt.control_only ? 0 : 1;
	nfarm = opt.ports - farm_first;
	if (opt.idle_frontends && nfarm > 0 &&
	    vhu_fe_farm_start(&farm, (const char (*)[108])paths[farm_first],
			      nfarm, false, 30000) != 0)
		die("cannot start the front-ends");

	mp = rte_pktmbuf_pool_create("portbench", 8192, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE,
				     (int)rte_socket_id());
	if (mp == NULL)
		die("mempool: %s", rte_strerror(rte_errno));

	long fds0 = count_fds(), rss0 = rss_kib();
	double t0 = now_ms();

	register_ports();
	double register_ms = now_ms() - t0;

	if (opt.idle_frontends && nfarm > 0) {
		double ready_ms, reconnect_ms;
		long fds_up, rss_up;

		t0 = now_ms();
		if (vhu_fe_farm_connect(&farm) != 0 ||
		    !wait_sum(ready, farm_first, (int)nfarm))
			die("not every front-end became ready");
		ready_ms = now_ms() - t0;
		fds_up = count_fds();
		rss_up = rss_kib();
		if (vhu_fe_farm_disconnect(&farm) != 0 ||
		    !wait_sum(gone, farm_first, (int)nfarm))
			die("not every front-end went away");
		t0 = now_ms();
		if (vhu_fe_farm_connect(&farm) != 0 ||
		    !wait_sum(ready, farm_first, 2 * (int)nfarm))
			die("not every front-end came back");
		reconnect_ms = now_ms() - t0;
		printf("portbench-control backend=%s ports=%u register_ms=%.1f "
		       "ready_ms=%.1f reconnect_ms=%.1f fds_per_port=%.2f "
		       "rss_kib_per_port=%.1f\n", name, nfarm, register_ms,
		       ready_ms, reconnect_ms,
		       (double)(fds_up - fds0) / nfarm,
		       (double)(rss_up - rss0) / nfarm);
		fflush(stdout);
	}

	if (!opt.control_only) {
		const double hz = (double)rte_get_tsc_hz();
		struct window w;

		printf("portbench-listening\n");
		fflush(stdout);
		for (int i = 0; i < 60000 &&
		     !__atomic_load_n(&ready[0], __ATOMIC_SEQ_CST); i++)
			usleep(1000);
		if (!__atomic_load_n(&ready[0], __ATOMIC_SEQ_CST))
			die("port 0's front-end did not come");
		poll_window(mp, opt.warmup_s, &w);
		poll_window(mp, opt.seconds, &w);
		if (w.packets == 0)
			die("port 0 received nothing");
		/* mpps: port 0's rate; lcore_cpp: the lcore's whole time per
		 * packet (empty polls of every port included, so it follows
		 * the front-end's rate); busy_cpp: cycles of port 0's polls
		 * that brought packets, per packet; idle_cpp: cycles per
		 * poll of an idle port. */
		printf("portbench-poll backend=%s ports=%u idle=%s packets=%" PRIu64
		       " mpps=%.3f lcore_cpp=%.1f busy_cpp=%.1f idle_cpp=%.2f\n",
		       name, opt.ports,
		       opt.ports == 1 ? "-" : opt.idle_frontends ? "frontends" :
		       "none", w.packets, w.packets / (w.cycles / hz) / 1e6,
		       (double)w.cycles / w.packets,
		       (double)w.busy_cycles / w.packets,
		       opt.ports == 1 ? 0.0 : (double)w.idle_cycles /
		       ((double)w.rounds * (opt.ports - 1)));
		fflush(stdout);
	}

	if (opt.idle_frontends && nfarm > 0 && vhu_fe_farm_stop(&farm) != 0)
		die("the front-ends' process failed");
	unregister_ports();
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
