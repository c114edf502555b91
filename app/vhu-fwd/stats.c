/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counters, rates, the live view and the final report.
 *
 * Every worker counts per port in its own struct fwd_counters; a port's
 * counters are the sum over workers. Main samples them once a second for
 * the rates telemetry reports, and prints one status line per
 * --stats-period with the rates over that period:
 *
 *   [  12.0s] 0:vm1.sock up rx 1.52Mpps 778.2Mb/s tx 0pps 0b/s drop 0 | 1:...
 *
 * Bits are frame bits (what the ports count: no preamble, FCS or gap).
 * "drop" is what was lost at that port during the period: frames it could
 * not take (TX retries exhausted, link down), mbufs that could not be had
 * for it, runts it received, and what the device itself counted as lost
 * (ethdev imissed, rx_nombuf, ierrors, oerrors: e.g. net_vhu's frames too
 * big for the guest's buffers, which it took and dropped).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "fwd.h"
#include "fwd_mac.h"

void
fwd_stats_port(const struct fwd_ctx *ctx, uint16_t port,
		struct fwd_counters *sum)
{
	unsigned int i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < ctx->nb_workers; i++) {
		const struct fwd_counters *c = &ctx->workers[i]->ctr[port];

#define ADD(f) (sum->f += __atomic_load_n(&c->f, __ATOMIC_RELAXED))
		ADD(rx_packets);
		ADD(rx_bytes);
		ADD(tx_packets);
		ADD(tx_bytes);
		ADD(drop_full);
		ADD(drop_down);
		ADD(drop_nombuf);
		ADD(flooded);
		ADD(filtered);
		ADD(drop_invalid);
#undef ADD
	}
}

double
fwd_uptime(const struct fwd_ctx *ctx, uint64_t now)
{
	return (double)(now - ctx->start_tsc) / (double)ctx->hz;
}

void
fwd_say(const struct fwd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	printf("[%7.1fs] ", fwd_uptime(ctx, rte_get_timer_cycles()));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* Losses of a port as the device counts them. */
static uint64_t
dev_drops(const struct fwd_port *p)
{
	struct rte_eth_stats st;

	if (rte_eth_stats_get(p->id, &st) != 0)
		return 0;
	return st.imissed + st.rx_nombuf + st.ierrors + st.oerrors;
}

static uint64_t
our_drops(const struct fwd_counters *c)
{
	return c->drop_full + c->drop_down + c->drop_nombuf + c->drop_invalid;
}

static uint64_t
per_second(uint64_t delta, uint64_t cycles, uint64_t hz)
{
	if (cycles == 0)
		return 0;
	return (uint64_t)((double)delta * (double)hz / (double)cycles);
}

void
fwd_stats_sample(struct fwd_ctx *ctx, uint64_t now)
{
	struct fwd_rates rates[FWD_MAX_PORTS];
	uint64_t dt = now - ctx->sample_tsc;
	uint16_t p;

	for (p = 0; p < ctx->nb_ports; p++) {
		struct fwd_counters c, *b = &ctx->sample_base[p];

		fwd_stats_port(ctx, p, &c);
		rates[p].rx_pps = per_second(c.rx_packets - b->rx_packets, dt,
					     ctx->hz);
		rates[p].tx_pps = per_second(c.tx_packets - b->tx_packets, dt,
					     ctx->hz);
		rates[p].rx_bps = 8 * per_second(c.rx_bytes - b->rx_bytes, dt,
						 ctx->hz);
		rates[p].tx_bps = 8 * per_second(c.tx_bytes - b->tx_bytes, dt,
						 ctx->hz);
		*b = c;
	}
	ctx->sample_tsc = now;
	pthread_mutex_lock(&ctx->lock);
	memcpy(ctx->rates, rates, sizeof(rates[0]) * ctx->nb_ports);
	pthread_mutex_unlock(&ctx->lock);
}

/* 1234567 → "1.23M"; 950 → "950"; with the unit after. */
static const char *
si(char *buf, size_t len, double v, const char *unit)
{
	if (v >= 1e9)
		snprintf(buf, len, "%.2fG%s", v / 1e9, unit);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fM%s", v / 1e6, unit);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fk%s", v / 1e3, unit);
	else
		snprintf(buf, len, "%.0f%s", v, unit);
	return buf;
}

