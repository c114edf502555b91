/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-fwd: start-up, the main lcore's loop, shutdown.
 *
 *   vhu-fwd [EAL options] -- [vhu-fwd options]      (vhu-fwd -- --help)
 *
 * Start-up checks everything it can before it creates anything: the
 * application's arguments before EAL even starts, then ports and lcores
 * against EAL, and only then creates the vhost-user ports (sockets), the
 * mempool, the workers and the MAC table, and starts the ports. A bad
 * argument ends it with a message naming the option and exit code 2;
 * a failure to create something, with exit code 1 and nothing left.
 *
 * The main lcore does not forward: it applies MAC learning requests,
 * follows link state, prints the live view, and sleeps 1 ms per round.
 * SIGINT/SIGTERM: workers stop, ports stop, final counters, ports close
 * (net_vhu removes its sockets), EAL cleans up, exit code 0.
 */
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "fwd.h"
#include "fwd_mac.h"

#define MAIN_TICK_US 1000

static struct fwd_ctx fwd;

static void
usage_hook(const char *prgname)
{
	fwd_usage(prgname);
}

/* Does the EAL command line already say what to do with hugepages? */
static bool
eal_has_huge_policy(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--no-huge") == 0 ||
		    strcmp(argv[i], "--in-memory") == 0 ||
		    strncmp(argv[i], "--huge-unlink", 13) == 0)
			return true;
	return false;
}

static void
print_banner(const struct fwd_ctx *ctx)
{
	const struct fwd_config *cfg = &ctx->cfg;
	const char *rundir = rte_eal_get_runtime_dir();
	const char *prefix = strrchr(rundir, '/');
	uint16_t p;

	printf("vhu-fwd: mode %s, %u port%s, %u queue%s per port, burst %u, "
	       "%u mbufs per pool\n", fwd_mode_name(cfg->mode), ctx->nb_ports,
	       ctx->nb_ports > 1 ? "s" : "", cfg->queues,
	       cfg->queues > 1 ? "s" : "", cfg->burst,
	       ctx->pool_size);
	for (p = 0; p < ctx->nb_ports; p++) {
		const struct fwd_port *port = &ctx->ports[p];
		char mac[RTE_ETHER_ADDR_FMT_SIZE];

		rte_ether_format_addr(mac, sizeof(mac), &port->mac);
		printf("  port %u: %-16s %-10s %s", p, port->label,
		       port->driver, mac);
		if (port->vhost != NULL)
			printf(" vhost-user %s %s", port->vhost->client ?
			       "client of" : "server on", port->vhost->path);
		printf(", link %s\n", fwd_port_up(ctx, p) ? "up" : "down");
	}
	fwd_lcores_print(ctx);
	if (cfg->mode == FWD_MODE_L2)
		printf("  MAC table: %u entries, aging %u s%s\n",
		       cfg->mac_table_size, cfg->mac_aging,
		       cfg->mac_aging == 0 ? " (never)" : "");
	printf("vhu-fwd: forwarding. Telemetry: dpdk-telemetry.py -f %s "
	       "(/vhu/stats, /vhu/port,N, ...). Ctrl-C stops.\n",
	       prefix != NULL ? prefix + 1 : rundir);
	fflush(stdout);
}

static void
main_loop(struct fwd_ctx *ctx)
{
	const uint64_t hz = ctx->hz;
	uint64_t now = rte_get_timer_cycles();
	uint64_t next_link = now + hz / 10, next_sample = now + hz;
	uint64_t next_line = now + (uint64_t)ctx->cfg.stats_period * hz;

	ctx->sample_tsc = ctx->line_tsc = now;
	while (fwd_signals_quit() == 0) {
		now = rte_get_timer_cycles();
		if (ctx->mac != NULL)
			fwd_mac_service(ctx, now);
		/* Ports with an event now; every port every 100 ms. */
		fwd_ports_poll_link(ctx, now >= next_link);
		if (now >= next_link)
			next_link = now + hz / 10;
		fwd_ports_queue_events(ctx);
		if (now >= next_sample) {
			fwd_stats_sample(ctx, now);
			next_sample += hz;
		}
		if (ctx->cfg.stats_period != 0 && now >= next_line) {
			fwd_stats_line(ctx, now);
			next_line += (uint64_t)ctx->cfg.stats_period * hz;
		}
		usleep(MAIN_TICK_US);
	}
}

/*
 * EAL leaves its runtime directory (/var/run/dpdk/PREFIX: config and
 * fbarray files, megabytes of tmpfs with --no-huge) after a clean exit;
 * it exists for secondary processes, which vhu-fwd does not support.
 * Remove it after rte_eal_cleanup().
 */
