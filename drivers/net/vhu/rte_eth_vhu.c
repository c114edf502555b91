/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vhu: vdev probe and remove, and the driver's registration.
 *
 * Probe parses the devargs, creates the port, registers and starts the
 * vhu device (listening on iface=, or connecting to it with client=1), and
 * only then lets the device's callbacks raise ethdev events. Remove (or
 * rte_eth_dev_close()) unregisters the device and frees everything, so a
 * port can be detached and attached again at run time.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include <bus_vdev_driver.h>
#include <ethdev_vdev.h>

#include "vhu_ethdev.h"

RTE_LOG_REGISTER(vhu_ethdev_logtype, pmd.net.vhu, NOTICE);

size_t
vhu_ethdev_priv_size(uint16_t queues)
{
	return sizeof(struct vhu_ethdev) +
		2u * queues * sizeof(struct vhu_ring_stats);
}

/* Register and start the vhu device of a new port. */
static int
vhu_ethdev_device_create(struct vhu_ethdev *priv, int numa_node)
{
	struct vhu_device_config cfg = {
		.path = priv->args.iface,
		.client = priv->args.client,
		.max_queue_pairs = priv->args.queues,
		.ops = &vhu_ethdev_vhu_ops,
		.ctx = priv,
		.numa_socket = numa_node,
		.offloads = priv->args.offloads,
		.features_masked = priv->args.features_masked,
	};
	int ret;

	ret = vhu_device_register(&cfg, &priv->vdev);
	if (ret != 0) {
		VHU_ETHDEV_LOG(ERR, "%s: cannot register vhost-user socket %s: %s",
			       priv->eth_dev->data->name, cfg.path,
			       strerror(-ret));
		priv->vdev = NULL;
		return ret;
	}
	ret = vhu_device_start(priv->vdev);
	if (ret != 0) {
		VHU_ETHDEV_LOG(ERR, "%s: cannot %s %s: %s",
			       priv->eth_dev->data->name,
			       cfg.client ? "connect to" : "listen on", cfg.path,
			       strerror(-ret));
		vhu_device_unregister(priv->vdev);
		priv->vdev = NULL;
		return ret;
	}
	return 0;
}

static int
vhu_ethdev_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct vhu_ethdev_args args;
	struct rte_eth_dev *eth_dev;
	struct vhu_ethdev *priv;
	int ret;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		/* Guest memory is mapped in the primary process only. */
		VHU_ETHDEV_LOG(ERR, "%s: secondary processes are not supported",
			       name);
		return -ENOTSUP;
	}
	ret = vhu_ethdev_args_parse(name, rte_vdev_device_args(vdev), &args);
	if (ret != 0)
		return ret;
	if (vdev->device.numa_node == SOCKET_ID_ANY)
		vdev->device.numa_node = (int)rte_socket_id();

	eth_dev = rte_eth_vdev_allocate(vdev, vhu_ethdev_priv_size(args.queues));
	if (eth_dev == NULL) {
		VHU_ETHDEV_LOG(ERR, "%s: cannot allocate the ethdev port", name);
		return -ENOMEM;
	}
	priv = eth_dev->data->dev_private;
	priv->eth_dev = eth_dev;
	priv->args = args;
	rte_spinlock_init(&priv->qev_lock);

	eth_dev->data->mac_addrs = rte_zmalloc_socket(name,
			sizeof(struct rte_ether_addr), 0, vdev->device.numa_node);
	if (eth_dev->data->mac_addrs == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	if (args.have_mac)
		rte_ether_addr_copy(&args.mac, eth_dev->data->mac_addrs);
	else
		rte_eth_random_addr(eth_dev->data->mac_addrs->addr_bytes);

	eth_dev->dev_ops = &vhu_ethdev_ops;
	eth_dev->rx_pkt_burst = vhu_ethdev_rx_burst;
	eth_dev->tx_pkt_burst = vhu_ethdev_tx_burst;
	eth_dev->data->dev_flags |= RTE_ETH_DEV_INTR_LSC;
	eth_dev->data->dev_link.link_speed = RTE_ETH_SPEED_NUM_10G;
	eth_dev->data->dev_link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	eth_dev->data->dev_link.link_autoneg = RTE_ETH_LINK_FIXED;
	eth_dev->data->dev_link.link_status = RTE_ETH_LINK_DOWN;

	ret = vhu_ethdev_device_create(priv, vdev->device.numa_node);
	if (ret != 0) {
		/* -EEXIST from a probe means "already probed" to the vdev
		 * bus, which would then skip the error silently. */
		if (ret == -EEXIST)
			ret = -EADDRINUSE;
		goto fail;
	}

	rte_eth_dev_probing_finish(eth_dev);
	__atomic_store_n(&priv->events, true, __ATOMIC_RELEASE);
	VHU_ETHDEV_LOG(INFO, "%s: port %u on %s (%s, %u queue pair%s)", name,
		       eth_dev->data->port_id, args.iface,
		       args.client ? "client" : "server", args.queues,
		       args.queues > 1 ? "s" : "");
	return 0;

fail:
	/* rte_eth_dev_release_port() frees mac_addrs and dev_private. */
	rte_eth_dev_release_port(eth_dev);
	return ret;
}

static int
vhu_ethdev_remove(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct rte_eth_dev *eth_dev = rte_eth_dev_allocated(name);

	if (eth_dev == NULL)
		return 0; /* already closed (rte_eth_dev_close released it) */
	if (eth_dev->data->dev_started) {
		/* Removal of a running port: stop it as ethdev would. */
		VHU_ETHDEV_LOG(NOTICE, "%s: removed while started: stopping",
			       name);
		rte_eth_dev_stop(eth_dev->data->port_id);
	}
	vhu_ethdev_close(eth_dev);
	return rte_eth_dev_release_port(eth_dev);
}

static struct rte_vdev_driver vhu_ethdev_driver = {
	.probe = vhu_ethdev_probe,
	.remove = vhu_ethdev_remove,
};

RTE_PMD_REGISTER_VDEV(net_vhu, vhu_ethdev_driver);
/* net_vhost's legacy name is eth_vhost: eth_vhu0 works the same way. */
RTE_PMD_REGISTER_ALIAS(net_vhu, eth_vhu);
RTE_PMD_REGISTER_PARAM_STRING(net_vhu, VHU_ETHDEV_PARAMS);
