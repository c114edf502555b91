/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split-ring datapath through the test front-end: every feature and
 * layout combination, payload integrity over a million mixed-size packets,
 * multi-segment mbufs, notifications (EVENT_IDX and NO_INTERRUPT),
 * checksum completion, dirty-page logging, and each malicious-ring case
 * (consumed, dropped, counted; the ring broken after repeated violations
 * while other rings keep running).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include <linux/virtio_config.h>
#include <linux/vhost_types.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "vhu_test_dev.h"
#include "vhu_test_eal.h"

VHU_TEST_MAIN_DEFS;

#define F(b) (1ULL << (b))

/* The layout knobs one combination sets. */
static struct {
	uint64_t features;
	enum vhu_fe_tx_layout tx;
	enum vhu_fe_rx_layout rx;
	uint32_t rx_buf;
	uint32_t tx_buf;
	unsigned int queue_size;
	bool interrupts;
} knob;

static void
apply_knobs(struct vhu_fe_config *c)
{
	c->features = knob.features;
	c->tx_layout = knob.tx;
	c->rx_layout = knob.rx;
	c->rx_buf_size = knob.rx_buf;
	c->tx_buf_size = knob.tx_buf;
	c->queue_size = knob.queue_size;
	c->interrupts = knob.interrupts;
	c->inject_kick = false;
	c->notify = false;
}

static void
knobs_default(void)
{
	knob.features = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) |
		F(VHU_F_PROTOCOL_FEATURES);
	knob.tx = VHU_FE_TX_ONE;
	knob.rx = VHU_FE_RX_ONE;
	knob.rx_buf = 2048;
	knob.tx_buf = 2048;
	knob.queue_size = 256;
	knob.interrupts = false;
}

struct rx_check {
	uint64_t next_seq;
	unsigned int got;
	unsigned int bad;
	size_t expect_len;     /* 0: any */
};

static int
rx_verify(void *arg, unsigned int qp, const struct virtio_net_hdr_v1 *hdr,
		const uint8_t *frame, size_t len)
{
	struct rx_check *c = arg;
	uint64_t seq;

	RTE_SET_USED(qp);
	RTE_SET_USED(hdr);
	if (vhu_fe_frame_check(frame, len, &seq) != 0 || seq != c->next_seq ||
	    (c->expect_len != 0 && len != c->expect_len))
		c->bad++;
	c->next_seq++;
	c->got++;
	return 0;
}

/* A test frame of len bytes with sequence number seq in an mbuf; frames
 * larger than one mbuf become a chain of 1000-byte segments. */
static struct rte_mbuf *
frame_mbuf(size_t len, uint64_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(vt_pool());
	uint8_t buf[VHU_FE_FRAME_MAX];
	struct rte_mbuf *last = m;
	size_t off = 0;

	if (m == NULL)
		return NULL;
	if (len <= rte_pktmbuf_tailroom(m)) {
		vhu_fe_frame_build((uint8_t *)rte_pktmbuf_append(m,
				(uint16_t)len), len, seq);
		return m;
	}
	vhu_fe_frame_build(buf, len, seq);
	while (off < len) {
		size_t k = RTE_MIN(len - off, (size_t)1000);

		if (rte_pktmbuf_tailroom(last) < k) {
			struct rte_mbuf *s = rte_pktmbuf_alloc(vt_pool());

			if (s == NULL) {
				rte_pktmbuf_free(m);
				return NULL;
			}
			last->next = s;
			last = s;
			m->nb_segs++;
		}
		memcpy(rte_pktmbuf_mtod_offset(last, uint8_t *, last->data_len),
		       buf + off, k);
		last->data_len += k;
		m->pkt_len += k;
		off += k;
	}
	return m;
}

/* Enqueue n frames of len (seq from seq0) and receive them in the guest. */
static int
loop_to_guest(struct vt_dev *t, unsigned int n, size_t len, uint64_t seq0,
		struct rx_check *c)
{
	struct rte_mbuf *m;
	unsigned int sent = 0, target = c->got + n;

	for (int spins = 0; spins < 10000 && c->got < target; spins++) {
		if (sent < n) {
			m = frame_mbuf(len, seq0 + sent);
			if (m == NULL)
				return -ENOMEM;
			if (vhu_enqueue_burst(t->dev, 0, &m, 1) == 1)
				sent++;
			rte_pktmbuf_free(m);
		}
		if (vhu_fe_rx_poll(t->fe, 0, rx_verify, c, 64) < 0)
			return -EPROTO;
	}
	return 0;
}

/* Every combination of header size, mergeable buffers, TX and RX
 * layouts, indirect descriptors, EVENT_IDX and IN_ORDER, both ways. */
