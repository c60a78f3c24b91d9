/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fleet.c - the library side of the fleet (issue 13): the
 * postgresql and max_staleness keys (no password in the config),
 * apitoken_config_clone_store, and the transactions a replica and a
 * PostgreSQL writer use: APITOKEN_TXN_MIRROR, APITOKEN_TXN_EMPTY and
 * apitoken_txn_changes; a MIRROR begin on the store this process last
 * committed (not decoded again) and on one anybody else wrote (refused
 * as ever when corrupt).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"

static struct tu_env E;

#define load(extra, cfgp) tu_config_load(&E, (extra), (cfgp))
#define load_ok(extra) tu_config_load_ok(&E, (extra))
#define load_bad(extra, line, text) \
	tu_config_load_bad(&E, (extra), (line), (text))

#define PW_MSG "a password does not belong in the config; use " \
	"postgresql.passfile"

static void
setup(void)
{
	tl_watchdog(30);
	tu_env_setup(&E, NULL);
}

static void
teardown(void)
{
	tu_env_teardown(&E);
}

TestSuite(fleet_config, .init = setup, .fini = teardown);
TestSuite(fleet_txn, .init = setup, .fini = teardown);

/* ------------------------------------------------------ config keys */

Test(fleet_config, absent_means_no_fleet_and_24h)
{
	struct apitoken_config *c = load_ok("");

	cr_assert_null(apitoken_config_pg_conninfo(c));
	cr_assert_null(apitoken_config_pg_passfile(c));
	cr_assert_eq(apitoken_config_max_staleness(c), 24 * 3600);
	apitoken_config_free(c);
}

Test(fleet_config, good_keys)
{
	struct apitoken_config *c = load_ok("postgresql:\n"
	    "  conninfo: \"host=db.example port=5432 dbname=apitoken "
	    "sslmode=verify-full passfile=/x\"\n"
	    "  passfile: /etc/apitoken/pgpass\n"
	    "max_staleness: 2h\n");

	cr_assert_str_eq(apitoken_config_pg_conninfo(c), "host=db.example "
	    "port=5432 dbname=apitoken sslmode=verify-full passfile=/x");
	cr_assert_str_eq(apitoken_config_pg_passfile(c),
	    "/etc/apitoken/pgpass");
	cr_assert_eq(apitoken_config_max_staleness(c), 2 * 3600);
	apitoken_config_free(c);
	c = load_ok("postgresql: {conninfo: "
	    "'postgresql://apitoken@db.example:5432/apitoken?sslmode=require'}"
	    "\nmax_staleness: never\n");
	cr_assert_str_eq(apitoken_config_pg_conninfo(c), "postgresql://"
	    "apitoken@db.example:5432/apitoken?sslmode=require");
	cr_assert_null(apitoken_config_pg_passfile(c));
	cr_assert_eq(apitoken_config_max_staleness(c), APITOKEN_NEVER);
	apitoken_config_free(c);
	/* quoted values, spaces around "=", a socket directory */
	c = load_ok("postgresql:\n  conninfo: \"host = /run/pg "
	    "application_name='a b\\\\' c' dbname=x\"\n");
	apitoken_config_free(c);
}

Test(fleet_config, a_password_is_refused_with_its_line)
{
	load_bad("max_staleness: 1h\npostgresql:\n"
	    "  conninfo: host=db password=secret dbname=x\n", 5, PW_MSG);
	load_bad("postgresql:\n  conninfo: \"host=db password = 'a b'\"\n",
	    4, PW_MSG);
	load_bad("postgresql:\n  conninfo: host=db PASSWORD=x\n", 4, PW_MSG);
	load_bad("postgresql:\n  conninfo: "
	    "postgresql://u:secret@db.example/apitoken\n", 4, PW_MSG);
	load_bad("postgresql:\n  conninfo: postgres://u:@db/x\n", 4, PW_MSG);
	load_bad("postgresql:\n  conninfo: "
	    "postgresql://db/x?sslmode=require&password=s\n", 4, PW_MSG);
	load_bad("postgresql:\n  conninfo: postgresql://db/x?pass%77ord=s\n",
	    4, PW_MSG);
	/* the message names the key, never the secret */
	load_bad("postgresql:\n  conninfo: host=db password=hunter2\n", 4,
	    "key \"postgresql.conninfo\"");
	cr_assert_null(strstr(E.err, "hunter2"), "%s", E.err);
}

