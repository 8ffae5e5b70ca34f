"""The tree, its files and the API economy, through a real mount driven by
ls, cat, stat and find, with the fake API's request counters checked."""
import json
import os
import subprocess
import threading
import time

from harness import Mount, errno, errno_of, fake, wait_for

CJ_STATUS = {"Queued": "queued", "Ready": "queued", "Generating": "running",
             "Success": "succeeded", "Error": "failed", "Fail": "failed"}


def encode(tid):
    """SPEC's name for a task id."""
    out = []
    for i, ch in enumerate(tid):
        b = ch.encode()
        if ch in "%/" or ord(ch) < 0x20 or ord(ch) == 0x7F or (i == 0 and ch == "."):
            out.append("".join(f"%{x:02X}" for x in b))
        else:
            out.append(ch)
    return "".join(out)


def status_word(prov, task):
    if prov == "chanjing":
        return CJ_STATUS.get(task["progress_desc"], task["progress_desc"].lower())
    return task["status"]


def tid(prov, task):
    return task["unique_id"] if prov == "chanjing" else task["id"]


def test_root_lists_providers():
    m = Mount(fake())
    assert m.ls() == ["chanjing", "relay", "rong", "volc"]
    st = os.stat(m.path("volc"))
    assert oct(st.st_mode & 0o777) == "0o755" and st.st_uid == os.getuid()


def test_listing_status_and_meta_match_the_api():
    f = fake()
    m = Mount(f)
    for section, prov in (("volc", "ark"), ("relay", "relay"), ("chanjing", "chanjing")):
        tasks = f.tasks(prov)
        assert m.ls(section) == sorted(encode(tid(prov, t)) for t in tasks), section
        for t in tasks:
            name = encode(tid(prov, t))
            assert m.cat(section, name, "status") == status_word(prov, t) + "\n"
            meta = m.cat(section, name, "meta.json")
            assert meta.endswith("\n") and meta.startswith("{\n")
            full = f.task(prov, tid(prov, t))
            item = f.task(prov, tid(prov, t), form="item")
            got = json.loads(meta)
            # the newer of list item and single answer: here, equal to one of them
            assert got in (full, item), (section, name)
            # key order is the provider's
            assert list(got) == list(full if got == full else item)


def test_listing_fills_the_cache_1200_tasks():
    f = fake({"ark": {"count": 1200}})
    m = Mount(f, providers=("volc",))
    out = m.run("ls", "-l", "volc").stdout
    assert len(out.strip().split("\n")) == 1201  # "total" and 1200 entries
    m.run("sh", "-c", "cat volc/*/status volc/*/meta.json > /dev/null")
    c = f.counters()
    assert c.get("ark.list", 0) == 3, c  # page_size 500: 500 + 500 + 200
    assert c.get("ark.get", 0) == 0, c
    m.run("ls", "-l", "volc")  # within the TTL
    assert f.counters().get("ark.list", 0) == 3
    pages = [e["path"] for e in f.log(endpoint="ark.list")]
    assert all("page_size=500" in p for p in pages), pages
    assert sorted(p.split("page_num=")[1].split("&")[0] for p in pages) == ["1", "2", "3"]


def test_sizes_and_mtimes_are_exact():
    f = fake()
    m = Mount(f, providers=("volc",))
    for t in f.tasks("ark")[:10]:
        d = m.path("volc", encode(t["id"]))
        for name in ("status", "meta.json") + (("error",) if os.path.exists(d + "/error") else ()):
            st = os.stat(os.path.join(d, name))
            with open(os.path.join(d, name), "rb") as fh:
                assert st.st_size == len(fh.read()), name
            assert st.st_mtime == t["updated_at"]
            assert oct(st.st_mode & 0o777) == "0o444"
        assert os.stat(d).st_mtime == t["updated_at"]


