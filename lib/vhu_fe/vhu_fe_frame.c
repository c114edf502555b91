/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test frames: Ethernet + IPv4 + UDP with a payload derived from a
 * sequence number, so a receiver can verify every byte; and a sanity check
 * for frames from elsewhere (e.g. testpmd's txonly).
 */
#include <errno.h>
#include <string.h>

#include "vhu_fe_priv.h"

#define ETH_LEN 14u
#define IP_LEN 20u
#define UDP_LEN 8u
#define PAYLOAD_OFF (ETH_LEN + IP_LEN + UDP_LEN)
#define PATTERN_OFF (PAYLOAD_OFF + 16u)
#define MAGIC "VHUF"

static const uint8_t dst_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t src_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static void
put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16be(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* One's-complement sum over n bytes (n even), folded. */
static uint16_t
csum16(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16be(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint8_t
pattern_byte(uint64_t seq, size_t i)
{
	return (uint8_t)(seq * 31u + i);
}

/* Headers of a test frame of len bytes with sequence seq. */
static void
build_headers(uint8_t *h, size_t len, uint64_t seq)
{
	uint8_t *ip = h + ETH_LEN, *udp = ip + IP_LEN;

	memset(h, 0, PAYLOAD_OFF);
	memcpy(h, dst_mac, 6);
	memcpy(h + 6, src_mac, 6);
	put16be(h + 12, 0x0800);
	ip[0] = 0x45;
	put16be(ip + 2, (uint16_t)(len - ETH_LEN));
	put16be(ip + 4, (uint16_t)seq);
	put16be(ip + 6, 0x4000);            /* don't fragment */
	ip[8] = 64;
	ip[9] = 17;                         /* UDP */
	memcpy(ip + 12, (const uint8_t[]){ 10, 0, 0, 1 }, 4);
	memcpy(ip + 16, (const uint8_t[]){ 10, 0, 0, 2 }, 4);
	put16be(ip + 10, (uint16_t)~csum16(ip, IP_LEN));
	put16be(udp, 50000);
	put16be(udp + 2, 50001);
	put16be(udp + 4, (uint16_t)(len - ETH_LEN - IP_LEN));
	/* UDP checksum 0: none, valid for IPv4. */
}

int
vhu_fe_frame_build(uint8_t *buf, size_t len, uint64_t seq)
{
	uint32_t len32 = (uint32_t)len;

	if (buf == NULL || len < VHU_FE_FRAME_MIN || len > VHU_FE_FRAME_MAX) {
		VHU_FE_LOG("frame build: length %zu, want %u..%u", len,
			   VHU_FE_FRAME_MIN, VHU_FE_FRAME_MAX);
		return -EINVAL;
	}
	build_headers(buf, len, seq);
	memcpy(buf + PAYLOAD_OFF, MAGIC, 4);
	memcpy(buf + PAYLOAD_OFF + 4, &seq, 8);
	memcpy(buf + PAYLOAD_OFF + 12, &len32, 4);
	for (size_t i = PATTERN_OFF; i < len; i++)
		buf[i] = pattern_byte(seq, i);
	return 0;
}

int
vhu_fe_frame_check(const uint8_t *buf, size_t len, uint64_t *seq)
{
	uint8_t want[PAYLOAD_OFF];
	uint64_t s;
	uint32_t l;

	if (buf == NULL || len < VHU_FE_FRAME_MIN || len > VHU_FE_FRAME_MAX ||
	    memcmp(buf + PAYLOAD_OFF, MAGIC, 4) != 0)
		return -EBADMSG;
	memcpy(&s, buf + PAYLOAD_OFF + 4, 8);
	memcpy(&l, buf + PAYLOAD_OFF + 12, 4);
	if (l != len)
		return -EBADMSG;
	build_headers(want, len, s);
	if (memcmp(want, buf, PAYLOAD_OFF) != 0)
		return -EBADMSG;
	for (size_t i = PATTERN_OFF; i < len; i++)
		if (buf[i] != pattern_byte(s, i))
			return -EBADMSG;
	if (seq != NULL)
		*seq = s;
	return 0;
}

int
vhu_fe_frame_check_eth(const uint8_t *buf, size_t len)
{
	if (buf == NULL || len < ETH_LEN)
		return -EBADMSG;
	if (get16be(buf + 12) != 0x0800)
		return 0;
	const uint8_t *ip = buf + ETH_LEN;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;

	if (len < ETH_LEN + IP_LEN || (ip[0] >> 4) != 4 || ihl < IP_LEN ||
	    ETH_LEN + ihl > len)
		return -EBADMSG;
	if (csum16(ip, ihl) != 0xffff)
		return -EBADMSG;
	size_t tot = get16be(ip + 2);
	if (tot < ihl || tot > len - ETH_LEN)
		return -EBADMSG;
	return 0;
}
