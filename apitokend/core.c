/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * core.c - the shared core (core.h): the config (held by reference, so a
 * reload never frees one a front end still reads), the store kept open
 * and re-opened when tokenctl has committed, throttling, last use and
 * the decision line.  One mutex guards all of it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "core.h"
#include "replica.h"
#include "throttle.h"

#define LASTUSE_INTERVAL 60	/* s, as the module */
/* Direct-mapped, 24 bytes a slot (1.5 MiB, touched only as used): a
 * miss costs the library's walk of state_dir, ~20 system calls, so the
 * cache should hold every token used within LASTUSE_INTERVAL.  With 1024
 * slots, 10,000 tokens in use made nearly every request miss
 * (BENCHMARKS.md, apitokend). */
#define LASTUSE_SLOTS 65536
/* Whether an owner's account is locked, cached: getspnam scans
 * /etc/shadow (~100 us a verification, BENCHMARKS.md).  The whole cache
 * is dropped when /etc/shadow changes (passwd -l, usermod -L replace it)
 * and at least every LOCK_TTL seconds (accounts from other NSS sources). */
#define LOCK_SLOTS 1024
#define LOCK_TTL 60
#define SHADOW_FILE "/etc/shadow"

struct cfgref {
	struct apitoken_config *cfg;
	int refs;
	struct cfgref *next;
};

/* When each token's last use was recorded (a cache in front of the
 * library's own mtime check, which walks state_dir from "/"). */
struct lu_slot {
	char id[APITOKEN_ID_LEN + 1];
	int64_t when;
};

struct lock_slot {
	char *user;		/* NULL: empty */
	int locked;
};

struct core {
	pthread_mutex_t mu;
	struct cfgref *cur;		/* the config for new requests */
	struct cfgref *old;		/* older ones still held */
	struct apitoken_store *store;	/* NULL: open at the next request */
	struct stat st;			/* the store file when opened */
	struct throttle thr;
	struct lu_slot lu[LASTUSE_SLOTS];
	struct lock_slot lk[LOCK_SLOTS];
	struct stat shadow;		/* SHADOW_FILE when lk was filled */
	int64_t lk_born;		/* when lk was last emptied */
};

static void
apply_limits(struct core *c)
{
	const struct apitoken_config *cfg = c->cur->cfg;

	throttle_init(&c->thr, apitoken_config_max_failures(cfg),
	    apitoken_config_failure_window(cfg),
	    apitoken_config_lockout(cfg));
}

static void
lock_cache_clear(struct core *c)
{
	size_t i;

	for (i = 0; i < LOCK_SLOTS; i++) {
		free(c->lk[i].user);
		c->lk[i].user = NULL;
	}
}

int
core_new(struct apitoken_config *cfg, struct core **cp, char *err,
    size_t errlen)
{
	struct core *c;

	*cp = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->cur = calloc(1, sizeof(*c->cur))) == NULL ||
	    pthread_mutex_init(&c->mu, NULL) != 0) {
		if (c != NULL)
			free(c->cur);
		free(c);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->cur->cfg = cfg;
	apply_limits(c);
	*cp = c;
	return 0;
}

static void
free_refs(struct cfgref *r)
{
	struct cfgref *next;

	for (; r != NULL; r = next) {
		next = r->next;
		apitoken_config_free(r->cfg);
		free(r);
	}
}

