/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offloads between the virtio-net header and mbuf ol_flags, through the
 * test front-end: what is offered for each VHU_OFFLOAD_* bit (and nothing
 * by default), each mapping both ways (partial checksums and GSO from the
 * guest, checksum and TSO requests to the guest, DATA_VALID), software
 * checksums where the guest or the application does not take part, and
 * each class of invalid header (dropped, counted) or unusable mbuf
 * metadata (dropped, counted). Checksums are verified here with an
 * independent big-endian implementation. On split rings, or packed ones
 * with VHU_TEST_RING=packed (offload-packed).
 */
#include <errno.h>
#include <netinet/in.h>

#include <linux/virtio_config.h>

#include <rte_ip.h>

#include "vhu_test_dev.h"
#include "vhu_test_eal.h"

VHU_TEST_MAIN_DEFS;

#define F(b) (1ULL << (b))

#define OFFLOAD_FEATURES (F(VIRTIO_NET_F_GUEST_CSUM) | \
		F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) | \
		F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6))

#define BASE_FEATURES (F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) | \
		F(VHU_F_PROTOCOL_FEATURES))

/* ---- device + front-end set-up ---- */

static struct {
	uint64_t fe_features;
	uint32_t rx_buf;
	uint32_t tx_buf;
} knob;

static void
apply_knobs(struct vhu_fe_config *c)
{
	c->features = knob.fe_features;
	c->rx_buf_size = knob.rx_buf;
	c->tx_buf_size = knob.tx_buf;
	c->inject_kick = false;
	c->notify = false;
}

static void
knobs_default(uint64_t extra_fe_features)
{
	knob.fe_features = BASE_FEATURES | extra_fe_features;
	knob.rx_buf = 2048;
	knob.tx_buf = 9216;
}

/* Register a device with these settings and create its front-end. */
static int
ot_open(struct vt_dev *t, const char *name, uint64_t offloads,
		uint64_t features, uint64_t masked)
{
	struct vhu_device_config dc = {
		.max_queue_pairs = 1,
		.ops = &vt_ops,
		.numa_socket = -1,
		.features = features,
		.features_masked = masked,
		.offloads = offloads,
	};
	struct vhu_fe_config fc;
	int ret;

	memset(t, 0, sizeof(*t));
	if (vt_ring_format() < 0)
		return -EINVAL;
	vt_sock_path(t->path, sizeof(t->path), name);
	dc.path = t->path;
	dc.ctx = &t->ev;
	ret = vhu_device_register(&dc, &t->dev);
	if (ret != 0)
		return ret;
	ret = vhu_device_start(t->dev);
	if (ret != 0)
		return ret;
	vhu_fe_config_default(&fc);
	fc.path = t->path;
	fc.timeout_ms = 3000;
	fc.packed = vt_packed();
	apply_knobs(&fc);
	return vhu_fe_create(&fc, &t->fe);
}

static int
ot_up(struct vt_dev *t, const char *name, uint64_t offloads)
{
	int ret = ot_open(t, name, offloads, 0, 0);

	if (ret == 0)
		ret = vhu_fe_connect(t->fe);
	if (ret == 0)
		ret = vhu_fe_setup(t->fe);
	if (ret == 0)
		ret = vt_check_format(t->fe);
	return ret;
}

/* What a device registered with these settings offers. */
static uint64_t
offered(uint64_t offloads, uint64_t features, uint64_t masked)
{
	struct vt_dev t;
	uint64_t f = 0;

	knobs_default(0);
	if (ot_open(&t, "offer", offloads, features, masked) != 0 ||
	    vhu_fe_connect(t.fe) != 0 || vhu_fe_get_features(t.fe, &f) != 0)
		f = UINT64_MAX;
	vt_dev_close(&t);
	return f;
}

static struct vhu_ring_stats
ring_stats(struct vhu_device *dev, uint16_t ring)
{
	struct vhu_ring_stats st;

	memset(&st, 0xff, sizeof(st));
	vhu_device_ring_stats(dev, ring, &st);
	return st;
}

/* ---- packets, and checksums computed independently ---- */

#define PKT_MAX 9000

struct pkt {
	uint8_t b[PKT_MAX];
	uint32_t len;
	uint32_t l2, l3, l4;  /* header lengths */
	uint32_t l4_bytes;    /* L4 header + payload */
	int ipv;
	uint8_t proto;
};

enum csum_state { CS_FULL, CS_PSEUDO, CS_GARBAGE };

static uint32_t
sum_be(const uint8_t *p, size_t len, uint32_t s)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Pseudo-header sum of a packet laid out as p says, over buffer b. */
static uint32_t
pseudo_sum(const struct pkt *p, const uint8_t *b)
{
	uint32_t s;

	if (p->ipv == 4)
		s = sum_be(b + p->l2 + 12, 8, 0);
	else
		s = sum_be(b + p->l2 + 8, 32, 0);
	return s + p->proto + p->l4_bytes;
}

static uint32_t
csum_field(const struct pkt *p)
{
	return p->l2 + p->l3 + (p->proto == IPPROTO_TCP ? 16 : 6);
}

static bool
l4_valid(const struct pkt *p, const uint8_t *b)
{
	return fold(sum_be(b + p->l2 + p->l3, p->l4_bytes, pseudo_sum(p, b))) ==
		0xffff;
}

static bool
ip_valid(const struct pkt *p, const uint8_t *b)
{
	return p->ipv != 4 || fold(sum_be(b + p->l2, p->l3, 0)) == 0xffff;
}

/* What the guest's stack does with NEEDS_CSUM. */
static void
guest_complete(uint8_t *b, size_t len, uint32_t start, uint32_t off)
{
	uint16_t c = (uint16_t)~fold(sum_be(b + start, len - start, 0));

	put16(b + start + off, c);
}

struct pkt_spec {
	int ipv;
	uint8_t proto;
	int vlans;           /* 0..2 */
	bool ext6;           /* IPv6 hop-by-hop header before L4 */
	uint32_t tcp_opts;   /* TCP option bytes, multiple of 4 */
	uint32_t payload;
	enum csum_state cs;
	uint32_t ip_opts;    /* IPv4 option bytes, multiple of 4 (IHL > 5) */
};