def test_error_files():
    f = fake({"ark": {"tasks": [
        {"id": "cgt-fail-err", "status": "failed",
         "error": {"code": "OutputVideoSensitiveContentDetected", "message": "blocked"}},
        {"id": "cgt-fail-reason", "status": "failed", "failure_reason": "no credit"},
        {"id": "cgt-expired", "status": "expired"},
        {"id": "cgt-ok", "status": "succeeded"}]}})
    m = Mount(f, providers=("volc", "chanjing"))
    assert m.cat("volc/cgt-fail-err/error") == "OutputVideoSensitiveContentDetected: blocked\n"
    for t in f.tasks("ark"):
        if t["status"] not in ("failed", "expired"):
            continue
        e = t.get("error")
        if isinstance(e, dict) and e.get("code") and e.get("message"):
            want = f"{e['code']}: {e['message']}\n"
        elif isinstance(e, dict) and e.get("message"):
            want = e["message"] + "\n"
        elif t.get("failure_reason"):
            want = t["failure_reason"] + "\n"
        else:
            want = f"task {t['status']}\n"
        assert m.cat("volc", t["id"], "error") == want, t
    assert "error" not in m.ls("volc/cgt-ok")
    assert errno_of(os.stat, m.path("volc/cgt-ok/error")) == errno.ENOENT
    for t in f.tasks("chanjing"):
        names = m.ls("chanjing", t["unique_id"])
        if t["progress_desc"] in ("Error", "Fail"):
            want = (t.get("err_msg") or "task failed") + "\n"
            assert m.cat("chanjing", t["unique_id"], "error") == want
        else:
            assert "error" not in names


def test_output_names():
    f = fake()
    m = Mount(f, providers=("volc", "chanjing"))
    for t in f.tasks("ark"):
        names = set(m.ls("volc", t["id"]))
        content = t.get("content") or {}
        assert ("video.mp4" in names) == bool(content.get("video_url")), t["id"]
        assert ("last_frame.png" in names) == bool(content.get("last_frame_url")), t["id"]
    for t in f.tasks("chanjing"):
        names = m.ls("chanjing", t["unique_id"])
        outs = [n for n in names if n not in ("status", "meta.json", "error")]
        urls = [u for u in t.get("output_url") or [] if u]
        assert len(outs) == len(urls), (names, urls)
        stem = "image" if t["type"] == 3 else "video"
        if len(urls) == 1:
            assert outs[0].startswith(stem + "."), outs
        for i, n in enumerate(sorted(outs)):
            if len(urls) > 1:
                assert n.startswith(f"{stem}-"), outs


def test_odd_ids_are_encoded_one_to_one():
    f = fake({"ark": {"odd_ids": True, "count": 3}})
    m = Mount(f, providers=("volc",))
    names = m.ls("volc")
    ids = [t["id"] for t in f.tasks("ark")]
    for i in ids:
        n = encode(i)
        if not i or len(n.encode()) > 255:
            assert n not in names
            continue
        assert n in names, (i, n)
        assert m.cat("volc", n, "status").endswith("\n")
    assert "%2E." in names and "a%2Fb" in names and "50%25" in names and "%2Ehidden" in names
    # nothing escapes the directory
    out = m.run("find", "volc", "-maxdepth", "1", "-mindepth", "1").stdout.split("\n")[:-1]
    assert all(p.count("/") == 1 for p in out)


def test_dot_ids_reach_their_own_task():
    f = fake({"relay": {"count": 2}})
    for tid in ("..", "."):
        f.set_task("relay", tid, status="succeeded")
    m = Mount(f, providers=("relay",))
    names = m.ls("relay")
    assert "%2E." in names and "%2E" in names
    f.reset_counters()
    f.url_ttl("relay", 3600, expire_now=True)  # the next read must renew the URL
    for tid, name in (("..", "%2E."), (".", "%2E")):
        assert m.run("sha256sum", f"relay/{name}/video.mp4").stdout.split()[0] == \
            f.expected("relay", tid, "video")["sha256"]
    gets = [e["path"] for e in f.log(endpoint="relay.get")]
    assert gets, "the expired URLs were renewed by a get"
    assert all(p.endswith(("/tasks/%2E%2E", "/tasks/%2E")) for p in gets), gets
    assert f.counter("relay.list") == 0


