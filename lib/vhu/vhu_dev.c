/* SPDX-License-Identifier: BSD-3-Clause */
/* Device-level state changes shared by handlers and the control thread. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <rte_cycles.h>

#include "vhu_guard.h"
#include "vhu_log.h"
#include "vhu_sync.h"
#include "vhu_unmap.h"
#include "vhu_vring.h"

/* The rings a scope covers: [*first, *first + *n). */
static void
vhu_dev_scope(const struct vhu_device *dev, enum vhu_pause_scope scope,
		uint16_t ring, uint16_t *first, uint16_t *n)
{
	*first = 0;
	*n = 0;
	switch (scope) {
	case VHU_PAUSE_NONE:
		break;
	case VHU_PAUSE_RING:
		*first = ring;
		*n = 1;
		break;
	case VHU_PAUSE_DEVICE:
		*first = 0;
		*n = dev->nr_rings;
		break;
	}
}

int
vhu_dev_hold_begin(struct vhu_device *dev, enum vhu_pause_scope scope,
		uint16_t ring, unsigned int wait_ms)
{
	uint16_t first, n, i;

	vhu_dev_scope(dev, scope, ring, &first, &n);
	for (i = first; i < first + n; i++) {
		if (dev->rings[i].held) {
			VHU_DEV_LOG(ERR, dev, "ring %u: still waiting for a burst "
				    "that did not finish: request refused", i);
			return -EBUSY;
		}
	}
	for (i = first; i < first + n; i++)
		vhu_vring_pause(&dev->rings[i]);
	if (n == 0 ||
	    vhu_sync_quiesce(&dev->rings[first], n, wait_ms) == 0)
		return 0;
	return -EINPROGRESS;
}

bool
vhu_dev_hold_quiet(struct vhu_device *dev, enum vhu_pause_scope scope,
		uint16_t ring)
{
	uint16_t first, n;

	vhu_dev_scope(dev, scope, ring, &first, &n);
	return vhu_sync_rings_quiet(&dev->rings[first], n);
}

int
vhu_dev_hold_expire(struct vhu_device *dev, enum vhu_pause_scope scope,
		uint16_t ring, unsigned int waited_ms)
{
	uint16_t first, n, i;

	vhu_dev_scope(dev, scope, ring, &first, &n);
	/* Nothing changes: the rings stay paused, their state as it was,
	 * until a later quiesce finds them quiet. */
	for (i = first; i < first + n; i++)
		dev->rings[i].held = true;
	dev->stats.quiesce_timeouts++;
	VHU_DEV_LOG(ERR, dev, "a burst did not finish within %u ms: rings "
		    "%u..%u paused until it does", waited_ms,
		    first, first + n - 1);
	return -ETIMEDOUT;
}

void
vhu_dev_release(struct vhu_device *dev, enum vhu_pause_scope scope,
		uint16_t ring)
{
	uint16_t first, n, i;

	vhu_dev_scope(dev, scope, ring, &first, &n);
	for (i = first; i < first + n; i++)
		vhu_vring_publish(&dev->rings[i]);
}

unsigned int vhu_dev_resets_pending;

bool
vhu_dev_memory_faulted(struct vhu_device *dev)
{
	const struct vhu_mem_table *mem =
		(const struct vhu_mem_table *)(uintptr_t)dev->mem;
	const struct vhu_guard *hit = NULL;
	uint64_t faults = dev->guard_faults_dropped;
	uint32_t i;

	for (i = 0; mem != NULL && i < mem->nregions; i++) {
		const struct vhu_guard *g = mem->regions[i].mapping->guard;
		uint32_t n = g != NULL ? vhu_guard_faults(g) : 0;

		faults += n;
		if (n != 0 && hit == NULL)
			hit = g;
	}
	if (dev->log_guard != NULL && vhu_guard_faults(dev->log_guard)) {
		faults += vhu_guard_faults(dev->log_guard);
		if (hit == NULL)
			hit = dev->log_guard;
	}
	if (faults == 0)
		return false;
	if (dev->guard_faults_seen == 0) {
		dev->stats.memory_faults++;
		/* hit is NULL when the faulted mapping is gone already. */
		VHU_DEV_LOG(ERR, dev, "%s shrank under our mapping (SIGBUS at "
			    "%#" PRIxPTR ", patched with zero pages): the "
			    "front-end goes", hit == NULL ? "memory" :
			    hit == dev->log_guard ? "the dirty log" :
			    "guest memory", hit == NULL ? 0 :
			    __atomic_load_n(&hit->first_fault,
					    __ATOMIC_ACQUIRE));
	}
	dev->guard_faults_seen = faults;
	return true;
}

