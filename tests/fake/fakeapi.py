#!/usr/bin/env python3
"""fakeapi.py: a fake of the provider APIs aifs mounts, for its tests.

One ThreadingHTTPServer on 127.0.0.1 serves, under path prefixes:

  /ark/api/v3      Volcengine Ark generation tasks: create, list, get, delete
  /relay/volc/v1   an Ark relay: its own tasks and key, slim list items
  /rong/llm/v1     RongCloud: get by id only (create and list answer 404)
  /chanjing        Chanjing: access_token, task submit, task page, task get
  /media/...       signed output files with Range, generated or real
  /_ctl/...        the control API the tests use (README.md)

A provider's tasks come from the seed: a generated task is a small row
(created, id, status, model or type) until an answer needs its object, so
100,000 tasks cost little. Tasks the tests create or change are kept whole.
Output bytes are SHAKE-256 blocks computed per range, or a real file.
It knows nothing about aifs; it only tries to answer as the vendors do.
"""

import argparse
import bisect
import hashlib
import hmac
import json
import math
import mimetypes
import os
import random
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from collections import Counter, deque, namedtuple
from email.utils import formatdate
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote

BLOCK = 1 << 16
DAY = 86400
TASKS = "/contents/generations/tasks"
BASES = {"ark": "/ark/api/v3", "relay": "/relay/volc/v1",
         "rong": "/rong/llm/v1", "chanjing": "/chanjing"}
ARK_FAMILY = ("ark", "relay", "rong")
STATUSES = {s.value for s in HTTPStatus}
ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"
PAIRS = [a + b for a in ALNUM for b in ALNUM]

ARK_MODELS = ["doubao-seedance-1-0-pro-250528", "doubao-seedance-1-0-lite-t2v-250428",
              "doubao-seedance-1-0-lite-i2v-250428", "doubao-seedance-1-0-pro-fast-251015"]
ARK_MIX = {"succeeded": 70, "queued": 6, "running": 8, "failed": 8, "cancelled": 4, "expired": 4}
COMMON = {"count": 30, "tasks": [], "odd_ids": False, "media_size": [65536, 1048576],
          "url_ttl": DAY, "redirect": False, "shape": "plain", "lifecycle": None}
ARK_CONF = {**COMMON, "mix": ARK_MIX, "models": ARK_MODELS, "failure_reason": 0.0,
            "list_status": None, "create_status": None, "slim_items": False,
            "visible_days": 7, "queued_status": "queued", "create_answer_status": False,
            "delete_refused_status": 409, "insert_on_page": None}
DEFAULTS = {
    "seed": 1,
    "epoch": None,
    "ark": {**ARK_CONF, "key": "ark-test-key"},
    "relay": {**ARK_CONF, "key": "relay-test-key", "count": 12, "failure_reason": 0.5,
              "slim_items": True, "mix": {**ARK_MIX, "succeeded": 62, "submitted": 8},
              "queued_status": "submitted", "create_answer_status": True},
    "rong": {**ARK_CONF, "key": "rong-test-key", "count": 8, "list_status": 404,
             "create_status": 404},
    "chanjing": {**COMMON, "count": 20, "app_id": "cj-test-app", "secret_key": "cj-test-secret",
                 "mix": {"Success": 60, "Generating": 10, "Queued": 8, "Ready": 7,
                         "Error": 10, "Fail": 5},
                 "image_fraction": 0.5, "unknown_get": "null", "token_ttl": DAY,
                 "single_token": True, "token_fail_code": 10400,
                 "token_expire_in_past": False},
}
# Changing one of these in a provider's section regenerates its tasks.
GEN_KEYS = ("count", "mix", "models", "odd_ids", "tasks", "media_size",
            "failure_reason", "image_fraction")
# Ids a filesystem finds awkward: separators, dots, escapes, length, bytes.
ODD_IDS = ["a/b", "50%", "%2F", "..", ".hidden", "with space", "ünïcödé-任务",
           "ctl\x01\x1f\x7fchars", "x" * 300, "e" * 255, "/" * 100, ""]

ARK_ORDER = ["id", "model", "status", "content", "usage", "error", "failure_reason",
             "created_at", "updated_at", "seed", "resolution", "ratio", "duration", "frames",
             "framespersecond", "generate_audio", "draft", "draft_task_id", "service_tier",
             "execution_expires_after", "priority"]
# A created Ark task shows these request fields; absent ones get Ark's defaults.
ARK_ECHO = ("seed", "resolution", "ratio", "duration", "frames", "framespersecond",
            "generate_audio", "draft", "service_tier", "execution_expires_after", "priority",
            "safety_identifier", "camera_fixed", "watermark")
ARK_FILLED = {"resolution": "720p", "ratio": "16:9", "duration": 5, "framespersecond": 24,
              "service_tier": "default", "execution_expires_after": 172800}
CJ_ORDER = ["id", "unique_id", "create_time", "number_ai_creation", "type", "progress_desc",
            "err_msg", "aspect_ratio", "output_url", "photo_info", "motion_info",
            "ref_img_url", "model_code", "model_name"]
# Where a task on a schedule (<p>.lifecycle) ends: outcome -> status.
ARK_OUTCOMES = {"succeeded": "succeeded", "failed": "failed", "expired": "expired"}
CJ_OUTCOMES = {"succeeded": "Success", "failed": "Fail", "Success": "Success", "Fail": "Fail",
               "Error": "Error"}
SUCCESS = {"succeeded", "Success"}
FAILED = {"failed", "Error", "Fail"}
ARK_FAILURES = [
    ("OutputVideoSensitiveContentDetected",
     "The request failed because the output video may contain sensitive information."),
    ("InputTextSensitiveContentDetected",
     "The request failed because the input text may contain sensitive information."),
    ("InternalServiceError", "The service encountered an unexpected internal error."),
]
CJ_FAIL = "任务失败,本次生成不消耗蝉豆"
CJ_PROMPTS = ["生成一张微缩模型风格的创意场景图。", "一只橘猫在窗台上晒太阳", "city at night, neon rain"]
CJ_MSGS = {0: "success", 400: "传入参数格式错误", 10400: "AccessToken 验证失败",
           10401: "AccessToken 已过期", 40000: "参数错误", 40001: "超出 QPS 限制",
           50000: "系统内部错误"}
ARK_CODES = {400: "InvalidParameter", 401: "AuthenticationError", 403: "AccessDenied",
             404: "ResourceNotFound", 429: "RateLimitExceeded.EndpointRPMExceeded",
             500: "InternalServiceError"}
FAULT_KINDS = {"http", "code", "delay", "stall", "reset", "truncate", "malformed",
               "wrong_shape", "empty", "huge", "redirect_loop", "down",
               "stall_after_create", "reset_after_create"}
# Kinds that answer in place of the request; with "after_create": true the
# request is first carried out (a create makes its task), then so answered.
REPLACING = {"http", "code", "malformed", "empty", "huge", "redirect_loop"}
# Kinds that carry the request out (a create makes its task), then send nothing.
AFTER_KINDS = {"stall_after_create", "reset_after_create"}
SHAPES = {"string_for_number", "unit_for_number", "missing_fields", "null_list", "items_not_list",
          "top_array"}
MISSING = {"id", "unique_id", "status", "progress_desc", "created_at", "create_time"}
MALFORMED = '{"total":1,"items":[{"id":"cgt-20250101000000-abcde","status":'
# Answers as some servers send them (<p>.shape); the numbers aifs reads.
WILD_SHAPES = {"plain", "envelope0", "envelope_success", "digit_strings", "no_id",
               "no_timestamps"}
WILD_NUMBERS = {"created_at", "updated_at", "create_time", "total", "type", "page", "size",
                "total_count", "total_page", "expire_in"}
TIMESTAMPS = {"created_at", "updated_at", "create_time"}
LOGGED_HEADERS = ("authorization", "access_token", "content-type", "range", "if-range",
                  "user-agent")


class Bad(Exception):
    """A control request the server refuses (answered 400)."""


KEEP = object()


def check_life(v, cj):
    """A lifecycle, {"queued_s", "running_s", "outcome"}, normalized; None stays None."""
    if v is None:
        return None
    if not isinstance(v, dict):
        raise Bad(f"bad lifecycle {v!r}: an object or null")
    out = {}
    for k in ("queued_s", "running_s"):
        n = v.get(k, 0)
        if isinstance(n, bool) or not isinstance(n, (int, float)) or not 0 <= n < math.inf:
            raise Bad(f"lifecycle {k} must be a number of seconds >= 0")
        out[k] = float(n)
    outcome = v.get("outcome", "succeeded")
    allowed = CJ_OUTCOMES if cj else ARK_OUTCOMES
    if outcome not in allowed:
        raise Bad(f"lifecycle outcome must be one of {sorted(allowed)}")
    out["outcome"] = outcome
    return out


# ---------------------------------------------------------------- bytes

