"""Integration test helpers: the fake provider API, a real aifs mount of it,
and bounded waits. Every process started here is stopped by pid, and every
mount is unmounted, by cleanup_all() after each test."""
import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import fakectl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AIFS = os.path.abspath(os.environ.get("AIFS_BIN", os.path.join(ROOT, "aifs")))

Skip = Exception  # run.py puts its own Skip here

# provider section -> (fake provider, path prefix under the fake's base URL)
PROVIDERS = {
    "volc": ("ark", "/ark/api/v3"),
    "relay": ("relay", "/relay/volc/v1"),
    "rong": ("rong", "/rong/llm/v1"),
    "chanjing": ("chanjing", "/chanjing"),
}

_live = []


def cannot_mount():
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse here"
    if not shutil.which("fusermount3"):
        return "no fusermount3 here"
    return None


def wait_for(cond, timeout=10.0, what="a condition"):
    """Polls cond() until it is true; fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def fake(scenario=None):
    """Starts a fake provider API; stopped after the test."""
    f = fakectl.Fake(scenario or {}).start()
    _live.append(f)
    return f


class Redis:
    """A redis-server of the test's own on a free loopback port, stopped by
    pid after the test; start() again brings it back on the same port."""

    def __init__(self, password=None):
        self.exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.access(self.exe, os.X_OK):
            raise Skip("no redis-server here")
        self.dir = tempfile.mkdtemp(prefix="aifs-redis-")
        self.password = password
        self.proc = None
        self.port = None
        _live.append(self)
        self.start()

    @property
    def url(self):
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self):
        for _ in range(5):
            if self.port is None or (self.proc is not None and self.proc.poll() is not None
                                     and self.proc.returncode not in (0, -9, -15)):
                s = socket.socket()
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
                s.close()
            args = [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"]
            if self.password:
                args += ["--requirepass", self.password]
            log = open(os.path.join(self.dir, "redis.log"), "ab")
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            log.close()
            try:
                wait_for(lambda: self.proc.poll() is not None or self.ping(), 10, "redis-server")
            except AssertionError:
                pass
            if self.proc.poll() is None and self.ping():
                return self
            self.halt()
        raise AssertionError("redis-server did not start")

    def command(self, *args):
        """One command over RESP; the reply, decoded (errors raise)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            parts = ([b"AUTH", self.password.encode()],) if self.password else ()
            for cmd in (*parts, [a if isinstance(a, bytes) else str(a).encode() for a in args]):
                s.sendall(b"*%d\r\n" % len(cmd) + b"".join(
                    b"$%d\r\n%s\r\n" % (len(a), a) for a in cmd))
                reply = _resp(s.makefile("rb"))
            return reply

    def ping(self):
        try:
            return self.command("PING") == "PONG"
        except (OSError, RuntimeError):
            return False

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)

    def halt(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def stop(self):
        self.halt()
        shutil.rmtree(self.dir, ignore_errors=True)


def _resp(f):
    line = f.readline()
    if not line:
        raise RuntimeError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_resp(f) for _ in range(n)]
    raise RuntimeError(f"bad reply {line!r}")


