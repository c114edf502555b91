#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's main command, usertools/vhu-demo, for 3 seconds (set-up
# skipped, this build's vhu-fwd): it exits 0, its last line is the PASS
# verdict, it showed vhu-fwd's live view and what went where, and it left
# nothing behind: no process of its own, no work directory (sockets
# included), no DPDK runtime directory.
#
# Usage: fwd-demo.sh VHU_FWD VHU_DEMO
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/fwd-lib.sh"

fwd_init fwd-demo "${1:-}"
DEMO=${2:-}
[ -x "$DEMO" ] || vt_fail "vhu-demo not found: '$DEMO'"
[ "$(id -u)" = 0 ] || vt_skip "vhu-demo runs as root"
command -v setsid >/dev/null || vt_skip "setsid (util-linux) is not installed"

rc=0
timeout -s TERM 150 "$DEMO" --no-setup --fwd "$FWD_BIN" --seconds 3 \
	>"$VT_DIR/demo.log" 2>&1 </dev/null || rc=$?
cat "$VT_DIR/demo.log" >&2
[ "$rc" = 0 ] || vt_fail "vhu-demo exited with $rc"
last=$(tail -n 1 "$VT_DIR/demo.log")
case $last in
"vhu-demo: PASS — "*) vt_log "ok: verdict: $last" ;;
*) vt_fail "the last line is not a PASS verdict: $last" ;;
esac
grep -qE '^  \[ *[0-9.]+s\] 0:vm1.sock up rx ' "$VT_DIR/demo.log" ||
	vt_fail "no live view line with port 0 up"
grep -q '^  VM2 received ' "$VT_DIR/demo.log" || vt_fail "no 'what went where'"

# What it started must be gone: its prefix and work directory are in the
# vhu-fwd command line it printed.
prefix=$(grep -o -- '--file-prefix vhu-demo-[0-9]*' "$VT_DIR/demo.log" | head -n 1 | awk '{ print $2 }')
work=$(grep -o -- '--vhost /tmp/vhu-demo\.[A-Za-z0-9]*' "$VT_DIR/demo.log" | head -n 1 | awk '{ print $2 }')
[ -n "$prefix" ] && [ -n "$work" ] || vt_fail "no file prefix or work directory in the demo's output"
[ -e "$work" ] && vt_fail "the demo left $work"
compgen -G "/var/run/dpdk/${prefix}-*" >/dev/null && vt_fail "the demo left /var/run/dpdk/${prefix}-*"
pgrep -f -- "--file-prefix ${prefix}-" >/dev/null &&
	vt_fail "processes of the demo are still running: $(pgrep -af -- "--file-prefix ${prefix}-")"
vt_log "ok: nothing left of $prefix ($work)"
vt_log PASS
exit 0
