"""The archive through a real daemonized mount: succeeded tasks' outputs
and metadata kept on disk without any read, pinned out of cache_max, and
served after the provider forgets the task, its URLs expire, and the mount
is mounted again; a small file system pauses archiving; a corrupt record is
skipped."""
import errno
import hashlib
import os
import subprocess
import tempfile

from harness import Mount, errno_of, fake, wait_for

ARCHIVE = "archive = yes\narchive_min_free = 0"


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def done_with_video(f, provider="ark"):
    return [t for t in f.tasks(provider) if t["status"] == "succeeded"
            and (t.get("content") or {}).get("video_url")]


def records(m, provider="volc"):
    d = os.path.join(m.cache, "archive", provider)
    return sorted(n for n in os.listdir(d) if n.endswith(".rec")) if os.path.isdir(d) else []


def archived_all(f, m):
    want = len([t for t in f.tasks("ark") if t["status"] == "succeeded"])
    wait_for(lambda: len(records(m)) == want, 60, f"{want} archive records")
    return want


def test_succeeded_tasks_are_archived_without_any_read():
    f = fake({"ark": {"count": 8, "media_size": 1 << 20}})
    m = Mount(f, providers=("volc",), section_extra={"volc": ARCHIVE})
    f.reset_counters()
    m.run("ls", "volc")
    n = archived_all(f, m)
    assert n >= 2
    sizes = 0
    for t in f.tasks("ark"):
        if t["status"] != "succeeded":
            continue
        for slot in ("video", "last_frame", "file"):
            try:
                sizes += f.expected("ark", t["id"], slot, hash=False)["size"]
            except Exception:
                pass
    assert f.counters().get("media.bytes", 0) >= sizes
    assert "archived" in m.log()


def test_the_archive_outlives_urls_the_task_and_the_mount():
    f = fake({"ark": {"count": 6, "media_size": 1 << 20}})
    m = Mount(f, providers=("volc",), section_extra={"volc": ARCHIVE})
    m.run("ls", "volc")
    archived_all(f, m)
    t = done_with_video(f)[0]
    want = f.expected("ark", t["id"], "video")["sha256"]
    meta = m.cat("volc", t["id"], "meta.json")
    f.url_ttl("ark", 3600, expire_now=True)
    f.forget("ark", t["id"])
    f.reset_counters()
    dst = tempfile.mkdtemp(prefix="aifs-arch-")
    try:
        m.run("cp", f"volc/{t['id']}/video.mp4", f"{dst}/v")
        assert sha(f"{dst}/v") == want
        assert f.counters().get("media.get", 0) == 0
        m.umount()
        m.start()
        f.reset_counters()
        assert t["id"] in m.ls("volc"), "listed after a remount though the API forgot it"
        assert m.cat("volc", t["id"], "status") == "succeeded\n"
        assert m.cat("volc", t["id"], "meta.json") == meta
        m.run("cp", f"volc/{t['id']}/video.mp4", f"{dst}/w")
        assert sha(f"{dst}/w") == want
        gets = [e for e in f.log(endpoint="ark.get") if t["id"] in e["path"]]
        assert not gets, "nothing about an archived task is asked again"
        assert f.counters().get("media.get", 0) == 0
        st = os.stat(m.path("volc", t["id"], "status"))
        assert st.st_mtime > 86400 * 365
    finally:
        subprocess.run(["rm", "-rf", dst])


def test_a_small_cache_max_never_evicts_archived_files():
    f = fake({"ark": {"count": 4, "media_size": 1 << 20}, "relay": {"count": 8, "media_size": 1 << 20}})
    m = Mount(f, providers=("volc", "relay"), section_extra={"volc": ARCHIVE},
              opts=("-o", "cache_max=2M"))
    m.run("ls", "volc")
    archived_all(f, m)
    # other outputs, not archived, pass through the small cache and are evicted
    for t in done_with_video(f, "relay"):
        m.run("sh", "-c", f"cat relay/{t['id']}/video.mp4 > /dev/null", timeout=60)
    f.reset_counters()
    for t in done_with_video(f):
        m.run("sh", "-c", f"cat volc/{t['id']}/video.mp4 > /dev/null", timeout=60)
    assert f.counters().get("media.get", 0) == 0, "an archived file was evicted"