static void
test_feature_matrix(void)
{
	static const uint64_t hdrs[] = {
		F(VIRTIO_F_VERSION_1),                      /* 12-byte header */
		0,                                          /* legacy, 10 */
		F(VIRTIO_NET_F_MRG_RXBUF),                  /* legacy mrg, 12 */
		F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF),
	};
	static const enum vhu_fe_tx_layout txs[] = {
		VHU_FE_TX_ONE, VHU_FE_TX_HDR_SPLIT, VHU_FE_TX_CHAIN,
		VHU_FE_TX_INDIRECT,
	};
	static const enum vhu_fe_rx_layout rxs[] = {
		VHU_FE_RX_ONE, VHU_FE_RX_HDR_SPLIT,
	};
	static const uint64_t extras[] = {
		0, F(VIRTIO_RING_F_EVENT_IDX), F(VIRTIO_F_IN_ORDER),
	};
	unsigned int combos = 0;

	for (unsigned int h = 0; h < RTE_DIM(hdrs); h++)
	for (unsigned int x = 0; x < RTE_DIM(txs); x++)
	for (unsigned int r = 0; r < RTE_DIM(rxs); r++)
	for (unsigned int e = 0; e < RTE_DIM(extras); e++) {
		struct vt_dev t = { 0 };
		struct rx_check c = { 0 };
		uint64_t seq = 0;
		bool mrg = hdrs[h] & F(VIRTIO_NET_F_MRG_RXBUF);
		size_t big = mrg ? 6000 : 1500;

		knobs_default();
		knob.features = hdrs[h] | extras[e] | F(VHU_F_PROTOCOL_FEATURES) |
			F(VIRTIO_RING_F_INDIRECT_DESC);
		knob.tx = txs[x];
		knob.rx = rxs[r];
		knob.tx_buf = 8192;
		VT_CHECK_EQ(vt_dev_up(&t, "matrix", 1, apply_knobs), 0);
		VT_CHECK_EQ(vhu_device_features(t.dev), vhu_fe_features(t.fe));
		/* Guest TX: small and large frames. */
		VT_CHECK_EQ(vt_fe_send(t.fe, 0, 20, 60, 0), 0);
		VT_CHECK_EQ(vt_fe_send(t.fe, 0, 20, 7000, 20), 0);
		VT_CHECK_EQ(vt_be_recv(t.dev, 0, 40, &seq), 40);
		VT_CHECK_EQ(vhu_fe_tx_reclaim(t.fe, 0), 40);
		/* Guest RX: small, and spread over buffers when mergeable. */
		VT_CHECK_EQ(loop_to_guest(&t, 30, 60, 0, &c), 0);
		VT_CHECK_EQ(loop_to_guest(&t, 30, big, 30, &c), 0);
		VT_CHECK_EQ(c.got, 60);
		VT_CHECK_EQ(c.bad, 0);
		vt_dev_close(&t);
		combos++;
	}
	fprintf(stderr, "  %u combinations\n", combos);
}

/* A million packets of mixed sizes 60..9000 both ways, every byte and
 * sequence number checked. */
static void
test_integrity_million(void)
{
	struct vt_dev t = { 0 };
	struct rx_check c = { 0 };
	struct rte_mbuf *pkts[32];
	const unsigned int total = 1000000;
	unsigned int sent = 0, looped = 0;
	uint64_t rng = 12345;
	uint8_t frame[9000];

	knobs_default();
	knob.tx_buf = 9216;
	knob.queue_size = 1024;
	VT_CHECK_EQ(vt_dev_up(&t, "million", 1, apply_knobs), 0);
	while (c.got < total) {
		unsigned int posted = 0;
		uint16_t k, e;

		/* Guest sends a batch (sizes from a fixed pseudo-random
		 * sequence)... */
		while (sent < total && posted < 64) {
			size_t len;

			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			len = 60 + (rng >> 33) % (9000 - 60 + 1);
			vhu_fe_frame_build(frame, len, sent);
			if (vhu_fe_tx_post(t.fe, 0, frame, len, NULL) != 0)
				break;
			sent++;
			posted++;
		}
		VT_CHECK_EQ(vhu_fe_tx_flush(t.fe, 0), 0);
		/* ...the back-end takes them and hands them back... */
		k = vhu_dequeue_burst(t.dev, 0, vt_pool(), pkts, 32);
		e = 0;
		while (e < k) {
			e += vhu_enqueue_burst(t.dev, 0, pkts + e, k - e);
			if (e < k)
				VT_CHECK(vhu_fe_rx_poll(t.fe, 0, rx_verify, &c, 256) >= 0);
		}
		rte_pktmbuf_free_bulk(pkts, k);
		looped += k;
		/* ...and the guest checks what it receives. */
		VT_CHECK(vhu_fe_rx_poll(t.fe, 0, rx_verify, &c, 256) >= 0);
		VT_CHECK(vhu_fe_tx_reclaim(t.fe, 0) >= 0);
		VT_CHECK_EQ(c.bad, 0);
	}
	VT_CHECK_EQ(looped, total);
	VT_CHECK_EQ(c.got, total);
	VT_CHECK_EQ(c.bad, 0);
	vt_dev_close(&t);
}