void
fwd_stats_line(struct fwd_ctx *ctx, uint64_t now)
{
	double secs = (double)(now - ctx->line_tsc) / (double)ctx->hz;
	char line[4096], a[32], b[32], c2[32], d[32];
	size_t len = 0;
	uint16_t p;

	if (secs <= 0)
		return;
	for (p = 0; p < ctx->nb_ports; p++) {
		const struct fwd_port *port = &ctx->ports[p];
		struct fwd_counters c, *base = &ctx->line_base[p];
		uint64_t drops, devd = dev_drops(port);

		fwd_stats_port(ctx, p, &c);
		drops = our_drops(&c) - our_drops(base) +
			(devd - ctx->line_drops_base[p]);
		if (len < sizeof(line))
			len += (size_t)snprintf(line + len, sizeof(line) - len,
				"%s%u:%s %s rx %s %s tx %s %s drop %" PRIu64,
				p > 0 ? " | " : "", p, port->label,
				fwd_port_up(ctx, p) ? "up" : "down",
				si(a, sizeof(a), (double)(c.rx_packets -
					base->rx_packets) / secs, "pps"),
				si(b, sizeof(b), 8.0 * (double)(c.rx_bytes -
					base->rx_bytes) / secs, "b/s"),
				si(c2, sizeof(c2), (double)(c.tx_packets -
					base->tx_packets) / secs, "pps"),
				si(d, sizeof(d), 8.0 * (double)(c.tx_bytes -
					base->tx_bytes) / secs, "b/s"),
				drops);
		*base = c;
		ctx->line_drops_base[p] = devd;
	}
	ctx->line_tsc = now;
	fwd_say(ctx, "%s\n", line);
}

void
fwd_stats_final(const struct fwd_ctx *ctx, uint64_t now)
{
	uint16_t p;

	printf("vhu-fwd: final counters after %.1f s (mode %s)\n",
	       fwd_uptime(ctx, now), fwd_mode_name(ctx->cfg.mode));
	printf("%4s %-16s %4s %12s %14s %12s %14s %10s %10s %10s %10s %10s "
	       "%10s %10s\n", "port", "name", "link", "rx-packets", "rx-bytes",
	       "tx-packets", "tx-bytes", "drop-full", "drop-down",
	       "drop-nombuf", "drop-runt", "flooded", "filtered", "dev-drops");
	for (p = 0; p < ctx->nb_ports; p++) {
		const struct fwd_port *port = &ctx->ports[p];
		struct fwd_counters c;

		fwd_stats_port(ctx, p, &c);
		printf("%4u %-16s %4s %12" PRIu64 " %14" PRIu64 " %12" PRIu64
		       " %14" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
		       " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
		       "\n", p, port->label, fwd_port_up(ctx, p) ? "up" : "down",
		       c.rx_packets, c.rx_bytes, c.tx_packets, c.tx_bytes,
		       c.drop_full, c.drop_down, c.drop_nombuf, c.drop_invalid,
		       c.flooded, c.filtered, dev_drops(port));
	}
	if (ctx->mac != NULL) {
		const struct fwd_mac_table *t = ctx->mac;

		printf("mac table: %u entries; learned %" PRIu64 ", moved %"
		       PRIu64 ", aged %" PRIu64 ", flushed %" PRIu64
		       ", table full %" PRIu64 ", requests lost %" PRIu64 "\n",
		       t->nb_entries, t->learned, t->moved, t->aged,
		       t->flushed, t->full, fwd_mac_learn_dropped(ctx));
	}
	fflush(stdout);
}