static void
build(struct pkt *p, const struct pkt_spec *s)
{
	uint8_t *b = p->b;
	uint32_t o = 12, l4h, i;

	memset(b, 0, 128);
	memcpy(b, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	for (int v = 0; v < s->vlans; v++) {
		put16(b + o, v == 0 && s->vlans == 2 ? 0x88a8 : 0x8100);
		put16(b + o + 2, (uint16_t)(100 + v));
		o += 4;
	}
	put16(b + o, s->ipv == 4 ? 0x0800 : 0x86dd);
	o += 2;
	p->l2 = o;
	p->ipv = s->ipv;
	p->proto = s->proto;
	l4h = s->proto == IPPROTO_TCP ? 20 + s->tcp_opts : 8;
	p->l4 = l4h;
	p->l4_bytes = l4h + s->payload;
	if (s->ipv == 4) {
		p->l3 = 20 + s->ip_opts;
		b[o] = (uint8_t)(0x40 | p->l3 / 4);
		put16(b + o + 2, (uint16_t)(p->l3 + p->l4_bytes));
		put16(b + o + 4, 0x1234);
		put16(b + o + 6, 0x4000);  /* DF */
		b[o + 8] = 64;
		b[o + 9] = s->proto;
		memcpy(b + o + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		for (i = 20; i < p->l3; i++)
			b[o + i] = 1;  /* NOP options */
		put16(b + o + 10, (uint16_t)~fold(sum_be(b + o, p->l3, 0)));
	} else {
		uint32_t ext = s->ext6 ? 8 : 0;

		p->l3 = 40 + ext;
		b[o] = 0x60;
		put16(b + o + 4, (uint16_t)(ext + p->l4_bytes));
		b[o + 6] = s->ext6 ? 0 : s->proto;
		b[o + 7] = 64;
		b[o + 8] = 0xfd;
		b[o + 23] = 1;
		b[o + 24] = 0xfd;
		b[o + 39] = 2;
		if (s->ext6) {
			b[o + 40] = s->proto;  /* next header */
			b[o + 41] = 0;         /* 8 bytes */
			b[o + 42] = 1;         /* PadN, 4 bytes */
			b[o + 43] = 4;
		}
	}
	o += p->l3;
	put16(b + o, 4000);
	put16(b + o + 2, 5001);
	if (s->proto == IPPROTO_TCP) {
		put16(b + o + 4, 0x1111);
		b[o + 12] = (uint8_t)((l4h / 4) << 4);
		b[o + 13] = 0x18;  /* PSH ACK */
		put16(b + o + 14, 65000);
		for (i = 20; i < l4h; i++)
			b[o + i] = 1;  /* NOP options */
	} else {
		put16(b + o + 4, (uint16_t)p->l4_bytes);
	}
	for (i = 0; i < s->payload; i++)
		b[o + l4h + i] = (uint8_t)(i * 7 + 3);
	p->len = o + p->l4_bytes;
	switch (s->cs) {
	case CS_FULL: {
		uint16_t c = (uint16_t)~fold(sum_be(b + o, p->l4_bytes,
						     pseudo_sum(p, b)));

		if (c == 0 && s->proto == IPPROTO_UDP)
			c = 0xffff;
		put16(b + csum_field(p), c);
		break;
	}
	case CS_PSEUDO:
		put16(b + csum_field(p), fold(pseudo_sum(p, b)));
		break;
	case CS_GARBAGE:
		put16(b + csum_field(p), 0xbeef);
		break;
	}
}

/* ---- guest → host ---- */

static struct pkt pk, pk2;
static uint8_t rbuf[70000];

static int
post(struct vt_dev *t, const struct pkt *p, const struct virtio_net_hdr_v1 *h)
{
	struct vhu_fe_tx_opts o = { .layout = VHU_FE_TX_ONE, .hdr = h };

	return vhu_fe_tx_post(t->fe, 0, p->b, p->len, &o);
}

/* Partial-checksum header for p, as Linux sends it. */
static struct virtio_net_hdr_v1
partial_hdr(const struct pkt *p)
{
	struct virtio_net_hdr_v1 h = { 0 };

	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = (uint16_t)(p->l2 + p->l3);
	h.csum_offset = p->proto == IPPROTO_TCP ? 16 : 6;
	return h;
}

static struct virtio_net_hdr_v1
gso_hdr(const struct pkt *p, uint16_t mss)
{
	struct virtio_net_hdr_v1 h = partial_hdr(p);

	h.gso_type = p->ipv == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
		VIRTIO_NET_HDR_GSO_TCPV6;
	h.gso_size = mss;
	h.hdr_len = (uint16_t)(p->l2 + p->l3 + p->l4);
	return h;
}

/* Post one packet, dequeue one mbuf. */
static struct rte_mbuf *
roundtrip_deq(struct vt_dev *t, const struct pkt *p,
		const struct virtio_net_hdr_v1 *h, struct rte_mempool *mp)
{
	struct rte_mbuf *m = NULL;

	if (post(t, p, h) != 0 || vhu_fe_tx_flush(t->fe, 0) != 0)
		return NULL;
	for (int i = 0; i < 100; i++) {
		if (vhu_dequeue_burst(t->dev, 0, mp, &m, 1) == 1)
			break;
		m = NULL;
		usleep(1000);
	}
	vhu_fe_tx_reclaim(t->fe, 0);
	return m;
}

static const uint8_t *
mbuf_bytes(const struct rte_mbuf *m)
{
	return rte_pktmbuf_read(m, 0, rte_pktmbuf_pkt_len(m), rbuf);
}

/* A pool whose mbufs hold 24 bytes each: every header straddles. */
static struct rte_mempool *
tiny_pool(void)
{
	static struct rte_mempool *mp;

	if (mp == NULL)
		mp = rte_pktmbuf_pool_create("ot_tiny", 2047, 0, 0,
					     RTE_PKTMBUF_HEADROOM + 24,
					     SOCKET_ID_ANY);
	return mp;
}

/* ---- host → guest ---- */

struct rx_cap {
	unsigned int got;
	struct virtio_net_hdr_v1 hdr;
	size_t len;
	uint8_t frame[70000];
};

static struct rx_cap cap;

static int
rx_capture(void *arg, unsigned int qp, const struct virtio_net_hdr_v1 *hdr,
		const uint8_t *frame, size_t len)
{
	struct rx_cap *c = arg;

	RTE_SET_USED(qp);
	c->hdr = *hdr;
	c->len = len;
	memcpy(c->frame, frame, RTE_MIN(len, sizeof(c->frame)));
	c->got++;
	return 0;
}

/* An mbuf chain holding p's bytes in segments of seg bytes. */
static struct rte_mbuf *
mbuf_of(const struct pkt *p, uint32_t seg)
{
	struct rte_mbuf *m = NULL, *last = NULL;
	uint32_t off = 0;

	while (off < p->len) {
		struct rte_mbuf *s = rte_pktmbuf_alloc(vt_pool());
		uint32_t n = RTE_MIN(seg, p->len - off);

		if (s == NULL) {
			rte_pktmbuf_free(m);
			return NULL;
		}
		memcpy(rte_pktmbuf_append(s, (uint16_t)n), p->b + off, n);
		if (m == NULL) {
			m = s;
		} else {
			last->next = s;
			m->nb_segs++;
			m->pkt_len += n;
		}
		last = s;
		off += n;
	}
	return m;
}

static void
set_tx(struct rte_mbuf *m, const struct pkt *p, uint64_t flags)
{
	m->ol_flags = flags;
	m->l2_len = p->l2;
	m->l3_len = p->l3;
	m->l4_len = p->l4;
}

/* Enqueue m (checking it is left untouched), and wait for the guest to
 * receive a packet (or, want_rx false, make sure it receives nothing).
 * @return 0 or -1. */
static int
enq(struct vt_dev *t, struct rte_mbuf *m, bool want_rx)
{
	static uint8_t before[PKT_MAX];
	uint32_t len = rte_pktmbuf_pkt_len(m);
	unsigned int got0 = cap.got;
	uint64_t ol = m->ol_flags;
	int ret = 0;

	memcpy(before, mbuf_bytes(m), len);
	if (vhu_enqueue_burst(t->dev, 0, &m, 1) != 1)
		ret = -1;
	/* The caller's mbuf is never modified. */
	if (memcmp(before, mbuf_bytes(m), len) != 0 || m->ol_flags != ol)
		ret = -1;
	rte_pktmbuf_free(m);
	for (int i = 0; i < 50 && cap.got == got0; i++) {
		if (vhu_fe_rx_poll(t->fe, 0, rx_capture, &cap, 4) < 0)
			return -1;
		if (cap.got == got0 && want_rx)
			usleep(1000);
	}
	if ((cap.got == got0 + 1) != want_rx)
		ret = -1;
	return ret;
}

/* The guest got p's bytes except (maybe) the checksum fields. */
static bool
same_but_csums(const struct pkt *p)
{
	static uint8_t a[PKT_MAX], b[PKT_MAX];

	if (cap.len != p->len)
		return false;
	memcpy(a, p->b, p->len);
	memcpy(b, cap.frame, p->len);
	memset(a + csum_field(p), 0, 2);
	memset(b + csum_field(p), 0, 2);
	if (p->ipv == 4) {
		memset(a + p->l2 + 10, 0, 2);
		memset(b + p->l2 + 10, 0, 2);
	}
	return memcmp(a, b, p->len) == 0;
}

static bool
hdr_is_zero(const struct virtio_net_hdr_v1 *h)
{
	return h->flags == 0 && h->gso_type == 0 && h->hdr_len == 0 &&
		h->gso_size == 0 && h->csum_start == 0 && h->csum_offset == 0;
}

static uint64_t
fe_violations(struct vt_dev *t)
{
	struct vhu_fe_stats st;

	vhu_fe_get_stats(t->fe, &st);
	return st.rx_violations;
}

/* ================================================================== */

/* The application asks for nothing: no offload feature is offered
 * (CSUM, in the default set, stays); the bits only come with `offloads`,
 * and follow features_masked and the spec's dependencies. */
static void
test_features_offered(void)
{
	struct vhu_device_config dc = {
		.path = "/tmp/vhu-ut-offload-never.sock",
		.max_queue_pairs = 1,
		.numa_socket = -1,
		.offloads = 1ULL << 10,
	};
	struct vhu_device *dev;
	uint64_t f;

	f = offered(0, 0, 0);
	VT_CHECK(f != UINT64_MAX);
	VT_CHECK_EQ(f & OFFLOAD_FEATURES, 0);
	VT_CHECK(f & F(VIRTIO_NET_F_CSUM));
	VT_CHECK_EQ(vhu_default_features() & OFFLOAD_FEATURES, 0);
	/* In `features` they are ignored. */
	f = offered(0, vhu_default_features() | OFFLOAD_FEATURES, 0);
	VT_CHECK_EQ(f & OFFLOAD_FEATURES, 0);

	f = offered(VHU_OFFLOAD_DEQUEUE_CSUM, 0, 0);
	VT_CHECK_EQ(f & OFFLOAD_FEATURES, 0);
	VT_CHECK(f & F(VIRTIO_NET_F_CSUM));
	f = offered(VHU_OFFLOAD_DEQUEUE_TSO, 0, 0);
	VT_CHECK_EQ(f & OFFLOAD_FEATURES,
		    F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6));
	VT_CHECK(f & F(VIRTIO_NET_F_CSUM));
	/* TSO adds CSUM even to an explicit set without it. */
	f = offered(VHU_OFFLOAD_DEQUEUE_TSO, F(VIRTIO_F_VERSION_1), 0);
	VT_CHECK_EQ(f, F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_CSUM) |
		    F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6));
	f = offered(VHU_OFFLOAD_ENQUEUE_CSUM, 0, 0);
	VT_CHECK_EQ(f & OFFLOAD_FEATURES, F(VIRTIO_NET_F_GUEST_CSUM));
	f = offered(VHU_OFFLOAD_ENQUEUE_TSO, 0, 0);
	VT_CHECK_EQ(f & OFFLOAD_FEATURES, F(VIRTIO_NET_F_GUEST_CSUM) |
		    F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6));
	f = offered(VHU_OFFLOAD_ALL, 0, 0);
	VT_CHECK_EQ(f & OFFLOAD_FEATURES, OFFLOAD_FEATURES);
	/* Masked: the bit goes, and TSO goes with its CSUM bit. */
	f = offered(VHU_OFFLOAD_ALL, 0, F(VIRTIO_NET_F_HOST_TSO6));
	VT_CHECK_EQ(f & OFFLOAD_FEATURES,
		    OFFLOAD_FEATURES & ~F(VIRTIO_NET_F_HOST_TSO6));
	f = offered(VHU_OFFLOAD_ALL, 0,
		    F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM));
	VT_CHECK_EQ(f & (OFFLOAD_FEATURES | F(VIRTIO_NET_F_CSUM)), 0);
	/* Unknown offload bits are refused. */
	VT_CHECK_EQ(vhu_device_register(&dc, &dev), -EINVAL);
}

