/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhu-fe: command-line vhost-user front-end for shell tests. Connects (or
 * listens), negotiates, sends test frames and/or receives and verifies
 * frames, then prints machine-readable results (key=value lines) on
 * stdout. Exit status: 0 ok, 1 protocol error / timeout / peer gone,
 * 2 usage, 3 received frames failed verification.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "vhu_fe.h"

#define RX_BURST 256u
#define IDLE_SLEEP_NS 50000L
#define MAX_BAD_REPORTS 5

struct opts {
	struct vhu_fe_config cfg;
	uint64_t tx_count;
	uint64_t rx_count;
	bool rx_until_close;
	bool rx;
	size_t size_min, size_max;
	double timeout_s;
	bool pattern;
	bool stop;
	bool verbose;
	uint64_t reconnects;  /* sessions after the first */
	uint64_t mem_churn;   /* memory-table changes during the traffic */
};

/* The region --mem-churn adds and removes: never used for buffers. */
struct churn {
	struct vhu_fe_region extra;
	uint64_t done;       /* this session */
	uint64_t total;      /* all sessions */
	bool added;
	unsigned int polls;
};

struct rx_ctx {
	bool pattern;
	uint64_t bad;
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: vhu-fe --path SOCK [options]\n"
"  --listen              listen on SOCK (back-end in client mode)\n"
"  --queues N            queue pairs (default 1)\n"
"  --queue-size N        ring size, power of two unless --packed (default 256)\n"
"  --packed              packed virtqueues (VIRTIO_F_RING_PACKED)\n"
"  --mrg-rxbuf 0|1       negotiate VIRTIO_NET_F_MRG_RXBUF (default 1)\n"
"  --features HEX        wanted virtio features (replaces the default)\n"
"  --protocol-features HEX  wanted protocol features\n"
"  --tx COUNT            send COUNT frames, wait until all are used\n"
"  --size N[-M]          frame size, or a range (default 64)\n"
"  --tx-layout L         one|hdr|chain|indirect (default one)\n"
"  --tx-segs N           frame pieces for chain/indirect (default 4)\n"
"  --rx COUNT            receive COUNT frames\n"
"  --rx-until-close      receive until the back-end closes the socket\n"
"  --rx-layout L         one|hdr (default one)\n"
"  --rx-buf-size N       RX buffer bytes incl. header (default 2048)\n"
"  --pattern             received frames must be vhu-fe test frames\n"
"  --regions N           guest memory regions 1..8 (default 1)\n"
"  --region-size N       bytes per region (default: what is needed)\n"
"  --shared-fd           all regions in one memfd at non-zero offsets\n"
"  --hugetlb             back guest memory with huge pages\n"
"  --mem-add-reg         ADD_MEM_REG instead of SET_MEM_TABLE if possible\n"
"  --no-kick-inject      no kick after SET_VRING_KICK\n"
"  --no-stop             skip GET_VRING_BASE on the rings at the end\n"
"  --reconnects N        after the first session, N more: disconnect,\n"
"                        connect, set up, the same traffic again\n"
"  --mem-churn N         N memory-table changes during the traffic\n"
"                        (SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG in turn)\n"
"  --timeout S           deadline in seconds, per session (default 30)\n"
"  --verbose             progress on stderr every second\n");
}

static bool
parse_u64(const char *s, uint64_t *v, int base)
{
	char *end;

	errno = 0;
	unsigned long long x = strtoull(s, &end, base);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		return false;
	*v = x;
	return true;
}

static bool
parse_size(const char *s, struct opts *o)
{
	char lo[32];
	const char *dash = strchr(s, '-');
	uint64_t a, b;

	if (dash == NULL) {
		if (!parse_u64(s, &a, 10))
			return false;
		b = a;
	} else {
		size_t n = (size_t)(dash - s);
		if (n == 0 || n >= sizeof(lo))
			return false;
		memcpy(lo, s, n);
		lo[n] = '\0';
		if (!parse_u64(lo, &a, 10) || !parse_u64(dash + 1, &b, 10))
			return false;
	}
	if (a < VHU_FE_FRAME_MIN || b > VHU_FE_FRAME_MAX || a > b) {
		fprintf(stderr, "vhu-fe: --size must lie in %u..%u\n",
			VHU_FE_FRAME_MIN, VHU_FE_FRAME_MAX);
		return false;
	}
	o->size_min = a;
	o->size_max = b;
	return true;
}

