/*
 * sx.c - fixtures for tests/stress and tests/badinput: temp environments,
 * a process runner that captures stdout and stderr separately, file
 * helpers, and a parsed snapshot of the store's records.
 */
#include "stress/sx.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

/*
 * Criterion's reporting (cr_assert, cr_log) must only be used by the
 * test process itself: a forked child that calls it blocks forever on
 * the runner's socket.  Helpers that children also run use CHECK.
 */
static int in_child;

#define CHECK(cond, ...) do {						\
	if (!in_child) {						\
		cr_assert(cond, __VA_ARGS__);				\
	} else if (!(cond)) {						\
		fprintf(stderr, "sx: child %d: ", (int)getpid());	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		_exit(125);						\
	}								\
} while (0)

pid_t
sx_fork(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		in_child = 1;
		/* never outlive the test (a timed-out test is killed) */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	}
	return pid;
}

/* ------------------------------------------------------ environment */

static void
write_config(struct sx_env *e, const char *extra)
{
	char buf[4096];
	int n;

	n = snprintf(buf, sizeof(buf),
	    "# stress/badinput test config\n"
	    "store: %s\n"
	    "state_dir: %s\n"
	    "%s",
	    e->store, e->state, extra ? extra : "");
	cr_assert(n > 0 && (size_t)n < sizeof(buf));
	sx_write_file(e->conf, buf, (size_t)n, 0600);
}

static void
load_config(struct sx_env *e)
{
	char err[SX_ERRLEN] = "";
	int r;

	apitoken_config_free(e->cfg);
	e->cfg = NULL;
	r = apitoken_config_load(e->conf, &e->cfg, err, sizeof(err));
	cr_assert_eq(r, 0, "config_load(%s) = %d: %s", e->conf, r, err);
}

void
sx_setup(struct sx_env *e, const char *extra)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->dir, sizeof(e->dir), "/tmp/apitoken-stress.XXXXXX");
	cr_assert_not_null(mkdtemp(e->dir), "mkdtemp: %s", strerror(errno));
	snprintf(e->dbdir, sizeof(e->dbdir), "%s/db", e->dir);
	snprintf(e->store, sizeof(e->store), "%s/tokens", e->dbdir);
	snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
	snprintf(e->conf, sizeof(e->conf), "%s/apitoken.yaml", e->dir);
	cr_assert_eq(mkdir(e->dbdir, 0700), 0, "mkdir %s", e->dbdir);
	cr_assert_eq(mkdir(e->state, 0700), 0, "mkdir %s", e->state);
	write_config(e, extra);
	load_config(e);
}

void
sx_reconfig(struct sx_env *e, const char *extra)
{
	write_config(e, extra);
	load_config(e);
}

void
sx_teardown(struct sx_env *e)
{
	apitoken_config_free(e->cfg);
	e->cfg = NULL;
	if (e->dir[0] == '\0')
		return;
	/* undo chmod/chown games so the tree can be removed */
	(void)!chown(e->dir, 0, 0);
	(void)!chmod(e->dir, 0700);
	(void)!chown(e->dbdir, 0, 0);
	(void)!chmod(e->dbdir, 0700);
	sx_rmrf(e->dir);
	e->dir[0] = '\0';
}

void
sx_store_create(struct sx_env *e)
{
	struct apitoken_txn *t = NULL;
	char err[SX_ERRLEN] = "";
	int r;

	r = apitoken_txn_begin(e->cfg, APITOKEN_TXN_CREATE, &t, err,
	    sizeof(err));
	cr_assert_eq(r, 0, "txn_begin: %d %s", r, err);
	r = apitoken_txn_commit(t, err, sizeof(err));
	apitoken_txn_free(t);
	cr_assert_eq(r, 0, "txn_commit: %d %s", r, err);
}

