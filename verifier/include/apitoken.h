/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * apitoken.h - libapitoken, the API token library behind pam_apitoken and
 * tokenctl.  This is the only public header.
 *
 * Not a stable API or ABI yet: the record and result structs below change
 * when a field is added, and nothing outside this project links the
 * library (the module and tokenctl link it statically).  See
 * docs/libapitoken.md; no -dev package is shipped until that changes.
 *
 * Conventions:
 *  - Functions returning int return 0 (APITOKEN_OK) on success or a negative
 *    APITOKEN_ERR_* code; apitoken_strerror() names it.
 *  - Predicates follow the same rule: every apitoken_*_valid() returns 0
 *    when its argument is acceptable and APITOKEN_ERR_INVALID when it is
 *    not, so "if (apitoken_x_valid(s) != 0) refuse" reads the same for
 *    every field.  Only six functions answer a yes/no question with 1
 *    and 0, and none is named *_valid: apitoken_record_expired(),
 *    apitoken_config_service_covers(), apitoken_config_caller_allowed(),
 *    apitoken_config_hosts_allow(),
 *    apitoken_ct_equal() and apitoken_cidr_match() (which also returns a
 *    negative code on error).
 *  - Functions that parse a file take (char *err, size_t errlen): on failure a
 *    one-line message naming the file (and line/column where known) is
 *    written there.  err may be NULL.
 *  - Out-parameters are cleared on entry and set only on success; the caller
 *    owns what it receives and releases it with the matching *_free(), which
 *    accepts NULL.
 *  - Nothing here prints, logs or exits.  Everything is reentrant and
 *    thread-safe on distinct objects; a store or config handle may be shared
 *    read-only between threads.
 */
#ifndef APITOKEN_H
#define APITOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define APITOKEN_API __attribute__((visibility("default")))
#define APITOKEN_MUST_CHECK __attribute__((warn_unused_result))
#define APITOKEN_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#else
#define APITOKEN_API
#define APITOKEN_MUST_CHECK
#define APITOKEN_NONNULL(...)
#endif

/* ---------------------------------------------------------------- errors */

enum {
	APITOKEN_OK = 0,
	APITOKEN_ERR_INTERNAL = -1,	/* a bug; fails closed */
	APITOKEN_ERR_NOMEM = -2,
	APITOKEN_ERR_SYSTEM = -3,	/* see errno (saved in the message) */
	APITOKEN_ERR_CRYPTO = -4,	/* crypto library or getrandom failed */
	APITOKEN_ERR_INVALID = -5,	/* invalid argument or field value */
	APITOKEN_ERR_CONFIG = -6,	/* config file missing or invalid */
	APITOKEN_ERR_STORE_MISSING = -7,
	APITOKEN_ERR_STORE_UNSAFE = -8,	/* symlink, owner, mode, type, size */
	APITOKEN_ERR_STORE_FORMAT = -9,	/* the store does not parse */
	APITOKEN_ERR_STORE_VERSION = -10, /* unknown store format version */
	APITOKEN_ERR_LOCK_TIMEOUT = -11,
	APITOKEN_ERR_NOT_FOUND = -12,
	APITOKEN_ERR_EXISTS = -13,
	APITOKEN_ERR_ACCESS = -14,	/* permission denied (e.g. not root) */
	APITOKEN_ERR_TOO_LONG = -15,
	APITOKEN_ERR_STALE = -16,	/* transaction already committed/failed */
	APITOKEN_ERR_RULE = -17,	/* would break a store rule (see txn) */
};

/* Static English description of an APITOKEN_ERR_* code; never NULL. */
APITOKEN_API const char *apitoken_strerror(int code);

/* Wipe n bytes at p in a way the compiler will not remove.  NULL is fine. */
APITOKEN_API void apitoken_wipe(void *p, size_t n);

/* 1 if the n bytes at a and b are equal, else 0, in a time that does not
 * depend on their contents (for hashes and secrets). */
APITOKEN_API int apitoken_ct_equal(const void *a, const void *b, size_t n)
    APITOKEN_NONNULL(1, 2);

/* ---------------------------------------------------------- token format
 *
 *   <prefix>_<id>_<secret><crc>
 *
 * prefix: 1..16 chars [a-z0-9] (config token_prefix, default "apitok");
 * id:     12 base62 chars (71 bits), public, names the token;
 * secret: 32 base62 chars (190 bits) from getrandom(2), rejection sampled;
 * crc:    CRC-32 (IEEE) of "<prefix>_<id>_<secret>", 6 base62 chars,
 *         most significant digit first, zero ('0') padded.
 * Base62 digits are 0-9, A-Z, a-z, in that order.
 */
#define APITOKEN_PREFIX_MAX 16
#define APITOKEN_ID_LEN 12
#define APITOKEN_SECRET_LEN 32
#define APITOKEN_CRC_LEN 6
#define APITOKEN_TOKEN_MAX (APITOKEN_PREFIX_MAX + 2 + APITOKEN_ID_LEN + \
			    APITOKEN_SECRET_LEN + APITOKEN_CRC_LEN)
#define APITOKEN_INPUT_MAX 512	/* longer input is refused unread */
#define APITOKEN_HASH_MAX 96	/* stored hash string incl. NUL */
#define APITOKEN_DEFAULT_PREFIX "apitok"

/* Why a string is not a token (or APITOKEN_FMT_OK). */
enum apitoken_format {
	APITOKEN_FMT_OK = 0,
	APITOKEN_FMT_EMPTY,
	APITOKEN_FMT_TOO_LONG,		/* longer than any token */
	APITOKEN_FMT_ALPHABET,		/* byte outside [0-9A-Za-z_] */
	APITOKEN_FMT_PREFIX,		/* not "<configured prefix>_" */
	APITOKEN_FMT_SHAPE,		/* separators or lengths wrong */
	APITOKEN_FMT_CHECKSUM,		/* well-formed, CRC mismatch */
};

/* A parsed token.  Holds the secret: apitoken_token_clear() it. */
struct apitoken_token {
	char id[APITOKEN_ID_LEN + 1];
	char secret[APITOKEN_SECRET_LEN + 1];
};

/* Static description of an apitoken_format value; never NULL. */
APITOKEN_API const char *apitoken_format_str(enum apitoken_format f);

/*
 * Parse a token string (len bytes, which need not be NUL-terminated and may
 * contain NULs, which are refused).  Nothing but the string is consulted.
 * On APITOKEN_FMT_OK *out holds id and secret; otherwise *out is zeroed.
 */
APITOKEN_API enum apitoken_format apitoken_token_parse(const char *prefix,
    const char *s, size_t len, struct apitoken_token *out)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2, 4);

/* Wipe a parsed or generated token. */
APITOKEN_API void apitoken_token_clear(struct apitoken_token *t);

/*
 * Strip an Authorization-header scheme: "Bearer <t>" or "ApiKey <t>".
 * The scheme is matched case-insensitively and must be followed by exactly
 * one space; the rest (to len) is the token.  Input without a scheme is
 * returned unchanged.  A trailing "\n" or "\r\n" is dropped first.
 * Sets tok and toklen to a slice of s; returns APITOKEN_ERR_INVALID for a
 * scheme with no token, or a scheme followed by other than one space.
 */
APITOKEN_API int apitoken_strip_scheme(const char *s, size_t len,
    const char **tok, size_t *toklen) APITOKEN_NONNULL(1, 3, 4);

/*
 * Make a new token: random id and secret.  Writes the full token string
 * (NUL-terminated) to buf (bufsize >= APITOKEN_TOKEN_MAX + 1), its parts to
 * *parts and the stored hash to hash (APITOKEN_HASH_MAX).  The caller wipes
 * buf and parts.  Returns 0, APITOKEN_ERR_INVALID (bad prefix) or
 * APITOKEN_ERR_CRYPTO.
 */
APITOKEN_API int apitoken_token_generate(const char *prefix, char *buf,
    size_t bufsize, struct apitoken_token *parts, char hash[APITOKEN_HASH_MAX])
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2, 4, 5);

/* A fresh random token id (not checked against any store). */
APITOKEN_API int apitoken_id_generate(char id[APITOKEN_ID_LEN + 1])
    APITOKEN_MUST_CHECK;

