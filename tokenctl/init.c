/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * init.c - tokenctl init: create the store's directory and state_dir
 * (0700) and an empty store (0600, through the library's
 * APITOKEN_TXN_CREATE) when missing.  Idempotent: an existing store is
 * opened and checked, never rewritten; an existing directory with an
 * unsafe owner or mode is reported, never changed.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tokenctl.h"

/* The library's rule: owned by root or us, not group/other-writable. */
static int
dir_safe(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		ctl_err("%s: %s", path, strerror(errno));
		return CTL_EXIT_SYSTEM;
	}
	if (!S_ISDIR(st.st_mode)) {
		ctl_err("%s: unsafe: not a directory%s", path,
		    S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
		return CTL_EXIT_STORE;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		ctl_err("%s: unsafe: must be owned by root and not writable "
		    "by group or others (fix it by hand)", path);
		return CTL_EXIT_STORE;
	}
	return CTL_EXIT_OK;
}

/* mkdir -p with mode 0700 for what is created; the last one is checked. */
static int
make_dirs(const char *path)
{
	char buf[PATH_MAX];
	size_t i, len = strlen(path);

	if (len == 0 || len >= sizeof(buf) || path[0] != '/') {
		ctl_err("%s: not an absolute path", path);
		return CTL_EXIT_CONFIG;
	}
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) == 0)
			printf("created directory %s\n", buf);
		else if (errno != EEXIST) {
			ctl_err("cannot create %s: %s", buf, strerror(errno));
			return CTL_EXIT_SYSTEM;
		}
		buf[i] = path[i];
	}
	return dir_safe(path);
}

static int
store_dir(const char *store, char *dir, size_t size)
{
	const char *slash = strrchr(store, '/');

	if (slash == NULL || (size_t)(slash - store) >= size) {
		ctl_err("%s: not an absolute path", store);
		return CTL_EXIT_CONFIG;
	}
	if (slash == store)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - store), store);
	return CTL_EXIT_OK;
}

/* With postgresql the store file is apitokend's replica: an empty one
 * here (its first snapshot replaces it), PostgreSQL untouched, so that
 * a host whose role may only read can run it. */
static int
init_replica_store(struct ctl *ctl, const char *path)
{
	struct apitoken_txn *txn = NULL;
	char err[CTL_ERR_MAX] = "";
	int r;

	r = apitoken_txn_begin(ctl->cfg, APITOKEN_TXN_CREATE, &txn, err,
	    sizeof(err));
	if (r == APITOKEN_OK)
		r = apitoken_txn_commit(txn, err, sizeof(err));
	apitoken_txn_free(txn);
	if (r != APITOKEN_OK)
		return ctl_lib_fail(r, "cannot create the store", err);
	ctl_audit(ctl, "init store=%s", ctl_esc(path, 0));
	printf("created store %s\n", path);
	return CTL_EXIT_OK;
}

static int
init_store(struct ctl *ctl)
{
	struct apitoken_store *store = NULL;
	struct ctl_db db;
	const char *path = apitoken_config_store(ctl->cfg);
	char err[CTL_ERR_MAX] = "";
	int r;

	r = apitoken_store_open(ctl->cfg, &store, err, sizeof(err));
	if (r == APITOKEN_OK) {
		printf("store %s exists (%zu records)\n", path,
		    apitoken_store_count(store));
		apitoken_store_close(store);
		return CTL_EXIT_OK;
	}
	if (r != APITOKEN_ERR_STORE_MISSING)
		return ctl_lib_fail(r, "existing store", err);
	if (pg_mode(ctl))
		return init_replica_store(ctl, path);
	if ((r = db_begin(ctl, APITOKEN_TXN_CREATE, &db)) == CTL_EXIT_OK &&
	    (r = db_commit(ctl, &db)) == CTL_EXIT_OK) {
		ctl_audit(ctl, "init store=%s", ctl_esc(path, 0));
		printf("created store %s\n", path);
	}
	db_free(&db);
	return r;
}

int
cmd_init(struct ctl *ctl, int argc, char **argv)
{
	static const struct ctl_opt o[] = { { NULL, NULL, NULL } };
	char dir[PATH_MAX];
	int r;

	if ((r = ctl_options("init", argc, argv, o)) != CTL_GO)
		return r;
	if (optind != argc) {
		ctl_err("unexpected argument '%s'", argv[optind]);
		return ctl_help("init", 0);
	}
	umask(077);
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK ||
	    (r = store_dir(apitoken_config_store(ctl->cfg), dir,
	    sizeof(dir))) != CTL_EXIT_OK ||
	    (r = make_dirs(dir)) != CTL_EXIT_OK ||
	    (r = make_dirs(apitoken_config_state_dir(ctl->cfg))) != 0)
		return r;
	if (pg_mode(ctl))	/* the local store is apitokend's replica */
		printf("postgresql is configured: create the central store "
		    "with 'tokenctl db init'\n");
	return init_store(ctl);
}
