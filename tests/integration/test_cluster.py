"""Cluster mode: several daemonized mounts of one account on one fake and
one real redis-server share the rate limit, the answers, the known ids, the
.new labels and the Chanjing token; with Redis gone they carry on alone and
rejoin when it is back."""
import errno
import json
import os
import signal
import socket
import subprocess
import threading
import time

from harness import Mount, Redis, errno_of, fake, wait_for

REQ = ('{"model":"doubao-seedance-1-0-pro-250528","content":[{"type":"text",'
       '"text":"a cat on a skateboard"}],"ratio":"16:9","duration":5}\n')


def fleet(f, r, n=3, providers=("volc",), opts=(), global_extra="qps = 50\nburst = 50"):
    return [Mount(f, providers=providers, opts=("-o", f"redis={r.url}", *opts),
                  global_extra=global_extra) for _ in range(n)]


def ls_l(m, *parts):
    return m.run("ls", "-l", m.path(*parts)).stdout


def test_ls_l_on_three_mounts_costs_the_pages_once():
    f = fake({"ark": {"count": 1200}})
    r = Redis()
    ms = fleet(f, r)
    first = ls_l(ms[0], "volc")
    pages = f.counter("ark.list")
    gets = f.counter("ark.get")
    assert pages >= 3, pages
    for m in ms[1:]:
        assert ls_l(m, "volc").count("\n") == first.count("\n")
    assert f.counter("ark.list") == pages, "the other mounts took the shared pages"
    assert f.counter("ark.get") == gets
    # every status, on every mount, from what one mount fetched
    names = sorted(n for n in os.listdir(ms[0].path("volc")) if not n.startswith("."))
    for m in ms:
        for n in names[:20]:
            assert m.cat("volc", n, "status")
    assert f.counter("ark.list") == pages


def test_sighup_asks_the_api_again_on_that_mount():
    f = fake({"ark": {"count": 3}})
    r = Redis()
    ms = fleet(f, r, n=2, opts=("-o", "ttl=600"))
    for m in ms:
        assert len(m.ls("volc")) == 3
    assert f.counter("ark.list") == 1
    f.set_task("ark", "cgt-20261206120000-newone", status="queued")
    assert "cgt-20261206120000-newone" not in ms[1].ls("volc")  # within the TTL
    ms[1].hup()
    assert "cgt-20261206120000-newone" in ms[1].ls("volc")
    assert f.counter("ark.list") == 2


def test_an_unknown_id_on_three_mounts_costs_one_get():
    f = fake({"ark": {"count": 2}})
    r = Redis()
    ms = fleet(f, r)
    before = f.counter("ark.get")
    for m in ms:
        assert errno_of(os.stat, m.path("volc", "cgt-20990101000000-nope0")) == errno.ENOENT
    assert f.counter("ark.get") - before == 1


def test_a_task_looked_up_on_one_mount_is_listed_on_all():
    f = fake({"rong": {"count": 3}})
    r = Redis()
    ms = fleet(f, r, providers=("rong",))
    tid = f.tasks("rong")[0]["id"]
    assert ms[0].cat("rong", tid, "status")
    ms[0].hup()  # the registry write is settled; the others read the set
    for m in ms[1:]:
        wait_for(lambda: tid in m.ls("rong"), 15, "the id in every mount's listing")


