#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Byte-exact loop through net_vhu: the test front-end (vhu-fe) sends N
# frames whose every byte derives from a sequence number; stock testpmd
# with net_vhu forwards them back unchanged (io forwarding, retrying when
# the guest's RX ring is full, for up to a second; forwarding starts once vhu-fe has started
# and enabled both rings, so no frame meets a ring not yet running); vhu-fe
# receives all N and checks every
# byte (--pattern). Cases: mergeable RX buffers on and off, frames of
# 60..1514 bytes; and jumbo frames up to 9000 bytes, which arrive in
# chained mbufs (RX scatter) and leave as chained mbufs (multi-segment TX).
# testpmd's counts and net_vhu's xstats must show every frame, no drop.
#
# Usage: pmd-io-loop.sh PLUGIN VHU_FE
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/pmd-lib.sh"

pmd_init pmd-io-loop "${1:-}"
VHU_FE=${2:-}
[ -n "$VHU_FE" ] && [ -x "$VHU_FE" ] || vt_fail "vhu-fe tool not found: '$VHU_FE'"
SOCK=$VT_DIR/vhu.sock
N=20000

fe_val() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

pmd_be be 1 "iface=$SOCK" --enable-scatter --tx-offloads=0x8000
pmd_do be "set fwd io retry" "Set io packet forwarding mode with retry"
# Retry a burst the guest has no room for up to ~1 s (10 us x 100000):
# vhu-fe shares the two cores and a 9000-byte frame takes 5 of its 256
# RX buffers, so its ring fills long before testpmd's default 64 us.
pmd_cmd be "set burst tx delay 10 retry 100000"

total=0
# loop NAME VHU_FE_ARGS...
loop() {
	local name=$1 out="$VT_DIR/fe-$1.log" rc=0 m
	shift
	vt_log "--- $name: $N frames through net_vhu and back: $*"
	m=$(pmd_mark be)
	vt_start "fe-$name" "$VHU_FE" --path "$SOCK" --tx "$N" --rx "$N" \
		--pattern --timeout 90 "${PMD_VHU_FE_RING[@]}" "$@"
	pmd_wait_rings be "$m" 1
	pmd_start be
	vt_wait "fe-$name" 100 || rc=$?
	[ "$rc" = 0 ] || vt_fail "$name: vhu-fe exited with $rc"
	pmd_stop be
	m=$PMD_MARK
	vt_assert_eq "$(pmd_total be "$m" RX-packets)" "$N" "$name: testpmd RX-packets"
	vt_assert_eq "$(pmd_total be "$m" TX-packets)" "$N" "$name: testpmd TX-packets"
	vt_assert_eq "$(fe_val "$out" tx_packets)" "$N" "$name: frames sent"
	vt_assert_eq "$(fe_val "$out" rx_packets)" "$N" "$name: frames back"
	vt_assert_eq "$(fe_val "$out" rx_bad)" 0 "$name: frames not byte-identical"
	vt_assert_eq "$(fe_val "$out" rx_bytes)" "$(fe_val "$out" tx_bytes)" "$name: bytes back = sent"
	total=$((total + N))
}

loop mrg1 --mrg-rxbuf 1 --size 60-1514
loop mrg0 --mrg-rxbuf 0 --size 60-1514 --tx-layout chain --tx-segs 3
loop jumbo --mrg-rxbuf 1 --size 60-9000 --regions 2

pmd_xstats be 0 tx_q0_ring_broken

m=$PMD_MARK
vt_assert_eq "$(pmd_value be "$m" rx_q0_packets)" "$total" "xstat rx_q0_packets"
vt_assert_eq "$(pmd_value be "$m" tx_q0_packets)" "$total" "xstat tx_q0_packets"
vt_assert_eq "$(pmd_value be "$m" rx_q0_bytes)" "$(pmd_value be "$m" tx_q0_bytes)" "xstat bytes in = out"
vt_assert_eq "$(pmd_value be "$m" rx_q0_nombuf)" 0 "xstat rx_q0_nombuf"
vt_assert_eq "$(pmd_value be "$m" tx_q0_drop_too_big)" 0 "xstat tx_q0_drop_too_big"
vt_assert_eq "$(pmd_value be "$m" vhost_user_connections)" 3 "xstat vhost_user_connections"
pmd_quit be
vt_log "PASS"
exit 0
