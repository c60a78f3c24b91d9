/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * internal.h - declarations shared by libapitoken's own files.  Not
 * installed; nothing here is exported (-fvisibility=hidden).
 */
#ifndef APITOKEN_INTERNAL_H
#define APITOKEN_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "apitoken.h"

#define STORE_LINE_MAX 16384	/* longest record line accepted */
#define STORE_NFIELDS 17	/* columns of a record line, at most */
#define STORE_NFIELDS_V1 16	/* the first v1 columns, always there;
				   the rest are APITOKEN_FIELD_OPTIONAL */

/* errmsg.c: write "fmt..." to err (if non-NULL); returns code. */
int set_err(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* crypto.c: the only file that includes crypto (nettle) headers. */
int crypto_random(void *buf, size_t n);
int crypto_sha256_hex(const void *data, size_t n, char hex[65]);
int crypto_equal(const void *a, const void *b, size_t n);
int crypto_base64_decode(const char *in, size_t n, unsigned char *out,
    size_t outsize, size_t *outlen);

/* token.c */
void base62_encode_u32(uint32_t v, char out[APITOKEN_CRC_LEN]);
int base62_random(char *out, size_t n);
int is_base62(int c);
int prefix_valid(const char *p);

/* a parsed store line: fields as slices of the original bytes */
struct slice {
	const char *p;
	size_t n;
};

/* codec.c: the one store-line parser and serializer */
struct rec_view {		/* a decoded line; strings point into scratch */
	struct apitoken_record r;
	char *svc[APITOKEN_SERVICES_MAX];
	char *from[APITOKEN_FROM_MAX];
	char *hosts[APITOKEN_HOSTS_MAX];
};
#define CODEC_SCRATCH (STORE_LINE_MAX + STORE_NFIELDS + 16)
int codec_decode(const char *line, size_t len, char *scratch,
    struct rec_view *v, char *err, size_t errlen);
/* split a line into its fields; bit i of *escp: field i has a backslash;
 * an optional column the line leaves out has f[i].p == NULL */
int codec_split(const char *line, size_t len, struct slice f[STORE_NFIELDS],
    unsigned *escp, char *err, size_t errlen);
int codec_parse(const char *line, size_t len, struct apitoken_record **recp,
    char *err, size_t errlen);
int codec_format(const struct apitoken_record *r, char **linep, size_t *lenp);

/* safefile.c: the owner/mode rule and safe opens */
int safe_open_dir(const char *dir, int *dirfdp, char *err, size_t errlen);
int safe_open_dir_of(const char *path, int *dirfdp, const char **basep,
    char *err, size_t errlen);
int safe_check(const struct stat *st, const char *path, int want_dir,
    char *err, size_t errlen);
int dir_of(const char *path, char *dir, size_t dirsize, const char **basep);
int safe_open_file(int dirfd, const char *base, const char *path, int *fdp,
    struct stat *st, char *err, size_t errlen);

/* store.c: map a store file (already opened) and check header/trailer;
 * writers (txn.c) and apitoken_store_foreach use the map, look-ups pread */
struct store_map {
	const char *base;	/* whole file */
	size_t size;
	const char *body;	/* first record line */
	const char *end;	/* start of the trailer line */
};
int store_map_fd(int fd, const char *path, uint64_t maxsize,
    struct store_map *m, char *err, size_t errlen);
void store_unmap(struct store_map *m);
const char *store_line_end(const char *p, const char *end);
int store_line_id(const char *line, size_t len, char id[APITOKEN_ID_LEN + 1]);
int store_map_foreach(const struct store_map *m, const char *path,
    apitoken_record_fn fn, void *ctx, char *err, size_t errlen);
const char *store_prefix(const struct apitoken_store *s);

/* svcalias.c: service_aliases, the services a token's service also
 * covers; owned by a config, copied into each store handle */
#define SVC_ALIASES_MAX 256
struct svc_alias {
	char from[APITOKEN_SERVICE_MAX + 1];	/* a token's service */
	char to[APITOKEN_SERVICE_MAX + 1];	/* a service it also covers */
};
struct svc_aliases {
	struct svc_alias *v;
	size_t n, cap;
};
void aliases_clear(struct svc_aliases *a);
/* Append (from, to), each shorter than its member, checking nothing
 * else: the list's own rules are its adder's.  0, or -1 out of memory. */
int pairs_append(struct svc_aliases *a, const char *from, const char *to);
const char *aliases_add(struct svc_aliases *a, const char *from,
    const char *to);	/* from, to: apitoken_service_valid */
int aliases_parse(struct svc_aliases *a, const char *text);
int aliases_copy(struct svc_aliases *dst, const struct svc_aliases *src);
int aliases_covers(const struct svc_aliases *a, const char *svc,
    const char *req);
const char *aliases_nth(const struct svc_aliases *a, const char *svc,
    size_t nth);

/* config.c: an absolute path without ".", ".." components, "//" or a
 * trailing slash */
int abs_path_ok(const char *s);
/* pgconf.c: NULL if s will do as postgresql.conninfo, else why not
 * (a password in it, or not a libpq connection string or URI) */
const char *pg_conninfo_check(const char *s);
/* callers.c: daemon_callers, (who, service) pairs kept in the same
 * pair list; who is a user name or "@group" (caller_name_valid) */
#define CALLERS_MAX 1024
int caller_name_valid(const char *s);
void callers_clear(struct svc_aliases *a);
const char *callers_add(struct svc_aliases *a, const char *who,
    const char *svc);
int callers_allowed(const struct svc_aliases *a, const char *who,
    const char *svc);

/* config.c: the config's aliases (store.c copies them) */
const struct svc_aliases *config_aliases(const struct apitoken_config *c);
/* store.c: the aliases copied from the config the store was opened with */
const struct svc_aliases *store_aliases(const struct apitoken_store *s);

/* selfsvc.c: the self_service mapping, filled by config.c's walker */
#define SELF_LIST_MAX 256	/* users, groups: entries each */
struct self_conf {
	struct apitoken_self_service pub;
	char reauth[APITOKEN_SERVICE_MAX + 1];
	unsigned seen;		/* bit per sub-key given (self_key) */
};
void self_conf_clear(struct self_conf *s);
int self_conf_default(struct self_conf *s);
/* A sub-key: its index (>= 0), and *is_list; or -1 if unknown. */
int self_key(const char *name, int *is_list);
/* Set a scalar sub-key, or add one item to a list sub-key: NULL, or what
 * is wrong with the value. */
const char *self_conf_set(struct self_conf *s, int key, const char *val);
/* After the file: max_lifetime against the global one; NULL or why not. */
const char *self_conf_finish(struct self_conf *s, int64_t global_max);
/* hostscope.c: this host as a token's hosts are matched against it;
 * owned by a config, copied into each store handle */
struct hostid {
	char name[APITOKEN_HOST_MAX + 1];	/* "" = none known */
	char groups[APITOKEN_HOST_GROUPS_MAX][APITOKEN_HOST_GROUP_MAX + 1];
	size_t n_groups;
};
void hostid_default_name(struct hostid *h);	/* gethostname(2) */
const char *hostid_set_name(struct hostid *h, const char *name);
const char *hostid_add_group(struct hostid *h, const char *g);
int hostid_allows(const struct hostid *h, char *const *hosts, size_t n);
/* config.c, store.c: the host identity of a config or a store handle */
const struct hostid *config_hostid(const struct apitoken_config *c);
const struct hostid *store_hostid(const struct apitoken_store *s);

/* replica.c: 1 if the replica whose state is name in dirfd (path for
 * messages) is stale at now, its reason in why; max: max_staleness */
int replica_stale_at(int dirfd, const char *name, const char *path,
    int64_t max, time_t now, char *why, size_t whylen);
/* store.c: 1 if the store is a fleet replica that is stale at now (the
 * config it was opened with names postgresql), its reason in why */
int store_replica_stale(const struct apitoken_store *s, time_t now,
    char *why, size_t whylen);

/* timefmt.c */
int ymd_to_time(int y, int mo, int d, int h, int mi, int s, int64_t *t);


#endif
