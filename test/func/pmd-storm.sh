#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Storms against net_vhu in stock testpmd (io forwarding loops every frame
# back to the guest): 1000 front-end disconnect/reconnect cycles, each
# with byte-checked frames through the loop; then 1000 memory-table
# changes (SET_MEM_TABLE, ADD_MEM_REG, REM_MEM_REG in turn) while frames
# flow both ways. Every frame must come back byte-identical (each session
# waits for its own frames, so none is in flight at a disconnect), and
# testpmd's open fds and resident memory must be flat once warmed up.
#
# Usage: pmd-storm.sh PLUGIN VHU_FE
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/pmd-lib.sh"

pmd_init pmd-storm "${1:-}"
VHU_FE=${2:-}
[ -n "$VHU_FE" ] && [ -x "$VHU_FE" ] || vt_fail "vhu-fe tool not found: '$VHU_FE'"
SOCK=$VT_DIR/vhu.sock

fe_val() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
be_fds() { find "/proc/$(vt_pid be)/fd" -mindepth 1 -maxdepth 1 | wc -l; }
be_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$(vt_pid be)/status"; }

pmd_be be 1 "iface=$SOCK"
pmd_do be "set fwd io retry" "Set io packet forwarding mode with retry"
pmd_cmd be "set burst tx delay 10 retry 100000"
pmd_start be

# fe NAME EXPECT_SESSIONS VHU_FE_ARGS...: one vhu-fe run, every frame back.
fe() {
	local name=$1 sessions=$2 out="$VT_DIR/fe-$1.log" rc=0 tx
	shift 2
	vt_start "fe-$name" "$VHU_FE" --path "$SOCK" --pattern "$@"
	vt_wait "fe-$name" 600 || rc=$?
	[ "$rc" = 0 ] || vt_fail "$name: vhu-fe exited with $rc"
	tx=$(fe_val "$out" tx_packets)
	vt_assert_eq "$(fe_val "$out" sessions)" "$sessions" "$name: sessions"
	vt_assert_eq "$(fe_val "$out" rx_packets)" "$tx" "$name: frames back = sent ($tx)"
	vt_assert_eq "$(fe_val "$out" rx_bad)" 0 "$name: frames not byte-identical"
	vt_assert_eq "$(fe_val "$out" rx_bytes)" "$(fe_val "$out" tx_bytes)" "$name: bytes back = sent"
}

# flat WHAT FDS0 RSS0: fds equal, RSS within 8 MiB of the warm-up's.
flat() {
	local fds rss
	fds=$(be_fds)
	rss=$(be_rss_kib)
	vt_log "$1: testpmd fds $2 -> $fds, RSS $3 -> $rss KiB"
	vt_assert_eq "$fds" "$2" "$1: testpmd's open fds"
	[ "$rss" -le $(($3 + 8192)) ] || vt_fail "$1: testpmd's RSS grew from $3 to $rss KiB"
}

vt_log "--- reconnect storm: 100 warm-up sessions, then 900 more"
fe warm 100 --tx 8 --rx 8 --size 60-1514 --reconnects 99
fds0=$(be_fds)
rss0=$(be_rss_kib)
fe reconnects 900 --tx 8 --rx 8 --size 60-1514 --reconnects 899
flat "1000 reconnects" "$fds0" "$rss0"

vt_log "--- memory-table storm: 1000 changes while frames flow both ways"
fds0=$(be_fds)
rss0=$(be_rss_kib)
fe churn 1 --tx 300000 --rx 300000 --size 60-1514 --mem-churn 1000
vt_assert_eq "$(fe_val "$VT_DIR/fe-churn.log" mem_changes)" 1000 "memory-table changes"
flat "1000 memory-table changes" "$fds0" "$rss0"

pmd_xstats be 0 tx_q0_ring_broken
m=$PMD_MARK
vt_assert_eq "$(pmd_value be "$m" vhost_user_connections)" 1001 "xstat vhost_user_connections"
vt_assert_eq "$(pmd_value be "$m" tx_q0_ring_broken)" 0 "xstat tx_q0_ring_broken"
pmd_stop be
pmd_quit be
vt_log "PASS"
exit 0
