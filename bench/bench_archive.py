#!/usr/bin/env python3
"""The archive's cost, beside its reference, in one run over the fake API
on 127.0.0.1 (daemonized mounts, a fresh cache each):

  archive     time for the archiver to keep every output of --tasks
              succeeded Ark tasks of --size MiB each (no read by anybody),
              and its rate beside curl fetching the same bytes one by one
  cp alone    a user's cp of a --user-size MiB output of another provider,
              with no archiving (the reference)
  cp beside   the same cp while the archiver runs: SPEC asks that it lose no
              more than the bandwidth the archiver's two transfers take

    python3 bench/bench_archive.py [--tasks 50] [--size 20] [--user-size 400] [--runs 3]
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

ARCHIVE = "archive = yes\narchive_min_free = 0"


def outputs(f, provider):
    out = []
    for t in f.tasks(provider):
        if t["status"] != "succeeded":
            continue
        for slot in ("video", "last_frame", "file"):
            if (t.get("content") or {}).get(f"{slot}_url"):
                out.append((t["id"], slot, f.expected(provider, t["id"], slot, hash=False)))
    return out


def records(m):
    d = os.path.join(m.cache, "archive", "volc")
    return len([n for n in os.listdir(d) if n.endswith(".rec")]) if os.path.isdir(d) else 0


def timed_cp(m, path, dst):
    t = time.monotonic()
    subprocess.run(["cp", m.path(*path), dst], check=True, timeout=600)
    took = time.monotonic() - t
    os.unlink(dst)
    return took


def run_once(a, work):
    f = harness.fake({"ark": {"count": a.tasks, "mix": {"succeeded": 1}, "media_size": a.size << 20},
                      "relay": {"count": 2, "mix": {"succeeded": 1}, "media_size": a.user_size << 20}})
    f.ratelimit("ark", 0)
    arch = outputs(f, "ark")
    total = sum(e["size"] for _, _, e in arch)
    user = [(tid, e) for tid, slot, e in outputs(f, "relay") if slot == "video"][:2]
    dst = os.path.join(work, "copy")
    row = {}
    # curl: the same archive bytes, one file after another
    t = time.monotonic()
    for _, _, e in arch:
        subprocess.run(["curl", "-sf", "-o", "/dev/null", e["url"]], check=True, timeout=600)
    row["curl"] = time.monotonic() - t
    # the reference cp: nothing archives
    m = harness.Mount(f, providers=("relay",), global_extra="qps = 50\nburst = 50")
    m.run("ls", "relay")
    row["cp alone"] = timed_cp(m, ("relay", user[0][0], "video.mp4"), dst)
    m.close()
    # the archive, with a cp beside it
    m = harness.Mount(f, providers=("volc", "relay"), global_extra="qps = 50\nburst = 50",
                      section_extra={"volc": ARCHIVE})
    m.run("ls", "relay")
    f.reset_counters()
    t0 = time.monotonic()
    m.run("ls", "volc")  # the archiver starts
    time.sleep(0.5)
    row["cp beside"] = timed_cp(m, ("relay", user[1][0], "video.mp4"), dst)
    harness.wait_for(lambda: records(m) == a.tasks, 1200, "the whole archive")
    row["archive"] = time.monotonic() - t0
    row["bytes"] = total
    row["outputs"] = len(arch)
    row["fetched"] = f.counters().get("media.bytes", 0)
    m.close()
    f.stop()
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=50)
    ap.add_argument("--size", type=int, default=20, help="MiB per Ark output")
    ap.add_argument("--user-size", type=int, default=400, help="MiB of the user's cp")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="aifs-bench-archive-")
    rows = []
    try:
        for _ in range(a.runs):
            rows.append(run_once(a, work))
    finally:
        harness.cleanup_all()
        shutil.rmtree(work, ignore_errors=True)
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    mib = med["bytes"] / (1 << 20)
    user = a.user_size
    print(f"archive of {int(med['outputs'])} outputs, {mib:.0f} MiB (medians of {a.runs}):")
    print(f"  {'':28} {'s':>8} {'MiB/s':>8} {'ratio':>6}")
    print(f"  {'curl, one by one':28} {med['curl']:8.2f} {mib / med['curl']:8.0f} {1.0:6.2f}")
    print(f"  {'aifs archiver':28} {med['archive']:8.2f} {mib / med['archive']:8.0f} "
          f"{med['curl'] / med['archive']:6.2f}")
    print(f"  bytes the media server sent meanwhile (the archive and the cp beside it): "
          f"{med['fetched'] / (1 << 20):.0f} MiB")
    print(f"a user's cp of {user} MiB:")
    print(f"  {'cp, nothing archiving':28} {med['cp alone']:8.2f} {user / med['cp alone']:8.0f} {1.0:6.2f}")
    print(f"  {'cp, the archiver running':28} {med['cp beside']:8.2f} {user / med['cp beside']:8.0f} "
          f"{med['cp alone'] / med['cp beside']:6.2f}")


if __name__ == "__main__":
    main()
