"""The task lifecycle with ordinary tools, through a real daemonized mount:
creating a task by writing a request into .new (exactly once, under faults
and crashes, counted at the fake), cancelling and deleting with rmdir,
waiting with cat .wait, and the read-only rest of the tree."""
import errno
import os
import signal
import subprocess
import threading
import time

from harness import Mount, errno_of, fake, pid_alive, wait_for

REQ = ('{"model":"doubao-seedance-1-0-pro-250528","content":[{"type":"text",'
       '"text":"a cat on a skateboard"}],"ratio":"16:9","duration":5}\n')
CJ_REQ = '{"creation_type":3,"model_code":"doubao-seedream-4.5","ref_prompt":"a cat"}'
FAST = ("-o", "timeout=3,retries=1")


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


def close_errno(path, text, mode="w"):
    """Writes text with one open/write/close; the errno the close gave, or 0."""
    try:
        with open(path, mode) as f:
            f.write(text)
        return 0
    except OSError as e:
        return e.errno


def new_id(m, provider, label):
    link = os.readlink(m.path(provider, ".new", label))
    assert link.startswith("../"), link
    return link[3:]


def test_cp_creates_exactly_one_task():
    f = fake({"ark": {"count": 3}})
    m = Mount(f, providers=("volc",))
    src = os.path.join(m.dir, "request.json")
    write_file(src, REQ)
    m.run("cp", src, "volc/.new/cat.json")
    assert f.created("ark") == 1
    creates = f.creates("ark")
    assert len(creates) == 1 and creates[0]["raw"] == REQ.encode(), creates
    tid = new_id(m, "volc", "cat")
    assert tid == creates[0]["id"]
    assert tid in m.ls("volc"), "the new id joins the directory at once"
    assert m.cat("volc", ".new", "cat", "status") == "queued\n"  # through the symlink
    st = os.stat(m.path("volc", ".new", "cat.json"))
    assert st.st_mode & 0o777 == 0o444
    assert errno_of(os.open, m.path("volc", ".new", "cat.json"), os.O_WRONLY) == errno.EEXIST
    assert m.cat("volc", ".new", "cat.json") == REQ
    assert sorted(os.listdir(m.path("volc", ".new"))) == ["cat", "cat.json"]
    assert f.created("ark") == 1


def test_every_writer_creates_once():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",))
    src = os.path.join(m.dir, "request.json")
    write_file(src, REQ)
    writers = {
        "tee": ["sh", "-c", f"tee volc/.new/tee.json < {src} > /dev/null"],
        "redir": ["sh", "-c", f"cat {src} > volc/.new/redir.json"],
        "python": ["python3", "-c", f"open('volc/.new/python.json','w').write(open('{src}').read())"],
        "dd": ["dd", f"if={src}", "of=volc/.new/dd.json", "bs=7", "status=none"],
    }
    for label, cmd in writers.items():
        m.run(*cmd)
        assert new_id(m, "volc", label), label
    assert f.created("ark") == len(writers)
    assert all(c["raw"] == REQ.encode() for c in f.creates("ark"))


def test_a_bad_request_sends_nothing_and_stays_a_draft():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",))
    path = m.path("volc", ".new", "half.json")
    assert close_errno(path, '{"model":"m","content":[') == errno.EINVAL
    assert f.counters().get("ark.create", 0) == 0
    why = m.cat("volc", ".new", "half.error")
    assert why.startswith("EINVAL: not sent:") and why.endswith("\n"), why
    assert not os.path.lexists(m.path("volc", ".new", "half"))
    assert close_errno(path, "[1, 2]") == errno.EINVAL  # not an object
    assert close_errno(path, "") == 0  # empty: stays a draft, nothing sent
    assert f.counters().get("ark.create", 0) == 0
    assert close_errno(path, REQ) == 0
    assert f.created("ark") == 1 and new_id(m, "volc", "half")
    assert not os.path.exists(m.path("volc", ".new", "half.error"))


def test_the_api_refusing_a_request_is_einval_with_its_message():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",))
    path = m.path("volc", ".new", "nomodel.json")
    assert close_errno(path, '{"content":[{"type":"text","text":"x"}]}') == errno.EINVAL
    err = m.cat("volc", ".new", "nomodel.error")
    assert err.startswith("InvalidParameter: "), err
    assert f.created("ark") == 0 and f.counter("ark.create") == 1
    # the draft stays writable for another attempt
    assert close_errno(path, REQ) == 0 and f.created("ark") == 1


