/*
 * exports.c - pam_apitoken.so exports the PAM entry points and nothing
 * else (version script pam_apitoken.map): dlsym finds every pam_sm_* and
 * none of the library's or the module's own functions, and the dynamic
 * symbol table lists no other defined symbol.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "util.h"

static const char *const wanted[] = {
	"pam_sm_authenticate", "pam_sm_setcred", "pam_sm_acct_mgmt",
	"pam_sm_chauthtok",
};

Test(exports, pam_sm_present_internals_absent)
{
	static const char *const hidden[] = {
		"apitoken_verify", "apitoken_verify_once", "apitoken_config_load",
		"apitoken_store_open", "apitoken_token_parse", "apitoken_wipe",
		"args_parse", "decision_pam_code", "decision_log",
		"input_get_token", "log_escape", "codec_parse", "set_err",
		"crypto_equal",
	};
	void *h = dlopen(MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	cr_assert(h != NULL, "dlopen: %s", dlerror());
	for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		cr_assert(dlsym(h, wanted[i]) != NULL, "%s not exported",
		    wanted[i]);
	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		cr_assert(dlsym(h, hidden[i]) == NULL, "%s is exported",
		    hidden[i]);
	dlclose(h);
}

static int
is_wanted(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		if (strcmp(name, wanted[i]) == 0)
			return 1;
	return 0;
}

Test(exports, nothing_else_in_the_dynamic_symbol_table)
{
	const char *argv[] = { "/usr/bin/nm", "-D", "--defined-only",
	    MODULE_PATH, NULL };
	char out[16384], *save = NULL, *line;
	int found = 0;

	cr_assert_eq(run_cmd(argv, NULL, NULL, out, sizeof(out), 20), 0,
	    "nm: %s", out);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char addr[64], type[8], name[256];

		if (sscanf(line, "%63s %7s %255s", addr, type, name) != 3)
			continue;
		cr_assert(is_wanted(name), "exported: %s", line);
		found++;
	}
	cr_assert_eq(found, 4, "%d pam_sm_* symbols", found);
}
