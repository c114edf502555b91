/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The datapath through the test front-end, on split rings, or on packed
 * ones with VHU_TEST_RING=packed (meson's split-packed): every feature and
 * layout combination, ring sizes, payload integrity over a million
 * mixed-size packets, multi-segment mbufs, notifications (EVENT_IDX and
 * NO_INTERRUPT; packed: the driver event suppression area), checksum
 * completion, dirty-page logging (packed: used descriptors over the
 * descriptor ring), and each malicious-ring case (consumed, dropped,
 * counted; the ring broken after repeated violations, or at once when the
 * ring itself is corrupt, while other rings keep running). Cases that
 * write ring memory by hand have a split and a packed version.
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

/*
 * Rings of many sizes, traffic both ways round each several times: split
 * rings are a power of two, packed rings any size (chains and merged
 * buffers then cross the ring's end at every offset). With and without
 * IN_ORDER and EVENT_IDX.
 */
static void
test_queue_sizes(void)
{
	static const unsigned int split_sizes[] = { 1, 2, 64, 2048 };
	static const unsigned int packed_sizes[] = { 1, 3, 100, 255, 257, 1000 };
	const unsigned int *sizes = vt_packed() ? packed_sizes : split_sizes;
	unsigned int nsizes = vt_packed() ? RTE_DIM(packed_sizes) :
		RTE_DIM(split_sizes);

	for (unsigned int i = 0; i < 2 * nsizes; i++) {
		unsigned int size = sizes[i / 2];
		unsigned int total = 3 * size + 7, sent = 0;
		struct vt_dev t = { 0 };
		struct rx_check c = { 0 };
		struct vhu_fe_stats fst;
		uint64_t seq = 0;

		knobs_default();
		if (i % 2)
			knob.features |= F(VIRTIO_F_IN_ORDER) |
				F(VIRTIO_RING_F_EVENT_IDX);
		knob.queue_size = size;
		/* Chains of 5 descriptors and RX buffers of 2 where they
		 * fit. */
		knob.tx = size >= 8 ? VHU_FE_TX_CHAIN : VHU_FE_TX_ONE;
		knob.rx = size >= 2 ? VHU_FE_RX_HDR_SPLIT : VHU_FE_RX_ONE;
		VT_CHECK_EQ(vt_dev_up(&t, "qsize", 1, apply_knobs), 0);
		while (sent < total) {
			unsigned int n = RTE_MIN(total - sent, 32u);

			/* What the TX ring holds at once. */
			n = RTE_MIN(n, size >= 8 ? size / 5 : size);

			VT_CHECK_EQ(vt_fe_send(t.fe, 0, n, 60 + sent % 1400,
					       sent), 0);
			VT_CHECK_EQ(vt_be_recv(t.dev, 0, n, &seq), (int)n);
			VT_CHECK_EQ(vhu_fe_tx_reclaim(t.fe, 0), (int)n);
			sent += n;
		}
		VT_CHECK_EQ(seq, total);
		/* Small ones, then ones over two buffers (the header split
		 * off) where the ring has them. */
		VT_CHECK_EQ(loop_to_guest(&t, total, 60, 0, &c), 0);
		VT_CHECK_EQ(loop_to_guest(&t, total, size >= 4 ? 3000 : 1500,
					  total, &c), 0);
		VT_CHECK_EQ(c.got, 2 * total);
		VT_CHECK_EQ(c.bad, 0);
		vhu_fe_get_stats(t.fe, &fst);
		VT_CHECK_EQ(fst.rx_violations, 0);
		vt_dev_close(&t);
	}
}

/*
 * More guest buffers in one burst than enqueue keeps aside (1024 used
 * entries). Split: written to the ring early, the burst goes on. Packed:
 * nothing is written before the burst publishes, so the burst stops
 * before the packet that does not fit; nothing of that one is visible,
 * and it goes whole with the next burst.
 */
static void
test_enqueue_used_shadow_full(void)
{
	struct vt_dev t = { 0 };
	struct rx_check c = { .expect_len = 3000 };
	struct rte_mbuf *m[32];
	struct vhu_ring_stats st;
	const unsigned int per_pkt = (3000 + 12 + 63) / 64; /* 48 */
	unsigned int first;

	knobs_default();
	knob.queue_size = 2048;
	knob.rx_buf = 64;
	VT_CHECK_EQ(vt_dev_up(&t, "shadow", 1, apply_knobs), 0);
	for (unsigned int i = 0; i < 32; i++)
		VT_CHECK((m[i] = frame_mbuf(3000, i)) != NULL);
	first = vt_packed() ? 1024 / per_pkt : 32;
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, m, 32), first);
	VT_CHECK_EQ(vt_used_pending(t.fe, 0), (int)(first * per_pkt));
	VT_CHECK_EQ(vhu_device_ring_stats(t.dev, 0, &st), 0);
	VT_CHECK_EQ(st.drop_full, 32 - first);
	VT_CHECK_EQ(st.packets, first);
	if (first < 32)
		VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, m + first, 32 - first),
			    32 - first);
	rte_pktmbuf_free_bulk(m, 32);
	VT_CHECK_EQ(vhu_fe_rx_poll(t.fe, 0, rx_verify, &c, 64), 32);
	VT_CHECK_EQ(c.bad, 0);
	VT_CHECK_EQ(vt_used_pending(t.fe, 0), 0);
	vt_dev_close(&t);
}

/*
 * A mergeable packet meets an invalid guest buffer after taking two: those
 * two go back with length 0 together with the invalid one, and the packet
 * goes whole to the buffers after it, num_buffers counting those only.
 */
