#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# SIGINT and SIGTERM while vhu-fwd forwards traffic: it exits 0 within
# seconds, prints its final counters, and leaves nothing behind: no
# process, no vhost-user socket, no DPDK runtime directory (sockets and
# files under /var/run/dpdk/PREFIX), no hugepage file. The front-ends
# see their link go down.
# With free hugepages (hugetlbfs on /dev/hugepages), one more round runs
# vhu-fwd on hugepages: vhu-fwd unlinks their files (--huge-unlink, added
# unless EAL's options say otherwise), so none is visible even while it
# runs.
#
# Usage: fwd-signal.sh VHU_FWD
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/fwd-lib.sh"

fwd_init fwd-signal "${1:-}"
D=$VT_DIR

# no_leftovers NAME PID: nothing of that vhu-fwd is left.
no_leftovers() {
	local name=$1 pid=$2 prefix="$VT_PREFIX-$1" s
	kill -0 "$pid" 2>/dev/null && vt_fail "$name: pid $pid still exists"
	for s in "$D"/"$name"-*.sock; do
		[ -e "$s" ] && vt_fail "$name: socket $s left behind"
	done
	[ -e "/var/run/dpdk/$prefix" ] &&
		vt_fail "$name: /var/run/dpdk/$prefix left behind: $(ls "/var/run/dpdk/$prefix")"
	if compgen -G "/dev/hugepages/${prefix}map_*" >/dev/null; then
		vt_fail "$name: hugepage files left: $(ls /dev/hugepages/"${prefix}"map_*)"
	fi
	vt_log "ok: $name left no process, socket, runtime directory or hugepage file"
}

# round NAME SIGNAL [EAL ARGS...]: vhu-fwd (io, two vhost ports) with
# traffic from A to B, then SIGNAL.
round() {
	local name=$1 sig=$2 pid
	shift 2
	vt_log "--- $name: SIG$sig while forwarding"
	if [ $# -gt 0 ]; then
		vt_file_prefix "$name" >/dev/null
		vt_start "$name" "$FWD_BIN" "$@" --file-prefix "$VT_PREFIX-$name" -- \
			--mode io --vhost "$D/$name-a.sock" --vhost "$D/$name-b.sock"
		vt_wait_log "$name" '^vhu-fwd: forwarding' 30 || vt_fail "$name did not start"
	else
		fwd_start "$name" --mode io --vhost "$D/$name-a.sock" \
			--vhost "$D/$name-b.sock"
	fi
	pid=$(vt_pid "$name")
	fwd_vm "$name-A" "$D/$name-a.sock" 02:00:00:00:00:0a
	fwd_vm "$name-B" "$D/$name-b.sock" 02:00:00:00:00:0b
	fwd_link_wait "$name" 0 up
	fwd_link_wait "$name" 1 up
	if [ -d /dev/hugepages ] && [ $# -gt 0 ] &&
		compgen -G "/dev/hugepages/$VT_PREFIX-${name}map_*" >/dev/null; then
		vt_fail "$name: hugepage files visible while running"
	fi
	fwd_cmd "$name-A" "set fwd txonly"
	fwd_do "$name-A" stop "Accumulated forward statistics" >/dev/null
	fwd_do "$name-A" start "packet forwarding.* - ports=" >/dev/null
	sleep 2
	vt_assert_ge "$(fwd_port "$name" 1 tx_packets)" 1000 "$name: forwarded before the signal"
	fwd_stop "$name" "$sig"
	vt_assert_ge "$(fwd_final "$name" 1 tx-packets)" 1000 "$name: final counters, port 1 tx-packets"
	grep -q "SIG$sig: stopping" "$VT_DIR/$name.log" || vt_fail "$name: no 'SIG$sig: stopping'"
	no_leftovers "$name" "$pid"
	vt_wait_log "$name-B" 'link state change event|is down' 10 ||
		vt_fail "$name-B did not see its link go down"
	# With their back-end gone, virtio-user's quit writes to a closed
	# socket: testpmd may die of SIGPIPE then. Not vhu-fwd's business.
	fwd_cmd "$name-A" quit
	fwd_cmd "$name-B" quit
	vt_wait "$name-A" 30
	vt_wait "$name-B" 30
}

round int INT
round term TERM

free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
size=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
if mountpoint -q /dev/hugepages 2>/dev/null && [ "${size:-0}" = 2048 ] &&
	[ "${free:-0}" -ge 128 ]; then
	round huge INT -l 0-1 --main-lcore 0 -m 128 --no-pci --log-level notice
else
	vt_log "no 128 free 2 MiB hugepages on a mounted /dev/hugepages: the hugepage round is not run (the others used --no-huge)"
fi
vt_log PASS
exit 0
