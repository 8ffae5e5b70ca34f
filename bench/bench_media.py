#!/usr/bin/env python3
"""Output-file download speed and economy: aifs against curl, cat, httpdirfs
and rclone mount, all reading the same files from one local nginx.

    python3 bench/bench_media.py [--reps 5] [--quick] [--aifs PATH]

nginx (a child process on 127.0.0.1, private config, sendfile, keepalive,
autoindex) serves a file of random bytes (1 GiB; 256 MiB with --quick) and a
256 MiB MP4 whose moov atom comes after mdat (not faststart). Both are made
once under --media-dir (default /tmp/aifs-bench-media) and reused. The fake
provider API has two succeeded Ark tasks whose content.video_url are those
nginx URLs, so aifs shows them as volc/<id>/video.mp4.

Rows, every contender in the same run, --reps repetitions, medians:
  1  cold read: `cp` out of the mount with an empty cache (unmount, delete
     the cache directory, remount) and the page cache dropped; the
     reference is `curl -s -o FILE URL`.
  2a warm read, page cache kept: `cat FILE > /dev/null` right after the
     complete read; the reference is `cat` of curl's local copy.
  2b warm read, page cache dropped first: the same.
  3  httpdirfs --cache and rclone mount --vfs-cache-mode full in rows 1-2.
  4  ffprobe of the MP4, cold, through each mount and on the URL: time and
     the bytes nginx sent for that file ($body_bytes_sent in its access log,
     counted after the mount is unmounted so cut-off transfers are logged).
Ratios are throughput ratios: reference seconds / contender seconds (1.00 =
as fast as the reference, higher is faster).

Needs root (drop_caches, FUSE), nginx-light, httpdirfs, rclone, ffmpeg,
curl; missing ones are installed with apt-get. Every child is stopped by its
pid, every mount unmounted, the work directory removed; the generated media
stay in --media-dir for the next run. Nothing is written into the repository.
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"), os.path.join(ROOT, "tests", "fake")]
import harness  # noqa: E402

MiB = 1 << 20
GiB = 1 << 30
MP4_SIZE = 256 * MiB
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
TOOLS = {"nginx": "nginx-light", "httpdirfs": "httpdirfs", "rclone": "rclone",
         "ffmpeg": "ffmpeg", "ffprobe": "ffmpeg", "curl": "curl"}
NOTES = []


def note(msg):
    NOTES.append(msg)
    print("  note: " + msg, flush=True)


class Failed(Exception):
    """One measurement failed; the row says so and the run goes on."""


def run(cmd, timeout, shell=False, check=True, **kw):
    try:
        p = subprocess.run(cmd, shell=shell, timeout=timeout, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, **kw)
    except subprocess.TimeoutExpired:
        raise Failed(f"timed out after {timeout}s: {cmd if shell else ' '.join(cmd)}")
    if check and p.returncode != 0:
        raise Failed(f"exit {p.returncode}: {cmd if shell else ' '.join(cmd)}: "
                     f"{(p.stderr or p.stdout).strip()[-400:]}")
    return p


def timed(cmd, timeout):
    """Seconds a shell command took; Failed if it failed or timed out."""
    os.sync()  # dirty pages of the previous step are not this one's cost
    t = time.monotonic()
    run(cmd, timeout, shell=True)
    return time.monotonic() - t


_drop_ok = None


def drop_caches():
    global _drop_ok
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        _drop_ok = True
    except OSError as e:
        if _drop_ok is None:
            note(f"cannot drop the page cache ({e}): 'cold' and 'dropped' rows are not cold")
        _drop_ok = False


# -- tools and media

def ensure_tools():
    missing = sorted({pkg for tool, pkg in TOOLS.items() if not shutil.which(tool)})
    if missing:
        print(f"installing {' '.join(missing)} ...", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            run(["apt-get", "install", "-y", *missing], 900, env=env)
        except Failed as e:
            note(f"apt-get install failed: {e}")
    for tool in TOOLS:
        if not shutil.which(tool):
            note(f"{tool} is not available: its rows fail")


def mp4_boxes(path):
    """Top-level MP4 box types in file order."""
    out, off, size = [], 0, os.path.getsize(path)
    with open(path, "rb") as f:
        while off + 8 <= size:
            f.seek(off)
            head = f.read(16)
            n, kind = struct.unpack(">I4s", head[:8])
            if n == 1:
                n = struct.unpack(">Q", head[8:16])[0]
            elif n == 0:
                n = size - off
            if n < 8:
                raise ValueError(f"bad box at {off}")
            out.append(kind.decode("latin-1"))
            off += n
    return out


def not_faststart(path):
    try:
        b = mp4_boxes(path)
    except (OSError, ValueError, struct.error):
        return False
    return "mdat" in b and "moov" in b and b.index("mdat") < b.index("moov")


def ensure_media(media_dir, rand_size):
    os.makedirs(media_dir, exist_ok=True)
    os.chmod(media_dir, 0o755)
    rand = os.path.join(media_dir, f"random-{rand_size // MiB}m.bin")
    if not (os.path.exists(rand) and os.path.getsize(rand) == rand_size):
        print(f"making {rand} ...", flush=True)
        tmp = rand + ".part"
        run(f"head -c {rand_size} /dev/urandom > '{tmp}'", 600, shell=True)
        os.rename(tmp, rand)
    mp4 = os.path.join(media_dir, "nonfaststart-256m.mp4")
    if not (os.path.exists(mp4) and abs(os.path.getsize(mp4) - MP4_SIZE) < 8 * MiB
            and not_faststart(mp4)):
        print(f"making {mp4} with ffmpeg (about a minute) ...", flush=True)
        tmp = mp4 + ".part.mp4"
        # -fs stops at the size, then the trailer (moov) is written at the end
        run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
             "-i", "testsrc2=size=1920x1080:rate=30", "-t", "900", "-c:v", "libx264",
             "-preset", "ultrafast", "-b:v", "40M", "-maxrate", "40M", "-bufsize", "80M",
             "-pix_fmt", "yuv420p", "-fs", str(MP4_SIZE), tmp], 1200)
        if not not_faststart(tmp):
            raise SystemExit(f"{tmp}: moov is not after mdat ({mp4_boxes(tmp)})")
        os.rename(tmp, mp4)
    for p in (rand, mp4):
        os.chmod(p, 0o644)
    return rand, mp4


# -- child processes

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mounted(path):
    """path is a mount point, dead FUSE mounts (ENOTCONN) included, which
    os.path.ismount() does not see."""
    path = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        return any(line.split()[1].replace("\\040", " ") == path for line in f)


def mounts_under(path):
    path = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        return [m for m in (line.split()[1] for line in f) if m.startswith(path + "/")]


def stop_pid(proc, sig=signal.SIGTERM, timeout=10):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, sig)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout)
    except ProcessLookupError:
        pass


class Nginx:
    def __init__(self, work, root):
        self.prefix = os.path.join(work, "nginx")
        os.makedirs(os.path.join(self.prefix, "logs"))
        self.access = os.path.join(self.prefix, "logs", "access.log")
        self.error = os.path.join(self.prefix, "logs", "error.log")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf = os.path.join(self.prefix, "nginx.conf")
        p = self.prefix
        with open(self.conf, "w") as f:
            f.write(f"""daemon off;
{"user root;" if os.geteuid() == 0 else ""}
worker_processes auto;
pid {p}/nginx.pid;
error_log {self.error} warn;
events {{ worker_connections 1024; }}
http {{
    log_format bench '$msec $status $body_bytes_sent $request_method $uri "$http_range" $http_user_agent';
    access_log {self.access} bench;
    client_body_temp_path {p}/body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    types {{ video/mp4 mp4; application/octet-stream bin; }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{self.port};
        root {root};
        autoindex on;
    }}
}}
""")
        self.proc = None

    def start(self):
        log = open(os.path.join(self.prefix, "stderr"), "wb")
        self.proc = subprocess.Popen(["nginx", "-c", self.conf, "-p", self.prefix + "/"],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"nginx exited: {open(os.path.join(self.prefix, 'stderr')).read()}")
            try:
                with OPENER.open(self.url + "/", timeout=2) as r:
                    r.read()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("nginx did not answer within 10 s")
                time.sleep(0.05)

    def stop(self):
        stop_pid(self.proc, signal.SIGTERM)

    def log_pos(self):
        try:
            return os.path.getsize(self.access)
        except OSError:
            return 0

    def sent(self, since, uri):
        """(requests, body bytes) nginx logged for uri after offset since."""
        reqs = nbytes = 0
        with open(self.access, "rb") as f:
            f.seek(since)
            for line in f.read().decode("latin-1").splitlines():
                parts = line.split(" ", 6)
                if len(parts) >= 5 and parts[4] == uri:
                    reqs += 1
                    nbytes += int(parts[2])
        return reqs, nbytes


class FuseMount:
    """httpdirfs or rclone mount, in the foreground as our child, by pid."""

    def __init__(self, kind, work, url):
        self.kind, self.url = kind, url
        self.dir = os.path.join(work, kind)
        self.mnt = os.path.join(self.dir, "mnt")
        self.cache = os.path.join(self.dir, "cache")
        self.logpath = os.path.join(self.dir, "log")
        os.makedirs(self.mnt)
        self.proc = None

    def command(self):
        if self.kind == "httpdirfs":
            # --no-range-check: httpdirfs 1.2.5 wants Accept-Ranges in the 206
            # answer, which nginx leaves out, and gives up on every file
            # ("does not support HTTP range requests"; httpdirfs issue #188)
            return ["httpdirfs", "-f", "--cache", "--no-range-check", "--cache-location",
                    self.cache, self.url + "/", self.mnt]
        conf = os.path.join(self.dir, "rclone.conf")
        open(conf, "a").close()
        return ["rclone", "mount", ":http:", self.mnt, "--http-url", self.url + "/",
                "--vfs-cache-mode", "full", "--cache-dir", self.cache, "--daemon=false",
                "--config", conf]

    def start(self):
        os.makedirs(self.cache, exist_ok=True)
        log = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=log)
        log.close()
        deadline = time.monotonic() + 20
        while not os.path.ismount(self.mnt):
            if self.proc.poll() is not None:
                raise Failed(f"{self.kind} exited {self.proc.returncode}: {self.log()[-600:]}")
            if time.monotonic() > deadline:
                self.umount()
                raise Failed(f"{self.kind} did not mount within 20 s")
            time.sleep(0.05)

    def path(self, name):
        return os.path.join(self.mnt, name)

    def log(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def umount(self):
        if self.proc is None and not mounted(self.mnt):
            return
        if mounted(self.mnt):
            for tool in ("fusermount3", "fusermount"):
                if subprocess.run([tool, "-u", self.mnt], capture_output=True,
                                  timeout=15).returncode == 0:
                    break
        if self.proc is not None:
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                stop_pid(self.proc, signal.SIGTERM)
            if self.proc.returncode not in (0, None):
                note(f"{self.kind} (pid {self.proc.pid}) exited {self.proc.returncode}: "
                     f"{self.log()[-300:].strip()}")
        if mounted(self.mnt):
            subprocess.run(["fusermount3", "-uz", self.mnt], capture_output=True, timeout=15)
        self.proc = None

    def fresh(self):
        self.umount()
        shutil.rmtree(self.cache, ignore_errors=True)
        self.start()


class AifsMount:
    """aifs over the fake (harness.Mount), with its own cache directory."""

    def __init__(self, fk, work):
        self.fk, self.cache, self.m = fk, os.path.join(work, "aifs-cache"), None

    def fresh(self):
        self.umount()
        shutil.rmtree(self.cache, ignore_errors=True)
        if self.m is None:
            try:
                self.m = harness.Mount(self.fk, providers=("volc",), cache=self.cache,
                                       opts=("-o", "cache_max=8G"))
            except (AssertionError, OSError) as e:
                self.m = None
                raise Failed(f"aifs did not mount: {str(e)[-800:]}")
        else:
            try:
                self.m.start()
            except (AssertionError, OSError) as e:
                raise Failed(f"aifs did not mount: {str(e)[-800:]}")

    def umount(self):
        if self.m is not None and self.m.pid is not None:
            pid = self.m.pid
            try:
                self.m.umount()
            except AssertionError as e:
                note(f"aifs (pid {pid}) at unmount: {str(e)[-600:]}")
            except subprocess.TimeoutExpired:
                note(f"aifs (pid {pid}) did not unmount in time")
        if self.m is not None and mounted(self.m.mnt):  # a crashed aifs leaves a dead mount
            subprocess.run(["fusermount3", "-uz", self.m.mnt], capture_output=True, timeout=15)

    def path(self, name):
        return self.m.path("volc", name, "video.mp4")

    def log(self):
        return self.m.log() if self.m else ""

    def close(self):
        if self.m is not None:
            try:
                self.m.close()
            except Exception as e:  # noqa: BLE001
                note(f"aifs close: {e}")
            self.m = None


# -- measurements

class Results:
    def __init__(self):
        self.t = {}      # (row, contender) -> [seconds]
        self.bytes = {}  # (row, contender) -> [(requests, bytes)]
        self.err = {}    # (row, contender) -> [message]

    def ok(self, key, seconds, sent=None):
        self.t.setdefault(key, []).append(seconds)
        if sent is not None:
            self.bytes.setdefault(key, []).append(sent)

    def fail(self, key, msg):
        self.err.setdefault(key, []).append(msg)
        print(f"  FAILED {key[0]} / {key[1]}: {msg[:300]}", flush=True)

    def median(self, key):
        v = self.t.get(key)
        return statistics.median(v) if v else None


def aifs_errors(log):
    lines = [l for l in log.splitlines() if any(w in l.lower() for w in
             ("error", "fail", "eio", "warn", "timeout", "retry", "refus"))]
    return lines[-15:]


def read_rows(res, name, mountobj, src_path, dest, timeout, url=None):
    """Rows 1, 2a, 2b for one contender. mountobj None: curl, then cat of
    curl's local copy for the warm rows."""
    warm_name = name if mountobj is not None else "cat local"
    try:
        if mountobj is not None:
            mountobj.fresh()  # empty cache; even the lookup is cold
            f = mountobj.path("bench-rand" if name == "aifs" else os.path.basename(src_path))
        else:
            f = dest
        if os.path.exists(dest):
            os.unlink(dest)
    except (Failed, OSError) as e:
        res.fail(("cold", name), f"setup: {e}")
        for row in ("warm", "dropped"):
            res.fail((row, warm_name), f"setup: {e}")
        return
    got = {}
    try:
        drop_caches()
        if mountobj is None:
            got["cold"] = timed(f"curl -sf -o '{dest}' '{url}'", timeout)
        else:
            got["cold"] = timed(f"cp '{f}' '{dest}'", timeout)
    except Failed as e:
        res.fail(("cold", name), str(e))
        for row in ("warm", "dropped"):
            res.fail((row, warm_name), "no complete read to re-read")
        return
    try:
        got["warm"] = timed(f"cat '{f}' > /dev/null", timeout)
    except Failed as e:
        res.fail(("warm", warm_name), str(e))
    try:
        drop_caches()
        got["dropped"] = timed(f"cat '{f}' > /dev/null", timeout)
    except Failed as e:
        res.fail(("dropped", warm_name), str(e))
    # checked after the re-reads, which must find the page cache as cp left it
    p = run(["cmp", dest, src_path], timeout, check=False)
    os.unlink(dest)
    if p.returncode != 0:
        msg = f"the copy differs from the served file: {(p.stdout + p.stderr).strip()}"
        res.fail(("cold", name), msg)
        for row in ("warm", "dropped"):
            if row in got:
                res.fail((row, warm_name), "cached copy is wrong: " + msg)
        return
    for row, secs in got.items():
        res.ok((row, name if row == "cold" else warm_name), secs)


