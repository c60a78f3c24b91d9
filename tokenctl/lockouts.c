/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lockouts.c - tokenctl lockouts and tokenctl unlock: apitokend's
 * throttling state, which lives in the daemon's memory only, so both
 * verbs ask the daemon (ops LOCKOUTS and UNLOCK, root only).  The
 * daemon's entries are checked word by word before anything is shown.
 *
 * Entry forms (apitokend(8), PROTOCOL), until in Unix seconds:
 *   token <id> <until> <failures>
 *   user <caller uid> <user> <until> <failures>
 *   address <HTTP client address> <until> <failures>
 */
#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tokenctl.h"

enum lo_kind { LO_TOKEN, LO_USER, LO_ADDR };

static const char *const kind_name[] = { "token", "user", "address" };

struct lockout {
	enum lo_kind kind;
	char id[APITOKEN_ID_LEN + 1];	/* token */
	char addr[64];			/* address */
	unsigned long uid;		/* user: the caller's uid */
	char user[APITOKEN_USER_MAX + 1];	/* user: the target */
	int64_t until;
	int64_t failures;
};

/* A decimal number from 0 to max: 0 and *v, or -1. */
static int
number(const char *s, int64_t max, int64_t *v)
{
	int64_t n = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 18)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (*s - '0');
	}
	if (n > max)
		return -1;
	*v = n;
	return 0;
}

/* Split s (modified) into at most max words at single spaces. */
static size_t
words(char *s, char **w, size_t max)
{
	size_t n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(s, " ", &save); t != NULL;
	    t = strtok_r(NULL, " ", &save)) {
		if (n == max)
			return max + 1;
		w[n++] = t;
	}
	return n;
}

/* One ENTRY field into lo: 0, or -1 when it is not one of the forms. */
static int
parse_entry(const struct apitoken_msg_field *f, struct lockout *lo)
{
	char buf[600], *w[6];
	int64_t uid;
	size_t n;

	memset(lo, 0, sizeof(lo[0]));
	if (f->len >= sizeof(buf))
		return -1;
	memcpy(buf, f->val, f->len);
	buf[f->len] = '\0';
	n = words(buf, w, 5);
	if (n == 4 && ((strcmp(w[0], "token") == 0 &&
	    apitoken_id_valid(w[1]) == 0) || (strcmp(w[0], "address") == 0 &&
	    apitoken_addr_valid(w[1]) == 0))) {
		lo->kind = w[0][0] == 't' ? LO_TOKEN : LO_ADDR;
		snprintf(lo->kind == LO_TOKEN ? lo->id : lo->addr,
		    lo->kind == LO_TOKEN ? sizeof(lo->id) : sizeof(lo->addr),
		    "%s", w[1]);
		return number(w[2], INT64_MAX / 2, &lo->until) == 0 &&
		    number(w[3], INT32_MAX, &lo->failures) == 0 ? 0 : -1;
	}
	if (n != 5 || strcmp(w[0], "user") != 0 ||
	    number(w[1], UINT32_MAX, &uid) != 0 ||
	    strlen(w[2]) > APITOKEN_USER_MAX)
		return -1;
	lo->kind = LO_USER;
	lo->uid = (unsigned long)uid;
	snprintf(lo->user, sizeof(lo->user), "%s", w[2]);
	return number(w[3], INT64_MAX / 2, &lo->until) == 0 &&
	    number(w[4], INT32_MAX, &lo->failures) == 0 ? 0 : -1;
}

/* ---------------------------------------------------- the exchange */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connect and call within one APITOKEN_CLIENT_TIMEOUT_MS. */
static int
exchange(struct ctl *ctl, const struct apitoken_msg *rq,
    struct apitoken_msg *reply, unsigned char *buf, size_t bufsize,
    char *err, size_t errlen)
{
	int64_t end = mono_ms() + APITOKEN_CLIENT_TIMEOUT_MS, left;
	int fd = -1, r;

	r = apitoken_client_connect(ctl->cfg, APITOKEN_CLIENT_TIMEOUT_MS, &fd,
	    err, errlen);
	if (r != APITOKEN_OK)
		return r;
	left = end - mono_ms();
	r = apitoken_client_call(fd, rq, reply, buf, bufsize,
	    left > 0 ? (int)left : 1, err, errlen);
	close(fd);
	return r;
}

