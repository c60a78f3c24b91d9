/*
 * verify_once - the smallest process that verifies one token, for the
 * peak-memory figure: load the config, apitoken_verify_once() the token
 * read from stdin for USER, print this process's VmHWM (peak RSS, KiB,
 * from /proc/self/status) and exit 0 if accepted, 1 if not.
 *
 *   verify_once CONFIG USER < token
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apitoken.h"

static long
vm_hwm_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
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
	apitoken_wipe(tok, sizeof(tok));
	apitoken_config_free(cfg);
	printf("vmhwm_kib %ld\n", vm_hwm_kib());
	if (why != APITOKEN_ACCEPTED)
		fprintf(stderr, "verify_once: %s %s\n", apitoken_reason_str(why),
		    res.detail);
	return why == APITOKEN_ACCEPTED ? 0 : 1;
}
