#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Run each Criterion test binary given as an argument, show its output, then
# print one closing line adding up their "Synthesis" lines.  Exits non-zero
# if any binary failed, crashed or printed no synthesis.
set -u
total=0 passed=0 failed=0 crashed=0 status=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$@"; do
	echo "== $t"
	"$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	line=$(grep 'Synthesis:' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "run-all: $t printed no Criterion synthesis (exit $rc)" >&2
		status=1
		continue
	fi
	n=$(echo "$line" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
	p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(echo "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	total=$((total + n)) passed=$((passed + p))
	failed=$((failed + f)) crashed=$((crashed + c))
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ] || [ "$c" -ne 0 ]; then status=1; fi
done
echo "Synthesis: Tested: $total | Passing: $passed | Failing: $failed | Crashing: $crashed"
echo "check: $passed passed, $((failed + crashed)) failed"
exit $status
