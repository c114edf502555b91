/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Surviving a front-end that shrinks its memory under our mappings.
 *
 * Guest memory and the dirty log are mappings of the front-end's files.
 * A page past the end of such a file raises SIGBUS when touched, and the
 * size is checked only when the file is mapped: a front-end that
 * truncates its memfd afterwards (or a hugetlbfs file, or the log) would
 * kill the process that serves every guest at the next burst. The kernel
 * vhost driver gets -EFAULT from copy_from_user() there; we get a signal.
 *
 * So every such mapping is registered here, and a SIGBUS handler, for an
 * address inside one, maps anonymous zero pages over the page that
 * faulted (its whole huge page for hugetlbfs) and returns: the access is
 * retried and reads zeros (writes go nowhere). The mapping's fault count
 * tells the control thread, which disconnects the front-end
 * (vhu_ctrl.c's tick). A SIGBUS anywhere else goes to the handler that
 * was installed before ours, or kills the process as it would have.
 *
 * Internal header. The handler is installed when the control thread
 * first starts (vhu_ctrl.c) and stays. An application that installs its
 * own SIGBUS handler afterwards replaces it: doc/protocol.md says so.
 */
#ifndef VHU_GUARD_H
#define VHU_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vhu_guard {
	uintptr_t start;     /* the mapping */
	size_t len;          /* 0 once removed (see vhu_guard_remove) */
	size_t page_size;    /* of the mapped file: what a patch covers */
	/* Written by the handler (atomic), read by the control thread. */
	uint32_t faults;     /* SIGBUS hits patched */
	uintptr_t first_fault; /* address of the first one */
	bool dead;           /* removed, still in the table [writers] */
};

/*
 * Install the SIGBUS handler (keeping the one before it for faults
 * outside guarded mappings), once for the life of the process: put back
 * and installed again, it could end up calling an application handler
 * that calls it. With nothing guarded it only passes signals on.
 * Called by: vhu_ctrl.c, when it starts the control thread.
 * @return 0, or -errno of sigaction (logged; mappings are then not
 *   guarded).
 */
int vhu_guard_install(void);

/*
 * Guard [start, start + len) of a mapping of a front-end's file with the
 * given page size.
 * Called by: the control thread (or a test without one).
 * @return the guard (owned here until vhu_guard_remove()); NULL when out
 *   of memory.
 */
struct vhu_guard *vhu_guard_add(void *start, size_t len, size_t page_size);

/*
 * Stop guarding: once this returns, a SIGBUS in the range is no longer
 * ours, and g is gone. NULL is a no-op.
 * Called by: the control thread, before the mapping is unmapped.
 * @return the faults g had patched (for the device to report).
 */
uint32_t vhu_guard_remove(struct vhu_guard *g);

/* SIGBUS hits patched since the process started, in every mapping: the
 * control thread looks at devices only when this moved. */
uint64_t vhu_guard_total_faults(void);

/* Faults patched in g so far. */
static inline uint32_t
vhu_guard_faults(const struct vhu_guard *g)
{
	return __atomic_load_n(&g->faults, __ATOMIC_ACQUIRE);
}

#endif /* VHU_GUARD_H */
