#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tests/elsewhere.sh - "make check" where a new contributor would run it
# (issue 15 item 10), from a clone of this tree's HEAD:
#
#   sh tests/elsewhere.sh private   as root, in a directory only root can
#                                   enter (mode 0700, as /root on Debian):
#                                   a test that drops privileges must not
#                                   need anything from the checkout;
#   sh tests/elsewhere.sh user      as an ordinary user ($ELSEWHERE_USER,
#                                   default apitoken-ci, made with useradd if
#                                   absent and then removed again), in a
#                                   clone in that user's 0700 home: tests
#                                   that need root are skipped visibly
#                                   and all the rest pass.
#
# Only committed files are tested (it clones).  Run as root; exits with
# the status of "make check".
set -eu

say() { printf 'elsewhere: %s\n' "$*"; }
fail() { printf 'elsewhere: FAIL: %s\n' "$*" >&2; exit 1; }

MODE=${1:-}
SRC=$(cd "$(dirname "$0")/.." && pwd)
REV=$(git -C "$SRC" rev-parse HEAD)
TUSER=${ELSEWHERE_USER:-apitoken-ci}
WORK= MADE_USER=

[ "$(id -u)" -eq 0 ] || fail "run as root (it makes a user and 0700 dirs)"

cleanup() {
	rc=$?
	set +e
	[ -n "$WORK" ] && rm -rf "$WORK"
	if [ -n "$MADE_USER" ]; then
		userdel -r "$TUSER" >/dev/null 2>&1 || userdel "$TUSER"
	fi
	exit $rc
}
trap cleanup EXIT INT TERM

# clone SRC at REV into $1 (a git checkout, so the scans of tracked
# files run as in CI)
clone() {
	git clone -q --no-hardlinks "$SRC" "$1"
	git -C "$1" -c advice.detachedHead=false checkout -q "$REV"
}

case $MODE in
private)
	WORK=$(mktemp -d /tmp/apitoken-private.XXXXXX)
	chmod 0700 "$WORK"
	clone "$WORK/pam_apitoken"
	say "as root in $WORK (mode 0700) at $REV"
	cd "$WORK/pam_apitoken"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j2 check
	;;
user)
	if ! id "$TUSER" >/dev/null 2>&1; then
		useradd -m -s /bin/sh "$TUSER"
		MADE_USER=1
	fi
	HOMEDIR=$(getent passwd "$TUSER" | cut -d: -f6)
	[ -d "$HOMEDIR" ] || fail "$TUSER has no home directory $HOMEDIR"
	chmod 0700 "$HOMEDIR"
	WORK=$(mktemp -d "$HOMEDIR/apitoken-user.XXXXXX")
	clone "$WORK/pam_apitoken"
	chown -R "$TUSER:" "$WORK"
	say "as $TUSER in $WORK at $REV"
	cd "$WORK/pam_apitoken"
	env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOMEDIR" \
	    USER="$TUSER" LOGNAME="$TUSER" LANG=C.UTF-8 CI="${CI:-}" \
	    setpriv --reuid="$TUSER" --regid="$TUSER" --init-groups \
	    make -j2 check
	;;
*)
	fail "usage: sh tests/elsewhere.sh private|user"
	;;
esac
