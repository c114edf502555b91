/* SPDX-License-Identifier: BSD-3-Clause */
/* What vhu's fuzz targets share: see vhu_fuzz.h. */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <netinet/in.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "vhu_fuzz.h"

void
vhu_fuzz_fail(const char *file, int line, const char *cond,
		const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\nvhu-fuzz: CHECK FAILED at %s:%d: %s\nvhu-fuzz: ",
		file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	abort();
}

/* "debug", "8", ... → RTE_LOG_*; 0 when not a level. */
static uint32_t
log_level_parse(const char *s)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "err", "warning", "notice", "info",
		"debug",
	};
	char *end;
	unsigned long v;
	size_t i;

	for (i = 0; i < RTE_DIM(names); i++)
		if (strcmp(s, names[i]) == 0)
			return (uint32_t)(i + RTE_LOG_EMERG);
	v = strtoul(s, &end, 10);
	if (*s != '\0' && *end == '\0' && v >= RTE_LOG_EMERG &&
	    v <= RTE_LOG_DEBUG)
		return (uint32_t)v;
	return 0;
}

void
vhu_fuzz_log_init(void)
{
	const char *want = getenv("VHU_FUZZ_LOG");
	char pattern[128];
	const char *colon;
	uint32_t level;

	if (want == NULL || want[0] == '\0') {
		rte_log_set_global_level(RTE_LOG_EMERG);
		return;
	}
	colon = strrchr(want, ':');
	level = log_level_parse(colon != NULL ? colon + 1 : want);
	if (level == 0 || (colon != NULL &&
	    (size_t)(colon - want) >= sizeof(pattern))) {
		fprintf(stderr, "vhu-fuzz: VHU_FUZZ_LOG=%s: expected LEVEL or "
			"PATTERN:LEVEL (emerg ... debug)\n", want);
		abort();
	}
	rte_log_set_global_level(RTE_LOG_DEBUG);
	if (colon != NULL) {
		memcpy(pattern, want, (size_t)(colon - want));
		pattern[colon - want] = '\0';
	} else {
		strcpy(pattern, "*");
	}
	if (rte_log_set_level_pattern(pattern, level) < 0) {
		fprintf(stderr, "vhu-fuzz: VHU_FUZZ_LOG=%s: bad pattern\n",
			want);
		abort();
	}
}

void
vhu_fuzz_eal_init(const char *argv0)
{
	static bool done;
	char prefix[64];
	char *eal_argv[] = {
		(char *)argv0,
		(char *)"--no-huge",
		(char *)"-m", (char *)"64",
		(char *)"--no-pci",
		(char *)"--no-shconf",
		(char *)"--no-telemetry",
		(char *)"-l", (char *)"0",
		(char *)"--file-prefix", prefix,
	};
	cpu_set_t cpus;
	bool have_cpus;

	if (done)
		return;
	/* Logs off (or as VHU_FUZZ_LOG says) before EAL says anything. */
	vhu_fuzz_log_init();
	snprintf(prefix, sizeof(prefix), "vhu-fuzz-%d", (int)getpid());
	have_cpus = sched_getaffinity(0, sizeof(cpus), &cpus) == 0;
	/* 22.11 refuses --in-memory with --no-huge: with --no-shconf the
	 * runtime directory stays empty, and goes right away. */
	if (rte_eal_init((int)RTE_DIM(eal_argv), eal_argv) < 0) {
		fprintf(stderr, "vhu-fuzz: rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		abort();
	}
	if (rmdir(rte_eal_get_runtime_dir()) < 0)
		fprintf(stderr, "vhu-fuzz: cannot remove EAL's runtime "
			"directory %s: %s\n", rte_eal_get_runtime_dir(),
			strerror(errno));
	/* Two fuzzers at once must not share lcore 0's CPU. */
	if (have_cpus)
		sched_setaffinity(0, sizeof(cpus), &cpus);
	done = true;
}

/* ---- the datapath targets: fuzz_ring, fuzz_packed ---- */

void
vhu_fuzz_run_ops(struct vhu_fuzz_in *in, unsigned int count,
		unsigned int repeat, uint32_t heavy,
		void (*do_op)(struct vhu_fuzz_in *in, uint8_t op))
{
	unsigned int i;

	while (!vhu_fuzz_in_empty(in)) {
		uint8_t op = vhu_fuzz_u8(in) % count;

		if (op == repeat) {
			/* The next operation, decoded n + 1 times from the same
			 * bytes (a repeat in it repeats nothing). */
			unsigned int n = vhu_fuzz_u8(in);
			struct vhu_fuzz_in at;

			op = vhu_fuzz_u8(in) % count;
			if (heavy & (1u << op))
				n %= 16; /* 64 heavy bursts are plenty */
			at = *in;
			for (i = 0; i <= n; i++) {
				*in = at;
				do_op(in, op);
			}
		} else {
			do_op(in, op);
		}
	}
}

uint64_t
vhu_fuzz_take_gpa(struct vhu_fuzz_in *in, uint64_t base)
{
	uint8_t form = vhu_fuzz_u8(in);
	uint64_t v;

	switch (form % 4) {
	case 0:
	case 1:
		return base + ((uint64_t)vhu_fuzz_u16(in) << 3);
	case 2:
		v = vhu_fuzz_u16(in);
		return base + (v | (uint64_t)vhu_fuzz_u8(in) << 16);
	default:
		return vhu_fuzz_u64(in);
	}
}

int
vhu_fuzz_memfd(const char *name, uint64_t size, uint8_t **host)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	VHU_FUZZ_CHECK(fd >= 0 && ftruncate(fd, (off_t)size) == 0,
		       "memfd %s: %s", name, strerror(errno));
	*host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	VHU_FUZZ_CHECK(*host != MAP_FAILED, "mmap %s: %s", name,
		       strerror(errno));
	return fd;
}