def gen_chunks(gen, start, end):
    """Bytes [start, end) of the stream named gen: block i is
    SHAKE-256("gen:i") cut to 64 KiB, so any range is cheap to compute."""
    pos = start
    while pos < end:
        i, off = divmod(pos, BLOCK)
        block = hashlib.shake_256(f"{gen}:{i}".encode()).digest(BLOCK)
        piece = block[off:off + min(BLOCK - off, end - pos)]
        yield piece
        pos += len(piece)


def file_chunks(path, start, end):
    with open(path, "rb") as f:
        f.seek(start)
        while start < end:
            piece = f.read(min(1 << 18, end - start))
            if not piece:
                return
            yield piece
            start += len(piece)


def huge_chunks(size):
    """A valid JSON object of exactly size bytes (at least 32)."""
    head, tail = b'{"total":0,"items":[],"pad":"', b'"}'
    yield head
    left = size - len(head) - len(tail)
    pad = b"x" * BLOCK
    while left > 0:
        yield pad[:min(left, BLOCK)]
        left -= BLOCK
    yield tail


def media_key(provider, tid):
    """The /media path component naming one task's outputs."""
    return f"{provider}-{hashlib.sha256(tid.encode('utf-8', 'replace')).hexdigest()[:12]}"


def base36(v):
    """Five lower-case base-36 digits, like Ark's id suffixes."""
    return PAIRS[v % 1296] + PAIRS[v // 1296 % 1296] + ALNUM[v // 1679616 % 36]


def status_mix(rng, mix, n):
    """n statuses in the mix's proportions, shuffled; each one present once
    n is at least twice the number of statuses."""
    heavy, total, out = max(mix, key=mix.get), sum(mix.values()), []
    least = 1 if n >= 2 * len(mix) else 0
    for status, weight in mix.items():
        if status != heavy and weight > 0:
            out += [status] * max(least, round(n * weight / total))
    out = out[:n]
    out += [heavy] * (n - len(out))
    rng.shuffle(out)
    return out


def sha256_of(chunks):
    h = hashlib.sha256()
    for piece in chunks:
        h.update(piece)
    return h.hexdigest()


def parse_range(value, size):
    """(first, last) of a single "bytes=" range, "unsat", or None to ignore
    the header (absent, multiple ranges or not understood: serve it all)."""
    spec = value.strip()
    if not spec.startswith("bytes=") or "," in spec:
        return None
    a, dash, b = spec[6:].strip().partition("-")
    if not dash or not (a + b).isdigit() or not (a or b):
        return None
    if not a:
        n = int(b)
        return (max(0, size - n), size - 1) if n > 0 and size > 0 else "unsat"
    first, last = int(a), int(b) if b else size - 1
    if first >= size:
        return "unsat"
    return (first, min(last, size - 1)) if first <= last else None


# ---------------------------------------------------------------- answers

class Reply:
    """One answer. The body is bytes, or chunks() (an iterator factory with
    the length given), so big bodies are streamed, never built in memory."""

    def __init__(self, status, body=b"", headers=(), *, length=None, chunks=None,
                 obj=None, code=None):
        self.status, self.headers, self.body = status, list(headers), body
        self.length = len(body) if length is None else length
        self.chunks, self.obj, self.code = chunks, obj, code

    def iter(self):
        return self.chunks() if self.chunks else iter((self.body,))


def json_reply(obj, status=200, headers=(), code=None):
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return Reply(status, body.encode("utf-8", "replace"),
                 [("Content-Type", "application/json; charset=utf-8"), *headers],
                 obj=obj, code=code)


def text_reply(status, text, headers=()):
    return Reply(status, text.encode(), [("Content-Type", "text/plain"), *headers])


def ark_error(status, message, code=None, param="", headers=()):
    """Ark's error body; its type is the status phrase ("NotFound")."""
    kind = HTTPStatus(status).phrase.replace(" ", "") if status in STATUSES else "Error"
    code = code or ARK_CODES.get(status, "InternalServiceError" if status >= 500 else kind)
    err = {"code": code, "message": f"{message} Request id: {uuid.uuid4().hex}",
           "param": param, "type": kind}
    return json_reply({"error": err}, status, headers)


def cj_reply(code, data=None, msg=None):
    return json_reply({"trace_id": uuid.uuid4().hex, "code": code,
                       "msg": msg or CJ_MSGS.get(code, "error"), "data": data}, code=code)


def reshape(v, variant):
    """The wrong_shape fault: the same answer with its types or fields spoilt."""
    if isinstance(v, dict):
        return {k: reshape(x, variant) for k, x in v.items()
                if not (variant == "missing_fields" and k in MISSING)}
    if isinstance(v, list):
        if variant == "null_list":
            return None
        items = [reshape(x, variant) for x in v]
        return {str(i): x for i, x in enumerate(items)} if variant == "items_not_list" else items
    if variant == "string_for_number" and isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    if variant == "unit_for_number" and isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{v} s"
    return v


DROP = object()


def rewrite(v, leaf):
    """v with leaf(key, value) applied to every member of every object in it;
    a member it turns into DROP is left out."""
    if isinstance(v, list):
        return [rewrite(x, leaf) for x in v]
    if not isinstance(v, dict):
        return v
    out = {}
    for k, x in v.items():
        x = leaf(k, rewrite(x, leaf))
        if x is not DROP:
            out[k] = x
    return out


def wild(prov, obj, kind):
    """A successful answer's object (a task, an Ark listing, Chanjing's data)
    in the shape prov.conf["shape"] names; kind: "get", "list" or "token"."""
    shape = prov.conf.get("shape", "plain")
    if shape == "digit_strings":
        return rewrite(obj, lambda k, v: str(v) if k in WILD_NUMBERS and type(v) is int else v)
    if shape == "no_timestamps":
        return rewrite(obj, lambda k, v: DROP if k in TIMESTAMPS else v)
    if shape == "no_id" and kind == "get":
        return {k: v for k, v in obj.items() if k != ("unique_id" if prov.cj else "id")}
    if shape == "envelope0" and not prov.cj:
        return {"code": 0, "msg": "ok", "data": obj}
    if shape == "envelope_success" and not prov.cj:
        return {"code": "success", "data": {"data": obj}}
    return obj


def ordered(obj, order):
    out = {k: obj[k] for k in order if k in obj}
    out.update((k, v) for k, v in obj.items() if k not in out)
    return out


# ---------------------------------------------------------------- tasks

Source = namedtuple("Source", "size etag mtime chunks gen path")


class Provider:
    """One provider's tasks. rows: generated (created, id, status, kind),
    newest first, kind being the model (ark) or type 3/4 (chanjing); specs:
    tasks kept whole, {"obj": task object without URLs, "outputs": {slot:
    {"name", "size" | "path", "version"}}}; slots are video, last_frame,
    file (ark) or "0", "1", ... (chanjing)."""

    def __init__(self, name, conf, seed, epoch):
        self.name, self.conf, self.seed, self.epoch = name, conf, seed, epoch
        self.cj = name == "chanjing"
        self.success = "Success" if self.cj else "succeeded"
        self.status_key = "progress_desc" if self.cj else "status"
        self.time_key = "create_time" if self.cj else "created_at"
        self.specs, self.deleted, self.issued, self.tokens = {}, set(), {}, {}
        self.url_gen, self._order = 0, None
        self.id_rng = random.Random(f"{seed}/{name}/create")
        self.living, self.next_change = set(), math.inf  # tasks on a schedule
        # Tasks the API forgot, whose media stay: id -> (spec, expires, url_gen)
        # of the URLs last handed out (expires None: never).
        self.forgotten = {}
        self.rows = self.generate()
        self.index = {r[1]: i for i, r in enumerate(self.rows)}
        # The second newest success always shows the rarer shapes (below).
        self.quirky = [r[1] for r in self.rows if r[2] == self.success][1:2]
        self.next_row = len(self.rows) + 1
        for k, tid in enumerate(ODD_IDS if conf["odd_ids"] else ()):
            kind = (3 + k % 2) if self.cj else conf["models"][0]
            self.specs[tid] = self.build(epoch - 450 - 7 * k, tid, self.success, kind, self.row_no())
        for t in conf["tasks"]:
            t = dict(t)
            self.put(str(t.pop("id")), t)

    def row_no(self):
        self.next_row += 1
        return self.next_row - 1

    def generate(self):
        rng = random.Random(f"{self.seed}/{self.name}")
        n = int(self.conf["count"])
        hi = max(1, 6 * DAY // max(n, 1))  # all within 6 days, if n allows
        t, rows, models = self.epoch - 600, [], self.conf.get("models")
        for status in status_mix(rng, self.conf["mix"], n):  # hot: random() over choice()
            if self.cj:
                tid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                kind = 3 if rng.random() < self.conf["image_fraction"] else 4
            else:
                stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(t + 8 * 3600))
                tid = f"cgt-{stamp}-{base36(rng.getrandbits(31))}"
                kind = models[int(rng.random() * len(models))]
            rows.append((t, tid, status, kind))
            t -= 1 + int(rng.random() * hi)
        return rows

    # -- building objects

    def build(self, created, tid, status, kind, row):
        rng = random.Random(f"{self.seed}/{self.name}/{tid}")
        if self.cj:
            return self.build_cj(rng, created, tid, status, kind, row)
        return self.build_ark(rng, created, tid, status, kind)

    def build_ark(self, rng, created, tid, status, model):
        obj = {"id": tid, "model": model, "status": status}
        outputs = self.default_outputs(rng, obj) if status == "succeeded" else {}
        if outputs:
            n = rng.randint(50_000, 250_000)
            obj.update(content={}, usage={"completion_tokens": n, "total_tokens": n})
        if status == "failed":
            obj.update(self.ark_failure(rng))
        waited = 0 if status in ("queued", "submitted") else rng.randint(20, 400)
        obj.update(created_at=created, updated_at=created + waited,
                   seed=rng.randrange(1 << 31), resolution=rng.choice(("480p", "720p", "1080p")),
                   ratio=rng.choice(("16:9", "9:16", "1:1", "4:3", "adaptive")),
                   duration=rng.choice((5, 10)), framespersecond=24,
                   generate_audio=rng.random() < 0.3)
        if rng.random() < 0.2:
            obj.update(service_tier="default", execution_expires_after=172800)
        return {"obj": obj, "outputs": outputs}

    def ark_failure(self, rng):
        code, message = rng.choice(ARK_FAILURES)
        if rng.random() < float(self.conf["failure_reason"]):
            return {"failure_reason": message}
        return {"error": {"code": code, "message": message}}

    def build_cj(self, rng, created, tid, status, kind, row):
        image = kind == 3
        n = rng.randint(1, 4) if image else 1
        ratio = rng.choice(("9:16", "16:9", "1:1", "3:4", "4:3"))
        prompt = rng.choice(CJ_PROMPTS)
        ref = ["https://www.chanjing.cc/chanjing/res/aigc_creation/open/photo/2026-03-02/"
               f"{rng.getrandbits(128):032x}.jpg"]
        obj = {"id": row, "unique_id": tid, "create_time": created, "number_ai_creation": n,
               "type": kind, "progress_desc": status,
               "err_msg": CJ_FAIL if status in FAILED else "", "aspect_ratio": ratio,
               "output_url": [],
               "photo_info": {"ref_img_url": ref if image else [],
                              "ref_prompt": prompt if image else "",
                              "clarity": 4096 if image else 0,
                              "aspect_ratio": ratio if image else "", "quality_mode": "",
                              "number_of_images": n if image else 0},
               "motion_info": {"photo_path_url": None if image else ref[0],
                               "ref_prompt": "" if image else prompt,
                               "clarity": 0 if image else 1080,
                               "quality_mode": "" if image else "std", "style": "",
                               "aspect_ratio": "" if image else ratio,
                               "video_duration": 0 if image else rng.choice((5, 10))},
               "ref_img_url": ref,
               "model_code": "doubao-seedream-4.5" if image else "doubao-seedance-1.0-pro",
               "model_name": ""}
        outputs = self.default_outputs(rng, obj) if status == "Success" else {}
        return {"obj": obj, "outputs": outputs}

    def default_outputs(self, rng, obj):
        """What a successful task produced. Some names carry no extension,
        some Ark tasks a file_url: always so for the quirky task."""
        quirky = obj.get("unique_id" if self.cj else "id") in self.quirky
        if self.cj:
            n = obj.get("number_ai_creation", 1) if obj.get("type") == 3 else 1
            exts = ("jpg", "png", "webp") if obj.get("type") == 3 else ("mp4",)
            spec = {str(i): {"ext": "" if rng.random() < 0.1 or quirky else rng.choice(exts)}
                    for i in range(n)}
        else:
            spec = {"video": {"ext": "" if rng.random() < 0.1 or quirky else "mp4"}}
            if rng.random() < 0.5 or quirky:
                spec["last_frame"] = {"ext": "png"}
            if rng.random() < 0.05 or quirky:
                spec["file"] = {"ext": "" if quirky else "zip"}
        return self.parse_outputs(spec, obj, rng)

    def parse_outputs(self, outputs, obj, rng=None):
        """Normalize a tests' outputs spec ({slot: {name|ext|size|path|version}}
        or a list for chanjing) to {slot: {"name", "size" | "path", "version"}}."""
        rng = rng or random.Random(f"{self.seed}/{self.name}/{obj.get(self.time_key)}")
        if isinstance(outputs, list):
            outputs = dict(enumerate(outputs))
        res = {}
        for slot, o in outputs.items():
            slot, o = str(slot), dict(o or {})
            ext = o.get("ext", self.default_ext(slot, obj))
            out = {"name": o.get("name") or (f"{slot}.{ext}" if ext else slot),
                   "version": int(o.get("version", 0))}
            if o.get("path"):
                out["path"] = o["path"]
            else:
                out["size"] = int(o["size"]) if "size" in o else self.media_size(rng)
            res[slot] = out
        return res

    def default_ext(self, slot, obj):
        if self.cj:
            return "jpg" if obj.get("type") == 3 else "mp4"
        return {"video": "mp4", "last_frame": "png"}.get(slot, "bin")

    def media_size(self, rng):
        size = self.conf["media_size"]
        return rng.randint(*size) if isinstance(size, list) else int(size)

    # -- the task set

    def spec(self, tid):
        if tid in self.specs:
            return self.specs[tid]
        i = self.index.get(tid)
        if i is None or tid in self.deleted:
            return None
        created, _, status, kind = self.rows[i]
        return self.build(created, tid, status, kind, len(self.rows) - i)

    def queued_status(self):
        return "Queued" if self.cj else self.conf.get("queued_status") or "queued"

    def known(self, tid):
        return tid in self.specs or tid in self.index or tid in self.forgotten

    def new_id(self, now):
        """A fresh id: Ark's cgt-<Beijing time>-<5 base-36>, or a UUID."""
        while True:
            if self.cj:
                tid = str(uuid.UUID(int=self.id_rng.getrandbits(128), version=4))
            else:
                stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now + 8 * 3600))
                tid = f"cgt-{stamp}-{base36(self.id_rng.getrandbits(31))}"
            if not self.known(tid):
                return tid

    def create(self, body, now):
        """A task made from a validated create body, queued; its outputs,
        should it succeed, are planned now from the request. Returns its id."""
        tid = self.new_id(now)
        rng = random.Random(f"{self.seed}/{self.name}/{tid}")
        if self.cj:
            obj = self.created_cj(body, tid, int(now))
            ext = "jpg" if obj["type"] == 3 else "mp4"
            plan = {str(i): {"ext": ext} for i in range(obj["number_ai_creation"])}
        else:
            obj = self.created_ark(body, tid, int(now), rng)
            plan = {"video": {"ext": "mp4"}}
            if body.get("return_last_frame") is True:
                plan["last_frame"] = {"ext": "png"}
        spec = {"obj": obj, "outputs": {}, "plan": self.parse_outputs(plan, obj, rng)}
        self.specs[tid] = spec
        self._order = None
        if self.conf.get("lifecycle"):
            self.start_life(tid, spec, self.conf["lifecycle"], now)
        return tid

    # -- schedules: queued -> running -> outcome, applied when anything is read

    def start_life(self, tid, spec, sched, t0):
        spec["life"] = {**sched, "t0": t0, "stage": 0}
        self.living.add(tid)
        self.next_change = min(self.next_change, t0 + sched["queued_s"])

    def advance(self, now):
        """Move the tasks on a schedule whose time has come; updated_at is
        the second each change was due."""
        if now < self.next_change:
            return
        nxt = math.inf
        for tid in list(self.living):
            life = (self.specs.get(tid) or {}).get("life")
            if life is None:
                self.living.discard(tid)
                continue
            t1 = life["t0"] + life["queued_s"]
            t2 = t1 + life["running_s"]
            if life["stage"] == 0 and now >= t1:
                self.step(tid, "Generating" if self.cj else "running", t1)
                life["stage"] = 1
            if life["stage"] == 1 and now >= t2:
                outcome = (CJ_OUTCOMES if self.cj else ARK_OUTCOMES)[life["outcome"]]
                self.step(tid, outcome, t2)
                life["stage"] = 2
                self.living.discard(tid)
                continue
            nxt = min(nxt, t1 if life["stage"] == 0 else t2)
        self.next_change = nxt

    def step(self, tid, status, when):
        fields = {self.status_key: status}
        if not self.cj:
            fields["updated_at"] = int(when)
        self.put(tid, fields, keep_life=True)

    def created_ark(self, b, tid, now, rng):
        obj = {"id": tid, "model": b["model"], "status": self.queued_status(),
               "created_at": now, "updated_at": now}
        filled = {**ARK_FILLED, "seed": rng.randrange(1 << 31)}
        if "frames" in b:
            filled.pop("duration")
        for k in ARK_ECHO:
            v = b.get(k)
            if k == "seed" and v == -1:
                v = None
            if v is not None or k in filled:
                obj[k] = v if v is not None else filled[k]
        draft = next((c["draft_task"].get("id") for c in b["content"]
                      if c.get("type") == "draft_task" and isinstance(c.get("draft_task"), dict)),
                     None)
        if draft is not None:
            obj["draft_task_id"] = draft
        return obj

    def created_cj(self, b, tid, now):
        image = b["creation_type"] == 3
        n = int(b.get("number_of_images") or 1) if image else 1
        refs = list(b.get("ref_img_url") or [])
        prompt, ratio = b.get("ref_prompt") or "", b.get("aspect_ratio") or ""
        clarity, quality = b.get("clarity") or 0, b.get("quality_mode") or ""
        return {"id": self.row_no(), "unique_id": tid, "create_time": now,
                "number_ai_creation": n, "type": b["creation_type"],
                "progress_desc": "Queued", "err_msg": "", "aspect_ratio": ratio,
                "output_url": [],
                "photo_info": {"ref_img_url": refs if image else [],
                               "ref_prompt": prompt if image else "",
                               "clarity": clarity if image else 0,
                               "aspect_ratio": ratio if image else "",
                               "quality_mode": quality if image else "",
                               "number_of_images": n if image else 0},
                "motion_info": {"photo_path_url": None if image else
                                (b.get("start_frame") or (refs[0] if refs else None)),
                                "ref_prompt": "" if image else prompt,
                                "clarity": 0 if image else clarity,
                                "quality_mode": "" if image else quality,
                                "style": "" if image else b.get("style") or "",
                                "aspect_ratio": "" if image else ratio,
                                "video_duration": 0 if image else b["video_duration"]},
                "ref_img_url": refs, "model_code": b["model_code"], "model_name": ""}

    def put(self, tid, fields, keep_life=False):
        """Create or update a task; a field given as null is removed. Setting
        the status ends the task's schedule (keep_life: the schedule's own
        steps); a lifecycle starts one now, from queued."""
        fields = dict(fields)
        outputs, renew = fields.pop("outputs", None), fields.pop("renew_urls", False)
        life = fields.pop("lifecycle", KEEP)
        sched = None if life is KEEP else check_life(life, self.cj)
        if sched:
            fields[self.status_key] = self.queued_status()
            gone = ("err_msg",) if self.cj else ("error", "failure_reason", "usage", "content")
            fields.update((k, "" if self.cj else None) for k in gone if k not in fields)
            outputs = {} if outputs is None else outputs
        now = int(time.time())
        spec = self.spec(tid)
        if spec is None:
            status = fields.get(self.status_key) or ("Queued" if self.cj else "queued")
            kind = fields.get("type", 4) if self.cj else fields.get("model", self.conf["models"][0])
            spec = self.build(fields.get(self.time_key, now), tid, status, kind, self.row_no())
        spec = {**spec, "obj": dict(spec["obj"]), "outputs": dict(spec["outputs"])}
        obj = spec["obj"]
        before = obj.get(self.status_key)
        for k, v in fields.items():
            if v is None:
                obj.pop(k, None)
            else:
                obj[k] = v
        if not self.cj and "updated_at" not in fields:
            obj["updated_at"] = now
        status = obj.get(self.status_key)
        rng = random.Random(f"{self.seed}/{self.name}/{tid}/{now}")
        if outputs is not None:
            spec["outputs"] = self.parse_outputs(outputs, obj, rng)
        elif status != before and status in SUCCESS and not spec["outputs"]:
            plan = spec.get("plan")
            spec["outputs"] = dict(plan) if plan else self.default_outputs(rng, obj)
            if not self.cj:
                obj.setdefault("usage", {"completion_tokens": 100000, "total_tokens": 100000})
        if status != before and status in FAILED:
            if self.cj and not obj.get("err_msg"):
                obj["err_msg"] = CJ_FAIL
            elif not self.cj and "error" not in obj and "failure_reason" not in obj:
                obj.update(self.ark_failure(rng))
        if not keep_life and (self.status_key in fields or life is not KEEP):
            spec.pop("life", None)
            self.living.discard(tid)
        self.specs[tid] = spec
        self.deleted.discard(tid)
        self.forgotten.pop(tid, None)
        self._order = None
        if renew or outputs is not None:
            self.issued.pop(tid, None)
        if sched:
            self.start_life(tid, spec, sched, time.time())
        return spec

    def set_output(self, tid, slot, b):
        """Point one output at a real file or a generated size; bumps its
        version (so its bytes and ETag change) unless one is given."""
        spec = self.spec(tid)
        if spec is None:
            return None
        self.specs[tid] = spec  # a generated task is kept whole from now on
        old = spec["outputs"].get(slot) or self.parse_outputs({slot: {}}, spec["obj"])[slot]
        out = dict(old)
        if "name" in b or "ext" in b:
            out["name"] = self.parse_outputs({slot: b}, spec["obj"])[slot]["name"]
        if b.get("path"):
            out.pop("size", None)
            out["path"] = os.path.abspath(b["path"])
        if "size" in b:
            out.pop("path", None)
            out["size"] = int(b["size"])
        out["version"] = int(b.get("version", old.get("version", 0) + 1))
        spec["outputs"] = {**spec["outputs"], slot: out}
        self.issued.pop(tid, None)
        return spec

    def delete(self, tid):
        if self.spec(tid) is None:
            return False
        self.specs.pop(tid, None)
        if tid in self.index:
            self.deleted.add(tid)
        self.issued.pop(tid, None)
        self.living.discard(tid)
        self._order = None
        return True

    def forget(self, tid):
        """Gone for get, list and delete; its media stay servable at the URLs
        already handed out, until they expire."""
        spec = self.spec(tid)
        if spec is None:
            return False
        self.forgotten[tid] = (spec, self.issued.get(tid), self.url_gen)
        self.delete(tid)
        return True

    def media_spec(self, tid):
        """The spec whose media are served: a known task's or a forgotten one's."""
        spec = self.spec(tid)
        if spec is None and tid in self.forgotten:
            spec = self.forgotten[tid][0]
        return spec

    def row(self, tid, spec):
        obj = spec["obj"]
        kind = obj.get("type") if self.cj else obj.get("model")
        return (obj.get(self.time_key) or 0, tid, obj.get(self.status_key), kind)

    def order(self):
        """All rows, newest first (cached until the task set changes)."""
        if self._order is None:
            # Within one second, the task made last comes first.
            rows = [self.row(tid, s) for tid, s in reversed(self.specs.items())]
            rows += [r for r in self.rows if r[1] not in self.specs and r[1] not in self.deleted]
            rows.sort(key=lambda r: r[0], reverse=True)
            self._order = rows
        return self._order

    def visible(self, now):
        """Ark shows only the last visible_days days of tasks."""
        rows, days = self.order(), self.conf.get("visible_days")
        if self.cj or not days:
            return rows
        return rows[:bisect.bisect_right(rows, -(now - days * DAY), key=lambda r: -r[0])]

    def is_visible(self, spec, now):
        days = self.conf.get("visible_days")
        return self.cj or not days or (spec["obj"].get(self.time_key) or 0) >= now - days * DAY


