/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control plane at scale (issue 17): 256 devices in one process, their
 * front-ends connecting at once, then all of them disconnecting and
 * reconnecting. Every device must become ready each time, the process's
 * fds must come back to what they were, and nothing may be left after
 * unregistering. Prints what it measured: time until every device is
 * ready, fds and resident memory per device (doc/performance.md).
 *
 * The front-ends run in a child process (the test front-end library uses
 * no DPDK, so the child touches none after fork()), from 4 threads, so
 * the fds and memory counted here are the back-end's alone.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include <rte_log.h>

#include "vhu_test_dev.h"
#include "vhu_test_eal.h"
#include "vhu_fe_farm.h"

VHU_TEST_MAIN_DEFS;

/* Devices: VHU_TEST_SCALE_DEVICES (a multiple of SCALE_THREADS up to
 * SCALE_MAX_DEVICES; usertools/vhu-bench --scale varies it), else 256. */
#define SCALE_MAX_DEVICES VHU_FE_FARM_MAX
#define SCALE_THREADS VHU_FE_FARM_THREADS
static unsigned int scale_devices = 256;
#define SCALE_DEVICES scale_devices

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Resident memory of this process, KiB. */
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

/* Sum over the devices of their ready (or destroyed) events. */
static int
total(const struct vt_events *ev, bool ready)
{
	int sum = 0;

	for (unsigned int i = 0; i < SCALE_DEVICES; i++)
		sum += __atomic_load_n(ready ? &ev[i].ready : &ev[i].destroyed,
				       __ATOMIC_SEQ_CST);
	return sum;
}

/* Wait (up to 60 s) until those events add up to want. */
static bool
wait_total(const struct vt_events *ev, bool ready, int want)
{
	for (int i = 0; i < 60000; i++) {
		if (total(ev, ready) >= want)
			return true;
		usleep(1000);
	}
	return false;
}