void
core_free(struct core *c)
{
	if (c == NULL)
		return;
	apitoken_store_close(c->store);
	lock_cache_clear(c);
	throttle_clear(&c->thr);
	free_refs(c->cur);
	free_refs(c->old);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void
core_set_config(struct core *c, struct apitoken_config *cfg)
{
	struct cfgref *r = calloc(1, sizeof(*r));

	pthread_mutex_lock(&c->mu);
	if (r == NULL) {	/* keep the old one; the new one goes */
		pthread_mutex_unlock(&c->mu);
		apitoken_config_free(cfg);
		core_log(LOG_ERR, "reload: out of memory; old config kept");
		return;
	}
	r->cfg = cfg;
	if (c->cur->refs == 0)
		free_refs(c->cur);
	else {
		c->cur->next = c->old;
		c->old = c->cur;
	}
	c->cur = r;
	apply_limits(c);
	apitoken_store_close(c->store);	/* re-opened under the new one */
	c->store = NULL;
	memset(c->lu, 0, sizeof(c->lu));	/* state_dir may have moved */
	pthread_mutex_unlock(&c->mu);
}

const struct apitoken_config *
core_config_get(struct core *c)
{
	const struct apitoken_config *cfg;

	pthread_mutex_lock(&c->mu);
	c->cur->refs++;
	cfg = c->cur->cfg;
	pthread_mutex_unlock(&c->mu);
	return cfg;
}

void
core_config_put(struct core *c, const struct apitoken_config *cfg)
{
	struct cfgref **l, *r;

	pthread_mutex_lock(&c->mu);
	if (c->cur->cfg == cfg)
		c->cur->refs--;
	else
		for (l = &c->old; (r = *l) != NULL; l = &r->next)
			if (r->cfg == cfg) {
				if (--r->refs == 0) {
					*l = r->next;
					r->next = NULL;
					free_refs(r);
				}
				break;
			}
	pthread_mutex_unlock(&c->mu);
}

/* The store, opened again if its file is another one or was rewritten
 * since (tokenctl commits by rename).  0, or -1 with res filled. */
static int
store_fresh(struct core *c, struct apitoken_result *res)
{
	const char *path = apitoken_config_store(c->cur->cfg);
	struct stat st;
	int r;

	if (c->store != NULL && stat(path, &st) == 0 &&
	    st.st_dev == c->st.st_dev && st.st_ino == c->st.st_ino &&
	    st.st_size == c->st.st_size &&
	    st.st_mtim.tv_sec == c->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == c->st.st_mtim.tv_nsec)
		return 0;
	apitoken_store_close(c->store);
	c->store = NULL;
	/* stat first: a commit between the two is seen at the next request */
	if (stat(path, &c->st) != 0)
		memset(&c->st, 0, sizeof(c->st));
	r = apitoken_store_open(c->cur->cfg, &c->store, res->detail,
	    sizeof(res->detail));
	if (r == APITOKEN_OK)
		return 0;
	res->reason = APITOKEN_R_STORE_ERROR;
	res->error = r;
	return -1;
}

/* Record a use at most once a LASTUSE_INTERVAL per token. */
static void
lastuse(struct core *c, const struct ask *a, const char *id, int64_t now)
{
	struct lu_slot *s;
	char err[256];
	size_t h = 0, i;

	for (i = 0; id[i] != '\0'; i++)
		h = h * 31 + (unsigned char)id[i];
	s = &c->lu[h % LASTUSE_SLOTS];
	if (strcmp(s->id, id) == 0 && now - s->when < LASTUSE_INTERVAL)
		return;
	if (apitoken_lastuse_record(c->cur->cfg, id, a->service, a->rhost,
	    (time_t)now, LASTUSE_INTERVAL, err, sizeof(err)) != APITOKEN_OK) {
		core_log(LOG_WARNING, "last use of token %s not recorded: %s",
		    id, err);
		return;
	}
	memcpy(s->id, id, sizeof(s->id));
	s->when = now;
	replica_used(id, now);	/* to the fleet, if there is one */
}

/* Reasons reached only with the right secret: the record is in res. */
static int
secret_matched(enum apitoken_reason r)
{
	switch (r) {
	case APITOKEN_ACCEPTED:
	case APITOKEN_R_DISABLED:
	case APITOKEN_R_REVOKED:
	case APITOKEN_R_EXPIRED:
	case APITOKEN_R_WRONG_USER:
	case APITOKEN_R_SERVICE:
	case APITOKEN_R_SOURCE:
	case APITOKEN_R_HOST:
		return 1;
	default:
		return 0;
	}
}

int
core_reply_has_record(enum apitoken_reason r)
{
	return secret_matched(r);
}

/* Log a new lockout. */
static void
log_lockout(const struct tkey *k, int64_t until)
{
	char name[4 * APITOKEN_USER_MAX + 1], when[32];

	apitoken_log_escape(name, sizeof(name), k->name, 0);
	if (apitoken_time_format(until, when, sizeof(when)) != APITOKEN_OK)
		snprintf(when, sizeof(when), "%lld", (long long)until);
	if (k->kind == T_TOKEN)
		core_log(LOG_WARNING, "lockout token=%s until=%s", name, when);
	else if (k->kind == T_ADDR)
		core_log(LOG_WARNING, "lockout rhost=%s until=%s", name, when);
	else
		core_log(LOG_WARNING, "lockout user=%s caller_uid=%ld until=%s",
		    name, (long)(int)k->uid, when);
}

/* Count the failure res->reason against the keys, as apitokend(8) says:
 * a guess (unknown id, wrong secret) counts for the (caller, user) pair
 * and the HTTP client address, a wrong secret also for the token id.
 * Input that is no token at all (a password typed at the same prompt)
 * never counts.  Keys not given are NULL. */
static void
count(struct core *c, const struct tkey *const k[3], enum apitoken_reason r,
    int64_t now)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		if (k[i] == NULL)
			continue;
		if (r == APITOKEN_ACCEPTED)
			throttle_ok(&c->thr, k[i]);
		else if ((r == APITOKEN_R_WRONG_SECRET ||
		    (r == APITOKEN_R_UNKNOWN && k[i]->kind != T_TOKEN)) &&
		    throttle_fail(&c->thr, k[i], now))
			log_lockout(k[i], now + c->thr.lockout);
	}
}

