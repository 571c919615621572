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
# Package results, and each SKIP with the lines its test logged (go test
# -v prints them under "=== RUN name", or right after a result line); the
# skipped subtests of one test are summed up in one line with their
# distinct reasons.
awk '
	function flush(   r) {
		if (parent == "") return
		printf "--- SKIP: %d subtests of %s\n", nsub, parent
		for (r in reasons) printf "    %d x%s\n", reasons[r], r
		parent = ""; nsub = 0; delete reasons
	}
	/^(ok|FAIL|\?) / { flush(); print; next }
	/^=== (RUN|CONT|NAME)/ { cur = $3; last = ""; next }
	/^[[:space:]]*--- SKIP/ {
		name = $3; last = name
		if (name ~ /\//) {
			p = name; sub(/\/.*/, "", p)
			if (p != parent) { flush(); parent = p }
			nsub++
			r = log_[name]; sub(/^[[:space:]]+[^ ]+:[0-9]+:/, "", r); sub(/\n.*/, "", r)
			reasons[r]++
			next
		}
		flush(); print; printf "%s", log_[name]; next
	}
	/^[[:space:]]*--- / { last = ""; next }
	/^[[:space:]]+[^[:space:]]/ {
		if (last != "" && last !~ /\//) { print; next }
		log_[cur] = log_[cur] $0 "\n"
	}
	END { flush() }
' "$log"
n=$(grep -c -- '--- SKIP' "$log")
echo "skipped tests: $n (reasons above; whole output in $log)"
if [ "$status" -ne 0 ]; then
	echo "--- failures (output of $log without passing tests' lines):"
	grep -v -E '^(=== (RUN|PAUSE|CONT|NAME)|[[:space:]]*--- PASS)' "$log" | tail -n 400
fi
exit "$status"
