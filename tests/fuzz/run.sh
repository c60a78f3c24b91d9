#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Run the libFuzzer targets: run.sh BUILD_DIR SECONDS TARGET...
#
# For each target: replay the saved reproducers in tests/fuzz/crashers/
# <target>/ (library bugs found earlier: they must not crash any more),
# then fuzz for SECONDS on a copy of tests/fuzz/corpus/<target>/ kept in
# BUILD_DIR/corpus/<target>/ (the repository is never written), with the
# target's dictionary and FUZZ_SKIP_KNOWN=1 (the harnesses step around
# the bugs already saved as crashers; see crashers/README.md).  The full log goes to BUILD_DIR/logs/<target>.log;
# a one-line summary is printed.  Exits non-zero if any target crashed,
# leaked, timed out or broke an invariant (inputs in BUILD_DIR/artifacts/).
set -u
b=$1 secs=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$b/logs" "$b/artifacts" "$b/tmp"
b=$(cd "$b" && pwd)
status=0
for t in "$@"; do
	bin=$b/fuzz_$t log=$b/logs/$t.log
	mkdir -p "$b/corpus/$t"
	cp "$src/corpus/$t/"* "$b/corpus/$t/" 2>/dev/null
	dict=
	[ -f "$src/dict/$t.dict" ] && dict=-dict=$src/dict/$t.dict
	nrep=0
	if [ -d "$src/crashers/$t" ] && [ -n "$(ls "$src/crashers/$t")" ]; then
		nrep=$(ls "$src/crashers/$t" | wc -l)
		if ! TMPDIR=$b/tmp "$bin" "$src/crashers/$t/"* >"$log.replay" 2>&1
		then
			echo "fuzz_$t: a saved crasher still fails (see $log.replay):"
			grep -m1 -E '==FUZZ==|ERROR: |runtime error' "$log.replay"
			status=1
		fi
	fi
	FUZZ_SKIP_KNOWN=1 TMPDIR=$b/tmp "$bin" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$b/artifacts/$t-" $dict "$b/corpus/$t" \
	    >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | \
	    sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ncorp=$(ls "$b/corpus/$t" | wc -l)
	if [ "$rc" -ne 0 ]; then
		echo "fuzz_$t: FAILED (exit $rc) after ${runs:-?} runs; log $log"
		grep -E -A3 '==FUZZ==|ERROR: |runtime error|Test unit written' \
		    "$log" | head -n 30
		status=1
	else
		echo "fuzz_$t: clean, ${runs:-?} runs in ${secs}s," \
		    "coverage ${cov:-?} edges, corpus $ncorp inputs," \
		    "$nrep saved crashers replayed"
	fi
done
exit $status
