/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Message dispatch: one const table says, for every request, its handler,
 * payload size rule, fd count, ring-index field, whether it needs
 * SET_OWNER first, and how it is replied to. vhu_msg_dispatch() checks
 * all of that before a handler runs, so handlers get validated, typed
 * payloads and a validated ring index (msg->ring).
 *
 * Handlers run on the control thread. They take ownership of an fd by
 * setting msg->fds[i] = -1; the dispatcher closes every fd left.
 * A handler returns 0 or a negative errno (the nack value), or
 * VHU_MSG_FATAL when continuing on this connection is unsafe.
 */
#ifndef VHU_MSG_H
#define VHU_MSG_H

#include "vhu_dev.h"

#define VHU_MSG_FATAL (-ECONNABORTED)

struct vhu_reply {
	uint32_t size;
	union {
		uint64_t u64;
		struct vhu_wire_vring_state state;
		uint8_t raw[VHU_WIRE_MAX_PAYLOAD];
	} payload;
};

typedef int (*vhu_msg_handler_t)(struct vhu_device *dev, struct vhu_msg *msg,
		struct vhu_reply *reply);

/* vhu_msg_dispatch() / vhu_msg_resume(): a burst in the request's
 * rings has not ended yet. */
#define VHU_MSG_PARKED 1

/*
 * Validate and handle one received message, send its reply if any, close
 * the fds the handler did not keep.
 * @return 0 to keep the connection; VHU_MSG_FATAL to close it;
 *   VHU_MSG_PARKED when the request's rings are paused but a burst in
 *   them has not ended within VHU_QUIESCE_WAIT_MS: msg must stay as it
 *   is, no later message of the connection may be read, and the caller
 *   calls vhu_msg_resume() until it returns something else.
 */
int vhu_msg_dispatch(struct vhu_device *dev, struct vhu_msg *msg);

/*
 * Go on with a parked message: handle it if its rings are quiet now; if
 * expired (VHU_QUIESCE_TIMEOUT_MS since it was parked), give up as a
 * quiesce timeout (nack ETIMEDOUT, the rings held; a request that must
 * reply with data closes the connection).
 * @return as vhu_msg_dispatch().
 * Called by: the control thread.
 */
int vhu_msg_resume(struct vhu_device *dev, struct vhu_msg *msg,
		bool expired);

/* @return the request's name for logs ("unknown" if none). */
const char *vhu_msg_name(uint32_t request);

/* Handlers: vhu_msg_dev.c */
int vhu_msg_get_features(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_set_features(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_get_protocol_features(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_set_protocol_features(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_set_owner(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_reset_device(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_get_queue_num(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_send_rarp(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_net_set_mtu(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_set_status(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_get_status(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_get_max_mem_slots(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);

/* Handlers: vhu_msg_mem.c */
int vhu_msg_set_mem_table(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_add_mem_reg(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_rem_mem_reg(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_set_log_base(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_set_log_fd(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);

/* Handlers: vhu_msg_vring.c */
int vhu_msg_set_vring_num(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_set_vring_addr(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_set_vring_base(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_get_vring_base(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_set_vring_kick(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_set_vring_call(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_set_vring_err(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_set_vring_enable(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);
int vhu_msg_vring_kick(struct vhu_device *, struct vhu_msg *, struct vhu_reply *);

#endif /* VHU_MSG_H */