/* 0 if s is a syntactically valid token id, else APITOKEN_ERR_INVALID. */
APITOKEN_API int apitoken_id_valid(const char *s);

/* ----------------------------------------------------------- config */

struct apitoken_config;

#define APITOKEN_DEFAULT_CONFIG "/etc/apitoken/apitoken.yaml"
#define APITOKEN_NEVER ((int64_t)-1)	/* a lifetime or expiry: none */

/*
 * Load a YAML config file.  Unknown keys, wrong types and bad values are
 * errors with "path:line:column: ..." in err.  Returns 0,
 * APITOKEN_ERR_CONFIG, APITOKEN_ERR_NOMEM.
 */
APITOKEN_API int apitoken_config_load(const char *path,
    struct apitoken_config **cfgp, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);
APITOKEN_API void apitoken_config_free(struct apitoken_config *cfg);

/* A copy of cfg whose store is path instead (tokenctl against
 * PostgreSQL works on a private copy of the central store).  0 or
 * APITOKEN_ERR_NOMEM. */
APITOKEN_API int apitoken_config_clone_store(
    const struct apitoken_config *cfg, const char *path,
    struct apitoken_config **out) APITOKEN_MUST_CHECK
    APITOKEN_NONNULL(1, 2, 3);

/* Accessors; strings are owned by cfg. */
APITOKEN_API const char *apitoken_config_path(const struct apitoken_config *);
APITOKEN_API const char *apitoken_config_store(const struct apitoken_config *);
APITOKEN_API const char *apitoken_config_state_dir(
    const struct apitoken_config *);
APITOKEN_API const char *apitoken_config_token_prefix(
    const struct apitoken_config *);
/* Seconds, or APITOKEN_NEVER. */
APITOKEN_API int64_t apitoken_config_default_lifetime(
    const struct apitoken_config *);
APITOKEN_API int64_t apitoken_config_max_lifetime(
    const struct apitoken_config *);
/* Milliseconds a writer waits for the store lock. */
APITOKEN_API int64_t apitoken_config_lock_timeout_ms(
    const struct apitoken_config *);
/* Largest store file accepted, bytes. */
APITOKEN_API uint64_t apitoken_config_max_store_size(
    const struct apitoken_config *);
/*
 * service_aliases: 1 if a token allowed the PAM service svc is also
 * accepted for the service req (req is svc, or listed under svc), else 0.
 */
APITOKEN_API int apitoken_config_service_covers(
    const struct apitoken_config *cfg, const char *svc, const char *req)
    APITOKEN_NONNULL(1, 2, 3);
/* The i-th (from 0) service svc also covers, or NULL past the last. */
APITOKEN_API const char *apitoken_config_service_alias(
    const struct apitoken_config *cfg, const char *svc, size_t i)
    APITOKEN_NONNULL(1, 2);
/*
 * http_listen: the i-th (from 0) address apitokend serves HTTP on, as
 * written (see apitoken_listen_parse), or NULL past the last; none means
 * the HTTP front end is off.
 */
APITOKEN_API const char *apitoken_config_http_listen(
    const struct apitoken_config *cfg, size_t i) APITOKEN_NONNULL(1);
/* http_trusted_proxies: the i-th entry, a CIDR or "unix" (any peer on
 * an http_listen Unix socket), or NULL past the last.  Only such a peer
 * may name the client in X-Forwarded-For / X-Real-IP. */
APITOKEN_API const char *apitoken_config_http_trusted_proxy(
    const struct apitoken_config *cfg, size_t i) APITOKEN_NONNULL(1);

/* One http_listen entry, parsed. */
enum apitoken_listen_kind {
	APITOKEN_LISTEN_UNIX = 1,	/* path */
	APITOKEN_LISTEN_TCP4,		/* addr, port */
	APITOKEN_LISTEN_TCP6,		/* addr (no brackets), port */
};
struct apitoken_listen {
	enum apitoken_listen_kind kind;
	char path[108];		/* an absolute path, fits sun_path */
	char addr[46];		/* an address literal */
	unsigned port;		/* 1..65535 */
};

/*
 * Parse "unix:/absolute/path", "A.B.C.D:PORT" (an address in
 * 127.0.0.0/8) or "[::1]:PORT".  Any other address is refused: the
 * endpoint is for a proxy on the same host.  Returns 0 with *l filled,
 * or APITOKEN_ERR_INVALID with err saying why (*l zeroed).
 */
APITOKEN_API int apitoken_listen_parse(const char *s,
    struct apitoken_listen *l, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);
/* apitokend (apitokend(8)): the socket path (daemon_socket). */
APITOKEN_API const char *apitoken_config_daemon_socket(
    const struct apitoken_config *);
/*
 * daemon_callers: 1 if who (a user name, or "@" and a group name) is
 * granted the PAM service svc (for any user), else 0.
 */
APITOKEN_API int apitoken_config_caller_allowed(
    const struct apitoken_config *cfg, const char *who, const char *svc)
    APITOKEN_NONNULL(1, 2, 3);
/* Throttling: failures allowed (max_failures) within failure_window
 * seconds before a lockout of that many seconds. */
APITOKEN_API int64_t apitoken_config_max_failures(
    const struct apitoken_config *);
APITOKEN_API int64_t apitoken_config_failure_window(
    const struct apitoken_config *);
APITOKEN_API int64_t apitoken_config_lockout(const struct apitoken_config *);
/* host_name: this host's name as tokens' hosts are matched against it
 * (the key, else gethostname(2); "" if that gave no valid host name:
 * then only a group can match). */
APITOKEN_API const char *apitoken_config_host_name(
    const struct apitoken_config *cfg) APITOKEN_NONNULL(1);
/* The i-th (from 0) of host_groups, or NULL past the last. */
APITOKEN_API const char *apitoken_config_host_group(
    const struct apitoken_config *cfg, size_t i) APITOKEN_NONNULL(1);
/* 1 if a record with this hosts list may be used on this host (the list
 * is empty, or an item is host_name, a pattern matching it or "@g" with
 * g in host_groups; names and patterns ignore case), else 0. */
APITOKEN_API int apitoken_config_hosts_allow(
    const struct apitoken_config *cfg, char *const *hosts, size_t n)
    APITOKEN_NONNULL(1);

/*
 * The fleet (apitoken.yaml(5), "postgresql"; docs/fleet.md).  A
 * postgresql mapping makes PostgreSQL the source of truth: tokenctl
 * writes there and apitokend keeps the local store a replica of it.
 *   postgresql:
 *     conninfo: "host=db.example port=5432 dbname=apitoken sslmode=verify-full"
 *     passfile: /etc/apitoken/pgpass        # optional; libpq's format
 * conninfo is a libpq connection string or URI, passed as is (TLS
 * settings included); a "password" keyword or a URI with a password is
 * refused (the YAML file is no place for one).  NULL when the mapping is
 * absent: nothing else changes, the store file stays the one store.
 */
APITOKEN_API const char *apitoken_config_pg_conninfo(
    const struct apitoken_config *cfg) APITOKEN_NONNULL(1);
/* postgresql.passfile, or NULL (libpq's defaults then apply). */
APITOKEN_API const char *apitoken_config_pg_passfile(
    const struct apitoken_config *cfg) APITOKEN_NONNULL(1);
/* max_staleness: seconds a replica may go without a successful sync
 * before verification refuses every token with APITOKEN_R_STALE (default
 * 24h), or APITOKEN_NEVER.  Only read when postgresql is configured. */
APITOKEN_API int64_t apitoken_config_max_staleness(
    const struct apitoken_config *cfg) APITOKEN_NONNULL(1);

/*
 * A replica's state, kept with the local store in "<store>.replica"
 * (apitoken-store(5), REPLICA STATE): written only by apitokend, read by
 * the verify path (staleness) and by tokenctl replica status.  One
 * "key value" line each, written to a temp file and renamed (atomic).
 * The cursor means: every change of the central change log with
 * (xid, seq) <= (cursor_xid, cursor_seq) is in the store.
 */
