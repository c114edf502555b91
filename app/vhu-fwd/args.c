/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-fwd's own arguments (after "--"). One table: option, whether it
 * takes a value, which modes it is for, and its parser. Every error says
 * which option and why. Checks that need EAL (ports, lcores) are in
 * ports.c and lcores.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

static const char *const mode_names[FWD_MODE_COUNT] = {
	[FWD_MODE_IO] = "io",
	[FWD_MODE_L2] = "l2",
	[FWD_MODE_MACSWAP] = "macswap",
	[FWD_MODE_RXONLY] = "rxonly",
	[FWD_MODE_TXONLY] = "txonly",
};

const char *
fwd_mode_name(enum fwd_mode_id mode)
{
	return mode < FWD_MODE_COUNT ? mode_names[mode] : "?";
}

void
fwd_config_defaults(struct fwd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = FWD_MODE_IO;
	cfg->queues = 1;
	cfg->burst = FWD_DEFAULT_BURST;
	cfg->tx_retries = FWD_DEFAULT_TX_RETRIES;
	cfg->stats_period = 1;
	cfg->mac_aging = FWD_DEFAULT_MAC_AGING;
	cfg->mac_table_size = 8192;
	cfg->txonly_sizes[0] = 64;
	cfg->nb_txonly_sizes = 1;
	cfg->txonly_flows = 1;
	/* A locally administered unicast address nobody has. */
	cfg->txonly_dst = (struct rte_ether_addr){
		.addr_bytes = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x00 } };
}

void
fwd_usage(const char *prgname)
{
	printf(
"Usage: %s [EAL options] -- [options]\n"
"\n"
"Ports: every ethdev EAL created (-a PCI, --vdev net_tap0,...), then\n"
"  --vhost PATH            a net_vhu port listening on PATH (vhost-user server)\n"
"  --vhost-client PATH     a net_vhu port connecting to PATH (reconnects)\n"
"Ports are numbered in that order: EAL's first, then --vhost* as given.\n"
"\n"
"Forwarding:\n"
"  --mode MODE             io (default: port pairs 0<->1, 2<->3, ...), l2 (MAC\n"
"                          learning switch), macswap, rxonly, txonly\n"
"  --queues N              RX and TX queues per port (default 1, max %u)\n"
"  --burst N               packets per burst (default %u, max %u)\n"
"  --mbufs N               mbufs in each pool, one pool per NUMA node in use\n"
"                          (default: from ports and queues)\n"
"  --tx-retries N          retries of a partial transmit before the rest is\n"
"                          dropped and counted (default %u)\n"
"  --lcore-map P:Q@L,...   port P queue Q polled by lcore L; every (port, queue)\n"
"                          once (default: round-robin over the worker lcores)\n"
"l2 mode:\n"
"  --mac-aging S           forget a MAC not seen for S seconds (default %u;\n"
"                          0: never)\n"
"  --mac-table-size N      MAC addresses the table holds (default 8192)\n"
"txonly mode:\n"
"  --txonly-size N[,N...]  frame sizes in bytes without FCS, used in turn\n"
"                          (default 64; %u..%u)\n"
"  --txonly-flows N        UDP flows (source address and port), 1..%u\n"
"  --txonly-rate PPS       packets per second per port (default 0: no limit)\n"
"  --txonly-count N        packets per port, then stop sending (default 0:\n"
"                          no end)\n"
"  --txonly-dst MAC        destination MAC (default 02:00:00:00:00:00)\n"
"Output:\n"
"  --stats-period S        one status line every S seconds (default 1; 0: off)\n"
"  --help                  this text\n"
"\n"
"Example: %s -l 0-1 --no-huge -m 512 --no-pci -- --mode l2 \\\n"
"             --vhost /tmp/vm1.sock --vhost /tmp/vm2.sock\n",
		prgname, FWD_MAX_QUEUES, FWD_DEFAULT_BURST, FWD_MAX_BURST,
		FWD_DEFAULT_TX_RETRIES, FWD_DEFAULT_MAC_AGING, FWD_MIN_FRAME,
		FWD_MAX_FRAME, FWD_MAX_FLOWS, prgname);
}

/* Modes an option applies to. */
#define M(x) (1u << FWD_MODE_ ## x)
#define M_ALL ((1u << FWD_MODE_COUNT) - 1)