/* Default device: partial checksums completed in software (also across
 * mbuf segments), no flags on the mbuf; a GSO header is invalid. */
static void
test_default_dequeue(void)
{
	static const struct pkt_spec specs[] = {
		{ 4, IPPROTO_TCP, 0, false, 12, 1000, CS_PSEUDO },
		{ 6, IPPROTO_UDP, 1, false, 0, 333, CS_PSEUDO },
		{ 6, IPPROTO_TCP, 0, true, 0, 100, CS_PSEUDO },
	};
	struct vt_dev t;
	struct virtio_net_hdr_v1 h;
	struct rte_mbuf *m;

	knobs_default(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4));
	VT_CHECK_EQ(ot_up(&t, "defdeq", 0), 0);
	VT_CHECK_EQ(vhu_fe_features(t.fe) & (OFFLOAD_FEATURES | F(VIRTIO_NET_F_CSUM)),
		    F(VIRTIO_NET_F_CSUM));
	for (unsigned int i = 0; i < RTE_DIM(specs); i++) {
		for (int tiny = 0; tiny < 2; tiny++) {
			build(&pk, &specs[i]);
			h = partial_hdr(&pk);
			m = roundtrip_deq(&t, &pk, &h,
					  tiny ? tiny_pool() : vt_pool());
			VT_CHECK(m != NULL);
			VT_CHECK_EQ(m->ol_flags, 0);
			VT_CHECK_EQ(rte_pktmbuf_pkt_len(m), pk.len);
			VT_CHECK(!tiny || m->nb_segs > 5);
			VT_CHECK(l4_valid(&pk, mbuf_bytes(m)));
			rte_pktmbuf_free(m);
		}
	}
	/* GSO was never offered: the chain is dropped as invalid. */
	build(&pk, &(struct pkt_spec){ 4, IPPROTO_TCP, 0, false, 0, 3000,
				       CS_PSEUDO });
	h = gso_hdr(&pk, 1448);
	VT_CHECK(roundtrip_deq(&t, &pk, &h, vt_pool()) == NULL);
	VT_CHECK_EQ(ring_stats(t.dev, 1).bad_offload, 1);
	VT_CHECK_EQ(ring_stats(t.dev, 1).drop_bad_desc, 1);
	VT_CHECK_EQ(ring_stats(t.dev, 1).packets, 6);
	vt_dev_close(&t);
}

/* VHU_OFFLOAD_DEQUEUE_CSUM: a TCP/UDP partial checksum becomes TX flags
 * and lengths (bytes untouched: the pseudo-header sum stays); anything
 * the flags cannot say is still completed in software. */
