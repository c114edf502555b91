/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vhu ethdev ops: configuration, queues, start/stop, close, link,
 * MTU, MAC and receive modes. Stats are in vhu_ethdev_stats.c.
 *
 * A vhost-user port has no hardware to program: start/stop decide only
 * whether the application polls (see vhu_ethdev.h), and so do the RX
 * queues' own start/stop, which let an application set a queue up again
 * on a started port (another mempool: vhu-fwd does when the port moves
 * to another NUMA node). The MAC address and
 * receive modes filter nothing (every frame the guest sends is received),
 * and the MTU is the application's to keep.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "rte_eth_vhu.h"
#include "vhu_ethdev.h"

static int
vhu_ethdev_configure(struct rte_eth_dev *eth_dev)
{
	const struct rte_eth_conf *conf = &eth_dev->data->dev_conf;

	/* The guest picks the queue of each packet it sends: no RSS. */
	if (conf->rxmode.mq_mode != RTE_ETH_MQ_RX_NONE &&
	    conf->rxmode.mq_mode != RTE_ETH_MQ_RX_RSS) {
		VHU_ETHDEV_LOG(ERR, "%s: RX multi-queue mode %d not supported "
			       "(none or RSS only; the guest picks queues)",
			       eth_dev->data->name, conf->rxmode.mq_mode);
		return -EINVAL;
	}
	if (conf->txmode.mq_mode != RTE_ETH_MQ_TX_NONE) {
		VHU_ETHDEV_LOG(ERR, "%s: TX multi-queue mode %d not supported",
			       eth_dev->data->name, conf->txmode.mq_mode);
		return -EINVAL;
	}
	return 0;
}

static int
vhu_ethdev_infos_get(struct rte_eth_dev *eth_dev,
		struct rte_eth_dev_info *info)
{
	const struct vhu_ethdev *priv = eth_dev->data->dev_private;

	info->max_mac_addrs = 1;
	info->max_rx_pktlen = VHU_ETHDEV_MAX_PKT_LEN;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = VHU_ETHDEV_MAX_PKT_LEN - RTE_ETHER_HDR_LEN -
		RTE_ETHER_CRC_LEN;
	info->max_rx_queues = priv->args.queues;
	info->max_tx_queues = priv->args.queues;
	info->min_rx_bufsize = 0;
	/* Only what lib/vhu really does. RX: guest packets larger than one
	 * mbuf arrive chained. A guest's partial checksum is completed
	 * (RX_L4_CKSUM_GOOD) unless the application enables RX TCP/UDP
	 * checksum offload (then RX_L4_CKSUM_NONE); tso=1 GSO packets arrive
	 * whole (RX_LRO). legacy-ol-flags=1 says both with TX flags, as
	 * net_vhost's legacy mode, and announces neither. TX: chained
	 * mbufs, and IPv4/TCP/UDP checksum requests, which lib/vhu passes
	 * to a guest that negotiated GUEST_CSUM or else computes into the
	 * guest's copy. TCP TSO: whole, as one GSO packet, to a guest that
	 * negotiated GUEST_TSO4/6; otherwise cut by rte_gso (TCP/IPv4 only,
	 * vhu_ethdev_gso.c) when the application enabled TCP_TSO. */
	info->rx_offload_capa = RTE_ETH_RX_OFFLOAD_SCATTER;
	if (priv->args.offloads & VHU_OFFLOAD_DEQUEUE_RX_FLAGS) {
		info->rx_offload_capa |= RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
			RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
		if (priv->args.offloads & VHU_OFFLOAD_DEQUEUE_TSO) {
			/* A guest's GSO packet: up to 64 KiB + headers. */
			info->rx_offload_capa |= RTE_ETH_RX_OFFLOAD_TCP_LRO;
			info->max_lro_pkt_size = VHU_ETHDEV_MAX_PKT_LEN;
		}
	}
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS |
		RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
		RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO;
	info->rx_queue_offload_capa = 0;
	info->tx_queue_offload_capa = 0;
	info->flow_type_rss_offloads = 0;
	info->speed_capa = RTE_ETH_LINK_SPEED_10G;
	/* An RX queue holds no mbufs (the ring is the guest's): a stopped
	 * one can take another mempool while the port runs. */
	info->dev_capa = RTE_ETH_DEV_CAPA_RUNTIME_RX_QUEUE_SETUP;
	info->default_rxportconf.burst_size = 32;
	info->default_txportconf.burst_size = 32;
	info->default_rxportconf.nb_queues = 1;
	info->default_txportconf.nb_queues = 1;
	return 0;
}

