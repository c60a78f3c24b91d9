/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * self.c - tokenctl for a user who is not root (issue 16): list, show,
 * issue, edit, disable, enable, revoke and rotate act on the user's own
 * tokens through apitokend (apitokend(8), SELF-SERVICE); the store is
 * never opened.  Options are parsed and checked by the same code as for
 * root; the daemon applies the change with the library's rules and
 * self_service's limits, for the socket's uid only.  list and show get
 * the user's records and print them with the same views as for root.
 * A password typed for re-authentication is read from /dev/tty, sent in
 * one OP_ANSWER and wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "tokenctl.h"

#define SELF_WAIT_MS 60000	/* a reply (a PAM stack may be slow) */
/* PAM's msg_style values (the daemon sends them in T_STYLE) */
#define STYLE_ECHO_OFF 1
#define STYLE_ECHO_ON 2

int
ctl_self(const struct ctl *ctl)
{
	struct stat st;

	if (getuid() == 0)
		return 0;
	/* with postgresql the database's roles decide who may write */
	if (pg_mode(ctl))
		return 0;
	/* a store of one's own (tests, a personal setup) stays direct */
	if (stat(apitoken_config_store(ctl->cfg), &st) == 0)
		return st.st_uid != getuid();
	/* one this user may not even look at is root's: ask apitokend; a
	 * missing one stays the direct path's error (run tokenctl init) */
	return errno == EACCES || errno == EPERM;
}

/* One connection to apitokend. */
struct conn {
	int fd;
	unsigned char buf[APITOKEN_MSG_MAX];
	struct apitoken_msg m;		/* the last message read */
};

static int
conn_open(const struct ctl *ctl, struct conn *c)
{
	char err[CTL_ERR_MAX] = "";

	c->fd = -1;
	if (apitoken_client_connect(ctl->cfg, APITOKEN_CLIENT_TIMEOUT_MS,
	    &c->fd, err, sizeof(err)) != APITOKEN_OK) {
		ctl_err("%s; a user other than root manages their own tokens "
		    "through apitokend", err[0] ? err : "apitokend: no answer");
		return CTL_EXIT_STORE;
	}
	return CTL_EXIT_OK;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	apitoken_wipe(c->buf, sizeof(c->buf));
	apitoken_wipe(&c->m, sizeof(c->m));
	c->fd = -1;
}

/* n bytes to or from fd within the deadline (monotonic ms). */
static int
io_full(int fd, void *p, size_t n, int out, int64_t deadline)
{
	struct pollfd pfd = { fd, out ? POLLOUT : POLLIN, 0 };
	struct timespec ts;
	int64_t now;
	ssize_t k;

	while (n > 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
			return -1;
		k = out ? send(fd, p, n, MSG_NOSIGNAL) : read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p = (char *)p + k;
		n -= (size_t)k;
	}
	return 0;
}

static int64_t
deadline_ms(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + ms;
}

/* Encode and send m; the encoded copy (it may hold a secret) is wiped. */
static int
conn_send(struct conn *c, const struct apitoken_msg *m)
{
	unsigned char *out = xmalloc(APITOKEN_MSG_MAX + 4);
	size_t len = 0;
	int r = -1;

	if (apitoken_msg_encode(m, out, APITOKEN_MSG_MAX + 4, &len) == 0)
		r = io_full(c->fd, out, len, 1, deadline_ms(SELF_WAIT_MS));
	apitoken_wipe(out, APITOKEN_MSG_MAX + 4);
	free(out);
	return r;
}

static int
conn_recv(struct conn *c)
{
	unsigned char h[4];
	int64_t end = deadline_ms(SELF_WAIT_MS);
	size_t len;

	if (io_full(c->fd, h, 4, 0, end) != 0)
		return -1;
	len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 |
	    h[3];
	if (len == 0 || len > sizeof(c->buf) ||
	    io_full(c->fd, c->buf, len, 0, end) != 0)
		return -1;
	return apitoken_msg_parse(c->buf, len, &c->m) == 0 ? 0 : -1;
}

/* ------------------------------------------------- the PAM conversation */

