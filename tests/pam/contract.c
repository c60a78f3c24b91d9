/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * contract.c - library behaviour the module and its tests rely on, beyond
 * what tests/unit covers: the store a fresh install starts from.
 */
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "util.h"

/*
 * apitoken.h: "a missing store is an error unless APITOKEN_TXN_CREATE";
 * begin + commit with nothing staged is how an empty store is made
 * (tokenctl init).  It must work, also under UBSan.
 */
static struct fixture fx;

static void
setup(void)
{
	fx_setup(&fx);
}

static void
teardown(void)
{
	fx_teardown(&fx);
}

TestSuite(contract, .init = setup, .fini = teardown);

Test(contract, empty_create_transaction_makes_an_empty_store)
{
	struct apitoken_txn *txn = NULL;
	struct apitoken_store *store = NULL;
	char err[512];
	int r;

	cr_assert(unlink(fx.store) == 0);
	r = apitoken_txn_begin(fx.cfg, APITOKEN_TXN_CREATE, &txn, err,
	    sizeof(err));
	cr_assert(r == 0, "txn_begin: %s", err);
	r = apitoken_txn_commit(txn, err, sizeof(err));
	cr_assert(r == 0, "txn_commit: %s", err);
	apitoken_txn_free(txn);
	r = apitoken_store_open(fx.cfg, &store, err, sizeof(err));
	cr_assert(r == 0, "store_open: %s", err);
	cr_assert_eq(apitoken_store_count(store), 0);
	apitoken_store_close(store);
}