/* A packet bigger than a non-mergeable buffer is dropped and counted;
 * the ones after it still go. */
static void
test_too_big_non_mergeable(void)
{
	struct vt_dev t = { 0 };
	struct rx_check c = { 0 };
	struct vhu_ring_stats st;
	struct rte_mbuf *m[2];

	knobs_default();
	knob.features &= ~F(VIRTIO_NET_F_MRG_RXBUF);
	VT_CHECK_EQ(vt_dev_up(&t, "toobig", 1, apply_knobs), 0);
	m[0] = rte_pktmbuf_alloc(vt_pool());
	m[1] = rte_pktmbuf_alloc(vt_pool());
	vhu_fe_frame_build((uint8_t *)rte_pktmbuf_append(m[0], 2040), 2040, 0);
	vhu_fe_frame_build((uint8_t *)rte_pktmbuf_append(m[1], 100), 100, 0);
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, m, 2), 2);
	rte_pktmbuf_free_bulk(m, 2);
	VT_CHECK_EQ(vhu_device_ring_stats(t.dev, 0, &st), 0);
	VT_CHECK_EQ(st.drop_too_big, 1);
	VT_CHECK_EQ(st.packets, 1);
	VT_CHECK_EQ(vhu_fe_rx_poll(t.fe, 0, rx_verify, &c, 10), 1);
	vt_dev_close(&t);
}

/*
 * Bursts bigger than what enqueue keeps aside: more used entries than its
 * used-entry batch (a packet spanning the point where the batch is
 * written out), more small packets than its copy batch, and a packet
 * that does not fit after part of it was written out (it must be
 * withdrawn whole, and go intact on the next try).
 */
static void
test_enqueue_batch_boundaries(void)
{
	struct vt_dev t = { 0 };
	struct rx_check c = { 0 };
	struct vhu_ring_stats st;
	struct rte_mbuf *m[100];
	unsigned int i;

	knobs_default();
	knob.rx_buf = 256;        /* 244 data bytes after the header */
	knob.queue_size = 128;    /* prefilled: 128 buffers */
	VT_CHECK_EQ(vt_dev_up(&t, "batches", 1, apply_knobs), 0);

	/* 100 small packets in one call, then all received in order. */
	for (i = 0; i < 100; i++)
		VT_CHECK((m[i] = frame_mbuf(60 + i, i)) != NULL);
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, m, 100), 100);
	rte_pktmbuf_free_bulk(m, 100);
	VT_CHECK_EQ(vhu_fe_rx_poll(t.fe, 0, rx_verify, &c, 128), 100);
	VT_CHECK_EQ(c.bad, 0);

	/* 20 buffers, then 110 of the 128: the second packet passes the
	 * 64th used entry and then finds the ring empty. */
	m[0] = frame_mbuf(20 * 256 - 12, 100);
	m[1] = frame_mbuf(110 * 256 - 12, 101);
	VT_CHECK(m[0] != NULL && m[1] != NULL);
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, m, 2), 1);
	VT_CHECK_EQ(vhu_device_ring_stats(t.dev, 0, &st), 0);
	VT_CHECK_EQ(st.drop_full, 1);
	VT_CHECK_EQ(vhu_fe_rx_poll(t.fe, 0, rx_verify, &c, 128), 1);
	/* Nothing of the withdrawn packet was published. */
	VT_CHECK_EQ(vhu_fe_rx_poll(t.fe, 0, rx_verify, &c, 128), 0);
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, m + 1, 1), 1);
	VT_CHECK_EQ(vhu_fe_rx_poll(t.fe, 0, rx_verify, &c, 128), 1);
	rte_pktmbuf_free_bulk(m, 2);
	VT_CHECK_EQ(c.got, 102);
	VT_CHECK_EQ(c.bad, 0);
	vt_dev_close(&t);
}

/*
 * Enqueue writes a plain header only where the buffer's bytes differ from
 * it: buffers left holding the plain header, or one byte off it anywhere,
 * or garbage, must all come back with exactly the plain header. Both
 * header sizes (12 bytes with MRG_RXBUF, legacy 10 bytes).
 */
#define STALE_KINDS 8

struct stale_hdr {
	size_t hdr_len;
	unsigned int got;
	unsigned int not_plain;
	unsigned int bad;
};

/* The plain header of hdr_len bytes into h (num_buffers 1 when 12). */
static void
plain_hdr(uint8_t *h, size_t hdr_len)
{
	memset(h, 0, hdr_len);
	if (hdr_len == sizeof(struct virtio_net_hdr_mrg_rxbuf))
		h[10] = 1;
}

/* Check the header, then leave stale bytes of kind (got % STALE_KINDS) in
 * the buffer, which the guest re-posts as it is. */
