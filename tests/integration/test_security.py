"""Configuration refusals before anything is mounted, and secrets that never
reach a log (also with -d), an error file, meta.json, the command line or the
cache directory."""
import os
import subprocess
import tempfile

from harness import AIFS, Mount, fake, wait_for


def run_aifs(args, conf_text=None, mode=0o600, env=None, timeout=20):
    """Runs aifs without -f: configuration errors must end it with status 1
    before it forks. Returns (CompletedProcess, mountpoint)."""
    d = tempfile.mkdtemp(prefix="aifs-conf-")
    mnt = os.path.join(d, "mnt")
    os.mkdir(mnt)
    conf = os.path.join(d, "aifs.conf")
    if conf_text is not None:
        with open(conf, "w") as f:
            f.write(conf_text)
        os.chmod(conf, mode)
    p = subprocess.run([AIFS, "-o", f"config={conf}", "-o", f"cache_dir={d}/cache", *args, mnt],
                       capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, env=dict(os.environ, **(env or {})))
    mounted = os.path.ismount(mnt)
    if mounted:
        subprocess.run(["fusermount3", "-u", mnt], timeout=15)
    return p, mounted


ARK = "[volc]\ntype = ark\nbase_url = http://127.0.0.1:9/api/v3\n"


def refused(conf, *words, args=(), mode=0o600, env=None):
    p, mounted = run_aifs(list(args), conf, mode, env)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert not mounted
    for w in words:
        assert w in p.stderr, (w, p.stderr)
    return p.stderr


def test_help_and_version():
    p = subprocess.run([AIFS, "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and "usage: aifs" in p.stdout and "cache_max" in p.stdout
    p = subprocess.run([AIFS, "--version"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and p.stdout.startswith("aifs ")


def test_configuration_errors_exit_1_before_mounting():
    refused(None, "aifs.conf")  # missing file
    refused(ARK.replace("ark", "sora", 1), "type")
    refused(ARK, "api_key")  # no credentials
    refused(ARK + "api_key = k\n", "ttl", args=("-o", "ttl=abc"))
    refused("[volc]\ntype = ark\nbase_url = http://example.com/api/v3\napi_key = k\n", "http")
    refused(ARK + "api_key = k\nqps = 0\n", "qps")
    refused("", "provider")
    refused("[chanjing]\ntype = chanjing\nbase_url = http://127.0.0.1:9\napp_id = a\n",
            "secret_key")


def test_loose_files_holding_secrets_are_refused():
    err = refused(ARK + "api_key = sk-inline-123456\n", "readable", mode=0o644)
    assert "sk-inline-123456" not in err
    d = tempfile.mkdtemp(prefix="aifs-key-")
    key = os.path.join(d, "key")
    with open(key, "w") as f:
        f.write("sk-file-123456\n")
    os.chmod(key, 0o644)
    err = refused(ARK + f"api_key_file = {key}\n", "readable", mode=0o644)
    assert "sk-file-123456" not in err
    # a config holding no inline secret may be readable by others
    os.chmod(key, 0o600)
    m = Mount(None, conf_text=ARK + f"api_key_file = {key}\n", start=False)
    os.chmod(m.conf, 0o644)
    m.start()
    assert os.path.ismount(m.mnt)


def test_a_key_pasted_as_a_file_name_is_not_echoed():
    key = "sk-pasted-0123456789abcdef"
    for line in (f"api_key_file = {key}", f"api_key_file = ~/{key}", f"api_key_file = ./{key}"):
        err = refused(ARK + line + "\n", "[volc] api_key_file: cannot read the file it names: "
                      "No such file or directory")
        assert key not in err, err
    err = refused("[cj]\ntype = chanjing\nbase_url = http://127.0.0.1:9\n"
                  f"access_token_file = {key}\n", "[cj] access_token_file: cannot read")
    assert key not in err, err


def test_secrets_never_leave_the_process():
    f = fake()
    secrets = [f.credentials(p).get("api_key") for p in ("ark", "relay", "rong")]
    secrets.append(f.credentials("chanjing")["secret_key"])
    f.fault("ark.get", "http", status=401, count=1)  # an answer that may echo things
    m = Mount(f, opts=("-d",))
    m.run("ls", "-lR", ".", timeout=120)
    m.run("sh", "-c", "cat */*/status */*/meta.json */*/error > /dev/null 2>&1; true")
    m.run("sh", "-c", "cat volc/cgt-nope/status; true")
    tokens = [e["headers"]["access_token"] for e in f.log(endpoint="chanjing.list")
              if e["headers"].get("access_token")]
    assert tokens, "chanjing was listed with a token"
    secrets += tokens
    with open(f"/proc/{m.pid}/cmdline", "rb") as fh:
        cmdline = fh.read().decode(errors="replace")
    with open(f"/proc/{m.pid}/limits") as fh:
        limits = fh.read()
    assert [ln for ln in limits.splitlines() if ln.startswith("Max core file size")][0].split()[4] == "0"
    cache_bytes = b""
    for root, _, files in os.walk(m.cache):
        for name in files:
            with open(os.path.join(root, name), "rb") as fh:
                cache_bytes += fh.read()
    tree = m.run("sh", "-c", "cat */*/meta.json */*/error 2>/dev/null; true").stdout
    m.umount()
    log = m.log()
    assert "unique" in log or "LOOKUP" in log  # -d really logged
    for s in secrets:
        assert s and s not in log, "secret in the log"
        assert s not in cmdline and s not in tree
        assert s.encode() not in cache_bytes


def test_plain_http_to_a_remote_host_needs_insecure_http():
    conf = "[volc]\ntype = ark\nbase_url = http://192.0.2.1/api/v3\napi_key = k\n"
    refused(conf, "http")
    # accepted with insecure_http: it mounts; nothing is asked of that host here
    m = Mount(None, conf_text=conf + "insecure_http = yes\n")
    assert os.path.ismount(m.mnt)
