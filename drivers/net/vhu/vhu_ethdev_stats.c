/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vhu stats and xstats, read from lib/vhu's own counters (the polling
 * lcore writes them; nothing is counted twice on the datapath). lib/vhu's
 * counters only grow, so a reset records them as a base to subtract.
 *
 * Basic stats (per queue for the first RTE_ETHDEV_QUEUE_STAT_CNTRS):
 *   ipackets/ibytes  received from the guest (RX queue q = ring 2q+1)
 *   opackets/obytes  copied into the guest (TX queue q = ring 2q)
 *   ierrors, q_errors  guest packets consumed and dropped: invalid
 *                    descriptor chains, or sent while the ring was disabled
 *   rx_nombuf        bursts that found the mempool empty
 *   oerrors          packets dropped: larger than the guest's buffers, or
 *                    asking for an offload that cannot be done
 * xstats: every lib/vhu ring counter per queue (rx_qN_*, tx_qN_*), and
 * the device's vhost-user counters. doc/pmd.md explains each.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "vhu_ethdev.h"

#define VHU_XS_RX 0x1 /* shown for RX queues (dequeue rings) */
#define VHU_XS_TX 0x2 /* shown for TX queues (enqueue rings) */

struct vhu_xstat_ring_field {
	const char *name;
	size_t offset;  /* in struct vhu_ring_stats */
	uint8_t dirs;
};

#define VHU_RING_FIELD(n, f, d) { n, offsetof(struct vhu_ring_stats, f), d }

static const struct vhu_xstat_ring_field vhu_xstat_ring_fields[] = {
	VHU_RING_FIELD("packets", packets, VHU_XS_RX | VHU_XS_TX),
	VHU_RING_FIELD("bytes", bytes, VHU_XS_RX | VHU_XS_TX),
	VHU_RING_FIELD("ring_full", drop_full, VHU_XS_TX),
	VHU_RING_FIELD("drop_too_big", drop_too_big, VHU_XS_TX),
	VHU_RING_FIELD("drop_disabled", drop_disabled, VHU_XS_RX),
	VHU_RING_FIELD("drop_bad_desc", drop_bad_desc, VHU_XS_RX | VHU_XS_TX),
	VHU_RING_FIELD("bad_offload", bad_offload, VHU_XS_RX),
	VHU_RING_FIELD("drop_offload", drop_offload, VHU_XS_TX),
	VHU_RING_FIELD("nombuf", nombuf, VHU_XS_RX),
	VHU_RING_FIELD("notifications", notifications, VHU_XS_RX | VHU_XS_TX),
	VHU_RING_FIELD("ring_starts", starts, VHU_XS_RX | VHU_XS_TX),
	VHU_RING_FIELD("ring_stops", stops, VHU_XS_RX | VHU_XS_TX),
	VHU_RING_FIELD("ring_enables", enables, VHU_XS_RX | VHU_XS_TX),
	VHU_RING_FIELD("ring_disables", disables, VHU_XS_RX | VHU_XS_TX),
	VHU_RING_FIELD("ring_broken", broken, VHU_XS_RX | VHU_XS_TX),
};

struct vhu_xstat_dev_field {
	const char *name;
	size_t offset;  /* in struct vhu_device_stats */
};

#define VHU_DEV_FIELD(n, f) { n, offsetof(struct vhu_device_stats, f) }

static const struct vhu_xstat_dev_field vhu_xstat_dev_fields[] = {
	VHU_DEV_FIELD("vhost_user_connections", connections),
	VHU_DEV_FIELD("vhost_user_disconnections", disconnections),
	VHU_DEV_FIELD("vhost_user_messages", messages),
	VHU_DEV_FIELD("vhost_user_messages_failed", messages_failed),
	VHU_DEV_FIELD("vhost_user_mem_table_updates", mem_table_updates),
	VHU_DEV_FIELD("vhost_user_quiesce_timeouts", quiesce_timeouts),
	VHU_DEV_FIELD("vhost_user_memory_faults", memory_faults),
	VHU_DEV_FIELD("vhost_user_numa_move_failures", numa_move_failures),
};

static uint64_t
vhu_field(const void *stats, size_t offset)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)stats + offset, sizeof(v));
	return v;
}

