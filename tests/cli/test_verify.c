/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_verify.c - tokenctl verify (raw, Bearer, ApiKey; every refusal
 * reason it can show) and tokenctl check.
 */
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "apitoken.h"
#include "helpers.h"

TestSuite(verify, .init = setup_env, .fini = teardown_env);

/* Run verify with up to 6 arguments (NULL ends them early). out: the
 * exact stdout, NULL for none; err: a part of stderr, or NULL. */
static void
expect(const char *input, int status, const char *out, const char *err,
    const char *a1, const char *a2, const char *a3, const char *a4,
    const char *a5, const char *a6)
{
	struct run r;

	ctl(&r, input, "verify", a1, a2, a3, a4, a5, a6, NULL);
	cr_assert_eq(r.status, status, "status %d, stderr %s", r.status,
	    r.err);
	cr_assert_str_eq(r.out, out != NULL ? out : "");
	if (err != NULL)
		cr_assert_not_null(strstr(r.err, err), "stderr lacks '%s': %s",
		    err, r.err);
	run_free(&r);
}

/* "<token>\n" and "<id>\n" of a new token. */
static void
issue_in(const char *user, const char *label, char in[256], char idl[16],
    const char *o1, const char *v1, const char *o2, const char *v2)
{
	char *t = issue_token(user, label, o1, v1, o2, v2, NULL), id[13];

	token_id(t, id);
	snprintf(idl, 16, "%s\n", id);
	snprintf(in, 256, "%s\n", t);
	free(t);
}

Test(verify, accepts_raw_bearer_and_apikey_forms)
{
	char *t, id[13], idl[16], in[256];

	t = issue_token("root", "v", NULL);
	token_id(t, id);
	snprintf(idl, sizeof(idl), "%s\n", id);
	snprintf(in, sizeof(in), "%s\n", t);
	expect(in, 0, idl, NULL, "--user", "root", NULL, 0, 0, 0);
	snprintf(in, sizeof(in), "%s", t);	/* no newline */
	expect(in, 0, idl, NULL, "--user", "root", NULL, 0, 0, 0);
	snprintf(in, sizeof(in), "Bearer %s\r\n", t);
	expect(in, 0, idl, NULL, "--user", "root", NULL, 0, 0, 0);
	snprintf(in, sizeof(in), "bearer %s\n", t);
	expect(in, 0, idl, NULL, "--user", "root", NULL, 0, 0, 0);
	snprintf(in, sizeof(in), "ApiKey %s\n", t);
	expect(in, 0, idl, NULL, "--user", "root", NULL, 0, 0, 0);
	snprintf(in, sizeof(in), "Bearer  %s\n", t);	/* two spaces */
	expect(in, 1, NULL, "malformed", "--user", "root", NULL, 0, 0, 0);
	free(t);
}

Test(verify, default_user_is_the_real_uid)
{
	char idl[16], in[256];
	struct passwd *pw = getpwuid(getuid());

	cr_assert_not_null(pw);
	issue_in(pw->pw_name, "mine", in, idl, NULL, 0, 0, 0);
	expect(in, 0, idl, NULL, NULL, 0, 0, 0, 0, 0);
	issue_in("nobody", "theirs", in, idl, NULL, 0, 0, 0);
	expect(in, 1, NULL, "wrong-user", NULL, 0, 0, 0, 0, 0);
	expect(in, 0, idl, NULL, "--user", "nobody", NULL, 0, 0, 0);
}

Test(verify, service_and_source_policy)
{
	char idl[16], in[256];

	issue_in("root", "scoped", in, idl, "--service", "sshd", "--from",
	    "10.0.0.0/8");
	expect(in, 0, idl, NULL, "--user", "root", "--service", "sshd",
	    "--rhost", "10.9.8.7");
	expect(in, 1, NULL, "service-not-allowed", "--user", "root",
	    "--service", "sudo", "--rhost", "10.9.8.7");
	expect(in, 1, NULL, "source-not-allowed", "--user", "root",
	    "--service", "sshd", "--rhost", "192.0.2.1");
	expect(in, 1, NULL, "source-not-allowed", "--user", "root",
	    "--service", "sshd", NULL, 0);
}

