#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vhu-fwd's forwarding modes with stock testpmd virtio-user "VMs", every
# count exact:
#  io:      port 0 (--vhost, server) <-> port 1 (--vhost-client, to a
#           virtio-user server=1), with an explicit --lcore-map: A sends
#           256 frames, B receives 256; B sends 128, A receives 128; the
#           final counters say the same; telemetry answers
#           dpdk-telemetry.py itself.
#  macswap: one port; A sends 64 frames to ..:99 and receives 64 with
#           source ..:99 and destination its own MAC (testpmd verbose).
#  rxonly:  one port; A sends 256; vhu-fwd counts 256 received, sends 0.
#  txonly:  (1) a vhost port to an rxonly VM: the rate (--txonly-rate)
#           holds; --txonly-count frames are made (sent or counted as
#           drop-full) and no more; the VM receives what was sent (within
#           the virtio PMD's own losses, see below); (2) to the test
#           front-end vhu-fe: exactly N frames, every one received;
#           (3) to a net_pcap port: the file holds exactly the frames
#           counted, the sizes of --txonly-size in turn, the flows asked
#           for, valid IPv4 checksums, the right MACs.
#
# Usage: fwd-mode.sh VHU_FWD MODE [VHU_FE]
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/fwd-lib.sh"

MODE=${2:-}
VHU_FE=${3:-}
fwd_init "fwd-$MODE" "${1:-}"
MA=02:00:00:00:00:0a MB=02:00:00:00:00:0b MX=02:00:00:00:00:99

case $MODE in
io)
	fwd_start fwd --mode io --lcore-map 0:0@1,1:0@1 \
		--vhost "$VT_DIR/a.sock" --vhost-client "$VT_DIR/b.sock"
	fwd_vm A "$VT_DIR/a.sock" $MA
	fwd_vm B "$VT_DIR/b.sock" $MB server=1
	fwd_link_wait fwd 0 up
	fwd_link_wait fwd 1 up
	tel=$(printf '/vhu/lcores\n/vhu/info\n' | timeout 20 dpdk-telemetry.py -f "$VT_PREFIX-fwd")
	vt_log "dpdk-telemetry.py: $tel"
	grep -q '"/vhu/lcores": {"lcore1": \["0:0", "1:0"\]}' <<<"$tel" ||
		vt_fail "dpdk-telemetry.py: /vhu/lcores is not lcore1: 0:0, 1:0"
	grep -q '"mode": "io"' <<<"$tel" || vt_fail "dpdk-telemetry.py: /vhu/info has no mode io"
	fwd_vm_send A $MX 8
	fwd_vm_send B $MX 4
	sleep 1
	vt_assert_eq "$(fwd_vm_count A TX-packets)" 256 "A sent"
	vt_assert_eq "$(fwd_vm_count B RX-packets)" 256 "B received"
	vt_assert_eq "$(fwd_vm_count B TX-packets)" 128 "B sent"
	vt_assert_eq "$(fwd_vm_count A RX-packets)" 128 "A received"
	fwd_quit A
	fwd_quit B
	fwd_stop fwd
	vt_assert_eq "$(fwd_final fwd 0 rx-packets)" 256 "final: port 0 rx-packets"
	vt_assert_eq "$(fwd_final fwd 1 tx-packets)" 256 "final: port 1 tx-packets"
	vt_assert_eq "$(fwd_final fwd 1 rx-packets)" 128 "final: port 1 rx-packets"
	vt_assert_eq "$(fwd_final fwd 0 tx-packets)" 128 "final: port 0 tx-packets"
	vt_assert_eq "$(fwd_final fwd 0 tx-bytes)" $((128 * 64)) "final: port 0 tx-bytes"
	;;
