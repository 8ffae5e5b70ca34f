#!/usr/bin/env python3
"""A fleet on one account: --mounts daemonized mounts of one Ark account,
each with qps = --qps, hammer it for --secs seconds: every mount lists
(`ls -l` after SIGHUP, so each listing asks again) and looks up ids that
do not exist, from two threads each. The fake enforces the account's real
budget (--qps, burst = qps) and answers 429 past it. Run twice, side by
side: cluster mode on (one redis-server of the bench's own) and off.

Reported per run: API requests per second at the fake (goal <= qps with
cluster mode on), 429 answers (goal 0), and the API requests one `ls -l`
costs on all the mounts against what it costs on one (goal: equal).

    python3 bench/bench_cluster.py [--mounts 8] [--qps 5] [--secs 120] [--tasks 1200]
"""
import argparse
import os
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"), os.path.join(ROOT, "tests", "fake")]
import harness  # noqa: E402


def ark_requests(f, since):
    return [e for e in f.log(since=since) if e["endpoint"].startswith("ark.")]


def run(a, cluster):
    f = harness.fake({"ark": {"count": a.tasks}})
    f.ratelimit("ark", a.qps, burst=a.qps)
    r = harness.Redis() if cluster else None
    opts = ("-o", f"redis={r.url}") if r else ()
    ms = [harness.Mount(f, providers=("volc",), opts=(*opts, "-o", "timeout=30"),
                        global_extra=f"qps = {a.qps}\nburst = {a.qps}\nttl = 10")
          for _ in range(a.mounts)]
    try:
        # one cold `ls -l` on one mount, then, once every answer is older
        # than the TTL, a cold one on all at once: what a listing costs
        t = f.now()
        ms[0].run("ls", "-l", ms[0].path("volc"), timeout=300)
        one = len(ark_requests(f, t))
        time.sleep(10 + 1)
        t = f.now()
        threads = [threading.Thread(target=m.run, args=("ls", "-l", m.path("volc")),
                                    kwargs={"timeout": 300}) for m in ms]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        all_reqs = ark_requests(f, t)
        all_ = len(all_reqs)
        if a.verbose:
            print("ls -l on all mounts:", [(e["endpoint"], e.get("query") or e.get("path"))
                                          for e in all_reqs], file=sys.stderr)
        throttled0 = f.counter("ark.throttled")

        t0 = f.now()
        stop = time.monotonic() + a.secs

        def lister(m):
            while time.monotonic() < stop:
                m.hup()
                m.run("ls", "-l", m.path("volc"), check=False, timeout=300)

        def getter(m, k):
            i = 0
            while time.monotonic() < stop:
                os.path.exists(m.path("volc", f"cgt-20990101000000-b{k}x{i}"))
                i += 1

        threads = [threading.Thread(target=lister, args=(m,)) for m in ms]
        threads += [threading.Thread(target=getter, args=(m, k)) for k, m in enumerate(ms)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        span = f.now() - t0
        reqs = ark_requests(f, t0)
        return {"rps": len(reqs) / span, "requests": len(reqs), "secs": span,
                "throttled": f.counter("ark.throttled") - throttled0,
                "ls_one": one, "ls_all": all_}
    finally:
        harness.cleanup_all()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mounts", type=int, default=8)
    ap.add_argument("--qps", type=float, default=5)
    ap.add_argument("--secs", type=float, default=120)
    ap.add_argument("--tasks", type=int, default=1200)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    rows = [("cluster mode on (Redis)", run(a, True)), ("cluster mode off", run(a, False))]
    print(f"{a.mounts} mounts, one account, qps = burst = {a.qps:g}, {a.secs:g} s, "
          f"{a.tasks} tasks ({-(-a.tasks // 500)} pages)")
    print(f"{'':26} {'req/s at fake':>14} {'/ qps':>7} {'429s':>6} "
          f"{'ls -l: 1 mount':>15} {'all mounts':>11} {'ratio':>6}")
    for name, r in rows:
        print(f"{name:26} {r['rps']:14.2f} {r['rps'] / a.qps:7.2f} {r['throttled']:6d} "
              f"{r['ls_one']:15d} {r['ls_all']:11d} {r['ls_all'] / max(1, r['ls_one']):6.2f}")


if __name__ == "__main__":
    main()