static int
rx_stale_hdr(void *arg, unsigned int qp, const struct virtio_net_hdr_v1 *hdr,
		const uint8_t *frame, size_t len)
{
	struct stale_hdr *s = arg;
	uint8_t want[sizeof(struct virtio_net_hdr_v1)] = { 0 };
	uint8_t got[sizeof(struct virtio_net_hdr_v1)] = { 0 };
	uint8_t *buf_hdr = (uint8_t *)(uintptr_t)(frame - s->hdr_len);
	unsigned int kind = s->got % STALE_KINDS;
	uint64_t seq;

	RTE_SET_USED(qp);
	plain_hdr(want, s->hdr_len);
	/* hdr is the received header zero-extended; num_buffers of a
	 * 10-byte one reads as 0. */
	memcpy(got, hdr, s->hdr_len);
	if (memcmp(got, want, s->hdr_len) != 0)
		s->not_plain++;
	if (vhu_fe_frame_check(frame, len, &seq) != 0 || seq != s->got)
		s->bad++;
	s->got++;
	plain_hdr(buf_hdr, s->hdr_len);
	switch (kind) {
	case 0: break;                                    /* plain already */
	case 1: buf_hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM; break; /* first */
	case 2: buf_hdr[7] = 0x40; break;                 /* end of 8 */
	case 3: buf_hdr[8] = 1; break;                    /* csum_offset */
	case 4: buf_hdr[s->hdr_len - 1] ^= 0x80; break;   /* last byte */
	case 5: buf_hdr[s->hdr_len - 2] ^= 0x01; break;
	case 6: memset(buf_hdr, 0xff, s->hdr_len); break; /* garbage */
	default: buf_hdr[4] = 0x5a; break;                /* gso_size */
	}
	return 0;
}

static void
test_enqueue_stale_header(void)
{
	static const uint64_t hdrs[] = {
		F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF), /* 12 */
		0,                                                 /* 10 */
	};

	for (unsigned int h = 0; h < RTE_DIM(hdrs); h++) {
		struct vt_dev t = { 0 };
		struct stale_hdr s = { 0 };
		struct vhu_fe_stats st;

		knobs_default();
		knob.features = hdrs[h] | F(VHU_F_PROTOCOL_FEATURES);
		knob.queue_size = STALE_KINDS; /* each buffer, every kind */
		s.hdr_len = hdrs[h] ? 12 : 10;
		VT_CHECK_EQ(vt_dev_up(&t, "stalehdr", 1, apply_knobs), 0);
		/* Round after round through the same eight buffers: each
		 * meets every kind of stale header over the rounds. */
		for (unsigned int round = 0; round < 2 * STALE_KINDS; round++) {
			struct rte_mbuf *m[STALE_KINDS - 1];

			/* One buffer short of the ring, so the kinds rotate
			 * over the buffers; small packets (copies put off to
			 * the end of the burst) and large ones (copied at
			 * once) alternate. */
			for (unsigned int i = 0; i < RTE_DIM(m); i++)
				VT_CHECK((m[i] = frame_mbuf((round + i) % 2 ?
						600 + i : 60 + i,
						s.got + i)) != NULL);
			VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, m, RTE_DIM(m)),
				    RTE_DIM(m));
			rte_pktmbuf_free_bulk(m, RTE_DIM(m));
			VT_CHECK_EQ(vhu_fe_rx_poll(t.fe, 0, rx_stale_hdr, &s,
						   STALE_KINDS), RTE_DIM(m));
		}
		VT_CHECK_EQ(s.got, 2 * STALE_KINDS * (STALE_KINDS - 1));
		VT_CHECK_EQ(s.bad, 0);
		VT_CHECK_EQ(s.not_plain, 0);
		vhu_fe_get_stats(t.fe, &st);
		VT_CHECK_EQ(st.rx_violations, 0);
		vt_dev_close(&t);
	}
}

static uint64_t
eventfd_take(int fd)
{
	uint64_t v = 0;

	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (eventfd_read(fd, &v) != 0)
		return 0;
	return v;
}

/* The call eventfd: written at most once per burst, only when asked. */
static void
test_notifications(void)
{
	struct vt_dev t = { 0 };
	struct vhu_fe_vring_raw raw;
	struct rte_mbuf *pkts[32];
	int call;

	/* Without EVENT_IDX: NO_INTERRUPT honoured. */
	knobs_default();
	knob.interrupts = true;
	VT_CHECK_EQ(vt_dev_up(&t, "notify", 1, apply_knobs), 0);
	call = vhu_fe_call_fd(t.fe, 0);
	eventfd_take(call);
	for (int i = 0; i < 32; i++) {
		pkts[i] = rte_pktmbuf_alloc(vt_pool());
		vhu_fe_frame_build((uint8_t *)rte_pktmbuf_append(pkts[i], 64), 64, i);
	}
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 32), 32);
	VT_CHECK_EQ(eventfd_take(call), 1); /* one write for 32 packets */
	vhu_fe_vring_set_interrupts(vhu_fe_get_vring(t.fe, 0), false);
	vhu_fe_vring_get_raw(vhu_fe_get_vring(t.fe, 0), &raw);
	raw.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 8), 8);
	VT_CHECK_EQ(eventfd_take(call), 0);
	vt_dev_close(&t);

	/* EVENT_IDX: only when used crosses used_event. */
	knobs_default();
	knob.features |= F(VIRTIO_RING_F_EVENT_IDX);
	VT_CHECK_EQ(vt_dev_up(&t, "eventidx", 1, apply_knobs), 0);
	call = vhu_fe_call_fd(t.fe, 0);
	eventfd_take(call);
	vhu_fe_vring_get_raw(vhu_fe_get_vring(t.fe, 0), &raw);
	raw.avail->ring[raw.num] = 20;  /* used_event: after entry 20 */
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 10), 10); /* used 0..9 */
	VT_CHECK_EQ(eventfd_take(call), 0);
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 15), 15); /* 10..24 */
	VT_CHECK_EQ(eventfd_take(call), 1);
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 5), 5);   /* 25..29 */
	VT_CHECK_EQ(eventfd_take(call), 0);
	rte_pktmbuf_free_bulk(pkts, 32);
	vt_dev_close(&t);
}

