/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Minimal unit-test harness: each test program runs named cases, each
 * case a function; a failed check reports file:line and the expression,
 * marks the case failed and returns from it. main() returns non-zero when
 * any case failed, 77 (meson's "skipped") when told to skip.
 */
#ifndef VHU_TEST_H
#define VHU_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <unistd.h>

extern int vhu_test_failed_checks;
/* Cases skipped (VT_SKIP) and the name of the case running. */
extern int vhu_test_skipped;
extern const char *vhu_test_case_name;

#define VT_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "  %s:%d: check failed: %s\n", \
			__FILE__, __LINE__, #cond); \
		vhu_test_failed_checks++; \
		return; \
	} \
} while (0)

/* Skip the rest of the running case: printed "SKIP <case>: <why>",
 * reported [ SKIP ], not a failure. */
#define VT_SKIP(...) do { \
	fprintf(stderr, "  SKIP %s: ", vhu_test_case_name); \
	fprintf(stderr, __VA_ARGS__); \
	fprintf(stderr, "\n"); \
	vhu_test_skipped++; \
	return; \
} while (0)

#define VT_CHECK_EQ(a, b) do { \
	long long va_ = (long long)(a), vb_ = (long long)(b); \
	if (va_ != vb_) { \
		fprintf(stderr, "  %s:%d: check failed: %s == %s (%lld != %lld)\n", \
			__FILE__, __LINE__, #a, #b, va_, vb_); \
		vhu_test_failed_checks++; \
		return; \
	} \
} while (0)

/*
 * Remove the unit tests' socket files this process left in /tmp
 * (/tmp/vhu-ut-<pid>-..., see vt_sock_path()): a case that fails a check
 * returns before it closes its devices. Returns how many were left.
 */
static inline unsigned int
vhu_test_remove_sockets(void)
{
	char prefix[32], path[300];
	DIR *d = opendir("/tmp");
	struct dirent *e;
	unsigned int n = 0;

	if (d == NULL)
		return 0;
	snprintf(prefix, sizeof(prefix), "vhu-ut-%d-", (int)getpid());
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "/tmp/%s", e->d_name);
		if (unlink(path) == 0)
			n++;
	}
	closedir(d);
	return n;
}

struct vhu_test_case {
	const char *name;
	void (*fn)(void);
};

/*
 * Run every case in order (or only those whose name contains the
 * VHU_TEST_FILTER environment variable). Returns the process exit code.
 */
static inline int
vhu_test_run(const char *suite, const struct vhu_test_case *cases, size_t n)
{
	const char *filter = getenv("VHU_TEST_FILTER");
	unsigned int passed = 0, failed = 0, skipped = 0;

	for (size_t i = 0; i < n; i++) {
		if (filter != NULL && strstr(cases[i].name, filter) == NULL)
			continue;
		int before = vhu_test_failed_checks;
		int skips = vhu_test_skipped;
		fprintf(stderr, "[ RUN  ] %s.%s\n", suite, cases[i].name);
		vhu_test_case_name = cases[i].name;
		cases[i].fn();
		/* A case that passed must have closed what it opened. */
		unsigned int left = vhu_test_remove_sockets();
		if (left != 0 && vhu_test_failed_checks == before) {
			fprintf(stderr, "  %u socket file(s) left in /tmp\n",
				left);
			vhu_test_failed_checks++;
		}
		if (vhu_test_failed_checks != before) {
			fprintf(stderr, "[ FAIL ] %s.%s\n", suite, cases[i].name);
			failed++;
		} else if (vhu_test_skipped != skips) {
			fprintf(stderr, "[ SKIP ] %s.%s\n", suite, cases[i].name);
			skipped++;
		} else {
			fprintf(stderr, "[  OK  ] %s.%s\n", suite, cases[i].name);
			passed++;
		}
	}
	fprintf(stderr, "%s: %u cases passed, %u skipped, %u failed\n", suite,
		passed, skipped, failed);
	return failed ? 1 : 0;
}

#define VHU_TEST_MAIN_DEFS int vhu_test_failed_checks, vhu_test_skipped; \
	const char *vhu_test_case_name

/* Open fds of this process, for leak checks (compare before/after). */
static inline long
vhu_test_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Resident bytes of this process (shared guest pages it touched count). */
static inline uint64_t
vhu_test_rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%lu %lu", &size, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

#endif /* VHU_TEST_H */
