/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands (dpdk-telemetry.py -f FILE_PREFIX):
 *   /vhu/info          mode, burst, queues, ports, workers, uptime, ...
 *   /vhu/ports         the port numbers
 *   /vhu/port,N        one port: name, link, counters, rates
 *   /vhu/stats         every port, as /vhu/port,N under "portN"
 *   /vhu/lcores        which lcore polls which "port:queue"
 *   /vhu/mac_table     l2: counters, and the MACs with their port and age
 *                      (parallel arrays macs/ports/ages, at most 512)
 *
 * They run on the telemetry thread. They read counters with relaxed
 * atomic loads and everything else under fwd_ctx.lock, and answer only
 * while main has the forwarder published (not during start or shutdown).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "fwd.h"
#include "fwd_mac.h"

static struct fwd_ctx *tel_ctx;

/* Lock ctx and check it is published. @return ctx, or NULL. */
static struct fwd_ctx *
tel_enter(void)
{
	struct fwd_ctx *ctx = tel_ctx;

	if (ctx == NULL)
		return NULL;
	pthread_mutex_lock(&ctx->lock);
	if (!ctx->published) {
		pthread_mutex_unlock(&ctx->lock);
		return NULL;
	}
	return ctx;
}

static void
tel_leave(struct fwd_ctx *ctx)
{
	pthread_mutex_unlock(&ctx->lock);
}

static int
tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct fwd_ctx *ctx = tel_enter();
	const struct fwd_config *cfg;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (ctx == NULL)
		return -EAGAIN;
	cfg = &ctx->cfg;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "mode", fwd_mode_name(cfg->mode));
	rte_tel_data_add_dict_u64(d, "ports", ctx->nb_ports);
	rte_tel_data_add_dict_u64(d, "queues", cfg->queues);
	rte_tel_data_add_dict_u64(d, "burst", cfg->burst);
	rte_tel_data_add_dict_u64(d, "tx_retries", cfg->tx_retries);
	rte_tel_data_add_dict_u64(d, "workers", ctx->nb_workers);
	rte_tel_data_add_dict_u64(d, "mbufs", fwd_pools_mbufs(ctx, false));
	rte_tel_data_add_dict_u64(d, "mbufs_in_use", fwd_pools_mbufs(ctx, true));
	rte_tel_data_add_dict_u64(d, "stats_period", cfg->stats_period);
	if (cfg->mode == FWD_MODE_L2)
		rte_tel_data_add_dict_u64(d, "mac_aging", cfg->mac_aging);
	rte_tel_data_add_dict_u64(d, "uptime_s",
			(rte_get_timer_cycles() - ctx->start_tsc) / ctx->hz);
	rte_tel_data_add_dict_u64(d, "pid", (uint64_t)getpid());
	tel_leave(ctx);
	return 0;
}

static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct fwd_ctx *ctx = tel_enter();
	uint16_t p;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (ctx == NULL)
		return -EAGAIN;
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	for (p = 0; p < ctx->nb_ports; p++)
		rte_tel_data_add_array_int(d, p);
	tel_leave(ctx);
	return 0;
}

