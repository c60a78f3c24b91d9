#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tests/e2e/nginx.sh BUILD_DIR - a real nginx with
# libnginx-mod-http-auth-pam on 127.0.0.1, master as root and workers as
# www-data, its PAM service the shipped conf/pam.d/nginx-token-only.  The
# workers cannot read the store: the module asks apitokend, whose
# daemon_callers grant www-data that service (issue 11).
#
#   - "curl -u user:TOKEN" gets 200; a wrong, a revoked (while nginx
#     runs), a disabled, another service's and another user's token 401,
#     each with its reason in apitokend's log line;
#   - throttling: after max_failures unknown tokens (well-formed, their
#     record deleted) the right one gets 401 with "throttled";
#     "tokenctl unlock" lets it in again;
#   - apitokend stopped: the right token gets 401, fail closed, and the
#     module names the socket (daemon-unavailable).
#
# Root only; /etc/pam.d/<svc> and the users are removed on exit.
. "$(dirname "$0")/lib.sh"
e2e_namespace "$@"
e2e_start "$@"
NGX_MOD=/usr/lib/nginx/modules/ngx_http_auth_pam_module.so
for t in nginx curl perl useradd; do
	command -v "$t" >/dev/null || skip "nginx.sh: $t not installed"
done
[ -e "$NGX_MOD" ] || skip "nginx.sh: libnginx-mod-http-auth-pam not installed"
getent passwd www-data >/dev/null || skip "nginx.sh: no user www-data"
e2e_syslog
e2e_module_copy

USER_=apitok-ngx-$$
OTHER_=apitok-ngo-$$
SVC=nginx-api-$$
e2e_user "$USER_"
e2e_user "$OTHER_"
e2e_pam_service nginx-token-only "$SVC"
cat >> "$CFG" <<EOC
daemon_socket: $T/run/apitokend.sock
daemon_callers:
  www-data: [$SVC]
max_failures: 8
failure_window: 15m
lockout: 15m
EOC
e2e_daemon_start

mkdir -p "$T/nginx/logs" "$T/www/api" || exit 1
echo "hello from nginx" > "$T/www/api/hello.txt"
chmod -R a+rX "$T/www"

# start_nginx: sets PORT and NGINX_PID
start_nginx() {
	for try in 1 2 3 4 5; do
		PORT=$(e2e_free_port) || { say "FAIL: no free port"; exit 1; }
		cat > "$T/nginx/nginx.conf" <<EOC
load_module $NGX_MOD;
user www-data;
worker_processes 1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log info;
events { worker_connections 64; }
http {
	access_log $T/nginx/logs/access.log;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
	server {
		listen 127.0.0.1:$PORT;
		root $T/www;
		location /api/ {
			auth_pam "API";
			auth_pam_service_name "$SVC";
		}
	}
}
EOC
		nginx -t -q -p "$T/nginx" -e "$T/nginx/logs/error.log" \
		    -c "$T/nginx/nginx.conf" ||
			{ say "FAIL: nginx -t"; exit 1; }
		nginx -p "$T/nginx" -e "$T/nginx/logs/error.log" \
		    -c "$T/nginx/nginx.conf" &
		NGINX_PID=$!
		if e2e_wait 300 nginx_answers; then
			at_exit "kill $NGINX_PID"
			say "nginx listening on 127.0.0.1:$PORT"
			return 0
		fi
		kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null
	done
	say "FAIL: nginx did not start:"; cat "$T/nginx/logs/error.log"; exit 1
}
nginx_answers() {
	kill -0 "$NGINX_PID" || return 2
	[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
	    "http://127.0.0.1:$PORT/api/hello.txt")" = 401 ]
}

# get USER SECRET: the HTTP status of /api/hello.txt with Basic auth (the
# secret goes to curl on stdin, never in argv); the body in $T/body.
get() {
	printf 'user = "%s:%s"\n' "$1" "$2" | curl -s -K - -o "$T/body" \
	    -w '%{http_code}' --max-time 30 \
	    "http://127.0.0.1:$PORT/api/hello.txt"
}

# expect STATUS REASON WHAT USER SECRET: the status, and apitokend's log
# line for it names REASON; "local:REASON": the module decided alone
# (its line names REASON, apitokend was not asked); "-": no check
expect() {
	want=$1 reason=$2 what=$3
	e2e_log_mark
	got=$(get "$4" "$5")
	if [ "$got" != "$want" ]; then
		fail "$what: HTTP $got, expected $want"
		e2e_log_since; tail -n 5 "$T/nginx/logs/error.log"
		return
	fi
	case $reason in
	-)	ok "$what: HTTP $got"; return ;;
	local:*)
		reason=${reason#local:}
		if ! e2e_wait 50 module_said "reason=$reason" ||
		    e2e_daemon_lines | grep -q .; then
			fail "$what: HTTP $got, not refused by the module alone:"
			e2e_log_since; return
		fi ;;
	*)	if ! e2e_daemon_said "reason=$reason"; then
			fail "$what: HTTP $got but no apitokend line with $reason:"
			e2e_log_since; return
		fi ;;
	esac
	ok "$what: HTTP $got ($reason)"
}
module_said() { e2e_log_since | grep 'pam_apitoken(' | grep -q -- "$1"; }

