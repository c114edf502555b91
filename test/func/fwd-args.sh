#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Bad command lines fail cleanly: vhu-fwd exits 2, says which option and
# why on stderr, and leaves nothing: no vhost-user socket, no DPDK runtime
# directory, no process. Some are caught before EAL starts, others (ports,
# lcores, sockets) right after it, before any port is created. -- --help
# prints the usage and exits 0.
#
# Usage: fwd-args.sh VHU_FWD
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/fwd-lib.sh"

fwd_init fwd-args "${1:-}"
D=$VT_DIR
N=0

# bad WHAT MESSAGE EAL_ARGS... -- APP_ARGS...: the run must fail with exit
# code 2 and MESSAGE (a fixed string) on stderr, and leave nothing.
bad() {
	local what=$1 msg=$2 rc=0 prefix
	shift 2
	N=$((N + 1))
	prefix="$VT_PREFIX-bad$N"
	vt_file_prefix "bad$N" >/dev/null
	timeout 60 "$FWD_BIN" "$@" >"$D/bad$N.out" 2>"$D/bad$N.err" </dev/null || rc=$?
	grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$D/bad$N.err" &&
		{ cat "$D/bad$N.err" >&2; vt_fail "$what: sanitizer report"; }
	[ "$rc" = 2 ] || { cat "$D/bad$N.out" "$D/bad$N.err" >&2; vt_fail "$what: exit code $rc, not 2"; }
	grep -qF -- "$msg" "$D/bad$N.err" ||
		{ cat "$D/bad$N.err" >&2; vt_fail "$what: no '$msg' on stderr"; }
	compgen -G "$D/*.sock" >/dev/null && vt_fail "$what: a socket was created: $(ls "$D"/*.sock)"
	[ -e "/var/run/dpdk/$prefix" ] && vt_fail "$what: /var/run/dpdk/$prefix left behind"
	vt_log "ok: $what: $(grep -F -- "$msg" "$D/bad$N.err" | head -n 1)"
}

eal() {
	# shellcheck disable=SC2046
	printf '%s\n' $(vt_eal_args "bad$((N + 1))" 1)
}
mapfile -t E < <(eal)
S="$D/s.sock"

vt_log "--- before EAL"
bad "zero burst" "--burst 0: must be an integer in 1..512" -- --burst 0 --vhost "$S"
bad "burst too big" "--burst 513: must be an integer in 1..512" -- --burst=513
bad "unknown mode" "--mode bridge: unknown mode" -- --mode bridge
bad "missing value" "--queues: a value is needed" -- --vhost "$S" --queues
bad "unknown option" "--bogus: unknown option" -- --bogus
bad "option given twice" "--burst: given twice" -- --burst 8 --burst 16
bad "option of another mode" "--txonly-rate: has no effect in --mode l2" -- --mode l2 --txonly-rate 5
bad "negative period" "--stats-period -1: must be an integer in 0..3600" -- --stats-period -1
bad "frame too small" "'20' is not a frame size" -- --mode txonly --txonly-size 64,20
bad "path with a comma" "cannot contain ','" -- --vhost "$D/a,b.sock"
bad "same path twice" "this path is already a port" -- --vhost "$S" --vhost "$S"
bad "bad lcore map" "expected PORT:QUEUE@LCORE" -- --vhost "$S" --lcore-map 0:0
bad "bad MAC" "not a MAC address" -- --mode txonly --txonly-dst 02:00:00:00:00

vt_log "--- after EAL, before any port"
mapfile -t E < <(eal)
bad "unknown EAL option" "EAL initialisation failed" "${E[@]}" --bogus-eal -- --vhost "$S"
mapfile -t E < <(eal)
bad "stray word before --" "stray: not an EAL option" "${E[@]}" stray -- --vhost "$S"
mapfile -t E < <(eal)
bad "odd ports in io mode" "--mode io: needs an even number of ports" \
	"${E[@]}" -- --vhost "$S" --vhost "$D/t.sock" --vhost "$D/u.sock"
mapfile -t E < <(eal)
bad "no ports" "no ports" "${E[@]}" --
mapfile -t E < <(eal)
bad "no worker lcore" "no worker lcore" "${E[@]/#0-1/0}" -- --mode rxonly --vhost "$S"
mapfile -t E < <(eal)
bad "map onto the main lcore" "lcore 0 is the main lcore" \
	"${E[@]}" -- --vhost "$S" --vhost "$D/t.sock" --lcore-map 0:0@0,1:0@0
mapfile -t E < <(eal)
bad "map incomplete" "port 1 queue 0 has no lcore" \
	"${E[@]}" -- --vhost "$S" --vhost "$D/t.sock" --lcore-map 0:0@1
mapfile -t E < <(eal)
bad "map to an unknown port" "there is no port 2" \
	"${E[@]}" -- --vhost "$S" --vhost "$D/t.sock" --lcore-map 0:0@1,1:0@1,2:0@1
mapfile -t E < <(eal)
E=("${E[@]/#-l/--lcores}")
bad "l2 with more workers than queues" "in l2 mode each worker needs its own TX queue" \
	"${E[@]/#0-1/0@0,1@1,2@1}" -- --mode l2 --vhost "$S" --vhost "$D/t.sock" \
	--lcore-map 0:0@1,1:0@2
mapfile -t E < <(eal)
bad "socket directory missing" "does not exist" \
	"${E[@]}" -- --mode rxonly --vhost "$D/no/such/dir/s.sock"

vt_log "--- a socket another vhu-fwd listens on"
fwd_start busy --mode rxonly --vhost "$D/busy.sock"
mapfile -t E < <(eal)
rc=0
timeout 60 "$FWD_BIN" "${E[@]}" -- --mode rxonly --vhost "$D/busy.sock" \
	>"$D/inuse.out" 2>"$D/inuse.err" </dev/null || rc=$?
vt_assert_eq "$rc" 2 "socket in use: exit code"
grep -qF "another process is listening on this socket" "$D/inuse.err" ||
	{ cat "$D/inuse.err" >&2; vt_fail "socket in use: no message"; }
vt_alive busy || vt_fail "the first vhu-fwd died"
[ -S "$D/busy.sock" ] || vt_fail "the first vhu-fwd's socket is gone"
fwd_stop busy
[ -e "$D/busy.sock" ] && vt_fail "busy.sock outlived vhu-fwd"

vt_log "--- help"
"$FWD_BIN" -- --help >"$D/help.out" 2>&1 || vt_fail "-- --help failed"
grep -q '^Usage: ' "$D/help.out" || vt_fail "-- --help printed no usage"
vt_log PASS
exit 0
