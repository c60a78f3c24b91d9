#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tests/demo.sh - "make demo": issue a token and log in with it through
# real libpam, in a throw-away directory; /etc is not touched.
#
#   B=<build dir> sh tests/demo.sh       (make demo builds first)
#
# Uses pamtester under pam_wrapper (Debian: apt-get install pamtester
# libpam-wrapper); the config, the store and the PAM service file live in
# a temp dir that is removed at the end.
set -u
B=$(cd "${B:-build}" && pwd) || exit 1
USER_=$(id -un)
SVC=apitoken-demo

for f in "$B/tokenctl" "$B/pam_apitoken.so"; do
	[ -e "$f" ] || { echo "demo: $f is missing; run 'make' first" >&2; exit 1; }
done
command -v pamtester >/dev/null || { echo "demo: needs pamtester (apt-get install pamtester)" >&2; exit 1; }
WRAPPER=libpam_wrapper.so
ldconfig -p 2>/dev/null | grep -q "$WRAPPER" ||
    [ -e "/usr/lib/x86_64-linux-gnu/$WRAPPER" ] ||
    { echo "demo: needs pam_wrapper (apt-get install libpam-wrapper)" >&2; exit 1; }
# a module built with SANITIZE=1 needs the ASan runtime preloaded
ASAN=$(ldd "$B/pam_apitoken.so" | sed -n 's/.*libasan[^ ]* => \([^ ]*\).*/\1/p')
PRELOAD="${ASAN:+$ASAN }$WRAPPER"

T=$(mktemp -d /tmp/apitoken-demo.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP
CFG=$T/apitoken.yaml
cat > "$CFG" <<EOF2
store: $T/store/tokens
state_dir: $T/state
default_lifetime: 1d
EOF2
mkdir "$T/pam.d"
echo "auth required pam_deny.so" > "$T/pam.d/other"
cat > "$T/pam.d/$SVC" <<EOF2
auth     required  $B/pam_apitoken.so config=$CFG
account  required  $B/pam_apitoken.so config=$CFG
EOF2

tokenctl() { "$B/tokenctl" -c "$CFG" "$@"; }
if [ -t 1 ]; then
	step() { printf '\n\033[1m%s\033[0m\n' "$*"; }
else
	step() { printf '\n%s\n' "$*"; }
fi
show() { printf '  $ %s\n' "$*"; }
# login TEXT: PAM service $SVC for $USER_, TEXT typed at the prompt;
# shows pamtester's output, returns its exit status
login() {
	printf '%s\n' "$1" | LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 \
	    PAM_WRAPPER_SERVICE_DIR="$T/pam.d" PAM_WRAPPER_DISABLE_DEEPBIND=1 \
	    ASAN_OPTIONS=detect_leaks=0 \
	    pamtester "$SVC" "$USER_" authenticate acct_mgmt >"$T/out" 2>&1
	rc=$?
	sed 's/^/    /' "$T/out"
	[ -z "$(tail -c 1 "$T/out")" ] || echo
	return $rc
}
# expect 0|1 RC: say what happened; stop the demo if it is not as expected
expect() {
	if [ "$2" = 0 ]; then echo "  => logged in"; else echo "  => refused"; fi
	if [ "$1" = 0 ] && [ "$2" != 0 ]; then
		echo "demo: the token should have logged in" >&2; exit 1
	fi
	if [ "$1" != 0 ] && [ "$2" = 0 ]; then
		echo "demo: this should have been refused!" >&2; exit 1
	fi
}

echo "pam_apitoken demo: everything happens in $T (removed at the end)."

step "1. A throw-away config and token store"
show "tokenctl -c $CFG init"
tokenctl init | sed 's/^/    /' || exit 1

step "2. Issue a token for $USER_ (shown once; the store keeps only its hash)"
show "tokenctl issue $USER_ --label \"make demo\" --service $SVC"
TOKEN=$(tokenctl issue "$USER_" --label "make demo" --service "$SVC") || exit 1
ID=$(printf '%s\n' "$TOKEN" | cut -d_ -f2)
echo "    $TOKEN"
echo "  Its public ID is $ID (the part after the prefix); the rest is secret."

step "3. Log in with it through real libpam (pamtester, PAM service \"$SVC\")"
show "pamtester $SVC $USER_ authenticate acct_mgmt     # token typed at the prompt"
login "$TOKEN"; expect 0 $?

step "4. A mistyped token is refused (the checksum catches it, the store is not read)"
case $TOKEN in *x) typo=${TOKEN%?}y ;; *) typo=${TOKEN%?}x ;; esac
echo "    typed: $typo"
login "$typo"; expect 1 $?

step "5. Revoke the token; the next login is refused at once"
show "tokenctl revoke $ID --reason \"demo over\""
tokenctl revoke "$ID" --reason "demo over" | sed 's/^/    /' || exit 1
login "$TOKEN"; expect 1 $?

step "6. What the store says now"
show "tokenctl list"
tokenctl list | sed 's/^/    /'

echo
echo "Done.  To use it for real: install (make install), run 'tokenctl init',"
echo "and add pam_apitoken.so to a PAM service -- see pam_apitoken(8)."
