#!/usr/bin/env bash
# contrib/demo.sh: aifs over the fake provider API, end to end.
#
#     bash contrib/demo.sh [--keep]        (or: make demo)
#
# Starts tests/fake/fakeapi.py on 127.0.0.1 with tasks for Volcengine Ark, an
# Ark relay, RongCloud and Chanjing, writes a 0600 config for them, mounts
# ./aifs (or $AIFS_BIN) as users do, daemonized, logging to a file, and runs
# ordinary commands in the mount. Then it unmounts, waits for the daemon to
# exit, stops the fake by pid and removes its
# temporary directory. With --keep, it leaves the mount up until Ctrl-C.
# Exits non-zero when any step fails. Needs python3, fusermount3 and
# /dev/fuse; reads nothing from stdin.
# shellcheck disable=SC2317  # cleanup and its helpers run from traps
set -euo pipefail

usage() {
	sed -n '2,12s/^# \{0,1\}//p' "$0"
}

KEEP=0
for arg in "$@"; do
	case $arg in
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "demo: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
	esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
AIFS=${AIFS_BIN:-$ROOT/aifs}
case $AIFS in /*) ;; *) AIFS=$PWD/$AIFS ;; esac
# The fake listens on 127.0.0.1: no proxy may stand in between.
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

TMP='' MNT='' FAKE_PID='' AIFS_PID='' DONE=0

say() { printf '%s\n' "$*"; }
die() {
	printf '\ndemo: FAILED: %s\n' "$*" >&2
	exit 1
}

[ -x "$AIFS" ] || die "no aifs binary at $AIFS (run make, or set AIFS_BIN)"
command -v python3 >/dev/null || die "python3 is not installed"
command -v fusermount3 >/dev/null || die "fusermount3 is not installed (package fuse3)"
[ -e /dev/fuse ] || die "/dev/fuse does not exist: FUSE is not available here"

is_mounted() {
	[ -n "$MNT" ] && awk -v m="$MNT" '$2 == m { found = 1 } END { exit !found }' /proc/mounts
}

# Waits up to $2 tenths of a second for pid $1 to exit.
wait_gone() {
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# Ends pid $1 (a child of ours): SIGTERM, then SIGKILL if it lingers.
stop_pid() {
	kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
	kill -TERM "$1" 2>/dev/null || true
	wait_gone "$1" 50 || kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM HUP
	set +e
	cd /
	if is_mounted; then
		for ((i = 0; i < 10; i++)); do
			fusermount3 -u "$MNT" 2>/dev/null && break
			sleep 0.5
		done
	fi
	if [ -n "$AIFS_PID" ]; then
		if ! wait_gone "$AIFS_PID" 150; then
			echo "demo: aifs (pid $AIFS_PID) did not exit after the unmount; killing it" >&2
			kill -KILL "$AIFS_PID" 2>/dev/null
			rc=1
		fi
	fi
	if is_mounted; then
		fusermount3 -uz "$MNT" 2>/dev/null
		echo "demo: $MNT was still mounted; detached it" >&2
		rc=1
	fi
	if [ "$rc" != 0 ] && [ -n "$TMP" ] && [ -s "$TMP/aifs.log" ]; then
		echo "--- the last lines aifs logged:" >&2
		tail -n 20 "$TMP/aifs.log" >&2
	fi
	[ -n "$FAKE_PID" ] && stop_pid "$FAKE_PID"
	[ -n "$TMP" ] && rm -rf -- "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

TMP=$(mktemp -d "${TMPDIR:-/tmp}/aifs-demo.XXXXXX")
MNT=$TMP/mnt
mkdir "$MNT" "$TMP/cache"

# ---- the fake provider API ----

cat >"$TMP/scenario.json" <<'EOF'
{"seed": 1,
 "ark": {"count": 12}, "relay": {"count": 14}, "rong": {"count": 4}, "chanjing": {"count": 12}}
EOF

# A small client of the fake's control API (/_ctl/, see tests/fake/README.md).
cat >"$TMP/ctl.py" <<'EOF'
import json, sys, urllib.request
port, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def get(path):
    with opener.open(f"http://127.0.0.1:{port}/_ctl/{path}", timeout=30) as r:
        return json.load(r)
if cmd == "health":
    get("health")
elif cmd == "creds":
    s = get("scenario")
    print(s["ark"]["key"], s["relay"]["key"], s["rong"]["key"],
          s["chanjing"]["app_id"], s["chanjing"]["secret_key"])
elif cmd == "pick":  # pick PROVIDER STATUS [OUTPUT]: the newest such task's id
    prov, status = args[0], args[1]
    for t in get(f"tasks?provider={prov}")["tasks"]:
        st = t.get("status", t.get("progress_desc"))
        if st != status:
            continue
        if len(args) > 2 and not (t.get("content") or {}).get(args[2]):
            continue
        print(t.get("id") if prov != "chanjing" else t["unique_id"])
        break
elif cmd == "expected":  # expected PROVIDER ID OUTPUT: "sha256 size"
    e = get(f"expected?provider={args[0]}&id={args[1]}&output={args[2]}")
    print(e["sha256"], e["size"])
EOF
ctl() { python3 "$TMP/ctl.py" "$PORT" "$@"; }

python3 "$ROOT/tests/fake/fakeapi.py" --port 0 --port-file "$TMP/port" \
	--scenario "$TMP/scenario.json" </dev/null >"$TMP/fake.log" 2>&1 &
FAKE_PID=$!
PORT=
for ((i = 0; i < 100; i++)); do
	if [ -s "$TMP/port" ]; then
		PORT=$(cat "$TMP/port")
		break
	fi
	kill -0 "$FAKE_PID" 2>/dev/null || { cat "$TMP/fake.log" >&2; die "the fake API exited at start"; }
	sleep 0.1
done
[ -n "$PORT" ] || die "the fake API wrote no port file within 10 s"
ctl health || die "the fake API does not answer on port $PORT"
say "fake provider API: http://127.0.0.1:$PORT (pid $FAKE_PID)"

# ---- the config: one section per provider, the section name is the directory ----

creds=$(ctl creds) || die "cannot read the fake's credentials"
read -r ARK_KEY RELAY_KEY RONG_KEY CJ_APP CJ_SECRET <<<"$creds"
API=http://127.0.0.1:$PORT
(
	umask 077 # inline secrets: aifs refuses a config others can read
	cat >"$TMP/aifs.conf" <<EOF
# Global keys come before the first section. The fake API allows more
# than the defaults (ark 3, chanjing 1 request per second).
qps = 10

# Volcengine Ark
[volc]
type = ark
base_url = $API/ark/api/v3
api_key = $ARK_KEY

# An Ark-compatible relay
[relay]
type = ark
base_url = $API/relay/volc/v1
api_key = $RELAY_KEY

# RongCloud: Ark-shaped, but it cannot list tasks
[rong]
type = ark
base_url = $API/rong/llm/v1
api_key = $RONG_KEY
list = auto

# Chanjing: aifs gets and renews the access token itself
[chanjing]
type = chanjing
base_url = $API/chanjing
app_id = $CJ_APP
secret_key = $CJ_SECRET
EOF
)
say "config: $TMP/aifs.conf (mode $(stat -c %a "$TMP/aifs.conf"))"

# ---- the mount ----

"$AIFS" -o "log=$TMP/aifs.log" -o "config=$TMP/aifs.conf" -o "cache_dir=$TMP/cache" "$MNT" \
	</dev/null || die "aifs could not mount $MNT (exit status $?)"
is_mounted || die "aifs returned, but $MNT is not mounted"
# the daemon names itself in its log: "aifs[PID] info: mounted ..."
for ((i = 0; i < 100; i++)); do
	AIFS_PID=$(sed -n 's/.* aifs\[\([0-9]*\)\] info: mounted .*/\1/p' "$TMP/aifs.log" 2>/dev/null | tail -n 1)
	[ -n "$AIFS_PID" ] && break
	sleep 0.1