class Mount:
    """aifs mounted over a fake, with its own config, cache directory and log
    file, daemonized as users run it (foreground=True keeps it attached,
    for a test that needs stderr or -d)."""

    def __init__(self, fk, providers=("volc", "relay", "rong", "chanjing"), opts=(),
                 section_extra=None, global_extra="qps = 50\nburst = 50", cache=None, env=None, start=True,
                 conf_text=None, foreground=False):
        self.fake = fk
        self.dir = tempfile.mkdtemp(prefix="aifs-test-")
        self.mnt = os.path.join(self.dir, "mnt")
        self.cache = cache or os.path.join(self.dir, "cache")
        self.conf = os.path.join(self.dir, "aifs.conf")
        self.logpath = os.path.join(self.dir, "aifs.log")
        self.launchlog = os.path.join(self.dir, "launch.log")
        self.sanlog = os.path.join(self.dir, "sanitizer")
        self.foreground = foreground or any(o in ("-f", "-d") for o in opts)
        self.proc = None  # the foreground process
        self.pid = None   # the process serving the mount
        os.mkdir(self.mnt)
        text = conf_text if conf_text is not None else self.config(providers, section_extra or {},
                                                                    global_extra)
        fd = os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.opts = list(opts)
        self.env = dict(os.environ, **(env or {}))
        # a daemon's stderr is /dev/null: sanitizers report to files instead
        for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS"):
            prev = self.env.get(var, "")
            self.env[var] = (prev + ":" if prev else "") + f"log_path={self.sanlog}"
        _live.append(self)
        if start:
            self.start()

    def config(self, providers, section_extra, global_extra):
        lines = [global_extra]
        for name in providers:
            kind, prefix = PROVIDERS[name]
            lines.append(f"[{name}]")
            lines.append("type = " + ("chanjing" if kind == "chanjing" else "ark"))
            lines.append(f"base_url = {self.fake.url}{prefix}")
            for k, v in self.fake.credentials(kind).items():
                lines.append(f"{k} = {v}")
            lines.append(section_extra.get(name, ""))
        return "\n".join(lines) + "\n"

    def command(self, extra=()):
        head = [AIFS, "-f"] if self.foreground else [AIFS, "-o", f"log={self.logpath}"]
        return [*head, "-o", f"config={self.conf}", "-o", f"cache_dir={self.cache}",
                *self.opts, *extra, self.mnt]

    def start(self, extra=()):
        # the daemon makes its own log file; what the command says goes beside it
        log = open(self.logpath if self.foreground else self.launchlog, "ab")
        cmd = self.command(extra)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, env=self.env)
        log.close()
        if self.foreground:
            wait_for(lambda: os.path.ismount(self.mnt) or self.proc.poll() is not None,
                     10, "the mount")
            if self.proc.poll() is not None:
                raise AssertionError(f"aifs exited with {self.proc.returncode}:\n{self.log()}")
            self.pid = self.proc.pid
            return
        # daemonized: the command returns once the mount is up
        try:
            code = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise AssertionError(f"aifs did not return within 15 s:\n{self.log()}")
        self.proc = None
        if code != 0:
            raise AssertionError(f"aifs exited with {code}:\n{self.log()}")
        if not os.path.ismount(self.mnt):
            raise AssertionError(f"aifs exited 0 but nothing is mounted:\n{self.log()}")
        self.pid = daemon_pid(cmd)
        if self.pid is None:
            raise AssertionError(f"no daemon serves {self.mnt}:\n{self.log()}")

    def alive(self):
        """True while the process serving the mount runs."""
        if self.pid is None:
            return False
        if self.proc is not None:
            return self.proc.poll() is None
        return pid_alive(self.pid)

    def path(self, *parts):
        return os.path.join(self.mnt, *parts)

    def run(self, *cmd, check=True, timeout=60, input=None):
        """Runs a real program in the mount; returns CompletedProcess (text)."""
        p = subprocess.run(list(cmd), cwd=self.mnt, capture_output=True, text=True,
                           timeout=timeout, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"{cmd} exited {p.returncode}: {p.stderr.strip()}")
        return p

    def ls(self, *parts):
        return sorted(self.run("ls", "-1", "--", os.path.join(*parts) if parts else ".")
                      .stdout.split("\n")[:-1])

    def cat(self, *parts):
        return self.run("cat", "--", os.path.join(*parts)).stdout

    def error_of(self, *cmd):
        """Runs cmd, which must fail; returns its stderr."""
        p = self.run(*cmd, check=False)
        assert p.returncode != 0, f"{cmd} succeeded: {p.stdout[:200]}"
        return p.stderr

    def hup(self):
        """Sends SIGHUP and waits until the daemon has taken it (no longer
        pending), so that the next request sees its effect."""
        os.kill(self.pid, signal.SIGHUP)
        bit = 1 << (signal.SIGHUP - 1)

        def taken():
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(("ShdPnd:", "SigPnd:")) and int(line.split()[1], 16) & bit:
                        return False
            return True
        wait_for(taken, 5, "SIGHUP to be delivered")

    def log(self):
        """What the command said on its terminal, then the daemon's log."""
        out = []
        for path in (self.launchlog, self.logpath):
            try:
                with open(path, errors="replace") as f:
                    out.append(f.read())
            except FileNotFoundError:
                pass
        return "".join(out)

    def sanitizer_reports(self):
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.startswith("sanitizer"):
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out.append(f.read())
        return "".join(out)

    def rss_kb(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def kill(self, sig=signal.SIGKILL):
        """Sends sig to the daemon and waits for it to be gone."""
        os.kill(self.pid, sig)
        self.wait_gone(15)

    def wait_gone(self, timeout):
        if self.proc is not None:
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        try:
            wait_for(lambda: not pid_alive(self.pid), timeout, f"pid {self.pid} to exit")
        except AssertionError:
            return False
        return True

    def umount(self):
        if self.pid is None:
            return
        if os.path.ismount(self.mnt):
            subprocess.run(["fusermount3", "-u", self.mnt], capture_output=True, timeout=15)
        code = 0
        if not self.wait_gone(15):
            os.kill(self.pid, signal.SIGKILL)
            self.wait_gone(15)
            subprocess.run(["fusermount3", "-uz", self.mnt], capture_output=True, timeout=15)
            code = "killed after 15 s"
        if self.proc is not None:
            code = self.proc.returncode
        self.proc = self.pid = None
        log = self.log()
        reports = self.sanitizer_reports()
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer", "ThreadSanitizer"):
            if bad in log or bad in reports:
                raise AssertionError(f"sanitizer report:\n{(reports or log)[-4000:]}")
        if code not in (0, -signal.SIGKILL):
            raise AssertionError(f"aifs exited with {code}:\n{log[-4000:]}")

    def close(self):
        try:
            self.umount()
        finally:
            if self in _live:
                _live.remove(self)
            shutil.rmtree(self.dir, ignore_errors=True)


def pid_alive(pid):
    """True while pid runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def daemon_pid(cmd):
    """The pid of the daemon started by cmd: its command line is cmd's, and
    the mountpoint in it is this test's own."""
    # aifs masks the value of redis= (it may hold a password) in its own
    want = "\0".join(re.sub(r"redis=[^,]*", lambda m: "redis=" + "*" * (len(m[0]) - 6), a)
                     for a in cmd).encode() + b"\0"
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if f.read() == want:
                    return int(name)
        except OSError:
            continue
    return None


def cleanup_all():
    """Unmounts and stops everything the test started; raises the first problem."""
    first = None
    while _live:
        obj = _live.pop()
        try:
            if isinstance(obj, Mount):
                obj.close()
            else:
                obj.stop()
        except Exception as e:  # keep cleaning, report the first
            first = first or e
    if first:
        raise first


def errno_of(fn, *args):
    """The errno an os call fails with, or 0."""
    try:
        fn(*args)
        return 0
    except OSError as e:
        return e.errno


__all__ = ["Mount", "Redis", "fake", "wait_for", "cleanup_all", "errno_of", "errno", "Skip", "pid_alive"]
