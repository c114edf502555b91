/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vhu devargs. The keys are net_vhost's (DPDK 22.11), so that moving
 * a command line from net_vhost to net_vhu is a rename, plus our own mac=.
 * tso= and legacy-ol-flags= select lib/vhu's dequeue offloads as they do
 * net_vhost's; net_vhost keys that mean nothing for vhu are accepted and
 * logged, never rejected: see doc/pmd.md for each. Unknown or repeated
 * keys and bad values are errors that name the key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>

#include <rte_kvargs.h>

#include "vhu_ethdev.h"

struct vhu_ethdev_arg {
	const char *key;
	int (*apply)(const char *name, const struct vhu_ethdev_arg *arg,
		     const char *value, struct vhu_ethdev_args *args);
	/* 0|1 keys (vhu_ethdev_arg_flag): what the value does. */
	bool client;           /* it is args->client */
	uint64_t offload;      /* 1 sets these VHU_OFFLOAD_* bits, 0 clears */
	uint64_t offload_off;  /* 1 clears these VHU_OFFLOAD_* bits, 0 sets */
	uint64_t withhold;     /* 0 withholds these virtio feature bits */
	const char *no_effect; /* 1 is logged: why it changes nothing */
};

/* A strict 0|1. @return 0 or 1; -1 otherwise. */
static int
vhu_ethdev_arg_bool(const char *value)
{
	if (value != NULL && strcmp(value, "0") == 0)
		return 0;
	if (value != NULL && strcmp(value, "1") == 0)
		return 1;
	return -1;
}

static int
vhu_ethdev_arg_iface(const char *name, const struct vhu_ethdev_arg *arg,
		const char *value, struct vhu_ethdev_args *args)
{
	size_t len = value != NULL ? strlen(value) : 0;

	if (len == 0 || len > VHU_ETHDEV_PATH_MAX) {
		VHU_ETHDEV_LOG(ERR, "%s: %s: a unix socket path of 1..%u bytes "
			       "is needed, got %zu", name, arg->key,
			       VHU_ETHDEV_PATH_MAX, len);
		return -EINVAL;
	}
	memcpy(args->iface, value, len + 1);
	return 0;
}

static int
vhu_ethdev_arg_queues(const char *name, const struct vhu_ethdev_arg *arg,
		const char *value, struct vhu_ethdev_args *args)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = value != NULL && value[0] >= '0' && value[0] <= '9' ?
		strtoul(value, &end, 10) : 0;
	if (value == NULL || errno != 0 || n < 1 || n > VHU_MAX_QUEUE_PAIRS ||
	    n > RTE_MAX_QUEUES_PER_PORT || *end != '\0') {
		VHU_ETHDEV_LOG(ERR, "%s: %s=%s: the number of queue pairs must "
			       "be 1..%u", name, arg->key,
			       value != NULL ? value : "",
			       RTE_MIN(VHU_MAX_QUEUE_PAIRS,
				       RTE_MAX_QUEUES_PER_PORT));
		return -EINVAL;
	}
	args->queues = (uint16_t)n;
	return 0;
}

static int
vhu_ethdev_arg_mac(const char *name, const struct vhu_ethdev_arg *arg,
		const char *value, struct vhu_ethdev_args *args)
{
	if (value == NULL || rte_ether_unformat_addr(value, &args->mac) != 0 ||
	    !rte_is_valid_assigned_ether_addr(&args->mac)) {
		VHU_ETHDEV_LOG(ERR, "%s: %s=%s: a unicast, non-zero MAC address "
			       "xx:xx:xx:xx:xx:xx is needed", name, arg->key,
			       value != NULL ? value : "");
		return -EINVAL;
	}
	args->have_mac = true;
	return 0;
}

/* Every 0|1 key: the table's columns say what its value does (a key
 * with none of them is accepted and changes nothing). */
static int
vhu_ethdev_arg_flag(const char *name, const struct vhu_ethdev_arg *arg,
		const char *value, struct vhu_ethdev_args *args)
{
	int v = vhu_ethdev_arg_bool(value);

	if (v < 0) {
		VHU_ETHDEV_LOG(ERR, "%s: %s=%s: must be 0 or 1", name, arg->key,
			       value != NULL ? value : "");
		return -EINVAL;
	}
	if (arg->client)
		args->client = v == 1;
	if (v == 1) {
		args->offloads |= arg->offload;
		args->offloads &= ~arg->offload_off;
		args->features_masked &= ~arg->withhold;
		if (arg->no_effect != NULL)
			VHU_ETHDEV_LOG(WARNING, "%s: %s=1 has no effect: %s",
				       name, arg->key, arg->no_effect);
	} else {
		args->offloads &= ~arg->offload;
		args->offloads |= arg->offload_off;
		args->features_masked |= arg->withhold;
	}
	return 0;
}

