/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net header <-> mbuf ol_flags mapping (doc/datapath.md,
 * "Offloads").
 *
 * Everything here parses packet bytes: the guest's on dequeue (untrusted)
 * and the application's on enqueue (an mbuf's lengths may be wrong). Every
 * read goes through rte_pktmbuf_read(), which refuses to read past the
 * packet and copes with headers that straddle segments; every offset
 * taken from a header or an mbuf is checked against the packet first.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "vhu.h"
#include "vhu_features.h"
#include "vhu_offload.h"

#define VHU_OL_TCP_CSUM_OFF offsetof(struct rte_tcp_hdr, cksum)
#define VHU_OL_UDP_CSUM_OFF offsetof(struct rte_udp_hdr, dgram_cksum)
#define VHU_OL_TCP_HDR_MIN sizeof(struct rte_tcp_hdr)
#define VHU_OL_UDP_HDR_LEN sizeof(struct rte_udp_hdr)

uint64_t
vhu_offload_features(uint64_t offloads)
{
	uint64_t f = 0;

	if (offloads & VHU_OFFLOAD_DEQUEUE_CSUM)
		f |= VHU_BIT(VIRTIO_NET_F_CSUM);
	if (offloads & VHU_OFFLOAD_DEQUEUE_TSO)
		f |= VHU_BIT(VIRTIO_NET_F_CSUM) |
			VHU_BIT(VIRTIO_NET_F_HOST_TSO4) |
			VHU_BIT(VIRTIO_NET_F_HOST_TSO6);
	if (offloads & VHU_OFFLOAD_ENQUEUE_CSUM)
		f |= VHU_BIT(VIRTIO_NET_F_GUEST_CSUM);
	if (offloads & VHU_OFFLOAD_ENQUEUE_TSO)
		f |= VHU_BIT(VIRTIO_NET_F_GUEST_CSUM) |
			VHU_BIT(VIRTIO_NET_F_GUEST_TSO4) |
			VHU_BIT(VIRTIO_NET_F_GUEST_TSO6);
	return f;
}

uint8_t
vhu_offload_ring_mode(uint64_t features, uint64_t offloads)
{
	uint8_t mode = 0;

	if (offloads & VHU_OFFLOAD_DEQUEUE_CSUM)
		mode |= VHU_OL_DEQ_KEEP_CSUM;
	if (offloads & VHU_OFFLOAD_DEQUEUE_RX_FLAGS)
		mode |= VHU_OL_DEQ_RX_FLAGS;
	if (offloads & VHU_OFFLOAD_DEQUEUE_TSO) {
		if (features & VHU_BIT(VIRTIO_NET_F_HOST_TSO4))
			mode |= VHU_OL_DEQ_TSO4;
		if (features & VHU_BIT(VIRTIO_NET_F_HOST_TSO6))
			mode |= VHU_OL_DEQ_TSO6;
	}
	/* A guest that took GUEST_TSO without GUEST_CSUM (the spec forbids
	 * it) gets no GSO header: it would carry NEEDS_CSUM. */
	if (features & VHU_BIT(VIRTIO_NET_F_GUEST_CSUM)) {
		mode |= VHU_OL_ENQ_CSUM;
		if (features & VHU_BIT(VIRTIO_NET_F_GUEST_TSO4))
			mode |= VHU_OL_ENQ_TSO4;
		if (features & VHU_BIT(VIRTIO_NET_F_GUEST_TSO6))
			mode |= VHU_OL_ENQ_TSO6;
	}
	return mode;
}

/* Write 2 bytes at off into an mbuf chain (off + 2 <= pkt_len). */
static void
vhu_ol_mbuf_write16(struct rte_mbuf *m, uint32_t off, uint16_t v)
{
	uint8_t b[2];
	uint32_t i;

	memcpy(b, &v, sizeof(v));
	for (i = 0; i < 2; i++, off++) {
		struct rte_mbuf *s = m;
		uint32_t o = off;

		while (o >= s->data_len) {
			o -= s->data_len;
			s = s->next;
		}
		*rte_pktmbuf_mtod_offset(s, uint8_t *, o) = b[i];
	}
}

/*
 * Ones' complement sum (folded, not complemented) of len bytes at off in
 * an mbuf chain. Not rte_raw_cksum_mbuf(): in DPDK 22.11 it truncates a
 * segment's unreduced sum to 16 bits before swapping it when the segment
 * starts at an odd offset, which loses carries (wrong sums for chains
 * with odd segment lengths).
 * @return 0; -1 if the range is outside the packet.
 */
