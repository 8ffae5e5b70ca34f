#!/usr/bin/env python3
"""Chaos soak: aifs over a fake API that fails about 10 % of all requests,
API and downloads alike, while parallel readers run real programs (ls, cat,
cp, ls -l) across every provider until the deadline. Bounded in time.

Invariants (exit status 1 if one fails):
  - every byte cp got of an output equals the fake's (whole files by sha256,
    the part a failed cp left behind by prefix);
  - every `cat status` equals the fake's status word, every meta.json the
    fake's task, every listing the fake's ids, or the program failed with an
    allowed errno (EIO, ETIMEDOUT, EAGAIN, EHOSTUNREACH); never a wrong value;
  - no program hangs (each has a time limit, --hang);
  - aifs is alive and still mounted at the end, and unmounts cleanly with no
    sanitizer report in its log;
  - VmRSS at the end of the steady state is at most 20 % + 10 MiB above its
    start (not enforced for a sanitizer build: ASan's quarantine grows).

    python3 bench/soak.py [--minutes 2] [--readers 8] [--fault-rate 0.10] [--seed 1]
    AIFS_BIN=build-address-undefined/aifs python3 bench/soak.py
"""
import argparse
import collections
import errno
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration"), os.path.join(ROOT, "tests", "fake")]
import harness  # noqa: E402

SECTIONS = {"volc": "ark", "relay": "relay", "rong": "rong", "chanjing": "chanjing"}
CJ_STATUS = {"Queued": "queued", "Ready": "queued", "Generating": "running",
             "Success": "succeeded", "Error": "failed", "Fail": "failed"}
ALLOWED = {errno.EIO, errno.ETIMEDOUT, errno.EAGAIN, errno.EHOSTUNREACH}
TIMEOUT, RETRIES, TTL = 3, 2, 3

_STRERROR = sorted(((os.strerror(n), n) for n in errno.errorcode
                    if not os.strerror(n).startswith("Unknown error")), key=lambda m: -len(m[0]))


def errno_in(stderr):
    for msg, n in _STRERROR:
        if msg in stderr:
            return n
    return None


def ename(n):
    return errno.errorcode.get(n, str(n)) if isinstance(n, int) else str(n)


def bound():
    """SPEC: timeout x (retries + 1) + backoff (Retry-After 1 s here) + 3 s."""
    return TIMEOUT * (RETRIES + 1) + sum(max(min(8, 0.5 * 2 ** n), 1.0) for n in range(RETRIES)) + 3


# ------------------------------------------------------------------ faults

def fault_rules(rate, stall):
    """Rules with prob, per endpoint family; overall about `rate` of each
    endpoint's requests get one of the kinds (the fake tries rules in order,
    each with its own probability)."""
    api = [{"kind": "http", "status": 500}, {"kind": "http", "status": 503},
           {"kind": "http", "status": 429, "retry_after": 1}, {"kind": "http", "status": 429},
           {"kind": "stall", "seconds": stall}, {"kind": "stall", "seconds": stall, "after_bytes": 10},
           {"kind": "reset"}, {"kind": "down"}, {"kind": "truncate"}, {"kind": "malformed"},
           {"kind": "empty"}, {"kind": "delay", "seconds": 1.5}]
    cj = api + [{"kind": "code", "code": 50000}, {"kind": "code", "code": 40001}]
    media = [{"kind": "http", "status": 500}, {"kind": "http", "status": 503},
             {"kind": "http", "status": 429}, {"kind": "stall", "seconds": stall},
             {"kind": "stall", "seconds": stall, "after_bytes": 1000}, {"kind": "reset"},
             {"kind": "truncate"}, {"kind": "delay", "seconds": 1}]
    rules = []
    for ep, kinds in (("ark", api), ("relay", api), ("rong", api), ("chanjing", cj),
                      ("media", media)):
        p = 1 - (1 - rate) ** (1 / len(kinds))
        rules += [{"endpoint": ep, "prob": round(p, 5), **k} for k in kinds]
    return rules


# ------------------------------------------------------------------ the world as the fake has it