Test(fleet_config, bad_mappings_name_their_line)
{
	load_bad("postgresql: host=db\n", 3, "expected a mapping");
	load_bad("postgresql: {}\n", 3, "conninfo is required");
	load_bad("postgresql:\n  passfile: /etc/p\n", 4,
	    "conninfo is required");
	load_bad("postgresql:\n  conninfo: host=db\n  password: x\n", 5,
	    "key \"postgresql.password\": unknown key");
	load_bad("postgresql:\n  conninfo: host=db\n  conninfo: host=x\n", 5,
	    "given twice");
	load_bad("postgresql:\n  conninfo: host=db\n  passfile: pgpass\n", 5,
	    "must be an absolute path");
	load_bad("postgresql:\n  conninfo: [host=db]\n", 4,
	    "expected a scalar");
	load_bad("postgresql:\n  conninfo: ''\n", 4, "must not be empty");
	load_bad("postgresql:\n  conninfo: host\n", 4, "expected \"=\"");
	load_bad("postgresql:\n  conninfo: \"host='db\"\n", 4,
	    "unterminated");
	load_bad("postgresql: {conninfo: host=db}\npostgresql: "
	    "{conninfo: host=db}\n", 4, "given twice");
	load_bad("max_staleness: 0s\n", 3, "key \"max_staleness\"");
	load_bad("max_staleness: soon\n", 3, "must be a duration");
}

Test(fleet_config, clone_store_is_a_deep_copy_with_another_store)
{
	struct apitoken_config *c = load_ok("postgresql:\n"
	    "  conninfo: host=db\n  passfile: /etc/p\nmax_staleness: 5m\n"
	    "host_groups: [build]\nhttp_listen: ['127.0.0.1:8080']\n"
	    "self_service:\n  enabled: true\n  services: [sshd]\n"
	    "  users: [alice]\n"), *d = NULL;
	const struct apitoken_self_service *s;
	char path[TU_PATHLEN];

	snprintf(path, sizeof(path), "%s/copy", E.dir);
	cr_assert_eq(apitoken_config_clone_store(c, path, &d), 0);
	cr_assert_not_null(d);
	cr_assert_str_eq(apitoken_config_store(d), path);
	cr_assert_str_eq(apitoken_config_store(c), E.store);
	cr_assert_str_eq(apitoken_config_path(d), apitoken_config_path(c));
	apitoken_config_free(c);	/* d owns everything it holds */
	cr_assert_str_eq(apitoken_config_pg_conninfo(d), "host=db");
	cr_assert_str_eq(apitoken_config_pg_passfile(d), "/etc/p");
	cr_assert_eq(apitoken_config_max_staleness(d), 300);
	cr_assert_str_eq(apitoken_config_host_group(d, 0), "build");
	cr_assert_str_eq(apitoken_config_http_listen(d, 0), "127.0.0.1:8080");
	cr_assert_eq(apitoken_config_service_covers(d, "su", "su-l"), 1);
	s = apitoken_config_self_service(d);
	cr_assert_eq(s->enabled, 1);
	cr_assert_eq(s->n_services, 1u);
	cr_assert_str_eq(s->services[0], "sshd");
	cr_assert_str_eq(s->users[0], "alice");
	cr_assert_str_eq(s->reauth_service, APITOKEN_SELF_REAUTH_SERVICE);
	apitoken_config_free(d);
}

/* ------------------------------------------------------ transactions */

static struct apitoken_txn *
begin(int flags)
{
	struct apitoken_txn *t = NULL;
	int r;

	E.err[0] = '\0';
	r = apitoken_txn_begin(E.cfg, flags, &t, E.err, sizeof(E.err));
	cr_assert_eq(r, 0, "txn_begin = %d: %s", r, E.err);
	return t;
}

static void
commit(struct apitoken_txn *t)
{
	int r = apitoken_txn_commit(t, E.err, sizeof(E.err));

	cr_assert_eq(r, 0, "txn_commit = %d: %s", r, E.err);
	apitoken_txn_free(t);
}

