/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * verify_once - the smallest process that verifies one token, for the
 * peak-memory figure: load the config, apitoken_verify_once() the token
 * read from stdin for USER, print this process's VmHWM (peak RSS, KiB,
 * from /proc/self/status) and exit 0 if accepted, 1 if not.
 *
 * Then, to show what the peak is made of, it verifies the same token
 * again with the store held open (apitoken_store_open + apitoken_verify)
 * and prints RssFile (pages of mapped files: the store's and the
 * libraries') and RssAnon (heap, stack) before closing the store.
 *
 *   verify_once CONFIG USER < token
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apitoken.h"

/* A "Name:   N kB" line of /proc/self/status, in KiB, or -1. */
static long
status_kib(const char *name)
{
	char line[256];
	size_t n = strlen(name);
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			kib = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kib;
}

/* The same token with the store open: what the mapped store adds. */
static void
breakdown(const struct apitoken_config *cfg, const char *tok,
    const struct apitoken_request *req)
{
	struct apitoken_store *store = NULL;
	struct apitoken_result res;
	char err[512];

	if (apitoken_store_open(cfg, &store, err, sizeof(err)) != APITOKEN_OK)
		return;
	if (apitoken_verify(store, tok, strlen(tok), req, &res) ==
	    APITOKEN_ACCEPTED) {
		printf("open_rssfile_kib %ld\n", status_kib("RssFile"));
		printf("open_rssanon_kib %ld\n", status_kib("RssAnon"));
	}
	apitoken_store_close(store);
}

int
main(int argc, char **argv)
{
	struct apitoken_config *cfg = NULL;
	struct apitoken_request req = { NULL, "sshd", "10.1.2.3", 0 };
	struct apitoken_result res;
	enum apitoken_reason why;
	char tok[APITOKEN_INPUT_MAX + 2] = "", err[512] = "";

	if (argc != 3) {
		fprintf(stderr, "usage: verify_once CONFIG USER < token\n");
		return 2;
	}
	req.user = argv[2];
	if (fgets(tok, sizeof(tok), stdin) == NULL)
		return 2;
	tok[strcspn(tok, "\n")] = '\0';
	if (apitoken_config_load(argv[1], &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "verify_once: %s\n", err);
		return 2;
	}
	why = apitoken_verify_once(cfg, tok, strlen(tok), &req, &res);
	printf("vmhwm_kib %ld\n", status_kib("VmHWM"));
	if (why == APITOKEN_ACCEPTED)
		breakdown(cfg, tok, &req);
	apitoken_wipe(tok, sizeof(tok));
	apitoken_config_free(cfg);
	if (why != APITOKEN_ACCEPTED)
		fprintf(stderr, "verify_once: %s %s\n", apitoken_reason_str(why),
		    res.detail);
	return why == APITOKEN_ACCEPTED ? 0 : 1;
}
