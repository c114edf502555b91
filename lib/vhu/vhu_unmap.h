/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unmapping guest memory and dirty logs off the control thread.
 *
 * munmap of a front-end's shared memory can block for seconds: the kernel
 * takes the file's mapping lock, which page aging (DAMON) or reclaim may
 * hold for a long rmap walk (seen in CI, doc/testing.md). On the one
 * control thread that stalls every device's messages, so a departing
 * guest could delay another guest's GET_VRING_BASE past its front-end's
 * patience. Mappings that no table or ring uses any more are handed to a
 * thread of their own ("vhu-unmap") instead.
 *
 * Internal header. The thread runs while the control thread runs
 * (vhu_ctrl.c starts and stops both); without it a release unmaps at
 * once, in the caller (unit tests and fuzz targets that drive devices
 * without a control thread).
 */
#ifndef VHU_UNMAP_H
#define VHU_UNMAP_H

#include <stddef.h>

/*
 * Most releases waiting for the unmap thread. Past it, a release unmaps
 * in the caller: a stuck unmap thread may delay the control thread again,
 * but the process never holds an unbounded amount of guest memory that
 * its front-ends have let go of.
 */
#define VHU_UNMAP_MAX_PENDING 1024

/* An unmap that takes longer than this is logged (WARNING). */
#define VHU_UNMAP_SLOW_MS 1000

/*
 * Start the unmap thread.
 * Called by: vhu_ctrl.c, when it starts the control thread.
 * @return 0; or -errno if the thread cannot be created (releases then
 *   unmap in the caller, as before there was a thread).
 */
int vhu_unmap_start(void);

/*
 * Unmap everything still pending, then end the unmap thread. Blocks until
 * both are done; a no-op when it does not run.
 * Called by: vhu_ctrl.c, after the control thread has ended.
 */
void vhu_unmap_stop(void);

/*
 * Release a mapping nothing uses any more: queue it for the unmap thread,
 * or unmap it now when that thread does not run, VHU_UNMAP_MAX_PENDING
 * releases are already waiting, or the queue entry cannot be allocated.
 * A failed munmap is logged (ERR). addr NULL or len 0 is a no-op.
 * Called by: the control thread (or a test driving a device without one),
 *   only once no datapath can touch the mapping.
 */
void vhu_unmap_release(void *addr, size_t len, const char *what);

/*
 * Wait until every release made before the call has been unmapped.
 * Called by: any thread but the unmap thread (tests that count mappings).
 */
void vhu_unmap_flush(void);

/*
 * Replace munmap for the unmap thread and releases made in the caller
 * (NULL: munmap again). It returns 0 or -1 with errno set, like munmap.
 * Tests only.
 */
void vhu_unmap_set_fn(int (*unmap_fn)(void *addr, size_t len));

#endif /* VHU_UNMAP_H */
