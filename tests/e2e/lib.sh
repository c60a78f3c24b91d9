# SPDX-License-Identifier: BSD-2-Clause
# tests/e2e/lib.sh - shared by the end-to-end scripts (sourced).
#
# Each script runs as root, changes /etc only by adding files and a user
# whose names carry its PID, and removes them again (trap on EXIT).
# Exit status: 0 passed, 1 failed, 77 skipped (the reason on stdout).

E2E_FAILED=0
CLEANUP=""

say()  { printf '%s\n' "$*"; }
fail() { say "FAIL: $*"; E2E_FAILED=1; }
ok()   { say "ok: $*"; }
skip() { say "SKIP: $*"; exit 77; }

# Run "$@" at cleanup time (last registered runs first).
at_exit() { CLEANUP="$*
$CLEANUP"; }

run_cleanup() {
	printf '%s\n' "$CLEANUP" | while IFS= read -r cmd; do
		[ -n "$cmd" ] && eval "$cmd" >/dev/null 2>&1
	done
}

e2e_start() {
	B=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd) || exit 1
	SRC=$(cd "$(dirname "$0")/../.." && pwd)
	[ "$(id -u)" = 0 ] || skip "$(basename "$0"): needs root (real /etc/pam.d, useradd)"
	[ "${SANITIZE:-}" = 1 ] && skip "$(basename "$0"): not under SANITIZE=1 (sshd/sudo cannot load an ASan-built module)"
	for f in "$B/pam_apitoken.so" "$B/tokenctl"; do
		[ -e "$f" ] || { say "FAIL: $f not built"; exit 1; }
	done
	T=$(mktemp -d /tmp/apitoken-e2e.XXXXXX) || exit 1
	chmod 0755 "$T"
	trap 'run_cleanup' EXIT
	trap 'exit 1' INT TERM HUP
	at_exit "rm -rf '$T'"
	CFG=$T/apitoken.yaml
	cat > "$CFG" <<EOC
store: $T/store/tokens
state_dir: $T/state
default_lifetime: 1d
EOC
	"$B/tokenctl" -c "$CFG" init >/dev/null || { say "FAIL: tokenctl init"; exit 1; }
}

# A throw-away account: e2e_user NAME
e2e_user() {
	if getent passwd "$1" >/dev/null; then
		say "FAIL: user $1 exists already"; exit 1
	fi
	useradd -m -s /bin/sh "$1" || { say "FAIL: useradd $1"; exit 1; }
	at_exit "userdel -r -f '$1'"
}

# A shipped example from conf/pam.d as /etc/pam.d/NAME, our module by path.
e2e_pam_service() {
	example=$1 name=$2
	[ -e "/etc/pam.d/$name" ] && { say "FAIL: /etc/pam.d/$name exists"; exit 1; }
	at_exit "rm -f '/etc/pam.d/$name'"
	sed "s|pam_apitoken\\.so|$B/pam_apitoken.so config=$CFG|" \
	    "$SRC/conf/pam.d/$example" > "/etc/pam.d/$name" || exit 1
}

tokenctl() { "$B/tokenctl" -c "$CFG" "$@"; }

# The id part of a token string.
token_id() { printf '%s\n' "$1" | cut -d_ -f2; }

e2e_end() {
	[ "$E2E_FAILED" = 0 ] && say "PASS: $(basename "$0")"
	exit "$E2E_FAILED"
}