macswap)
	fwd_start fwd --mode macswap --vhost "$VT_DIR/a.sock"
	fwd_vm A "$VT_DIR/a.sock" $MA
	fwd_link_wait fwd 0 up
	fwd_cmd A "set verbose 1"
	fwd_vm_send A $MX 2
	sleep 1
	vt_assert_eq "$(fwd_vm_count A TX-packets)" 64 "A sent"
	vt_assert_eq "$(fwd_vm_count A RX-packets)" 64 "A received"
	swapped=$(grep -ci "src=$MX - dst=$MA" "$VT_DIR/A.log")
	vt_assert_eq "$swapped" 64 "frames received with the MACs swapped"
	fwd_quit A
	fwd_stop fwd
	vt_assert_eq "$(fwd_final fwd 0 tx-packets)" 64 "final: port 0 tx-packets"
	;;
rxonly)
	fwd_start fwd --mode rxonly --vhost "$VT_DIR/a.sock"
	fwd_vm A "$VT_DIR/a.sock" $MA
	fwd_link_wait fwd 0 up
	fwd_vm_send A $MX 8
	fwd_tel_wait fwd 256 10 /vhu/port,0 rx_packets || vt_fail "vhu-fwd did not count 256"
	vt_assert_eq "$(fwd_port fwd 0 rx_bytes)" $((256 * 64)) "rx_bytes"
	vt_assert_eq "$(fwd_vm_count A RX-packets)" 0 "A received"
	fwd_quit A
	fwd_stop fwd
	vt_assert_eq "$(fwd_final fwd 0 rx-packets)" 256 "final: port 0 rx-packets"
	vt_assert_eq "$(fwd_final fwd 0 tx-packets)" 0 "final: port 0 tx-packets"
	;;
txonly)
	RATE=400 COUNT=4000 N=3000
	PCAP=$VT_DIR/tx.pcap
	# (1) A virtio-user VM. It listens (server=1) and vhu-fwd connects
	# (--vhost-client): vhu-fwd sends from the moment the link is up, and
	# a virtio-user client would discard, uncounted, what arrives before
	# its port start completes (its RX flush). What the VM's ring cannot
	# hold before the VM receives is drop-full.
	fwd_vm_server A "$VT_DIR/a.sock" $MA
	fwd_start fwd --mode txonly --txonly-rate $RATE --txonly-count $COUNT \
		--txonly-size 128 --txonly-flows 4 --txonly-dst $MA \
		--vhost-client "$VT_DIR/a.sock"
	fwd_vm_ready A
	fwd_link_wait fwd 0 up
	rate=$(fwd_tel fwd /vhu/port,0 tx_packets --rate 2)
	vt_log "measured rate: $rate packets/s (asked $RATE)"
	[ "$rate" -ge $((RATE * 8 / 10)) ] && [ "$rate" -le $((RATE * 12 / 10)) ] ||
		vt_fail "rate $rate is not within 20% of $RATE"
	for ((i = 0; i < 100; i++)); do
		sent=$(fwd_port fwd 0 tx_packets); dropped=$(fwd_port fwd 0 drop_full)
		[ $((sent + dropped)) -ge $COUNT ] && break
		sleep 0.2
	done
	vt_assert_eq $((sent + dropped)) $COUNT "frames made (--txonly-count)"
	vt_log "dropped before the VM received: $dropped"
	sleep 1
	vt_assert_eq "$(fwd_port fwd 0 tx_packets)" "$sent" "nothing sent after the count"
	# DPDK 22.11's virtio PMD in testpmd loses a few frames of such a
	# trickle (one frame per burst, 400/s): 3 to 5 of 3500 were measured
	# with DPDK's own net_vhost as the back-end too, while vhu-fe (below)
	# receives every one. So: at most what was sent, at least 99% of it.
	got=$(fwd_vm_count A RX-packets)
	vt_log "A received $got of $sent"
	[ "$got" -le "$sent" ] && [ "$got" -ge $((sent * 99 / 100)) ] ||
		vt_fail "A received $got frames of the $sent sent"
	vt_assert_eq "$(fwd_vm_count A RX-bytes)" $((got * 128)) "A RX-bytes"
	fwd_quit A
	fwd_stop fwd

	vt_log "--- (2) exactly $N frames to the test front-end, every one received"
	fwd_start fe --mode txonly --txonly-rate 2000 --txonly-count $N \
		--txonly-size 128 --vhost "$VT_DIR/b.sock"
	timeout 60 "$VHU_FE" --path "$VT_DIR/b.sock" --queue-size 1024 \
		--rx $N --timeout 30 >"$VT_DIR/vhu-fe.log" 2>&1 ||
		vt_fail "vhu-fe did not receive $N frames"
	vt_assert_eq "$(sed -n 's/^rx_bytes=//p' "$VT_DIR/vhu-fe.log")" $((N * 128)) "vhu-fe rx_bytes"
	fwd_stop fe
	vt_assert_eq "$(fwd_final fe 0 tx-packets)" $N "final: tx-packets"
	vt_assert_eq "$(fwd_final fe 0 drop-full)" 0 "final: drop-full"

	vt_log "--- (3) txonly into a pcap file"
	N=999
	vt_file_prefix pcap >/dev/null
	# shellcheck disable=SC2046
	vt_start pcap "$FWD_BIN" $(vt_eal_args pcap 1) --vdev "net_pcap0,tx_pcap=$PCAP" -- \
		--mode txonly --txonly-rate 2000 --txonly-count $N \
		--txonly-size 64,128,1500 --txonly-flows 4 --txonly-dst $MA \
		--stats-period 0
	vt_wait_log pcap '^vhu-fwd: forwarding' 30 || vt_fail "vhu-fwd (pcap) did not start"
	fwd_tel_wait pcap $N 20 /vhu/port,0 tx_packets || vt_fail "vhu-fwd did not send $N"
	fwd_stop pcap
	vt_assert_eq "$(fwd_final pcap 0 tx-packets)" $N "frames sent to the pcap port"
	src=$(awk '/^  port 0: net_pcap0/ { sub(/,$/, "", $5); print $5 }' "$VT_DIR/pcap.log")
	python3 - "$PCAP" "$N" "$MA" "$src" <<'PY' || vt_fail "pcap check failed"