/* RX checksum offload is a port setting (no per-queue capability), which
 * a later configure may change without a queue setup: the queues learn it
 * at start (as net_vhost's start does), and at a set-up on a started
 * port. */
static bool
vhu_ethdev_rx_sw_cksum(const struct rte_eth_dev *eth_dev)
{
	const struct vhu_ethdev *priv = eth_dev->data->dev_private;

	return (priv->args.offloads & VHU_OFFLOAD_DEQUEUE_RX_FLAGS) &&
		!(eth_dev->data->dev_conf.rxmode.offloads &
		  (RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM));
}

static int
vhu_ethdev_rx_queue_setup(struct rte_eth_dev *eth_dev, uint16_t qid,
		uint16_t nb_desc, unsigned int socket_id,
		const struct rte_eth_rxconf *conf, struct rte_mempool *mp)
{
	struct vhu_ethdev *priv = eth_dev->data->dev_private;
	struct vhu_ethdev_rxq *q;

	/* The ring is the guest's: nb_desc has nothing to size (it is
	 * only reported back). */
	if (mp == NULL)
		return -EINVAL;
	q = rte_zmalloc_socket("vhu_ethdev_rxq", sizeof(*q),
			       RTE_CACHE_LINE_SIZE, (int)socket_id);
	if (q == NULL)
		return -ENOMEM;
	q->vdev = priv->vdev;
	q->mp = mp;
	q->qp = qid;
	q->port_id = eth_dev->data->port_id;
	q->nb_desc = nb_desc;
	q->deferred_start = conf != NULL && conf->rx_deferred_start;
	q->sw_cksum = vhu_ethdev_rx_sw_cksum(eth_dev);
	eth_dev->data->rx_queues[qid] = q;
	return 0;
}

/* ethdev allows these only on a started port, and a set-up only of a
 * stopped queue: the application polls a queue only while it is started,
 * and meanwhile the guest's packets wait in its ring. */
static int
vhu_ethdev_rx_queue_start(struct rte_eth_dev *eth_dev, uint16_t qid)
{
	eth_dev->data->rx_queue_state[qid] = RTE_ETH_QUEUE_STATE_STARTED;
	return 0;
}

static int
vhu_ethdev_rx_queue_stop(struct rte_eth_dev *eth_dev, uint16_t qid)
{
	eth_dev->data->rx_queue_state[qid] = RTE_ETH_QUEUE_STATE_STOPPED;
	return 0;
}

static void
vhu_ethdev_rxq_info_get(struct rte_eth_dev *eth_dev, uint16_t qid,
		struct rte_eth_rxq_info *info)
{
	const struct vhu_ethdev_rxq *q = eth_dev->data->rx_queues[qid];

	info->mp = q->mp;
	info->nb_desc = q->nb_desc;
	info->scattered_rx = 1; /* guest frames larger than an mbuf chain */
	info->conf.rx_deferred_start = q->deferred_start;
	info->rx_buf_size = rte_pktmbuf_data_room_size(q->mp) -
		RTE_PKTMBUF_HEADROOM;
	info->queue_state = eth_dev->data->rx_queue_state[qid];
}

static void
vhu_ethdev_tx_queue_release(struct rte_eth_dev *eth_dev, uint16_t qid)
{
	struct vhu_ethdev_txq *q = eth_dev->data->tx_queues[qid];

	if (q == NULL)
		return;
	vhu_ethdev_gso_free(q);
	rte_free(q);
	eth_dev->data->tx_queues[qid] = NULL;
}