Test(verify, refusal_reasons)
{
	char idl[16], in[256], big[2048], *forged;
	struct run r;

	issue_in("root", "short", in, idl, "--expires", "1s", NULL, 0);
	sleep(2);
	expect(in, 1, NULL, "expired", "--user", "root", NULL, 0, 0, 0);
	expect("garbage\n", 1, NULL, "malformed", "--user", "root", NULL, 0,
	    0, 0);
	expect("", 1, NULL, "malformed", "--user", "root", NULL, 0, 0, 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect(big, 1, NULL, "malformed", "--user", "root", NULL, 0, 0, 0);
	/* a well-formed token with a bad checksum */
	in[strlen(in) - 2] = in[strlen(in) - 2] == 'a' ? 'b' : 'a';
	expect(in, 1, NULL, "bad-checksum", "--user", "root", NULL, 0, 0, 0);
	/* a good checksum but the wrong secret */
	issue_in("root", "real", in, idl, NULL, 0, 0, 0);
	in[strlen(in) - 1] = '\0';
	forged = forge_secret(in);
	snprintf(in, sizeof(in), "%s\n", forged);
	expect(in, 1, NULL, "wrong-secret", "--user", "root", NULL, 0, 0, 0);
	free(forged);
	ctl(&r, "x\n", "verify", "extra", NULL);
	cr_assert_eq(r.status, 2);
	run_free(&r);
}

Test(verify, unknown_token_and_store_error)
{
	char idl[16], in[256], id[13];
	struct run r;

	issue_in("root", "soon-gone", in, idl, NULL, 0, 0, 0);
	strncpy(id, idl, 12);
	id[12] = '\0';
	ctl(&r, NULL, "delete", id, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	expect(in, 1, NULL, "unknown", "--user", "root", NULL, 0, 0, 0);
	cr_assert_eq(unlink(E.store), 0);
	expect(in, 4, NULL, "store-error", "--user", "root", NULL, 0, 0, 0);
}

/* ------------------------------------------------------------- check */

Test(verify, check_reads_stdin)
{
	struct run r;
	char *t, id[13], *bad, want[128], in[512];

	t = issue_token("root", "c", NULL);
	token_id(t, id);
	bad = strdup(t);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'a' ? 'b' : 'a';
	snprintf(in, sizeof(in), "%s\n", t);
	ctl(&r, in, "check", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(want, sizeof(want), "line 1: ok %s\n", id);
	cr_assert_str_eq(r.out, want);
	run_free(&r);
	snprintf(in, sizeof(in), "Bearer %s\n%s\nhello\n", t, bad);
	ctl(&r, in, "check", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_eq(tl_count_lines(r.out), 3, "%s", r.out);
	cr_assert_eq(strncmp(r.out, want, strlen(want)), 0, "%s", r.out);
	cr_assert_not_null(strstr(r.out, "line 2: invalid: checksum"), "%s",
	    r.out);
	cr_assert_not_null(strstr(r.out, "line 3: invalid"), "%s", r.out);
	cr_assert_null(strstr(r.out, strrchr(t, '_') + 1), "echoed a secret");
	run_free(&r);
	snprintf(in, sizeof(in), "%s\n", t);
	ctl(&r, in, "check", "--prefix", "other", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_not_null(strstr(r.out, "prefix"), "%s", r.out);
	run_free(&r);
	free(t);
	free(bad);
}

/* issue 14 item 9: a token in argv is in /proc/PID/cmdline and in shell
 * history; check refuses every operand, never echoes it, and says a
 * token-shaped one is exposed. */
Test(verify, check_refuses_tokens_in_argv)
{
	struct run r;
	char *t = issue_token("root", "argv", NULL);

	ctl(&r, NULL, "check", t, NULL);
	cr_assert_eq(r.status, 2, "%s", r.out);
	cr_assert_str_eq(r.out, "");
	cr_assert_not_null(strstr(r.err, "standard input only"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "looks like a token"), "%s", r.err);
	cr_assert_null(strstr(r.err, strrchr(t, '_') + 1), "echoed a secret");
	run_free(&r);
	ctl(&r, NULL, "check", "hello", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "standard input only"), "%s", r.err);
	cr_assert_null(strstr(r.err, "looks like a token"), "%s", r.err);
	cr_assert_null(strstr(r.err, "hello"), "%s", r.err);
	run_free(&r);
	free(t);
}

Test(verify, check_uses_configured_prefix)
{
	struct env e2 = { .sudo_user = NULL };
	struct run r;
	char *tok, in[512];

	env_init(&e2, "token_prefix: acme\n");
	ctl_env(&e2, &r, NULL, "issue", "root", "--label", "p", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(strncmp(r.out, "acme_", 5), 0, "%s", r.out);
	r.out[r.outlen - 1] = '\0';
	tok = strdup(r.out);
	run_free(&r);
	snprintf(in, sizeof(in), "%s\n", tok);
	ctl_env(&e2, &r, in, "check", NULL);
	cr_assert_eq(r.status, 0, "%s %s", r.out, r.err);
	run_free(&r);
	ctl(&r, in, "check", NULL);	/* E uses "apitok" */
	cr_assert_eq(r.status, 1);
	run_free(&r);
	free(tok);
	env_clean(&e2);
}

/* ------------------------------------------------------- terminal */

/* Wait until fd has produced text containing needle (5 s at most). */
static void
wait_for(int fd, const char *needle, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	struct pollfd p = { fd, POLLIN, 0 };

	buf[0] = '\0';
	while (strstr(buf, needle) == NULL) {
		cr_assert(poll(&p, 1, 5000) == 1, "no '%s' in '%s'", needle,
		    buf);
		n = read(fd, buf + len, size - 1 - len);
		cr_assert(n > 0);
		len += (size_t)n;
		buf[len] = '\0';
	}
}

Test(verify, token_typed_at_a_terminal_is_not_echoed)
{
	char *t, id[13], line[256], err[256], echo[256];
	int master, slave, perr[2], pout[2], st;
	pid_t pid;
	ssize_t n;

	t = issue_token("root", "tty", NULL);
	token_id(t, id);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert(master >= 0 && grantpt(master) == 0 &&
	    unlockpt(master) == 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	cr_assert(slave >= 0 && pipe(perr) == 0 && pipe(pout) == 0);
	pid = fork();
	if (pid == 0) {
		char cfg[400];
		char *const envp[] = { cfg, NULL };

		snprintf(cfg, sizeof(cfg), "APITOKEN_CONFIG=%s", E.cfg);
		setsid();
		dup2(slave, 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		execle(TOKENCTL, "tokenctl", "verify", "--user", "root",
		    (char *)NULL, envp);
		_exit(127);
	}
	close(slave);
	close(perr[1]);
	close(pout[1]);
	wait_for(perr[0], "token: ", err, sizeof(err));
	snprintf(line, sizeof(line), "%s\n", t);
	cr_assert_eq(write(master, line, strlen(line)), (ssize_t)strlen(line));
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	n = read(pout[0], line, sizeof(line) - 1);
	cr_assert(n > 0);
	line[n] = '\0';
	cr_assert_eq(strncmp(line, id, 12), 0, "%s", line);
	/* what the terminal showed: no echo of the token */
	struct pollfd p = { master, POLLIN, 0 };
	n = poll(&p, 1, 100) == 1 ? read(master, echo, sizeof(echo) - 1) : 0;
	echo[n > 0 ? n : 0] = '\0';
	cr_assert_null(strstr(echo, id), "echoed: %s", echo);
	close(master);
	close(perr[0]);
	close(pout[0]);
	free(t);
}
