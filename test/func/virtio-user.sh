#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The datapath of one ring format (split or packed) against real
# front-ends, with vhu-testbe (a small program on lib/vhu) as the back-end:
#  (a) guest TX: stock testpmd virtio-user in txonly; vhu-testbe counts and
#      checks every frame; its count must equal testpmd's TX-packets;
#  (b) guest RX: vhu-testbe sends exactly N frames; testpmd virtio-user in
#      rxonly must count exactly N;
#  (c) io loop: the test front-end (vhu-fe) sends N verifiable frames,
#      vhu-testbe returns each unchanged, vhu-fe receives all N with
#      identical bytes.
#
# Usage: virtio-user.sh VHU_TESTBE VHU_FE split|packed MRG_RXBUF IN_ORDER
set -u
TESTBE=$1
VHU_FE=$2
RING=$3
MRG=$4
INORDER=$5
. "${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}/vhu-test-lib.sh"

vt_init "$RING-vu-m$MRG-i$INORDER"
command -v dpdk-testpmd >/dev/null || vt_skip "dpdk-testpmd is not installed"
case "$RING" in
split) PACKED=0; FE_RING_OPT=() ;;
packed) PACKED=1; FE_RING_OPT=(--packed) ;;
*) vt_fail "ring format '$RING' is neither split nor packed" ;;
esac
FE_DEV_OPTS="mrg_rxbuf=$MRG,in_order=$INORDER,packed_vq=$PACKED"
N=200000

val() { sed -n "s/^$2=//p" "$VT_DIR/$1.log" | tail -n 1; }

start_be() {
	local name=$1; shift
	vt_file_prefix "$name" >/dev/null
	# shellcheck disable=SC2046
	vt_start "$name" "$TESTBE" $(vt_eal_args "$name" 1) -- \
		--path "$VT_DIR/$name.sock" "$@"
	vt_wait_log "$name" '^READY' 20 || vt_fail "$name did not start"
}

vt_log "--- (a) guest TX: testpmd txonly -> vhu rxonly"
start_be bea --mode rxonly
vt_testpmd_i fea 0 --vdev "net_virtio_user0,path=$VT_DIR/bea.sock,$FE_DEV_OPTS" -- \
	--forward-mode=txonly --txpkts=64
vt_testpmd_prompt fea
vt_wait_log bea '^EVENT ready' 30 || vt_fail "(a) device not ready"
vt_testpmd_cmd fea "start"
sleep 3
# Stop sending before the front-end closes: packets still in a ring when
# virtio-user stops it (GET_VRING_BASE) are, rightly, not processed.
vt_testpmd_cmd fea "stop"
vt_wait_log fea 'Accumulated forward statistics' 20 || vt_fail "(a) no stats"
sleep 1
vt_stop bea INT 20 || vt_fail "(a) vhu-testbe failed"
vt_testpmd_cmd fea "quit"
vt_wait fea 20
sent=$(vt_testpmd_total fea TX-packets)
vt_assert_ge "$sent" 1000 "(a) testpmd TX-packets"
vt_assert_eq "$(val bea rx_packets)" "$sent" "(a) frames vhu received"
vt_assert_eq "$(val bea rx_bad)" 0 "(a) bad frames"

vt_log "--- (b) guest RX: vhu txonly $N frames -> testpmd rxonly"
# virtio-user listens (server=1); vhu connects. vhu holds its traffic
# until testpmd has started: the virtio PMD discards what its RX used ring
# holds when its port starts, which is after its rings were started.
vt_testpmd_i feb 0 --vdev "net_virtio_user0,path=$VT_DIR/beb.sock,server=1,$FE_DEV_OPTS" -- \
	--forward-mode=rxonly
vt_wait_file "$VT_DIR/beb.sock" 20 || vt_fail "(b) virtio-user socket missing"
start_be beb --client --hold --mode txonly --count "$N" --size 128
vt_testpmd_prompt feb
vt_testpmd_cmd feb "start"
sleep 0.5
kill -USR1 "$(vt_pid beb)"
for ((i = 0; i < 120; i++)); do
	vt_testpmd_cmd feb "show port stats 0" 2>/dev/null
	sleep 0.5
	[ "$(vt_testpmd_port_stat feb RX-packets)" -ge "$N" ] && break
done
vt_testpmd_cmd feb "stop"
vt_wait_log feb 'Accumulated forward statistics' 20 || vt_fail "(b) no stats"
vt_stop beb INT 20 || vt_fail "(b) vhu-testbe failed"
vt_testpmd_cmd feb "quit"
vt_wait feb 20
vt_assert_eq "$(val beb tx_packets)" "$N" "(b) frames vhu put in the guest"
vt_assert_eq "$(vt_testpmd_total feb RX-packets)" "$N" "(b) testpmd RX-packets"

vt_log "--- (c) io loop: vhu-fe -> vhu io -> vhu-fe, identical bytes"
start_be bec --mode io
timeout 120 "$VHU_FE" --path "$VT_DIR/bec.sock" --mrg-rxbuf "$MRG" "${FE_RING_OPT[@]}" \
	--tx 50000 --rx 50000 --size 60-1500 --pattern --timeout 90 \
	>"$VT_DIR/fec.log" 2>&1 || vt_fail "(c) vhu-fe failed"
vt_assert_eq "$(val fec rx_packets)" 50000 "(c) frames looped back"
vt_assert_eq "$(val fec rx_bad)" 0 "(c) corrupted frames"
vt_stop bec INT 20 || vt_fail "(c) vhu-testbe failed"
vt_assert_eq "$(val bec io_looped)" 50000 "(c) frames vhu looped"
exit 0