static uint16_t
csum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* A guest that negotiated CSUM sends partial checksums: completed in
 * software so the packet is valid anywhere; offsets outside the packet
 * are refused (CVE-2024-11614). */
static void
test_checksum_completion(void)
{
	struct vt_dev t = { 0 };
	struct virtio_net_hdr_v1 h = { 0 };
	struct vhu_fe_tx_opts o = { .layout = VHU_FE_TX_ONE, .hdr = &h };
	struct rte_mbuf *pkts[4];
	struct vhu_ring_stats st;
	uint8_t frame[300];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(frame + 34);
	uint16_t pseudo;

	knobs_default();
	knob.features |= F(VIRTIO_NET_F_CSUM);
	VT_CHECK_EQ(vt_dev_up(&t, "csum", 1, apply_knobs), 0);
	VT_CHECK(vhu_fe_features(t.fe) & F(VIRTIO_NET_F_CSUM));
	vhu_fe_frame_build(frame, sizeof(frame), 1);
	/* What Linux does: the pseudo-header sum in the checksum field. */
	pseudo = rte_ipv4_phdr_cksum(ip, 0);
	udp->dgram_cksum = pseudo;
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 34;
	h.csum_offset = 6;
	VT_CHECK_EQ(vhu_fe_tx_post(t.fe, 0, frame, sizeof(frame), &o), 0);
	h.csum_start = 296;   /* field beyond the packet */
	VT_CHECK_EQ(vhu_fe_tx_post(t.fe, 0, frame, sizeof(frame), &o), 0);
	h.csum_start = 34;
	h.csum_offset = 300;
	VT_CHECK_EQ(vhu_fe_tx_post(t.fe, 0, frame, sizeof(frame), &o), 0);
	VT_CHECK_EQ(vhu_fe_tx_flush(t.fe, 0), 0);
	VT_CHECK_EQ(vhu_dequeue_burst(t.dev, 0, vt_pool(), pkts, 4), 1);
	{
		const uint8_t *p = rte_pktmbuf_mtod(pkts[0], const uint8_t *);
		const struct rte_ipv4_hdr *pip = (const void *)(p + 14);

		/* Verify independently: sum over pseudo-header + UDP = 0xffff. */
		uint32_t s = 0;
		uint16_t len = rte_be_to_cpu_16(pip->total_length) - 20;

		s += csum16((const uint8_t *)&pip->src_addr, 8, 0);
		s += pip->next_proto_id + len;
		VT_CHECK_EQ(csum16(p + 34, len, s), 0xffff);
	}
	rte_pktmbuf_free(pkts[0]);
	VT_CHECK_EQ(vhu_device_ring_stats(t.dev, 1, &st), 0);
	VT_CHECK_EQ(st.drop_bad_desc, 2);
	vt_dev_close(&t);
}

/* Dirty-page log: every guest page the datapath writes (RX data, used
 * ring entries and index) has its bit set. */
struct dirty_check {
	struct vhu_fe_mem *mem;
	const uint8_t *log;
	size_t log_size;
	unsigned int got;
	unsigned int unlogged;
};

/* Every page the received frame lies in must be marked in the log. */
static int
rx_dirty_check(void *arg, unsigned int qp, const struct virtio_net_hdr_v1 *hdr,
		const uint8_t *frame, size_t len)
{
	struct dirty_check *d = arg;
	uint64_t first = vhu_fe_mem_to_gpa(d->mem, frame, len);
	uint64_t last = vhu_fe_mem_to_gpa(d->mem, frame + len - 1, 1);

	RTE_SET_USED(qp);
	RTE_SET_USED(hdr);
	d->got++;
	if (first == VHU_FE_BAD_GPA || last == VHU_FE_BAD_GPA) {
		d->unlogged++;
		return 0;
	}
	for (uint64_t p = first >> 12; p <= last >> 12; p++)
		if (p / 8 >= d->log_size ||
		    !(d->log[p / 8] & (1u << (p % 8))))
			d->unlogged++;
	return 0;
}