static int
vhu_ol_sum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len,
		uint16_t *out)
{
	const struct rte_mbuf *s = m;
	uint32_t sum = 0, done = 0;

	if (off > rte_pktmbuf_pkt_len(m) || len > rte_pktmbuf_pkt_len(m) - off)
		return -1;
	while (s != NULL && off >= s->data_len) {
		off -= s->data_len;
		s = s->next;
	}
	while (done < len) {
		uint32_t n;
		uint16_t t;

		if (s == NULL)
			return -1;
		n = RTE_MIN((uint32_t)s->data_len - off, len - done);
		t = rte_raw_cksum(rte_pktmbuf_mtod_offset(s, const void *, off),
				  n);
		/* A piece at an odd position contributes byte-swapped. */
		if (done & 1)
			t = rte_bswap16(t);
		sum += t;
		done += n;
		off = 0;
		s = s->next;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	*out = (uint16_t)sum;
	return 0;
}

/* The L3 view of a packet. */
struct vhu_ol_l3 {
	uint32_t l2_len;
	uint32_t l3_len;
	uint32_t l4_bytes;   /* L4 header + payload, per the IP header */
	uint8_t ipv;         /* 4 or 6 */
	uint8_t proto;       /* IPv4 protocol / IPv6 next header */
};

/*
 * Parse Ethernet (up to two 802.1Q / 802.1ad tags), then IPv4 (not a
 * fragment) or IPv6 (the fixed header; an extension header shows up as a
 * proto that is not TCP or UDP). The IP header and the length it declares
 * must lie inside the packet.
 * @return 0; -1 for anything else.
 */
static int
vhu_ol_parse(const struct rte_mbuf *m, struct vhu_ol_l3 *o)
{
	uint32_t pkt_len = rte_pktmbuf_pkt_len(m);
	uint32_t off = sizeof(struct rte_ether_hdr);
	const struct rte_ether_hdr *eth;
	struct rte_ether_hdr eth_buf;
	uint16_t type;
	int tags;

	eth = rte_pktmbuf_read(m, 0, sizeof(*eth), &eth_buf);
	if (eth == NULL)
		return -1;
	type = rte_be_to_cpu_16(eth->ether_type);
	for (tags = 0; tags < 2 && (type == RTE_ETHER_TYPE_VLAN ||
				    type == RTE_ETHER_TYPE_QINQ); tags++) {
		const struct rte_vlan_hdr *vlan;
		struct rte_vlan_hdr vlan_buf;

		vlan = rte_pktmbuf_read(m, off, sizeof(*vlan), &vlan_buf);
		if (vlan == NULL)
			return -1;
		type = rte_be_to_cpu_16(vlan->eth_proto);
		off += sizeof(*vlan);
	}
	o->l2_len = off;
	if (type == RTE_ETHER_TYPE_IPV4) {
		const struct rte_ipv4_hdr *ip4;
		struct rte_ipv4_hdr ip4_buf;
		uint32_t tot;

		ip4 = rte_pktmbuf_read(m, off, sizeof(*ip4), &ip4_buf);
		if (ip4 == NULL || (ip4->version_ihl >> 4) != 4 ||
		    rte_ipv4_hdr_len(ip4) < sizeof(*ip4))
			return -1;
		o->l3_len = rte_ipv4_hdr_len(ip4);
		tot = rte_be_to_cpu_16(ip4->total_length);
		/* A fragment (MF or an offset) has no whole L4 to offload. */
		if (rte_be_to_cpu_16(ip4->fragment_offset) &
		    (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
			return -1;
		if (tot < o->l3_len || tot > pkt_len - off)
			return -1;
		o->l4_bytes = tot - o->l3_len;
		o->proto = ip4->next_proto_id;
		o->ipv = 4;
	} else if (type == RTE_ETHER_TYPE_IPV6) {
		const struct rte_ipv6_hdr *ip6;
		struct rte_ipv6_hdr ip6_buf;
		uint32_t plen;

		ip6 = rte_pktmbuf_read(m, off, sizeof(*ip6), &ip6_buf);
		if (ip6 == NULL || (rte_be_to_cpu_32(ip6->vtc_flow) >> 28) != 6)
			return -1;
		o->l3_len = sizeof(*ip6);
		plen = rte_be_to_cpu_16(ip6->payload_len);
		if (plen > pkt_len - off - sizeof(*ip6))
			return -1;
		o->l4_bytes = plen;
		o->proto = ip6->proto;
		o->ipv = 6;
	} else {
		return -1;
	}
	return 0;
}

/* TCP header length at off (data offset), or 0 if invalid or beyond
 * l4_bytes. */
static uint32_t
vhu_ol_tcp_hdr_len(const struct rte_mbuf *m, uint32_t off, uint32_t l4_bytes)
{
	const struct rte_tcp_hdr *tcp;
	struct rte_tcp_hdr tcp_buf;
	uint32_t thl;

	if (l4_bytes < VHU_OL_TCP_HDR_MIN)
		return 0;
	tcp = rte_pktmbuf_read(m, off, sizeof(*tcp), &tcp_buf);
	if (tcp == NULL)
		return 0;
	thl = (uint32_t)(tcp->data_off >> 4) * 4;
	if (thl < VHU_OL_TCP_HDR_MIN || thl > l4_bytes)
		return 0;
	return thl;
}

/*
 * Complete a partial checksum in software: the guest put the
 * pseudo-header sum in the field; the sum of everything from start to
 * the end goes at start + off (both checked by the caller).
 */
static int
vhu_ol_complete_csum(struct rte_mbuf *m, uint32_t start, uint32_t off)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint16_t sum = 0, csum;

	if (vhu_ol_sum_mbuf(m, start, len - start, &sum) != 0)
		return -1;
	csum = (uint16_t)~sum;
	/* UDP (field at offset 6) sends 0 as 0xffff: 0 means "no sum". */
	if (csum == 0 && off == VHU_OL_UDP_CSUM_OFF)
		csum = 0xffff;
	vhu_ol_mbuf_write16(m, start + off, csum);
	return 0;
}

/* The packet type of a parsed packet (l2_len tells the VLAN tags). */
static uint32_t
vhu_ol_ptype(const struct vhu_ol_l3 *o)
{
	uint32_t t;

	t = o->l2_len == RTE_ETHER_HDR_LEN ? RTE_PTYPE_L2_ETHER :
		o->l2_len == RTE_ETHER_HDR_LEN + 4 ? RTE_PTYPE_L2_ETHER_VLAN :
		RTE_PTYPE_L2_ETHER_QINQ;
	if (o->ipv == 6)
		t |= RTE_PTYPE_L3_IPV6;
	else
		t |= o->l3_len == 20 ? RTE_PTYPE_L3_IPV4 : RTE_PTYPE_L3_IPV4_EXT;
	return t | (o->proto == IPPROTO_TCP ? RTE_PTYPE_L4_TCP :
		    RTE_PTYPE_L4_UDP);
}

/*
 * Hand a checksum (and with gso, a segmentation) left to the
 * application over: lengths, then TX flags, or with VHU_OL_DEQ_RX_FLAGS
 * what DPDK vhost's compliant mode sets (packet type, RX_L4_CKSUM_NONE,
 * RX_LRO for a GSO packet).
 */
static void
vhu_ol_deq_hand_over(struct rte_mbuf *m, const struct vhu_ol_l3 *o,
		uint32_t l4_len, bool gso, uint8_t mode)
{
	m->l2_len = o->l2_len;
	m->l3_len = o->l3_len;
	m->l4_len = l4_len;
	if (mode & VHU_OL_DEQ_RX_FLAGS) {
		m->packet_type = vhu_ol_ptype(o);
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE |
			(gso ? RTE_MBUF_F_RX_LRO : 0);
		return;
	}
	m->ol_flags |= o->ipv == 4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6;
	if (o->proto == IPPROTO_UDP)
		m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
	else
		m->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
	if (gso)
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG |
			(o->ipv == 4 ? RTE_MBUF_F_TX_IP_CKSUM : 0);
}

/*
 * NEEDS_CSUM kept for the application: only a plain TCP or UDP checksum
 * whose offsets match the packet's own headers.
 * @return 0 (flags set); -1 (not expressible: complete in software).
 */
static int
vhu_ol_deq_csum_flags(const struct virtio_net_hdr *h, struct rte_mbuf *m,
		uint8_t mode)
{
	struct vhu_ol_l3 o;
	uint32_t l4_len;

	if (vhu_ol_parse(m, &o) != 0 ||
	    h->csum_start != o.l2_len + o.l3_len)
		return -1;
	if (o.proto == IPPROTO_TCP && h->csum_offset == VHU_OL_TCP_CSUM_OFF) {
		l4_len = vhu_ol_tcp_hdr_len(m, h->csum_start, o.l4_bytes);
		if (l4_len == 0)
			return -1;
	} else if (o.proto == IPPROTO_UDP &&
		   h->csum_offset == VHU_OL_UDP_CSUM_OFF &&
		   o.l4_bytes >= VHU_OL_UDP_HDR_LEN) {
		l4_len = VHU_OL_UDP_HDR_LEN;
	} else {
		return -1;
	}
	vhu_ol_deq_hand_over(m, &o, l4_len, false, mode);
	return 0;
}

/* A GSO header (HOST_TSO4/6): one mbuf with TX_TCP_SEG (or with
 * VHU_OL_DEQ_RX_FLAGS, RX_LRO), or -1 if invalid. */
static int
vhu_ol_deq_gso(const struct virtio_net_hdr *h, struct rte_mbuf *m,
		uint8_t mode)
{
	struct vhu_ol_l3 o;
	uint32_t thl;
	uint8_t ipv;

	/* ECN needs HOST_ECN (never offered); UDP / UDP_L4 need HOST_UFO /
	 * HOST_USO (never offered); each TCP type needs its feature. */
	if (h->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && (mode & VHU_OL_DEQ_TSO4))
		ipv = 4;
	else if (h->gso_type == VIRTIO_NET_HDR_GSO_TCPV6 &&
		 (mode & VHU_OL_DEQ_TSO6))
		ipv = 6;
	else
		return -1;
	if (h->gso_size == 0)
		return -1;
	/* The packet's own headers must be what the header says (hdr_len
	 * is a hint only: not used), with the IP length matching the
	 * packet, a TCP header and at least one byte of payload. */
	if (vhu_ol_parse(m, &o) != 0 || o.ipv != ipv ||
	    o.proto != IPPROTO_TCP ||
	    o.l2_len + o.l3_len + o.l4_bytes != rte_pktmbuf_pkt_len(m) ||
	    h->csum_start != o.l2_len + o.l3_len ||
	    h->csum_offset != VHU_OL_TCP_CSUM_OFF)
		return -1;
	thl = vhu_ol_tcp_hdr_len(m, h->csum_start, o.l4_bytes);
	if (thl == 0 || thl == o.l4_bytes)
		return -1;
	m->tso_segsz = h->gso_size;
	vhu_ol_deq_hand_over(m, &o, thl, true, mode);
	return 0;
}

int
vhu_offload_dequeue(const struct virtio_net_hdr *h, struct rte_mbuf *m,
		uint8_t mode)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	uint32_t start = h->csum_start, off = h->csum_offset;

	/* GSO without NEEDS_CSUM is invalid (the driver MUST set it). */
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return -1;
	/* Both offsets checked against the packet (CVE-2024-11614). */
	if (start >= len || off > len - start || len - start - off < 2)
		return -1;
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return vhu_ol_deq_gso(h, m, mode);
	if ((mode & VHU_OL_DEQ_KEEP_CSUM) &&
	    vhu_ol_deq_csum_flags(h, m, mode) == 0)
		return 0;
	return vhu_ol_complete_csum(m, start, off);
}

int
vhu_mbuf_complete_rx_cksum(struct rte_mbuf *m)
{
	uint32_t start = (uint32_t)m->l2_len + m->l3_len, off, len;

	if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) !=
	    RTE_MBUF_F_RX_L4_CKSUM_NONE)
		return 0;
	switch (m->packet_type & RTE_PTYPE_L4_MASK) {
	case RTE_PTYPE_L4_TCP:
		off = VHU_OL_TCP_CSUM_OFF;
		break;
	case RTE_PTYPE_L4_UDP:
		off = VHU_OL_UDP_CSUM_OFF;
		break;
	default:
		return -EINVAL;
	}
	len = rte_pktmbuf_pkt_len(m);
	if (start >= len || len - start < off + 2 ||
	    vhu_ol_complete_csum(m, start, off) != 0)
		return -EINVAL;
	m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_RX_L4_CKSUM_MASK) |
		RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	return 0;
}