# ---------------------------------------------------------------- server state

class Bucket:
    """Token bucket: qps tokens a second, at most burst saved."""

    def __init__(self, qps, burst, mode, retry_after):
        self.qps, self.burst, self.mode, self.retry_after = qps, burst, mode, retry_after
        self.tokens, self.t = burst, time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.t) * self.qps)
        self.t = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def merge(base, patch):
    """Scenario merge: provider sections merge key by key, values replace."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for k, v in (patch or {}).items():
        if k not in DEFAULTS:
            raise Bad(f"unknown scenario key {k!r}")
        if isinstance(v, dict) and v.get("shape", "plain") not in WILD_SHAPES:
            raise Bad(f"bad shape {v['shape']!r}: one of {sorted(WILD_SHAPES)}")
        if isinstance(v, dict) and "lifecycle" in v:
            v = {**v, "lifecycle": check_life(v["lifecycle"], k == "chanjing")}
        out[k] = {**out[k], **v} if isinstance(out.get(k), dict) else v
    return out


class State:
    """Everything the server knows; one lock guards it all."""

    def __init__(self, scenario):
        self.lock = threading.RLock()
        self.port = 0
        self.counters, self.log = Counter(), deque(maxlen=200_000)
        self.creates = deque(maxlen=100_000)
        self.faults, self.fault_seq, self.buckets = [], 0, {}
        self.registry, self.sha_cache = {}, {}
        self.load(scenario)

    def load(self, scenario):
        self.scenario = merge(DEFAULTS, scenario)
        self.seed = int(self.scenario["seed"])
        self.secret = hashlib.sha256(f"fakeapi-secret/{self.seed}".encode()).digest()
        self.rng = random.Random(self.seed)
        self.epoch = int(self.scenario["epoch"] or time.time() // DAY * DAY)
        self.providers = {n: Provider(n, self.scenario[n], self.seed, self.epoch) for n in BASES}
        self.registry.clear()

    def patch(self, patch):
        new = merge(self.scenario, patch)
        if (new["seed"], new["epoch"]) != (self.scenario["seed"], self.scenario["epoch"]):
            return self.load(new)
        for n in BASES:
            if any(new[n].get(k) != self.scenario[n].get(k) for k in GEN_KEYS):
                self.providers[n] = Provider(n, new[n], self.seed, self.epoch)
            else:
                self.providers[n].conf = new[n]
        self.scenario = new

    def advance(self):
        """Tasks on a schedule take the steps now due (under the lock)."""
        now = time.time()
        for prov in self.providers.values():
            prov.advance(now)

    def provider(self, name):
        if name not in self.providers:
            raise Bad(f"unknown provider {name!r}")
        return self.providers[name]

    # -- URLs and media

    def sign(self, key, name, expires, gen):
        msg = f"{key}/{name}:{expires}:{gen}".encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()[:32]

    def media_url(self, prov, tid, out, expires, gen=None):
        key = media_key(prov.name, tid)
        self.registry[key] = (prov.name, tid)
        route = "media-redirect" if prov.conf["redirect"] else "media"
        sig = self.sign(key, out["name"], expires, prov.url_gen if gen is None else gen)
        return (f"http://127.0.0.1:{self.port}/{route}/{key}/{quote(out['name'])}"
                f"?expires={expires}&sig={sig}")

    def render(self, prov, tid, spec, now, item=False):
        """The task object as the API answers it, with signed output URLs;
        a URL is renewed only once it has expired, as Ark does."""
        obj, outs = dict(spec["obj"]), spec["outputs"]
        if outs:
            exp = prov.issued.get(tid)
            if exp is None or exp <= now:
                exp = prov.issued[tid] = now + int(prov.conf["url_ttl"])
            urls = {slot: self.media_url(prov, tid, out, exp) for slot, out in outs.items()}
            if prov.cj:
                obj["output_url"] = [urls[s] for s in sorted(urls, key=lambda s: (len(s), s))]
            else:
                content = dict(obj.get("content") or {})
                content.update((f"{s}_url", u) for s, u in urls.items())
                obj["content"] = content
        if prov.cj:
            return ordered(obj, CJ_ORDER)
        if item and prov.conf["slim_items"]:
            return {"id": obj.get("id"), "model": obj.get("model"), "status": obj.get("status"),
                    "content": {"video_url": (obj.get("content") or {}).get("video_url", "")},
                    "usage": obj.get("usage") or {"completion_tokens": 0, "total_tokens": 0},
                    "created_at": obj.get("created_at"), "updated_at": obj.get("updated_at")}
        return ordered(obj, ARK_ORDER)

    def source(self, prov, tid, spec, slot):
        out = spec["outputs"][slot]
        if "path" in out:
            try:
                s = os.stat(out["path"])
            except OSError:
                return None
            return Source(s.st_size, f'"{s.st_mtime_ns:x}-{s.st_size:x}"', s.st_mtime,
                          partial(file_chunks, out["path"]), None, out["path"])
        gen = f"{self.seed}/{prov.name}/{tid}/{slot}/{out.get('version', 0)}"
        etag = '"%s"' % hashlib.sha256(f"{gen}:{out['size']}".encode()).hexdigest()[:24]
        obj = spec["obj"]
        mtime = obj.get("updated_at") or obj.get(prov.time_key) or self.epoch
        return Source(out["size"], etag, mtime, partial(gen_chunks, gen), gen, None)

    # -- requests: counting, logging, faults, throttling

    def arrive(self, req):
        ep = req.route.endpoint
        with self.lock:
            self.counters[ep] += 1
            if ep.startswith("media."):
                self.counters[f"{ep}.{unquote(req.tail)}"] += 1
                return None
            headers = {h: v for h in LOGGED_HEADERS if (v := req.headers.get(h)) is not None}
            entry = {"t": time.monotonic(), "endpoint": ep, "method": req.method,
                     "path": req.path, "headers": headers, "body": None, "status": None,
                     "code": None, "fault": None, "throttled": False}
            self.log.append(entry)
            return entry

    def record_create(self, req, entry, fault, body):
        """A create request's body (bytes, None if never read) for /_ctl/creates."""
        if not req.route.endpoint.endswith(".create"):
            return
        with self.lock:
            req.rec = {"t": entry["t"], "provider": req.provider,
                       "body": None if body is None else body.decode("utf-8", "surrogateescape"),
                       "status": None, "id": None, "fault": fault}
            self.creates.append(req.rec)

    def made(self, req, prov, tid):
        """A create made task tid: counted, and its id recorded at once."""
        self.counters[f"{prov.name}.created"] += 1
        if req.rec is not None:
            req.rec["id"] = tid

    def answered(self, req, entry, reply, sent, throttled):
        ep, c = req.route.endpoint, self.counters
        with self.lock:
            if req.rec is not None:
                req.rec["status"] = reply and reply.status
            if reply is not None:
                c[f"{ep}.status.{reply.status}"] += 1
                if reply.code is not None:
                    c[f"{ep}.code.{reply.code}"] += 1
            if throttled:
                c[f"{ep}.throttled"] += 1
                c[f"{req.provider}.throttled"] += 1
            if ep.startswith("media."):
                c["media.bytes"] += sent
                c[f"media.bytes.{unquote(req.tail)}"] += sent
            if entry is not None:
                entry.update(status=reply and reply.status, code=reply and reply.code,
                             throttled=throttled)

    def make_rule(self, r):
        if not isinstance(r, dict) or r.get("kind") not in FAULT_KINDS:
            raise Bad(f"bad fault rule {r!r}: kind must be one of {sorted(FAULT_KINDS)}")
        if r["kind"] == "wrong_shape" and r.get("variant", "missing_fields") not in SHAPES:
            raise Bad(f"bad wrong_shape variant {r.get('variant')!r}")
        self.fault_seq += 1
        rule = {"endpoint": "*", **r, "id": self.fault_seq, "hits": 0}
        rule["remaining"] = int(rule.pop("count")) if "count" in rule else None
        return rule

    def take_fault(self, req, entry):
        """The first live rule matching this request; counted at once, as
        a stalled request may never be answered."""
        ep, path = req.route.endpoint, req.path
        with self.lock:
            for rule in self.faults:
                want = rule["endpoint"]
                if not (want in ("*", ep) or ep.startswith(want + ".")):
                    continue
                if rule.get("match", "") not in unquote(path) or rule["remaining"] == 0:
                    continue
                if "prob" in rule and self.rng.random() >= float(rule["prob"]):
                    continue
                if rule["remaining"] is not None:
                    rule["remaining"] -= 1
                rule["hits"] += 1
                self.counters[f"{ep}.fault.{rule['kind']}"] += 1
                if entry is not None:
                    entry["fault"] = rule["kind"]
                return dict(rule)
        return None

    def throttle(self, req):
        with self.lock:
            bucket = self.buckets.get(req.provider)
            if bucket is None or bucket.take():
                return None
        if bucket.mode == "40001":
            return cj_reply(40001)
        extra = [] if bucket.retry_after is None else [("Retry-After", str(bucket.retry_after))]
        return ark_error(429, "Your account has exceeded the request rate limit.", headers=extra)


