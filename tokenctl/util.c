/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.c - tokenctl's helpers: messages, allocation that exits on
 * failure, exit status mapping, config loading, who is running us, the
 * audit log, secret-safe output and capped input, time display.
 * Only tokenctl exits on errors; the library never does.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <termios.h>
#include <unistd.h>

#include "tokenctl.h"

static const char *cur_verb;

void
ctl_set_verb(const char *verb)
{
	cur_verb = verb;
}

/* "tokenctl VERB: message" on stderr, escaped: messages quote values. */
void
ctl_err(const char *fmt, ...)
{
	va_list ap;
	char *msg, *safe;
	int n;

	fflush(stdout);
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fputs("tokenctl: out of memory\n", stderr);
		return;
	}
	safe = ctl_escape(msg);
	if (cur_verb != NULL)
		fprintf(stderr, "tokenctl %s: %s\n", cur_verb, safe);
	else
		fprintf(stderr, "tokenctl: %s\n", safe);
	free(msg);
	free(safe);
}

static void
oom(void)
{
	ctl_err("out of memory");
	exit(CTL_EXIT_SYSTEM);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);

	if (p == NULL)
		oom();
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	void *q = reallocarray(p, n == 0 ? 1 : n, size == 0 ? 1 : size);

	if (q == NULL)
		oom();
	return q;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

/* jansson's memory is wiped when freed: JSON output may hold a token. */
static void *
json_xmalloc(size_t n)
{
	return malloc(n);
}

static void
json_wipe_free(void *p)
{
	if (p != NULL)
		apitoken_wipe(p, malloc_usable_size(p));
	free(p);
}

void
ctl_json_init(void)
{
	json_set_alloc_funcs(json_xmalloc, json_wipe_free);
}

mode_t
ctl_store_mode(const struct ctl *ctl)
{
	struct stat st;

	return lstat(apitoken_config_store(ctl->cfg), &st) == 0 ?
	    st.st_mode : 0;
}

void
ctl_warn_exposed(const struct ctl *ctl, mode_t before)
{
	const char *store = apitoken_config_store(ctl->cfg);
	const char *slash = strrchr(store, '/');
	struct stat st;
	char dir[4096];
	size_t n;

	if (before & S_IROTH)	/* the write itself keeps only 0640 */
		fprintf(stderr, "tokenctl: warning: the store %s was readable "
		    "by others (mode %04o) until this write: every token id, "
		    "user, label and hash was visible to every local user\n",
		    store, (unsigned)(before & 07777));
	if (slash == NULL)
		return;
	n = slash == store ? 1 : (size_t)(slash - store);
	if (n >= sizeof(dir))
		return;
	memcpy(dir, store, n);
	dir[n] = '\0';
	if (lstat(dir, &st) == 0 && (st.st_mode & (S_IROTH | S_IXOTH)))
		fprintf(stderr, "tokenctl: warning: the store's directory %s "
		    "is open to others (mode %04o): every local user can "
		    "list it and read what is readable in it; run chmod o-rwx "
		    "%s\n", dir, (unsigned)(st.st_mode & 07777), dir);
}

const char *
ctl_json_error(const json_error_t *e)
{
	static char text[JSON_ERROR_TEXT_LENGTH];
	char *near;

	snprintf(text, sizeof(text), "%s", e->text);
	if ((near = strstr(text, " near ")) != NULL)
		*near = '\0';
	return text;
}

int
ctl_exit_code(int code)
{
	switch (code) {
	case APITOKEN_OK:
		return CTL_EXIT_OK;
	case APITOKEN_ERR_INVALID:
	case APITOKEN_ERR_NOT_FOUND:
	case APITOKEN_ERR_EXISTS:
	case APITOKEN_ERR_TOO_LONG:
	case APITOKEN_ERR_RULE:
		return CTL_EXIT_REJECT;
	case APITOKEN_ERR_CONFIG:
		return CTL_EXIT_CONFIG;
	case APITOKEN_ERR_STORE_MISSING:
	case APITOKEN_ERR_STORE_UNSAFE:
	case APITOKEN_ERR_STORE_FORMAT:
	case APITOKEN_ERR_STORE_VERSION:
	case APITOKEN_ERR_LOCK_TIMEOUT:
	case APITOKEN_ERR_ACCESS:
		return CTL_EXIT_STORE;
	default:
		return CTL_EXIT_SYSTEM;
	}
}

int
ctl_lib_fail(int code, const char *what, const char *msg)
{
	if (msg != NULL && msg[0] != '\0')
		ctl_err("%s: %s", what, msg);
	else
		ctl_err("%s: %s", what, apitoken_strerror(code));
	if (code == APITOKEN_ERR_STORE_MISSING)
		fputs("tokenctl: (create the store with 'tokenctl init')\n",
		    stderr);
	return ctl_exit_code(code);
}

