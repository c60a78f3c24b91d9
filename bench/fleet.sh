#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/fleet.sh - the fleet's figures (issue 13): revocation propagation
# from a tokenctl commit against PostgreSQL to the refusal on each of 20
# replicas (apitokend each, on this machine), a burst of 10,000 changes
# applied to a replica of a 1,000,000-token store, and tokenctl issue and
# revoke against PostgreSQL.  make bench runs it after bench/daemon.sh;
# alone: `make bench-fleet [QUICK=1]`.  BENCHMARKS.md says what the
# figures mean.
#
# A PostgreSQL server of Debian's postgresql package is started here as
# the user postgres in the work dir, on a Unix socket only (fsync and
# synchronous_commit as shipped: on), and stopped at the end.
#
# Environment: B (build dir), QUICK=1 (100,000 tokens, fewer rounds),
# BENCH_STORE (a directory of bench.sh's with apitoken.yaml and store/:
# its store is the big one instead of building one), BENCH_REPLICAS
# (default 20), BENCH_ROUNDS (propagation rounds), BENCH_KEEP=1.
# Needs root and the postgresql package; skipped with a note otherwise.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
case $B in /*) BD=$B ;; *) BD=$ROOT/$B ;; esac
BB=$BD/bench
QUICK=${QUICK:-0}
NREP=${BENCH_REPLICAS:-20}
NBURST=10000
if [ "$QUICK" = 1 ]; then
	NTOK=100000 ROUNDS=${BENCH_ROUNDS:-10} CTLRUNS=3
else
	NTOK=1000000 ROUNDS=${BENCH_ROUNDS:-25} CTLRUNS=3
fi
PIDS="" PGUP=0

note() { printf 'bench-fleet: %s\n' "$*" >&2; }
die() { note "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || { note "not root: fleet figures skipped"; exit 0; }
PGBIN=
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && PGBIN=$d; done
if [ -z "$PGBIN" ] || ! id postgres >/dev/null 2>&1; then
	note "no PostgreSQL server (package postgresql): fleet figures skipped"
	exit 0
fi
for b in mkstore fleet_prop fleet_rows fleet_apply; do
	[ -x "$BB/$b" ] || die "$BB/$b missing: run it as \`make bench-fleet\`"
done
for b in apitokend tokenctl; do
	[ -x "$BD/$b" ] || die "$BD/$b missing: run it as \`make bench-fleet\`"
done

W=$(mktemp -d /var/tmp/apitoken-benchf.XXXXXX)
chmod 711 "$W"		# postgres reaches its own dir $W/pg, nothing else
umask 077
PG=$W/pg
CONN="host=$PG port=5432 dbname=apitoken user=postgres"

stop_replicas() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	PIDS=""
}
cleanup() {
	stop_replicas
	if [ "$PGUP" = 1 ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG/data" -w \
		    -m fast stop >/dev/null 2>&1 || note "PostgreSQL did not stop"
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then note "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

R=$W/results
: >"$R"
put() { printf '%s\t%s\n' "$1" "$2" >>"$R"; }
get() { awk -F'\t' -v k="$1" '$1 == k { v = $2 }
	END { print v == "" ? "n/a" : v }' "$R"; }
record() { while read -r k v; do put "$k" "$v"; done; }
ms_now() { date +%s%3N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "n/a" }'; }

psql_() {	# SQL [psql options...]: as the superuser, into the database
	sql=$1
	shift
	runuser -u postgres -- "$PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 \
	    -d "$CONN" "$@" -c "$sql"
}

# ------------------------------------------------------------ PostgreSQL
start_pg() {
	mkdir "$PG"
	chown postgres: "$PG"
	note "PostgreSQL: initdb and start in $PG"
	runuser -u postgres -- "$PGBIN/initdb" -D "$PG/data" -U postgres \
	    --auth=trust -E UTF8 --locale=C.UTF-8 >"$W/initdb.log" 2>&1 ||
	    { cat "$W/initdb.log" >&2; die "initdb failed"; }
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/log" -w \
	    -t 120 -o "-k $PG -c listen_addresses= -p 5432 -c max_connections=100" \
	    start >/dev/null || { cat "$PG/log" >&2; die "PostgreSQL did not start"; }
	PGUP=1
	runuser -u postgres -- "$PGBIN/psql" -X -q -d \
	    "host=$PG port=5432 dbname=postgres user=postgres" \
	    -c "CREATE DATABASE apitoken" >/dev/null
	mkdir -p "$W/admin"
	printf 'store: %s/admin/tokens\nstate_dir: %s/admin/state\nhost_name: admin\npostgresql:\n  conninfo: "%s"\n' \
	    "$W" "$W" "$CONN" >"$W/admin/apitoken.yaml"
	"$BD/tokenctl" -c "$W/admin/apitoken.yaml" db init >/dev/null
}

# ------------------------------------------------------------ replicas
start_replica() {	# i : apitokend for host r<i>, its config r<i>/apitoken.yaml
	d=$W/r$1
	mkdir -p "$d/run"
	printf 'store: %s/db/tokens\nstate_dir: %s/state\ndaemon_socket: %s/run/apitokend.sock\nhost_name: r%s\nlock_timeout: 60s\npostgresql:\n  conninfo: "%s"\n' \
	    "$d" "$d" "$d" "$1" "$CONN" >"$d/apitoken.yaml"
	"$BD/tokenctl" -c "$d/apitoken.yaml" init >/dev/null
	"$BD/apitokend" -f -c "$d/apitoken.yaml" 2>>"$d/log" &
	PIDS="$PIDS $!"
}

wait_synced() {	# i [limit s]: until tokenctl replica status says connected
	d=$W/r$1 end=$(( $(date +%s) + ${2:-120} ))
	until "$BD/tokenctl" -c "$d/apitoken.yaml" replica status 2>/dev/null |
	    grep -q '^connection: *connected'; do
		[ "$(date +%s)" -lt "$end" ] ||
		    { cat "$d/log" >&2; die "replica r$1 did not sync"; }
		sleep 0.05
	done
}

propagation() {
	note "propagation: $NREP replicas, $ROUNDS rounds of issue + revoke"
	i=1
	while [ $i -le "$NREP" ]; do start_replica $i; i=$((i + 1)); done
	i=1 confs=""
	while [ $i -le "$NREP" ]; do
		wait_synced $i
		confs="$confs $W/r$i/apitoken.yaml"
		i=$((i + 1))
	done
	put prop_load "$(cut -d' ' -f1 /proc/loadavg)"
	# shellcheck disable=SC2086
	"$BB/fleet_prop" "$BD/tokenctl" "$W/admin/apitoken.yaml" "$ROUNDS" \
	    root $confs >"$W/prop.out" || die "fleet_prop failed"
	record <"$W/prop.out"
	stop_replicas
}

# ------------------------------------------------------------ the burst
big_rows() {
	if [ -n "${BENCH_STORE:-}" ]; then
		S=$BENCH_STORE
	else
		S=$W/big
		mkdir -p "$S/store" "$S/state"
		printf 'store: %s/store/tokens\nstate_dir: %s/state\nlock_timeout: 60s\n' \
		    "$S" "$S" >"$S/apitoken.yaml"
		note "building a store of $NTOK tokens"
		"$BB/mkstore" "$S/apitoken.yaml" "$NTOK" "$S/sample" \
		    "$S/root" >/dev/null
	fi
	"$BB/fleet_rows" "$S/apitoken.yaml" "$W/rows" "$W/burst" "$NBURST" \
	    >"$W/rows.out" || die "fleet_rows failed"
	sed 's/^/big_/' "$W/rows.out" | record
	note "COPY of $(get big_rows) rows into apitoken_tokens"
	t0=$(ms_now)
	psql_ "ALTER TABLE apitoken_tokens DISABLE TRIGGER USER" >/dev/null
	psql_ "COPY apitoken_tokens (id, user_name, label, status, parent, line) FROM STDIN" <"$W/rows"
	psql_ "ALTER TABLE apitoken_tokens ENABLE TRIGGER USER; ANALYZE apitoken_tokens" >/dev/null
	put copy_ms $(( $(ms_now) - t0 ))
	psql_ "CREATE TABLE apitoken_burst (id text PRIMARY KEY, status text, line text)"
	psql_ "COPY apitoken_burst FROM STDIN" <"$W/burst"
	rm -f "$W/rows"
}

ctl_runs() {	# verb: CTLRUNS timed tokenctl runs against the big store -> ms
	k=0
	: >"$W/ctl.ms"
	while [ $k -lt "$CTLRUNS" ]; do
		t0=$(ms_now)
		case $1 in
		issue)
			"$BD/tokenctl" -c "$W/admin/apitoken.yaml" issue root \
			    --label "bench-$k" >"$W/ctl.tok" ;;
		revoke)
			id=$(sed -n "$((k + 1))p" "$W/ctl.ids")
			"$BD/tokenctl" -c "$W/admin/apitoken.yaml" revoke "$id" \
			    >/dev/null ;;
		esac
		echo $(( $(ms_now) - t0 )) >>"$W/ctl.ms"
		[ "$1" = revoke ] ||
			cut -d_ -f2 "$W/ctl.tok" >>"$W/ctl.ids"
		k=$((k + 1))
	done
	median <"$W/ctl.ms"
}

burst() {
	big_rows
	note "a replica of $(get big_rows) tokens: snapshot"
	t0=$(ms_now)
	start_replica 0
	wait_synced 0 1800
	put snapshot_ms $(( $(ms_now) - t0 ))
	put burst_load "$(cut -d' ' -f1 /proc/loadavg)"
	note "a burst of $(get big_burst) changes"
	"$BB/fleet_apply" "$W/r0/apitoken.yaml" \
	    "runuser -u postgres -- $PGBIN/psql -X -q -v ON_ERROR_STOP=1 -d '$CONN' -c 'UPDATE apitoken_tokens t SET status = b.status, line = b.line FROM apitoken_burst b WHERE t.id = b.id'" \
	    "runuser -u postgres -- $PGBIN/psql -X -A -t -q -F ' ' -d '$CONN' -c 'SELECT xid, seq FROM apitoken_changes ORDER BY xid DESC, seq DESC LIMIT 1'" \
	    >"$W/apply.out" || die "fleet_apply failed"
	record <"$W/apply.out"
	note "tokenctl issue and revoke against $(get big_rows) rows"
	: >"$W/ctl.ids"
	put big_issue_ms "$(ctl_runs issue)"
	put big_revoke_ms "$(ctl_runs revoke)"
	stop_replicas
}

# ------------------------------------------------------------ the table
verdict() {	# label value limit
	case $2 in
	n/a) v="not measured" ;;
	*) if [ "$2" -le "$3" ]; then v="met"; else v="MISSED"; fi ;;
	esac
	printf '  %-52s %10s ms  (target <= %s ms: %s)\n' "$1" "$2" "$3" "$v"
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
start_pg
propagation
burst
echo
echo "apitoken fleet benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)$( [ "$QUICK" = 1 ] && echo '  (QUICK)')"
echo "machine: $(uname -srm) | cores: $(nproc) | PostgreSQL $("$PGBIN/postgres" --version | awk '{ print $3 }')"
echo "load average: $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
echo "revocation propagation, $NREP replicas x $ROUNDS rounds = $(get prop_samples) samples (load $(get prop_load)):"
verdict "commit -> refusal, p50" "$(get prop_p50_ms)" 1000
verdict "commit -> refusal, p99" "$(get prop_p99_ms)" 1000
printf '  %-52s %10s ms\n' "commit -> refusal, max" "$(get prop_max_ms)"
printf '  %-52s %10s ms\n' "commit -> a new token accepted, p50" "$(get issue_prop_p50_ms)"
printf '  %-52s %10s ms\n' "commit -> a new token accepted, p99" "$(get issue_prop_p99_ms)"
echo "tokenctl against PostgreSQL, median wall time:"
printf '  %-52s %10s ms\n' "issue, up to $ROUNDS tokens in the store" "$(get ctl_issue_ms)"
printf '  %-52s %10s ms\n' "revoke, same" "$(get ctl_revoke_ms)"
printf '  %-52s %10s ms\n' "issue, $(get big_rows) tokens, $CTLRUNS runs" "$(get big_issue_ms)"
printf '  %-52s %10s ms\n' "revoke, same" "$(get big_revoke_ms)"
echo "a replica of $(get big_rows) tokens (load $(get burst_load)):"
printf '  %-52s %10s ms\n' "COPY of the rows into PostgreSQL" "$(get copy_ms)"
printf '  %-52s %10s ms\n' "apitokend start to first sync (snapshot)" "$(get snapshot_ms)"
printf '  %-52s %10s ms\n' "burst of $(get big_burst) changes: UPDATE + COMMIT" "$(get burst_commit_ms)"
verdict "burst applied: commit -> replica's cursor" "$(get burst_apply_ms)" 2000
printf '  %-52s %10s ms\n' "  apitokend's CPU time meanwhile" "$(get burst_apply_cpu_ms)"