static struct apitoken_record *
rec_n(unsigned n, const char *label, unsigned parent)
{
	struct apitoken_record *r;
	char id[APITOKEN_ID_LEN + 1];

	tu_id(n, id);
	r = tu_record(id, "alice", NULL);
	if (label != NULL)
		cr_assert_eq(apitoken_record_set(&r->label, label), 0);
	if (parent != 0) {
		tu_id(parent, id);
		cr_assert_eq(apitoken_record_set(&r->parent, id), 0);
	}
	return r;
}

/* insert (or replace) rec_n(n, label, parent): the txn's result */
static int
put(struct apitoken_txn *t, int replace, unsigned n, const char *label,
    unsigned parent)
{
	struct apitoken_record *r = rec_n(n, label, parent);
	int rc = replace ? apitoken_txn_replace(t, r, E.err, sizeof(E.err)) :
	    apitoken_txn_insert(t, r, E.err, sizeof(E.err));

	apitoken_record_free(r);
	return rc;
}

static size_t
count_and_has(unsigned n)
{
	struct apitoken_store *s = NULL;
	struct apitoken_record *rec = NULL;
	char id[APITOKEN_ID_LEN + 1];
	size_t c;

	cr_assert_eq(apitoken_store_open(E.cfg, &s, E.err, sizeof(E.err)), 0,
	    "%s", E.err);
	c = apitoken_store_count(s);
	tu_id(n, id);
	if (apitoken_store_find(s, id, &rec, NULL, 0) != 0)
		c = (size_t)-1;
	apitoken_record_free(rec);
	apitoken_store_close(s);
	return c;
}

Test(fleet_txn, mirror_accepts_what_the_rules_refuse)
{
	struct apitoken_txn *t;

	/* a child before its parent; two live tokens with one label */
	t = begin(APITOKEN_TXN_CREATE);
	cr_assert_eq(put(t, 0, 1, "ci", 2), APITOKEN_ERR_RULE);
	cr_assert_eq(put(t, 0, 2, "ci", 0), 0, "%s", E.err);
	cr_assert_eq(put(t, 0, 3, "ci", 0), APITOKEN_ERR_RULE);
	apitoken_txn_free(t);
	t = begin(APITOKEN_TXN_CREATE | APITOKEN_TXN_MIRROR);
	cr_assert_eq(put(t, 0, 1, "ci", 2), 0, "%s", E.err);
	cr_assert_eq(put(t, 0, 2, "ci", 0), 0, "%s", E.err);
	cr_assert_eq(put(t, 0, 3, "ci", 0), 0, "%s", E.err);
	/* the record itself is still checked, and ids still must fit */
	cr_assert_eq(put(t, 0, 3, "other", 0), APITOKEN_ERR_EXISTS);
	cr_assert_eq(put(t, 1, 4, "x", 0), APITOKEN_ERR_NOT_FOUND);
	cr_assert_eq(put(t, 0, 5, "", 0), APITOKEN_ERR_INVALID);
	commit(t);
	cr_assert_eq(count_and_has(1), 3u);
	/* deleting the live parent of a live child: refused, mirrored */
	t = begin(0);
	{
		char id[APITOKEN_ID_LEN + 1];

		tu_id(2, id);
		cr_assert_eq(apitoken_txn_delete(t, id, NULL, 0),
		    APITOKEN_ERR_RULE);
		apitoken_txn_free(t);
		t = begin(APITOKEN_TXN_MIRROR);
		cr_assert_eq(apitoken_txn_delete(t, id, NULL, 0), 0);
		tu_id(9, id);
		cr_assert_eq(apitoken_txn_delete(t, id, NULL, 0),
		    APITOKEN_ERR_NOT_FOUND);
	}
	commit(t);
	cr_assert_eq(count_and_has(1), 2u);
}