PROBE = "ffprobe -v error -show_format -show_streams"


def ffprobe_row(res, name, mountobj, ngx, mp4, timeout, settle, out, expect):
    """out: where ffprobe's answer goes; expect: its answer on the local file
    (the filename line aside)."""
    key = ("ffprobe", name)
    uri = "/" + os.path.basename(mp4)
    try:
        if mountobj is None:
            target = ngx.url + uri
        else:
            mountobj.fresh()
            target = mountobj.path(os.path.basename(mp4)) if name != "aifs" else \
                mountobj.path("bench-mp4")
        drop_caches()
        since = ngx.log_pos()
        secs = timed(f"{PROBE} '{target}' > '{out}'", timeout)
        time.sleep(settle)
        if mountobj is not None:
            mountobj.umount()  # ends cut-off transfers, so nginx logs them
        time.sleep(0.2)
        with open(out) as f:
            got = [l for l in f.read().splitlines() if not l.startswith("filename=")]
        if got != expect:
            raise Failed(f"ffprobe's answer differs from the local file's: {len(got)} lines "
                         f"vs {len(expect)}")
        res.ok(key, secs, ngx.sent(since, uri))
    except Failed as e:
        res.fail(key, str(e))


# -- report

def fmt_s(v):
    return f"{v:8.3f}" if v is not None else "       -"


