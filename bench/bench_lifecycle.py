#!/usr/bin/env python3
"""The task lifecycle under load, through a real daemonized mount.

exactly-once soak: --labels submissions (each a request with a text of its
own) written into volc/.new by --writers threads, with --fault-rate of the
creates failing at the fake (429, 503, 500, a stall after the task was
made, a reset after it was made, a reset before), and the daemon killed
with SIGKILL every --kill-every seconds (at a random moment around it) and
mounted again. A writer whose close failed because the daemon died writes
its label again once the mount is back (as a user would); one that meets
EEXIST or an unknown outcome stops. Counted at the end, from the fake's
record of every create request and from .new after a last remount:
  duplicates  tasks the fake made more than once for one label (goal 0)
  lost        labels whose task the fake made but that .new does not show
              as created or unknown, or whose close said 0 without a link
              (goal 0)
  unknown     labels left unknown (the price of exactly once)

waiters: --waiters readers of `cat .wait` spread over --tasks running tasks;
then every task is finished at the fake at once. Reported: the daemon's
threads (FUSE threads included) and RSS while they wait, API requests per
ttl while they wait (the reference: what one waiter alone costs), the
latency of `ls` meanwhile beside `ls` of a local directory, and the delay
from the fake's status change to each waiter's return (goal <= ttl + 1 s).

    python3 bench/bench_lifecycle.py [--labels 1000] [--waiters 1000] [--tasks 100]
"""
import argparse
import errno
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"), os.path.join(ROOT, "tests", "fake")]
import harness  # noqa: E402

FAULTS = [("http", {"status": 429, "retry_after": 0}), ("http", {"status": 503}),
          ("http", {"status": 500}), ("stall_after_create", {"seconds": 4}),
          ("reset_after_create", {}), ("reset", {})]


def body(i):
    return json.dumps({"model": "doubao-seedance-1-0-pro-250528",
                       "content": [{"type": "text", "text": f"soak label {i}"}]}) + "\n"


def soak(a):
    f = harness.fake({"ark": {"count": 1}})
    f.ratelimit("ark", 0)
    f.faults(*[{"endpoint": "ark.create", "kind": k, "prob": a.fault_rate / len(FAULTS), **p}
               for k, p in FAULTS])
    m = harness.Mount(f, providers=("volc",), global_extra="qps = 200\nburst = 200",
                      opts=("-o", "timeout=2,retries=2"))
    todo = list(range(a.labels))
    lock = threading.Lock()
    said_ok = set()
    mounted = threading.Event()
    mounted.set()
    stop = threading.Event()
    kills = [0]

    def writer():
        while not stop.is_set():
            with lock:
                if not todo:
                    return
                i = todo.pop()
            while not stop.is_set():
                mounted.wait(60)
                path = m.path("volc", ".new", f"l{i}.json")
                try:
                    with open(path, "w") as fh:
                        fh.write(body(i))
                    said_ok.add(i)
                    break
                except OSError as e:
                    if e.errno in (errno.ENOTCONN, errno.ECONNABORTED, errno.ENOENT):
                        time.sleep(0.2)  # the daemon died under us: again once it is back
                        continue
                    break  # EEXIST, EIO (unknown), EAGAIN...: this label is done

    def killer():
        rng = random.Random(a.seed)
        while not stop.wait(rng.uniform(a.kill_every * 0.5, a.kill_every * 1.5)):
            mounted.clear()
            try:
                os.kill(m.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            m.wait_gone(15)
            subprocess.run(["fusermount3", "-uz", m.mnt], capture_output=True, timeout=15)
            m.pid = None
            m.start()
            kills[0] += 1
            mounted.set()

    t0 = time.monotonic()
    ws = [threading.Thread(target=writer, daemon=True) for _ in range(a.writers)]
    k = threading.Thread(target=killer, daemon=True)
    for w in ws:
        w.start()
    k.start()
    for w in ws:
        w.join(timeout=a.labels * 2)
    stop.set()
    k.join(timeout=60)
    took = time.monotonic() - t0
    m.umount()
    f.clear_faults()
    m.start()
    made = {}
    for c in f.creates("ark"):
        if c["id"]:
            text = json.loads(c["body"])["content"][0]["text"]
            made.setdefault(int(text.split()[-1]), []).append(c["id"])
    dup = sum(1 for ids in made.values() if len(ids) > 1)
    new = m.path("volc", ".new")
    names = set(os.listdir(new))
    created = {int(n[1:]) for n in names if not n.endswith((".json", ".error"))}
    unknown = set()
    for n in names:
        if n.endswith(".error"):
            with open(os.path.join(new, n)) as fh:
                if fh.read().startswith("unknown:"):
                    unknown.add(int(n[1:-6]))
    lost = {i for i in made if i not in created and i not in unknown}
    lost |= {i for i in said_ok if i not in created}
    sent = len(f.creates("ark"))
    m.close()
    return {"labels": a.labels, "create requests": sent, "tasks made": sum(map(len, made.values())),
            "daemon kills": kills[0], "duplicates": dup, "lost": len(lost),
            "unknown": len(unknown), "created": len(created), "seconds": round(took, 1)}


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as fh:
        for ln in fh:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1]) / 1024
    return 0