struct apitoken_replica_state {
	uint64_t cursor_xid;	/* PostgreSQL xid8 of the last change in */
	int64_t cursor_seq;	/* its change-log seq */
	int64_t last_sync;	/* Unix time of the last successful sync */
	int64_t updated;	/* Unix time this state was written */
	int connected;		/* 1 while apitokend holds a connection */
	int64_t pending_reports;	/* last-use reports not yet sent */
	long pid;		/* the apitokend that wrote it */
	char server[128];	/* the server, as libpq names it */
	char error[256];	/* the last connection/sync error, or "" */
};
/* Read cfg's replica state: 0, APITOKEN_ERR_NOT_FOUND (no file yet: never
 * synced), APITOKEN_ERR_STORE_FORMAT (err names file and line), _SYSTEM;
 * _STORE_UNSAFE or _ACCESS for a file the store's file rule refuses.  On
 * failure *st is all zero. */
APITOKEN_API int apitoken_replica_state_read(
    const struct apitoken_config *cfg, struct apitoken_replica_state *st,
    char *err, size_t errlen) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);
/* Write it atomically (the store's owner, group and read bits; 0600
 * without a store).  Control characters in server and error are written
 * as '?'.  0, APITOKEN_ERR_INVALID (a negative number, connected other
 * than 0 or 1), _SYSTEM, _ACCESS. */
APITOKEN_API int apitoken_replica_state_write(
    const struct apitoken_config *cfg,
    const struct apitoken_replica_state *st, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);
/* 1 if cfg names a postgresql store and its replica is stale at now (no
 * state yet, one that cannot be read, last_sync 0, or last_sync older
 * than max_staleness unless that is APITOKEN_NEVER), else 0.  Every
 * verification calls it (apitoken_verify refuses with APITOKEN_R_STALE). */
APITOKEN_API int apitoken_replica_stale(const struct apitoken_config *cfg,
    time_t now) APITOKEN_NONNULL(1);

/* ------------------------------------------------------ time and text */

/*
 * Parse a duration "<n><unit>" with unit s m h d w y (y = 365 days), or
 * "never" (-> APITOKEN_NEVER).  Returns 0 or APITOKEN_ERR_INVALID.
 */
APITOKEN_API int apitoken_duration_parse(const char *s, int64_t *secs)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);

/*
 * Parse a WHEN: a duration from now, "never", an ISO-8601 date
 * "YYYY-MM-DD" (00:00:00 UTC) or UTC time "YYYY-MM-DDTHH:MM[:SS]Z".
 * *when is an absolute time, or APITOKEN_NEVER.
 */
APITOKEN_API int apitoken_when_parse(const char *s, time_t now, int64_t *when)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 3);

/* Format t as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
APITOKEN_API int apitoken_time_format(int64_t t, char *buf, size_t bufsize);

/* Strict parse of the format above. */
APITOKEN_API int apitoken_time_parse(const char *s, int64_t *t)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);

/*
 * Validate a CIDR "a.b.c.d/n", "x::y/n" or a bare address (host route).
 * Returns 0 or APITOKEN_ERR_INVALID.
 */
APITOKEN_API int apitoken_cidr_valid(const char *s);
/*
 * apitoken_cidr_valid, and no address bit set past the prefix length
 * ("10.20.1.2/0" is refused: it means every address).  The rule for new
 * input; a stored CIDR with host bits still loads and matches the network
 * it denotes.  Returns 0 or APITOKEN_ERR_INVALID; for host bits, writes
 * that network ("0.0.0.0/0") to net when net is not NULL.
 */
APITOKEN_API int apitoken_cidr_strict(const char *s, char *net,
    size_t netsize);

/* 1 if addr (an IPv4/IPv6 literal) lies in cidr, 0 if not, <0 on error. */
APITOKEN_API int apitoken_cidr_match(const char *cidr, const char *addr);

/* 0 if s is an IPv4 or IPv6 address literal, else APITOKEN_ERR_INVALID. */
APITOKEN_API int apitoken_addr_valid(const char *s);
/*
 * The one spelling of address literal s, as inet_ntop(3) writes it
 * (lower case, the shortest IPv6 form) and an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) as IPv4, into out (outsize >= 46 holds any).  0, or
 * APITOKEN_ERR_INVALID (not an address) or APITOKEN_ERR_TOO_LONG, with
 * out "".
 */
APITOKEN_API int apitoken_addr_canon(const char *s, char *out,
    size_t outsize);

/* Field limits (bytes, excluding NUL). */
#define APITOKEN_USER_MAX 256
#define APITOKEN_LABEL_MAX 128
#define APITOKEN_DESCRIPTION_MAX 1024
#define APITOKEN_EXTERNAL_ID_MAX 128
#define APITOKEN_SERVICE_MAX 64
#define APITOKEN_SERVICES_MAX 32
#define APITOKEN_FROM_MAX 32
#define APITOKEN_REASON_MAX 256
#define APITOKEN_HOST_MAX 253	/* a host name, pattern or @group */
#define APITOKEN_HOSTS_MAX 32	/* items in a record's hosts */
#define APITOKEN_HOST_GROUP_MAX 64	/* a group name (without '@') */
#define APITOKEN_HOST_GROUPS_MAX 32	/* config host_groups */

/* 0 if s is acceptable as a label (non-empty, one line, valid UTF-8,
 * <= APITOKEN_LABEL_MAX, no control characters: neither C0, DEL nor C1
 * U+0080-U+009F, and no bidi override U+202A-U+202E or U+2066-U+2069);
 * else APITOKEN_ERR_INVALID.  Every text field of a record follows these
 * rules (apitoken_record_check). */
APITOKEN_API int apitoken_label_valid(const char *s);
/* The same rules for free text of at most max bytes (may be empty). */
APITOKEN_API int apitoken_text_valid(const char *s, size_t max);
/*
 * The UTF-8 sequence at s (at most n bytes): its length, 1..4, with its
 * code point in *cp; or 0 (and *cp = 0) when it is not valid UTF-8:
 * overlong forms, surrogates and code points past U+10FFFF are not.
 */
APITOKEN_API size_t apitoken_utf8_decode(const char *s, size_t n,
    uint32_t *cp) APITOKEN_NONNULL(1, 3);

/*
 * Open path read-only under the rule of the config file: every directory
 * from "/" owned by root or the euid and not group/other-writable (a
 * root-owned sticky one allowed above the last), no symbolic link on the
 * way, a regular file owned by root or the euid and not writable by group
 * or others.  Returns 0 with *fdp (O_CLOEXEC; the caller closes it), or
 * APITOKEN_ERR_STORE_UNSAFE, _STORE_MISSING, _ACCESS, _SYSTEM with err
 * naming the path or the directory at fault.
 */
APITOKEN_API int apitoken_open_trusted(const char *path, int *fdp,
    char *err, size_t errlen) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);

/*
 * Escape s for one value of a log or audit line: printable ASCII except
 * '"' and '\' is kept, a space only when quoted (the value goes between
 * double quotes), every other byte becomes \xNN; an empty unquoted value
 * is "-".  Truncated to fit dstlen (4 * strlen(s) + 1 holds it all).
 */
APITOKEN_API void apitoken_log_escape(char *dst, size_t dstlen,
    const char *s, int quoted) APITOKEN_NONNULL(1);
/*
 * 1 when user's account is locked: its shadow hash is "!" followed by
 * something (passwd -l, usermod -L; "!" alone, useradd's default for an
 * account without a password, is not); 0 when not, when it has no shadow
 * entry, or when shadow cannot be read (then *unreadable is set: not
 * root); -1 when the look-up failed.
 */
APITOKEN_API int apitoken_account_locked(const char *user, int *unreadable)
    APITOKEN_NONNULL(1, 2);
/* 0 for a PAM service name: 1..64 of [A-Za-z0-9._+-]; else _INVALID. */
APITOKEN_API int apitoken_service_valid(const char *s);
/*
 * 0 for an item of a record's hosts, else APITOKEN_ERR_INVALID:
 *  - a host name: dot-separated labels of [A-Za-z0-9-], each 1..63 bytes
 *    and neither starting nor ending with '-', at most APITOKEN_HOST_MAX
 *    bytes (apitoken_host_name_valid);
 *  - a pattern: host name characters and at least one '*' (any run of
 *    characters, dots included), '?' (one character) or '[...]' (one
 *    character of a set of host name characters and ranges such as a-z;
 *    "[!...]" one not in it), as fnmatch(3) reads them;
 *  - "@" and a group name (apitoken_host_group_valid).
 */
