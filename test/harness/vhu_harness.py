# SPDX-License-Identifier: BSD-3-Clause
"""One small library for vhu's tests and demo that run real programs:
vhu-fwd, stock dpdk-testpmd (with or without the net_vhu plugin) and QEMU
guests. Each test is one `Run`: a work directory, the processes it
started (stopped again by PID however the test ends), their logs, and
the DPDK file prefixes it used (removed at the end).

    from vhu_harness import Run
    with Run('vm-ping') as t:
        fwd = t.vhu_fwd('fwd', FWD, '--mode', 'l2', '--vhost', t.path('a.sock'))
        vm = t.qemu('a', vhost=[t.path('a.sock')], ips=['10.0.0.1/24'])
        vm.guest.sh('ping -c 3 10.0.0.2')
        t.passed()

Failures raise `Fail` (exit 1, logs of every process printed); `Run.skip`
exits 77, meson's "skipped". Set VHU_TEST_KEEP=1 to keep the work
directory of a failed test.
"""
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
SKIP = 77


class Fail(Exception):
    """A test failure: what was expected and what was seen."""


def log(msg):
    print(f'[{time.strftime("%H:%M:%S")}] {msg}', file=sys.stderr, flush=True)


def wait_for(what, timeout, poll=0.1):
    """Call what() until it returns something true; return that, or None
    after timeout seconds."""
    end = time.monotonic() + timeout
    while True:
        v = what()
        if v:
            return v
        if time.monotonic() >= end:
            return None
        time.sleep(poll)


def hugepages_free():
    try:
        with open('/proc/meminfo') as f:
            m = dict(line.split(':', 1) for line in f)
        return int(m['HugePages_Free'].split()[0]), int(m['Hugepagesize'].split()[0])
    except (OSError, KeyError, ValueError):
        return 0, 0


def dpdk_runtime_dir(prefix):
    run = os.environ.get('RUNTIME_DIRECTORY') or \
        ('/var/run' if os.getuid() == 0 else os.environ.get('XDG_RUNTIME_DIR', '/tmp'))
    return os.path.join(run, 'dpdk', prefix)


_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child before exec: SIGKILL it when the test process dies,
    so that nothing outlives a test that is killed outright (meson sends
    SIGKILL half a second after its SIGTERM on a timeout)."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def telemetry_query(prefix, cmd):
    """One DPDK telemetry command to the process with file prefix
    `prefix` (dpdk-telemetry.py's protocol, without its start-up cost):
    the reply as JSON, {cmd: value}."""
    path = os.path.join(dpdk_runtime_dir(prefix), 'dpdk_telemetry.v2')
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(5)
        s.connect(path)
        hello = json.loads(s.recv(1024).decode())
        s.send(cmd.encode())
        return json.loads(s.recv(hello['max_output_len']).decode())


class Proc:
    """A process the run started: its log file, waiting for log lines,
    stopping it by PID."""

    def __init__(self, run, name, argv, stdin=None, env=None):
        self.run, self.name, self.argv = run, name, [str(a) for a in argv]
        if env:
            env = {**os.environ, **env}
        self.log_path = run.path(f'{name}.log')
        self._log = open(self.log_path, 'ab')
        self.popen = subprocess.Popen(self.argv, stdin=stdin, stdout=self._log,
                                      stderr=subprocess.STDOUT, env=env,
                                      start_new_session=True,
                                      preexec_fn=_die_with_parent)
        self.pid = self.popen.pid
        run.procs.append(self)
        log(f'started {name} (pid {self.pid}): {" ".join(self.argv)}')

    def text(self, after=0):
        """The log from byte position `after` (a mark()) on, decoded."""
        with open(self.log_path, 'rb') as f:
            f.seek(after)
            return f.read().decode(errors='replace')

    def mark(self):
        """A position in the log (bytes), for text() and wait_log()."""
        return os.path.getsize(self.log_path)

    def alive(self):
        return self.popen.poll() is None

    def wait_log(self, regex, timeout=30, after=0):
        """Wait until regex matches the log (after position `after`);
        return the match. Fails if the process exits first or on timeout."""
        rx = re.compile(regex, re.M)

        def seen():
            alive = self.alive()
            # Searched after the liveness check: a line logged just
            # before the exit still counts.
            m = rx.search(self.text(after))
            if m:
                return m
            if not alive:
                raise Fail(f'{self.name} exited ({self.popen.returncode}) '
                           f'before /{regex}/ appeared in its log')
            return None
        m = wait_for(seen, timeout, 0.1)
        if not m:
            raise Fail(f'{self.name}: /{regex}/ not in its log after {timeout} s')
        return m

    def stop(self, sig=signal.SIGINT, timeout=30):
        """Send sig and wait for the exit (SIGKILL after timeout); return
        the exit code (negative: killed by that signal)."""
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f'{self.name} (pid {self.pid}) did not stop on '
                    f'{signal.Signals(sig).name}; killing')
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait()
        self._log.close()
        return self.popen.returncode

    def wait(self, timeout):
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Fail(f'{self.name} did not exit within {timeout} s')

    def check_sanitizers(self):
        if re.search(r'ERROR: (Address|Leak)Sanitizer|runtime error:', self.text()):
            raise Fail(f'{self.name}: sanitizer report in its log')


