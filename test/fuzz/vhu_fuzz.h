/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What vhu's libFuzzer targets share (doc/testing.md, "Fuzzing"): an
 * input reader, a check that aborts, DPDK's log silenced, and DPDK's EAL
 * for targets whose code needs it (rte_malloc).
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

#endif /* VHU_FUZZ_H */
