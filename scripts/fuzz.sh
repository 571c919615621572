#!/usr/bin/env bash
# fuzz.sh DURATION: runs every native fuzz target for DURATION each.
# Crashers land in the package's testdata/fuzz directory, where go test
# replays them from then on. A run that ends with the toolchain's
# "context deadline exceeded" and no failing input is retried once: that is
# the fuzzer's own time limit racing a worker, not a finding.
set -uo pipefail
t=${1:-20s}
fail=0 targets=0
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		targets=$((targets + 1))
		for try in 1 2; do
			echo "== $pkg $target ($t)"
			out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$t" "$pkg" 2>&1)
			status=$?
			echo "$out" | tail -4
			if [ $status -eq 0 ]; then break; fi
			if [ $try = 1 ] && ! grep -q 'Failing input written' <<<"$out" && grep -q 'context deadline exceeded' <<<"$out"; then
				echo "   (fuzzer time-limit race, no failing input: trying once more)"
				continue
			fi
			fail=1
			break
		done
	done
done
echo "fuzz: $targets targets, $( [ $fail = 0 ] && echo 'no failures' || echo 'FAILURES above')"
exit $fail