class Dpdk(Proc):
    """A DPDK process with the tests' EAL arguments: main lcore and one
    worker on the machine's two cores, its own file prefix, hugepages when
    enough are free (else --no-huge), no PCI."""

    def __init__(self, run, name, argv0, eal, app, worker=1, stdin=None, env=None,
                 lcores=None):
        self.prefix = run.file_prefix(name)
        free, size = hugepages_free()
        if not os.environ.get('VT_NO_HUGE') and size == 2048 and free >= 128 \
                and os.path.ismount('/dev/hugepages'):
            mem = ['-m', '256', '--in-memory', '--single-file-segments']
        else:
            mem = ['--no-huge', '-m', '512']
        main = 0 if worker == 1 else 1
        # lcores: an EAL --lcores map (e.g. several workers on core 1),
        # main lcore 0.
        cores = ['--lcores', lcores, '--main-lcore', '0'] if lcores else \
            ['-l', '0-1', '--main-lcore', str(main)]
        args = [*([argv0] if isinstance(argv0, str) else argv0), *cores, *mem, '--no-pci',
                '--file-prefix', self.prefix,
                '--log-level', os.environ.get('VT_DPDK_LOG', 'notice'), *eal]
        if app:
            args += ['--', *app]
        super().__init__(run, name, args, stdin=stdin, env=env)

    def telemetry(self, cmd):
        """The reply to one DPDK telemetry command (dpdk-telemetry.py's
        protocol), as JSON: {cmd: value}."""
        return telemetry_query(self.prefix, cmd)

    def tel(self, cmd):
        """The value of a telemetry command (without the command key)."""
        return self.telemetry(cmd)[cmd.split(',')[0]]

    def xstats(self, port):
        return self.tel(f'/ethdev/xstats,{port}')


class VhuFwd(Dpdk):
    """app/vhu-fwd, polling on lcore 1."""

    def __init__(self, run, name, binary, eal, app, lcores=None):
        super().__init__(run, name, binary, eal, app, worker=1, lcores=lcores)
        self.wait_log(r'^vhu-fwd: forwarding', 60)

    def port(self, n):
        return self.tel(f'/vhu/port,{n}')

    def macs(self):
        """The l2 MAC table: {mac (lower case): port}."""
        t = self.tel('/vhu/mac_table')
        return {m.lower(): p for m, p in zip(t['macs'], t['ports'])}

    def link_wait(self, port, state, timeout=30):
        if not wait_for(lambda: self.port(port)['link'] == state, timeout, 0.2):
            raise Fail(f'{self.name}: port {port} link not {state} after {timeout} s')

    def queue_events(self, port, after=0):
        """The queue state changes vhu-fwd logged for port (its live log:
        "port N (name): queues tx0 off, rx0 off", one change or several
        per line, as they came) after position `after`: [('tx0', 'off'),
        ...] in order."""
        ev = []
        for m in re.finditer(rf'^\[[ .0-9]+s\] port {port} \([^)]*\): queues (.*)$',
                             self.text(after), re.M):
            ev += re.findall(r'([rt]x\d+) (on|off)', m.group(1))
        return ev

    def wait_queues(self, port, state, queues=('tx0', 'rx0'), timeout=20, after=0):
        """Wait until vhu-fwd logged each of queues going `state` after
        position `after`."""
        if not wait_for(lambda: set(queues) <= {q for q, st in self.queue_events(port, after)
                                                 if st == state}, timeout, 0.2):
            raise Fail(f'{self.name}: port {port}: queues {queues} not {state} after {timeout} s '
                       f'(logged: {self.queue_events(port, after)})')

    def finish(self, sig=signal.SIGINT):
        """Stop it; it must exit 0 with its final counters and no
        sanitizer report."""
        rc = self.stop(sig)
        self.check_sanitizers()
        if rc != 0:
            raise Fail(f'{self.name}: exited with {rc}')
        if 'vhu-fwd: stopped' not in self.text():
            raise Fail(f'{self.name}: did not finish')


