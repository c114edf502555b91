#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# net_vhu in Open vSwitch with DPDK (Debian's openvswitch-switch-dpdk,
# built on the same DPDK 22.11), as an OVS user would run it:
#  - a private ovsdb-server and ovs-vswitchd-dpdk (called by path: the
#    system's alternatives and services are not touched), run/db/log/etc
#    directories in the test's work directory;
#  - other_config:dpdk-init=true, dpdk-extra="-d PLUGIN -m 512 ..." on
#    hugepages when free, else with --no-huge (see vt_eal_mem);
#  - a netdev bridge with two ports type=dpdk
#    options:dpdk-devargs=net_vhu0,iface=... and net_vhu1,iface=..., and
#    flows vhu0 <-> vhu1;
#  - two stock testpmd virtio-users as the VMs: one sends (txonly), the
#    other receives (rxonly); then the other way round;
#  - ovs-ofctl dump-ports: every packet a VM sent is an rx packet of its
#    port, every packet the other VM received a tx packet of its port
#    (net_vhu's own counters, read by OVS), and the receiver got > 0;
#  - deleting the ports detaches them (their sockets go) and OVS exits
#    cleanly.
# Without openvswitch-switch-dpdk the test is skipped (exit 77) and says so.
#
# Usage: pmd-ovs.sh PLUGIN
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/pmd-lib.sh"

OVS_VSWITCHD_DPDK=${OVS_VSWITCHD_DPDK:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}
pmd_init pmd-ovs "${1:-}"
[ -x "$OVS_VSWITCHD_DPDK" ] ||
	vt_skip "$OVS_VSWITCHD_DPDK not found: Debian package openvswitch-switch-dpdk is not installed (usertools/vhu-setup installs it)"
for t in ovsdb-server ovsdb-tool ovs-vsctl ovs-ofctl ovs-appctl; do
	command -v "$t" >/dev/null || vt_skip "$t not found (package openvswitch-switch / openvswitch-common)"
done
SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
[ -f "$SCHEMA" ] || vt_skip "$SCHEMA not found"

export OVS_RUNDIR=$VT_DIR/ovs/run OVS_DBDIR=$VT_DIR/ovs/db
export OVS_LOGDIR=$VT_DIR/ovs/log OVS_SYSCONFDIR=$VT_DIR/ovs/etc
mkdir -p "$OVS_RUNDIR" "$OVS_DBDIR" "$OVS_LOGDIR" "$OVS_SYSCONFDIR"
DB_SOCK=$OVS_RUNDIR/db.sock
VSCTL=(ovs-vsctl --db="unix:$DB_SOCK" --timeout=30)

ovsdb-tool create "$OVS_DBDIR/conf.db" "$SCHEMA" || vt_fail "ovsdb-tool create"
vt_start ovsdb ovsdb-server "$OVS_DBDIR/conf.db" --remote="punix:$DB_SOCK" \
	--pidfile="$OVS_RUNDIR/ovsdb-server.pid" \
	--unixctl="$OVS_RUNDIR/ovsdb-server.ctl" -vconsole:warn
vt_wait_file "$DB_SOCK" 20 || vt_fail "ovsdb-server did not create $DB_SOCK"
"${VSCTL[@]}" --no-wait init || vt_fail "ovs-vsctl init"

