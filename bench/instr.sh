#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/instr.sh - instructions per login, a figure the machine's load does
# not move: callgrind's total Ir of one `pamtester SERVICE root
# authenticate` process under pam_wrapper (ld.so, libpam and every library
# included; the kernel not), for pam_permit, the default module and the
# STATIC_DEPS=1 module.  Wall-clock ratios are in `make bench`.
#
#   run by make bench; alone: B=build sh bench/instr.sh [other-build-dir...]
#
# Each further argument is another build directory whose pam_apitoken.so
# is measured beside these (e.g. a build of an older commit).  Needs
# valgrind, pamtester and libpam-wrapper.  N (tokens, default 1000).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
case $B in /*) BD=$B ;; *) BD=$ROOT/$B ;; esac
[ -x "$BD/bench/mkstore" ] || { echo "instr: run make bench first" >&2; exit 1; }
W=$(mktemp -d /var/tmp/apitoken-instr.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/store" "$W/state" "$W/pam.d"
chmod 700 "$W" "$W/store" "$W/state"
printf 'store: %s/store/tokens\nstate_dir: %s/state\nlock_timeout: 60s\n' \
    "$W" "$W" >"$W/apitoken.yaml"
"$BD/bench/mkstore" "$W/apitoken.yaml" "${N:-1000}" "$W/sample" "$W/root" \
    >/dev/null
head -n 1 "$W/root" >"$W/tok"

cases="permit default static"
echo "auth required pam_permit.so" >"$W/pam.d/permit"
mod() {	# service module
	echo "auth required $2 config=$W/apitoken.yaml" >"$W/pam.d/$1"
}
mod default "$BD/pam_apitoken.so"
mod static "$BD/static/pam_apitoken.so"
i=0
for other in "$@"; do
	i=$((i + 1))
	mod "other$i" "$(cd "$other" && pwd)/pam_apitoken.so"
	cases="$cases other$i"
done

ir() {	# service: total Ir of one login
	LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 \
	    PAM_WRAPPER_SERVICE_DIR="$W/pam.d" valgrind --tool=callgrind \
	    --callgrind-out-file="$W/cg" pamtester "$1" root authenticate \
	    <"$W/tok" >"$W/out" 2>&1
	grep -q 'successfully authenticated' "$W/out" || {
		cat "$W/out" >&2; exit 1; }
	sed -n 's/^totals: //p' "$W/cg"
}

permit=$(ir permit)
printf '%-10s %12s %8s\n' service instructions /permit
for c in $cases; do
	if [ "$c" = permit ]; then n=$permit; else n=$(ir "$c"); fi
	printf '%-10s %12s %8s\n' "$c" "$n" \
	    "$(awk -v a="$n" -v b="$permit" 'BEGIN { printf "%.2f x", a / b }')"
done
i=0
for other in "$@"; do
	i=$((i + 1))
	echo "other$i: $other"
done