class Testpmd(Dpdk):
    """Stock dpdk-testpmd, interactive, commands typed into its stdin."""

    def __init__(self, run, name, eal, app, worker=1):
        self.fifo = run.path(f'{name}.in')
        os.mkfifo(self.fifo)
        # O_RDWR: the FIFO stays open for writing while testpmd reads it.
        self._in = os.open(self.fifo, os.O_RDWR)
        # A plugin from a sanitized build needs the ASan runtime preloaded.
        env = run.plugin_env if '-d' in eal else None
        # stdbuf: testpmd's answers reach its log line by line.
        super().__init__(run, name, ['stdbuf', '-oL', 'dpdk-testpmd'], eal, ['-i', *app],
                         worker=worker, stdin=self._in, env=env)
        self.wait_log(r'testpmd> ', 60)

    def cmd(self, line):
        log(f'{self.name}> {line}')
        os.write(self._in, (line + '\n').encode())

    def do(self, line, regex, timeout=20):
        """Type a command; wait for regex in what follows; return the text
        after the command."""
        mark = self.mark()
        self.cmd(line)
        self.wait_log(regex, timeout, after=mark)
        return self.text(mark)

    def quit(self, timeout=60):
        self.cmd('quit')
        rc = self.wait(timeout)
        os.close(self._in)
        if rc != 0:
            raise Fail(f'{self.name}: testpmd exited with {rc}')


class Qmp:
    """A QMP client on a unix socket: commands and their replies; events
    are kept in .events."""

    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if not wait_for(lambda: self._connect(path), timeout, 0.1):
            raise Fail(f'no QMP socket at {path}')
        self.sock.settimeout(60)
        self.buf = b''
        self.events = []
        self._read()                      # greeting
        self.execute('qmp_capabilities')

    def _connect(self, path):
        try:
            self.sock.connect(path)
            return True
        except OSError:
            return False

    def _read(self):
        while b'\n' not in self.buf:
            try:
                d = self.sock.recv(65536)
            except OSError as e:
                raise Fail(f'QMP: {e}')
            if not d:
                raise Fail('QMP connection closed')
            self.buf += d
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def execute(self, cmd, **args):
        msg = {'execute': cmd}
        if args:
            msg['arguments'] = args
        self.sock.sendall(json.dumps(msg).encode() + b'\n')
        while True:
            r = self._read()
            if 'event' in r:
                self.events.append(r)
                continue
            if 'error' in r:
                raise Fail(f'QMP {cmd}: {r["error"]}')
            return r.get('return')

    def close(self):
        self.sock.close()


class Guest:
    """The shell on a guest's serial console (test/vm/init starts it).
    sh() types a command and returns its output once it finished."""

    def __init__(self, vm):
        self.vm = vm
        self.n = 0
        self.pos = 0

    def _send(self, text):
        os.write(self.vm.console_w, text.encode())

    def wait_ready(self, timeout):
        m = self.vm.wait_log(r'vhu-guest: ready \(([^)]*)\)', timeout)
        log(f'{self.vm.name}: guest ready: {m.group(1)}')
        self.sh('true')

    def sh(self, cmd, timeout=60, check=True):
        """Run cmd in the guest's shell; return its output (stdout and
        stderr). check: fail unless it exits 0. Returns (rc, out) when
        check is False."""
        self.n += 1
        mark = self.vm.mark()
        log(f'{self.vm.name}$ {cmd}')
        # test/vm/init runs one console line at a time: cmd is one line,
        # with stdin /dev/null so that it cannot eat the lines that follow.
        # The end marker is split in the typed text so that the line as
        # typed (if echoed) never matches it.
        if '\n' in cmd:
            raise Fail(f'guest command with a newline: {cmd!r}')
        self._send(f'{{ {cmd}; }} </dev/null; echo "@@{self.n}""@@ $?"\n')
        m = self.vm.wait_log(rf'@@{self.n}@@ (\d+)\r?\n', timeout, after=mark)
        out = self.vm.text(mark)[:m.start()].replace('\r', '').strip('\n')
        rc = int(m.group(1))
        if check:
            if rc != 0:
                raise Fail(f'{self.vm.name}: `{cmd}` exited with {rc}: {out}')
            return out
        return rc, out


