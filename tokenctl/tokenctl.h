/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tokenctl.h - declarations shared by the files of tokenctl, the
 * administrator's CLI.  tokenctl is built on the public libapitoken API
 * only (apitoken.h): it never reads or writes the store file itself.
 *
 * Conventions inside tokenctl:
 *  - Verb functions (cmd_*) return the process exit status (CTL_EXIT_*).
 *  - Helpers that can fail print their own message through ctl_err() and
 *    return an exit status, so a caller only propagates it.
 *  - Only xmalloc() and friends exit (status 5) on their own.
 */
#ifndef TOKENCTL_H
#define TOKENCTL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <sys/types.h>

#include <jansson.h>

#include "apitoken.h"

/* Exit statuses; documented in tokenctl(8), EXIT STATUS. */
#define CTL_EXIT_OK	0	/* success */
#define CTL_EXIT_REJECT	1	/* rejected, not found, refused by policy */
#define CTL_EXIT_USAGE	2	/* bad command line */
#define CTL_EXIT_CONFIG	3	/* config file missing or invalid */
#define CTL_EXIT_STORE	4	/* store missing/unsafe/corrupt, lock timeout */
#define CTL_EXIT_SYSTEM	5	/* internal or system error */

#define CTL_ERR_MAX	512	/* room for one library error message */
#define CTL_LINE_MAX	(64 * 1024)	/* longest --batch / import line */
#define CTL_IMPORT_MAX	((size_t)1 << 30)	/* largest import file */

/* The state of one tokenctl run. */
struct ctl {
	const char *verb;		/* the command being run */
	const char *config_path;	/* -c, $APITOKEN_CONFIG or default */
	int config_explicit;		/* path came from -c or environment */
	struct apitoken_config *cfg;	/* loaded by ctl_config() */
	time_t now;			/* one clock reading per run */
	char actor[APITOKEN_USER_MAX + 1];	/* created_by: sudo_user or by */
	char by[APITOKEN_USER_MAX + 1];		/* the real uid's name */
	unsigned long uid;			/* the real uid */
	char sudo_user[APITOKEN_USER_MAX + 1];	/* "" unless really via sudo */
	struct ctl_fleetuse *fleetuse;	/* postgresql: fleet-wide last use,
					   read with the records (dbpg.c) */
	struct self_lastuse *self_lu;	/* self-service: the last uses
					   apitokend sent (self.c); NULL:
					   state_dir is read */
};

/* ------------------------------------------------------------ util.c */

void ctl_set_verb(const char *verb);
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
void ctl_json_init(void);

/* escape.c: s made safe for a terminal or log line (control, C1, bidi
 * and invisible characters, invalid UTF-8 escaped); xmalloc'ed.  Every
 * table, show, error and audit line goes through it. */
char *ctl_escape(const char *s);

/* jansson's message without its "near '...'" part: an error about a file
 * never echoes what the file holds (issue 14 item 12). */
const char *ctl_json_error(const json_error_t *e);
/* Map an APITOKEN_ERR_* code to an exit status. */
int ctl_exit_code(int apitoken_err);
/* Print "what: msg" (msg from the library, or its strerror) and map. */
int ctl_lib_fail(int code, const char *what, const char *msg);

/* Load the config once (exit status; 0 = ok). */
int ctl_config(struct ctl *ctl);
/* Who runs us: the real uid and its name, and $SUDO_USER only when the
 * process really came through sudo (util.c, via_sudo). */
void ctl_actor(struct ctl *ctl);
/* The store's mode before a write (0 if absent), and after the write a
 * warning on stderr when it (before) or its directory can be read by
 * others (issue 15 item 4).  Changes nothing. */
mode_t ctl_store_mode(const struct ctl *ctl);
void ctl_warn_exposed(const struct ctl *ctl, mode_t before);
/* 1 if USER is an account on this system (getpwnam). */
int ctl_user_exists(const char *user);
/* The real uid's account name into buf; exit status. */
int ctl_real_user(char *buf, size_t size);
/* v escaped for an audit line (apitoken_log_escape); quoted: the value
 * goes between double quotes.  One of four rotating buffers: at most four
 * in one call; long values are cut at CTL_ESC_MAX bytes. */
#define CTL_ESC_MAX	256
const char *ctl_esc(const char *v, int quoted);
/* Write one audit record to syslog (LOG_AUTHPRIV|LOG_NOTICE), with
 * " by=NAME uid=N" and " sudo_user=NAME" when via sudo.  Every value
 * in fmt's arguments that is not a token id must come from ctl_esc(). */