static const struct vhu_ethdev_arg vhu_ethdev_arg_table[] = {
	{ .key = "iface", .apply = vhu_ethdev_arg_iface },
	{ .key = "queues", .apply = vhu_ethdev_arg_queues },
	{ .key = "client", .apply = vhu_ethdev_arg_flag, .client = true },
	{ .key = "mac", .apply = vhu_ethdev_arg_mac },
	/* net_vhost: offer HOST_TSO4/6. Guest GSO packets arrive as one
	 * mbuf: RX_LRO + tso_segsz, or with legacy-ol-flags=1 a TSO mbuf
	 * (RTE_MBUF_F_TX_TCP_SEG ...). */
	{ .key = "tso", .apply = vhu_ethdev_arg_flag,
	  .offload = VHU_OFFLOAD_DEQUEUE_TSO },
	/* net_vhost: 1 says a guest's partial checksum with TX offload
	 * flags; 0 (the default), with RX flags (RX_L4_CKSUM_NONE), which
	 * net_vhu completes itself unless the application enabled RX
	 * TCP/UDP checksum offload. */
	{ .key = "legacy-ol-flags", .apply = vhu_ethdev_arg_flag,
	  .offload_off = VHU_OFFLOAD_DEQUEUE_RX_FLAGS },
	/* packed=0: withhold VIRTIO_F_RING_PACKED (offered by default), for
	 * a front-end or a migration peer that must use split rings. */
	{ .key = "packed", .apply = vhu_ethdev_arg_flag,
	  .withhold = 1ULL << VIRTIO_F_RING_PACKED },
	/* net_vhost keys that change nothing here: accepted, explained. */
	{ .key = "iommu-support", .apply = vhu_ethdev_arg_flag,
	  .no_effect =
		"vhu does not offer VIRTIO_F_IOMMU_PLATFORM (no IOTLB)" },
	{ .key = "postcopy-support", .apply = vhu_ethdev_arg_flag,
	  .no_effect =
		"vhu does not offer postcopy live migration (PAGEFAULT)" },
	{ .key = "linear-buffer", .apply = vhu_ethdev_arg_flag,
	  .no_effect =
		"vhu chains mbufs for guest packets larger than one mbuf" },
	{ .key = "ext-buffer", .apply = vhu_ethdev_arg_flag,
	  .no_effect =
		"vhu copies guest packets into the RX queue's mbufs" },
};

static const struct vhu_ethdev_arg *
vhu_ethdev_arg_find(const char *key)
{
	size_t i;

	for (i = 0; i < RTE_DIM(vhu_ethdev_arg_table); i++)
		if (strcmp(vhu_ethdev_arg_table[i].key, key) == 0)
			return &vhu_ethdev_arg_table[i];
	return NULL;
}

int
vhu_ethdev_args_parse(const char *name, const char *devargs,
		struct vhu_ethdev_args *args)
{
	struct rte_kvargs *kv = NULL;
	bool seen[RTE_DIM(vhu_ethdev_arg_table)] = { false };
	unsigned int i;
	int ret = 0;

	memset(args, 0, sizeof(*args));
	args->queues = 1;
	/* Always, as net_vhost (whose tso= is HOST_TSO4/6 only): the guest
	 * may take checksum requests of TX mbufs as partial checksums
	 * (GUEST_CSUM; without it vhu computes them) and TSO mbufs whole,
	 * as one GSO packet (GUEST_TSO4/6). */
	args->offloads = VHU_OFFLOAD_ENQUEUE_CSUM | VHU_OFFLOAD_ENQUEUE_TSO;
	/* A guest's partial checksum is left to the application, said as
	 * legacy-ol-flags= chooses (RX flags by default, as net_vhost). */
	args->offloads |= VHU_OFFLOAD_DEQUEUE_CSUM |
		VHU_OFFLOAD_DEQUEUE_RX_FLAGS;
	if (devargs != NULL && devargs[0] != '\0') {
		/* No key list: we check the keys, and say which one is bad. */
		kv = rte_kvargs_parse(devargs, NULL);
		if (kv == NULL) {
			VHU_ETHDEV_LOG(ERR, "%s: cannot parse devargs '%s' "
				       "(expected key=value,...)", name, devargs);
			return -EINVAL;
		}
	}
	for (i = 0; kv != NULL && i < kv->count; i++) {
		const struct rte_kvargs_pair *p = &kv->pairs[i];
		const struct vhu_ethdev_arg *arg = vhu_ethdev_arg_find(p->key);

		if (arg == NULL) {
			VHU_ETHDEV_LOG(ERR, "%s: unknown devarg '%s' (known: "
				       VHU_ETHDEV_PARAMS ")", name, p->key);
			ret = -EINVAL;
			goto out;
		}
		if (seen[arg - vhu_ethdev_arg_table]) {
			VHU_ETHDEV_LOG(ERR, "%s: devarg '%s' given twice", name,
				       p->key);
			ret = -EINVAL;
			goto out;
		}
		seen[arg - vhu_ethdev_arg_table] = true;
		ret = arg->apply(name, arg, p->value, args);
		if (ret != 0)
			goto out;
	}
	if (args->iface[0] == '\0') {
		VHU_ETHDEV_LOG(ERR, "%s: devarg 'iface=<socket path>' is required",
			       name);
		ret = -EINVAL;
	}
out:
	rte_kvargs_free(kv);
	return ret;
}