static void
remove_runtime_dir(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if (dir == NULL || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX];

		if (de->d_type != DT_REG && de->d_type != DT_SOCK)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) <
		    (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void
eal_finish(char *rundir)
{
	rte_eal_cleanup();
	remove_runtime_dir(rundir);
	free(rundir);
}

/* Undo everything start-up did, in reverse. */
static void
teardown(struct fwd_ctx *ctx, bool report)
{
	if (__atomic_load_n(&ctx->running, __ATOMIC_RELAXED)) {
		__atomic_store_n(&ctx->running, 0, __ATOMIC_RELEASE);
		rte_eal_mp_wait_lcore();
	}
	pthread_mutex_lock(&ctx->lock);
	ctx->published = false;
	pthread_mutex_unlock(&ctx->lock);
	fwd_ports_stop(ctx);
	if (report)
		fwd_stats_final(ctx, rte_get_timer_cycles());
	fwd_ports_close(ctx);
	fwd_mac_free(ctx);
	fwd_lcores_free(ctx);
	fwd_pools_free(ctx);
}

int
main(int argc, char **argv)
{
	struct fwd_ctx *ctx = &fwd;
	char *eal_argv[argc + 2];
	int dd, eal_argc, n, ret, i;
	char *rundir;
	unsigned int lcore, nb_ports;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (dd = 1; dd < argc; dd++)
		if (strcmp(argv[dd], "--") == 0)
			break;
	eal_argc = dd;

	/* The application's arguments first: nothing starts if they are
	 * wrong. */
	fwd_config_defaults(&ctx->cfg);
	if (fwd_args_parse(dd < argc ? argc - dd - 1 : 0, argv + dd + 1,
			   &ctx->cfg) != 0)
		return 2;
	if (ctx->cfg.help) {
		fwd_usage(argv[0]);
		return 0;
	}

	/* vhu-fwd runs no secondary process, so hugepage files are
	 * unlinked once mapped: none is left behind, even after a crash. */
	for (n = 0; n < eal_argc; n++)
		eal_argv[n] = argv[n];
	if (!eal_has_huge_policy(eal_argc, argv))
		eal_argv[n++] = (char *)(uintptr_t)"--huge-unlink";
	eal_argv[n] = NULL;
	rte_set_application_usage_hook(usage_hook);
	ret = rte_eal_init(n, eal_argv);
	if (ret < 0) {
		fprintf(stderr, "vhu-fwd: EAL initialisation failed: %s "
			"(EAL options go before '--'; vhu-fwd's after it)\n",
			rte_strerror(rte_errno));
		return 2;
	}
	if (ret + 1 < n) {
		fprintf(stderr, "vhu-fwd: %s: not an EAL option (vhu-fwd's "
			"options go after '--')\n", eal_argv[ret + 1]);
		eal_finish(strdup(rte_eal_get_runtime_dir()));
		return 2;
	}
	rundir = strdup(rte_eal_get_runtime_dir());
	fwd_signals_install();
	ctx->hz = rte_get_timer_hz();
	ctx->start_tsc = rte_get_timer_cycles();
	pthread_mutex_init(&ctx->lock, NULL);

	nb_ports = rte_eth_dev_count_avail() + ctx->cfg.nb_vhost;
	if (fwd_ports_check(ctx) != 0 || fwd_lcores_check(ctx, nb_ports) != 0) {
		eal_finish(rundir);
		return 2;
	}
	if (fwd_ports_create(ctx) != 0) {
		eal_finish(rundir);
		return 1;
	}
	if (fwd_pools_create(ctx) != 0 || fwd_lcores_assign(ctx) != 0 ||
	    (ctx->cfg.mode == FWD_MODE_L2 && fwd_mac_create(ctx) != 0) ||
	    fwd_ports_start(ctx) != 0 || fwd_telemetry_register(ctx) != 0) {
		teardown(ctx, false);
		eal_finish(rundir);
		return 1;
	}
	print_banner(ctx);

	__atomic_store_n(&ctx->running, 1, __ATOMIC_RELEASE);
	for (i = 0; i < (int)ctx->nb_workers; i++) {
		lcore = ctx->workers[i]->lcore;
		ret = rte_eal_remote_launch(fwd_worker_main, ctx->workers[i],
					    lcore);
		if (ret != 0) {
			fprintf(stderr, "vhu-fwd: cannot start lcore %u: %s\n",
				lcore, rte_strerror(-ret));
			teardown(ctx, false);
			eal_finish(rundir);
			return 1;
		}
	}
	pthread_mutex_lock(&ctx->lock);
	ctx->published = true;
	pthread_mutex_unlock(&ctx->lock);

	main_loop(ctx);

	fwd_say(ctx, "%s: stopping\n",
		fwd_signals_quit() == SIGINT ? "SIGINT" : "SIGTERM");
	teardown(ctx, true);
	eal_finish(rundir);
	printf("vhu-fwd: stopped\n");
	return 0;
}