Test(fleet_txn, empty_replaces_the_store)
{
	struct apitoken_txn *t;
	struct apitoken_record *rec = NULL;
	char id[APITOKEN_ID_LEN + 1];

	tu_store_build_ids(E.cfg, 1, 1, 10);
	t = begin(APITOKEN_TXN_EMPTY);
	tu_id(3, id);
	cr_assert_eq(apitoken_txn_find(t, id, &rec, NULL, 0),
	    APITOKEN_ERR_NOT_FOUND, "the view starts empty");
	cr_assert_eq(put(t, 0, 3, "new three", 0), 0, "an id the old store "
	    "held is new here: %s", E.err);
	cr_assert_eq(put(t, 0, 20, NULL, 0), 0, "%s", E.err);
	commit(t);
	cr_assert_eq(count_and_has(20), 2u);
	cr_assert_eq(count_and_has(3), 2u);
	cr_assert_eq(count_and_has(1), (size_t)-1);
	/* nothing inserted: an empty store */
	commit(begin(APITOKEN_TXN_EMPTY));
	{
		struct apitoken_store *s = NULL;

		cr_assert_eq(apitoken_store_open(E.cfg, &s, E.err,
		    sizeof(E.err)), 0, "%s", E.err);
		cr_assert_eq(apitoken_store_count(s), 0u);
		apitoken_store_close(s);
	}
}

Test(fleet_txn, empty_replaces_even_a_damaged_store)
{
	struct apitoken_txn *t = NULL;

	tl_write_file(E.store, "garbage\n", 8, 0600);
	cr_assert_eq(apitoken_txn_begin(E.cfg, 0, &t, NULL, 0),
	    APITOKEN_ERR_STORE_FORMAT);
	t = begin(APITOKEN_TXN_EMPTY | APITOKEN_TXN_MIRROR);
	cr_assert_eq(put(t, 0, 7, NULL, 0), 0, "%s", E.err);
	commit(t);
	cr_assert_eq(count_and_has(7), 1u);
}

Test(fleet_txn, empty_without_create_needs_a_store)
{
	struct apitoken_txn *t = NULL;

	cr_assert_eq(apitoken_txn_begin(E.cfg, APITOKEN_TXN_EMPTY, &t, NULL,
	    0), APITOKEN_ERR_STORE_MISSING);
	commit(begin(APITOKEN_TXN_EMPTY | APITOKEN_TXN_CREATE));
	cr_assert_eq(count_and_has(1), (size_t)-1);
}

struct seen {
	char line[1024];
	int stop_at, calls;
};

static int
note_change(const char *id, const struct apitoken_record *rec, void *ctx)
{
	struct seen *s = ctx;
	size_t n = strlen(s->line);

	snprintf(s->line + n, sizeof(s->line) - n, "%s%s:%s", n ? " " : "",
	    id + 8, rec == NULL ? "-" : rec->label);
	return ++s->calls == s->stop_at ? 42 : 0;
}

Test(fleet_txn, changes_in_id_order)
{
	struct apitoken_txn *t;
	struct seen s = { "", 0, 0 };
	char id[APITOKEN_ID_LEN + 1];

	tu_store_build_ids(E.cfg, 1, 1, 5);
	t = begin(0);
	cr_assert_eq(apitoken_txn_changes(t, note_change, &s), 0);
	cr_assert_str_eq(s.line, "", "no change yet");
	cr_assert_eq(put(t, 0, 9, "nine", 0), 0, "%s", E.err);
	cr_assert_eq(put(t, 1, 2, "two", 0), 0, "%s", E.err);
	tu_id(4, id);
	cr_assert_eq(apitoken_txn_delete(t, id, NULL, 0), 0);
	cr_assert_eq(put(t, 0, 7, "seven", 0), 0, "%s", E.err);
	tu_id(7, id);	/* inserted and deleted: no change */
	cr_assert_eq(apitoken_txn_delete(t, id, NULL, 0), 0);
	cr_assert_eq(put(t, 1, 2, "two again", 0), 0, "%s", E.err);
	cr_assert_eq(apitoken_txn_changes(t, note_change, &s), 0);
	cr_assert_str_eq(s.line, "0002:two again 0004:- 0009:nine");
	s = (struct seen){ "", 2, 0 };
	cr_assert_eq(apitoken_txn_changes(t, note_change, &s), 42);
	cr_assert_eq(s.calls, 2);
	commit(t);
	cr_assert_eq(count_and_has(9), 5u);
}

/* ------------------------------- MIRROR on the store this process wrote */

