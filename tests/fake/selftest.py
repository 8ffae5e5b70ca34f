#!/usr/bin/env python3
"""selftest.py: the fake provider API checked against its own README.

Starts fakeapi.py through fakectl, drives every endpoint and fault kind
with urllib, and prints "N passed, M failed"; exits 1 on any failure.
"""

import hashlib
import http.client
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakectl import Fake  # noqa: E402
import fakeapi  # noqa: E402

TASKS = "/contents/generations/tasks"
RESULTS = {"passed": 0, "failed": 0}


def check(name, cond, detail=""):
    RESULTS["passed" if cond else "failed"] += 1
    if not cond:
        print(f"FAIL {name} {detail}", flush=True)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


OPENER = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))


def req(url, method="GET", body=None, headers=None, timeout=10):
    """(status, headers, body); HTTP errors are answers, not exceptions."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    r = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with OPENER.open(r, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def failure(fn):
    """The name of the exception fn raises, or None."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return type(e).__name__
    return None


class Client:
    """Requests to the fake with the right credentials."""

    def __init__(self, fake):
        self.fake, self.token = fake, None

    def ark(self, provider, path="", key=None, method="GET", **kw):
        key = key if key is not None else self.fake.credentials(provider)["api_key"]
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return req(self.fake.base(provider) + TASKS + path, method, headers=headers, **kw)

    def ark_json(self, provider, path=""):
        status, _, body = self.ark(provider, path)
        return status, json.loads(body)

    def cj_token(self, app=None, secret=None):
        cred = self.fake.credentials("chanjing")
        body = {"app_id": app or cred["app_id"], "secret_key": secret or cred["secret_key"]}
        _, _, b = req(self.fake.base("chanjing") + "/open/v1/access_token", "POST", body)
        ans = json.loads(b)
        if ans["code"] == 0 and app is None and secret is None:
            self.token = ans["data"]["access_token"]
        return ans

    def cj(self, path, body=None, token=None):
        token = self.token if token is None else token
        headers = {"access_token": token, "Content-Type": "application/json"} if token else {}
        status, _, b = req(self.fake.base("chanjing") + "/open/v1/ai_creation/" + path,
                           "POST" if body is not None else "GET", body, headers)
        return status, json.loads(b)


def test_ark(fake, c):
    status, _, body = c.ark("ark", key="")
    err = json.loads(body)["error"]
    check("ark 401 without key", status == 401 and err["code"] == "AuthenticationError"
          and set(err) == {"code", "message", "param", "type"}, body)
    check("ark 401 wrong key", c.ark("ark", key="nope")[0] == 401)
    all_tasks = fake.tasks("ark")
    status, ans = c.ark_json("ark")
    check("ark list default page", status == 200 and ans["total"] == len(all_tasks)
          and len(ans["items"]) == 20, (ans["total"], len(all_tasks)))
    _, ans = c.ark_json("ark", "?page_size=500")
    created = [t["created_at"] for t in ans["items"]]
    check("ark list newest first", created == sorted(created, reverse=True))
    check("ark list equals ctl tasks", [t["id"] for t in ans["items"]] == [t["id"] for t in all_tasks])
    for q in ("?page_size=501", "?page_size=0", "?page_num=0", "?page_size=x",
              "?filter.status=expired", "?filter.status=bogus"):
        check(f"ark list 400 {q}", c.ark("ark", q)[0] == 400)
    _, ans = c.ark_json("ark", "?filter.status=succeeded&page_size=500")
    check("ark filter.status", ans["items"] and all(t["status"] == "succeeded" for t in ans["items"])
          and ans["total"] == sum(t["status"] == "succeeded" for t in all_tasks))
    ids = [all_tasks[3]["id"], all_tasks[7]["id"]]
    _, ans = c.ark_json("ark", "?" + "&".join("filter.task_ids=" + quote(i, safe="") for i in ids))
    check("ark filter.task_ids", ans["total"] == 2 and {t["id"] for t in ans["items"]} == set(ids))
    model = all_tasks[0]["model"]
    _, ans = c.ark_json("ark", "?page_size=500&filter.model=" + model)
    check("ark filter.model", all(t["model"] == model for t in ans["items"]) and ans["total"] > 0)
    _, ans = c.ark_json("ark", "?page_size=7&page_num=2")
    check("ark page_num", [t["id"] for t in ans["items"]] == [t["id"] for t in all_tasks[7:14]])
    statuses = {t["status"] for t in all_tasks}
    check("ark status mix", {"succeeded", "queued", "running", "failed"} <= statuses, statuses)
    ok = [t for t in all_tasks if t["status"] == "succeeded"]
    keys = {"id", "model", "status", "content", "usage", "created_at", "updated_at", "seed",
            "resolution", "ratio", "duration", "framespersecond", "generate_audio"}
    check("ark task fields", all(keys <= set(t) for t in ok))
    check("ark some video without extension",
          any(not t["content"]["video_url"].split("?")[0].endswith(".mp4") for t in ok))
    check("ark last frames png", any(t["content"].get("last_frame_url", "").split("?")[0]
                                     .endswith(".png") for t in ok))
    failed = [t for t in all_tasks if t["status"] == "failed"]
    check("ark failed carry error", failed and all(set(t["error"]) == {"code", "message"}
                                                    for t in failed))
    for tid in fakeapi.ODD_IDS:
        status, ans = c.ark_json("ark", "/" + quote(tid, safe=""))
        check(f"ark get odd id {tid[:20]!r}", status == 200 and ans["id"] == tid, status)
    status, ans = c.ark_json("ark", "/cgt-20200101000000-nope0")
    check("ark get unknown 404", status == 404 and ans["error"]["code"] == "ResourceNotFound")
    fake.set_task("ark", "old-task", status="succeeded", created_at=int(time.time()) - 8 * 86400)
    check("ark 7-day window", c.ark("ark", "/old-task")[0] == 404)
    # DELETE: queued -> cancelled, finished -> gone, running/cancelled -> error.
    fake.set_task("ark", "q1", status="queued")
    check("ark delete queued", c.ark("ark", "/q1", method="DELETE")[0] == 200
          and c.ark_json("ark", "/q1")[1]["status"] == "cancelled")
    check("ark delete cancelled refused", c.ark("ark", "/q1", method="DELETE")[0] == 409)
    fake.set_task("ark", "r1", status="running")
    check("ark delete running refused", c.ark("ark", "/r1", method="DELETE")[0] == 409)
    fake.set_task("ark", "s1", status="succeeded")
    check("ark delete succeeded", c.ark("ark", "/s1", method="DELETE")[0] == 200
          and c.ark("ark", "/s1")[0] == 404)