class World:
    def __init__(self, f):
        self.f = f
        self.tasks = {}      # section -> {id: (status word, full, item)}
        for sec, prov in SECTIONS.items():
            full = f.tasks(prov)
            items = {self.tid(prov, t): t for t in f.tasks(prov, form="item")}
            self.tasks[sec] = {self.tid(prov, t): (self.word(prov, t), t, items.get(self.tid(prov, t)))
                               for t in full}
        self.expected = {}   # (section, id, slot) -> {"size", "sha256", ...}
        self.lock = threading.Lock()

    @staticmethod
    def tid(prov, t):
        return t["unique_id"] if prov == "chanjing" else t["id"]

    @staticmethod
    def word(prov, t):
        if prov == "chanjing":
            return CJ_STATUS.get(t["progress_desc"], t["progress_desc"].lower())
        return t["status"]

    def slot(self, sec, name, names):
        if name in ("status", "meta.json", "error"):
            return None
        if sec == "chanjing":
            outs = sorted(n for n in names if n not in ("status", "meta.json", "error"))
            if len(outs) == 1:
                return "0"
            m = re.match(r"(?:image|video)-(\d+)\.", name)
            return str(int(m.group(1)) - 1) if m else None
        if name == "video.mp4":
            return "video"
        if name == "last_frame.png":
            return "last_frame"
        if name.startswith("file."):
            return "file"
        return None

    def expect(self, sec, tid, slot):
        key = (sec, tid, slot)
        with self.lock:
            if key not in self.expected:
                self.expected[key] = self.f.expected(SECTIONS[sec], tid, slot)
            return self.expected[key]

    def expect_bytes(self, sec, tid, slot, n):
        return self.f.expected_bytes(SECTIONS[sec], tid, slot, 0, n)


# ------------------------------------------------------------------ the readers

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.ops = collections.Counter()
        self.ok = collections.Counter()
        self.errnos = collections.Counter()      # (kind, errno name)
        self.violations = []
        self.hangs = []
        self.slow = []                          # (secs, kind, path)
        self.wrong_bytes = 0
        self.bytes_checked = 0
        self.files_ok = 0

    def add(self, kind, res, secs, what):
        with self.lock:
            self.ops[kind] += 1
            if res == "ok":
                self.ok[kind] += 1
            elif res == "HANG":
                self.hangs.append((kind, what, secs))
            else:
                self.errnos[(kind, res)] += 1
            if secs > bound():
                self.slow.append((secs, kind, what, res))

    def violation(self, msg):
        with self.lock:
            if len(self.violations) < 200:
                self.violations.append(msg)


def run(m, cmd, limit):
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=m.mnt, capture_output=True, timeout=limit,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr.decode(errors="replace"), time.monotonic() - t0
    except subprocess.TimeoutExpired:
        return "HANG", b"", "", time.monotonic() - t0


def outcome(rc, err):
    """'ok', 'HANG', or the errno name; a disallowed errno is returned too."""
    if rc == "HANG":
        return "HANG", True
    if rc == 0:
        return "ok", True
    n = errno_in(err)
    return (ename(n) if n else f"rc{rc}:{err.strip()[:80]}"), n in ALLOWED