static void
test_enqueue_bad_buffer_mid_packet(void)
{
	struct vt_dev t = { 0 };
	struct vhu_fe_vring_raw raw;
	struct vhu_ring_stats st;
	struct rte_mbuf *m;
	uint8_t frame[1000];
	uint16_t id[7], num_buffers;
	uint32_t off = 0;
	uint64_t seq;

	knobs_default();
	knob.rx_buf = 256; /* 1000 bytes + header: 4 buffers */
	VT_CHECK_EQ(vt_dev_up(&t, "midbad", 1, apply_knobs), 0);
	raw = vt_raw(t.fe, 0);
	for (unsigned int i = 0; i < 7; i++)
		id[i] = raw.packed ? raw.pdesc[i].id : raw.avail->ring[i];
	if (raw.packed)
		raw.pdesc[2].addr = 1ULL << 50;
	else
		raw.desc[id[2]].addr = 1ULL << 50;
	VT_CHECK((m = frame_mbuf(1000, 9)) != NULL);
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, &m, 1), 1);
	rte_pktmbuf_free(m);
	VT_CHECK_EQ(vt_used_pending(t.fe, 0), 7);
	for (unsigned int i = 0; i < 7; i++) {
		uint32_t want = i < 3 ? 0 : i < 6 ? 256 : 1012 - 3 * 256;
		uint64_t gpa;
		uint32_t len;
		uint16_t got;
		const uint8_t *b;

		if (raw.packed) {
			VT_CHECK(vt_packed_used(raw.pdesc[i].flags, true));
			got = raw.pdesc[i].id;
			len = raw.pdesc[i].len;
			gpa = raw.pdesc[i].addr;
		} else {
			got = (uint16_t)raw.used->ring[i].id;
			len = raw.used->ring[i].len;
			gpa = raw.desc[id[i]].addr;
		}
		VT_CHECK_EQ(got, id[i]);
		VT_CHECK_EQ(len, want);
		if (i < 3)
			continue;
		b = vhu_fe_mem_from_gpa(vhu_fe_get_mem(t.fe), gpa, len);
		VT_CHECK(b != NULL);
		if (i == 3) {
			memcpy(&num_buffers, b + 10, 2);
			VT_CHECK_EQ(num_buffers, 4);
			b += 12;
			len -= 12;
		}
		memcpy(frame + off, b, len);
		off += len;
	}
	VT_CHECK_EQ(off, 1000);
	VT_CHECK_EQ(vhu_fe_frame_check(frame, 1000, &seq), 0);
	VT_CHECK_EQ(seq, 9);
	VT_CHECK_EQ(vhu_device_ring_stats(t.dev, 0, &st), 0);
	VT_CHECK_EQ(st.drop_bad_desc, 1);
	VT_CHECK_EQ(st.packets, 1);
	vt_dev_close(&t);
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

	/* Without EVENT_IDX: NO_INTERRUPT honoured (packed: the driver
	 * event suppression area's ENABLE / DISABLE). */
	knobs_default();
	knob.interrupts = true;
	VT_CHECK_EQ(vt_dev_up(&t, "notify", 1, apply_knobs), 0);
	call = vhu_fe_call_fd(t.fe, 0);
	eventfd_take(call);
	raw = vt_raw(t.fe, 0);
	/* Started rings ask for no kicks. */
	if (raw.packed) {
		VT_CHECK_EQ(raw.driver_event->flags,
			    VRING_PACKED_EVENT_FLAG_ENABLE);
		VT_CHECK_EQ(raw.device_event->flags,
			    VRING_PACKED_EVENT_FLAG_DISABLE);
	} else {
		VT_CHECK(raw.used->flags & VRING_USED_F_NO_NOTIFY);
	}
	for (int i = 0; i < 32; i++) {
		pkts[i] = rte_pktmbuf_alloc(vt_pool());
		vhu_fe_frame_build((uint8_t *)rte_pktmbuf_append(pkts[i], 64), 64, i);
	}
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 32), 32);
	VT_CHECK_EQ(eventfd_take(call), 1); /* one write for 32 packets */
	vhu_fe_vring_set_interrupts(vhu_fe_get_vring(t.fe, 0), false);
	if (raw.packed)
		raw.driver_event->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
	else
		raw.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 8), 8);
	VT_CHECK_EQ(eventfd_take(call), 0);
	if (raw.packed) {
		/* DESC means something with EVENT_IDX only: without it a
		 * notification is never lost (it counts as ENABLE). */
		raw.driver_event->off_wrap = 0;
		raw.driver_event->flags = VRING_PACKED_EVENT_FLAG_DESC;
		VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 8), 8);
		VT_CHECK_EQ(eventfd_take(call), 1);
		raw.driver_event->flags = VRING_PACKED_EVENT_FLAG_ENABLE;
		VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 1), 1);
		VT_CHECK_EQ(eventfd_take(call), 1);
	}
	/* The guest's TX ring: one write for the burst, none when
	 * suppressed. */
	{
		struct rte_mbuf *deq[32];
		uint64_t seq = 0;

		call = vhu_fe_call_fd(t.fe, 1);
		eventfd_take(call);
		VT_CHECK_EQ(vt_fe_send(t.fe, 0, 5, 64, 0), 0);
		VT_CHECK_EQ(vt_be_recv(t.dev, 0, 5, &seq), 5);
		VT_CHECK_EQ(eventfd_take(call), 1);
		vhu_fe_vring_set_interrupts(vhu_fe_get_vring(t.fe, 1), false);
		VT_CHECK_EQ(vt_fe_send(t.fe, 0, 3, 64, 5), 0);
		VT_CHECK_EQ(vhu_dequeue_burst(t.dev, 0, vt_pool(), deq, 32), 3);
		rte_pktmbuf_free_bulk(deq, 3);
		VT_CHECK_EQ(eventfd_take(call), 0);
	}
	vt_dev_close(&t);

	/* EVENT_IDX: only when used crosses used_event (packed: when the
	 * used descriptor at the driver area's off_wrap is written). */
	knobs_default();
	knob.features |= F(VIRTIO_RING_F_EVENT_IDX);
	VT_CHECK_EQ(vt_dev_up(&t, "eventidx", 1, apply_knobs), 0);
	VT_CHECK(vhu_fe_features(t.fe) & F(VIRTIO_RING_F_EVENT_IDX));
	call = vhu_fe_call_fd(t.fe, 0);
	eventfd_take(call);
	raw = vt_raw(t.fe, 0);
	if (raw.packed) {
		/* Slot 20 of the first lap (wrap counter 1). */
		raw.driver_event->off_wrap =
			20 | 1u << VRING_PACKED_EVENT_F_WRAP_CTR;
		raw.driver_event->flags = VRING_PACKED_EVENT_FLAG_DESC;
	} else {
		raw.avail->ring[raw.num] = 20;  /* used_event: after entry 20 */
	}
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 10), 10); /* used 0..9 */
	VT_CHECK_EQ(eventfd_take(call), 0);
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 15), 15); /* 10..24 */
	VT_CHECK_EQ(eventfd_take(call), 1);
	VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 5), 5);   /* 25..29 */
	VT_CHECK_EQ(eventfd_take(call), 0);
	if (raw.packed) {
		struct rx_check c = { .next_seq = 0 };
		unsigned int pos = 30;

		/* The event in the next lap: slot 5 with wrap counter 0.
		 * Nothing until the used position went round the ring and
		 * past it. The guest takes the 30 packets and re-posts their
		 * buffers (slots 0..29 of the next lap). */
		VT_CHECK_EQ(vhu_fe_rx_poll(t.fe, 0, rx_verify, &c, 64), 30);
		raw.driver_event->off_wrap = 5;
		while (pos < raw.num) {
			uint16_t k = (uint16_t)RTE_MIN(32u, raw.num - pos);

			VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, k), k);
			VT_CHECK_EQ(eventfd_take(call), 0);
			pos += k;
		}
		VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 5), 5); /* 0..4 */
		VT_CHECK_EQ(eventfd_take(call), 0);
		VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 1), 1); /* 5 */
		VT_CHECK_EQ(eventfd_take(call), 1);
		VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 1), 1); /* 6 */
		VT_CHECK_EQ(eventfd_take(call), 0);
		/* An event the burst passes over: 7..20 crosses 10. */
		raw.driver_event->off_wrap = 10;
		VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 14), 14);
		VT_CHECK_EQ(eventfd_take(call), 1);
		/* DISABLE wins over an event ahead. */
		raw.driver_event->off_wrap = 22;
		raw.driver_event->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
		VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 5), 5); /* ..25 */
		VT_CHECK_EQ(eventfd_take(call), 0);
		/* A burst across the ring's end and the event (slot 10 of the
		 * third lap, wrap counter 1 again). The guest takes all and
		 * re-posts the whole ring first. */
		VT_CHECK_EQ(vhu_fe_rx_poll(t.fe, 0, rx_verify, &c, 512),
			    (int)raw.num + 26 - 30);
		raw.driver_event->off_wrap =
			10 | 1u << VRING_PACKED_EVENT_F_WRAP_CTR;
		raw.driver_event->flags = VRING_PACKED_EVENT_FLAG_DESC;
		for (pos = 26; pos + 32 <= raw.num; pos += 32) {
			VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 32), 32);
			VT_CHECK_EQ(eventfd_take(call), 0);
		}
		VT_CHECK_EQ(vhu_enqueue_burst(t.dev, 0, pkts, 32), 32);
		VT_CHECK_EQ(eventfd_take(call), 1);
	}
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
	uint64_t f;
	uint8_t *log;
	int logfd;
	const size_t log_size = 1 << 20; /* covers 32 GiB of guest memory */

	knobs_default();
	knob.features |= F(VHOST_F_LOG_ALL);
	if (vt_packed())
		knob.queue_size = 512; /* a descriptor ring of two pages */
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
	raw = vt_raw(t.fe, 0);
	VT_CHECK_EQ(vt_set_vring_addr_logged(t.fe, 0), 0);
	f = vhu_fe_features(t.fe);
	VT_CHECK(f & F(VHOST_F_LOG_ALL));
	/* A small packet (its copy put off to the end of the burst) and a
	 * large one (copied at once): each one's pages are logged, and the
	 * page of the used entry. Packed: the used descriptor is written
	 * over the descriptor ring, at the slot the buffer took; the ring
	 * spans several pages, and the packets go round it once. */
	for (unsigned int k = 0; k < (raw.packed ? raw.num + 40u : 2u); k++) {
		struct dirty_check d = { .mem = vhu_fe_get_mem(t.fe),
					 .log = log, .log_size = log_size };
		struct rte_mbuf *m = frame_mbuf(k % 2 ? 1500 : 100, k);
		uint64_t used_page = raw.used_gpa >> 12;

		if (raw.packed) {
			uint64_t slot = vt_raw(t.fe, 0).last_used;

			used_page = (raw.desc_gpa + slot *
				     sizeof(struct vring_packed_desc)) >> 12;
		}
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

/* ---- malicious packed rings ---- */

/* Push n descriptors as given on ring `ring` (the front-end sets their
 * AVAIL/USED bits to its wrap counter and publishes them). */
static int
push_packed(struct hostile *h, unsigned int ring,
		const struct vring_packed_desc *d, unsigned int n)
{
	return vhu_fe_vring_push_raw_packed(vhu_fe_get_vring(h->t.fe, ring),
					    d, n);
}

/* Guest memory for hand-made chains: 192 KiB, page-aligned. */
struct scratch {
	uint8_t *p;
	uint64_t gpa;
};

static int
scratch_alloc(struct vhu_fe *fe, struct scratch *s)
{
	const size_t size = 192 << 10;

	s->p = vhu_fe_mem_alloc(vhu_fe_get_mem(fe), size, 4096);
	if (s->p == NULL)
		return -ENOMEM;
	s->gpa = vhu_fe_mem_to_gpa(vhu_fe_get_mem(fe), s->p, size);
	return s->gpa == VHU_FE_BAD_GPA ? -EFAULT : 0;
}

/* In the scratch area: indirect tables, then packet data. */
#define SC_NESTED 0          /* table whose entry is INDIRECT */
#define SC_BIG 4096          /* room for a table of queue size + 1 */
#define SC_MANY 12288        /* 129 entries of 16 bytes */
#define SC_GOOD 16384        /* a valid table, odd NEXT flags */
#define SC_PKT 20480         /* header + test frame for SC_GOOD */
#define SC_ZERO 24576        /* zero bytes */
#define SC_DATA 32768        /* 96 KiB of anything */
#define SC_RX 131072         /* a guest RX indirect table, then its buffer */

/* The frame SC_GOOD's table carries, in three pieces. */
#define GOOD_LEN 100u
#define GOOD_SEQ 100u

/* A valid packed indirect table of three entries: the whole header, then
 * the frame in two pieces. Packed tables are read in order, all len/16
 * entries: the NEXT flags (set on the middle one only) and ids mean
 * nothing. */
static void
good_table(struct scratch *s, unsigned int hdr_len)
{
	struct vring_packed_desc *t = (void *)(s->p + SC_GOOD);

	memset(s->p + SC_PKT, 0, hdr_len);
	vhu_fe_frame_build(s->p + SC_PKT + hdr_len, GOOD_LEN, GOOD_SEQ);
	t[0] = vt_pdesc(s->gpa + SC_PKT, hdr_len, 0x4321, 0);
	t[1] = vt_pdesc(s->gpa + SC_PKT + hdr_len, 40, 0xffff,
			VRING_DESC_F_NEXT);
	t[2] = vt_pdesc(s->gpa + SC_PKT + hdr_len + 40, GOOD_LEN - 40, 7, 0);
}

/* Each malformed buffer (bad address or length, wrong direction, too
 * short or too long, every indirect-table fault, INDIRECT where it may
 * not be or not negotiated) is consumed (a used descriptor with its id,
 * in ring order), dropped and counted; valid traffic on the same ring
 * goes on. Both ways: a guest RX buffer shorter than the header,
 * read-only or outside guest memory is returned with length 0 and the
 * packet goes to the next one. */
static void
bad_chains_consumed_packed(void)
{
	struct hostile h;
	struct scratch sc;
	struct rte_mbuf *pkts[32], *m;
	struct vhu_fe_vring_raw rx;
	struct vring_packed_desc d[2];
	uint16_t ids[32], id, nbad = 0, num, got_id;
	uint32_t got_len;
	unsigned int hdr_len;
	uint64_t seq = 0;

	VT_CHECK_EQ(hostile_up(&h, "badchain"), 0);
	VT_CHECK(h.raw.packed);
	VT_CHECK_EQ(scratch_alloc(h.t.fe, &sc), 0);
	hdr_len = vhu_fe_hdr_len(h.t.fe);
	num = h.raw.num;
	/* Buffer ids the front-end has not used: from the top. */
	id = (uint16_t)(num - 1);
#define BAD1(a, l, f) do { \
	d[0] = vt_pdesc((a), (l), id, (f)); \
	VT_CHECK_EQ(push_packed(&h, 1, d, 1), 0); \
	ids[nbad++] = id--; \
} while (0)
#define BAD2(a0, l0, f0, a1, l1, f1) do { \
	d[0] = vt_pdesc((a0), (l0), id, (f0)); \
	d[1] = vt_pdesc((a1), (l1), id, (f1)); \
	VT_CHECK_EQ(push_packed(&h, 1, d, 2), 0); \
	ids[nbad++] = id--; \
} while (0)
	good_table(&sc, hdr_len);
	/* address in no region */
	BAD1(1ULL << 50, 64, 0);
	/* length overflowing the address space */
	BAD1(UINT64_MAX - 100, 0xffffffff, 0);
	/* a device-writable descriptor in a TX buffer */
	BAD1(sc.gpa + SC_DATA, 64, VRING_DESC_F_WRITE);
	/* shorter than the virtio-net header (CVE-2022-2132) */
	BAD1(sc.gpa + SC_DATA, 8, 0);
	/* too long: more bytes than a packet, over two descriptors */
	BAD2(sc.gpa + SC_DATA, 40000, VRING_DESC_F_NEXT,
	     sc.gpa + SC_DATA + 40000, 40000, 0);
	/* nested indirect: the table holds an INDIRECT descriptor */
	((struct vring_packed_desc *)(void *)(sc.p + SC_NESTED))[0] =
		vt_pdesc(sc.gpa + SC_GOOD, 48, 0, VRING_DESC_F_INDIRECT);
	BAD1(sc.gpa + SC_NESTED, 16, VRING_DESC_F_INDIRECT);
	/* bogus indirect lengths: 0 and not a multiple of 16 */
	BAD1(sc.gpa + SC_GOOD, 0, VRING_DESC_F_INDIRECT);
	BAD1(sc.gpa + SC_GOOD, 24, VRING_DESC_F_INDIRECT);
	/* a table larger than the queue: the whole packet in entry 0, then
	 * zero-length entries (queue size of them is valid, below) */
	((struct vring_packed_desc *)(void *)(sc.p + SC_BIG))[0] =
		vt_pdesc(sc.gpa + SC_PKT, hdr_len + GOOD_LEN, 0, 0);
	for (unsigned int i = 1; i <= num; i++)
		((struct vring_packed_desc *)(void *)(sc.p + SC_BIG))[i] =
			vt_pdesc(sc.gpa + SC_DATA, 0, 0, 0);
	BAD1(sc.gpa + SC_BIG, 16u * (num + 1u), VRING_DESC_F_INDIRECT);
	/* a misaligned table */
	BAD1(sc.gpa + SC_GOOD + 4, 48, VRING_DESC_F_INDIRECT);
	/* INDIRECT together with NEXT, and INDIRECT after a descriptor */
	BAD2(sc.gpa + SC_GOOD, 48, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
	     sc.gpa + SC_DATA, 64, 0);
	BAD2(sc.gpa + SC_DATA, 64, VRING_DESC_F_NEXT,
	     sc.gpa + SC_GOOD, 48, VRING_DESC_F_INDIRECT);
	/* too long: more pieces than a chain may have (a table of 129) */
	for (unsigned int i = 0; i < 129; i++)
		((struct vring_packed_desc *)(void *)(sc.p + SC_MANY))[i] =
			vt_pdesc(sc.gpa + SC_DATA + 16 * i, 16, 0, 0);
	BAD1(sc.gpa + SC_MANY, 129 * 16, VRING_DESC_F_INDIRECT);
