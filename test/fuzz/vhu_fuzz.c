/* SPDX-License-Identifier: BSD-3-Clause */
/* What vhu's fuzz targets share: see vhu_fuzz.h. */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "vhu_fuzz.h"

void
vhu_fuzz_fail(const char *file, int line, const char *cond,
		const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\nvhu-fuzz: CHECK FAILED at %s:%d: %s\nvhu-fuzz: ",
		file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	abort();
}

/* "debug", "8", ... → RTE_LOG_*; 0 when not a level. */
static uint32_t
log_level_parse(const char *s)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "err", "warning", "notice", "info",
		"debug",
	};
	char *end;
	unsigned long v;
	size_t i;

	for (i = 0; i < RTE_DIM(names); i++)
		if (strcmp(s, names[i]) == 0)
			return (uint32_t)(i + RTE_LOG_EMERG);
	v = strtoul(s, &end, 10);
	if (*s != '\0' && *end == '\0' && v >= RTE_LOG_EMERG &&
	    v <= RTE_LOG_DEBUG)
		return (uint32_t)v;
	return 0;
}

void
vhu_fuzz_log_init(void)
{
	const char *want = getenv("VHU_FUZZ_LOG");
	char pattern[128];
	const char *colon;
	uint32_t level;

	if (want == NULL || want[0] == '\0') {
		rte_log_set_global_level(RTE_LOG_EMERG);
		return;
	}
	colon = strrchr(want, ':');
	level = log_level_parse(colon != NULL ? colon + 1 : want);
	if (level == 0 || (colon != NULL &&
	    (size_t)(colon - want) >= sizeof(pattern))) {
		fprintf(stderr, "vhu-fuzz: VHU_FUZZ_LOG=%s: expected LEVEL or "
			"PATTERN:LEVEL (emerg ... debug)\n", want);
		abort();
	}
	rte_log_set_global_level(RTE_LOG_DEBUG);
	if (colon != NULL) {
		memcpy(pattern, want, (size_t)(colon - want));
		pattern[colon - want] = '\0';
	} else {
		strcpy(pattern, "*");
	}
	if (rte_log_set_level_pattern(pattern, level) < 0) {
		fprintf(stderr, "vhu-fuzz: VHU_FUZZ_LOG=%s: bad pattern\n",
			want);
		abort();
	}
}

void
vhu_fuzz_eal_init(const char *argv0)
{
	static bool done;
	char prefix[64];
	char *eal_argv[] = {
		(char *)argv0,
		(char *)"--no-huge",
		(char *)"-m", (char *)"64",
		(char *)"--no-pci",
		(char *)"--no-shconf",
		(char *)"--no-telemetry",
		(char *)"-l", (char *)"0",
		(char *)"--file-prefix", prefix,
	};
	cpu_set_t cpus;
	bool have_cpus;

	if (done)
		return;
	/* Logs off (or as VHU_FUZZ_LOG says) before EAL says anything. */
	vhu_fuzz_log_init();
	snprintf(prefix, sizeof(prefix), "vhu-fuzz-%d", (int)getpid());
	have_cpus = sched_getaffinity(0, sizeof(cpus), &cpus) == 0;
	/* 22.11 refuses --in-memory with --no-huge: with --no-shconf the
	 * runtime directory stays empty, and goes right away. */
	if (rte_eal_init((int)RTE_DIM(eal_argv), eal_argv) < 0) {
		fprintf(stderr, "vhu-fuzz: rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		abort();
	}
	if (rmdir(rte_eal_get_runtime_dir()) < 0)
		fprintf(stderr, "vhu-fuzz: cannot remove EAL's runtime "
			"directory %s: %s\n", rte_eal_get_runtime_dir(),
			strerror(errno));
	/* Two fuzzers at once must not share lcore 0's CPU. */
	if (have_cpus)
		sched_setaffinity(0, sizeof(cpus), &cpus);
	done = true;
}