def test_a_malformed_answer_is_remembered_for_a_second():
    f = fake()
    m = Mount(f, providers=("volc",), opts=("-o", "retries=0"))
    f.fault("ark.get", "malformed")
    t0 = time.monotonic()
    codes = [errno_of(os.stat, m.path("volc", "cgt-20990101000000-bad01", "status")) for _ in range(6)]
    if time.monotonic() - t0 < 0.9:  # all within the memo's second
        assert f.counter("ark.get") == 1, f.counters()
    assert set(codes) == {errno.EIO}, codes
    wait_for(lambda: time.monotonic() - t0 > 1.1, 3, "the memo to lapse")
    f.clear_faults()
    f.set_task("ark", "cgt-20990101000000-bad01", status="running")
    assert m.cat("volc", "cgt-20990101000000-bad01", "status") == "running\n"


def test_dot_names_cost_nothing():
    f = fake()
    m = Mount(f, providers=("volc",))
    m.ls("volc")
    f.reset_counters()
    for n in (".git", ".Trash", ".hidden", "..."):
        assert errno_of(os.stat, m.path("volc", n)) == errno.ENOENT
    assert f.counters().get("ark.get", 0) == 0


def test_unknown_id_is_enoent_and_one_get():
    f = fake()
    m = Mount(f, providers=("volc",))
    err = m.error_of("cat", "volc/cgt-nope/status")
    assert "No such file" in err
    assert f.counters().get("ark.get", 0) == 1


def test_just_created_id_resolves():
    f = fake()
    m = Mount(f, providers=("volc",))
    assert errno_of(os.stat, m.path("volc/cgt-new-1")) == errno.ENOENT
    f.set_task("ark", "cgt-new-1", status="queued")
    # "not found" is remembered for at most a second
    wait_for(lambda: errno_of(os.stat, m.path("volc/cgt-new-1")) == 0, 5, "the new id")
    assert m.cat("volc/cgt-new-1/status") == "queued\n"


def test_parallel_cat_of_unknown_id_costs_one_get():
    f = fake()
    f.set_task("ark", "cgt-hidden", status="succeeded")
    f.fault("ark.get", "delay", seconds=0.5, count=1)
    m = Mount(f, providers=("volc",))
    procs = [subprocess.Popen(["cat", m.path("volc/cgt-hidden/status")],
                              stdout=subprocess.PIPE, text=True) for _ in range(8)]
    outs = [p.communicate(timeout=30)[0] for p in procs]
    assert outs == ["succeeded\n"] * 8
    assert f.counters().get("ark.get", 0) == 1


def test_finished_task_never_fetched_again():
    f = fake({"ark": {"tasks": [{"id": "cgt-done", "status": "succeeded"},
                                {"id": "cgt-busy", "status": "running"}]}})
    m = Mount(f, providers=("volc",), section_extra={"volc": "list = no"})
    m.cat("volc/cgt-done/status")
    m.cat("volc/cgt-busy/status")
    assert f.counters().get("ark.get", 0) == 2
    for _ in range(3):
        f.reset_counters()
        m.hup()  # drops unfinished states
        wait_for(lambda: m.cat("volc/cgt-busy/status") == "running\n" and
                 f.counters().get("ark.get", 0) == 1, 5, "a new get of the running task")
        f.reset_counters()
        assert m.cat("volc/cgt-done/status") == "succeeded\n"
        assert f.counters().get("ark.get", 0) == 0