#undef BAD1
#undef BAD2
	/* A zero-length descriptor with a bad address, then a valid piece
	 * (CVE-2020-10725): must not crash; an 88-byte packet of zeros. */
	memset(sc.p + SC_ZERO, 0, 100);
	d[0] = vt_pdesc(1ULL << 50, 0, id, VRING_DESC_F_NEXT);
	d[1] = vt_pdesc(sc.gpa + SC_ZERO, 100, id, 0);
	VT_CHECK_EQ(push_packed(&h, 1, d, 2), 0);
	ids[nbad] = id--;
	/* The valid table with odd NEXT flags: all three entries read. */
	d[0] = vt_pdesc(sc.gpa + SC_GOOD, 48, id, VRING_DESC_F_INDIRECT);
	VT_CHECK_EQ(push_packed(&h, 1, d, 1), 0);
	ids[nbad + 1] = id--;
	/* A table of exactly the queue size. */
	d[0] = vt_pdesc(sc.gpa + SC_BIG, 16u * num, id, VRING_DESC_F_INDIRECT);
	VT_CHECK_EQ(push_packed(&h, 1, d, 1), 0);
	ids[nbad + 2] = id--;

	/* Then valid traffic. */
	VT_CHECK_EQ(vt_fe_send(h.t.fe, 0, 3, 64, 0), 0);
	{
		uint16_t k = vhu_dequeue_burst(h.t.dev, 0, vt_pool(), pkts, 32);
		uint64_t s;

		VT_CHECK_EQ(k, 6);
		VT_CHECK_EQ(rte_pktmbuf_pkt_len(pkts[0]), 100 - hdr_len);
		for (uint16_t i = 1; i < 3; i++) {
			VT_CHECK_EQ(rte_pktmbuf_pkt_len(pkts[i]), GOOD_LEN);
			VT_CHECK_EQ(vhu_fe_frame_check(rte_pktmbuf_mtod(pkts[i],
				const uint8_t *), GOOD_LEN, &s), 0);
			VT_CHECK_EQ(s, GOOD_SEQ);
		}
		for (uint16_t i = 3; i < k; i++) {
			VT_CHECK_EQ(vhu_fe_frame_check(rte_pktmbuf_mtod(pkts[i],
				const uint8_t *), rte_pktmbuf_pkt_len(pkts[i]),
				&s), 0);
			VT_CHECK_EQ(s, seq++);
		}
		rte_pktmbuf_free_bulk(pkts, k);
	}
	/* Every buffer came back used, in ring order, with its id. */
	VT_CHECK_EQ(vt_used_pending(h.t.fe, 1), nbad + 6);
	for (uint16_t i = 0; i < nbad + 3; i++) {
		VT_CHECK_EQ(vhu_fe_vring_get_used(vhu_fe_get_vring(h.t.fe, 1),
						  &got_id, &got_len), 1);
		VT_CHECK_EQ(got_id, ids[i]);
		VT_CHECK_EQ(got_len, 0);
	}
	VT_CHECK_EQ(vhu_fe_tx_reclaim(h.t.fe, 0), 3);
	VT_CHECK_EQ(ring_stats(h.t.dev, 1).drop_bad_desc, nbad);
	{
		struct vhu_ring_state st;

		VT_CHECK_EQ(vhu_device_ring_state(h.t.dev, 1, &st), 0);
		VT_CHECK(!st.broken); /* below the limit */
	}

	/* Guest RX: the first buffer shorter than the header, the second
	 * read-only, the third outside guest memory; the packet goes to the
	 * fourth, made an indirect table of two writable pieces (header,
	 * then 100 bytes; the WRITE flag of the ring descriptor that points
	 * at a table is ignored). */
	rx = vt_raw(h.t.fe, 0);
	VT_CHECK_EQ(rx.last_used, 0);
	rx.pdesc[0].len = 4;
	rx.pdesc[1].flags &= (uint16_t)~VRING_DESC_F_WRITE;
	rx.pdesc[2].addr = 1ULL << 50;
	{
		struct vring_packed_desc *t = (void *)(sc.p + SC_RX);

		t[0] = vt_pdesc(sc.gpa + SC_RX + 64, hdr_len, 0,
				VRING_DESC_F_WRITE);
		t[1] = vt_pdesc(sc.gpa + SC_RX + 64 + hdr_len, 100, 0,
				VRING_DESC_F_WRITE);
		rx.pdesc[3].addr = sc.gpa + SC_RX;
		rx.pdesc[3].len = 32;
		rx.pdesc[3].flags = (uint16_t)((rx.pdesc[3].flags &
			(VT_PACKED_F_AVAIL | VT_PACKED_F_USED)) |
			VRING_DESC_F_INDIRECT);
	}
	for (unsigned int i = 0; i < 4; i++)
		ids[i] = rx.pdesc[i].id;
	VT_CHECK((m = frame_mbuf(64, 5)) != NULL);
	VT_CHECK_EQ(vhu_enqueue_burst(h.t.dev, 0, &m, 1), 1);
	rte_pktmbuf_free(m);
	for (unsigned int i = 0; i < 5; i++) {
		uint16_t fl = rx.pdesc[i].flags;

		if (i == 4) {
			VT_CHECK(!vt_packed_used(fl, true));
			break;
		}
		VT_CHECK(vt_packed_used(fl, true));
		VT_CHECK(fl & VRING_DESC_F_WRITE);
		VT_CHECK_EQ(rx.pdesc[i].id, ids[i]);
		VT_CHECK_EQ(rx.pdesc[i].len, i == 3 ? hdr_len + 64 : 0);
	}
	{
		const uint8_t *b = sc.p + SC_RX + 64;
		uint64_t s;
		uint16_t nb;

		memcpy(&nb, b + 10, 2);
		VT_CHECK_EQ(nb, 1);
		VT_CHECK_EQ(vhu_fe_frame_check(b + hdr_len, 64, &s), 0);
		VT_CHECK_EQ(s, 5);
	}
	VT_CHECK_EQ(ring_stats(h.t.dev, 0).drop_bad_desc, 3);
	VT_CHECK_EQ(ring_stats(h.t.dev, 0).packets, 1);
	vt_dev_close(&h.t);

	/* An indirect buffer where INDIRECT_DESC was not negotiated (a
	 * valid table otherwise). */
	knobs_default();
	memset(&h, 0, sizeof(h));
	VT_CHECK_EQ(vt_dev_up(&h.t, "noindirect", 1, apply_knobs), 0);
	VT_CHECK(!(vhu_fe_features(h.t.fe) & F(VIRTIO_RING_F_INDIRECT_DESC)));
	VT_CHECK_EQ(scratch_alloc(h.t.fe, &sc), 0);
	good_table(&sc, vhu_fe_hdr_len(h.t.fe));
	d[0] = vt_pdesc(sc.gpa + SC_GOOD, 48, 200, VRING_DESC_F_INDIRECT);
	VT_CHECK_EQ(push_packed(&h, 1, d, 1), 0);
	VT_CHECK_EQ(vt_fe_send(h.t.fe, 0, 1, 64, 0), 0);
	seq = 0;
	VT_CHECK_EQ(vt_be_recv(h.t.dev, 0, 1, &seq), 1);
	VT_CHECK_EQ(ring_stats(h.t.dev, 1).drop_bad_desc, 1);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vhu_fe_get_vring(h.t.fe, 1),
					  &got_id, &got_len), 1);
	VT_CHECK_EQ(got_id, 200);
	vt_dev_close(&h.t);
}

