#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tests/install/deb-e2e.sh - the Debian packages, end to end ("make check-deb").
#
# As root on Debian 12: builds the .debs with dpkg-buildpackage from a copy
# of this tree (the work tree stays clean), runs lintian, installs them
# with "apt-get install ./*.deb", and then, using only the INSTALLED files:
#   - checks what postinst set up (state dirs, store, conffile, profile off),
#     with APITOKEN_CONFIG in the environment pointing elsewhere;
#   - checks that no libapitoken development files are shipped (its API
#     is not stable: docs/libapitoken.md);
#   - logs in through a real sshd on a loopback port, started from a
#     symlink named sshd-apitoken so that its PAM service is
#     /etc/pam.d/sshd-apitoken, which names the module as plain
#     "pam_apitoken.so" (so libpam must find it where the package put it):
#     a token logs in and $APITOKEN_ID reaches the shell; a wrong token and
#     a revoked one are refused; last use is recorded;
#   - enables the pam-auth-update profile and logs in through
#     common-auth/common-account with a token AND with the Unix password
#     (the fall-through), and checks the generated stack;
#   - purges the packages and checks that nothing is left: every file
#     dpkg listed, /etc/apitoken, /var/lib/apitoken, the profile's lines in
#     /etc/pam.d/common-* (which must be back to what they were).
# Everything it changes (test user, /etc/pam.d/sshd-apitoken, common-*,
# packages) is put back on exit, also on failure.
set -eu

say() { printf 'deb-e2e: %s\n' "$*"; }
fail() { printf 'deb-e2e: FAIL: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
	fail "must run as root (it installs packages and starts sshd)"
fi

SRC=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/apitoken-deb.XXXXXX)
chmod 0755 "$WORK"		# apt's _apt user reads the .debs from here
TUSER=apitok-e2e
TPASS="e2e-Pw-$$-x7"
SERVICE=sshd-apitoken
PAMFILE=/etc/pam.d/$SERVICE
PKGS="libpam-apitoken"
SSHD_PID=
export DEBIAN_FRONTEND=noninteractive

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

present() {	# any trace of a package in dpkg's database
	dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null |
	    grep -qv '^not-installed$'
}

