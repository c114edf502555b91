/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A process that calls rte_eal_cleanup() and exits with a device still
 * registered and a front-end connected must not crash: the control thread
 * may still handle that front-end leaving after EAL's memory is gone, so
 * nothing it touches may live there.
 */
#include <limits.h>

#include "vhu_test_dev.h"

VHU_TEST_MAIN_DEFS;

int
main(int argc, char **argv)
{
	char prefix[64], runtime_dir[PATH_MAX];
	char *eal_argv[] = {
		argv[0], (char *)"--no-huge", (char *)"-m", (char *)"64",
		(char *)"--no-pci", (char *)"--no-shconf",
		(char *)"--no-telemetry", (char *)"-l", (char *)"0",
		(char *)"--file-prefix", prefix,
		(char *)"--log-level=lib.vhu:info",
	};
	struct vt_dev t = { 0 };
	uint64_t seq = 0;

	RTE_SET_USED(argc);
	if (vt_ring_format() < 0)
		return 2;
	fprintf(stderr, "exit: ring format %s (VHU_TEST_RING)\n", vt_ring_name());
	snprintf(prefix, sizeof(prefix), "vhu-test-exit-%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal_argv), eal_argv) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		return 1;
	}
	if (vt_dev_up(&t, "exit", 1, NULL) != 0 ||
	    vt_fe_send(t.fe, 0, 4, 64, 0) != 0 ||
	    vt_be_recv(t.dev, 0, 4, &seq) != 4) {
		fprintf(stderr, "set-up failed\n");
		return 1;
	}
	snprintf(runtime_dir, sizeof(runtime_dir), "%s",
		 rte_eal_get_runtime_dir());
	/* The application forgets to unregister. */
	rte_eal_cleanup();
	rmdir(runtime_dir);
	/* The front-end leaves: the control thread resets the device. */
	vhu_fe_destroy(t.fe);
	usleep(300 * 1000);
	unlink(t.path);
	fprintf(stderr, "exit: clean\n");
	return 0;
}
