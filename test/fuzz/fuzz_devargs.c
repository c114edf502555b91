/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_devargs: net_vhu's devargs parser, vhu_ethdev_args_parse()
 * (drivers/net/vhu/vhu_ethdev_args.c), on the input as a NUL-terminated
 * string (a NUL inside the input ends it, as on a command line). The
 * string sits at the very end of its heap block, so ASan sees any read
 * past the NUL.
 *
 * Checks on every input:
 *  - the result is 0 or -EINVAL (vhu_ethdev.h), and parsing the same
 *    string again gives the same result and the same struct;
 *  - on success: iface non-empty, NUL-terminated within its buffer, at
 *    most VHU_ETHDEV_PATH_MAX bytes and found verbatim in the input;
 *    queues 1..min(VHU_MAX_QUEUE_PAIRS, RTE_MAX_QUEUES_PER_PORT), 1 when
 *    the input never says "queues"; client, tso, legacy-ol-flags and mac
 *    at their defaults when the input never names them; offloads only
 *    VHU_OFFLOAD_* bits, always VHU_OFFLOAD_ENQUEUE_CSUM and
 *    VHU_OFFLOAD_DEQUEUE_CSUM; a MAC only when asked for, and then a
 *    unicast, non-zero one;
 *  - on success, the canonical devargs string of the result
 *    ("iface=...,queues=N,client=C,tso=T,legacy-ol-flags=L[,mac=M]")
 *    parses to the same struct (when iface holds none of ",=[]", which
 *    rte_kvargs would split on).
 * rte_kvargs needs no EAL, so this target runs without one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>

#include <rte_common.h>
#include <rte_ether.h>

#include "vhu_ethdev.h"
#include "vhu_fuzz.h"

#define NAME "net_vhu0"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	vhu_fuzz_log_init();
	return 0;
}

static void
check_parsed(const char *s, const struct vhu_ethdev_args *a)
{
	const char *nul = memchr(a->iface, '\0', sizeof(a->iface));
	size_t len = nul != NULL ? (size_t)(nul - a->iface) : 0;
	unsigned int max_q = RTE_MIN(VHU_MAX_QUEUE_PAIRS,
				     RTE_MAX_QUEUES_PER_PORT);
	static const struct rte_ether_addr zero_mac;

	VHU_FUZZ_CHECK(nul != NULL, "iface is not NUL-terminated within its "
		       "%zu bytes", sizeof(a->iface));
	VHU_FUZZ_CHECK(len >= 1 && len <= VHU_ETHDEV_PATH_MAX,
		       "iface of %zu bytes accepted", len);
	VHU_FUZZ_CHECK(strstr(s, a->iface) != NULL,
		       "iface '%s' is not in the input", a->iface);
	VHU_FUZZ_CHECK(a->queues >= 1 && a->queues <= max_q,
		       "queues=%u accepted (1..%u)", a->queues, max_q);
	VHU_FUZZ_CHECK(strstr(s, "queues") != NULL || a->queues == 1,
		       "queues=%u without 'queues' in the input", a->queues);
	VHU_FUZZ_CHECK(strstr(s, "client") != NULL || !a->client,
		       "client without 'client' in the input");
	VHU_FUZZ_CHECK((a->offloads & ~VHU_OFFLOAD_ALL) == 0,
		       "offloads 0x%" PRIx64 " hold unknown bits", a->offloads);
	VHU_FUZZ_CHECK((a->offloads & VHU_OFFLOAD_ENQUEUE_CSUM) != 0,
		       "offloads 0x%" PRIx64 " lack ENQUEUE_CSUM", a->offloads);
	VHU_FUZZ_CHECK(strstr(s, "tso") != NULL ||
		       (a->offloads & VHU_OFFLOAD_DEQUEUE_TSO) == 0,
		       "DEQUEUE_TSO without 'tso' in the input");
	VHU_FUZZ_CHECK((a->offloads & VHU_OFFLOAD_DEQUEUE_CSUM) != 0,
		       "offloads 0x%" PRIx64 " lack DEQUEUE_CSUM", a->offloads);
	VHU_FUZZ_CHECK(strstr(s, "legacy-ol-flags") != NULL ||
		       (a->offloads & VHU_OFFLOAD_DEQUEUE_RX_FLAGS) != 0,
		       "DEQUEUE_RX_FLAGS off without 'legacy-ol-flags' in the "
		       "input");
	VHU_FUZZ_CHECK((a->features_masked &
			~(1ULL << VIRTIO_F_RING_PACKED)) == 0,
		       "features_masked 0x%" PRIx64 " holds more than "
		       "RING_PACKED", a->features_masked);
	VHU_FUZZ_CHECK(strstr(s, "packed") != NULL || a->features_masked == 0,
		       "RING_PACKED withheld without 'packed' in the input");
	if (a->have_mac) {
		VHU_FUZZ_CHECK(strstr(s, "mac") != NULL,
			       "a MAC without 'mac' in the input");
		VHU_FUZZ_CHECK(rte_is_valid_assigned_ether_addr(&a->mac),
			       "MAC " RTE_ETHER_ADDR_PRT_FMT " accepted",
			       RTE_ETHER_ADDR_BYTES(&a->mac));
	} else {
		VHU_FUZZ_CHECK(rte_is_same_ether_addr(&a->mac, &zero_mac),
			       "MAC " RTE_ETHER_ADDR_PRT_FMT " without have_mac",
			       RTE_ETHER_ADDR_BYTES(&a->mac));
	}
}

