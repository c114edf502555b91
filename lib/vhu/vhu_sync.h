/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How the control thread knows no burst still uses old ring state.
 *
 * Each ring has a sequence counter written only by the lcore polling it:
 * odd while a burst runs. A burst does
 *     seq = odd (plain store); compiler barrier; read ring view ...;
 *     ... work ...; seq = even (store-release)
 * and the control thread, to retire state a burst may hold, does
 *     write the new view; membarrier(PRIVATE_EXPEDITED); read seq;
 *     if odd, wait until it changes.
 * membarrier makes every running thread of the process execute a full
 * memory barrier, so either the burst's read of the view comes after the
 * control thread's write (it sees the new view), or the control thread's
 * read of seq sees the burst's odd value and waits for it to end.
 * A burst may first read the ring's mode once outside the counter and
 * leave when it is STOPPED: it then reads nothing else, and any other
 * mode is read again inside the counter, so the argument holds. The
 * datapath pays two plain stores per burst: no atomic read-modify-write,
 * no fence, no lock. Without membarrier (old kernels), bursts issue one
 * full fence instead (vhu_sync_burst_fence).
 */
#ifndef VHU_SYNC_H
#define VHU_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_atomic.h>

#include "vhu_dev.h"

/* true when membarrier is unavailable and bursts must fence themselves. */
extern bool vhu_sync_burst_fence;

/* Called by: the polling lcore, first thing in a burst. */
static __rte_always_inline uint32_t
vhu_sync_burst_enter(struct vhu_vring *vr)
{
	uint32_t seq = vr->burst_seq + 1;

	__atomic_store_n(&vr->burst_seq, seq, __ATOMIC_RELAXED);
	if (unlikely(vhu_sync_burst_fence))
		rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	else
		rte_compiler_barrier();
	return seq;
}

/* Called by: the polling lcore, last thing in a burst (seq from enter). */
static __rte_always_inline void
vhu_sync_burst_exit(struct vhu_vring *vr, uint32_t seq)
{
	__atomic_store_n(&vr->burst_seq, seq + 1, __ATOMIC_RELEASE);
}

/*
 * Once per process: register for expedited membarrier, or fall back to
 * per-burst fences. Called by: the control thread start-up.
 */
void vhu_sync_init(void);

/*
 * Wait until no burst that could have seen ring state written before this
 * call is still running on any of the n rings. Returns at once for rings
 * no lcore is in. Bounded: gives up after timeout_ms.
 * Called by: the control thread.
 * @return 0; -ETIMEDOUT if a burst did not end in time (the caller must
 *   then not free what the burst may use).
 */
int vhu_sync_quiesce(struct vhu_vring *rings, unsigned int n,
		unsigned int timeout_ms);

/*
 * After vhu_sync_quiesce() timed out on rings that are paused (their view
 * STOPPED, so no burst that enters them reads more than that): whether
 * every late burst has ended now. An even counter read at any time after
 * that quiesce's barrier means no burst that could hold the old view is
 * inside. No barrier, no wait: a cheap poll.
 * Called by: the control thread.
 */
bool vhu_sync_rings_quiet(const struct vhu_vring *rings, unsigned int n);

#endif /* VHU_SYNC_H */