/*
 * Ask apitokend; "accepted" is the only good answer.  Exit status:
 * 4 when the daemon cannot be asked or answers nonsense, 1 when it
 * refuses this caller.
 */
static int
daemon_ask(struct ctl *ctl, const struct apitoken_msg *rq,
    struct apitoken_msg *reply, unsigned char *buf, size_t bufsize)
{
	const char *sock = apitoken_config_daemon_socket(ctl->cfg);
	char err[CTL_ERR_MAX], reason[40], detail[300];
	enum apitoken_reason why;
	size_t i;

	if (exchange(ctl, rq, reply, buf, bufsize, err, sizeof(err)) != 0) {
		ctl_err("%s", err);
		return CTL_EXIT_STORE;
	}
	if (reply->op != APITOKEN_OP_REPLY ||
	    apitoken_msg_get(reply, APITOKEN_T_REASON, reason,
	    sizeof(reason)) != 0 || apitoken_reason_parse(reason, &why) != 0)
		goto bad;
	for (i = 0; i < reply->n; i++)
		if (reply->f[i].tag != APITOKEN_T_REASON &&
		    reply->f[i].tag != APITOKEN_T_ENTRY &&
		    reply->f[i].tag != APITOKEN_T_DETAIL)
			goto bad;
	/* a listing too long for one reply says so */
	if (apitoken_msg_get(reply, APITOKEN_T_DETAIL, detail,
	    sizeof(detail)) == 0)
		ctl_err("apitokend: %s", ctl_esc(detail, 1));
	if (why == APITOKEN_ACCEPTED)
		return CTL_EXIT_OK;
	ctl_err("apitokend at %s: refused: %s%s", sock, reason,
	    why == APITOKEN_R_CALLER ? " (only root may ask)" : "");
	return why == APITOKEN_R_CALLER ? CTL_EXIT_REJECT : CTL_EXIT_STORE;
bad:
	ctl_err("apitokend at %s: an answer that is not a reply; ignored",
	    sock);
	return CTL_EXIT_STORE;
}

/* Every ENTRY of the reply, parsed; exit status. */
static int
entries(const struct ctl *ctl, const struct apitoken_msg *reply,
    struct lockout **vp, size_t *np)
{
	struct lockout *v = xcalloc(reply->n + 1, sizeof(*v));
	size_t i, n = 0;

	for (i = 0; i < reply->n; i++) {
		if (reply->f[i].tag != APITOKEN_T_ENTRY)
			continue;
		if (parse_entry(&reply->f[i], &v[n]) != 0) {
			ctl_err("apitokend at %s: malformed lockout entry; "
			    "ignored", apitoken_config_daemon_socket(ctl->cfg));
			free(v);
			return CTL_EXIT_STORE;
		}
		n++;
	}
	*vp = v;
	*np = n;
	return CTL_EXIT_OK;
}

/* Lockouts and unlock change or show security state: root only, as the
 * daemon also enforces. */
static int
need_root(void)
{
	if (geteuid() == 0)
		return CTL_EXIT_OK;
	ctl_err("only root may do this (apitokend answers root only)");
	return CTL_EXIT_REJECT;
}

/* -------------------------------------------------------- lockouts */

/* The caller's name, else its uid. */
static void
caller_name(unsigned long uid, char *buf, size_t size)
{
	struct passwd pw, *found = NULL;
	char pwbuf[4096];

	if (getpwuid_r((uid_t)uid, &pw, pwbuf, sizeof(pwbuf), &found) == 0 &&
	    found != NULL)
		snprintf(buf, size, "%s", found->pw_name);
	else
		snprintf(buf, size, "%lu", uid);
}

