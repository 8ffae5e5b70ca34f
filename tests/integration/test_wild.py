"""Answers as they come in the wild (SPEC.md): relays' envelopes, numbers as
strings of digits, get answers without an id, tasks without timestamps,
placeholder URLs, a Chanjing token said to be expired already, fields of a
wrong type. Each through a real mount of the fake API serving that shape
(<p>.shape), with its request counters checked."""
import json
import os
import time

from harness import Mount, fake

TIMESTAMPS = ("created_at", "updated_at", "create_time")
NUMBERS = TIMESTAMPS + ("type",)  # the numbers of a task that aifs reads
ARK_SHAPES = ("envelope0", "envelope_success", "digit_strings", "no_id", "no_timestamps")
CJ_SHAPES = ("digit_strings", "no_id", "no_timestamps")


def served(task, shape, by_get, cj=False):
    """The task object as the fake serves it in this shape: what meta.json
    shows (the inner object of an envelope)."""
    if shape == "digit_strings":
        return {k: str(v) if k in NUMBERS and type(v) is int else v for k, v in task.items()}
    if shape == "no_timestamps":
        return {k: v for k, v in task.items() if k not in TIMESTAMPS}
    if shape == "no_id" and by_get:
        return {k: v for k, v in task.items() if k != ("unique_id" if cj else "id")}
    return task


def check_task(m, section, tid, task, shape, by_get, cj=False):
    """status, meta.json (same value, same key order) and mtime of one task."""
    word = {"Queued": "queued", "Ready": "queued", "Generating": "running",
            "Success": "succeeded", "Error": "failed", "Fail": "failed"}
    status = word.get(task["progress_desc"], "?") if cj else task["status"]
    assert m.cat(section, tid, "status") == status + "\n", (section, tid)
    meta = m.cat(section, tid, "meta.json")
    want = served(task, shape, by_get, cj)
    got = json.loads(meta)
    assert got == want and list(got) == list(want), (section, tid, meta)
    if shape != "no_timestamps":
        when = task["create_time" if cj else "updated_at"]
        assert os.stat(m.path(section, tid)).st_mtime == when, (section, tid)
        assert os.stat(m.path(section, tid, "status")).st_mtime == when


def ark_shape(shape):
    """volc lists, rong only gets: both read through the shape."""
    f = fake({"ark": {"shape": shape, "count": 8}, "rong": {"shape": shape, "count": 3}})
    m = Mount(f, providers=("volc", "rong"))
    tasks = f.tasks("ark")
    assert m.ls("volc") == sorted(t["id"] for t in tasks)
    for t in tasks:
        check_task(m, "volc", t["id"], t, shape, by_get=False)
    c = f.counters()
    assert c.get("ark.list") == 1 and c.get("ark.get", 0) == 0, c
    # a task the listing did not show: one get
    new = f.set_task("ark", "cgt-20990101000000-wild1", status="running")
    check_task(m, "volc", new["id"], new, shape, by_get=True)
    assert f.counter("ark.get") == 1
    for t in f.tasks("rong"):
        check_task(m, "rong", t["id"], t, shape, by_get=True)
    assert f.counter("rong.get") == 3


def chanjing_shape(shape):
    f = fake({"chanjing": {"shape": shape, "count": 8}})
    m = Mount(f, providers=("chanjing",))
    tasks = f.tasks("chanjing")
    assert m.ls("chanjing") == sorted(t["unique_id"] for t in tasks)
    for t in tasks:
        check_task(m, "chanjing", t["unique_id"], t, shape, by_get=False, cj=True)
    c = f.counters()
    assert c.get("chanjing.list") == 2 and c.get("chanjing.get", 0) == 0, c
    new = f.set_task("chanjing", "d1e2f3a4-0000-4000-8000-00000000wild", progress_desc="Generating",
                     type=4)
    check_task(m, "chanjing", new["unique_id"], new, shape, by_get=True, cj=True)
    assert f.counter("chanjing.get") == 1
    assert f.counter("chanjing.token") == 1


def _define(name, fn, shape):
    def test():
        fn(shape)
    test.__name__ = test.__qualname__ = name
    globals()[name] = test


for _shape in ARK_SHAPES:
    _define(f"test_ark_{_shape}", ark_shape, _shape)
for _shape in CJ_SHAPES:
    _define(f"test_chanjing_{_shape}", chanjing_shape, _shape)