/* One line from the terminal into ans (echo off unless echo). */
static int
tty_read(const char *prompt, int echo, char *ans, size_t size)
{
	struct termios old, t;
	char *safe = ctl_escape(prompt), ch;
	size_t n = 0;
	ssize_t k;
	int fd, r = -1, restore = 0;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		free(safe);
		return -1;
	}
	/* echo off before the prompt, nothing flushed: an answer typed
	 * as soon as the prompt shows is neither echoed nor lost */
	if (!echo && tcgetattr(fd, &old) == 0) {
		t = old;
		t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		restore = tcsetattr(fd, TCSANOW, &t) == 0;
	}
	if (write(fd, safe, strlen(safe)) < 0)
		goto out;
	while ((k = read(fd, &ch, 1)) == 1 && ch != '\n')
		if (n + 1 < size)
			ans[n++] = ch;
	ans[n] = '\0';
	ch = 0;
	r = k == 1 || n > 0 ? 0 : -1;
out:
	if (restore)
		(void)tcsetattr(fd, TCSANOW, &old);
	if (!echo)
		(void)!write(fd, "\n", 1);
	close(fd);
	free(safe);
	return r;
}

/* Answer the PROMPT in c->m: from the terminal, or (a message) shown. */
static int
answer(struct conn *c)
{
	char style[8] = "", text[APITOKEN_LINE_PIECE + 1] = "";
	char ans[APITOKEN_LINE_PIECE + 1] = "";
	struct apitoken_msg a;
	int st, r = -1;

	if (apitoken_msg_get(&c->m, APITOKEN_T_STYLE, style,
	    sizeof(style)) != 0 ||
	    apitoken_msg_get(&c->m, APITOKEN_T_TEXT, text, sizeof(text)) != 0)
		return -1;
	st = atoi(style);
	apitoken_msg_init(&a, APITOKEN_OP_ANSWER);
	if (st == STYLE_ECHO_OFF || st == STYLE_ECHO_ON) {
		if (tty_read(text, st == STYLE_ECHO_ON, ans, sizeof(ans)) != 0) {
			ctl_err("re-authentication needs a terminal "
			    "(/dev/tty) to ask for your password");
			goto out;
		}
		if (apitoken_msg_add(&a, APITOKEN_T_TEXT, ans,
		    strlen(ans)) != 0)
			goto out;
	} else {
		ctl_err("%s", text);
	}
	r = conn_send(c, &a);
out:
	apitoken_wipe(ans, sizeof(ans));
	apitoken_wipe(&a, sizeof(a));
	return r;
}

/* ------------------------------------------------------- one exchange */

typedef int (*reply_fn)(const struct ctl *, const struct apitoken_msg *,
    void *);

/* Print each short T_ENTRY line of a reply (the output of a change). */
static int
print_lines(const struct ctl *ctl, const struct apitoken_msg *m, void *ctx)
{
	size_t i;

	(void)ctl;
	(void)ctx;
	for (i = 0; i < m->n; i++)
		if (m->f[i].tag == APITOKEN_T_ENTRY)
			printf("%.*s\n", (int)m->f[i].len, m->f[i].val);
	return 0;
}

/* The closing reply: its notes to stderr; its status. */
static int
finish(const struct apitoken_msg *m)
{
	char st[8] = "";
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->f[i].tag == APITOKEN_T_DETAIL)
			ctl_err("%.*s", (int)m->f[i].len, m->f[i].val);
	if (apitoken_msg_get(m, APITOKEN_T_STATUS, st, sizeof(st)) != 0 ||
	    st[0] < '0' || st[0] > '9')
		return CTL_EXIT_SYSTEM;
	return atoi(st);
}

/* Send req; answer prompts; give each reply message to fn; the status
 * of the closing one (T_STATUS). */
static int
exchange(const struct ctl *ctl, const struct apitoken_msg *req, reply_fn fn,
    void *ctx)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	char st[8];
	int r;

	if ((r = conn_open(ctl, c)) != CTL_EXIT_OK)
		goto out;
	r = CTL_EXIT_STORE;
	if (conn_send(c, req) != 0)
		goto broken;
	for (;;) {
		if (conn_recv(c) != 0)
			goto broken;
		if (c->m.op == APITOKEN_OP_PROMPT) {
			if (answer(c) != 0)
				goto out;
			continue;
		}
		if (c->m.op != APITOKEN_OP_REPLY ||
		    (fn != NULL && fn(ctl, &c->m, ctx) != 0))
			goto broken;
		if (apitoken_msg_get(&c->m, APITOKEN_T_STATUS, st,
		    sizeof(st)) == 0)
			break;
	}
	r = finish(&c->m);
	goto out;
