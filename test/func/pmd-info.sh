#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# What the net_vhu plugin is, and what its devargs accept:
#  - dpdk-pmdinfo.py lists net_vhu with its devargs;
#  - NEEDED has librte_bus_vdev and not librte_vhost, and every symbol
#    resolves through the plugin's own NEEDED list (ldd -r), as it must
#    when OVS loads it with local scope;
#  - bad devargs fail the port's probe (EAL goes on without the port, as
#    it does for any vdev) with a message that names the problem: unknown
#    key, missing iface, bad queue counts, bad 0|1 values, a key given
#    twice, a bad MAC, a path too long, two ports on one socket;
#  - net_vhost's keys without effect for vhu are accepted (and logged), the
#    mac= devarg sets the port's address, and the eth_vhu alias works;
#  - the features a front-end (vhu-fe) can negotiate: CSUM, GUEST_CSUM and
#    GUEST_TSO4/6 always, HOST_TSO4/6 only with tso=1;
#  - the RX offload capabilities: TCP/UDP_CKSUM with the default
#    legacy-ol-flags=0, TCP_LRO too with tso=1, neither with
#    legacy-ol-flags=1;
#  - an RX queue of a started port stops, is set up again (a new mempool,
#    as vhu-fwd does when a port changes NUMA node) and starts, and a
#    front-end's packets then arrive through it; a queue with deferred
#    start stays stopped when the port starts.
#
# Usage: pmd-info.sh PLUGIN VHU_FE
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/pmd-lib.sh"

pmd_init pmd-info "${1:-}"
VHU_FE=${2:-}
[ -n "$VHU_FE" ] && [ -x "$VHU_FE" ] || vt_fail "vhu-fe tool not found: '$VHU_FE'"

vt_log "--- PMD info"
command -v dpdk-pmdinfo.py >/dev/null || vt_fail "dpdk-pmdinfo.py not found (package dpdk-dev)"
dpdk-pmdinfo.py "$PMD_PLUGIN" >"$VT_DIR/pmdinfo.json" 2>"$VT_DIR/pmdinfo.log" ||
	vt_fail "dpdk-pmdinfo.py failed: $(cat "$VT_DIR/pmdinfo.log")"