APITOKEN_API int apitoken_host_valid(const char *s);
/* 0 for a host group name: 1..64 of [A-Za-z0-9._-]; else _INVALID. */
APITOKEN_API int apitoken_host_group_valid(const char *s);
/* 0 for a host name (no pattern, no group; the first form above). */
APITOKEN_API int apitoken_host_name_valid(const char *s);

/* The credential of an HTTP Authorization header (apitokend, HTTP). */
enum apitoken_auth_scheme {
	APITOKEN_AUTH_BEARER = 1,	/* "Bearer <token>" */
	APITOKEN_AUTH_APIKEY,		/* "ApiKey <token>" */
	APITOKEN_AUTH_BASIC,		/* "Basic <base64(user:token)>" */
};
/* Holds a secret: apitoken_auth_clear() it. */
struct apitoken_auth {
	enum apitoken_auth_scheme scheme;
	char user[APITOKEN_USER_MAX + 1];	/* Basic: the user; else "" */
	char token[APITOKEN_INPUT_MAX + 1];	/* as sent, NUL-terminated */
	size_t len;				/* of token */
};

/*
 * Parse an Authorization header's value (len bytes): "Bearer <token>" or
 * "ApiKey <token>" (apitoken_strip_scheme: scheme case-insensitive,
 * exactly one space; the token 1..APITOKEN_INPUT_MAX bytes with no space
 * or control character), or "Basic <base64>" (scheme case-insensitive,
 * one space, strict padded base64 of "user:token": user 1..
 * APITOKEN_USER_MAX bytes before the first ':', token 1..
 * APITOKEN_INPUT_MAX, neither with a control character).  Only syntax:
 * the token itself is apitoken_verify's to judge.  Returns 0 with *a
 * filled, or APITOKEN_ERR_INVALID (any other scheme or shape) with *a
 * wiped.
 */
APITOKEN_API int apitoken_auth_parse(const char *value, size_t len,
    struct apitoken_auth *a) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 3);
/* Wipe a parsed credential.  NULL is fine. */
APITOKEN_API void apitoken_auth_clear(struct apitoken_auth *a);
/* "bearer", "apikey", "basic" (for logs); "none" for another value. */
APITOKEN_API const char *apitoken_auth_scheme_str(
    enum apitoken_auth_scheme s);

/* ------------------------------------------------------------ records */

enum apitoken_status {
	APITOKEN_ACTIVE = 0,
	APITOKEN_DISABLED = 1,
	APITOKEN_REVOKED = 2,
};

/* "active", "disabled", "revoked". */
APITOKEN_API const char *apitoken_status_str(enum apitoken_status s);
/* The inverse: 0 and *st, or APITOKEN_ERR_INVALID for another string. */
APITOKEN_API int apitoken_status_parse(const char *s,
    enum apitoken_status *st) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);

/*
 * One token's record.  All strings are heap-owned by the record, never
 * NULL after a successful parse ("" when empty); times are Unix seconds,
 * 0 when unset (expires: 0 = never).  services: empty = all services;
 * from: empty = any address; hosts: empty = every host.  hash is the
 * stored hash string, never a secret; it must not be shown to users.
 */
struct apitoken_record {
	char id[APITOKEN_ID_LEN + 1];
	enum apitoken_status status;
	char *user;
	char *hash;
	char *label;
	char *description;
	char *external_id;
	char **services;
	size_t n_services;
	char **from;
	size_t n_from;
	char **hosts;	/* host names, patterns, @groups; empty = any host */
	size_t n_hosts;
	int64_t created;
	int64_t updated;
	char *created_by;
	int64_t expires;
	int64_t revoked_at;
	char *revoke_reason;
	char *parent;	/* id of the token this was derived/rotated from, or "" */
};

/*
 * The record's one field table: one row per field, in store order (the
 * columns of a store line and of apitoken_store_header()).  Allocation,
 * copy, free, apitoken_record_check, the store codec and tokenctl's JSON
 * forms all walk it, so a new field is one row (plus its member above).
 */
enum apitoken_field_kind {
	APITOKEN_FIELD_ID,	/* char[APITOKEN_ID_LEN + 1] */
	APITOKEN_FIELD_STATUS,	/* enum apitoken_status */
	APITOKEN_FIELD_TEXT,	/* char *, UTF-8 (apitoken_text_valid rules) */
	APITOKEN_FIELD_HASH,	/* char *, apitoken_hash_valid; never shown */
	APITOKEN_FIELD_REF,	/* char *, "" or the id of another token */
	APITOKEN_FIELD_LIST,	/* char **, with a size_t count */
	APITOKEN_FIELD_TIME,	/* int64_t Unix seconds, 0 = unset */
};

#define APITOKEN_FIELD_NONEMPTY	0x01	/* text: at least one byte */
#define APITOKEN_FIELD_MULTILINE 0x02	/* text: TAB, LF, CR allowed */
#define APITOKEN_FIELD_NOBLANK	0x04	/* text: no blank or comma */
#define APITOKEN_FIELD_SERVICES	0x08	/* list of apitoken_service_valid */
#define APITOKEN_FIELD_CIDRS	0x10	/* list of apitoken_cidr_valid */
#define APITOKEN_FIELD_SET	0x20	/* time: > 0 */
#define APITOKEN_FIELD_AFTER_CREATED 0x40 /* time: >= created */
#define APITOKEN_FIELD_IF_REVOKED 0x80	/* time: > 0 exactly when revoked */
#define APITOKEN_FIELD_IMPORT	0x100	/* a key an import must give */
#define APITOKEN_FIELD_HOSTS	0x200	/* list of apitoken_host_valid */
#define APITOKEN_FIELD_OPTIONAL	0x400	/* a column after v1's first 16:
					   left out of a store line when
					   empty (older stores lack it) */

struct apitoken_field {
	const char *name;	/* store column and JSON key */
	enum apitoken_field_kind kind;
	unsigned flags;		/* APITOKEN_FIELD_* */
	size_t max;		/* text: bytes; list: items; else 0 */
	size_t offset;		/* of the member in struct apitoken_record */
	size_t count_offset;	/* list: of its size_t count; else 0 */
	const char *why;	/* what apitoken_record_check says if bad */
	unsigned view;		/* place in list/show views, 1..; 0 = never
				   shown (the hash) */
};

/* The table and its length (*n); static, never NULL. */
APITOKEN_API const struct apitoken_field *apitoken_record_fields(size_t *n)
    APITOKEN_NONNULL(1);

/* A row's member of r (the kind says which of these applies). */
static inline char **
apitoken_field_str(struct apitoken_record *r, const struct apitoken_field *f)
{
	return (char **)(void *)((char *)r + f->offset);
}
static inline const char *
apitoken_field_cstr(const struct apitoken_record *r,
    const struct apitoken_field *f)
{
	if (f->kind == APITOKEN_FIELD_ID)
		return (const char *)r + f->offset;
	return *(char *const *)(const void *)((const char *)r + f->offset);
}
static inline size_t *
apitoken_field_count(struct apitoken_record *r,
    const struct apitoken_field *f)
{
	return (size_t *)(void *)((char *)r + f->count_offset);
}
static inline size_t
apitoken_field_ccount(const struct apitoken_record *r,
    const struct apitoken_field *f)
{
	return *(const size_t *)(const void *)((const char *)r +
	    f->count_offset);
}
static inline char *const *
apitoken_field_clist(const struct apitoken_record *r,
    const struct apitoken_field *f)
{
	return *(char **const *)(const void *)((const char *)r + f->offset);
}
static inline int64_t *
apitoken_field_time(struct apitoken_record *r, const struct apitoken_field *f)
{
	return (int64_t *)(void *)((char *)r + f->offset);
}
static inline int64_t
apitoken_field_ctime(const struct apitoken_record *r,
    const struct apitoken_field *f)
{
	return *(const int64_t *)(const void *)((const char *)r + f->offset);
}

/* A record with every string "" and lists empty, or NULL on ENOMEM. */
APITOKEN_API struct apitoken_record *apitoken_record_new(void);
/* Deep copy, or NULL on ENOMEM. */
APITOKEN_API struct apitoken_record *apitoken_record_dup(
    const struct apitoken_record *r);
