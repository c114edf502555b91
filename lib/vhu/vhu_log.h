/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/vhu logging through rte_log, log type "lib.vhu"
 * (enable debug with --log-level=lib.vhu:debug). Never used per packet.
 */
#ifndef VHU_LOG_H
#define VHU_LOG_H

#include <rte_log.h>

extern int vhu_logtype;

#define VHU_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vhu_logtype, "VHU: " fmt "\n", ##__VA_ARGS__)

/* A device's messages carry its socket path so a multi-device log reads. */
#define VHU_DEV_LOG(level, dev, fmt, ...) \
	VHU_LOG(level, "%s: " fmt, (dev)->path, ##__VA_ARGS__)

#endif /* VHU_LOG_H */