cat "$VT_DIR/pmdinfo.json" >&2
params=$(/usr/bin/python3 -c '
import json, sys
infos = [d for d in json.load(open(sys.argv[1])) if d.get("name") == "net_vhu"]
print(infos[0].get("params", "") if len(infos) == 1 else "")' "$VT_DIR/pmdinfo.json")
[ -n "$params" ] || vt_fail "dpdk-pmdinfo.py does not list net_vhu with its parameters"
for key in iface queues client mac iommu-support postcopy-support tso \
	linear-buffer ext-buffer legacy-ol-flags; do
	[[ " $params" == *" $key=<"* ]] || vt_fail "pmdinfo params lack $key: $params"
done
vt_log "ok: pmdinfo: net_vhu: $params"

vt_log "--- link dependencies"
needed=$(readelf -d "$PMD_PLUGIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
vt_log "NEEDED: $(echo $needed)"
grep -q '^librte_bus_vdev\.so' <<<"$needed" || vt_fail "NEEDED lacks librte_bus_vdev"
grep -q '^librte_vhost\.so' <<<"$needed" && vt_fail "NEEDED has librte_vhost"
unresolved=$(ldd -r "$PMD_PLUGIN" 2>&1 | grep 'undefined symbol')
[ -z "$unresolved" ] || vt_fail "symbols its NEEDED libraries do not provide: $unresolved"
vt_log "ok: every symbol resolves through the plugin's own NEEDED list"

vt_log "--- bad devargs: the probe must fail, naming the problem"
long=$VT_DIR/$(printf 'x%.0s' {1..120})
# bad_args NAME EXPECTED_LOG_REGEX VDEV...: the last VDEV must fail.
bad_args() {
	local name=$1 re=$2 rc=0 vdevs=() last
	shift 2
	for v in "$@"; do vdevs+=(--vdev "$v"); done
	last=${!#}
	last=${last%%,*}
	vt_file_prefix "$name" >/dev/null
	# shellcheck disable=SC2046
	vt_start "$name" env "${PMD_ENV[@]}" dpdk-testpmd $(vt_eal_args "$name" 1) \
		-d "$PMD_PLUGIN" "${vdevs[@]}" -- --total-num-mbufs 2048 --no-flush-rx
	# Without -i, testpmd exits at the end of its stdin (/dev/null).
	vt_wait "$name" 90 || rc=$?
	pmd_check_log "$name"
	[ "$rc" = 0 ] || vt_fail "$name: testpmd exited with $rc"
	grep -q "failed to initialize $last device" "$VT_DIR/$name.log" ||
		vt_fail "$name: the probe of $last did not fail: $*"
	grep -qE "$re" "$VT_DIR/$name.log" ||
		vt_fail "$name: no /$re/ in the log"
	vt_log "ok: $name: refused: $(grep -m1 -E "$re" "$VT_DIR/$name.log")"
}
S=$VT_DIR/s.sock
bad_args unknown "unknown devarg 'bogus'" "net_vhu0,iface=$S,bogus=1"
bad_args no-iface "'iface=<socket path>' is required" "net_vhu0,queues=2"
bad_args queues-0 "queues=0: the number of queue pairs must be 1\.\.128" "net_vhu0,iface=$S,queues=0"
bad_args queues-129 "queues=129: the number of queue pairs" "net_vhu0,iface=$S,queues=129"
bad_args queues-abc "queues=2x: the number of queue pairs" "net_vhu0,iface=$S,queues=2x"
bad_args client-2 "client=2: must be 0 or 1" "net_vhu0,iface=$S,client=2"
bad_args tso-yes "tso=yes: must be 0 or 1" "net_vhu0,iface=$S,tso=yes"
bad_args twice "devarg 'iface' given twice" "net_vhu0,iface=$S,iface=$S"
bad_args mac-mcast "mac=01:00:5e:00:00:01: a unicast" "net_vhu0,iface=$S,mac=01:00:5e:00:00:01"
bad_args long-path "iface: a unix socket path of 1\.\.107 bytes" "net_vhu0,iface=$long"
bad_args same-sock "already registered|cannot register" \
	"net_vhu0,iface=$S" "net_vhu1,iface=$S"
[ -e "$S" ] && vt_fail "a refused port left its socket file behind"
touch "$VT_DIR/file"
bad_args not-socket "path exists and is not a socket" "net_vhu0,iface=$VT_DIR/file"

vt_log "--- accepted devargs"
pmd_be ok 1 "iface=$S,client=0,queues=1,mac=02:11:22:33:44:55,iommu-support=1,postcopy-support=1,tso=0,linear-buffer=1,ext-buffer=1,legacy-ol-flags=0"
for key in iommu-support postcopy-support linear-buffer ext-buffer; do
	grep -q "$key=1 has no effect" "$VT_DIR/ok.log" || vt_fail "no notice for $key=1"
done
grep -qE "(tso|legacy-ol-flags).*no effect" "$VT_DIR/ok.log" && vt_fail "tso/legacy-ol-flags are not without effect"
pmd_do ok "show port info 0" "Link status"
m=$PMD_MARK
pmd_after ok "$m" | grep -q "MAC address: 02:11:22:33:44:55" || vt_fail "mac= not applied"
pmd_after ok "$m" | grep -q "Driver name: net_vhu" || vt_fail "driver name"
pmd_after ok "$m" | grep -qE "Max possible RX queues: 1$" || vt_fail "max RX queues from queues="
pmd_quit ok

vt_log "--- offered offload features"
# VERSION_1 | MRG_RXBUF | CSUM | GUEST_CSUM | GUEST_TSO4 | GUEST_TSO6 |
# HOST_TSO4 | HOST_TSO6
WANT=0x100009983
# features NAME DEVARGS: sets FEAT to what vhu-fe, wanting $WANT,
# negotiates with a port (not in a subshell: it starts processes).
features() {
	local name=$1 out=$VT_DIR/$1.fe
	pmd_be "$name" 1 "iface=$S,$2"
	pmd_start "$name"
	timeout 60 "$VHU_FE" --path "$S" --features "$WANT" --tx 10 \
		--timeout 30 >"$out" 2>&1 || vt_fail "$name: vhu-fe failed: $(cat "$out")"
	pmd_quit "$name"
	FEAT=$(sed -n 's/^features=//p' "$out")
}
features feat-default "queues=1"
# GUEST_TSO4/6 always, as net_vhost offers them whatever its tso= says.
vt_assert_eq "$FEAT" 0x100008183 "negotiated by default (GUEST_TSO, no HOST_TSO)"
features feat-tso "tso=1,legacy-ol-flags=1"
vt_assert_eq "$FEAT" 0x100009983 "negotiated with tso=1 (HOST_TSO4/6 too)"

vt_log "--- RX offload capabilities (net_vhost's two ol_flags modes)"
# rxcapa NAME DEVARGS: sets CAPA to the port's per-port RX capabilities.
rxcapa() {
	pmd_be "$1" 1 "iface=$S,$2"
	pmd_do "$1" "show port 0 rx_offload capabilities" "Per Port"
	CAPA=$(pmd_after "$1" "$PMD_MARK" | sed -n 's/^ *Per Port *: *//p')
	pmd_quit "$1"
	vt_log "$2: $CAPA"
}
rxcapa capa-default "queues=1"
[[ " $CAPA " == *" TCP_CKSUM "* && " $CAPA " == *" UDP_CKSUM "* &&
	" $CAPA " != *" TCP_LRO "* ]] ||
	vt_fail "compliant flags: RX TCP/UDP_CKSUM and no TCP_LRO expected: $CAPA"
rxcapa capa-tso "tso=1"
[[ " $CAPA " == *" TCP_CKSUM "* && " $CAPA " == *" TCP_LRO "* ]] ||
	vt_fail "tso=1: RX TCP_CKSUM and TCP_LRO expected: $CAPA"
rxcapa capa-legacy "tso=1,legacy-ol-flags=1"
[[ " $CAPA " != *"CKSUM"* && " $CAPA " != *" TCP_LRO "* ]] ||
	vt_fail "legacy-ol-flags=1: no RX checksum or LRO capability expected: $CAPA"

vt_log "--- an RX queue set up again while the port runs"
pmd_be rxq 1 "iface=$S" --forward-mode=rxonly
for cmd in "port 0 rxq 0 stop" "port 0 rxq 0 setup" "port 0 rxq 0 start"; do
	pmd_do rxq "$cmd" "testpmd> "
	pmd_do rxq "show rxq info 0 0" "Rx queue state: "
	m=$PMD_MARK
	state=$(pmd_value rxq "$m" state)
	vt_log "after '$cmd': $state"
	[ "$cmd" = "port 0 rxq 0 start" ] && want=started || want=stopped
	vt_assert_eq "$state" "$want" "RX queue state after '$cmd'"
done
pmd_after rxq 0 | grep -E "not supported|Fail|rror" &&
	vt_fail "a queue command failed"
pmd_start rxq
timeout 60 "$VHU_FE" --path "$S" --tx 10 --timeout 30 >"$VT_DIR/rxq.fe" 2>&1 ||
	vt_fail "vhu-fe failed: $(cat "$VT_DIR/rxq.fe")"
pmd_stop rxq
vt_assert_eq "$(pmd_total rxq "$PMD_MARK" RX-packets)" 10 \
	"packets through the queue set up again"
# A deferred queue stays stopped when the port starts.
pmd_do rxq "port stop 0" "testpmd> "
pmd_do rxq "port 0 rxq 0 deferred_start on" "testpmd> "
pmd_do rxq "port start 0" "testpmd> "
pmd_do rxq "show rxq info 0 0" "Rx queue state: "
vt_assert_eq "$(pmd_value rxq "$PMD_MARK" state)" stopped \
	"a deferred RX queue after the port's start"
pmd_quit rxq

pmd_testpmd_i alias 1 "${PMD_ENV[@]}" -- -d "$PMD_PLUGIN" \
	--vdev "eth_vhu0,iface=$S,queues=3" -- --rxq=3 --txq=3
pmd_prompt alias
pmd_do alias "show port info 0" "Link status"
m=$PMD_MARK
pmd_after alias "$m" | grep -q "Driver name: net_vhu" || vt_fail "eth_vhu alias"
pmd_after alias "$m" | grep -qE "Max possible RX queues: 3$" || vt_fail "max RX queues 3"
pmd_quit alias
vt_log "PASS"
exit 0