static void
test_dequeue_keep_csum(void)
{
	static const struct {
		struct pkt_spec s;
		uint64_t flags;
	} cases[] = {
		{ { 4, IPPROTO_TCP, 0, false, 12, 1000, CS_PSEUDO },
		  RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM },
		{ { 4, IPPROTO_UDP, 0, false, 0, 20, CS_PSEUDO },
		  RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM },
		{ { 6, IPPROTO_UDP, 1, false, 0, 500, CS_PSEUDO },
		  RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM },
		{ { 6, IPPROTO_TCP, 2, false, 0, 1400, CS_PSEUDO },
		  RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM },
		/* IPv4 with options (IHL 8). */
		{ { 4, IPPROTO_TCP, 1, false, 8, 700, CS_PSEUDO, 12 },
		  RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM },
		/* An IPv6 extension header: completed in software. */
		{ { 6, IPPROTO_TCP, 0, true, 0, 100, CS_PSEUDO }, 0 },
	};
	struct vt_dev t;
	struct virtio_net_hdr_v1 h;
	struct rte_mbuf *m;

	knobs_default(F(VIRTIO_NET_F_CSUM));
	VT_CHECK_EQ(ot_up(&t, "keepcsum", VHU_OFFLOAD_DEQUEUE_CSUM), 0);
	for (unsigned int i = 0; i < RTE_DIM(cases); i++) {
		for (int tiny = 0; tiny < 2; tiny++) {
			const uint8_t *b;

			build(&pk, &cases[i].s);
			h = partial_hdr(&pk);
			m = roundtrip_deq(&t, &pk, &h,
					  tiny ? tiny_pool() : vt_pool());
			VT_CHECK(m != NULL);
			VT_CHECK_EQ(m->ol_flags, cases[i].flags);
			b = mbuf_bytes(m);
			if (cases[i].flags == 0) {
				VT_CHECK(l4_valid(&pk, b));
				rte_pktmbuf_free(m);
				continue;
			}
			VT_CHECK_EQ(m->l2_len, pk.l2);
			VT_CHECK_EQ(m->l3_len, pk.l3);
			VT_CHECK_EQ(m->l4_len, pk.l4);
			/* As the guest sent it... */
			VT_CHECK_EQ(rte_pktmbuf_pkt_len(m), pk.len);
			VT_CHECK(memcmp(b, pk.b, pk.len) == 0);
			/* ...and what a NIC would make of it is valid. */
			memcpy(pk2.b, b, pk.len);
			guest_complete(pk2.b, pk.len, m->l2_len + m->l3_len,
				       csum_field(&pk) - pk.l2 - pk.l3);
			VT_CHECK(l4_valid(&pk, pk2.b));
			rte_pktmbuf_free(m);
		}
	}
	/* Offsets outside the packet are still refused (CVE-2024-11614). */
	build(&pk, &cases[0].s);
	h = partial_hdr(&pk);
	h.csum_start = (uint16_t)(pk.len - 1);
	VT_CHECK(roundtrip_deq(&t, &pk, &h, vt_pool()) == NULL);
	VT_CHECK_EQ(ring_stats(t.dev, 1).bad_offload, 1);
	vt_dev_close(&t);
}

/* VHU_OFFLOAD_DEQUEUE_RX_FLAGS: what DEQUEUE_CSUM / DEQUEUE_TSO leave to
 * the application is said with RX flags (DPDK vhost's compliant mode):
 * RX_L4_CKSUM_NONE (+ RX_LRO and tso_segsz for GSO), the packet type and
 * the lengths, no TX flag; vhu_mbuf_complete_rx_cksum() completes it. */
static void
test_dequeue_rx_flags(void)
{
	static const struct {
		struct pkt_spec s;
		uint32_t ptype;
		uint16_t gso;
	} cases[] = {
		{ { 4, IPPROTO_TCP, 0, false, 12, 1000, CS_PSEUDO },
		  RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP, 0 },
		{ { 4, IPPROTO_UDP, 1, false, 0, 20, CS_PSEUDO },
		  RTE_PTYPE_L2_ETHER_VLAN | RTE_PTYPE_L3_IPV4 |
		  RTE_PTYPE_L4_UDP, 0 },
		{ { 6, IPPROTO_UDP, 2, false, 0, 500, CS_PSEUDO },
		  RTE_PTYPE_L2_ETHER_QINQ | RTE_PTYPE_L3_IPV6 |
		  RTE_PTYPE_L4_UDP, 0 },
		{ { 6, IPPROTO_TCP, 0, false, 0, 1400, CS_PSEUDO },
		  RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV6 | RTE_PTYPE_L4_TCP, 0 },
		{ { 4, IPPROTO_TCP, 0, false, 12, 5000, CS_PSEUDO },
		  RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP,
		  1448 },
		{ { 6, IPPROTO_TCP, 1, false, 0, 7000, CS_PSEUDO },
		  RTE_PTYPE_L2_ETHER_VLAN | RTE_PTYPE_L3_IPV6 |
		  RTE_PTYPE_L4_TCP, 1000 },
		/* IPv4 options: L3_IPV4_EXT. */
		{ { 4, IPPROTO_UDP, 0, false, 0, 300, CS_PSEUDO, 4 },
		  RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4_EXT |
		  RTE_PTYPE_L4_UDP, 0 },
		{ { 4, IPPROTO_TCP, 2, false, 12, 6000, CS_PSEUDO, 40 },
		  RTE_PTYPE_L2_ETHER_QINQ | RTE_PTYPE_L3_IPV4_EXT |
		  RTE_PTYPE_L4_TCP, 1200 },
	};
	struct vt_dev t;
	struct virtio_net_hdr_v1 h;
	struct rte_mbuf *m;

	knobs_default(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
		      F(VIRTIO_NET_F_HOST_TSO6));
	VT_CHECK_EQ(ot_up(&t, "rxflags", VHU_OFFLOAD_DEQUEUE_CSUM |
			  VHU_OFFLOAD_DEQUEUE_TSO |
			  VHU_OFFLOAD_DEQUEUE_RX_FLAGS), 0);
	for (unsigned int i = 0; i < RTE_DIM(cases); i++) {
		for (int tiny = 0; tiny < 2; tiny++) {
			build(&pk, &cases[i].s);
			h = cases[i].gso ? gso_hdr(&pk, cases[i].gso) :
				partial_hdr(&pk);
			m = roundtrip_deq(&t, &pk, &h,
					  tiny ? tiny_pool() : vt_pool());
			VT_CHECK(m != NULL);
			VT_CHECK_EQ(m->ol_flags, RTE_MBUF_F_RX_L4_CKSUM_NONE |
				    (cases[i].gso ? RTE_MBUF_F_RX_LRO : 0));
			VT_CHECK_EQ(m->packet_type, cases[i].ptype);
			VT_CHECK_EQ(m->l2_len, pk.l2);
			VT_CHECK_EQ(m->l3_len, pk.l3);
			VT_CHECK_EQ(m->l4_len, pk.l4);
			if (cases[i].gso)
				VT_CHECK_EQ(m->tso_segsz, cases[i].gso);
			/* As the guest sent it (the pseudo-header sum)... */
			VT_CHECK_EQ(rte_pktmbuf_pkt_len(m), pk.len);
			VT_CHECK(memcmp(mbuf_bytes(m), pk.b, pk.len) == 0);
			VT_CHECK(!l4_valid(&pk, mbuf_bytes(m)));
			/* ...until the application has it completed. */
			VT_CHECK_EQ(vhu_mbuf_complete_rx_cksum(m), 0);
			VT_CHECK_EQ(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK,
				    RTE_MBUF_F_RX_L4_CKSUM_GOOD);
			VT_CHECK(l4_valid(&pk, mbuf_bytes(m)));
			/* Done once: a second call changes nothing. */
			VT_CHECK_EQ(vhu_mbuf_complete_rx_cksum(m), 0);
			VT_CHECK(l4_valid(&pk, mbuf_bytes(m)));
			rte_pktmbuf_free(m);
		}
	}
	/* What no flag can say is still completed by vhu: no flag. */
	build(&pk, &(struct pkt_spec){ 6, IPPROTO_TCP, 0, true, 0, 100,
				       CS_PSEUDO });
	h = partial_hdr(&pk);
	m = roundtrip_deq(&t, &pk, &h, vt_pool());
	VT_CHECK(m != NULL);
	VT_CHECK_EQ(m->ol_flags, 0);
	VT_CHECK(l4_valid(&pk, mbuf_bytes(m)));
	/* A packet type or lengths that place no checksum in the packet. */
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE;
	m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV6 |
		RTE_PTYPE_L4_ICMP;
	VT_CHECK_EQ(vhu_mbuf_complete_rx_cksum(m), -EINVAL);
	m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV6 |
		RTE_PTYPE_L4_TCP;
	m->l2_len = 14;
	m->l3_len = (uint16_t)(rte_pktmbuf_pkt_len(m) - 14 - 17);
	VT_CHECK_EQ(vhu_mbuf_complete_rx_cksum(m), -EINVAL);
	VT_CHECK_EQ(m->ol_flags, RTE_MBUF_F_RX_L4_CKSUM_NONE);
	VT_CHECK(l4_valid(&pk, mbuf_bytes(m)));
	rte_pktmbuf_free(m);
	VT_CHECK_EQ(ring_stats(t.dev, 1).bad_offload, 0);
	vt_dev_close(&t);
}

