"""The fault matrix: every API endpoint and the output downloads against every
fault the fake can inject, each made persistent so the failure is final.

For each cell a fresh aifs is mounted with small bounds (timeout=2, retries=1,
qps 50) over one fake shared by the whole module; the fault is set, a real
program (ls, cat, cp) triggers the endpoint, and the cell records the errno
the program reported, how long it took, how many attempts reached the fake,
and whether the mount is still alive. Then the fault is cleared and the next
good answer must be served correctly. SPEC.md ("Caching and API economy",
"Errors") says what each cell must give:

  still throttled after the retries (429, chanjing 40001)       EAGAIN
  transient with nothing cached (5xx, 50000, stall, reset, ...)  EIO / ETIMEDOUT
  malformed, wrong shape, empty, huge, redirect loop             EIO
  Ark numbers as strings of digits (SPEC: "in the wild")          the answer, read as usual
  a transient failure with a cached copy                         the stale copy

and no call takes longer than timeout x (retries + 1) + backoff (0.5 s x 2^n,
capped at 8 s, Retry-After honoured up to 60 s) + 3 s of slack.

test_fault_matrix_report, last, prints the table of what the cells saw."""
import errno
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time

import fakectl
from harness import Mount

TIMEOUT = 2          # -o timeout
RETRIES = 1          # -o retries
STALL = 12           # a stall far longer than TIMEOUT (and than the bound)
SLACK = 3.0
OPTS = ("-o", f"timeout={TIMEOUT},retries={RETRIES}")

RESULTS = {}         # (column, fault) -> what the cell saw; read by the report

# ------------------------------------------------------------------ the fake

ARK_RUN = "cgt-20250101000000-fault"                  # an unfinished ark task
CJ_RUN = "0fa017ed-5a1e-4c00-9d00-000000000001"       # an unfinished chanjing task
NEG_MEMO = 1.0  # seconds a malformed answer is remembered

_shared = {}


def shared_fake():
    """One fake for the whole module, outside harness's per-test cleanup
    (fakectl stops it at exit). Restarted if it died."""
    f = _shared.get("fake")
    if f is None or f.proc is None or f.proc.poll() is not None:
        f = fakectl.Fake({"ark": {"count": 12}, "chanjing": {"count": 12},
                          "relay": {"count": 1}, "rong": {"count": 1}}, seed=7).start()
        f.set_task("ark", ARK_RUN, status="running")
        f.set_task("chanjing", CJ_RUN, progress_desc="Generating", type=4)
        ark = [t for t in f.tasks("ark") if t["status"] == "succeeded"
               and (t.get("content") or {}).get("video_url")]
        cj = [t for t in f.tasks("chanjing") if t["progress_desc"] == "Success"
              and t.get("output_url")]
        f.media("ark", ark[0]["id"], "video", size=(2 << 20) + 12345, version=1)
        _shared.update(fake=f, ark_id=ark[0]["id"], cj_id=cj[0]["unique_id"])
    f.clear_faults()
    return f


# ------------------------------------------------------------------ helpers

_STRERROR = sorted(((os.strerror(n), n) for n in errno.errorcode
                    if not os.strerror(n).startswith("Unknown error")),
                   key=lambda m: -len(m[0]))


def errno_in(stderr):
    """The errno whose message a program (ls, cat, cp) printed, or None."""
    for msg, n in _STRERROR:
        if msg in stderr:
            return n
    return None


def ename(n):
    if n is None:
        return "?"
    if n == 0:
        return "ok"
    if isinstance(n, str):
        return n
    return errno.errorcode.get(n, str(n))


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def status_word(prov, task):
    if prov == "chanjing":
        return {"Queued": "queued", "Ready": "queued", "Generating": "running",
                "Success": "succeeded", "Error": "failed",
                "Fail": "failed"}.get(task["progress_desc"], task["progress_desc"].lower())
    return task["status"]


def bound(rule):
    """SPEC: timeout x (retries + 1) + backoff, + slack."""
    ra = rule.get("retry_after")
    ra = float(ra) if ra is not None else 0.0
    if ra > 60:  # fails at once
        return TIMEOUT + SLACK
    backoff = sum(max(min(8.0, 0.5 * 2 ** n), ra) for n in range(RETRIES))
    return TIMEOUT * (RETRIES + 1) + backoff + SLACK


