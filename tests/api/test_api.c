/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_api.c - libapitoken as another program sees it: compiled with
 * only -Iverifier/include and linked to the shared library, nothing of
 * the library's internals.  Such a program must be unable to write a
 * store that breaks a rule spanning records (apitoken.h, "Store rules"),
 * and the cascades the library offers must work.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <apitoken.h>

#define NOW	((int64_t)1900000000)
#define DAY	((int64_t)86400)

static char dir[64], conf[128];
static struct apitoken_config *cfg;
static char err[512];

static void
write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	fputs(text, fp);
	cr_assert_eq(fclose(fp), 0);
}

static void
setup(void)
{
	char text[512], state[128];
	struct apitoken_txn *t = NULL;

	snprintf(dir, sizeof(dir), "/tmp/apitoken-api.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(state, sizeof(state), "%s/state", dir);
	cr_assert_eq(mkdir(state, 0700), 0);
	snprintf(conf, sizeof(conf), "%s/apitoken.yaml", dir);
	snprintf(text, sizeof(text), "store: %s/tokens\nstate_dir: %s\n", dir,
	    state);
	write_text(conf, text);
	cr_assert_eq(apitoken_config_load(conf, &cfg, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(apitoken_txn_begin(cfg, APITOKEN_TXN_CREATE, &t, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(apitoken_txn_commit(t, err, sizeof(err)), 0, "%s", err);
	apitoken_txn_free(t);
}

static void
teardown(void)
{
	char cmd[128];

	apitoken_config_free(cfg);
	cfg = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(api, .init = setup, .fini = teardown);

static struct apitoken_txn *
begin(void)
{
	struct apitoken_txn *t = NULL;

	cr_assert_eq(apitoken_txn_begin(cfg, 0, &t, err, sizeof(err)), 0,
	    "%s", err);
	return t;
}

/* A live token of user with label, a fresh id, parent and expiry. */
static struct apitoken_record *
token(const char *user, const char *label, const char *parent,
    int64_t expires)
{
	struct apitoken_record *r = apitoken_record_new();
	struct apitoken_token parts;
	char buf[APITOKEN_TOKEN_MAX + 1], hash[APITOKEN_HASH_MAX];

	cr_assert_not_null(r);
	cr_assert_eq(apitoken_token_generate("apitok", buf, sizeof(buf),
	    &parts, hash), 0);
	memcpy(r->id, parts.id, sizeof(r->id));
	apitoken_token_clear(&parts);
	apitoken_wipe(buf, sizeof(buf));
	cr_assert_eq(apitoken_record_set(&r->user, user), 0);
	cr_assert_eq(apitoken_record_set(&r->hash, hash), 0);
	cr_assert_eq(apitoken_record_set(&r->label, label), 0);
	cr_assert_eq(apitoken_record_set(&r->created_by, "api test"), 0);
	cr_assert_eq(apitoken_record_set(&r->parent, parent ? parent : ""),
	    0);
	r->created = r->updated = NOW;
	r->expires = expires;
	return r;
}

static void
insert_ok(struct apitoken_txn *t, const struct apitoken_record *r)
{
	int rc = apitoken_txn_insert(t, r, err, sizeof(err));

	cr_assert_eq(rc, 0, "insert %s: %d %s", r->id, rc, err);
}

static void
refused(int rc, const char *what, const char *names)
{
	cr_assert_eq(rc, APITOKEN_ERR_RULE, "%s: %d, want APITOKEN_ERR_RULE "
	    "(%s)", what, rc, err);
	cr_assert_not_null(strstr(err, names), "%s: message '%s' does not "
	    "name '%s'", what, err, names);
}

static struct apitoken_record *
find(struct apitoken_txn *t, const char *id)
{
	struct apitoken_record *r = NULL;

	cr_assert_eq(apitoken_txn_find(t, id, &r, err, sizeof(err)), 0,
	    "find %s", id);
	return r;
}

/* ------------------------------------------------------------ labels */

Test(api, no_second_live_token_with_a_label)
{
	struct apitoken_txn *t = begin();
	struct apitoken_record *a = token("root", "ci", NULL, 0);
	struct apitoken_record *b = token("root", "ci", NULL, 0);
	struct apitoken_record *c = token("daemon", "ci", NULL, 0);

	insert_ok(t, a);
	refused(apitoken_txn_insert(t, b, err, sizeof(err)), "same label",
	    a->id);
	cr_assert_not_null(strstr(err, "'ci'"), "%s", err);
	insert_ok(t, c);			/* another user: fine */
	cr_assert_eq(apitoken_txn_commit(t, err, sizeof(err)), 0);
	apitoken_txn_free(t);

	/* in a later transaction, and by renaming another token */
	t = begin();
	refused(apitoken_txn_insert(t, b, err, sizeof(err)), "later", a->id);
	apitoken_record_set(&b->label, "other");
	insert_ok(t, b);
	apitoken_record_set(&b->label, "ci");
	refused(apitoken_txn_replace(t, b, err, sizeof(err)), "rename",
	    a->id);
	/* once a is revoked, its label is free again */
	cr_assert_eq(apitoken_txn_revoke(t, a->id, "gone", NOW + 1, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(apitoken_txn_replace(t, b, err, sizeof(err)), 0, "%s",
	    err);
	apitoken_txn_free(t);
	apitoken_record_free(a);
	apitoken_record_free(b);
	apitoken_record_free(c);
}

/* ----------------------------------------------------------- parents */

Test(api, no_token_whose_parent_does_not_exist)
{
	struct apitoken_txn *t = begin();
	struct apitoken_record *p = token("root", "p", NULL, 0);
	struct apitoken_record *c = token("root", "c", "AAAAAAAAAAAA", 0);
	int rc;

	refused(apitoken_txn_insert(t, c, err, sizeof(err)), "no parent",
	    "AAAAAAAAAAAA");
	insert_ok(t, p);
	apitoken_record_set(&c->parent, p->id);
	insert_ok(t, c);
	/* a parent cannot be deleted from under a live child */
	rc = apitoken_txn_delete(t, p->id, err, sizeof(err));
	refused(rc, "delete parent", c->id);
	apitoken_txn_free(t);
	apitoken_record_free(p);
	apitoken_record_free(c);
}

Test(api, no_child_that_expires_after_its_parent)
{
	struct apitoken_txn *t = begin();
	struct apitoken_record *p = token("root", "p", NULL, NOW + 10 * DAY);
	struct apitoken_record *c = token("root", "c", NULL, NOW + 20 * DAY);
	struct apitoken_record *g = token("root", "g", NULL, 0);

	insert_ok(t, p);
	apitoken_record_set(&c->parent, p->id);
	refused(apitoken_txn_insert(t, c, err, sizeof(err)), "later child",
	    p->id);
	c->expires = 0;				/* never: later still */
	refused(apitoken_txn_insert(t, c, err, sizeof(err)), "never child",
	    p->id);
	c->expires = NOW + 5 * DAY;
	insert_ok(t, c);
	/* a grandchild answers to every live ancestor */
	apitoken_record_set(&g->parent, c->id);
	g->expires = NOW + 6 * DAY;
	refused(apitoken_txn_insert(t, g, err, sizeof(err)), "grandchild",
	    c->id);
	g->expires = NOW + 4 * DAY;
	insert_ok(t, g);
	/* edits in either order: lengthening the child is refused ... */
	c->expires = NOW + 11 * DAY;
	refused(apitoken_txn_replace(t, c, err, sizeof(err)), "child longer",
	    p->id);
	/* ... and shortening the parent by a plain replace too */
	p->expires = NOW + 2 * DAY;
	refused(apitoken_txn_replace(t, p, err, sizeof(err)), "parent shorter",
	    c->id);
	apitoken_txn_free(t);
	apitoken_record_free(p);
	apitoken_record_free(c);
	apitoken_record_free(g);
}

/* -------------------------------------------------------- revocation */

Test(api, a_revoked_token_stays_revoked)
{
	struct apitoken_txn *t = begin();
	struct apitoken_record *a = token("root", "a", NULL, 0), *r;

	insert_ok(t, a);
	cr_assert_eq(apitoken_txn_commit(t, err, sizeof(err)), 0);
	apitoken_txn_free(t);

	t = begin();
	cr_assert_eq(apitoken_txn_revoke(t, a->id, "leaked", NOW + 1, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(apitoken_txn_commit(t, err, sizeof(err)), 0);
	apitoken_txn_free(t);

	/* an old copy (an export from before) cannot bring it back */
	t = begin();
	refused(apitoken_txn_replace(t, a, err, sizeof(err)), "active",
	    a->id);
	a->status = APITOKEN_DISABLED;
	refused(apitoken_txn_replace(t, a, err, sizeof(err)), "disabled",
	    a->id);
	refused(apitoken_txn_revoke(t, a->id, "again", NOW + 2, err,
	    sizeof(err)), "revoke twice", a->id);
	/* nor delete and insert it again */
	cr_assert_eq(apitoken_txn_delete(t, a->id, err, sizeof(err)), 0,
	    "%s", err);
	a->status = APITOKEN_ACTIVE;
	refused(apitoken_txn_insert(t, a, err, sizeof(err)), "re-insert",
	    a->id);
	apitoken_txn_free(t);

	/* its owner and hash are fixed; its reason may be corrected */
	t = begin();
	r = find(t, a->id);
	apitoken_record_set(&r->user, "daemon");
	refused(apitoken_txn_replace(t, r, err, sizeof(err)), "user", "user");
	apitoken_record_set(&r->user, "root");
	r->hash[7] = r->hash[7] == 'a' ? 'b' : 'a';
	refused(apitoken_txn_replace(t, r, err, sizeof(err)), "hash", "hash");
	apitoken_record_free(r);
	r = find(t, a->id);
	apitoken_record_set(&r->revoke_reason, "leaked in a paste");
	cr_assert_eq(apitoken_txn_replace(t, r, err, sizeof(err)), 0, "%s",
	    err);
	apitoken_txn_free(t);
	apitoken_record_free(r);
	apitoken_record_free(a);
}

/* ---------------------------------------------------------- cascades */

static int
count_id(const char *id, void *ctx)
{
	(void)id;
	++*(int *)ctx;
	return 0;
}

Test(api, revoke_with_descendants)
{
	struct apitoken_txn *t = begin();
	struct apitoken_record *p = token("root", "p", NULL, 0);
	struct apitoken_record *c = token("root", "c", NULL, 0);
	struct apitoken_record *g = token("daemon", "g", NULL, 0), *r;
	int n = 0;

	insert_ok(t, p);
	apitoken_record_set(&c->parent, p->id);
	insert_ok(t, c);
	apitoken_record_set(&g->parent, c->id);
	insert_ok(t, g);
	cr_assert_eq(apitoken_txn_commit(t, err, sizeof(err)), 0);
	apitoken_txn_free(t);

	t = begin();
	cr_assert_eq(apitoken_txn_revoke(t, p->id, "leaked", NOW + 1, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(apitoken_txn_revoke_descendants(t, p->id, "derived",
	    NOW + 1, count_id, &n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 2);
	r = find(t, g->id);
	cr_assert_eq(r->status, APITOKEN_REVOKED);
	cr_assert_str_eq(r->revoke_reason, "derived");
	apitoken_record_free(r);
	cr_assert_eq(apitoken_txn_commit(t, err, sizeof(err)), 0);
	apitoken_txn_free(t);

	/* every token of a user, each with what derives from it */
	t = begin();
	p = (apitoken_record_free(p), token("daemon", "p2", NULL, 0));
	insert_ok(t, p);
	apitoken_record_set(&c->label, "c2");
	memcpy(c->id, "c2c2c2c2c2c2", sizeof(c->id));
	apitoken_record_set(&c->user, "root");
	apitoken_record_set(&c->parent, p->id);
	insert_ok(t, c);
	n = 0;
	cr_assert_eq(apitoken_txn_revoke_user(t, "daemon", "offboarded",
	    NOW + 2, count_id, &n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 2, "the daemon's p2 and root's c2 derived from it");
	cr_assert_eq(apitoken_txn_revoke_user(t, "daemon", "again", NOW + 2,
	    NULL, NULL, err, sizeof(err)), APITOKEN_ERR_NOT_FOUND);
	apitoken_txn_free(t);
	apitoken_record_free(p);
	apitoken_record_free(c);
	apitoken_record_free(g);
}

Test(api, shortening_an_expiry_caps_the_tree)
{
	struct apitoken_txn *t = begin();
	struct apitoken_record *p = token("root", "p", NULL, NOW + 30 * DAY);
	struct apitoken_record *c = token("root", "c", NULL, NOW + 20 * DAY);
	struct apitoken_record *g = token("root", "g", NULL, NOW + 3 * DAY);
	struct apitoken_record *r;
	int n = 0;

	insert_ok(t, p);
	apitoken_record_set(&c->parent, p->id);
	insert_ok(t, c);
	apitoken_record_set(&g->parent, c->id);
	insert_ok(t, g);
	cr_assert_eq(apitoken_txn_set_expiry(t, p->id, NOW + 10 * DAY,
	    NOW + 1, count_id, &n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 1, "only the child expired later than 10 days");
	r = find(t, c->id);
	cr_assert_eq(r->expires, NOW + 10 * DAY);
	apitoken_record_free(r);
	r = find(t, g->id);
	cr_assert_eq(r->expires, NOW + 3 * DAY, "the grandchild was earlier");
	apitoken_record_free(r);
	/* the other order: the child cannot be set past its parent */
	refused(apitoken_txn_set_expiry(t, c->id, NOW + 15 * DAY, NOW + 1,
	    NULL, NULL, err, sizeof(err)), "child past parent", p->id);
	/* never (0) is later than any date */
	refused(apitoken_txn_set_expiry(t, c->id, 0, NOW + 1, NULL, NULL, err,
	    sizeof(err)), "child never", p->id);
	cr_assert_eq(apitoken_txn_commit(t, err, sizeof(err)), 0);
	apitoken_txn_free(t);
	apitoken_record_free(p);
	apitoken_record_free(c);
	apitoken_record_free(g);
}

/* the id of a live (user, label) comes from the library's own index */
Test(api, label_owner)
{
	struct apitoken_txn *t = begin();
	struct apitoken_record *a = token("root", "x", NULL, 0);
	char id[APITOKEN_ID_LEN + 1];

	cr_assert_eq(apitoken_txn_label_owner(t, "root", "x", NULL, id),
	    APITOKEN_ERR_NOT_FOUND);
	insert_ok(t, a);
	cr_assert_eq(apitoken_txn_label_owner(t, "root", "x", NULL, id), 0);
	cr_assert_str_eq(id, a->id);
	cr_assert_eq(apitoken_txn_label_owner(t, "root", "x", a->id, id),
	    APITOKEN_ERR_NOT_FOUND);
	apitoken_txn_free(t);
	apitoken_record_free(a);
}

/* ------------------------------------------------- exported helpers */

Test(api, status_names_parse_back)
{
	enum apitoken_status all[] = {
		APITOKEN_ACTIVE, APITOKEN_DISABLED, APITOKEN_REVOKED,
	}, st;
	size_t i;

	for (i = 0; i < 3; i++) {
		cr_assert_eq(apitoken_status_parse(apitoken_status_str(all[i]),
		    &st), 0);
		cr_assert_eq(st, all[i]);
	}
	cr_assert_eq(apitoken_status_parse("expired", &st),
	    APITOKEN_ERR_INVALID);
	cr_assert_eq(apitoken_status_parse("Active", &st),
	    APITOKEN_ERR_INVALID);
}

Test(api, ct_equal)
{
	cr_assert_eq(apitoken_ct_equal("abcdef", "abcdef", 6), 1);
	cr_assert_eq(apitoken_ct_equal("abcdef", "abcdeg", 6), 0);
	cr_assert_eq(apitoken_ct_equal("xbcdef", "abcdef", 6), 0);
	cr_assert_eq(apitoken_ct_equal("a", "b", 0), 1);
}

Test(api, record_usable_is_verify_policy)
{
	struct apitoken_record *r = token("root", "u", NULL, NOW + DAY);
	struct apitoken_request req = { "root", "sshd", "10.1.2.3", NOW };

	cr_assert_eq(apitoken_record_usable(cfg, r, &req), APITOKEN_ACCEPTED);
	req.user = "daemon";
	cr_assert_eq(apitoken_record_usable(cfg, r, &req), APITOKEN_R_WRONG_USER);
	req.user = "root";
	cr_assert_eq(apitoken_record_list_add(&r->services, &r->n_services,
	    "sudo"), 0);
	cr_assert_eq(apitoken_record_usable(cfg, r, &req), APITOKEN_R_SERVICE);
	req.service = "sudo";
	cr_assert_eq(apitoken_record_list_add(&r->from, &r->n_from,
	    "192.168.0.0/16"), 0);
	cr_assert_eq(apitoken_record_usable(cfg, r, &req), APITOKEN_R_SOURCE);
	req.rhost = "192.168.7.7";
	cr_assert_eq(apitoken_record_usable(cfg, r, &req), APITOKEN_ACCEPTED);
	req.now = NOW + 2 * DAY;
	cr_assert_eq(apitoken_record_usable(cfg, r, &req), APITOKEN_R_EXPIRED);
	req.now = NOW;
	r->status = APITOKEN_DISABLED;
	cr_assert_eq(apitoken_record_usable(cfg, r, &req), APITOKEN_R_DISABLED);
	r->status = APITOKEN_REVOKED;
	cr_assert_eq(apitoken_record_usable(cfg, r, &req), APITOKEN_R_REVOKED);
	apitoken_record_free(r);
}
