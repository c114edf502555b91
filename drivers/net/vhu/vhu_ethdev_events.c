/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/vhu's device callbacks, on its control thread, turned into the
 * port's link state and ethdev events:
 *  - device_ready / device_destroyed → link up / down, and
 *    RTE_ETH_EVENT_INTR_LSC when the application configured
 *    intr_conf.lsc;
 *  - ring_state_changed → the queue-state table read by
 *    rte_eth_vhu_get_queue_event(), and RTE_ETH_EVENT_QUEUE_STATE;
 *  - both first update the port's numa_node to the device's
 *    (vhu_device_numa_node()), so the event's handler reads the new one.
 * Events go out only while priv->events is set (see vhu_ethdev.h).
 */
#include <inttypes.h>
#include <string.h>

#include "vhu_ethdev.h"

void
vhu_ethdev_link_get(const struct vhu_ethdev *priv, struct rte_eth_link *link)
{
	bool up = priv->vdev != NULL && vhu_device_ready(priv->vdev);

	memset(link, 0, sizeof(*link));
	link->link_speed = RTE_ETH_SPEED_NUM_10G;
	link->link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	link->link_autoneg = RTE_ETH_LINK_FIXED;
	link->link_status = up ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
}

static bool
vhu_ethdev_events_on(const struct vhu_ethdev *priv)
{
	return __atomic_load_n(&priv->events, __ATOMIC_ACQUIRE);
}

static void
vhu_ethdev_link_changed(struct vhu_ethdev *priv, bool up)
{
	struct rte_eth_dev *eth_dev = priv->eth_dev;
	struct rte_eth_link link;

	vhu_ethdev_link_get(priv, &link);
	/* The callback's view wins over a query racing with it. */
	link.link_status = up ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	if (rte_eth_linkstatus_set(eth_dev, &link) != 0)
		return; /* unchanged */
	VHU_ETHDEV_LOG(INFO, "%s: link %s (front-end %s)",
		       eth_dev->data->name, up ? "up" : "down",
		       up ? "ready" : "gone or stopped");
	if (vhu_ethdev_events_on(priv) &&
	    eth_dev->data->dev_conf.intr_conf.lsc != 0)
		rte_eth_dev_callback_process(eth_dev, RTE_ETH_EVENT_INTR_LSC,
					     NULL);
}

/* The port's NUMA node follows its guest memory's (lib/vhu moved the
 * device's state there as the ring started), before the event that tells
 * the application to look: rte_eth_dev_socket_id() then places its
 * mbufs and lcores as DPDK vhost's rte_vhost_get_numa_node() would. */
static void
vhu_ethdev_numa_follow(struct vhu_ethdev *priv, struct vhu_device *dev)
{
	struct rte_eth_dev_data *data = priv->eth_dev->data;
	int node = vhu_device_numa_node(dev);

	if (node < 0 || node == data->numa_node)
		return;
	VHU_ETHDEV_LOG(INFO, "%s: NUMA node %d (its guest memory's, was %d)",
		       data->name, node, data->numa_node);
	data->numa_node = node;
}

static void
vhu_ethdev_on_ready(struct vhu_device *dev, void *ctx)
{
	vhu_ethdev_numa_follow(ctx, dev);
	vhu_ethdev_link_changed(ctx, true);
}

static void
vhu_ethdev_on_destroyed(struct vhu_device *dev, void *ctx)
{
	RTE_SET_USED(dev);
	vhu_ethdev_link_changed(ctx, false);
}

static void
vhu_ethdev_on_ring_state(struct vhu_device *dev, uint16_t ring,
		struct vhu_ring_state state, void *ctx)
{
	struct vhu_ethdev *priv = ctx;
	uint8_t cur = 0;

	if (ring >= 2 * priv->args.queues)
		return;
	vhu_ethdev_numa_follow(priv, dev);
	if (state.started && state.enabled && !state.broken)
		cur |= VHU_ETHDEV_QS_RUNNING;
	VHU_ETHDEV_LOG(INFO, "%s: %s queue %u: ring %u %s, %s%s",
		       priv->eth_dev->data->name, ring & 1 ? "RX" : "TX",
		       ring / 2, ring, state.started ? "started" : "stopped",
		       state.enabled ? "enabled" : "disabled",
		       state.broken ? ", broken" : "");
	rte_spinlock_lock(&priv->qev_lock);
	priv->qev_cur[ring] = cur;
	rte_spinlock_unlock(&priv->qev_lock);
	if (vhu_ethdev_events_on(priv))
		rte_eth_dev_callback_process(priv->eth_dev,
					     RTE_ETH_EVENT_QUEUE_STATE, NULL);
}

static void
vhu_ethdev_on_features(struct vhu_device *dev, uint64_t features, void *ctx)
{
	const struct vhu_ethdev *priv = ctx;

	RTE_SET_USED(dev);
	VHU_ETHDEV_LOG(DEBUG, "%s: virtio features 0x%" PRIx64,
		       priv->eth_dev->data->name, features);
}

const struct vhu_device_ops vhu_ethdev_vhu_ops = {
	.device_ready = vhu_ethdev_on_ready,
	.device_destroyed = vhu_ethdev_on_destroyed,
	.ring_state_changed = vhu_ethdev_on_ring_state,
	.features_changed = vhu_ethdev_on_features,
};
