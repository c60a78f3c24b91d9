#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tests/e2e/sshd.sh BUILD_DIR - a real sshd on 127.0.0.1 using the shipped
# conf/pam.d examples: a token logs in over keyboard-interactive and
# $APITOKEN_ID is set in the shell; a wrong token and a revoked token are
# refused at once; with token-or-password the Unix password still works.
#
# sshd is started from a symlink, so its PAM service is the symlink's name
# (/etc/pam.d/<name>, created here and removed on exit).  Root only.
. "$(dirname "$0")/lib.sh"
e2e_start "$@"
# No apitokend here: sshd runs PAM as root and the module (mode=auto, the
# default) reads the store itself; the socket it would ask never exists
# (issue 11: root callers do not depend on the daemon).
echo "daemon_socket: $T/no-apitokend.sock" >> "$CFG"
for t in /usr/sbin/sshd ssh ssh-keygen sshpass useradd; do
	command -v "$t" >/dev/null || skip "sshd.sh: $t not installed"
done

USER_=apitok-ssh-$$
e2e_user "$USER_"
if [ ! -d /run/sshd ]; then
	mkdir -m 0755 /run/sshd && at_exit "rmdir /run/sshd"
fi
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" || exit 1

# start_sshd EXAMPLE: an sshd whose PAM service uses conf/pam.d/EXAMPLE;
# sets PORT and SSHD_PID.
start_sshd() {
	svc=sshd-apitok-$1-$$
	e2e_pam_service "$1" "$svc"
	ln -s /usr/sbin/sshd "$T/$svc"
	for PORT in $(seq 2222 2262); do
		cat > "$T/sshd_config" <<EOC
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/hostkey
PidFile $T/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication no
AuthenticationMethods keyboard-interactive
PermitRootLogin no
AllowUsers $USER_
UseDNS no
PrintMotd no
MaxAuthTries 2
LogLevel VERBOSE
EOC
		: > "$T/sshd.log"
		"$T/$svc" -D -e -f "$T/sshd_config" -E "$T/sshd.log" &
		SSHD_PID=$!
		i=0
		while [ $i -lt 50 ]; do
			grep -q "Server listening" "$T/sshd.log" && break
			kill -0 $SSHD_PID 2>/dev/null || break
			sleep 0.1; i=$((i + 1))
		done
		if grep -q "Server listening" "$T/sshd.log"; then
			at_exit "kill $SSHD_PID"
			say "sshd ($svc) listening on 127.0.0.1:$PORT"
			return 0
		fi
		kill $SSHD_PID 2>/dev/null; wait $SSHD_PID 2>/dev/null
	done
	say "FAIL: sshd did not start:"; cat "$T/sshd.log"; exit 1
}

stop_sshd() { kill "$SSHD_PID"; wait "$SSHD_PID" 2>/dev/null; }

# login SECRET: ssh in with keyboard-interactive, answer the prompt.
login() {
	SSHPASS=$1 timeout 30 sshpass -e -P "token:" ssh -F /dev/null \
	    -o PreferredAuthentications=keyboard-interactive \
	    -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o ConnectTimeout=10 -o LogLevel=ERROR -p "$PORT" \
	    "$USER_@127.0.0.1" 'echo "id=$APITOKEN_ID label=$APITOKEN_LABEL user=$(id -un)"' 2>&1
}

# --- token only ------------------------------------------------------
start_sshd sshd-token-only
TOKEN=$(tokenctl issue "$USER_" --label e2e-ssh --service "$svc") || exit 1
ID=$(token_id "$TOKEN")

out=$(login "$TOKEN"); rc=$?
case $out in
*"id=$ID label=e2e-ssh user=$USER_"*) ok "token logs in, \$APITOKEN_ID=$ID in the shell" ;;
*) fail "token login (exit $rc): $out"; cat "$T/sshd.log" ;;
esac

case $TOKEN in *x) typo=${TOKEN%?}y ;; *) typo=${TOKEN%?}x ;; esac
out=$(login "$typo"); rc=$?
case $out in
*"id="*) fail "mistyped token logged in: $out" ;;
*) [ $rc -ne 0 ] && ok "mistyped token refused (exit $rc)" || fail "mistyped token: exit 0" ;;
esac

out=$(login "hunter2"); rc=$?
case $out in
*"id="*) fail "a password logged in with token-only: $out" ;;
*) ok "a password is refused by the token-only stack (exit $rc)" ;;
esac

tokenctl revoke "$ID" --reason "e2e" >/dev/null || fail "tokenctl revoke"
out=$(login "$TOKEN"); rc=$?
case $out in
*"id="*) fail "revoked token logged in: $out" ;;
*) [ $rc -ne 0 ] && ok "revoked token refused at once (exit $rc)" || fail "revoked: exit 0" ;;
esac
stop_sshd

# --- token or password ----------------------------------------------------
echo "$USER_:E2e-pass-$$-word" | chpasswd || fail "chpasswd"
start_sshd sshd-token-or-password
TOKEN=$(tokenctl issue "$USER_" --label e2e-either) || exit 1
ID=$(token_id "$TOKEN")
out=$(login "$TOKEN"); rc=$?
case $out in
*"id=$ID label=e2e-either user=$USER_"*) ok "token-or-password: the token logs in, \$APITOKEN_ID=$ID" ;;
*) fail "token-or-password, token (exit $rc): $out"; cat "$T/sshd.log" ;;
esac
out=$(login "E2e-pass-$$-word"); rc=$?
case $out in
*"id= label= user=$USER_"*) ok "token-or-password: the password logs in, no APITOKEN_ID" ;;
*) fail "token-or-password, password (exit $rc): $out"; cat "$T/sshd.log" ;;
esac
tokenctl revoke "$ID" >/dev/null || fail "tokenctl revoke"
out=$(login "$TOKEN"); rc=$?
case $out in
*"user="*) fail "token-or-password: revoked token logged in: $out" ;;
*) ok "token-or-password: revoked token refused (exit $rc)" ;;
esac
stop_sshd
[ -e "$T/no-apitokend.sock" ] && fail "something made $T/no-apitokend.sock"
e2e_end
