/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * exports.c - pam_apitoken.so exports the PAM entry points and nothing
 * else (version script pam_apitoken.map): dlsym finds every pam_sm_* and
 * none of the library's or the module's own functions, and the dynamic
 * symbol table lists no other defined symbol.  Both builds are linked
 * with -z nodelete: pam_end's dlclose leaves them loaded (BENCHMARKS.md,
 * "The module's fixed cost").
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "util.h"

Test(exports, pam_sm_present_internals_absent)
{
	static const char *const hidden[] = {
		"apitoken_verify", "apitoken_verify_once", "apitoken_config_load",
		"apitoken_store_open", "apitoken_token_parse", "apitoken_wipe",
		"args_parse", "decision_pam_code", "decision_log",
		"input_get_token", "log_escape", "codec_parse", "set_err",
		"crypto_equal", "nettle_sha256_init", "nettle_sha256_digest",
		"nettle_memeql_sec",
	};
	void *h = dlopen(MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
	size_t i;

	cr_assert(h != NULL, "dlopen: %s", dlerror());
	for (i = 0; i < PAM_SM_COUNT; i++)
		cr_assert(dlsym(h, pam_sm_names[i]) != NULL, "%s not exported",
		    pam_sm_names[i]);
	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		cr_assert(dlsym(h, hidden[i]) == NULL, "%s is exported",
		    hidden[i]);
	dlclose(h);
}

Test(exports, nothing_else_in_the_dynamic_symbol_table)
{
	assert_exports_only_pam_sm(MODULE_PATH);
}

/* dlclose, as pam_end does, leaves the module loaded: a second dlopen
 * finds it (RTLD_NOLOAD) instead of mapping and relocating it again. */
static void
assert_stays_loaded(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL), *again;

	cr_assert(h != NULL, "dlopen %s: %s", path, dlerror());
	cr_assert(dlclose(h) == 0, "dlclose: %s", dlerror());
	again = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	cr_assert(again != NULL, "%s was unloaded by dlclose (not linked "
	    "with -z nodelete)", path);
	cr_assert(dlsym(again, "pam_sm_authenticate") != NULL);
	dlclose(again);
}

Test(exports, dlclose_leaves_the_module_loaded)
{
	assert_stays_loaded(MODULE_PATH);
	assert_stays_loaded(STATIC_MODULE_PATH);
}