def test_nothing_is_created_by_looking():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",))
    new = m.path("volc", ".new")
    assert ".new" in m.run("ls", "-a", "volc").stdout.split()
    assert errno_of(os.stat, os.path.join(new, "ghost.json")) == errno.ENOENT
    m.run("touch", os.path.join(new, "empty.json"))  # created, never written
    m.run("cat", os.path.join(new, "empty.json"))
    m.run("ls", "-la", new)
    for probe in (".empty.json.swp", "4913", "x.json~", ".Trash-0"):
        assert errno_of(os.open, os.path.join(new, probe), os.O_CREAT | os.O_WRONLY) == errno.EINVAL
    assert errno_of(os.mkdir, os.path.join(new, ".Trash-0")) == errno.EINVAL
    assert errno_of(os.open, os.path.join(new, "bad name.json"), os.O_CREAT | os.O_WRONLY) == errno.EINVAL
    assert errno_of(os.open, os.path.join(new, "x" * 101 + ".json"), os.O_CREAT | os.O_WRONLY) in (
        errno.EINVAL, errno.ENAMETOOLONG)
    assert f.counters().get("ark.create", 0) == 0


def test_writes_elsewhere_say_why():
    f = fake({"ark": {"count": 2}})
    m = Mount(f, providers=("volc",))
    tid = m.ls("volc")[0]
    assert errno_of(os.open, m.path("volc", "new.json"), os.O_CREAT | os.O_WRONLY) == errno.EPERM
    assert errno_of(os.open, m.path("volc", tid, "status"), os.O_WRONLY) == errno.EACCES
    assert errno_of(os.unlink, m.path("volc", tid, "status")) == errno.EPERM
    assert errno_of(os.rename, m.path("volc", tid, "status"), m.path("volc", tid, "s2")) == errno.EPERM
    assert errno_of(os.mkdir, m.path("volc", tid, "sub")) == errno.EPERM
    assert errno_of(os.symlink, "x", m.path("volc", "lnk")) == errno.EPERM
    assert errno_of(os.mkdir, m.path("newprov")) == errno.EPERM
    assert errno_of(os.chmod, m.path("volc", tid, "status"), 0o644) == errno.EPERM
    p = m.run("sh", "-c", f"echo x > volc/{tid}/status", check=False)
    assert p.returncode != 0 and "Function not implemented" not in p.stderr


def fault_create(f, kind, **kw):
    f.fault("ark.create", kind, count=1, **kw)


def test_throttling_and_503_are_retried_and_create_once():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",), opts=FAST)
    fault_create(f, "http", status=429, retry_after=0)
    assert close_errno(m.path("volc", ".new", "a.json"), REQ) == 0
    fault_create(f, "http", status=503)
    assert close_errno(m.path("volc", ".new", "b.json"), REQ) == 0
    assert f.created("ark") == 2 and f.counter("ark.create") == 4


def unknown_after(f, m, label, kind, **kw):
    """A create that meets this fault is unknown: EIO, never sent again."""
    before = f.counter("ark.create")
    fault_create(f, kind, **kw)
    assert close_errno(m.path("volc", ".new", f"{label}.json"), REQ) == errno.EIO
    assert f.counter("ark.create") == before + 1, f"{kind}: sent once"
    err = m.cat("volc", ".new", f"{label}.error")
    assert err.startswith("unknown:"), err
    # blocked: never sent again, whatever is tried
    assert errno_of(os.open, m.path("volc", ".new", f"{label}.json"), os.O_WRONLY) == errno.EEXIST
    assert f.counter("ark.create") == before + 1


def test_outcomes_that_may_have_created_are_unknown_and_never_resent():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",), opts=FAST)
    unknown_after(f, m, "e500", "http", status=500)
    unknown_after(f, m, "stall", "stall_after_create", seconds=6)
    unknown_after(f, m, "reset", "reset_after_create")
    unknown_after(f, m, "reset0", "reset")
    unknown_after(f, m, "bad", "malformed")
    # only the faults that come after the task was made made one
    assert f.created("ark") == 2, f.counters()