def reader(idx, m, w, st, deadline, hang, rng, tmp):
    secs = list(SECTIONS)
    ids = {s: list(w.tasks[s]) for s in secs}
    dst = os.path.join(tmp, f"r{idx}")
    while time.monotonic() < deadline:
        sec = rng.choice(secs)
        tid = rng.choice(ids[sec])
        word, full, item = w.tasks[sec][tid]
        r = rng.random()
        if r < 0.05:
            # an id the API does not know: ENOENT, or a transient errno
            cmd = ["cat", f"{sec}/{'cgt-unknown' if sec != 'chanjing' else 'ffffffff-0000'}"
                          f"-{rng.randrange(10**6)}/status"]
            rc, out, err, t = run(m, cmd, hang)
            res, allowed = outcome(rc, err)
            st.add("cat_unknown", res, t, " ".join(cmd))
            if res == "ok" or (res not in ("HANG", "ENOENT") and not allowed):
                st.violation(f"{' '.join(cmd)}: {res} {out[:40]!r} ({err.strip()[:160]})")
            continue
        if r < 0.18:
            kind, cmd = "ls", ["ls", sec]
        elif r < 0.45:
            kind, cmd = "cat_status", ["cat", f"{sec}/{tid}/status"]
        elif r < 0.62:
            kind, cmd = "cat_meta", ["cat", f"{sec}/{tid}/meta.json"]
        elif r < 0.70:
            kind, cmd = "ls_l_task", ["ls", "-l", f"{sec}/{tid}"]
        else:
            kind = "cp"
        if kind != "cp":
            rc, out, err, t = run(m, cmd, hang)
            res, allowed = outcome(rc, err)
            st.add(kind, res, t, " ".join(cmd))
            if res == "ok":
                check_value(kind, sec, tid, out.decode(errors="replace"), w, st, word, full, item)
            elif res != "HANG" and not allowed:
                st.violation(f"{' '.join(cmd)}: {res} ({err.strip()[:160]})")
            continue
        # cp of an output: find the names first (the task directory's listing)
        rc, out, err, t = run(m, ["ls", f"{sec}/{tid}"], hang)
        res, allowed = outcome(rc, err)
        st.add("ls_task", res, t, f"ls {sec}/{tid}")
        if res != "ok":
            if res != "HANG" and not allowed:
                st.violation(f"ls {sec}/{tid}: {res} ({err.strip()[:160]})")
            continue
        names = out.decode().split()
        outs = [n for n in names if n not in ("status", "meta.json", "error")]
        if not outs:
            continue
        name = rng.choice(outs)
        slot = w.slot(sec, name, names)
        if slot is None:
            st.violation(f"{sec}/{tid}: unexpected file name {name!r}")
            continue
        if os.path.exists(dst):
            os.unlink(dst)
        rc, out, err, t = run(m, ["cp", f"{sec}/{tid}/{name}", dst], hang)
        res, allowed = outcome(rc, err)
        st.add("cp", res, t, f"cp {sec}/{tid}/{name}")
        if res == "HANG":
            continue
        exp = w.expect(sec, tid, slot)
        got = open(dst, "rb").read() if os.path.exists(dst) else b""
        if res == "ok":
            good = len(got) == exp["size"] and hashlib.sha256(got).hexdigest() == exp["sha256"]
            with st.lock:
                st.bytes_checked += len(got)
                st.files_ok += good
                if not good:
                    st.wrong_bytes += 1
            if not good:
                st.violation(f"cp {sec}/{tid}/{name}: {len(got)} bytes, want {exp['size']} "
                             f"sha256 {exp['sha256'][:12]}")
        else:
            if not allowed:
                st.violation(f"cp {sec}/{tid}/{name}: {res} ({err.strip()[:160]})")
            if got:  # what a failed cp wrote must still be the provider's bytes
                want = w.expect_bytes(sec, tid, slot, len(got))
                with st.lock:
                    st.bytes_checked += len(got)
                    if got != want:
                        st.wrong_bytes += 1
                if got != want:
                    st.violation(f"cp {sec}/{tid}/{name} (failed {res}): the {len(got)} bytes "
                                 "it wrote differ from the provider's")


def check_value(kind, sec, tid, out, w, st, word, full, item):
    if kind == "cat_status":
        if out != word + "\n":
            st.violation(f"cat {sec}/{tid}/status: {out!r}, want {word!r}")
    elif kind == "cat_meta":
        try:
            got = json.loads(out)
        except ValueError:
            st.violation(f"cat {sec}/{tid}/meta.json: not JSON: {out[:100]!r}")
            return
        if got != full and got != item:
            st.violation(f"cat {sec}/{tid}/meta.json: differs from the provider's task")
    elif kind == "ls":
        names = set(out.split())
        known = set(w.tasks[sec])
        if sec == "rong":  # get-only: the ids looked at so far
            if not names <= known:
                st.violation(f"ls rong: names the API does not have: {sorted(names - known)[:3]}")
        elif names != known:
            st.violation(f"ls {sec}: {len(names)} names, want {len(known)} "
                         f"(extra {sorted(names - known)[:2]}, missing {sorted(known - names)[:2]})")
    elif kind == "ls_l_task":
        names = {ln.split()[-1] for ln in out.splitlines()[1:] if ln.strip()}
        if "status" not in names or "meta.json" not in names:
            st.violation(f"ls -l {sec}/{tid}: {sorted(names)}")


# ------------------------------------------------------------------ aifs's memory

