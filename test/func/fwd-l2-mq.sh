#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vhu-fwd --mode l2 with two worker lcores (both on core 1: EAL --lcores
# 0@0,1@1,2@1) and two queue pairs per port: workers learn on their own,
# each sends on its own TX queue of every port. Three VMs with two queue
# pairs each (testpmd --rxq=2 --txq=2: `start tx_first` sends a burst on
# each queue). Exact counts:
#  - the automatic assignment: (port, queue) in the order (0,0) (1,0)
#    (2,0) (0,1) (1,1) (2,1), round-robin over lcores 1 and 2; two
#    workers (telemetry);
#  - broadcasts from every VM reach exactly the two others;
#  - known unicast A -> B reaches B only, over both queues.
#
# Usage: fwd-l2-mq.sh VHU_FWD
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/fwd-lib.sh"

fwd_init fwd-l2-mq "${1:-}"
declare -A MAC=([A]=02:00:00:00:00:0a [B]=02:00:00:00:00:0b [C]=02:00:00:00:00:0c)

vt_file_prefix fwd >/dev/null
# shellcheck disable=SC2046
mapfile -t E < <(printf '%s\n' $(vt_eal_args fwd 1))
E=("${E[@]/#-l/--lcores}")
vt_start fwd "$FWD_BIN" "${E[@]/#0-1/0@0,1@1,2@1}" -- --mode l2 --queues 2 \
	--vhost "$VT_DIR/a.sock" --vhost "$VT_DIR/b.sock" --vhost "$VT_DIR/c.sock"
vt_wait_log fwd '^vhu-fwd: forwarding' 30 || vt_fail "vhu-fwd did not start"
vt_assert_eq "$(fwd_tel fwd /vhu/info workers)" 2 "workers"
vt_assert_eq "$(fwd_tel fwd /vhu/lcores)" \
	'{"lcore1": ["0:0", "2:0", "1:1"], "lcore2": ["1:0", "0:1", "2:1"]}' "lcores"

for vm in A B C; do
	fwd_vm $vm "$VT_DIR/${vm,,}.sock" "${MAC[$vm]}" queues=2 --rxq=2 --txq=2
done
for p in 0 1 2; do fwd_link_wait fwd $p up; done

vt_log "--- broadcasts on both queues of every VM"
for vm in A B C; do fwd_vm_send $vm ff:ff:ff:ff:ff:ff 1; done
sleep 1
for vm in A B C; do
	vt_assert_eq "$(fwd_vm_count $vm TX-packets)" 64 "$vm sent (32 per queue)"
	vt_assert_eq "$(fwd_vm_count $vm RX-packets)" 128 "$vm received (64 from each other VM)"
done
fwd_tel_wait fwd 3 10 /vhu/mac_table entries || vt_fail "three MACs not learned"

vt_log "--- known unicast A -> B on both queues"
# Counts as differences (see fwd_vm_count).
declare -A rx0
for vm in A B C; do rx0[$vm]=$(fwd_vm_count $vm RX-packets); done
tx0=$(fwd_vm_count A TX-packets)
fwd_vm_send A "${MAC[B]}" 4
sleep 1
vt_assert_eq $(($(fwd_vm_count A TX-packets) - tx0)) 256 "A sent"
vt_assert_eq $(($(fwd_vm_count B RX-packets) - rx0[B])) 256 "B received"
vt_assert_eq $(($(fwd_vm_count C RX-packets) - rx0[C])) 0 "C received"
vt_assert_eq $(($(fwd_vm_count A RX-packets) - rx0[A])) 0 "A received"
for vm in A B C; do fwd_quit $vm; done
fwd_stop fwd
vt_log PASS
exit 0
