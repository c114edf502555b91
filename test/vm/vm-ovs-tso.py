#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vm suite: guest TCP through Open vSwitch with userspace TSO.
Two QEMU guests, each on a net_vhu port that OVS-DPDK (Debian's
openvswitch-switch-dpdk 3.1, the same DPDK 22.11) drives as a plain
type=dpdk port (options:dpdk-devargs=net_vhu0,iface=...,tso=1,
legacy-ol-flags=1) on a netdev bridge with the NORMAL action, and
other_config:userspace-tso-enable=true:

  - OVS turns TSO on for both ports (it does not log "Tx TSO offload is
    not supported"): net_vhu announces what OVS 3.1 requires (TX TCP_TSO,
    TCP/UDP/IPv4 checksums);
  - each guest's TCP hands its device 64 KiB segments with partial
    checksums (CSUM, HOST_TSO4/6 negotiated); net_vhu gives them to OVS as
    TSO mbufs (TX flags: OVS 3.1 knows a TSO packet by
    RTE_MBUF_F_TX_TCP_SEG and ignores RX_LRO, hence legacy-ol-flags=1);
    OVS forwards them whole and the other guest, which negotiated
    GUEST_CSUM and GUEST_TSO4/6, receives them whole (mean frame > 1514);
  - 8 MiB by TCP each way arrives intact (MD5), with no packet dropped by
    OVS for its offloads (coverage netdev_send_prepare_drops, "Too big
    size" / "No TSO support" in its log) and no TCP checksum error in
    either guest.

    vm-ovs-tso.py net_vhu|net_vhost PLUGIN
net_vhost, for comparison, as OVS can use it: it announces no TX TSO, so
OVS turns TSO off on its ports (checked) and the only working set-up is
tso=0, where the guests cut their segments themselves (frames <= 1514).
Skipped (77) without openvswitch-switch-dpdk.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness'))
from vhu_harness import Run, Fail, check, check_eq, hugepages_free, log, wait_for  # noqa: E402
import vhu_vm  # noqa: E402

VSWITCHD = os.environ.get('OVS_VSWITCHD_DPDK',
                          '/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk')
SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema'
SIZE = 8 << 20
DRIVER, plugin = sys.argv[1:3]
# net_vhost (from DPDK's plugin directory) announces no TX TSO, so OVS
# turns TSO off on its ports and would drop every TSO packet for them:
# the only set-up that works is tso=0, the guests segmenting themselves.
VHU = DRIVER == 'net_vhu'
DEVARGS = 'tso=1,legacy-ol-flags=1' if VHU else 'tso=0'

with Run('vm-ovs-tso') as t:
    t.need_vm()
    t.need('ovsdb-server', 'ovsdb-tool', 'ovs-vsctl', 'ovs-appctl')
    if not os.access(VSWITCHD, os.X_OK) or not os.path.isfile(SCHEMA):
        t.skip(f'{VSWITCHD} not found: Debian package openvswitch-switch-dpdk '
               '(usertools/vhu-setup installs it)')
    pmd = t.plugin(plugin)
    dirs = {k: t.path(f'ovs/{k}') for k in ('run', 'db', 'log', 'etc')}
    for d in dirs.values():
        os.makedirs(d)
    env = {'OVS_RUNDIR': dirs['run'], 'OVS_DBDIR': dirs['db'],
           'OVS_LOGDIR': dirs['log'], 'OVS_SYSCONFDIR': dirs['etc']}
    os.environ.update(env)
    db_sock = os.path.join(dirs['run'], 'db.sock')
    ctl = os.path.join(dirs['run'], 'ovs-vswitchd.ctl')

    def vsctl(*args):
        out = subprocess.run(['ovs-vsctl', f'--db=unix:{db_sock}', '--timeout=30', *args],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise Fail(f'ovs-vsctl {" ".join(args)}: {out.stderr.strip()}')
        return out.stdout.strip()

    def appctl(*args):
        return subprocess.run(['ovs-appctl', '-t', ctl, *args], capture_output=True,
                              text=True).stdout

    db = os.path.join(dirs['db'], 'conf.db')
    subprocess.run(['ovsdb-tool', 'create', db, SCHEMA], check=True)
    t.start('ovsdb', 'ovsdb-server', db, f'--remote=punix:{db_sock}',
            f'--pidfile={dirs["run"]}/ovsdb-server.pid',
            f'--unixctl={dirs["run"]}/ovsdb-server.ctl', '-vconsole:warn')
    if not wait_for(lambda: os.path.exists(db_sock), 20, 0.1):
        raise Fail('ovsdb-server did not create its socket')
    vsctl('--no-wait', 'init')
    # OVS adds --in-memory itself unless --legacy-mem is given.
    free, size = hugepages_free()
    mem = '-m 512 --single-file-segments' if size == 2048 and free >= 512 and \
        not os.environ.get('VT_NO_HUGE') else '--no-huge --legacy-mem -m 512'
    prefix = t.file_prefix('ovs')
    vsctl('--no-wait', 'set', 'Open_vSwitch', '.', 'other_config:dpdk-init=true',
          f'other_config:dpdk-extra="-d {pmd} {mem} --no-pci --file-prefix {prefix}"',
          'other_config:dpdk-lcore-mask=0x1', 'other_config:pmd-cpu-mask=0x2',
          'other_config:per-port-memory=true', 'other_config:userspace-tso-enable=true')
    # A sanitized plugin needs the ASan runtime in OVS too; OVS's own
    # allocations are not ours to judge.
    san = []
    if t.plugin_env:
        san = ['env', f'LD_PRELOAD={t.plugin_env["LD_PRELOAD"]}',
               'ASAN_OPTIONS=detect_leaks=0:abort_on_error=0',
               'UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1']
    sw = t.start('vswitchd', *san, VSWITCHD, f'unix:{db_sock}',
                 f'--pidfile={dirs["run"]}/ovs-vswitchd.pid', f'--unixctl={ctl}',
                 '-vconsole:info')
    if not wait_for(lambda: vsctl('get', 'Open_vSwitch', '.', 'dpdk_initialized') == 'true',
                    60, 0.2):
        raise Fail('OVS did not initialise DPDK')
    check('Userspace TCP Segmentation Offloading support enabled' in sw.text(),
          'OVS: userspace TSO enabled')
    vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev')
    socks = [t.path(f'vhu{n}.sock') for n in (0, 1)]
    for n, s in enumerate(socks):
        vsctl('add-port', 'br0', f'vhu{n}', '--', 'set', 'Interface', f'vhu{n}', 'type=dpdk',
              f'options:dpdk-devargs={DRIVER}{n},iface={s},{DEVARGS}')
        if not wait_for(lambda: os.path.exists(s), 20, 0.1):
            raise Fail(f'net_vhu{n}: no socket ({vsctl("get", "Interface", f"vhu{n}", "error")})')
    for n in (0, 1):
        status = vsctl('get', 'Interface', f'vhu{n}', 'status')
        log(f'vhu{n} status: {status}')
        check(f'driver_name={DRIVER}' in status, f'vhu{n} is driven by {DRIVER}')
    # OVS 3.1 says so only when it refuses: "Tx TSO offload is not supported".
    refused = sw.text().count('Tx TSO offload is not supported')
    check_eq(refused, 0 if VHU else 2, 'ports OVS refused TSO on')

    vms = [t.qemu(n, nics=[{'sock': s, 'mac': vhu_vm.mac(i + 1)}], ips=[vhu_vm.ip(i + 2)])
           for i, (n, s) in enumerate(zip(('a', 'b'), socks))]
    ga, gb = (vm.guest for vm in vms)
    for g in (ga, gb):
        for bit, name in ((0, 'CSUM'), (1, 'GUEST_CSUM'), (7, 'GUEST_TSO4'),
                          (11, 'HOST_TSO4'), (12, 'HOST_TSO6')):
            want = VHU or bit not in (11, 12)
            check(vhu_vm.guest_has_feature(g, 'eth0', bit) == want,
                  f'{g.vm.name}: {name} {"negotiated" if want else "not offered"}')
    mbps = [vhu_vm.tcp_guest_to_guest(ga, gb, vhu_vm.ip(3, False), SIZE),
            vhu_vm.tcp_guest_to_guest(gb, ga, vhu_vm.ip(2, False), SIZE)]
    rxavg = []
    for g in (ga, gb):
        b, n = g.sh('cat /sys/class/net/eth0/statistics/rx_bytes '
                    '/sys/class/net/eth0/statistics/rx_packets').split()
        rxavg.append(int(b) // max(1, int(n)))
        bad = g.sh("awk '/^Tcp:/ { if (h) print $NF; h = 1 }' /proc/net/snmp").strip()
        check_eq(bad, '0', f'{g.vm.name}: TCP InCsumErrors')
    log(f'mean size of what each guest received: {rxavg} bytes')
    if VHU:
        check(min(rxavg) > 1514, f'the guests received whole TSO packets through OVS: {rxavg}')
    else:
        check(max(rxavg) <= 1514, f'the guests received frames (they segment): {rxavg}')
    cov = appctl('coverage/show')
    drops = re.search(r'^netdev_send_prepare_drops .*total: (\d+)', cov, re.M)
    check_eq(int(drops.group(1)) if drops else 0, 0, 'OVS netdev_send_prepare_drops')
    for bad in ('Too big size', 'No TSO support', 'Packet dropped'):
        check(bad not in sw.text(), f'OVS logged no "{bad}"')
    log(f'{DRIVER}: guest-to-guest TCP through OVS ({DEVARGS}): {mbps[0]:.1f} and '
        f'{mbps[1]:.1f} Mbit/s')
    for vm in vms:
        vm.stop()
    for n in (0, 1):
        vsctl('del-port', 'br0', f'vhu{n}')
    appctl('exit')
    check_eq(sw.wait(30), 0, 'ovs-vswitchd-dpdk exit status')
    t.passed()