static void
test_many_frontends(void)
{
	static char paths[SCALE_MAX_DEVICES][108];
	static struct vt_events ev[SCALE_MAX_DEVICES];
	static struct vhu_device *devs[SCALE_MAX_DEVICES];
	const bool ev_ready = true, ev_gone = false; /* wait_total() */
	struct rlimit rl;
	struct vhu_fe_farm farm;
	bool farm_up;
	long fds_start, fds0, fds_reg, fds_up, rss0, rss_reg, rss_up;
	double t0, t_up, t_re;
	unsigned int i, registered = 0;

	const char *env = getenv("VHU_TEST_SCALE_DEVICES");
	double t_reg;

	if (env != NULL) {
		unsigned long n = strtoul(env, NULL, 10);

		if (n < SCALE_THREADS || n > SCALE_MAX_DEVICES || n % SCALE_THREADS) {
			fprintf(stderr, "  VHU_TEST_SCALE_DEVICES=%s: want a multiple "
				"of %u up to %u\n", env, SCALE_THREADS,
				SCALE_MAX_DEVICES);
			VT_CHECK(false);
			return;
		}
		scale_devices = (unsigned int)n;
	}
	/* Both processes need about 7 fds a device. */
	VT_CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 4096) {
		VT_SKIP("RLIMIT_NOFILE hard limit %lu < 4096", (unsigned long)rl.rlim_max);
		return;
	}
	rl.rlim_cur = rl.rlim_max;
	VT_CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	/* 256 devices' connection logs say nothing the other cases don't. */
	rte_log_set_level_pattern("lib.vhu*", RTE_LOG_WARNING);

	/* Fork before the first device starts vhu's control thread, so the
	 * child inherits as few running threads as can be. */
	for (i = 0; i < SCALE_DEVICES; i++)
		vt_sock_path(paths[i], sizeof(paths[i]), "scale");
	fds_start = vhu_test_count_fds();
	farm_up = vhu_fe_farm_start(&farm, (const char (*)[108])paths,
				    SCALE_DEVICES, vt_packed(), 20000) == 0;
	VT_CHECK(farm_up);

	fds0 = vhu_test_count_fds();
	rss0 = rss_kib();
	t0 = now_ms();
	for (i = 0; i < SCALE_DEVICES; i++) {
		struct vhu_device_config dc = {
			.max_queue_pairs = 1, .ops = &vt_ops, .ctx = &ev[i],
			.numa_socket = -1,
		};

		dc.path = paths[i];
		if (vhu_device_register(&dc, &devs[i]) != 0)
			break;
		registered++;
		if (vhu_device_start(devs[i]) != 0)
			break;
	}
	VT_CHECK_EQ(i, SCALE_DEVICES);
	t_reg = now_ms() - t0;
	fds_reg = vhu_test_count_fds();
	rss_reg = rss_kib();
	printf("scale: %u devices registered and listening in %.1f ms, "
	       "%.2f fds and %.1f KiB resident each\n", SCALE_DEVICES,
	       t_reg, (double)(fds_reg - fds0) / SCALE_DEVICES,
	       (double)(rss_reg - rss0) / SCALE_DEVICES);

	if (farm_up) {
		/* All connect at once. */
		t0 = now_ms();
		VT_CHECK_EQ(vhu_fe_farm_connect(&farm), 0);
		VT_CHECK(wait_total(ev, ev_ready, SCALE_DEVICES));
		t_up = now_ms() - t0;
		fds_up = vhu_test_count_fds();
		rss_up = rss_kib();
		printf("scale: %u front-ends connecting at once: all ready in "
		       "%.1f ms; connected, %.2f fds and %.1f KiB resident a "
		       "device (guest memory mapped included)\n", SCALE_DEVICES,
		       t_up, (double)(fds_up - fds0) / SCALE_DEVICES,
		       (double)(rss_up - rss0) / SCALE_DEVICES);

		/* All go away: every device destroyed, fds as registered. */
		VT_CHECK_EQ(vhu_fe_farm_disconnect(&farm), 0);
		VT_CHECK(wait_total(ev, ev_gone, SCALE_DEVICES));
		for (i = 0; i < 5000 && vhu_test_count_fds() != fds_reg; i++)
			usleep(1000);
		VT_CHECK_EQ(vhu_test_count_fds(), fds_reg);

		/* All reconnect at once. */
		t0 = now_ms();
		VT_CHECK_EQ(vhu_fe_farm_connect(&farm), 0);
		VT_CHECK(wait_total(ev, ev_ready, 2 * SCALE_DEVICES));
		t_re = now_ms() - t0;
		VT_CHECK_EQ(vhu_test_count_fds(), fds_up);
		printf("scale: all %u reconnecting at once: all ready in %.1f ms\n",
		       SCALE_DEVICES, t_re);
		/* For usertools/vhu-bench --scale. */
		printf("scale-result devices=%u register_ms=%.1f ready_ms=%.1f "
		       "reconnect_ms=%.1f fds_per_device=%.2f rss_kib_per_device=%.1f\n",
		       SCALE_DEVICES, t_reg, t_up, t_re,
		       (double)(fds_up - fds0) / SCALE_DEVICES,
		       (double)(rss_up - rss0) / SCALE_DEVICES);
		for (i = 0; i < SCALE_DEVICES; i++)
			VT_CHECK(vhu_device_ready(devs[i]));

		VT_CHECK_EQ(vhu_fe_farm_stop(&farm), 0);
	}
	for (i = 0; i < registered; i++)
		VT_CHECK_EQ(vhu_device_unregister(devs[i]), 0);
	/* The farm's pipes are closed too. */
	VT_CHECK_EQ(vhu_test_count_fds(), fds_start);
	rte_log_set_level_pattern("lib.vhu*", RTE_LOG_INFO);
}

static const struct vhu_test_case cases[] = {
	{ "many_frontends", test_many_frontends },
};

int
main(int argc, char **argv)
{
	RTE_SET_USED(argc);
	return vt_main("scale", cases, RTE_DIM(cases), 1, argv[0]);
}