done
[ -n "$AIFS_PID" ] || die "aifs logged no start line in $TMP/aifs.log"
say "aifs: mounted on $MNT (daemon pid $AIFS_PID, log $TMP/aifs.log)"

# ---- what the mount shows ----

# show TITLE [--head N] CMD ARGS...: prints "$ TITLE", runs CMD, prints its
# output (the first N lines with --head), and fails the demo if CMD fails.
show() {
	local title=$1 lines=
	shift
	if [ "$1" = --head ]; then
		lines=$2
		shift 2
	fi
	printf '\n$ %s\n' "$title"
	if ! "$@" >"$TMP/out" 2>"$TMP/err"; then
		cat "$TMP/out"
		cat "$TMP/err" >&2
		die "'$title' failed"
	fi
	if [ -n "$lines" ]; then head -n "$lines" "$TMP/out"; else cat "$TMP/out"; fi
}

pick() {
	local id
	id=$(ctl pick "$@") || die "cannot ask the fake API for a task"
	[ -n "$id" ] || die "the fake API has no $1 task with status $2"
	printf '%s\n' "$id"
}

VOLC_DONE=$(pick ark succeeded video_url)
VOLC_FAILED=$(pick ark failed)
CJ_ID=$(pick chanjing Success)
RONG_ID=$(pick rong succeeded)

