#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# net_vhu survives its own and its front-end's restarts, and can be
# detached and attached again at run time without leaking:
#  - net_vhu "port stop 0" / "port start 0" while the guest keeps sending
#    (its packets wait in the ring, none is lost), then traffic both ways;
#  - virtio-user "port stop 0" / "port start 0" (DPDK 22.11's virtio PMD
#    only stops its own polling: the vhost-user device stays up), then
#    traffic both ways;
#  - three times: detach ("port close 0" + "device detach net_vhu0", or
#    "port detach 0" of a stopped port: ethdev close and vdev remove both
#    release it; the socket file goes), "port attach net_vhu0,..." and
#    vhu-fe's frames loop through it byte-exact; the rte_malloc heap and
#    the process's open fds are the same after every detach.
# net_vhu connects (client=1) to virtio-user listening (server=1).
#
# Usage: pmd-restart.sh PLUGIN VHU_FE
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/pmd-lib.sh"

pmd_init pmd-restart "${1:-}"
VHU_FE=${2:-}
[ -n "$VHU_FE" ] && [ -x "$VHU_FE" ] || vt_fail "vhu-fe tool not found: '$VHU_FE'"
SOCK=$VT_DIR/vu.sock
DEVARGS="iface=$SOCK,client=1"

# both_ways WHAT: a counted round each way.
both_ways() {
	pmd_do be "set fwd rxonly" "Set rxonly"
	pmd_do fe "set fwd txonly" "Set txonly"
	pmd_assert_round fe be 2 "$1: guest TX"
	pmd_do be "set fwd txonly" "Set txonly"
	pmd_do fe "set fwd rxonly" "Set rxonly"
	pmd_assert_round be fe 2 "$1: guest RX"
}

pmd_fe fe 0 "path=$SOCK,server=1" --txpkts=64
vt_wait_file "$SOCK" 20 || vt_fail "virtio-user did not listen on $SOCK"
pmd_be be 1 "$DEVARGS"
pmd_prompt fe
pmd_wait_link be 0 up 20 || vt_fail "net_vhu link not up"
pmd_assert_ring_format be
both_ways "at start"

vt_log "--- net_vhu port stop/start while the guest sends"
pmd_do be "port stop 0" "Stopping ports"
pmd_do fe "set fwd txonly" "Set txonly"
pmd_start fe
sleep 1
pmd_stop fe
m=$PMD_MARK
waiting=$(pmd_total fe "$m" TX-packets)
vt_log "sent while net_vhu was stopped: $waiting (they wait in the guest's TX ring)"
pmd_do be "port start 0" "Port 0: link state change event|Checking link statuses"
pmd_wait_link be 0 up 10 || vt_fail "link not up after port start"
pmd_do be "set fwd rxonly" "Set rxonly"
pmd_start be
sleep 1
pmd_stop be
m=$PMD_MARK
vt_assert_eq "$(pmd_total be "$m" RX-packets)" "$waiting" "packets that waited, received after port start"
both_ways "after net_vhu port stop/start"

vt_log "--- virtio-user port stop/start"
pmd_do fe "port stop 0" "Stopping ports"
pmd_do fe "port start 0" "Checking link statuses|link state change"
pmd_wait_link be 0 up 10 || vt_fail "net_vhu link not up"
both_ways "after virtio-user port stop/start"

vt_log "--- detach / attach"
# virtio-user goes: in server mode it would take net_vhu back, but on a
# back-end's reconnection DPDK 22.11's virtio-user sends SET_VRING_ENABLE
# and GET_VRING_BASE before SET_OWNER, which lib/vhu refuses (see
# doc/pmd.md). The re-attached port listens and vhu-fe connects to it.
pmd_quit fe
pmd_wait_link be 0 down 20 || vt_fail "net_vhu link still up without virtio-user"
SOCK2=$VT_DIR/vhu.sock
pmd_do be "set fwd io retry" "Set io packet forwarding mode with retry"
pmd_cmd be "set burst tx delay 10 retry 100000"
# heap_alloc: HEAP = testpmd's "Total" heap in use (MiB, 6 decimals).
heap_alloc() {
	pmd_do be "dump_socket_mem" "^Total +: "
	HEAP=$(pmd_after be "$PMD_MARK" | awk '/^Total +:/ { for (i = 1; i < NF; i++) if ($i == "alloc:") { sub(/\(.*/, "", $(i + 1)); print $(i + 1); exit } }')
	[ -n "$HEAP" ] || vt_fail "no heap figure from dump_socket_mem"
}
fds() { ls "/proc/$(vt_pid be)/fd" | wc -l; }
for i in 1 2 3; do
	pmd_do be "port stop 0" "Stopping ports"
	if [ "$i" != 2 ]; then
		pmd_do be "port close 0" "Port 0 is closed"
		pmd_do be "device detach net_vhu0" "Device net_vhu0 is detached"
	else
		pmd_do be "port detach 0" "Device is detached"
	fi
	[ -e "$SOCK2" ] && vt_fail "detach $i: $SOCK2 outlived the port"
	heap_alloc
	heap[$i]=$HEAP
	fd[$i]=$(fds)
	vt_log "after detach $i: heap in use ${heap[$i]} MiB, $((fd[$i])) open fds"
	pmd_do be "port attach net_vhu0,iface=$SOCK2" "Port 0 is attached"
	pmd_do be "port start 0" "Checking link statuses"
	pmd_start be
	out=$VT_DIR/fe-$i.log
	timeout 60 "$VHU_FE" --path "$SOCK2" --tx 5000 --rx 5000 --pattern \
		"${PMD_VHU_FE_RING[@]}" \
		--size 60-1514 --timeout 30 >"$out" 2>&1 || vt_fail "attach $i: vhu-fe failed"
	vt_assert_eq "$(sed -n 's/^rx_packets=//p' "$out")" 5000 "attach $i: frames back"
	vt_assert_eq "$(sed -n 's/^rx_bad=//p' "$out")" 0 "attach $i: bad frames"
	pmd_stop be
done
vt_assert_eq "${heap[2]}" "${heap[1]}" "heap in use after detach 2 vs 1"
vt_assert_eq "${heap[3]}" "${heap[1]}" "heap in use after detach 3 vs 1"
vt_assert_eq "${fd[3]}" "${fd[1]}" "open fds after detach 3 vs 1"

pmd_quit be
vt_log "PASS"
exit 0
