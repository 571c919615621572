#!/usr/bin/env bash
# gotest.sh LOG GO-TEST-ARGS...: runs `go test -v GO-TEST-ARGS`, keeps the
# whole output in LOG, and prints each package's result and every skipped
# test with its reason, so that a skip is never silent. On a failure it
# prints the output without the lines of passing tests.
set -uo pipefail
log=$1
shift
mkdir -p "$(dirname "$log")"
"${GO:-go}" test -v "$@" >"$log" 2>&1
status=$?
# Package results, and each SKIP with the line that gives its reason.
awk '
	/^(ok|FAIL|\?) / { print; next }
	/^=== RUN/ { buf = ""; next }
	/^[[:space:]]*--- SKIP/ { print; printf "%s", buf; buf = ""; next }
	/^[[:space:]]*--- / { buf = ""; next }
	/^[[:space:]]+[^[:space:]]/ { buf = buf $0 "\n" }
' "$log"
n=$(grep -c -- '--- SKIP' "$log")
echo "skipped tests: $n (reasons above; whole output in $log)"
if [ "$status" -ne 0 ]; then
	echo "--- failures (output of $log without passing tests' lines):"
	grep -v -E '^(=== (RUN|PAUSE|CONT|NAME)|[[:space:]]*--- PASS)' "$log" | tail -n 400
fi
exit "$status"