void
sx_issue_lib(struct sx_env *e, const char *user, const char *label,
    char tok[SX_TOKBUF], char id[APITOKEN_ID_LEN + 1])
{
	struct apitoken_token parts;
	struct apitoken_record *rec;
	struct apitoken_txn *t = NULL;
	char hash[APITOKEN_HASH_MAX], err[SX_ERRLEN] = "";
	int r;

	r = apitoken_token_generate(apitoken_config_token_prefix(e->cfg), tok,
	    SX_TOKBUF, &parts, hash);
	cr_assert_eq(r, 0, "token_generate: %d", r);
	memcpy(id, parts.id, APITOKEN_ID_LEN + 1);
	apitoken_token_clear(&parts);
	rec = apitoken_record_new();
	cr_assert_not_null(rec);
	memcpy(rec->id, id, APITOKEN_ID_LEN + 1);
	rec->status = APITOKEN_ACTIVE;
	cr_assert_eq(apitoken_record_set(&rec->user, user), 0);
	cr_assert_eq(apitoken_record_set(&rec->hash, hash), 0);
	cr_assert_eq(apitoken_record_set(&rec->label, label), 0);
	cr_assert_eq(apitoken_record_set(&rec->created_by, "stress-test"), 0);
	rec->created = rec->updated = (int64_t)time(NULL);
	r = apitoken_txn_begin(e->cfg, APITOKEN_TXN_CREATE, &t, err,
	    sizeof(err));
	cr_assert_eq(r, 0, "txn_begin: %d %s", r, err);
	r = apitoken_txn_insert(t, rec, err, sizeof(err));
	cr_assert_eq(r, 0, "txn_insert: %d %s", r, err);
	r = apitoken_txn_commit(t, err, sizeof(err));
	cr_assert_eq(r, 0, "txn_commit: %d %s", r, err);
	apitoken_txn_free(t);
	apitoken_record_free(rec);
}

/* -------------------------------------------------------- processes */

int64_t
sx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
buf_append(char **buf, size_t *len, const char *p, size_t n)
{
	char *nb = realloc(*buf, *len + n + 1);

	CHECK(nb != NULL, "out of memory");
	memcpy(nb + *len, p, n);
	*len += n;
	nb[*len] = '\0';
	*buf = nb;
}

static void
child_exec(char *const argv[], int in, int out, int err)
{
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	execv(argv[0], argv);
	_exit(127);
}

/* Feed input, drain stdout/stderr until both close or the deadline. */
static void
pump(int fin, int fout, int ferr, const char *input, size_t inlen,
    struct sx_proc *p, pid_t pid, int64_t deadline)
{
	struct pollfd pf[3];
	char buf[65536];
	size_t off = 0;
	ssize_t n;
	int open_out = 1, open_err = 1, killed = 0, i;

