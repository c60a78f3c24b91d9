/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * self_pam.c - the only PAM calls of apitokend: re-authenticating a user
 * before self-service issues or rotates a token for them (issue 16).
 * The PAM service is self_service.reauth_service (default
 * apitoken-selfservice: Debian's common-auth and common-account).  Each
 * message of the stack goes to the user's tokenctl as OP_PROMPT (T_STYLE,
 * T_TEXT); its OP_ANSWER (T_TEXT, the password: a secret) comes back
 * within SELF_ANSWER_MS, is copied for PAM and wiped here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <security/pam_appl.h>

#include "self.h"

#define CONV_MAX_MSGS 16	/* messages in one conversation call */

struct conv {
	struct self *s;
	int broken;		/* the client went away or misbehaved */
	int asked;		/* messages relayed */
};

static void
set_rcvtimeo(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* One message to the client and its answer: 0 with *resp (malloc'ed,
 * or NULL for a message that wants none), or -1. */
static int
relay(struct conv *cv, const struct pam_message *pm, char **resp)
{
	struct apitoken_msg m, a;
	unsigned char *buf = NULL;
	char style[8], *text = NULL;
	int want = pm->msg_style == PAM_PROMPT_ECHO_OFF ||
	    pm->msg_style == PAM_PROMPT_ECHO_ON, r = -1;

	*resp = NULL;
	snprintf(style, sizeof(style), "%d", pm->msg_style);
	apitoken_msg_init(&m, APITOKEN_OP_PROMPT);
	if (apitoken_msg_add_str(&m, APITOKEN_T_STYLE, style) != 0 ||
	    apitoken_msg_add(&m, APITOKEN_T_TEXT, pm->msg ? pm->msg : "",
	    pm->msg ? strnlen(pm->msg, APITOKEN_LINE_PIECE) : 0) != 0 ||
	    msg_send(cv->s->fd, &m) != 0 ||
	    (buf = malloc(APITOKEN_MSG_MAX)) == NULL)
		goto out;
	set_rcvtimeo(cv->s->fd, SELF_ANSWER_MS);
	if (msg_recv(cv->s->fd, buf, APITOKEN_MSG_MAX, &a) != 0 ||
	    a.op != APITOKEN_OP_ANSWER)
		goto out;
	if (want && (text = calloc(1, APITOKEN_LINE_PIECE + 1)) == NULL)
		goto out;
	if (want && apitoken_msg_get(&a, APITOKEN_T_TEXT, text,
	    APITOKEN_LINE_PIECE + 1) != 0)
		goto out;
	*resp = text;
	text = NULL;
	r = 0;
out:
	set_rcvtimeo(cv->s->fd, IO_TIMEOUT_MS);
	if (text != NULL)
		apitoken_wipe(text, APITOKEN_LINE_PIECE + 1);
	free(text);
	if (buf != NULL)
		apitoken_wipe(buf, APITOKEN_MSG_MAX);
	free(buf);
	apitoken_wipe(&a, sizeof(a));
	return r;
}

static void
free_responses(struct pam_response *r, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (r[i].resp != NULL) {
			apitoken_wipe(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	free(r);
}

static int
converse(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct conv *cv = data;
	struct pam_response *r;
	int i;

	*resp = NULL;
	if (n <= 0 || n > CONV_MAX_MSGS || cv->broken)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		cv->asked++;
		if (relay(cv, msg[i], &r[i].resp) != 0) {
			cv->broken = 1;
			free_responses(r, n);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

int
self_reauth(struct self *s, char *err, size_t errlen)
{
	const char *svc = apitoken_config_self_service(s->cfg)->reauth_service;
	struct conv cv = { s, 0, 0 };
	struct pam_conv conv = { converse, &cv };
	pam_handle_t *pamh = NULL;
	int pr;

	pr = pam_start(svc, s->user, &conv, &pamh);
	if (pr != PAM_SUCCESS) {
		snprintf(err, errlen, "PAM service %s: %s", svc,
		    pam_strerror(pamh, pr));
		return APITOKEN_ERR_SYSTEM;
	}
	(void)pam_set_item(pamh, PAM_RUSER, s->user);
	pr = pam_authenticate(pamh, PAM_DISALLOW_NULL_AUTHTOK);
	if (pr == PAM_SUCCESS)
		pr = pam_acct_mgmt(pamh, PAM_DISALLOW_NULL_AUTHTOK);
	if (pr != PAM_SUCCESS)
		snprintf(err, errlen, "%s (PAM service %s)",
		    pam_strerror(pamh, pr), svc);
	pam_end(pamh, pr);
	if (cv.broken)
		return APITOKEN_ERR_SYSTEM;
	return pr == PAM_SUCCESS ? APITOKEN_OK : APITOKEN_ERR_ACCESS;
}
