/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_store.c - a store file (and the record-line codec, and a last-use
 * file) from arbitrary bytes.
 *
 * Each input is written as the store of a private 0700 temp dir, then:
 *  - apitoken_record_parse on the raw input and on each of its lines,
 *    with the round-trip rule (format(parse(x)) parses to the same record
 *    and formats to the same bytes; CVE-2013-7322);
 *  - apitoken_store_open, _count, _foreach, _find of the ids the input
 *    names and of absent ids, and apitoken_verify of a token with a known
 *    secret for every record, against an independent policy oracle;
 *  - apitoken_txn_begin (the writer's full validation), which must
 *    agree with open + foreach, and whose
 *    view must equal the reader's;
 *  - apitoken_lastuse_get on the same bytes as a last-use file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "fuzz_oracle.h"

#define MAX_RECS 64
#define MAX_IDS 64
#define NOW ((time_t)1700000000)	/* 2023-11-14T22:13:20Z */

/* The secret make-corpus.sh hashes into some seed records. */
static const char SECRET[] = "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3t00";

static struct apitoken_config *cfg;
static char lastuse_path[700];

struct recs {
	struct apitoken_record *r[MAX_RECS];
	size_t n, seen;
};

static void
recs_free(struct recs *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		apitoken_record_free(c->r[i]);
	c->n = c->seen = 0;
}

static int
collect(struct apitoken_record **rec, void *ctx)
{
	struct recs *c = ctx;

	FUZZ_ASSERT(*rec != NULL, "foreach passed a NULL record");
	c->seen++;
	if (c->n < MAX_RECS) {
		c->r[c->n++] = *rec;	/* steal it */
		*rec = NULL;
	}
	return 0;
}

/* Ids named by the input: the first 12 bytes of every line, if valid. */
static size_t
input_ids(const char *s, size_t n, char ids[MAX_IDS][APITOKEN_ID_LEN + 1])
{
	const char *p = s, *end = s + n, *nl;
	size_t k = 0;

	while (p < end && k < MAX_IDS) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (nl - p >= APITOKEN_ID_LEN) {
			memcpy(ids[k], p, APITOKEN_ID_LEN);
			ids[k][APITOKEN_ID_LEN] = '\0';
			if (apitoken_id_valid(ids[k]) == 0)
				k++;
		}
		p = nl + 1;
	}
	return k;
}

static void
lines_roundtrip(const char *s, size_t n)
{
	const char *p = s, *end = s + n, *nl;
	char *line;
	size_t len, k = 0;

	(void)fuzz_record_roundtrip(s, n);
	while (p < end && k++ < MAX_IDS) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl ? nl : end) - p);
		/* an exact-size copy, so ASan sees any over-read */
		if ((line = malloc(len ? len : 1)) != NULL) {
			memcpy(line, p, len);
			(void)fuzz_record_roundtrip(line, len);
			free(line);
		}
		p = nl ? nl + 1 : end;
	}
}

/* The verify policy, written from pam_apitoken(8)'s list, for one record. */
static enum apitoken_reason
expected_reason(const struct apitoken_record *r, const char *hash,
    const struct apitoken_request *req)
{
	size_t i;
	int in = 0;

	if (strcmp(r->hash, hash) != 0)
		return APITOKEN_R_WRONG_SECRET;
	if (r->status == APITOKEN_DISABLED)
		return APITOKEN_R_DISABLED;
	if (r->status == APITOKEN_REVOKED)
		return APITOKEN_R_REVOKED;
	if (r->expires != 0 && r->expires <= (int64_t)req->now)
		return APITOKEN_R_EXPIRED;
	if (strcmp(r->user, req->user) != 0)
		return APITOKEN_R_WRONG_USER;
	for (i = 0; i < r->n_services; i++)
		in |= req->service && strcmp(r->services[i], req->service) == 0;
	if (r->n_services > 0 && !in)
		return APITOKEN_R_SERVICE;
	if (r->n_from == 0)
		return APITOKEN_ACCEPTED;
	if (req->rhost == NULL || apitoken_addr_valid(req->rhost) != 0)
		return APITOKEN_R_SOURCE;
	for (i = 0; i < r->n_from; i++)
		if (apitoken_cidr_match(r->from[i], req->rhost) == 1)
			return APITOKEN_ACCEPTED;
	return APITOKEN_R_SOURCE;
}

