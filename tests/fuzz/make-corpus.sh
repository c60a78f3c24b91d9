#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Regenerate the seed corpora in tests/fuzz/corpus/<target>/ with plain
# printf (CRC-32 from gzip's trailer, SHA-256 from sha256sum), so no
# build is needed.  Run from anywhere: sh tests/fuzz/make-corpus.sh
# Re-running gives byte-identical files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$here/corpus
B62=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz
# The secret fuzz_store.c uses for its verify oracle.
SECRET=S3cr3tS3cr3tS3cr3tS3cr3tS3cr3t00
TAB=$(printf '\t')

# CRC-32 (IEEE) of $1 as an unsigned integer: gzip's trailer holds it.
crc32() {
	printf %s "$1" | gzip -c -n | tail -c 8 | head -c 4 | od -An -tu1 |
	    awk '{ print $1 + $2 * 256 + $3 * 65536 + $4 * 16777216 }'
}

# The 6 base62 CRC digits of $1.
crc6() {
	v=$(crc32 "$1") s='' i=0
	while [ $i -lt 6 ]; do
		d=$((v % 62)) v=$((v / 62)) i=$((i + 1))
		s=$(printf %s "$B62" | cut -c$((d + 1)))$s
	done
	printf %s "$s"
}

# token PREFIX ID SECRET
token() {
	printf '%s%s' "$1_$2_$3" "$(crc6 "$1_$2_$3")"
}

# "sha256$" + hex SHA-256 of "ID_SECRET"
hash() {
	printf 'sha256$%s' "$(printf %s "$1_$2" | sha256sum | cut -c1-64)"
}

# put TARGET NAME: stdin to corpus/TARGET/NAME
put() {
	mkdir -p "$out/$1"
	cat >"$out/$1/$2"
}

HDR="#apitoken-store${TAB}v1${TAB}id${TAB}status${TAB}user${TAB}hash${TAB}label${TAB}description${TAB}external_id${TAB}services${TAB}from${TAB}created${TAB}updated${TAB}created_by${TAB}expires${TAB}revoked_at${TAB}revoke_reason${TAB}parent"

# rec ID STATUS USER LABEL DESC EXT SERVICES FROM CREATED UPDATED BY
#     EXPIRES REVOKED_AT REASON PARENT  (hash of ID_SECRET)
rec() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
	    "$1" "$2" "$3" "$(hash "$1" "$SECRET")" "$4" "$5" "$6" "$7" "$8" \
	    "$9" "${10}" "${11}" "${12}" "${13}" "${14}" "${15}"
}

T0=2023-01-01T00:00:00Z T1=2023-01-02T08:30:00Z
rec_a() { rec A0000000000a active deploy "CI runner" \
	'Deploys the site\tevery night\nand on release' JIRA-1 sshd,sudo \
	10.0.0.0/8,2001:db8::/32 $T0 $T1 alice '' '' '' ''; }
rec_b() { rec B0000000000b disabled deploy 'laptop é' '' '' '' '' \
	$T0 $T0 bob 2030-01-01T00:00:00Z '' '' A0000000000a; }
rec_c() { rec C0000000000c revoked root 'old key' '' '' login '' \
	$T0 2023-06-01T00:00:00Z root '' 2023-06-01T00:00:00Z \
	'leaked, in a log' ''; }
rec_d() { rec D0000000000d active deploy expired '' '' '' '' \
	$T0 $T0 alice 2023-01-05T00:00:00Z '' '' ''; }
rec_e() { rec E0000000000e active deploy 'one host' '' '' sshd \
	10.1.2.0/24,2001:db8::7 $T0 $T0 alice '' '' '' ''; }
rec_f() { rec F0000000000f active root backup 'tab\there\r\n' ext-9 \
	'cron,sshd,su-l' '' $T0 $T1 alice 2099-12-31T23:59:59Z '' '' ''; }

rm -rf "$out"

