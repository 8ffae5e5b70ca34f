"""The control directory: MOUNTPOINT/.aifs/stats says what the mount has
asked of each provider's API, to the request, as the provider counted it;
how many tasks it knows; how big its cache is; what downloads moved. Its
size is exact, it is current at open, and reading it costs no API call."""
import json
import os
import stat
import subprocess

from harness import Mount, errno, errno_of, fake

EPS = ("list", "get", "token", "create", "delete")
FAKE = {"volc": "ark", "chanjing": "chanjing", "rong": "rong"}


def api_counts(f, prov):
    """What the fake counted for one provider's API, by endpoint."""
    c = f.counters()
    return {ep: c.get(f"{prov}.{ep}", 0) for ep in EPS}


def stats(m):
    with open(m.path(".aifs", "stats"), "rb") as s:
        raw = s.read()
    st = os.stat(m.path(".aifs", "stats"))
    assert st.st_size == len(raw), "stat says the size read gives"
    return json.loads(raw)


def test_stats_match_what_the_provider_counted():
    f = fake({"ark": {"count": 12, "media_size": 2 << 20}, "chanjing": {"count": 6},
              "rong": {"count": 3}})
    m = Mount(f, providers=("volc", "chanjing", "rong"))
    assert ".aifs" in m.run("ls", "-a").stdout.split()
    assert ".aifs" not in m.ls(), "a dot directory: plain ls does not show it"
    assert m.ls(".aifs") == ["stats"]
    mode = os.stat(m.path(".aifs", "stats")).st_mode
    assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o444

    s = stats(m)
    assert set(s) == {"version", "uptime_s", "cluster", "providers", "cache", "downloads"}
    assert s["cluster"] == "off" and isinstance(s["uptime_s"], int)
    assert s["version"] == m.run(m.command()[0], "--version").stdout.split()[1]
    assert set(s["providers"]) == {"volc", "chanjing", "rong"}
    assert sum(sum(api_counts(f, p).values()) for p in FAKE.values()) == 0, "no call yet"

    # listings, a throttled answer that is retried, an unknown id, a get,
    # a download, a create and a delete
    f.fault("ark.list", "http", status=429, count=1)
    m.run("ls", "-l", "volc", "chanjing", "rong")
    assert m.run("cat", "volc/cgt-20990101000000-nope0/status", check=False).returncode != 0
    done = [t for t in f.tasks("ark") if (t.get("content") or {}).get("video_url")][0]
    rong_id = f.tasks("rong")[0]["id"]
    m.run("cat", f"rong/{rong_id}/status")
    m.run("sh", "-c", f"cat volc/{done['id']}/video.mp4 >/dev/null")
    req = json.dumps({"model": "m", "content": [{"type": "text", "text": "a cat"}]})
    with open(m.path("volc", ".new", "cat.json"), "w") as w:
        w.write(req)
    new_id = os.readlink(m.path("volc", ".new", "cat")).split("/")[-1]
    os.rmdir(m.path("volc", new_id))  # a queued task: cancelled

    before = f.counters()
    s = stats(m)
    s2 = stats(m)
    assert f.counters() == before, "reading stats costs no API call"
    assert s2["providers"] == s["providers"]
    for name, prov in FAKE.items():
        want = api_counts(f, prov)
        got = s["providers"][name]
        assert got["by_endpoint"] == want, (name, got, want)
        assert got["requests"] == sum(want.values()), (name, got)
    v = s["providers"]["volc"]
    assert v["throttled"] == before.get("ark.throttled", 0) + before.get("ark.list.status.429", 0) == 1
    assert v["by_endpoint"]["create"] == 1 and v["by_endpoint"]["delete"] == 1
    assert v["errors"] == 0, "a retried throttle and an unknown id are not failures"
    assert v["tasks"] == len(f.tasks("ark")) == 13, "the listing's twelve and the created one"
    assert s["providers"]["chanjing"]["by_endpoint"]["token"] == 1
    assert s["providers"]["chanjing"]["tasks"] == len(f.tasks("chanjing")) == 6
    assert s["providers"]["rong"]["tasks"] == 1, "rong lists nothing: the id looked up"

    # downloads: what came from the server, what readers got from the cache
    assert s["downloads"]["bytes"] == before["media.bytes"] == 2 << 20
    assert s["downloads"]["served_bytes"] >= 2 << 20
    assert s["cache"]["bytes"] >= 2 << 20 and s["cache"]["archived_bytes"] == 0
    assert s["cache"]["max"] == 20 << 30

    # a failed call counts as an error
    f.fault("ark.get", "http", status=401, count=1)
    assert errno_of(os.stat, m.path("volc", "cgt-20990101000000-bad00")) == errno.EACCES
    s = stats(m)
    assert s["providers"]["volc"]["errors"] == 1
    assert s["providers"]["volc"]["by_endpoint"] == api_counts(f, "ark")

    # not writable, not removable
    assert errno_of(os.open, m.path(".aifs", "stats"), os.O_WRONLY) == errno.EACCES
    assert errno_of(os.unlink, m.path(".aifs", "stats")) == errno.EPERM
    assert errno_of(os.mkdir, m.path(".aifs", "x")) == errno.EPERM


def test_stats_cache_max_and_a_read_through_a_pipe():
    f = fake({"ark": {"count": 2, "media_size": 1 << 20}})
    m = Mount(f, providers=("volc",), opts=("-o", "cache_max=3G"))
    s = json.loads(m.cat(".aifs/stats"))
    assert s["cache"]["max"] == 3 << 30
    # read through a pipe, as a user runs it: every byte
    p = subprocess.run(["sh", "-c", "cat .aifs/stats | wc -c"], cwd=m.mnt, capture_output=True,
                       text=True, timeout=30)
    assert int(p.stdout) == os.stat(m.path(".aifs", "stats")).st_size
