#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's demo with QEMU guests: usertools/vhu-demo --qemu (set-up
# skipped: the test runs in a built tree) must end with its PASS verdict,
# exit 0 and leave no process, socket or work directory behind.
#
# Usage: vm-demo.sh VHU_FWD VHU_DEMO
set -u
fwd=$1 demo=$2
before=$(ls -d /tmp/vhu-demo-qemu-* 2>/dev/null | wc -l)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$demo" --qemu --no-setup --seconds 3 --fwd "$fwd" >"$out" 2>&1
rc=$?
cat "$out"
# 77: the demo found no QEMU or kernel (as every vm test, a skip).
[ "$rc" = 77 ] && exit 77
[ "$rc" = 0 ] || { echo "vm-demo: vhu-demo --qemu exited with $rc"; exit 1; }
grep -q '^vhu-demo: PASS — ' "$out" || { echo "vm-demo: no PASS verdict"; exit 1; }
after=$(ls -d /tmp/vhu-demo-qemu-* 2>/dev/null | wc -l)
[ "$after" = "$before" ] || { echo "vm-demo: the demo left its work directory"; exit 1; }
if pgrep -f "file-prefix vhu-demo-qemu-" >/dev/null; then
	echo "vm-demo: a vhu-fwd of the demo is still running"; exit 1
fi
if pgrep -f "qmp unix:/tmp/vhu-demo-qemu-" >/dev/null; then
	echo "vm-demo: a QEMU of the demo is still running"; exit 1
fi
echo "vm-demo: PASS"
