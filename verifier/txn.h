/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * txn.h - the write transaction's state, shared by txn.c (lock, staging,
 * commit), txnindex.c (what the rules look up in the view) and rules.c
 * (the store-wide rules and the cascades).  Not installed.
 */
#ifndef APITOKEN_TXN_H
#define APITOKEN_TXN_H

#include <sys/types.h>

#include "internal.h"

struct staged {
	char id[APITOKEN_ID_LEN + 1];
	struct apitoken_record *rec;	/* NULL: delete */
};

/* What the rules need of one record of the store as begin read it (the
 * original; a staged change overrides it).  Never changes after begin. */
struct ent {
	char parent[APITOKEN_ID_LEN];	/* not NUL-terminated; [0] 0: none */
	unsigned char status;		/* enum apitoken_status */
	int64_t expires;
	uint64_t uh, ulh;		/* hash of user; of (user, label) */
};

struct apitoken_txn {
	char *path;
	const char *base;	/* last component of path */
	int dirfd, lockfd;
	int storefd;		/* the store mapped in m, or -1 */
	int have_store;
	int trusted;		/* MIRROR on this process's own file: the
				   records were not decoded (txn.c) */
	int flags;		/* APITOKEN_TXN_*, as begin got them */
	struct stat st;		/* the store replaced (mode, group kept) */
	struct store_map m;
	size_t *lines;		/* offsets of record lines in m */
	struct ent *ents;	/* one per line; NULL until txn_need_ents
				   if begin trusted its own store (txn.c) */
	size_t nlines;
	struct staged *sv;	/* staged changes */
	size_t nsv, capsv;
	size_t *slots;		/* hash of sv: index + 1, 0 = empty */
	size_t nslots;
	int sorted, done;
	/* txnindex.c: built on first need from ents (never stale) */
	uint32_t *bylabel;	/* live originals by ulh: line + 1 */
	size_t lcap;
	unsigned labelq;	/* label look-ups so far */
	uint32_t *slabel;	/* staged records by ulh: sv index + 1;
				   an entry may be stale: check it */
	size_t slcap, nsl;
	uint32_t *kids;		/* lines with a parent, by parent */
	size_t nkids;
	int kids_ok;
};

/* One record of the view: an original line's entry or a staged record. */
struct vrec {
	char id[APITOKEN_ID_LEN + 1];
	char parent[APITOKEN_ID_LEN + 1];
	enum apitoken_status status;
	int64_t expires;
	const struct apitoken_record *staged;	/* NULL: original */
	ssize_t orig;				/* line, or -1 */
};

/* txn.c */
struct staged *staged_find(const struct apitoken_txn *t, const char *id);
ssize_t orig_find(const struct apitoken_txn *t, const char *id);
int orig_parse(const struct apitoken_txn *t, size_t i,
    struct apitoken_record **recp);
int txn_need_ents(struct apitoken_txn *t);
int txn_put(struct apitoken_txn *t, const struct apitoken_record *rec,
    int want_exists, char *err, size_t errlen);

/* txnindex.c */
uint64_t txn_str_hash(const char *s);
uint64_t txn_label_hash(const char *user, const char *label);
void txn_ent_set(struct ent *e, const struct apitoken_record *r);
void txn_index_free(struct apitoken_txn *t);
/* index sv[i] by its (user, label); after a reorder of sv, all of it */
int txn_staged_label_add(struct apitoken_txn *t, size_t i);
int txn_staged_label_rebuild(struct apitoken_txn *t);
/* 1 and *v if id is in the view, else 0 */
int txn_look(const struct apitoken_txn *t, const char *id, struct vrec *v);
/* 1 if a non-revoked record of (user, label) other than except exists
 * (its id in owner), 0 if none, <0 on error */
int txn_label_owner(struct apitoken_txn *t, const char *user,
    const char *label, const char *except, char owner[APITOKEN_ID_LEN + 1]);
/* fn(id, ctx) for every record of the view whose parent is pid */
int txn_children(struct apitoken_txn *t, const char *pid,
    apitoken_id_fn fn, void *ctx);
/* fn(id, ctx) for every record of user, in the view's order */
int txn_user_records(struct apitoken_txn *t, const char *user,
    apitoken_id_fn fn, void *ctx);

/* rules.c */
int rules_check_put(struct apitoken_txn *t, const struct apitoken_record *rec,
    int is_insert, char *err, size_t errlen);
int rules_check_delete(struct apitoken_txn *t, const char *id, char *err,
    size_t errlen);

#endif