/* An IP header as enqueue reads it: IPv4 with options, or IPv6. */
union vhu_ol_ip {
	struct rte_ipv4_hdr v4;
	struct rte_ipv6_hdr v6;
	uint8_t bytes[60];
};

/*
 * The TCP/UDP pseudo-header sum (not complemented: what goes in the
 * field of a partial checksum) for L4 protocol proto and l4_bytes of L4,
 * by DPDK's helpers, which take both from the header: they get a copy
 * that says what the packet holds (the mbuf's flags name the protocol;
 * an IPv6 payload length counts extension headers too).
 */
static uint16_t
vhu_ol_phdr_sum(const union vhu_ol_ip *ip, uint8_t ipv, uint8_t proto,
		uint32_t l4_bytes)
{
	union vhu_ol_ip h;

	if (ipv == 4) {
		memcpy(&h.v4, &ip->v4, sizeof(h.v4));
		h.v4.version_ihl = RTE_IPV4_VHL_DEF;
		h.v4.next_proto_id = proto;
		h.v4.total_length = rte_cpu_to_be_16((uint16_t)(sizeof(h.v4) +
								l4_bytes));
		return rte_ipv4_phdr_cksum(&h.v4, 0);
	}
	memcpy(&h.v6, &ip->v6, sizeof(h.v6));
	h.v6.proto = proto;
	h.v6.payload_len = rte_cpu_to_be_16((uint16_t)l4_bytes);
	return rte_ipv6_phdr_cksum(&h.v6, 0);
}