/* The result written back as devargs parses to the same result. */
static void
check_round_trip(const struct vhu_ethdev_args *a)
{
	char s[sizeof(a->iface) + 160];
	struct vhu_ethdev_args b;
	int n, ret;

	if (strpbrk(a->iface, ",=[]") != NULL)
		return;
	n = snprintf(s, sizeof(s),
		     "iface=%s,queues=%u,client=%d,tso=%d,legacy-ol-flags=%d,"
		     "packed=%d",
		     a->iface, a->queues, a->client ? 1 : 0,
		     (a->offloads & VHU_OFFLOAD_DEQUEUE_TSO) != 0,
		     (a->offloads & VHU_OFFLOAD_DEQUEUE_RX_FLAGS) == 0,
		     (a->features_masked & (1ULL << VIRTIO_F_RING_PACKED)) == 0);
	if (a->have_mac)
		n += snprintf(s + n, sizeof(s) - (size_t)n,
			      ",mac=" RTE_ETHER_ADDR_PRT_FMT,
			      RTE_ETHER_ADDR_BYTES(&a->mac));
	VHU_FUZZ_CHECK((size_t)n < sizeof(s), "canonical devargs truncated");
	ret = vhu_ethdev_args_parse(NAME, s, &b);
	VHU_FUZZ_CHECK(ret == 0, "canonical devargs '%s' refused (%d)", s, ret);
	VHU_FUZZ_CHECK(memcmp(a, &b, sizeof(b)) == 0,
		       "canonical devargs '%s' parse to another result", s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhu_ethdev_args a, b;
	char *s = malloc(size + 1);
	int ret, ret2;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	/* The parser memsets the struct first: fill it to see that. */
	memset(&a, 0xa5, sizeof(a));
	memset(&b, 0x5a, sizeof(b));
	ret = vhu_ethdev_args_parse(NAME, s, &a);
	VHU_FUZZ_CHECK(ret == 0 || ret == -EINVAL, "returned %d", ret);
	ret2 = vhu_ethdev_args_parse(NAME, s, &b);
	VHU_FUZZ_CHECK(ret2 == ret, "parsed twice: %d, then %d", ret, ret2);
	if (ret == 0) {
		VHU_FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0,
			       "parsed twice: two results");
		check_parsed(s, &a);
		check_round_trip(&a);
	}
	free(s);
	return 0;
}