void
vhu_dev_retry_held(struct vhu_device *dev)
{
	bool any = false;
	uint16_t i;

	for (i = 0; i < dev->nr_rings; i++) {
		struct vhu_vring *vr = &dev->rings[i];

		if (!vr->held)
			continue;
		any = true;
		/* Held rings were paused before a quiesce's barrier: an
		 * even counter now is final, no need to wait here. */
		if (!vhu_sync_rings_quiet(vr, 1)) {
			if (dev->reset_pending && !dev->reset_late_counted &&
			    rte_get_timer_cycles() >= dev->reset_deadline) {
				dev->reset_late_counted = true;
				dev->stats.quiesce_timeouts++;
				VHU_DEV_LOG(ERR, dev, "a burst did not finish "
					    "within %u ms: the reset still "
					    "waits for it",
					    VHU_QUIESCE_TIMEOUT_MS);
			}
			return;
		}
	}
	if (!any)
		return;
	VHU_DEV_LOG(INFO, dev, "the late burst finished: rings resume");
	if (dev->reset_pending) {
		/* Every ring was held for it: all quiet now. */
		dev->reset_pending = false;
		vhu_dev_resets_pending--;
		vhu_dev_reset(dev, dev->reset_disconnect);
	}
	/* Only the held rings are quiet: the others may be in a burst. */
	for (i = 0; i < dev->nr_rings; i++) {
		if (dev->rings[i].held) {
			dev->rings[i].held = false;
			vhu_vring_publish(&dev->rings[i]);
		}
	}
	vhu_dev_notify(dev);
}

int
vhu_dev_set_mem(struct vhu_device *dev, struct vhu_mem_table *mem)
{
	struct vhu_mem_table *old = (struct vhu_mem_table *)(uintptr_t)dev->mem;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t i;

	/* A table that would unmap a running ring is refused whole. */
	for (i = 0; i < dev->nr_rings; i++) {
		struct vhu_vring *vr = &dev->rings[i];

		if (vr->started &&
		    vhu_vring_translate(dev, vr->index, mem,
					vhu_vring_is_packed(dev->features),
					vr->num, &vr->addr, &desc, &avail,
					&used) != 0) {
			VHU_DEV_LOG(ERR, dev, "new memory table does not map "
				    "started ring %u: keeping the old one", i);
			/* Its own mappings never served a burst. */
			(void)vhu_mem_table_free(mem);
			return -EINVAL;
		}
	}
	/* Generations only grow, across resets too. */
	mem->generation = ++dev->mem_generation;
	dev->mem = mem;
	/* Held: no burst can still hold the old table. A fault in what
	 * it unmaps is still the front-end's to answer for. */
	dev->guard_faults_dropped += vhu_mem_table_free(old);
	dev->stats.mem_table_updates++;
	VHU_DEV_LOG(INFO, dev, "memory table: %u regions (generation %u)",
		    mem->nregions, mem->generation);
	return 0;
}

void
vhu_dev_reset(struct vhu_device *dev, bool disconnect)
{
	uint16_t i;

	for (i = 0; i < dev->nr_rings; i++) {
		struct vhu_vring *vr = &dev->rings[i];

		vhu_vring_stop(vr);
		vhu_vring_reset(vr);
	}
	dev->guard_faults_dropped +=
		vhu_mem_table_free((struct vhu_mem_table *)(uintptr_t)dev->mem);
	dev->mem = NULL;
	dev->guard_faults_dropped += vhu_guard_remove(dev->log_guard);
	dev->log_guard = NULL;
	/* Counted and logged if the tick has not seen it yet. */
	(void)vhu_dev_memory_faulted(dev);
	dev->guard_faults_seen = 0;
	dev->guard_faults_dropped = 0;
	vhu_unmap_release(dev->log_map_addr, dev->log_map_len, "dirty log");
	dev->log_map_addr = NULL;
	dev->log_map_len = 0;
	dev->log_base = NULL;
	dev->log_size = 0;
	if (dev->log_fd >= 0)
		close(dev->log_fd);
	dev->log_fd = -1;
	dev->features = 0;
	dev->features_set = false;
	dev->status = 0;
	dev->rarp_pending = false;
	if (disconnect) {
		dev->owner = false;
		dev->protocol_features = 0;
		dev->mtu = 0;
	}
}

bool
vhu_dev_reset_when_quiet(struct vhu_device *dev, bool disconnect)
{
	if (dev->reset_pending) {
		/* Already waiting: a disconnect makes it a full one. */
		dev->reset_disconnect |= disconnect;
		return false;
	}
	if (vhu_dev_hold_begin(dev, VHU_PAUSE_DEVICE, 0,
			       VHU_QUIESCE_WAIT_MS) == 0) {
		vhu_dev_reset(dev, disconnect);
		vhu_dev_release(dev, VHU_PAUSE_DEVICE, 0);
		vhu_dev_notify(dev);
		return true;
	}
	vhu_dev_reset_later(dev, disconnect);
	return false;
}

