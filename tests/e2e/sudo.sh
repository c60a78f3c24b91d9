#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tests/e2e/sudo.sh BUILD_DIR - a real sudo with "Defaults pam_service=..."
# pointing at the shipped conf/pam.d/sudo-token-only: the user's token
# (read by sudo -S) runs the command and $APITOKEN_ID reaches it; a wrong
# token, a token for another service and a revoked token are refused at
# once.  The sudoers lines are the ones shipped in the example's comment
# (timestamp_timeout=0): after a revocation, sudo's credential cache does
# not let the user in again (issue 14 item 14).  Root only;
# /etc/pam.d/<svc>, /etc/sudoers.d/<file> and the user are removed on exit.
. "$(dirname "$0")/lib.sh"
e2e_start "$@"
# No apitokend here: sudo runs PAM as root and the module (mode=auto, the
# default) reads the store itself; the socket it would ask never exists
# (issue 11: root callers do not depend on the daemon).
echo "daemon_socket: $T/no-apitokend.sock" >> "$CFG"
for t in sudo visudo setpriv useradd; do
	command -v "$t" >/dev/null || skip "sudo.sh: $t not installed"
done

USER_=apitok-sudo-$$
SVC=sudo-apitok-$$
SUDOERS=/etc/sudoers.d/apitok-e2e-$$
e2e_user "$USER_"
e2e_pam_service sudo-token-only "$SVC"
at_exit "rm -f '$SUDOERS'"
# the example's "#   Defaults:alice ..." lines, for this user and service
sed -n "s/^#   Defaults:alice /Defaults:$USER_ /p" \
    "$SRC/conf/pam.d/sudo-token-only" | sed "s/sudo-apitoken/$SVC/" \
    > "$T/sudoers"
grep -q "pam_service=$SVC" "$T/sudoers" ||
	{ say "FAIL: no pam_service line in the example"; exit 1; }
cat >> "$T/sudoers" <<EOS
Defaults:$USER_ !lecture, passwd_tries=1
$USER_ ALL=(root) ALL
EOS
visudo -cqf "$T/sudoers" || { say "FAIL: visudo rejects the test sudoers"; exit 1; }
install -m 0440 "$T/sudoers" "$SUDOERS" || exit 1

# as_user SECRET: sudo -S as the test user, the secret on stdin.
as_user() {
	printf '%s\n' "$1" | timeout 30 setpriv --reuid="$USER_" \
	    --regid="$USER_" --init-groups env -i PATH=/usr/bin:/bin \
	    HOME=/tmp LANG=C sudo -S -k /bin/sh -c \
	    'echo "id=$APITOKEN_ID label=$APITOKEN_LABEL uid=$(id -u)"' 2>&1
}

TOKEN=$(tokenctl issue "$USER_" --label e2e-sudo --service "$SVC") || exit 1
ID=$(token_id "$TOKEN")
OTHER=$(tokenctl issue "$USER_" --label e2e-sshd-only --service sshd) || exit 1

out=$(as_user "$TOKEN"); rc=$?
case $out in
*"id=$ID label=e2e-sudo uid=0"*) ok "sudo with the token runs as root, \$APITOKEN_ID=$ID" ;;
*) fail "sudo with the token (exit $rc): $out" ;;
esac
case $out in
*"API token: "*) ok "sudo shows the module's prompt" ;;
*) fail "no \"API token: \" prompt: $out" ;;
esac

case $TOKEN in *x) typo=${TOKEN%?}y ;; *) typo=${TOKEN%?}x ;; esac
out=$(as_user "$typo"); rc=$?
case $out in
*"uid=0"*) fail "mistyped token ran the command: $out" ;;
*) [ $rc -ne 0 ] && ok "mistyped token refused (exit $rc)" || fail "typo: exit 0" ;;
esac

out=$(as_user "$OTHER"); rc=$?
case $out in
*"uid=0"*) fail "an sshd-only token ran sudo: $out" ;;
*) [ $rc -ne 0 ] && ok "token for another service refused (exit $rc)" || fail "sshd-only token: exit 0" ;;
esac

tokenctl revoke "$ID" --reason e2e >/dev/null || fail "tokenctl revoke"
out=$(as_user "$TOKEN"); rc=$?
case $out in
*"uid=0"*) fail "revoked token ran the command: $out" ;;
*) [ $rc -ne 0 ] && ok "revoked token refused at once (exit $rc)" || fail "revoked: exit 0" ;;
esac

# sudo's credential cache: one shell of the user runs sudo with a token,
# waits while root revokes it, then tries "sudo -n" (no prompt, cache only)
mkdir -m 0700 "$T/ts" && chown "$USER_" "$T/ts" || exit 1
TOKEN=$(tokenctl issue "$USER_" --label e2e-sudo-ts --service "$SVC") || exit 1
ID=$(token_id "$TOKEN")
timeout 60 setpriv --reuid="$USER_" --regid="$USER_" --init-groups \
    env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C TOK="$TOKEN" D="$T/ts" sh -c '
	printf "%s\n" "$TOK" | sudo -S true 2>/dev/null && echo first=ok
	touch "$D/ready"
	while [ ! -e "$D/go" ]; do sleep 0.1; done
	sudo -n true 2>/dev/null && echo second=ok || echo second=refused
' > "$T/ts.out" 2>&1 &
probe=$!
i=0
while [ ! -e "$T/ts/ready" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
tokenctl revoke "$ID" --reason e2e-ts >/dev/null || fail "tokenctl revoke"
touch "$T/ts/go"
wait $probe
out=$(cat "$T/ts.out")
case $out in
*first=ok*second=refused*) ok "after revoke, sudo -n is refused (no cached credential)" ;;
*) fail "sudo's cache after a revocation: $out" ;;
esac

# the refusals were about those tokens: a new one works
TOKEN=$(tokenctl issue "$USER_" --label e2e-sudo-2 --service "$SVC") || exit 1
ID=$(token_id "$TOKEN")
out=$(as_user "$TOKEN"); rc=$?
case $out in
*"id=$ID label=e2e-sudo-2 uid=0"*) ok "a fresh token still works" ;;
*) fail "fresh token (exit $rc): $out" ;;
esac
[ -e "$T/no-apitokend.sock" ] && fail "something made $T/no-apitokend.sock"
e2e_end