def proc_status(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def is_sanitized(path):
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--readers", type=int, default=8)
    ap.add_argument("--fault-rate", type=float, default=0.10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hang", type=float, default=60.0, help="a program's time limit, s")
    ap.add_argument("--stall", type=float, default=6.0, help="stall faults last this long, s")
    ap.add_argument("--hup", type=float, default=5.0, help="SIGHUP aifs every this many s (0: never)")
    a = ap.parse_args()
    if harness.cannot_mount():
        print("soak: cannot mount here:", harness.cannot_mount())
        return 2

    # unfinished tasks are asked for again after each TTL and each SIGHUP
    scenario = {"seed": a.seed,
                "ark": {"count": 40, "mix": {"succeeded": 6, "running": 2, "queued": 1,
                                             "failed": 1}},
                "relay": {"count": 20}, "rong": {"count": 12},
                "chanjing": {"count": 30, "mix": {"Success": 6, "Generating": 2, "Queued": 1,
                                                  "Fail": 1}}}
    for p in ("ark", "relay", "rong", "chanjing"):
        scenario[p]["media_size"] = [20000, 3 << 20]
    f = harness.fake(scenario)
    w = World(f)
    tmp = tempfile.mkdtemp(prefix="aifs-soak-")
    failures = []
    st = Stats()
    m = None
    rss = {"start": None, "end": None, "peak": 0, "samples": []}
    try:
        m = harness.Mount(f, opts=("-o", f"timeout={TIMEOUT},retries={RETRIES},ttl={TTL},"
                                         "cache_max=24M"))
        pid = m.pid
        f.faults(*fault_rules(a.fault_rate, a.stall))
        f.reset_counters()
        t_start = time.monotonic()
        deadline = t_start + a.minutes * 60
        warm = t_start + min(30.0, a.minutes * 60 * 0.2)
        stop = threading.Event()

        def sample():
            while not stop.wait(1.0):
                v = proc_status(pid, "VmRSS")
                if v is None:
                    continue
                rss["samples"].append((time.monotonic(), v))
                rss["peak"] = max(rss["peak"], v)
                if rss["start"] is None and time.monotonic() >= warm:
                    rss["start"] = v

        def hup():  # drops listings and unfinished states: stale copies get served
            while not stop.wait(a.hup):
                if m.alive():
                    m.hup()
                    hups[0] += 1

        hups = [0]
        mon = threading.Thread(target=sample, daemon=True)
        mon.start()
        if a.hup > 0:
            threading.Thread(target=hup, daemon=True).start()
        threads = [threading.Thread(target=reader, args=(i, m, w, st, deadline, a.hang,
                                                         random.Random(a.seed * 1000 + i), tmp),
                                    daemon=True) for i in range(a.readers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(a.minutes * 60 + a.hang + 60)
            if t.is_alive():
                failures.append("a reader thread never finished")
        rss["end"] = proc_status(pid, "VmRSS")
        stop.set()
        mon.join(5)
        hwm = proc_status(pid, "VmHWM")
        elapsed = time.monotonic() - t_start

        # the fake's side: faults injected
        counters = f.counters()
        rules = f.fault_rules()
        f.clear_faults()
        alive = m.alive() and os.path.ismount(m.mnt)
        ls_root = run(m, ["ls", m.mnt], 20)[0] == 0 if alive else False

        # a clean pass: with no faults every answer is right
        clean_bad = 0
        if alive and ls_root:
            for sec in SECTIONS:
                for tid in list(w.tasks[sec])[:6]:
                    rc, out, err, _ = run(m, ["cat", f"{sec}/{tid}/status"], a.hang)
                    if rc != 0 or out.decode() != w.tasks[sec][tid][0] + "\n":
                        clean_bad += 1
                        st.violation(f"clean pass: cat {sec}/{tid}/status: rc {rc} {out[:40]!r} "
                                     f"{err.strip()[:120]}")
            with w.lock:
                keys = list(w.expected)
            random.Random(a.seed).shuffle(keys)
            for sec, tid, slot in keys[:20]:
                exp = w.expected[(sec, tid, slot)]
                names = run(m, ["ls", f"{sec}/{tid}"], a.hang)[1].decode().split()
                name = next((n for n in names if w.slot(sec, n, names) == slot), None)
                dst = os.path.join(tmp, "clean")
                rc, out, err, _ = run(m, ["cp", f"{sec}/{tid}/{name}", dst], a.hang)
                ok = rc == 0 and hashlib.sha256(open(dst, "rb").read()).hexdigest() == exp["sha256"]
                if not ok:
                    clean_bad += 1
                    st.violation(f"clean pass: cp {sec}/{tid}/{name}: rc {rc} {err.strip()[:120]}")

        # ---- report
        print(f"soak: {elapsed:.0f} s, {a.readers} readers, fault rate {a.fault_rate:.0%}, "
              f"binary {os.path.relpath(harness.AIFS, ROOT)}, timeout={TIMEOUT} retries={RETRIES} "
              f"ttl={TTL} cache_max=24M, SIGHUP x{hups[0]}")
        print("\noperations (kind: total, ok, errors by errno):")
        for kind in sorted(st.ops):
            errs = ", ".join(f"{e} {n}" for (k, e), n in sorted(st.errnos.items()) if k == kind)
            print(f"  {kind:10} {st.ops[kind]:6}  ok {st.ok[kind]:6}  {errs}")
        tot = sum(st.ops.values())
        print(f"  {'all':10} {tot:6}  ok {sum(st.ok.values()):6}")
        errs = collections.Counter()
        for (k, e), n in st.errnos.items():
            errs[e] += n
        print("errnos seen: " + (", ".join(f"{e} {n}" for e, n in errs.most_common()) or "none"))
        faults = collections.Counter()
        for k, v in counters.items():
            mm = re.match(r"(.+)\.fault\.(\w+)$", k)
            if mm:
                faults[(mm.group(1), mm.group(2))] += v
        reqs = {k: v for k, v in counters.items() if re.fullmatch(r"[a-z]+\.(list|get|token|head)", k)}
        print(f"\nrequests to the fake: " + ", ".join(f"{k} {v}" for k, v in sorted(reqs.items())))
        by_ep = collections.Counter()
        for (ep, kind), n in faults.items():
            by_ep[ep] += n
        print(f"faults injected: {sum(faults.values())} "
              f"({', '.join(f'{ep} {n}' for ep, n in sorted(by_ep.items()))})")
        by_kind = collections.Counter()
        for (ep, kind), n in faults.items():
            by_kind[kind] += n
        print("  by kind: " + ", ".join(f"{k} {n}" for k, n in by_kind.most_common()))
        print(f"  rule hits: {sum(r['hits'] for r in rules)}")
        print(f"\noutputs: {st.files_ok} whole files byte-identical, {st.bytes_checked} bytes "
              f"checked, wrong bytes {st.wrong_bytes}")
        print(f"hangs (> {a.hang:.0f} s): {len(st.hangs)}")
        for kind, what, secs in st.hangs[:10]:
            print(f"  HANG {what} ({secs:.0f} s)")
        print(f"over one call's bound ({bound():.1f} s): {len(st.slow)}")
        for secs, kind, what, res in sorted(st.slow, reverse=True)[:8]:
            print(f"  {secs:5.1f} s  {what}  -> {res}")
        san = is_sanitized(harness.AIFS)
        mib = lambda kb: f"{kb / 1024:.1f} MiB" if kb else "?"  # noqa: E731
        print(f"\nRSS: start {mib(rss['start'])} (after {warm - t_start:.0f} s), end {mib(rss['end'])}, "
              f"peak sampled {mib(rss['peak'])}, VmHWM {mib(hwm)}"
              + ("  [sanitizer build: growth not enforced]" if san else ""))
        print(f"alive: {'yes' if alive and ls_root else 'NO'} (pid {pid}, mounted "
              f"{os.path.ismount(m.mnt)}, ls {ls_root}); clean pass errors: {clean_bad}")
        print(f"value violations: {len(st.violations)}")
        for v in st.violations[:30]:
            print("  " + v)

        if st.violations:
            failures.append(f"{len(st.violations)} wrong values or disallowed errnos")
        if st.wrong_bytes:
            failures.append(f"{st.wrong_bytes} outputs with wrong bytes")
        if st.hangs:
            failures.append(f"{len(st.hangs)} hangs")
        if not (alive and ls_root):
            failures.append("aifs is dead or unmounted")
        if rss["start"] and rss["end"] and not san:
            limit = rss["start"] * 1.2 + 10 * 1024
            if rss["end"] > limit:
                failures.append(f"RSS grew from {mib(rss['start'])} to {mib(rss['end'])}")
        if not sum(faults.values()):
            failures.append("no fault was injected")

        # the aifs log: how it saw the run
        log = m.log()
        levels = collections.Counter(re.findall(r"aifs (\w+):", log))
        print("aifs log lines: " + ", ".join(f"{k} {v}" for k, v in levels.most_common()))
        shapes = collections.Counter()
        for ln in log.splitlines():
            if " warning: " in ln or " error: " in ln:
                s = re.sub(r"^\S+ ", "", ln)
                s = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|cgt-[\w-]+|[0-9a-f]{16,}", "ID", s)
                s = re.sub(r"\d+", "N", s)
                shapes[s[:150]] += 1
        for s, n in shapes.most_common(12):
            print(f"  {n:5}  {s}")
        try:
            m.close()
        except AssertionError as e:
            failures.append(f"unmount: {str(e)[:3000]}")
        m = None
    finally:
        if m is not None:
            try:
                m.close()
            except Exception as e:
                failures.append(f"unmount: {e}")
        harness.cleanup_all()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nsoak: " + ("FAIL: " + "; ".join(failures) if failures else "all invariants hold"))
    return 1 if failures else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    sys.exit(main())
