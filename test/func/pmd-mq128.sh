#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# 128 queue pairs, the most net_vhost and QEMU's vhost-user offer: net_vhu
# queues=128 in stock testpmd (--rxq=128 --txq=128, io forwarding with
# retry: what arrives on a queue leaves by the same queue) against the
# test front-end (vhu-fe --queues 128; DPDK's virtio-user stops at 8).
# vhu-fe sends N byte-patterned frames over all 128 TX queues (64-entry
# rings, so its first round already puts frames on every queue) and
# checks every one that comes back on the RX queues. Every queue's xstats
# must show traffic both ways, and they must add up to N.
#
# With LCORES 2, testpmd forwards on two worker lcores (both on core 1 of
# this 2-core machine, so time-shared), 64 queues each: every queue must
# still carry traffic both ways, byte-identical.
#
# Usage: pmd-mq128.sh PLUGIN VHU_FE [LCORES]
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/pmd-lib.sh"

LCORES=${3:-1}
pmd_init "pmd-mq128-l$LCORES" "${1:-}"
VHU_FE=${2:-}
[ -n "$VHU_FE" ] && [ -x "$VHU_FE" ] || vt_fail "vhu-fe tool not found: '$VHU_FE'"
SOCK=$VT_DIR/vhu.sock
QPS=128
N=40000
OUT=$VT_DIR/fe.log

fe_val() { sed -n "s/^$1=//p" "$OUT" | tail -n 1; }

case $LCORES in
1) pmd_be be 1 "iface=$SOCK,queues=$QPS" --rxq=$QPS --txq=$QPS --total-num-mbufs 65536 ;;
2) pmd_be be 1x2 "iface=$SOCK,queues=$QPS" --rxq=$QPS --txq=$QPS --total-num-mbufs 65536 \
	--nb-cores=2 ;;
*) vt_fail "LCORES $LCORES: 1 or 2" ;;
esac
pmd_do be "set fwd io retry" "Set io packet forwarding mode with retry"
pmd_cmd be "set burst tx delay 10 retry 100000"
m=$(pmd_mark be)
vt_start fe "$VHU_FE" --path "$SOCK" --queues $QPS --queue-size 64 \
	--tx $N --rx $N --pattern --size 60-1514 --timeout 120 "${PMD_VHU_FE_RING[@]}"
pmd_wait_rings be "$m" $QPS 60
pmd_assert_ring_format be
m=$(pmd_mark be)
pmd_start be
if [ "$LCORES" = 2 ]; then
	# testpmd's own plan: each lcore forwards half of the queues.
	pmd_wait_after be "$m" "Logical Core 2 .*forwards packets on" 20 ||
		vt_fail "testpmd did not start two forwarding lcores"
	for l in 1 2; do
		n=$(pmd_after be "$m" | sed -n "s/^Logical Core $l .*forwards packets on \([0-9]*\) streams.*/\1/p" | head -n 1)
		vt_assert_eq "$n" $((QPS / 2)) "queues forwarded by lcore $l"
	done
fi
rc=0
vt_wait fe 130 || rc=$?
[ "$rc" = 0 ] || vt_fail "vhu-fe exited with $rc"
pmd_stop be
m=$PMD_MARK
vt_assert_eq "$(pmd_total be "$m" RX-packets)" "$N" "testpmd RX-packets"
vt_assert_eq "$(pmd_total be "$m" TX-packets)" "$N" "testpmd TX-packets"
vt_assert_eq "$(fe_val tx_packets)" "$N" "frames sent"
vt_assert_eq "$(fe_val rx_packets)" "$N" "frames back"
vt_assert_eq "$(fe_val rx_bad)" 0 "frames not byte-identical"

pmd_xstats be 0 "tx_q$((QPS - 1))_ring_broken"
m=$PMD_MARK
rx_sum=0 tx_sum=0 rx_min=$N tx_min=$N drops=0
for ((q = 0; q < QPS; q++)); do
	rx=$(pmd_value be "$m" "rx_q${q}_packets")
	tx=$(pmd_value be "$m" "tx_q${q}_packets")
	[ -n "$rx" ] && [ -n "$tx" ] || vt_fail "no xstats for queue $q"
	rx_sum=$((rx_sum + rx)) tx_sum=$((tx_sum + tx))
	((rx < rx_min)) && rx_min=$rx
	((tx < tx_min)) && tx_min=$tx
	for x in rx_q${q}_drop_bad_desc tx_q${q}_drop_bad_desc rx_q${q}_nombuf; do
		v=$(pmd_value be "$m" "$x")
		[ -n "$v" ] || vt_fail "no xstat $x"
		drops=$((drops + v))
	done
done
vt_log "per queue: guest TX at least $rx_min, guest RX at least $tx_min packets"
vt_assert_eq "$drops" 0 "bad descriptors and mbuf shortages over all queues"
vt_assert_ge "$rx_min" 64 "fewest packets a queue took from the guest"
vt_assert_ge "$tx_min" 64 "fewest packets a queue gave the guest"
vt_assert_eq "$rx_sum" "$N" "sum of rx_qN_packets"
vt_assert_eq "$tx_sum" "$N" "sum of tx_qN_packets"
pmd_quit be
vt_log "PASS"
exit 0