def test_a_task_without_timestamps_gets_the_time_first_seen():
    """SPEC: "A task without any timestamp gets the time aifs first saw it as
    mtime, never 1970." The providers report such a task with mtime 0
    (unknown); the substitution of the time first seen is the tree's
    (src/tree.c), so this test fails until the tree does it."""
    f = fake({"ark": {"shape": "no_timestamps", "count": 3},
              "rong": {"shape": "no_timestamps", "count": 1},
              "chanjing": {"shape": "no_timestamps", "count": 3}})
    m = Mount(f, providers=("volc", "rong", "chanjing"))
    seen = {"volc": m.ls("volc")[0], "chanjing": m.ls("chanjing")[0],
            "rong": f.tasks("rong")[0]["id"]}
    now = time.time()
    for section, tid in seen.items():
        for path in (m.path(section, tid), m.path(section, tid, "status")):
            mtime = os.stat(path).st_mtime
            assert abs(mtime - now) < 60, f"{section}/{tid}: mtime {time.ctime(mtime)}"


def test_placeholder_urls_make_no_output_file():
    f = fake({"ark": {"count": 2}, "chanjing": {"count": 2}})
    f.set_task("ark", "cgt-20990101000000-place", status="succeeded", outputs={},
               content={"video_url": "<SIGNED_VIDEO_URL>", "last_frame_url": "",
                        "file_url": "ftp://files.example/out.glb"})
    f.set_task("ark", "cgt-20990101000000-nohost", status="succeeded", outputs={},
               content={"video_url": "https://", "last_frame_url": "HTTPS:///x.png"})
    f.set_task("chanjing", "d1e2f3a4-0000-4000-8000-0000000place", progress_desc="Success",
               type=3, outputs=[], output_url=["<SIGNED_URL>", "", "http://",
                                               "https://cdn.example/a/out.JPG?sig=1"])
    m = Mount(f, providers=("volc", "chanjing"))
    assert m.ls("volc", "cgt-20990101000000-place") == ["meta.json", "status"]
    assert m.ls("volc", "cgt-20990101000000-nohost") == ["meta.json", "status"]
    # the one usable URL is the only file, and is not numbered
    assert m.ls("chanjing", "d1e2f3a4-0000-4000-8000-0000000place") == \
        ["image.JPG", "meta.json", "status"]


def test_an_envelope_that_failed_carries_its_message():
    f = fake({"ark": {"shape": "envelope0", "count": 2}})
    m = Mount(f, providers=("volc",))
    # {"code":50000,"msg":"系统内部错误","data":null}, HTTP 200
    f.fault("ark.get", "code", code=50000, count=1)
    err = m.error_of("cat", "volc/cgt-20990101000000-gone/status")
    assert "Input/output error" in err, err
    line = [ln for ln in m.log().splitlines() if "cgt-20990101000000-gone" in ln]
    assert line and "code 50000" in line[-1] and "系统内部错误" in line[-1], line
    assert f.counter("ark.get") == 1  # not a transient failure: not retried


def test_the_log_says_why_an_item_was_left_out():
    f = fake({"ark": {"count": 4, "tasks": [{"id": "cgt-20990101000000-badst", "status": 5}]}})
    m = Mount(f, providers=("volc",))
    good = sorted(t["id"] for t in f.tasks("ark") if isinstance(t["status"], str))
    assert m.ls("volc") == good
    assert "item 1 of 5: status is a number" in m.log(), m.log()
    # asked for by name, the same task is a malformed answer naming the field
    err = m.error_of("cat", "volc/cgt-20990101000000-badst/status")
    assert "Input/output error" in err
    assert "malformed answer: status is a number" in m.log()
    assert f.counter("ark.get") == 1


def test_chanjing_token_said_expired_is_used_until_refused():
    f = fake({"chanjing": {"token_expire_in_past": True, "count": 8}})
    m = Mount(f, providers=("chanjing",))
    tasks = f.tasks("chanjing")
    assert m.ls("chanjing") == sorted(t["unique_id"] for t in tasks)
    for i in range(3):  # three gets of ids the API does not know
        assert m.error_of("cat", f"chanjing/00000000-0000-4000-8000-00000000000{i}/status")
    c = f.counters()
    assert c.get("chanjing.list", 0) == 2 and c.get("chanjing.get", 0) == 3, c
    assert c.get("chanjing.token", 0) == 1, f"{c.get('chanjing.token')} token requests"
    assert "expire_in is past" in m.log()
    # refused at last (10401): one new token, then it serves again
    f.invalidate_token()
    m.hup()
    assert m.ls("chanjing") == sorted(t["unique_id"] for t in tasks)
    c = f.counters()
    assert c.get("chanjing.token", 0) == 2, c
    assert c.get("chanjing.list.code.10401", 0) == 1, c
