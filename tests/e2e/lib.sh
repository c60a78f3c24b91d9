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
	sed "s|pam_apitoken\\.so|${MOD:-$B/pam_apitoken.so} config=$CFG|" \
	    "$SRC/conf/pam.d/$example" > "/etc/pam.d/$name" || exit 1
}

tokenctl() { "$B/tokenctl" -c "$CFG" "$@"; }

# The id part of a token string.
token_id() { printf '%s\n' "$1" | cut -d_ -f2; }

e2e_end() {
	[ "$E2E_FAILED" = 0 ] && say "PASS: $(basename "$0")"
	exit "$E2E_FAILED"
}

# ---------------------------------------------------------------- apitokend
# For the scripts whose callers are not root (nginx, Dovecot, pamtester as
# a user) and the apitokend that answers them.

# Re-run this script in a private mount namespace (call first, with "$@"),
# so that e2e_syslog can give it a /dev/log of its own.
e2e_namespace() {
	[ "$(id -u)" = 0 ] || return 0		# e2e_start skips
	[ -n "${E2E_NS:-}" ] && return 0
	command -v unshare >/dev/null || skip "$(basename "$0"): unshare not installed"
	E2E_NS=1 exec unshare --mount --propagation private /bin/sh "$0" "$@"
}

# Catch every syslog line of this script's children (apitokend, the module
# inside nginx's and Dovecot's workers, pamtester) in $SYSLOG: /dev becomes
# a small tmpfs with the usual nodes and our own /dev/log (e2e_namespace
# first; the real /dev is untouched outside this namespace).
e2e_syslog() {
	[ -n "${E2E_NS:-}" ] || { say "FAIL: e2e_syslog without e2e_namespace"; exit 1; }
	command -v perl >/dev/null || skip "$(basename "$0"): perl not installed"
	D=$T/dev SYSLOG=$T/syslog
	mkdir "$D" && mount -t tmpfs -o mode=0755,size=1m tmpfs "$D" ||
		{ say "FAIL: tmpfs on $D"; exit 1; }
	at_exit "umount -l '$D'"
	for n in null zero full random urandom tty; do
		: > "$D/$n" && mount --bind "/dev/$n" "$D/$n" ||
			{ say "FAIL: bind /dev/$n"; exit 1; }
	done
	mkdir -m 1777 "$D/shm" || exit 1
	: > "$SYSLOG"
	perl -MIO::Socket::UNIX -e '
		my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM,
		    Local => $ARGV[0]) or die "$ARGV[0]: $!\n";
		chmod 0666, $ARGV[0];
		open(my $o, ">>", $ARGV[1]) or die "$ARGV[1]: $!\n";
		$o->autoflush(1);
		my $m;
		while (defined $s->recv($m, 8192)) {
			$m =~ s/\n*\z/\n/;
			print $o $m;
		}' "$D/log" "$SYSLOG" &
	at_exit "kill $!"
	e2e_wait 100 test -S "$D/log" || { say "FAIL: no $D/log"; exit 1; }
	mount --rbind "$D" /dev || { say "FAIL: bind $D on /dev"; exit 1; }
	at_exit "umount -l /dev"
}

# The syslog lines caught since the last e2e_log_mark (e2e_syslog).
e2e_log_mark() { LOG_MARK=$(wc -l < "$SYSLOG"); }
e2e_log_since() { tail -n +"$((${LOG_MARK:-0} + 1))" "$SYSLOG"; }
# ...of those, apitokend's own lines (not the module's)
e2e_daemon_lines() { e2e_log_since | grep -E ' apitokend(\[[0-9]+\])?: '; }
# e2e_daemon_said WORD: wait (a little) for an apitokend line with WORD
e2e_daemon_said() { e2e_wait 50 daemon_said_now "$1"; }
daemon_said_now() { e2e_daemon_lines | grep -q -- "$1"; }

# e2e_wait TENTHS CMD...: run CMD every tenth of a second until it
# succeeds (0), for at most TENTHS tries (1).
e2e_wait() {
	n=$1; shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1; n=$((n - 1))
	done
	return 1
}

# A loopback TCP port that is free now (a server that loses the race
# to bind it is started again on another).
e2e_free_port() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(Listen => 1, Proto => "tcp",
		    LocalAddr => "127.0.0.1", LocalPort => 0) or exit 1;
		print $s->sockport, "\n";'
}

# Copies of the module a non-root process can load, whatever the mode
# of the checkout (tests/README.md): $MOD, used by e2e_pam_service.
e2e_module_copy() {
	mkdir -m 0755 "$T/lib" && install -m 0644 "$B/pam_apitoken.so" \
	    "$T/lib/pam_apitoken.so" || { say "FAIL: copy the module"; exit 1; }
	MOD=$T/lib/pam_apitoken.so
}

# apitokend in the foreground on $T/run/apitokend.sock, answering before
# this returns; the config's daemon keys are the script's (append them
# to $CFG first).  Sets DAEMON_PID; e2e_daemon_stop ends it.
e2e_daemon_start() {
	[ -x "$B/apitokend" ] || { say "FAIL: $B/apitokend not built"; exit 1; }
	SOCK=$T/run/apitokend.sock
	[ -d "$T/run" ] || mkdir -m 0755 "$T/run" || exit 1
	"$B/apitokend" -f -c "$CFG" >> "$T/apitokend.log" 2>&1 &
	DAEMON_PID=$!
	at_exit "kill $DAEMON_PID"
	if ! e2e_wait 300 daemon_answers; then
		say "FAIL: apitokend did not answer on $SOCK:"
		cat "$T/apitokend.log"; exit 1
	fi
}
daemon_answers() {
	kill -0 "$DAEMON_PID" || return 2
	[ -S "$SOCK" ] && tokenctl lockouts >/dev/null
}

e2e_daemon_stop() {
	kill "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	e2e_wait 100 test ! -e "$SOCK"
}