/* One port's dict (ctx locked). */
static void
tel_port_dict(struct fwd_ctx *ctx, uint16_t p, struct rte_tel_data *d)
{
	const struct fwd_port *port = &ctx->ports[p];
	const struct fwd_rates *r = &ctx->rates[p];
	struct fwd_counters c;
	struct rte_eth_stats st;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];

	fwd_stats_port(ctx, p, &c);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "port", p);
	rte_tel_data_add_dict_u64(d, "ethdev_port", port->id);
	rte_tel_data_add_dict_string(d, "name", port->name);
	rte_tel_data_add_dict_string(d, "label", port->label);
	rte_tel_data_add_dict_string(d, "driver", port->driver);
	rte_ether_format_addr(mac, sizeof(mac), &port->mac);
	rte_tel_data_add_dict_string(d, "mac", mac);
	rte_tel_data_add_dict_string(d, "link",
				     fwd_port_up(ctx, p) ? "up" : "down");
	rte_tel_data_add_dict_u64(d, "link_changes",
		__atomic_load_n(&port->link_changes, __ATOMIC_RELAXED));
	/* The port's node, and the node of the mbufs its RX queues take
	 * (they follow the port's once it is up: pools.c). */
	rte_tel_data_add_dict_int(d, "numa_node", rte_eth_dev_socket_id(port->id));
	rte_tel_data_add_dict_int(d, "rx_mbufs_node",
		__atomic_load_n(&port->rx_node, __ATOMIC_RELAXED));
	rte_tel_data_add_dict_u64(d, "rx_packets", c.rx_packets);
	rte_tel_data_add_dict_u64(d, "rx_bytes", c.rx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_packets", c.tx_packets);
	rte_tel_data_add_dict_u64(d, "tx_bytes", c.tx_bytes);
	rte_tel_data_add_dict_u64(d, "drop_full", c.drop_full);
	rte_tel_data_add_dict_u64(d, "drop_down", c.drop_down);
	rte_tel_data_add_dict_u64(d, "drop_nombuf", c.drop_nombuf);
	rte_tel_data_add_dict_u64(d, "drop_runt", c.drop_invalid);
	rte_tel_data_add_dict_u64(d, "flooded", c.flooded);
	rte_tel_data_add_dict_u64(d, "filtered", c.filtered);
	if (rte_eth_stats_get(port->id, &st) == 0) {
		rte_tel_data_add_dict_u64(d, "dev_imissed", st.imissed);
		rte_tel_data_add_dict_u64(d, "dev_rx_nombuf", st.rx_nombuf);
		rte_tel_data_add_dict_u64(d, "dev_ierrors", st.ierrors);
		rte_tel_data_add_dict_u64(d, "dev_oerrors", st.oerrors);
	}
	rte_tel_data_add_dict_u64(d, "rx_pps", r->rx_pps);
	rte_tel_data_add_dict_u64(d, "tx_pps", r->tx_pps);
	rte_tel_data_add_dict_u64(d, "rx_bps", r->rx_bps);
	rte_tel_data_add_dict_u64(d, "tx_bps", r->tx_bps);
}

static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct fwd_ctx *ctx;
	unsigned long p;
	char *end;

	RTE_SET_USED(cmd);
	if (params == NULL || params[0] < '0' || params[0] > '9')
		return -EINVAL;
	p = strtoul(params, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	ctx = tel_enter();
	if (ctx == NULL)
		return -EAGAIN;
	if (p >= ctx->nb_ports) {
		tel_leave(ctx);
		return -EINVAL;
	}
	tel_port_dict(ctx, (uint16_t)p, d);
	tel_leave(ctx);
	return 0;
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct fwd_ctx *ctx = tel_enter();
	uint16_t p;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (ctx == NULL)
		return -EAGAIN;
	rte_tel_data_start_dict(d);
	for (p = 0; p < ctx->nb_ports; p++) {
		struct rte_tel_data *pd = rte_tel_data_alloc();
		char name[16];

		if (pd == NULL)
			break;
		tel_port_dict(ctx, p, pd);
		snprintf(name, sizeof(name), "port%u", p);
		if (rte_tel_data_add_dict_container(d, name, pd, 0) != 0)
			rte_tel_data_free(pd);
	}
	tel_leave(ctx);
	return 0;
}

static int
tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct fwd_ctx *ctx = tel_enter();
	unsigned int i, k;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (ctx == NULL)
		return -EAGAIN;
	rte_tel_data_start_dict(d);
	for (i = 0; i < ctx->nb_workers; i++) {
		const struct fwd_worker *w = ctx->workers[i];
		struct rte_tel_data *a = rte_tel_data_alloc();
		char name[16];

		if (a == NULL)
			break;
		rte_tel_data_start_array(a, RTE_TEL_STRING_VAL);
		for (k = 0; k < w->nb_tasks; k++) {
			char s[32];

			snprintf(s, sizeof(s), "%u:%u", w->tasks[k].port,
				 w->tasks[k].queue);
			rte_tel_data_add_array_string(a, s);
		}
		snprintf(name, sizeof(name), "lcore%u", w->lcore);
		if (rte_tel_data_add_dict_container(d, name, a, 0) != 0)
			rte_tel_data_free(a);
	}
	tel_leave(ctx);
	return 0;
}

