# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# Helpers for vhu-fwd's func tests (fwd-*.sh), on top of
# test/support/vhu-test-lib.sh:
#  - vhu-fwd started in the background with the tests' EAL arguments
#    (main lcore 0, worker lcore 1, no hugepages, its own file prefix);
#  - its telemetry read with DPDK's own dpdk-telemetry.py;
#  - "VMs": stock testpmd with one virtio-user port, interactive, that
#    sit in rxonly and send counted bursts with `start tx_first N`
#    (N bursts of 32 frames from the VM's MAC to its --eth-peer), so that
#    every count in a test is exact.
#
# Source vhu-test-lib.sh first, then this, then call fwd_init.

# fwd_init NAME VHU_FWD: vt_init, and check what every vhu-fwd test needs.
fwd_init() {
	vt_init "$1"
	FWD_BIN=${2:-}
	[ -n "$FWD_BIN" ] && [ -x "$FWD_BIN" ] ||
		vt_fail "vhu-fwd was not found: '$FWD_BIN'"
	command -v dpdk-testpmd >/dev/null || vt_skip "dpdk-testpmd is not installed"
	command -v stdbuf >/dev/null || vt_skip "stdbuf (coreutils) is not installed"
	FWD_TELEMETRY=$(command -v dpdk-telemetry.py || true)
	[ -n "$FWD_TELEMETRY" ] || vt_skip "dpdk-telemetry.py is not installed"
	command -v python3 >/dev/null || vt_skip "python3 is not installed"
	FWD_TEL="$(dirname "${BASH_SOURCE[0]}")/fwd-tel.py"
}

# fwd_start NAME ARGS...: vhu-fwd with the tests' EAL arguments and ARGS
# after "--"; waits until it forwards.
fwd_start() {
	local name=$1; shift
	vt_file_prefix "$name" >/dev/null
	# shellcheck disable=SC2046
	vt_start "$name" "$FWD_BIN" $(vt_eal_args "$name" 1) -- "$@"
	vt_wait_log "$name" '^vhu-fwd: forwarding' 60 || vt_fail "$name did not start"
}

# fwd_stop NAME [SIGNAL]: stop vhu-fwd; it must exit 0, print its final
# counters, and have no sanitizer report in its log.
fwd_stop() {
	local rc=0
	vt_stop "$1" "${2:-INT}" 30 || rc=$?
	fwd_check_log "$1"
	[ "$rc" = 0 ] || vt_fail "$1: vhu-fwd exited with $rc"
	grep -q '^vhu-fwd: final counters' "$VT_DIR/$1.log" ||
		vt_fail "$1: no final counters"
	grep -q '^vhu-fwd: stopped' "$VT_DIR/$1.log" || vt_fail "$1: did not finish"
}

# fwd_check_log NAME: no sanitizer report in NAME's log.
fwd_check_log() {
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		"$VT_DIR/$1.log" 2>/dev/null; then
		vt_fail "$1: sanitizer report in its log"
	fi
}

# fwd_final NAME PORT COLUMN: a column (rx-packets, tx-packets,
# drop-full, ...) of PORT's row in the final counters.
fwd_final() {
	awk -v port="$2" -v col="$3" '
		/^vhu-fwd: final counters/ { t = 1; next }
		t && $1 == "port" { for (i = 1; i <= NF; i++) c[$i] = i; next }
		t && $1 == port { print $(c[col]); exit }' "$VT_DIR/$1.log"
}

# fwd_tel NAME COMMAND [KEY...]: the reply of a telemetry command, or the
# value found under KEY... in it (a list index is a number). fwd-tel.py
# speaks dpdk-telemetry.py's protocol without its start-up cost; one test
# (fwd-mode io) checks dpdk-telemetry.py itself.
fwd_tel() {
	local name=$1; shift
	python3 "$FWD_TEL" "${VT_PREFIX}-$name" "$@"
}

# fwd_tel_wait NAME VALUE TIMEOUT_S COMMAND KEY...: wait until the value
# under KEY... is VALUE.
fwd_tel_wait() {
	local name=$1 want=$2 timeout=$3; shift 3
	python3 "$FWD_TEL" "${VT_PREFIX}-$name" "$@" --wait "$want" \
		--timeout "$timeout" 2>"$VT_DIR/tel-wait.err" && return 0
	vt_log "timeout (${timeout}s): $* is '$(cat "$VT_DIR/tel-wait.err")', not '$want'"
	return 1
}

# fwd_macs NAME: the l2 MAC table, one "mac port" line per entry
# (lower-case MACs, sorted).
fwd_macs() {
	fwd_tel "$1" /vhu/mac_table | python3 -c '
import json, sys
t = json.load(sys.stdin)
for m, p in sorted(zip(t["macs"], t["ports"])):
    print(m.lower(), p)'
}

# fwd_link_wait NAME PORT up|down [TIMEOUT_S]
fwd_link_wait() {
	fwd_tel_wait "$1" "$3" "${4:-20}" "/vhu/port,$2" link ||
		vt_fail "$1: port $2 link not $3"
}

# fwd_port NAME PORT KEY: one counter of a port, by telemetry.
fwd_port() {
	fwd_tel "$1" "/vhu/port,$2" "$3"
}