APITOKEN_API void apitoken_record_free(struct apitoken_record *r);
/* Replace a string field (*field = strdup(value)); 0 or NOMEM. */
APITOKEN_API int apitoken_record_set(char **field, const char *value);
/* Append to a list field; 0 or NOMEM. */
APITOKEN_API int apitoken_record_list_add(char ***list, size_t *n,
    const char *value);
/* Empty a list field. */
APITOKEN_API void apitoken_record_list_clear(char ***list, size_t *n);
/*
 * Check every field against the store's rules.  On failure writes which
 * field is wrong to err.  Returns 0 or APITOKEN_ERR_INVALID.  The rules:
 *  id: apitoken_id_valid; status: one of the enum;
 *  user: 1..APITOKEN_USER_MAX bytes, UTF-8, no control chars, no blank/comma;
 *  hash: apitoken_hash_valid; label: apitoken_label_valid;
 *  description: <= APITOKEN_DESCRIPTION_MAX, UTF-8, no control characters
 *    except TAB, LF and CR (multi-line descriptions);
 *  external_id, created_by, revoke_reason: apitoken_text_valid (one line,
 *    no control characters) with their limits;
 *  services: <= APITOKEN_SERVICES_MAX, each apitoken_service_valid, no
 *    duplicates; from: <= APITOKEN_FROM_MAX, each apitoken_cidr_valid;
 *  hosts: <= APITOKEN_HOSTS_MAX, each apitoken_host_valid, no duplicates;
 *  created > 0, updated >= created, expires >= 0 (0 = never);
 *  revoked_at > 0 exactly when status is APITOKEN_REVOKED;
 *  parent: "" or a valid id other than the record's own.
 * apitoken_record_parse applies the same rules after decoding, so a line
 * holding an escaped control character in a label is refused.
 */
APITOKEN_API int apitoken_record_check(const struct apitoken_record *r,
    char *err, size_t errlen);
/* 1 if the record has an expiry at or before now. */
APITOKEN_API int apitoken_record_expired(const struct apitoken_record *r,
    time_t now);

/*
 * The store's one serializer and one parser, for a single record line
 * (see apitoken-store(5), STORE FORMAT).  format: *linep is a malloc'ed
 * line ending in '\n' (length in *lenp), for a record that passes
 * apitoken_record_check.
 * parse: line may or may not end in '\n'; every field is validated.
 * Export and import use these, so they cannot disagree with the store.
 */
APITOKEN_API int apitoken_record_format(const struct apitoken_record *r,
    char **linep, size_t *lenp) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2, 3);
APITOKEN_API int apitoken_record_parse(const char *line, size_t len,
    struct apitoken_record **recp, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 3);
/* The store's first line (without '\n') and last line ("#end"). */
APITOKEN_API const char *apitoken_store_header(void);
/* 0 if the len bytes at line (no '\n') are a header this library reads:
 * apitoken_store_header(), or the v1 header of a store written before
 * the hosts column; else APITOKEN_ERR_INVALID. */
APITOKEN_API int apitoken_store_header_valid(const char *line, size_t len)
    APITOKEN_NONNULL(1);
APITOKEN_API const char *apitoken_store_trailer(void);

/* ------------------------------------------------------------ store
 *
 * The store is one text file, records sorted by id (see apitoken-store(5),
 * STORE FORMAT).  Readers pread it and never lock; writers take <store>.lock.
 */
struct apitoken_store;

/*
 * Open the store named by cfg read-only, safely: O_NOFOLLOW|O_CLOEXEC, then
 * fstat: a regular file owned by root or the effective uid, not writable by
 * group or others, no larger than max_store_size; the same owner/mode rule
 * for its directory.  Checks header and trailer, not every record.
 * Returns 0, APITOKEN_ERR_STORE_MISSING, _STORE_UNSAFE, _STORE_FORMAT,
 * _STORE_VERSION, _ACCESS, _SYSTEM, _NOMEM.
 */
APITOKEN_API int apitoken_store_open(const struct apitoken_config *cfg,
    struct apitoken_store **storep, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);
/*
 * The same, but look-ups (apitoken_store_find, apitoken_verify) read a
 * read-only mapping of the whole file instead of pread(2): no system
 * call per look-up, at the cost of the store's pages mapped in the
 * process (for a long-running verifier such as apitokend; the module
 * keeps apitoken_store_open and its small RSS).  Unmapped by
 * apitoken_store_close.  Writers replace the store by rename(2), which
 * leaves the mapping intact; a file truncated in place while mapped
 * makes a look-up past its new end raise SIGBUS, so a caller re-opens
 * the store when the file's size (stat) is no longer the one it opened.
 */
APITOKEN_API int apitoken_store_open_mapped(const struct apitoken_config *cfg,
    struct apitoken_store **storep, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);
APITOKEN_API void apitoken_store_close(struct apitoken_store *store);

/*
 * Look a record up by id (binary search, O(log n)).  Returns 0 and a new
 * record, APITOKEN_ERR_NOT_FOUND, or _STORE_FORMAT if a record it reads
 * does not parse or the order is broken.
 */
APITOKEN_API int apitoken_store_find(struct apitoken_store *store,
    const char *id, struct apitoken_record **recp, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2, 3);

/*
 * Call fn for every record in id order, parsing (and so validating) each.
 * The record is freed after fn returns (fn may steal it by setting *rec to
 * NULL).  fn returns 0 to go on, anything else to stop; that value is
 * returned.  A record that does not parse stops with _STORE_FORMAT and a
 * message naming the line.
 */
typedef int (*apitoken_record_fn)(struct apitoken_record **rec, void *ctx);
APITOKEN_API int apitoken_store_foreach(struct apitoken_store *store,
    apitoken_record_fn fn, void *ctx, char *err, size_t errlen)
    APITOKEN_NONNULL(1, 2);

/* Number of records (counts lines; O(n) the first time). */
APITOKEN_API size_t apitoken_store_count(struct apitoken_store *store);

/* --------------------------------------------------- write transactions
 *
 * begin: take the lock (waiting up to lock_timeout), open and fully
 * validate the current store (a missing store is an error unless
 * APITOKEN_TXN_CREATE), remove stale temp files from killed writers.
 * Changes are staged in memory; commit writes a temp file in the same
 * directory, fsyncs it, renames it over the store and fsyncs the
 * directory, then releases the lock.  free without commit discards the
 * changes and releases the lock.  A reader never sees a partial store.
 *
 * Store rules.  Besides apitoken_record_check on each record, insert,
 * replace and delete refuse (APITOKEN_ERR_RULE, err naming the ids) a
 * change that would break a rule spanning records.  A record is live
 * unless revoked; parent links are followed through revoked records.
 *  - Labels: a live record's (user, label) is unique among live records.
 *  - Parents: a live record inserted (or given another parent) names an
 *    existing record, or none.  The parent may be revoked: a rotated
 *    token's successor names its predecessor.
 *  - Lifetimes: a live record never expires after a live ancestor
 *    (expires 0, never, is the latest); a replace that shortens a
 *    record's expiry is refused while a live descendant outlives it
 *    (apitoken_txn_set_expiry caps the tree instead).
 *  - Revocation is final: a revoked record stays revoked and keeps its
 *    user and hash; a revoked record deleted in a transaction cannot be
 *    inserted again in it.  There is no override.
 *  - Delete: a live record cannot be deleted while it has a live,
 *    unexpired child (revoke the descendants first).
 * Revocation does not cascade by itself (a rotation revokes a token
 * whose successor lives on): apitoken_txn_revoke_descendants does it.
 * The cascades stage several records; after one fails, free the
 * transaction without committing.
 */
struct apitoken_txn;

#define APITOKEN_TXN_CREATE 0x1	/* a missing store is an empty one */
/* A replica applying the central store's changes (apitokend, fleet):
 * each record is still checked (apitoken_record_check) but not the
 * rules spanning records, which PostgreSQL's writers already enforced
 * with this library; insert of an existing id and delete of a missing
 * one are then errors as usual.  Its begin trusts the store this process
 * itself last committed at that path (same device, inode, size, mtime and
 * ctime, noted in memory after the rename): then only line lengths and
 * id order are checked, not each record again; any other writer changes
 * ctime, and the store is fully validated.  Its commit fails with
 * APITOKEN_ERR_STORE_UNSAFE if the trusted store was written in place
 * meanwhile. */