/* A ring's counters since the last reset (zero without a device). */
static void
vhu_ethdev_ring_stats(const struct vhu_ethdev *priv, uint16_t ring,
		struct vhu_ring_stats *out)
{
	const uint64_t *base = (const uint64_t *)&priv->ring_base[ring];
	uint64_t *v = (uint64_t *)out;
	size_t i;

	RTE_BUILD_BUG_ON(sizeof(*out) % sizeof(uint64_t) != 0);
	memset(out, 0, sizeof(*out));
	if (priv->vdev == NULL ||
	    vhu_device_ring_stats(priv->vdev, ring, out) != 0)
		return;
	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		v[i] -= base[i];
}

static void
vhu_ethdev_dev_stats(const struct vhu_ethdev *priv,
		struct vhu_device_stats *out)
{
	const uint64_t *base = (const uint64_t *)&priv->dev_base;
	uint64_t *v = (uint64_t *)out;
	size_t i;

	RTE_BUILD_BUG_ON(sizeof(*out) % sizeof(uint64_t) != 0);
	memset(out, 0, sizeof(*out));
	if (priv->vdev == NULL || vhu_device_stats(priv->vdev, out) != 0)
		return;
	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		v[i] -= base[i];
}

int
vhu_ethdev_stats_get(struct rte_eth_dev *eth_dev, struct rte_eth_stats *stats)
{
	const struct vhu_ethdev *priv = eth_dev->data->dev_private;
	struct vhu_ring_stats rs;
	uint16_t q;

	for (q = 0; q < priv->args.queues; q++) {
		uint64_t errors;

		vhu_ethdev_ring_stats(priv, 2 * q + 1, &rs);
		errors = rs.drop_bad_desc + rs.drop_disabled;
		stats->ipackets += rs.packets;
		stats->ibytes += rs.bytes;
		stats->ierrors += errors;
		stats->rx_nombuf += rs.nombuf;
		if (q < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			stats->q_ipackets[q] = rs.packets;
			stats->q_ibytes[q] = rs.bytes;
			stats->q_errors[q] = errors;
		}
		vhu_ethdev_ring_stats(priv, 2 * q, &rs);
		stats->opackets += rs.packets;
		stats->obytes += rs.bytes;
		stats->oerrors += rs.drop_too_big + rs.drop_offload;
		if (q < eth_dev->data->nb_tx_queues &&
		    eth_dev->data->tx_queues[q] != NULL)
			stats->oerrors += ((const struct vhu_ethdev_txq *)
				eth_dev->data->tx_queues[q])->gso_drops;
		if (q < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			stats->q_opackets[q] = rs.packets;
			stats->q_obytes[q] = rs.bytes;
		}
	}
	return 0;
}

/* stats_reset and xstats_reset: both reset everything. */
int
vhu_ethdev_stats_reset(struct rte_eth_dev *eth_dev)
{
	struct vhu_ethdev *priv = eth_dev->data->dev_private;
	uint16_t r;

	for (r = 0; r < eth_dev->data->nb_tx_queues; r++) {
		struct vhu_ethdev_txq *txq = eth_dev->data->tx_queues[r];

		if (txq != NULL)
			txq->gso_packets = txq->gso_segments = txq->gso_drops = 0;
	}
	if (priv->vdev == NULL)
		return 0;
	for (r = 0; r < 2 * priv->args.queues; r++)
		vhu_device_ring_stats(priv->vdev, r, &priv->ring_base[r]);
	vhu_device_stats(priv->vdev, &priv->dev_base);
	return 0;
}

static unsigned int
vhu_xstat_ring_count(uint8_t dir)
{
	unsigned int i, n = 0;

	for (i = 0; i < RTE_DIM(vhu_xstat_ring_fields); i++)
		n += (vhu_xstat_ring_fields[i].dirs & dir) != 0;
	return n;
}

/* The PMD's own counters of a TX queue (software GSO). */
static const struct {
	const char *name;
	size_t offset;  /* in struct vhu_ethdev_txq */
} vhu_xstat_txq_fields[] = {
	{ "gso_packets", offsetof(struct vhu_ethdev_txq, gso_packets) },
	{ "gso_segments", offsetof(struct vhu_ethdev_txq, gso_segments) },
	{ "gso_drops", offsetof(struct vhu_ethdev_txq, gso_drops) },
};