def test_sighup_drops_the_listing():
    f = fake()
    m = Mount(f, providers=("volc",))
    m.ls("volc")
    m.ls("volc")
    assert f.counters()["ark.list"] == 1
    m.hup()
    wait_for(lambda: (m.ls("volc"), f.counters()["ark.list"])[1] == 2, 5, "a new listing")


def test_get_only_provider_lists_known_ids_across_remounts():
    f = fake()
    rong = f.tasks("rong")
    m = Mount(f, providers=("rong",))
    assert m.ls("rong") == []  # the API cannot list: the registry is empty
    assert m.cat("rong", rong[0]["id"], "status") == rong[0]["status"] + "\n"
    assert m.ls("rong") == [rong[0]["id"]]
    # mkdir registers an existing id (the kernel's lookup before it already
    # does, so it reports EEXIST: mkdir -p succeeds); unknown is ENOENT
    m.run("mkdir", "-p", m.path("rong", rong[1]["id"]))
    assert errno_of(os.mkdir, m.path("rong", rong[1]["id"])) == errno.EEXIST
    assert errno_of(os.mkdir, m.path("rong", "cgt-unknown")) == errno.ENOENT
    assert m.ls("rong") == sorted([rong[0]["id"], rong[1]["id"]])
    cache = m.cache
    m.umount()
    m2 = Mount(f, providers=("rong",), cache=cache)
    f.reset_counters()
    assert m2.ls("rong") == sorted([rong[0]["id"], rong[1]["id"]])
    assert f.counters().get("rong.list", 0) <= 1
    # an id the API forgets leaves the registry
    f.delete_task("rong", rong[0]["id"])
    assert errno_of(os.stat, m2.path("rong", rong[0]["id"], "status")) == errno.ENOENT
    assert m2.ls("rong") == [rong[1]["id"]]