# --- store: whole store files, single record lines, last-use files ----
{ printf '%s\n' "$HDR"; printf '#end\n'; } | put store empty
{ printf '%s\n' "$HDR"; rec_a; rec_b; rec_c; rec_d; rec_e; rec_f
  printf '#end\n'; } | put store six
{ printf '%s\n' "$HDR"; rec_a; printf '#end\n'; } | put store one
# 150 records, ~25 KiB: more than the look-up's 16 KiB window, so the
# interpolation probes and window growth are reached (ids spread evenly
# over the id space, in order)
i=0
{ printf '%s\n' "$HDR"
  while [ $i -lt 150 ]; do
	n=$((i * 3844 / 150))
	id=$(printf %s "$B62" | cut -c$((n / 62 + 1)))$(printf %s "$B62" |
	    cut -c$((n % 62 + 1)))000000000$(printf %s "$B62" |
	    cut -c$((i % 62 + 1)))
	rec "$id" active "user$((i % 7))" "key $i" '' '' \
	    "$([ $((i % 2)) -eq 0 ] && echo sshd,sudo)" \
	    "$([ $((i % 4)) -eq 0 ] && echo 10.0.0.0/8)" $T0 $T1 alice '' '' '' ''
	i=$((i + 1))
  done
  printf "#end\n"; } | put store many
{ printf '%s\n' "$HDR"; rec_b; rec_a; printf '#end\n'; } | put store unsorted
{ printf '%s\n' "$HDR"; rec_a; rec_a; printf '#end\n'; } | put store duplicate
{ printf '%s\n' "$HDR"; rec_a; rec_b; } | put store truncated
{ printf '#apitoken-store\tv2\n'; printf '#end\n'; } | put store v2
rec_a | put store line-a
rec_c | put store line-c
rec_c | sed 's/leaked/\\x1b/' | put store line-esc
rec_f | head -c 200 | put store line-cut
printf 'v1\t2023-11-14T22:13:20Z\tsshd\t10.1.2.3\n' | put store lastuse
printf 'v1\t2023-11-14T22:13:20Z\t\t\n' | put store lastuse-empty

# --- token: byte 0 = prefix choice (0 apitok, 3 a 16-char one, 6 from
# the input) | 8 (fix the CRC up), then the token ------------------------
{ printf '\000'; token apitok A0000000000a "$SECRET"; } | put token valid
{ printf '\003'; token abcdefghijklmnop 0123456789ab \
	ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef; } | put token prefix16
{ printf '\006'; token ci7 zzzzzzzzzzzz 00000000000000000000000000000000; } |
	put token input-prefix
{ printf '\010'; printf 'apitok_A0000000000a_%s000000' "$SECRET"; } |
	put token fixcrc
{ printf '\000'; printf 'apitok_A0000000000a_%s000000' "$SECRET"; } |
	put token badcrc
{ printf '\000'; printf 'apitok_A000_0000000a_%s' "$SECRET"; } | put token shape
{ printf '\000'; printf 'apitok_A0000000000a\000%s' "$SECRET"; } | put token nul
printf '\000' | put token empty

# --- header: byte 0 bit 0 = fix the CRC up, then the header value -----
TOK=$(token apitok A0000000000a "$SECRET")
{ printf '\000'; printf 'Bearer %s\r\n' "$TOK"; } | put header bearer
{ printf '\000'; printf 'ApiKey %s\n' "$TOK"; } | put header apikey
{ printf '\000'; printf 'bearer %s' "$TOK"; } | put header lower
{ printf '\000'; printf '%s' "$TOK"; } | put header raw
{ printf '\000'; printf 'Bearer  %s' "$TOK"; } | put header two-spaces
{ printf '\000'; printf 'Bearer\t%s' "$TOK"; } | put header tab
{ printf '\000'; printf 'Bearer'; } | put header bare
{ printf '\001'; printf 'Bearer apitok_B0000000000b_%sxxxxxx' "$SECRET"; } |
	put header fixcrc

# --- config ------------------------------------------------------------
cat "$here/../../conf/apitoken.yaml" | put config shipped
printf '' | put config empty
printf 'store: /var/lib/apitoken/tokens\nstate_dir: /var/lib/apitoken/state\ntoken_prefix: apitok\ndefault_lifetime: 90d\nmax_lifetime: 1y\nlock_timeout: 10s\nmax_store_size: 1G\n' |
	put config full
printf 'default_lifetime: never\nmax_lifetime: never\nmax_store_size: 4K\n' |
	put config never
printf '{store: "/srv/tok", token_prefix: "ci", lock_timeout: 1h}\n' |
	put config flow
printf -- '---\n"store": \x27/a b/c\x27\n...\n' | put config quoted
printf 'store: relative/path\n' | put config relative
printf 'store: [a, b]\n' | put config list
printf 'nope: 1\n' | put config unknown
printf 'store: /a\nstore: /b\n' | put config twice
printf 'default_lifetime: 2y\nmax_lifetime: 1y\n' | put config longer
printf 'a: &x 1\nb: *x\n' | put config alias
printf 'service_aliases:\n  su: [su-l]\n  sudo: [sudo-i, "sudo-l"]\n  x: []\n' |
	put config aliases
