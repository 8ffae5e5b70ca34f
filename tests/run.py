#!/usr/bin/env python3
"""Runs aifs's tests: the C unit binaries, then the integration tests, which
mount the real binary against the fake provider API and drive it with real
programs. One line per test; the last line is "N passed, M failed".

    python3 tests/run.py [NAME_SUBSTRING ...]

Environment: AIFS_BIN (the binary), AIFS_UNIT_DIR (the unit test binaries).
"""
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fake"))

UNIT_TIMEOUT = 120
DEFAULT_TEST_TIMEOUT = 120


class Skip(Exception):
    """Raised by a test that cannot run here; it is reported, never passed."""


class Timeout(Exception):
    pass


class Counts:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.failures = []

    def ok(self, name, secs):
        self.passed += 1
        print(f"ok      {name} ({secs:.1f}s)", flush=True)

    def fail(self, name, why):
        self.failed += 1
        self.failures.append(name)
        print(f"FAIL    {name}\n{why}", flush=True)

    def skip(self, name, why):
        self.skipped += 1
        print(f"skip    {name}: {why}", flush=True)


def selected(name, filters):
    return not filters or any(f in name for f in filters)


def run_units(counts, filters):
    unit_dir = os.environ.get("AIFS_UNIT_DIR", os.path.join(ROOT, "build", "tests"))
    if not os.path.isdir(unit_dir):
        counts.fail("unit", f"no unit test directory {unit_dir}")
        return
    for binary in sorted(os.listdir(unit_dir)):
        path = os.path.join(unit_dir, binary)
        if not binary.startswith("test_") or not os.access(path, os.X_OK):
            continue
        if not selected(binary, filters):
            continue
        start = time.monotonic()
        try:
            p = subprocess.run([path], cwd=ROOT, capture_output=True, text=True,
                               timeout=UNIT_TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            counts.fail(binary, f"  timed out after {UNIT_TIMEOUT}s")
            continue
        secs = time.monotonic() - start
        seen_fail = False
        for line in p.stdout.splitlines():
            m = re.match(r"(not )?ok \d+ (.*)", line)
            if not m:
                continue
            name = f"{binary}.{m.group(2)}"
            if m.group(1):
                seen_fail = True
                counts.fail(name, p.stderr.rstrip())
            else:
                counts.ok(name, secs)
        if p.returncode != 0 and not seen_fail:
            counts.fail(binary, f"  exit status {p.returncode}\n{p.stderr.rstrip()}")


def on_alarm(signum, frame):
    raise Timeout()


def run_integration(counts, filters):
    idir = os.path.join(ROOT, "tests", "integration")
    signal.signal(signal.SIGALRM, on_alarm)
    import harness  # noqa: E402  (path set above)
    harness.Skip = Skip
    for fname in sorted(os.listdir(idir)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(idir, fname))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        tests = [(n, f) for n, f in vars(mod).items() if n.startswith("test_") and callable(f)]
        tests.sort(key=lambda t: t[1].__code__.co_firstlineno)
        for name, fn in tests:
            full = f"{fname[:-3]}.{name}"
            if not selected(full, filters):
                continue
            why = harness.cannot_mount()
            if why:
                counts.skip(full, why)
                continue
            limit = getattr(fn, "timeout", DEFAULT_TEST_TIMEOUT)
            start = time.monotonic()
            signal.alarm(limit)
            try:
                fn()
                harness.cleanup_all()  # a sanitizer report or a bad exit fails the test
                signal.alarm(0)
                counts.ok(full, time.monotonic() - start)
            except Skip as e:
                signal.alarm(0)
                counts.skip(full, str(e))
            except Timeout:
                counts.fail(full, f"  did not finish within {limit}s")
            except Exception:
                signal.alarm(0)
                counts.fail(full, "  " + traceback.format_exc().replace("\n", "\n  "))
            finally:
                signal.alarm(0)
                try:
                    harness.cleanup_all()
                except Exception:
                    pass


def main():
    filters = sys.argv[1:]
    counts = Counts()
    run_units(counts, filters)
    run_integration(counts, filters)
    if counts.failures:
        print("failed: " + " ".join(counts.failures))
    tail = f", {counts.skipped} skipped" if counts.skipped else ""
    print(f"{counts.passed} passed, {counts.failed} failed{tail}")
    return 1 if counts.failed else 0


if __name__ == "__main__":
    sys.exit(main())