static void
test_dirty_log(void)
{
	struct vt_dev t = { 0 };
	struct vhu_fe_vring_raw raw;
	struct vhu_wire_log lg;
	struct vhu_wire_vring_addr a;
	uint64_t f;
	uint8_t *log;
	int logfd;
	const size_t log_size = 1 << 20; /* covers 32 GiB of guest memory */

	knobs_default();
	knob.features |= F(VHOST_F_LOG_ALL);
	VT_CHECK_EQ(vt_dev_up(&t, "dirty", 1, apply_knobs), 0);
	logfd = memfd_create("vt-log", MFD_CLOEXEC);
	VT_CHECK_EQ(ftruncate(logfd, log_size), 0);
	log = mmap(NULL, log_size, PROT_READ | PROT_WRITE, MAP_SHARED, logfd, 0);
	VT_CHECK(log != MAP_FAILED);
	lg.mmap_size = log_size;
	lg.mmap_offset = 0;
	{
		struct vhu_fe_req r = {
			.request = VHU_REQ_SET_LOG_BASE, .payload = &lg,
			.size = sizeof(lg), .fds = &logfd, .nfds = 1,
			.reply = NULL, .reply_size = 0,
		};
		uint8_t dummy;

		/* The reply has an empty payload. */
		r.reply = &dummy;
		VT_CHECK_EQ(vhu_fe_request(t.fe, &r), 0);
	}
	/* Log the used ring of ring 0 (what QEMU does at migration). */
	vhu_fe_vring_get_raw(vhu_fe_get_vring(t.fe, 0), &raw);
	a = (struct vhu_wire_vring_addr){
		.index = 0, .flags = VHU_WIRE_VRING_F_LOG,
		.desc_user_addr = (uintptr_t)raw.desc,
		.used_user_addr = (uintptr_t)raw.used,
		.avail_user_addr = (uintptr_t)raw.avail,
		.log_guest_addr = raw.used_gpa,
	};
	{
		struct vhu_fe_req r = {
			.request = VHU_REQ_SET_VRING_ADDR,
			.flags = VHU_WIRE_F_NEED_REPLY, .payload = &a,
			.size = sizeof(a),
		};

		VT_CHECK_EQ(vhu_fe_request(t.fe, &r), 0);
	}
	f = vhu_fe_features(t.fe);
	VT_CHECK(f & F(VHOST_F_LOG_ALL));
	/* A small packet (its copy put off to the end of the burst) and a
	 * large one (copied at once): each one's pages are logged. */
	for (unsigned int k = 0; k < 2; k++) {
		struct dirty_check d = { .mem = vhu_fe_get_mem(t.fe),
					 .log = log, .log_size = log_size };
		struct rte_mbuf *m = frame_mbuf(k ? 1500 : 100, k);
		uint64_t used_page = raw.used_gpa >> 12;

		VT_CHECK(m != NULL);
		memset(log, 0, log_size);
		VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, &m, 1), 1);
		rte_pktmbuf_free(m);
		VT_CHECK_EQ(vhu_fe_rx_poll(t.fe, 0, rx_dirty_check, &d, 4), 1);
		VT_CHECK_EQ(d.got, 1);
		VT_CHECK_EQ(d.unlogged, 0);
		VT_CHECK(log[used_page / 8] & (1u << (used_page % 8)));
	}
	munmap(log, log_size);
	close(logfd);
	vt_dev_close(&t);
}

/* ---- malicious rings ---- */

struct hostile {
	struct vt_dev t;
	struct vhu_fe_vring_raw raw;
	uint16_t free_desc;
};

static int
hostile_up(struct hostile *h, const char *name)
{
	int ret;

	knobs_default();
	knob.features |= F(VIRTIO_RING_F_INDIRECT_DESC);
	memset(h, 0, sizeof(*h));
	ret = vt_dev_up(&h->t, name, 2, apply_knobs);
	if (ret == 0)
		vhu_fe_vring_get_raw(vhu_fe_get_vring(h->t.fe, 1), &h->raw);
	/* Descriptors the front-end has not used: from the top. */
	h->free_desc = h->raw.num - 1;
	return ret;
}

/* Write a descriptor and push it as a chain head. */
static void
push_desc(struct hostile *h, uint16_t idx, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next)
{
	h->raw.desc[idx].addr = addr;
	h->raw.desc[idx].len = len;
	h->raw.desc[idx].flags = flags;
	h->raw.desc[idx].next = next;
}

static struct vhu_ring_stats
ring_stats(struct vhu_device *dev, uint16_t ring)
{
	struct vhu_ring_stats st;

	vhu_device_ring_stats(dev, ring, &st);
	return st;
}

/* Each malformed chain is consumed (used entry with length 0), dropped
 * and counted; valid traffic on the same ring goes on. */
