"""aifs as users run it: daemonized, from a shell. Outputs read, the daemon
leaves nothing behind, logs go to a file that logrotate can move, Ctrl-C
ends a blocked call at once, a remount right after an unmount works, and a
cache directory removed under the mount is made anew."""
import hashlib
import os
import signal
import subprocess
import tempfile
import time

from harness import Mount, errno, errno_of, fake, pid_alive, wait_for


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def ark_done(f):
    return [t for t in f.tasks("ark") if (t.get("content") or {}).get("video_url")]


def threads_of(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return 0


def test_daemonized_mount_reads_outputs_with_cp_and_dd():
    f = fake({"ark": {"media_size": 3 << 20}})
    m = Mount(f, providers=("volc",))
    assert not m.foreground and m.proc is None, "the mount is a daemon"
    assert m.pid != os.getpid() and pid_alive(m.pid)
    t = ark_done(f)[0]
    dst = tempfile.mkdtemp(prefix="aifs-daemon-")
    try:
        m.run("cp", f"volc/{t['id']}/video.mp4", f"{dst}/v.mp4", timeout=30)
        assert sha(f"{dst}/v.mp4") == f.expected("ark", t["id"], "video")["sha256"]
        want = f.expected_bytes("ark", ark_done(f)[1]["id"], "video", 1 << 20, (1 << 20) + 4096)
        p = subprocess.run(["dd", f"if={m.path('volc', ark_done(f)[1]['id'], 'video.mp4')}",
                            "bs=4096", "skip=256", "count=1", "status=none"],
                           capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
        assert p.returncode == 0 and p.stdout == want
    finally:
        subprocess.run(["rm", "-rf", dst])
    # the download threads run in the daemon, not in the process that forked it
    assert threads_of(m.pid) > 4


def test_ffprobe_through_a_daemonized_mount():
    f = fake()
    work = tempfile.mkdtemp(prefix="aifs-ffprobe-")
    try:
        src = os.path.join(work, "in.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                        "-t", "2", "-pix_fmt", "yuv420p", "-y", src], check=True, timeout=60,
                       stdin=subprocess.DEVNULL)
        t = ark_done(f)[0]
        f.media("ark", t["id"], "video", path=src)
        m = Mount(f, providers=("volc",))
        probe = ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height",
                 "-of", "csv=p=0"]
        local = subprocess.run(probe + [src], capture_output=True, text=True, timeout=30).stdout
        got = m.run(*probe, f"volc/{t['id']}/video.mp4", timeout=30).stdout
        assert got == local and "320,240" in got
    finally:
        subprocess.run(["rm", "-rf", work])


def test_nothing_is_left_running_after_unmount():
    f = fake()
    m = Mount(f, providers=("volc",))
    m.run("ls", "-l", "volc")
    pid = m.pid
    subprocess.run(["fusermount3", "-u", m.mnt], check=True, timeout=15)
    wait_for(lambda: not pid_alive(pid), 10, "the daemon to exit after fusermount3 -u")
    assert not os.path.ismount(m.mnt)


def test_sigterm_unmounts_and_exits():
    f = fake()
    m = Mount(f, providers=("volc",))
    m.run("ls", "volc")
    pid = m.pid
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not pid_alive(pid), 10, "the daemon to exit on SIGTERM")
    wait_for(lambda: not os.path.ismount(m.mnt), 5, "the mount to go")
    assert "error" not in m.log().lower()


def test_sigterm_in_the_foreground_exits_0():
    f = fake()
    m = Mount(f, providers=("volc",), foreground=True)
    m.run("ls", "volc")
    os.kill(m.pid, signal.SIGTERM)
    assert m.proc.wait(timeout=10) == 0
    assert not os.path.ismount(m.mnt)


def test_log_file_is_private_and_reopened_on_sighup():
    f = fake()
    m = Mount(f, providers=("volc",), opts=("-o", "retries=0"))
    wait_for(lambda: "mounted" in m.log(), 5, "the first log line")
    assert os.stat(m.logpath).st_mode & 0o777 == 0o600
    rotated = m.logpath + ".1"
    os.rename(m.logpath, rotated)
    m.hup()
    f.fault("ark.get", "http", status=500)
    assert errno_of(os.stat, m.path("volc", "cgt-20990101000000-zzzzz", "status")) == errno.EIO
    wait_for(lambda: os.path.exists(m.logpath) and "HTTP 500" in m.log(), 5,
             "the next line in a new log file")
    with open(rotated) as fh:
        assert "HTTP 500" not in fh.read()
    assert os.stat(m.logpath).st_mode & 0o777 == 0o600


def interrupted_within(m, cmd, f, endpoint, bound=3.0):
    """Runs cmd in the mount; once the fake holds its request, sends SIGINT;
    returns (exit status, seconds from the signal to the exit)."""
    before = f.counter(endpoint)
    p = subprocess.Popen(cmd, cwd=m.mnt, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: f.counter(endpoint) > before, 10, f"{endpoint} to be asked")
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        code = p.wait(timeout=bound + 10)
        return code, time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)


def test_ctrl_c_ends_a_call_blocked_on_a_stalled_provider():
    f = fake()
    m = Mount(f, providers=("volc",), opts=("-o", "timeout=30,retries=0"))
    f.fault("ark.get", "stall", seconds=25)
    code, secs = interrupted_within(m, ["cat", "volc/cgt-20990101000000-stall/status"], f, "ark.get")
    assert code != 0 and secs < 3.0, (code, secs)
    f.fault("ark.list", "stall", seconds=25)
    code, secs = interrupted_within(m, ["ls", "-l", "volc"], f, "ark.list")
    assert code != 0 and secs < 3.0, (code, secs)
    # the mount still answers at once where it needs no provider
    assert m.run("ls", "-a", ".", timeout=5).stdout.split() == [".", "..", ".aifs", "volc"]
    assert '"volc"' in m.run("cat", ".aifs/stats", timeout=5).stdout


def test_remount_right_after_unmount():
    f = fake()
    m = Mount(f, providers=("volc",))
    for _ in range(8):
        m.run("ls", "volc")
        pid = m.pid
        subprocess.run(["fusermount3", "-u", m.mnt], check=True, timeout=15)
        m.pid = None
        m.start()  # at once: the old daemon may still be on its way out
        assert m.pid != pid
        wait_for(lambda: not pid_alive(pid), 10, "the old daemon to exit")


def test_a_busy_cache_names_the_process_holding_it():
    f = fake()
    m = Mount(f, providers=("volc",))
    other = Mount(f, providers=("volc",), cache=m.cache, start=False)
    t0 = time.monotonic()
    p = subprocess.run(other.command(), capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL, env=other.env)
    assert p.returncode == 1
    assert f"pid {m.pid}" in p.stderr, p.stderr
    assert time.monotonic() - t0 < 15


def test_cache_directory_removed_while_mounted():
    f = fake()
    m = Mount(f, providers=("volc",))
    a, b = ark_done(f)[:2]
    dst = tempfile.mkdtemp(prefix="aifs-rm-")
    try:
        m.run("cp", f"volc/{a['id']}/video.mp4", f"{dst}/a")
        subprocess.run(["rm", "-rf", m.cache], check=True)
        # a file read before and one never read: both served, nothing silent
        for t in (a, b):
            m.run("cp", f"volc/{t['id']}/video.mp4", f"{dst}/x")
            assert sha(f"{dst}/x") == f.expected("ark", t["id"], "video")["sha256"]
        assert os.path.isdir(os.path.join(m.cache, "blobs"))
        assert "was removed; made anew" in m.log()
    finally:
        subprocess.run(["rm", "-rf", dst])
