/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-corelat: round-trip time of one cache line between two CPUs.
 *
 * A vhost-user back-end and its front-end share the ring and the packet
 * buffers: every packet moves cache lines between their two cores, so
 * throughput follows how far apart the cores are. In a VM the host may
 * move the vCPUs between physical cores while we measure (same core's
 * hyperthreads, same L3, another L3), and this round trip changes with
 * it. vhu-bench records it next to each measurement window.
 *
 *   vhu-corelat [-a CPU] [-b CPU] [-n ROUND_TRIPS] [-r REPEAT]
 *
 * Prints one line per repeat: the mean round trip in nanoseconds.
 * Exit 0, or 1 with a message on bad arguments or if a thread cannot be
 * pinned.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct corelat {
	_Alignas(64) _Atomic uint64_t ball;  /* odd: at b; even: at a */
	_Alignas(64) int cpu_b;
	long round_trips;
	int pin_error;
};

static int
corelat_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The far side: return every odd value as the next even one; a value
 * of 0 after the start means stop. */
static void *
corelat_echo(void *arg)
{
	struct corelat *c = arg;
	uint64_t want = 1;

	c->pin_error = corelat_pin(c->cpu_b);
	atomic_store_explicit(&c->ball, 0, memory_order_release);
	for (;;) {
		uint64_t v = atomic_load_explicit(&c->ball, memory_order_acquire);

		if (v == UINT64_MAX)
			return NULL;
		if (v == want) {
			atomic_store_explicit(&c->ball, v + 1, memory_order_release);
			want += 2;
		}
	}
}

static double
corelat_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int
corelat_parse(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static void
corelat_usage(FILE *f)
{
	fprintf(f, "usage: vhu-corelat [-a CPU] [-b CPU] [-n ROUND_TRIPS] "
		"[-r REPEAT]\n"
		"  mean cache-line round trip between CPUs a and b (default 0 "
		"and 1),\n  over n round trips (default 20000), printed r times "
		"(default 1), in ns\n");
}

int
main(int argc, char **argv)
{
	static struct corelat c;
	long cpu_a = 0, cpu_b = 1, n = 20000, repeat = 1, r;
	uint64_t v = 0;
	pthread_t echo;
	int opt;

	while ((opt = getopt(argc, argv, "a:b:n:r:h")) != -1) {
		long *dst = opt == 'a' ? &cpu_a : opt == 'b' ? &cpu_b :
			    opt == 'n' ? &n : opt == 'r' ? &repeat : NULL;

		if (opt == 'h') {
			corelat_usage(stdout);
			return 0;
		}
		if (dst == NULL || corelat_parse(optarg, opt == 'n' ||
				opt == 'r' ? 1 : 0, opt == 'n' ? 100000000 :
				opt == 'r' ? 1000000 : CPU_SETSIZE - 1, dst) != 0) {
			if (dst != NULL)
				fprintf(stderr, "vhu-corelat: bad -%c %s\n", opt,
					optarg);
			corelat_usage(stderr);
			return 1;
		}
	}
	if (optind != argc || cpu_a == cpu_b) {
		fprintf(stderr, "vhu-corelat: %s\n", optind != argc ?
			"unexpected argument" : "-a and -b must differ");
		corelat_usage(stderr);
		return 1;
	}
	if (corelat_pin((int)cpu_a) != 0) {
		fprintf(stderr, "vhu-corelat: cannot run on CPU %ld\n", cpu_a);
		return 1;
	}
	c.cpu_b = (int)cpu_b;
	atomic_store(&c.ball, UINT64_MAX - 1);
	if (pthread_create(&echo, NULL, corelat_echo, &c) != 0) {
		fprintf(stderr, "vhu-corelat: cannot start a thread\n");
		return 1;
	}
	/* Wait until the echo thread is pinned and ready. */
	while (atomic_load(&c.ball) != 0)
		;
	if (c.pin_error != 0) {
		atomic_store(&c.ball, UINT64_MAX);
		pthread_join(echo, NULL);
		fprintf(stderr, "vhu-corelat: cannot run on CPU %ld\n", cpu_b);
		return 1;
	}
	for (r = 0; r < repeat; r++) {
		double t0 = corelat_now();
		long i;

		for (i = 0; i < n; i++) {
			atomic_store_explicit(&c.ball, v + 1,
					      memory_order_release);
			while (atomic_load_explicit(&c.ball,
					memory_order_acquire) != v + 2)
				;
			v += 2;
		}
		printf("%.0f\n", (corelat_now() - t0) / (double)n);
		fflush(stdout);
	}
	atomic_store(&c.ball, UINT64_MAX);
	pthread_join(echo, NULL);
	return 0;
}