static void
test_bad_chains_consumed(void)
{
	struct hostile h;
	struct rte_mbuf *pkts[32];
	uint64_t buf_gpa, seq = 0;
	uint16_t d = 0, used0;
	unsigned int nbad = 0;
	struct vring_desc *itab;

	VT_CHECK_EQ(hostile_up(&h, "badchain"), 0);
	/* Guest memory for our hand-made chains: a spare TX-sized area. */
	itab = vhu_fe_mem_alloc(vhu_fe_get_mem(h.t.fe), 4096, 4096);
	VT_CHECK(itab != NULL);
	buf_gpa = vhu_fe_mem_to_gpa(vhu_fe_get_mem(h.t.fe), itab, 4096);
	d = h.free_desc;
	used0 = h.raw.used->idx;

	/* loop: a descriptor that chains to itself */
	push_desc(&h, d, buf_gpa, 64, VRING_DESC_F_NEXT, d);
	VT_CHECK_EQ(vhu_fe_vring_push_raw(vhu_fe_get_vring(h.t.fe, 1), d), 0);
	nbad++; d--;
	/* next index out of range */
	push_desc(&h, d, buf_gpa, 64, VRING_DESC_F_NEXT, 60000);
	VT_CHECK_EQ(vhu_fe_vring_push_raw(vhu_fe_get_vring(h.t.fe, 1), d), 0);
	nbad++; d--;
	/* address in no region (the gap between regions / far away) */
	push_desc(&h, d, 1ULL << 50, 64, 0, 0);
	VT_CHECK_EQ(vhu_fe_vring_push_raw(vhu_fe_get_vring(h.t.fe, 1), d), 0);
	nbad++; d--;
	/* length overflowing the address space */
	push_desc(&h, d, buf_gpa, 0xffffffff, 0, 0);
	h.raw.desc[d].addr = UINT64_MAX - 100;
	VT_CHECK_EQ(vhu_fe_vring_push_raw(vhu_fe_get_vring(h.t.fe, 1), d), 0);
	nbad++; d--;
	/* nested indirect: the table holds an INDIRECT descriptor */
	itab[0] = (struct vring_desc){ .addr = buf_gpa, .len = 16,
		.flags = VRING_DESC_F_INDIRECT };
	push_desc(&h, d, buf_gpa, 16, VRING_DESC_F_INDIRECT, 0);
	VT_CHECK_EQ(vhu_fe_vring_push_raw(vhu_fe_get_vring(h.t.fe, 1), d), 0);
	nbad++; d--;
	/* bogus indirect lengths: 0 and not a multiple of 16 */
	push_desc(&h, d, buf_gpa, 0, VRING_DESC_F_INDIRECT, 0);
	VT_CHECK_EQ(vhu_fe_vring_push_raw(vhu_fe_get_vring(h.t.fe, 1), d), 0);
	nbad++; d--;
	push_desc(&h, d, buf_gpa, 24, VRING_DESC_F_INDIRECT, 0);
	VT_CHECK_EQ(vhu_fe_vring_push_raw(vhu_fe_get_vring(h.t.fe, 1), d), 0);
	nbad++; d--;
	/* a device-writable descriptor in a TX chain */
	push_desc(&h, d, buf_gpa, 64, VRING_DESC_F_WRITE, 0);
	VT_CHECK_EQ(vhu_fe_vring_push_raw(vhu_fe_get_vring(h.t.fe, 1), d), 0);
	nbad++; d--;
	/* a chain shorter than the virtio-net header (CVE-2022-2132) */
	push_desc(&h, d, buf_gpa, 8, 0, 0);
	VT_CHECK_EQ(vhu_fe_vring_push_raw(vhu_fe_get_vring(h.t.fe, 1), d), 0);
	nbad++; d--;
	/* a zero-length descriptor with a bad address, then a valid
	 * packet behind it (CVE-2020-10725): must not crash */
	memset((uint8_t *)itab + 2048, 0, 100);
	push_desc(&h, d, 1ULL << 50, 0, VRING_DESC_F_NEXT, (uint16_t)(d - 1));
	push_desc(&h, (uint16_t)(d - 1), buf_gpa + 2048, 100, 0, 0);
	VT_CHECK_EQ(vhu_fe_vring_push_raw(vhu_fe_get_vring(h.t.fe, 1), d), 0);
	d -= 2;

	/* Then valid traffic. */
	VT_CHECK_EQ(vt_fe_send(h.t.fe, 0, 3, 64, 0), 0);
	{
		uint16_t k = vhu_dequeue_burst(h.t.dev, 0, vt_pool(), pkts, 32);

		/* The zero-length-bad-address chain yields a 88-byte packet. */
		VT_CHECK_EQ(k, 4);
		rte_pktmbuf_free(pkts[0]);
		for (uint16_t i = 1; i < k; i++) {
			uint64_t s;

			VT_CHECK_EQ(vhu_fe_frame_check(rte_pktmbuf_mtod(pkts[i],
				const uint8_t *), rte_pktmbuf_pkt_len(pkts[i]), &s), 0);
			VT_CHECK_EQ(s, seq++);
			rte_pktmbuf_free(pkts[i]);
		}
	}
	/* Every chain came back used, the bad ones with length 0. */
	VT_CHECK_EQ((uint16_t)(h.raw.used->idx - used0), nbad + 4);
	VT_CHECK_EQ(ring_stats(h.t.dev, 1).drop_bad_desc, nbad);
	{
		struct vhu_ring_state st;

		VT_CHECK_EQ(vhu_device_ring_state(h.t.dev, 1, &st), 0);
		VT_CHECK(!st.broken); /* below the limit */
	}
	vt_dev_close(&h.t);
}