def timed_ls(path):
    t = time.monotonic()
    subprocess.run(["ls", "-l", path], capture_output=True, timeout=30, check=True)
    return time.monotonic() - t


def waiters(a):
    f = harness.fake({"ark": {"count": 1}})
    f.ratelimit("ark", 0)
    ttl = a.ttl
    ids = [f"cgt-20991231000000-w{i:04d}" for i in range(a.tasks)]
    for i in ids:
        f.set_task("ark", i, status="running")
    m = harness.Mount(f, providers=("volc",), global_extra=f"qps = 50\nburst = 50\nttl = {ttl}")
    m.run("ls", "volc")
    base_threads = threads(m.pid)
    # one waiter alone, for reference
    f.reset_counters()
    one = subprocess.Popen(["cat", m.path("volc", ids[0], ".wait")], stdout=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL)
    time.sleep(ttl * 4)
    c = f.counters()
    one_cost = (c.get("ark.get", 0) + c.get("ark.list", 0)) / 4
    one.kill()
    one.wait()
    procs = [subprocess.Popen(["cat", m.path("volc", ids[i % a.tasks], ".wait")],
                              stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for i in range(a.waiters)]
    time.sleep(ttl)
    f.reset_counters()
    local = tempfile.mkdtemp(prefix="aifs-bench-ls-")
    for i in ids:
        os.mkdir(os.path.join(local, i))
    ls_aifs, ls_local = [], []
    t0 = time.monotonic()
    peak_threads, peak_rss = 0, 0
    while time.monotonic() - t0 < ttl * 4:
        ls_aifs.append(timed_ls(m.path("volc")))
        ls_local.append(timed_ls(local))
        peak_threads = max(peak_threads, threads(m.pid))
        peak_rss = max(peak_rss, rss_mib(m.pid))
        time.sleep(0.1)
    c = f.counters()
    many_cost = (c.get("ark.get", 0) + c.get("ark.list", 0)) / ((time.monotonic() - t0) / ttl)
    alive = sum(1 for p in procs if p.poll() is None)
    t_change = time.monotonic()
    for i in ids:
        f.set_task("ark", i, status="succeeded")
    delays = []
    for p in procs:
        p.wait(timeout=ttl * 10 + 60)
        delays.append(time.monotonic() - t_change)
    ok = sum(1 for p in procs if p.returncode == 0 and p.stdout.read() == b"succeeded\n")
    subprocess.run(["rm", "-rf", local])
    m.close()
    return {"waiters": a.waiters, "tasks": a.tasks, "waiting when finished": alive,
            "answered right": ok, "daemon threads idle": base_threads,
            "daemon threads with waiters (peak)": peak_threads,
            "daemon RSS MiB (peak)": round(peak_rss, 1),
            f"API requests per ttl ({ttl} s), 1 waiter": round(one_cost, 2),
            f"API requests per ttl ({ttl} s), all waiters": round(many_cost, 2),
            "ls -l median s: aifs": round(statistics.median(ls_aifs), 4),
            "ls -l median s: local dir": round(statistics.median(ls_local), 4),
            "ls -l ratio": round(statistics.median(ls_aifs) / statistics.median(ls_local), 2),
            "delay to return s: median": round(statistics.median(delays), 2),
            "delay to return s: max": round(max(delays), 2),
            "goal ttl + 1 s": ttl + 1}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", type=int, default=1000)
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--fault-rate", type=float, default=0.10)
    ap.add_argument("--kill-every", type=float, default=8.0)
    ap.add_argument("--waiters", type=int, default=1000)
    ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--ttl", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", choices=("soak", "waiters"))
    a = ap.parse_args()
    try:
        if a.only != "waiters":
            print("exactly-once soak:")
            for k, v in soak(a).items():
                print(f"  {k:40} {v}")
        if a.only != "soak":
            print("waiters:")
            for k, v in waiters(a).items():
                print(f"  {k:40} {v}")
    finally:
        harness.cleanup_all()


if __name__ == "__main__":
    main()
