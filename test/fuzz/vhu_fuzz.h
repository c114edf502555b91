/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What vhu's libFuzzer targets share (doc/testing.md, "Fuzzing"): an
 * input reader, a check that aborts, DPDK's log silenced, and DPDK's EAL
 * for targets whose code needs it (rte_malloc); and what the two
 * datapath targets (fuzz_ring: split rings, fuzz_packed: packed rings)
 * share of their harness: the operation loop, guest addresses from the
 * input, the packets they write and the mbufs they enqueue, the model's
 * chain pieces, the dirty log's and the mbufs' checks.
 *
 * A target is one file, test/fuzz/fuzz_<what>.c, defining
 * LLVMFuzzerTestOneInput (and LLVMFuzzerInitialize for one-time set-up),
 * one line in test/fuzz/meson.build's table, and its seed corpus in
 * test/fuzz/corpus/fuzz_<what>/ (test/fuzz/gen-corpus.py writes them).
 */
#ifndef VHU_FUZZ_H
#define VHU_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/virtio_net.h>

struct rte_mbuf;
struct rte_mempool;

/* libFuzzer's entry points. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * A finding: print the check, where it is and why, then abort(), which
 * makes libFuzzer save the input as crash-<sha1>.
 */
#define VHU_FUZZ_CHECK(cond, fmt, ...) do { \
	if (!(cond)) \
		vhu_fuzz_fail(__FILE__, __LINE__, #cond, fmt, ##__VA_ARGS__); \
} while (0)

void vhu_fuzz_fail(const char *file, int line, const char *cond,
		const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));

/*
 * The input, read front to back. Past its end every read gives zeros, so
 * a target decodes any input; it loops while !vhu_fuzz_in_empty().
 * Multi-byte values are little-endian.
 */
struct vhu_fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline void
vhu_fuzz_in_init(struct vhu_fuzz_in *in, const uint8_t *data, size_t size)
{
	in->p = data;
	in->left = size;
}

static inline bool
vhu_fuzz_in_empty(const struct vhu_fuzz_in *in)
{
	return in->left == 0;
}

/* Copy n bytes to dst (zeros past the end). */
static inline void
vhu_fuzz_bytes(struct vhu_fuzz_in *in, void *dst, size_t n)
{
	size_t k = n < in->left ? n : in->left;

	if (k > 0)
		memcpy(dst, in->p, k);
	memset((uint8_t *)dst + k, 0, n - k);
	in->p += k;
	in->left -= k;
}

static inline uint8_t
vhu_fuzz_u8(struct vhu_fuzz_in *in)
{
	uint8_t v;

	vhu_fuzz_bytes(in, &v, 1);
	return v;
}

