#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tests/e2e/dovecot.sh BUILD_DIR - a real Dovecot IMAP server on
# 127.0.0.1 with its own config in a temp dir, passdb pam with the
# shipped conf/pam.d/dovecot-token-only, and "service auth-worker { user =
# dovecot }": the auth workers cannot read the store, so the module asks
# apitokend, whose daemon_callers grant dovecot the service (issue 11).
# IMAP LOGIN with the token over a plain socket succeeds; a wrong token
# and the token revoked while Dovecot runs fail.
#
# Root only; /etc/pam.d/<svc> and the user are removed on exit.
. "$(dirname "$0")/lib.sh"
e2e_namespace "$@"
e2e_start "$@"
for t in dovecot doveconf perl useradd; do
	command -v "$t" >/dev/null || skip "dovecot.sh: $t not installed"
done
[ -e /usr/lib/dovecot/imap ] || skip "dovecot.sh: dovecot-imapd not installed"
for u in dovecot dovenull; do
	getent passwd "$u" >/dev/null || skip "dovecot.sh: no user $u"
done
e2e_syslog
e2e_module_copy

USER_=apitok-imap-$$
SVC=imap-apitok-$$
e2e_user "$USER_"
e2e_pam_service dovecot-token-only "$SVC"
cat >> "$CFG" <<EOC
daemon_socket: $T/run/apitokend.sock
daemon_callers:
  dovecot: [$SVC]
EOC
e2e_daemon_start

DV=$T/dovecot
mkdir -p "$DV/run" "$DV/state" "$T/mail/$USER_" || exit 1
chown "$USER_:" "$T/mail/$USER_" || exit 1

# start_dovecot: sets PORT and DOVECOT_PID
start_dovecot() {
	for try in 1 2 3 4 5; do
		PORT=$(e2e_free_port) || { say "FAIL: no free port"; exit 1; }
		cat > "$DV/dovecot.conf" <<EOC
protocols = imap
listen = 127.0.0.1
base_dir = $DV/run
state_dir = $DV/state
instance_name = dovecot-apitok-$$
log_path = $DV/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$T/mail/%u
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = pam
  args = $SVC
}
userdb {
  driver = passwd
}
service auth-worker {
  user = dovecot
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $PORT
  }
  inet_listener imaps {
    port = 0
  }
}
EOC
		doveconf -n -c "$DV/dovecot.conf" > "$DV/doveconf.out" 2>&1 ||
			{ say "FAIL: doveconf:"; cat "$DV/doveconf.out"; exit 1; }
		: > "$DV/dovecot.log"
		dovecot -F -c "$DV/dovecot.conf" >> "$DV/dovecot.log" 2>&1 &
		DOVECOT_PID=$!
		if e2e_wait 300 dovecot_answers; then
			at_exit "kill $DOVECOT_PID"
			say "dovecot listening on 127.0.0.1:$PORT"
			return 0
		fi
		kill "$DOVECOT_PID" 2>/dev/null; wait "$DOVECOT_PID" 2>/dev/null
	done
	say "FAIL: dovecot did not start:"; cat "$DV/dovecot.log"; exit 1
}
dovecot_answers() {
	kill -0 "$DOVECOT_PID" || return 2
	imap_greeting | grep -q '^\* OK'
}

# imap_login USER SECRET: "a1 OK ..." or "a1 NO ...", the server's answer
# to LOGIN over a plain TCP connection (the secret on perl's stdin).
IMAP_PL='
	use IO::Socket::INET;
	my ($port, $user) = @ARGV;
	my $secret = <STDIN>;
	chomp $secret if defined $secret;
	$SIG{ALRM} = sub { print "timeout\n"; exit 1 };
	alarm 60;
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
	    PeerPort => $port, Proto => "tcp") or die "connect: $!\n";
	my $l = <$s>;
	defined $l && $l =~ /^\* OK/ or die "no greeting\n";
	if (!defined $secret) { print $l; exit 0 }
	print $s "a1 LOGIN \"$user\" \"$secret\"\r\n";
	while (defined($l = <$s>)) {
		if ($l =~ /^a1 /) { $l =~ s/\r//; print $l; last }
	}
	print $s "a2 LOGOUT\r\n";'
imap_greeting() { perl -e "$IMAP_PL" "$PORT" x < /dev/null; }
imap_login() { printf '%s\n' "$2" | perl -e "$IMAP_PL" "$PORT" "$1"; }

start_dovecot
TOKEN=$(tokenctl issue "$USER_" --label e2e-imap --service "$SVC") || exit 1
ID=$(token_id "$TOKEN")

e2e_log_mark
out=$(imap_login "$USER_" "$TOKEN")
case $out in
"a1 OK"*) ok "IMAP LOGIN with the token: a1 OK ... ${out##*] }" ;;
*) fail "IMAP LOGIN with the token: $out"; e2e_log_since; tail -n 20 "$DV/dovecot.log" ;;
esac
e2e_daemon_said reason=accepted &&
	ok "apitokend logged the accepted login" ||
	{ fail "no apitokend line with accepted:"; e2e_log_since; }
ps -eo user=,args= | grep -q "^dovecot .*dovecot-apitok-$$/auth -w" &&
	ok "Dovecot's auth worker runs as dovecot" ||
	fail "no Dovecot auth worker runs as dovecot: $(ps -eo user=,args= | grep "apitok-$$/auth")"

case $TOKEN in *x) typo=${TOKEN%?}y ;; *) typo=${TOKEN%?}x ;; esac
out=$(imap_login "$USER_" "$typo")
case $out in
"a1 NO"*) ok "a mistyped token: $out" ;;
*) fail "a mistyped token: $out" ;;
esac

tokenctl revoke "$ID" --reason e2e >/dev/null || fail "tokenctl revoke"
e2e_log_mark
out=$(imap_login "$USER_" "$TOKEN")
case $out in
"a1 NO"*) ok "the token revoked while Dovecot runs: $out" ;;
*) fail "the revoked token: $out" ;;
esac
e2e_daemon_said reason=revoked &&
	ok "apitokend logged it as revoked" ||
	{ fail "no apitokend line with revoked:"; e2e_log_since; }
e2e_end