	if (inlen == 0 && fin >= 0) {
		close(fin);
		fin = -1;
	}
	while (open_out || open_err) {
		pf[0] = (struct pollfd){ fin, POLLOUT, 0 };
		pf[1] = (struct pollfd){ open_out ? fout : -1, POLLIN, 0 };
		pf[2] = (struct pollfd){ open_err ? ferr : -1, POLLIN, 0 };
		i = poll(pf, 3, 100);
		if (!killed && sx_now_ms() > deadline) {
			kill(pid, SIGKILL);
			killed = 1;
		}
		if (i <= 0)
			continue;
		if (fin >= 0 && (pf[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = write(fin, input + off, inlen - off);
			if (n > 0)
				off += (size_t)n;
			if (n < 0 || off == inlen) {
				close(fin);
				fin = -1;
			}
		}
		if (pf[1].revents) {
			n = read(fout, buf, sizeof(buf));
			if (n > 0)
				buf_append(&p->out, &p->outlen, buf, (size_t)n);
			else
				open_out = 0;
		}
		if (pf[2].revents) {
			n = read(ferr, buf, sizeof(buf));
			if (n > 0)
				buf_append(&p->err, &p->errlen, buf, (size_t)n);
			else
				open_err = 0;
		}
	}
	if (fin >= 0)
		close(fin);
}

int
sx_run(char *const argv[], const char *input, size_t inlen,
    struct sx_proc *p, int timeout_ms)
{
	int pin[2], pout[2], perr[2], st = 0;
	struct rusage ru;
	void (*old)(int);
	int64_t t0 = sx_now_ms();
	pid_t pid;

	memset(p, 0, sizeof(*p));
	buf_append(&p->out, &p->outlen, "", 0);
	buf_append(&p->err, &p->errlen, "", 0);
	CHECK(pipe2(pin, O_CLOEXEC) == 0 && pipe2(pout, O_CLOEXEC) == 0 &&
	    pipe2(perr, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	old = signal(SIGPIPE, SIG_IGN);
	pid = sx_fork();
	if (pid == 0)
		child_exec(argv, pin[0], pout[1], perr[1]);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	pump(pin[1], pout[0], perr[0], input, input ? inlen : 0, p, pid,
	    t0 + timeout_ms);
	close(pout[0]);
	close(perr[0]);
	memset(&ru, 0, sizeof(ru));
	while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
		;
	signal(SIGPIPE, old);
	p->ms = sx_now_ms() - t0;
	p->maxrss_kb = ru.ru_maxrss;
	if (WIFEXITED(st))
		p->status = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		p->status = 128 + WTERMSIG(st);
	else
		p->status = -1;
	return p->status;
}

void
sx_proc_free(struct sx_proc *p)
{
	free(p->out);
	free(p->err);
	memset(p, 0, sizeof(*p));
}

int
sx_ctlv(const struct sx_env *e, const char *conf, struct sx_proc *p,
    const char *input, const char *const *args)
{
	const char *argv[64];
	size_t n = 0;

	argv[n++] = SX_TOKCTL;
	argv[n++] = "-c";
	argv[n++] = conf ? conf : e->conf;
	while (*args != NULL && n < 63)
		argv[n++] = *args++;
	argv[n] = NULL;
	/* execv's argv is char *const[]; the strings are not modified */
	return sx_run((char *const *)(uintptr_t)argv, input,
	    input ? strlen(input) : 0, p, 60000);
}

int
sx_ctl(const struct sx_env *e, struct sx_proc *p, const char *input, ...)
{
	const char *args[60];
	size_t n = 0;
	va_list ap;

	va_start(ap, input);
	while (n < 59 && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	return sx_ctlv(e, NULL, p, input, args);
}

pid_t
sx_ctl_spawn(const struct sx_env *e, const char *const *args)
{
	const char *argv[64];
	size_t n = 0;
	pid_t pid;
	int nul;

	argv[n++] = SX_TOKCTL;
	argv[n++] = "-c";
	argv[n++] = e->conf;
	while (*args != NULL && n < 63)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = sx_fork();
	if (pid == 0) {
		nul = open("/dev/null", O_RDWR);
		if (nul < 0)
			_exit(126);
		child_exec((char *const *)(uintptr_t)argv, nul, nul, nul);
	}
	return pid;
}

/* ------------------------------------------------------------ files */

void
sx_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd;
	ssize_t w;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	w = len ? write(fd, data, len) : 0;
	cr_assert_eq((size_t)w, len, "write %s", path);
	cr_assert_eq(fchmod(fd, mode), 0);
	cr_assert_eq(close(fd), 0);
}

char *
sx_read_file(const char *path, size_t *lenp)
{
	char *buf = NULL, chunk[65536];
	size_t len = 0;
	ssize_t n;
	int fd;

	*lenp = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	buf_append(&buf, &len, "", 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&buf, &len, chunk, (size_t)n);
	close(fd);
	*lenp = len;
	return buf;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D || flag == FTW_DNR)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

void
sx_rmrf(const char *path)
{
	if (path == NULL || strncmp(path, "/tmp/", 5) != 0)
		return;
	(void)nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int
sx_count_prefix(const char *dir, const char *prefix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

int
sx_mem_contains(const char *hay, size_t hlen, const char *needle,
    size_t nlen)
{
	return hay != NULL && nlen > 0 && memmem(hay, hlen, needle, nlen) !=
	    NULL;
}

static const char *scan_needle;
static size_t scan_nlen;
static int scan_hits;

static int
scan_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	size_t len;
	char *buf;

	(void)ftw;
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	buf = sx_read_file(path, &len);
	if (sx_mem_contains(buf, len, scan_needle, scan_nlen)) {
		fprintf(stderr, "secret found in %s\n", path);
		scan_hits++;
	}
	free(buf);
	return 0;
}

int
sx_file_contains(const char *path, const char *needle, size_t len)
{
	scan_needle = needle;
	scan_nlen = len;
	scan_hits = 0;
	(void)nftw(path, scan_cb, 16, FTW_PHYS);
	return scan_hits > 0;
}

/* ------------------------------------------------------ record sets */

static int
recset_add(struct apitoken_record **recp, void *ctx)
{
	struct sx_recset *s = ctx;
	struct apitoken_record *r = *recp;
	char *line = NULL;
	size_t len;
	int rc;

	if ((rc = apitoken_record_format(r, &line, &len)) != 0)
		return rc;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->ids = reallocarray(s->ids, s->cap, sizeof(*s->ids));
		s->lines = reallocarray(s->lines, s->cap, sizeof(*s->lines));
		s->recs = reallocarray(s->recs, s->cap, sizeof(*s->recs));
		if (s->ids == NULL || s->lines == NULL || s->recs == NULL) {
			free(line);
			return APITOKEN_ERR_NOMEM;
		}
	}
	memcpy(s->ids[s->n], r->id, APITOKEN_ID_LEN + 1);
	s->lines[s->n] = line;
	s->recs[s->n] = r;
	*recp = NULL;	/* stolen */
	s->n++;
	return 0;
}

int
sx_recset_load(const struct apitoken_config *cfg, struct sx_recset *s,
    char *err, size_t errlen)
{
	struct apitoken_store *st = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	r = apitoken_store_open(cfg, &st, err, errlen);
	if (r != 0)
		return r;
	r = apitoken_store_foreach(st, recset_add, s, err, errlen);
	apitoken_store_close(st);
	return r;
}

void
sx_recset_free(struct sx_recset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->lines[i]);
		apitoken_record_free(s->recs[i]);
	}
	free(s->ids);
	free(s->lines);
	free(s->recs);
	memset(s, 0, sizeof(*s));
}

ssize_t
sx_recset_find(const struct sx_recset *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], id) == 0)
			return (ssize_t)i;
	return -1;
}

