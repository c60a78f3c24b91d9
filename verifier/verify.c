/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verify.c - the one verify path.  Format and checksum first (nothing
 * else is touched for malformed input), then look-up by the public id,
 * a constant-time compare of the stored hash, then policy: status,
 * expiry, owner, host, service, source address.  Fails closed: the
 * result is "store-error" until every check has passed.
 * apitoken_verify_owner is the same path with the owner check left out
 * (no user was claimed: an HTTP Bearer or ApiKey credential); nothing
 * else differs.  A fleet replica (postgresql configured) that is stale
 * refuses every parsed token before its look-up (replica-stale).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static void
copy_meta(struct apitoken_result *res, const struct apitoken_record *rec)
{
	snprintf(res->user, sizeof(res->user), "%s", rec->user);
	snprintf(res->label, sizeof(res->label), "%s", rec->label);
	res->status = rec->status;
	res->expires = rec->expires;
}

/* A service list needs the request's service, or one it covers under
 * service_aliases (a token for su is good for su-l). */
static int
service_allowed(const struct apitoken_record *rec, const char *service,
    const struct svc_aliases *aliases)
{
	size_t i;

	if (rec->n_services == 0)
		return 1;
	for (i = 0; service != NULL && i < rec->n_services; i++)
		if (aliases_covers(aliases, rec->services[i], service))
			return 1;
	return 0;
}

/* A from list needs a known IP address inside one of its CIDRs. */
static int
source_allowed(const struct apitoken_record *rec, const char *rhost)
{
	size_t i;

	if (rec->n_from == 0)
		return 1;
	if (rhost == NULL || apitoken_addr_valid(rhost) != 0)
		return 0;
	for (i = 0; i < rec->n_from; i++)
		if (apitoken_cidr_match(rec->from[i], rhost) == 1)
			return 1;
	return 0;
}

/* What policy() checks a record against besides the request. */
struct scope {
	const struct svc_aliases *aliases;
	const struct hostid *host;
};

/* any_user: no user was claimed (apitoken_verify_owner); else
 * req->user must own the token. */
static enum apitoken_reason
policy(const struct apitoken_record *rec, const struct apitoken_request *req,
    const struct scope *sc, int any_user)
{
	time_t now = req->now ? req->now : time(NULL);

	if (rec->status == APITOKEN_DISABLED)
		return APITOKEN_R_DISABLED;
	if (rec->status != APITOKEN_ACTIVE)
		return APITOKEN_R_REVOKED;
	if (apitoken_record_expired(rec, now))
		return APITOKEN_R_EXPIRED;
	if (!any_user && strcmp(rec->user, req->user) != 0)
		return APITOKEN_R_WRONG_USER;
	if (!hostid_allows(sc->host, rec->hosts, rec->n_hosts))
		return APITOKEN_R_HOST;
	if (!service_allowed(rec, req->service, sc->aliases))
		return APITOKEN_R_SERVICE;
	if (!source_allowed(rec, req->rhost && *req->rhost ? req->rhost : NULL))
		return APITOKEN_R_SOURCE;
	return APITOKEN_ACCEPTED;
}

enum apitoken_reason
apitoken_record_usable(const struct apitoken_config *cfg,
    const struct apitoken_record *rec, const struct apitoken_request *req)
{
	struct scope sc = { config_aliases(cfg), config_hostid(cfg) };

	if (apitoken_replica_stale(cfg, req->now ? req->now : time(NULL)))
		return APITOKEN_R_STALE;
	return policy(rec, req, &sc, 0);
}

static enum apitoken_reason
verify_parsed(struct apitoken_store *store, const struct apitoken_token *t,
    const struct apitoken_request *req, int any_user,
    struct apitoken_result *res)
{
	struct scope sc = { store_aliases(store), store_hostid(store) };
	struct apitoken_record *rec = NULL;
	char hash[APITOKEN_HASH_MAX];
	int r;

