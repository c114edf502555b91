#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vhu-fwd --mode l2 with three vhost-user ports and three stock testpmd
# virtio-user "VMs" A, B, C (MACs ...:0a, :0b, :0c). Each round, every VM
# first sends one burst of 32 broadcast frames (which must reach exactly
# the two others: 64 each), so its MAC is learned or refreshed; then one
# VM sends 256 frames to a destination. Every count is exact:
#  - known unicast A -> B reaches B only; C -> A reaches A only;
#  - a frame to a MAC behind its own ingress port (A -> A) goes nowhere
#    and is counted as filtered;
#  - unknown unicast from B reaches A and C, never back to B;
#  - the MAC table (telemetry) has each MAC on its port;
#  - nothing was dropped on the way (drop counters, one telemetry call);
#  - aging (--mac-aging 20): without traffic the table empties (20 to
#    22 s), and a frame to B is flooded again;
#  - a VM that leaves: its port goes down and its MAC is forgotten.
#
# Usage: fwd-l2.sh VHU_FWD
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/fwd-lib.sh"

fwd_init fwd-l2 "${1:-}"
MA=02:00:00:00:00:0a MB=02:00:00:00:00:0b MC=02:00:00:00:00:0c
MX=02:00:00:00:00:99

fwd_start fwd --mode l2 --mac-aging 20 --vhost "$VT_DIR/a.sock" \
	--vhost "$VT_DIR/b.sock" --vhost "$VT_DIR/c.sock"
fwd_vm A "$VT_DIR/a.sock" $MA
fwd_vm B "$VT_DIR/b.sock" $MB
fwd_vm C "$VT_DIR/c.sock" $MC
for p in 0 1 2; do fwd_link_wait fwd $p up; done

# round WHAT SENDER DST_MAC RX_A RX_B RX_C: broadcasts from everyone, then
# 8 bursts from SENDER to DST_MAC; then each VM must have received 64
# more frames, plus 256 where RX_x is 1. Counts are differences: testpmd's
# "clear port stats" can leave a virtio port's RX-packets behind (DPDK
# 22.11 resets it while the polling lcore rewrites it).
round() {
	local what=$1 sender=$2 dst=$3 vm want tx0
	local -A exp=([A]=$4 [B]=$5 [C]=$6) rx0=()
	vt_log "--- $what"
	for vm in A B C; do rx0[$vm]=$(fwd_vm_count $vm RX-packets); done
	tx0=$(fwd_vm_count "$sender" TX-packets)
	for vm in A B C; do fwd_vm_send $vm ff:ff:ff:ff:ff:ff 1; done
	sleep 0.5
	fwd_vm_send "$sender" "$dst" 8
	sleep 1
	vt_assert_eq $(($(fwd_vm_count "$sender" TX-packets) - tx0)) $((32 + 256)) "$what: $sender sent"
	for vm in A B C; do
		want=$((64 + ${exp[$vm]} * 256))
		vt_assert_eq $(($(fwd_vm_count $vm RX-packets) - rx0[$vm])) $want "$what: $vm received"
	done
}

round "known unicast A -> B" A $MB 0 1 0
vt_assert_eq "$(fwd_macs fwd | tr '\n' ' ')" "$MA 0 $MB 1 $MC 2 " "MAC table (mac port ...)"
round "known unicast C -> A" C $MA 1 0 0
f0=$(fwd_port fwd 0 filtered)
round "A -> A (behind its own port)" A $MA 0 0 0
vt_assert_eq "$(fwd_port fwd 0 filtered)" $((f0 + 256)) "port 0 filtered"
fl1=$(fwd_port fwd 1 flooded)
round "unknown unicast from B" B $MX 1 0 1
vt_assert_eq "$(fwd_port fwd 1 flooded)" $((fl1 + 32 + 256)) "port 1 flooded (broadcast + unknown)"
drops=$(fwd_tel fwd /vhu/stats | python3 -c '
import json, sys
st = json.load(sys.stdin)
print(sum(p[k] for p in st.values() for k in ("drop_full", "drop_down", "drop_nombuf", "drop_runt")))')
vt_assert_eq "$drops" 0 "frames dropped by vhu-fwd"

vt_log "--- aging: no traffic for 20 s"
fwd_tel_wait fwd 0 40 /vhu/mac_table entries || vt_fail "MACs did not age out"
vt_assert_ge "$(fwd_tel fwd /vhu/mac_table aged)" 3 "MACs aged"
b0=$(fwd_vm_count B RX-packets); c0=$(fwd_vm_count C RX-packets)
fwd_vm_send A $MB 8
sleep 1
vt_assert_eq $(($(fwd_vm_count B RX-packets) - b0)) 256 "aged: B received"
vt_assert_eq $(($(fwd_vm_count C RX-packets) - c0)) 256 "aged: C received the flood too"

vt_log "--- C leaves: port 2 down, its MAC forgotten"
fwd_vm_send A ff:ff:ff:ff:ff:ff 1
fwd_vm_send C ff:ff:ff:ff:ff:ff 1
t_learned=$SECONDS
fwd_tel_wait fwd 2 10 /vhu/mac_table entries || vt_fail "A and C not learned"
flushed=$(fwd_tel fwd /vhu/mac_table flushed)
fwd_quit C
fwd_link_wait fwd 2 down
# Forgotten with its port (flushed), not aged: C's quit is not timed.
fwd_tel_wait fwd $((flushed + 1)) 10 /vhu/mac_table flushed ||
	vt_fail "C's MAC not forgotten"
macs=$(fwd_macs fwd | tr '\n' ' ')
if ((SECONDS - t_learned < 18)); then
	vt_assert_eq "$macs" "$MA 0 " "MAC table (mac port ...)"
else
	# A's entry may have aged meanwhile (--mac-aging 20).
	vt_log "note: C took $((SECONDS - t_learned)) s to leave; A's entry not checked"
	[[ " $macs" != *" $MC "* ]] || vt_fail "C's MAC still in the table: $macs"
fi
vt_wait_log fwd 'port 2 \(c.sock\): link down' 5 || vt_fail "no link-down line"
vt_wait_log fwd 'port 2 \(c.sock\): forgot 1 MAC address' 5 ||
	vt_fail "no forgot-MAC line"

fwd_quit A
fwd_quit B
fwd_stop fwd
for s in a b c; do
	[ -e "$VT_DIR/$s.sock" ] && vt_fail "$s.sock outlived vhu-fwd"
done
vt_log PASS
exit 0