/* ------------------------------------------------------------- misc */

static uint32_t
crc32_ieee(const char *p, size_t n)
{
	uint32_t c = 0xffffffffU;
	int k;

	while (n--) {
		c ^= (unsigned char)*p++;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320U & (0U - (c & 1)));
	}
	return ~c;
}

void
sx_token_build(const char *prefix, const char *id, const char *secret,
    char *out, size_t outsize)
{
	static const char b62[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char crc[7];
	uint32_t v;
	int n, i;

	n = snprintf(out, outsize, "%s_%s_%s", prefix, id, secret);
	CHECK(n > 0 && (size_t)n + 7 <= outsize, "token buffer too small");
	v = crc32_ieee(out, (size_t)n);
	for (i = 5; i >= 0; i--, v /= 62)
		crc[i] = b62[v % 62];
	crc[6] = '\0';
	memcpy(out + n, crc, 7);
}

int
sx_json_id(const char *text, char id[APITOKEN_ID_LEN + 1])
{
	json_error_t je;
	json_t *o = json_loads(text, JSON_DISABLE_EOF_CHECK, &je), *v;
	int r = -1;

	id[0] = '\0';
	if (o == NULL)
		return -1;
	v = json_object_get(o, "id");
	if (json_is_string(v) &&
	    apitoken_id_valid(json_string_value(v)) == 0) {
		snprintf(id, APITOKEN_ID_LEN + 1, "%s", json_string_value(v));
		r = 0;
	}
	json_decref(o);
	return r;
}

static uint64_t rng_state;

void
sx_rand_seed(const char *what)
{
	const char *s = getenv("SX_SEED");

	rng_state = s ? strtoull(s, NULL, 0) : (uint64_t)sx_now_ms() ^
	    ((uint64_t)getpid() << 32);
	if (rng_state == 0)
		rng_state = 0x9e3779b97f4a7c15ULL;
	/* stderr, not cr_log: writer children call this too */
	fprintf(stderr, "%s: SX_SEED=%llu\n", what,
	    (unsigned long long)rng_state);
}

uint64_t
sx_rand(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

void
sx_watchdog(unsigned secs)
{
	signal(SIGALRM, SIG_DFL);
	alarm(secs);
}

long
sx_knob(const char *name, long def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return def;
	v = strtol(s, &end, 10);
	return *end == '\0' && v > 0 ? v : def;
}
