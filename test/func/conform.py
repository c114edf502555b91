#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""vhu-conform, the conformance checker, as a user runs it.

    conform.py VHU_CONFORM NET_VHU_PLUGIN

1. Usage errors exit 2; a socket nobody serves is a FAIL line and exit 1.
2. --listen against net_vhu in client mode (testpmd, client=1): the
   checks that make new sessions pass, the back-end reconnecting to it.
3. usertools/vhu-conform-compare: every check against net_vhu and DPDK's
   net_vhost, split and packed rings. net_vhu passes everything; the
   table (net_vhost's deviations included) must be the one
   doc/conformance.md shows, so the doc says what the tool finds; each
   run's JUnit XML agrees with its column.
"""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'test', 'harness'))
from vhu_harness import Run, check, check_eq, log, wait_for  # noqa: E402


def doc_table():
    """The results table of doc/conformance.md (its '|' lines between the
    markers)."""
    text = open(os.path.join(ROOT, 'doc', 'conformance.md')).read()
    m = re.search(r'<!-- vhu-conform-compare: begin -->\n(.*?)<!-- vhu-conform-compare: end -->',
                  text, re.S)
    check(m is not None, 'doc/conformance.md has no results table markers')
    return [ln for ln in m.group(1).splitlines() if ln.startswith('|')]


def usage_errors(run, tool):
    check_eq(subprocess.run([tool]).returncode, 2, 'no --socket: exit code')
    check_eq(subprocess.run([tool, '--socket', 'x', '--checks', 'no-such']).returncode,
             2, 'an unknown check: exit code')
    out = subprocess.run([tool, '--socket', run.path('nobody.sock'), '--checks',
                          'ring-start', '--timeout', '1'], capture_output=True, text=True)
    check_eq(out.returncode, 1, 'nobody on the socket: exit code')
    check(re.search(r'^FAIL ring-start: cannot connect to ', out.stdout, re.M),
          f'nobody on the socket: a FAIL line that says so:\n{out.stdout}')
    check(out.stdout.rstrip().endswith('0 passed, 1 failed, 0 skipped'),
          f'the closing count line:\n{out.stdout}')


def listen_mode(run, tool, plugin):
    """vhu-conform listens, net_vhu connects to it and reconnects."""
    sock = run.path('listen.sock')
    checks = 'ring-start,restart,reconnect,integrity'
    conform = run.start('conform-listen', tool, '--listen', '--socket', sock,
                        '--checks', checks, '--timeout', '20')
    check(wait_for(lambda: os.path.exists(sock), 10), 'vhu-conform listens')
    tp = run.testpmd('tp-client', '--forward-mode=io', '--auto-start', '--no-flush-rx',
                     eal=['-d', run.plugin(plugin), '--vdev',
                          f'net_vhu0,iface={sock},client=1'])
    rc = conform.wait(180)
    out = conform.text()
    log(out)
    check_eq(rc, 0, 'vhu-conform --listen exit code')
    check_eq(len(re.findall(r'^PASS ', out, re.M)), 4, 'checks passed with --listen')
    check(tp.alive(), 'testpmd is alive')
    tp.quit()


def compare(run, tool, plugin):
    md, junit = run.path('compare.md'), run.path('junit')
    cmd = [sys.executable, os.path.join(ROOT, 'usertools', 'vhu-conform-compare'),
           '--tool', tool, '--plugin', plugin, '--out', md, '--junit-dir', junit,
           # A failing check (net_vhost's) waits this long: 3 s is still
           # far more than a passing one needs, even under the sanitizers.
           '--timeout', '3']
    log(' '.join(cmd))
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    sys.stderr.write(out.stderr[-4000:])
    check_eq(out.returncode, 0, 'vhu-conform-compare exit code')
    text = open(md).read()
    log('\n' + text)
    table = [ln for ln in text.splitlines() if ln.startswith('|')]
    head = [c.strip() for c in table[0].strip('|').split('|')]
    rows = [[c.strip() for c in ln.strip('|').split('|')] for ln in table[2:]]
    check_eq(len(rows), 11, 'checks in the table')
    for col, name in enumerate(head[1:], start=1):
        verdicts = [r[col] for r in rows]
        if name.startswith('net_vhu '):
            check(all(v == 'PASS' for v in verdicts),
                  f'{name}: every check passes ({verdicts})')
        # The JUnit XML of the same run says the same.
        root = ET.parse(os.path.join(junit, name.replace(' ', '-') + '.xml')).getroot()
        check_eq(int(root.get('tests')), len(rows), f'{name}: JUnit tests')
        check_eq(int(root.get('failures')), verdicts.count('FAIL'),
                 f'{name}: JUnit failures')
    check(any(r[col] == 'FAIL' for r in rows for col in range(1, len(head))
              if head[col].startswith('net_vhost')),
          'net_vhost deviates somewhere (the checks can fail)')
    check_eq(table, doc_table(), 'the table doc/conformance.md shows')


def main():
    tool, plugin = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with Run('conform') as run:
        run.need('dpdk-testpmd')
        usage_errors(run, tool)
        listen_mode(run, tool, plugin)
        compare(run, tool, plugin)
        run.passed()


if __name__ == '__main__':
    main()
