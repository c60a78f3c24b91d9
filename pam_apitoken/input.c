/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * input.c - where the typed token and the remote address come from.
 *
 * The token text always ends up as PAM's own PAM_AUTHTOK item: what the
 * conversation returns is handed to pam_set_item(), then wiped and freed
 * here.  The module keeps a copy only of a token apitokend accepted, on
 * the PAM handle for the account re-check, wiped at pam_end
 * (pam_apitoken.c, struct login).
 */
#include <stdlib.h>
#include <string.h>

#include <security/pam_ext.h>

#include "pam_apitoken.h"

/* sshd's stand-in for the password of a user it will not let in. */
static const char sshd_dummy[] = "\b\n\r\177INCORRECT";

int
input_is_sshd_dummy(const char *s, size_t len)
{
	return len >= 4 && memcmp(s, sshd_dummy, 4) == 0;
}

/* 1 if s is a token, perhaps with a typo in it (bad checksum). */
int
input_looks_like_token(const char *prefix, const char *s)
{
	struct apitoken_token t;
	enum apitoken_format f;

	f = apitoken_token_parse(prefix, s, strnlen(s, PAM_MAX_RESP_SIZE + 1),
	    &t);
	apitoken_token_clear(&t);
	return f == APITOKEN_FMT_OK || f == APITOKEN_FMT_CHECKSUM;
}

static int
conv_failure(int rc)
{
	if (rc == PAM_CONV_AGAIN || rc == PAM_INCOMPLETE)
		return WHY_CONV_AGAIN;
	if (rc == PAM_BUF_ERR)
		return WHY_NOMEM;
	return WHY_CONV;
}

/* Ask for the token; store it as PAM_AUTHTOK.  Returns 0 or WHY_*. */
static int
prompt_token(pam_handle_t *pamh, const char *prompt)
{
	char *resp = NULL;
	size_t len;
	int rc;

	rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", prompt);
	if (rc != PAM_SUCCESS || resp == NULL) {
		rc = conv_failure(rc);
		goto out;
	}
	len = strnlen(resp, PAM_MAX_RESP_SIZE + 1);
	if (len > PAM_MAX_RESP_SIZE) {
		rc = WHY_TOO_LONG;	/* not cached for later modules */
		goto out;
	}
	rc = pam_set_item(pamh, PAM_AUTHTOK, resp);
	rc = rc == PAM_SUCCESS ? 0 : rc == PAM_BUF_ERR ? WHY_NOMEM :
	    WHY_INTERNAL;
out:
	if (resp != NULL) {
		apitoken_wipe(resp, strlen(resp));
		free(resp);
	}
	return rc;
}

static const char *
cached_token(pam_handle_t *pamh)
{
	const void *item = NULL;

	if (pam_get_item(pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS)
		return NULL;
	return item;
}

/*
 * use_first_pass: only the cached PAM_AUTHTOK.  try_first_pass: the
 * cached one if it looks like a token, else prompt.  Neither: prompt.
 * (pam_get_authtok() would reuse any cached item and never re-prompt.)
 * On success *tokp points at PAM's item, valid until the item changes.
 */
int
input_get_token(pam_handle_t *pamh, const struct args *a, const char *prefix,
    const char **tokp, size_t *lenp, struct decision *d)
{
	const char *tok = cached_token(pamh);
	int rc = 0;

	*tokp = NULL;
	*lenp = 0;
	if (a->use_first_pass) {
		if (tok == NULL)
			rc = WHY_NO_TOKEN;
	} else if (!a->try_first_pass || tok == NULL ||
	    !input_looks_like_token(prefix, tok)) {
		rc = prompt_token(pamh, a->prompt);
		tok = rc == 0 ? cached_token(pamh) : NULL;
		if (rc == 0 && tok == NULL)
			rc = WHY_INTERNAL;
	}
	if (rc == 0 && strnlen(tok, PAM_MAX_RESP_SIZE + 1) > PAM_MAX_RESP_SIZE)
		rc = WHY_TOO_LONG;
	if (rc != 0) {
		d->why = rc;
		return -1;
	}
	*tokp = tok;
	*lenp = strlen(tok);
	return 0;
}

/* sshd's PAM service: "sshd", or "sshd-..." for an sshd started under
 * another name (its PAM service is argv[0]'s base name). */
static int
is_sshd(const char *service)
{
	return service != NULL && strncmp(service, "sshd", 4) == 0 &&
	    (service[4] == '\0' || service[4] == '-');
}

/* The client address from SSH_CONNECTION in the PAM environment. */
static void
ssh_connection_addr(pam_handle_t *pamh, struct decision *d)
{
	const char *conn = pam_getenv(pamh, "SSH_CONNECTION");
	size_t n;

	if (conn == NULL)
		return;
	n = strcspn(conn, " ");
	if (n == 0 || n >= sizeof(d->rhostbuf))
		return;
	memcpy(d->rhostbuf, conn, n);
	d->rhostbuf[n] = '\0';
	if (apitoken_addr_valid(d->rhostbuf) == 0)
		d->rhost = d->rhostbuf;
}

/*
 * PAM_RHOST if it is an IP literal.  Only for sshd whose PAM_RHOST is a
 * host name (UseDNS yes): the client address in SSH_CONNECTION from the
 * PAM environment, where sshd put it.  Never the process environment,
 * which the user controls under sudo or su; never SSH_CONNECTION for
 * another service or without PAM_RHOST (a local login has no address).
 */
void
input_remote_addr(pam_handle_t *pamh, struct decision *d)
{
	const void *item = NULL;
	const char *rhost;

	d->rhost = NULL;
	d->rhost_item = NULL;
	if (pam_get_item(pamh, PAM_RHOST, &item) != PAM_SUCCESS ||
	    item == NULL || ((const char *)item)[0] == '\0')
		return;
	rhost = item;
	d->rhost_item = rhost;
	if (strlen(rhost) < sizeof(d->rhostbuf) &&
	    apitoken_addr_valid(rhost) == 0) {
		strcpy(d->rhostbuf, rhost);
		d->rhost = d->rhostbuf;
		return;
	}
	if (is_sshd(d->service))
		ssh_connection_addr(pamh, d);
}
