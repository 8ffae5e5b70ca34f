"""fakectl.py: start the fake provider API (fakeapi.py) and drive it.

    from fakectl import Fake
    with Fake(scenario={"ark": {"count": 100}}) as fake:
        conf = fake.aifs_conf()                 # INI text for aifs.conf
        fake.faults({"endpoint": "ark.list", "kind": "http", "status": 503, "count": 2})
        ...
        assert fake.counters()["ark.list"] == 3

The server runs as a child process, known by its pid; stop() ends that pid
only. Every control endpoint (README.md) has a method here.
"""

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "fakeapi.py")
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import fakeapi  # noqa: E402  (the byte generator, shared so tests agree with the server)

BASES = fakeapi.BASES
# Straight to 127.0.0.1, whatever http_proxy says.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class FakeError(Exception):
    """A control call failed, or the server would not start."""


class Fake:
    def __init__(self, scenario=None, seed=None, port=0, stderr=None):
        self.scenario_init, self.seed, self.port_arg = scenario, seed, port
        self.stderr = stderr  # None: the server's stderr is ours
        self.proc = self.pid = self.port = self.url = self.tmp = None

    # -- life cycle

    def start(self, timeout=10.0):
        """Start the server and wait (at most timeout s) until it answers."""
        self.tmp = tempfile.mkdtemp(prefix="fakeapi-")
        port_file = os.path.join(self.tmp, "port")
        args = [sys.executable, SERVER, "--port", str(self.port_arg), "--port-file", port_file]
        if self.scenario_init is not None:
            path = os.path.join(self.tmp, "scenario.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(self.scenario_init, f)
            args += ["--scenario", path]
        if self.seed is not None:
            args += ["--seed", str(self.seed)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.pid = self.proc.pid
        atexit.register(self.stop)  # no server outlives a test run that forgot stop()
        deadline = time.monotonic() + timeout
        while self.port is None:
            rc = self.proc.poll()
            if rc is not None:
                self.stop()
                raise FakeError(f"fakeapi exited at start (status {rc})")
            try:
                with open(port_file) as f:
                    self.port = int(f.read())
            except (OSError, ValueError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise FakeError("fakeapi did not start in time")
                time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}"
        self.call("GET", "/_ctl/health")
        return self

    def stop(self, timeout=5.0):
        """SIGTERM the server's pid, SIGKILL it if it lingers; idempotent."""
        if self.proc is not None:
            if self.proc.poll() is None:
                os.kill(self.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    os.kill(self.pid, signal.SIGKILL)
                    self.proc.wait()
            self.proc = None
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- plumbing

    def call(self, method, path, body=None, timeout=60.0, **query):
        """One control request; returns the decoded JSON answer."""
        q = {k: v for k, v in query.items() if v is not None}
        url = self.url + path + ("?" + urllib.parse.urlencode(q) if q else "")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        try:
            with OPENER.open(req, timeout=timeout) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise FakeError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}")

    def base(self, provider):
        """The base_url of a provider, as aifs's config wants it."""
        return self.url + BASES[provider]

    # -- control endpoints

    def health(self):
        return self.call("GET", "/_ctl/health")

    def counters(self):
        return self.call("GET", "/_ctl/counters")

    def counter(self, name):
        return self.counters().get(name, 0)

    def reset_counters(self):
        """Zero every counter and clear the request log."""
        return self.call("POST", "/_ctl/counters/reset", {})

    def log(self, since=None, endpoint=None):
        """API requests after the server's monotonic time since."""
        return self.call("GET", "/_ctl/log", since=since, endpoint=endpoint)["entries"]

    def creates(self, provider=None, since=None):
        """Create requests received, oldest first: {"t", "provider", "body",
        "status", "id", "fault", "raw"}; body is the text as received (None
        if never read), raw the same as bytes, id the task made or None."""
        got = self.call("GET", "/_ctl/creates", provider=provider, since=since)["creates"]
        for e in got:
            e["raw"] = None if e["body"] is None else e["body"].encode("utf-8", "surrogateescape")
        return got

    def created(self, provider):
        """How many tasks the provider's create endpoint made."""
        return self.counter(f"{provider}.created")

    def now(self):
        """The server's monotonic clock (comparable with log timestamps)."""
        return self.call("GET", "/_ctl/log", since="inf")["now"]

    def faults(self, *rules, append=False):
        """Set the fault rules (replacing the old ones unless append)."""
        return self.call("POST", "/_ctl/faults", {"rules": list(rules), "append": append})["rules"]

    def fault(self, endpoint, kind, **params):
        """Add one fault rule, e.g. fault("ark.list", "http", status=503, count=1)."""
        return self.faults({"endpoint": endpoint, "kind": kind, **params}, append=True)[-1]

    def fault_rules(self):
        return self.call("GET", "/_ctl/faults")["rules"]

    def clear_faults(self):
        return self.call("DELETE", "/_ctl/faults")

    def ratelimit(self, provider, qps, burst=None, mode=None, retry_after=None):
        body = {"provider": provider, "qps": qps, "burst": burst, "mode": mode,
                "retry_after": retry_after}
        return self.call("POST", "/_ctl/ratelimit", {k: v for k, v in body.items() if v is not None})

    def ratelimits(self):
        return self.call("GET", "/_ctl/ratelimit")

    def set_task(self, provider, id, **fields):
        """Create or update a task; returns it as the API shows it."""
        return self.call("POST", "/_ctl/task", {"provider": provider, "id": id, **fields})

    def delete_task(self, provider, id):
        return self.call("DELETE", "/_ctl/task", provider=provider, id=id)

    def forget(self, provider, id):
        """The API forgets the task (get 404 / data null, list leaves it
        out); its media stay servable until their URLs expire."""
        return self.call("POST", "/_ctl/forget", {"provider": provider, "id": id})

    def tasks(self, provider, limit=None, form=None):
        """The provider's tasks, newest first (form="item": as list items)."""
        return self.call("GET", "/_ctl/tasks", provider=provider, limit=limit, form=form)["tasks"]

    def task(self, provider, id, form=None):
        return self.call("GET", "/_ctl/tasks", provider=provider, id=id, form=form)

    def media(self, provider, id, output=None, path=None, size=None, **kw):
        """Serve a real file (path) or size generated bytes for one output."""
        body = {"provider": provider, "id": id, "output": output, "path": path, "size": size, **kw}
        return self.call("POST", "/_ctl/media", {k: v for k, v in body.items() if v is not None})

    def url_ttl(self, provider, seconds, expire_now=False):
        return self.call("POST", "/_ctl/url_ttl",
                         {"provider": provider, "seconds": seconds, "expire_now": expire_now})

    def lifecycle(self, provider, queued_s=0, running_s=0, outcome="succeeded"):
        """Tasks the provider's create makes from now on leave queued after
        queued_s seconds and running after running_s more, ending in outcome
        ("succeeded" or "failed"; also "expired", or chanjing "Error")."""
        return self.call("POST", "/_ctl/lifecycle", {"provider": provider, "queued_s": queued_s,
                                                     "running_s": running_s, "outcome": outcome})

    def clear_lifecycle(self, provider):
        """Created tasks stay queued again (those on a schedule keep it)."""
        return self.call("DELETE", "/_ctl/lifecycle", provider=provider)

    def invalidate_token(self):
        return self.call("POST", "/_ctl/chanjing/invalidate_token", {})

    def expected(self, provider, id, output=None, hash=True):
        """{"size", "sha256", "etag", "key", "name", "url", "gen", "path"}."""
        return self.call("GET", "/_ctl/expected", provider=provider, id=id, output=output,
                         hash=None if hash else "0")

    def expected_bytes(self, provider, id, output=None, start=0, end=None):
        """The bytes [start, end) the server serves for an output."""
        info = self.expected(provider, id, output, hash=False)
        end = info["size"] if end is None else min(end, info["size"])
        if info["path"]:
            with open(info["path"], "rb") as f:
                f.seek(start)
                return f.read(max(0, end - start))
        return b"".join(fakeapi.gen_chunks(info["gen"], start, end))

    def scenario(self):
        return self.call("GET", "/_ctl/scenario")

    def set_scenario(self, scenario):
        """Replace the scenario: every provider's tasks are generated anew."""
        return self.call("POST", "/_ctl/scenario", scenario)

    def patch_scenario(self, patch):
        """Merge into the scenario; a provider regenerates only if its task
        settings changed (count, mix, tasks, odd_ids, ...)."""
        return self.call("PATCH", "/_ctl/scenario", patch)

    # -- for the tests' aifs.conf

    def credentials(self, provider):
        s = self.scenario()[provider]
        if provider == "chanjing":
            return {"app_id": s["app_id"], "secret_key": s["secret_key"]}
        return {"api_key": s["key"]}

    def aifs_conf(self, providers=("ark", "relay", "rong", "chanjing"), **options):
        """aifs.conf text: one section per provider (section = provider
        name), inline credentials, plus options (e.g. qps=100) in each.
        Write it mode 0600: aifs refuses inline secrets readable by others."""
        lines = []
        for p in providers:
            lines += [f"[{p}]", f"type = {'chanjing' if p == 'chanjing' else 'ark'}",
                      f"base_url = {self.base(p)}"]
            lines += [f"{k} = {v}" for k, v in {**self.credentials(p), **options}.items()]
            lines.append("")
        return "\n".join(lines)