broken:
	ctl_err("apitokend did not answer as expected (see its log)");
out:
	conn_close(c);
	free(c);
	return r;
}

/* ------------------------------------------------------------ records */

/* The last uses apitokend sent with the records (T_LASTUSE after a
 * record line), by id; a record without one: "unknown". */
struct self_lastuse {
	struct self_lu_one {
		char id[APITOKEN_ID_LEN + 1];
		struct apitoken_lastuse lu;
	} *v;
	size_t n;
};

static void
self_lastuse_init(struct ctl *ctl)
{
	if (ctl->self_lu == NULL)
		ctl->self_lu = xcalloc(1, sizeof(*ctl->self_lu));
}

void
self_lastuse_free(struct ctl *ctl)
{
	if (ctl->self_lu != NULL)
		free(ctl->self_lu->v);
	free(ctl->self_lu);
	ctl->self_lu = NULL;
}

int
self_lastuse(const struct ctl *ctl, const char *id,
    struct apitoken_lastuse *lu)
{
	size_t i;

	memset(lu, 0, sizeof(*lu));
	for (i = 0; ctl->self_lu != NULL && i < ctl->self_lu->n; i++)
		if (strcmp(ctl->self_lu->v[i].id, id) == 0) {
			*lu = ctl->self_lu->v[i].lu;
			return 0;
		}
	return -1;
}

/* Field pos of m, if it is a T_LASTUSE, as rec's last use. */
static void
take_lastuse(const struct ctl *ctl, const struct apitoken_msg *m, size_t pos,
    const struct apitoken_record *rec)
{
	struct self_lastuse *t = ctl->self_lu;
	struct apitoken_lastuse lu;

	if (t == NULL || pos >= m->n || m->f[pos].tag != APITOKEN_T_LASTUSE ||
	    apitoken_lastuse_parse(m->f[pos].val, m->f[pos].len, &lu) != 0)
		return;
	t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
	memcpy(t->v[t->n].id, rec->id, sizeof(t->v[t->n].id));
	t->v[t->n++].lu = lu;
}

/* A reply's record lines into db (full form), their last uses into
 * ctl->self_lu. */
static int
take_records(const struct ctl *ctl, const struct apitoken_msg *m, void *ctx)
{
	struct ctl_db *db = ctx;
	struct apitoken_record *rec;
	char *line = xmalloc(APITOKEN_LINE_MAX + 1);
	size_t pos = 0, len;
	int r;

	while ((r = apitoken_msg_next_line(m, APITOKEN_T_ENTRY, &pos, line,
	    APITOKEN_LINE_MAX + 1, &len)) == 0) {
		if (apitoken_record_parse(line, len, &rec, NULL, 0) != 0)
			break;
		take_lastuse(ctl, m, pos, rec);
		db_adopt(db, rec);
	}
	free(line);
	return r == APITOKEN_ERR_NOT_FOUND ? 0 : -1;
}

int
self_db_open(struct ctl *ctl, struct ctl_db *db)
{
	struct apitoken_msg req;
	int r;

	memset(db, 0, sizeof(*db));
	db->full = 1;
	self_lastuse_init(ctl);
	apitoken_msg_init(&req, APITOKEN_OP_SELF_LIST);
	if ((r = exchange(ctl, &req, take_records, db)) != CTL_EXIT_OK)
		db_free(db);
	return r;
}

/* A record as a request's T_ENTRY line; *linep (the fields point into
 * it) is the caller's to free after the exchange. */
static int
add_record(struct apitoken_msg *m, const struct apitoken_record *rec,
    char **linep)
{
	size_t len = 0;
	int r;

	if (apitoken_record_format(rec, linep, &len) != APITOKEN_OK)
		return CTL_EXIT_SYSTEM;
	r = apitoken_msg_add_line(m, APITOKEN_T_ENTRY, *linep, len);
	if (r != 0) {
		ctl_err("the token's fields are too long to send to apitokend");
		return CTL_EXIT_REJECT;
	}
	return CTL_EXIT_OK;
}

/* -------------------------------------------------------- issue, rotate */

struct issued {
	char token[APITOKEN_TOKEN_MAX + 1];
	struct apitoken_record *rec;
};