static inline uint16_t
vhu_fuzz_u16(struct vhu_fuzz_in *in)
{
	uint8_t b[2];

	vhu_fuzz_bytes(in, b, sizeof(b));
	return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t
vhu_fuzz_u32(struct vhu_fuzz_in *in)
{
	uint32_t lo = vhu_fuzz_u16(in);

	return lo | (uint32_t)vhu_fuzz_u16(in) << 16;
}

static inline uint64_t
vhu_fuzz_u64(struct vhu_fuzz_in *in)
{
	uint64_t lo = vhu_fuzz_u32(in);

	return lo | (uint64_t)vhu_fuzz_u32(in) << 32;
}

/*
 * DPDK's log (lib.vhu, pmd.net.vhu, EAL ...) off: a fuzzer feeds bad
 * input on purpose and must not spend its time printing why. With
 * VHU_FUZZ_LOG set, log as it says instead: a level ("debug") for every
 * log type, or "TYPE-PATTERN:LEVEL" ("lib.vhu:debug"), as EAL's
 * --log-level does. Call before anything logs (LLVMFuzzerInitialize).
 */
void vhu_fuzz_log_init(void);

/*
 * DPDK's EAL, once per process, leaving nothing behind: no hugepages
 * (64 MiB of ordinary memory), no PCI, no shared files, no telemetry
 * socket, a file prefix of its own whose runtime directory is removed
 * right after the init (so also when the target later crashes); the
 * thread's CPU affinity is restored afterwards (EAL pins it to lcore 0).
 * Calls vhu_fuzz_log_init(). Aborts if EAL fails.
 */
void vhu_fuzz_eal_init(const char *argv0);

/* ---- the datapath targets: fuzz_ring, fuzz_packed ---- */

/*
 * The harness's checks, models and generators: no coverage feedback
 * (their edges and comparisons would only steer the fuzzer through the
 * harness; the library's edges are the signal), and faster.
 */
#if defined(__clang__)
#define VHU_FUZZ_NOCOV __attribute__((no_sanitize("coverage")))
#else
/* gcc builds only replay the corpus (vhu_fuzz_replay.c). */
#define VHU_FUZZ_NOCOV
#endif

/*
 * The operations of the input, until it ends: each a u8 % count, run by
 * do_op(). The operation repeat takes u8 n and an operation, decoded
 * n + 1 times from the same bytes (a repeat in it repeats nothing); an
 * operation whose bit is set in heavy (the bursts) at most 16 times.
 */
void vhu_fuzz_run_ops(struct vhu_fuzz_in *in, unsigned int count,
		unsigned int repeat, uint32_t heavy,
		void (*do_op)(struct vhu_fuzz_in *in, uint8_t op));

/* A guest address: u8 form, then base + 8 * u16 (mostly), base + u24
 * (any byte) or a raw u64. */
uint64_t vhu_fuzz_take_gpa(struct vhu_fuzz_in *in, uint64_t base);

/* A memfd of size bytes, mapped shared at *host. @return the fd. */
int vhu_fuzz_memfd(const char *name, uint64_t size, uint8_t **host);

/* Fill the pattern packets carry after their headers (the same bytes in
 * every process). Call once (LLVMFuzzerInitialize). */
void vhu_fuzz_pattern_init(void);

/*
 * A packet as a stream of bytes: hdr_len bytes of hdr, then tmpl_len of
 * tmpl, then the pattern from pat_off on. vhu_fuzz_stream_packet(pos,
 * dst, n, stream) writes its bytes [pos, pos + n) to dst.
 */
struct vhu_fuzz_stream {
	const uint8_t *hdr;
	uint32_t hdr_len;
	const uint8_t *tmpl;
	uint32_t tmpl_len;
	uint32_t pat_off;
};

void vhu_fuzz_stream_packet(uint32_t pos, uint8_t *dst, uint32_t n,
		const void *ctx);

/*
 * A guest TX packet of total bytes, as a driver writes it: a virtio-net
 * header (hdr_len bytes of vh), then the headers of an Ethernet (VLAN
 * tagged if vlan) packet of template t, 0..3 (raw: addresses only; IPv4
 * / TCP; IPv6 / TCP; IPv4 / UDP), then the pattern from pat_off. hmode,
 * 0..3, says what vh holds: 0, 3 what the caller put there (zeros, or
 * the input's bytes); 1 a partial checksum of the template's L4; 2 that
 * and GSO (TCPv4 or v6) of gso bytes. Its bytes: vhu_fuzz_stream_packet()
 * on &s.
 */
struct vhu_fuzz_tx {
	struct virtio_net_hdr_mrg_rxbuf vh;
	uint8_t tmpl[96];
	struct vhu_fuzz_stream s;
};

void vhu_fuzz_tx_build(struct vhu_fuzz_tx *tx, unsigned int t, bool vlan,
		unsigned int hmode, uint16_t gso, uint32_t hdr_len,
		uint32_t total, uint32_t pat_off);

/* The largest packet vhu_fuzz_make_mbuf() makes. */
#define VHU_FUZZ_MBUF_LEN_MAX 9000u

/* What an mbuf was when it was handed over. */
struct vhu_fuzz_pktinfo {
	uint32_t pkt_len;
	uint64_t ol_flags;
	uint16_t nb_segs;
	uint8_t l2_len;
	uint16_t l3_len;
	uint8_t l4_len;
	uint16_t tso_segsz;
};

/*
 * An mbuf from mp to enqueue, from the input: u16 length (14..9000
 * bytes), u8 shape [, offload bytes] [, u8 n, n (offset, byte) pokes]
 * (fuzz_ring.c's header comment). Its bytes: the headers of a template
 * whose source MAC's bytes 7 and 8 carry tag, then the pattern; a poke of
 * bytes 6..8 is left out when keep_tag. *pi: what the mbuf is.
 */
struct rte_mbuf *vhu_fuzz_make_mbuf(struct vhu_fuzz_in *in,
		struct rte_mempool *mp, uint8_t tag, bool keep_tag,
		struct vhu_fuzz_pktinfo *pi);

/* Enqueue reads its mbufs only: mbuf i (m) is still what *pi says. */
void vhu_fuzz_check_mbuf_kept(const struct rte_mbuf *m,
		const struct vhu_fuzz_pktinfo *pi, unsigned int i);

/* m is the RARP announcing mac (SEND_RARP), as dequeue hands it out. */
void vhu_fuzz_check_rarp(const struct rte_mbuf *m, const uint8_t *mac);

/* A piece of a chain, as a model translated it. */
struct vhu_fuzz_piece {
	uint8_t *host;
	uint64_t gpa;
	uint32_t len;
};

/*
 * Append [gpa, gpa + len) to the pieces p[0..*n), a piece per region as
 * host() translates it (host(gpa, &len): a pointer, *len clipped to the
 * region's end; NULL outside memory). @return false when some of it does
 * not translate or it takes more than max pieces.
 */
bool vhu_fuzz_pieces_add(struct vhu_fuzz_piece *p, uint16_t *n,
		uint16_t max, uint64_t gpa, uint32_t len,
		uint8_t *(*host)(uint64_t gpa, uint64_t *len));

/* The first len bytes (at most the pieces') of p[0..n) into dst.
 * @return bytes. */
uint32_t vhu_fuzz_pieces_gather(const struct vhu_fuzz_piece *p, uint16_t n,
		uint32_t len, uint8_t *dst);

/* The dirty log (a bit per 4 KiB page, log_size bytes) marks every page
 * of [gpa, gpa + len) that it covers. */
bool vhu_fuzz_log_marked(const uint8_t *log, uint64_t log_size,
		uint64_t gpa, uint64_t len);

/* No bit of the size bytes of log is set. */
bool vhu_fuzz_log_empty(const uint8_t *log, size_t size);

#endif /* VHU_FUZZ_H */