/* ---- packets: Ethernet / IPv4 or IPv6 / TCP or UDP ---- */

#define PATTERN_SIZE 65536

static uint8_t pattern[PATTERN_SIZE];

void
vhu_fuzz_pattern_init(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned int i;

	for (i = 0; i < PATTERN_SIZE; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		pattern[i] = (uint8_t)x;
	}
}

enum { T_RAW, T_V4TCP, T_V6TCP, T_V4UDP };

struct tmpl_info {
	uint32_t l2, l3, l4;
	uint32_t len;          /* bytes of headers built */
};

static VHU_FUZZ_NOCOV void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The headers of a len-byte packet of template t into h (>= 96 bytes);
 * the source MAC's first bytes carry tag (an enqueue packet's index).
 */
static VHU_FUZZ_NOCOV void
tmpl_build(uint8_t *h, unsigned int t, bool vlan, uint32_t len, uint8_t tag,
		struct tmpl_info *ti)
{
	uint32_t l2 = vlan ? 18 : 14, l3 = 0, l4 = 0, off;
	uint8_t proto = t == T_V4UDP ? IPPROTO_UDP : IPPROTO_TCP;

	memset(h, 0, 96);
	h[0] = 0x02;
	h[5] = 0x01;
	h[6] = 0x02;
	h[7] = tag;
	h[8] = tag ^ 0x5a;
	off = 12;
	if (vlan) {
		put16(h + off, 0x8100);
		put16(h + off + 2, 0x0064);
		off += 4;
	}
	if (t == T_RAW) {
		ti->l2 = l2;
		ti->l3 = 20;
		ti->l4 = 20;
		ti->len = 12;   /* the ethertype comes from the pattern */
		return;
	}
	if (t == T_V6TCP) {
		put16(h + off, 0x86dd);
		h[l2] = 0x60;
		put16(h + l2 + 4, (uint16_t)(len - l2 - 40));
		h[l2 + 6] = proto;
		h[l2 + 7] = 64;
		h[l2 + 8] = 0xfd;
		h[l2 + 23] = 1;
		h[l2 + 24] = 0xfd;
		h[l2 + 39] = 2;
		l3 = 40;
	} else {
		put16(h + off, 0x0800);
		h[l2] = 0x45;
		put16(h + l2 + 2, (uint16_t)(len - l2));
		put16(h + l2 + 6, 0x4000);
		h[l2 + 8] = 64;
		h[l2 + 9] = proto;
		h[l2 + 12] = 10;
		h[l2 + 15] = 1;
		h[l2 + 16] = 10;
		h[l2 + 19] = 2;
		put16(h + l2 + 10, (uint16_t)~rte_raw_cksum(h + l2, 20));
		l3 = 20;
	}
	put16(h + l2 + l3, 4000);
	put16(h + l2 + l3 + 2, 80);
	if (proto == IPPROTO_TCP) {
		h[l2 + l3 + 12] = 5 << 4;
		h[l2 + l3 + 13] = 0x18;
		put16(h + l2 + l3 + 14, 0xffff);
		l4 = 20;
	} else {
		put16(h + l2 + l3 + 4, (uint16_t)(len - l2 - l3));
		l4 = 8;
	}
	ti->l2 = l2;
	ti->l3 = l3;
	ti->l4 = l4;
	ti->len = l2 + l3 + l4;
}

