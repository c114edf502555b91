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

VHU_TEST_MAIN_DEFS;

/* Devices: VHU_TEST_SCALE_DEVICES (a multiple of SCALE_THREADS up to
 * SCALE_MAX_DEVICES; usertools/vhu-bench --scale varies it), else 256. */
#define SCALE_MAX_DEVICES 1024
#define SCALE_THREADS 4
static unsigned int scale_devices = 256;
#define SCALE_DEVICES scale_devices

/* Commands to the child, one byte each; it answers each with a byte:
 * the number of front-ends whose step failed (0..255, capped). */
#define CMD_CONNECT 'c'
#define CMD_DISCONNECT 'd'
#define CMD_QUIT 'q'

struct scale_slice {
	struct vhu_fe **fes;
	unsigned int first, count;
	char cmd;
	unsigned int failed;
};

static void *
scale_slice_run(void *arg)
{
	struct scale_slice *s = arg;

	for (unsigned int i = s->first; i < s->first + s->count; i++) {
		if (s->cmd == CMD_CONNECT) {
			if (vhu_fe_connect(s->fes[i]) != 0 ||
			    vhu_fe_setup(s->fes[i]) != 0)
				s->failed++;
		} else {
			vhu_fe_disconnect(s->fes[i]);
		}
	}
	return NULL;
}

/* The child: create the front-ends, then obey commands until 'q'. */
static int
scale_child(char (*paths)[108], int cmd_fd, int ack_fd)
{
	static struct vhu_fe *fes[SCALE_MAX_DEVICES];
	struct scale_slice slices[SCALE_THREADS];
	pthread_t th[SCALE_THREADS];
	unsigned int i, failed = 0;
	char cmd;

	for (i = 0; i < SCALE_DEVICES; i++) {
		struct vhu_fe_config fc;

		vhu_fe_config_default(&fc);
		fc.path = paths[i];
		fc.timeout_ms = 20000;
		fc.packed = vt_packed();
		if (vhu_fe_create(&fc, &fes[i]) != 0)
			failed++;
	}
	if (failed != 0)
		return 1;
	while (read(cmd_fd, &cmd, 1) == 1 && cmd != CMD_QUIT) {
		uint8_t ack;

		failed = 0;
		for (i = 0; i < SCALE_THREADS; i++) {
			slices[i] = (struct scale_slice){
				.fes = fes, .cmd = cmd,
				.first = i * (SCALE_DEVICES / SCALE_THREADS),
				.count = SCALE_DEVICES / SCALE_THREADS,
			};
			if (pthread_create(&th[i], NULL, scale_slice_run,
					   &slices[i]) != 0)
				return 1;
		}
		for (i = 0; i < SCALE_THREADS; i++) {
			pthread_join(th[i], NULL);
			failed += slices[i].failed;
		}
		ack = (uint8_t)RTE_MIN(failed, 255u);
		if (write(ack_fd, &ack, 1) != 1)
			return 1;
	}
	for (i = 0; i < SCALE_DEVICES; i++)
		vhu_fe_destroy(fes[i]);
	return 0;
}

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

static int
child_do(int cmd_fd, int ack_fd, char cmd)
{
	uint8_t ack;

	if (write(cmd_fd, &cmd, 1) != 1 || read(ack_fd, &ack, 1) != 1)
		return -1;
	return ack;
}

static void
test_many_frontends(void)
{
	static char paths[SCALE_MAX_DEVICES][108];
	static struct vt_events ev[SCALE_MAX_DEVICES];
	static struct vhu_device *devs[SCALE_MAX_DEVICES];
	const bool ev_ready = true, ev_gone = false; /* wait_total() */
	struct rlimit rl;
	int cmd_pipe[2], ack_pipe[2], status = 0;
	long fds0, fds_reg, fds_up, rss0, rss_reg, rss_up;
	double t0, t_up, t_re;
	unsigned int i, registered = 0;
	pid_t child;

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
	VT_CHECK_EQ(pipe(cmd_pipe), 0);
	VT_CHECK_EQ(pipe(ack_pipe), 0);
	fflush(NULL);
	child = fork();
	if (child == 0) {
		close(cmd_pipe[1]);
		close(ack_pipe[0]);
		_exit(scale_child(paths, cmd_pipe[0], ack_pipe[1]));
	}
	close(cmd_pipe[0]);
	close(ack_pipe[1]);
	VT_CHECK(child > 0);

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

	if (child > 0) {
		/* All connect at once. */
		t0 = now_ms();
		VT_CHECK_EQ(child_do(cmd_pipe[1], ack_pipe[0], CMD_CONNECT), 0);
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
		VT_CHECK_EQ(child_do(cmd_pipe[1], ack_pipe[0], CMD_DISCONNECT), 0);
		VT_CHECK(wait_total(ev, ev_gone, SCALE_DEVICES));
		for (i = 0; i < 5000 && vhu_test_count_fds() != fds_reg; i++)
			usleep(1000);
		VT_CHECK_EQ(vhu_test_count_fds(), fds_reg);

		/* All reconnect at once. */
		t0 = now_ms();
		VT_CHECK_EQ(child_do(cmd_pipe[1], ack_pipe[0], CMD_CONNECT), 0);
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

		if (write(cmd_pipe[1], &(char){ CMD_QUIT }, 1) != 1)
			kill(child, SIGKILL);
		VT_CHECK_EQ(waitpid(child, &status, 0), child);
		VT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (i = 0; i < registered; i++)
		VT_CHECK_EQ(vhu_device_unregister(devs[i]), 0);
	VT_CHECK_EQ(vhu_test_count_fds(), fds0);
	close(cmd_pipe[1]);
	close(ack_pipe[0]);
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