/* VHU_OFFLOAD_DEQUEUE_TSO: a GSO packet becomes one TSO mbuf. */
static void
test_dequeue_tso(void)
{
	struct vt_dev t;
	struct virtio_net_hdr_v1 h;
	struct rte_mbuf *m;

	knobs_default(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |
		      F(VIRTIO_NET_F_HOST_TSO6));
	VT_CHECK_EQ(ot_up(&t, "deqtso", VHU_OFFLOAD_DEQUEUE_TSO), 0);
	VT_CHECK_EQ(vhu_device_features(t.dev) & OFFLOAD_FEATURES,
		    F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6));

	build(&pk, &(struct pkt_spec){ 4, IPPROTO_TCP, 0, false, 12, 5000,
				       CS_PSEUDO });
	h = gso_hdr(&pk, 1448);
	h.hdr_len = 7; /* a hint only: not used */
	m = roundtrip_deq(&t, &pk, &h, vt_pool());
	VT_CHECK(m != NULL);
	VT_CHECK_EQ(m->ol_flags, RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM |
		    RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
	VT_CHECK_EQ(m->tso_segsz, 1448);
	VT_CHECK_EQ(m->l2_len, 14);
	VT_CHECK_EQ(m->l3_len, 20);
	VT_CHECK_EQ(m->l4_len, 32);
	VT_CHECK_EQ(rte_pktmbuf_pkt_len(m), pk.len);
	VT_CHECK(memcmp(mbuf_bytes(m), pk.b, pk.len) == 0);
	rte_pktmbuf_free(m);

	build(&pk, &(struct pkt_spec){ 6, IPPROTO_TCP, 1, false, 0, 7000,
				       CS_PSEUDO });
	h = gso_hdr(&pk, 1000);
	m = roundtrip_deq(&t, &pk, &h, tiny_pool());
	VT_CHECK(m != NULL);
	VT_CHECK_EQ(m->ol_flags, RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM |
		    RTE_MBUF_F_TX_IPV6);
	VT_CHECK_EQ(m->tso_segsz, 1000);
	VT_CHECK_EQ(m->l2_len, 18);
	VT_CHECK_EQ(m->l3_len, 40);
	VT_CHECK_EQ(m->l4_len, 20);
	VT_CHECK(memcmp(mbuf_bytes(m), pk.b, pk.len) == 0);
	rte_pktmbuf_free(m);

	/* Without DEQUEUE_CSUM a plain partial checksum is completed. */
	build(&pk, &(struct pkt_spec){ 4, IPPROTO_TCP, 0, false, 0, 100,
				       CS_PSEUDO });
	h = partial_hdr(&pk);
	m = roundtrip_deq(&t, &pk, &h, vt_pool());
	VT_CHECK(m != NULL);
	VT_CHECK_EQ(m->ol_flags, 0);
	VT_CHECK(l4_valid(&pk, mbuf_bytes(m)));
	rte_pktmbuf_free(m);
	VT_CHECK_EQ(ring_stats(t.dev, 1).bad_offload, 0);
	vt_dev_close(&t);
}

/* Every class of invalid GSO header: consumed, dropped, counted (both
 * counters); valid packets around them still go; the ring is not broken
 * below the limit. The guest negotiated HOST_TSO4 only. */
static void
test_dequeue_bad_gso(void)
{
	enum { GSO_SIZE0, TYPE_UNKNOWN, TYPE_UDP, TYPE_UDP_L4, ECN, NO_CSUM,
		TCPV6_NOT_NEGOTIATED, V4_ON_V6, V4_ON_UDP, START_BEYOND,
		OFFSET_BEYOND, START_WRONG, OFFSET_WRONG, IP_LEN_WRONG,
		NO_PAYLOAD, NCASES };
	struct vt_dev t;
	struct virtio_net_hdr_v1 h;
	struct rte_mbuf *pkts[32];
	struct vhu_ring_state rs;
	uint16_t n = 0, k;

	knobs_default(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4));
	VT_CHECK_EQ(ot_up(&t, "badgso", VHU_OFFLOAD_DEQUEUE_TSO), 0);
	VT_CHECK(!(vhu_device_features(t.dev) & F(VIRTIO_NET_F_HOST_TSO6)));
	for (int c = 0; c < NCASES; c++) {
		struct pkt_spec s = { 4, IPPROTO_TCP, 0, false, 0, 3000,
				      CS_PSEUDO };

		if (c == TCPV6_NOT_NEGOTIATED || c == V4_ON_V6)
			s.ipv = 6;
		if (c == V4_ON_UDP)
			s.proto = IPPROTO_UDP;
		if (c == NO_PAYLOAD)
			s.payload = 0;
		build(&pk, &s);
		h = gso_hdr(&pk, 1448);
		switch (c) {
		case GSO_SIZE0: h.gso_size = 0; break;
		case TYPE_UNKNOWN: h.gso_type = 2; break;
		case TYPE_UDP: h.gso_type = VIRTIO_NET_HDR_GSO_UDP; break;
		case TYPE_UDP_L4: h.gso_type = 5; break;
		case ECN: h.gso_type |= VIRTIO_NET_HDR_GSO_ECN; break;
		case NO_CSUM: h.flags = 0; break;
		case V4_ON_V6: h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4; break;
		case V4_ON_UDP: h.csum_offset = 16; break;
		case START_BEYOND: h.csum_start = (uint16_t)pk.len; break;
		case OFFSET_BEYOND: h.csum_offset = (uint16_t)(pk.len - 34 - 1); break;
		case START_WRONG: h.csum_start = 14; break;
		case OFFSET_WRONG: h.csum_offset = 6; break;
		case IP_LEN_WRONG:
			put16(pk.b + 14 + 2, (uint16_t)(get16(pk.b + 16) - 100));
			put16(pk.b + 14 + 10, 0);
			put16(pk.b + 14 + 10, (uint16_t)~fold(sum_be(pk.b + 14, 20, 0)));
			break;
		default: break;
		}
		VT_CHECK_EQ(post(&t, &pk, &h), 0);
		n++;
	}
	/* Then a valid GSO packet and a plain one. */
	build(&pk, &(struct pkt_spec){ 4, IPPROTO_TCP, 0, false, 0, 3000,
				       CS_PSEUDO });
	h = gso_hdr(&pk, 1448);
	VT_CHECK_EQ(post(&t, &pk, &h), 0);
	VT_CHECK_EQ(post(&t, &pk, NULL), 0);
	VT_CHECK_EQ(vhu_fe_tx_flush(t.fe, 0), 0);
	k = vhu_dequeue_burst(t.dev, 0, vt_pool(), pkts, 32);
	VT_CHECK_EQ(k, 2);
	VT_CHECK(pkts[0]->ol_flags & RTE_MBUF_F_TX_TCP_SEG);
	VT_CHECK_EQ(pkts[1]->ol_flags, 0);
	rte_pktmbuf_free_bulk(pkts, k);
	VT_CHECK_EQ(ring_stats(t.dev, 1).bad_offload, n);
	VT_CHECK_EQ(ring_stats(t.dev, 1).drop_bad_desc, n);
	VT_CHECK_EQ(vhu_fe_tx_reclaim(t.fe, 0), n + 2);
	VT_CHECK_EQ(vhu_device_ring_state(t.dev, 1, &rs), 0);
	VT_CHECK(!rs.broken);
	vt_dev_close(&t);
}

/* Whether the free objects of mp (a pool without a cache) include any
 * of m[0, n): drains the pool to look, then refills it. */