static bool
parse_layout(const char *s, struct opts *o, bool tx)
{
	static const char *const txn[] = { "one", "hdr", "chain", "indirect" };
	static const char *const rxn[] = { "one", "hdr" };
	unsigned int n = tx ? 4 : 2;

	for (unsigned int i = 0; i < n; i++) {
		if (strcmp(s, tx ? txn[i] : rxn[i]) != 0)
			continue;
		if (tx)
			o->cfg.tx_layout = (enum vhu_fe_tx_layout)i;
		else
			o->cfg.rx_layout = (enum vhu_fe_rx_layout)i;
		return true;
	}
	return false;
}

enum {
	O_PATH = 256, O_LISTEN, O_QUEUES, O_QSIZE, O_MRG, O_FEAT, O_PFEAT,
	O_TX, O_SIZE, O_TXL, O_TXSEGS, O_RX, O_RXCLOSE, O_RXL, O_RXBUF,
	O_PATTERN, O_REGIONS, O_RSIZE, O_SHARED, O_HUGE, O_ADDREG, O_NOKICK,
	O_NOSTOP, O_TIMEOUT, O_VERBOSE, O_HELP, O_RECONNECTS, O_CHURN,
	O_PACKED,
};

static const struct option long_opts[] = {
	{ "path", required_argument, NULL, O_PATH },
	{ "listen", no_argument, NULL, O_LISTEN },
	{ "queues", required_argument, NULL, O_QUEUES },
	{ "queue-size", required_argument, NULL, O_QSIZE },
	{ "mrg-rxbuf", required_argument, NULL, O_MRG },
	{ "features", required_argument, NULL, O_FEAT },
	{ "protocol-features", required_argument, NULL, O_PFEAT },
	{ "tx", required_argument, NULL, O_TX },
	{ "size", required_argument, NULL, O_SIZE },
	{ "tx-layout", required_argument, NULL, O_TXL },
	{ "tx-segs", required_argument, NULL, O_TXSEGS },
	{ "rx", required_argument, NULL, O_RX },
	{ "rx-until-close", no_argument, NULL, O_RXCLOSE },
	{ "rx-layout", required_argument, NULL, O_RXL },
	{ "rx-buf-size", required_argument, NULL, O_RXBUF },
	{ "pattern", no_argument, NULL, O_PATTERN },
	{ "regions", required_argument, NULL, O_REGIONS },
	{ "region-size", required_argument, NULL, O_RSIZE },
	{ "shared-fd", no_argument, NULL, O_SHARED },
	{ "hugetlb", no_argument, NULL, O_HUGE },
	{ "mem-add-reg", no_argument, NULL, O_ADDREG },
	{ "no-kick-inject", no_argument, NULL, O_NOKICK },
	{ "no-stop", no_argument, NULL, O_NOSTOP },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "verbose", no_argument, NULL, O_VERBOSE },
	{ "help", no_argument, NULL, O_HELP },
	{ "reconnects", required_argument, NULL, O_RECONNECTS },
	{ "mem-churn", required_argument, NULL, O_CHURN },
	{ "packed", no_argument, NULL, O_PACKED },
	{ NULL, 0, NULL, 0 },
};

