/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * core.c - the shared core (core.h): the config (held by reference, so a
 * reload never frees one a front end still reads), the store kept open
 * and re-opened when tokenctl has committed (held by reference too),
 * throttling, last use and the decision line.  One mutex guards all of
 * it; it is not held while a token is looked up and hashed (a store
 * handle may be shared read-only between threads, apitoken.h), nor while
 * an owner's account is looked up, so that the event loops and the HTTP
 * threads verify in parallel.  Whether the store or /etc/shadow changed
 * is asked of inotify (fwatch.c) at every request: one read(2) that
 * finds nothing instead of a stat(2) of each; the store is stat'ed when
 * its directory reports it, and at least once a second besides.
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
#include "fwatch.h"
#include "replica.h"
#include "throttle.h"

#define LASTUSE_INTERVAL 60	/* s, as the module */
/* Set-associative, 24 bytes a slot (1.5 MiB, touched only as used): a
 * miss costs the library's walk of state_dir, ~20 system calls, so the
 * cache should hold every token used within LASTUSE_INTERVAL.  With 1024
 * slots, 10,000 tokens in use made nearly every request miss
 * (BENCHMARKS.md, apitokend). */
#define LASTUSE_SLOTS 65536
/* Ways a token may take: with two, 10,000 tokens in use left ~350 of
 * them three to a pair, each use of one evicting another, and 2-3 % of
 * the verifications walked state_dir (~20 system calls); with four,
 * a handful (BENCHMARKS.md, apitokend). */
#define LASTUSE_WAYS 4
/* Whether an owner's account is locked, cached: getspnam scans
 * /etc/shadow, and for a user not in it asks every other NSS source
 * (~40 system calls, BENCHMARKS.md).  The whole cache is dropped when
 * /etc/shadow changes (passwd -l, usermod -L replace it) and at least
 * every LOCK_TTL seconds (accounts from other NSS sources).  As large as
 * the last-use cache: with 1,024 slots, 1,000 owners made 40 % of the
 * verifications miss it; and four ways like it: direct-mapped, ~15 of
 * 1,000 owners shared a slot, and each use of one evicted the other. */
#define LOCK_SLOTS 65536
#define LOCK_WAYS 4
#define LOCK_TTL 60
#define SHADOW_FILE "/etc/shadow"
#define FW_STORE 0	/* fwatch's files */
#define FW_SHADOW 1

struct cfgref {
	struct apitoken_config *cfg;
	int refs;
	struct cfgref *next;
};

/* An open store and the requests reading it. */
struct storeref {
	struct apitoken_store *store;
	int refs;
	struct storeref *next;	/* retired ones still read */
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
	unsigned gen;		/* valid while struct core's lk_gen */
	int64_t when;		/* when it was filled */
};