def timed(m, cmd, limit):
    """Runs cmd in the mount; (returncode or "HANG", stderr, seconds)."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=m.mnt, capture_output=True, text=True,
                           timeout=limit, stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - t0
    except subprocess.TimeoutExpired:
        return "HANG", "", "", time.monotonic() - t0


def alive(m):
    if not m.alive():
        return False
    if not os.path.ismount(m.mnt):
        return False
    try:
        p = subprocess.run(["ls", m.mnt], capture_output=True, timeout=10)
        return p.returncode == 0
    except subprocess.TimeoutExpired:
        return False


def log_tail(m, n=12):
    lines = [ln for ln in m.log().splitlines() if ln.strip()]
    return "\n".join("      " + ln for ln in lines[-n:])


# ------------------------------------------------------------------ columns
# Each column: the fake endpoint the fault is set on, what the program does,
# how a good answer is checked afterwards.

def _ark_listing(m, f):
    want = sorted(t["id"] for t in f.tasks("ark"))
    got = m.ls("volc")
    assert got == want, f"listing after the fault: {len(got)} names, want {len(want)}"
    t = f.task("ark", _shared["ark_id"])
    assert m.cat("volc", t["id"], "status") == t["status"] + "\n"


def _cj_listing(m, f):
    want = sorted(t["unique_id"] for t in f.tasks("chanjing"))
    got = m.ls("chanjing")
    assert got == want, f"listing after the fault: {len(got)} names, want {len(want)}"
    t = f.task("chanjing", _shared["cj_id"])
    assert m.cat("chanjing", t["unique_id"], "status") == status_word("chanjing", t) + "\n"


def _ark_status(m, f):
    t = f.task("ark", _shared["ark_id"])
    got = m.cat("volc", t["id"], "status")
    assert got == t["status"] + "\n", f"status {got!r}, want {t['status']!r}"
    names = m.ls("volc", t["id"])
    assert "video.mp4" in names, f"no video.mp4 in the finished task: {names}"


def _cj_status(m, f):
    t = f.task("chanjing", _shared["cj_id"])
    got = m.cat("chanjing", t["unique_id"], "status")
    want = status_word("chanjing", t) + "\n"
    assert got == want, f"status {got!r}, want {want!r}"
    outs = [n for n in m.ls("chanjing", t["unique_id"]) if n not in ("status", "meta.json")]
    assert len(outs) == len(t["output_url"]), \
        f"the finished task shows {len(outs)} output files, the API {len(t['output_url'])}"


def _video_bytes(m, f):
    tid = _shared["ark_id"]
    dst = tempfile.mkdtemp(prefix="aifs-fault-")
    try:
        m.run("cp", f"volc/{tid}/video.mp4", f"{dst}/v", timeout=60)
        exp = f.expected("ark", tid, "video")
        assert os.path.getsize(f"{dst}/v") == exp["size"], "video size after the fault"
        assert sha256_of(f"{dst}/v") == exp["sha256"], "video bytes after the fault"
    finally:
        shutil.rmtree(dst, ignore_errors=True)
    _ark_status(m, f)


def _cp_video(m):
    d = tempfile.mkdtemp(prefix="aifs-fault-")
    return ["sh", "-c", f'cp "$1" "$2/v"; rc=$?; rm -rf "$2"; exit $rc', "cp",
            f"volc/{_shared['ark_id']}/video.mp4", d]


COLUMNS = {
    "ark.list": dict(section="volc", endpoint="ark.list", log="ark.list",
                     cmd=lambda m: ["ls", "volc"], check=_ark_listing),
    "ark.get": dict(section="volc", endpoint="ark.get", log="ark.get",
                    cmd=lambda m: ["cat", f"volc/{_shared['ark_id']}/status"], check=_ark_status),
    "chanjing.token": dict(section="chanjing", endpoint="chanjing.token", log="chanjing.token",
                           cmd=lambda m: ["ls", "chanjing"], check=_cj_listing),
    "chanjing.list": dict(section="chanjing", endpoint="chanjing.list", log="chanjing.list",
                          cmd=lambda m: ["ls", "chanjing"], check=_cj_listing),
    "chanjing.get": dict(section="chanjing", endpoint="chanjing.get", log="chanjing.get",
                         cmd=lambda m: ["cat", f"chanjing/{_shared['cj_id']}/status"],
                         check=_cj_status),
    # every media request faulted: the size probe (HEAD, then a one-byte GET) fails first
    "media.probe": dict(section="volc", endpoint="media", log=None, cmd=_cp_video,
                        check=_video_bytes),
    # the size probed while all is well; then the range downloads are faulted
    "media.get": dict(section="volc", endpoint="media", log=None, cmd=_cp_video,
                      check=_video_bytes, before=lambda m: os.stat(
                          m.path("volc", _shared["ark_id"], "video.mp4"))),
}

# Stale copies: the listing or an unfinished task's state is cached, SIGHUP
# makes it stale, then the endpoint fails: the old copy must be served.


def _stale_ark_list_before(m):
    m.stale = m.ls("volc")


def _stale_ark_list_check(m, f):
    got = m.ls("volc")
    assert got == m.stale, f"stale listing: {len(got)} names, want {len(m.stale)}"
    for t in f.tasks("ark")[:4]:
        assert m.cat("volc", t["id"], "status") == t["status"] + "\n"


def _stale_cj_list_before(m):
    m.stale = m.ls("chanjing")


def _stale_cj_list_check(m, f):
    got = m.ls("chanjing")
    assert got == m.stale, f"stale listing: {len(got)} names, want {len(m.stale)}"
    for t in f.tasks("chanjing")[:4]:
        assert m.cat("chanjing", t["unique_id"], "status") == status_word("chanjing", t) + "\n"


def _stale_ark_get_before(m):
    assert m.cat("volc", ARK_RUN, "status") == "running\n"


def _stale_cj_get_before(m):
    assert m.cat("chanjing", CJ_RUN, "status") == "running\n"


STALE = {
    "ark.list(stale)": dict(section="volc", endpoint="ark.list", log="ark.list",
                            before=_stale_ark_list_before, cmd=lambda m: ["ls", "volc"],
                            want_out=lambda m: "".join(n + "\n" for n in m.stale),
                            check=_stale_ark_list_check),
    "chanjing.list(stale)": dict(section="chanjing", endpoint="chanjing.list",
                                 log="chanjing.list", before=_stale_cj_list_before,
                                 cmd=lambda m: ["ls", "chanjing"],
                                 want_out=lambda m: "".join(n + "\n" for n in m.stale),
                                 check=_stale_cj_list_check),
    "ark.get(stale)": dict(section="volc", endpoint="ark.get", log="ark.get",
                           before=_stale_ark_get_before,
                           cmd=lambda m: ["cat", f"volc/{ARK_RUN}/status"],
                           want_out=lambda m: "running\n",
                           check=lambda m, f: _stale_ark_get_before(m)),
    "chanjing.get(stale)": dict(section="chanjing", endpoint="chanjing.get",
                                log="chanjing.get", before=_stale_cj_get_before,
                                cmd=lambda m: ["cat", f"chanjing/{CJ_RUN}/status"],
                                want_out=lambda m: "running\n",
                                check=lambda m, f: _stale_cj_get_before(m)),
}

# ------------------------------------------------------------------ faults
# name -> (rule, class, columns it applies to)

API = ("ark.list", "ark.get", "chanjing.token", "chanjing.list", "chanjing.get")
CJ = ("chanjing.token", "chanjing.list", "chanjing.get")
MEDIA = ("media.probe", "media.get")
ALL = API + MEDIA

EXPECT = {
    "throttled": {errno.EAGAIN},
    "transient": {errno.EIO},
    "timeout": {errno.EIO, errno.ETIMEDOUT},
    "bad": {errno.EIO},
    "ok": {0},
}

FAULTS = [
    ("http_500", {"kind": "http", "status": 500}, "transient", ALL),
    ("http_503", {"kind": "http", "status": 503}, "transient", ALL),
    ("http_429", {"kind": "http", "status": 429}, "throttled", ALL),
    ("http_429_retry_after_1", {"kind": "http", "status": 429, "retry_after": 1}, "throttled", ALL),
    ("http_429_retry_after_120", {"kind": "http", "status": 429, "retry_after": 120},
     "throttled", ALL),
    ("code_40001", {"kind": "code", "code": 40001}, "throttled", CJ),
    ("code_50000", {"kind": "code", "code": 50000}, "transient", CJ),
    ("stall", {"kind": "stall", "seconds": STALL}, "timeout", ALL),
    ("stall_mid_body", {"kind": "stall", "seconds": STALL, "after_bytes": 20}, "timeout",
     API + ("media.get",)),
    ("reset", {"kind": "reset"}, "transient", ALL),
    ("down", {"kind": "down"}, "transient", ALL),
    ("truncate", {"kind": "truncate"}, "transient", API + ("media.get",)),
    ("malformed", {"kind": "malformed"}, "bad", API + ("media.get",)),
    ("wrong_shape_missing_fields", {"kind": "wrong_shape", "variant": "missing_fields"}, "bad",
     ("ark.list", "ark.get", "chanjing.list", "chanjing.get")),
    # numbers as strings of digits are read as numbers; Chanjing's answers
    # then carry "code": "0" too, and a code aifs reads only as a number
    ("wrong_shape_string_for_number", {"kind": "wrong_shape", "variant": "string_for_number"},
     "ok", ("ark.list", "ark.get")),
    ("wrong_shape_string_for_number", {"kind": "wrong_shape", "variant": "string_for_number"},
     "bad", CJ),
    # "1751335200 s" is no number, whatever its digits
    ("wrong_shape_unit_for_number", {"kind": "wrong_shape", "variant": "unit_for_number"},
     "bad", API),
    ("wrong_shape_null_list", {"kind": "wrong_shape", "variant": "null_list"}, "bad",
     ("ark.list", "chanjing.list")),
    ("wrong_shape_items_not_list", {"kind": "wrong_shape", "variant": "items_not_list"}, "bad",
     ("ark.list", "chanjing.list", "chanjing.get")),
    ("wrong_shape_top_array", {"kind": "wrong_shape", "variant": "top_array"}, "bad", API),
    ("empty", {"kind": "empty"}, "bad", API + ("media.get",)),
    ("huge", {"kind": "huge"}, "bad", API + ("media.get",)),
    ("redirect_loop", {"kind": "redirect_loop"}, "bad", ALL),
]

STALE_FAULTS = [
    ("http_503", {"kind": "http", "status": 503}, tuple(STALE)),
    ("http_429", {"kind": "http", "status": 429}, tuple(STALE)),
    ("code_50000", {"kind": "code", "code": 50000}, ("chanjing.list(stale)", "chanjing.get(stale)")),
    ("code_40001", {"kind": "code", "code": 40001}, ("chanjing.list(stale)", "chanjing.get(stale)")),
    ("stall", {"kind": "stall", "seconds": STALL}, tuple(STALE)),
    ("reset", {"kind": "reset"}, tuple(STALE)),
]


# ------------------------------------------------------------------ one cell

def media_requests(f, kinds=("media.get", "media.head")):
    c = f.counters()
    return sum(c.get(k, 0) for k in kinds)


def run_cell(colname, col, fname, rule, cls, stale):
    expect = {0} if stale else EXPECT[cls]
    f = shared_fake()
    m = Mount(f, providers=(col["section"],), opts=OPTS)
    res = RESULTS[(colname, fname)] = {"errno": None, "secs": None, "alive": None,
                                       "attempts": None, "recovered": None, "problems": []}
    problems = res["problems"]
    if col.get("before"):
        col["before"](m)
    if stale:
        m.hup()
        time.sleep(1.1)  # the kernel's entry and attribute timeouts of unfinished tasks
    limit = bound(rule)
    log_before = len(m.log().splitlines())
    t_fault = f.now()
    media_kinds = ("media.head",) if colname == "media.probe" else ("media.get",)
    media0 = media_requests(f, media_kinds)
    f.faults({"endpoint": col["endpoint"], "count": 100000, **rule})
    rc, out, err, secs = timed(m, col["cmd"](m), limit + 30)
    rules = f.fault_rules()
    hits = rules[0]["hits"] if rules else 0
    if col["log"]:
        entries = f.log(since=t_fault, endpoint=col["log"])
        res["attempts"] = len(entries)
    else:
        entries = []
        res["attempts"] = media_requests(f, media_kinds) - media0  # HEADs / range GETs
    f.clear_faults()
    res["secs"] = secs
    if rc == "HANG":
        res["errno"] = "HANG"
    elif rc == 0:
        res["errno"] = 0
    else:
        res["errno"] = errno_in(err) or f"rc={rc}"
    res["alive"] = alive(m)

    # what SPEC says
    if hits == 0:
        problems.append(f"the fault was never hit (no {col['endpoint']} request)")
    if stale:
        new = m.log().splitlines()[log_before:]
        if res["errno"] == 0 and not any(f"{col['section']}:" in ln for ln in new):
            problems.append("the failure behind the stale copy was not logged")
        if res["errno"] != 0:
            problems.append(f"got {ename(res['errno'])} ({err.strip()!r}), want the stale copy")
        elif out != col["want_out"](m):
            problems.append(f"stale copy wrong: {out!r}")
    elif res["errno"] not in expect:
        want = "/".join(ename(e) for e in sorted(expect))
        detail = f" ({err.strip()[:200]!r})" if err.strip() else f" (output {out[:120]!r})"
        problems.append(f"got {ename(res['errno'])}{detail}, want {want}")
    if secs > limit:
        problems.append(f"took {secs:.1f}s, bound {limit:.1f}s")
    ra = rule.get("retry_after")
    # libcurl sends a request once more by itself when a reused connection
    # turns out dead before any answer: a reset or a close can cost one more
    most = RETRIES + 1 + (1 if fname in ("reset", "down") else 0)
    if col["log"] and not stale and res["attempts"] > most:
        problems.append(f"{res['attempts']} requests to {col['log']}, at most {most}")
    retryable = cls not in ("bad", "ok") and not stale and (ra is None or float(ra) <= 60)
    if retryable and hits and res["attempts"] < RETRIES + 1:
        what = col["log"] or ("HEAD" if colname == "media.probe" else "range GET") + " requests"
        problems.append(f"not retried: {res['attempts']} {what}, want {RETRIES + 1}")
    if ra is not None and float(ra) <= 60 and len(entries) > 1:
        gaps = [b["t"] - a["t"] for a, b in zip(entries, entries[1:])]
        if min(gaps) < float(ra) - 0.05:
            problems.append(f"Retry-After {ra} not honoured: attempts {min(gaps):.2f}s apart")
    if ra is not None and float(ra) > 60 and col["log"] and res["attempts"] > 1:
        problems.append(f"Retry-After {ra} (> 60 s) retried {res['attempts']} times")
    if not res["alive"]:
        problems.append("the mount is dead afterwards")
    else:
        # a malformed answer is remembered for at most a second (SPEC)
        deadline = time.monotonic() + (NEG_MEMO + 1.5 if cls == "bad" else 0)
        while True:
            try:
                col["check"](m, f)
                res["recovered"] = True
                break
            except (AssertionError, subprocess.TimeoutExpired, OSError) as e:
                if time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                res["recovered"] = False
                problems.append(f"after clearing the fault: {e}")
                break
    if problems:
        raise AssertionError(
            f"{colname} x {fname}: " + "; ".join(problems) +
            f"\n    [{ename(res['errno'])}, {secs:.1f}s, {res['attempts']} attempts]"
            f"\n    aifs log (tail):\n{log_tail(m)}")


def _define(colname, col, fname, rule, cls, stale=False):
    def test():
        run_cell(colname, col, fname, rule, cls, stale)
    slug = colname.replace("(stale)", "").replace(".", "_")
    name = f"test_fault_{'stale_' if stale else ''}{slug}_{fname}"
    test.__name__ = test.__qualname__ = name
    test.timeout = int(bound(rule) + 90)
    globals()[name] = test


for _col in COLUMNS:
    for _fname, _rule, _cls, _cols in FAULTS:
        if _col in _cols:
            _define(_col, COLUMNS[_col], _fname, _rule, _cls)
for _col in STALE:
    for _fname, _rule, _cols in STALE_FAULTS:
        if _col in _cols:
            _define(_col, STALE[_col], _fname, _rule, "stale", stale=True)


# ------------------------------------------------------------------ dead hosts

def _dead_host_cell(colname, section, cmd):
    f = shared_fake()
    s = socket_closed_port()
    kind = "chanjing" if section == "chanjing" else "ark"
    creds = "".join(f"{k} = {v}\n" for k, v in f.credentials(kind).items())
    prefix = "/chanjing" if section == "chanjing" else "/ark/api/v3"
    m = Mount(f, providers=(section,), opts=OPTS, conf_text=(
        f"qps = 50\nburst = 50\n[{section}]\ntype = {kind}\n"
        f"base_url = http://127.0.0.1:{s}{prefix}\n{creds}"))
    res = RESULTS[(colname, "dead_host")] = {"errno": None, "secs": None, "alive": None,
                                            "attempts": None, "recovered": None, "problems": []}
    limit = bound({})
    rc, out, err, secs = timed(m, cmd, limit + 30)
    res["secs"] = secs
    res["errno"] = "HANG" if rc == "HANG" else 0 if rc == 0 else errno_in(err) or f"rc={rc}"
    res["alive"] = alive(m)
    ok = {errno.EIO, errno.EHOSTUNREACH, errno.ETIMEDOUT}
    if res["errno"] not in ok:
        res["problems"].append(f"got {ename(res['errno'])} ({err.strip()!r}), want EIO/EHOSTUNREACH")
    if secs > limit:
        res["problems"].append(f"took {secs:.1f}s, bound {limit:.1f}s")
    if not res["alive"]:
        res["problems"].append("the mount is dead afterwards")
    if res["problems"]:
        raise AssertionError(f"{colname} x dead_host: " + "; ".join(res["problems"]) +
                             f"\n    aifs log (tail):\n{log_tail(m)}")


def socket_closed_port():
    """A loopback port nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_fault_ark_list_dead_host():
    _dead_host_cell("ark.list", "volc", ["ls", "volc"])