cleanup() {
	rc=$?
	set +e
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
	for p in $PKGS; do
		if present "$p"; then
			apt-get purge -y -q $PKGS >/dev/null 2>&1
			break
		fi
	done
	if [ -d "$WORK/pam-backup" ]; then
		cp -p "$WORK"/pam-backup/etc/common-* /etc/pam.d/ 2>/dev/null
		rm -rf /var/lib/pam
		cp -a "$WORK/pam-backup/var-lib-pam" /var/lib/pam 2>/dev/null
	fi
	rm -f "$PAMFILE"
	id "$TUSER" >/dev/null 2>&1 && userdel -r "$TUSER" >/dev/null 2>&1
	if [ "$rc" -ne 0 ] && [ -f "$WORK/sshd.log" ]; then
		echo "--- sshd log:" >&2
		tail -n 30 "$WORK/sshd.log" >&2
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# ------------------------------------------------------------ tools
need=
for t in dpkg-buildpackage dh lintian fakeroot sshpass ssh ssh-keygen \
    /usr/sbin/sshd pkg-config cc; do
	command -v "$t" >/dev/null 2>&1 || need=1
done
if [ -n "$need" ]; then
	say "installing build and test tools with apt-get"
	apt-get install -y -q --no-install-recommends build-essential \
	    debhelper dpkg-dev fakeroot lintian pkg-config sshpass \
	    openssh-server openssh-client >/dev/null
fi
for p in $PKGS; do
	if present "$p"; then
		fail "$p is already installed; purge it first (apt-get purge $PKGS)"
	fi
done
if id "$TUSER" >/dev/null 2>&1; then
	fail "user $TUSER exists (left from an earlier run?); userdel -r $TUSER"
fi
[ -e "$PAMFILE" ] && fail "$PAMFILE exists; remove it first"

# ------------------------------------------------------------ build
say "copying the tree to $WORK/src"
mkdir "$WORK/src"
(cd "$SRC" && tar --exclude='./build' --exclude='./build-*' \
    --exclude='./.git' --exclude='./debian/tmp' \
    --exclude='./debian/.debhelper' -cf - .) | tar -C "$WORK/src" -xf -
say "dpkg-checkbuilddeps"
(cd "$WORK/src" && dpkg-checkbuilddeps) ||
	fail "missing Build-Depends (apt-get build-dep or install them)"
say "dpkg-buildpackage -us -uc -b (log: build.log)"
if ! (cd "$WORK/src" && dpkg-buildpackage -us -uc -b) \
    >"$WORK/build.log" 2>&1; then
	tail -n 40 "$WORK/build.log" >&2
	fail "dpkg-buildpackage failed"
fi
ls "$WORK"/*.deb
# a distribution build: the compiler's warnings do not fail it (WERROR=)
grep -q -e ' -Wall ' "$WORK/build.log" ||
	fail "no compile command in build.log"
# (dpkg-buildflags' own -Werror=format-security stays)
! grep -q -E -e '-Werror( |$)' "$WORK/build.log" ||
	fail "the package was built with -Werror (debian/rules: WERROR=)"
# the module has nettle linked in, and the package says which nettle
nettle=$(dpkg-query -W -f='${source:Package} (= ${source:Version})' \
    nettle-dev)
for f in Static-Built-Using Built-Using; do
	v=$(dpkg-deb -f "$WORK"/libpam-apitoken_*.deb "$f")
	[ "$v" = "$nettle" ] || fail "libpam-apitoken $f: '$v', want '$nettle'"
done

say "lintian"
lintian --fail-on error --display-info "$WORK"/*.changes \
    >"$WORK/lintian.log" 2>&1 || {
	cat "$WORK/lintian.log" >&2
	fail "lintian reported errors"
}
cat "$WORK/lintian.log"
say "lintian: $(grep -c '^E:' "$WORK/lintian.log" || true) errors," \
    "$(grep -c '^W:' "$WORK/lintian.log" || true) warnings," \
    "$(grep -c '^I:' "$WORK/lintian.log" || true) infos"

# ------------------------------------------------------------ install
mkdir -p "$WORK/pam-backup/etc"
cp -p /etc/pam.d/common-* "$WORK/pam-backup/etc/"
if [ -d /var/lib/pam ]; then
	cp -a /var/lib/pam "$WORK/pam-backup/var-lib-pam"
fi

say "apt-get install ./*.deb (APITOKEN_CONFIG set: postinst must not use it)"
(cd "$WORK" && APITOKEN_CONFIG="$WORK/no-such-config.yaml" \
    apt-get install -y -q ./libpam-apitoken_*.deb) \
    >"$WORK/apt.log" 2>&1 || {
	cat "$WORK/apt.log" >&2
	fail "apt-get install failed"
}
for p in $PKGS; do
	installed "$p" || fail "$p is not installed"
done
dpkg -L $PKGS | sort -u >"$WORK/files"

MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
PAMDIR=/lib/$MA/security

mode() { stat -c '%a %U:%G' "$1"; }
check_mode() {	# path "mode owner:group"
	[ -e "$1" ] || fail "$1 does not exist"
	[ "$(mode "$1")" = "$2" ] || fail "$1 is $(mode "$1"), want $2"
}

say "checking the installed files and what postinst did"
check_mode "$PAMDIR/pam_apitoken.so" "644 root:root"
readelf -dW "$PAMDIR/pam_apitoken.so" >"$WORK/needed"
grep -q 'NEEDED.*libyaml' "$WORK/needed" ||
	fail "the installed module does not load libyaml"
! grep -q 'NEEDED.*libnettle' "$WORK/needed" ||
	fail "the installed module loads libnettle (want it linked in)"
check_mode /usr/sbin/tokenctl "755 root:root"
check_mode /usr/sbin/apitokend "755 root:root"
check_mode /lib/systemd/system/apitokend.socket "644 root:root"
check_mode /lib/systemd/system/apitokend.service "644 root:root"
grep -q '^ExecStart=/usr/sbin/apitokend$' \
    /lib/systemd/system/apitokend.service ||
	fail "apitokend.service does not start /usr/sbin/apitokend"
apitokend --check-config >/dev/null || fail "apitokend --check-config failed"
# installed, not enabled: nothing needs it until daemon_callers grants
[ -e /etc/systemd/system/sockets.target.wants/apitokend.socket ] &&
	fail "apitokend.socket was enabled on install"
check_mode /etc/apitoken/apitoken.yaml "644 root:root"
check_mode /usr/share/pam-configs/apitoken "644 root:root"
check_mode /var/lib/apitoken "700 root:root"
check_mode /var/lib/apitoken/state "700 root:root"
check_mode /var/lib/apitoken/tokens "600 root:root"
dpkg-query -W -f='${Conffiles}\n' libpam-apitoken |
    grep -q '^ /etc/apitoken/apitoken.yaml ' ||
	fail "/etc/apitoken/apitoken.yaml is not a conffile"
check_mode /etc/pam.d/apitoken-selfservice "644 root:root"
dpkg-query -W -f='${Conffiles}\n' libpam-apitoken |
    grep -q '^ /etc/pam.d/apitoken-selfservice ' ||
	fail "/etc/pam.d/apitoken-selfservice is not a conffile"
for page in tokenctl pam_apitoken apitoken.yaml apitoken-store apitokend; do
	man -w "$page" >/dev/null 2>&1 || fail "man $page: not found"
done
[ -f /usr/share/bash-completion/completions/tokenctl ] ||
	fail "bash completion not installed"
if grep -q pam_apitoken /etc/pam.d/common-auth /etc/pam.d/common-account; then
	fail "the profile was enabled on install (it must be off by default)"
fi

say "no libapitoken development files (the API is not stable)"
ls "$WORK"/*.deb | grep -q libapitoken && fail "a libapitoken package was built"
for f in /usr/include/apitoken.h /usr/lib/$MA/libapitoken.so \
    /usr/lib/$MA/libapitoken.so.0 /usr/lib/$MA/pkgconfig/libapitoken.pc; do
	[ -e "$f" ] && fail "$f is installed"
done

# ------------------------------------------------------------ tokens
say "tokenctl init; a user; a token for $SERVICE"
tokenctl init
useradd -m -s /bin/sh "$TUSER"
echo "$TUSER:$TPASS" | chpasswd
TOKEN=$(tokenctl issue "$TUSER" --label "deb e2e" --service "$SERVICE")
TID=$(printf '%s' "$TOKEN" | cut -d_ -f2)
[ ${#TID} -eq 12 ] || fail "odd token id '$TID'"
tokenctl show "$TID" >/dev/null

# ------------------------------------------------------------ sshd
ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"
PORT=$((20000 + $$ % 20000))
cat >"$WORK/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $WORK/hostkey
PidFile $WORK/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication no
AuthenticationMethods keyboard-interactive
PermitRootLogin no
AllowUsers $TUSER
LogLevel VERBOSE
EOF
mkdir -p /run/sshd
ln -s /usr/sbin/sshd "$WORK/$SERVICE"

# The module by its plain name: libpam looks for it in its own module
# directory, where the package installed it.
cat >"$PAMFILE" <<'EOF'
# written by pam_apitoken's tests/install/deb-e2e.sh (token only)
auth     required  pam_apitoken.so
account  required  pam_apitoken.so
account  required  pam_unix.so
session  required  pam_permit.so
EOF

"$WORK/$SERVICE" -t -f "$WORK/sshd_config" || fail "sshd -t failed"
"$WORK/$SERVICE" -f "$WORK/sshd_config" -E "$WORK/sshd.log"
i=0
while [ ! -s "$WORK/sshd.pid" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -s "$WORK/sshd.pid" ] || fail "sshd did not start"
SSHD_PID=$(cat "$WORK/sshd.pid")
say "sshd ($SERVICE) on 127.0.0.1:$PORT, pid $SSHD_PID"

# login PROMPT SECRET: runs a command over ssh, prints its output.
login() {
	sshpass -P "$1" -p "$2" ssh -F /dev/null \
	    -o PreferredAuthentications=keyboard-interactive \
	    -o PubkeyAuthentication=no -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
	    -o ConnectTimeout=10 -o NumberOfPasswordPrompts=1 \
	    -p "$PORT" "$TUSER@127.0.0.1" 'echo "user=$(id -un) id=${APITOKEN_ID:-}"'
}

say "token-only stack: the token logs in"
out=$(login "API token" "$TOKEN") || fail "token login failed"
[ "$out" = "user=$TUSER id=$TID" ] || fail "unexpected session: $out"
say "  $out"

say "  last use recorded by the installed module"
grep -q "	$SERVICE	127.0.0.1" "/var/lib/apitoken/state/lastuse/$TID" ||
	fail "no last-use record for $TID"
check_mode "/var/lib/apitoken/state/lastuse/$TID" "600 root:root"

say "  a wrong token is refused"
c=$(printf '%s' "$TOKEN" | cut -c30)
[ "$c" = A ] && r=B || r=A
BAD=$(printf '%s' "$TOKEN" | sed "s/^\(.\{29\}\)./\1$r/")
[ "$BAD" != "$TOKEN" ] && [ ${#BAD} -eq ${#TOKEN} ] || fail "cannot make a typo"
if login "API token" "$BAD" >/dev/null 2>&1; then
	fail "a wrong token logged in"
fi
say "  the password is refused by a token-only stack"
if login "API token" "$TPASS" >/dev/null 2>&1; then
	fail "the password logged in through a token-only stack"
fi
say "  a revoked token is refused at once"
tokenctl revoke "$TID" --reason "deb e2e" >/dev/null
if login "API token" "$TOKEN" >/dev/null 2>&1; then
	fail "a revoked token logged in"
fi

# ------------------------------------------------- pam-auth-update
say "pam-auth-update --enable apitoken"
pam-auth-update --enable apitoken
grep -v '^#' /etc/pam.d/common-auth | grep -v '^$' >"$WORK/common-auth"
cat "$WORK/common-auth"
# apitoken first (Auth-Initial, it prompts), jumping over pam_unix and
# pam_deny on success; pam_unix next, reusing the typed text.
first=$(sed -n 1p "$WORK/common-auth")
second=$(sed -n 2p "$WORK/common-auth")
case "$first" in
*'[success=2 cred_insufficient=ignore'*'default=die]'*'pam_apitoken.so [prompt=Password: ]') ;;
*) fail "common-auth line 1 is not the token check: $first" ;;
esac
case "$second" in
*'[success=1 default=ignore]'*pam_unix.so*try_first_pass*) ;;
*) fail "common-auth line 2 is not pam_unix try_first_pass: $second" ;;
esac
sed -n 3p "$WORK/common-auth" | grep -q 'requisite.*pam_deny.so' ||
	fail "common-auth line 3 is not pam_deny"
grep -q '^account[[:space:]]*\[success=ok ignore=ignore module_unknown=ignore default=bad\][[:space:]]*pam_apitoken.so' \
    /etc/pam.d/common-account || fail "common-account has no pam_apitoken"

cat >"$PAMFILE" <<'EOF'
# written by pam_apitoken's tests/install/deb-e2e.sh (pam-auth-update stack)
@include common-auth
@include common-account
session  required  pam_permit.so
EOF
TOKEN2=$(tokenctl issue "$TUSER" --label "deb e2e 2" --service "$SERVICE")
TID2=$(printf '%s' "$TOKEN2" | cut -d_ -f2)

say "common-auth stack: a token logs in at the Password: prompt"
out=$(login "Password" "$TOKEN2") || fail "token login via common-auth failed"
[ "$out" = "user=$TUSER id=$TID2" ] || fail "unexpected session: $out"
say "  $out"
say "  the Unix password still logs in (falls through to pam_unix)"
out=$(login "Password" "$TPASS") || fail "password login via common-auth failed"
[ "$out" = "user=$TUSER id=" ] || fail "unexpected session: $out"
say "  $out"
say "  a wrong secret is refused"
if login "Password" "wrong-$TPASS" >/dev/null 2>&1; then
	fail "a wrong password logged in"
fi
say "reinstall (an upgrade): tokens, store and enabled profile survive"
(cd "$WORK" && apt-get install -y -q --reinstall ./libpam-apitoken_*.deb) \
    >"$WORK/apt2.log" 2>&1 || {
	cat "$WORK/apt2.log" >&2
	fail "reinstall failed"
}
grep -q pam_apitoken /etc/pam.d/common-auth ||
	fail "reinstall took pam_apitoken out of common-auth"
check_mode /var/lib/apitoken/tokens "600 root:root"
out=$(login "Password" "$TOKEN2") || fail "token login after reinstall failed"
[ "$out" = "user=$TUSER id=$TID2" ] || fail "unexpected session: $out"
say "  $out"
say "  a disabled token is refused (and is not a password)"
tokenctl disable "$TID2" >/dev/null
if login "Password" "$TOKEN2" >/dev/null 2>&1; then
	fail "a disabled token logged in"
fi

kill "$SSHD_PID"
SSHD_PID=

# --------------------------- removal with a locally edited common-account
# pam-auth-update leaves a locally modified common-* alone and exits 0:
# prerm must then refuse, or every login through common-account would
# fail with "Module is unknown" once the module file is gone.
say "remove with a locally edited common-account: prerm refuses"
cp -p /etc/pam.d/common-account "$WORK/common-account.saved"
# a line of the site's own inside the managed block: pam-auth-update
# then finds no saved line for it and calls the file locally modified
sed -i '/^# end of pam-auth-update config/i account\toptional\t\t\tpam_permit.so' \
    /etc/pam.d/common-account
grep -q '^account.optional.*pam_permit.so' /etc/pam.d/common-account ||
	fail "could not edit common-account"
if apt-get remove -y -q libpam-apitoken >"$WORK/remove.log" 2>&1; then
	cat "$WORK/remove.log" >&2
	fail "apt-get remove went on while common-account names the module"
fi
grep -q 'pam_apitoken.so is still used by' "$WORK/remove.log" &&
    grep -q '/etc/pam.d/common-account' "$WORK/remove.log" || {
	cat "$WORK/remove.log" >&2
	fail "prerm did not say which file still uses the module"
}
[ -e "$PAMDIR/pam_apitoken.so" ] || fail "the module file is gone"
dpkg-query -W -f='${Status}\n' libpam-apitoken | grep -q ' installed$' ||
	fail "libpam-apitoken is no longer installed after the refusal"
grep -q pam_apitoken /etc/pam.d/common-account ||
	fail "common-account lost its pam_apitoken line"
say "  refused, module kept; the local edit undone, removal goes on below"
cp -p "$WORK/common-account.saved" /etc/pam.d/common-account


# ------------------------------------------------------------ purge
say "apt-get purge $PKGS"
apt-get purge -y -q $PKGS >"$WORK/purge.log" 2>&1 || {
	cat "$WORK/purge.log" >&2
	fail "apt-get purge failed"
}
for p in $PKGS; do
	present "$p" && fail "$p is still known to dpkg after purge"
done
left=
while read -r f; do
	[ -d "$f" ] && continue		# shared dirs (and /lib -> usr/lib) stay
	if [ -e "$f" ] || [ -L "$f" ]; then
		left="$left $f"
	fi
done <"$WORK/files"
[ -z "$left" ] || fail "left behind after purge:$left"
for d in /etc/apitoken /var/lib/apitoken /usr/share/doc/libpam-apitoken; do
	[ -e "$d" ] && fail "$d is left behind after purge"
done
for f in auth account password session session-noninteractive; do
	[ -f "$WORK/pam-backup/etc/common-$f" ] || continue
	cmp -s "/etc/pam.d/common-$f" "$WORK/pam-backup/etc/common-$f" ||
		fail "/etc/pam.d/common-$f differs from before the install"
done
say "PASS: built, installed, logged in through sshd with the installed" \
    "files (token-only and pam-auth-update stacks), purged without a trace"
