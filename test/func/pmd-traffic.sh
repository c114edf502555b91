#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# net_vhu in stock testpmd (-d plugin) against stock testpmd virtio-user:
#  - link up with an LSC event once the front-end is ready, queue-state
#    events, link down when it quits;
#  - guest TX -> net_vhu RX: virtio-user txonly, net_vhu rxonly; every
#    packet testpmd counted as sent is received; port stats and xstats
#    agree with the count, packets and bytes;
#  - net_vhu TX -> guest RX: net_vhu txonly with two-segment mbufs
#    (64 + 200 bytes), virtio-user rxonly; same checks, and the guest's
#    byte count proves every byte of both segments went;
#  - stats and xstats reset.
#
# Usage: pmd-traffic.sh PLUGIN
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/pmd-lib.sh"

pmd_init pmd-traffic "${1:-}"
SOCK=$VT_DIR/vhu.sock
LAST_XSTAT=tx_q0_ring_broken

pmd_be be 1 "iface=$SOCK" --tx-offloads=0x8000
vt_wait_file "$SOCK" 20 || vt_fail "net_vhu did not create $SOCK"
pmd_link be 0
[ "$PMD_LINK" = down ] || vt_fail "link up before any front-end"

pmd_fe fe 0 "path=$SOCK" --txpkts=64
pmd_prompt fe
pmd_wait_link be 0 up 20 || vt_fail "net_vhu link not up with the front-end ready"
vt_wait_log be 'Port 0: link state change event' 10 || vt_fail "no LSC event"
vt_wait_log be 'Port 0: queue state event' 10 || vt_fail "no queue state event"
pmd_assert_ring_format be

vt_log "--- guest TX -> net_vhu RX"
pmd_do be "set fwd rxonly" "Set rxonly"
pmd_do fe "set fwd txonly" "Set txonly"
pmd_assert_round fe be 3 "guest TX"
got=$PMD_GOT
pmd_do be "show port stats 0" "NIC statistics for port 0"
m=$PMD_MARK
vt_assert_eq "$(pmd_value be "$m" RX-packets)" "$got" "port stats RX-packets"
vt_assert_eq "$(pmd_value be "$m" RX-bytes)" $((got * 64)) "port stats RX-bytes"
vt_assert_eq "$(pmd_value be "$m" RX-errors)" 0 "port stats RX-errors"
pmd_xstats be 0 $LAST_XSTAT
m=$PMD_MARK
vt_assert_eq "$(pmd_value be "$m" rx_q0_packets)" "$got" "xstat rx_q0_packets"
vt_assert_eq "$(pmd_value be "$m" rx_q0_bytes)" $((got * 64)) "xstat rx_q0_bytes"
vt_assert_eq "$(pmd_value be "$m" rx_q0_drop_bad_desc)" 0 "xstat rx_q0_drop_bad_desc"
vt_assert_eq "$(pmd_value be "$m" rx_q0_ring_starts)" 1 "xstat rx_q0_ring_starts"
vt_assert_eq "$(pmd_value be "$m" vhost_user_connections)" 1 "xstat vhost_user_connections"

vt_log "--- net_vhu TX -> guest RX, two-segment mbufs"
pmd_do be "set fwd txonly" "Set txonly"
pmd_cmd be "set txpkts 64,200"
pmd_do fe "set fwd rxonly" "Set rxonly"
pmd_assert_round be fe 3 "guest RX"
sent=$PMD_SENT
pmd_do fe "show port stats 0" "NIC statistics for port 0"
m=$PMD_MARK
vt_assert_eq "$(pmd_value fe "$m" RX-bytes)" $((sent * 264)) "guest RX-bytes (64+200 per packet)"
pmd_xstats be 0 $LAST_XSTAT
m=$PMD_MARK
vt_assert_eq "$(pmd_value be "$m" tx_q0_packets)" "$sent" "xstat tx_q0_packets"
vt_assert_eq "$(pmd_value be "$m" tx_q0_bytes)" $((sent * 264)) "xstat tx_q0_bytes"
vt_assert_eq "$(pmd_value be "$m" tx_q0_drop_too_big)" 0 "xstat tx_q0_drop_too_big"
vt_log "ring full refusals during the run: $(pmd_value be "$m" tx_q0_ring_full)"
pmd_do be "show port stats 0" "NIC statistics for port 0"
m=$PMD_MARK
vt_assert_eq "$(pmd_value be "$m" TX-packets)" "$sent" "port stats TX-packets"
vt_assert_eq "$(pmd_value be "$m" TX-errors)" 0 "port stats TX-errors"

vt_log "--- stats reset"
pmd_do be "clear port stats 0" "NIC statistics for port 0 cleared"
pmd_do be "show port stats 0" "NIC statistics for port 0"
m=$PMD_MARK
vt_assert_eq "$(pmd_value be "$m" RX-packets)" 0 "RX-packets after reset"
vt_assert_eq "$(pmd_value be "$m" TX-packets)" 0 "TX-packets after reset"
pmd_cmd be "clear port xstats 0"
pmd_xstats be 0 $LAST_XSTAT
m=$PMD_MARK
vt_assert_eq "$(pmd_value be "$m" tx_q0_packets)" 0 "xstat tx_q0_packets after reset"
vt_assert_eq "$(pmd_value be "$m" vhost_user_connections)" 0 "xstat vhost_user_connections after reset"

vt_log "--- the front-end quits: link down"
pmd_quit fe
pmd_wait_link be 0 down 20 || vt_fail "net_vhu link still up after the front-end quit"
pmd_quit be
[ -e "$SOCK" ] && vt_fail "the socket file outlived the port"
vt_log "PASS"
exit 0