show "ls $MNT" ls "$MNT"
show "ls -l $MNT/volc | head" --head 10 ls -l "$MNT/volc"
show "cat $MNT/volc/$VOLC_DONE/status" cat "$MNT/volc/$VOLC_DONE/status"
show "cat $MNT/chanjing/$CJ_ID/meta.json | head -20" --head 20 cat "$MNT/chanjing/$CJ_ID/meta.json"
show "cat $MNT/volc/$VOLC_FAILED/status $MNT/volc/$VOLC_FAILED/error" \
	cat "$MNT/volc/$VOLC_FAILED/status" "$MNT/volc/$VOLC_FAILED/error"
show "ls -l $MNT/volc/$VOLC_DONE" ls -l "$MNT/volc/$VOLC_DONE"

# An output file, downloaded on first read; the fake knows what it served.
printf '\n$ cp %s %s\n' "$MNT/volc/$VOLC_DONE/video.mp4" "$TMP/video.mp4"
if ! cp "$MNT/volc/$VOLC_DONE/video.mp4" "$TMP/video.mp4" 2>"$TMP/err"; then
	cat "$TMP/err" >&2
	die "cp of an output file failed: aifs could not download video.mp4 (its log follows)"
fi
show "sha256sum $TMP/video.mp4" sha256sum "$TMP/video.mp4"
exp=$(ctl expected ark "$VOLC_DONE" video) || die "cannot ask the fake API what it served"
read -r WANT_SHA WANT_SIZE <<<"$exp"
GOT_SHA=$(sha256sum "$TMP/video.mp4" | cut -d' ' -f1)
GOT_SIZE=$(stat -c %s "$TMP/video.mp4")
say "the fake API served: $WANT_SHA ($WANT_SIZE bytes)"
if [ "$GOT_SHA" != "$WANT_SHA" ] || [ "$GOT_SIZE" != "$WANT_SIZE" ]; then
	die "video.mp4 differs from what the fake API served ($GOT_SIZE bytes, sha256 $GOT_SHA)"
fi
say "identical"

# RongCloud can only get a task by id: the directory lists the ids looked at.
show "ls $MNT/rong" ls "$MNT/rong"
say "(empty: RongCloud cannot list tasks)"
show "cat $MNT/rong/$RONG_ID/status" cat "$MNT/rong/$RONG_ID/status"
show "ls $MNT/rong" ls "$MNT/rong"
grep -qxF -- "$RONG_ID" "$TMP/out" || die "ls $MNT/rong does not show $RONG_ID after it was looked up"
say "(aifs remembers it: $TMP/cache/known/rong)"

# ---- the end ----

if [ "$KEEP" = 1 ]; then
	say ""
	say "The mount stays up: $MNT"
	say "Stop it with Ctrl-C here (or: kill $$, or: fusermount3 -u $MNT);"
	say "the fake API and the temporary files in $TMP go with it."
	STOP=0
	trap 'STOP=1' INT TERM HUP
	while [ "$STOP" = 0 ] && kill -0 "$AIFS_PID" 2>/dev/null; do
		sleep 1 &
		wait $! || true
	done
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if ! kill -0 "$AIFS_PID" 2>/dev/null; then
		AIFS_PID='' # unmounted by hand: it has stopped by itself
	fi
fi

printf '\n$ fusermount3 -u %s\n' "$MNT"
if is_mounted; then
	for ((i = 0; i < 10; i++)); do
		fusermount3 -u "$MNT" && break
		sleep 0.5
	done
	is_mounted && die "cannot unmount $MNT"
fi
wait_gone "$AIFS_PID" 150 || die "aifs did not exit after the unmount"
DONE=1
say "demo: passed"
exit 0