VHU_FUZZ_NOCOV void
vhu_fuzz_stream_packet(uint32_t pos, uint8_t *dst, uint32_t n,
		const void *ctx)
{
	const struct vhu_fuzz_stream *s = ctx;

	while (n > 0) {
		uint32_t k;

		if (pos < s->hdr_len) {
			k = RTE_MIN(n, s->hdr_len - pos);
			memcpy(dst, s->hdr + pos, k);
		} else if (pos - s->hdr_len < s->tmpl_len) {
			k = RTE_MIN(n, s->tmpl_len - (pos - s->hdr_len));
			memcpy(dst, s->tmpl + (pos - s->hdr_len), k);
		} else {
			uint32_t at = (pos + s->pat_off) % PATTERN_SIZE;

			k = RTE_MIN(n, PATTERN_SIZE - at);
			memcpy(dst, pattern + at, k);
		}
		dst += k;
		pos += k;
		n -= k;
	}
}

VHU_FUZZ_NOCOV void
vhu_fuzz_tx_build(struct vhu_fuzz_tx *tx, unsigned int t, bool vlan,
		unsigned int hmode, uint16_t gso, uint32_t hdr_len,
		uint32_t total, uint32_t pat_off)
{
	uint32_t pkt_len = total > hdr_len ? total - hdr_len : 0;
	struct tmpl_info ti;

	tmpl_build(tx->tmpl, t, vlan, pkt_len, 0, &ti);
	if (hmode == 1 || hmode == 2) {
		tx->vh.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		tx->vh.hdr.csum_start = (uint16_t)(ti.l2 + ti.l3);
		tx->vh.hdr.csum_offset = t == T_V4UDP ? 6 : 16;
	}
	if (hmode == 2) {
		tx->vh.hdr.gso_type = t == T_V6TCP ?
			VIRTIO_NET_HDR_GSO_TCPV6 :
			VIRTIO_NET_HDR_GSO_TCPV4;
		tx->vh.hdr.gso_size = gso;
		tx->vh.hdr.hdr_len = (uint16_t)(ti.l2 + ti.l3 + ti.l4);
	}
	tx->s.hdr = (const uint8_t *)&tx->vh;
	tx->s.hdr_len = hdr_len;
	tx->s.tmpl = tx->tmpl;
	tx->s.tmpl_len = RTE_MIN(ti.len, pkt_len);
	tx->s.pat_off = pat_off;
}

/* ---- mbufs ---- */

#define MBUF_SEGS_MAX 8

/* Segment lengths of a len-byte packet over nsegs mbufs of room bytes. */
static VHU_FUZZ_NOCOV uint32_t
seg_take(uint32_t left, unsigned int segs_after, uint32_t room,
		uint32_t seed)
{
	uint32_t max = RTE_MIN(left, room);
	uint32_t min = left > segs_after * room ? left - segs_after * room : 0;

	if (segs_after == 0)
		return left;
	return min + seed % (max - min + 1);
}