import socket, struct, sys
path, n, dst, src = sys.argv[1], int(sys.argv[2]), sys.argv[3].lower(), sys.argv[4].lower()
data = open(path, "rb").read()
off, frames = 24, []
while off < len(data):
    _, _, caplen, _ = struct.unpack_from("<IIII", data, off)
    frames.append(data[off + 16:off + 16 + caplen])
    off += 16 + caplen
mac = lambda b: ":".join("%02x" % x for x in b)
def csum(h):
    s = sum(struct.unpack("!10H", h))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s
assert len(frames) == n, "%d frames in the file, %d counted" % (len(frames), n)
flows = set()
for i, f in enumerate(frames):
    assert len(f) == (64, 128, 1500)[i % 3], "frame %d: %d bytes" % (i, len(f))
    assert mac(f[0:6]) == dst and mac(f[6:12]) == src, "frame %d: MACs %s %s" % (i, mac(f[0:6]), mac(f[6:12]))
    assert f[12:14] == b"\x08\x00" and f[14] == 0x45 and f[23] == 17
    assert csum(f[14:34]) == 0xffff, "frame %d: bad IPv4 checksum" % i
    assert struct.unpack("!H", f[16:18])[0] == len(f) - 14
    assert struct.unpack("!H", f[38:40])[0] == len(f) - 34
    flows.add((socket.inet_ntoa(f[26:30]), struct.unpack("!H", f[34:36])[0]))
assert flows == {("198.18.0.%d" % k, 1024 + k) for k in range(4)}, flows
print("pcap: %d frames, sizes in turn, %d flows, checksums valid" % (len(frames), len(flows)))
PY
	;;
*)
	vt_fail "unknown mode '$MODE'"
	;;
esac
vt_log PASS
exit 0
