#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/daemon.sh - apitokend's figures (issues 11 and 12): verifications a
# second through its socket, latency at a steady rate, pamtester as a
# non-root user through the daemon against pam_permit, and its HTTP
# endpoint with wrk, straight and behind nginx auth_request.  make bench
# runs it after bench/bench.sh; alone: `make bench-daemon [QUICK=1]`.
#
# Environment: B (build dir), QUICK=1 (100,000 tokens, shorter runs),
# BENCH_STORE (a directory of bench.sh's with apitoken.yaml, store/,
# sample and root: use its store instead of building one), BENCH_SECS
# (seconds per load run), BENCH_ROUNDS (pamtester rounds), BENCH_KEEP=1.
# Needs root (the daemon runs as root and its clients check that); parts
# whose tool (pamtester, libpam-wrapper, wrk, nginx, curl) is missing, or
# a daemon without http_listen, are skipped with a note.  Creates, then
# removes, the account "apitokbenchd" (the non-root pamtester caller).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
case $B in /*) BD=$B ;; *) BD=$ROOT/$B ;; esac
BB=$BD/bench
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	NTOK=100000 SECS=${BENCH_SECS:-5} ROUNDS=${BENCH_ROUNDS:-40}
else
	NTOK=1000000 SECS=${BENCH_SECS:-10} ROUNDS=${BENCH_ROUNDS:-300}
fi
CLIENTS=8 RATE=1000
DUSER=apitokbenchd
DGECOS="apitokend bench (temporary)"
CREATED_USER=0 DPID="" NGINX_PID=""

note() { printf 'bench-daemon: %s\n' "$*" >&2; }
die() { note "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || { note "not root: apitokend figures skipped"; exit 0; }
[ -x "$BD/apitokend" ] ||
	{ note "$BD/apitokend not built: apitokend figures skipped"; exit 0; }
for b in mkstore daemon_load runcmp; do
	[ -x "$BB/$b" ] || die "$BB/$b missing: run it as \`make bench\`"
done

W=$(mktemp -d /var/tmp/apitoken-benchd.XXXXXX)
# RUN: what the non-root caller must reach (config, socket, PAM files);
# W stays root-only, and so does the store in it.
RUN=$W/run
# (the module opens each directory on the way to its config: r-x)
mkdir -p "$RUN/pam.d" "$RUN/www" "$W/state"
chmod 755 "$W"
chmod 700 "$W/state"
umask 077	# the tokens kept in W; what the caller reads gets chmod 644
chmod 755 "$RUN" "$RUN/pam.d" "$RUN/www"
stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	DPID=
}
stop_nginx() {
	[ -n "$NGINX_PID" ] || return 0
	kill -TERM "$NGINX_PID" 2>/dev/null || true
	i=0
	while kill -0 "$NGINX_PID" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	NGINX_PID=
}
cleanup() {
	stop_nginx
	stop_daemon
	if [ "$CREATED_USER" = 1 ]; then
		userdel "$DUSER" 2>/dev/null || note "could not remove $DUSER"
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
have() { command -v "$1" >/dev/null 2>&1; }

# ------------------------------------------------------ store and daemon
if [ -n "${BENCH_STORE:-}" ]; then
	S=$BENCH_STORE
	NTOK=$(grep -vc '^#' "$S/store/tokens" || true)
else
	S=$W/store
	mkdir -p "$S/store" "$S/state"
	chmod 700 "$S" "$S/store" "$S/state"
	printf 'store: %s/store/tokens\nstate_dir: %s/state\nlock_timeout: 60s\n' \
	    "$S" "$S" >"$S/apitoken.yaml"
	note "building a store of $NTOK tokens"
	"$BB/mkstore" "$S/apitoken.yaml" "$NTOK" "$S/sample" "$S/root" >/dev/null
fi
SOCK=$RUN/apitokend.sock
CFG=$RUN/apitoken.yaml
write_config() {	# [http address]
	{
		printf 'store: %s/store/tokens\n' "$S"
		printf 'state_dir: %s/state\n' "$W"
		printf 'daemon_socket: %s\n' "$SOCK"
		printf 'lock_timeout: 60s\n'
		[ $# -eq 0 ] || printf 'http_listen: ["%s"]\n' "$1"
	} >"$CFG"
	chmod 644 "$CFG"
}

start_daemon() {
	"$BD/apitokend" -c "$CFG" -f 2>>"$W/apitokend.err" &
	DPID=$!
	# ready when it accepts a verification (generous: ASan, busy host)
	"$BB/daemon_load" "$CFG" "$S/root" wait 30 ||
	    { cat "$W/apitokend.err" >&2; die "apitokend did not answer"; }
}

# ------------------------------------------------------ socket load
load_run() {	# name mode args...: one daemon_load run -> results name_*
	n=$1 mode=$2
	shift 2
	"$BB/daemon_load" -p "$DPID" "$CFG" "$S/sample" "$@" >"$W/load.out" ||
	    { note "daemon_load $* failed"; return 0; }
	sed "s/^${mode}_/${n}_/" "$W/load.out" | record
}

socket_runs() {
	note "socket: $CLIENTS clients, connect per request, ${SECS}s"
	load_run conn conn closed "$CLIENTS" "$SECS"
	note "socket: $CLIENTS clients, one connection each, ${SECS}s"
	load_run keep keep closed "$CLIENTS" "$SECS" keep
	note "socket: 1 client, connect per request, ${SECS}s"
	load_run one conn closed 1 "$SECS"
	note "socket: paced $RATE/s (open loop), $((SECS * 2))s"
	load_run paced paced paced "$RATE" $((SECS * 2))
}

# ------------------------------------------------------ pamtester
setup_user() {
	if ! id "$DUSER" >/dev/null 2>&1; then
		useradd -M -d /nonexistent -s /usr/sbin/nologin -c "$DGECOS" \
		    "$DUSER" || return 1
	elif ! getent passwd "$DUSER" | cut -d: -f5 | grep -Fqx "$DGECOS"; then
		note "account $DUSER exists and is not the bench's"
		return 1
	fi
	CREATED_USER=1
	"$BD/tokenctl" -c "$CFG" issue "$DUSER" --label "bench daemon" \
	    >"$W/tok.user" || return 1
	head -n 1 "$S/root" >"$W/tok.root"
}

pam_runs() {
	have pamtester && [ -n "$(find /usr/lib /lib -name libpam_wrapper.so \
	    2>/dev/null | head -n 1)" ] ||
	    { note "pamtester or libpam-wrapper missing: pamtester rows skipped"
	    return 0; }
	setup_user || { note "pamtester rows skipped"; return 0; }
	m=$BD/pam_apitoken.so C=$W/cases
	echo "auth required pam_permit.so" >"$RUN/pam.d/permit"
	echo "auth required $m config=$CFG" >"$RUN/pam.d/auto"
	echo "auth required $m config=$CFG mode=daemon" >"$RUN/pam.d/daemon"
	echo "auth required $m config=$CFG mode=local" >"$RUN/pam.d/local"
	chmod 644 "$RUN"/pam.d/*
	as=@$(id -u "$DUSER"):$(id -g "$DUSER")	# runcmp drops to it
	{
		printf 'permit_user\t/dev/null\t0\t%s\tpamtester\tpermit\t%s\tauthenticate\n' \
		    "$as" "$DUSER"
		printf 'auto_user\t%s\t0\t%s\tpamtester\tauto\t%s\tauthenticate\n' \
		    "$W/tok.user" "$as" "$DUSER"
		printf 'permit_root\t/dev/null\t0\tpamtester\tpermit\troot\tauthenticate\n'
		printf 'local_root\t%s\t0\tpamtester\tlocal\troot\tauthenticate\n' \
		    "$W/tok.root"
		printf 'daemon_root\t%s\t0\tpamtester\tdaemon\troot\tauthenticate\n' \
		    "$W/tok.root"
	} >"$C"
	note "pamtester: $ROUNDS alternating rounds"
	LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 \
	    PAM_WRAPPER_SERVICE_DIR=$RUN/pam.d \
	    "$BB/runcmp" -n "$ROUNDS" -w 3 "$C" 2>"$W/e2e.err" >"$W/e2e" || {
		grep -v '^PWRAP' "$W/e2e.err" >&2
		note "pamtester run failed: rows skipped"; return 0; }
	while read -r name med p10 p90 _ n; do
		put "pam_${name}_ms" "$med"
		put "pam_${name}_p10" "$p10"
		put "pam_${name}_p90" "$p90"
		put pam_rounds "$n"
	done <"$W/e2e"
}

# ------------------------------------------------------ HTTP
free_port() {	# n: a loopback TCP port nobody listens on (n: 1, 2, ...)
	i=0
	while [ $i -lt 50 ]; do
		p=$(awk -v s="$$" -v n="$1" -v i="$i" 'BEGIN { srand(s + 7919 * i)
		    print 20000 + (int(rand() * 13331) * 3 + n) % 40000 }')
		[ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] || { echo "$p"; return; }
		i=$((i + 1))
	done
	die "no free port"
}

wait_http() {	# url: until it answers at all (30 s)
	i=0
	until curl -s -o /dev/null --max-time 1 "$1"; do
		i=$((i + 1))
		[ $i -lt 300 ] || return 1
		sleep 0.1
	done
}

wrk_run() {	# name url [header]
	n=$1 u=$2
	shift 2
	wrk -t2 -c32 -d"${SECS}s" --latency "$@" "$u" >"$W/wrk.$n" 2>&1 ||
	    { cat "$W/wrk.$n" >&2; note "wrk $n failed"; return 0; }
	awk -v n="$n" '
	function ms(v) {
		if (v ~ /us$/) return v / 1000
		if (v ~ /ms$/) return v + 0
		if (v ~ /s$/) return v * 1000
		return v
	}
	$1 == "50%" { printf "%s_p50_ms %.3f\n", n, ms($2) }
	$1 == "99%" { printf "%s_p99_ms %.3f\n", n, ms($2) }
	$1 == "Requests/sec:" { printf "%s_rps %.0f\n", n, $2 }
	/Non-2xx/ { printf "%s_non2xx %s\n", n, $NF }
	/Socket errors/ { printf "%s_errors %s\n", n, $0 }' "$W/wrk.$n" |
	    sed 's/Socket errors: //' | record
}

nginx_conf() {	# port_plain port_auth http_port port_null port_authnull
	N=$W/nginx
	mkdir -p "$N/tmp"
	cat >"$N/nginx.conf" <<EOF
worker_processes auto;
pid $N/nginx.pid;
error_log $N/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	upstream apitokend {
		server 127.0.0.1:$3;
		keepalive 32;
	}
	# the floor of any auth service: same proxying, an answer that
	# costs nothing (nginx's own "return 200")
	upstream null {
		server 127.0.0.1:$4;
		keepalive 32;
	}
	server {
		listen 127.0.0.1:$4;
		location / {
			return 200;
		}
	}
	server {
		listen 127.0.0.1:$1;
		root $RUN/www;
	}
	server {
		listen 127.0.0.1:$2;
		root $RUN/www;
		location / {
			auth_request /_apitoken;
		}
		location = /_apitoken {
			internal;
			proxy_pass http://apitokend/auth/sshd;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
		}
	}
	server {
		listen 127.0.0.1:$5;
		root $RUN/www;
		location / {
			auth_request /_null;
		}
		location = /_null {
			internal;
			proxy_pass http://null/;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
		}
	}
}
EOF
}

http_runs() {	# http_port
	have wrk && have curl ||
	    { note "wrk or curl missing: HTTP rows skipped"; return 0; }
	tok=$(head -n 1 "$S/root")
	h="Authorization: Bearer $tok"
	url=http://127.0.0.1:$1/auth/sshd
	c=$(curl -s -o /dev/null -w '%{http_code}' -H "$h" "$url" || true)
	[ "$c" = 200 ] || { note "GET $url answered $c: HTTP rows skipped"
		return 0; }
	note "HTTP: wrk straight at $url, ${SECS}s"
	wrk_run direct "$url" -H "$h"
	have nginx || { note "nginx missing: nginx rows skipped"; return 0; }
	head -c 1024 /dev/zero | tr '\0' x >"$RUN/www/index.html"
	chmod 644 "$RUN/www/index.html"
	p1=$(free_port 1) p2=$(free_port 2) p3=$(free_port 4) p4=$(free_port 5)
	nginx_conf "$p1" "$p2" "$1" "$p3" "$p4"
	nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" ||
	    { note "nginx did not start: nginx rows skipped"; return 0; }
	NGINX_PID=$(cat "$W/nginx/nginx.pid")
	wait_http "http://127.0.0.1:$p1/" && wait_http "http://127.0.0.1:$p2/" ||
	    { note "nginx does not answer: nginx rows skipped"; return 0; }
	c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p2/")
	c2=$(curl -s -o /dev/null -w '%{http_code}' -H "$h" \
	    "http://127.0.0.1:$p2/")
	[ "$c" = 401 ] && [ "$c2" = 200 ] ||
	    { note "nginx auth_request answered $c / $c2, not 401 / 200"
	    return 0; }
	note "HTTP: wrk at nginx, static file, no auth then auth_request"
	wrk_run plain "http://127.0.0.1:$p1/index.html" -H "$h"
	wrk_run authreq "http://127.0.0.1:$p2/index.html" -H "$h"
	wrk_run authnull "http://127.0.0.1:$p4/index.html" -H "$h"
	stop_nginx
}

# ------------------------------------------------------ the table
val() { v=$(get "$1"); echo "$v"; }
line() {	# label value [unit]
	printf '  %-52s %12s %s\n' "$1" "$2" "${3:-}"
}
ratio() { echo "$1 $2" | awk '$1 + 0 > 0 && $2 + 0 > 0 { printf "%.2f", $1 / $2; exit }
	{ print "n/a" }'; }
cpu_line() {	# name: CPU time per verification, daemon and clients
	line "  CPU per verification: daemon / clients" \
	    "$(val "$1_daemon_cpu_us") / $(val "$1_client_cpu_us")" us
}
pam_row() {	# label case
	m=$(get "pam_$2_ms")
	[ "$m" = n/a ] && { printf '  %-46s skipped\n' "$1"; return; }
	printf '  %-46s%8.2f   %5.2f-%-6.2f %6s x\n' "$1" "$m" \
	    "$(get "pam_$2_p10")" "$(get "pam_$2_p90")" \
	    "$(ratio "$m" "$(get "pam_$3_ms")")"
}
verdict() {	# label value unit limit [ge]
	if [ "$2" = n/a ]; then
		printf '  %-56s %12s   %s\n' "$1" "$2" "NOT MEASURED"; return
	fi
	echo "$1|$2|$3|$4|${5:-le}" | awk -F'|' '{
	    ok = $5 == "ge" ? ($2 >= $4) : ($2 <= $4)
	    printf "  %-56s %12s   %s\n", $1, $2 " " $3, ok ? "met" : "MISSED" }'
}

print_table() {
	echo "apitokend  $(date -u +%Y-%m-%dT%H:%M:%SZ)$( [ "$QUICK" = 1 ] && echo '  (QUICK)')"
	echo "machine: $(uname -srm) | cores: $(nproc) | load average: $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
	echo "store: $NTOK tokens; $SECS s per load run; syslog: $( [ -S /dev/log ] && echo /dev/log || echo 'none (no /dev/log)')"
	echo
	echo "Unix socket, verifications/s and latency (us), every token a random sampled one:"
	line "$CLIENTS clients, connect per request (as the module)" "$(val conn_vps)" "/s"
	line "  p50 / p99" "$(val conn_p50_us) / $(val conn_p99_us)" us
	cpu_line conn
	if [ "$(get keep_supported)" = 1 ]; then
		line "$CLIENTS clients, one connection each" "$(val keep_vps)" "/s"
		line "  p50 / p99" "$(val keep_p50_us) / $(val keep_p99_us)" us
		cpu_line keep
	else
		line "$CLIENTS clients, one connection each" "one request per connection"
	fi
	line "1 client, connect per request" "$(val one_vps)" "/s"
	line "  p50 / p99" "$(val one_p50_us) / $(val one_p99_us)" us
	cpu_line one
	line "paced $RATE/s, open loop: p50 / p99" "$(val paced_p50_us) / $(val paced_p99_us)" us
	line "  p99.9 / max" "$(val paced_p999_us) / $(val paced_max_us)" us
	line "  service, from the send: p50 / p99" "$(val paced_svc_p50_us) / $(val paced_svc_p99_us)" us
	line "  service, p99.9 / max" "$(val paced_svc_p999_us) / $(val paced_svc_max_us)" us
	cpu_line paced
	echo
	echo "pamtester under pam_wrapper, $(get pam_rounds) alternating rounds (ms):"
	pam_row "pam_permit, as $DUSER" permit_user permit_user
	pam_row "pam_apitoken via apitokend, as $DUSER" auto_user permit_user
	pam_row "pam_permit, as root" permit_root permit_root
	pam_row "pam_apitoken mode=local, as root" local_root permit_root
	pam_row "pam_apitoken mode=daemon, as root" daemon_root permit_root
	echo
	echo "HTTP, wrk -t2 -c32 keep-alive, ${SECS}s, Bearer token (requests/s, p50/p99 ms):"
	line "apitokend /auth/sshd, straight" "$(val direct_rps)" \
	    "/s  $(val direct_p50_ms) / $(val direct_p99_ms)"
	line "nginx, 1 KiB static file, no auth" "$(val plain_rps)" \
	    "/s  $(val plain_p50_ms) / $(val plain_p99_ms)"
	line "nginx, the same with auth_request to apitokend" "$(val authreq_rps)" \
	    "/s  $(val authreq_p50_ms) / $(val authreq_p99_ms)"
	line "nginx, auth_request to nginx's own return 200" "$(val authnull_rps)" \
	    "/s  $(val authnull_p50_ms) / $(val authnull_p99_ms)"
	line "  ratio to no auth: apitokend / return 200" \
	    "$(ratio "$(get authreq_rps)" "$(get plain_rps)") / $(ratio "$(get authnull_rps)" "$(get plain_rps)")" x
	for n in direct plain authreq authnull; do
		[ "$(get ${n}_non2xx)" = n/a ] ||
		    line "  $n: non-2xx answers (should be none)" "$(get ${n}_non2xx)"
		[ "$(get ${n}_errors)" = n/a ] ||
		    line "  $n: socket errors" "$(get ${n}_errors)"
	done
	echo
	echo "Targets (issues 11, 12):"
	verdict "socket, $CLIENTS clients, verifications/s >= 20000" "$(val conn_vps)" /s 20000 ge
	verdict "socket, paced $RATE/s, service p99 <= 1000 us" "$(val paced_svc_p99_us)" us 1000
	verdict "pamtester non-root via daemon <= 1.10 x permit" \
	    "$(ratio "$(get pam_auto_user_ms)" "$(get pam_permit_user_ms)")" x 1.10
	verdict "HTTP straight, requests/s >= 20000" "$(val direct_rps)" /s 20000 ge
	verdict "nginx auth_request / no auth >= 0.6" \
	    "$(ratio "$(get authreq_rps)" "$(get plain_rps)")" x 0.6 ge
}

# ------------------------------------------------------ main
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
HP=
write_config
if have curl; then
	HP=$(free_port 0)
	write_config "127.0.0.1:$HP"
	"$BD/apitokend" -c "$CFG" --check-config >/dev/null 2>&1 || {
		note "apitokend does not take http_listen: HTTP rows skipped"
		HP=; write_config; }
fi
start_daemon
socket_runs
pam_runs
[ -z "$HP" ] || http_runs "$HP"
stop_daemon
print_table | tee -a "$BD/bench-results.txt"