static VHU_FUZZ_NOCOV void
mbuf_poke(struct rte_mbuf *m, uint32_t off, uint8_t v)
{
	while (off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	*rte_pktmbuf_mtod_offset(m, uint8_t *, off) = v;
}

VHU_FUZZ_NOCOV struct rte_mbuf *
vhu_fuzz_make_mbuf(struct vhu_fuzz_in *in, struct rte_mempool *mp,
		uint8_t tag, bool keep_tag, struct vhu_fuzz_pktinfo *pi)
{
	uint16_t lv = vhu_fuzz_u16(in);
	uint8_t shape = vhu_fuzz_u8(in);
	uint32_t len = 14 + lv % (VHU_FUZZ_MBUF_LEN_MAX - 14 + 1);
	unsigned int t = (shape >> 3) & 3, want = 1 + (shape & 7);
	struct rte_mbuf *segs[MBUF_SEGS_MAX];
	uint32_t room = RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM;
	unsigned int need = (len + room - 1) / room, nsegs, i;
	uint8_t tmpl[96];
	struct tmpl_info ti;
	struct vhu_fuzz_stream s;
	uint32_t pos = 0, seed = shape ^ (uint32_t)lv * 2654435761u;
	struct rte_mbuf *m;

	nsegs = RTE_MAX(need, want);
	VHU_FUZZ_CHECK(rte_pktmbuf_alloc_bulk(mp, segs, nsegs) == 0,
		       "mempool empty");
	tmpl_build(tmpl, t, (shape & 0x40) != 0, len, tag, &ti);
	s.hdr = NULL;
	s.hdr_len = 0;
	s.tmpl = tmpl;
	s.tmpl_len = RTE_MIN(ti.len, len); /* len >= 14: the tag is in */
	s.pat_off = seed % PATTERN_SIZE;
	for (i = 0; i < nsegs; i++) {
		uint32_t n = seg_take(len - pos, nsegs - 1 - i, room,
				      seed >> (i * 3));

		vhu_fuzz_stream_packet(pos,
				       rte_pktmbuf_mtod(segs[i], uint8_t *),
				       n, &s);
		segs[i]->data_len = (uint16_t)n;
		pos += n;
		if (i > 0)
			segs[i - 1]->next = segs[i];
	}
	m = segs[0];
	m->nb_segs = (uint16_t)nsegs;
	m->pkt_len = len;
	if (shape & 0x20) {
		uint8_t sel = vhu_fuzz_u8(in);
		uint8_t l2 = vhu_fuzz_u8(in), l3 = vhu_fuzz_u8(in);
		uint8_t l4 = vhu_fuzz_u8(in);
		uint16_t tso = vhu_fuzz_u16(in);
		static const uint64_t l4type[4] = {
			0, RTE_MBUF_F_TX_TCP_CKSUM, RTE_MBUF_F_TX_SCTP_CKSUM,
			RTE_MBUF_F_TX_UDP_CKSUM,
		};
		static const uint64_t rare[4] = {
			RTE_MBUF_F_TX_UDP_SEG, RTE_MBUF_F_TX_TUNNEL_VXLAN,
			RTE_MBUF_F_TX_OUTER_IP_CKSUM,
			RTE_MBUF_F_TX_OUTER_UDP_CKSUM,
		};
		uint64_t ol = l4type[(sel >> 1) & 3];

		if (sel & 1)
			ol |= RTE_MBUF_F_TX_IP_CKSUM;
		if (sel & 8)
			ol |= RTE_MBUF_F_TX_TCP_SEG;
		if (sel & 16)
			ol |= RTE_MBUF_F_TX_IPV4;
		if (sel & 32)
			ol |= RTE_MBUF_F_TX_IPV6;
		if (sel & 64)
			ol |= (tso & 4) ? RTE_MBUF_F_RX_L4_CKSUM_BAD :
				RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		if (sel & 128)
			ol |= rare[tso & 3];
		m->ol_flags = ol;
		m->l2_len = l2 == 0xff ? ti.l2 : (l2 & 0x7f);
		m->l3_len = l3 == 0xff ? ti.l3 : l3;
		m->l4_len = l4 == 0xff ? ti.l4 : l4;
		m->tso_segsz = tso;
	}
	if (shape & 0x80) {
		/* Header bytes the template does not make (IP options,
		 * lengths, fragments...), but for the tag if kept. */
		uint8_t np = vhu_fuzz_u8(in) % 8, at, v;

		while (np-- > 0) {
			at = vhu_fuzz_u8(in);
			v = vhu_fuzz_u8(in);
			if (at < len && (!keep_tag || at < 6 || at > 8))
				mbuf_poke(m, at, v);
		}
	}
	pi->pkt_len = m->pkt_len;
	pi->ol_flags = m->ol_flags;
	pi->nb_segs = m->nb_segs;
	pi->l2_len = (uint8_t)m->l2_len;
	pi->l3_len = (uint16_t)m->l3_len;
	pi->l4_len = (uint8_t)m->l4_len;
	pi->tso_segsz = m->tso_segsz;
	return m;
}

VHU_FUZZ_NOCOV void
vhu_fuzz_check_mbuf_kept(const struct rte_mbuf *m,
		const struct vhu_fuzz_pktinfo *pi, unsigned int i)
{
	VHU_FUZZ_CHECK(m->pkt_len == pi->pkt_len &&
		       m->ol_flags == pi->ol_flags &&
		       m->nb_segs == pi->nb_segs &&
		       m->l2_len == pi->l2_len &&
		       m->l3_len == pi->l3_len &&
		       m->l4_len == pi->l4_len &&
		       m->tso_segsz == pi->tso_segsz &&
		       rte_mbuf_refcnt_read(m) == 1,
		       "enqueue changed mbuf %u", i);
}

VHU_FUZZ_NOCOV void
vhu_fuzz_check_rarp(const struct rte_mbuf *m, const uint8_t *mac)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	VHU_FUZZ_CHECK(m->pkt_len == 60 && m->data_len == 60 &&
		       p[12] == 0x80 && p[13] == 0x35 &&
		       memcmp(p + 6, mac, 6) == 0,
		       "the RARP mbuf is not a RARP of the guest's MAC");
}