def qemu_binary():
    return shutil.which('qemu-system-x86_64')


_KVM = None


def kvm_works():
    """Whether QEMU can run a guest with KVM here: /dev/kvm may exist and
    still fail at the first vCPU reset (seen on nested hosts), so a paused
    QEMU is started once and asked to quit. VHU_VM_ACCEL=tcg|kvm decides
    instead."""
    global _KVM
    if _KVM is None:
        forced = os.environ.get('VHU_VM_ACCEL')
        if forced:
            _KVM = forced == 'kvm'
        elif not os.access('/dev/kvm', os.R_OK | os.W_OK):
            _KVM = False
        else:
            try:
                r = subprocess.run(
                    [qemu_binary(), '-machine', 'q35,accel=kvm', '-cpu', 'host',
                     '-nodefaults', '-display', 'none', '-S', '-qmp', 'stdio'],
                    input='{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n',
                    capture_output=True, text=True, timeout=30)
                _KVM = r.returncode == 0
            except subprocess.TimeoutExpired:
                _KVM = False
        log(f'QEMU accelerator: {"kvm" if _KVM else "tcg"}')
    return _KVM


class Qemu(Proc):
    """A QEMU guest: the host's kernel and the test initramfs
    (test/vm/vhu-guest-image), its memory shared (memfd) as vhost-user
    needs, one virtio-net-pci per vhost-user socket, its console driven
    through Guest, QMP on a unix socket.

    TCG unless /dev/kvm works. virtio-net-pci gets vectors=0 (INTx):
    Debian 12's QEMU 7.2 under TCG crashes when a vhost-user NIC with MSI-X
    starts. """

    def __init__(self, run, name, nics, ips, mem=192, smp=1, incoming=None,
                 extra=None, boot_timeout=120, ready=True, nodes=1,
                 hostroot=False, hugepages=0):
        """nics: list of dicts: sock (path), mac, and optional server
        (QEMU listens: vhu connects as client), queues (queue pairs),
        packed (packed=on), features (extra virtio-net-pci properties).
        nodes: NUMA nodes, each with mem MiB; vCPU i on node i % nodes. hostroot: the guest's commands run on the
        host's / (read-only, over 9p), so the guest runs this build's
        programs. hugepages: 2 MiB hugepages the guest reserves on each
        node."""
        kernel, initrd = run.guest_image()
        self.qmp_path = run.path(f'{name}.qmp')
        kvm = kvm_works()
        # Guest memory on 2 MiB hugepages while enough are free (keeping
        # 128 for the DPDK processes), for the reason test/support gives:
        # the kernel's page aging can stall the munmap of a 4 KiB-page
        # memfd for minutes on this 2-core VM. VHU_VM_NO_HUGE=1: 4 KiB.
        free, size = hugepages_free()
        huge = ',hugetlb=on,hugetlbsize=2M' if not os.environ.get('VHU_VM_NO_HUGE') \
            and size == 2048 and free >= nodes * mem // 2 + 128 else ''
        if nodes > smp:
            raise Fail(f'{name}: {nodes} NUMA nodes need as many vCPUs, not {smp}')
        memory = []
        for i in range(nodes):
            memory += ['-object', f'memory-backend-memfd,id=mem{i},size={mem}M,share=on{huge}',
                       '-numa', f'node,nodeid={i},memdev=mem{i}' +
                       ''.join(f',cpus={c}' for c in range(i, smp, nodes)
                               if nodes > 1)]
        append = ('console=ttyS0 quiet panic=-1 ipv6.disable=1 '
                  f'vhu.name={name} vhu.ip={",".join(ips)}')
        if hostroot:
            append += ' vhu.hostroot=1'
            memory += ['-virtfs', 'local,path=/,mount_tag=vhuhost,security_model=none,'
                       'readonly=on,multidevs=remap']
        if hugepages:
            append += f' vhu.hugepages={hugepages}'
        args = [qemu_binary(), '-name', name, '-nodefaults', '-no-user-config',
                '-machine', 'q35,accel=' + ('kvm' if kvm else 'tcg'),
                '-cpu', 'host' if kvm else 'max', '-smp', str(smp),
                '-m', f'{nodes * mem}M'] + memory + [
                '-kernel', kernel, '-initrd', initrd,
                # No IPv6: its autoconfiguration traffic would come and go
                # at random through counts the tests compare.
                '-append', append,
                '-display', 'none', '-vga', 'none', '-serial', 'stdio',
                '-qmp', f'unix:{self.qmp_path},server=on,wait=off',
                '-no-reboot']
        for i, nic in enumerate(nics):
            chardev = f'socket,id=c{i},path={nic["sock"]}'
            if nic.get('server'):
                chardev += ',server=on,wait=off'
            else:
                chardev += ',reconnect=1'
            q = nic.get('queues', 1)
            dev = f'virtio-net-pci,netdev=n{i},mac={nic["mac"]},vectors=0'
            if q > 1:
                dev += f',mq=on'
            if nic.get('packed'):
                dev += ',packed=on'
            for k, v in nic.get('features', {}).items():
                dev += f',{k}={v}'
            args += ['-chardev', chardev,
                     '-netdev', f'vhost-user,id=n{i},chardev=c{i},queues={q}',
                     '-device', dev]
        if incoming:
            args += ['-incoming', incoming]
        args += extra or []
        r, self.console_w = os.pipe()
        super().__init__(run, name, args, stdin=r)
        os.close(r)
        self.guest = Guest(self)
        self._qmp = None
        self.boot_timeout = boot_timeout
        if incoming:
            # QMP answers once QEMU's main loop runs, after -incoming set up
            # its listener: a migration started earlier is refused.
            st = self.qmp.execute('query-status')['status']
            if st != 'inmigrate':
                raise Fail(f'{name}: incoming QEMU is {st}, not inmigrate')
        elif ready:
            self.ready()

    def ready(self):
        """Wait until the guest's shell runs (test/vm/init). A QEMU with a
        listening vhost-user socket (server=on) waits for the back-end to
        connect before it starts at all: start that one with ready=False,
        then the back-end, then call this."""
        self.guest.wait_ready(self.boot_timeout)

    @property
    def qmp(self):
        if self._qmp is None:
            self._qmp = Qmp(self.qmp_path)
        return self._qmp

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self._qmp:
            self._qmp.close()
        rc = super().stop(sig, timeout)
        try:
            os.close(self.console_w)
        except OSError:
            pass
        return rc