def test_chanjing_lists_both_types_and_pages():
    f = fake({"chanjing": {"count": 130}})
    m = Mount(f, providers=("chanjing",))
    assert len(m.ls("chanjing")) == 130
    c = f.counters()
    images = sum(1 for t in f.tasks("chanjing") if t["type"] == 3)
    pages = -(-images // 50) + -(-(130 - images) // 50)
    assert c.get("chanjing.list", 0) == pages, (c, pages)
    assert c.get("chanjing.token", 0) == 1
    body = [e for e in f.log(endpoint="chanjing.list")]
    assert body


def test_chanjing_token_refreshed_once_when_invalidated():
    f = fake()
    m = Mount(f, providers=("chanjing",))
    m.ls("chanjing")
    f.invalidate_token()
    m.hup()
    assert len(m.ls("chanjing")) == len(f.tasks("chanjing"))
    assert f.counters().get("chanjing.token", 0) == 2


def test_relay_status_submitted_and_thin_items():
    f = fake({"relay": {"mix": {"submitted": 1}}})
    m = Mount(f, providers=("relay",))
    for t in f.tasks("relay")[:3]:
        assert m.cat("relay", t["id"], "status") == "submitted\n"


def test_wrong_key_is_eacces_not_stale():
    f = fake()
    m = Mount(f, providers=("volc",), conf_text=(
        f"[volc]\ntype = ark\nbase_url = {f.base('ark')}\napi_key = wrong-key-123456\n"))
    err = m.error_of("ls", "volc")
    assert "Permission denied" in err
    assert "wrong-key-123456" not in m.log()


def test_transient_failures_are_retried():
    f = fake()
    f.fault("ark.list", "http", status=503, count=2)
    m = Mount(f, providers=("volc",), opts=("-o", "retries=3"))
    assert len(m.ls("volc")) == len(f.tasks("ark"))
    assert f.counters()["ark.list"] == 3


def test_throttling_honours_retry_after_then_eagain():
    f = fake()
    f.fault("ark.list", "http", status=429, retry_after="1", count=1)
    m = Mount(f, providers=("volc",))
    assert len(m.ls("volc")) == len(f.tasks("ark"))
    log = f.log(endpoint="ark.list")
    assert len(log) == 2 and log[1]["t"] - log[0]["t"] >= 0.95, log
    f.fault("ark.get", "http", status=429, count=100)
    m2 = Mount(f, providers=("volc",), opts=("-o", "retries=1"))
    err = m2.error_of("cat", "volc/cgt-none/status")
    assert "Resource temporarily unavailable" in err


def test_stale_listing_served_while_the_api_is_down():
    f = fake()
    m = Mount(f, providers=("volc",), opts=("-o", "retries=1"))
    first = m.ls("volc")
    f.fault("ark.list", "http", status=500, count=1000)
    m.hup()
    assert m.ls("volc") == first
    assert "HTTP 500" in m.log()


def test_malformed_answer_is_eio():
    f = fake()
    f.fault("ark.list", "malformed", count=100)
    m = Mount(f, providers=("volc",))
    assert "Input/output error" in m.error_of("ls", "volc")


def test_slow_provider_does_not_hold_up_another():
    f = fake()
    f.fault("chanjing.list", "delay", seconds=8, count=1)
    m = Mount(f, providers=("volc", "chanjing"))
    slow = subprocess.Popen(["ls", m.path("chanjing")], stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: f.counters().get("chanjing.list", 0) >= 1, 10, "the slow listing")
        assert len(m.ls("volc")) == len(f.tasks("ark"))
        m.cat("volc", f.tasks("ark")[0]["id"], "status")
        assert slow.poll() is None  # still waiting on chanjing, while volc answered
    finally:
        slow.kill()
        slow.wait()


def test_rate_limit_never_exceeded():
    f = fake()
    m = Mount(f, providers=("volc",), opts=("-o", "qps=4", "-o", "burst=2"))
    ids = [f"cgt-missing-{i}" for i in range(14)]
    threads = [threading.Thread(target=os.path.exists, args=(m.path("volc", i),)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    times = sorted(e["t"] for e in f.log(endpoint="ark.get"))
    assert len(times) == 14
    for i in range(len(times)):
        for j in range(i, len(times)):
            assert j - i + 1 <= 4 * (times[j] - times[i]) + 2 + 0.5, (i, j, times)


test_listing_fills_the_cache_1200_tasks.timeout = 180


def test_metadata_cap_slims_the_least_recently_used():
    f = fake({"ark": {"count": 40}})
    m = Mount(f, providers=("volc",), opts=("-o", "meta_max=10"))
    m.run("ls", "-l", "volc")
    m.run("sh", "-c", "stat volc/*/status volc/*/meta.json > /dev/null")
    assert f.counters().get("ark.get", 0) == 0  # sizes and status survive slimming
    tasks = f.tasks("ark")
    for t in tasks:
        assert m.cat("volc", t["id"], "status") == t["status"] + "\n"
    assert f.counters().get("ark.get", 0) == 0
    for t in tasks:
        assert json.loads(m.cat("volc", t["id"], "meta.json")) == f.task("ark", t["id"])
    gets = f.counters().get("ark.get", 0)
    assert 30 <= gets <= 40, gets  # the slimmed ones were asked for again


def test_stale_unfinished_tasks_are_refreshed_by_listing_again():
    f = fake({"ark": {"count": 1200}})
    m = Mount(f, providers=("volc",))
    m.run("ls", "-l", "volc")
    m.hup()  # as if the TTL had passed: unfinished states are stale
    f.reset_counters()
    m.run("sh", "-c", "cat volc/*/status > /dev/null")
    c = f.counters()
    assert c.get("ark.list", 0) == 3 and c.get("ark.get", 0) == 0, c


def test_dot_entries_and_root_mkdir():
    f = fake()
    m = Mount(f, providers=("volc",))
    out = m.run("ls", "-a", "volc").stdout.split("\n")
    assert out[0] == "." and out[1] == ".."
    assert errno_of(os.mkdir, m.path("newdir")) == errno.EPERM