/* HTTP requests (http.c) have no caller uid: every client shares one,
 * so they count per client address, not per (caller, user) pair. */
static int
is_http(const struct ask *a)
{
	return a->front != NULL && strcmp(a->front, "http") == 0;
}

/*
 * The address an HTTP request counts against: its client's, unless that
 * is a loopback address.  The endpoint listens on loopback only, so
 * without a trusted proxy naming the client every request comes from the
 * proxy itself, and counting that would let one client lock out all.
 */
static const char *
http_client(const struct ask *a)
{
	if (!is_http(a) || a->rhost == NULL ||
	    apitoken_cidr_match("127.0.0.0/8", a->rhost) == 1 ||
	    apitoken_cidr_match("::1/128", a->rhost) == 1)
		return NULL;
	return a->rhost;
}

/*
 * The owner's account, for an accepted token: locked (passwd -l) refuses
 * it, as the module does for the logins it checks itself; a failed
 * look-up fails closed.  The daemon runs as root, so shadow is readable.
 */
static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* apitoken_account_locked through the cache (under the mutex). */
static int
account_locked(struct core *c, const char *user, int64_t now)
{
	struct stat st;
	struct lock_slot *slot;
	uint32_t h = 2166136261u;	/* FNV-1a */
	const char *p;
	int unreadable = 0, r;

	if (stat(SHADOW_FILE, &st) != 0)
		memset(&st, 0, sizeof(st));
	if (!same_file(&st, &c->shadow) || now - c->lk_born >= LOCK_TTL ||
	    now < c->lk_born) {
		lock_cache_clear(c);
		c->shadow = st;
		c->lk_born = now;
	}
	for (p = user; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	slot = &c->lk[h % LOCK_SLOTS];
	if (slot->user != NULL && strcmp(slot->user, user) == 0)
		return slot->locked;
	r = apitoken_account_locked(user, &unreadable);
	if (r >= 0) {
		free(slot->user);
		slot->user = strdup(user);	/* NULL: just not cached */
		slot->locked = r;
	}
	return r;
}

static enum apitoken_reason
check_account(struct core *c, struct apitoken_result *res, int64_t now)
{
	int r;

	r = account_locked(c, res->user, now);
	if (r > 0)
		res->reason = APITOKEN_R_LOCKED;
	else if (r < 0) {
		res->reason = APITOKEN_R_STORE_ERROR;
		res->error = APITOKEN_ERR_SYSTEM;
		snprintf(res->detail, sizeof(res->detail),
		    "shadow look-up failed for the token's owner");
	}
	return res->reason;
}

/* Under the mutex: throttle, store, verify, account lock, count, last
 * use. */
static void
verify_locked(struct core *c, const struct ask *a, const char *id,
    int64_t now, struct apitoken_result *res)
{
	struct apitoken_request req = { a->user, a->service, a->rhost,
		(time_t)now };
	struct tkey uk = { T_USER, a->uid, a->user };
	struct tkey tk = { T_TOKEN, 0, id };
	struct tkey ak = { T_ADDR, 0, http_client(a) };
	const struct tkey *k[3] = { a->user != NULL && !is_http(a) ? &uk :
		NULL, id[0] != '\0' ? &tk : NULL, ak.name != NULL ? &ak : NULL };
	enum apitoken_reason r;
	int64_t until;
	size_t i;

	for (i = 0; i < 3; i++)
		if (k[i] != NULL &&
		    throttle_blocked(&c->thr, k[i], now, &until)) {
			memset(res, 0, sizeof(*res));
			snprintf(res->id, sizeof(res->id), "%s", id);
			res->reason = APITOKEN_R_THROTTLED;
			return;
		}
	if (store_fresh(c, res) != 0)
		return;
	if (a->user != NULL)
		r = apitoken_verify(c->store, a->token, a->len, &req, res);
	else
		r = apitoken_verify_owner(c->store, a->token, a->len, &req,
		    res);
	if (r == APITOKEN_ACCEPTED &&
	    check_account(c, res, now) == APITOKEN_ACCEPTED)
		lastuse(c, a, res->id, now);
	count(c, k, res->reason, now);
}

enum apitoken_reason
core_verify(struct core *c, const struct ask *a, struct apitoken_result *res)
{
	struct apitoken_token t;
	char id[APITOKEN_ID_LEN + 1] = "";
	int64_t now = (int64_t)time(NULL);

	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&c->mu);
	if (apitoken_token_parse(apitoken_config_token_prefix(c->cur->cfg),
	    a->token, a->len, &t) == APITOKEN_FMT_OK)
		memcpy(id, t.id, sizeof(id));
	apitoken_token_clear(&t);
	verify_locked(c, a, id, now, res);
	pthread_mutex_unlock(&c->mu);
	core_log_decision(a, res);
	return res->reason;
}

