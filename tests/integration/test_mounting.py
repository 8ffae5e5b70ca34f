"""aifs where FUSE filesystems live: mounted by mount(8) through mount.fuse3,
from the command line and from an fstab line, with the options mount(8)
adds; the SOURCE argument; a mountpoint that is not a directory.

mount(8) runs its helpers without PATH, so /bin/sh finds `aifs` only in
the default directories: each mount here runs in a mount namespace of its
own where a temporary directory holding `aifs` is bound over
/usr/local/bin. Nothing outside the namespace changes; the test reaches
the mount through /proc/PID/root of the daemon, and stops it by pid."""
import os
import shutil
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import AIFS, Mount, Skip, fake, pid_alive, wait_for

MOUNT_ONLY = "_netdev,noauto,user,users,nofail,x-systemd.automount,x-systemd.device-timeout=10," \
             "rw,dev,suid,exec,defaults"


def need(*programs):
    for p in programs:
        if not shutil.which(p):
            raise Skip(f"no {p} here")


def daemons_of(mnt):
    """Pids of aifs processes whose command line names mnt."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if args and os.path.basename(args[0]) == b"aifs" and mnt.encode() in args:
            out.append(int(name))
    return out


def in_namespace(m, script, timeout=30):
    """Runs script (sh) in a private mount namespace where `aifs` is found
    on mount.fuse3's default PATH. Returns CompletedProcess."""
    bindir = os.path.join(m.dir, "bin")
    os.makedirs(bindir, exist_ok=True)
    link = os.path.join(bindir, "aifs")
    if not os.path.lexists(link):
        os.symlink(AIFS, link)
    full = f"set -e\nmount --bind {bindir} /usr/local/bin\n{script}"
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", full],
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def stop_all(mnt):
    """SIGTERM (a clean unmount, exit 0) to every daemon serving mnt."""
    pids = daemons_of(mnt)
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    for pid in pids:
        wait_for(lambda: not pid_alive(pid), 15, f"aifs pid {pid} to exit")


def mount_by_mount8(m, mount_cmd):
    """Mounts with mount_cmd in a namespace; returns the daemon's pid and
    the mountpoint as seen from here."""
    if os.geteuid() != 0:
        raise Skip("mount(8) of a fuse.aifs line needs root here")
    need("unshare", "mount.fuse3")
    p = in_namespace(m, mount_cmd)
    assert p.returncode == 0, f"{mount_cmd}: {p.returncode}\n{p.stdout}{p.stderr}\n{m.log()}"
    pids = daemons_of(m.mnt)
    assert len(pids) == 1, f"one daemon serves the mount: {pids}"
    pid = pids[0]
    seen = f"/proc/{pid}/root{m.mnt}"
    wait_for(lambda: os.path.isdir(os.path.join(seen, "volc")), 10, "the mount in its namespace")
    return pid, seen


def check_mounted(m, f, pid, seen, source):
    with open(f"/proc/{pid}/mountinfo") as mi:
        line = [ln for ln in mi if f" {m.mnt} " in ln]
    assert line and " - fuse.aifs " in line[0], line
    assert line[0].split(" - ")[1].split()[1] == source, "the source is shown as given"
    ids = sorted(os.listdir(os.path.join(seen, "volc")))
    want = sorted(t["id"] for t in f.tasks("ark"))
    assert [i for i in ids if not i.startswith(".")] == want
    with open(os.path.join(seen, "volc", want[0], "status")) as s:
        assert s.read().strip() in ("queued", "running", "succeeded", "failed", "cancelled",
                                    "expired")
    # the config came from SOURCE: no -o config was given
    with open(f"/proc/{pid}/cmdline", "rb") as c:
        args = c.read().split(b"\0")
    assert not any(a.startswith(b"config=") or b",config=" in a for a in args), args


def test_mount_t_fuse_aifs_with_the_options_mount_adds():
    f = fake({"ark": {"count": 5}})
    m = Mount(f, providers=("volc",), start=False)
    try:
        opts = f"cache_dir={m.cache},log={m.logpath},{MOUNT_ONLY}"
        pid, seen = mount_by_mount8(m, f"mount -t fuse.aifs {m.conf} {m.mnt} -o {opts}")
        check_mounted(m, f, pid, seen, m.conf)
        # umount(8) in its namespace ends the daemon with status 0
        p = in_namespace(m, f"nsenter -t {pid} -m umount {m.mnt}")
        assert p.returncode == 0, p.stderr
        wait_for(lambda: not pid_alive(pid), 15, "the daemon to exit after umount")
        assert "error" not in m.log().lower(), m.log()
    finally:
        stop_all(m.mnt)