def test_the_fleet_stays_within_the_account_budget():
    f = fake({"ark": {"count": 1}})
    r = Redis()
    qps, burst = 4, 2
    ms = fleet(f, r, global_extra=f"qps = {qps}\nburst = {burst}", opts=("-o", "timeout=20"))
    t0 = f.now()
    stop = time.monotonic() + 4

    def hammer(m, k):
        i = 0
        while time.monotonic() < stop:
            os.path.exists(m.path("volc", f"cgt-20990101000000-k{k}x{i}"))
            i += 1

    threads = [threading.Thread(target=hammer, args=(m, k)) for k, m in enumerate(ms)
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    times = sorted(e["t"] for e in f.log(since=t0) if e["endpoint"].startswith("ark."))
    assert len(times) >= 8, times
    # in every window, at most qps * t + burst requests (a little slack for
    # the clocks of two processes)
    assert windows_ok(times, qps, burst) is None, windows_ok(times, qps, burst)


def windows_ok(times, qps, burst, slack=1):
    """In every window of the sorted times, at most qps * t + burst."""
    for i, a in enumerate(times):
        for j in range(i, len(times)):
            if j - i + 1 > qps * (times[j] - a) + burst + slack:
                return (j - i + 1, times[j] - a)
    return None


def test_redis_lost_each_mount_takes_qps_over_its_mounts():
    f = fake({"ark": {"count": 1}})
    r = Redis()
    qps = 3
    ms = fleet(f, r, global_extra=f"qps = {qps}\nburst = {qps}", opts=("-o", "timeout=20"))
    for m in ms:  # every mount has seen all three alive
        wait_for(lambda: "3 mount(s) of this account alive" in m.log(), 15, "the mounts counted")
    r.kill()
    for m in ms:  # each finds Redis gone at its next call
        assert errno_of(os.stat, m.path("volc", "cgt-20990101000000-first")) == errno.ENOENT
        wait_for(lambda: "carrying on alone" in m.log(), 10, "the degraded line")
    t0 = f.now()
    stop = time.monotonic() + 5

    def hammer(m, k):
        i = 0
        while time.monotonic() < stop:
            os.path.exists(m.path("volc", f"cgt-20990101000000-d{k}x{i}"))
            i += 1

    threads = [threading.Thread(target=hammer, args=(m, k)) for k, m in enumerate(ms)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    times = sorted(e["t"] for e in f.log(since=t0) if e["endpoint"].startswith("ark."))
    assert len(times) >= 6, times
    # alone, each mount at qps / 3 with a burst of 1: the account's budget
    # still holds, give or take those bursts
    assert windows_ok(times, qps, len(ms)) is None, windows_ok(times, qps, len(ms))


def test_one_chanjing_token_for_every_mount():
    f = fake({"chanjing": {"count": 3}})
    r = Redis()
    ms = fleet(f, r, providers=("chanjing",))
    for _ in range(2):
        for m in ms:
            names = m.ls("chanjing")
            assert len(names) == 3, names
            m.hup()
    assert f.counter("chanjing.token") == 1


def test_a_label_is_one_task_on_every_mount():
    f = fake({"ark": {"count": 1}})
    r = Redis()
    ms = fleet(f, r, n=2)
    for m in ms:
        with open(m.path("volc", ".new", "cat.json"), "w") as fh:
            fh.write(REQ)
    assert f.created("ark") == 1
    a, b = (os.readlink(m.path("volc", ".new", "cat")) for m in ms)
    assert a == b and a.startswith("../"), (a, b)


def test_the_same_label_at_once_on_two_mounts_is_created_once():
    f = fake({"ark": {"count": 1}})
    f.fault("ark.create", "delay", seconds=1.0)
    r = Redis()
    ms = fleet(f, r, n=2)
    errs = []

    def write(m):
        try:
            with open(m.path("volc", ".new", "dog.json"), "w") as fh:
                fh.write(REQ)
        except OSError as e:
            errs.append(e.errno)

    threads = [threading.Thread(target=write, args=(m,)) for m in ms]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errs == [], errs
    assert f.created("ark") == 1
    assert len({os.readlink(m.path("volc", ".new", "dog")) for m in ms}) == 1


def test_redis_killed_and_restarted_the_mounts_serve_and_rejoin():
    f = fake({"ark": {"count": 30}, "chanjing": {"count": 2}})
    r = Redis()
    ms = fleet(f, r, providers=("volc", "chanjing"), opts=("-o", "ttl=1"))
    for m in ms:
        assert len(m.ls("volc")) == 30
    for m in ms:
        assert json.loads(m.cat(".aifs", "stats"))["cluster"] == "on"
    r.kill()
    t0 = time.monotonic()
    for m in ms:
        m.hup()
        assert len(m.ls("volc")) == 30
        assert len(m.ls("chanjing")) == 2
        assert m.cat("volc", m.ls("volc")[0], "status")
    assert time.monotonic() - t0 < 20, "Redis down never holds a call up for long"
    for m in ms:
        wait_for(lambda: "carrying on alone" in m.log(), 10, "the degraded line")
        assert m.log().count("carrying on alone") == 1
        assert json.loads(m.cat(".aifs", "stats"))["cluster"] == "degraded"
    r.start()
    for m in ms:
        wait_for(lambda: "sharing again" in m.log(), 15, "the rejoin line")
        assert json.loads(m.cat(".aifs", "stats"))["cluster"] == "on"
    gets = f.counter("ark.get")
    for m in ms:
        assert errno_of(os.stat, m.path("volc", "cgt-20990101000000-back0")) == errno.ENOENT
    assert f.counter("ark.get") - gets == 1, "sharing resumed"


def test_nonsense_at_the_redis_port_is_degraded_mode():
    # an HTTP server where Redis should be: every reply is nonsense
    f = fake({"ark": {"count": 5}})
    url = f.url.replace("http://", "redis://")
    m = Mount(f, providers=("volc",), opts=("-o", f"redis={url}"))
    assert len(m.ls("volc")) == 5
    wait_for(lambda: "carrying on alone" in m.log(), 10, "the degraded line")


def test_a_bad_redis_url_is_exit_1_and_never_shows_the_password():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",), start=False, foreground=True)
    for url in ("redis://:hunter2pass@127.0.0.1:99999/0", "http://127.0.0.1/",
                "redis://:hunter2pass@/0"):
        p = subprocess.run(m.command(("-o", f"redis={url}")), capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL)
        assert p.returncode == 1, (url, p.returncode, p.stderr)
        assert "redis" in p.stderr and "hunter2pass" not in p.stderr, p.stderr
        assert not os.path.ismount(m.mnt)


def test_the_redis_password_is_in_no_log_and_no_process_title():
    f = fake({"ark": {"count": 2}})
    r = Redis(password="s3cr3t-redis-pw")
    ms = fleet(f, r, n=1)
    m = ms[0]
    assert len(m.ls("volc")) == 2
    with open(f"/proc/{m.pid}/cmdline", "rb") as fh:
        assert b"s3cr3t-redis-pw" not in fh.read()
    keys = r.command("KEYS", "*")
    assert keys and all(k.startswith(b"aifs:1:{") for k in keys), keys
    for k in keys:
        if r.command("TYPE", k) == "string":
            assert f.credentials("ark")["api_key"].encode() not in r.command("GET", k)
    r.kill()
    m.hup()
    m.ls("volc")
    wait_for(lambda: "carrying on alone" in m.log(), 15, "the degraded line")
    assert "s3cr3t-redis-pw" not in m.log()


def test_a_mount_dying_while_sending_a_label_never_lets_another_send_it():
    f = fake({"ark": {"count": 1}})
    r = Redis()
    a, b = fleet(f, r, n=2, opts=("-o", "timeout=1,retries=0"))
    f.fault("ark.create", "stall_after_create", seconds=25, count=1)
    path = a.path("volc", ".new", "crash.json")

    def write():
        try:
            with open(path, "w") as fh:
                fh.write(REQ)
        except OSError:
            pass

    t = threading.Thread(target=write, daemon=True)
    t.start()
    wait_for(lambda: f.created("ark") == 1, 10, "the task to be made")
    a.kill(signal.SIGKILL)
    subprocess.run(["fusermount3", "-uz", a.mnt], capture_output=True, timeout=15)
    t.join(timeout=15)
    a.pid = None
    # the claim stands: the other mount waits for an answer, bounded, then
    # says another mount is sending it, and sends nothing
    try:
        with open(b.path("volc", ".new", "crash.json"), "w") as fh:
            fh.write(REQ)
        got = 0
    except OSError as e:
        got = e.errno
    assert got == errno.EBUSY, got
    assert "another mount" in b.cat("volc", ".new", "crash.error")
    assert f.counter("ark.create") == 1 and f.created("ark") == 1


def test_a_silent_redis_costs_a_timeout_once_then_the_mount_is_alone():
    f = fake({"ark": {"count": 4}})
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)  # accepts (the kernel does) and never answers
    try:
        port = srv.getsockname()[1]
        m = Mount(f, providers=("volc",), opts=("-o", f"redis=redis://127.0.0.1:{port}"))
        t0 = time.monotonic()
        assert len(m.ls("volc")) == 4
        assert time.monotonic() - t0 < 10
        wait_for(lambda: "carrying on alone" in m.log(), 10, "the degraded line")
        t0 = time.monotonic()
        m.hup()
        assert len(m.ls("volc")) == 4
        assert time.monotonic() - t0 < 3, "alone, no call waits on Redis"
    finally:
        srv.close()


def test_a_loose_redis_file_is_refused():
    f = fake({"ark": {"count": 1}})
    m = Mount(f, providers=("volc",), start=False, foreground=True)
    key = os.path.join(m.dir, "redis.url")
    with open(key, "w") as fh:
        fh.write("redis://:hunter2pass@127.0.0.1:6379/0\n")
    os.chmod(key, 0o644)
    with open(m.conf) as fh:
        text = fh.read()
    with open(m.conf, "w") as fh:
        fh.write(f"redis_file = {key}\n" + text)
    p = subprocess.run(m.command(), capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 1 and "hunter2pass" not in p.stderr, p.stderr
    assert "redis" in p.stderr, p.stderr