# fwd_testpmd NAME DEVARGS TESTPMD_ARGS...: stock testpmd, interactive,
# with a virtio-user port per DEVARGS item (items separated by '|', each
# what follows "net_virtio_userN,"), its worker on core 0, commands typed
# by fwd_cmd into a FIFO this shell keeps open; line-buffered, and with
# --no-flush-rx (testpmd otherwise drops, uncounted, what its RX queues
# hold when forwarding starts).
fwd_testpmd() {
	local name=$1 fifo="$VT_DIR/$1.in" fd pid i=0 d
	local devs=() vdevs=()
	IFS='|' read -ra devs <<<"$2"
	shift 2
	for d in "${devs[@]}"; do
		vdevs+=(--vdev "net_virtio_user$i,$d")
		i=$((i + 1))
	done
	vt_file_prefix "$name" >/dev/null
	mkfifo "$fifo" || vt_fail "mkfifo $fifo"
	exec {fd}<>"$fifo"
	eval "FWD_FIFO_${name//[^A-Za-z0-9_]/_}=$fd"
	# shellcheck disable=SC2046
	stdbuf -oL dpdk-testpmd $(vt_eal_args "$name" 0) "${vdevs[@]}" -- -i \
		--total-num-mbufs 16384 --no-flush-rx "$@" \
		<"$fifo" >"$VT_DIR/$name.log" 2>&1 &
	pid=$!
	VT_PIDS+=("$pid")
	VT_NAMES+=("$name")
	eval "VT_PID_${name//[^A-Za-z0-9_]/_}=$pid"
	vt_log "started $name (pid $pid): testpmd -i ${vdevs[*]} -- $*"
}

# fwd_cmd NAME COMMAND: type a command into an interactive testpmd.
fwd_cmd() {
	local var="FWD_FIFO_${1//[^A-Za-z0-9_]/_}"
	vt_log "$1> $2"
	printf '%s\n' "$2" >&"${!var}"
}

# fwd_after NAME MARK: NAME's log after line MARK.
fwd_after() {
	tail -n "+$(($2 + 1))" "$VT_DIR/$1.log" 2>/dev/null
}

# fwd_do NAME COMMAND REGEX [TIMEOUT_S]: type COMMAND, wait for REGEX in
# what follows (fails the test otherwise); prints the line count before,
# to read the answer with fwd_after/fwd_value.
fwd_do() {
	local name=$1 cmd=$2 re=$3 timeout=${4:-20} mark i
	mark=$(wc -l <"$VT_DIR/$name.log")
	fwd_cmd "$name" "$cmd"
	for ((i = 0; i < timeout * 10; i++)); do
		if fwd_after "$name" "$mark" | grep -qE "$re"; then
			printf '%s' "$mark"
			return 0
		fi
		vt_alive "$name" || break
		sleep 0.1
	done
	vt_fail "$name: '$cmd' did not produce /$re/"
}

# fwd_value NAME MARK KEY: the value after "KEY:" on the first line after
# MARK that has it.
fwd_value() {
	fwd_after "$1" "$2" | awk -v k="$3:" '
		{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}

# fwd_quit NAME: quit an interactive testpmd; it must exit 0.
fwd_quit() {
	local rc=0
	fwd_cmd "$1" quit
	vt_wait_quit "$1" 60 || rc=$?
	[ "$rc" = 0 ] || vt_fail "$1: testpmd exited with $rc"
}

# fwd_vm NAME SOCKET MAC [DEVARGS] [TESTPMD_ARGS...]: a "VM": testpmd
# with a virtio-user port (1024 descriptors per ring, so a round never
# fills one) on SOCKET with MAC, in rxonly; waits for its prompt and
# starts forwarding (receiving).
fwd_vm() {
	local name=$1 sock=$2 mac=$3 extra=${4:-}
	shift 3
	[ $# -gt 0 ] && shift
	fwd_testpmd "$name" "path=$sock,mac=$mac,queue_size=1024${extra:+,$extra}" \
		--forward-mode=rxonly --eth-peer=0,ff:ff:ff:ff:ff:ff "$@"
	fwd_vm_ready "$name"
}

# fwd_vm_server NAME SOCKET MAC [TESTPMD_ARGS...]: a VM whose virtio-user
# port listens on SOCKET (server=1) for vhu-fwd --vhost-client; returns
# once the socket exists. Then fwd_vm_ready once vhu-fwd runs.
fwd_vm_server() {
	local name=$1 sock=$2 mac=$3
	shift 3
	fwd_testpmd "$name" "path=$sock,mac=$mac,queue_size=1024,server=1" \
		--forward-mode=rxonly --eth-peer=0,ff:ff:ff:ff:ff:ff "$@"
	vt_wait_file "$sock" 30 || vt_fail "$name: no socket $sock"
}

# fwd_vm_ready NAME: wait for a VM's prompt and start receiving.
fwd_vm_ready() {
	vt_wait_log "$1" 'testpmd> ' 60 || vt_fail "$1: no testpmd prompt"
	fwd_do "$1" start "packet forwarding.* - ports=" 20 >/dev/null
}

# fwd_vm_send NAME DST_MAC BURSTS: the VM sends BURSTS x 32 frames of 64
# bytes to DST_MAC, then goes on receiving.
fwd_vm_send() {
	fwd_do "$1" stop "Accumulated forward statistics|Packet forwarding not started" 20 >/dev/null
	fwd_cmd "$1" "set eth-peer 0 $2"
	fwd_do "$1" "start tx_first $3" "packet forwarding.* - ports=" 20 >/dev/null
}

# fwd_vm_count NAME RX-packets|TX-packets|RX-bytes [PORT]: the VM's
# port counter (port 0 by default). Compare differences, and never after
# testpmd's "clear port stats": DPDK 22.11's virtio PMD resets RX-packets
# while its polling lcore rewrites it, so the reset may not stick.
fwd_vm_count() {
	local mark
	mark=$(fwd_do "$1" "show port stats ${3:-0}" "TX-packets: [0-9]+" 10)
	fwd_value "$1" "$mark" "$2"
}
