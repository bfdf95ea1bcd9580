#!/usr/bin/env bash
# The deviceflow demo (make demo): a whole `gh auth login`-style sign-in
# against a local GitHub emulator, approved through its web page, with
# nothing but Go installed.
#
#   1. build the deviceflow command;
#   2. start `deviceflow emulator` on a free loopback port;
#   3. run `deviceflow login` against it, with a file store in a temporary
#      directory;
#   4. enter the code on the emulator's page and press Authorize, as a
#      person would (a small Go helper posts the page's form);
#   5. show `deviceflow status` and `deviceflow token --json` (token masked).
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d "${TMPDIR:-/tmp}/deviceflow-demo.XXXXXX")
emulator_pid=""
login_pid=""
cleanup() {
	for pid in $login_pid $emulator_pid; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

if [ -t 1 ]; then bold=$'\033[1m'; plain=$'\033[0m'; else bold=""; plain=""; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; }

# wait_for FILE PATTERN: wait up to 20 s for PATTERN to appear in FILE.
wait_for() {
	for _ in $(seq 1 200); do
		if grep -qE "$2" "$1" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "demo: timed out waiting for '$2' in $1" >&2
	cat "$1" >&2 || true
	return 1
}

step "Building the deviceflow command"
go build -o "$work/deviceflow" ./sdk/cmd/deviceflow
go build -o "$work/approve" ./examples/demo/approve
deviceflow="$work/deviceflow"
echo "built $(basename "$deviceflow") ($("$deviceflow" version))"

step "Starting a GitHub emulator on a free loopback port"
show "deviceflow emulator --addr 127.0.0.1:0 --interval 250ms"
"$deviceflow" emulator --addr 127.0.0.1:0 --interval 250ms >"$work/emulator.out" 2>"$work/emulator.log" &
emulator_pid=$!
wait_for "$work/emulator.out" '^http://'
base_url=$(head -n 1 "$work/emulator.out")
echo "emulator at $base_url"

# Every command below signs in as the same app, to the same emulator, with
# the token in a file store inside the temporary directory.
export DEVICEFLOW_CLIENT_ID=Ov23liDemoClient
export DEVICEFLOW_BASE_URL="$base_url"
export DEVICEFLOW_STORE=file
export DEVICEFLOW_STORE_PATH="$work/tokens"

step "Signing in"
show "deviceflow login --scopes 'repo read:org' --no-browser"
"$deviceflow" login --scopes 'repo read:org' --no-browser 2> >(tee "$work/login.log" >&2) &
login_pid=$!
wait_for "$work/login.log" 'one-time code: +[A-Z0-9]{4}-[A-Z0-9]{4}'
code=$(grep -oE '[A-Z0-9]{4}-[A-Z0-9]{4}' "$work/login.log" | head -n 1)
page=$(grep -oE 'Then open: +[^ ]+' "$work/login.log" | head -n 1 | awk '{print $3}')

step "Meanwhile, in the browser: enter $code at $page and press Authorize"
"$work/approve" "$page" "$code"

wait "$login_pid"
login_pid=""

step "Who is signed in"
show "deviceflow status --scopes 'repo read:org'"
"$deviceflow" status --scopes 'repo read:org'

step "The token, for scripts (masked here)"
show "deviceflow token --json --scopes 'repo read:org'"
"$deviceflow" token --json --scopes 'repo read:org' | sed -E 's/("token":"[a-z]+_)[^"]*"/\1********"/'

step "The token store: a directory of entry files, readable by you alone"
ls -ld "$work/tokens" | awk '{print $1, "tokens/"}'
ls -l "$work/tokens" | awk 'NR > 1 {print $1, "tokens/" $NF}'

printf '\n%sdemo: OK%s\n' "$bold" "$plain"
