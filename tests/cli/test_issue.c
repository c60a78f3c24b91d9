/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_issue.c - tokenctl init and issue (single and --batch).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <criterion/criterion.h>

#include "apitoken.h"
#include "helpers.h"

TestSuite(init, .fini = teardown_env);

Test(init, creates_dirs_and_store_safely_and_is_idempotent)
{
	struct run r;
	struct stat st;
	char *before, *after, dbdir[300];

	env_make(&E, NULL);
	ctl(&r, NULL, "init", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	cr_assert_eq(lstat(E.store, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600, "store mode %o", st.st_mode);
	snprintf(dbdir, sizeof(dbdir), "%s/db", E.dir);
	cr_assert_eq(lstat(dbdir, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	cr_assert_eq(lstat(E.state, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	before = tl_read_file(E.store, NULL);
	cr_assert_not_null(strstr(before, "#end\n"));
	ctl(&r, NULL, "init", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	after = tl_read_file(E.store, NULL);
	cr_assert_str_eq(before, after);
	free(before);
	free(after);
}

Test(init, refuses_unsafe_directory)
{
	struct run r;
	char dbdir[300];

	env_make(&E, NULL);
	snprintf(dbdir, sizeof(dbdir), "%s/db", E.dir);
	cr_assert_eq(mkdir(dbdir, 0777), 0);
	cr_assert_eq(chmod(dbdir, 0777), 0);
	ctl(&r, NULL, "init", NULL);
	cr_assert_eq(r.status, 4, "status %d: %s", r.status, r.err);
	cr_assert_not_null(strstr(r.err, dbdir), "%s", r.err);
	run_free(&r);
	cr_assert_null(tl_read_file(E.store, NULL));
}

Test(init, missing_store_is_a_store_error)
{
	struct run r;

	env_make(&E, NULL);
	ctl(&r, NULL, "list", NULL);
	cr_assert_eq(r.status, 4, "status %d", r.status);
	cr_assert_not_null(strstr(r.err, "init"), "%s", r.err);
	run_free(&r);
}

TestSuite(issue, .init = setup_env, .fini = teardown_env);

Test(issue, prints_token_once_and_records_metadata)
{
	const char *prefix = APITOKEN_DEFAULT_PREFIX;
	struct apitoken_token t;
	char *tok, id[13];
	json_t *j, *sv;

	tok = issue_token("root", "ci deploy", "--description", "the CI",
	    "--external-id", "EXT-42", "--service", "sshd", "--service",
	    "sudo", "--from", "10.0.0.0/8", "--from", "2001:db8::/32", NULL);
	cr_assert_eq(apitoken_token_parse(prefix, tok, strlen(tok), &t),
	    APITOKEN_FMT_OK, "not a token: %s", tok);
	token_id(tok, id);
	cr_assert_str_eq(t.id, id);
	j = show_json(id);
	cr_assert_str_eq(jget(j, "user"), "root");
	cr_assert_str_eq(jget(j, "label"), "ci deploy");
	cr_assert_str_eq(jget(j, "description"), "the CI");
	cr_assert_str_eq(jget(j, "external_id"), "EXT-42");
	cr_assert_str_eq(jget(j, "status"), "active");
	cr_assert_str_eq(jget(j, "created_by"), tl_user());
	sv = json_object_get(j, "services");
	cr_assert_eq(json_array_size(sv), 2);
	cr_assert_str_eq(json_string_value(json_array_get(sv, 0)), "sshd");
	cr_assert_str_eq(json_string_value(json_array_get(sv, 1)), "sudo");
	cr_assert_eq(json_array_size(json_object_get(j, "from")), 2);
	cr_assert_null(json_object_get(j, "hash"));
	cr_assert_null(json_object_get(j, "token"));
	json_decref(j);
	apitoken_token_clear(&t);
	free(tok);
}

Test(issue, json_output_has_id_and_token)
{
	struct run r;
	json_t *j;
	char id[13];

	ctl(&r, NULL, "issue", "nobody", "--label", "j", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(tl_count_lines(r.out), 1, "%s", r.out);
	j = out_json(&r);
	cr_assert(json_is_object(j));
	cr_assert_not_null(jget(j, "id"));
	cr_assert_not_null(jget(j, "token"));
	token_id(jget(j, "token"), id);
	cr_assert_str_eq(id, jget(j, "id"));
	cr_assert_str_eq(jget(j, "user"), "nobody");
	cr_assert_str_eq(jget(j, "label"), "j");
	json_decref(j);
	run_free(&r);
}

/* A SUDO_USER (and SUDO_UID) set by hand, not by sudo, is not believed
 * (issue 14 item 10): created_by is the real user. */
Test(issue, created_by_ignores_a_hand_set_sudo_user)
{
	struct run r;
	json_t *j;
	char id[13];

	E.sudo_user = "daemon";
	ctl(&r, NULL, "issue", "root", "--label", "s", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	token_id(r.out, id);
	run_free(&r);
	E.sudo_user = NULL;
	j = show_json(id);
	cr_assert_str_eq(jget(j, "created_by"), tl_user());
	json_decref(j);
}

Test(issue, default_expiry_comes_from_config)
{
	struct env e2 = { .sudo_user = NULL };
	struct run r;
	json_t *j;
	int64_t t;
	time_t now = time(NULL);

	env_init(&e2, "default_lifetime: 2d\nmax_lifetime: never\n");
	ctl_env(&e2, &r, NULL, "issue", "root", "--label", "d", "--json",
	    NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = out_json(&r);
	cr_assert_eq(apitoken_time_parse(jget(j, "expires"), &t), 0);
	cr_assert(t >= now + 2 * 86400 && t <= now + 2 * 86400 + 60,
	    "expires %s", jget(j, "expires"));
	json_decref(j);
	run_free(&r);
	ctl_env(&e2, &r, NULL, "issue", "root", "--label", "n", "--expires",
	    "never", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = out_json(&r);
	cr_assert(json_is_null(json_object_get(j, "expires")));
	json_decref(j);
	run_free(&r);
	env_clean(&e2);
}

/* A refused issue exits with status and leaves the store untouched. */
static void
refused(int status, const char *needle, ...)
{
	const char *argv[32];
	size_t n = 0;
	struct run r;
	va_list ap;
	char *before = tl_read_file(E.store, NULL), *after;

	argv[n++] = "tokenctl";
	argv[n++] = "issue";
	va_start(ap, needle);
	while ((argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	ctl_argv(&E, &r, NULL, argv, E.cfg);
	cr_assert_eq(r.status, status, "%s %s: status %d, stderr: %s",
	    argv[2], argv[3], r.status, r.err);
	cr_assert_str_eq(r.out, "", "stdout: %s", r.out);
	cr_assert_not_null(strstr(r.err, needle), "stderr lacks '%s': %s",
	    needle, r.err);
	after = tl_read_file(E.store, NULL);
	cr_assert_str_eq(before, after);
	free(before);
	free(after);
	run_free(&r);
}

Test(issue, failures_are_reported_and_write_nothing)
{
	free(issue_token("root", "taken", NULL));
	refused(1, "no such user 'nosuchuser'", "nosuchuser", "--label", "x",
	    NULL);
	refused(2, "--label is required", "root", NULL);
	refused(2, "missing USER", "--label", "x", NULL);
	refused(1, "already has a token labelled 'taken'", "root",
	    "--label", "taken", NULL);
	refused(2, "invalid --expires 'soon'", "root", "--label", "x",
	    "--expires", "soon", NULL);
	refused(2, "invalid --expires '2024-13-01'", "root", "--label", "x",
	    "--expires", "2024-13-01", NULL);
	refused(1, "in the past", "root", "--label", "x", "--expires",
	    "2001-01-01", NULL);
	refused(1, "max_lifetime", "root", "--label", "x", "--expires", "2y",
	    NULL);
	refused(1, "max_lifetime", "root", "--label", "x", "--expires",
	    "never", NULL);
	refused(2, "invalid --service 'ss h'", "root", "--label", "x",
	    "--service", "ss h", NULL);
	refused(2, "invalid --from '10.0.0.0/99'", "root", "--label", "x",
	    "--from", "10.0.0.0/99", NULL);
	refused(2, "invalid --label", "root", "--label", "a\tb", NULL);
	refused(2, "invalid --label", "root", "--label", "", NULL);
	refused(1, "--parent: no token with ID 'AAAAAAAAAAAA'", "root",
	    "--label", "x", "--parent", "AAAAAAAAAAAA", NULL);
	refused(2, "unknown option '--bogus'", "root", "--label", "x",
	    "--bogus", NULL);
	refused(2, "too many arguments", "root", "daemon", "--label", "x",
	    NULL);
}

Test(issue, label_is_unique_per_user_among_live_tokens)
{
	struct run r;
	char *t1, id[13];

	t1 = issue_token("root", "same", NULL);
	free(issue_token("nobody", "same", NULL));	/* other user: fine */
	token_id(t1, id);
	ctl(&r, NULL, "revoke", id, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	free(issue_token("root", "same", NULL));	/* old one revoked */
	free(t1);
}

Test(issue, derived_token_cannot_outlive_parent)
{
	struct run r;
	char *p, pid[13], *c, cid[13];
	json_t *pj, *cj;

	p = issue_token("root", "parent", "--expires", "10d", NULL);
	token_id(p, pid);
	ctl(&r, NULL, "issue", "root", "--label", "child", "--parent", pid,
	    "--expires", "20d", NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "cannot outlive"), "%s", r.err);
	run_free(&r);
	c = issue_token("root", "child", "--parent", pid, NULL);
	token_id(c, cid);
	pj = show_json(pid);
	cj = show_json(cid);
	cr_assert_str_eq(jget(cj, "parent"), pid);
	cr_assert_str_eq(jget(cj, "expires"), jget(pj, "expires"));
	cr_assert_eq(json_array_size(json_object_get(pj, "children")), 1);
	json_decref(pj);
	json_decref(cj);
	free(p);
	free(c);
}

/* ------------------------------------------------------------ batch */

static const char batch_ok[] =
	"{\"user\": \"root\", \"label\": \"b1\"}\n"
	"\n"
	"{\"user\": \"nobody\", \"label\": \"b2\", \"service\": [\"sshd\"],"
	" \"from\": [\"192.168.0.0/16\"], \"expires\": \"30d\","
	" \"description\": \"d\", \"external_id\": \"e\"}\n"
	"{\"user\": \"daemon\", \"label\": \"b3\"}\n";

Test(issue, batch_issues_every_line_in_order)
{
	struct run r;
	char path[320], id[13], *line, *save = NULL;
	const char *labels[] = { "b1", "b2", "b3" };
	json_t *j;
	int i = 0;

	snprintf(path, sizeof(path), "%s/batch.jsonl", E.dir);
	tl_write_str(path, batch_ok, 0644);
	ctl(&r, NULL, "issue", "--batch", path, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(tl_count_lines(r.out), 3, "%s", r.out);
	for (line = strtok_r(r.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), i++) {
		token_id(line, id);
		j = show_json(id);
		cr_assert_str_eq(jget(j, "label"), labels[i]);
		if (i == 1) {
			cr_assert_str_eq(jget(j, "user"), "nobody");
			cr_assert_str_eq(jget(j, "description"), "d");
			cr_assert_str_eq(json_string_value(json_array_get(
			    json_object_get(j, "services"), 0)), "sshd");
		}
		json_decref(j);
	}
	run_free(&r);
}

Test(issue, batch_from_stdin_with_json_output)
{
	struct run r;
	json_t *j;
	char *line, *save = NULL;
	int n = 0;

	ctl(&r, batch_ok, "issue", "--batch", "-", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(tl_count_lines(r.out), 3, "%s", r.out);
	for (line = strtok_r(r.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), n++) {
		j = json_loads(line, 0, NULL);
		cr_assert_not_null(j, "not JSON: %s", line);
		cr_assert_not_null(jget(j, "id"));
		cr_assert_not_null(jget(j, "token"));
		json_decref(j);
	}
	cr_assert_eq(n, 3);
	run_free(&r);
}

/* A batch whose line `bad_line` is wrong: nothing written. */
static void
batch_fails(const char *input, const char *needle)
{
	struct run r;
	char *before = tl_read_file(E.store, NULL), *after;

	ctl(&r, input, "issue", "--batch", "-", NULL);
	cr_assert_eq(r.status, 1, "status %d: %s", r.status, r.err);
	cr_assert_str_eq(r.out, "", "a token leaked out: %s", r.out);
	cr_assert_not_null(strstr(r.err, needle), "stderr lacks '%s': %s",
	    needle, r.err);
	after = tl_read_file(E.store, NULL);
	cr_assert_str_eq(before, after, "the store changed");
	free(before);
	free(after);
	run_free(&r);
}

Test(issue, batch_with_one_bad_line_writes_nothing)
{
	const char *good = "{\"user\": \"root\", \"label\": \"g1\"}\n"
	    "{\"user\": \"root\", \"label\": \"g2\"}\n";
	char buf[1024];

	free(issue_token("root", "existing", NULL));
	snprintf(buf, sizeof(buf), "%s{\"user\": \"nosuchuser\", "
	    "\"label\": \"x\"}\n", good);
	batch_fails(buf, "<stdin>:3: no such user 'nosuchuser'");
	snprintf(buf, sizeof(buf), "%s{\"user\": \"root\", \"label\": }\n",
	    good);
	batch_fails(buf, "<stdin>:3: invalid JSON");
	snprintf(buf, sizeof(buf), "%s{\"user\": \"root\", \"label\": \"z\","
	    " \"colour\": \"red\"}\n", good);
	batch_fails(buf, "<stdin>:3: unknown key 'colour' (known: user, "
	    "label, description, external_id, service, from, host, "
	    "expires, parent)");
	snprintf(buf, sizeof(buf), "%s{\"user\": \"root\", \"label\": \"g1\"}"
	    "\n", good);
	batch_fails(buf, "<stdin>:3: user root already has a token labelled "
	    "'g1'");
	snprintf(buf, sizeof(buf), "%s{\"user\": \"root\", \"label\": \"z\", "
	    "\"expires\": \"whenever\"}\n", good);
	batch_fails(buf, "<stdin>:3: invalid expires 'whenever'");
	snprintf(buf, sizeof(buf), "%s[1, 2]\n", good);
	batch_fails(buf, "<stdin>:3: not a JSON object");
	snprintf(buf, sizeof(buf), "%s{\"user\": \"root\", \"label\": \"z\", "
	    "\"service\": [1]}\n", good);
	batch_fails(buf, "<stdin>:3: service[0]: must be a string");
	batch_fails("\n\n", "no requests");
}

Test(issue, batch_usage_errors)
{
	struct run r;

	ctl(&r, NULL, "issue", "root", "--batch", "-", NULL);
	cr_assert_eq(r.status, 2);
	run_free(&r);
	ctl(&r, NULL, "issue", "--batch", "/nonexistent/file", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.err, "/nonexistent/file"), "%s", r.err);
	run_free(&r);
}

/* issue 14 item 12: `--batch FILE` run by root on a file that is no batch
 * file (a shadow line, a credentials JSON) says where and why, never what
 * the file holds. */
Test(issue, batch_errors_never_echo_the_file)
{
	static const char *const files[] = {
		"root:$6$Zx9SecretSalt$SecretHashPart:19000:0:99999:7:::\n",
		"password=Hunter2SecretValue\n",
		"{\"Hunter2SecretValue\": 1}\n",
		"\"Hunter2SecretValue\"\n",
	};
	char path[400];
	struct run r;
	size_t i;

	snprintf(path, sizeof(path), "%s/not-a-batch", E.dir);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		tl_write_str(path, files[i], 0644);
		ctl(&r, NULL, "issue", "--batch", path, NULL);
		cr_assert_eq(r.status, 1, "%s", r.err);
		cr_assert_not_null(strstr(r.err, "not-a-batch:1: "), "%s",
		    r.err);
		cr_assert_null(strstr(r.err, "Secret"), "file %zu echoed: %s",
		    i, r.err);
		cr_assert_null(strstr(r.err, "Hunter2"), "file %zu echoed: %s",
		    i, r.err);
		run_free(&r);
	}
}