/* A ring that keeps violating the rules is broken: no longer processed,
 * reported (NEEDS_RESET), while the other queue pair keeps running. */
static void
test_repeat_offender_broken(void)
{
	struct hostile h;
	struct rte_mbuf *pkts[32];
	uint64_t seq = 0;
	uint8_t status;
	struct vhu_ring_state st;

	VT_CHECK_EQ(hostile_up(&h, "broken"), 0);
	for (uint16_t i = 0; i < 20; i++) {
		uint16_t d = (uint16_t)(h.free_desc - i);

		push_desc(&h, d, 1ULL << 50, 64, 0, 0);
		VT_CHECK_EQ(vhu_fe_vring_push_raw(vhu_fe_get_vring(h.t.fe, 1), d), 0);
	}
	VT_CHECK_EQ(vhu_dequeue_burst(h.t.dev, 0, vt_pool(), pkts, 32), 0);
	VT_CHECK(VT_WAIT(vhu_device_ring_state(h.t.dev, 1, &st) == 0 && st.broken));
	VT_CHECK_EQ(ring_stats(h.t.dev, 1).broken, 1);
	VT_CHECK_EQ(vhu_fe_get_status(h.t.fe, &status), 0);
	VT_CHECK(status & 0x40);
	/* Broken: valid packets on it are left alone. */
	VT_CHECK_EQ(vt_fe_send(h.t.fe, 0, 2, 64, 0), 0);
	VT_CHECK_EQ(vhu_dequeue_burst(h.t.dev, 0, vt_pool(), pkts, 32), 0);
	/* The other queue pair is fine. */
	VT_CHECK_EQ(vt_fe_send(h.t.fe, 1, 5, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(h.t.dev, 1, 5, &seq), 5);
	vt_dev_close(&h.t);
}

/* Ring-level corruption breaks the ring at once: the avail index jumps
 * by more than the ring size, or a head index is out of range. */
static void
test_ring_corruption_breaks_at_once(void)
{
	struct hostile h;
	struct rte_mbuf *pkts[32], *m;
	struct vhu_ring_state st;
	struct vhu_fe_vring_raw rx;

	VT_CHECK_EQ(hostile_up(&h, "jump"), 0);
	h.raw.avail->idx = (uint16_t)(h.raw.avail->idx + h.raw.num + 1);
	VT_CHECK_EQ(vhu_dequeue_burst(h.t.dev, 0, vt_pool(), pkts, 32), 0);
	VT_CHECK(VT_WAIT(vhu_device_ring_state(h.t.dev, 1, &st) == 0 && st.broken));
	/* Head index out of range on the guest's RX ring. */
	vhu_fe_vring_get_raw(vhu_fe_get_vring(h.t.fe, 0), &rx);
	{
		uint16_t pos = (uint16_t)(rx.used->idx) & (rx.num - 1);

		rx.avail->ring[pos] = (uint16_t)(rx.num + 7);
	}
	m = rte_pktmbuf_alloc(vt_pool());
	vhu_fe_frame_build((uint8_t *)rte_pktmbuf_append(m, 64), 64, 0);
	VT_CHECK_EQ(vhu_enqueue_burst(h.t.dev, 0, &m, 1), 0);
	rte_pktmbuf_free(m);
	VT_CHECK(VT_WAIT(vhu_device_ring_state(h.t.dev, 0, &st) == 0 && st.broken));
	vt_dev_close(&h.t);
}

static const struct vhu_test_case cases[] = {
	{ "feature_matrix", test_feature_matrix },
	{ "integrity_million", test_integrity_million },
	{ "too_big_non_mergeable", test_too_big_non_mergeable },
	{ "enqueue_batch_boundaries", test_enqueue_batch_boundaries },
	{ "enqueue_stale_header", test_enqueue_stale_header },
	{ "notifications", test_notifications },
	{ "checksum_completion", test_checksum_completion },
	{ "dirty_log", test_dirty_log },
	{ "bad_chains_consumed", test_bad_chains_consumed },
	{ "repeat_offender_broken", test_repeat_offender_broken },
	{ "ring_corruption_breaks_at_once", test_ring_corruption_breaks_at_once },
};

int
main(int argc, char **argv)
{
	RTE_SET_USED(argc);
	return vhu_test_main_eal("split", cases, RTE_DIM(cases), 1, argv[0]);
}
