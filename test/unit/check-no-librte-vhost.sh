#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# DPDK's librte_vhost is the reference vhu is measured against, never a
# dependency: Debian's libdpdk pkg-config lists it, and only the linker's
# --as-needed keeps it out. Fail if any given binary links it.
set -u
[ $# -gt 0 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
command -v readelf >/dev/null || { echo "readelf missing" >&2; exit 2; }
rc=0
for f in "$@"; do
	needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	[ -n "$needed" ] || { echo "FAIL: $f: no NEEDED entries read" >&2; rc=1; continue; }
	if grep -q '^librte_vhost' <<<"$needed"; then
		echo "FAIL: $f links librte_vhost" >&2
		rc=1
	elif ! grep -q '^librte_eal' <<<"$needed"; then
		echo "FAIL: $f does not link librte_eal: wrong binary?" >&2
		rc=1
	else
		echo "ok: $f: $(tr '\n' ' ' <<<"$needed")"
	fi
done
exit $rc
