#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Two queue pairs: net_vhu queues=2 (testpmd --rxq=2 --txq=2) against
# virtio-user queues=2. Both directions: every packet sent is received,
# and net_vhu's per-queue xstats show both queues carrying traffic and
# adding up to the totals.
#
# Usage: pmd-mq.sh PLUGIN
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/pmd-lib.sh"

pmd_init pmd-mq "${1:-}"
SOCK=$VT_DIR/vhu.sock
LAST=tx_q1_ring_broken

m=0
pmd_be be 1 "iface=$SOCK,queues=2" --rxq=2 --txq=2
vt_wait_file "$SOCK" 20 || vt_fail "net_vhu did not listen"
pmd_fe fe 0 "path=$SOCK,queues=2" --rxq=2 --txq=2 --txpkts=64
pmd_prompt fe
pmd_wait_rings be "$m" 2 30
pmd_wait_link be 0 up 20 || vt_fail "net_vhu link not up"
pmd_assert_ring_format be

vt_log "--- guest TX on both queues -> net_vhu RX"
pmd_do be "set fwd rxonly" "Set rxonly"
pmd_do fe "set fwd txonly" "Set txonly"
pmd_assert_round fe be 3 "guest TX"
got=$PMD_GOT
pmd_xstats be 0 $LAST
m=$PMD_MARK
q0=$(pmd_value be "$m" rx_q0_packets)
q1=$(pmd_value be "$m" rx_q1_packets)
vt_assert_ge "$q0" 250 "xstat rx_q0_packets"
vt_assert_ge "$q1" 250 "xstat rx_q1_packets"
vt_assert_eq $((q0 + q1)) "$got" "rx_q0 + rx_q1 packets"

vt_log "--- net_vhu TX on both queues -> guest RX"
pmd_do be "set fwd txonly" "Set txonly"
pmd_do fe "set fwd rxonly" "Set rxonly"
pmd_assert_round be fe 3 "guest RX"
sent=$PMD_SENT
pmd_xstats be 0 $LAST
m=$PMD_MARK
q0=$(pmd_value be "$m" tx_q0_packets)
q1=$(pmd_value be "$m" tx_q1_packets)
vt_assert_ge "$q0" 250 "xstat tx_q0_packets"
vt_assert_ge "$q1" 250 "xstat tx_q1_packets"
vt_assert_eq $((q0 + q1)) "$sent" "tx_q0 + tx_q1 packets"
pmd_do fe "show port stats 0" "NIC statistics for port 0"
m=$PMD_MARK
vt_assert_eq "$(pmd_value fe "$m" RX-packets)" "$sent" "virtio-user RX-packets"

pmd_quit fe
pmd_quit be
vt_log "PASS"
exit 0
