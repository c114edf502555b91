/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dirty-page logging for live migration (VHOST_F_LOG_ALL): every guest
 * write the datapath makes sets the page's bit in the front-end's log,
 * one bit per 4 KiB guest page, atomically (the front-end clears bits
 * concurrently). Datapath only; free when logging is off.
 */
#ifndef VHU_DIRTY_H
#define VHU_DIRTY_H

#include <linux/vhost_types.h>

#include "vhu_dev.h"

#define VHU_LOG_PAGE_SHIFT 12

/* @return true when this burst must log its guest writes. */
static __rte_always_inline bool
vhu_dirty_logging(const struct vhu_vring *vr)
{
	return unlikely(vr->log_base != NULL &&
			(vr->features & (1ULL << VHOST_F_LOG_ALL)));
}

/* Mark [gpa, gpa + len) dirty; pages past the log's end are ignored. */
static inline void
vhu_dirty_mark(const struct vhu_vring *vr, uint64_t gpa, uint64_t len)
{
	uint64_t page, last;

	if (len == 0)
		return;
	page = gpa >> VHU_LOG_PAGE_SHIFT;
	last = (gpa + len - 1) >> VHU_LOG_PAGE_SHIFT;
	for (; page <= last; page++) {
		if (page / 8 >= vr->log_size)
			return;
		__atomic_fetch_or(&vr->log_base[page / 8],
				  (uint8_t)(1u << (page % 8)), __ATOMIC_RELAXED);
	}
}

/* Mark a write to the used ring at byte offset off, len bytes. */
static inline void
vhu_dirty_mark_used(const struct vhu_vring *vr, uint64_t off, uint64_t len)
{
	if (vr->log_used)
		vhu_dirty_mark(vr, vr->used_log_gpa + off, len);
}

#endif /* VHU_DIRTY_H */
