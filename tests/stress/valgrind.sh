#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# valgrind.sh - run a Criterion test binary under valgrind memcheck and
# fail on any memcheck error or definite leak, in any process.
#
#   sh tests/stress/valgrind.sh BINARY [criterion options...]
#
# Criterion runs every test in a worker process that it starts by
# re-executing the binary, so valgrind must follow children
# (--trace-children=yes): without it only the runner, which executes no
# test code, would be checked, and a leak inside a test would go unseen.
# Followed too: every program the tests start from the build directory
# (tokenctl).  Not followed: system programs (/usr/*, /bin/*, /sbin/*:
# sshd, sudo, ssh, pamtester, sh); the module is checked where the test
# process itself loads it through real libpam (pam_start_confdir).
#
# Criterion ignores a worker's exit status once its test reported, so
# --error-exitcode alone cannot fail the run: each process writes its own
# log (--log-file=...%p) and this script fails if any log shows errors
# ("ERROR SUMMARY: N" with N > 0; definite leaks count as errors), or if
# Criterion itself reports a failure.  Suppressions for the test
# framework's own allocations: tests/stress/valgrind.supp.
set -u
bin=${1:?usage: valgrind.sh BINARY [criterion options]}
shift
here=$(cd "$(dirname "$0")" && pwd)
logs=$(mktemp -d /tmp/apitoken-valgrind.XXXXXX)
trap 'rm -rf "$logs"' EXIT

echo "valgrind: $bin $* (logs per process in $logs)"
# pam_wrapper (pamtester tests) must not use RTLD_DEEPBIND under valgrind
PAM_WRAPPER_DISABLE_DEEPBIND=1 valgrind -q \
	--tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --error-exitcode=99 \
	--trace-children=yes \
	--trace-children-skip='/usr/*,/bin/*,/sbin/*,/lib/*' \
	--suppressions="$here/valgrind.supp" \
	--log-file="$logs/vg.%p" \
	"$bin" --jobs "${VG_JOBS:-2}" "$@"
rc=$?

bad=0
nlogs=0
for f in "$logs"/vg.*; do
	[ -e "$f" ] || continue
	nlogs=$((nlogs + 1))
	if grep -q 'ERROR SUMMARY: [1-9]' "$f" ||
	    grep -q -e 'Invalid read' -e 'Invalid write' -e 'definitely lost' \
	        -e 'uninitialised' -e 'Invalid free' "$f"; then
		echo "---- valgrind errors in process ${f##*.}:"
		cat "$f"
		bad=$((bad + 1))
	fi
done
echo "valgrind: $nlogs processes checked, $bad with errors; test exit $rc"
if [ "$nlogs" -lt 2 ]; then
	echo "valgrind: no worker process was traced" >&2
	exit 1
fi
[ "$bad" -eq 0 ] && [ "$rc" -eq 0 ]