/* After a repeat offender broke TX ring 1 with 16 of its 20 invalid
 * buffers, and 2 valid packets (seq 0, 1) wait behind them: a restart
 * (GET_VRING_BASE, then the start sequence) clears it, and the ring goes
 * on from where it stopped: the 4 invalid ones dropped, the 2 received. */
static void
restart_clears_broken(struct hostile *h)
{
	struct vhu_ring_state st;
	uint64_t seq = 0;
	uint32_t base;

	VT_CHECK_EQ(vhu_fe_get_vring_base(h->t.fe, 1, &base), 0);
	if (h->raw.packed)
		VT_CHECK_EQ(base, 0x80108010u); /* 16, wrap counters 1 */
	else
		VT_CHECK_EQ(base, 16);
	VT_CHECK_EQ(vhu_fe_start_ring(h->t.fe, 1), 0);
	VT_CHECK_EQ(vhu_device_ring_state(h->t.dev, 1, &st), 0);
	VT_CHECK(st.started && !st.broken);
	VT_CHECK_EQ(vt_be_recv(h->t.dev, 0, 2, &seq), 2);
	VT_CHECK_EQ(ring_stats(h->t.dev, 1).drop_bad_desc, 20);
	VT_CHECK_EQ(ring_stats(h->t.dev, 1).broken, 1);
	VT_CHECK_EQ(vt_used_pending(h->t.fe, 1), 16 + 4 + 2);
}

