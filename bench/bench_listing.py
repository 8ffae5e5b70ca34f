#!/usr/bin/env python3
"""Listing economy and speed over N Ark tasks served by the fake API, each
row beside its reference, measured in the same run:

  cold `ls -l` (-o qps=1000)     curl of the same pages, one after another
  warm `ls -l` (within the TTL)  `ls -l` of a local tree of N directories
  `cat */status` after listing   the same over the local tree
  the same `cat` again           the same over the local tree

API requests are counted by the fake. Printed: medians of the runs, and the
median of each run's ratio to its reference. `--default-qps` adds a cold
listing at ark's default rate (3 qps), which the rate limit bounds.
`--latency S` adds a cold listing and its curl reference with every list
answer delayed S seconds by the fake, as a distant API's would be (the
fake renders pages on one core: without latency it bounds both).

    python3 bench/bench_listing.py [--tasks 10000] [--runs 5] [--default-qps] [--latency 0.05]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"), os.path.join(ROOT, "tests", "fake")]
import harness  # noqa: E402

CAT = "printf '%s\\0' volc/*/status | xargs -0 cat > /dev/null"


def timed(cwd, cmd):
    t = time.monotonic()
    subprocess.run(["sh", "-c", cmd], cwd=cwd, check=True, timeout=600,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return time.monotonic() - t


def local_tree(mnt, top):
    """A local copy of the mount's task directories (status files only)."""
    os.makedirs(os.path.join(top, "volc"))
    for name in os.listdir(os.path.join(mnt, "volc")):
        d = os.path.join(top, "volc", name)
        os.mkdir(d)
        with open(os.path.join(d, "status"), "w") as f:
            f.write("succeeded\n")


def api_requests(f):
    return sum(v for k, v in f.counters().items() if k in ("ark.list", "ark.get"))


def one_run(a, rows, reqs):
    f = harness.fake({"ark": {"count": a.tasks}})
    key = f.credentials("ark")["api_key"]
    pages = -(-a.tasks // 500)
    urls = " ".join(f"'{f.base('ark')}/contents/generations/tasks?page_num={p}&page_size=500'"
                    for p in range(1, pages + 1))
    local = tempfile.mkdtemp(prefix="aifs-bench-local-")
    try:
        t = time.monotonic()
        subprocess.run(f"curl -sf -H 'Authorization: Bearer {key}' {urls} > /dev/null",
                       shell=True, check=True)
        rows.setdefault("curl", []).append(time.monotonic() - t)
        variants = [("", ("-o", "qps=1000,burst=1000"))]
        if a.default_qps:
            variants.append(("slow", ()))
        if a.latency:
            variants.append(("lat", ("-o", "qps=1000,burst=1000")))
        for tag, opts in variants:
            if tag == "lat":
                f.fault("ark.list", "delay", seconds=a.latency)
                t = time.monotonic()
                subprocess.run(f"curl -sf -H 'Authorization: Bearer {key}' {urls} > /dev/null",
                               shell=True, check=True)
                rows.setdefault("curllat", []).append(time.monotonic() - t)
            m = harness.Mount(f, providers=("volc",), global_extra="", opts=opts)
            steps = [("cold", "ls -l volc > /dev/null")]
            if not tag:
                steps += [("warm", "ls -l volc > /dev/null"), ("cat", CAT), ("cat2", CAT)]
            for name, cmd in steps:
                before = api_requests(f)
                rows.setdefault(name + tag, []).append(timed(m.mnt, cmd))
                reqs[name + tag] = api_requests(f) - before
            if not tag:
                local_tree(m.mnt, local)
                rows.setdefault("local_ls", []).append(timed(local, "ls -l volc > /dev/null"))
                rows.setdefault("local_cat", []).append(timed(local, CAT))
                rows.setdefault("local_cat2", []).append(timed(local, CAT))
            m.close()
    finally:
        harness.cleanup_all()
        shutil.rmtree(local, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--default-qps", action="store_true")
    ap.add_argument("--latency", type=float, default=0.0)
    a = ap.parse_args()
    rows, reqs = {}, {}
    for _ in range(a.runs):
        one_run(a, rows, reqs)
    med = {k: statistics.median(v) for k, v in rows.items()}

    def ratio(name, ref):
        return statistics.median(x / y for x, y in zip(rows[name], rows[ref]))

    pages = -(-a.tasks // 500)
    print(f"{a.tasks} Ark tasks, median of {a.runs} runs; ratio: median of each run's own")
    print(f"{'step':<30}{'API req':>8}{'aifs s':>9}{'reference':<34}{'ref s':>8}{'ratio':>8}")
    table = [("cold ls -l, qps 1000", "cold", "curl of the pages in turn", "curl"),
             ("warm ls -l (within TTL)", "warm", "ls -l of a local tree", "local_ls"),
             ("cat */status after ls", "cat", "the same over the local tree", "local_cat"),
             ("cat */status again", "cat2", "the same over the local tree", "local_cat2")]
    if a.default_qps:
        table.append(("cold ls -l, qps 3 (default)", "coldslow", "curl of the pages in turn",
                      "curl"))
    if a.latency:
        table.append((f"cold ls -l, {a.latency * 1000:.0f} ms answers", "coldlat",
                      "curl in turn, the same latency", "curllat"))
    for label, name, rlabel, ref in table:
        print(f"{label:<30}{reqs[name]:>8}{med[name]:>9.3f}  {rlabel:<32}{med[ref]:>8.3f}"
              f"{ratio(name, ref):>8.2f}")
    print(f"(curl makes {pages} requests)")


if __name__ == "__main__":
    main()
