/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: the ethdevs EAL created plus the net_vhu ports of --vhost and
 * --vhost-client (rte_vdev_init with iface=/queues=/client= devargs);
 * their configuration, start, stop and close; and their link state.
 *
 * A port is identified by its index in fwd_ctx.ports (what the user
 * writes in --lcore-map and sees in the live view); .id is its ethdev
 * port id.
 *
 * Link state: ports that raise RTE_ETH_EVENT_INTR_LSC (net_vhu does when
 * its front-end comes and goes) get a callback that only counts the event
 * for main; main re-reads every link every 100 ms anyway and at once
 * after an event, publishes it in fwd_port.up for the workers (which
 * then send nothing to a port that is down) and in l2 mode forgets the
 * MACs learned behind a port that went down. A port that is up and whose
 * NUMA node changed gets its RX queues set up again with that node's
 * mbufs (pools.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "rte_eth_vhu.h"

#include "fwd.h"
#include "fwd_mac.h"

#define FWD_NB_RXD 1024
#define FWD_NB_TXD 1024

static bool
port_is_vhu(const struct fwd_port *p)
{
	return strcmp(p->driver, "net_vhu") == 0;
}

/* Is someone accepting connections on this unix socket? */
static bool
socket_in_use(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return ret == 0;
}

static int
check_vhost_path(const struct fwd_vhost_arg *v)
{
	const char *opt = v->client ? "--vhost-client" : "--vhost";
	char dir[FWD_SOCK_PATH_MAX + 1], *slash;
	struct stat st;

	if (v->client)
		return 0; /* net_vhu connects, and reconnects, when it can */
	strcpy(dir, v->path);
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*(slash == dir ? slash + 1 : slash) = '\0';
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "vhu-fwd: %s %s: directory %s does not "
				"exist\n", opt, v->path, dir);
			return -1;
		}
	}
	if (lstat(v->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "vhu-fwd: %s %s: exists and is not a "
				"socket (not replacing it)\n", opt, v->path);
			return -1;
		}
		if (socket_in_use(v->path)) {
			fprintf(stderr, "vhu-fwd: %s %s: another process is "
				"listening on this socket\n", opt, v->path);
			return -1;
		}
	}
	return 0;
}

int
fwd_ports_check(struct fwd_ctx *ctx)
{
	const struct fwd_config *cfg = &ctx->cfg;
	unsigned int n_eal = rte_eth_dev_count_avail();
	unsigned int total = n_eal + cfg->nb_vhost, i;
	uint16_t pid;

	if (total == 0) {
		fprintf(stderr, "vhu-fwd: no ports: give --vhost PATH, "
			"--vhost-client PATH, or EAL's --vdev/-a\n");
		return -1;
	}
	if (total > FWD_MAX_PORTS) {
		fprintf(stderr, "vhu-fwd: %u ports, at most %u\n", total,
			FWD_MAX_PORTS);
		return -1;
	}
	if (cfg->mode == FWD_MODE_IO && total % 2 != 0) {
		fprintf(stderr, "vhu-fwd: --mode io: needs an even number of "
			"ports (pairs 0<->1, 2<->3, ...), have %u\n", total);
		return -1;
	}
	if (cfg->mode == FWD_MODE_L2 && total < 2) {
		fprintf(stderr, "vhu-fwd: --mode l2: needs at least 2 ports, "
			"have %u\n", total);
		return -1;
	}
	i = 0;
	RTE_ETH_FOREACH_DEV(pid) {
		struct rte_eth_dev_info info;
		char name[RTE_ETH_NAME_MAX_LEN] = "?";
		int ret;

		rte_eth_dev_get_name_by_port(pid, name);
		ret = rte_eth_dev_info_get(pid, &info);
		if (ret != 0) {
			fprintf(stderr, "vhu-fwd: port %u (%s): no device "
				"info: %s\n", i, name, rte_strerror(-ret));
			return -1;
		}
		if (info.max_rx_queues < cfg->queues ||
		    info.max_tx_queues < cfg->queues) {
			fprintf(stderr, "vhu-fwd: --queues %u: port %u (%s) "
				"has at most %u RX and %u TX queues\n",
				cfg->queues, i, name, info.max_rx_queues,
				info.max_tx_queues);
			return -1;
		}
		i++;
	}
	for (i = 0; i < cfg->nb_vhost; i++)
		if (check_vhost_path(&cfg->vhost[i]) != 0)
			return -1;
	return 0;
}