# ---------------------------------------------------------------- API handlers

def int_arg(req, name, default, lo, hi):
    v = req.arg(name)
    if v is None:
        return default
    try:
        n = int(v)
    except ValueError:
        return None
    return n if lo <= n <= hi else None


def ark_gate(st, req, offered=None):
    """The provider, and a refusal: not offered (RongCloud's list and
    create: the scenario key offered names the status), bad key."""
    prov = st.providers[req.provider]
    if offered and prov.conf.get(offered):
        return prov, ark_error(int(prov.conf[offered]),
                               "The requested resource is not supported on this endpoint.")
    if req.headers.get("Authorization", "") != f"Bearer {prov.conf['key']}":
        return prov, ark_error(401, "The API key in the request is missing or invalid.")
    return prov, None


def ark_list(st, req):
    prov, refused = ark_gate(st, req, "list_status")
    if refused:
        return refused
    now = int(time.time())
    page = int_arg(req, "page_num", 1, 1, 1 << 30)
    size = int_arg(req, "page_size", 20, 1, 500)
    if page is None or size is None:
        bad = "page_num" if page is None else "page_size"
        return ark_error(400, f"The parameter `{bad}` specified in the request is not valid.",
                         param=bad)
    status, model = req.arg("filter.status"), req.arg("filter.model")
    allowed = (set(prov.conf["mix"]) | {"queued", "running", "succeeded", "failed",
                                        "cancelled"}) - {"expired"}
    if status is not None and status not in allowed:
        return ark_error(400, "The parameter `filter.status` specified in the request is not "
                         "valid.", param="filter.status")
    ins = prov.conf.get("insert_on_page")
    if ins and page == int(ins.get("page", 0)):
        # tasks made just now, at the head: every item moves down meanwhile
        for _ in range(int(ins.get("n", 1))):
            prov.create({"model": prov.conf["models"][0],
                         "content": [{"type": "text", "text": "inserted"}]}, time.time())
    rows = prov.visible(now)
    if status:
        rows = [r for r in rows if r[2] == status]
    if "filter.task_ids" in req.query:
        wanted = set(req.query["filter.task_ids"])
        rows = [r for r in rows if r[1] in wanted]
    if model:
        rows = [r for r in rows if r[3] == model]
    items = [st.render(prov, r[1], prov.spec(r[1]), now, item=True)
             for r in rows[(page - 1) * size:page * size]]
    return json_reply(wild(prov, {"total": len(rows), "items": items}, "list"))


