/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread (vhu_ctrl.c). These run a command on it and return
 * its result; they start the thread on first use. Any thread.
 */
#ifndef VHU_CTRL_H
#define VHU_CTRL_H

#include "vhu_dev.h"

/* Add dev to the registry. @return 0; -EEXIST (same path); -errno. */
int vhu_ctrl_register(struct vhu_device *dev);

/* Listen or start connecting. @return 0; -EALREADY; -errno. */
int vhu_ctrl_start(struct vhu_device *dev);

/* Disconnect, close, remove the socket file, free dev. @return 0. */
int vhu_ctrl_unregister(struct vhu_device *dev);

#endif /* VHU_CTRL_H */