static int
vhu_ethdev_tx_queue_setup(struct rte_eth_dev *eth_dev, uint16_t qid,
		uint16_t nb_desc, unsigned int socket_id,
		const struct rte_eth_txconf *conf)
{
	struct vhu_ethdev *priv = eth_dev->data->dev_private;
	uint64_t offloads = eth_dev->data->dev_conf.txmode.offloads |
		(conf != NULL ? conf->offloads : 0);
	struct vhu_ethdev_txq *q;

	RTE_SET_USED(nb_desc);
	q = rte_zmalloc_socket("vhu_ethdev_txq", sizeof(*q),
			       RTE_CACHE_LINE_SIZE, (int)socket_id);
	if (q == NULL)
		return -ENOMEM;
	q->vdev = priv->vdev;
	q->qp = qid;
	q->port_id = eth_dev->data->port_id;
	/* ethdev released the queue this one replaces before calling us,
	 * so its GSO pools' names are free again. */
	if (offloads & RTE_ETH_TX_OFFLOAD_TCP_TSO) {
		int ret = vhu_ethdev_gso_setup(q, (int)socket_id);

		if (ret < 0) {
			rte_free(q);
			return ret;
		}
	}
	eth_dev->data->tx_queues[qid] = q;
	return 0;
}

static void
vhu_ethdev_rx_queue_release(struct rte_eth_dev *eth_dev, uint16_t qid)
{
	rte_free(eth_dev->data->rx_queues[qid]);
	eth_dev->data->rx_queues[qid] = NULL;
}

static int
vhu_ethdev_start(struct rte_eth_dev *eth_dev)
{
	struct rte_eth_dev_data *data = eth_dev->data;
	bool sw_cksum = vhu_ethdev_rx_sw_cksum(eth_dev);
	uint16_t i;

	for (i = 0; i < data->nb_rx_queues; i++) {
		struct vhu_ethdev_rxq *q = data->rx_queues[i];

		if (q == NULL) {
			VHU_ETHDEV_LOG(ERR, "%s: RX queue %u not set up",
				       data->name, i);
			return -EINVAL;
		}
		q->sw_cksum = sw_cksum;
	}
	for (i = 0; i < data->nb_tx_queues; i++)
		if (data->tx_queues[i] == NULL) {
			VHU_ETHDEV_LOG(ERR, "%s: TX queue %u not set up",
				       data->name, i);
			return -EINVAL;
		}
	/* A deferred queue waits for rte_eth_dev_rx_queue_start(). */
	for (i = 0; i < data->nb_rx_queues; i++) {
		const struct vhu_ethdev_rxq *q = data->rx_queues[i];

		data->rx_queue_state[i] = q->deferred_start ?
			RTE_ETH_QUEUE_STATE_STOPPED : RTE_ETH_QUEUE_STATE_STARTED;
	}
	for (i = 0; i < data->nb_tx_queues; i++)
		data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	return 0;
}

/* The application has stopped polling (ethdev's rule): a connected
 * front-end's packets wait in its rings until the port starts again. */
static int
vhu_ethdev_stop(struct rte_eth_dev *eth_dev)
{
	struct rte_eth_dev_data *data = eth_dev->data;
	uint16_t i;

	for (i = 0; i < data->nb_rx_queues; i++)
		data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	for (i = 0; i < data->nb_tx_queues; i++)
		data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	return 0;
}

int
vhu_ethdev_close(struct rte_eth_dev *eth_dev)
{
	struct rte_eth_dev_data *data = eth_dev->data;
	struct vhu_ethdev *priv = data->dev_private;
	struct rte_eth_link down;
	uint16_t i;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY || priv == NULL)
		return 0;
	/* No more events to the application for a port going away; the
	 * device's last callbacks (it goes down) only update the link. */
	__atomic_store_n(&priv->events, false, __ATOMIC_RELEASE);
	if (priv->vdev != NULL) {
		VHU_ETHDEV_LOG(INFO, "%s: closing %s", data->name,
			       priv->args.iface);
		vhu_device_unregister(priv->vdev);
		priv->vdev = NULL;
	}
	for (i = 0; i < data->nb_rx_queues; i++)
		vhu_ethdev_rx_queue_release(eth_dev, i);
	for (i = 0; i < data->nb_tx_queues; i++)
		vhu_ethdev_tx_queue_release(eth_dev, i);
	memset(&down, 0, sizeof(down));
	vhu_ethdev_link_get(priv, &down);
	rte_eth_linkstatus_set(eth_dev, &down);
	return 0;
}

static int
vhu_ethdev_link_update(struct rte_eth_dev *eth_dev, int wait_to_complete)
{
	struct rte_eth_link link;

	RTE_SET_USED(wait_to_complete);
	vhu_ethdev_link_get(eth_dev->data->dev_private, &link);
	return rte_eth_linkstatus_set(eth_dev, &link);
}