static void
request_for(size_t i, struct apitoken_request *req)
{
	static const char *const hosts[] = { "10.1.2.3", "2001:db8::7", NULL,
	    "::ffff:10.1.2.3", "host.example" };
	static const char *const services[] = { "sshd", "sudo", NULL };

	memset(req, 0, sizeof(*req));
	req->user = i % 4 == 3 ? "root" : "deploy";
	req->service = services[i % 3];
	req->rhost = hosts[i % 5];
	req->now = NOW;
}

/* Verify "apitok_<id>_<SECRET><crc>" and compare with the oracle. */
static void
verify_id(struct apitoken_store *st, const char *id, size_t i)
{
	struct apitoken_request req;
	struct apitoken_result res;
	struct apitoken_record *rec = NULL;
	struct apitoken_token t;
	char tok[APITOKEN_TOKEN_MAX + 1], hash[APITOKEN_HASH_MAX];
	enum apitoken_reason got, want;
	int n, r;

	n = snprintf(tok, sizeof(tok), "apitok_%s_%s", id, SECRET);
	oracle_crc6(tok, (size_t)n, tok + n);
	tok[n + 6] = '\0';
	request_for(i, &req);
	got = apitoken_verify(st, tok, (size_t)n + 6, &req, &res);
	FUZZ_ASSERT(got == res.reason, "verify return != res.reason");
	r = apitoken_store_find(st, id, &rec, NULL, 0);
	if (r != 0) {
		FUZZ_ASSERT(got != APITOKEN_ACCEPTED,
		    "accepted %s although store_find says %d", id, r);
		FUZZ_ASSERT(r != APITOKEN_ERR_NOT_FOUND ||
		    got == APITOKEN_R_UNKNOWN, "absent id %s gave %s", id,
		    apitoken_reason_str(got));
		return;
	}
	memset(&t, 0, sizeof(t));
	memcpy(t.id, id, APITOKEN_ID_LEN);
	memcpy(t.secret, SECRET, APITOKEN_SECRET_LEN);
	FUZZ_ASSERT(apitoken_hash(&t, hash) == 0, "hash");
	want = expected_reason(rec, hash, &req);
	FUZZ_ASSERT(got == want, "verify(%s) = %s, oracle says %s", id,
	    apitoken_reason_str(got), apitoken_reason_str(want));
	FUZZ_ASSERT(strcmp(res.id, id) == 0, "result id %s != %s", res.id, id);
	FUZZ_ASSERT(strncmp(res.user, rec->user, APITOKEN_USER_MAX) == 0,
	    "result user");
	apitoken_record_free(rec);
}

/* Every record foreach saw is found by id, identical. */
static void
find_agrees(struct apitoken_store *st, const struct recs *c)
{
	struct apitoken_record *rec;
	char err[512];
	size_t i;
	int r;

	for (i = 0; i < c->n; i++) {
		rec = NULL;
		err[0] = '\0';
		r = apitoken_store_find(st, c->r[i]->id, &rec, err, sizeof(err));
		FUZZ_ASSERT(r == 0, "foreach saw %s but find says %d: %s",
		    c->r[i]->id, r, err);
		FUZZ_ASSERT(fuzz_record_equal(rec, c->r[i]),
		    "find(%s) differs from foreach", c->r[i]->id);
		apitoken_record_free(rec);
	}
}

static int
has_id(const struct recs *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->r[i]->id, id) == 0)
			return 1;
	return 0;
}

