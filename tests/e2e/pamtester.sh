#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tests/e2e/pamtester.sh BUILD_DIR - pamtester run as an ordinary user, as
# a screen locker would be, through a token-only stack (the recipe in
# docs/non-root-callers.md); the store is root's, so the module asks
# apitokend (issue 11):
#
#   - for the caller's own user the token is accepted (the unix_chkpwd
#     rule) and apitokend logs the caller's uid;
#   - for another user the token is refused and apitokend's line says
#     caller-not-allowed;
#   - apitokend stopped: the ordinary user fails closed with
#     PAM_AUTHINFO_UNAVAIL and the module's note names the socket, while
#     root (mode=auto reads the store itself, as the sshd and sudo tests
#     do) logs in as before.
#
# Root only; /etc/pam.d/<svc> and the users are removed on exit.
. "$(dirname "$0")/lib.sh"
e2e_namespace "$@"
e2e_start "$@"
for t in pamtester setpriv perl useradd; do
	command -v "$t" >/dev/null || skip "pamtester.sh: $t not installed"
done
e2e_syslog
e2e_module_copy

USER_=apitok-lock-$$
OTHER_=apitok-lko-$$
SVC=locker-apitok-$$
e2e_user "$USER_"
e2e_user "$OTHER_"
at_exit "rm -f '/etc/pam.d/$SVC'"
# the token-only screen-locker stack of docs/non-root-callers.md: the
# account phase is pam_unix's, which may check the caller's own user
cat > "/etc/pam.d/$SVC" <<EOP
auth     required   $MOD config=$CFG
account  required   pam_unix.so
EOP
cat >> "$CFG" <<EOC
daemon_socket: $T/run/apitokend.sock
EOC
e2e_daemon_start

# as CALLER TARGET SECRET: pamtester as CALLER (no groups of root, a clean
# environment) checking TARGET, the secret on its stdin; its output
as() {
	printf '%s\n' "$3" | timeout 30 setpriv --reuid="$1" --regid="$1" \
	    --init-groups env -i PATH=/usr/bin:/bin LANG=C \
	    pamtester "$SVC" "$2" authenticate acct_mgmt 2>&1
}
as_root() {
	printf '%s\n' "$2" | timeout 30 env -i PATH=/usr/bin:/bin LANG=C \
	    pamtester "$SVC" "$1" authenticate acct_mgmt 2>&1
}

TOKEN=$(tokenctl issue "$USER_" --label e2e-locker) || exit 1
ID=$(token_id "$TOKEN")
OTHERS=$(tokenctl issue "$OTHER_" --label e2e-locker-other) || exit 1
UID_=$(id -u "$USER_")

e2e_log_mark
out=$(as "$USER_" "$USER_" "$TOKEN")
case $out in
*"successfully authenticated"*"account management done"*)
	ok "$USER_ checks its own token through apitokend" ;;
*) fail "own user: $out"; e2e_log_since ;;
esac
e2e_daemon_said reason=accepted && ok "apitokend logged it accepted" ||
	{ fail "no apitokend line with accepted:"; e2e_log_since; }
e2e_daemon_lines | grep reason=accepted | grep -q "caller_uid=$UID_ " &&
	ok "apitokend's line names the caller's uid $UID_" ||
	{ fail "apitokend's line without uid $UID_:"; e2e_daemon_lines; }

case $TOKEN in *x) typo=${TOKEN%?}y ;; *) typo=${TOKEN%?}x ;; esac
out=$(as "$USER_" "$USER_" "$typo")
case $out in
*"successfully authenticated"*) fail "a mistyped token: $out" ;;
*) ok "a mistyped token is refused" ;;
esac

e2e_log_mark
out=$(as "$USER_" "$OTHER_" "$OTHERS")
case $out in
*"successfully authenticated"*) fail "$USER_ checked $OTHER_'s token: $out" ;;
*"Authentication failure"*) ok "another user's token, asked by $USER_: refused" ;;
*) fail "another user: $out" ;;
esac
e2e_daemon_said reason=caller-not-allowed &&
	ok "apitokend's line says caller-not-allowed" ||
	{ fail "no apitokend line with caller-not-allowed:"; e2e_log_since; }

out=$(as "$OTHER_" "$OTHER_" "$OTHERS")
case $out in
*"successfully authenticated"*) ok "$OTHER_ checks its own token" ;;
*) fail "$OTHER_, own token: $out" ;;
esac

# --- apitokend stopped ---
e2e_daemon_stop
e2e_log_mark
out=$(as "$USER_" "$USER_" "$TOKEN")
case $out in
*"cannot retrieve authentication info"*)
	ok "apitokend stopped: PAM_AUTHINFO_UNAVAIL for $USER_ (fail closed)" ;;
*) fail "apitokend stopped, $USER_: $out" ;;
esac
e2e_wait 50 sh -c "tail -n +$((LOG_MARK + 1)) '$SYSLOG' | grep -q '$SOCK'" &&
	ok "the module's note names the socket" ||
	{ fail "no log line naming $SOCK:"; e2e_log_since; }
out=$(as_root "$USER_" "$TOKEN")
case $out in
*"successfully authenticated"*"account management done"*)
	ok "apitokend stopped: root (mode=auto, the store readable) logs in" ;;
*) fail "apitokend stopped, root: $out" ;;
esac
e2e_end