/* --- LOCKOUTS and UNLOCK */

int
core_lockouts(struct core *c, core_entry_fn fn, void *ctx)
{
	int r;

	pthread_mutex_lock(&c->mu);
	r = throttle_lockouts(&c->thr, (int64_t)time(NULL), fn, ctx);
	pthread_mutex_unlock(&c->mu);
	return r;
}

int
core_unlock(struct core *c, const char *id, const char *user,
    core_entry_fn fn, void *ctx)
{
	int n;

	pthread_mutex_lock(&c->mu);
	n = throttle_unlock(&c->thr, id != NULL ? T_TOKEN : T_USER,
	    id != NULL ? id : user, (int64_t)time(NULL), fn, ctx);
	pthread_mutex_unlock(&c->mu);
	return n;
}

int
core_fail(struct core *c, uid_t uid, const char *user)
{
	struct tkey k = { T_USER, uid, user };
	int64_t now = (int64_t)time(NULL), until;
	int r;

	pthread_mutex_lock(&c->mu);
	if ((r = throttle_blocked(&c->thr, &k, now, &until)) == 0 &&
	    (r = throttle_fail(&c->thr, &k, now)) != 0)
		log_lockout(&k, now + c->thr.lockout);
	pthread_mutex_unlock(&c->mu);
	return r;
}

void
core_ok(struct core *c, uid_t uid, const char *user)
{
	struct tkey k = { T_USER, uid, user };

	pthread_mutex_lock(&c->mu);
	throttle_ok(&c->thr, &k);
	pthread_mutex_unlock(&c->mu);
}

int
core_locked(struct core *c, uid_t uid, const char *user)
{
	struct tkey k = { T_USER, uid, user };
	int64_t until;
	int r;

	pthread_mutex_lock(&c->mu);
	r = throttle_blocked(&c->thr, &k, (int64_t)time(NULL), &until);
	pthread_mutex_unlock(&c->mu);
	return r;
}