def ark_task(st, req, listing=False):
    """(provider, id, spec, refusal) for a request naming one task."""
    prov, refused = ark_gate(st, req, "list_status" if listing else None)
    tid = unquote(req.tail, errors="surrogateescape")
    spec = None if refused else prov.spec(tid)
    if not refused and (spec is None or not prov.is_visible(spec, int(time.time()))):
        refused = ark_error(404, "The specified task is not found.")
    return prov, tid, spec, refused


def ark_get(st, req):
    prov, tid, spec, refused = ark_task(st, req)
    return refused or json_reply(wild(prov, st.render(prov, tid, spec, int(time.time())), "get"))


def ark_bad(param, missing=False):
    what = ("The request failed because it is missing one or multiple required parameters."
            if missing else f"The parameter `{param}` specified in the request is not valid.")
    return ark_error(400, what, "InvalidParameter", param)


def ark_create(st, req):
    """A JSON object with a model and a non-empty content list makes a
    queued task; the relay's answer adds its status."""
    prov, refused = ark_gate(st, req, "create_status")
    if refused:
        return refused
    b = req.json()
    if not isinstance(b, dict):
        return ark_error(400, "The request body is not a valid JSON object.", "InvalidParameter")
    model, content = b.get("model"), b.get("content")
    if not isinstance(model, str) or not model:
        return ark_bad("model", "model" not in b)
    if (not isinstance(content, list) or not content
            or not all(isinstance(c, dict) and isinstance(c.get("type"), str) for c in content)):
        return ark_bad("content", "content" not in b)
    tid = prov.create(b, time.time())
    st.made(req, prov, tid)
    answer = {"id": tid}
    if prov.conf.get("create_answer_status"):
        answer["status"] = prov.queued_status()
    return json_reply(answer)