static bool
pool_holds_any(struct rte_mempool *mp, struct rte_mbuf *const *m, unsigned int n)
{
	static void *all[8192];
	unsigned int cnt = rte_mempool_avail_count(mp), i, j;
	bool found = false;

	if (cnt > RTE_DIM(all) || rte_mempool_get_bulk(mp, all, cnt) != 0)
		return true; /* cannot tell: fail the check */
	for (i = 0; i < cnt; i++)
		for (j = 0; j < n; j++)
			found |= all[i] == (void *)m[j];
	rte_mempool_put_bulk(mp, all, cnt);
	return found;
}

/* One burst mixing packets copied in the dequeue's two passes (flat ones
 * after the whole burst is translated, others at once) with invalid
 * headers in both: the good ones come out in the guest's order, the bad
 * ones are counted, and every mbuf goes back to the pool. */
static void
test_dequeue_mixed_burst(void)
{
	/* payload, header layout, valid offload header */
	static const struct { uint32_t payload; int layout; bool good; } p[] = {
		{ 100, VHU_FE_TX_ONE, true },
		{ 100, VHU_FE_TX_ONE, false },
		{ 3000, VHU_FE_TX_ONE, true },       /* > one mbuf */
		{ 200, VHU_FE_TX_HDR_SPLIT, true },
		{ 60, VHU_FE_TX_ONE, false },
		{ 3000, VHU_FE_TX_ONE, false },
		{ 80, VHU_FE_TX_ONE, false },
		{ 90, VHU_FE_TX_ONE, true },
	};
	struct pkt sent[RTE_DIM(p)];
	struct rte_mbuf *pkts[32];
	struct vt_dev t;
	unsigned int avail, i, bad = 0, j = 0, segs = 0;
	uint16_t k;

	knobs_default(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4));
	VT_CHECK_EQ(ot_up(&t, "mixdeq", 0), 0);
	avail = rte_mempool_avail_count(vt_pool());
	for (i = 0; i < RTE_DIM(p); i++) {
		struct vhu_fe_tx_opts o = { .layout = p[i].layout };
		struct virtio_net_hdr_v1 h;

		build(&sent[i], &(struct pkt_spec){ 4, IPPROTO_UDP, 0, false, 0,
						   p[i].payload, CS_PSEUDO });
		/* GSO was not negotiated: such a header is invalid. */
		h = p[i].good ? partial_hdr(&sent[i]) : gso_hdr(&sent[i], 1448);
		o.hdr = &h;
		VT_CHECK_EQ(vhu_fe_tx_post(t.fe, 0, sent[i].b, sent[i].len, &o), 0);
		bad += !p[i].good;
	}
	VT_CHECK_EQ(vhu_fe_tx_flush(t.fe, 0), 0);
	k = vhu_dequeue_burst(t.dev, 0, vt_pool(), pkts, 32);
	VT_CHECK_EQ(k, RTE_DIM(p) - bad);
	for (i = 0; i < RTE_DIM(p); i++) {
		if (!p[i].good)
			continue;
		VT_CHECK(j < k);
		VT_CHECK_EQ(rte_pktmbuf_pkt_len(pkts[j]), sent[i].len);
		VT_CHECK_EQ(pkts[j]->ol_flags, 0);
		VT_CHECK(l4_valid(&sent[i], mbuf_bytes(pkts[j])));
		j++;
	}
	/* Every mbuf not returned is back in the pool, and none returned. */
	for (i = 0; i < k; i++)
		segs += pkts[i]->nb_segs;
	VT_CHECK_EQ(rte_mempool_avail_count(vt_pool()), avail - segs);
	VT_CHECK(!pool_holds_any(vt_pool(), pkts, k));
	rte_pktmbuf_free_bulk(pkts, k);
	VT_CHECK_EQ(rte_mempool_avail_count(vt_pool()), avail);
	VT_CHECK_EQ(ring_stats(t.dev, 1).bad_offload, bad);
	VT_CHECK_EQ(ring_stats(t.dev, 1).packets, RTE_DIM(p) - bad);
	VT_CHECK_EQ(vhu_fe_tx_reclaim(t.fe, 0), RTE_DIM(p));
	vt_dev_close(&t);
}

/* p in mbuf segments of seg bytes asking for its IPv4 and TCP
 * checksums, to a guest without GUEST_CSUM: delivered with no
 * virtio-net header flags, both checksums completed, nothing else
 * changed. */
static void
enq_ipv4_tcp_sw_cksum(struct vt_dev *t, const struct pkt *p, uint32_t seg)
{
	struct rte_mbuf *m = mbuf_of(p, seg);

	set_tx(m, p, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
	       RTE_MBUF_F_TX_TCP_CKSUM);
	VT_CHECK_EQ(enq(t, m, true), 0);
	VT_CHECK(hdr_is_zero(&cap.hdr));
	VT_CHECK(same_but_csums(p));
	VT_CHECK(ip_valid(p, cap.frame));
	VT_CHECK(l4_valid(p, cap.frame));
}

/* Default device: the mbuf's checksum requests are computed in software
 * into the guest's copy (the field may straddle two guest buffers), the
 * header asks for nothing; TSO the guest cannot take is dropped (one
 * segment's worth is just checksummed). */
static void
test_enqueue_software(void)
{
	struct vt_dev t;
	struct rte_mbuf *m;

	knobs_default(0);
	knob.rx_buf = 67; /* TCP field of a VLAN/IPv4 frame: bytes 66, 67 */
	VT_CHECK_EQ(ot_up(&t, "enqsw", 0), 0);
	memset(&cap, 0, sizeof(cap));

	build(&pk, &(struct pkt_spec){ 4, IPPROTO_TCP, 1, false, 8, 1200,
				       CS_GARBAGE });
	put16(pk.b + pk.l2 + 10, 0);
	enq_ipv4_tcp_sw_cksum(&t, &pk, 500);

	/* IPv4 options (IHL 9): both checksums over the right lengths. */
	build(&pk, &(struct pkt_spec){ 4, IPPROTO_TCP, 0, false, 4, 900,
				       CS_GARBAGE, 16 });
	put16(pk.b + pk.l2 + 10, 0x5555);
	enq_ipv4_tcp_sw_cksum(&t, &pk, 300);

	build(&pk, &(struct pkt_spec){ 6, IPPROTO_UDP, 2, true, 0, 777,
				       CS_PSEUDO });
	m = mbuf_of(&pk, 33);
	set_tx(m, &pk, RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM);
	VT_CHECK_EQ(enq(&t, m, true), 0);
	VT_CHECK(hdr_is_zero(&cap.hdr));
	VT_CHECK(same_but_csums(&pk));
	VT_CHECK(l4_valid(&pk, cap.frame));

	/* TSO of one segment: a checksum request. */
	build(&pk, &(struct pkt_spec){ 4, IPPROTO_TCP, 0, false, 0, 1000,
				       CS_PSEUDO });
	m = mbuf_of(&pk, 2000);
	set_tx(m, &pk, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG);
	m->tso_segsz = 1448;
	VT_CHECK_EQ(enq(&t, m, true), 0);
	VT_CHECK(hdr_is_zero(&cap.hdr));
	VT_CHECK(l4_valid(&pk, cap.frame));
	/* TSO of more: no GUEST_TSO, no software segmentation: dropped. */
	build(&pk, &(struct pkt_spec){ 4, IPPROTO_TCP, 0, false, 0, 3000,
				       CS_PSEUDO });
	m = mbuf_of(&pk, 2000);
	set_tx(m, &pk, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG);
	m->tso_segsz = 1448;
	VT_CHECK_EQ(enq(&t, m, false), 0);
	VT_CHECK_EQ(ring_stats(t.dev, 0).drop_offload, 1);

	/* An RX checksum status means nothing without GUEST_CSUM. */
	build(&pk, &(struct pkt_spec){ 4, IPPROTO_UDP, 0, false, 0, 100,
				       CS_FULL });
	m = mbuf_of(&pk, 2000);
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	VT_CHECK_EQ(enq(&t, m, true), 0);
	VT_CHECK(hdr_is_zero(&cap.hdr));
	VT_CHECK(memcmp(cap.frame, pk.b, pk.len) == 0);

	VT_CHECK_EQ(cap.got, 5);
	VT_CHECK_EQ(ring_stats(t.dev, 0).packets, 5);
	VT_CHECK_EQ(fe_violations(&t), 0);
	vt_dev_close(&t);
}

