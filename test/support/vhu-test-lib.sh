# SPDX-License-Identifier: BSD-3-Clause
# Test support for shell tests: unique names, processes started in the
# background and always stopped again (by PID) when the test ends, however
# it ends; waiting with timeouts; reading testpmd's final counters.
#
# Source it, then call vt_init NAME first.  Exit codes follow meson:
# 0 pass, 77 skip, anything else fail.

VT_PIDS=()      # every PID vt_start started, stopped by vt_cleanup
VT_NAMES=()
VT_PREFIXES=()  # DPDK --file-prefix values handed out, removed at the end

vt_log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

vt_fail() {
	vt_log "FAIL: $*"
	vt_dump_logs
	exit 1
}

vt_skip() {
	vt_log "SKIP: $*"
	exit 77
}

# vt_init NAME: a private directory ($VT_DIR) and prefix ($VT_PREFIX) for
# this run, and the trap that cleans up whatever happens.
vt_init() {
	VT_NAME=$1
	VT_PREFIX="vhu-${VT_NAME}-$$"
	VT_DIR=$(mktemp -d "/tmp/${VT_PREFIX}.XXXXXX") || exit 1
	trap vt_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	vt_log "test $VT_NAME: work dir $VT_DIR"
}

vt_dump_logs() {
	local f
	for f in "$VT_DIR"/*.log; do
		[ -f "$f" ] || continue
		printf '\n----- %s (last 40 lines) -----\n' "$(basename "$f")" >&2
		tail -n 40 "$f" >&2
	done
}

# vt_start NAME CMD...: start CMD in the background, output to
# $VT_DIR/NAME.log; remembers the PID under NAME.
vt_start() {
	local name=$1; shift
	"$@" </dev/null >"$VT_DIR/$name.log" 2>&1 &
	local pid=$!
	VT_PIDS+=("$pid")
	VT_NAMES+=("$name")
	eval "VT_PID_${name//[^A-Za-z0-9_]/_}=$pid"
	vt_log "started $name (pid $pid): $*"
}

vt_pid() {
	local var="VT_PID_${1//[^A-Za-z0-9_]/_}"
	printf '%s' "${!var:-}"
}

vt_alive() {
	local pid
	pid=$(vt_pid "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# vt_stop NAME [SIGNAL] [TIMEOUT_S]: signal the process (SIGINT by
# default), wait for it, SIGKILL after the timeout. Returns its exit code.
vt_stop() {
	local name=$1 sig=${2:-INT} timeout=${3:-15}
	local pid rc=0 i
	pid=$(vt_pid "$name")
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -s "$sig" "$pid" 2>/dev/null
		for ((i = 0; i < timeout * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			vt_log "$name (pid $pid) did not stop on SIG$sig; killing"
			kill -s KILL "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	eval "VT_PID_${name//[^A-Za-z0-9_]/_}="
	return $rc
}

# vt_exited PID TIMEOUT_S: whether PID is gone within TIMEOUT_S.
vt_exited() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	! kill -0 "$1" 2>/dev/null
}

# vt_wait_quit NAME [TIMEOUT_S]: wait for a testpmd that was told to quit.
# Returns its exit code, or 124 if it did not end. One exception: a
# testpmd that printed "Bye..." (its whole shutdown done) but is still
# stuck in the kernel tearing its memory down is the machine's known
# hazard (doc/testing.md, "Rules the tests follow"), not a failure of the test: its
# kernel stack is logged for the record, it is killed, and 0 returned.
vt_wait_quit() {
	local name=$1 timeout=${2:-60} pid last
	pid=$(vt_pid "$name")
	[ -n "$pid" ] || return 0
	if ! vt_exited "$pid" "$timeout"; then
		last=$(grep -v '^[[:space:]]*$' "$VT_DIR/$name.log" 2>/dev/null | tail -n 1)
		vt_log "$name (pid $pid) still running after ${timeout}s; its kernel stack:"
		sed 's/^/    /' "/proc/$pid/stack" >&2 2>/dev/null
		vt_stop "$name" KILL 1
		if [ "$last" = "Bye..." ]; then
			vt_log "WARNING: $name had finished (Bye...): the kernel hazard of doc/testing.md, not failing"
			return 0
		fi
		return 124
	fi
	vt_wait "$name" 1
}

# vt_wait NAME: wait for a process to exit by itself; returns its code.
vt_wait() {
	local name=$1 timeout=${2:-60} pid
	pid=$(vt_pid "$name")
	[ -n "$pid" ] || return 0
	if ! vt_exited "$pid" "$timeout"; then
		vt_log "$name (pid $pid) still running after ${timeout}s"
		vt_stop "$name" KILL 1
		return 124
	fi
	wait "$pid" 2>/dev/null
	local rc=$?
	eval "VT_PID_${name//[^A-Za-z0-9_]/_}="
	return $rc
}

vt_cleanup() {
	local rc=$? i pid p
	for ((i = ${#VT_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${VT_PIDS[$i]}
		if kill -0 "$pid" 2>/dev/null; then
			kill -s INT "$pid" 2>/dev/null
		fi
	done
	for ((i = ${#VT_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${VT_PIDS[$i]}
		for ((j = 0; j < 50; j++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -s KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for p in "${VT_PREFIXES[@]}"; do
		rm -rf "/var/run/dpdk/$p" 2>/dev/null
		rm -f /dev/hugepages/"$p"map_* 2>/dev/null
	done
	if [ -n "${VT_DIR:-}" ] && [ -d "$VT_DIR" ]; then
		if [ "$rc" = 0 ] || [ "$rc" = 77 ] || [ -z "${VT_KEEP:-}" ]; then
			rm -rf "$VT_DIR"
		fi
	fi
	exit "$rc"
}

# vt_wait_file PATH [TIMEOUT_S]: wait until PATH exists (e.g. a socket).
vt_wait_file() {
	local path=$1 timeout=${2:-20} i
	for ((i = 0; i < timeout * 10; i++)); do
		[ -e "$path" ] && return 0
		sleep 0.1
	done
	return 1
}

# vt_wait_log NAME REGEX [TIMEOUT_S]: wait until NAME's log matches.
vt_wait_log() {
	local name=$1 re=$2 timeout=${3:-20} i
	for ((i = 0; i < timeout * 10; i++)); do
		grep -qE "$re" "$VT_DIR/$name.log" 2>/dev/null && return 0
		if ! vt_alive "$name"; then
			grep -qE "$re" "$VT_DIR/$name.log" 2>/dev/null && return 0
			vt_log "$name exited while waiting for /$re/"
			return 1
		fi
		sleep 0.1
	done
	vt_log "timeout (${timeout}s) waiting for /$re/ in $name.log"
	return 1
}

# vt_file_prefix NAME: a DPDK --file-prefix unique to this test run.
vt_file_prefix() {
	local p="${VT_PREFIX}-$1"
	VT_PREFIXES+=("$p")
	printf '%s' "$p"
}

# vt_eal_mem: EAL memory arguments for one test process. 256 MiB of
# 2 MiB hugepages while at least that many are free on a mounted
# /dev/hugepages (usertools/vhu-test reserves them): --in-memory, so no
# hugepage file is ever left behind, and one segment file (so a
# virtio-user front-end shares its memory as one region). Else 512 MiB
# of 4 KiB pages in a memfd (--no-huge). VT_NO_HUGE=1 forces the latter.
# Why hugepages first: the kernel's own page-aging threads (DAMON's
# kdamond, reclaim) walk the mappings of 4 KiB pages and take their
# file's i_mmap lock; hugetlb pages they leave alone. On this 2-core VM,
# with both cores busy polling, kdamond was seen runnable but not run
# for minutes while it held the lock of a front-end's memfd, so the
# front-end's exit and vhu's munmap of that guest memory hung.
vt_eal_mem() {
	local free size
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	size=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
	if [ -z "${VT_NO_HUGE:-}" ] && [ "${size:-0}" = 2048 ] &&
		[ "${free:-0}" -ge 128 ] && mountpoint -q /dev/hugepages 2>/dev/null; then
		printf '%s ' -m 256 --in-memory --single-file-segments
	else
		printf '%s ' --no-huge -m 512
	fi
}

# vt_eal_args NAME WORKER_CORE: EAL arguments for one DPDK process of a
# test: two lcores (main + one worker on WORKER_CORE), memory as
# vt_eal_mem says, no PCI, its own file prefix. WORKER_CORE "1x2": two
# worker lcores (1 and 2), both on core 1, the main lcore on core 0 (this
# machine has 2 cores; it spreads queues over lcores, not over cores).
vt_eal_args() {
	local name=$1 worker=${2:-1} main cores
	if [ "$worker" = 1x2 ]; then
		cores=(--lcores "0@0,1@1,2@1" --main-lcore 0)
	else
		if [ "$worker" = 1 ]; then main=0; else main=1; fi
		cores=(-l "0-1" --main-lcore "$main")
	fi
	# The caller records the prefix (vt_file_prefix) in its own shell:
	# this runs in a command substitution, where a record would be lost.
	# shellcheck disable=SC2046
	printf '%s ' "${cores[@]}" $(vt_eal_mem) --no-pci \
		--file-prefix "${VT_PREFIX}-$name" --log-level "${VT_DPDK_LOG:-notice}"
}

# vt_testpmd NAME WORKER_CORE EAL_EXTRA... -- APP_ARGS...: start stock
# dpdk-testpmd non-interactively with auto-start and periodic stats.
vt_testpmd() {
	local name=$1 worker=$2; shift 2
	local eal=() app=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do eal+=("$1"); shift; done
	[ "${1:-}" = "--" ] && shift
	app=("$@")
	vt_file_prefix "$name" >/dev/null
	# shellcheck disable=SC2046
	vt_start "$name" dpdk-testpmd $(vt_eal_args "$name" "$worker") "${eal[@]}" -- \
		--total-num-mbufs 16384 --stats-period 1 "${app[@]}"
}

# vt_testpmd_i NAME WORKER_CORE EAL_EXTRA... -- APP_ARGS...: start stock
# dpdk-testpmd interactively (-i), its commands fed by vt_testpmd_cmd
# through a FIFO this shell keeps open. Without --stats-period, and with
# --no-flush-rx (testpmd otherwise drops, uncounted, what its RX queues
# hold when forwarding starts).
vt_testpmd_i() {
	local name=$1 worker=$2; shift 2
	local eal=() app=() fifo="$VT_DIR/$name.in" fd
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do eal+=("$1"); shift; done
	[ "${1:-}" = "--" ] && shift
	app=("$@")
	vt_file_prefix "$name" >/dev/null
	mkfifo "$fifo" || vt_fail "mkfifo $fifo"
	exec {fd}<>"$fifo"
	eval "VT_FIFO_${name//[^A-Za-z0-9_]/_}=$fd"
	# shellcheck disable=SC2046
	# Line-buffered: testpmd prints with stdio and a file is not a tty.
	stdbuf -oL dpdk-testpmd $(vt_eal_args "$name" "$worker") "${eal[@]}" -- \
		-i --total-num-mbufs 16384 --no-flush-rx "${app[@]}" \
		<"$fifo" >"$VT_DIR/$name.log" 2>&1 &
	local pid=$!
	VT_PIDS+=("$pid")
	VT_NAMES+=("$name")
	eval "VT_PID_${name//[^A-Za-z0-9_]/_}=$pid"
	vt_log "started $name (pid $pid): interactive testpmd ${eal[*]} -- ${app[*]}"
}

# vt_testpmd_prompt NAME: wait for an interactive testpmd's first prompt
# (virtio-user with server=1 shows it only once its back-end connected).
vt_testpmd_prompt() {
	# EAL start-up alone can take tens of seconds on a loaded machine.
	vt_wait_log "$1" 'testpmd> ' "${2:-90}" || vt_fail "$1: no testpmd prompt"
}

# vt_testpmd_cmd NAME COMMAND: type a command into an interactive testpmd.
vt_testpmd_cmd() {
	local var="VT_FIFO_${1//[^A-Za-z0-9_]/_}"
	vt_log "$1> $2"
	printf '%s\n' "$2" >&"${!var}"
}

# vt_testpmd_total NAME FIELD: a counter (RX-packets, TX-packets,
# RX-dropped, TX-dropped, RX-bytes...) from the "Accumulated forward
# statistics" block testpmd prints when it stops.
vt_testpmd_total() {
	local name=$1 field=$2
	awk -v f="$field" '
		/Accumulated forward statistics/ { acc = 1; next }
		acc {
			for (i = 1; i < NF; i++) if ($i == f ":") { print $(i + 1); exit }
		}' "$VT_DIR/$name.log"
}

# vt_testpmd_port_stat NAME FIELD: the last value of a per-port counter
# testpmd's periodic "NIC statistics" show (RX-packets, TX-packets, ...).
vt_testpmd_port_stat() {
	local name=$1 field=$2
	awk -v f="$field" '
		{ for (i = 1; i < NF; i++) if ($i == f ":") v = $(i + 1) }
		END { print v + 0 }' "$VT_DIR/$name.log"
}

vt_assert_eq() {
	[ "$1" = "$2" ] || vt_fail "$3: expected $2, got $1"
	vt_log "ok: $3 = $1"
}

vt_assert_ge() {
	[ "$1" -ge "$2" ] 2>/dev/null || vt_fail "$3: expected >= $2, got $1"
	vt_log "ok: $3 = $1 (>= $2)"
}