def ark_delete(st, req):
    """queued (submitted) -> cancelled; succeeded, failed, expired -> record
    gone; running, cancelled and any other status -> refused."""
    prov, tid, spec, refused = ark_task(st, req, listing=True)
    if refused:
        return refused
    status = spec["obj"].get("status")
    if status in ("queued", "submitted"):
        prov.put(tid, {"status": "cancelled"})
        st.counters[f"{prov.name}.cancelled"] += 1
    elif status in ("succeeded", "failed", "expired"):
        prov.delete(tid)
        st.counters[f"{prov.name}.deleted"] += 1
    else:
        return ark_error(int(prov.conf.get("delete_refused_status") or 409),
                         f"A task in status {status} cannot be cancelled or deleted.",
                         code="OperationDenied.InvalidStatus")
    return json_reply({})


def cj_auth(prov, req):
    exp = prov.tokens.get(req.headers.get("access_token") or "")
    if exp is None:
        return cj_reply(10400)
    return cj_reply(10401) if time.time() >= exp else None


def cj_token(st, req):
    prov, b = st.providers["chanjing"], req.json()
    if not isinstance(b, dict):
        return cj_reply(400)
    if (b.get("app_id"), b.get("secret_key")) != (prov.conf["app_id"], prov.conf["secret_key"]):
        return cj_reply(int(prov.conf["token_fail_code"]), msg="app_id 或 secret_key 错误")
    token = uuid.uuid4().hex
    expire = int(time.time()) + int(prov.conf["token_ttl"])
    if prov.conf["single_token"]:
        prov.tokens.clear()
    prov.tokens[token] = expire
    shown = int(time.time()) - 3600 if prov.conf["token_expire_in_past"] else expire
    return cj_reply(0, wild(prov, {"access_token": token, "expire_in": shown}, "token"))


