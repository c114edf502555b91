/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A farm of test front-ends in a child process, for scale tests and
 * benchmarks: the child creates one front-end (lib/vhu_fe) per socket
 * path and, on command, connects and sets them all up at once, or
 * disconnects them, from a few threads. The child uses no DPDK after
 * fork(), so a DPDK process may start it; fds and memory it uses are not
 * the parent's.
 *
 * Threads: call from one thread of the parent.
 */
#ifndef VHU_FE_FARM_H
#define VHU_FE_FARM_H

#include <stdbool.h>
#include <sys/types.h>

#define VHU_FE_FARM_MAX 1024
#define VHU_FE_FARM_THREADS 4

struct vhu_fe_farm {
	pid_t child;
	int cmd_fd;
	int ack_fd;
};

/*
 * Fork the child and create n front-ends in it, paths[i] for the i-th
 * (1..VHU_FE_FARM_MAX, served by VHU_FE_FARM_THREADS threads), packed
 * rings if asked, replies awaited up to timeout_ms. Fork before starting
 * threads the child should not inherit (a sanitizer's allocator may hold
 * a lock across fork()). The caller's stdio is flushed first, and
 * SIGPIPE is ignored in the caller from then on (a dead child makes the
 * commands fail instead).
 * @return 0; -errno (nothing left running).
 */
int vhu_fe_farm_start(struct vhu_fe_farm *farm, const char (*paths)[108],
		unsigned int n, bool packed, int timeout_ms);

/*
 * Connect and set up every front-end at once, or disconnect them all.
 * Blocks until the child is done.
 * @return how many front-ends failed (0..255, capped); -1 if the child
 *   is gone.
 */
int vhu_fe_farm_connect(struct vhu_fe_farm *farm);
int vhu_fe_farm_disconnect(struct vhu_fe_farm *farm);

/*
 * Destroy the front-ends and reap the child (killed if it does not
 * answer).
 * @return 0 if it exited with status 0, else -1.
 */
int vhu_fe_farm_stop(struct vhu_fe_farm *farm);

#endif /* VHU_FE_FARM_H */
