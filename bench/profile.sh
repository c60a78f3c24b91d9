#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/profile.sh - the profiles behind BENCHMARKS.md ("What dominates").
#
#   make bench ... then:  B=build sh bench/profile.sh
#   (it uses the binaries `make bench` built in $B/bench/)
#
# Builds 1,000 / 100,000 / 1,000,000-token stores with bench/mkstore
# (PROFILE_MAX=100000 stops earlier), then prints:
#   1. callgrind of the cold verify path (user space, inclusive Ir);
#   2. perf of the same (kernel included), if perf works here;
#   3. callgrind of `tokenctl issue` into 100k, perf of it into the
#      largest store and of `issue --batch` of 100 tokens into 100k, and
#      bench/exp_txn: the library's own write costs without tokenctl;
#   4. bench/exp_lookup: the library's look-up vs pread alternatives;
#   5. pamtester: where pam_apitoken's fixed cost over pam_permit goes,
#      with throw-away test modules (empty, prompting, linked to libyaml,
#      nettle, both, both statically) and the module's two builds.
# Needs valgrind (callgrind_annotate); perf optional.  Work files go to a
# temp dir, removed at the end.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
case $B in /*) BD=$B ;; *) BD=$ROOT/$B ;; esac
BB=$BD/bench
MAX=${PROFILE_MAX:-1000000}
W=$(mktemp -d /var/tmp/apitoken-profile.XXXXXX)
trap 'rm -rf "$W"' EXIT
chmod 700 "$W"

have_perf=0
if command -v perf >/dev/null 2>&1 &&
    perf record -o "$W/p.test" -- true >/dev/null 2>&1; then
	have_perf=1
fi
section() { printf '\n==== %s\n' "$*"; }

# callgrind_annotate's inclusive list, our functions and the big costs
cg_top() {	# file: one line per function (inlined copies merged away)
	callgrind_annotate --inclusive=yes "$1" 2>/dev/null |
	    awk '/PROGRAM TOTALS/ { print; next }
		/^ *[0-9,]+ \( *[0-9.]+%\)/ && n < 30 {
		sub(/ \[.*\]$/, ""); f = $NF; sub(/^.*:/, "", f)
		if (f ~ /^(0x|main\)$|__libc_start|main$)/ || seen[f]++) next
		match($0, /\( *[0-9.]+%\)/); pct = substr($0, RSTART, RLENGTH)
		gsub(/ /, "", pct)
		printf "%15s %8s  %s\n", $1, pct, f; n++ }'
}
perf_top() {	# perf.data
	perf report -i "$1" --no-children --sort dso,sym --stdio 2>/dev/null |
	    grep -E '^ +[0-9.]+%' | head -n 25
}

SIZES=
for n in 1000 100000 1000000; do
	[ "$n" -le "$MAX" ] && SIZES="$SIZES $n"
done
BIG=$(echo $SIZES | awk '{ print $NF }')
for n in $SIZES; do
	d=$W/n$n
	mkdir -p "$d/store" "$d/state"
	chmod 700 "$d" "$d/store" "$d/state"
	printf 'store: %s\nstate_dir: %s\nlock_timeout: 60s\n' \
	    "$d/store/tokens" "$d/state" >"$d/apitoken.yaml"
	"$BB/mkstore" "$d/apitoken.yaml" "$n" "$d/sample" "$d/root" >/dev/null
done

section "1. callgrind: 2,000 cold verifies (apitoken_verify_once) at $BIG tokens"
valgrind --tool=callgrind --callgrind-out-file="$W/cg.verify" \
    "$BB/verify_lat" "$W/n$BIG/apitoken.yaml" "$W/n$BIG/sample" 2000 0 0 \
    >/dev/null 2>&1
cg_top "$W/cg.verify"

if [ $have_perf = 1 ]; then
	section "2. perf: 50,000 cold verifies at $BIG tokens (kernel included)"
	perf record -q -F 5000 -o "$W/p.verify" -- "$BB/verify_lat" \
	    "$W/n$BIG/apitoken.yaml" "$W/n$BIG/sample" 50000 0 0 >/dev/null 2>&1
	perf_top "$W/p.verify"
fi

if [ -x "$BD/tokenctl" ]; then
	section "3a. callgrind: tokenctl issue into 100,000 tokens"
	valgrind --tool=callgrind --callgrind-out-file="$W/cg.issue" \
	    "$BD/tokenctl" -c "$W/n100000/apitoken.yaml" issue root \
	    --label "profile issue" >/dev/null 2>&1
	cg_top "$W/cg.issue"
	if [ $have_perf = 1 ]; then
		section "3b. perf: tokenctl issue into $BIG tokens"
		# another label: with PROFILE_MAX=100000 this is 3a's store
		perf record -q -F 2000 -o "$W/p.issue" -- "$BD/tokenctl" \
		    -c "$W/n$BIG/apitoken.yaml" issue root \
		    --label "profile issue, perf" >/dev/null 2>&1
		perf_top "$W/p.issue"
		section "3c. perf: tokenctl issue --batch of 100 into 100,000"
		awk 'BEGIN { for (i = 1; i <= 100; i++) printf \
		    "{\"user\": \"root\", \"label\": \"profile %d\"}\n", i }' \
		    >"$W/batch.jsonl"
		perf record -q -F 2000 -o "$W/p.batch" -- "$BD/tokenctl" \
		    -c "$W/n100000/apitoken.yaml" issue --batch "$W/batch.jsonl" \
		    >/dev/null 2>&1
		perf_top "$W/p.batch"
	fi
fi

section "3d. bench/exp_txn: the library's share of a write (median of 3, ms)"
for n in $SIZES; do
	[ "$n" -ge 100000 ] || continue
	echo "-- $n tokens"
	"$BB/exp_txn" "$W/n$n/apitoken.yaml" 3
done

section "4. cold look-up strategies (bench/exp_lookup, ids only)"
for n in $SIZES; do
	echo "-- $n tokens"
	"$BB/exp_lookup" "$W/n$n/store/tokens" "$W/n$n/sample" 20000
done

section "5. pamtester: where pam_apitoken's cost over pam_permit goes"
# Throw-away modules, each one step closer to pam_apitoken: prompt for
# the token (pam_get_authtok), then link (and call) libyaml, nettle's
# SHA-256, both, both linked in statically; then the real module in its
# default build and with STATIC_DEPS=1.  Same alternating loop as make
# bench; the last column is the cost over pam_permit.
cat >"$W/mod.c" <<'EOF'
#include <stddef.h>
#include <security/pam_modules.h>
#include <security/pam_ext.h>
#if defined(NETTLE)
#include <nettle/sha2.h>
#endif
#if defined(YAML)
#include <yaml.h>
#endif
int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	unsigned char md[32] = { 0xba };
#if defined(CONV)
	const char *tok = NULL;

	if (pam_get_authtok(pamh, PAM_AUTHTOK, &tok, "API token: ") !=
	    PAM_SUCCESS)
		return PAM_AUTH_ERR;
#endif
#if defined(NETTLE)
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, 3, (const unsigned char *)"abc");
	sha256_digest(&c, 32, md);
	md[0] = 0xba;
#endif
#if defined(YAML)
	yaml_parser_t p;

	yaml_parser_initialize(&p);
	yaml_parser_delete(&p);
#endif
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return md[0] == 0xba ? PAM_SUCCESS : PAM_AUTH_ERR;
}
int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_SUCCESS;
}
EOF
M=$W/mods S=$W/pam.d
mkdir -p "$M" "$S"
CCM="${CC:-cc} -O2 -fPIC -shared -Wl,-z,now"
STATIC="-Wl,-Bstatic -lnettle -lyaml -Wl,-Bdynamic -Wl,--exclude-libs,ALL"
$CCM -o "$M/empty.so" "$W/mod.c" -lpam
$CCM -DCONV -o "$M/prompt.so" "$W/mod.c" -lpam
$CCM -DCONV -DYAML -o "$M/prompt_yaml.so" "$W/mod.c" -lpam -lyaml
$CCM -DCONV -DNETTLE -o "$M/prompt_nettle.so" "$W/mod.c" -lpam -lnettle
$CCM -DCONV -DNETTLE -DYAML -o "$M/prompt_both.so" "$W/mod.c" -lpam \
    -lnettle -lyaml
# shellcheck disable=SC2086
$CCM -DCONV -DNETTLE -DYAML -o "$M/prompt_both_static.so" "$W/mod.c" \
    -lpam $STATIC
head -n 1 "$W/n1000/root" >"$W/tok"
echo "auth required pam_permit.so" >"$S/permit"
echo "auth required $M/empty.so" >"$S/empty"
printf 'pam_permit\t/dev/null\t0\tpamtester\tpermit\troot\tauthenticate\n' \
    >"$W/cases"
printf 'empty\t/dev/null\t0\tpamtester\tempty\troot\tauthenticate\n' \
    >>"$W/cases"
for m in prompt prompt_yaml prompt_nettle prompt_both prompt_both_static; do
	echo "auth required $M/$m.so" >"$S/$m"
	printf '%s\t%s\t0\tpamtester\t%s\troot\tauthenticate\n' \
	    "$m" "$W/tok" "$m" >>"$W/cases"
done
echo "auth required $BD/pam_apitoken.so config=$W/n1000/apitoken.yaml" \
    >"$S/apitoken"
echo "auth required $BD/static/pam_apitoken.so config=$W/n1000/apitoken.yaml" \
    >"$S/apitoken_static"
printf 'pam_apitoken_1k\t%s\t0\tpamtester\tapitoken\troot\tauthenticate\n' \
    "$W/tok" >>"$W/cases"
printf '%s\t%s\t0\tpamtester\t%s\troot\tauthenticate\n' \
    pam_apitoken_static_1k "$W/tok" apitoken_static >>"$W/cases"
echo "module                   median ms  p10 ms  p90 ms  maxrss KiB  - permit"
LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$S \
    "$BB/runcmp" -n "${PROFILE_ROUNDS:-200}" "$W/cases" 2>/dev/null |
    awk 'NR == 1 { p = $2 }
	{ printf "%-24s %10s %7s %7s %11s %+9.2f\n", $1, $2, $3, $4, $5, $2 - p }'
cat <<'EOF'
(empty: returns PAM_SUCCESS; prompt: asks for the token; _yaml, _nettle,
_both: linked to libyaml / nettle / both, calling each once;
_both_static: both linked into the module; pam_apitoken_static_1k: the
real module built with STATIC_DEPS=1.)
EOF