/* One replica burst: replace, insert and delete, in one MIRROR txn
 * (a store of ids 1-40, round 1-4). */
static void
burst(unsigned round)
{
	struct apitoken_txn *t = begin(APITOKEN_TXN_MIRROR);
	char id[APITOKEN_ID_LEN + 1], label[32];
	unsigned k;

	for (k = 0; k < 5; k++) {
		snprintf(label, sizeof(label), "r%u-%u", round, k);
		cr_assert_eq(put(t, 1, 1 + 7 * k + round, label, 0), 0, "%s",
		    E.err);
	}
	cr_assert_eq(put(t, 0, 100 + round, "new", 0), 0, "%s", E.err);
	tu_id(40 - round, id);
	cr_assert_eq(apitoken_txn_delete(t, id, E.err, sizeof(E.err)), 0,
	    "%s", E.err);
	commit(t);
}

/* Wait (polling) until the clock the file system stamps files with has
 * moved past the store's ctime: a change from now on changes it, even
 * with coarse (per tick) timestamps. */
static void
past_ctime(void)
{
	struct timespec now, p = { 0, 200 * 1000 };
	struct stat st;

	cr_assert_eq(stat(E.store, &st), 0);
	for (;;) {
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
		if (now.tv_sec > st.st_ctim.tv_sec ||
		    (now.tv_sec == st.st_ctim.tv_sec &&
		    now.tv_nsec > st.st_ctim.tv_nsec))
			return;
		nanosleep(&p, NULL);
	}
}

/* Offset of "alice" in record line n (2: the first) of the store. */
static size_t
user_at(const char *data, size_t len, unsigned n)
{
	const char *p = data, *u;
	unsigned line;

	for (line = 1; line < n; line++) {
		p = memchr(p, '\n', len - (size_t)(p - data));
		cr_assert_not_null(p);
		p++;
	}
	u = strstr(p, "\talice\t");
	cr_assert_not_null(u);
	return (size_t)(u + 1 - data);
}

/* Overwrite the user of record line 3 in place (same inode, same size,
 * the mtime put back): only the ctime tells. */
static void
corrupt_in_place(void)
{
	struct timespec times[2];
	struct stat st;
	size_t len;
	char *data = tl_read_file(E.store, &len);
	int fd;

	cr_assert_eq(stat(E.store, &st), 0);
	past_ctime();
	fd = open(E.store, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "\001", 1, (off_t)user_at(data, len, 3)), 1);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	cr_assert_eq(futimens(fd, times), 0);
	cr_assert_eq(close(fd), 0);
	free(data);
}

static void
begin_refused(const char *where)
{
	struct apitoken_txn *t = NULL;
	int r;

	E.err[0] = '\0';
	r = apitoken_txn_begin(E.cfg, APITOKEN_TXN_MIRROR, &t, E.err,
	    sizeof(E.err));
	cr_assert_eq(r, APITOKEN_ERR_STORE_FORMAT, "begin = %d: %s", r, E.err);
	cr_assert_null(t);
	cr_assert_not_null(strstr(E.err, where), "%s", E.err);
}

Test(fleet_txn, mirror_bursts_write_what_full_validation_writes)
{
	char *trusted, *full;
	size_t tlen, flen;
	unsigned round;

	/* bursts in a row: each begins on the file the previous wrote */
	tu_store_build_ids(E.cfg, 1, 1, 40);
	for (round = 1; round <= 4; round++)
		burst(round);
	trusted = tl_read_file(E.store, &tlen);
	/* the same bursts, a chmod (another writer's) before each begin:
	 * every record is decoded again */
	cr_assert_eq(unlink(E.store), 0);
	tu_store_build_ids(E.cfg, 1, 1, 40);
	for (round = 1; round <= 4; round++) {
		past_ctime();
		cr_assert_eq(chmod(E.store, 0600), 0);
		burst(round);
	}
	full = tl_read_file(E.store, &flen);
	cr_assert_eq(tlen, flen);
	cr_assert_eq(memcmp(trusted, full, tlen), 0, "stores differ");
	free(trusted);
	free(full);
	/* and what the bursts wrote passes a full validation */
	apitoken_txn_free(begin(0));
	cr_assert_eq(count_and_has(104), 40u + 4 - 4);
}