	memcpy(res->id, t->id, sizeof(res->id));
	if (store_replica_stale(store, req->now ? req->now : time(NULL),
	    res->detail, sizeof(res->detail))) {
		res->reason = APITOKEN_R_STALE;
		res->error = APITOKEN_OK;
		goto out;
	}
	r = apitoken_store_find(store, t->id, &rec, res->detail,
	    sizeof(res->detail));
	if (r == APITOKEN_ERR_NOT_FOUND) {
		res->reason = APITOKEN_R_UNKNOWN;
		goto out;
	}
	if (r != APITOKEN_OK) {
		res->error = r;
		goto out;	/* reason stays STORE_ERROR */
	}
	copy_meta(res, rec);
	if ((r = apitoken_hash(t, hash)) != APITOKEN_OK) {
		res->error = r;
		goto out;
	}
	if (strlen(rec->hash) != strlen(hash) ||
	    !crypto_equal(hash, rec->hash, strlen(hash)))
		res->reason = APITOKEN_R_WRONG_SECRET;
	else
		res->reason = policy(rec, req, &sc, any_user);
out:
	apitoken_wipe(hash, sizeof(hash));
	apitoken_record_free(rec);
	return res->reason;
}

/* Format check; sets res for a malformed token.  1 if parsed. */
static int
parse_into(const char *prefix, const char *token, size_t len,
    struct apitoken_token *t, struct apitoken_result *res)
{
	res->format = apitoken_token_parse(prefix, token, len, t);
	if (res->format == APITOKEN_FMT_OK)
		return 1;
	res->reason = res->format == APITOKEN_FMT_CHECKSUM ?
	    APITOKEN_R_BAD_CHECKSUM : APITOKEN_R_MALFORMED;
	return 0;
}

/* A claimed user is required, unless any_user, which requires none (a
 * caller mixing the two up fails closed). */
static int
request_ok(const struct apitoken_request *req, int any_user,
    struct apitoken_result *res)
{
	memset(res, 0, sizeof(*res));
	res->reason = APITOKEN_R_STORE_ERROR;
	res->error = APITOKEN_ERR_INTERNAL;
	if (!any_user && (req->user == NULL || req->user[0] == '\0')) {
		snprintf(res->detail, sizeof(res->detail), "no user given");
		return 0;
	}
	if (any_user && req->user != NULL) {
		snprintf(res->detail, sizeof(res->detail),
		    "a user given to verify_owner");
		return 0;
	}
	res->error = APITOKEN_OK;
	return 1;
}

static enum apitoken_reason
verify_store(struct apitoken_store *store, const char *token, size_t len,
    const struct apitoken_request *req, int any_user,
    struct apitoken_result *res)
{
	struct apitoken_token t;

	memset(&t, 0, sizeof(t));
	if (request_ok(req, any_user, res) &&
	    parse_into(store_prefix(store), token, len, &t, res))
		verify_parsed(store, &t, req, any_user, res);
	apitoken_token_clear(&t);
	return res->reason;
}

enum apitoken_reason
apitoken_verify(struct apitoken_store *store, const char *token, size_t len,
    const struct apitoken_request *req, struct apitoken_result *res)
{
	return verify_store(store, token, len, req, 0, res);
}

enum apitoken_reason
apitoken_verify_owner(struct apitoken_store *store, const char *token,
    size_t len, const struct apitoken_request *req,
    struct apitoken_result *res)
{
	return verify_store(store, token, len, req, 1, res);
}

enum apitoken_reason
apitoken_verify_once(const struct apitoken_config *cfg, const char *token,
    size_t len, const struct apitoken_request *req,
    struct apitoken_result *res)
{
	struct apitoken_store *store = NULL;
	struct apitoken_token t;
	int r;

	memset(&t, 0, sizeof(t));
	if (!request_ok(req, 0, res) ||
	    !parse_into(apitoken_config_token_prefix(cfg), token, len, &t, res))
		goto out;
	r = apitoken_store_open(cfg, &store, res->detail, sizeof(res->detail));
	if (r != APITOKEN_OK) {
		memcpy(res->id, t.id, sizeof(res->id));
		res->error = r;
		goto out;
	}
	verify_parsed(store, &t, req, 0, res);
out:
	apitoken_token_clear(&t);
	apitoken_store_close(store);
	return res->reason;
}