int
ctl_config(struct ctl *ctl)
{
	char err[CTL_ERR_MAX] = "";
	int r;

	if (ctl->cfg != NULL)
		return CTL_EXIT_OK;
	r = apitoken_config_load(ctl->config_path, &ctl->cfg, err,
	    sizeof(err));
	if (r != APITOKEN_OK) {
		if (err[0] != '\0')
			ctl_err("%s", err);
		else
			ctl_err("%s: %s", ctl->config_path,
			    apitoken_strerror(r));
		return r == APITOKEN_ERR_CONFIG ? CTL_EXIT_CONFIG :
		    ctl_exit_code(r);
	}
	return CTL_EXIT_OK;
}

/* A name we are willing to record: one printable word. */
static int
sane_name(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || strlen(s) > APITOKEN_USER_MAX)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f ||
		    s[i] == ',')
			return 0;
	return apitoken_text_valid(s, APITOKEN_USER_MAX) == APITOKEN_OK;
}

/*
 * 1 if this process really came through sudo: the real uid is root,
 * SUDO_UID names the account SUDO_USER, and our parent (sudo, which waits
 * for its command) runs a set-user-ID root executable.  Anyone can set
 * SUDO_USER; only sudo can be such a parent.
 */
static int
via_sudo(const char *sudo_user)
{
	const char *uidstr = getenv("SUDO_UID");
	struct passwd *pw;
	struct stat st;
	char exe[64], *end;
	unsigned long uid;

	if (getuid() != 0 || !sane_name(sudo_user) || uidstr == NULL ||
	    uidstr[0] == '\0')
		return 0;
	errno = 0;
	uid = strtoul(uidstr, &end, 10);
	if (errno != 0 || *end != '\0' || (pw = getpwnam(sudo_user)) == NULL ||
	    (unsigned long)pw->pw_uid != uid)
		return 0;
	snprintf(exe, sizeof(exe), "/proc/%ld/exe", (long)getppid());
	return stat(exe, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == 0 && (st.st_mode & S_ISUID) != 0;
}

void
ctl_actor(struct ctl *ctl)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	ctl->uid = (unsigned long)getuid();
	pw = getpwuid(getuid());
	if (pw != NULL && sane_name(pw->pw_name))
		snprintf(ctl->by, sizeof(ctl->by), "%s", pw->pw_name);
	else
		snprintf(ctl->by, sizeof(ctl->by), "uid-%lu", ctl->uid);
	ctl->sudo_user[0] = '\0';
	if (via_sudo(sudo))
		snprintf(ctl->sudo_user, sizeof(ctl->sudo_user), "%s", sudo);
	snprintf(ctl->actor, sizeof(ctl->actor), "%s",
	    ctl->sudo_user[0] != '\0' ? ctl->sudo_user : ctl->by);
}

int
ctl_user_exists(const char *user)
{
	return user != NULL && user[0] != '\0' && getpwnam(user) != NULL;
}

int
ctl_real_user(char *buf, size_t size)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw == NULL || strlen(pw->pw_name) >= size) {
		ctl_err("the real uid %lu has no account name; give --user",
		    (unsigned long)getuid());
		return CTL_EXIT_REJECT;
	}
	snprintf(buf, size, "%s", pw->pw_name);
	return CTL_EXIT_OK;
}

const char *
ctl_esc(const char *s, int quoted)
{
	static char ring[4][4 * CTL_ESC_MAX + 1];
	static unsigned next;
	char *buf = ring[next++ % 4];

	apitoken_log_escape(buf, sizeof(ring[0]), s, quoted);
	return buf;
}

void
ctl_audit(const struct ctl *ctl, const char *fmt, ...)
{
	char msg[2048], *safe;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	safe = ctl_escape(msg);	/* values are ctl_esc'ed: a no-op */
	if (ctl->sudo_user[0] != '\0')
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s by=%s uid=%lu sudo_user=%s",
		    safe, ctl_esc(ctl->by, 0), ctl->uid,
		    ctl_esc(ctl->sudo_user, 0));
	else
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s by=%s uid=%lu", safe,
		    ctl_esc(ctl->by, 0), ctl->uid);
	free(safe);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
ctl_write_secret_line(const char *s, size_t len)
{
	if (fflush(stdout) != 0 || write_all(STDOUT_FILENO, s, len) != 0 ||
	    write_all(STDOUT_FILENO, "\n", 1) != 0) {
		ctl_err("cannot write to standard output: %s",
		    strerror(errno));
		return CTL_EXIT_SYSTEM;
	}
	return CTL_EXIT_OK;
}