/* What is locked: the token id, user name or address. */
static const char *
lo_name(const struct lockout *lo)
{
	return lo->kind == LO_TOKEN ? lo->id : lo->kind == LO_USER ?
	    lo->user : lo->addr;
}

static void
print_row(const struct ctl *ctl, const struct lockout *lo)
{
	char what[APITOKEN_USER_MAX + 16], caller[64], until[64];
	char *safe_what, *safe_caller;

	snprintf(what, sizeof(what), "%s %s", kind_name[lo->kind],
	    lo_name(lo));
	if (lo->kind == LO_USER)
		caller_name(lo->uid, caller, sizeof(caller));
	else
		snprintf(caller, sizeof(caller), "-");
	ctl_time_both(lo->until, ctl->now, "-", until, sizeof(until));
	safe_what = ctl_escape(what);
	safe_caller = ctl_escape(caller);
	printf("%-22s %-12s %-32s %lld\n", safe_what, safe_caller, until,
	    (long long)lo->failures);
	free(safe_what);
	free(safe_caller);
}

static json_t *
lockout_json(const struct lockout *lo)
{
	char until[32];
	json_t *o = json_object();

	if (apitoken_time_format(lo->until, until, sizeof(until)) != 0)
		snprintf(until, sizeof(until), "%lld", (long long)lo->until);
	json_object_set_new(o, "kind", json_string(kind_name[lo->kind]));
	json_object_set_new(o, "id", lo->kind == LO_TOKEN ?
	    json_string(lo->id) : json_null());
	json_object_set_new(o, "user", lo->kind == LO_USER ?
	    json_string(lo->user) : json_null());
	json_object_set_new(o, "caller_uid", lo->kind == LO_USER ?
	    json_integer((json_int_t)lo->uid) : json_null());
	json_object_set_new(o, "address", lo->kind == LO_ADDR ?
	    json_string(lo->addr) : json_null());
	json_object_set_new(o, "until", json_string(until));
	json_object_set_new(o, "failures", json_integer(lo->failures));
	return o;
}

static int
show_lockouts(const struct ctl *ctl, const struct lockout *v, size_t n,
    int json)
{
	json_t *a;
	size_t i;

	if (json) {
		a = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(a, lockout_json(&v[i]));
		return json_print(a, 0);
	}
	if (n == 0) {
		puts("no lockouts");
		return CTL_EXIT_OK;
	}
	printf("%-22s %-12s %-32s %s\n", "LOCKED", "CALLER", "UNTIL",
	    "FAILURES");
	for (i = 0; i < n; i++)
		print_row(ctl, &v[i]);
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_SYSTEM;
}

int
cmd_lockouts(struct ctl *ctl, int argc, char **argv)
{
	struct apitoken_msg rq, reply;
	unsigned char buf[APITOKEN_MSG_MAX];
	struct lockout *v = NULL;
	size_t n = 0;
	int json = 0, r;
	const struct ctl_opt o[] = {
		{ "json", NULL, &json },
		{ NULL, NULL, NULL },
	};

	if ((r = ctl_options("lockouts", argc, argv, o)) != CTL_GO)
		return r;
	if (optind != argc) {
		ctl_err("unexpected argument '%s'", argv[optind]);
		return ctl_help("lockouts", 0);
	}
	if ((r = ctl_config(ctl)) != CTL_EXIT_OK || (r = need_root()) != 0)
		return r;
	apitoken_msg_init(&rq, APITOKEN_OP_LOCKOUTS);
	if ((r = daemon_ask(ctl, &rq, &reply, buf, sizeof(buf))) != 0 ||
	    (r = entries(ctl, &reply, &v, &n)) != 0)
		return r;
	r = show_lockouts(ctl, v, n, json);
	free(v);
	return r;
}

/* ---------------------------------------------------------- unlock */