# The sanitized plugin needs the ASan runtime preloaded into OVS too;
# OVS's own allocations are not ours to judge (no leak check there).
OVS_ENV=()
if [ ${#PMD_ENV[@]} -gt 0 ]; then
	OVS_ENV=("${PMD_ENV[0]}" "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0"
		"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
fi
# Recorded here (not in a subshell) so the test's cleanup removes it.
vt_file_prefix ovs >/dev/null
OVS_PREFIX=${VT_PREFIX}-ovs
# OVS adds --in-memory itself unless --legacy-mem is given.
case "$(vt_eal_mem)" in
*--no-huge*) OVS_MEM="--no-huge --legacy-mem -m 512" ;;
*) OVS_MEM="-m 512 --single-file-segments" ;;
esac
"${VSCTL[@]}" --no-wait set Open_vSwitch . other_config:dpdk-init=true \
	"other_config:dpdk-extra=\"-d $PMD_PLUGIN $OVS_MEM --no-pci --file-prefix $OVS_PREFIX --log-level pmd.net.vhu:info\"" \
	other_config:dpdk-lcore-mask=0x1 other_config:pmd-cpu-mask=0x2 \
	other_config:per-port-memory=true ||
	vt_fail "ovs-vsctl set other_config"
vt_start vswitchd env "${OVS_ENV[@]}" "$OVS_VSWITCHD_DPDK" "unix:$DB_SOCK" \
	--pidfile="$OVS_RUNDIR/ovs-vswitchd.pid" \
	--unixctl="$OVS_RUNDIR/ovs-vswitchd.ctl" -vconsole:info -vconsole:dpdk:info
for ((i = 0; i < 300; i++)); do
	[ "$("${VSCTL[@]}" get Open_vSwitch . dpdk_initialized 2>/dev/null)" = true ] && break
	vt_alive vswitchd || vt_fail "ovs-vswitchd-dpdk exited during DPDK initialisation"
	sleep 0.1
done
[ "$i" -lt 300 ] || vt_fail "OVS did not initialise DPDK in 30 s"
grep -q "undefined symbol" "$VT_DIR/vswitchd.log" &&
	vt_fail "OVS could not load the plugin: $(grep -m1 'undefined symbol' "$VT_DIR/vswitchd.log")"
vt_log "OVS: DPDK initialised with the net_vhu plugin"

"${VSCTL[@]}" add-br br0 -- set bridge br0 datapath_type=netdev ||
	vt_fail "add-br br0"
for n in 0 1; do
	"${VSCTL[@]}" add-port br0 "vhu$n" -- set Interface "vhu$n" type=dpdk \
		"options:dpdk-devargs=net_vhu$n,iface=$VT_DIR/vhu$n.sock" \
		"ofport_request=$((n + 1))" || vt_fail "add-port vhu$n"
	vt_wait_file "$VT_DIR/vhu$n.sock" 20 || vt_fail "net_vhu$n socket did not appear"
	[ "$("${VSCTL[@]}" get Interface "vhu$n" ofport)" = $((n + 1)) ] ||
		vt_fail "vhu$n: no OpenFlow port: $("${VSCTL[@]}" get Interface "vhu$n" error)"
done
vt_log "vhu0 status: $("${VSCTL[@]}" get Interface vhu0 status)"
"${VSCTL[@]}" get Interface vhu0 status | grep -q 'driver_name=net_vhu' ||
	vt_fail "vhu0 is not driven by net_vhu"
ovs-ofctl del-flows br0 || vt_fail "del-flows"
ovs-ofctl add-flow br0 in_port=1,actions=output:2 || vt_fail "add-flow 1->2"
ovs-ofctl add-flow br0 in_port=2,actions=output:1 || vt_fail "add-flow 2->1"

# The two VMs.
pmd_fe vm0 0 "path=$VT_DIR/vhu0.sock" --txpkts=64
pmd_fe vm1 0 "path=$VT_DIR/vhu1.sock" --txpkts=64
pmd_prompt vm0
pmd_prompt vm1
for n in 0 1; do
	for ((i = 0; i < 200; i++)); do
		[ "$("${VSCTL[@]}" get Interface "vhu$n" link_state)" = up ] && break
		sleep 0.1
	done
	[ "$i" -lt 200 ] || vt_fail "vhu$n: OVS sees the link down with its VM connected"
done

# port_stat OFPORT rx|tx FIELD: from ovs-ofctl dump-ports.
port_stat() {
	ovs-ofctl dump-ports br0 "$1" | awk -v dir="$2" -v f="$3" '
		{ for (i = 1; i <= NF; i++) {
			if ($i == dir) on = 1
			else if ($i == "rx" || $i == "tx") on = 0
			if (on && index($i, f "=") == 1) { v = substr($i, length(f) + 2); sub(/,$/, "", v); print v; exit } } }'
}

# through TX_VM RX_VM TX_PORT RX_PORT
through() {
	local txvm=$1 rxvm=$2 txp=$3 rxp=$4 rx0 tx0 rx1 tx1
	vt_log "--- $txvm -> OVS -> $rxvm"
	pmd_do "$txvm" "set fwd txonly" "Set txonly"
	pmd_do "$rxvm" "set fwd rxonly" "Set rxonly"
	rx0=$(port_stat "$txp" rx pkts)
	tx0=$(port_stat "$rxp" tx pkts)
	pmd_round "$txvm" "$rxvm" 3
	# OVS may take a moment to finish what its PMD thread holds.
	sleep 1
	rx1=$(port_stat "$txp" rx pkts)
	tx1=$(port_stat "$rxp" tx pkts)
	vt_log "OVS port $txp: $(ovs-ofctl dump-ports br0 "$txp" | tr -s ' \n' ' ')"
	vt_log "OVS port $rxp: $(ovs-ofctl dump-ports br0 "$rxp" | tr -s ' \n' ' ')"
	vt_assert_ge "$PMD_SENT" "$PMD_MIN_SENT" "$txvm sent"
	vt_assert_ge "$PMD_GOT" 1 "$rxvm received"
	vt_assert_eq $((rx1 - rx0)) "$PMD_SENT" "OVS port $txp rx pkts = $txvm sent"
	vt_assert_eq $((tx1 - tx0)) "$PMD_GOT" "OVS port $rxp tx pkts = $rxvm received"
}
through vm0 vm1 1 2
through vm1 vm0 2 1

vt_log "--- ports deleted: net_vhu detached in OVS"
pmd_quit vm0
pmd_quit vm1
for n in 0 1; do
	"${VSCTL[@]}" del-port br0 "vhu$n" || vt_fail "del-port vhu$n"
done
for ((i = 0; i < 100; i++)); do
	[ -e "$VT_DIR/vhu0.sock" ] || [ -e "$VT_DIR/vhu1.sock" ] || break
	sleep 0.1
done
[ "$i" -lt 100 ] || vt_fail "a deleted port's socket is still there"
ovs-appctl -t "$OVS_RUNDIR/ovs-vswitchd.ctl" exit || vt_fail "ovs-appctl exit"
vt_wait vswitchd 30 || vt_fail "ovs-vswitchd-dpdk exited with $?"
pmd_check_log vswitchd
vt_stop ovsdb TERM 10
vt_log "PASS"
exit 0
