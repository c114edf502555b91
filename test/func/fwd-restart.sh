#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Front-ends come and go while vhu-fwd forwards, and vhu-fwd is never
# restarted. vhu-fwd --mode io with four vhost-user ports, pairs 0<->1 and
# 2<->3: a sender S (testpmd, two virtio-user ports, on ports 0 and 2) in
# txonly the whole time; receivers R1 on port 1 (vhu-fwd listens) and R2 on
# port 3 (R2 listens, server=1, and vhu-fwd connects: --vhost-client).
#  - R1 quits mid-traffic: port 1 goes link-down (its frames are counted
#    as drop-down, no retries), while port 3 keeps forwarding to R2;
#    a new R1 comes: port 1 goes up and R1 receives again;
#  - the same with R2: vhu-fwd reconnects to the new R2 by itself, and
#    port 1 keeps forwarding meanwhile.
#
# Usage: fwd-restart.sh VHU_FWD
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/fwd-lib.sh"

fwd_init fwd-restart "${1:-}"
D=$VT_DIR

# port_grows PORT KEY WHAT: the counter grows by at least 1000 within 20 s.
port_grows() {
	local from
	from=$(fwd_port fwd "$1" "$2")
	fwd_grew "$1" "$2" "$from" "$3"
}
fwd_grew() {
	local i v
	for ((i = 0; i < 80; i++)); do
		v=$(fwd_port fwd "$1" "$2")
		if [ "$v" -ge $(($3 + 1000)) ]; then
			vt_log "ok: $4: port $1 $2 $3 -> $v"
			return 0
		fi
		sleep 0.25
	done
	vt_fail "$4: port $1 $2 stayed at $v (from $3)"
}

fwd_start fwd --mode io --vhost "$D/s0.sock" --vhost "$D/r1.sock" \
	--vhost "$D/s2.sock" --vhost-client "$D/r2.sock"
pid=$(vt_pid fwd)
fwd_vm R1 "$D/r1.sock" 02:00:00:00:00:01
fwd_vm_server R2 "$D/r2.sock" 02:00:00:00:00:02
fwd_vm_ready R2
fwd_testpmd S "path=$D/s0.sock|path=$D/s2.sock" --forward-mode=txonly
vt_wait_log S 'testpmd> ' 60 || vt_fail "S: no prompt"
for p in 0 1 2 3; do fwd_link_wait fwd $p up; done
fwd_do S start "packet forwarding.* - ports=" >/dev/null
port_grows 1 tx_packets "both pairs forward"
port_grows 3 tx_packets "both pairs forward"

vt_log "--- R1 quits"
fwd_quit R1
fwd_link_wait fwd 1 down
vt_wait_log fwd 'port 1 \(r1.sock\): link down' 5 || vt_fail "no link-down line for port 1"
port_grows 3 tx_packets "R1 away: pair 2<->3 forwards"
port_grows 1 drop_down "R1 away: port 1's frames are dropped as link-down"
t1=$(fwd_port fwd 1 tx_packets)
vt_log "--- a new R1"
fwd_vm R1b "$D/r1.sock" 02:00:00:00:00:01
fwd_link_wait fwd 1 up
fwd_grew 1 tx_packets "$t1" "R1 back: port 1 sends again"
rx=$(fwd_vm_count R1b RX-packets)
vt_assert_ge "$rx" 1000 "the new R1 received"

vt_log "--- R2 quits (vhu-fwd is its client)"
fwd_quit R2
fwd_link_wait fwd 3 down
port_grows 1 tx_packets "R2 away: pair 0<->1 forwards"
t3=$(fwd_port fwd 3 tx_packets)
vt_log "--- a new R2: vhu-fwd reconnects"
fwd_vm_server R2b "$D/r2.sock" 02:00:00:00:00:02
fwd_vm_ready R2b
fwd_link_wait fwd 3 up 30
fwd_grew 3 tx_packets "$t3" "R2 back: port 3 sends again"
vt_assert_ge "$(fwd_vm_count R2b RX-packets)" 1000 "the new R2 received"

vt_assert_eq "$(vt_pid fwd)" "$pid" "vhu-fwd never restarted"
vt_assert_eq "$(fwd_port fwd 1 link_changes)" 3 "port 1 link changes (up, down, up)"
vt_assert_eq "$(fwd_port fwd 3 link_changes)" 3 "port 3 link changes (up, down, up)"
fwd_do S stop "Accumulated forward statistics" >/dev/null
fwd_quit S
fwd_quit R1b
fwd_quit R2b
fwd_stop fwd
vt_log PASS
exit 0
