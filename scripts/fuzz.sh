#!/usr/bin/env bash
# fuzz.sh DURATION: runs every native fuzz target for DURATION each.
# Crashers land in the package's testdata/fuzz directory, where go test
# replays them from then on.
set -euo pipefail
t=${1:-20s}
fail=0
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		echo "== $pkg $target ($t)"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$t" "$pkg" || fail=1
	done
done
exit $fail