/* store_open + foreach + finds; returns 1 if the whole store is valid. */
static int
reader(char ids[MAX_IDS][APITOKEN_ID_LEN + 1], size_t nids, struct recs *c)
{
	static const char *const absent[] = { "000000000000", "zzzzzzzzzzzz",
	    "M00000000000" };
	struct apitoken_store *st = NULL;
	struct apitoken_record *rec;
	char err[512] = "";
	size_t i, count;
	int r, valid;

	r = apitoken_store_open(cfg, &st, err, sizeof(err));
	if (r != 0) {
		FUZZ_ASSERT(st == NULL && r < 0 && err[0] != '\0',
		    "store_open failed (%d) without a message or cleared *storep",
		    r);
		return 0;
	}
	count = apitoken_store_count(st);
	r = apitoken_store_foreach(st, collect, c, err, sizeof(err));
	valid = r == 0;
	if (valid) {
		FUZZ_ASSERT(c->seen == count, "foreach saw %zu, count %zu",
		    c->seen, count);
		find_agrees(st, c);
	}
	for (i = 0; i < nids + 3; i++) {
		const char *id = i < nids ? ids[i] : absent[i - nids];

		rec = NULL;
		r = apitoken_store_find(st, id, &rec, err, sizeof(err));
		FUZZ_ASSERT(r != 0 || (rec && strcmp(rec->id, id) == 0),
		    "find(%s) returned another record", id);
		/* in a valid store, find answers exactly what foreach saw */
		if (valid && c->seen == c->n)
			FUZZ_ASSERT((r == 0) == has_id(c, id) &&
			    (r == 0 || r == APITOKEN_ERR_NOT_FOUND),
			    "valid store: find(%s) = %d, foreach %s it", id, r,
			    has_id(c, id) ? "saw" : "did not see");
		apitoken_record_free(rec);
		verify_id(st, id, i);
	}
	apitoken_store_close(st);
	return valid;
}

/* txn_foreach gives exactly want[0..nwant) (the first ones, if more). */
static void
check_view(struct apitoken_txn *txn, struct apitoken_record *const *want,
    size_t nwant, size_t seen, const char *when)
{
	struct recs c = { .n = 0 };
	char err[512] = "";
	size_t i;
	int r;

	r = apitoken_txn_foreach(txn, collect, &c, err, sizeof(err));
	FUZZ_ASSERT(r == 0 && c.seen == seen, "txn_foreach (%s) = %d, %zu/%zu",
	    when, r, c.seen, seen);
	for (i = 0; i < c.n && i < nwant; i++)
		FUZZ_ASSERT(fuzz_record_equal(c.r[i], want[i]),
		    "txn view (%s) differs from the reader at %s", when,
		    c.r[i]->id);
	recs_free(&c);
}

/* A valid record that no seed holds, for staging into an empty store. */
static struct apitoken_record *
new_record(void)
{
	struct apitoken_record *r = apitoken_record_new();
	char hash[APITOKEN_HASH_MAX];
	struct apitoken_token t;

	FUZZ_ASSERT(r != NULL, "record_new");
	memset(&t, 0, sizeof(t));
	memcpy(t.id, "N0000000000n", APITOKEN_ID_LEN);
	memcpy(t.secret, SECRET, APITOKEN_SECRET_LEN);
	FUZZ_ASSERT(apitoken_hash(&t, hash) == 0, "hash");
	memcpy(r->id, t.id, sizeof(r->id));
	FUZZ_ASSERT(apitoken_record_set(&r->user, "deploy") == 0 &&
	    apitoken_record_set(&r->hash, hash) == 0 &&
	    apitoken_record_set(&r->label, "new") == 0 &&
	    apitoken_record_set(&r->created_by, "fuzz") == 0, "record_set");
	r->created = r->updated = NOW;
	return r;
}