printf 'max_lifetime: 30d\n' | put config max-alone
printf 'daemon_socket: /run/x/s.sock\ndaemon_callers:\n  www-data: [nginx-api]\n  "@mail": [imap, pop3]\nmax_failures: 5\nfailure_window: 1h\nlockout: 2d\n' |
	put config daemon
printf 'postgresql:\n  conninfo: "host=db.example port=5432 dbname=apitoken sslmode=verify-full"\n  passfile: /etc/apitoken/pgpass\nmax_staleness: 1h\n' |
	put config fleet
printf 'postgresql: {conninfo: "postgresql://u:secret@db/x?sslmode=require"}\nmax_staleness: never\n' |
	put config fleet-uri
printf "postgresql:\n  conninfo: host=db application_name='a \\\\' b' password = x\n" |
	put config fleet-password

# --- cli: A, or A "\n" B (CIDR, address) ---------------------------------
printf '90d' | put cli duration
printf 'never' | put cli never
printf '2024-02-29' | put cli date
printf '2024-02-29T23:59Z' | put cli minutes
printf '2024-02-29T23:59:59Z' | put cli time
printf '10.0.0.0/8\n10.1.2.3' | put cli cidr4
printf '2001:db8::/32\n2001:db8::1' | put cli cidr6
printf '::ffff:10.1.2.3\n10.1.2.3/32' | put cli mapped
printf 'sshd\nsha256$%s' "$(printf x | sha256sum | cut -c1-64)" | put cli fields
printf 'A0000000000a\nlabel with \303\251' | put cli id

# --- proto: an apitokend message body (version, op, tag-length-value) -----
# field TAG TEXT: one field, the length as two octal-escaped bytes
field() {
	n=${#2}
	printf "\\$(printf %03o "$1")\\$(printf %03o $((n / 256)))\\$(printf %03o $((n % 256)))%s" "$2"
}
TOK=$(token apitok A0000000000a "$SECRET")
{ printf '\001\001'; field 1 alice; field 2 sshd; field 3 10.1.2.3
  field 4 "$TOK"; } | put proto verify
{ printf '\001\001'; field 1 alice; field 2 imap; field 4 "$TOK"; } |
	put proto verify-norhost
printf '\001\002' | put proto lockouts
{ printf '\001\003'; field 6 A0000000000a; } | put proto unlock-id
{ printf '\001\003'; field 1 alice; } | put proto unlock-user
{ printf '\001\200'; field 5 accepted; field 6 A0000000000a
  field 7 'CI runner'; field 8 alice; field 9 0; } | put proto reply
{ printf '\001\200'; field 5 accepted
  field 11 'token A0000000000a 1700000000 10'
  field 11 'user 1000 alice 1700000000 10'; } | put proto reply-entries
{ printf '\001\201'; field 13 1; field 14 'Password: '; } | put proto prompt
{ printf '\001\202'; field 14 hunter2; } | put proto answer
{ printf '\001\020'; field 12 --label; field 12 ci; } | put proto self
printf '\002\001' | put proto version2

# --- httpauth: an Authorization header's value ----------------------------
printf 'Bearer apitok_x' | put httpauth bearer
printf 'apikey apitok_x' | put httpauth apikey
printf 'Basic %s' "$(printf 'alice:apitok_x' | base64 -w0)" | put httpauth basic
printf 'basic %s' "$(printf 'a:b:c' | base64 -w0)" | put httpauth basic2
printf 'Bearer  x' | put httpauth twospaces

# --- replica: a fleet replica's state file (apitoken-store(5)) -----------
RS='#apitoken-replica v1'
printf '%s\ncursor_xid 7493\ncursor_seq 1204\nlast_sync 1749990000\nupdated 1749990003\nconnected 1\npending_reports 0\npid 812\nserver db.example:5432\nerror\n' "$RS" |
	put replica synced
printf '%s\nerror PostgreSQL server at db: connection refused\nserver \npid 0\nconnected 0\nupdated 1\nlast_sync 0\npending_reports 9223372036854775807\ncursor_seq 0\ncursor_xid 18446744073709551615\n' "$RS" |
	put replica never
printf '%s\ncursor_xid 1\ncursor_xid 2\n' "$RS" | put replica twice