void ctl_audit(const struct ctl *ctl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Write s and a newline to stdout with write(2), bypassing stdio buffers
 * so a secret never sits in a buffer we cannot wipe.  Exit status. */
int ctl_write_secret_line(const char *s, size_t len);
/* Read all of fd into buf (at most max bytes; more = APITOKEN_ERR_TOO_LONG).
 * Returns 0 or an APITOKEN_ERR_* code; *lenp gets the length. */
int ctl_read_capped(int fd, char *buf, size_t max, size_t *lenp);

/* Read a token from stdin: from a terminal one line without echo (prompt
 * on stderr), else everything up to EOF; capped like ctl_read_capped. */
int ctl_read_secret(char *buf, size_t max, size_t *lenp);
/* Forbid core dumps: memory may hold a secret. */
void ctl_no_core(void);

/* Times: "YYYY-MM-DDTHH:MM:SSZ" or dash for 0; relative "3d ago". */
void ctl_time_abs(int64_t t, char *buf, size_t size);
void ctl_time_rel(int64_t t, time_t now, char *buf, size_t size);
/* "ABS (REL)", or none_text when t == 0. */
void ctl_time_both(int64_t t, time_t now, const char *none_text, char *buf,
    size_t size);

/* Report a getopt failure for the current verb; returns CTL_EXIT_USAGE. */
int ctl_bad_option(int argc, char **argv, int c);
/* Print the help of verb (stdout, status 0) or its usage (stderr, 2). */
int ctl_help(const char *verb, int requested);

/* One option of a verb's table, ending with a NULL name: a flag (set to
 * 1 when given) or an option with an argument (the last one given wins).
 * --help is implied. */
struct ctl_opt {
	const char *name;	/* without the leading "--" */
	const char **arg;	/* required argument: optarg goes here */
	int *flag;		/* no argument (arg NULL): set to 1 */
};
#define CTL_GO	(-1)	/* not an exit status: the verb goes on */
/* Parse verb's options into o's destinations: CTL_GO with optind at the
 * first operand, or the exit status of --help or of a usage error (its
 * message already printed). */
int ctl_options(const char *verb, int argc, char **argv,
    const struct ctl_opt *o);

/* ------------------------------------------------------------- db.c
 *
 * The store in memory: every record in v[0..n-1] (db_open: list, show,
 * export; db_begin_full: prune, import), or (db_begin: the other
 * writers) only the records asked for, loaded from the transaction.
 * The rules and indexes are the library's; every change goes through
 * apitoken_txn_*.
 */
struct ctl_cache;
struct ctl_pg;

struct ctl_db {
	struct apitoken_txn *txn;	/* NULL when read-only */
	struct apitoken_record **v;	/* every record (full form) */
	size_t n, cap;
	int full;			/* db_open, db_begin_full */
	int committed;			/* no more apitoken_txn_find */
	struct ctl_cache *c;		/* records loaded (db_begin) */
	struct ctl_pg *pg;		/* postgresql: the locked writer */
};

int db_open(struct ctl *ctl, struct ctl_db *db);
/* A write transaction; records are loaded when asked for. */
int db_begin(struct ctl *ctl, int flags, struct ctl_db *db);
/* A write transaction with every record in v. */
int db_begin_full(struct ctl *ctl, int flags, struct ctl_db *db);
int db_commit(struct ctl *ctl, struct ctl_db *db);
void db_free(struct ctl_db *db);
/* Index of id in db->v, or db->n (full form only). */
size_t db_index(const struct ctl_db *db, const char *id);
/* Borrowed pointer into db, or NULL. */
struct apitoken_record *db_find(const struct ctl_db *db, const char *id);
/* Find or print "no token with ID" and return CTL_EXIT_REJECT. */
int db_get(const struct ctl_db *db, const char *id,
    struct apitoken_record **recp);
/* Stage rec (ownership passes to db on success).  Returns an
 * APITOKEN_ERR_* code (EXISTS if the id is taken); err gets a message. */
int db_insert(struct ctl_db *db, struct apitoken_record *rec, char *err,
    size_t errlen);
/* Keep rec, just staged in db's transaction (apitoken_txn_insert_new),
 * as db_insert keeps what it stages (it takes rec). */
void db_keep(struct ctl_db *db, struct apitoken_record *rec);
/* Stage the new content of a record that lives in db. */
int db_update(struct ctl_db *db, struct apitoken_record *rec, char *err,
    size_t errlen);
int db_delete(struct ctl_db *db, const char *id, char *err, size_t errlen);
/* An apitoken_id_fn (ctx: db) for the library's cascades: the record
 * changed in the transaction; db_find loads it again.  Pointers to the
 * old copy stay valid until db_free. */
int db_changed(const char *id, void *ctx);
/* Add rec to a full, read-only db (it takes rec). */
void db_adopt(struct ctl_db *db, struct apitoken_record *rec);
/* The live token of user with this label (except except_id), or NULL. */
const struct apitoken_record *db_label_taken(const struct ctl_db *db,
    const char *user, const char *label, const char *except_id);

/* A token's last use for list and show: state_dir's; with postgresql
 * the fleet-wide one the replicas reported, or this host's if newer, and
 * in host the host it was on ("" without postgresql); for a user through
 * apitokend (self-service) the one it sent.  0 or the APITOKEN_ERR_* of
 * reading state_dir (NOT_FOUND: apitokend sent none). */
int db_lastuse(const struct ctl *ctl, const char *id,
    struct apitoken_lastuse *lu, char *host, size_t hostlen);
void db_fleetuse_free(struct ctl *ctl);

/* ------------------------------------------------------------ dbpg.c
 *
 * db.c's store when the config has postgresql (fleet/fleet.h): every
 * verb the same, PostgreSQL the store.  Exit statuses; messages name
 * the server ("PostgreSQL server at HOST:PORT: ...", exit 4).
 */
struct fleet;

/* 1 if the config names a postgresql store. */
int pg_mode(const struct ctl *ctl);
/* Connect (and check the schema is this tokenctl's, unless 0). */
int pg_connect(struct ctl *ctl, int check_schema, struct fleet **fp);
/* db_open, db_begin (records in the locked copy), db_commit. */
int pg_open(struct ctl *ctl, struct ctl_db *db);
int pg_begin(struct ctl *ctl, int flags, struct ctl_db *db);
int pg_commit(struct ctl *ctl, struct ctl_db *db);
void pg_free(struct ctl_pg *pg);

/* IDs changed by a command, for the audit log and output after commit. */
struct ctl_idlist {
	char (*id)[APITOKEN_ID_LEN + 1];
	size_t n;
};

void idlist_add(struct ctl_idlist *l, const char *id);
void idlist_free(struct ctl_idlist *l);

/* ---------------------------------------------------------- fields.c
 *
 * Token metadata requested on the command line or in a --batch line.
 * Strings are borrowed; NULL / *_set == 0 means "not given".
 */
struct ctl_fields {
	int json;		/* names in messages: JSON keys, not options */
	const char *user;
	const char *label;
	const char *description;
	const char *external_id;
	const char **services;
	size_t n_services;
	int services_set;
	const char **from;
	size_t n_from;
	int from_set;
	const char **hosts;
	size_t n_hosts;
	int hosts_set;
	const char *expires;
	const char *parent;
};

void fields_free(struct ctl_fields *f);
void fields_add(const char ***list, size_t *n, int *set, const char *v);
/* The metadata options issue and edit share, for their getopt_long
 * tables, and the one place that stores them: fields_option() returns 1
 * if c was one of them (and sets f from arg), else 0. */
#define CTL_FIELD_OPTIONS \
	{ "label", required_argument, NULL, 'l' }, \
	{ "description", required_argument, NULL, 'd' }, \
	{ "external-id", required_argument, NULL, 'e' }, \
	{ "service", required_argument, NULL, 's' }, \
	{ "from", required_argument, NULL, 'f' }, \
	{ "host", required_argument, NULL, 'H' }, \
	{ "expires", required_argument, NULL, 'x' }
int fields_option(struct ctl_fields *f, int c, const char *arg);
/* Where f keeps the --batch key: a string (str) or a list (list, n,
 * set; for fields_add).  0, or -1 for an unknown key. */
struct ctl_field_ref {
	const char **str;
	const char ***list;
	size_t *n;
	int *set;
};
int fields_ref(struct ctl_fields *f, const char *key,
    struct ctl_field_ref *r);
/* The --batch keys, ", "-separated, for a message. */
void fields_keys(char *buf, size_t size);
/* Apply f to rec (a new record if is_new) after validating every value
 * against the rules and db.  On failure writes the reason to err and
 * returns an exit status. */
int fields_apply(const struct ctl *ctl, const struct ctl_db *db,
    const struct ctl_fields *f, struct apitoken_record *rec, int is_new,
    char *err, size_t errlen);
/* Parse WHEN into an expiry for rec: 0 = never.  Enforces max_lifetime,
 * refuses the past and an expiry after the parent's. */
int fields_expiry(const struct ctl *ctl, const struct ctl_db *db,
    const char *name, const char *when, const char *parent,
    int64_t *expires, char *err, size_t errlen);

/* ------------------------------------------------------------ view.c */

/* The status shown to users: "expired" for an active token past expiry. */
const char *view_status(const struct apitoken_record *r, time_t now);
/* The field table's row at view place rank (1, 2, ...: the order of
 * list and show), or NULL past the last; the hash has none. */
const struct apitoken_field *view_field(size_t rank);
/* A record as a JSON object for list/show (never the hash). */
json_t *view_json(const struct ctl *ctl, const struct apitoken_record *r);
/* The full stored record as a JSON object for export (with the hash). */
json_t *record_to_json(const struct apitoken_record *r);
/* The inverse of record_to_json; err names the offending key. */
int record_from_json(json_t *obj, struct apitoken_record **recp, char *err,
    size_t errlen);
/* Print a JSON value and a newline to stdout; exit status. */
int json_print(json_t *v, int secret);

/* ------------------------------------------------------------ issue.c */

/* Give rec (filled but for id and hash) a fresh token and stage it in db
 * under an unused id (apitoken_txn_insert_new); the token string goes to
 * token (wiped on failure).  On success rec belongs to db.  Exit status;
 * err gets the reason. */
int token_stage(const struct ctl *ctl, struct ctl_db *db,
    struct apitoken_record *rec, char *token, size_t tokensize, char *err,
    size_t errlen);

/* ----------------------------------------------------------- revoke.c */

/* Mark rec revoked now with reason and stage the change.  Exit status. */
int revoke_one(const struct ctl *ctl, struct ctl_db *db,
    struct apitoken_record *rec, const char *reason);
/* Revoke every non-revoked descendant of id (parent links, any depth,
 * through revoked ones too) with reason why; their ids go to out. */
int revoke_descendants(const struct ctl *ctl, struct ctl_db *db,
    const char *id, const char *why, struct ctl_idlist *out);
/* Audit and print "revoked ID" to out for each id in l. */
void revoke_report(const struct ctl *ctl, const struct ctl_db *db,
    const struct ctl_idlist *l, const char *via, FILE *out);
/* Parse exactly one ID operand for a verb taking only --help. */
int one_id_args(const char *verb, int argc, char **argv, const char **id);

/* ------------------------------------------------------------- self.c
 *
 * A user other than root whose store is not their own (ctl_self) lists,
 * shows, issues, edits, disables, enables, revokes and rotates their own
 * tokens through apitokend (apitokend(8), SELF-SERVICE); each returns an
 * exit status, the output and messages as for root.
 */
int ctl_self(const struct ctl *ctl);
/* The last use apitokend sent with id's record: 0 with *lu, or -1. */
int self_lastuse(const struct ctl *ctl, const char *id,
    struct apitoken_lastuse *lu);
/* Forget the last uses apitokend sent (ctl->self_lu); NULL is fine. */
void self_lastuse_free(struct ctl *ctl);
/* db_open's work for such a user: their records, from apitokend. */
int self_db_open(struct ctl *ctl, struct ctl_db *db);
/* user: the USER operand or NULL (then the caller). */
int self_issue(struct ctl *ctl, struct ctl_fields *f, const char *user,
    int json);
int self_edit(struct ctl *ctl, const char *id, const struct ctl_fields *f);
/* verb: "disable", "enable" or "revoke" (reason: NULL = the default) */
int self_simple(struct ctl *ctl, const char *verb, const char *id,
    const char *reason);
int self_rotate(struct ctl *ctl, const char *id, const char *expires,
    int json);

/* ------------------------------------------------------------- verbs */

int cmd_init(struct ctl *ctl, int argc, char **argv);
int cmd_issue(struct ctl *ctl, int argc, char **argv);
int cmd_list(struct ctl *ctl, int argc, char **argv);
int cmd_show(struct ctl *ctl, int argc, char **argv);
int cmd_edit(struct ctl *ctl, int argc, char **argv);
int cmd_disable(struct ctl *ctl, int argc, char **argv);
int cmd_enable(struct ctl *ctl, int argc, char **argv);
int cmd_revoke(struct ctl *ctl, int argc, char **argv);
int cmd_rotate(struct ctl *ctl, int argc, char **argv);
int cmd_delete(struct ctl *ctl, int argc, char **argv);
int cmd_prune(struct ctl *ctl, int argc, char **argv);
int cmd_verify(struct ctl *ctl, int argc, char **argv);
int cmd_check(struct ctl *ctl, int argc, char **argv);
int cmd_export(struct ctl *ctl, int argc, char **argv);
int cmd_import(struct ctl *ctl, int argc, char **argv);
int cmd_doctor(struct ctl *ctl, int argc, char **argv);
int cmd_lockouts(struct ctl *ctl, int argc, char **argv);
int cmd_unlock(struct ctl *ctl, int argc, char **argv);
int cmd_db(struct ctl *ctl, int argc, char **argv);

/* replica.c: this host's replica of the fleet (apitokend's state) */
int cmd_replica(struct ctl *ctl, int argc, char **argv);

#endif
