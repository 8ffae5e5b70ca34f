#!/usr/bin/env python3
"""The daemon's memory with many tasks: RSS after a cold `ls -l` of N Ark
tasks, then after each SIGHUP + `cat` of every status file (a relisting each
time), and the peak (VmHWM), with the default metadata cap and with a small
one. The reference is the goal: a peak of at most 100 MiB for 100,000 tasks
at default settings. Give --aifs more than once to measure builds side by
side in one run (say, the one before a change and the one after).

    python3 bench/bench_memory.py [--tasks 100000] [--passes 2] [--aifs PATH ...]
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"), os.path.join(ROOT, "tests", "fake")]
import harness  # noqa: E402

CAT_ALL = "printf '%s\\0' volc/*/status | xargs -0 cat > /dev/null"
GOAL_MIB = 100


def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return {ln.split(":")[0]: int(ln.split()[1]) for ln in f if ln.startswith(("VmRSS", "VmHWM"))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=100000)
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--aifs", action="append", default=None,
                    help="aifs binary; repeat to compare builds (default: $AIFS_BIN or ./aifs)")
    a = ap.parse_args()
    bins = [os.path.abspath(b) for b in a.aifs] if a.aifs else [harness.AIFS]
    print(f"{a.tasks} Ark tasks, qps 1000; RSS in MiB; goal: peak <= {GOAL_MIB} at default settings")
    try:
        f = harness.fake({"ark": {"count": a.tasks}})
        for b in bins:
            harness.AIFS = b
            print(b)
            for label, extra in (("default meta_max", ()), ("meta_max=1000", ("-o", "meta_max=1000"))):
                m = harness.Mount(f, providers=("volc",), global_extra="",
                                  opts=("-o", "qps=1000,burst=1000", *extra))
                row = [f"{status(m.pid)['VmRSS'] / 1024:.0f} at mount"]
                m.run("ls", "-l", "volc", timeout=900)
                row.append(f"{status(m.pid)['VmRSS'] / 1024:.0f} after ls -l")
                for i in range(a.passes):
                    m.hup()
                    m.run("sh", "-c", CAT_ALL, timeout=900)
                    row.append(f"{status(m.pid)['VmRSS'] / 1024:.0f} after relisting {i + 1}")
                peak = status(m.pid)['VmHWM'] / 1024
                row.append(f"peak {peak:.0f}")
                if not extra:
                    row.append(f"goal {GOAL_MIB}: {'met' if peak <= GOAL_MIB else 'NOT met'}")
                print(f"  {label:<18} " + ", ".join(row), flush=True)
                m.close()
    finally:
        harness.cleanup_all()


if __name__ == "__main__":
    main()
