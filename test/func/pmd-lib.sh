# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# Helpers for the net_vhu PMD's func tests (pmd-*.sh), on top of
# test/support/vhu-test-lib.sh: the plugin loaded into stock testpmd
# (run from a directory -d accepts, under the sanitizer runtime when it is
# a sanitized build), interactive testpmds driven round by round, and
# counters read from the part of a log that follows a mark.
#
# Source vhu-test-lib.sh first, then this, then call pmd_init.

# pmd_init NAME PLUGIN: vt_init, and check what every PMD test needs.
pmd_init() {
	vt_init "$1"
	PMD_PLUGIN=${2:-}
	command -v dpdk-testpmd >/dev/null || vt_skip "dpdk-testpmd is not installed"
	command -v stdbuf >/dev/null || vt_skip "stdbuf (coreutils) is not installed"
	[ -n "$PMD_PLUGIN" ] && [ -f "$PMD_PLUGIN" ] ||
		vt_fail "the net_vhu plugin was not found: '$PMD_PLUGIN'"
	pmd_plugin_loadable
	pmd_sanitizer_env
}

# DPDK's -d refuses a plugin when any directory on its path is
# world-writable (e.g. a build directory under /tmp). Then run a copy from
# a private directory in /run, removed when the test ends.
pmd_plugin_loadable() {
	local d
	PMD_PLUGIN=$(realpath "$PMD_PLUGIN")
	d=$(dirname "$PMD_PLUGIN")
	while :; do
		if [ -n "$(find "$d" -maxdepth 0 -perm -0002 2>/dev/null)" ]; then
			break
		fi
		[ "$d" = / ] && return 0
		d=$(dirname "$d")
	done
	PMD_COPY_DIR=$(mktemp -d /run/vhu-pmd.XXXXXX) ||
		vt_fail "$d is world-writable (DPDK -d refuses the plugin there) and no private copy could be made in /run"
	cp "$PMD_PLUGIN" "$PMD_COPY_DIR/" || vt_fail "cannot copy the plugin to $PMD_COPY_DIR"
	vt_log "plugin: $d is world-writable, so DPDK -d refuses plugins below it; using a copy in $PMD_COPY_DIR"
	PMD_PLUGIN="$PMD_COPY_DIR/$(basename "$PMD_PLUGIN")"
	# Keep vt_cleanup's view of the exit code: it reads $? first.
	# shellcheck disable=SC2154 # pmd_rc is set inside the trap
	trap 'pmd_rc=$?; rm -rf "$PMD_COPY_DIR"; (exit $pmd_rc); vt_cleanup' EXIT
}