static unsigned int
vhu_xstat_count(const struct vhu_ethdev *priv)
{
	return RTE_DIM(vhu_xstat_dev_fields) + priv->args.queues *
		(vhu_xstat_ring_count(VHU_XS_RX) +
		 vhu_xstat_ring_count(VHU_XS_TX) +
		 RTE_DIM(vhu_xstat_txq_fields));
}

/*
 * Walk every xstat in order: the device's, then per queue pair q its RX
 * queue's (ring 2q+1) and its TX queue's (ring 2q). For each, call name()
 * or value() with the running index.
 */
struct vhu_xstat_walk {
	struct rte_eth_xstat_name *names;
	struct rte_eth_xstat *values;
};

static unsigned int
vhu_xstat_walk(const struct vhu_ethdev *priv, struct vhu_xstat_walk *w)
{
	struct vhu_device_stats ds;
	struct vhu_ring_stats rs;
	unsigned int i, k = 0;
	uint16_t q;
	int d;

	if (w->values != NULL)
		vhu_ethdev_dev_stats(priv, &ds);
	for (i = 0; i < RTE_DIM(vhu_xstat_dev_fields); i++, k++) {
		if (w->names != NULL)
			snprintf(w->names[k].name, sizeof(w->names[k].name),
				 "%s", vhu_xstat_dev_fields[i].name);
		if (w->values != NULL) {
			w->values[k].id = k;
			w->values[k].value = vhu_field(&ds,
					vhu_xstat_dev_fields[i].offset);
		}
	}
	for (q = 0; q < priv->args.queues; q++) {
		for (d = 0; d < 2; d++) {
			uint8_t dir = d == 0 ? VHU_XS_RX : VHU_XS_TX;
			uint16_t ring = d == 0 ? 2 * q + 1 : 2 * q;

			if (w->values != NULL)
				vhu_ethdev_ring_stats(priv, ring, &rs);
			for (i = 0; i < RTE_DIM(vhu_xstat_ring_fields); i++) {
				const struct vhu_xstat_ring_field *f =
					&vhu_xstat_ring_fields[i];

				if (!(f->dirs & dir))
					continue;
				if (w->names != NULL)
					snprintf(w->names[k].name,
						 sizeof(w->names[k].name),
						 "%s_q%u_%s", d == 0 ? "rx" : "tx",
						 q, f->name);
				if (w->values != NULL) {
					w->values[k].id = k;
					w->values[k].value =
						vhu_field(&rs, f->offset);
				}
				k++;
			}
		}
		for (i = 0; i < RTE_DIM(vhu_xstat_txq_fields); i++, k++) {
			const struct vhu_ethdev_txq *txq = q < priv->eth_dev->data->nb_tx_queues ?
				priv->eth_dev->data->tx_queues[q] : NULL;

			if (w->names != NULL)
				snprintf(w->names[k].name, sizeof(w->names[k].name),
					 "tx_q%u_%s", q, vhu_xstat_txq_fields[i].name);
			if (w->values != NULL) {
				w->values[k].id = k;
				w->values[k].value = txq == NULL ? 0 :
					vhu_field(txq, vhu_xstat_txq_fields[i].offset);
			}
		}
	}
	return k;
}

int
vhu_ethdev_xstats_get(struct rte_eth_dev *eth_dev,
		struct rte_eth_xstat *xstats, unsigned int n)
{
	const struct vhu_ethdev *priv = eth_dev->data->dev_private;
	unsigned int count = vhu_xstat_count(priv);
	struct vhu_xstat_walk w = { .names = NULL, .values = xstats };

	if (xstats == NULL || n < count)
		return (int)count;
	return (int)vhu_xstat_walk(priv, &w);
}

int
vhu_ethdev_xstats_get_names(struct rte_eth_dev *eth_dev,
		struct rte_eth_xstat_name *names, unsigned int size)
{
	const struct vhu_ethdev *priv = eth_dev->data->dev_private;
	unsigned int count = vhu_xstat_count(priv);
	struct vhu_xstat_walk w = { .names = names, .values = NULL };

	if (names == NULL || size < count)
		return (int)count;
	return (int)vhu_xstat_walk(priv, &w);
}