def cj_list(st, req):
    prov, b = st.providers["chanjing"], req.json()
    denied = cj_auth(prov, req)
    if denied:
        return denied
    if not isinstance(b, dict):
        return cj_reply(400)
    kind, page, size = b.get("type"), b.get("page"), b.get("page_size")
    ids = b.get("unique_ids") or []
    if (kind not in (3, 4) or isinstance(kind, bool) or type(page) is not int
            or type(size) is not int or page < 1 or not 1 <= size <= 50
            or not isinstance(ids, list) or len(ids) > 50):
        return cj_reply(40000, msg="参数错误: type, page, page_size (1..50), unique_ids (<= 50)")
    rows = [r for r in prov.order() if r[3] == kind]
    if ids:
        wanted = set(ids)
        rows = [r for r in rows if r[1] in wanted]
    if b.get("is_success"):
        rows = [r for r in rows if r[2] == "Success"]
    now, total = int(time.time()), len(rows)
    items = [st.render(prov, r[1], prov.spec(r[1]), now) for r in rows[(page - 1) * size:page * size]]
    return cj_reply(0, wild(prov, {"list": items, "total": total,
                                   "page_info": {"page": page, "size": size, "total_count": total,
                                                 "total_page": (total + size - 1) // size}},
                            "list"))


def cj_get(st, req):
    prov = st.providers["chanjing"]
    denied = cj_auth(prov, req)
    if denied:
        return denied
    tid = req.arg("unique_id")
    if not tid:
        return cj_reply(40000, msg="参数错误: unique_id")
    spec = prov.spec(tid)
    if spec is None:
        return cj_reply(40000) if str(prov.conf["unknown_get"]) == "40000" else cj_reply(0, None)
    return cj_reply(0, wild(prov, st.render(prov, tid, spec, int(time.time())), "get"))


def cj_create_problem(b):
    """What is wrong with a task/submit body, or None."""
    def is_int(v):
        return type(v) is int
    kind = b.get("creation_type")
    if not is_int(kind) or kind not in (3, 4):
        return "creation_type (3 or 4)"
    if not isinstance(b.get("model_code"), str) or not b["model_code"]:
        return "model_code"
    if kind == 4 and (not is_int(b.get("video_duration")) or b["video_duration"] <= 0):
        return "video_duration"
    n = b.get("number_of_images")
    if n is not None and (not is_int(n) or not 1 <= n <= 4):
        return "number_of_images (1..4)"
    refs = b.get("ref_img_url")
    if refs is not None and (not isinstance(refs, list) or
                             not all(isinstance(u, str) for u in refs)):
        return "ref_img_url"
    if b.get("ref_prompt") is not None and not isinstance(b["ref_prompt"], str):
        return "ref_prompt"
    return None


def cj_create(st, req):
    prov = st.providers["chanjing"]
    denied = cj_auth(prov, req)
    if denied:
        return denied
    b = req.json()
    if not isinstance(b, dict):
        return cj_reply(400)
    problem = cj_create_problem(b)
    if problem:
        return cj_reply(40000, msg=f"参数错误: {problem}")
    tid = prov.create(b, time.time())
    st.made(req, prov, tid)
    return cj_reply(0, tid)


def api_unknown(st, req):
    return ark_error(404, f"No route for {req.method} {req.path.partition('?')[0]}.")


def media_target(st, req):
    """(error reply, None) or (None, (provider, id, spec, slot)) for a media URL."""
    key, _, name = req.tail.partition("/")
    name = unquote(name)
    hit = st.registry.get(key)
    if hit is None or hit[0] not in st.providers:
        return text_reply(404, "NoSuchKey"), None
    prov, tid = st.providers[hit[0]], hit[1]
    try:
        expires = int(req.arg("expires", ""))
    except ValueError:
        expires = -1
    if not hmac.compare_digest(req.arg("sig", ""), st.sign(key, name, expires, prov.url_gen)):
        return text_reply(403, "SignatureDoesNotMatch"), None
    if time.time() > expires:
        return text_reply(403, "AccessDenied: Request has expired"), None
    spec = prov.media_spec(tid)
    slot = next((s for s, o in spec["outputs"].items() if o["name"] == name), None) if spec else None
    if slot is None:
        return text_reply(404, "NoSuchKey"), None
    return None, (prov, tid, spec, slot)


def media_redirect(st, req):
    err, _ = media_target(st, req)
    query = req.path.partition("?")[2]
    location = f"http://127.0.0.1:{st.port}/media/{req.tail}?{query}"
    return err or Reply(302, b"", [("Location", location)])


def media(st, req):
    err, target = media_target(st, req)
    src = target and st.source(*target)
    if err or src is None:
        return err or text_reply(404, "NoSuchKey")
    size = src.size
    lastmod = formatdate(src.mtime, usegmt=True)
    ctype = mimetypes.guess_type(unquote(req.tail))[0] or "application/octet-stream"
    headers = [("Content-Type", ctype), ("Accept-Ranges", "bytes"), ("ETag", src.etag),
               ("Last-Modified", lastmod)]
    span, if_range = req.headers.get("Range"), req.headers.get("If-Range")
    span = parse_range(span, size) if span and if_range in (None, src.etag, lastmod) else None
    if span == "unsat":
        return Reply(416, b"", headers + [("Content-Range", f"bytes */{size}")])
    status, (first, last) = (200, (0, size - 1)) if span is None else (206, span)
    if span is not None:
        headers.append(("Content-Range", f"bytes {first}-{last}/{size}"))
    return Reply(status, headers=headers, length=last - first + 1,
                 chunks=lambda: src.chunks(first, last + 1))


# ---------------------------------------------------------------- control handlers

def ok(obj):
    return json_reply(obj)


def ctl_counters_reset(st, req):
    st.counters.clear()
    st.log.clear()
    st.creates.clear()
    return ok({})


def ctl_creates(st, req):
    """Create requests, oldest first; bodies as received: the JSON escapes
    (ensure_ascii) carry bytes that are not UTF-8 as lone surrogates."""
    prov, since = req.arg("provider"), float(req.arg("since", "-inf"))
    if prov is not None:
        st.provider(prov)
    got = [dict(e) for e in st.creates
           if e["t"] > since and (prov is None or e["provider"] == prov)]
    body = json.dumps({"creates": got}).encode()
    return Reply(200, body, [("Content-Type", "application/json")])


def ctl_log(st, req):
    since, ep = float(req.arg("since", "-inf")), req.arg("endpoint")
    entries = [e for e in st.log if e["t"] > since and
               (ep is None or e["endpoint"] == ep or e["endpoint"].startswith(ep + "."))]
    return ok({"now": time.monotonic(), "entries": entries})


def ctl_faults_set(st, req):
    """POST: [rule, ...], one rule, or {"rules": [...], "append": bool}. DELETE: clear."""
    b = req.json() if req.method == "POST" else []
    append = isinstance(b, dict) and "rules" in b and b.get("append", False)
    rules = b["rules"] if isinstance(b, dict) and "rules" in b else b
    rules = rules if isinstance(rules, list) else [rules]
    new = [st.make_rule(r) for r in rules]
    st.faults = (st.faults if append else []) + new
    return ok({"rules": st.faults})


def ctl_ratelimit(st, req):
    return ok({name: vars(b) for name, b in st.buckets.items()})


def ctl_ratelimit_set(st, req):
    b = req.obj()
    prov = st.provider(b.get("provider"))
    qps = float(b.get("qps", 0))
    if qps <= 0:
        st.buckets.pop(prov.name, None)
    else:
        mode = str(b.get("mode", "40001" if prov.cj else "429"))
        burst = float(b.get("burst", max(1.0, qps)))
        if mode not in ("429", "40001") or burst < 1:
            raise Bad("mode must be 429 or 40001, burst at least 1")
        st.buckets[prov.name] = Bucket(qps, burst, mode, b.get("retry_after"))
    return ctl_ratelimit(st, req)


def ctl_task_put(st, req):
    b = req.obj()
    prov, tid = st.provider(b.pop("provider", None)), b.pop("id", None)
    if not isinstance(tid, str):
        raise Bad("id (a string) is required")
    prov.put(tid, b)
    st.advance()  # a schedule of 0 s is done at once
    return ok(st.render(prov, tid, prov.spec(tid), int(time.time())))


def ctl_task_delete(st, req):
    prov = st.provider(req.arg("provider"))
    if not prov.delete(req.arg("id", "")):
        return json_reply({"error": "no such task"}, 404)
    return ok({})


def ctl_tasks(st, req):
    prov, tid, now = st.provider(req.arg("provider")), req.arg("id"), int(time.time())
    item = req.arg("form") == "item"
    if tid is not None:
        spec = prov.spec(tid)
        if spec is None:
            return json_reply({"error": "no such task"}, 404)
        return ok(st.render(prov, tid, spec, now, item))
    rows = prov.visible(now)[:int(req.arg("limit", 1 << 30))]
    return ok({"tasks": [st.render(prov, r[1], prov.spec(r[1]), now, item) for r in rows]})


def ctl_forget(st, req):
    b = req.obj()
    prov, tid = st.provider(b.get("provider")), b.get("id")
    if not isinstance(tid, str):
        raise Bad("id (a string) is required")
    if not prov.forget(tid):
        return json_reply({"error": "no such task"}, 404)
    return ok({})


def output_slot(prov, value):
    return str(value if value is not None else ("0" if prov.cj else "video"))


def media_info(st, prov, tid, slot):
    """What a test needs to check one output: size, URL, key/name, source.
    A forgotten task's URL is the one last handed out (None: none was)."""
    spec = prov.spec(tid)
    if spec is None and tid in prov.forgotten:
        spec, expires, gen = prov.forgotten[tid]
    else:
        expires = gen = None
    if spec is None or slot not in spec["outputs"]:
        raise Bad(f"no output {slot!r} for task {tid!r}")
    src = st.source(prov, tid, spec, slot)
    if src is None:
        raise Bad(f"file of output {slot!r} is missing")
    if tid not in prov.forgotten:
        st.render(prov, tid, spec, int(time.time()))  # issues the task's current URLs
        expires = prov.issued[tid]
    out = spec["outputs"][slot]
    url = None if expires is None else st.media_url(prov, tid, out, expires, gen)
    return {"size": src.size, "etag": src.etag, "key": media_key(prov.name, tid),
            "name": out["name"], "url": url, "gen": src.gen, "path": src.path}


def ctl_media(st, req):
    b = req.obj()
    prov, tid = st.provider(b.get("provider")), b.get("id")
    slot = output_slot(prov, b.get("output"))
    if prov.set_output(tid, slot, b) is None:
        return json_reply({"error": "no such task"}, 404)
    return ok(media_info(st, prov, tid, slot))


def ctl_url_ttl(st, req):
    b = req.obj()
    prov = st.provider(b.get("provider"))
    prov.conf["url_ttl"] = int(b["seconds"])
    prov.issued.clear()
    if b.get("expire_now"):
        prov.url_gen += 1
    return ok({"provider": prov.name, "url_ttl": prov.conf["url_ttl"]})


def ctl_lifecycle(st, req):
    """POST: the schedule tasks created from now on follow; DELETE: none."""
    if req.method == "DELETE":
        prov, sched = st.provider(req.arg("provider")), None
    else:
        b = req.obj()
        prov = st.provider(b.pop("provider", None))
        sched = check_life(b, prov.cj)
    prov.conf["lifecycle"] = sched
    return ok({"provider": prov.name, "lifecycle": sched})


def ctl_invalidate_token(st, req):
    prov = st.providers["chanjing"]
    for token in prov.tokens:
        prov.tokens[token] = 0
    return ok({"invalidated": len(prov.tokens)})


def ctl_expected(st, req):
    """Size and SHA-256 of an output; hashing runs outside the lock."""
    with st.lock:
        st.advance()
        prov = st.provider(req.arg("provider"))
        info = media_info(st, prov, req.arg("id", ""), output_slot(prov, req.arg("output")))
        ckey = f"{info['etag']}:{info['path']}"
        cached = st.sha_cache.get(ckey)
    if req.arg("hash", "1") != "0":
        if cached is None:
            chunks = (gen_chunks(info["gen"], 0, info["size"]) if info["gen"]
                      else file_chunks(info["path"], 0, info["size"]))
            cached = sha256_of(chunks)
            with st.lock:
                st.sha_cache[ckey] = cached
        info["sha256"] = cached
    return ok(info)


ctl_expected.unlocked = True


def ctl_scenario(st, req):
    return ok({**st.scenario, "epoch": st.epoch})


def ctl_scenario_set(st, req):
    (st.patch if req.method == "PATCH" else st.load)(req.obj())
    return ctl_scenario(st, req)


def ctl_unknown(st, req):
    return json_reply({"error": f"no control endpoint {req.method} {req.path}"}, 404)


# ---------------------------------------------------------------- the endpoint table

Route = namedtuple("Route", "method path endpoint handler")
ROUTES = [Route(*r) for r in [
    # method, path (a prefix when it ends in "/"), endpoint (None: control), handler
    *[r for p in ARK_FAMILY for r in (
        ("GET", BASES[p] + TASKS, f"{p}.list", ark_list),
        ("POST", BASES[p] + TASKS, f"{p}.create", ark_create),
        ("GET", BASES[p] + TASKS + "/", f"{p}.get", ark_get),
        ("DELETE", BASES[p] + TASKS + "/", f"{p}.delete", ark_delete))],
    ("POST", "/chanjing/open/v1/access_token", "chanjing.token", cj_token),
    ("POST", "/chanjing/open/v1/ai_creation/task/page", "chanjing.list", cj_list),
    ("POST", "/chanjing/open/v1/ai_creation/task/submit", "chanjing.create", cj_create),
    ("GET", "/chanjing/open/v1/ai_creation/task", "chanjing.get", cj_get),
    ("GET", "/media/", "media.get", media),
    ("HEAD", "/media/", "media.head", media),
    ("GET", "/media-redirect/", "media.redirect", media_redirect),
    ("HEAD", "/media-redirect/", "media.redirect", media_redirect),
    ("GET", "/_ctl/health", None,
     lambda st, req: ok({"ok": True, "port": st.port, "pid": os.getpid(), "seed": st.seed})),
    ("GET", "/_ctl/counters", None, lambda st, req: ok(dict(st.counters))),
    ("POST", "/_ctl/counters/reset", None, ctl_counters_reset),
    ("GET", "/_ctl/log", None, ctl_log),
    ("GET", "/_ctl/creates", None, ctl_creates),
    ("GET", "/_ctl/faults", None, lambda st, req: ok({"rules": st.faults})),
    ("POST", "/_ctl/faults", None, ctl_faults_set),
    ("DELETE", "/_ctl/faults", None, ctl_faults_set),
    ("GET", "/_ctl/ratelimit", None, ctl_ratelimit),
    ("POST", "/_ctl/ratelimit", None, ctl_ratelimit_set),
    ("POST", "/_ctl/task", None, ctl_task_put),
    ("DELETE", "/_ctl/task", None, ctl_task_delete),
    ("POST", "/_ctl/forget", None, ctl_forget),
    ("GET", "/_ctl/tasks", None, ctl_tasks),
    ("POST", "/_ctl/media", None, ctl_media),
    ("POST", "/_ctl/url_ttl", None, ctl_url_ttl),
    ("POST", "/_ctl/lifecycle", None, ctl_lifecycle),
    ("DELETE", "/_ctl/lifecycle", None, ctl_lifecycle),
    ("POST", "/_ctl/chanjing/invalidate_token", None, ctl_invalidate_token),
    ("GET", "/_ctl/expected", None, ctl_expected),
    ("GET", "/_ctl/scenario", None, ctl_scenario),
    ("POST", "/_ctl/scenario", None, ctl_scenario_set),
    ("PATCH", "/_ctl/scenario", None, ctl_scenario_set),
]]


def find_route(method, path):
    """The route and the path's tail after a prefix route."""
    for r in ROUTES:
        if r.method == method and r.path.endswith("/") and path.startswith(r.path):
            return r, path[len(r.path):]
        if r.method == method and path == r.path:
            return r, ""
    if path.startswith("/_ctl/"):
        return Route(method, path, None, ctl_unknown), ""
    return Route(method, path, "unknown", api_unknown), ""


class Req:
    def __init__(self, method, path, route, tail, headers):
        self.method, self.path, self.route, self.tail, self.headers = (
            method, path, route, tail, headers)
        self.query = parse_qs(path.partition("?")[2], keep_blank_values=True)
        prefix = (route.endpoint or "").split(".")[0]
        self.provider = prefix if prefix in BASES else None
        self.body = b""
        self.rec = None  # the /_ctl/creates record of a create request

    def arg(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default

    def json(self):
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def obj(self):
        b = self.json()
        if not isinstance(b, dict):
            raise Bad("a JSON object is expected")
        return b


def run_handler(st, req):
    fn = req.route.handler
    if getattr(fn, "unlocked", False):
        return fn(st, req)
    with st.lock:
        st.advance()
        return fn(st, req)


def fault_reply(st, rule, req):
    """The answer a fault puts in place of the real one, or None."""
    kind, is_media = rule["kind"], req.route.endpoint.startswith("media.")
    json_type = [("Content-Type", "application/json; charset=utf-8")]
    if kind == "http":
        status = int(rule.get("status", 500))
        extra = [] if rule.get("retry_after") is None else [("Retry-After", str(rule["retry_after"]))]
        if is_media:
            return text_reply(status, f"injected fault {status}", extra)
        return ark_error(status, rule.get("message", "Injected fault."), rule.get("code"),
                         headers=extra)
    if kind == "code":
        return cj_reply(int(rule.get("code", 50000)))
    if kind == "malformed":
        return Reply(200, str(rule.get("body", MALFORMED)).encode(), json_type)
    if kind == "empty":
        return Reply(200, b"", json_type)
    if kind == "huge":
        size = max(64, int(rule.get("size", 100 << 20)))
        return Reply(200, headers=json_type, length=size, chunks=lambda: huge_chunks(size))
    if kind == "redirect_loop":
        return Reply(302, b"", [("Location", f"http://127.0.0.1:{st.port}{req.path}")])
    return None


# ---------------------------------------------------------------- HTTP plumbing

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 300  # an idle keep-alive connection is dropped after this

    def log_message(self, *args):
        pass

    def do_GET(self):
        """Every method goes the same way: the route table decides."""
        self.dispatch()

    do_HEAD = do_POST = do_DELETE = do_PATCH = do_PUT = do_GET

    def dispatch(self):
        st, method = self.server.state, self.command
        route, tail = find_route(method, self.path.partition("?")[0])
        req = Req(method, self.path, route, tail, self.headers)
        self.sent = 0
        try:
            if route.endpoint is None:
                self.serve_control(st, req)
            else:
                self.serve_api(st, req)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            traceback.print_exc()
            self.close_connection = True

    def serve_control(self, st, req):
        req.body = self.read_body()
        try:
            reply = run_handler(st, req)
        except (Bad, KeyError, ValueError, TypeError) as e:
            reply = json_reply({"error": f"{type(e).__name__}: {e}"}, 400)
        self.send(reply, req.method == "HEAD")

    def serve_api(self, st, req):
        """Count, log, then a fault, the rate limit, or the real answer."""
        entry = st.arrive(req)
        rule = st.take_fault(req, entry)
        kind = rule and rule["kind"]
        reply, throttled = None, False
        try:
            if kind == "down":
                st.record_create(req, entry, kind, None)
                return self.hangup()
            req.body = self.read_body()
            if entry is not None and req.body:
                body = req.json()
                entry["body"] = req.body.decode("utf-8", "replace") if body is None else body
            st.record_create(req, entry, kind, req.body)
            mid_body = kind == "stall" and rule.get("after_bytes") is not None
            if kind in ("delay", "stall") and not mid_body:
                time.sleep(float(rule.get("seconds", 1)))
            if kind in ("stall", "reset") and not mid_body:
                return self.hangup(rst=kind == "reset")
            after = kind in AFTER_KINDS or (kind in REPLACING and bool(rule.get("after_create")))
            reply = fault_reply(st, rule, req) if rule and not after else None
            if reply is None:
                reply = st.throttle(req)
                throttled = reply is not None
            if reply is None:
                reply = run_handler(st, req)
                if kind == "wrong_shape" and reply.obj is not None:
                    variant = rule.get("variant", "missing_fields")
                    shaped = [reply.obj] if variant == "top_array" else reshape(reply.obj, variant)
                    reply = json_reply(shaped, reply.status, code=reply.code)
            if kind in AFTER_KINDS:
                reply = None  # carried out, never answered
                if kind == "stall_after_create":
                    time.sleep(float(rule.get("seconds", 1)))
                return self.hangup(rst=kind == "reset_after_create")
            if after:
                reply = fault_reply(st, rule, req)
            limit, pause = None, 0.0
            if kind == "truncate":
                limit = int(rule.get("bytes", reply.length // 2))
            elif mid_body:
                limit, pause = int(rule["after_bytes"]), float(rule.get("seconds", 1))
            self.send(reply, req.method == "HEAD", limit, pause)
        finally:
            st.answered(req, entry, reply, self.sent, throttled)

    def read_body(self):
        """The request body (Content-Length only: curl sends no chunked POSTs)."""
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send(self, reply, head=False, limit=None, pause=0.0):
        """Write the answer; with limit, stop after that many body bytes,
        wait pause seconds, and close (the truncate and stall faults)."""
        self.send_response(reply.status)
        for k, v in reply.headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(reply.length))
        self.end_headers()
        if not head:
            for piece in reply.iter():
                if limit is not None:
                    piece = piece[:max(0, limit - self.sent)]
                self.wfile.write(piece)
                self.sent += len(piece)
                if limit is not None and self.sent >= limit:
                    break
        if limit is not None:
            time.sleep(pause)
            self.hangup()

    def hangup(self, rst=False):
        """Close now: FIN, or with rst an abortive close (SO_LINGER 0)."""
        self.close_connection = True
        try:
            if rst:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()  # the fd goes when rfile closes, with a RST
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main(argv=None):
    ap = argparse.ArgumentParser(description="fake provider API server for aifs tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--scenario")
    ap.add_argument("--seed", type=int)
    args = ap.parse_args(argv)
    scenario = {}
    if args.scenario:
        with open(args.scenario, encoding="utf-8") as f:
            scenario = json.load(f)
    if args.seed is not None:
        scenario["seed"] = args.seed
    server = Server(("127.0.0.1", args.port), Handler)
    server.state = State(scenario)
    server.state.port = port = server.server_address[1]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, name="serve", daemon=True).start()
    if args.port_file:
        tmp = f"{args.port_file}.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"PORT {port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