/*
 * The writer's view: txn_begin (full validation) must agree with the
 * reader, and its view must equal the reader's, before and after staging
 * a change (a no-op replace of the first record, or an insert into an
 * empty store).  Regressions: crashers/store/ (see its README).
 */
static void
writer(int reader_valid, const struct recs *rc,
    char ids[MAX_IDS][APITOKEN_ID_LEN + 1], size_t nids)
{
	struct apitoken_txn *txn = NULL;
	struct apitoken_record *rec, *add = NULL;
	char err[512] = "";
	size_t i;
	int r;

	r = apitoken_txn_begin(cfg, 0, &txn, err, sizeof(err));
	FUZZ_ASSERT((r == 0) == reader_valid,
	    "txn_begin = %d (%s) but the reader found the store %s", r, err,
	    reader_valid ? "valid" : "invalid");
	if (r != 0)
		return;
	check_view(txn, rc->r, rc->n, rc->seen, "nothing staged");
	if (rc->n > 0) {
		r = apitoken_txn_replace(txn, rc->r[0], err, sizeof(err));
		FUZZ_ASSERT(r == 0, "replace of a parsed record: %d %s", r, err);
		check_view(txn, rc->r, rc->n, rc->seen, "no-op replace");
	} else {
		add = new_record();
		r = apitoken_txn_insert(txn, add, err, sizeof(err));
		FUZZ_ASSERT(r == 0, "insert into an empty store: %d %s", r, err);
		check_view(txn, &add, 1, 1, "insert");
	}
	for (i = 0; i < nids; i++) {
		rec = NULL;
		r = apitoken_txn_find(txn, ids[i], &rec, err, sizeof(err));
		FUZZ_ASSERT((r == 0) == has_id(rc, ids[i]) || rc->seen > rc->n,
		    "txn_find(%s) = %d disagrees with the reader", ids[i], r);
		FUZZ_ASSERT(r != 0 || strcmp(rec->id, ids[i]) == 0,
		    "txn_find(%s) returned another record", ids[i]);
		apitoken_record_free(rec);
	}
	apitoken_record_free(add);
	apitoken_txn_free(txn);
}

static void
lastuse(const uint8_t *data, size_t size)
{
	struct apitoken_lastuse lu;
	char when[32];
	int r;

	tl_write_file(lastuse_path, data, size, 0600);
	r = apitoken_lastuse_get(cfg, "L00000000000", &lu, NULL, 0);
	if (r != 0 || lu.when == 0)
		return;
	FUZZ_ASSERT(lu.when > 0 && apitoken_time_format(lu.when, when,
	    sizeof(when)) == 0, "last-use time %lld", (long long)lu.when);
	FUZZ_ASSERT(lu.service[0] == '\0' ||
	    apitoken_service_valid(lu.service) == 0, "last-use service");
	FUZZ_ASSERT(lu.rhost[0] == '\0' || apitoken_addr_valid(lu.rhost) == 0,
	    "last-use address");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ids[MAX_IDS][APITOKEN_ID_LEN + 1];
	struct recs c = { .n = 0 };
	size_t nids;
	char *s;
	int valid;

	if ((s = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	lines_roundtrip(s, size);
	tl_write_file(fuzz_env()->store, data, size, 0600);
	nids = input_ids(s, size, ids);
	valid = reader(ids, nids, &c);
	writer(valid, &c, ids, nids);
	recs_free(&c);
	lastuse(data, size);
	free(s);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const struct fuzz_env *e = fuzz_env();

	(void)argc;
	(void)argv;
	cfg = fuzz_env_config();
	snprintf(lastuse_path, sizeof(lastuse_path), "%s/lastuse", e->state);
	if (mkdir(lastuse_path, 0700) != 0 && errno != EEXIST)
		abort();
	snprintf(lastuse_path, sizeof(lastuse_path),
	    "%s/lastuse/L00000000000", e->state);
	return 0;
}