/* Copy what fits (labels are short on purpose). */
static void
copy_trunc(char *dst, size_t size, const char *src)
{
	size_t len = strnlen(src, size - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void
port_fill(struct fwd_port *p, uint16_t id, const char *label)
{
	struct rte_eth_dev_info info;
	const char *base;

	p->id = id;
	rte_eth_dev_get_name_by_port(id, p->name);
	if (rte_eth_dev_info_get(id, &info) == 0 && info.driver_name != NULL)
		copy_trunc(p->driver, sizeof(p->driver), info.driver_name);
	rte_eth_macaddr_get(id, &p->mac);
	if (label != NULL) {
		base = strrchr(label, '/');
		base = base != NULL && base[1] != '\0' ? base + 1 : label;
	} else {
		base = p->name;
	}
	copy_trunc(p->label, sizeof(p->label), base);
}

/* Remove the vdevs we created so far (on a failed start). */
static void
remove_created(struct fwd_ctx *ctx)
{
	uint16_t i;

	for (i = 0; i < ctx->nb_ports; i++) {
		struct fwd_port *p = &ctx->ports[i];

		if (!p->created)
			continue;
		rte_eth_dev_close(p->id);
		rte_vdev_uninit(p->name);
		p->created = false;
	}
}

int
fwd_ports_create(struct fwd_ctx *ctx)
{
	const struct fwd_config *cfg = &ctx->cfg;
	unsigned int i, k = 0;
	uint16_t pid;

	ctx->nb_ports = 0;
	RTE_ETH_FOREACH_DEV(pid)
		port_fill(&ctx->ports[ctx->nb_ports++], pid, NULL);

	for (i = 0; i < cfg->nb_vhost; i++) {
		const struct fwd_vhost_arg *v = &cfg->vhost[i];
		char name[RTE_ETH_NAME_MAX_LEN], args[FWD_SOCK_PATH_MAX + 64];
		int ret;

		/* The first free net_vhuN: EAL may have made some. */
		do {
			snprintf(name, sizeof(name), "net_vhu%u", k++);
		} while (rte_eth_dev_get_port_by_name(name, &pid) == 0);
		snprintf(args, sizeof(args), "iface=%s,queues=%u%s", v->path,
			 cfg->queues, v->client ? ",client=1" : "");
		ret = rte_vdev_init(name, args);
		if (ret == 0 && rte_eth_dev_get_port_by_name(name, &pid) != 0)
			ret = -ENODEV;
		if (ret != 0) {
			fprintf(stderr, "vhu-fwd: %s %s: cannot create the "
				"net_vhu port (%s): %s\n",
				v->client ? "--vhost-client" : "--vhost",
				v->path, args, rte_strerror(-ret));
			remove_created(ctx);
			return -1;
		}
		port_fill(&ctx->ports[ctx->nb_ports], pid, v->path);
		ctx->ports[ctx->nb_ports].created = true;
		ctx->ports[ctx->nb_ports].vhost = v;
		ctx->nb_ports++;
	}
	return 0;
}

static int
lsc_event(uint16_t port_id, enum rte_eth_event_type type, void *arg,
		void *ret_param)
{
	struct fwd_port *p = arg;

	RTE_SET_USED(port_id);
	RTE_SET_USED(type);
	RTE_SET_USED(ret_param);
	/* Any thread (net_vhu's control thread, EAL's interrupt thread):
	 * main does the work. */
	__atomic_fetch_add(&p->lsc_pending, 1, __ATOMIC_RELEASE);
	return 0;
}

static int
queue_event(uint16_t port_id, enum rte_eth_event_type type, void *arg,
		void *ret_param)
{
	struct fwd_port *p = arg;

	RTE_SET_USED(port_id);
	RTE_SET_USED(type);
	RTE_SET_USED(ret_param);
	__atomic_fetch_add(&p->qev_pending, 1, __ATOMIC_RELEASE);
	return 0;
}

static int
port_setup(struct fwd_ctx *ctx, struct fwd_port *p)
{
	const struct fwd_config *cfg = &ctx->cfg;
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_txconf txconf;
	uint16_t nb_rxd = FWD_NB_RXD, nb_txd = FWD_NB_TXD, q;
	int socket = rte_eth_dev_socket_id(p->id), ret;
	struct rte_mempool *rx_pool;

	if (socket < 0)
		socket = (int)rte_socket_id();
	rx_pool = fwd_pool_of_node(ctx, socket);
	if (rx_pool == NULL) /* said why; the main lcore's node then */
		rx_pool = ctx->pool;
	p->rx_node = rx_pool->socket_id;
	p->node_reported = -1;
	ret = rte_eth_dev_info_get(p->id, &info);
	if (ret != 0)
		goto fail_ret;
	memset(&conf, 0, sizeof(conf));
	if (cfg->queues > 1 && info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	}
	/* Guest frames larger than one mbuf arrive chained (net_vhu). */
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	p->lsc = (*info.dev_flags & RTE_ETH_DEV_INTR_LSC) != 0;
	conf.intr_conf.lsc = p->lsc ? 1 : 0;

	ret = rte_eth_dev_configure(p->id, cfg->queues, cfg->queues, &conf);
	if (ret != 0)
		goto fail_ret;
	p->configured = true;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(p->id, &nb_rxd, &nb_txd);
	if (ret != 0)
		goto fail_ret;
	p->nb_rxd = nb_rxd;
	for (q = 0; q < cfg->queues; q++) {
		ret = rte_eth_rx_queue_setup(p->id, q, nb_rxd,
					     (unsigned int)socket, NULL,
					     rx_pool);
		if (ret != 0)
			goto fail_ret;
	}
	txconf = info.default_txconf;
	txconf.offloads = conf.txmode.offloads;
	for (q = 0; q < cfg->queues; q++) {
		ret = rte_eth_tx_queue_setup(p->id, q, nb_txd,
					     (unsigned int)socket, &txconf);
		if (ret != 0)
			goto fail_ret;
	}
	p->nb_rxq = p->nb_txq = cfg->queues;
	/* A switch takes every frame; ports without filters say ENOTSUP. */
	ret = rte_eth_promiscuous_enable(p->id);
	if (ret != 0 && ret != -ENOTSUP)
		printf("vhu-fwd: port %u (%s): promiscuous mode: %s\n",
		       (unsigned int)(p - ctx->ports), p->label,
		       rte_strerror(-ret));
	if (p->lsc)
		rte_eth_dev_callback_register(p->id, RTE_ETH_EVENT_INTR_LSC,
					      lsc_event, p);
	if (port_is_vhu(p))
		rte_eth_dev_callback_register(p->id, RTE_ETH_EVENT_QUEUE_STATE,
					      queue_event, p);
	ret = rte_eth_dev_start(p->id);
	if (ret != 0)
		goto fail_ret;
	p->started = true;
	return 0;
fail_ret:
	fprintf(stderr, "vhu-fwd: port %u (%s): set-up failed: %s\n",
		(unsigned int)(p - ctx->ports), p->name, rte_strerror(-ret));
	return -1;
}

int
fwd_ports_start(struct fwd_ctx *ctx)
{
	uint16_t i;

	for (i = 0; i < ctx->nb_ports; i++) {
		struct fwd_port *p = &ctx->ports[i];
		struct rte_eth_link link;

		if (port_setup(ctx, p) != 0)
			return -1;
		memset(&link, 0, sizeof(link));
		rte_eth_link_get_nowait(p->id, &link);
		p->up = link.link_status == RTE_ETH_LINK_UP;
	}
	return 0;
}

void
fwd_ports_poll_link(struct fwd_ctx *ctx, bool all)
{
	uint16_t i;

	for (i = 0; i < ctx->nb_ports; i++) {
		struct fwd_port *p = &ctx->ports[i];
		uint32_t events = __atomic_exchange_n(&p->lsc_pending, 0,
						      __ATOMIC_ACQUIRE);
		struct rte_eth_link link;
		uint8_t up, was;

		if (!p->started || (!all && events == 0))
			continue;
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(p->id, &link) != 0)
			continue;
		up = link.link_status == RTE_ETH_LINK_UP;
		was = __atomic_load_n(&p->up, __ATOMIC_RELAXED);
		if (up != was) {
			__atomic_store_n(&p->up, up, __ATOMIC_RELAXED);
			__atomic_fetch_add(&p->link_changes, 1, __ATOMIC_RELAXED);
			fwd_say(ctx, "port %u (%s): link %s\n", i, p->label,
				up ? "up" : "down");
		} else if (events >= 2 && port_is_vhu(p) && ctx->mac != NULL) {
			/* Down and up again between two looks: a new
			 * front-end, maybe with other MACs. */
			__atomic_fetch_add(&p->link_changes, 2, __ATOMIC_RELAXED);
			fwd_say(ctx, "port %u (%s): link went down and came "
				"back\n", i, p->label);
			fwd_mac_flush_port(ctx, i);
			fwd_port_follow_node(ctx, i);
			continue;
		}
		if (up != was && !up && ctx->mac != NULL)
			fwd_mac_flush_port(ctx, i);
		if (up)
			fwd_port_follow_node(ctx, i);
	}
}

void
fwd_ports_queue_events(struct fwd_ctx *ctx)
{
	uint16_t i;

	for (i = 0; i < ctx->nb_ports; i++) {
		struct fwd_port *p = &ctx->ports[i];
		struct rte_eth_vhu_queue_event ev;
		char line[256];
		size_t len = 0;

		if (!p->started || !port_is_vhu(p) ||
		    __atomic_exchange_n(&p->qev_pending, 0,
					__ATOMIC_ACQUIRE) == 0)
			continue;
		/* Drain them all; print what fits on one line. */
		while (rte_eth_vhu_get_queue_event(p->id, &ev) == 0) {
			if (len >= sizeof(line) - 32)
				continue;
			len += (size_t)snprintf(line + len, sizeof(line) - len,
					"%s %s%u %s", len == 0 ? "" : ",",
					ev.rx ? "rx" : "tx", ev.queue_id,
					ev.enable ? "on" : "off");
		}
		if (len > 0)
			fwd_say(ctx, "port %u (%s): queues%s\n", i, p->label,
				line);
	}
}

void
fwd_ports_stop(struct fwd_ctx *ctx)
{
	uint16_t i;

	for (i = 0; i < ctx->nb_ports; i++) {
		struct fwd_port *p = &ctx->ports[i];
		int ret;

		if (!p->started)
			continue;
		ret = rte_eth_dev_stop(p->id);
		if (ret != 0)
			fprintf(stderr, "vhu-fwd: port %u (%s): stop: %s\n", i,
				p->label, rte_strerror(-ret));
		p->started = false;
	}
}

void
fwd_ports_close(struct fwd_ctx *ctx)
{
	uint16_t i;

	for (i = 0; i < ctx->nb_ports; i++) {
		struct fwd_port *p = &ctx->ports[i];

		if (p->lsc)
			rte_eth_dev_callback_unregister(p->id,
					RTE_ETH_EVENT_INTR_LSC, lsc_event, p);
		if (port_is_vhu(p))
			rte_eth_dev_callback_unregister(p->id,
					RTE_ETH_EVENT_QUEUE_STATE, queue_event, p);
		/* net_vhu: unregisters the device, its socket file goes. */
		rte_eth_dev_close(p->id);
		if (p->created && rte_vdev_uninit(p->name) != 0)
			fprintf(stderr, "vhu-fwd: port %u (%s): cannot remove "
				"%s\n", i, p->label, p->name);
		p->created = false;
		__atomic_store_n(&p->up, 0, __ATOMIC_RELAXED);
	}
}