def report(res, rand_size, mp4_size, reps):
    rows = [
        ("cold", f"1  cold read {rand_size // MiB} MiB (cp / curl)", "curl",
         ["curl", "aifs", "httpdirfs", "rclone"], rand_size),
        ("warm", "2a warm re-read, page cache kept", "cat local",
         ["cat local", "aifs", "httpdirfs", "rclone"], rand_size),
        ("dropped", "2b warm re-read, page cache dropped", "cat local",
         ["cat local", "aifs", "httpdirfs", "rclone"], rand_size),
        ("ffprobe", f"4  ffprobe {mp4_size / MiB:.0f} MiB MP4, moov at end", "ffprobe URL",
         ["ffprobe URL", "aifs", "httpdirfs", "rclone"], mp4_size),
    ]
    print()
    print(f"median of {reps} reps; MB/s = 10^6 B/s of the file's size; "
          f"x ref = reference seconds / seconds (higher is faster)")
    hdr = (f"{'row':<40}{'contender':<13}{'median s':>9}{'min-max s':>17}{'MB/s':>9}"
           f"{'x ref':>7}{'requests':>10}{'bytes fetched':>15}{'% of file':>11}")
    print(hdr)
    print("-" * len(hdr))
    for row, label, ref, names, size in rows:
        refm = res.median((row, ref))
        for i, name in enumerate(names):
            k = (row, name)
            m = res.median(k)
            lab = label if i == 0 else ""
            if m is None:
                msg = (res.err.get(k) or ["not run"])[0]
                print(f"{lab:<40}{name:<13}{'FAILED: ' + msg[:120]}")
                continue
            v = res.t[k]
            line = (f"{lab:<40}{name:<13}{m:9.3f}{min(v):8.3f}-{max(v):<8.3f}"
                    f"{size / m / 1e6:9.1f}"
                    f"{(refm / m if refm else float('nan')):7.2f}")
            if row == "ffprobe":
                b = res.bytes.get(k, [])
                if b:
                    rq = statistics.median(x[0] for x in b)
                    nb = statistics.median(x[1] for x in b)
                    line += f"{rq:10.0f}{nb:15,.0f}{100 * nb / size:10.2f}%"
            nerr = len(res.err.get(k, []))
            if nerr:
                line += f"  ({nerr} failed reps)"
            print(line)
    print()

    def ratio(row, ref):
        a, r = res.median((row, "aifs")), res.median((row, ref))
        return None if a is None or r is None else r / a

    def verdict(ok):
        return "PASS" if ok else "MISS"

    print("targets")
    c = ratio("cold", "curl")
    print(f"  cold aifs/curl throughput >= 0.95: "
          f"{'n/a (failed)' if c is None else f'{c:.2f}  ' + verdict(c >= 0.95)}")
    for row, what in (("warm", "page cache kept"), ("dropped", "page cache dropped")):
        w = ratio(row, "cat local")
        print(f"  warm aifs/cat >= 0.8 ({what}): "
              f"{'n/a (failed)' if w is None else f'{w:.2f}  ' + verdict(w >= 0.8)}")
    misses, checked, skipped = [], 0, []
    for row in ("cold", "warm", "dropped", "ffprobe"):
        a = res.median((row, "aifs"))
        for other in ("httpdirfs", "rclone"):
            o = res.median((row, other))
            if o is None:
                skipped.append(f"{row} vs {other} ({other} failed or not run)")
                continue
            checked += 1
            if a is None or a >= o:
                misses.append(f"{row} time vs {other} "
                              f"({'failed' if a is None else f'{a:.3f}s'} vs {o:.3f}s)")
            if row == "ffprobe" and res.bytes.get((row, other)):
                ab = [x[1] for x in res.bytes.get((row, "aifs"), [])]
                ob = statistics.median(x[1] for x in res.bytes[(row, other)])
                checked += 1
                if not ab or statistics.median(ab) >= ob:
                    misses.append(f"ffprobe bytes vs {other}")
    print(f"  aifs ahead of httpdirfs and rclone on every row ({checked} comparisons): "
          f"{verdict(not misses and checked > 0)}"
          + "".join("\n    behind: " + m for m in misses)
          + "".join("\n    not compared: " + m for m in skipped))
    ab = [x[1] for x in res.bytes.get(("ffprobe", "aifs"), [])]
    if ab:
        pct = 100 * statistics.median(ab) / mp4_size
        print(f"  ffprobe through aifs fetches <= 2% of the MP4: {pct:.2f}%  {verdict(pct <= 2)}")
    else:
        print("  ffprobe through aifs fetches <= 2% of the MP4: n/a (failed)  MISS")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=None, help="repetitions (default 5; 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="1 rep, 256 MiB random file")
    ap.add_argument("--media-dir", default="/tmp/aifs-bench-media")
    ap.add_argument("--aifs", default=None, help="aifs binary (default: $AIFS_BIN or ./aifs)")
    ap.add_argument("--timeout", type=int, default=300, help="per timed command, s")
    ap.add_argument("--settle", type=float, default=1.0,
                    help="s after ffprobe before unmounting (read-ahead still counts)")
    ap.add_argument("--skip", default="", help="comma list of httpdirfs,rclone,aifs to leave out")
    a = ap.parse_args()
    reps = a.reps or (1 if a.quick else 5)
    rand_size = 256 * MiB if a.quick else GiB
    skip = set(filter(None, a.skip.split(",")))
    if a.aifs:
        harness.AIFS = os.path.abspath(a.aifs)
    if os.geteuid() != 0:
        note("not root: drop_caches and installs will fail")

    def on_signal(sig, frame):
        raise KeyboardInterrupt(f"signal {sig}")
    signal.signal(signal.SIGTERM, on_signal)

    ensure_tools()
    rand, mp4 = ensure_media(a.media_dir, rand_size)
    mp4_size = os.path.getsize(mp4)
    work = tempfile.mkdtemp(prefix="aifs-bench-media-")
    ngx = aifsm = None
    mounts = {}
    res = Results()
    try:
        ngx = Nginx(work, a.media_dir)
        ngx.start()
        fk = harness.fake({"ark": {"count": 0}})
        for tid, path in (("bench-rand", rand), ("bench-mp4", mp4)):
            fk.set_task("ark", tid, status="succeeded", outputs={},
                        content={"video_url": f"{ngx.url}/{os.path.basename(path)}"})
        if "aifs" not in skip:
            aifsm = AifsMount(fk, work)
        for kind in ("httpdirfs", "rclone"):
            if kind not in skip and shutil.which(kind):
                mounts[kind] = FuseMount(kind, work, ngx.url)
        load0 = os.getloadavg()
        if load0[0] > 1.0:
            note(f"load average {load0[0]:.2f} at the start: other work shares the CPUs, "
                 "times are noisy")
        print(f"aifs {harness.AIFS}; nginx {ngx.url}; {reps} reps; "
              f"random {rand_size // MiB} MiB, MP4 {mp4_size:,} B; work dir {work}", flush=True)
        rand_url = f"{ngx.url}/{os.path.basename(rand)}"
        dest = os.path.join(work, "copy.bin")
        probe_out = os.path.join(work, "probe.txt")
        expect = [l for l in run(f"{PROBE} '{mp4}'", 120, shell=True).stdout.splitlines()
                  if not l.startswith("filename=")]
        contenders = [("curl", None)] + ([("aifs", aifsm)] if aifsm else []) + list(mounts.items())
        for rep in range(reps):
            print(f"rep {rep + 1}/{reps}", flush=True)
            for name, mo in contenders:
                t0 = time.monotonic()
                read_rows(res, name, mo, rand, dest, a.timeout, url=rand_url)
                if mo is not None:
                    mo.umount()
                print(f"  {name}: reads done in {time.monotonic() - t0:.1f}s", flush=True)
            for name, mo in [("ffprobe URL", None)] + contenders[1:]:
                ffprobe_row(res, name, mo, ngx, mp4, a.timeout, a.settle, probe_out, expect)
        if aifsm and aifsm.m and any(k[1] == "aifs" for k in res.err):
            print("\naifs log, lines about errors (last 15):")
            for line in aifs_errors(aifsm.log()):
                print("  " + line)
        report(res, rand_size, mp4_size, reps)
        print(f"load average at start {load0[0]:.2f}, at end {os.getloadavg()[0]:.2f} "
              f"({os.cpu_count()} CPUs)")
        if NOTES:
            print("\nnotes:\n" + "\n".join("  " + n for n in NOTES))
        for k, msgs in sorted(res.err.items()):
            print(f"failures {k[0]} / {k[1]}: " + " | ".join(sorted(set(m[:300] for m in msgs))))
    finally:
        for mo in mounts.values():
            try:
                mo.umount()
            except Exception as e:  # noqa: BLE001
                print(f"unmount {mo.kind}: {e}")
        if aifsm:
            aifsm.close()
        try:
            harness.cleanup_all()
        except Exception as e:  # noqa: BLE001
            print(f"cleanup: {e}")
        if ngx:
            ngx.stop()
        left = mounts_under(work)
        if left:
            print(f"still mounted, {work} kept: {left}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