static int
tel_mac_table(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct fwd_ctx *ctx = tel_enter();
	struct rte_tel_data *macs = NULL, *ports = NULL, *ages = NULL;
	const struct fwd_mac_table *t;
	uint64_t now = rte_get_timer_cycles();
	uint32_t id, n = 0;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	if (ctx == NULL)
		return -EAGAIN;
	t = ctx->mac;
	if (t == NULL) {
		tel_leave(ctx);
		return -ENOTSUP; /* not in l2 mode */
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "entries", t->nb_entries);
	rte_tel_data_add_dict_u64(d, "capacity", t->capacity);
	rte_tel_data_add_dict_u64(d, "learned", t->learned);
	rte_tel_data_add_dict_u64(d, "moved", t->moved);
	rte_tel_data_add_dict_u64(d, "aged", t->aged);
	rte_tel_data_add_dict_u64(d, "flushed", t->flushed);
	rte_tel_data_add_dict_u64(d, "table_full", t->full);
	rte_tel_data_add_dict_u64(d, "requests_lost",
				  fwd_mac_learn_dropped(ctx));
	macs = rte_tel_data_alloc();
	ports = rte_tel_data_alloc();
	ages = rte_tel_data_alloc();
	if (macs == NULL || ports == NULL || ages == NULL)
		goto out;
	rte_tel_data_start_array(macs, RTE_TEL_STRING_VAL);
	rte_tel_data_start_array(ports, RTE_TEL_INT_VAL);
	rte_tel_data_start_array(ages, RTE_TEL_INT_VAL);
	for (id = 0; id < t->capacity && n < RTE_TEL_MAX_ARRAY_ENTRIES; id++) {
		const struct fwd_mac_entry *e = &t->entries[id];
		struct rte_ether_addr a;
		char s[RTE_ETHER_ADDR_FMT_SIZE];
		uint64_t seen;

		if (!e->in_use)
			continue;
		fwd_mac_from_key(e->key, &a);
		rte_ether_format_addr(s, sizeof(s), &a);
		seen = __atomic_load_n(&e->last_seen, __ATOMIC_RELAXED);
		rte_tel_data_add_array_string(macs, s);
		rte_tel_data_add_array_int(ports,
			__atomic_load_n(&e->port, __ATOMIC_RELAXED));
		rte_tel_data_add_array_int(ages, now > seen ?
			(int)((now - seen) / ctx->hz) : 0);
		n++;
	}
	if (rte_tel_data_add_dict_container(d, "macs", macs, 0) == 0)
		macs = NULL;
	if (rte_tel_data_add_dict_container(d, "ports", ports, 0) == 0)
		ports = NULL;
	if (rte_tel_data_add_dict_container(d, "ages", ages, 0) == 0)
		ages = NULL;
out:
	rte_tel_data_free(macs);
	rte_tel_data_free(ports);
	rte_tel_data_free(ages);
	tel_leave(ctx);
	return 0;
}

int
fwd_telemetry_register(struct fwd_ctx *ctx)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/vhu/info", tel_info,
		  "vhu-fwd: mode, ports, queues, burst, workers. No parameters" },
		{ "/vhu/ports", tel_ports,
		  "vhu-fwd: the port numbers. No parameters" },
		{ "/vhu/port", tel_port,
		  "vhu-fwd: one port's link, counters and rates. Parameter: port" },
		{ "/vhu/stats", tel_stats,
		  "vhu-fwd: every port's link, counters and rates. No parameters" },
		{ "/vhu/lcores", tel_lcores,
		  "vhu-fwd: the port:queue pairs each lcore polls. No parameters" },
		{ "/vhu/mac_table", tel_mac_table,
		  "vhu-fwd: l2 MAC table: counters, MACs, ports, ages. No parameters" },
	};
	unsigned int i;

	tel_ctx = ctx;
	for (i = 0; i < RTE_DIM(cmds); i++) {
		int ret = rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn,
						     cmds[i].help);

		if (ret != 0) {
			fprintf(stderr, "vhu-fwd: telemetry command %s: %s\n",
				cmds[i].cmd, strerror(-ret));
			return -1;
		}
	}
	return 0;
}
