#!/usr/bin/env python3
"""Listing economy and speed: a cold `ls -l`, a warm `ls -l`, and
`cat */status` after the listing, over N Ark tasks served by the fake API;
API requests counted by the fake, wall time, and the daemon's peak RSS.
The reference is the fake's own answer: the same listing fetched with curl.

    python3 bench/bench_listing.py [--tasks 10000] [--runs 3]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"), os.path.join(ROOT, "tests", "fake")]
import harness  # noqa: E402


def timed(m, cmd):
    t = time.monotonic()
    m.run("sh", "-c", cmd, timeout=600)
    return time.monotonic() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    rows = {"curl": []}
    reqs = {}
    rss = []
    try:
        for _ in range(a.runs):
            f = harness.fake({"ark": {"count": a.tasks}})
            key = f.credentials("ark")["api_key"]
            pages = -(-a.tasks // 500)
            urls = " ".join(f"'{f.base('ark')}/contents/generations/tasks?page_num={p}&page_size=500'"
                            for p in range(1, pages + 1))
            t = time.monotonic()
            subprocess.run(f"curl -sf -H 'Authorization: Bearer {key}' {urls} > /dev/null",
                           shell=True, check=True)
            rows["curl"].append(time.monotonic() - t)
            f.reset_counters()
            # the default rate limit (ark: 3 qps), then none to speak of
            for tag, opts in (("", ()), ("fast", ("-o", "qps=1000,burst=1000"))):
                m = harness.Mount(f, providers=("volc",), global_extra="", opts=opts)
                for name, cmd in (("cold", "ls -l volc > /dev/null"),
                                  ("warm", "ls -l volc > /dev/null"),
                                  ("cat", "printf '%s\\0' volc/*/status | xargs -0 cat > /dev/null")):
                    before = sum(v for k, v in f.counters().items() if k in ("ark.list", "ark.get"))
                    rows.setdefault(name + tag, []).append(timed(m, cmd))
                    after = sum(v for k, v in f.counters().items() if k in ("ark.list", "ark.get"))
                    reqs[name + tag] = after - before
                rss.append(m.rss_kb())
                m.close()
            harness.cleanup_all()
    finally:
        harness.cleanup_all()
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"{a.tasks} Ark tasks, median of {a.runs} runs")
    print(f"{'step':<34}{'API requests':>14}{'seconds':>10}{'vs curl':>10}")
    print(f"{'curl of every list page':<34}{-(-a.tasks // 500):>14}{med['curl']:>10.3f}{1:>10.2f}")
    for name, label in (("cold", "cold ls -l, qps 3 (default)"),
                        ("coldfast", "cold ls -l, qps 1000"),
                        ("warm", "warm ls -l (within TTL)"),
                        ("cat", "cat */status after listing")):
        print(f"{label:<34}{reqs[name]:>14}{med[name]:>10.3f}{med[name] / med['curl']:>10.2f}")
    print(f"peak RSS of the daemon: {max(rss) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