static void
vhu_ol_add_patch(struct vhu_ol_patch *patch, uint8_t *npatch, uint32_t off,
		uint16_t v)
{
	patch[*npatch].off = off;
	memcpy(patch[*npatch].val, &v, sizeof(v));
	(*npatch)++;
}

int
vhu_offload_enqueue(const struct rte_mbuf *m, uint8_t mode,
		struct virtio_net_hdr *h, struct vhu_ol_patch *patch,
		uint8_t *npatch)
{
	const uint64_t ol = m->ol_flags;
	const uint32_t pkt_len = rte_pktmbuf_pkt_len(m);
	const uint32_t l2 = m->l2_len, l3 = m->l3_len, l4off = l2 + l3;
	uint64_t l4 = ol & RTE_MBUF_F_TX_L4_MASK;
	union vhu_ol_ip ipbuf;
	const union vhu_ol_ip *ip;
	uint32_t l4_bytes, csum_off;
	uint16_t phdr;
	uint8_t ipv, proto;

	*npatch = 0;
	if (!(ol & VHU_OL_ENQ_TX_FLAGS)) {
		/* Only the RX checksum status (GUEST_CSUM negotiated). */
		if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
		    RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
		return 0;
	}
	/* Not supported: UDP segmentation, tunnels, outer checksums. */
	if (ol & (RTE_MBUF_F_TX_UDP_SEG | RTE_MBUF_F_TX_TUNNEL_MASK |
		  RTE_MBUF_F_TX_OUTER_IP_CKSUM | RTE_MBUF_F_TX_OUTER_UDP_CKSUM))
		return -1;
	if (ol & RTE_MBUF_F_TX_TCP_SEG)
		l4 = RTE_MBUF_F_TX_TCP_CKSUM; /* TSO implies the TCP checksum */
	if (l4 == RTE_MBUF_F_TX_SCTP_CKSUM)
		return -1;

	/* The IP header at l2_len, l3_len long, inside the packet. */
	if (l3 < sizeof(struct rte_ipv4_hdr) || l4off > pkt_len)
		return -1;
	ip = rte_pktmbuf_read(m, l2, sizeof(struct rte_ipv4_hdr), &ipbuf);
	if (ip == NULL)
		return -1;
	ipv = ip->v4.version_ihl >> 4; /* where IPv6 has its version too */
	if (ipv == 4) {
		uint32_t tot;

		if (rte_ipv4_hdr_len(&ip->v4) != l3)
			return -1;
		if (l3 > sizeof(struct rte_ipv4_hdr)) {
			ip = rte_pktmbuf_read(m, l2, l3, &ipbuf);
			if (ip == NULL)
				return -1;
		}
		tot = rte_be_to_cpu_16(ip->v4.total_length);
		if (tot < l3 || tot > pkt_len - l2)
			return -1;
		l4_bytes = tot - l3;
		if (ol & RTE_MBUF_F_TX_IP_CKSUM) {
			union vhu_ol_ip copy;

			memcpy(&copy, ip, l3);
			copy.v4.hdr_checksum = 0;
			vhu_ol_add_patch(patch, npatch, l2 +
					 offsetof(struct rte_ipv4_hdr,
						  hdr_checksum),
					 rte_ipv4_cksum(&copy.v4));
		}
	} else if (ipv == 6) {
		uint32_t plen;

		if (l3 < sizeof(struct rte_ipv6_hdr))
			return -1;
		ip = rte_pktmbuf_read(m, l2, sizeof(struct rte_ipv6_hdr),
				      &ipbuf);
		if (ip == NULL)
			return -1;
		plen = rte_be_to_cpu_16(ip->v6.payload_len);
		/* l3_len covers extension headers, payload_len too. */
		if (plen < l3 - sizeof(struct rte_ipv6_hdr) ||
		    plen > pkt_len - l2 - sizeof(struct rte_ipv6_hdr))
			return -1;
		l4_bytes = plen - (l3 - (uint32_t)sizeof(struct rte_ipv6_hdr));
		/* RTE_MBUF_F_TX_IP_CKSUM means nothing for IPv6. */
	} else {
		return -1;
	}

	if (l4 == 0) {
		/* Only the IPv4 header checksum was asked for. */
		if ((mode & VHU_OL_ENQ_CSUM) &&
		    (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
		    RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
		return 0;
	}
	if (l4 == RTE_MBUF_F_TX_TCP_CKSUM) {
		if (l4_bytes < VHU_OL_TCP_HDR_MIN)
			return -1;
		proto = IPPROTO_TCP;
		csum_off = VHU_OL_TCP_CSUM_OFF;
	} else {
		if (l4_bytes < VHU_OL_UDP_HDR_LEN)
			return -1;
		proto = IPPROTO_UDP;
		csum_off = VHU_OL_UDP_CSUM_OFF;
	}
	phdr = vhu_ol_phdr_sum(ip, ipv, proto, l4_bytes);

	if (ol & RTE_MBUF_F_TX_TCP_SEG) {
		const uint32_t thl = m->l4_len;

		if (thl < VHU_OL_TCP_HDR_MIN || thl > l4_bytes ||
		    m->tso_segsz == 0)
			return -1;
		/* More than one segment: the guest must take GSO. One
		 * segment: an ordinary TCP checksum request. */
		if (l4_bytes - thl > m->tso_segsz) {
			if (!(mode & (ipv == 4 ? VHU_OL_ENQ_TSO4 :
				      VHU_OL_ENQ_TSO6)))
				return -1; /* no software segmentation */
			h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			h->gso_type = ipv == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
				VIRTIO_NET_HDR_GSO_TCPV6;
			h->gso_size = m->tso_segsz;
			h->hdr_len = (uint16_t)(l4off + thl);
			h->csum_start = (uint16_t)l4off;
			h->csum_offset = (uint16_t)csum_off;
			vhu_ol_add_patch(patch, npatch, l4off + csum_off, phdr);
			return 0;
		}
	}
	if (mode & VHU_OL_ENQ_CSUM) {
		/* The guest completes it: pseudo-header sum in the field. */
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->csum_start = (uint16_t)l4off;
		h->csum_offset = (uint16_t)csum_off;
		vhu_ol_add_patch(patch, npatch, l4off + csum_off, phdr);
	} else {
		/* Full checksum in software, whatever the field held. */
		uint8_t fb[2];
		const uint8_t *f = rte_pktmbuf_read(m, l4off + csum_off, 2, fb);
		uint16_t old, raw, csum;
		uint32_t sum;

		if (f == NULL ||
		    vhu_ol_sum_mbuf(m, l4off, l4_bytes, &raw) != 0)
			return -1;
		memcpy(&old, f, sizeof(old));
		/* Take the old field out (ones' complement subtraction),
		 * put the pseudo-header in. */
		sum = (uint32_t)raw + (uint16_t)~old + phdr;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		csum = (uint16_t)~sum;
		if (csum == 0 && proto == IPPROTO_UDP)
			csum = 0xffff;
		vhu_ol_add_patch(patch, npatch, l4off + csum_off, csum);
	}
	return 0;
}