struct fwd_opt {
	const char *name;
	bool has_arg;
	bool repeatable;
	unsigned int modes;
	int (*parse)(const struct fwd_opt *opt, const char *val,
		     struct fwd_config *cfg);
};

static int
opt_error(const struct fwd_opt *opt, const char *val, const char *why)
{
	fprintf(stderr, "vhu-fwd: %s%s%s: %s\n", opt->name,
		val != NULL ? " " : "", val != NULL ? val : "", why);
	return -1;
}

/* A whole-string decimal in [min, max]. */
static int
parse_u64(const char *val, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (val == NULL || val[0] < '0' || val[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
opt_range(const struct fwd_opt *opt, const char *val, uint64_t min,
		uint64_t max, uint64_t *out)
{
	char why[96];

	if (parse_u64(val, min, max, out) == 0)
		return 0;
	snprintf(why, sizeof(why), "must be an integer in %llu..%llu",
		 (unsigned long long)min, (unsigned long long)max);
	return opt_error(opt, val, why);
}

static int
parse_mode(const struct fwd_opt *opt, const char *val, struct fwd_config *cfg)
{
	unsigned int i;

	for (i = 0; i < FWD_MODE_COUNT; i++)
		if (strcmp(val, mode_names[i]) == 0) {
			cfg->mode = i;
			return 0;
		}
	return opt_error(opt, val,
			 "unknown mode (io, l2, macswap, rxonly, txonly)");
}

static int
parse_vhost_common(const struct fwd_opt *opt, const char *val,
		struct fwd_config *cfg, bool client)
{
	size_t len = strlen(val);
	unsigned int i;

	if (len == 0 || len > FWD_SOCK_PATH_MAX) {
		char why[96];

		snprintf(why, sizeof(why),
			 "a unix socket path of 1..%u bytes is needed (got %zu)",
			 FWD_SOCK_PATH_MAX, len);
		return opt_error(opt, val, why);
	}
	if (strpbrk(val, ",=") != NULL)
		return opt_error(opt, val, "the path cannot contain ',' or '=' "
				 "(net_vhu devargs separators)");
	if (cfg->nb_vhost >= FWD_MAX_PORTS)
		return opt_error(opt, val, "too many vhost ports");
	for (i = 0; i < cfg->nb_vhost; i++)
		if (strcmp(cfg->vhost[i].path, val) == 0)
			return opt_error(opt, val, "this path is already a port");
	memcpy(cfg->vhost[cfg->nb_vhost].path, val, len + 1);
	cfg->vhost[cfg->nb_vhost].client = client;
	cfg->nb_vhost++;
	return 0;
}

static int
parse_vhost(const struct fwd_opt *opt, const char *val, struct fwd_config *cfg)
{
	return parse_vhost_common(opt, val, cfg, false);
}

static int
parse_vhost_client(const struct fwd_opt *opt, const char *val,
		struct fwd_config *cfg)
{
	return parse_vhost_common(opt, val, cfg, true);
}

static int
parse_queues(const struct fwd_opt *opt, const char *val, struct fwd_config *cfg)
{
	uint64_t v;

	if (opt_range(opt, val, 1, FWD_MAX_QUEUES, &v) != 0)
		return -1;
	cfg->queues = (uint16_t)v;
	return 0;
}

static int
parse_burst(const struct fwd_opt *opt, const char *val, struct fwd_config *cfg)
{
	uint64_t v;

	if (opt_range(opt, val, 1, FWD_MAX_BURST, &v) != 0)
		return -1;
	cfg->burst = (uint16_t)v;
	return 0;
}

static int
parse_mbufs(const struct fwd_opt *opt, const char *val, struct fwd_config *cfg)
{
	uint64_t v;

	if (opt_range(opt, val, 1024, 1u << 24, &v) != 0)
		return -1;
	cfg->mbufs = (uint32_t)v;
	return 0;
}

static int
parse_tx_retries(const struct fwd_opt *opt, const char *val,
		struct fwd_config *cfg)
{
	uint64_t v;

	if (opt_range(opt, val, 0, 1000, &v) != 0)
		return -1;
	cfg->tx_retries = (uint32_t)v;
	return 0;
}

static int
parse_stats_period(const struct fwd_opt *opt, const char *val,
		struct fwd_config *cfg)
{
	uint64_t v;

	if (opt_range(opt, val, 0, 3600, &v) != 0)
		return -1;
	cfg->stats_period = (uint32_t)v;
	return 0;
}

static int
parse_mac_aging(const struct fwd_opt *opt, const char *val,
		struct fwd_config *cfg)
{
	uint64_t v;

	if (opt_range(opt, val, 0, 86400, &v) != 0)
		return -1;
	cfg->mac_aging = (uint32_t)v;
	return 0;
}

static int
parse_mac_table_size(const struct fwd_opt *opt, const char *val,
		struct fwd_config *cfg)
{
	uint64_t v;

	if (opt_range(opt, val, 16, 1u << 20, &v) != 0)
		return -1;
	cfg->mac_table_size = (uint32_t)v;
	return 0;
}

static int
parse_txonly_size(const struct fwd_opt *opt, const char *val,
		struct fwd_config *cfg)
{
	char buf[256], *tok, *save = NULL;
	unsigned int n = 0;

	if (strlen(val) >= sizeof(buf))
		return opt_error(opt, val, "list too long");
	strcpy(buf, val);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		char why[96];

		if (n == FWD_MAX_SIZES) {
			snprintf(why, sizeof(why), "at most %u sizes",
				 FWD_MAX_SIZES);
			return opt_error(opt, val, why);
		}
		/* One mbuf each (the pool's data room). */
		if (parse_u64(tok, FWD_MIN_FRAME, FWD_MAX_FRAME, &v) != 0) {
			snprintf(why, sizeof(why), "'%s' is not a frame size "
				 "in %u..%u bytes", tok, FWD_MIN_FRAME,
				 FWD_MAX_FRAME);
			return opt_error(opt, val, why);
		}
		cfg->txonly_sizes[n++] = (uint16_t)v;
	}
	if (n == 0)
		return opt_error(opt, val, "no size given");
	cfg->nb_txonly_sizes = n;
	return 0;
}

static int
parse_txonly_flows(const struct fwd_opt *opt, const char *val,
		struct fwd_config *cfg)
{
	uint64_t v;

	if (opt_range(opt, val, 1, FWD_MAX_FLOWS, &v) != 0)
		return -1;
	cfg->txonly_flows = (uint32_t)v;
	return 0;
}

static int
parse_txonly_rate(const struct fwd_opt *opt, const char *val,
		struct fwd_config *cfg)
{
	uint64_t v;

	if (opt_range(opt, val, 0, 1000000000ull, &v) != 0)
		return -1;
	cfg->txonly_rate = v;
	return 0;
}

static int
parse_txonly_count(const struct fwd_opt *opt, const char *val,
		struct fwd_config *cfg)
{
	uint64_t v;

	if (opt_range(opt, val, 0, UINT64_MAX / 2, &v) != 0)
		return -1;
	cfg->txonly_count = v;
	return 0;
}

static int
parse_txonly_dst(const struct fwd_opt *opt, const char *val,
		struct fwd_config *cfg)
{
	if (rte_ether_unformat_addr(val, &cfg->txonly_dst) != 0)
		return opt_error(opt, val, "not a MAC address xx:xx:xx:xx:xx:xx");
	return 0;
}

/* "P:Q@L[,P:Q@L...]" */
static int
parse_lcore_map(const struct fwd_opt *opt, const char *val,
		struct fwd_config *cfg)
{
	const char *p = val;

	while (*p != '\0') {
		struct fwd_map_item it;
		unsigned long port, queue, lcore;
		char *end;
		unsigned int i;
		char why[128];

		errno = 0;
		if (*p < '0' || *p > '9')
			goto syntax;
		port = strtoul(p, &end, 10);
		if (*end != ':' || end[1] < '0' || end[1] > '9')
			goto syntax;
		queue = strtoul(end + 1, &end, 10);
		if (*end != '@' || end[1] < '0' || end[1] > '9')
			goto syntax;
		lcore = strtoul(end + 1, &end, 10);
		if (errno != 0 || (*end != ',' && *end != '\0'))
			goto syntax;
		if (port >= FWD_MAX_PORTS || queue >= FWD_MAX_QUEUES ||
		    lcore >= RTE_MAX_LCORE) {
			snprintf(why, sizeof(why), "%lu:%lu@%lu: out of range "
				 "(ports < %u, queues < %u, lcores < %u)",
				 port, queue, lcore, FWD_MAX_PORTS,
				 FWD_MAX_QUEUES, RTE_MAX_LCORE);
			return opt_error(opt, val, why);
		}
		it.port = (uint16_t)port;
		it.queue = (uint16_t)queue;
		it.lcore = (unsigned int)lcore;
		for (i = 0; i < cfg->nb_map; i++)
			if (cfg->map[i].port == it.port &&
			    cfg->map[i].queue == it.queue) {
				snprintf(why, sizeof(why), "port %u queue %u is "
					 "mapped twice (one poller per queue)",
					 it.port, it.queue);
				return opt_error(opt, val, why);
			}
		if (cfg->nb_map == RTE_DIM(cfg->map))
			return opt_error(opt, val, "too many items");
		cfg->map[cfg->nb_map++] = it;
		p = *end == ',' ? end + 1 : end;
		if (*end == ',' && *p == '\0')
			goto syntax;
	}
	if (cfg->nb_map == 0)
		goto syntax;
	return 0;
syntax:
	return opt_error(opt, val, "expected PORT:QUEUE@LCORE[,PORT:QUEUE@LCORE...]");
}

static int
parse_help(const struct fwd_opt *opt, const char *val, struct fwd_config *cfg)
{
	RTE_SET_USED(opt);
	RTE_SET_USED(val);
	cfg->help = true;
	return 0;
}

static const struct fwd_opt fwd_opts[] = {
	{ "--vhost", true, true, M_ALL, parse_vhost },
	{ "--vhost-client", true, true, M_ALL, parse_vhost_client },
	{ "--mode", true, false, M_ALL, parse_mode },
	{ "--queues", true, false, M_ALL, parse_queues },
	{ "--burst", true, false, M_ALL, parse_burst },
	{ "--mbufs", true, false, M_ALL, parse_mbufs },
	{ "--tx-retries", true, false, M_ALL & ~M(RXONLY), parse_tx_retries },
	{ "--lcore-map", true, false, M_ALL, parse_lcore_map },
	{ "--stats-period", true, false, M_ALL, parse_stats_period },
	{ "--mac-aging", true, false, M(L2), parse_mac_aging },
	{ "--mac-table-size", true, false, M(L2), parse_mac_table_size },
	{ "--txonly-size", true, false, M(TXONLY), parse_txonly_size },
	{ "--txonly-flows", true, false, M(TXONLY), parse_txonly_flows },
	{ "--txonly-rate", true, false, M(TXONLY), parse_txonly_rate },
	{ "--txonly-count", true, false, M(TXONLY), parse_txonly_count },
	{ "--txonly-dst", true, false, M(TXONLY), parse_txonly_dst },
	{ "--help", false, false, M_ALL, parse_help },
	{ "-h", false, false, M_ALL, parse_help },
};

int
fwd_args_parse(int argc, char **argv, struct fwd_config *cfg)
{
	bool seen[RTE_DIM(fwd_opts)] = { false };
	int i;
	unsigned int k;

	for (i = 0; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq;
		const struct fwd_opt *opt = NULL;
		size_t nlen;

		eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
		nlen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		for (k = 0; k < RTE_DIM(fwd_opts); k++)
			if (strlen(fwd_opts[k].name) == nlen &&
			    strncmp(fwd_opts[k].name, arg, nlen) == 0) {
				opt = &fwd_opts[k];
				break;
			}
		if (opt == NULL) {
			fprintf(stderr, "vhu-fwd: %s: unknown option "
				"(try -- --help)\n", arg);
			return -1;
		}
		if (seen[k] && !opt->repeatable) {
			fprintf(stderr, "vhu-fwd: %s: given twice\n", opt->name);
			return -1;
		}
		seen[k] = true;
		if (opt->has_arg) {
			if (eq != NULL) {
				val = eq + 1;
			} else if (i + 1 < argc) {
				val = argv[++i];
			} else {
				fprintf(stderr, "vhu-fwd: %s: a value is needed\n",
					opt->name);
				return -1;
			}
		} else if (eq != NULL) {
			fprintf(stderr, "vhu-fwd: %s: takes no value\n",
				opt->name);
			return -1;
		}
		if (opt->parse(opt, val, cfg) != 0)
			return -1;
	}
	if (cfg->help)
		return 0;
	/* Options for another mode would be silently ignored: refuse. */
	for (k = 0; k < RTE_DIM(fwd_opts); k++)
		if (seen[k] && (fwd_opts[k].modes & (1u << cfg->mode)) == 0) {
			fprintf(stderr, "vhu-fwd: %s: has no effect in --mode %s\n",
				fwd_opts[k].name, fwd_mode_name(cfg->mode));
			return -1;
		}
	return 0;
}