typo() { case $1 in *x) printf '%sy' "${1%?}" ;; *) printf '%sx' "${1%?}" ;; esac; }

start_nginx
ps -o user= -p "$(pgrep -P "$NGINX_PID" | head -n 1)" | grep -qx www-data ||
	fail "nginx's worker does not run as www-data"

TOKEN=$(tokenctl issue "$USER_" --label e2e-nginx --service "$SVC") || exit 1
ID=$(token_id "$TOKEN")
SSHD_ONLY=$(tokenctl issue "$USER_" --label e2e-sshd --service sshd) || exit 1
DISABLED=$(tokenctl issue "$USER_" --label e2e-off --service "$SVC") || exit 1
tokenctl disable "$(token_id "$DISABLED")" >/dev/null || exit 1
OTHERS=$(tokenctl issue "$OTHER_" --label e2e-other --service "$SVC") || exit 1
GONE=$(tokenctl issue "$USER_" --label e2e-gone --service "$SVC") || exit 1
tokenctl delete "$(token_id "$GONE")" >/dev/null || exit 1

expect 200 accepted "the user's token" "$USER_" "$TOKEN"
grep -q "hello from nginx" "$T/body" || fail "200 without the page"
expect 401 - "no token (the password field empty)" "$USER_" ""
expect 401 local:bad-checksum "a mistyped token" "$USER_" "$(typo "$TOKEN")"
expect 401 unknown "a token whose record was deleted" "$USER_" "$GONE"
expect 401 disabled "a disabled token" "$USER_" "$DISABLED"
expect 401 service-not-allowed "a token for sshd only" "$USER_" "$SSHD_ONLY"
expect 401 wrong-user "another user's token" "$USER_" "$OTHERS"
expect 200 accepted "the other user with his own token" "$OTHER_" "$OTHERS"
# one failure that counts (unknown) so far; a success resets the count
expect 200 accepted "the token again, nginx still running" "$USER_" "$TOKEN"
tokenctl revoke "$ID" --reason e2e >/dev/null || fail "tokenctl revoke"
expect 401 revoked "the token revoked while nginx runs" "$USER_" "$TOKEN"

# --- throttling: max_failures (8) unknown tokens, then the right one ---
TOKEN=$(tokenctl issue "$USER_" --label e2e-nginx-2 --service "$SVC") || exit 1
ID=$(token_id "$TOKEN")
expect 200 accepted "a fresh token" "$USER_" "$TOKEN"
for i in 1 2 3 4 5 6 7 8; do
	get "$USER_" "$GONE" >/dev/null
done
expect 401 throttled "the right token after 8 unknown ones" "$USER_" "$TOKEN"
out=$(tokenctl lockouts 2>&1)
case $out in
*"$USER_"*|*"$ID"*) ok "tokenctl lockouts lists it" ;;
*) fail "tokenctl lockouts: $out" ;;
esac
tokenctl unlock "$ID" >/dev/null	# if only the pair is locked: nothing
tokenctl unlock --user "$USER_" >/dev/null ||
	fail "tokenctl unlock --user $USER_: exit $?"
out=$(tokenctl lockouts 2>&1)
case $out in
*"$USER_"*|*"$ID"*) fail "still locked after tokenctl unlock: $out" ;;
esac
expect 200 accepted "after tokenctl unlock" "$USER_" "$TOKEN"

# --- apitokend stopped: fail closed ---
e2e_daemon_stop
e2e_log_mark
got=$(get "$USER_" "$TOKEN")
[ "$got" = 401 ] && ok "apitokend stopped: HTTP 401 (fail closed)" ||
	fail "apitokend stopped: HTTP $got"
tail -n 3 "$T/nginx/logs/error.log" |
    grep -q "not authenticated: Authentication service cannot retrieve" &&
	ok "auth_pam got PAM_AUTHINFO_UNAVAIL" ||
	fail "nginx's error.log: $(tail -n 3 "$T/nginx/logs/error.log")"
e2e_wait 50 sh -c "tail -n +$((LOG_MARK + 1)) '$SYSLOG' | grep -q '$SOCK'" &&
	ok "the module's line names the socket" ||
	{ fail "no log line naming $SOCK:"; e2e_log_since; }
e2e_end