def test_an_fstab_line_mounts_by_its_mountpoint():
    f = fake({"ark": {"count": 5}})
    m = Mount(f, providers=("volc",), start=False)
    fstab = os.path.join(m.dir, "fstab")
    with open(fstab, "w") as t:
        t.write("# aifs, as a user writes it\n")
        t.write(f"{m.conf} {m.mnt} fuse.aifs noauto,user,_netdev,cache_dir={m.cache},"
                f"log={m.logpath} 0 0\n")
    try:
        pid, seen = mount_by_mount8(m, f"mount --fstab {fstab} {m.mnt}")
        check_mounted(m, f, pid, seen, m.conf)
        os.kill(pid, signal.SIGTERM)  # SPEC: a clean unmount
        wait_for(lambda: not pid_alive(pid), 15, "the daemon to exit after SIGTERM")
    finally:
        stop_all(m.mnt)


def test_source_is_the_word_aifs_or_the_config_file():
    f = fake({"ark": {"count": 3}})
    m = Mount(f, providers=("volc",), start=False)
    try:
        # the config file as SOURCE, instead of -o config=
        p = subprocess.run([AIFS, "-o", f"cache_dir={m.cache},log={m.logpath}", m.conf, m.mnt],
                           capture_output=True, text=True, timeout=15, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, p.stderr
        assert len(m.ls("volc")) == 3
        subprocess.run(["fusermount3", "-u", m.mnt], check=True, timeout=15)
        wait_for(lambda: not daemons_of(m.mnt), 15, "the daemon to exit")
        # the word aifs is ignored: the config comes from -o config=
        p = subprocess.run([AIFS, "-o", f"config={m.conf},cache_dir={m.cache},log={m.logpath}",
                            "aifs", m.mnt], capture_output=True, text=True, timeout=15,
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 0, p.stderr
        assert len(m.ls("volc")) == 3
        subprocess.run(["fusermount3", "-u", m.mnt], check=True, timeout=15)
        wait_for(lambda: not daemons_of(m.mnt), 15, "the daemon to exit")
        # both at once, or three arguments: a configuration error, nothing mounted
        for args in ([m.conf, m.mnt, "-o", f"config={m.conf}"], [m.conf, m.conf, m.mnt]):
            p = subprocess.run([AIFS, "-o", f"cache_dir={m.cache}", *args], capture_output=True,
                               text=True, timeout=15, stdin=subprocess.DEVNULL)
            assert p.returncode == 1 and p.stderr.startswith("aifs: "), (args, p.stderr)
            assert not os.path.ismount(m.mnt)
    finally:
        stop_all(m.mnt)


def test_a_mountpoint_that_is_not_a_directory_is_refused():
    f = fake()
    m = Mount(f, providers=("volc",), start=False)
    plain = os.path.join(m.dir, "plain-file")
    open(plain, "w").close()
    for target in (plain, os.path.join(m.dir, "missing")):
        p = subprocess.run([AIFS, "-f", "-o", f"config={m.conf},cache_dir={m.cache}", target],
                           capture_output=True, text=True, timeout=15, stdin=subprocess.DEVNULL)
        assert p.returncode == 1, (target, p.returncode, p.stderr)
        assert target in p.stderr, p.stderr
        assert not os.path.ismount(target)
    assert not daemons_of(plain)


def test_pv_reports_progress_of_an_output_file():
    need("pv")
    f = fake({"ark": {"count": 3, "media_size": 4 << 20}})
    m = Mount(f, providers=("volc",))
    t = [t for t in f.tasks("ark") if (t.get("content") or {}).get("video_url")][0]
    src = m.path("volc", t["id"], "video.mp4")
    # -n: percentages, one a line, from the size stat gives; -f: even
    # without a terminal
    p = subprocess.run(["pv", "-n", "-f", "-i", "0.1", src], capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert len(p.stdout) == os.stat(src).st_size == 4 << 20
    steps = [int(x) for x in p.stderr.split()]
    assert steps and steps[-1] == 100, steps
    assert all(0 <= a <= b <= 100 for a, b in zip(steps, steps[1:])), steps


class _Html404(BaseHTTPRequestHandler):
    """A web server that is not the API: every path is an HTML 404."""

    def do_GET(self):
        body = b"<html><body><h1>404 Not Found</h1></body></html>\n"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_wrong_base_url_is_named_in_the_log():
    f = fake({"rong": {"count": 3}})
    web = ThreadingHTTPServer(("127.0.0.1", 0), _Html404)
    th = threading.Thread(target=web.serve_forever, daemon=True)
    th.start()
    try:
        bad = f"http://127.0.0.1:{web.server_address[1]}/api/v3"
        key = f.credentials("ark")["api_key"]
        # type is case-insensitive: Ark as the vendor spells it
        conf = ("qps = 50\n[typo]\ntype = Ark\n"
                f"base_url = {bad}\napi_key = {key}\n"
                f"[rong]\ntype = ark\nbase_url = {f.base('rong')}\n"
                f"api_key = {f.credentials('rong')['api_key']}\n")
        m = Mount(f, conf_text=conf)
        assert m.ls("typo") == [] and m.ls("rong") == []
        tried = "GET /api/v3/contents/generations/tasks answers HTTP 404"
        wait_for(lambda: tried in m.log(), 10, "the warning about the typo provider")
        line = [ln for ln in m.log().splitlines() if tried in ln][0]
        assert "warn" in line and "typo:" in line and "base_url is probably wrong" in line, line
        assert "127.0.0.1" not in line, "the host part of base_url is never shown"
        # the API's own 404: it cannot list; nothing is said of base_url
        wait_for(lambda: "rong: the API cannot list" in m.log(), 10, "the rong warning")
        line = [ln for ln in m.log().splitlines() if "rong: the API cannot list" in ln][0]
        assert "GET /rong/llm/v1/contents/generations/tasks answers HTTP 404" in line, line
        assert "base_url" not in line and "127.0.0.1" not in line, line
    finally:
        web.shutdown()
        web.server_close()
        th.join(5)


def unit_commands(path):
    """The unit's [Service] commands: key -> [argv], '-' prefixes kept."""
    out = {}
    section = None
    with open(path) as u:
        for line in u:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and line.startswith("Exec") and "=" in line:
                k, v = line.split("=", 1)
                out.setdefault(k, []).append(v.split())
    return out


def test_the_systemd_user_unit_starts_reloads_and_stops_the_mount():
    """contrib/aifs.service's own commands, run as systemd would run them
    for a user whose home is a temporary directory: %h expanded, $MAINPID
    the daemon. systemd-analyze verify checks the unit itself."""
    unit = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "contrib", "aifs.service")
    cmds = unit_commands(unit)
    start = cmds["ExecStart"][0]
    assert start[0] == "/usr/local/bin/aifs" and "-f" in start and start[-1] == "%h/tasks"
    f = fake({"ark": {"count": 4}})
    m = Mount(f, providers=("volc",), start=False)
    home = os.path.join(m.dir, "home")
    os.makedirs(os.path.join(home, ".config", "aifs"))
    shutil.copy(m.conf, os.path.join(home, ".config", "aifs", "aifs.conf"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "AIFS_"))}
    env["HOME"] = home
    tasks = os.path.join(home, "tasks")

    def argv(cmd, pid=None):
        cmd = [a.replace("%h", home).replace("$MAINPID", str(pid)) for a in cmd]
        if cmd[0].startswith("/usr/local/bin/aifs"):
            cmd[0] = AIFS
        return cmd

    for pre in cmds.get("ExecStartPre", []):
        ignore = pre[0].startswith("-")
        pre = [pre[0].lstrip("-"), *pre[1:]]
        p = subprocess.run(argv(pre), env=env, capture_output=True, timeout=15)
        assert ignore or p.returncode == 0, (pre, p.stderr)
    daemon = subprocess.Popen(argv(start), env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: os.path.ismount(tasks) or daemon.poll() is not None, 10, "the mount")
        assert daemon.poll() is None, daemon.stderr.read()
        assert len([n for n in os.listdir(os.path.join(tasks, "volc")) if n[0] != "."]) == 4
        # ExecReload: SIGHUP, taken, and the mount stays
        lists = f.counter("ark.list")
        subprocess.run(argv(cmds["ExecReload"][0], daemon.pid), check=True, timeout=15)
        wait_for(lambda: (os.listdir(os.path.join(tasks, "volc")) and
                          f.counter("ark.list") > lists), 10, "a listing after the reload")
        assert daemon.poll() is None
        # the cache went where a user's goes
        assert os.path.isdir(os.path.join(home, ".cache", "aifs"))
        # ExecStop: unmounted, exit 0
        subprocess.run(argv(cmds["ExecStop"][0], daemon.pid), check=True, timeout=15)
        assert daemon.wait(timeout=15) == 0, daemon.stderr.read()
        assert not os.path.ismount(tasks)
    finally:
        if daemon.poll() is None:
            daemon.terminate()
            daemon.wait(timeout=15)
        if os.path.ismount(tasks):
            subprocess.run(["fusermount3", "-u", "-z", tasks], timeout=15)
    if shutil.which("systemd-analyze"):
        unitdir = os.path.join(m.dir, "unit")
        os.mkdir(unitdir)
        with open(unit) as src, open(os.path.join(unitdir, "aifs.service"), "w") as dst:
            dst.write(src.read().replace("/usr/local/bin/aifs", AIFS))
        p = subprocess.run(["systemd-analyze", "verify", "--man=no",
                            os.path.join(unitdir, "aifs.service")],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
