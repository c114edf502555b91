#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The test front-end (test/frontend/vhu-fe) against DPDK's own back-end,
# net_vhost in stock dpdk-testpmd: proves the front-end speaks vhost-user
# and drives split rings the way a real back-end expects, so our own
# back-end's unit tests can trust it.
#
#  (a) testpmd rxonly: vhu-fe sends exactly N frames (waiting until every
#      one is used); testpmd's accumulated RX-packets must be N. Run with
#      MRG_RXBUF on and off, several TX descriptor layouts and guest memory
#      layouts (regions with GPA gaps, regions sharing one memfd); once
#      with vhu-fe listening and net_vhost connecting (client=1).
#  (b) testpmd txonly: vhu-fe receives until testpmd quits and closes the
#      socket, verifying every frame; its rx_packets must equal testpmd's
#      TX-packets, be > 0, and no frame may be bad. Once with RX buffers so
#      small that every packet is merged over several (MRG_RXBUF).
#
# Usage: fe-net-vhost.sh [VHU_FE_TOOL]   (or VHU_FE=... in the environment;
# VHU_TEST_SUPPORT names test/support when not run from the source tree)
set -u

VHU_FE=${1:-${VHU_FE:-}}
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
# shellcheck source=../support/vhu-test-lib.sh
. "$SUPPORT/vhu-test-lib.sh"

vt_init fe-net-vhost
[ -n "$VHU_FE" ] && [ -x "$VHU_FE" ] || vt_fail "vhu-fe tool not found: '$VHU_FE'"
command -v dpdk-testpmd >/dev/null || vt_skip "dpdk-testpmd is not installed"

N=20000

# fe_val FILE KEY: a key=value line vhu-fe printed.
fe_val() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

# start_testpmd NAME MODE [DEVARGS]: stock testpmd with a net_vhost port
# on $VT_DIR/NAME.sock (server unless DEVARGS says client=1).
# --no-flush-rx: testpmd would otherwise drain, uncounted, whatever the
# port already holds when forwarding starts.
start_testpmd() {
	local name=$1 mode=$2 extra=${3:-}
	# vt_testpmd hands out the --file-prefix inside a command substitution,
	# so its record of it (for removal at exit) is lost in that subshell:
	# record the same prefix here.
	vt_file_prefix "$name" >/dev/null
	vt_testpmd "$name" 1 --vdev "net_vhost0,iface=$VT_DIR/$name.sock$extra" -- \
		--forward-mode="$mode" --auto-start --no-flush-rx
	vt_wait_log "$name" "packet forwarding.* - ports=" 30 ||
		vt_fail "$name: testpmd did not start forwarding"
}

# case_rxonly NAME VHU_FE_ARGS...: (a)
case_rxonly() {
	local name=$1; shift
	local out="$VT_DIR/fe-$name.out" rc=0
	vt_log "--- (a) $name: vhu-fe sends $N frames: $*"
	start_testpmd "tp-$name" rxonly
	vt_wait_file "$VT_DIR/tp-$name.sock" 30 ||
		vt_fail "$name: net_vhost socket did not appear"
	timeout 120 "$VHU_FE" --path "$VT_DIR/tp-$name.sock" --tx "$N" \
		--timeout 60 "$@" >"$out" 2>"$VT_DIR/fe-$name.log" || rc=$?
	cat "$out" >>"$VT_DIR/fe-$name.log"
	[ "$rc" = 0 ] || vt_fail "$name: vhu-fe exited with $rc"
	vt_assert_eq "$(fe_val "$out" tx_packets)" "$N" "$name: frames used by net_vhost"
	vt_stop "tp-$name" INT 20
	vt_assert_eq "$(vt_testpmd_total "tp-$name" RX-packets)" "$N" \
		"$name: testpmd RX-packets"
	vt_assert_eq "$(vt_testpmd_total "tp-$name" RX-dropped)" 0 \
		"$name: testpmd RX-dropped"
}

