"""Output files through a real mount: exact sizes before reading, ranged
lazy reads, the disk cache across remounts, renewed URLs, failures that
never serve a wrong byte; with the bytes the fake served counted."""
import hashlib
import os
import random
import shutil
import subprocess
import tempfile

from harness import Mount, errno, errno_of, fake, wait_for

ARK_OUT = {"video.mp4": "video", "last_frame.png": "last_frame"}


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def ark_with_outputs(f, n=3):
    return [t for t in f.tasks("ark") if (t.get("content") or {}).get("video_url")][:n]


def media_gets(f):
    return f.counters().get("media.get", 0)


def test_sizes_are_exact_before_reading():
    f = fake()
    m = Mount(f, providers=("volc",))
    for t in ark_with_outputs(f):
        out = m.run("ls", "-l", "volc/" + t["id"]).stdout
        for name, slot in ARK_OUT.items():
            if name in out:
                st = os.stat(m.path("volc", t["id"], name))
                assert st.st_size == f.expected("ark", t["id"], slot)["size"], name
    c = f.counters()
    assert c.get("media.bytes", 0) <= 16 and c.get("media.get", 0) <= c.get("media.head", 0)


def test_cp_is_byte_identical():
    f = fake({"chanjing": {"count": 30}})
    m = Mount(f, providers=("volc", "chanjing"))
    dst = tempfile.mkdtemp(prefix="aifs-cp-")
    try:
        for t in ark_with_outputs(f):
            for name, slot in ARK_OUT.items():
                if os.path.exists(m.path("volc", t["id"], name)):
                    m.run("cp", f"volc/{t['id']}/{name}", f"{dst}/x")
                    assert sha(f"{dst}/x") == f.expected("ark", t["id"], slot)["sha256"]
        multi = [t for t in f.tasks("chanjing") if len(t.get("output_url") or []) > 1]
        assert multi, "the scenario has a multi-image task"
        for t in multi[:2] + [t for t in f.tasks("chanjing") if t.get("output_url")][:3]:
            names = sorted(n for n in m.ls("chanjing", t["unique_id"])
                           if n not in ("status", "meta.json", "error"))
            for i, name in enumerate(names):
                m.run("cp", f"chanjing/{t['unique_id']}/{name}", f"{dst}/x")
                assert sha(f"{dst}/x") == f.expected("chanjing", t["unique_id"], str(i))["sha256"]
    finally:
        shutil.rmtree(dst)


def test_random_reads_fetch_only_what_they_touch():
    f = fake()
    t = ark_with_outputs(f, 1)[0]
    f.media("ark", t["id"], "video", size=24 << 20)
    m = Mount(f, providers=("volc",))
    path = m.path("volc", t["id"], "video.mp4")
    rnd = random.Random(7)
    for _ in range(8):
        off = rnd.randrange(0, (24 << 20) - 4096)
        got = subprocess.run(["dd", f"if={path}", "bs=4096", "count=1", f"skip={off}",
                              "iflag=skip_bytes", "status=none"], capture_output=True,
                             check=True, timeout=60).stdout
        assert got == f.expected_bytes("ark", t["id"], "video", off, off + 4096)
    served = f.counters()["media.bytes"]
    assert served <= 8 * 2 * (1 << 20), served  # at most two chunks a read
    assert served < (24 << 20) // 2


def test_ffprobe_of_a_non_faststart_mp4_reads_little():
    if not shutil.which("ffmpeg"):
        raise AssertionError("ffmpeg is needed (Debian package ffmpeg)")
    work = tempfile.mkdtemp(prefix="aifs-mp4-")
    try:
        mp4 = os.path.join(work, "v.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                        "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "anoisesrc",
                        "-t", "40", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "4M",
                        "-c:a", "aac", "-shortest", mp4], check=True, timeout=120)
        with open(mp4, "rb") as fh:
            head = fh.read(1 << 16)
        assert head.find(b"mdat") >= 0 and head.find(b"moov") < 0, "moov must be at the end"
        size = os.path.getsize(mp4)
        f = fake()
        t = ark_with_outputs(f, 1)[0]
        f.media("ark", t["id"], "video", path=mp4)
        m = Mount(f, providers=("volc",))
        probe = ["ffprobe", "-v", "error", "-show_entries", "format=duration,size:stream=codec_name",
                 "-of", "compact"]
        want = subprocess.run(probe + [mp4], capture_output=True, text=True, check=True).stdout
        got = m.run(*probe, f"volc/{t['id']}/video.mp4").stdout
        assert got == want
        served = f.counters()["media.bytes"]
        assert served <= 0.25 * size, (served, size)  # 1 MiB chunks: start and end of the file
    finally:
        shutil.rmtree(work)


