/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Message framing on a device's connection: non-blocking reads that
 * resume where they stopped (a half-sent message never stalls the control
 * thread), fds from SCM_RIGHTS, and replies.
 * Called by: the control thread only.
 */
#ifndef VHU_CONN_H
#define VHU_CONN_H

#include "vhu_dev.h"

/*
 * Read what the socket has of the current message.
 * @return 1 when dev->conn.msg holds a whole message; 0 when more bytes
 *   are needed; -ECONNRESET when the peer closed; -EMSGSIZE when the
 *   header announces a payload larger than any request has (framing
 *   cannot be trusted any more); another -errno on socket errors.
 */
int vhu_conn_recv(struct vhu_device *dev);

/* Forget the message just handled (its fds must be closed or taken). */
void vhu_conn_next(struct vhu_device *dev);

/*
 * Send a reply to request with size payload bytes, without blocking.
 * @return 0; -errno if it could not be sent whole (the caller closes).
 */
int vhu_conn_send(struct vhu_device *dev, uint32_t request,
		const void *payload, uint32_t size);

/* Close every fd a message still holds. */
void vhu_msg_drop_fds(struct vhu_msg *msg);

/* Close the connection fd and drop a partial message and its fds. */
void vhu_conn_close(struct vhu_device *dev);

#endif /* VHU_CONN_H */
