#!/usr/bin/env python3
"""The daemon's memory with many tasks: RSS after a cold `ls -l` of N Ark
tasks, then after each SIGHUP + `cat` of every status file (a relisting each
time), with the default metadata cap and with a small one.

    python3 bench/bench_memory.py [--tasks 100000] [--passes 2]
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"), os.path.join(ROOT, "tests", "fake")]
import harness  # noqa: E402

CAT_ALL = "printf '%s\\0' volc/*/status | xargs -0 cat > /dev/null"


def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return {ln.split(":")[0]: int(ln.split()[1]) for ln in f if ln.startswith(("VmRSS", "VmHWM"))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=100000)
    ap.add_argument("--passes", type=int, default=2)
    a = ap.parse_args()
    print(f"{a.tasks} Ark tasks, qps 1000; RSS in MiB")
    try:
        f = harness.fake({"ark": {"count": a.tasks}})
        for label, extra in (("default meta_max (50000)", ()), ("meta_max=1000", ("-o", "meta_max=1000"))):
            m = harness.Mount(f, providers=("volc",), global_extra="",
                              opts=("-o", "qps=1000,burst=1000", *extra))
            row = [f"{status(m.pid)['VmRSS'] / 1024:.0f} at mount"]
            m.run("ls", "-l", "volc", timeout=900)
            row.append(f"{status(m.pid)['VmRSS'] / 1024:.0f} after ls -l")
            for i in range(a.passes):
                m.hup()
                m.run("sh", "-c", CAT_ALL, timeout=900)
                row.append(f"{status(m.pid)['VmRSS'] / 1024:.0f} after relisting {i + 1}")
            row.append(f"peak {status(m.pid)['VmHWM'] / 1024:.0f}")
            print(f"{label:<26} " + ", ".join(row))
            m.close()
    finally:
        harness.cleanup_all()


if __name__ == "__main__":
    main()
