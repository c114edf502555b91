#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Control plane against a real front-end: stock dpdk-testpmd with
# net_virtio_user negotiates with vhu-testbe (a small program on lib/vhu);
# every ring reaches started+enabled; the front-end quits and comes back,
# twice, without restarting the back-end.
#
# Usage: ctrl-virtio-user.sh VHU_TESTBE server|client
#   server: vhu listens, virtio-user connects;
#   client: virtio-user listens (server=1), vhu connects and reconnects.
set -u
TESTBE=$1
MODE=$2
. "${VHU_TEST_SUPPORT:-$(dirname "$0")/../support}/vhu-test-lib.sh"

vt_init "ctrl-vu-$MODE"
command -v dpdk-testpmd >/dev/null || vt_skip "dpdk-testpmd is not installed"
SOCK=$VT_DIR/vhu.sock

be_args=(--path "$SOCK" --mode rxonly)
fe_dev="net_virtio_user0,path=$SOCK,queues=2"
if [ "$MODE" = client ]; then
	be_args+=(--client)
	fe_dev+=",server=1"
fi
be_args+=(--queues 2)

vt_file_prefix be >/dev/null
# shellcheck disable=SC2046
vt_start be "$TESTBE" $(vt_eal_args be 1) -- "${be_args[@]}"
vt_wait_log be '^READY' 20 || vt_fail "vhu-testbe did not start"

for round in 1 2 3; do
	vt_log "--- round $round: front-end connects"
	vt_testpmd "fe$round" 0 --vdev "$fe_dev" -- --forward-mode=txonly \
		--auto-start --rxq=2 --txq=2
	vt_wait_log be "^EVENT ready" 30 || vt_fail "device never became ready"
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^EVENT ready' "$VT_DIR/be.log")" -ge "$round" ] && break
		sleep 0.2
	done
	vt_assert_eq "$(grep -c '^EVENT ready' "$VT_DIR/be.log")" "$round" "ready events"
	# Every ring started and enabled (testpmd enables both queue pairs).
	for ring in 0 1 2 3; do
		for ((i = 0; i < 100; i++)); do
			last=$(grep "^EVENT ring $ring " "$VT_DIR/be.log" | tail -n 1)
			case "$last" in *"started=1 enabled=1"*) break ;; esac
			sleep 0.1
		done
		case "$last" in
		*"started=1 enabled=1 broken=0"*) vt_log "ok: ring $ring: $last" ;;
		*) vt_fail "ring $ring not started+enabled: '$last'" ;;
		esac
	done
	vt_stop "fe$round" INT 20
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^EVENT destroyed' "$VT_DIR/be.log")" -ge "$round" ] && break
		sleep 0.1
	done
	vt_assert_eq "$(grep -c '^EVENT destroyed' "$VT_DIR/be.log")" "$round" \
		"destroyed events"
	vt_alive be || vt_fail "vhu-testbe died"
done

vt_stop be INT 20 || vt_fail "vhu-testbe exited with an error"
rx=$(sed -n 's/^rx_packets=//p' "$VT_DIR/be.log")
bad=$(sed -n 's/^rx_bad=//p' "$VT_DIR/be.log")
vt_assert_ge "$rx" 1 "packets received over three sessions"
vt_assert_eq "$bad" 0 "bad frames"
[ -e "$SOCK" ] && [ "$MODE" = server ] && vt_fail "socket file left behind"
exit 0