def test_second_read_and_remount_cost_no_media_request():
    f = fake()
    t = ark_with_outputs(f, 1)[0]
    m = Mount(f, providers=("volc",))
    path = f"volc/{t['id']}/video.mp4"
    m.run("sh", "-c", f"cat {path} > /dev/null")
    first = media_gets(f)
    assert first >= 1
    m.run("sh", "-c", f"cat {path} > /dev/null")
    assert media_gets(f) == first
    cache = m.cache
    m.umount()
    f.reset_counters()
    m2 = Mount(f, providers=("volc",), cache=cache)
    out = subprocess.run(["sha256sum", m2.path(path)], capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == f.expected("ark", t["id"], "video")["sha256"]
    c = f.counters()
    assert c.get("media.get", 0) == 0 and c.get("media.head", 0) == 0, c


def test_expired_url_is_renewed_once():
    f = fake()
    t = ark_with_outputs(f, 1)[0]
    m = Mount(f, providers=("volc",))
    path = m.path("volc", t["id"], "video.mp4")
    os.stat(path)  # size known, old URL remembered
    f.url_ttl("ark", 86400, expire_now=True)  # every URL issued so far now answers 403
    gets = f.counters().get("ark.get", 0)
    readers = [subprocess.Popen(["sha256sum", path], stdout=subprocess.PIPE, text=True)
               for _ in range(4)]
    outs = [r.communicate(timeout=60)[0].split()[0] for r in readers]
    assert outs == [f.expected("ark", t["id"], "video")["sha256"]] * 4
    assert f.counters().get("ark.get", 0) - gets == 1  # one renewal, shared


def test_truncated_download_is_eio_and_never_a_wrong_byte():
    f = fake()
    t = ark_with_outputs(f, 1)[0]
    f.media("ark", t["id"], "video", size=3 << 20)
    m = Mount(f, providers=("volc",), opts=("-o", "retries=1"))
    path = m.path("volc", t["id"], "video.mp4")
    os.stat(path)
    f.fault("media", "truncate", count=1000)
    assert errno_of(lambda: open(path, "rb").read()) == errno.EIO
    f.clear_faults()
    # a failed range answers an immediate re-read for a second (the kernel
    # reads again at once); after that the right bytes, whole
    want = f.expected_bytes("ark", t["id"], "video")

    def whole():
        try:
            with open(path, "rb") as fh:
                got = fh.read()
        except OSError as e:
            assert e.errno == errno.EIO, e
            return False
        assert got == want, "a wrong byte"
        return True
    wait_for(whole, 5, "the bytes after the fault")


def test_reset_connection_is_retried():
    f = fake()
    t = ark_with_outputs(f, 1)[0]
    m = Mount(f, providers=("volc",))
    path = m.path("volc", t["id"], "video.mp4")
    os.stat(path)
    f.fault("media", "reset", count=2)
    with open(path, "rb") as fh:
        assert fh.read() == f.expected_bytes("ark", t["id"], "video")


def test_stalled_download_does_not_block_the_mount():
    f = fake()
    t = ark_with_outputs(f, 1)[0]
    m = Mount(f, providers=("volc",), opts=("-o", "timeout=3,retries=0"))
    path = m.path("volc", t["id"], "video.mp4")
    os.stat(path)
    f.fault("media", "stall", seconds=30, count=10)
    reader = subprocess.Popen(["cat", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    try:
        wait_for(lambda: f.counters().get("media.get", 0) >= 1, 10, "the stalled download")
        assert len(m.ls("volc")) == len(f.tasks("ark"))
        assert m.cat("volc", t["id"], "status") == "succeeded\n"
        assert reader.poll() is None
        err = reader.communicate(timeout=30)[1]
        assert reader.returncode != 0 and ("Connection timed out" in err or
                                           "Input/output error" in err), err
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()


def test_rsync_of_a_provider_directory():
    if not shutil.which("rsync"):
        raise AssertionError("rsync is needed (Debian package rsync)")
    f = fake({"ark": {"count": 12}})
    m = Mount(f, providers=("volc",))
    dst = tempfile.mkdtemp(prefix="aifs-rsync-")
    try:
        m.run("rsync", "-a", "volc/", dst + "/", timeout=300)
        for t in f.tasks("ark"):
            d = os.path.join(dst, t["id"])
            with open(os.path.join(d, "status")) as fh:
                assert fh.read() == t["status"] + "\n"
            for name, slot in ARK_OUT.items():
                if os.path.exists(os.path.join(d, name)):
                    assert sha(os.path.join(d, name)) == f.expected("ark", t["id"], slot)["sha256"]
        before = f.counters().get("media.get", 0)
        m.run("rsync", "-a", "volc/", dst + "/", timeout=300)  # sizes and mtimes hold
        assert f.counters().get("media.get", 0) == before
    finally:
        shutil.rmtree(dst)


test_ffprobe_of_a_non_faststart_mp4_reads_little.timeout = 240
test_rsync_of_a_provider_directory.timeout = 300


def test_changed_output_recovers():
    f = fake({"ark": {"media_size": 3 << 20}})
    m = Mount(f, providers=("volc",))
    t = ark_with_outputs(f, 1)[0]
    path = m.path("volc", t["id"], "video.mp4")
    old = f.expected("ark", t["id"], "video")
    assert os.stat(path).st_size == old["size"]
    with open(path, "rb") as fh:  # the first chunk only: the rest is not cached
        assert fh.read(4096) == f.expected_bytes("ark", t["id"], "video", 0, 4096)
    f.media("ark", t["id"], "video", size=5 << 20)  # new bytes, new size, new ETag
    new = f.expected("ark", t["id"], "video")
    assert new["etag"] != old["etag"] and new["size"] == 5 << 20
    dst = tempfile.mkdtemp(prefix="aifs-changed-")
    try:
        # the read that notices may fail once; every later one is whole and new
        m.run("cp", f"volc/{t['id']}/video.mp4", f"{dst}/first", check=False, timeout=60)
        for i in range(3):
            m.run("cp", f"volc/{t['id']}/video.mp4", f"{dst}/v{i}", timeout=60)
            assert sha(f"{dst}/v{i}") == new["sha256"], f"read {i} after the change"
        assert os.stat(path).st_size == new["size"]
        assert m.run("stat", "-c", "%s", f"volc/{t['id']}/video.mp4").stdout.strip() == str(new["size"])
    finally:
        shutil.rmtree(dst, ignore_errors=True)
    assert "output changed on the server" in m.log()