def test_fault_chanjing_token_dead_host():
    _dead_host_cell("chanjing.token", "chanjing", ["ls", "chanjing"])


# ------------------------------------------------------------------ the table

def test_fault_matrix_report():
    """Prints what the cells saw: fault x endpoint -> errno, seconds, alive."""
    if not RESULTS:
        print("no fault cells ran")
        return
    cols = [c for c in list(COLUMNS) + list(STALE) if any(k[0] == c for k in RESULTS)]
    rows = []
    for fname, *_ in FAULTS + [("dead_host",)] + STALE_FAULTS:
        if fname not in rows and any(k[1] == fname for k in RESULTS):
            rows.append(fname)

    def cell(r):
        if r is None:
            return ""
        e = "HANG" if r["errno"] == "HANG" else ename(r["errno"])
        s = f"{e} {r['secs']:.1f}s" if r["secs"] is not None else e
        if r["alive"] is False:
            s += " DEAD"
        if r["problems"]:
            s += " !"
        return s

    w0 = max(len(r) for r in rows)
    widths = [max(len(c), *(len(cell(RESULTS.get((c, r)))) for r in rows)) for c in cols]
    print()
    print("fault matrix: errno the program saw, seconds to answer; '!' = not what SPEC.md says,")
    print(f"DEAD = mount gone afterwards. timeout={TIMEOUT}, retries={RETRIES}; "
          "(stale) = cached copy must be served")
    print("  ".join([" " * w0] + [c.ljust(w) for c, w in zip(cols, widths)]))
    for r in rows:
        print("  ".join([r.ljust(w0)] + [cell(RESULTS.get((c, r))).ljust(w)
                                         for c, w in zip(cols, widths)]))
    bad = [(k, v) for k, v in RESULTS.items() if v["problems"]]
    total = len(RESULTS)
    print(f"\n{total} cells, {total - len(bad)} as SPEC says, {len(bad)} not")
    for (c, r), v in sorted(bad):
        print(f"  ! {c} x {r}: " + "; ".join(v["problems"]) +
              f" [attempts {v['attempts']}, alive {v['alive']}]")