/* VHU_OFFLOAD_ENQUEUE_CSUM, GUEST_CSUM negotiated: checksum requests go
 * to the guest as NEEDS_CSUM with the pseudo-header sum in the field;
 * RX_L4_CKSUM_GOOD becomes DATA_VALID. A guest that did not negotiate it
 * gets software checksums. */
static void
test_enqueue_guest_csum(void)
{
	struct vt_dev t;
	struct rte_mbuf *m;

	knobs_default(F(VIRTIO_NET_F_GUEST_CSUM));
	VT_CHECK_EQ(ot_up(&t, "enqcsum", VHU_OFFLOAD_ENQUEUE_CSUM), 0);
	VT_CHECK(vhu_fe_features(t.fe) & F(VIRTIO_NET_F_GUEST_CSUM));
	memset(&cap, 0, sizeof(cap));

	build(&pk, &(struct pkt_spec){ 4, IPPROTO_TCP, 0, false, 0, 1400,
				       CS_GARBAGE });
	put16(pk.b + pk.l2 + 10, 0xdead);
	m = mbuf_of(&pk, 700);
	set_tx(m, &pk, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
	       RTE_MBUF_F_TX_TCP_CKSUM);
	VT_CHECK_EQ(enq(&t, m, true), 0);
	VT_CHECK_EQ(cap.hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	VT_CHECK_EQ(cap.hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	VT_CHECK_EQ(cap.hdr.csum_start, 34);
	VT_CHECK_EQ(cap.hdr.csum_offset, 16);
	VT_CHECK(same_but_csums(&pk));
	VT_CHECK(ip_valid(&pk, cap.frame));
	VT_CHECK_EQ(get16(cap.frame + csum_field(&pk)),
		    fold(pseudo_sum(&pk, pk.b)));
	guest_complete(cap.frame, cap.len, cap.hdr.csum_start,
		       cap.hdr.csum_offset);
	VT_CHECK(l4_valid(&pk, cap.frame));

	/* IPv4 options: csum_start after them, the pseudo-header sum
	 * counts no option byte. */
	build(&pk, &(struct pkt_spec){ 4, IPPROTO_TCP, 1, false, 0, 600,
				       CS_GARBAGE, 24 });
	m = mbuf_of(&pk, 2000);
	set_tx(m, &pk, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
	       RTE_MBUF_F_TX_TCP_CKSUM);
	VT_CHECK_EQ(enq(&t, m, true), 0);
	VT_CHECK_EQ(cap.hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	VT_CHECK_EQ(cap.hdr.csum_start, 18 + 44);
	VT_CHECK(ip_valid(&pk, cap.frame));
	VT_CHECK_EQ(get16(cap.frame + csum_field(&pk)),
		    fold(pseudo_sum(&pk, pk.b)));
	guest_complete(cap.frame, cap.len, cap.hdr.csum_start,
		       cap.hdr.csum_offset);
	VT_CHECK(l4_valid(&pk, cap.frame));

	build(&pk, &(struct pkt_spec){ 6, IPPROTO_UDP, 1, false, 0, 50,
				       CS_GARBAGE });
	m = mbuf_of(&pk, 2000);
	set_tx(m, &pk, RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM);
	VT_CHECK_EQ(enq(&t, m, true), 0);
	VT_CHECK_EQ(cap.hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	VT_CHECK_EQ(cap.hdr.csum_start, 18 + 40);
	VT_CHECK_EQ(cap.hdr.csum_offset, 6);
	guest_complete(cap.frame, cap.len, cap.hdr.csum_start,
		       cap.hdr.csum_offset);
	VT_CHECK(l4_valid(&pk, cap.frame));

	build(&pk, &(struct pkt_spec){ 4, IPPROTO_UDP, 0, false, 0, 100,
				       CS_FULL });
	m = mbuf_of(&pk, 2000);
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	VT_CHECK_EQ(enq(&t, m, true), 0);
	VT_CHECK_EQ(cap.hdr.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	VT_CHECK(memcmp(cap.frame, pk.b, pk.len) == 0);
	m = mbuf_of(&pk, 2000);
	m->ol_flags = RTE_MBUF_F_RX_L4_CKSUM_BAD;
	VT_CHECK_EQ(enq(&t, m, true), 0);
	VT_CHECK(hdr_is_zero(&cap.hdr));
	m = mbuf_of(&pk, 2000);
	VT_CHECK_EQ(enq(&t, m, true), 0);
	VT_CHECK(hdr_is_zero(&cap.hdr));
	/* DATA_VALID takes the plain packets' fast path (one segment) and
	 * the cursor (a chain) alike; the flag never sticks to a buffer. */
	/* More packets than the ring has buffers: each is reused. */
	for (int i = 0; i < 600; i++) {
		bool good = i % 3 != 2;

		m = mbuf_of(&pk, i % 5 != 4 ? 2000 : 40);
		m->ol_flags = good ? RTE_MBUF_F_RX_L4_CKSUM_GOOD : 0;
		VT_CHECK_EQ(enq(&t, m, true), 0);
		VT_CHECK_EQ(cap.hdr.flags,
			    good ? VIRTIO_NET_HDR_F_DATA_VALID : 0);
		VT_CHECK_EQ(cap.hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		VT_CHECK_EQ(cap.hdr.csum_start, 0);
		VT_CHECK(memcmp(cap.frame, pk.b, pk.len) == 0);
	}
	VT_CHECK_EQ(fe_violations(&t), 0);
	vt_dev_close(&t);

	/* Offered, not negotiated: software. */
	knobs_default(0);
	VT_CHECK_EQ(ot_up(&t, "enqcsum0", VHU_OFFLOAD_ENQUEUE_CSUM), 0);
	VT_CHECK(vhu_fe_backend_features(t.fe) & F(VIRTIO_NET_F_GUEST_CSUM));
	VT_CHECK(!(vhu_fe_features(t.fe) & F(VIRTIO_NET_F_GUEST_CSUM)));
	build(&pk, &(struct pkt_spec){ 4, IPPROTO_TCP, 0, false, 0, 1400,
				       CS_GARBAGE });
	m = mbuf_of(&pk, 700);
	set_tx(m, &pk, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM |
	       RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	VT_CHECK_EQ(enq(&t, m, true), 0);
	VT_CHECK(hdr_is_zero(&cap.hdr));
	VT_CHECK(l4_valid(&pk, cap.frame));
	VT_CHECK_EQ(fe_violations(&t), 0);
	vt_dev_close(&t);
}

/* VHU_OFFLOAD_ENQUEUE_TSO: a TSO mbuf reaches the guest as one GSO
 * packet over mergeable buffers; a guest with GUEST_TSO4 only gets IPv6
 * TSO dropped. */
static void
test_enqueue_tso(void)
{
	static const struct pkt_spec specs[] = {
		{ 4, IPPROTO_TCP, 0, false, 12, 6000, CS_GARBAGE },
		{ 6, IPPROTO_TCP, 1, false, 0, 8000, CS_PSEUDO },
	};
	struct vt_dev t;
	struct rte_mbuf *m;

	knobs_default(F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
		      F(VIRTIO_NET_F_GUEST_TSO6));
	VT_CHECK_EQ(ot_up(&t, "enqtso", VHU_OFFLOAD_ENQUEUE_TSO), 0);
	memset(&cap, 0, sizeof(cap));
	for (unsigned int i = 0; i < RTE_DIM(specs); i++) {
		build(&pk, &specs[i]);
		m = mbuf_of(&pk, 1500);
		set_tx(m, &pk, (pk.ipv == 4 ? RTE_MBUF_F_TX_IPV4 |
				RTE_MBUF_F_TX_IP_CKSUM : RTE_MBUF_F_TX_IPV6) |
		       RTE_MBUF_F_TX_TCP_SEG);
		m->tso_segsz = 1448;
		VT_CHECK_EQ(enq(&t, m, true), 0);
		VT_CHECK_EQ(cap.hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
		VT_CHECK_EQ(cap.hdr.gso_type, pk.ipv == 4 ?
			    VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6);
		VT_CHECK_EQ(cap.hdr.gso_size, 1448);
		VT_CHECK_EQ(cap.hdr.hdr_len, pk.l2 + pk.l3 + pk.l4);
		VT_CHECK_EQ(cap.hdr.csum_start, pk.l2 + pk.l3);
		VT_CHECK_EQ(cap.hdr.csum_offset, 16);
		VT_CHECK(same_but_csums(&pk));
		VT_CHECK(ip_valid(&pk, cap.frame));
		/* Linux convention: pseudo-header with the whole length. */
		VT_CHECK_EQ(get16(cap.frame + csum_field(&pk)),
			    fold(pseudo_sum(&pk, pk.b)));
		guest_complete(cap.frame, cap.len, cap.hdr.csum_start, 16);
		VT_CHECK(l4_valid(&pk, cap.frame));
	}
	/* One segment's worth: no GSO, just the checksum request. */
	build(&pk, &(struct pkt_spec){ 4, IPPROTO_TCP, 0, false, 0, 1448,
				       CS_PSEUDO });
	m = mbuf_of(&pk, 2000);
	set_tx(m, &pk, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG);
	m->tso_segsz = 1448;
	VT_CHECK_EQ(enq(&t, m, true), 0);
	VT_CHECK_EQ(cap.hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	VT_CHECK_EQ(cap.hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	VT_CHECK_EQ(ring_stats(t.dev, 0).drop_offload, 0);
	VT_CHECK_EQ(fe_violations(&t), 0);
	vt_dev_close(&t);

	knobs_default(F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4));
	VT_CHECK_EQ(ot_up(&t, "enqtso4", VHU_OFFLOAD_ENQUEUE_TSO), 0);
	build(&pk, &specs[1]);
	m = mbuf_of(&pk, 1500);
	set_tx(m, &pk, RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_SEG);
	m->tso_segsz = 1448;
	VT_CHECK_EQ(enq(&t, m, false), 0);
	VT_CHECK_EQ(ring_stats(t.dev, 0).drop_offload, 1);
	build(&pk, &specs[0]);
	m = mbuf_of(&pk, 1500);
	set_tx(m, &pk, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG);
	m->tso_segsz = 1448;
	VT_CHECK_EQ(enq(&t, m, true), 0);
	VT_CHECK_EQ(cap.hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	VT_CHECK_EQ(fe_violations(&t), 0);
	vt_dev_close(&t);
}

/* mbuf metadata that cannot be honoured: each packet is handled (the
 * burst counts it), dropped, counted; the guest sees nothing of it. */
static void
test_enqueue_bad_metadata(void)
{
	enum { IHL_MISMATCH, L2_BEYOND, UDP_SEG, SCTP, TUNNEL, OUTER_IP,
		TSO_SEGSZ0, TSO_L4_SHORT, IP_LEN_BEYOND, NOT_IP, L4_SHORT,
		NCASES };
	struct vt_dev t;
	struct rte_mbuf *m;

	knobs_default(F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4));
	VT_CHECK_EQ(ot_up(&t, "enqbad", VHU_OFFLOAD_ALL), 0);
	memset(&cap, 0, sizeof(cap));
	for (int c = 0; c < NCASES; c++) {
		struct pkt_spec s = { 4, IPPROTO_TCP, 0, false, 0, 3000,
				      CS_PSEUDO };
		uint64_t fl = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;

		if (c == L4_SHORT) {
			s.proto = IPPROTO_UDP;
			s.payload = 4;
		}
		if (c == L2_BEYOND)
			s.payload = 10;
		build(&pk, &s);
		m = mbuf_of(&pk, 1000);
		switch (c) {
		case IHL_MISMATCH: set_tx(m, &pk, fl); m->l3_len = 24; break;
		case L2_BEYOND: set_tx(m, &pk, fl); m->l2_len = 127;
			m->l3_len = 511; break;
		case UDP_SEG: set_tx(m, &pk, RTE_MBUF_F_TX_IPV4 |
				     RTE_MBUF_F_TX_UDP_SEG); break;
		case SCTP: set_tx(m, &pk, RTE_MBUF_F_TX_IPV4 |
				  RTE_MBUF_F_TX_SCTP_CKSUM); break;
		case TUNNEL: set_tx(m, &pk, fl | RTE_MBUF_F_TX_TUNNEL_VXLAN); break;
		case OUTER_IP: set_tx(m, &pk, RTE_MBUF_F_TX_OUTER_IP_CKSUM); break;
		case TSO_SEGSZ0: set_tx(m, &pk, RTE_MBUF_F_TX_IPV4 |
				       RTE_MBUF_F_TX_TCP_SEG); m->tso_segsz = 0; break;
		case TSO_L4_SHORT: set_tx(m, &pk, RTE_MBUF_F_TX_IPV4 |
					 RTE_MBUF_F_TX_TCP_SEG);
			m->tso_segsz = 1448; m->l4_len = 12; break;
		case IP_LEN_BEYOND: set_tx(m, &pk, fl); rte_pktmbuf_trim(m, 10); break;
		case NOT_IP: set_tx(m, &pk, fl); m->l2_len = 0; break;
		case L4_SHORT: set_tx(m, &pk, RTE_MBUF_F_TX_IPV4 |
				      RTE_MBUF_F_TX_TCP_CKSUM); break;
		default: break;
		}
		VT_CHECK_EQ(enq(&t, m, false), 0);
		VT_CHECK_EQ(ring_stats(t.dev, 0).drop_offload, c + 1);
	}
	VT_CHECK_EQ(cap.got, 0);
	VT_CHECK_EQ(ring_stats(t.dev, 0).packets, 0);
	/* The ring is fine: a valid request goes. */
	build(&pk, &(struct pkt_spec){ 4, IPPROTO_TCP, 0, false, 0, 3000,
				       CS_PSEUDO });
	m = mbuf_of(&pk, 1000);
	set_tx(m, &pk, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG);
	m->tso_segsz = 1000;
	VT_CHECK_EQ(enq(&t, m, true), 0);
	VT_CHECK_EQ(cap.hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	VT_CHECK_EQ(ring_stats(t.dev, 0).packets, 1);
	vt_dev_close(&t);
}

static const struct vhu_test_case cases[] = {
	{ "features_offered", test_features_offered },
	{ "default_dequeue", test_default_dequeue },
	{ "dequeue_keep_csum", test_dequeue_keep_csum },
	{ "dequeue_rx_flags", test_dequeue_rx_flags },
	{ "dequeue_tso", test_dequeue_tso },
	{ "dequeue_bad_gso", test_dequeue_bad_gso },
	{ "dequeue_mixed_burst", test_dequeue_mixed_burst },
	{ "enqueue_software", test_enqueue_software },
	{ "enqueue_guest_csum", test_enqueue_guest_csum },
	{ "enqueue_tso", test_enqueue_tso },
	{ "enqueue_bad_metadata", test_enqueue_bad_metadata },
};

int
main(int argc, char **argv)
{
	RTE_SET_USED(argc);
	return vt_main("offload", cases, RTE_DIM(cases), 1, argv[0]);
}