static int
take_token(const struct ctl *ctl, const struct apitoken_msg *m, void *ctx)
{
	struct issued *t = ctx;
	struct ctl_db db;
	int r;

	if (apitoken_msg_get(m, APITOKEN_T_TOKEN, t->token,
	    sizeof(t->token)) != 0)
		return 0;	/* not the reply with the token */
	memset(&db, 0, sizeof(db));
	if ((r = take_records(ctl, m, &db)) == 0 && db.n == 1) {
		t->rec = db.v[0];
		db.n = 0;
	}
	db_free(&db);
	return r == 0 && t->rec != NULL ? 0 : -1;
}

/* Print a new token once, as root's issue and rotate do; wipe it. */
static int
print_token(const struct ctl *ctl, struct issued *t, const char *replaces,
    int json)
{
	json_t *o;
	int r;

	if (!json) {
		r = ctl_write_secret_line(t->token, strlen(t->token));
	} else {
		o = view_json(ctl, t->rec);
		json_object_set_new(o, "token", json_string(t->token));
		if (replaces != NULL)
			json_object_set_new(o, "replaces",
			    json_string(replaces));
		r = json_print(o, 1);
	}
	apitoken_wipe(t->token, sizeof(t->token));
	return r;
}

/* The record asked for, checked by the same code as root's issue. */
static int
issue_record(struct ctl *ctl, struct ctl_fields *f,
    struct apitoken_record **recp)
{
	struct apitoken_record *rec = apitoken_record_new();
	struct ctl_db db;
	char err[CTL_ERR_MAX] = "";
	int r;

	*recp = NULL;
	if (rec == NULL || apitoken_id_generate(rec->id) != 0)
		return CTL_EXIT_SYSTEM;
	if ((r = self_db_open(ctl, &db)) != CTL_EXIT_OK)
		goto out;
	f->user = ctl->by;
	r = fields_apply(ctl, &db, f, rec, 1, err, sizeof(err));
	db_free(&db);
	if (r != CTL_EXIT_OK) {
		ctl_err("%s", err);
		goto out;
	}
	rec->status = APITOKEN_ACTIVE;
	rec->created = rec->updated = (int64_t)ctl->now;
	if (apitoken_record_set(&rec->created_by, ctl->by) != 0 ||
	    apitoken_record_set(&rec->hash, APITOKEN_HASH_HIDDEN) != 0) {
		r = CTL_EXIT_SYSTEM;
		goto out;
	}
	*recp = rec;
	rec = NULL;
out:
	apitoken_record_free(rec);
	return r;
}

int
self_issue(struct ctl *ctl, struct ctl_fields *f, const char *user, int json)
{
	struct apitoken_record *rec = NULL;
	struct apitoken_msg req;
	struct issued t;
	char *line = NULL;
	int r;

	memset(&t, 0, sizeof(t));
	if (user != NULL && strcmp(user, ctl->by) != 0) {
		ctl_err("you may issue tokens for yourself (%s) only, not for "
		    "'%s'", ctl->by, user);
		return CTL_EXIT_REJECT;
	}
	if (f->parent != NULL) {
		ctl_err("--parent is not available through self-service");
		return CTL_EXIT_USAGE;
	}
	if ((r = issue_record(ctl, f, &rec)) != CTL_EXIT_OK)
		return r;
	apitoken_msg_init(&req, APITOKEN_OP_SELF_ISSUE);
	if ((r = add_record(&req, rec, &line)) == CTL_EXIT_OK &&
	    f->expires != NULL &&
	    apitoken_msg_add_str(&req, APITOKEN_T_ARG, "expires") != 0)
		r = CTL_EXIT_SYSTEM;
	if (r == CTL_EXIT_OK &&
	    (r = exchange(ctl, &req, take_token, &t)) == CTL_EXIT_OK)
		r = t.rec != NULL ? print_token(ctl, &t, NULL, json) :
		    CTL_EXIT_SYSTEM;
	apitoken_wipe(&t, sizeof(t.token));
	apitoken_record_free(t.rec);
	apitoken_record_free(rec);
	free(line);
	return r;
}

