/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main() for unit tests that need DPDK's EAL: no hugepages, no PCI, no
 * shared config or telemetry files, a file prefix unique to the process,
 * and the runtime directory removed afterwards (DPDK 22.11 leaves it).
 * --in-memory is not used: 22.11 refuses it together with --no-huge.
 */
#ifndef VHU_TEST_EAL_H
#define VHU_TEST_EAL_H

#include <limits.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "vhu_test.h"

/*
 * Initialise EAL with lcores "0" (lcores == 1) or "0-1" (2), run the
 * cases, clean up. VHU_TEST_LOG (e.g. "lib.vhu:debug") adds a log level.
 * @return the process exit code.
 */
static inline int
vhu_test_main_eal(const char *suite, const struct vhu_test_case *cases,
		size_t n, int lcores, const char *argv0)
{
	char prefix[64], runtime_dir[PATH_MAX], loglevel[128];
	const char *log = getenv("VHU_TEST_LOG");
	char *eal_argv[] = {
		(char *)argv0,
		(char *)"--no-huge", (char *)"-m", (char *)"256",
		(char *)"--no-pci", (char *)"--no-shconf",
		(char *)"--no-telemetry",
		(char *)"-l", (char *)(lcores > 1 ? "0-1" : "0"),
		(char *)"--file-prefix", prefix,
		loglevel,
	};
	int ret;

	snprintf(prefix, sizeof(prefix), "vhu-test-%s-%d", suite, (int)getpid());
	snprintf(loglevel, sizeof(loglevel), "--log-level=%s",
		 log != NULL ? log : "lib.vhu:info");
	if (rte_eal_init((int)RTE_DIM(eal_argv), eal_argv) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	ret = vhu_test_run(suite, cases, n);
	snprintf(runtime_dir, sizeof(runtime_dir), "%s",
		 rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(runtime_dir);
	return ret;
}

#endif /* VHU_TEST_EAL_H */