int
ctl_read_capped(int fd, char *buf, size_t max, size_t *lenp)
{
	size_t n = 0;
	ssize_t r;

	*lenp = 0;
	for (;;) {
		r = read(fd, buf + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return APITOKEN_ERR_SYSTEM;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max)
			return APITOKEN_ERR_TOO_LONG;
	}
	*lenp = n;
	return APITOKEN_OK;
}

/* A terminal: prompt on stderr, no echo, one line. */
static int
read_tty_line(int fd, char *buf, size_t max, size_t *lenp)
{
	struct termios old, quiet;
	size_t n = 0;
	ssize_t r;
	char c;
	int e = APITOKEN_OK;

	if (tcgetattr(fd, &old) != 0)
		return ctl_read_capped(fd, buf, max, lenp);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	fputs("token: ", stderr);	/* after echo is off */
	fflush(stderr);
	while ((r = read(fd, &c, 1)) == 1 && c != '\n') {
		if (n == max) {
			e = APITOKEN_ERR_TOO_LONG;
			break;
		}
		buf[n++] = c;
	}
	if (r < 0)
		e = APITOKEN_ERR_SYSTEM;
	tcsetattr(fd, TCSAFLUSH, &old);
	fputc('\n', stderr);
	apitoken_wipe(&c, sizeof(c));
	*lenp = e == APITOKEN_OK ? n : 0;
	return e;
}

int
ctl_read_secret(char *buf, size_t max, size_t *lenp)
{
	*lenp = 0;
	if (isatty(STDIN_FILENO))
		return read_tty_line(STDIN_FILENO, buf, max, lenp);
	return ctl_read_capped(STDIN_FILENO, buf, max, lenp);
}

void
ctl_no_core(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);	/* a core would hold secrets */
}

void
ctl_time_abs(int64_t t, char *buf, size_t size)
{
	if (t == 0 || apitoken_time_format(t, buf, size) != APITOKEN_OK)
		snprintf(buf, size, "-");
}

void
ctl_time_rel(int64_t t, time_t now, char *buf, size_t size)
{
	int64_t d = t - (int64_t)now, a = d < 0 ? -d : d, n;
	char unit;

	if (a < 60) {
		n = a, unit = 's';
	} else if (a < 3600) {
		n = a / 60, unit = 'm';
	} else if (a < 86400) {
		n = a / 3600, unit = 'h';
	} else if (a < 365LL * 86400) {
		n = a / 86400, unit = 'd';
	} else {
		n = a / (365LL * 86400), unit = 'y';
	}
	if (d == 0)
		snprintf(buf, size, "now");
	else if (d > 0)
		snprintf(buf, size, "in %lld%c", (long long)n, unit);
	else
		snprintf(buf, size, "%lld%c ago", (long long)n, unit);
}

void
ctl_time_both(int64_t t, time_t now, const char *none_text, char *buf,
    size_t size)
{
	char abs[32], rel[32];

	if (t == 0) {
		snprintf(buf, size, "%s", none_text);
		return;
	}
	ctl_time_abs(t, abs, sizeof(abs));
	ctl_time_rel(t, now, rel, sizeof(rel));
	snprintf(buf, size, "%s (%s)", abs, rel);
}

int
ctl_bad_option(int argc, char **argv, int c)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] :
	    "?";

	if (c == ':')
		ctl_err("option '%s' needs an argument", arg);
	else if (optopt != 0 && strncmp(arg, "--", 2) == 0)
		ctl_err("option '%s' takes no argument", arg);
	else if (optopt != 0 && optopt != '?')
		ctl_err("unknown option '-%c'", optopt);
	else
		ctl_err("unknown option '%s'", arg);
	return ctl_help(cur_verb, 0);
}

/* getopt_long values of a ctl_opt table: CTL_OPT_VAL + its index. */
#define CTL_OPT_VAL	256
#define CTL_OPT_MAX	16

int
ctl_options(const char *verb, int argc, char **argv, const struct ctl_opt *o)
{
	struct option lo[CTL_OPT_MAX + 2];
	size_t i, n;
	int c;

	for (n = 0; o[n].name != NULL; n++) {
		if (n == CTL_OPT_MAX)
			abort();	/* a verb's table outgrew lo */
		lo[n].name = o[n].name;
		lo[n].has_arg = o[n].arg != NULL ? required_argument :
		    no_argument;
		lo[n].flag = NULL;
		lo[n].val = CTL_OPT_VAL + (int)n;
	}
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n + 1] = (struct option){ NULL, 0, NULL, 0 };
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'h')
			return ctl_help(verb, 1);
		if (c < CTL_OPT_VAL)
			return ctl_bad_option(argc, argv, c);
		i = (size_t)(c - CTL_OPT_VAL);
		if (o[i].arg != NULL)
			*o[i].arg = optarg;
		else
			*o[i].flag = 1;
	}
	return CTL_GO;
}
