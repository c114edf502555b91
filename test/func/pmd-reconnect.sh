#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The front-end goes away and comes back; net_vhu (in one testpmd that is
# never restarted) takes it back and traffic resumes both ways:
#  server: net_vhu listens (client=0), virtio-user connects, quits, a new
#          virtio-user connects;
#  client: net_vhu connects (client=1) to virtio-user listening
#          (server=1), which quits (its socket goes) and a new one listens
#          on the same path: net_vhu reconnects by itself (backoff <= 2 s).
# Each time: link down while the front-end is gone, up when it is back,
# counted rounds both ways; xstats count the connections.
#
# Usage: pmd-reconnect.sh PLUGIN server|client
set -u
SUPPORT=${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}
. "$SUPPORT/vhu-test-lib.sh"
. "$(dirname "$0")/pmd-lib.sh"

MODE=${2:-}
case "$MODE" in
server) CLIENT=0; FE_OPTS="" ;;
client) CLIENT=1; FE_OPTS=",server=1" ;;
*) echo "usage: $0 PLUGIN server|client" >&2; exit 2 ;;
esac
pmd_init "pmd-reconnect-$MODE" "${1:-}"
SOCK=$VT_DIR/vhu.sock

# both_ways FE WHAT: a counted round each way with front-end FE.
both_ways() {
	local fe=$1
	pmd_do be "set fwd rxonly" "Set rxonly"
	pmd_do "$fe" "set fwd txonly" "Set txonly"
	pmd_assert_round "$fe" be 2 "$2: guest TX"
	pmd_do be "set fwd txonly" "Set txonly"
	pmd_do "$fe" "set fwd rxonly" "Set rxonly"
	pmd_assert_round be "$fe" 2 "$2: guest RX"
}

# front_end NAME: a new virtio-user testpmd, up and connected.
front_end() {
	pmd_fe "$1" 0 "path=$SOCK$FE_OPTS" --txpkts=64
	pmd_prompt "$1"
	pmd_wait_link be 0 up 20 || vt_fail "$1: net_vhu link not up"
	pmd_assert_ring_format be
}

if [ "$CLIENT" = 1 ]; then
	pmd_fe fe1 0 "path=$SOCK$FE_OPTS" --txpkts=64
	vt_wait_file "$SOCK" 20 || vt_fail "virtio-user did not listen"
	pmd_be be 1 "iface=$SOCK,client=1"
	pmd_prompt fe1
	pmd_wait_link be 0 up 20 || vt_fail "fe1: net_vhu link not up"
else
	pmd_be be 1 "iface=$SOCK"
	vt_wait_file "$SOCK" 20 || vt_fail "net_vhu did not listen"
	front_end fe1
fi
both_ways fe1 "first front-end"

for n in 2 3; do
	pmd_quit "fe$((n - 1))"
	pmd_wait_link be 0 down 20 || vt_fail "link still up after fe$((n - 1)) quit"
	if [ "$CLIENT" = 1 ]; then
		# Let net_vhu's reconnection attempts meet an absent socket.
		sleep 1
	fi
	front_end "fe$n"
	both_ways "fe$n" "front-end $n"
done

pmd_xstats be 0 tx_q0_ring_broken

m=$PMD_MARK
vt_assert_eq "$(pmd_value be "$m" vhost_user_connections)" 3 "xstat vhost_user_connections"
vt_assert_eq "$(pmd_value be "$m" vhost_user_disconnections)" 2 "xstat vhost_user_disconnections"
vt_assert_eq "$(pmd_value be "$m" rx_q0_ring_broken)" 0 "xstat rx_q0_ring_broken"
pmd_quit fe3
pmd_quit be
vt_log "PASS"
exit 0