def test_relay_rong(fake, c):
    _, ans = c.ark_json("relay", "?page_size=500")
    keys = {"id", "model", "status", "content", "usage", "created_at", "updated_at"}
    check("relay slim items", all(set(t) == keys and set(t["content"]) == {"video_url"}
                                  for t in ans["items"]))
    check("relay submitted", any(t["status"] == "submitted" for t in ans["items"]))
    full = fake.tasks("relay")
    failed = [t for t in full if t["status"] == "failed"]
    check("relay failure_reason and error", any("failure_reason" in t for t in failed)
          and any("error" in t for t in failed))
    tid = ans["items"][0]["id"]
    status, one = c.ark_json("relay", "/" + quote(tid, safe=""))
    check("relay get full", status == 200 and "seed" in one and one == fake.task("relay", tid))
    check("relay key is its own", c.ark("relay", key="ark-test-key")[0] == 401)
    quirky = [t for t in full if "file_url" in t.get("content", {})]
    check("relay quirky task", quirky and not quirky[0]["content"]["video_url"]
          .split("?")[0].endswith(".mp4") and "." not in quirky[0]["content"]["file_url"]
          .split("?")[0].rsplit("/", 1)[1])
    rong = fake.tasks("rong")
    status, one = c.ark_json("rong", "/" + rong[0]["id"])
    check("rong get", status == 200 and one["id"] == rong[0]["id"])
    status, ans = c.ark_json("rong")
    check("rong list 404", status == 404 and "error" in ans)
    fake.patch_scenario({"rong": {"list_status": 405}})
    check("rong list 405", c.ark("rong")[0] == 405)
    check("rong kept its tasks", fake.tasks("rong") == rong)
    fake.patch_scenario({"rong": {"list_status": 404}})


def test_chanjing(fake, c):
    ans = c.cj_token(secret="wrong")
    check("cj token refused", ans["code"] == 10400 and ans["data"] is None)
    ans = c.cj_token()
    check("cj token", ans["code"] == 0 and ans["msg"] == "success" and "trace_id" in ans
          and ans["data"]["expire_in"] > time.time() + 86000)
    all_tasks = fake.tasks("chanjing")
    for kind in (3, 4):
        status, ans = c.cj("task/page", {"type": kind, "page": 1, "page_size": 50,
                                         "unique_ids": [], "is_success": False})
        d = ans["data"]
        want = [t for t in all_tasks if t["type"] == kind]
        check(f"cj list type {kind}", status == 200 and ans["code"] == 0
              and [t["unique_id"] for t in d["list"]] == [t["unique_id"] for t in want]
              and d["total"] == len(want) and d["page_info"] == {
                  "page": 1, "size": 50, "total_count": len(want), "total_page": 1}, d["page_info"])
    imgs = [t for t in all_tasks if t["type"] == 3 and t["progress_desc"] == "Success"]
    check("cj images 1..4 outputs", imgs and all(1 <= len(t["output_url"]) <= 4 for t in imgs))
    exts = {u.split("?")[0].rsplit("/", 1)[1].partition(".")[2] for t in imgs for u in t["output_url"]}
    check("cj image extensions", exts <= {"jpg", "png", "webp", ""} and len(exts) >= 2, exts)
    check("cj statuses", {"Success", "Error"} <= {t["progress_desc"] for t in all_tasks})
    _, ans = c.cj("task/page", {"type": 4, "page": 2, "page_size": 3})
    want = [t["unique_id"] for t in all_tasks if t["type"] == 4][3:6]
    check("cj list page 2", [t["unique_id"] for t in ans["data"]["list"]] == want)
    _, ans = c.cj("task/page", {"type": 3, "page": 1, "page_size": 50, "is_success": True})
    check("cj is_success", all(t["progress_desc"] == "Success" for t in ans["data"]["list"]))
    uid = all_tasks[0]["unique_id"]
    _, ans = c.cj("task/page", {"type": all_tasks[0]["type"], "page": 1, "page_size": 10,
                                "unique_ids": [uid]})
    check("cj unique_ids", [t["unique_id"] for t in ans["data"]["list"]] == [uid])
    for bad in ({"type": 3, "page": 1, "page_size": 51}, {"page": 1, "page_size": 10},
                {"type": 5, "page": 1, "page_size": 10}, {"type": 3, "page": 0, "page_size": 10}):
        status, ans = c.cj("task/page", bad)
        check(f"cj list 40000 {bad}", status == 200 and ans["code"] == 40000)
    status, ans = c.cj("task?unique_id=" + uid)
    check("cj get", ans["code"] == 0 and ans["data"] == all_tasks[0])
    _, ans = c.cj("task?unique_id=nope")
    check("cj get unknown null", ans["code"] == 0 and ans["data"] is None)
    fake.patch_scenario({"chanjing": {"unknown_get": "40000"}})
    check("cj get unknown 40000", c.cj("task?unique_id=nope")[1]["code"] == 40000)
    fake.patch_scenario({"chanjing": {"unknown_get": "null"}})
    check("cj no token 10400", c.cj("task?unique_id=" + uid, token="")[1]["code"] == 10400)
    old = c.token
    c.cj_token()
    check("cj new token invalidates old", c.cj("task?unique_id=" + uid, token=old)[1]["code"] == 10400
          and c.cj("task?unique_id=" + uid)[1]["code"] == 0)
    fake.invalidate_token()
    check("cj invalidated token 10401", c.cj("task?unique_id=" + uid)[1]["code"] == 10401)
    c.cj_token()