#define APITOKEN_TXN_MIRROR 0x2
/* The view starts empty: commit replaces the whole store with what was
 * inserted (a replica's full snapshot; with MIRROR, any order). */
#define APITOKEN_TXN_EMPTY 0x4

APITOKEN_API int apitoken_txn_begin(const struct apitoken_config *cfg,
    int flags, struct apitoken_txn **txnp, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 3);
/* Records in the transaction's view (original plus staged changes). */
APITOKEN_API int apitoken_txn_find(struct apitoken_txn *txn, const char *id,
    struct apitoken_record **recp, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2, 3);
/* Iterate the transaction's view in id order (like store_foreach). */
APITOKEN_API int apitoken_txn_foreach(struct apitoken_txn *txn,
    apitoken_record_fn fn, void *ctx, char *err, size_t errlen)
    APITOKEN_NONNULL(1, 2);
/* Stage a new record (checked); APITOKEN_ERR_EXISTS if the id is taken. */
APITOKEN_API int apitoken_txn_insert(struct apitoken_txn *txn,
    const struct apitoken_record *rec, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);
/*
 * Stage rec as a new token: give it a fresh token (prefix, as
 * apitoken_token_generate makes one) and that token's id and hash, and
 * insert it; while the id is taken (APITOKEN_ERR_EXISTS) try another,
 * APITOKEN_TXN_NEW_TRIES times in all.  rec is filled but for id and
 * hash, which this sets; it stays the caller's.  The token string goes
 * to token (tokensize >= APITOKEN_TOKEN_MAX + 1), NUL-terminated, for the
 * caller to show once and wipe; wiped here on failure.  Returns 0, or
 * apitoken_token_generate's or apitoken_txn_insert's code with err.
 */
#define APITOKEN_TXN_NEW_TRIES 8
APITOKEN_API int apitoken_txn_insert_new(struct apitoken_txn *txn,
    const char *prefix, struct apitoken_record *rec, char *token,
    size_t tokensize, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2, 3, 4);
/* Stage a replacement (checked); APITOKEN_ERR_NOT_FOUND if absent. */
APITOKEN_API int apitoken_txn_replace(struct apitoken_txn *txn,
    const struct apitoken_record *rec, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);
/* Stage a removal; APITOKEN_ERR_NOT_FOUND if absent, _RULE (above). */
APITOKEN_API int apitoken_txn_delete(struct apitoken_txn *txn, const char *id,
    char *err, size_t errlen) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);

/* Called with the id of each record a cascade changed; return 0 to go
 * on, anything else to stop the cascade with that value. */
typedef int (*apitoken_id_fn)(const char *id, void *ctx);

/* The live record of user labelled label, other than except_id (may be
 * NULL): 0 and its id, or APITOKEN_ERR_NOT_FOUND. */
APITOKEN_API int apitoken_txn_label_owner(struct apitoken_txn *txn,
    const char *user, const char *label, const char *except_id,
    char id[APITOKEN_ID_LEN + 1]) APITOKEN_MUST_CHECK
    APITOKEN_NONNULL(1, 2, 3, 5);
/* Revoke one live record at now (revoked_at, updated) with reason;
 * _NOT_FOUND, or _RULE if it is already revoked.  No cascade. */
APITOKEN_API int apitoken_txn_revoke(struct apitoken_txn *txn,
    const char *id, const char *reason, int64_t now, char *err,
    size_t errlen) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);
/* Revoke every live descendant of id (any depth, through revoked ones)
 * with reason, breadth first; fn (may be NULL) gets each id revoked. */
APITOKEN_API int apitoken_txn_revoke_descendants(struct apitoken_txn *txn,
    const char *id, const char *reason, int64_t now, apitoken_id_fn fn,
    void *ctx, char *err, size_t errlen) APITOKEN_MUST_CHECK
    APITOKEN_NONNULL(1, 2);
/* Revoke every live record of user with reason, each followed by its
 * descendants ("derived from revoked token ID"); fn gets every id
 * revoked.  APITOKEN_ERR_NOT_FOUND if the user has no live record. */
APITOKEN_API int apitoken_txn_revoke_user(struct apitoken_txn *txn,
    const char *user, const char *reason, int64_t now, apitoken_id_fn fn,
    void *ctx, char *err, size_t errlen) APITOKEN_MUST_CHECK
    APITOKEN_NONNULL(1, 2);
/* Set a live record's expiry (0 = never; updated = now).  A shorter
 * expiry caps every live descendant that would outlive it (fn gets
 * each id capped); a longer one must not outlive a live ancestor. */
APITOKEN_API int apitoken_txn_set_expiry(struct apitoken_txn *txn,
    const char *id, int64_t expires, int64_t now, apitoken_id_fn fn,
    void *ctx, char *err, size_t errlen) APITOKEN_MUST_CHECK
    APITOKEN_NONNULL(1, 2);
/* Call fn(id, rec, ctx) for each record the transaction changed, in id
 * order: rec is its new version, or NULL if it was deleted (fleet:
 * tokenctl sends these to PostgreSQL instead of committing).  fn returns
 * 0 to go on, anything else to stop with that value. */
typedef int (*apitoken_change_fn)(const char *id,
    const struct apitoken_record *rec, void *ctx);
APITOKEN_API int apitoken_txn_changes(struct apitoken_txn *txn,
    apitoken_change_fn fn, void *ctx) APITOKEN_NONNULL(1, 2);
/* Write the staged changes durably.  After it, only free is allowed. */
APITOKEN_API int apitoken_txn_commit(struct apitoken_txn *txn,
    char *err, size_t errlen) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1);
APITOKEN_API void apitoken_txn_free(struct apitoken_txn *txn);

/*
 * Hash a token's secret into the stored form "sha256$<64 hex>", the
 * SHA-256 of "<id>_<secret>".  Used by generate and by import checks.
 */
APITOKEN_API int apitoken_hash(const struct apitoken_token *t,
    char out[APITOKEN_HASH_MAX]) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);
/* 0 if s is a stored hash in a scheme this library verifies. */
APITOKEN_API int apitoken_hash_valid(const char *s);

/* ------------------------------------------------------------ verify */

enum apitoken_reason {
	APITOKEN_ACCEPTED = 0,
	APITOKEN_R_MALFORMED,		/* not token-shaped (wrong prefix...) */
	APITOKEN_R_BAD_CHECKSUM,
	APITOKEN_R_UNKNOWN,		/* no record with that id */
	APITOKEN_R_WRONG_SECRET,
	APITOKEN_R_DISABLED,
	APITOKEN_R_REVOKED,
	APITOKEN_R_EXPIRED,
	APITOKEN_R_WRONG_USER,
	APITOKEN_R_SERVICE,		/* service not allowed */
	APITOKEN_R_SOURCE,		/* remote address not allowed/unknown */
	APITOKEN_R_STORE_ERROR,		/* store missing/unsafe/corrupt; see
					   error and detail */
	APITOKEN_R_CALLER,		/* apitokend: this caller may not ask */
	APITOKEN_R_THROTTLED,		/* apitokend: too many failures */
	APITOKEN_R_UNAVAILABLE,		/* apitokend unreachable or broken;
					   see detail (names the socket) */
	APITOKEN_R_HOST,		/* this host is not in the token's
					   hosts */
	APITOKEN_R_LOCKED,		/* apitokend: the owner's account is
					   locked (passwd -l) */
	APITOKEN_R_STALE,		/* a fleet replica (postgresql
					   configured) has not synced for
					   longer than max_staleness */
	APITOKEN_R_COUNT		/* not a reason: the number of them */
};

/* Short stable name: "accepted", "malformed", "bad-checksum", "unknown",
 * "wrong-secret", "disabled", "revoked", "expired", "wrong-user",
 * "service-not-allowed", "source-not-allowed", "store-error",
 * "caller-not-allowed", "throttled", "daemon-unavailable",
 * "host-not-allowed", "account-locked", "replica-stale". */
APITOKEN_API const char *apitoken_reason_str(enum apitoken_reason r);
/* The inverse: 0 and *r, or APITOKEN_ERR_INVALID for another string. */
APITOKEN_API int apitoken_reason_parse(const char *s,
    enum apitoken_reason *r) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);

