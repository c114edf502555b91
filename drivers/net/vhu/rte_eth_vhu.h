/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * net_vhu: what an application can ask a net_vhu port beyond ethdev.
 *
 * A net_vhu port raises RTE_ETH_EVENT_QUEUE_STATE whenever one of its
 * vhost-user rings changes state (the front-end started, stopped, enabled
 * or disabled it, or the ring broke). The event carries no data: the
 * application's callback (or its main loop) calls
 * rte_eth_vhu_get_queue_event() until it returns -EAGAIN to learn which
 * queues changed and how they are now. This mirrors DPDK's
 * rte_eth_vhost_get_queue_event() for net_vhost.
 */
#ifndef RTE_ETH_VHU_H
#define RTE_ETH_VHU_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One queue's change of state. */
struct rte_eth_vhu_queue_event {
	uint16_t queue_id; /**< ethdev queue (= vhost-user queue pair) */
	bool rx;           /**< true: an RX queue (the guest's TX ring) */
	bool enable;       /**< the ring is now started, enabled, not broken */
};

/**
 * Fetch one queue whose state changed since it was last fetched. A queue
 * that changed several times is reported once, with its current state.
 * Called by: any thread (takes a spinlock; not for the datapath).
 * @param port_id
 *   A net_vhu port.
 * @param[out] event
 *   The queue and its state.
 * @return
 *   0 with *event filled; -EAGAIN if no queue changed; -ENODEV if port_id
 *   is not a net_vhu port; -EINVAL if event is NULL.
 */
int rte_eth_vhu_get_queue_event(uint16_t port_id,
		struct rte_eth_vhu_queue_event *event);

#ifdef __cplusplus
}
#endif

#endif /* RTE_ETH_VHU_H */