void
vhu_dev_reset_later(struct vhu_device *dev, bool disconnect)
{
	uint16_t i;

	if (dev->reset_pending) {
		dev->reset_disconnect |= disconnect;
		return;
	}
	/* Some rings may have been held before: hold them all, so the
	 * retry waits for every ring before it resets; one barrier after
	 * pausing them all lets the retry just read their counters. */
	for (i = 0; i < dev->nr_rings; i++) {
		vhu_vring_pause(&dev->rings[i]);
		dev->rings[i].held = true;
	}
	(void)vhu_sync_quiesce(dev->rings, dev->nr_rings, 0);
	dev->reset_pending = true;
	dev->reset_disconnect = disconnect;
	dev->reset_deadline = rte_get_timer_cycles() +
		rte_get_timer_hz() * VHU_QUIESCE_TIMEOUT_MS / 1000;
	dev->reset_late_counted = false;
	vhu_dev_resets_pending++;
	VHU_DEV_LOG(INFO, dev, "reset deferred until a late burst ends: "
		    "guest memory stays mapped meanwhile");
}

void
vhu_dev_signal_log(struct vhu_device *dev)
{
	uint64_t sum = 0, one = 1;
	uint16_t i;

	if (dev->log_fd < 0)
		return;
	for (i = 0; i < dev->nr_rings; i++)
		sum += __atomic_load_n(&dev->rings[i].log_bursts,
				       __ATOMIC_RELAXED);
	if (sum == dev->log_bursts_seen)
		return;
	dev->log_bursts_seen = sum;
	/* The spec: the eventfd informs the front-end that the log has
	 * been modified. Once per tick at most, never on the datapath. */
	if (write(dev->log_fd, &one, sizeof(one)) < 0)
		VHU_DEV_LOG(DEBUG, dev, "log fd write failed: %s",
			    strerror(errno));
}

static bool
vhu_dev_is_ready(const struct vhu_device *dev)
{
	return dev->conn.ep.fd >= 0 && dev->mem != NULL &&
		dev->rings[0].started && dev->rings[1].started;
}

void
vhu_dev_notify(struct vhu_device *dev)
{
	const struct vhu_device_ops *ops = dev->ops;
	bool ready = vhu_dev_is_ready(dev);
	uint16_t i;

	if (dev->ready && !ready) {
		dev->ready = false;
		VHU_DEV_LOG(INFO, dev, "device not ready");
		if (ops != NULL && ops->device_destroyed != NULL)
			ops->device_destroyed(dev, dev->ctx);
	}
	for (i = 0; i < dev->nr_rings; i++) {
		struct vhu_vring *vr = &dev->rings[i];
		struct vhu_ring_state st = vhu_vring_state(vr);

		if (st.started == vr->reported.started &&
		    st.enabled == vr->reported.enabled &&
		    st.broken == vr->reported.broken)
			continue;
		vr->reported = st;
		if (ops != NULL && ops->ring_state_changed != NULL)
			ops->ring_state_changed(dev, i, st, dev->ctx);
	}
	if (!dev->ready && ready) {
		dev->ready = true;
		VHU_DEV_LOG(INFO, dev, "device ready");
		if (ops != NULL && ops->device_ready != NULL)
			ops->device_ready(dev, dev->ctx);
	}
}

void
vhu_dev_check_rings(struct vhu_device *dev)
{
	uint16_t i;

	for (i = 0; i < dev->nr_rings; i++) {
		struct vhu_vring *vr = &dev->rings[i];
		uint64_t one = 1;

		if (vr->broken || !__atomic_load_n(&vr->dp_broken, __ATOMIC_ACQUIRE))
			continue;
		/* Reported here, once, so the datapath never logs. */
		vr->broken = true;
		vr->stats.broken++;
		VHU_DEV_LOG(ERR, dev, "ring %u: the guest broke the ring's rules "
			    "(%u invalid chains): ring no longer processed, "
			    "device needs reset", i, vr->bad_chains);
		if (vr->err_fd >= 0 && write(vr->err_fd, &one, sizeof(one)) < 0)
			VHU_DEV_LOG(DEBUG, dev, "ring %u: err fd write failed", i);
		/* Its view derives to STOPPED from now on; bursts already
		 * stop at dp_broken, so no quiesce is needed. */
		vhu_vring_pause(vr);
	}
	vhu_dev_notify(dev);
}