def test_a_full_file_system_pauses_archiving():
    f = fake({"ark": {"count": 10, "media_size": 2 << 20}})
    small = tempfile.mkdtemp(prefix="aifs-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", small], check=True)
    try:
        m = Mount(f, providers=("volc",), cache=os.path.join(small, "cache"),
                  section_extra={"volc": "archive = yes\narchive_min_free = 5M"})
        m.run("ls", "volc")
        wait_for(lambda: "archiving paused" in m.log(), 60, "archiving to pause")
        assert m.log().count("archiving paused") == 1
        assert m.ls("volc")  # the mount goes on
        m.close()
    finally:
        subprocess.run(["umount", small], timeout=30)
        os.rmdir(small)


def test_a_corrupt_record_is_skipped_with_one_line():
    f = fake({"ark": {"count": 2}})
    m = Mount(f, providers=("volc",), section_extra={"volc": ARCHIVE}, start=False)
    d = os.path.join(m.cache, "archive", "volc")
    os.makedirs(d, mode=0o700)
    with open(os.path.join(d, "00000000deadbeef.rec"), "wb") as fh:
        fh.write(b"aifs-archive 1\nprovider 4\nvol")  # torn
    m.start()
    assert m.ls("volc")
    assert "archive record 00000000deadbeef.rec" in m.log()


def test_rmdir_with_delete_yes_removes_the_archived_copy():
    f = fake({"ark": {"count": 4, "media_size": 1 << 20}})
    m = Mount(f, providers=("volc",), section_extra={"volc": ARCHIVE + "\ndelete = yes"})
    m.run("ls", "volc")
    n = archived_all(f, m)
    t = done_with_video(f)[0]
    f.forget("ark", t["id"])
    m.run("rmdir", f"volc/{t['id']}")
    assert len(records(m)) == n - 1
    assert errno_of(os.stat, m.path("volc", t["id"])) == errno.ENOENT


def rec_name(tid):
    """The archive record's file name of a task id: FNV-1a 64 of the id."""
    h = 0xcbf29ce484222325
    for byte in tid.encode():
        h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}.rec"


def test_archiving_resumes_after_a_remount_without_fetching_again():
    f = fake({"ark": {"count": 12, "media_size": 4 << 20}})
    m = Mount(f, providers=("volc",), section_extra={"volc": ARCHIVE})
    outs = [(t["id"], f.expected("ark", t["id"], slot, hash=False))
            for t in f.tasks("ark") if t["status"] == "succeeded"
            for slot in ("video", "last_frame", "file")
            if (t.get("content") or {}).get(f"{slot}_url")]
    f.fault("media.get", "delay", seconds=0.2)  # slow enough to stop it half way
    m.run("ls", "volc")
    wait_for(lambda: len(records(m)) >= 1, 60, "a first archived task")
    m.umount()
    kept = set(records(m))
    assert len(kept) < len({tid for tid, _ in outs})
    f.clear_faults()
    f.reset_counters()
    m.start()
    m.run("ls", "volc")
    archived_all(f, m)
    c = f.counters()
    left = 0
    for tid, e in outs:
        got = c.get(f"media.bytes.{e['key']}/{e['name']}", 0)
        if rec_name(tid) in kept:
            assert got == 0, f"{tid}: archived before the unmount, fetched again"
        else:
            left += e["size"]
            # at most the job that was on its way is fetched twice
            assert got <= e["size"], (tid, got, e["size"])
    assert c.get("media.bytes", 0) <= left

def test_a_file_system_filling_up_corrupts_nothing():
    f = fake({"ark": {"count": 8, "media_size": 3 << 20}})
    small = tempfile.mkdtemp(prefix="aifs-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=7m,mode=0700", "tmpfs", small], check=True)
    try:
        m = Mount(f, providers=("volc",), cache=os.path.join(small, "cache"), opts=("-o", "retries=0"),
                  section_extra={"volc": "archive = yes\narchive_min_free = 0"})
        m.run("ls", "volc")
        wait_for(lambda: "cannot archive" in m.log(), 60, "the file system to fill up")
        # every byte served is the server's, or the read fails: never a wrong one
        dst = tempfile.mkdtemp(prefix="aifs-enospc-")
        try:
            for t in done_with_video(f)[:4]:
                p = subprocess.run(["cp", m.path("volc", t["id"], "video.mp4"), f"{dst}/v"],
                                   capture_output=True, timeout=60)
                if p.returncode == 0:
                    assert sha(f"{dst}/v") == f.expected("ark", t["id"], "video")["sha256"]
        finally:
            subprocess.run(["rm", "-rf", dst])
        assert m.ls("volc") and m.alive()
        m.close()
    finally:
        subprocess.run(["umount", small], timeout=30)
        os.rmdir(small)
