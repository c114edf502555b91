/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>

#include <rte_cycles.h>
#include <rte_pause.h>

#include "vhu_log.h"
#include "vhu_sync.h"

bool vhu_sync_burst_fence;
static bool vhu_sync_have_membarrier;

static long
vhu_membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0, 0);
}

void
vhu_sync_init(void)
{
	long cmds = vhu_membarrier(MEMBARRIER_CMD_QUERY);

	if (cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    vhu_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0) {
		vhu_sync_have_membarrier = true;
		vhu_sync_burst_fence = false;
		return;
	}
	VHU_LOG(WARNING, "membarrier(PRIVATE_EXPEDITED) unavailable (%s): "
		"bursts use a full fence each", strerror(errno));
	vhu_sync_have_membarrier = false;
	vhu_sync_burst_fence = true;
}

int
vhu_sync_quiesce(struct vhu_vring *rings, unsigned int n,
		unsigned int timeout_ms)
{
	uint64_t deadline = rte_get_timer_cycles() +
		rte_get_timer_hz() * timeout_ms / 1000;
	unsigned int i;

	if (vhu_sync_have_membarrier) {
		if (vhu_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0)
			rte_panic("membarrier failed after registration: %s\n",
				  strerror(errno));
	} else {
		rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	}

	for (i = 0; i < n; i++) {
		uint32_t seq = __atomic_load_n(&rings[i].burst_seq,
					       __ATOMIC_ACQUIRE);
		unsigned int spins = 0;

		if ((seq & 1) == 0)
			continue;
		/* A burst is in progress: bursts are short, so spin briefly,
		 * then sleep, giving the core to the lcore should it share
		 * ours (or be descheduled on a loaded machine). */
		while (__atomic_load_n(&rings[i].burst_seq,
				       __ATOMIC_ACQUIRE) == seq) {
			if (rte_get_timer_cycles() > deadline)
				return -ETIMEDOUT;
			if (++spins < 1000)
				rte_pause();
			else
				nanosleep(&(struct timespec){ .tv_nsec = 50000 },
					  NULL);
		}
	}
	return 0;
}

bool
vhu_sync_rings_quiet(const struct vhu_vring *rings, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (__atomic_load_n(&rings[i].burst_seq, __ATOMIC_ACQUIRE) & 1)
			return false;
	return true;
}