/* A ring that keeps violating the rules is broken at the 16th invalid
 * buffer (the burst stops there), reported, and left alone. */
static void
repeat_offender_broken_packed(void)
{
	struct hostile h;
	struct rte_mbuf *pkts[32];
	struct vring_packed_desc d;
	struct vhu_ring_state st;
	uint64_t seq = 0;
	uint8_t status;

	VT_CHECK_EQ(hostile_up(&h, "broken"), 0);
	VT_CHECK(h.raw.packed);
	for (uint16_t i = 0; i < 20; i++) {
		d = vt_pdesc(1ULL << 50, 64, (uint16_t)(h.raw.num - 1 - i), 0);
		VT_CHECK_EQ(push_packed(&h, 1, &d, 1), 0);
	}
	VT_CHECK_EQ(vhu_dequeue_burst(h.t.dev, 0, vt_pool(), pkts, 32), 0);
	VT_CHECK(VT_WAIT(vhu_device_ring_state(h.t.dev, 1, &st) == 0 && st.broken));
	VT_CHECK_EQ(ring_stats(h.t.dev, 1).broken, 1);
	VT_CHECK_EQ(ring_stats(h.t.dev, 1).drop_bad_desc, 16);
	/* The 16 consumed ones are published; the rest stay. */
	VT_CHECK_EQ(vt_used_pending(h.t.fe, 1), 16);
	VT_CHECK_EQ(vhu_fe_get_status(h.t.fe, &status), 0);
	VT_CHECK(status & 0x40);
	/* Broken: valid packets on it are left alone. */
	VT_CHECK_EQ(vt_fe_send(h.t.fe, 0, 2, 64, 0), 0);
	VT_CHECK_EQ(vhu_dequeue_burst(h.t.dev, 0, vt_pool(), pkts, 32), 0);
	VT_CHECK_EQ(vt_used_pending(h.t.fe, 1), 16);
	/* The other queue pair is fine. */
	VT_CHECK_EQ(vt_fe_send(h.t.fe, 1, 5, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(h.t.dev, 1, 5, &seq), 5);
	restart_clears_broken(&h);
	vt_dev_close(&h.t);
}

/* Whether ring `ring` is broken (waiting for the control thread). */
static bool
ring_broken(struct vhu_device *dev, uint16_t ring)
{
	struct vhu_ring_state st;

	return VT_WAIT(vhu_device_ring_state(dev, ring, &st) == 0 && st.broken);
}

/* Ring-level corruption breaks a packed ring at once, with nothing of
 * the corrupt buffer consumed: a buffer id >= the ring size (nothing
 * valid to give back), or a chain with NEXT on every descriptor of the
 * ring (no end). Both ways. A burst stops there: what came before goes.
 * A chain of exactly the ring size that ends is only invalid. */
static void
ring_corruption_breaks_at_once_packed(void)
{
	static struct vring_packed_desc ring[VHU_FE_MAX_QUEUE_SIZE];
	struct hostile h;
	struct scratch sc;
	struct rte_mbuf *pkts[32], *m;
	struct vhu_fe_vring_raw tx, rx;
	uint64_t seq = 0;
	uint16_t num, k;
	uint16_t got_id;
	uint32_t got_len;

	VT_CHECK_EQ(hostile_up(&h, "corrupt"), 0);
	VT_CHECK(h.raw.packed);
	VT_CHECK_EQ(scratch_alloc(h.t.fe, &sc), 0);
	num = h.raw.num;

	/* TX qp 0: two valid packets, then a buffer whose id is out of
	 * range (pushed with a valid one, then overwritten). */
	VT_CHECK_EQ(vt_fe_send(h.t.fe, 0, 2, 64, 0), 0);
	tx = vt_raw(h.t.fe, 1);
	ring[0] = vt_pdesc(sc.gpa + SC_DATA, 64, (uint16_t)(num - 1), 0);
	VT_CHECK_EQ(push_packed(&h, 1, ring, 1), 0);
	tx.pdesc[tx.avail_idx].id = (uint16_t)(num + 7);
	k = vhu_dequeue_burst(h.t.dev, 0, vt_pool(), pkts, 32);
	VT_CHECK_EQ(k, 2);
	rte_pktmbuf_free_bulk(pkts, k);
	VT_CHECK(ring_broken(h.t.dev, 1));
	VT_CHECK_EQ(vt_used_pending(h.t.fe, 1), 2);
	VT_CHECK_EQ(ring_stats(h.t.dev, 1).drop_bad_desc, 0);
	VT_CHECK_EQ(ring_stats(h.t.dev, 1).broken, 1);

	/* TX qp 1: one valid packet (so the chains below wrap), then a
	 * chain of exactly the ring size that ends (too many pieces: only
	 * invalid), then one with NEXT on every descriptor. */
	VT_CHECK_EQ(vt_fe_send(h.t.fe, 1, 1, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(h.t.dev, 1, 1, &seq), 1);
	VT_CHECK_EQ(vhu_fe_tx_reclaim(h.t.fe, 1), 1);
	for (uint16_t i = 0; i < num; i++)
		ring[i] = vt_pdesc(sc.gpa + SC_DATA + 16u * i, 16,
				   (uint16_t)(num - 1), VRING_DESC_F_NEXT);
	ring[num - 1].flags = 0;
	VT_CHECK_EQ(push_packed(&h, 3, ring, num), 0);
	VT_CHECK_EQ(vhu_dequeue_burst(h.t.dev, 1, vt_pool(), pkts, 32), 0);
	VT_CHECK_EQ(ring_stats(h.t.dev, 3).drop_bad_desc, 1);
	VT_CHECK_EQ(vhu_fe_vring_get_used(vhu_fe_get_vring(h.t.fe, 3),
					  &got_id, &got_len), 1);
	VT_CHECK_EQ(got_id, num - 1);
	/* Not broken: traffic goes on. */
	VT_CHECK_EQ(vt_fe_send(h.t.fe, 1, 1, 64, 1), 0);
	VT_CHECK_EQ(vt_be_recv(h.t.dev, 1, 1, &seq), 1);
	VT_CHECK_EQ(vhu_fe_tx_reclaim(h.t.fe, 1), 1);
	ring[num - 1].flags = VRING_DESC_F_NEXT;
	VT_CHECK_EQ(push_packed(&h, 3, ring, num), 0);
	VT_CHECK_EQ(vhu_dequeue_burst(h.t.dev, 1, vt_pool(), pkts, 32), 0);
	VT_CHECK(ring_broken(h.t.dev, 3));
	VT_CHECK_EQ(vt_used_pending(h.t.fe, 3), 0);
	VT_CHECK_EQ(ring_stats(h.t.dev, 3).drop_bad_desc, 1);
	VT_CHECK_EQ(ring_stats(h.t.dev, 3).broken, 1);

	/* Guest RX qp 0: a small packet (buffer 0), then one of two
	 * buffers whose second has its id out of range: the first goes,
	 * nothing of the second is published. */
	rx = vt_raw(h.t.fe, 0);
	VT_CHECK_EQ(rx.last_used, 0);
	rx.pdesc[2].id = (uint16_t)(rx.num + 7);
	VT_CHECK((pkts[0] = frame_mbuf(64, 0)) != NULL);
	VT_CHECK((pkts[1] = frame_mbuf(3000, 1)) != NULL);
	VT_CHECK_EQ(vhu_enqueue_burst(h.t.dev, 0, pkts, 2), 1);
	rte_pktmbuf_free_bulk(pkts, 2);
	VT_CHECK(ring_broken(h.t.dev, 0));
	VT_CHECK_EQ(vt_used_pending(h.t.fe, 0), 1);
	VT_CHECK(!vt_packed_used(rx.pdesc[1].flags, true));
	VT_CHECK_EQ(ring_stats(h.t.dev, 0).drop_bad_desc, 0);
	VT_CHECK((m = frame_mbuf(64, 2)) != NULL);
	VT_CHECK_EQ(vhu_enqueue_burst(h.t.dev, 0, &m, 1), 0);
	/* Guest RX qp 1: every posted buffer chained to the next. */
	rx = vt_raw(h.t.fe, 2);
	for (uint16_t i = 0; i < rx.num; i++)
		rx.pdesc[i].flags |= VRING_DESC_F_NEXT;
	VT_CHECK_EQ(vhu_enqueue_burst(h.t.dev, 1, &m, 1), 0);
	rte_pktmbuf_free(m);
	VT_CHECK(ring_broken(h.t.dev, 2));
	VT_CHECK_EQ(vt_used_pending(h.t.fe, 2), 0);
	VT_CHECK_EQ(ring_stats(h.t.dev, 2).drop_bad_desc, 0);
	VT_CHECK_EQ(ring_stats(h.t.dev, 2).broken, 1);
	vt_dev_close(&h.t);
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

	if (vt_packed()) {
		bad_chains_consumed_packed();
		return;
	}
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

	if (vt_packed()) {
		repeat_offender_broken_packed();
		return;
	}
	VT_CHECK_EQ(hostile_up(&h, "broken"), 0);
	for (uint16_t i = 0; i < 20; i++) {
		uint16_t d = (uint16_t)(h.free_desc - i);

		push_desc(&h, d, 1ULL << 50, 64, 0, 0);
		VT_CHECK_EQ(vhu_fe_vring_push_raw(vhu_fe_get_vring(h.t.fe, 1), d), 0);
	}
	VT_CHECK_EQ(vhu_dequeue_burst(h.t.dev, 0, vt_pool(), pkts, 32), 0);
	VT_CHECK(VT_WAIT(vhu_device_ring_state(h.t.dev, 1, &st) == 0 && st.broken));
	VT_CHECK_EQ(ring_stats(h.t.dev, 1).broken, 1);
	/* Broken: the inline hint says so too (after the control thread's
	 * republish, hence the wait). */
	VT_CHECK(VT_WAIT(!vhu_dequeue_ring_live(h.t.dev, 0)));
	VT_CHECK_EQ(vhu_fe_get_status(h.t.fe, &status), 0);
	VT_CHECK(status & 0x40);
	/* Broken: valid packets on it are left alone. */
	VT_CHECK_EQ(vt_fe_send(h.t.fe, 0, 2, 64, 0), 0);
	VT_CHECK_EQ(vhu_dequeue_burst(h.t.dev, 0, vt_pool(), pkts, 32), 0);
	/* The other queue pair is fine. */
	VT_CHECK_EQ(vt_fe_send(h.t.fe, 1, 5, 64, 0), 0);
	VT_CHECK_EQ(vt_be_recv(h.t.dev, 1, 5, &seq), 5);
	restart_clears_broken(&h);
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

	if (vt_packed()) {
		vt_skip_part("the avail index jumping", "a packed ring has no "
			     "avail index; a buffer id out of range and a "
			     "chain without end are checked instead");
		ring_corruption_breaks_at_once_packed();
		return;
	}
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
	{ "queue_sizes", test_queue_sizes },
	{ "enqueue_used_shadow_full", test_enqueue_used_shadow_full },
	{ "enqueue_bad_buffer_mid_packet", test_enqueue_bad_buffer_mid_packet },
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
	return vt_main("split", cases, RTE_DIM(cases), 1, argv[0]);
}
