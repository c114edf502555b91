/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ring state machine of the seed: two stored states (started,
 * enabled) and one derived view for the datapath (enum vhu_dp_mode).
 *
 * Every function here is called by the control thread only.
 *
 * Changing what a running ring's bursts read (addresses, memory table,
 * call fd, features, log) always goes pause → quiesce → change → publish,
 * and only the dispatcher does it, for the rings the request table says
 * (vhu_dev_hold_begin / vhu_dev_release): vhu_vring_pause() makes bursts return
 * at once without touching the ring, vhu_sync_quiesce() waits for bursts
 * already inside, and vhu_vring_publish() derives the whole view again
 * and releases it. The functions below change stored state only.
 */
#ifndef VHU_VRING_H
#define VHU_VRING_H

#include "vhu_dev.h"

/* Quiesce timeout for control-plane changes. A burst takes microseconds;
 * this only bounds a polling thread that is descheduled (an overloaded
 * machine) or stopped (a debugger). */
#define VHU_QUIESCE_TIMEOUT_MS 5000

/* How long the control thread itself waits for a request's rings to
 * quiesce before it parks the request and serves other devices
 * meanwhile (vhu_msg.c), polling every VHU_QUIESCE_POLL_MS up to
 * VHU_QUIESCE_TIMEOUT_MS in all. */
#define VHU_QUIESCE_WAIT_MS 1
#define VHU_QUIESCE_POLL_MS 1

/* Initialise a ring: stopped, disabled, no settings, no fds. */
void vhu_vring_init(struct vhu_vring *vr, struct vhu_device *dev,
		uint16_t index);

/* The one place the datapath view is derived from the stored states. */
enum vhu_dp_mode vhu_vring_derive_mode(const struct vhu_vring *vr);

/* virtio-net header bytes the features imply (VIRTIO 1.x 5.1.6). */
uint8_t vhu_vring_hdr_len(uint64_t features);

/* Make bursts leave the ring alone (until vhu_vring_publish()). */
void vhu_vring_pause(struct vhu_vring *vr);

/* Derive the ring's whole [view] from the device's and the ring's state,
 * then release it to bursts. The ring must be paused and quiesced. */
void vhu_vring_publish(struct vhu_vring *vr);

/* Whether features select the packed ring format (VIRTIO_F_RING_PACKED). */
bool vhu_vring_is_packed(uint64_t features);

/*
 * Check that a ring of num descriptors in the given format (split:
 * descriptor table, avail ring, used ring; packed: descriptor ring,
 * driver and device event suppression areas) at the front-end addresses
 * in addr has a valid size and lies in mapped memory with the alignment
 * the spec requires, and return our pointers (packed: cast them to
 * struct vring_packed_desc / vring_packed_desc_event). Nothing is changed.
 * @return 0; -EINVAL (logged) otherwise.
 */
int vhu_vring_translate(const struct vhu_device *dev, uint16_t index,
		const struct vhu_mem_table *mem, bool packed, uint16_t num,
		const struct vhu_wire_vring_addr *addr,
		struct vring_desc **desc, struct vring_avail **avail,
		struct vring_used **used);

/*
 * SET_VRING_KICK on a stopped ring: check its settings translate under
 * the device's memory table, then start it at its base (resuming the
 * requests already available). A started ring stays as it is. The ring
 * must be held; its view is published by the caller.
 * @return 0; -EINVAL (logged, nothing changed) if the ring has no size,
 *   no addresses, the device no memory, or they do not translate.
 */
int vhu_vring_start(struct vhu_vring *vr);

/*
 * GET_VRING_BASE: stop the ring; its base becomes where it stopped (split:
 * the next avail index; packed: the avail and used positions with their
 * wrap counters). The ring must be held (no burst can be inside).
 */
void vhu_vring_stop(struct vhu_vring *vr);

/* SET_VRING_ENABLE (and SET_FEATURES without protocol features). */
void vhu_vring_set_enabled(struct vhu_vring *vr, bool enabled);

/* Forget a ring's settings and close its fds (ring held). */
void vhu_vring_reset(struct vhu_vring *vr);

/* The ring's state as the public API shows it. */
struct vhu_ring_state vhu_vring_state(const struct vhu_vring *vr);

#endif /* VHU_VRING_H */