static int
unlock_report(struct ctl *ctl, const char *what, const struct lockout *v,
    size_t n)
{
	char *safe;
	size_t i;

	for (i = 0; i < n; i++) {
		safe = ctl_escape(lo_name(&v[i]));
		if (v[i].kind == LO_USER)
			printf("unlocked user %s for uid %lu\n", safe,
			    v[i].uid);
		else
			printf("unlocked %s %s\n", kind_name[v[i].kind], safe);
		free(safe);
	}
	if (n == 0)
		printf("%s was not locked out\n", what);
	ctl_audit(ctl, "unlock %s cleared=%zu", what, n);
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_SYSTEM;
}

/* The one operand: a token id, --user USER or --address ADDR.  Exit
 * status. */
static int
unlock_operand(int argc, char **argv, const char *user, const char *addr,
    const char **id)
{
	*id = NULL;
	if (user == NULL && addr == NULL && optind + 1 == argc)
		*id = argv[optind];
	else if ((user == NULL && addr == NULL) || optind != argc ||
	    (user != NULL && addr != NULL)) {
		ctl_err(user == NULL && addr == NULL ? "give a token ID, "
		    "--user USER or --address ADDR" : addr == NULL ?
		    "give a token ID or --user USER, not both" :
		    "give --address ADDR alone, not with a token ID or --user");
		return ctl_help("unlock", 0);
	}
	if (*id != NULL && apitoken_id_valid(*id) != 0) {
		ctl_err("'%s' is not a token ID", ctl_esc(*id, 0));
		return CTL_EXIT_USAGE;
	}
	if (user != NULL && (user[0] == '\0' ||
	    strlen(user) > APITOKEN_USER_MAX || strchr(user, ' ') != NULL)) {
		ctl_err("--user needs a user name");
		return CTL_EXIT_USAGE;
	}
	if (addr != NULL && apitoken_addr_valid(addr) != 0) {
		ctl_err("--address: '%s' is not an IPv4 or IPv6 address",
		    ctl_esc(addr, 0));
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

/* UNLOCK with the one field that names what to clear. */
static int
unlock_run(struct ctl *ctl, const char *id, const char *user,
    const char *addr)
{
	struct apitoken_msg rq, reply;
	unsigned char buf[APITOKEN_MSG_MAX];
	struct lockout *v = NULL;
	char what[APITOKEN_USER_MAX * 4 + 16];
	enum lo_kind kind = id != NULL ? LO_TOKEN : user != NULL ? LO_USER :
	    LO_ADDR;
	const char *name = id != NULL ? id : user != NULL ? user : addr;
	static const uint8_t tag[] = { APITOKEN_T_ID, APITOKEN_T_USER,
	    APITOKEN_T_RHOST };
	size_t n = 0;
	int r;

	apitoken_msg_init(&rq, APITOKEN_OP_UNLOCK);
	if (apitoken_msg_add_str(&rq, tag[kind], name) != 0) {
		ctl_err("--user needs a user name");
		return CTL_EXIT_USAGE;
	}
	if ((r = daemon_ask(ctl, &rq, &reply, buf, sizeof(buf))) != 0 ||
	    (r = entries(ctl, &reply, &v, &n)) != 0)
		return r;
	snprintf(what, sizeof(what), "%s %s", kind_name[kind],
	    ctl_esc(name, 0));
	r = unlock_report(ctl, what, v, n);
	free(v);
	return r;
}

int
cmd_unlock(struct ctl *ctl, int argc, char **argv)
{
	const char *id, *user = NULL, *addr = NULL;
	const struct ctl_opt o[] = {
		{ "user", &user, NULL },
		{ "address", &addr, NULL },
		{ NULL, NULL, NULL },
	};
	int r;

	if ((r = ctl_options("unlock", argc, argv, o)) != CTL_GO)
		return r;
	if ((r = unlock_operand(argc, argv, user, addr, &id)) != CTL_EXIT_OK ||
	    (r = ctl_config(ctl)) != CTL_EXIT_OK || (r = need_root()) != 0)
		return r;
	return unlock_run(ctl, id, user, addr);
}