/* Nothing filters frames: every receive mode is what we already do. */
static int
vhu_ethdev_rxmode_noop(struct rte_eth_dev *eth_dev)
{
	RTE_SET_USED(eth_dev);
	return 0;
}

static int
vhu_ethdev_mtu_set(struct rte_eth_dev *eth_dev, uint16_t mtu)
{
	const struct vhu_ethdev *priv = eth_dev->data->dev_private;
	uint16_t fe_mtu = priv->vdev != NULL ? vhu_device_mtu(priv->vdev) : 0;

	/* ethdev checked the range and records the value. The front-end's
	 * own MTU (NET_SET_MTU) is the guest's; it is only reported. */
	if (fe_mtu != 0 && fe_mtu != mtu)
		VHU_ETHDEV_LOG(INFO, "%s: MTU %u; the front-end set %u",
			       eth_dev->data->name, mtu, fe_mtu);
	return 0;
}

static int
vhu_ethdev_mac_addr_set(struct rte_eth_dev *eth_dev,
		struct rte_ether_addr *addr)
{
	/* ethdev stores it in data->mac_addrs[0]; nothing to program. */
	RTE_SET_USED(eth_dev);
	RTE_SET_USED(addr);
	return 0;
}

const struct eth_dev_ops vhu_ethdev_ops = {
	.dev_configure = vhu_ethdev_configure,
	.dev_infos_get = vhu_ethdev_infos_get,
	.dev_start = vhu_ethdev_start,
	.dev_stop = vhu_ethdev_stop,
	.dev_close = vhu_ethdev_close,
	.rx_queue_setup = vhu_ethdev_rx_queue_setup,
	.tx_queue_setup = vhu_ethdev_tx_queue_setup,
	.rx_queue_release = vhu_ethdev_rx_queue_release,
	.rx_queue_start = vhu_ethdev_rx_queue_start,
	.rx_queue_stop = vhu_ethdev_rx_queue_stop,
	.rxq_info_get = vhu_ethdev_rxq_info_get,
	.tx_queue_release = vhu_ethdev_tx_queue_release,
	.link_update = vhu_ethdev_link_update,
	.promiscuous_enable = vhu_ethdev_rxmode_noop,
	.promiscuous_disable = vhu_ethdev_rxmode_noop,
	.allmulticast_enable = vhu_ethdev_rxmode_noop,
	.allmulticast_disable = vhu_ethdev_rxmode_noop,
	.mtu_set = vhu_ethdev_mtu_set,
	.mac_addr_set = vhu_ethdev_mac_addr_set,
	.stats_get = vhu_ethdev_stats_get,
	.stats_reset = vhu_ethdev_stats_reset,
	.xstats_get = vhu_ethdev_xstats_get,
	.xstats_get_names = vhu_ethdev_xstats_get_names,
	.xstats_reset = vhu_ethdev_stats_reset,
};

int
rte_eth_vhu_get_queue_event(uint16_t port_id,
		struct rte_eth_vhu_queue_event *event)
{
	struct rte_eth_dev *eth_dev;
	struct vhu_ethdev *priv;
	uint16_t nr_rings, i;
	int ret = -EAGAIN;

	if (event == NULL)
		return -EINVAL;
	if (!rte_eth_dev_is_valid_port(port_id))
		return -ENODEV;
	eth_dev = &rte_eth_devices[port_id];
	if (eth_dev->dev_ops != &vhu_ethdev_ops)
		return -ENODEV;
	priv = eth_dev->data->dev_private;
	nr_rings = 2 * priv->args.queues;
	rte_spinlock_lock(&priv->qev_lock);
	/* Round-robin from where the last scan stopped: a busy ring cannot
	 * hide the others. */
	for (i = 0; i < nr_rings; i++) {
		uint16_t r = (uint16_t)((priv->qev_next + i) % nr_rings);

		if (priv->qev_cur[r] == priv->qev_seen[r])
			continue;
		priv->qev_seen[r] = priv->qev_cur[r];
		priv->qev_next = (uint16_t)((r + 1) % nr_rings);
		event->queue_id = r / 2;
		event->rx = (r & 1) != 0; /* guest TX ring = our RX queue */
		event->enable = (priv->qev_cur[r] & VHU_ETHDEV_QS_RUNNING) != 0;
		ret = 0;
		break;
	}
	rte_spinlock_unlock(&priv->qev_lock);
	return ret;
}
