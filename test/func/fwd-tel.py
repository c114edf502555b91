#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""One DPDK telemetry query for the func tests, in one short process.

    fwd-tel.py FILE_PREFIX COMMAND [KEY...] [--wait VALUE [--timeout S]]
    fwd-tel.py FILE_PREFIX COMMAND KEY... --rate SECONDS

Prints the reply to COMMAND (JSON), or the value under KEY... in it (a
number indexes a list). With --wait, asks again every 0.2 s until that
value is VALUE (exit 0) or the timeout passes (exit 1, last value on
stderr). With --rate, reads the (numeric) value twice, SECONDS apart, and
prints its growth per second. The socket protocol is dpdk-telemetry.py's (SOCK_SEQPACKET,
/var/run/dpdk/PREFIX/dpdk_telemetry.v2); this only avoids its readline
start-up cost in loops.
"""
import json
import os
import sys
import time

# The query itself is the test harness's (test/harness/vhu_harness.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'harness'))
from vhu_harness import telemetry_query  # noqa: E402


def lookup(reply, cmd, keys):
    v = reply.get(cmd.split(',')[0])
    for k in keys:
        if v is None:
            return None
        v = v[int(k)] if isinstance(v, list) else v.get(k)
    return v


def show(v):
    return json.dumps(v) if isinstance(v, (dict, list)) or v is None else str(v)


def main(argv):
    want, timeout, rate, args = None, 10.0, None, []
    i = 0
    while i < len(argv):
        if argv[i] == '--wait':
            want, i = argv[i + 1], i + 2
        elif argv[i] == '--rate':
            rate, i = float(argv[i + 1]), i + 2
        elif argv[i] == '--timeout':
            timeout, i = float(argv[i + 1]), i + 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    prefix, cmd, keys = args[0], args[1], args[2:]
    if rate is not None:
        samples = []
        for k in range(2):
            t0 = time.monotonic()
            v = float(lookup(telemetry_query(prefix, cmd), cmd, keys))
            samples.append(((t0 + time.monotonic()) / 2, v))
            if k == 0:
                time.sleep(rate)
        print(int((samples[1][1] - samples[0][1]) /
                  (samples[1][0] - samples[0][0])))
        return 0
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = show(lookup(telemetry_query(prefix, cmd), cmd, keys))
        except (OSError, ValueError, IndexError, KeyError) as e:
            last = 'error: %s' % e
        if want is None:
            if last.startswith('error: '):
                print(last, file=sys.stderr)
                return 1
            print(last)
            return 0
        if last == want:
            return 0
        if time.monotonic() > deadline:
            print(last, file=sys.stderr)
            return 1
        time.sleep(0.2)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