int
self_rotate(struct ctl *ctl, const char *id, const char *expires, int json)
{
	struct apitoken_msg req;
	struct issued t;
	char err[CTL_ERR_MAX] = "", when[24];
	int64_t e = 0;
	int r;

	memset(&t, 0, sizeof(t));
	if (expires != NULL && (r = fields_expiry(ctl, NULL, "--expires",
	    expires, "", &e, err, sizeof(err))) != CTL_EXIT_OK) {
		ctl_err("%s", err);
		return r;
	}
	snprintf(when, sizeof(when), "%lld", (long long)e);
	self_lastuse_init(ctl);
	apitoken_msg_init(&req, APITOKEN_OP_SELF_ROTATE);
	if (apitoken_msg_add_str(&req, APITOKEN_T_ID, id) != 0 ||
	    (expires != NULL && apitoken_msg_add_str(&req, APITOKEN_T_EXPIRES,
	    when) != 0)) {
		ctl_err("no token with ID '%s'", id);
		return CTL_EXIT_REJECT;
	}
	if ((r = exchange(ctl, &req, take_token, &t)) == CTL_EXIT_OK)
		r = t.rec != NULL ? print_token(ctl, &t, id, json) :
		    CTL_EXIT_SYSTEM;
	apitoken_wipe(&t, sizeof(t.token));
	apitoken_record_free(t.rec);
	return r;
}

/* --------------------------------------------------------- the others */

/* disable, enable, revoke ID: op with the id (and a reason). */
int
self_simple(struct ctl *ctl, const char *verb, const char *id,
    const char *reason)
{
	struct apitoken_msg req;
	uint8_t op = strcmp(verb, "disable") == 0 ? APITOKEN_OP_SELF_DISABLE :
	    strcmp(verb, "enable") == 0 ? APITOKEN_OP_SELF_ENABLE :
	    APITOKEN_OP_SELF_REVOKE;

	apitoken_msg_init(&req, op);
	if (apitoken_msg_add_str(&req, APITOKEN_T_ID, id) != 0) {
		ctl_err("no token with ID '%s' (not a token ID: %d base62 "
		    "characters)", id, APITOKEN_ID_LEN);
		return CTL_EXIT_REJECT;
	}
	if (reason != NULL && apitoken_msg_add_str(&req, APITOKEN_T_ARG,
	    reason) != 0) {
		ctl_err("invalid --reason: too long");
		return CTL_EXIT_USAGE;
	}
	return exchange(ctl, &req, print_lines, NULL);
}

/* The changed fields' names, as the daemon takes them. */
static int
edit_args(struct apitoken_msg *m, const struct ctl_fields *f)
{
	return (f->label && apitoken_msg_add_str(m, APITOKEN_T_ARG,
	    "label")) || (f->description && apitoken_msg_add_str(m,
	    APITOKEN_T_ARG, "description")) || (f->external_id &&
	    apitoken_msg_add_str(m, APITOKEN_T_ARG, "external_id")) ||
	    (f->services_set && apitoken_msg_add_str(m, APITOKEN_T_ARG,
	    "services")) || (f->from_set && apitoken_msg_add_str(m,
	    APITOKEN_T_ARG, "from")) || (f->expires &&
	    apitoken_msg_add_str(m, APITOKEN_T_ARG, "expires"));
}

int
self_edit(struct ctl *ctl, const char *id, const struct ctl_fields *f)
{
	struct apitoken_record *old, *rec = NULL;
	struct apitoken_msg req;
	struct ctl_db db;
	char err[CTL_ERR_MAX] = "", *line = NULL;
	int r;

	if ((r = self_db_open(ctl, &db)) != CTL_EXIT_OK)
		return r;
	if ((r = db_get(&db, id, &old)) != CTL_EXIT_OK)
		goto out;
	r = CTL_EXIT_REJECT;
	if (old->status == APITOKEN_REVOKED) {
		ctl_err("token %s is revoked; revoked tokens cannot be edited",
		    old->id);
		goto out;
	}
	if ((rec = apitoken_record_dup(old)) == NULL) {
		r = CTL_EXIT_SYSTEM;
		goto out;
	}
	if ((r = fields_apply(ctl, &db, f, rec, 0, err, sizeof(err))) != 0) {
		ctl_err("%s", err);
		goto out;
	}
	apitoken_msg_init(&req, APITOKEN_OP_SELF_EDIT);
	if (apitoken_msg_add_str(&req, APITOKEN_T_ID, old->id) != 0 ||
	    (r = add_record(&req, rec, &line)) != CTL_EXIT_OK ||
	    edit_args(&req, f)) {
		r = r != CTL_EXIT_OK ? r : CTL_EXIT_SYSTEM;
		goto out;
	}
	r = exchange(ctl, &req, print_lines, NULL);
out:
	free(line);
	apitoken_record_free(rec);
	db_free(&db);
	return r;
}