# case_rxonly_listen NAME VHU_FE_ARGS...: (a) with vhu-fe listening and
# net_vhost connecting to it (client=1).
case_rxonly_listen() {
	local name=$1; shift
	local log="$VT_DIR/fe-$name.log" rc=0
	vt_log "--- (a) $name: vhu-fe listens, sends $N frames: $*"
	vt_start "fe-$name" "$VHU_FE" --path "$VT_DIR/tp-$name.sock" --listen \
		--tx "$N" --timeout 60 "$@"
	vt_wait_file "$VT_DIR/tp-$name.sock" 30 ||
		vt_fail "$name: vhu-fe did not create its socket"
	start_testpmd "tp-$name" rxonly ",client=1"
	vt_wait "fe-$name" 60 || rc=$?
	[ "$rc" = 0 ] || vt_fail "$name: vhu-fe exited with $rc"
	vt_assert_eq "$(fe_val "$log" tx_packets)" "$N" "$name: frames used by net_vhost"
	vt_stop "tp-$name" INT 20
	vt_assert_eq "$(vt_testpmd_total "tp-$name" RX-packets)" "$N" \
		"$name: testpmd RX-packets"
}

# case_txonly NAME MERGED VHU_FE_ARGS...: (b); MERGED=1: RX buffers are
# too small for any frame, so every packet must have used several.
case_txonly() {
	local name=$1 merged=$2; shift 2
	local log="$VT_DIR/fe-$name.log" i sent rc=0 rx bad viol bufs
	vt_log "--- (b) $name: vhu-fe receives until testpmd quits: $*"
	start_testpmd "tp-$name" txonly
	vt_wait_file "$VT_DIR/tp-$name.sock" 30 ||
		vt_fail "$name: net_vhost socket did not appear"
	vt_start "fe-$name" "$VHU_FE" --path "$VT_DIR/tp-$name.sock" \
		--rx-until-close --timeout 90 "$@"
	# Let traffic flow until testpmd has put a good number of frames in.
	for ((i = 0; i < 200; i++)); do
		sent=$(vt_testpmd_port_stat "tp-$name" TX-packets)
		[ "${sent:-0}" -ge 100000 ] && break
		vt_alive "fe-$name" || break
		sleep 0.1
	done
	vt_alive "fe-$name" || vt_fail "$name: vhu-fe exited while receiving"
	vt_stop "tp-$name" INT 20
	vt_wait "fe-$name" 30 || rc=$?
	[ "$rc" = 0 ] || vt_fail "$name: vhu-fe exited with $rc"
	rx=$(fe_val "$log" rx_packets)
	bad=$(fe_val "$log" rx_bad)
	viol=$(fe_val "$log" rx_violations)
	bufs=$(fe_val "$log" rx_buffers)
	vt_assert_ge "$rx" 1 "$name: frames received"
	if [ "$merged" = 1 ]; then
		vt_assert_ge "$bufs" $((2 * rx)) "$name: RX buffers used (merged)"
	fi
	vt_assert_eq "$rx" "$(vt_testpmd_total "tp-$name" TX-packets)" \
		"$name: vhu-fe rx_packets vs testpmd TX-packets"
	vt_assert_eq "$bad" 0 "$name: bad frames"
	vt_log "$name: header rule violations by net_vhost: $viol"
}

case_rxonly mrg1-one --mrg-rxbuf 1
case_rxonly mrg0-chain --mrg-rxbuf 0 --tx-layout chain --tx-segs 4 \
	--size 60-1514 --regions 4 --shared-fd
case_rxonly mrg1-indirect --mrg-rxbuf 1 --tx-layout indirect --tx-segs 3 \
	--size 60-9000 --regions 3 --queue-size 1024 --no-kick-inject

case_rxonly_listen listen-mrg1 --mrg-rxbuf 1 --tx-layout hdr --regions 2

case_txonly rx-mrg1 0 --mrg-rxbuf 1 --regions 2
case_txonly rx-merged 1 --mrg-rxbuf 1 --rx-buf-size 64 --rx-layout hdr \
	--regions 5 --shared-fd --queue-size 1024

vt_log "PASS"
exit 0