class Run:
    """One test: a work directory under /tmp, its processes and DPDK file
    prefixes, cleaned up when the `with` block ends, however it ends."""

    def __init__(self, name):
        self.name = name
        self.tag = f'vhu-{name}-{os.getpid()}'
        self.dir = tempfile.mkdtemp(prefix=self.tag + '.', dir='/tmp')
        self.procs = []
        self.prefixes = []
        self.plugin_env = None
        self.private_dirs = []
        self.ok = False
        log(f'test {name}: work dir {self.dir}')

    def __enter__(self):
        def terminated(*_):
            raise Fail('terminated by SIGTERM (a meson timeout?)')
        signal.signal(signal.SIGTERM, terminated)
        return self

    def __exit__(self, etype, e, tb):
        if etype is Fail:
            log(f'FAIL: {e}')
            self.dump_logs()
        elif etype not in (None, SystemExit):
            self.dump_logs()
        self.cleanup()
        if etype is Fail:
            sys.exit(1)
        return False

    def path(self, name):
        return os.path.join(self.dir, name)

    def file_prefix(self, name):
        p = f'{self.tag}-{name}'
        self.prefixes.append(p)
        return p

    def guest_image(self):
        if not hasattr(self, '_image'):
            tool = os.path.join(ROOT, 'test', 'vm', 'vhu-guest-image')
            out = subprocess.run([sys.executable, tool], capture_output=True, text=True)
            if out.returncode != 0:
                raise Fail(f'guest image: {out.stderr.strip()}')
            d = dict(line.split(' ', 1) for line in out.stdout.splitlines())
            self._image = (d['kernel'], d['initrd'])
        return self._image

    def plugin(self, path):
        """A path from which DPDK's -d loads the net_vhu plugin: DPDK
        refuses a plugin when a directory on its path is world-writable (a
        build under /tmp), so then a copy in this run's private directory.
        Sets plugin_env when the plugin is sanitized (stock testpmd is not:
        the ASan runtime must be preloaded)."""
        path = os.path.realpath(path)
        if not os.path.isfile(path):
            raise Fail(f'the net_vhu plugin was not found: {path}')
        d = os.path.dirname(path)
        while True:
            if os.stat(d).st_mode & 0o002:
                priv = tempfile.mkdtemp(prefix='vhu-pmd.', dir='/run')
                self.private_dirs.append(priv)
                shutil.copy2(path, priv)
                log(f'plugin: {d} is world-writable (DPDK -d refuses plugins below it); using a copy in {priv}')
                path = os.path.join(priv, os.path.basename(path))
                break
            if d == '/':
                break
            d = os.path.dirname(d)
        ldd = subprocess.run(['ldd', path], capture_output=True, text=True).stdout
        m = re.search(r'(\S*libasan\.so\S*) => (\S+)', ldd)
        if m:
            self.plugin_env = {'LD_PRELOAD': m.group(2),
                               'ASAN_OPTIONS': 'detect_leaks=1:abort_on_error=0:exitcode=23',
                               'UBSAN_OPTIONS': 'print_stacktrace=1:halt_on_error=1'}
        return path

    def need(self, *programs):
        for p in programs:
            if not shutil.which(p):
                self.skip(f'{p} is not installed (usertools/vhu-setup installs it)')

    def need_vm(self):
        self.need('qemu-system-x86_64', 'busybox', 'cpio', 'modprobe')
        if not any(n.startswith('vmlinuz-') for n in os.listdir('/boot')):
            self.skip('no kernel in /boot (linux-image-amd64; usertools/vhu-setup installs it)')

    def skip(self, why):
        print(f'SKIP: {why}', file=sys.stderr, flush=True)
        self.cleanup()
        sys.exit(SKIP)

    def vhu_fwd(self, name, binary, *app, eal=(), lcores=None):
        return VhuFwd(self, name, binary, list(eal), list(app), lcores=lcores)

    def testpmd(self, name, *app, eal=(), worker=1):
        return Testpmd(self, name, list(eal), list(app), worker=worker)

    def qemu(self, name, nics, ips, **kw):
        return Qemu(self, name, nics, ips, **kw)

    def start(self, name, *argv):
        return Proc(self, name, argv)

    def dump_logs(self):
        for p in self.procs:
            try:
                text = p.text()
            except OSError:
                continue
            tail = '\n'.join(text.splitlines()[-60:])
            print(f'----- {p.name} (pid {p.pid}) {p.log_path}, last lines:\n{tail}',
                  file=sys.stderr)

    def cleanup(self):
        # No second SIGTERM (our own handler) in the middle of this.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for p in reversed(self.procs):
            if p.alive():
                try:
                    os.kill(p.pid, signal.SIGINT if isinstance(p, Dpdk) else signal.SIGTERM)
                except ProcessLookupError:
                    pass
        # One deadline for all of them, then SIGKILL.
        end = time.monotonic() + 5
        for p in reversed(self.procs):
            try:
                p.popen.wait(max(0.0, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                p.popen.wait()
        self.procs = []
        for pre in self.prefixes:
            shutil.rmtree(dpdk_runtime_dir(pre), ignore_errors=True)
            for f in os.listdir('/dev/hugepages') if os.path.isdir('/dev/hugepages') else []:
                if f.startswith(pre + 'map_'):
                    os.unlink(os.path.join('/dev/hugepages', f))
        for d in self.private_dirs:
            shutil.rmtree(d, ignore_errors=True)
        if self.ok or not os.environ.get('VHU_TEST_KEEP'):
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            log(f'kept {self.dir}')

    def passed(self):
        self.ok = True
        log('PASS')


def check(cond, what):
    """Fail with `what` unless cond."""
    if not cond:
        raise Fail(what)


def check_eq(got, want, what):
    if got != want:
        raise Fail(f'{what}: {got!r}, expected {want!r}')
    log(f'ok: {what} = {got!r}')