Test(fleet_txn, mirror_refuses_a_corrupt_store_another_process_wrote)
{
	char *data, bad[TU_PATHLEN + 8];
	size_t len;
	pid_t pid;
	int st;

	tu_store_build_ids(E.cfg, 1, 1, 40);
	burst(1);
	data = tl_read_file(E.store, &len);
	data[user_at(data, len, 3)] = '\001';
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {		/* another writer, not under the lock */
		char tmp[TU_PATHLEN + 8];

		snprintf(tmp, sizeof(tmp), "%s.new", E.store);
		tl_write_file(tmp, data, len, 0600);
		free(data);	/* no leak for valgrind to count */
		_exit(rename(tmp, E.store) == 0 ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert_eq(st, 0);
	snprintf(bad, sizeof(bad), "%s:3: ", E.store);
	begin_refused(bad);
	/* this process writing the file directly (same inode, same size) */
	cr_assert_eq(unlink(E.store), 0);
	tu_store_build_ids(E.cfg, 1, 1, 40);
	burst(1);
	past_ctime();
	tl_write_file(E.store, data, len, 0600);
	begin_refused(bad);
	free(data);
}

Test(fleet_txn, mirror_refuses_an_in_place_write_keeping_size_and_mtime)
{
	char bad[TU_PATHLEN + 8];

	tu_store_build_ids(E.cfg, 1, 1, 40);
	burst(1);
	burst(2);
	corrupt_in_place();
	snprintf(bad, sizeof(bad), "%s:3: ", E.store);
	begin_refused(bad);
	/* a plain chmod then: still decoded, still refused */
	cr_assert_eq(chmod(E.store, 0600), 0);
	begin_refused(bad);
}

Test(fleet_txn, mirror_commit_refuses_a_store_written_during_it)
{
	struct apitoken_txn *t;
	char id[APITOKEN_ID_LEN + 1];

	tu_store_build_ids(E.cfg, 1, 1, 40);
	burst(1);
	t = begin(APITOKEN_TXN_MIRROR);	/* its lines were not decoded */
	corrupt_in_place();		/* nor was the line written now */
	tu_id(9, id);
	cr_assert_eq(apitoken_txn_delete(t, id, E.err, sizeof(E.err)), 0);
	cr_assert_eq(apitoken_txn_commit(t, E.err, sizeof(E.err)),
	    APITOKEN_ERR_STORE_UNSAFE);
	cr_assert_not_null(strstr(E.err, "written by another process"), "%s",
	    E.err);
	apitoken_txn_free(t);
	begin_refused(":3: ");	/* the corrupt store stayed, not copied */
}

Test(fleet_txn, mirror_rule_lookups_on_its_own_store)
{
	struct apitoken_txn *t;
	struct apitoken_record *r;
	char id[APITOKEN_ID_LEN + 1], owner[APITOKEN_ID_LEN + 1];

	t = begin(APITOKEN_TXN_CREATE | APITOKEN_TXN_MIRROR);
	cr_assert_eq(put(t, 0, 1, "root", 0), 0, "%s", E.err);
	cr_assert_eq(put(t, 0, 2, "kid", 1), 0, "%s", E.err);
	cr_assert_eq(put(t, 0, 3, "grandkid", 2), 0, "%s", E.err);
	commit(t);
	/* begun on its own file: the rules' look-ups decode it on demand */
	t = begin(APITOKEN_TXN_MIRROR);
	cr_assert_eq(apitoken_txn_label_owner(t, "alice", "kid", NULL, owner),
	    0);
	tu_id(2, id);
	cr_assert_str_eq(owner, id);
	tu_id(1, id);
	cr_assert_eq(apitoken_txn_revoke_descendants(t, id, "test",
	    1800000000, NULL, NULL, E.err, sizeof(E.err)), 0, "%s", E.err);
	commit(t);
	t = begin(0);
	tu_id(3, id);
	cr_assert_eq(apitoken_txn_find(t, id, &r, E.err, sizeof(E.err)), 0);
	cr_assert_eq(r->status, APITOKEN_REVOKED);
	apitoken_record_free(r);
	apitoken_txn_free(t);
}