def test_a_request_that_never_left_is_retried_then_fails_plainly():
    f = fake({"ark": {"count": 1}})
    dead = f.url.rsplit(":", 1)[0] + ":9"  # discard port: connection refused
    m = Mount(f, providers=("volc",), opts=FAST, conf_text=(
        "[volc]\ntype = ark\nbase_url = " + dead + "/ark/api/v3\napi_key = k\n"))
    rc = close_errno(m.path("volc", ".new", "off.json"), REQ)
    assert rc in (errno.EIO, errno.EHOSTUNREACH, errno.ETIMEDOUT), rc
    err = m.cat("volc", ".new", "off.error")
    assert not err.startswith("unknown"), err
    # a draft again: writable
    os.close(os.open(m.path("volc", ".new", "off.json"), os.O_WRONLY))


def test_a_crash_while_sending_leaves_the_label_unknown_after_remount():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",), opts=("-o", "timeout=30,retries=0"))
    f.fault("ark.create", "stall_after_create", seconds=25, count=1)
    t = threading.Thread(target=close_errno, args=(m.path("volc", ".new", "crash.json"), REQ))
    t.daemon = True
    t.start()
    wait_for(lambda: f.created("ark") == 1, 10, "the task to be made")
    m.kill(signal.SIGKILL)
    subprocess.run(["fusermount3", "-uz", m.mnt], capture_output=True, timeout=15)
    t.join(timeout=15)
    m.pid = None
    m.start()
    assert m.cat("volc", ".new", "crash.error").startswith("unknown:")
    assert not os.path.lexists(m.path("volc", ".new", "crash"))
    assert errno_of(os.open, m.path("volc", ".new", "crash.json"), os.O_WRONLY) == errno.EEXIST
    assert f.counter("ark.create") == 1 and f.created("ark") == 1


def test_labels_and_links_survive_a_remount_and_rm_forgets_only_the_label():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",))
    assert close_errno(m.path("volc", ".new", "keep.json"), REQ) == 0
    tid = new_id(m, "volc", "keep")
    m.umount()
    m.start()
    assert new_id(m, "volc", "keep") == tid
    assert m.cat("volc", ".new", "keep.json") == REQ
    m.run("rm", "volc/.new/keep.json")
    assert "keep.json" not in os.listdir(m.path("volc", ".new"))
    assert tid in m.ls("volc")
    m.umount()
    m.start()
    assert os.listdir(m.path("volc", ".new")) == []
    assert f.created("ark") == 1


def test_chanjing_creates_and_rongcloud_says_it_cannot():
    f = fake({"chanjing": {"count": 1}, "rong": {"count": 1}})
    m = Mount(f, providers=("chanjing", "rong"))
    assert close_errno(m.path("chanjing", ".new", "img.json"), CJ_REQ) == 0
    assert f.created("chanjing") == 1
    assert new_id(m, "chanjing", "img") == f.creates("chanjing")[0]["id"]
    rc = close_errno(m.path("rong", ".new", "r.json"), REQ)
    assert rc == errno.EPERM, rc
    assert "does not create" in m.cat("rong", ".new", "r.error")


def test_rmdir_cancels_a_queued_task_and_refuses_the_rest():
    f = fake({"ark": {"count": 1}, "chanjing": {"count": 2}})
    m = Mount(f, providers=("volc", "chanjing"))
    f.set_task("ark", "cgt-q", status="queued")
    f.set_task("ark", "cgt-r", status="running")
    done = [t["id"] for t in f.tasks("ark") if t["status"] == "succeeded"][0]
    m.run("rmdir", "volc/cgt-q")
    assert f.counter("ark.cancelled") == 1
    wait_for(lambda: m.cat("volc", "cgt-q", "status") == "cancelled\n", 15, "cancelled")
    assert errno_of(os.rmdir, m.path("volc", "cgt-r")) == errno.EBUSY
    deletes = f.counter("ark.delete")
    assert errno_of(os.rmdir, m.path("volc", done)) == errno.EPERM
    assert f.counter("ark.delete") == deletes, "nothing sent without delete = yes"
    cj = m.ls("chanjing")[0]
    assert errno_of(os.rmdir, m.path("chanjing", cj)) == errno.EPERM
    assert f.counters().get("chanjing.delete", 0) == 0