/* One option; false on a bad value. */
static bool
parse_one(int c, const char *arg, struct opts *o)
{
	struct vhu_fe_config *cfg = &o->cfg;
	uint64_t v = 0;

	switch (c) {
	case O_PATH: cfg->path = arg; return true;
	case O_LISTEN: cfg->listen = true; return true;
	case O_QUEUES:
		if (!parse_u64(arg, &v, 10) || v < 1 || v > VHU_FE_MAX_QUEUE_PAIRS)
			return false;
		cfg->queue_pairs = (unsigned int)v;
		if (v > 1)
			cfg->features |= 1ull << VIRTIO_NET_F_MQ;
		return true;
	case O_QSIZE:
		if (!parse_u64(arg, &v, 10) || v > VHU_FE_MAX_QUEUE_SIZE)
			return false;
		cfg->queue_size = (unsigned int)v;
		return true;
	case O_MRG:
		if (strcmp(arg, "0") != 0 && strcmp(arg, "1") != 0)
			return false;
		if (arg[0] == '1')
			cfg->features |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
		else
			cfg->features &= ~(1ull << VIRTIO_NET_F_MRG_RXBUF);
		return true;
	case O_FEAT: return parse_u64(arg, &cfg->features, 16);
	case O_PFEAT: return parse_u64(arg, &cfg->protocol_features, 16);
	case O_TX: return parse_u64(arg, &o->tx_count, 10);
	case O_SIZE: return parse_size(arg, o);
	case O_TXL:
		if (!parse_layout(arg, o, true))
			return false;
		if (cfg->tx_layout == VHU_FE_TX_INDIRECT)
			cfg->features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
		return true;
	case O_TXSEGS:
		if (!parse_u64(arg, &v, 10) || v < 1 || v >= VHU_FE_MAX_SEGS)
			return false;
		cfg->tx_segs = (unsigned int)v;
		return true;
	case O_RX: o->rx = true; return parse_u64(arg, &o->rx_count, 10);
	case O_RXCLOSE: o->rx = o->rx_until_close = true; return true;
	case O_RXL: return parse_layout(arg, o, false);
	case O_RXBUF:
		if (!parse_u64(arg, &v, 10) || v > UINT32_MAX)
			return false;
		cfg->rx_buf_size = (uint32_t)v;
		return true;
	case O_PATTERN: o->pattern = true; return true;
	case O_REGIONS:
		if (!parse_u64(arg, &v, 10) || v < 1 || v > VHU_FE_MAX_REGIONS)
			return false;
		cfg->mem.nregions = (unsigned int)v;
		return true;
	case O_RSIZE:
		if (!parse_u64(arg, &v, 10) || v == 0)
			return false;
		for (unsigned int i = 0; i < VHU_FE_MAX_REGIONS; i++)
			cfg->mem.region_size[i] = v;
		return true;
	case O_SHARED: cfg->mem.share_fd = true; return true;
	case O_HUGE: cfg->mem.hugetlb = true; return true;
	case O_ADDREG: cfg->mem_add_reg = true; return true;
	case O_NOKICK: cfg->inject_kick = false; return true;
	case O_NOSTOP: o->stop = false; return true;
	case O_TIMEOUT:
		o->timeout_s = strtod(arg, NULL);
		return o->timeout_s > 0 && o->timeout_s < 1e6;
	case O_VERBOSE: o->verbose = true; return true;
	case O_RECONNECTS: return parse_u64(arg, &o->reconnects, 10);
	case O_CHURN: return parse_u64(arg, &o->mem_churn, 10);
	case O_PACKED: cfg->packed = true; return true;
	default: return false;
	}
}

static const char *
opt_name(int val)
{
	for (const struct option *lo = long_opts; lo->name != NULL; lo++)
		if (lo->val == val)
			return lo->name;
	return "?";
}

/* 0 ok, 1 help printed, 2 usage error. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	vhu_fe_config_default(&o->cfg);
	o->size_min = o->size_max = 64;
	o->timeout_s = 30;
	o->stop = true;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == O_HELP) {
			usage(stdout);
			return 1;
		}
		if (c == '?' || !parse_one(c, optarg, o)) {
			if (c != '?')
				fprintf(stderr, "vhu-fe: bad value for --%s: %s\n",
					opt_name(c), optarg ? optarg : "");
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || o->cfg.path == NULL) {
		fprintf(stderr, "vhu-fe: %s\n", optind != argc ?
			"unexpected arguments" : "--path is required");
		usage(stderr);
		return 2;
	}
	if (o->rx && o->rx_until_close && o->rx_count) {
		fprintf(stderr, "vhu-fe: --rx and --rx-until-close exclude each other\n");
		return 2;
	}
	uint64_t need = ((uint64_t)o->size_max + 12 + 63) / 64 * 64;
	if (need > o->cfg.tx_buf_size)
		o->cfg.tx_buf_size = (uint32_t)need;
	/* A single wait may take the whole deadline: a peer that starts
	 * slowly (DPDK EAL on a loaded machine) is not an error. */
	o->cfg.timeout_ms = (int)(o->timeout_s * 1000) + 1;
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
rx_verify(void *arg, unsigned int qp, const struct virtio_net_hdr_v1 *hdr,
	  const uint8_t *frame, size_t len)
{
	struct rx_ctx *ctx = arg;
	int rc = ctx->pattern ? vhu_fe_frame_check(frame, len, NULL) :
				vhu_fe_frame_check_eth(frame, len);

	(void)hdr;
	if (rc != 0) {
		if (ctx->bad < MAX_BAD_REPORTS)
			fprintf(stderr, "vhu-fe: bad frame on queue %u: %zu bytes, "
				"first bytes %02x %02x %02x %02x\n", qp, len,
				len > 0 ? frame[0] : 0, len > 1 ? frame[1] : 0,
				len > 2 ? frame[2] : 0, len > 3 ? frame[3] : 0);
		ctx->bad++;
	}
	return 0;
}