struct core {
	pthread_mutex_t mu;
	struct cfgref *cur;		/* the config for new requests */
	struct cfgref *old;		/* older ones still held */
	struct storeref *store;		/* NULL: open at the next request */
	struct storeref *retired;	/* replaced, still read */
	struct stat st;			/* the store file when opened */
	int64_t st_when;		/* when it was last stat'ed */
	struct fwatch fw;		/* the store and SHADOW_FILE */
	struct throttle thr;
	struct lu_slot lu[LASTUSE_SLOTS];
	struct lock_slot lk[LOCK_SLOTS];
	unsigned lk_gen;		/* a new one empties lk */
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
lock_cache_free(struct core *c)
{
	size_t i;

	for (i = 0; i < LOCK_SLOTS; i++)
		free(c->lk[i].user);
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
	fwatch_init(&c->fw);	/* failures: stat at every request */
	(void)fwatch_file(&c->fw, FW_STORE, apitoken_config_store(cfg));
	(void)fwatch_file(&c->fw, FW_SHADOW, SHADOW_FILE);
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

static void
store_free(struct storeref *r)
{
	struct storeref *next;

	for (; r != NULL; r = next) {
		next = r->next;
		apitoken_store_close(r->store);
		free(r);
	}
}

/* Under the mutex: no new request reads the current store; it is closed
 * when the last one reading it is done (store_put). */
static void
store_retire(struct core *c)
{
	struct storeref *r = c->store;

	c->store = NULL;
	if (r == NULL)
		return;
	if (r->refs == 0)
		store_free(r);
	else {
		r->next = c->retired;
		c->retired = r;
	}
}

/* Under the mutex: a request is done reading r. */
static void
store_put(struct core *c, struct storeref *r)
{
	struct storeref **l;

	if (--r->refs > 0 || r == c->store)
		return;
	for (l = &c->retired; *l != NULL; l = &(*l)->next)
		if (*l == r) {
			*l = r->next;
			r->next = NULL;
			store_free(r);
			return;
		}
}

void
core_free(struct core *c)
{
	if (c == NULL)
		return;
	store_free(c->store);
	store_free(c->retired);
	lock_cache_free(c);
	fwatch_close(&c->fw);
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
	store_retire(c);	/* re-opened under the new one */
	(void)fwatch_file(&c->fw, FW_STORE, apitoken_config_store(cfg));
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

/* Same file, not rewritten since (a rename or a write changes one). */
static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Under the mutex: whether the open store is still the file at path:
 * no event for it (changed: fwatch's) and stat'ed within this second, or
 * stat'ed now and the same file. */
static int
store_current(struct core *c, const char *path, unsigned changed,
    int64_t now)
{
	struct stat st;

	if (c->store == NULL)
		return 0;
	if (!(changed & 1u << FW_STORE) && c->st_when == now)
		return 1;
	if (stat(path, &st) != 0 || !same_file(&st, &c->st))
		return 0;
	c->st_when = now;
	return 1;
}

/* Under the mutex: the store for one request (store_put when done),
 * opened again if its file is another one or was rewritten since
 * (tokenctl commits by rename); NULL with res filled when it cannot be
 * opened.  The store is mapped (apitoken_store_open_mapped): the mapping
 * of a replaced one goes with its last reference, and a file truncated
 * in place by hand has another size, so it is re-opened (and its
 * trailer check fails) before a look-up could read past its end. */
static struct storeref *
store_get(struct core *c, unsigned changed, int64_t now,
    struct apitoken_result *res)
{
	const char *path = apitoken_config_store(c->cur->cfg);
	int r;

	if (store_current(c, path, changed, now)) {
		c->store->refs++;
		return c->store;
	}
	store_retire(c);
	/* stat first: a commit between the two is seen at the next request */
	if (stat(path, &c->st) != 0)
		memset(&c->st, 0, sizeof(c->st));
	c->st_when = now;
	r = APITOKEN_ERR_NOMEM;
	if ((c->store = calloc(1, sizeof(*c->store))) != NULL &&
	    (r = apitoken_store_open_mapped(c->cur->cfg, &c->store->store,
	    res->detail, sizeof(res->detail))) == APITOKEN_OK) {
		c->store->refs++;
		return c->store;
	}
	free(c->store);
	c->store = NULL;
	res->reason = APITOKEN_R_STORE_ERROR;
	res->error = r;
	return NULL;
}

/* The last-use slot of id: LASTUSE_WAYS ways, the one holding id or
 * else the one written longest ago. */
static struct lu_slot *
lu_slot(struct core *c, const char *id)
{
	struct lu_slot *s, *old;
	size_t h = 0, i;

	for (i = 0; id[i] != '\0'; i++)
		h = h * 31 + (unsigned char)id[i];
	s = &c->lu[(h % LASTUSE_SLOTS) & ~(size_t)(LASTUSE_WAYS - 1)];
	for (old = s, i = 0; i < LASTUSE_WAYS; i++) {
		if (strcmp(s[i].id, id) == 0)
			return &s[i];
		if (s[i].when < old->when)
			old = &s[i];
	}
	return old;
}

/* Record a use at most once a LASTUSE_INTERVAL per token. */
static void
lastuse(struct core *c, const struct ask *a, const char *id, int64_t now)
{
	struct lu_slot *s = lu_slot(c, id);
	char err[256];

	if (strcmp(s->id, id) == 0 && now - s->when < LASTUSE_INTERVAL &&
	    now >= s->when)
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

/* The LOCK_WAYS slots user may take. */
static struct lock_slot *
lock_set(struct core *c, const char *user)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	const char *p;

	for (p = user; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &c->lk[(h % LOCK_SLOTS) & ~(uint32_t)(LOCK_WAYS - 1)];
}

/* user's slot if it holds a look-up of the current generation, else
 * NULL; with victim, else the slot to fill instead: an empty or stale
 * one, or the one filled longest ago. */
static struct lock_slot *
lock_slot(struct core *c, const char *user, struct lock_slot **victim)
{
	struct lock_slot *s = lock_set(c, user), *v = s;
	int64_t age, vage = INT64_MAX;
	int i;

	for (i = 0; i < LOCK_WAYS; i++) {
		/* an empty or stale slot goes before any filled one */
		age = s[i].user != NULL && s[i].gen == c->lk_gen ?
		    s[i].when : INT64_MIN;
		if (age != INT64_MIN && strcmp(s[i].user, user) == 0)
			return &s[i];
		if (age < vage) {
			v = &s[i];
			vage = age;
		}
	}
	if (victim != NULL)
		*victim = v;
	return NULL;
}

/*
 * Under the mutex: whether user's account is locked, from the cache (1
 * or 0), or -1 when not in it.  The cache is emptied first when shadow
 * (SHADOW_FILE as stat'ed when the request began, if it had to be: see
 * files_changed) is not the file it was filled from, or when it is
 * LOCK_TTL old.
 */
static int
lock_cached(struct core *c, const char *user, const struct stat *shadow,
    int64_t now)
{
	struct lock_slot *slot;

	if ((shadow != NULL && !same_file(shadow, &c->shadow)) ||
	    now - c->lk_born >= LOCK_TTL || now < c->lk_born) {
		c->lk_gen++;
		if (shadow != NULL)
			c->shadow = *shadow;
		c->lk_born = now;
	}
	if ((slot = lock_slot(c, user, NULL)) != NULL)
		return slot->locked;
	return -1;
}

/* Under the mutex: remember a look-up made since generation gen, unless
 * the cache was emptied meanwhile. */
static void
lock_remember(struct core *c, const char *user, int locked, unsigned gen,
    int64_t now)
{
	struct lock_slot *slot, *v = NULL;
	char *dup;

	if (gen != c->lk_gen)
		return;	/* just not cached */
	if ((slot = lock_slot(c, user, &v)) == NULL) {
		if ((dup = strdup(user)) == NULL)
			return;
		slot = v;
		free(slot->user);
		slot->user = dup;
	}
	slot->locked = locked;
	slot->gen = gen;
	slot->when = now;
}

/*
 * The owner's account, for an accepted token (the mutex held on entry
 * and on return; dropped around a look-up that misses the cache):
 * locked (passwd -l) refuses it, as the module does for the logins it
 * checks itself; a failed look-up fails closed.  The daemon runs as
 * root, so shadow is readable.
 */
static void
check_account(struct core *c, const struct stat *shadow,
    struct apitoken_result *res, int64_t now)
{
	unsigned gen;
	int unreadable = 0, r;

	if ((r = lock_cached(c, res->user, shadow, now)) < 0) {
		gen = c->lk_gen;
		pthread_mutex_unlock(&c->mu);
		r = apitoken_account_locked(res->user, &unreadable);
		pthread_mutex_lock(&c->mu);
		if (r >= 0)
			lock_remember(c, res->user, r, gen, now);
	}
	if (r > 0)
		res->reason = APITOKEN_R_LOCKED;
	else if (r < 0) {
		res->reason = APITOKEN_R_STORE_ERROR;
		res->error = APITOKEN_ERR_SYSTEM;
		snprintf(res->detail, sizeof(res->detail),
		    "shadow look-up failed for the token's owner");
	}
}

/* The throttling keys of a request (NULL where it has none). */
struct keys {
	struct tkey uk, tk, ak;
	const struct tkey *k[3];
};

static void
keys_of(const struct ask *a, const char *id, struct keys *ks)
{
	ks->uk = (struct tkey){ T_USER, a->uid, a->user };
	ks->tk = (struct tkey){ T_TOKEN, 0, id };
	ks->ak = (struct tkey){ T_ADDR, 0, http_client(a) };
	ks->k[0] = a->user != NULL && !is_http(a) ? &ks->uk : NULL;
	ks->k[1] = id[0] != '\0' ? &ks->tk : NULL;
	ks->k[2] = ks->ak.name != NULL ? &ks->ak : NULL;
}

/* Under the mutex: 1 (and res says throttled) if a key of the request
 * is locked out now. */
static int
throttled(struct core *c, const struct keys *ks, const char *id,
    int64_t now, struct apitoken_result *res)
{
	int64_t until;
	size_t i;

	for (i = 0; i < 3; i++)
		if (ks->k[i] != NULL &&
		    throttle_blocked(&c->thr, ks->k[i], now, &until)) {
			memset(res, 0, sizeof(*res));
			snprintf(res->id, sizeof(res->id), "%s", id);
			res->reason = APITOKEN_R_THROTTLED;
			return 1;
		}
	return 0;
}

/*
 * Under the mutex, after the look-up (made without it): the owner's
 * account for an accepted token, then the throttle once more and the
 * count in one step.  Requests verify in parallel, so a lockout may have
 * begun while this one was looked up: it is refused then as if it had
 * come after, and no answer but "throttled" is given past the limit.
 */
static void
conclude(struct core *c, const struct ask *a, const struct keys *ks,
    const char *id, const struct stat *shadow, int64_t now,
    struct apitoken_result *res)
{
	if (res->reason == APITOKEN_ACCEPTED)
		check_account(c, shadow, res, now);
	if (throttled(c, ks, id, now, res))
		return;
	count(c, ks->k, res->reason, now);
	if (res->reason == APITOKEN_ACCEPTED)
		lastuse(c, a, res->id, now);
}

/*
 * Under the mutex, as a request begins: fwatch's files that changed.  An
 * event for SHADOW_FILE empties the account cache at once (a request
 * that began after the change must not find the old answer); when its
 * directory is not watched, *stat_shadow says to stat it instead and
 * compare (lock_cached).
 */
static unsigned
files_changed(struct core *c, int64_t now, int *stat_shadow)
{
	unsigned ch = fwatch_changed(&c->fw);

	*stat_shadow = 0;
	if (!(ch & 1u << FW_SHADOW))
		return ch;
	if (fwatch_watched(&c->fw, FW_SHADOW)) {
		c->lk_gen++;
		c->lk_born = now;
	} else
		*stat_shadow = 1;
	return ch;
}

/* Look the token up in r's store (without the mutex). */
static enum apitoken_reason
look_up(struct storeref *r, const struct ask *a, int64_t now,
    struct apitoken_result *res)
{
	struct apitoken_request req = { a->user, a->service, a->rhost,
		(time_t)now };

	if (a->user != NULL)
		return apitoken_verify(r->store, a->token, a->len, &req, res);
	return apitoken_verify_owner(r->store, a->token, a->len, &req, res);
}

enum apitoken_reason
core_verify(struct core *c, const struct ask *a, struct apitoken_result *res)
{
	struct apitoken_token t;
	struct storeref *r = NULL;
	struct keys ks;
	struct stat shadow;
	char id[APITOKEN_ID_LEN + 1] = "";
	int64_t now = (int64_t)time(NULL);
	int stat_shadow = 0;

	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&c->mu);
	if (apitoken_token_parse(apitoken_config_token_prefix(c->cur->cfg),
	    a->token, a->len, &t) == APITOKEN_FMT_OK)
		memcpy(id, t.id, sizeof(id));
	apitoken_token_clear(&t);
	keys_of(a, id, &ks);
	if (!throttled(c, &ks, id, now, res))
		r = store_get(c, files_changed(c, now, &stat_shadow), now,
		    res);
	pthread_mutex_unlock(&c->mu);
	if (r != NULL) {
		memset(&shadow, 0, sizeof(shadow));
		/* shadow before the account check: a change made before
		 * this request began is seen by it */
		if (look_up(r, a, now, res) == APITOKEN_ACCEPTED &&
		    stat_shadow && stat(SHADOW_FILE, &shadow) != 0)
			memset(&shadow, 0, sizeof(shadow));
		pthread_mutex_lock(&c->mu);
		store_put(c, r);
		conclude(c, a, &ks, id, stat_shadow ? &shadow : NULL, now,
		    res);
		pthread_mutex_unlock(&c->mu);
	}
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
    const char *addr, core_entry_fn fn, void *ctx)
{
	int n;

	pthread_mutex_lock(&c->mu);
	n = throttle_unlock(&c->thr, id != NULL ? T_TOKEN : user != NULL ?
	    T_USER : T_ADDR, id != NULL ? id : user != NULL ? user : addr,
	    (int64_t)time(NULL), fn, ctx);
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