# A sanitized plugin (build-san) needs the ASan runtime first in the
# process's library list: stock testpmd is not built with it, so preload
# it into the processes that load the plugin (only those: PMD_ENV).
pmd_sanitizer_env() {
	local asan
	PMD_ENV=()
	asan=$(ldd "$PMD_PLUGIN" 2>/dev/null | awk '/libasan\.so/ { print $3; exit }')
	[ -n "$asan" ] || return 0
	[ -f "$asan" ] || vt_fail "the plugin needs $asan, which is missing"
	PMD_ENV=("LD_PRELOAD=$asan"
		"ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23"
		"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
	vt_log "sanitized plugin: back-end testpmds run with LD_PRELOAD=$asan"
}

# pmd_testpmd_i NAME WORKER ENV... -- EAL... -- APP...: stock dpdk-testpmd
# in interactive mode (-i), its commands typed by pmd_cmd into a FIFO this
# shell keeps open; ENV (VAR=value, maybe none) only in its environment.
# Line-buffered (testpmd prints with stdio; its log is a file), and with
# --no-flush-rx (testpmd otherwise drops, uncounted, what its RX queues
# hold when forwarding starts).
pmd_testpmd_i() {
	local name=$1 worker=$2 fifo="$VT_DIR/$1.in" fd pid
	local envs=() eal=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do eal+=("$1"); shift; done
	[ "${1:-}" = "--" ] && shift
	vt_file_prefix "$name" >/dev/null
	mkfifo "$fifo" || vt_fail "mkfifo $fifo"
	exec {fd}<>"$fifo"
	eval "PMD_FIFO_${name//[^A-Za-z0-9_]/_}=$fd"
	# shellcheck disable=SC2046
	env "${envs[@]}" stdbuf -oL dpdk-testpmd $(vt_eal_args "$name" "$worker") \
		"${eal[@]}" -- -i --total-num-mbufs 16384 --no-flush-rx "$@" \
		<"$fifo" >"$VT_DIR/$name.log" 2>&1 &
	pid=$!
	VT_PIDS+=("$pid")
	VT_NAMES+=("$name")
	eval "VT_PID_${name//[^A-Za-z0-9_]/_}=$pid"
	vt_log "started $name (pid $pid): testpmd -i ${eal[*]} -- $*"
}

# pmd_cmd NAME COMMAND: type a command into an interactive testpmd.
pmd_cmd() {
	local var="PMD_FIFO_${1//[^A-Za-z0-9_]/_}"
	vt_log "$1> $2"
	printf '%s\n' "$2" >&"${!var}"
}

# pmd_be NAME WORKER DEVARGS [TESTPMD_ARGS...]: testpmd with the plugin
# and one net_vhu port (DEVARGS after "net_vhu0,"); waits for its prompt.
# net_vhu and lib/vhu log at info level: ring states, link changes
# (pmd_wait_rings). The global level caps every log type, so it must be
# info too (EAL's own chatter stays at notice).
pmd_be() {
	local name=$1 worker=$2 devargs=$3; shift 3
	pmd_testpmd_i "$name" "$worker" "${PMD_ENV[@]}" -- -d "$PMD_PLUGIN" \
		--log-level info --log-level lib.eal:notice \
		--log-level pmd.net.vhu:info --vdev "net_vhu0,$devargs" -- "$@"
	pmd_prompt "$name"
}

# pmd_fe NAME WORKER DEVARGS [TESTPMD_ARGS...]: testpmd with one
# virtio-user port (DEVARGS after "net_virtio_user0,", then
# $PMD_FE_DEVARGS if set, e.g. packed_vq=1 for packed rings). With server=1
# its prompt comes only once a back-end connected: see pmd_prompt.
pmd_fe() {
	local name=$1 worker=$2 devargs=$3; shift 3
	pmd_testpmd_i "$name" "$worker" -- \
		--vdev "net_virtio_user0,$devargs${PMD_FE_DEVARGS:+,$PMD_FE_DEVARGS}" \
		-- "$@"
}

# pmd_prompt NAME [TIMEOUT_S]: wait for an interactive testpmd's first
# prompt.
pmd_prompt() {
	vt_testpmd_prompt "$@"
}

# pmd_mark NAME: the number of lines NAME's log has now.
pmd_mark() {
	wc -l <"$VT_DIR/$1.log" 2>/dev/null || echo 0
}

# pmd_after NAME MARK: NAME's log after line MARK.
pmd_after() {
	tail -n "+$(($2 + 1))" "$VT_DIR/$1.log" 2>/dev/null
}

# pmd_wait_after NAME MARK REGEX [TIMEOUT_S]: wait until NAME's log,
# after line MARK, matches REGEX.
pmd_wait_after() {
	local name=$1 mark=$2 re=$3 timeout=${4:-20} i
	for ((i = 0; i < timeout * 10; i++)); do
		pmd_after "$name" "$mark" | grep -qE "$re" && return 0
		if ! vt_alive "$name"; then
			pmd_after "$name" "$mark" | grep -qE "$re" && return 0
			vt_log "$name exited while waiting for /$re/"
			return 1
		fi
		sleep 0.1
	done
	vt_log "timeout (${timeout}s) waiting for /$re/ in $name.log"
	return 1
}

# pmd_do NAME COMMAND REGEX [TIMEOUT_S]: type COMMAND and wait for REGEX
# in what follows; fails the test otherwise. Sets PMD_MARK to the mark it
# used, to read the output with pmd_value / pmd_total / pmd_after.
# (Functions that fail the test or start processes set variables instead
# of printing: in a command substitution vt_fail would only end the
# subshell.)
pmd_do() {
	local name=$1 cmd=$2 re=$3 timeout=${4:-20} mark
	mark=$(pmd_mark "$name")
	pmd_cmd "$name" "$cmd"
	pmd_wait_after "$name" "$mark" "$re" "$timeout" ||
		vt_fail "$name: '$cmd' did not produce /$re/"
	PMD_MARK=$mark
}

# pmd_total NAME MARK FIELD: FIELD (RX-packets, TX-packets, TX-dropped...)
# of the first "Accumulated forward statistics" block after line MARK.
pmd_total() {
	pmd_after "$1" "$2" | awk -v f="$3" '
		/Accumulated forward statistics/ { acc = 1; next }
		acc { for (i = 1; i < NF; i++) if ($i == f ":") { print $(i + 1); exit } }'
}

# pmd_value NAME MARK KEY: the value after "KEY:" on the first line after
# MARK that has it (xstats lines "rx_q0_packets: 12", port stats
# "RX-packets: 12 ...").
pmd_value() {
	pmd_after "$1" "$2" | awk -v k="$3:" '
		{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}

# pmd_xstats NAME PORT LAST: show the port's xstats and wait for the
# last one, LAST (a name); PMD_MARK is where to read them (pmd_value).
pmd_xstats() {
	pmd_do "$1" "show port xstats $2" "^$3: [0-9]+" 10
}

# pmd_start NAME: start forwarding; waits until it runs.
pmd_start() {
	pmd_do "$1" start "packet forwarding.* - ports=" 20
}

# pmd_stop NAME: stop forwarding; PMD_MARK is where pmd_total reads.
pmd_stop() {
	pmd_do "$1" stop "Accumulated forward statistics" 20
}

# pmd_round TX RX SECONDS: one counted run. RX starts forwarding, TX
# sends for SECONDS (longer, up to 30 s, until it sent PMD_MIN_SENT: the
# machine may be busy) and stops; RX takes what is still in the rings
# (until it has as many as were sent, or a second brings nothing more)
# and stops. Sets PMD_SENT (TX's TX-packets) and PMD_GOT
# (RX's RX-packets) for that run alone (testpmd resets them at each start).
PMD_MIN_SENT=1000
pmd_round() {
	local tx=$1 rx=$2 secs=${3:-2} mt mr i n m
	pmd_start "$rx"
	pmd_start "$tx"
	sleep "$secs"
	for ((i = 0; i < 30; i++)); do
		pmd_do "$tx" "show fwd stats all" "Accumulated forward statistics" 10
		n=$(pmd_total "$tx" "$PMD_MARK" TX-packets)
		[ "${n:-0}" -ge "$PMD_MIN_SENT" ] && break
		sleep 1
	done
	pmd_stop "$tx"
	mt=$PMD_MARK
	PMD_SENT=$(pmd_total "$tx" "$mt" TX-packets)
	# Until RX has what was sent, or nothing more comes (up to 20 s).
	n=-1
	for ((i = 0; i < 20; i++)); do
		sleep 1
		pmd_do "$rx" "show fwd stats all" "Accumulated forward statistics" 10
		m=$(pmd_total "$rx" "$PMD_MARK" RX-packets)
		[ "${m:-0}" -ge "${PMD_SENT:-0}" ] || [ "${m:-0}" = "$n" ] && break
		n=${m:-0}
	done
	pmd_stop "$rx"
	mr=$PMD_MARK
	PMD_GOT=$(pmd_total "$rx" "$mr" RX-packets)
	vt_log "round $tx -> $rx: sent $PMD_SENT, received $PMD_GOT"
}

# pmd_assert_round TX RX SECONDS WHAT: a round in which at least PMD_MIN_SENT
# packets went and every one that went arrived.
pmd_assert_round() {
	pmd_round "$1" "$2" "$3"
	vt_assert_ge "$PMD_SENT" "$PMD_MIN_SENT" "$4: packets sent"
	vt_assert_eq "$PMD_GOT" "$PMD_SENT" "$4: packets received = sent"
}

# pmd_link NAME PORT: sets PMD_LINK to "up" or "down", from testpmd's
# show port info.
pmd_link() {
	pmd_do "$1" "show port info $2" "Link status: " 10
	PMD_LINK=$(pmd_after "$1" "$PMD_MARK" | awk '/Link status: / { print $3; exit }')
}

# pmd_wait_link NAME PORT up|down [TIMEOUT_S]
pmd_wait_link() {
	local i
	for ((i = 0; i < ${4:-20}; i++)); do
		pmd_link "$1" "$2"
		[ "$PMD_LINK" = "$3" ] && return 0
		sleep 1
	done
	return 1
}

# pmd_wait_rings NAME MARK QUEUE_PAIRS [TIMEOUT_S]: wait until net_vhu
# logged, after MARK, both rings of each queue pair started and enabled.
pmd_wait_rings() {
	local name=$1 mark=$2 qps=$3 timeout=${4:-30} q
	for ((q = 0; q < qps; q++)); do
		pmd_wait_after "$name" "$mark" "TX queue $q: ring $((2 * q)) started, enabled" "$timeout" &&
		pmd_wait_after "$name" "$mark" "RX queue $q: ring $((2 * q + 1)) started, enabled" "$timeout" ||
			vt_fail "$name: queue pair $q did not start"
	done
}

# pmd_quit NAME: quit an interactive testpmd; fails on a non-zero exit or
# a sanitizer report in its log.
pmd_quit() {
	local rc=0
	pmd_cmd "$1" quit
	vt_wait_quit "$1" 60 || rc=$?
	pmd_check_log "$1"
	[ "$rc" = 0 ] || vt_fail "$1: testpmd exited with $rc"
}

# pmd_check_log NAME: no sanitizer report in NAME's log.
pmd_check_log() {
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		"$VT_DIR/$1.log" 2>/dev/null; then
		vt_fail "$1: sanitizer report in its log"
	fi
}

# pmd_assert_ring_format NAME: the features NAME's net_vhu last logged as
# negotiated select the ring format PMD_FE_DEVARGS asked the front-end
# for (packed_vq=1: VIRTIO_F_RING_PACKED, bit 34; else split).
pmd_assert_ring_format() {
	local f want=split got=split
	f=$(sed -n 's/.* features 0x\([0-9a-f]*\) (virtio-net header.*/\1/p' \
		"$VT_DIR/$1.log" | tail -n 1)
	[ -n "$f" ] || vt_fail "$1 logged no negotiated features"
	case ",${PMD_FE_DEVARGS:-}," in *,packed_vq=1,*) want=packed ;; esac
	(((0x$f >> 34) & 1)) && got=packed
	vt_assert_eq "$got" "$want" "ring format negotiated (features 0x$f)"
}

# vhu-fe's option for the ring format PMD_FE_DEVARGS asks virtio-user for,
# so both front-ends of a test use the same one.
PMD_VHU_FE_RING=()
case ",${PMD_FE_DEVARGS:-}," in *,packed_vq=1,*) PMD_VHU_FE_RING=(--packed) ;; esac