/* ---- the model's chains, the dirty log ---- */

VHU_FUZZ_NOCOV bool
vhu_fuzz_pieces_add(struct vhu_fuzz_piece *p, uint16_t *n, uint16_t max,
		uint64_t gpa, uint32_t len,
		uint8_t *(*host)(uint64_t gpa, uint64_t *len))
{
	if (gpa > UINT64_MAX - len)
		return false;
	while (len > 0) {
		uint64_t k = len;
		uint8_t *h = host(gpa, &k);

		if (h == NULL || *n == max)
			return false;
		p[*n].host = h;
		p[*n].gpa = gpa;
		p[*n].len = (uint32_t)k;
		(*n)++;
		gpa += k;
		len -= (uint32_t)k;
	}
	return true;
}

VHU_FUZZ_NOCOV uint32_t
vhu_fuzz_pieces_gather(const struct vhu_fuzz_piece *p, uint16_t n,
		uint32_t len, uint8_t *dst)
{
	uint32_t done = 0;
	uint16_t i;

	for (i = 0; i < n && done < len; i++) {
		uint32_t k = RTE_MIN(p[i].len, len - done);

		memcpy(dst + done, p[i].host, k);
		done += k;
	}
	return done;
}

/* The log's page: VHOST_LOG_PAGE, 4 KiB. */
#define LOG_PAGE_SHIFT 12

VHU_FUZZ_NOCOV bool
vhu_fuzz_log_marked(const uint8_t *log, uint64_t log_size, uint64_t gpa,
		uint64_t len)
{
	uint64_t page, last;

	if (len == 0)
		return true;
	page = gpa >> LOG_PAGE_SHIFT;
	last = (gpa + len - 1) >> LOG_PAGE_SHIFT;
	for (; page <= last; page++) {
		if (page / 8 >= log_size)
			return true;
		if (!(log[page / 8] & (1u << (page % 8))))
			return false;
	}
	return true;
}

VHU_FUZZ_NOCOV bool
vhu_fuzz_log_empty(const uint8_t *log, size_t size)
{
	size_t i;

	for (i = 0; i < size; i++)
		if (log[i] != 0)
			return false;
	return true;
}