struct apitoken_request {
	const char *user;	/* the account logging in; required
				   (NULL for apitoken_verify_owner) */
	const char *service;	/* PAM service name; NULL = none */
	const char *rhost;	/* remote IP literal; NULL/"" = unknown */
	time_t now;		/* 0 = time(NULL) */
};

/* The decision and the token's public metadata (never secret or hash). */
struct apitoken_result {
	enum apitoken_reason reason;
	int error;			/* APITOKEN_ERR_* for STORE_ERROR */
	enum apitoken_format format;	/* for MALFORMED / BAD_CHECKSUM */
	char id[APITOKEN_ID_LEN + 1];	/* "" when not token-shaped */
	char user[APITOKEN_USER_MAX + 1];	/* the token's owner */
	char label[APITOKEN_LABEL_MAX + 1];
	enum apitoken_status status;
	int64_t expires;		/* 0 = never */
	char detail[256];		/* store errors: the message */
};

/*
 * The one verify path.  Checks, in order: format and checksum, look-up by
 * id, constant-time hash compare, status, expiry, owner == user, this
 * host in hosts (with the host_name and host_groups of the config the
 * store was opened with), service allowed, remote address inside from (a
 * token with a from list is refused when rhost is unknown or not an IP).
 * Fills *res and returns res->reason: APITOKEN_ACCEPTED (0) only when
 * every check passed.
 */
APITOKEN_API enum apitoken_reason apitoken_verify(struct apitoken_store *store,
    const char *token, size_t len, const struct apitoken_request *req,
    struct apitoken_result *res)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2, 4, 5);

/*
 * apitoken_verify for a credential that names no user (HTTP Bearer and
 * ApiKey): every check but owner == user; on success res->user is the
 * token's owner, the user the caller may act as.  req->user must be NULL
 * (else store-error: a caller holding a claimed user wants
 * apitoken_verify).
 */
APITOKEN_API enum apitoken_reason apitoken_verify_owner(
    struct apitoken_store *store, const char *token, size_t len,
    const struct apitoken_request *req, struct apitoken_result *res)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2, 4, 5);

/*
 * The policy half of apitoken_verify, for a record already found (and
 * whose secret matched): status, expiry (at req->now, 0 = now), owner ==
 * req->user, this host in hosts (cfg's host_name and host_groups),
 * service allowed (with cfg's service_aliases), remote address inside
 * from.  Returns APITOKEN_ACCEPTED or the first reason the record
 * may not be used.  The PAM module's account phase re-checks with it.
 */
APITOKEN_API enum apitoken_reason apitoken_record_usable(
    const struct apitoken_config *cfg, const struct apitoken_record *rec,
    const struct apitoken_request *req)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2, 3);

/*
 * The same for one login: parse the token first (malformed input never
 * opens the store), then open the store from cfg, verify, close.  This is
 * what the PAM module and `tokenctl verify` call.
 */
APITOKEN_API enum apitoken_reason apitoken_verify_once(
    const struct apitoken_config *cfg, const char *token, size_t len,
    const struct apitoken_request *req, struct apitoken_result *res)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2, 4, 5);

/* ------------------------------------------------- apitokend protocol
 *
 * One request and one reply per exchange on a Unix stream socket (see
 * apitokend(8), PROTOCOL).  A message is a 4-byte big-endian length L
 * (1 <= L <= APITOKEN_MSG_MAX) and L bytes of body: version (1 byte,
 * APITOKEN_PROTO_VERSION), op (1 byte), then fields, each a tag (1 byte),
 * a 2-byte big-endian length and that many bytes (no NUL byte; every tag
 * has its own cap, see apitoken_msg_parse).  Unknown versions, ops and
 * tags, oversized fields and trailing bytes are malformed.
 */
#define APITOKEN_PROTO_VERSION 1
#define APITOKEN_MSG_MAX 8192		/* body bytes */
#define APITOKEN_MSG_FIELDS 128		/* fields in one message */
#define APITOKEN_DEFAULT_SOCKET "/run/apitoken/apitokend.sock"

enum apitoken_op {
	APITOKEN_OP_VERIFY = 1,		/* USER SERVICE [RHOST] TOKEN */
	APITOKEN_OP_LOCKOUTS = 2,	/* (root) list lockouts */
	APITOKEN_OP_UNLOCK = 3,		/* (root) ID or USER */
	/* 16..63: self-service (issue 16), one op per verb; apitokend(8),
	 * SELF-SERVICE PROTOCOL.  Record lines travel as T_ENTRY pieces
	 * (apitoken_msg_add_line), their hash replaced by a placeholder. */
	APITOKEN_OP_SELF_LIST = 16,	/* -> the caller's records */
	APITOKEN_OP_SELF_ISSUE = 17,	/* ENTRY (the record asked for) ->
					   [PROMPT...] TOKEN ENTRY */
	APITOKEN_OP_SELF_EDIT = 18,	/* ID ENTRY ARG(changed field)... */
	APITOKEN_OP_SELF_DISABLE = 19,	/* ID */
	APITOKEN_OP_SELF_ENABLE = 20,	/* ID */
	APITOKEN_OP_SELF_REVOKE = 21,	/* ID or TOKEN, [ARG reason] */
	APITOKEN_OP_SELF_ROTATE = 22,	/* ID [EXPIRES] -> [PROMPT...]
					   TOKEN ENTRY */
	APITOKEN_OP_REPLY = 128,	/* REASON [ID LABEL OWNER EXPIRES]
					   [DETAIL] [ENTRY...] */
	APITOKEN_OP_PROMPT = 129,	/* daemon -> client: a PAM prompt */
	APITOKEN_OP_ANSWER = 130,	/* client -> daemon: its answer */
};

enum apitoken_tag {
	APITOKEN_T_USER = 1,
	APITOKEN_T_SERVICE = 2,
	APITOKEN_T_RHOST = 3,
	APITOKEN_T_TOKEN = 4,		/* secret: the receiver wipes it */
	APITOKEN_T_REASON = 5,		/* apitoken_reason_str() name */
	APITOKEN_T_ID = 6,
	APITOKEN_T_LABEL = 7,
	APITOKEN_T_OWNER = 8,		/* the token's owner */
	APITOKEN_T_EXPIRES = 9,		/* decimal Unix seconds, 0 = never */
	APITOKEN_T_DETAIL = 10,		/* one line for the caller */
	APITOKEN_T_ENTRY = 11,		/* one line of a listing (repeats) */
	APITOKEN_T_ARG = 12,		/* an argument (repeats) */
	APITOKEN_T_STYLE = 13,		/* PROMPT: PAM msg_style, decimal */
	APITOKEN_T_TEXT = 14,		/* PROMPT text / ANSWER response;
					   an ANSWER is a secret */
	APITOKEN_T_STATUS = 15,		/* decimal exit status (verbs) */
	APITOKEN_T_LASTUSE = 16,	/* after a record line: its last use,
					   apitoken_lastuse_format's line */
};

struct apitoken_msg_field {
	uint8_t tag;
	uint16_t len;
	const char *val;	/* not NUL-terminated; points into a buffer */
};

struct apitoken_msg {
	uint8_t op;
	size_t n;
	struct apitoken_msg_field f[APITOKEN_MSG_FIELDS];
};

/* Start an empty message with op. */
APITOKEN_API void apitoken_msg_init(struct apitoken_msg *m, uint8_t op)
    APITOKEN_NONNULL(1);
/* Append a field (val is borrowed until encoded); APITOKEN_ERR_TOO_LONG
 * past a cap, _INVALID for a NUL byte or an unknown tag. */
APITOKEN_API int apitoken_msg_add(struct apitoken_msg *m, uint8_t tag,
    const char *val, size_t len) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1);
APITOKEN_API int apitoken_msg_add_str(struct apitoken_msg *m, uint8_t tag,
    const char *s) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 3);
/* Write length prefix and body to buf; *outlen = bytes written. */
APITOKEN_API int apitoken_msg_encode(const struct apitoken_msg *m,
    unsigned char *buf, size_t bufsize, size_t *outlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2, 4);
/* Parse a body (without the length prefix) of len bytes; fields point
 * into body.  0 or APITOKEN_ERR_INVALID (anything malformed). */
APITOKEN_API int apitoken_msg_parse(const unsigned char *body, size_t len,
    struct apitoken_msg *m) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 3);