def test_media(fake, c):
    tid = next(t["id"] for t in fake.tasks("ark") if t["status"] == "succeeded")
    exp = fake.expected("ark", tid, "video")
    url = c.ark_json("ark", "/" + tid)[1]["content"]["video_url"]
    check("media url from ctl matches API", url == exp["url"])
    status, h, body = req(url)
    check("media full", status == 200 and len(body) == exp["size"]
          and hashlib.sha256(body).hexdigest() == exp["sha256"]
          and h["Accept-Ranges"] == "bytes" and h["ETag"] == exp["etag"]
          and h["Last-Modified"] and int(h["Content-Length"]) == exp["size"])
    check("media expected_bytes", fake.expected_bytes("ark", tid, "video") == body)
    size = exp["size"]
    for rng, (a, b) in (("bytes=10-99", (10, 99)), ("bytes=100-", (100, size - 1)),
                        ("bytes=-50", (size - 50, size - 1)), ("bytes=0-999999999", (0, size - 1))):
        status, h, part = req(url, headers={"Range": rng})
        check(f"media range {rng}", status == 206 and part == body[a:b + 1]
              and h["Content-Range"] == f"bytes {a}-{b}/{size}")
    status, h, _ = req(url, headers={"Range": f"bytes={size}-"})
    check("media 416", status == 416 and h["Content-Range"] == f"bytes */{size}")
    status, h, _ = req(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    check("media If-Range mismatch -> 200", status == 200)
    status, h, part = req(url, "HEAD")
    check("media HEAD", status == 200 and part == b"" and int(h["Content-Length"]) == size)
    check("media bad sig 403", req(url[:-4] + "0000")[0] == 403)
    check("media expired 403", req(url.replace("expires=", "expires=1"))[0] == 403)
    # Expiry and renewal.
    fake.url_ttl("ark", 1)
    url1 = c.ark_json("ark", "/" + tid)[1]["content"]["video_url"]
    check("media short ttl works", url1 != url and req(url1, "HEAD")[0] == 200)
    time.sleep(2.1)
    check("media short ttl expires", req(url1, "HEAD")[0] == 403)
    url2 = c.ark_json("ark", "/" + tid)[1]["content"]["video_url"]
    check("media renewed url", url2 != url1 and req(url2, "HEAD")[0] == 200)
    fake.url_ttl("ark", 86400, expire_now=True)
    check("media expire_now", req(url2, "HEAD")[0] == 403)
    # Redirect hop.
    fake.patch_scenario({"ark": {"redirect": True}})
    rurl = c.ark_json("ark", "/" + tid)[1]["content"]["video_url"]
    status, h, _ = req(rurl)
    check("media redirect 302", status == 302 and "/media-redirect/" in rurl
          and h["Location"].startswith(fake.url + "/media/"))
    check("media redirect target", req(h["Location"])[2] == body)
    fake.patch_scenario({"ark": {"redirect": False}})
    # A real file, and a big generated output.
    with tempfile.NamedTemporaryFile(suffix=".mp4", delete=False) as f:
        f.write(os.urandom(300000))
    try:
        info = fake.media("ark", tid, "video", path=f.name)
        status, h, got = req(info["url"], headers={"Range": "bytes=1000-1999"})
        with open(f.name, "rb") as src:
            data = src.read()
        check("media real file", status == 206 and got == data[1000:2000]
              and fake.expected("ark", tid, "video")["sha256"] == hashlib.sha256(data).hexdigest())
        check("media etag changed", h["ETag"] != exp["etag"])
    finally:
        os.unlink(f.name)
    info = fake.media("ark", tid, "video", size=1 << 30)
    status, h, _ = req(info["url"], "HEAD")
    check("media 1 GiB HEAD", status == 200 and int(h["Content-Length"]) == 1 << 30)
    a = (1 << 30) - 3 * 65536 - 77
    status, h, got = req(info["url"], headers={"Range": f"bytes={a}-"})
    check("media 1 GiB tail", status == 206 and got == fake.expected_bytes("ark", tid, "video", a))
    cj = next(t for t in fake.tasks("chanjing") if t["progress_desc"] == "Success")
    info = fake.expected("chanjing", cj["unique_id"], 0)
    check("media chanjing", hashlib.sha256(req(cj["output_url"][0])[2]).hexdigest() == info["sha256"])
    cnt = fake.counters()
    name = f"media.get.{info['key']}/{info['name']}"
    check("media counters", cnt.get(name) == 1 and cnt["media.head"] >= 4
          and cnt["media.bytes"] > size and cnt.get("media.redirect") == 1, name)


def test_ctl_tasks(fake, c):
    t = fake.set_task("ark", "new/task 1", status="queued")
    check("ctl create", t["status"] == "queued" and "content" not in t)
    t = fake.set_task("ark", "new/task 1", status="succeeded")
    check("ctl transition adds outputs", t["content"]["video_url"].startswith(fake.url))
    t = fake.set_task("ark", "new/task 1", outputs={"video": {"ext": "", "size": 1234}}, x_extra=1)
    _, got = c.ark_json("ark", "/" + quote("new/task 1", safe=""))
    check("ctl outputs and extra field", got == t and got["x_extra"] == 1
          and got["content"]["video_url"].split("?")[0].endswith("/video")
          and fake.expected("ark", "new/task 1")["size"] == 1234)
    t = fake.set_task("ark", "new/task 1", x_extra=None, status="failed")
    check("ctl null removes, failed gets error", "x_extra" not in t and "code" in t["error"])
    check("ctl newest first", fake.tasks("ark", limit=1)[0]["id"] == "new/task 1")
    fake.delete_task("ark", "new/task 1")
    check("ctl delete", c.ark("ark", "/" + quote("new/task 1", safe=""))[0] == 404)
    t = fake.set_task("chanjing", "cj-new", progress_desc="Success", type=3,
                      outputs=[{"ext": "webp"}, {"size": 10}])
    check("ctl chanjing task", len(t["output_url"]) == 2 and ".webp?" in t["output_url"][0]
          and c.cj("task?unique_id=cj-new")[1]["data"] == t)


ARK_BODY = {"model": "doubao-seedance-1-0-pro-250528",
            "content": [{"type": "text", "text": "a cat on a skateboard"}],
            "ratio": "9:16", "duration": 10, "return_last_frame": True,
            "safety_identifier": "u-1", "x_new_field": {"a": 1}}
CJ_BODY = {"creation_type": 3, "model_code": "doubao-seedream-4.5",
           "ref_prompt": "white background product shot", "aspect_ratio": "3:4",
           "clarity": 2048, "number_of_images": 2}


def ark_create(c, provider, body=ARK_BODY, **kw):
    """(status, answer) of an Ark-family create; body bytes go as they are."""
    status, _, b = c.ark(provider, method="POST", body=body, **kw)
    return status, json.loads(b) if b else None


def test_create(fake, c):
    fake.reset_counters()
    t0 = fake.now()
    raw = json.dumps(ARK_BODY, indent=1).encode()
    status, ans = ark_create(c, "ark", raw)
    tid = ans["id"]
    check("create ark", status == 200 and set(ans) == {"id"} and tid.startswith("cgt-"), ans)
    _, got = c.ark_json("ark", "/" + tid)
    now = time.time()
    check("create ark task queued, echoed", got["status"] == "queued"
          and got["model"] == ARK_BODY["model"] and got["ratio"] == "9:16"
          and got["duration"] == 10 and got["safety_identifier"] == "u-1"
          and got["resolution"] == "720p" and "content" not in got and "x_new_field" not in got
          and abs(got["created_at"] - now) < 3 and got["updated_at"] == got["created_at"], got)
    _, page = c.ark_json("ark", "?page_size=1")
    check("create ark listed at once", page["items"][0]["id"] == tid)
    status, ans = ark_create(c, "relay")
    rid = ans["id"]
    check("create relay adds status", status == 200 and ans["status"] == "submitted"
          and c.ark_json("relay", "/" + rid)[1]["status"] == "submitted")
    status, ans = ark_create(c, "rong")
    check("create rong 404", status == 404 and ans["error"]["code"] == "ResourceNotFound")
    fake.patch_scenario({"rong": {"create_status": None}})
    status, ans = ark_create(c, "rong")
    check("create rong when offered", status == 200 and c.ark("rong", "/" + ans["id"])[0] == 200)
    fake.patch_scenario({"rong": {"create_status": 404}})
    check("create needs the key", ark_create(c, "ark", key="nope")[0] == 401)
    for name, body, param in (
            ("not JSON", b"{\"model\":", ""), ("array", b"[]", ""),
            ("no model", {"content": [{"type": "text", "text": "x"}]}, "model"),
            ("model not string", {"model": 5, "content": [{"type": "text"}]}, "model"),
            ("no content", {"model": "m"}, "content"),
            ("empty content", {"model": "m", "content": []}, "content"),
            ("content item without type", {"model": "m", "content": [{"text": "x"}]}, "content")):
        status, ans = ark_create(c, "ark", body)
        err = (ans or {}).get("error", {})
        check(f"create ark 400 {name}", status == 400 and err.get("code") == "InvalidParameter"
              and err.get("type") == "BadRequest" and err.get("param") == param, ans)
    # Chanjing task/submit.
    check("create chanjing needs a token",
          c.cj("task/submit", CJ_BODY, token="nope")[1]["code"] == 10400)
    status, ans = c.cj("task/submit", CJ_BODY)
    uid = ans["data"]
    check("create chanjing", status == 200 and ans["code"] == 0 and ans["msg"] == "success"
          and isinstance(uid, str) and "trace_id" in ans, ans)
    got = c.cj("task?unique_id=" + uid)[1]["data"]
    check("create chanjing task queued, echoed", got["progress_desc"] == "Queued"
          and got["type"] == 3 and got["model_code"] == CJ_BODY["model_code"]
          and got["photo_info"]["ref_prompt"] == CJ_BODY["ref_prompt"]
          and got["number_ai_creation"] == 2 and got["output_url"] == []
          and abs(got["create_time"] - time.time()) < 3, got)
    listed = c.cj("task/page", {"type": 3, "page": 1, "page_size": 1})[1]["data"]["list"]
    check("create chanjing listed at once", listed[0]["unique_id"] == uid)
    video = {"creation_type": 4, "model_code": "Doubao-Seedance-1.0-lite-i2v",
             "ref_prompt": "waves", "ref_img_url": ["https://x/1.jpg"], "video_duration": 5}
    vid = c.cj("task/submit", video)[1]["data"]
    got = c.cj("task?unique_id=" + vid)[1]["data"]
    check("create chanjing video", got["type"] == 4 and got["motion_info"]["video_duration"] == 5
          and got["ref_img_url"] == ["https://x/1.jpg"]
          and got["motion_info"]["ref_prompt"] == "waves")
    for name, body in (("no creation_type", {"model_code": "m"}),
                       ("creation_type 5", {"creation_type": 5, "model_code": "m"}),
                       ("no model_code", {"creation_type": 3}),
                       ("video without duration", {"creation_type": 4, "model_code": "m"}),
                       ("5 images", {**CJ_BODY, "number_of_images": 5})):
        check(f"create chanjing 40000 {name}", c.cj("task/submit", body)[1]["code"] == 40000)
    # The record of create requests, and the counters.
    got = fake.creates("ark", since=t0)
    check("creates body byte for byte", got[0]["raw"] == raw and got[0]["body"] == raw.decode()
          and got[0]["id"] == tid and got[0]["status"] == 200, got[0])
    check("creates failed ones", len(got) == 9 and all(e["id"] is None for e in got[1:])
          and {e["status"] for e in got[1:]} == {400, 401}, [e["status"] for e in got])
    weird = b'{"model":"m","content":[{"type":"text","text":"\xff\xfe"}]}'
    status, ans = ark_create(c, "ark", weird)
    check("creates keeps bytes that are not UTF-8",
          status == 400 and fake.creates("ark")[-1]["raw"] == weird)
    cnt = fake.counters()
    check("create counters", cnt["ark.create"] == 10 and cnt["ark.created"] == 1
          and cnt["relay.created"] == 1 and cnt["rong.created"] == 1 and cnt["rong.create"] == 2
          and cnt["chanjing.created"] == 2 and cnt["chanjing.create"] == 8
          and fake.created("ark") == 1, cnt)
    check("creates of all providers", len(fake.creates(since=t0)) == 10 + 1 + 2 + 8)


def test_create_faults(fake, c):
    """Which faults make the task: the README's table, case by case."""
    fake.reset_counters()
    cases = [  # kind, params, made, what the client sees
        ("http", {"status": 429, "retry_after": 1}, False, 429),
        ("http", {"status": 503}, False, 503),
        ("http", {"status": 500}, False, 500),
        ("http", {"status": 500, "after_create": True}, True, 500),
        ("stall", {"seconds": 0.2}, False, "RemoteDisconnected"),
        ("reset", {}, False, "ConnectionResetError"),
        ("down", {}, False, "RemoteDisconnected"),
        ("malformed", {}, False, "JSONDecodeError"),
        ("delay", {"seconds": 0.1}, True, 200),
        ("truncate", {"bytes": 5}, True, "IncompleteRead"),
        ("stall_after_create", {"seconds": 0.2}, True, "RemoteDisconnected"),
        ("reset_after_create", {}, True, "ConnectionResetError"),
    ]
    made = 0
    for kind, params, makes, seen in cases:
        before = {t["id"] for t in fake.tasks("ark")}
        fake.fault("ark.create", kind, count=1, **params)
        t = time.monotonic()
        try:
            what = ark_create(c, "ark", b'{"model":"m","content":[{"type":"text"}]}')[0]
        except Exception as e:  # noqa: BLE001
            what = type(e).__name__
        took = time.monotonic() - t
        made += makes
        new = {t["id"] for t in fake.tasks("ark")} - before
        rec = fake.creates("ark")[-1]
        check(f"create fault {kind} {params}: seen", what == seen, what)
        check(f"create fault {kind} {params}: made {makes}", len(new) == makes
              and fake.created("ark") == made and rec["fault"] == kind
              and rec["id"] == (new.pop() if makes else None)
              and (rec["body"] is None) == (kind == "down"), (new, rec))
        if "seconds" in params:
            check(f"create fault {kind} waited", took >= params["seconds"], took)
    fake.clear_faults()
    # Throttled creates make nothing; the rule machinery applies to chanjing.create too.
    fake.ratelimit("relay", qps=1, burst=1)
    codes = [ark_create(c, "relay")[0] for _ in range(3)]
    fake.ratelimit("relay", qps=0)
    check("create throttled makes nothing", codes.count(429) >= 1
          and fake.created("relay") == codes.count(200), codes)
    fake.fault("chanjing.create", "code", code=40001, count=1)
    check("create chanjing 40001", c.cj("task/submit", CJ_BODY)[1]["code"] == 40001
          and fake.created("chanjing") == 0)
    fake.fault("chanjing.create", "stall_after_create", seconds=0.1, count=1)
    check("create chanjing stall_after_create",
          failure(lambda: c.cj("task/submit", CJ_BODY)) == "RemoteDisconnected"
          and fake.created("chanjing") == 1 and fake.creates("chanjing")[-1]["id"])
    cnt = fake.counters()
    check("create fault counters", cnt["ark.create"] == len(cases)
          and cnt["ark.create.fault.stall_after_create"] == 1
          and cnt["ark.create.fault.http"] == 4 and cnt["ark.create.status.500"] == 2, cnt)


def test_lifecycle(fake, c):
    """Created tasks move on the schedule the test sets, read lazily."""
    still = ark_create(c, "ark")[1]["id"]  # no lifecycle: stays queued
    fake.lifecycle("ark", queued_s=1, running_s=1)
    fake.lifecycle("chanjing", queued_s=1, running_s=1, outcome="failed")
    fake.patch_scenario({"relay": {"lifecycle": {"queued_s": 0, "running_s": 0}}})
    check("lifecycle in the scenario", fake.scenario()["ark"]["lifecycle"] == {
        "queued_s": 1.0, "running_s": 1.0, "outcome": "succeeded"})
    check("lifecycle refuses a bad outcome",
          failure(lambda: fake.lifecycle("ark", outcome="Success")) == "FakeError")
    tid = ark_create(c, "ark")[1]["id"]
    held = ark_create(c, "ark")[1]["id"]
    uid = c.cj("task/submit", CJ_BODY)[1]["data"]
    rid = ark_create(c, "relay")[1]["id"]
    fake.clear_lifecycle("chanjing")
    later = c.cj("task/submit", CJ_BODY)[1]["data"]
    t0 = c.ark_json("ark", "/" + tid)[1]
    check("lifecycle queued first", t0["status"] == "queued"
          and c.cj("task?unique_id=" + uid)[1]["data"]["progress_desc"] == "Queued")
    check("lifecycle 0 s: done at the first read",
          c.ark_json("relay", "/" + rid)[1]["status"] == "succeeded")
    fake.set_task("ark", held, status="running")  # the test takes over: no schedule
    time.sleep(1.1)
    _, page = c.ark_json("ark", "?filter.status=running&page_size=500")
    t1 = next((t for t in page["items"] if t["id"] == tid), {})
    check("lifecycle running, listed so", t1.get("status") == "running"
          and t1["updated_at"] == t0["created_at"] + 1 and "content" not in t1, t1)
    got = c.cj("task?unique_id=" + uid)[1]["data"]
    check("lifecycle chanjing Generating", got["progress_desc"] == "Generating", got)
    time.sleep(1.0)
    t2 = c.ark_json("ark", "/" + tid)[1]
    check("lifecycle succeeded with outputs", t2["status"] == "succeeded"
          and t2["updated_at"] == t0["created_at"] + 2
          and set(t2["content"]) == {"video_url", "last_frame_url"}
          and t2["content"]["video_url"].split("?")[0].endswith("/video.mp4")
          and req(t2["content"]["video_url"], "HEAD")[0] == 200, t2)
    page = c.cj("task/page", {"type": 3, "page": 1, "page_size": 50})[1]["data"]["list"]
    got = next((t for t in page if t["unique_id"] == uid), {})
    check("lifecycle chanjing Fail, listed so", got.get("progress_desc") == "Fail"
          and got["err_msg"] and got["output_url"] == [], got)
    check("lifecycle off: stays queued", c.ark_json("ark", "/" + still)[1]["status"] == "queued"
          and c.cj("task?unique_id=" + later)[1]["data"]["progress_desc"] == "Queued")
    check("lifecycle ends when the test sets the status",
          c.ark_json("ark", "/" + held)[1]["status"] == "running")
    t = fake.set_task("ark", still, lifecycle={"queued_s": 0, "running_s": 0, "outcome": "failed"})
    check("lifecycle of one task by POST task", t["status"] == "failed" and "error" in t, t)
    ok = fake.set_task("chanjing", later, progress_desc="Success")
    check("POST task sets a created task's status", len(ok["output_url"]) == 2
          and ok["output_url"][0].split("?")[0].endswith("/0.jpg"), ok)
    fake.clear_lifecycle("ark")
    fake.patch_scenario({"relay": {"lifecycle": None}})


def test_delete(fake, c):
    """DELETE as API.md has it, on created tasks and set ones."""
    fake.reset_counters()
    qid = ark_create(c, "ark")[1]["id"]
    status, _, body = c.ark("ark", "/" + qid, method="DELETE")
    _, page = c.ark_json("ark", "?filter.status=cancelled&page_size=500")
    check("delete queued -> cancelled, kept", status == 200 and json.loads(body) == {}
          and c.ark_json("ark", "/" + qid)[1]["status"] == "cancelled"
          and qid in [t["id"] for t in page["items"]])
    status, _, body = c.ark("ark", "/" + qid, method="DELETE")
    err = json.loads(body)["error"]
    check("delete cancelled -> 409",
          status == 409 and err["code"] == "OperationDenied.InvalidStatus")
    fake.lifecycle("ark", queued_s=0, running_s=60)
    rid = ark_create(c, "ark")[1]["id"]
    check("delete running -> 409", c.ark("ark", "/" + rid, method="DELETE")[0] == 409
          and c.ark_json("ark", "/" + rid)[1]["status"] == "running")
    fake.patch_scenario({"ark": {"delete_refused_status": 400}})
    check("delete_refused_status", c.ark("ark", "/" + rid, method="DELETE")[0] == 400)
    fake.patch_scenario({"ark": {"delete_refused_status": 409}})
    fake.clear_lifecycle("ark")
    gone = []
    for status in ("succeeded", "failed", "expired"):
        tid = ark_create(c, "ark")[1]["id"]
        fake.set_task("ark", tid, status=status)
        gone.append(tid)
        check(f"delete {status} -> gone", c.ark("ark", "/" + tid, method="DELETE")[0] == 200
              and c.ark("ark", "/" + tid)[0] == 404)
    _, page = c.ark_json("ark", "?page_size=500")
    check("delete: list leaves them out", not set(gone) & {t["id"] for t in page["items"]})
    check("delete unknown -> 404", c.ark("ark", "/" + gone[0], method="DELETE")[0] == 404)
    sid = ark_create(c, "relay")[1]["id"]
    check("delete relay submitted -> cancelled",
          c.ark("relay", "/" + sid, method="DELETE")[0] == 200
          and c.ark_json("relay", "/" + sid)[1]["status"] == "cancelled")
    rong = fake.tasks("rong")[0]["id"]
    check("delete rong -> 404", c.ark("rong", "/" + rong, method="DELETE")[0] == 404
          and c.ark("rong", "/" + rong)[0] == 200)
    qid = ark_create(c, "ark")[1]["id"]
    fake.fault("ark.delete", "reset_after_create", count=1)
    check("delete done, answer lost", failure(lambda: c.ark("ark", "/" + qid, method="DELETE"))
          == "ConnectionResetError" and c.ark_json("ark", "/" + qid)[1]["status"] == "cancelled")
    cnt = fake.counters()
    check("delete counters", cnt["ark.delete"] == 9 and cnt["ark.cancelled"] == 2
          and cnt["ark.deleted"] == 3 and cnt["relay.cancelled"] == 1
          and cnt["ark.delete.status.409"] == 2 and "rong.deleted" not in cnt, cnt)


def test_forget(fake, c):
    """A forgotten task is gone for the API; its media stay until the URLs expire."""
    fake.url_ttl("chanjing", 1)
    uid = c.cj("task/submit", CJ_BODY)[1]["data"]
    fake.set_task("chanjing", uid, progress_desc="Success")
    curl = c.cj("task?unique_id=" + uid)[1]["data"]["output_url"][0]
    fake.forget("chanjing", uid)
    got = c.cj("task?unique_id=" + uid)[1]
    page = c.cj("task/page", {"type": 3, "page": 1, "page_size": 50})[1]["data"]["list"]
    check("forget chanjing: data null, not listed", got["code"] == 0 and got["data"] is None
          and uid not in [t["unique_id"] for t in page])
    check("forget chanjing: media still served", req(curl, "HEAD")[0] == 200)
    fake.url_ttl("chanjing", 86400)
    tid = ark_create(c, "ark")[1]["id"]
    fake.set_task("ark", tid, status="succeeded")
    url = c.ark_json("ark", "/" + tid)[1]["content"]["video_url"]
    want = fake.expected("ark", tid)
    fake.forget("ark", tid)
    _, page = c.ark_json("ark", "?page_size=500")
    check("forget ark: get 404, not listed, not deletable", c.ark("ark", "/" + tid)[0] == 404
          and tid not in [t["id"] for t in page["items"]]
          and c.ark("ark", "/" + tid, method="DELETE")[0] == 404
          and failure(lambda: fake.task("ark", tid)) == "FakeError")
    status, _, body = req(url)
    check("forget ark: media still served", status == 200
          and hashlib.sha256(body).hexdigest() == want["sha256"])
    again = fake.expected("ark", tid)
    check("forget ark: expected() still answers, with the URL handed out",
          again["url"] == url and again["sha256"] == want["sha256"])
    check("forget unknown -> 404", failure(lambda: fake.forget("ark", tid)) == "FakeError")
    fake.url_ttl("ark", 86400, expire_now=True)
    check("forget ark: expire_now makes its URL 403", req(url, "HEAD")[0] == 403
          and fake.expected("ark", tid, hash=False)["url"] == url)
    expires = int(curl.split("expires=")[1].split("&")[0])
    time.sleep(max(0.0, expires - time.time() + 0.05))
    check("forget chanjing: its URL expires", req(curl, "HEAD")[0] == 403)


def test_faults(fake, c):
    fake.reset_counters()
    t0 = fake.now()
    fake.fault("ark.list", "http", status=503, retry_after=2, count=1)
    status, h, body = c.ark("ark")
    check("fault http", status == 503 and h["Retry-After"] == "2" and "error" in json.loads(body))
    check("fault count used up", c.ark("ark")[0] == 200)
    rules = fake.fault_rules()
    check("fault rules view", rules[0]["remaining"] == 0 and rules[0]["hits"] == 1)
    fake.fault("chanjing.get", "code", code=50000, count=1)
    check("fault code", c.cj("task?unique_id=x")[1]["code"] == 50000)
    fake.fault("ark.get", "delay", seconds=0.3, count=1)
    t = time.monotonic()
    status = c.ark("ark", "/" + fake.tasks("ark", limit=1)[0]["id"])[0]
    check("fault delay", status == 200 and time.monotonic() - t >= 0.3)
    fake.fault("ark.list", "stall", seconds=0.3, count=1)
    t = time.monotonic()
    check("fault stall", failure(lambda: c.ark("ark")) == "RemoteDisconnected"
          and time.monotonic() - t >= 0.3)
    fake.fault("ark.list", "reset", count=1)
    check("fault reset", failure(lambda: c.ark("ark")) == "ConnectionResetError")
    fake.fault("ark.list", "down", count=1)
    check("fault down", failure(lambda: c.ark("ark")) == "RemoteDisconnected")
    fake.fault("ark.list", "truncate", count=1)
    check("fault truncate api", failure(lambda: c.ark("ark")) == "IncompleteRead")
    fake.fault("ark.list", "malformed", count=1)
    check("fault malformed", failure(lambda: json.loads(c.ark("ark")[2])) == "JSONDecodeError")
    for variant, test in (
            ("string_for_number", lambda a: isinstance(a["total"], str)),
            ("unit_for_number", lambda a: a["total"].endswith(" s")),
            ("missing_fields", lambda a: "id" not in a["items"][0]),
            ("null_list", lambda a: a["items"] is None),
            ("items_not_list", lambda a: isinstance(a["items"], dict)),
            ("top_array", lambda a: isinstance(a, list))):
        fake.fault("ark.list", "wrong_shape", variant=variant, count=1)
        status, _, body = c.ark("ark")
        check(f"fault wrong_shape {variant}", status == 200 and test(json.loads(body)))
    fake.fault("relay.list", "empty", count=1)
    status, h, body = c.ark("relay")
    check("fault empty", status == 200 and body == b"" and h["Content-Length"] == "0")
    fake.fault("chanjing.list", "huge", count=1)
    status, h, body = req(fake.base("chanjing") + "/open/v1/ai_creation/task/page", "POST",
                          {"type": 3})
    check("fault huge", status == 200 and len(body) == 100 << 20 and json.loads(body)["total"] == 0)
    fake.fault("ark.get", "redirect_loop", count=1)
    status, h, _ = c.ark("ark", "/abc")
    check("fault redirect_loop", status == 302 and h["Location"] == fake.base("ark") + TASKS + "/abc")
    # Media faults, and the "match" and "prob" selectors.
    tid = next(t["id"] for t in fake.tasks("ark") if t["status"] == "succeeded")
    url = fake.expected("ark", tid, "video", hash=False)["url"]
    fake.fault("media", "truncate", bytes=1000, count=1)
    check("fault truncate media", failure(lambda: req(url)) == "IncompleteRead")
    fake.fault("media.get", "stall", after_bytes=100, seconds=0.3, count=1)
    check("fault stall mid-body", failure(lambda: req(url)) == "IncompleteRead")
    fake.fault("media", "http", status=500, match="no-such-path", count=1)
    check("fault match", req(url, headers={"Range": "bytes=0-99"})[0] == 206)
    fake.clear_faults()
    fake.faults({"endpoint": "rong", "kind": "http", "status": 500, "prob": 0.5})
    codes = [c.ark("rong", "/" + fake.tasks("rong", limit=1)[0]["id"])[0] for _ in range(40)]
    check("fault prob", 5 < codes.count(500) < 35 and codes.count(200) + codes.count(500) == 40)
    fake.clear_faults()
    check("faults cleared", fake.fault_rules() == [])
    cnt = fake.counters()
    check("fault counters", cnt["ark.list.fault.http"] == 1 and cnt["ark.list.fault.reset"] == 1
          and cnt["ark.list.status.503"] == 1 and cnt["chanjing.get.code.50000"] == 1
          and cnt["ark.list.fault.down"] == 1 and cnt["rong.get"] == 40, cnt)
    log = fake.log(since=t0, endpoint="ark.list")
    check("log entries", len(log) == cnt["ark.list"] and log[0]["status"] == 503
          and log[0]["headers"]["authorization"].startswith("Bearer ")
          and all(e["t"] > t0 for e in log))
    check("log fault without answer", any(e["fault"] == "reset" and e["status"] is None for e in log))
    post = fake.log(since=t0, endpoint="chanjing.list")
    check("log body", post and post[-1]["body"] == {"type": 3})


def test_shapes(fake, c):
    """<p>.shape: answers as some servers in the wild send them."""
    tid = fake.tasks("ark", limit=1)[0]["id"]
    truth = fake.task("ark", tid)
    fake.patch_scenario({"ark": {"shape": "envelope0"}})
    _, ans = c.ark_json("ark")
    check("shape envelope0 list", ans["code"] == 0 and ans["msg"] == "ok"
          and isinstance(ans["data"]["items"], list) and ans["data"]["total"] >= 1)
    _, ans = c.ark_json("ark", "/" + tid)
    check("shape envelope0 get", ans["code"] == 0 and ans["data"] == truth)
    fake.patch_scenario({"ark": {"shape": "envelope_success"}})
    _, ans = c.ark_json("ark", "/" + tid)
    check("shape envelope_success get", ans["code"] == "success" and ans["data"]["data"] == truth)
    check("shape 404 unwrapped", c.ark("ark", "/nope")[0] == 404)
    fake.patch_scenario({"ark": {"shape": "digit_strings"}})
    _, ans = c.ark_json("ark")
    item = ans["items"][0]
    check("shape digit_strings ark", ans["total"] == str(len(fake.tasks("ark")))
          and item["created_at"] == str(fake.task("ark", item["id"])["created_at"])
          and isinstance(item["updated_at"], str) and isinstance(item["seed"], int), item)
    fake.patch_scenario({"ark": {"shape": "no_id"}})
    _, ans = c.ark_json("ark", "/" + tid)
    check("shape no_id get", "id" not in ans and ans["status"] == truth["status"])
    check("shape no_id list keeps ids", all("id" in t for t in c.ark_json("ark")[1]["items"]))
    fake.patch_scenario({"ark": {"shape": "no_timestamps"}})
    _, ans = c.ark_json("ark", "/" + tid)
    _, page = c.ark_json("ark")
    check("shape no_timestamps", "created_at" not in ans and "updated_at" not in ans
          and all("created_at" not in t and "updated_at" not in t for t in page["items"]))
    check("shape unknown refused",
          failure(lambda: fake.patch_scenario({"ark": {"shape": "bogus"}})) == "FakeError")
    fake.patch_scenario({"ark": {"shape": "plain"}, "chanjing": {"shape": "digit_strings",
                                                                "token_expire_in_past": True}})
    tok = c.cj_token()
    check("token expire_in past", int(tok["data"]["expire_in"]) < time.time()
          and isinstance(tok["data"]["expire_in"], str))
    _, ans = c.cj("task/page", {"type": 3, "page": 1, "page_size": 5})
    d = ans["data"]
    check("token past still works, digit strings chanjing", ans["code"] == 0
          and isinstance(d["total"], str) and d["page_info"]["page"] == "1"
          and isinstance(d["list"][0]["create_time"], str) and d["list"][0]["type"] == "3", d)
    cid = d["list"][0]["unique_id"]
    fake.patch_scenario({"chanjing": {"shape": "no_id"}})
    _, ans = c.cj(f"task?unique_id={cid}")
    check("shape no_id chanjing", ans["code"] == 0 and "unique_id" not in ans["data"]
          and "id" in ans["data"])
    fake.patch_scenario({"chanjing": {"shape": "plain", "token_expire_in_past": False}})
    check("shape plain again", c.ark_json("ark", "/" + tid)[1] == truth)


def test_ratelimit(fake, c):
    fake.reset_counters()
    fake.ratelimit("ark", qps=2, burst=2, retry_after=1)
    codes = []
    for _ in range(6):
        status, h, _ = c.ark("ark")
        codes.append((status, h.get("Retry-After")))
    check("ratelimit 429", codes[:2] == [(200, None)] * 2 and (429, "1") in codes, codes)
    time.sleep(0.6)
    check("ratelimit refills", c.ark("ark")[0] == 200)
    fake.ratelimit("chanjing", qps=1, burst=1)
    answers = [c.cj("task?unique_id=x")[1]["code"] for _ in range(3)]
    check("ratelimit 40001", answers[0] == 0 and 40001 in answers, answers)
    check("ratelimit view", fake.ratelimits()["ark"]["qps"] == 2)
    fake.ratelimit("ark", qps=0)
    fake.ratelimit("chanjing", qps=0)
    check("ratelimit off", all(c.ark("ark")[0] == 200 for _ in range(5)))
    cnt = fake.counters()
    check("ratelimit counters", cnt["ark.list.throttled"] >= 1 and cnt["ark.throttled"] >= 1
          and cnt["chanjing.get.throttled"] >= 1 and cnt["ark.list.status.429"] >= 1)


def test_keepalive(fake):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    statuses = []
    for _ in range(3):
        conn.request("GET", "/ark/api/v3" + TASKS, headers={"Authorization": "Bearer ark-test-key"})
        r = conn.getresponse()
        r.read()
        statuses.append((r.status, r.version))
    conn.close()
    check("keep-alive", statuses == [(200, 11)] * 3)


def test_scale(fake, c):
    t = time.monotonic()
    fake.set_scenario({"ark": {"count": 100000}})
    check("100k tasks generated < 2 s", time.monotonic() - t < 2.0, time.monotonic() - t)
    c.ark("ark", "?page_size=500")
    times = []
    for page in (1, 50, 200):
        t = time.monotonic()
        status, _, body = c.ark("ark", f"?page_size=500&page_num={page}")
        times.append(time.monotonic() - t)
        ans = json.loads(body)
        check(f"100k page {page}", status == 200 and len(ans["items"]) == 500
              and ans["total"] == 100000)
    check("500-item page < 100 ms", min(times) < 0.1, times)
    t = time.monotonic()
    status, _, body = c.ark("ark", "?page_size=500&filter.status=succeeded")
    check("100k filtered page < 100 ms", status == 200 and time.monotonic() - t < 0.1,
          time.monotonic() - t)
    tid = json.loads(c.ark("ark", "?page_size=1&page_num=99999")[2])["items"][0]["id"]
    check("100k deep get", c.ark_json("ark", "/" + tid)[1]["id"] == tid)


def main():
    t = time.monotonic()
    scenario = {"ark": {"odd_ids": True}, "relay": {"count": 200}}
    with Fake(scenario=scenario, seed=3) as fake:
        c = Client(fake)
        check("health", fake.health()["ok"] is True)
        check("aifs_conf", "base_url = " + fake.base("ark") in fake.aifs_conf())
        check("unknown API path", req(fake.url + "/ark/api/v3/nope")[0] == 404
              and fake.counter("unknown") == 1)
        check("unknown control path", req(fake.url + "/_ctl/nope")[0] == 404)
        for test in (test_ark, test_relay_rong, test_chanjing, test_media, test_ctl_tasks,
                     test_create, test_create_faults, test_lifecycle, test_delete,
                     test_forget, test_faults, test_shapes, test_ratelimit, test_scale):
            try:
                test(fake, c)
            except Exception as e:  # noqa: BLE001
                check(test.__name__, False, f"raised {type(e).__name__}: {e}")
        test_keepalive(fake)
        pid = fake.pid
    check("stopped", failure(lambda: os.kill(pid, 0)) == "ProcessLookupError")
    print(f"selftest took {time.monotonic() - t:.1f} s")
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