def test_rmdir_deletes_a_finished_task_with_delete_yes():
    f = fake({"ark": {"count": 3}})
    m = Mount(f, providers=("volc",), section_extra={"volc": "delete = yes"})
    done = [t for t in f.tasks("ark") if t["status"] == "succeeded"
            and (t.get("content") or {}).get("video_url")][0]["id"]
    m.run("cp", f"volc/{done}/video.mp4", os.path.join(m.dir, "v.mp4"))
    blobs = os.path.join(m.cache, "blobs")
    assert any(n.endswith(".data") for n in os.listdir(blobs))
    m.run("rmdir", f"volc/{done}")
    assert f.counter("ark.deleted") == 1
    assert done not in m.ls("volc")
    assert errno_of(os.stat, m.path("volc", done)) == errno.ENOENT
    assert not any(n.endswith(".data") for n in os.listdir(blobs)), "its cached outputs go too"


def test_wait_returns_at_once_for_a_finished_task_and_is_not_listed():
    f = fake({"ark": {"count": 3}})
    m = Mount(f, providers=("volc",))
    done = [t["id"] for t in f.tasks("ark") if t["status"] == "succeeded"][0]
    assert m.cat("volc", done, ".wait") == "succeeded\n"
    assert ".wait" not in m.run("ls", "-a", f"volc/{done}").stdout.split()


def test_wait_blocks_until_the_task_finishes():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",), global_extra="qps = 50\nburst = 50\nttl = 1")
    f.lifecycle("ark", queued_s=1, running_s=1.5, outcome="succeeded")
    assert close_errno(m.path("volc", ".new", "w.json"), REQ) == 0
    t0 = time.monotonic()
    out = m.run("cat", "volc/.new/w/.wait", timeout=30).stdout
    took = time.monotonic() - t0
    assert out == "succeeded\n"
    assert 2.0 <= took <= 2.5 + 1 + 1.5, took  # done after 2.5 s, seen within ttl + 1


def test_many_waiters_cost_what_one_costs_and_ctrl_c_ends_a_wait():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",), global_extra="qps = 50\nburst = 50\nttl = 1")
    f.set_task("ark", "cgt-long", status="running")
    m.cat("volc", "cgt-long", "status")
    procs = [subprocess.Popen(["cat", m.path("volc", "cgt-long", ".wait")],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              stdin=subprocess.DEVNULL) for _ in range(40)]
    try:
        f.reset_counters()
        t0 = time.monotonic()
        wait_for(lambda: time.monotonic() - t0 > 3.2, 5, "three refresh rounds")
        gets = f.counters().get("ark.get", 0) + f.counters().get("ark.list", 0)
        assert gets <= 5, f"{gets} requests for 40 waiters over 3 s at ttl 1"
        # ls answers at once meanwhile
        t1 = time.monotonic()
        m.run("ls", "volc", timeout=5)
        assert time.monotonic() - t1 < 2
        # Ctrl-C ends one wait at once
        procs[0].send_signal(signal.SIGINT)
        procs[0].wait(timeout=3)
        f.set_task("ark", "cgt-long", status="succeeded")
        for p in procs[1:]:
            assert p.wait(timeout=10) == 0
            assert p.stdout.read() == b"succeeded\n"
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=5)


def test_wait_on_a_task_the_api_forgets_is_enoent():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",), global_extra="qps = 50\nburst = 50\nttl = 1")
    f.set_task("ark", "cgt-gone", status="running")
    m.cat("volc", "cgt-gone", "status")
    p = subprocess.Popen(["cat", m.path("volc", "cgt-gone", ".wait")], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        wait_for(lambda: f.counters().get("ark.get", 0) >= 1, 10, "a refresh")
        f.forget("ark", "cgt-gone")
        assert p.wait(timeout=10) != 0
        assert "No such file" in p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=5)


def test_a_label_is_recorded_after_the_cache_directory_was_removed():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",))
    subprocess.run(["rm", "-rf", m.cache], check=True)
    assert close_errno(m.path("volc", ".new", "after.json"), REQ) == 0
    assert f.created("ark") == 1 and new_id(m, "volc", "after")
    assert os.path.exists(os.path.join(m.cache, "labels", "volc", "after"))