/* Copy the first field with tag, NUL-terminated, to buf: 0,
 * APITOKEN_ERR_NOT_FOUND, or _TOO_LONG when it does not fit. */
APITOKEN_API int apitoken_msg_get(const struct apitoken_msg *m, uint8_t tag,
    char *buf, size_t bufsize) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 3);

/* ------------------------------------------------- apitokend client */

#define APITOKEN_CLIENT_TIMEOUT_MS 3000	/* the longest a client waits */

/*
 * Connect to apitokend's socket (cfg's daemon_socket) and check the
 * server: the socket is owned by root and the peer (SO_PEERCRED) is uid 0.
 * Waits at most timeout_ms.  0 with *fdp, or APITOKEN_ERR_SYSTEM /
 * _ACCESS with err naming the socket.
 */
APITOKEN_API int apitoken_client_connect(const struct apitoken_config *cfg,
    int timeout_ms, int *fdp, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 3);
/* Send req and read one message into *reply (its fields point into buf,
 * bufsize >= APITOKEN_MSG_MAX); both within timeout_ms. */
APITOKEN_API int apitoken_client_call(int fd, const struct apitoken_msg *req,
    struct apitoken_msg *reply, unsigned char *buf, size_t bufsize,
    int timeout_ms, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(2, 3, 4);
/*
 * apitoken_verify_once through apitokend: the same request and result.
 * APITOKEN_R_UNAVAILABLE (res->detail naming the socket) when the daemon
 * cannot be reached, misbehaves or does not answer in time.
 */
APITOKEN_API enum apitoken_reason apitoken_client_verify(
    const struct apitoken_config *cfg, const char *token, size_t len,
    const struct apitoken_request *req, struct apitoken_result *res)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2, 4, 5);

/* -------------------------------------------------------- self-service
 *
 * The self_service mapping of apitoken.yaml (apitoken.yaml(5)): what an
 * ordinary user may do to their own tokens through apitokend.  Off
 * unless enabled.  Strings and lists are owned by the config.
 */
struct apitoken_self_service {
	int enabled;			/* "enabled: true"; default off */
	char **services;		/* a self-issued token names >= 1 */
	size_t n_services;
	int64_t max_lifetime;		/* seconds (default 90d, never above
					   the global max_lifetime), or
					   APITOKEN_NEVER */
	size_t max_tokens;		/* live tokens per user (default 20) */
	int from_required;		/* allow_from_required: needs --from */
	char **users;			/* who may; users and groups both */
	size_t n_users;			/* empty: everyone with an account */
	char **groups;
	size_t n_groups;
	const char *reauth_service;	/* PAM service of issue and rotate,
					   default "apitoken-selfservice" */
};
#define APITOKEN_SELF_REAUTH_SERVICE "apitoken-selfservice"

/*
 * A line longer than one field (a record line, at most APITOKEN_LINE_MAX
 * bytes with its '\n') as consecutive fields of tag, APITOKEN_LINE_PIECE
 * bytes each but the last; the piece ending in '\n' ends the line.
 * add: 0, APITOKEN_ERR_INVALID (no final '\n', or one inside), _TOO_LONG
 * (past a cap or the field count).  next: the line starting at field
 * *pos or after (other tags skipped) into buf, NUL-terminated, length in
 * *lenp; *pos moves past it.  0, APITOKEN_ERR_NOT_FOUND at the end,
 * _INVALID (a line without its end), _TOO_LONG (buf too small).
 */
/* The hash a record line sent to a user carries instead of its own. */
#define APITOKEN_HASH_HIDDEN "sha256$" \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define APITOKEN_LINE_PIECE 512
#define APITOKEN_LINE_MAX (APITOKEN_MSG_MAX - 16)
APITOKEN_API int apitoken_msg_add_line(struct apitoken_msg *m, uint8_t tag,
    const char *line, size_t len) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 3);
APITOKEN_API int apitoken_msg_next_line(const struct apitoken_msg *m,
    uint8_t tag, size_t *pos, char *buf, size_t bufsize, size_t *lenp)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 3, 4, 6);

/* The config's self_service settings (defaults when absent); never NULL. */
APITOKEN_API const struct apitoken_self_service *apitoken_config_self_service(
    const struct apitoken_config *cfg) APITOKEN_NONNULL(1);

enum apitoken_self_op {
	APITOKEN_SELF_USE,	/* list, show, disable, enable, revoke: only
				   who may use self-service */
	APITOKEN_SELF_ISSUE,	/* a new token: rec, counted against
				   max_tokens */
	APITOKEN_SELF_ROTATE,	/* rec replaces old: checked as a new token,
				   not counted */
	APITOKEN_SELF_EDIT,	/* rec is old changed: the changed services,
				   from and expiry are checked */
};

/* One self-service change, as apitokend is about to stage it. */
struct apitoken_self_change {
	enum apitoken_self_op op;
	const char *user;			/* the caller (SO_PEERCRED) */
	const struct apitoken_record *old;	/* EDIT, ROTATE */
	const struct apitoken_record *rec;	/* ISSUE, ROTATE, EDIT */
	struct apitoken_txn *txn;		/* ISSUE: counts user's live,
						   unexpired tokens in it */
	time_t now;				/* 0 = time(NULL) */
};

/*
 * May this self-service change be made?  The one place of the rules:
 * self-service enabled; user in users or a member of one of groups (both
 * empty: everyone with an account); for a token being made or changed:
 * owned by user, services non-empty and each in self_service.services,
 * an expiry no later than now + max_lifetime (so never "never" unless
 * max_lifetime is), a from list when allow_from_required, and (ISSUE)
 * fewer than max_tokens live, unexpired tokens of user before it.
 * Returns 0; APITOKEN_ERR_ACCESS (disabled, user not allowed) or
 * APITOKEN_ERR_RULE (the token breaks a limit) with err saying which; or
 * APITOKEN_ERR_NOMEM, _SYSTEM, _STORE_* from counting.
 */
APITOKEN_API int apitoken_self_check(const struct apitoken_config *cfg,
    const struct apitoken_self_change *c, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);

/* ------------------------------------------------------------ last use
 *
 * Runtime state in state_dir/lastuse/<id>: when, which service and address
 * a token last logged in.  Kept out of the store so logins never write it.
 */
struct apitoken_lastuse {
	int64_t when;		/* 0 = never used */
	char service[APITOKEN_SERVICE_MAX + 1];
	char rhost[64];
};

/*
 * Record a use unless one was recorded less than min_interval seconds ago
 * (then returns 0 without writing).  Temp file + rename, no fsync.
 */
APITOKEN_API int apitoken_lastuse_record(const struct apitoken_config *cfg,
    const char *id, const char *service, const char *rhost, time_t now,
    int64_t min_interval, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);
/* Read it; a token never used gives 0 with when == 0. */
APITOKEN_API int apitoken_lastuse_get(const struct apitoken_config *cfg,
    const char *id, struct apitoken_lastuse *lu, char *err, size_t errlen)
    APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2, 3);
/*
 * One last use as a line of text, the form of state_dir/lastuse/<id>
 * without its LF: "v1 TAB WHEN TAB SERVICE TAB RHOST", WHEN a UTC time
 * (YYYY-MM-DDTHH:MM:SSZ) or "never" (when == 0); service and address
 * may be empty.  apitokend sends it to a user's tokenctl (T_LASTUSE).
 * format: into buf (size >= APITOKEN_LASTUSE_LINE_MAX), 0 or
 * APITOKEN_ERR_INVALID (a service or address that is not one).  parse:
 * len bytes, no LF, into *lu (zeroed unless 0), 0 or _INVALID.
 */
#define APITOKEN_LASTUSE_LINE_MAX 160
APITOKEN_API int apitoken_lastuse_format(const struct apitoken_lastuse *lu,
    char *buf, size_t size) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 2);
APITOKEN_API int apitoken_lastuse_parse(const char *s, size_t len,
    struct apitoken_lastuse *lu) APITOKEN_MUST_CHECK APITOKEN_NONNULL(1, 3);
/* Remove it (when a record is deleted or pruned); absent is fine. */
APITOKEN_API int apitoken_lastuse_remove(const struct apitoken_config *cfg,
    const char *id) APITOKEN_NONNULL(1, 2);

#ifdef __cplusplus
}
#endif
#endif /* APITOKEN_H */