static size_t
frame_size(const struct opts *o, uint64_t seq)
{
	size_t span = o->size_max - o->size_min + 1;

	return o->size_min + (size_t)((seq * 7919u) % span);
}

/* Post as many frames as fit on every queue. 0 or negative errno. */
static int
tx_round(struct vhu_fe *fe, const struct opts *o, uint64_t *seq, uint8_t *frame)
{
	for (unsigned int q = 0; q < o->cfg.queue_pairs; q++) {
		unsigned int posted = 0;

		while (*seq < o->tx_count) {
			size_t len = frame_size(o, *seq);
			vhu_fe_frame_build(frame, len, *seq);
			int rc = vhu_fe_tx_post(fe, q, frame, len, NULL);
			if (rc == -ENOSPC)
				break;
			if (rc < 0)
				return rc;
			(*seq)++;
			posted++;
		}
		if (posted > 0) {
			int rc = vhu_fe_tx_flush(fe, q);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* One pass over every queue. Returns work done (> 0), 0 idle, or < 0. */
static int
poll_once(struct vhu_fe *fe, const struct opts *o, struct rx_ctx *ctx,
	  uint64_t *seq, uint8_t *frame)
{
	int work = 0, rc;
	uint64_t before = *seq;

	if (*seq < o->tx_count) {
		rc = tx_round(fe, o, seq, frame);
		if (rc < 0)
			return rc;
		work += *seq != before;
	}
	for (unsigned int q = 0; q < o->cfg.queue_pairs; q++) {
		if (o->tx_count > 0) {
			rc = vhu_fe_tx_reclaim(fe, q);
			if (rc < 0)
				return rc;
			work += rc;
		}
		if (o->rx) {
			rc = vhu_fe_rx_poll(fe, q, rx_verify, ctx, RX_BURST);
			if (rc < 0)
				return rc;
			work += rc;
		}
	}
	return work;
}

static bool
finished(struct vhu_fe *fe, const struct opts *o, const struct vhu_fe_stats *base,
	 const struct churn *ch)
{
	struct vhu_fe_stats st;

	vhu_fe_get_stats(fe, &st);
	if (st.tx_completed - base->tx_completed < o->tx_count)
		return false;
	if (o->rx_until_close)
		return false;
	if (ch != NULL && ch->done < o->mem_churn)
		return false;
	return !o->rx || st.rx_packets - base->rx_packets >= o->rx_count;
}

/* Every 64 polls, the next memory-table change. 0 or negative errno. */
static int
churn_step(struct vhu_fe *fe, const struct opts *o, struct churn *ch)
{
	int rc;

	if (ch->done >= o->mem_churn || ++ch->polls % 64 != 0)
		return 0;
	if (!ch->added && ch->done % 3 == 0)
		rc = vhu_fe_set_mem_table(fe);
	else if (!ch->added)
		rc = vhu_fe_add_mem_reg(fe, &ch->extra);
	else
		rc = vhu_fe_rem_mem_reg(fe, &ch->extra);
	if (rc == 0) {
		if (ch->done % 3 != 0)
			ch->added = !ch->added;
		ch->done++;
		ch->total++;
	}
	return rc;
}

static void
sleep_idle(void)
{
	struct timespec ts = { 0, IDLE_SLEEP_NS };

	nanosleep(&ts, NULL);
}

/* The traffic loop. 0 done, negative errno on failure; *closed set when
 * the back-end went away. */
static int
run(struct vhu_fe *fe, const struct opts *o, struct rx_ctx *ctx, bool *closed,
    struct churn *ch)
{
	int64_t deadline = now_ms() + (int64_t)(o->timeout_s * 1000);
	int64_t next_report = now_ms() + 1000;
	uint8_t *frame = malloc(o->size_max);
	struct vhu_fe_stats base;
	uint64_t seq = 0;
	int rc = 0;

	if (frame == NULL)
		return -ENOMEM;
	vhu_fe_get_stats(fe, &base);
	while (!finished(fe, o, &base, ch)) {
		rc = poll_once(fe, o, ctx, &seq, frame);
		if (rc < 0)
			break;
		if (ch != NULL) {
			int crc = churn_step(fe, o, ch);

			if (crc < 0) {
				rc = crc;
				break;
			}
		}
		if (rc == 0) {
			rc = vhu_fe_peer_closed(fe);
			if (rc != 0) {
				*closed = rc > 0;
				if (rc > 0)
					rc = o->rx_until_close ? 0 : -ECONNRESET;
				break;
			}
			sleep_idle();
		}
		rc = 0;
		if (interrupted) {
			rc = -EINTR;
			break;
		}
		if (now_ms() > deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		if (o->verbose && now_ms() >= next_report) {
			struct vhu_fe_stats st;
			vhu_fe_get_stats(fe, &st);
			fprintf(stderr, "vhu-fe: progress tx=%" PRIu64 "/%" PRIu64
				" rx=%" PRIu64 "\n", st.tx_completed, o->tx_count,
				st.rx_packets);
			next_report += 1000;
		}
	}
	/* Whatever the back-end used before it went away still counts. */
	if (*closed && o->rx)
		for (unsigned int q = 0; q < o->cfg.queue_pairs; q++)
			while (vhu_fe_rx_poll(fe, q, rx_verify, ctx, RX_BURST) > 0)
				;
	free(frame);
	return rc;
}

static void
report(struct vhu_fe *fe, const struct rx_ctx *ctx, const char *result,
       int64_t elapsed, uint64_t sessions, uint64_t mem_changes)
{
	struct vhu_fe_stats st;

	vhu_fe_get_stats(fe, &st);
	printf("result=%s\n", result);
	printf("features=0x%" PRIx64 "\n", vhu_fe_features(fe));
	printf("protocol_features=0x%" PRIx64 "\n", vhu_fe_protocol_features(fe));
	printf("hdr_len=%u\n", vhu_fe_hdr_len(fe));
	printf("tx_packets=%" PRIu64 "\n", st.tx_completed);
	printf("tx_posted=%" PRIu64 "\n", st.tx_packets);
	printf("tx_bytes=%" PRIu64 "\n", st.tx_bytes);
	printf("rx_packets=%" PRIu64 "\n", st.rx_packets);
	printf("rx_bytes=%" PRIu64 "\n", st.rx_bytes);
	printf("rx_buffers=%" PRIu64 "\n", st.rx_buffers);
	printf("rx_bad=%" PRIu64 "\n", ctx->bad);
	printf("rx_violations=%" PRIu64 "\n", st.rx_violations);
	printf("elapsed_ms=%" PRId64 "\n", elapsed);
	printf("sessions=%" PRIu64 "\n", sessions);
	printf("mem_changes=%" PRIu64 "\n", mem_changes);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct vhu_fe *fe = NULL;
	struct rx_ctx ctx = { 0 };
	struct churn churn = { .extra = { .fd = -1 } };
	uint64_t sessions = 0;
	bool closed = false;
	int64_t t0 = now_ms();
	int rc = parse_args(argc, argv, &o);

	if (rc != 0)
		return rc == 1 ? 0 : 2;
	ctx.pattern = o.pattern;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	rc = vhu_fe_create(&o.cfg, &fe);
	if (rc == 0 && o.mem_churn > 0)
		/* 1 MiB far above guest memory. */
		rc = vhu_fe_region_create(1ULL << 40, 1 << 20, &churn.extra);
	if (rc == 0)
		rc = vhu_fe_connect(fe);
	if (rc == 0)
		rc = vhu_fe_setup(fe);
	for (;;) {
		if (rc == 0)
			rc = run(fe, &o, &ctx, &closed,
				 o.mem_churn > 0 ? &churn : NULL);
		if (rc == 0 && !closed && o.stop)
			rc = vhu_fe_stop(fe);
		if (rc == 0)
			sessions++;
		if (rc != 0 || closed || sessions > o.reconnects)
			break;
		/* The next session: a new connection, rings from index 0. */
		vhu_fe_disconnect(fe);
		churn.done = 0;
		churn.added = false;
		rc = vhu_fe_connect(fe);
		for (unsigned int r = 0; rc == 0 && r < vhu_fe_nrings(fe); r++)
			rc = vhu_fe_ring_reset(fe, r);
		if (rc == 0)
			rc = vhu_fe_setup(fe);
	}
	if (fe == NULL) {
		fprintf(stderr, "vhu-fe: cannot create the front-end: %s\n",
			strerror(-rc));
		printf("result=error\n");
		return 1;
	}
	if (rc < 0)
		fprintf(stderr, "vhu-fe: failed: %s\n", strerror(-rc));
	report(fe, &ctx, rc < 0 ? "error" : ctx.bad ? "bad-frames" : "ok",
	       now_ms() - t0, sessions, churn.total);
	vhu_fe_destroy(fe);
	vhu_fe_region_destroy(&churn.extra);
	if (rc < 0)
		return 1;
	return ctx.bad ? 3 : 0;
}
