/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.c - apitoken.yaml, read with libyaml (the only file that
 * includes <yaml.h>).  A flat mapping of the keys in keys[] below, each
 * with its type, limits and default; unknown keys, duplicates, wrong
 * types and bad values are errors reported as "path:line:column: ...".
 * The file itself must pass the trusted-file rule (no symlink, owner root
 * or euid, not group/other-writable).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "internal.h"

#define CONFIG_SIZE_MAX (64 * 1024)

/* a list key's values (the record list helpers keep it) */
struct strlist {
	char **v;
	size_t n;
};

struct apitoken_config {
	char *path;
	char *store;
	char *state_dir;
	char prefix[APITOKEN_PREFIX_MAX + 1];
	int64_t default_lifetime;
	int64_t max_lifetime;
	int64_t lock_timeout_ms;
	uint64_t max_store_size;
	struct svc_aliases aliases;
	struct strlist http_listen;
	struct strlist http_proxies;
	struct self_conf self;		/* self_service (selfconf.c) */
	char *daemon_socket;
	struct svc_aliases callers;	/* daemon_callers: (who, service) */
	int64_t max_failures;
	int64_t failure_window;		/* seconds */
	int64_t lockout;		/* seconds */
	struct hostid host;	/* host_name and host_groups */
	char *pg_conninfo;	/* postgresql.conninfo; NULL: no fleet */
	char *pg_passfile;	/* postgresql.passfile, or NULL */
	int64_t max_staleness;	/* seconds, or APITOKEN_NEVER */
};

enum kind {
	K_PATH,		/* char *: an absolute, clean path */
	K_PREFIX,	/* char[]: a token prefix */
	K_LIFETIME,	/* int64_t: a duration, or "never" */
	K_DURATION,	/* int64_t: a duration from min to max s, times unit */
	K_SIZE,		/* uint64_t: bytes with K/M/G, from min to max */
	K_ALIASES,	/* struct svc_aliases: service -> [services] */
	K_LIST,		/* struct strlist: a sequence of scalars, each
			   checked by list_item (default: empty) */
	K_SELF,		/* struct self_conf: a mapping of its own keys */
	K_CALLERS,	/* struct svc_aliases: user|@group -> [services] */
	K_COUNT,	/* int64_t: a whole number from min to max */
	K_HOST_NAME,	/* struct hostid: its name; default gethostname(2) */
	K_HOST_GROUPS,	/* struct hostid: its groups, a list of names */
	K_PG,		/* pg_conninfo, pg_passfile: a mapping (pgconf.c
			   checks conninfo); default: absent */
};

struct key {
	const char *name;
	enum kind kind;
	size_t off;		/* the field in struct apitoken_config */
	int64_t min, max, unit;
	const char *def;	/* the default, written as in the file; NULL:
				   computed (host_name) */
	const char *msg;	/* what a bad value is told */
};

enum {
	KEY_STORE, KEY_STATE_DIR, KEY_PREFIX, KEY_DEFAULT_LIFETIME,
	KEY_MAX_LIFETIME, KEY_LOCK_TIMEOUT, KEY_MAX_STORE_SIZE, KEY_ALIASES,
	KEY_HTTP_LISTEN, KEY_HTTP_PROXIES,
	KEY_SELF,
	KEY_DAEMON_SOCKET, KEY_DAEMON_CALLERS, KEY_MAX_FAILURES,
	KEY_FAILURE_WINDOW, KEY_LOCKOUT,
	KEY_HOST_NAME, KEY_HOST_GROUPS,
	KEY_PG, KEY_MAX_STALENESS,
	KEY_COUNT
};
_Static_assert(KEY_COUNT <= 32, "struct walker's seen is 32 bits");

static int
listen_item(const char *s, char *err, size_t errlen)
{
	struct apitoken_listen l;

	return apitoken_listen_parse(s, &l, err, errlen);
}

/* "unix" (a peer on an http_listen Unix socket) or a CIDR that is not
 * every address: trusting the world's X-Forwarded-For is no check. */
static int
proxy_item(const char *s, char *err, size_t errlen)
{
	const char *slash = strrchr(s, '/');

	if (strcmp(s, "unix") == 0)
		return APITOKEN_OK;
	if (apitoken_cidr_strict(s, NULL, 0) != 0)
		return set_err(err, errlen, APITOKEN_ERR_INVALID, "must be "
		    "\"unix\", an address or a CIDR with no host bits "
		    "(127.0.0.1, ::1, 10.0.0.0/8)");
	if (slash != NULL && strcmp(slash, "/0") == 0)
		return set_err(err, errlen, APITOKEN_ERR_INVALID, "would trust "
		    "every address to name its client");
	return APITOKEN_OK;
}

#define F(field) offsetof(struct apitoken_config, field)
#define MSG_PATH "must be an absolute path (no \".\", \"..\", \"//\" or " \
	"trailing \"/\")"
#define MSG_LIFETIME "must be a duration such as 30m, 12h, 90d, 2w, 1y, " \
	"or \"never\""

/* Every key of apitoken.yaml; apitoken.yaml(5) documents each. */
static const struct key keys[KEY_COUNT] = {
	[KEY_STORE] = { "store", K_PATH, F(store), 0, 0, 0,
	    "/var/lib/apitoken/tokens", MSG_PATH },
	[KEY_STATE_DIR] = { "state_dir", K_PATH, F(state_dir), 0, 0, 0,
	    "/var/lib/apitoken/state", MSG_PATH },
	[KEY_PREFIX] = { "token_prefix", K_PREFIX, F(prefix), 0, 0, 0,
	    APITOKEN_DEFAULT_PREFIX, "must be 1 to 16 characters of [a-z0-9]" },
	[KEY_DEFAULT_LIFETIME] = { "default_lifetime", K_LIFETIME,
	    F(default_lifetime), 0, 0, 0, "90d", MSG_LIFETIME },
	[KEY_MAX_LIFETIME] = { "max_lifetime", K_LIFETIME, F(max_lifetime),
	    0, 0, 0, "1y", MSG_LIFETIME },
	[KEY_LOCK_TIMEOUT] = { "lock_timeout", K_DURATION, F(lock_timeout_ms),
	    1, 3600, 1000, "10s", "must be a duration from 1s to 1h" },
	[KEY_MAX_STORE_SIZE] = { "max_store_size", K_SIZE, F(max_store_size),
	    4096, 1LL << 40, 0, "1G",
	    "must be a size in bytes (suffix K, M or G), 4K to 1024G" },
	[KEY_ALIASES] = { "service_aliases", K_ALIASES, F(aliases), 0, 0, 0,
	    "su:su-l sudo:sudo-i", "wrong type: expected a mapping of "
	    "service names to lists of service names" },
	/* apitokend(8), HTTP */
	[KEY_HTTP_LISTEN] = { "http_listen", K_LIST, F(http_listen), 0, 16,
	    0, "", "expected a list of at most 16 addresses" },
	[KEY_HTTP_PROXIES] = { "http_trusted_proxies", K_LIST,
	    F(http_proxies), 0, 64, 0, "",
	    "expected a list of at most 64 CIDRs" },
	[KEY_SELF] = { "self_service", K_SELF, F(self), 0, 0, 0, "",
	    "wrong type: expected a mapping (enabled, services, "
	    "max_lifetime, max_tokens, allow_from_required, users, groups, "
	    "reauth_service)" },
	/* apitokend(8) */
	[KEY_DAEMON_SOCKET] = { "daemon_socket", K_PATH, F(daemon_socket),
	    0, 0, 0, APITOKEN_DEFAULT_SOCKET, MSG_PATH },
	[KEY_DAEMON_CALLERS] = { "daemon_callers", K_CALLERS, F(callers),
	    0, 0, 0, "", "wrong type: expected a mapping of user names or "
	    "@group names to lists of PAM service names" },
	[KEY_MAX_FAILURES] = { "max_failures", K_COUNT, F(max_failures),
	    1, 1000000, 0, "10", "must be a whole number from 1 to 1000000" },
	[KEY_FAILURE_WINDOW] = { "failure_window", K_DURATION,
	    F(failure_window), 1, 7 * 86400, 1, "15m",
	    "must be a duration from 1s to 7d" },
	[KEY_LOCKOUT] = { "lockout", K_DURATION, F(lockout), 1, 7 * 86400, 1,
	    "15m", "must be a duration from 1s to 7d" },
	[KEY_HOST_NAME] = { "host_name", K_HOST_NAME, F(host), 0, 0, 0,
	    NULL, NULL },
	[KEY_HOST_GROUPS] = { "host_groups", K_HOST_GROUPS, F(host), 0, 0, 0,
	    "", "wrong type: expected a list of host group names" },
	/* the fleet (apitoken.yaml(5), "Fleet") */
	[KEY_PG] = { "postgresql", K_PG, F(pg_conninfo), 0, 0, 0, "",
	    "wrong type: expected a mapping (conninfo, passfile)" },
	[KEY_MAX_STALENESS] = { "max_staleness", K_LIFETIME,
	    F(max_staleness), 0, 0, 0, "24h", MSG_LIFETIME },
};

const char *apitoken_config_path(const struct apitoken_config *c) { return c->path; }
const char *apitoken_config_store(const struct apitoken_config *c) { return c->store; }
const char *apitoken_config_state_dir(const struct apitoken_config *c) { return c->state_dir; }
const char *apitoken_config_token_prefix(const struct apitoken_config *c) { return c->prefix; }
int64_t apitoken_config_default_lifetime(const struct apitoken_config *c) { return c->default_lifetime; }
int64_t apitoken_config_max_lifetime(const struct apitoken_config *c) { return c->max_lifetime; }
int64_t apitoken_config_lock_timeout_ms(const struct apitoken_config *c) { return c->lock_timeout_ms; }
uint64_t apitoken_config_max_store_size(const struct apitoken_config *c) { return c->max_store_size; }
const struct svc_aliases *config_aliases(const struct apitoken_config *c) { return &c->aliases; }
const char *apitoken_config_http_listen(const struct apitoken_config *c, size_t i) { return i < c->http_listen.n ? c->http_listen.v[i] : NULL; }
const char *apitoken_config_http_trusted_proxy(const struct apitoken_config *c, size_t i) { return i < c->http_proxies.n ? c->http_proxies.v[i] : NULL; }
const struct apitoken_self_service *apitoken_config_self_service(const struct apitoken_config *c) { return &c->self.pub; }
const char *apitoken_config_daemon_socket(const struct apitoken_config *c) { return c->daemon_socket; }
int64_t apitoken_config_max_failures(const struct apitoken_config *c) { return c->max_failures; }
int64_t apitoken_config_failure_window(const struct apitoken_config *c) { return c->failure_window; }
int64_t apitoken_config_lockout(const struct apitoken_config *c) { return c->lockout; }
const char *apitoken_config_pg_conninfo(const struct apitoken_config *c) { return c->pg_conninfo; }
const char *apitoken_config_pg_passfile(const struct apitoken_config *c) { return c->pg_passfile; }
int64_t apitoken_config_max_staleness(const struct apitoken_config *c) { return c->max_staleness; }

int
apitoken_config_caller_allowed(const struct apitoken_config *c,
    const char *who, const char *service)
{
	return callers_allowed(&c->callers, who, service);
}

const struct hostid *config_hostid(const struct apitoken_config *c) { return &c->host; }
const char *apitoken_config_host_name(const struct apitoken_config *c) { return c->host.name; }

const char *
apitoken_config_host_group(const struct apitoken_config *c, size_t i)
{
	return i < c->host.n_groups ? c->host.groups[i] : NULL;
}

int
apitoken_config_hosts_allow(const struct apitoken_config *c,
    char *const *hosts, size_t n)
{
	return hostid_allows(&c->host, hosts, n);
}

int
apitoken_config_service_covers(const struct apitoken_config *c,
    const char *svc, const char *req)
{
	return aliases_covers(&c->aliases, svc, req);
}

const char *
apitoken_config_service_alias(const struct apitoken_config *c,
    const char *svc, size_t i)
{
	return aliases_nth(&c->aliases, svc, i);
}

static void
pg_clear(struct apitoken_config *c)
{
	free(c->pg_conninfo);
	free(c->pg_passfile);
	c->pg_conninfo = c->pg_passfile = NULL;
}

void
apitoken_config_free(struct apitoken_config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->store);
	free(c->state_dir);
	aliases_clear(&c->aliases);
	apitoken_record_list_clear(&c->http_listen.v, &c->http_listen.n);
	apitoken_record_list_clear(&c->http_proxies.v, &c->http_proxies.n);
	self_conf_clear(&c->self);
	free(c->daemon_socket);
	callers_clear(&c->callers);
	pg_clear(c);
	free(c);
}

/* An absolute path without "." / ".." components or a trailing slash. */
int
abs_path_ok(const char *s)
{
	size_t n = strlen(s);

	return s[0] == '/' && n > 1 && n < 4096 && s[n - 1] != '/' &&
	    strstr(s, "/./") == NULL && strstr(s, "/../") == NULL &&
	    strstr(s, "//") == NULL &&
	    (n < 3 || strcmp(s + n - 3, "/..") != 0) &&
	    (n < 2 || strcmp(s + n - 2, "/.") != 0);
}

/* "<n>[KMG]" bytes, from min to max. */
static int
size_parse(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	uint64_t n = 0, mult = 1;
	size_t i, len = strlen(s);

	if (len == 0 || len > 15)
		return -1;
	switch (s[len - 1]) {
	case 'K': mult = 1ULL << 10; len--; break;
	case 'M': mult = 1ULL << 20; len--; break;
	case 'G': mult = 1ULL << 30; len--; break;
	}
	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (n > max / mult || n * mult < min)
		return -1;
	*v = n * mult;
	return 0;
}

/* A whole number "<n>" from min to max. */
static int
count_parse(const char *s, int64_t min, int64_t max, int64_t *v)
{
	int64_t n = 0;
	size_t i, len = strlen(s);

	if (len == 0 || len > 15)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	if (n < min || n > max)
		return -1;
	*v = n;
	return 0;
}

/* Parse val as k wants it into c; NULL or what is wrong with it. */
static const char *
set_value(struct apitoken_config *c, const struct key *k, const char *val)
{
	void *field = (char *)c + k->off;
	uint64_t n;
	int64_t d;

	switch (k->kind) {
	case K_PATH:
		if (!abs_path_ok(val))
			return k->msg;
		free(*(char **)field);
		return (*(char **)field = strdup(val)) ? NULL : "out of memory";
	case K_PREFIX:
		if (!prefix_valid(val))
			return k->msg;
		snprintf(field, APITOKEN_PREFIX_MAX + 1, "%s", val);
		return NULL;
	case K_LIFETIME:
	case K_DURATION:
		if (apitoken_duration_parse(val, &d) != APITOKEN_OK ||
		    (k->kind == K_DURATION && (d == APITOKEN_NEVER ||
		    d < k->min || d > k->max)))
			return k->msg;
		*(int64_t *)field = k->kind == K_DURATION ? d * k->unit : d;
		return NULL;
	case K_SIZE:
		if (size_parse(val, (uint64_t)k->min, (uint64_t)k->max, &n))
			return k->msg;
		*(uint64_t *)field = n;
		return NULL;
	case K_ALIASES:
		return aliases_parse(field, val) == 0 ? NULL : k->msg;
	case K_LIST:
		/* every list defaults to empty */
		apitoken_record_list_clear(&((struct strlist *)field)->v,
		    &((struct strlist *)field)->n);
		return NULL;
	case K_SELF:
		return self_conf_default(field) == 0 ? NULL : "out of memory";
	case K_CALLERS:
		callers_clear(field);	/* the default: no grants */
		return NULL;
	case K_COUNT:
		if (count_parse(val, k->min, k->max, &d) != 0)
			return k->msg;
		*(int64_t *)field = d;
		return NULL;
	case K_HOST_NAME:
		if (val == NULL) {	/* the default */
			hostid_default_name(field);
			return NULL;
		}
		return hostid_set_name(field, val);
	case K_HOST_GROUPS:
		((struct hostid *)field)->n_groups = 0;	/* default: none */
		return NULL;
	case K_PG:
		pg_clear(c);	/* the default: no fleet */
		return NULL;
	}
	return "unknown key";
}

static const struct key *
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* A key as it may appear in a one-line message: printable ASCII, else
 * \xHH; at most 64 bytes of it. */
static void
quote_key(const char *key, char *out, size_t outsize)
{
	size_t o = 0;
	unsigned char c;

	for (; *key && o + 5 < outsize && o < 64; key++) {
		c = (unsigned char)*key;
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outsize - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

static int
node_err(char *err, size_t errlen, const char *path, const yaml_node_t *n,
    const char *key, const char *msg)
{
	char q[96];

	if (key != NULL)
		quote_key(key, q, sizeof(q));
	return set_err(err, errlen, APITOKEN_ERR_CONFIG, "%s:%zu:%zu: %s%s%s%s",
	    path, n->start_mark.line + 1, n->start_mark.column + 1,
	    key ? "key \"" : "", key ? q : "", key ? "\": " : "", msg);
}

struct walker {
	struct apitoken_config *c;
	yaml_document_t *doc;
	const char *path;
	char *err;
	size_t errlen;
	unsigned seen;		/* bit i: keys[i] was given */
};

static int
werr(const struct walker *w, const yaml_node_t *n, const char *key,
    const char *msg)
{
	return node_err(w->err, w->errlen, w->path, n, key, msg);
}

/* A scalar that is a PAM service name, else NULL. */
static const char *
service_of(const yaml_node_t *n)
{
	const char *s;

	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	s = (const char *)n->data.scalar.value;
	return strlen(s) == n->data.scalar.length &&
	    apitoken_service_valid(s) == 0 ? s : NULL;
}

/* A scalar that daemon_callers takes as a key (user or @group), else
 * NULL. */
static const char *
caller_of(const yaml_node_t *n)
{
	const char *s;

	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	s = (const char *)n->data.scalar.value;
	return strlen(s) == n->data.scalar.length &&
	    caller_name_valid(s) == 0 ? s : NULL;
}

/* A mapping of names to lists of PAM service names, and how its keys
 * are checked and its pairs stored. */
struct list_map {
	const char *key;			/* the config key */
	const char *(*key_of)(const yaml_node_t *);
	const char *key_msg;			/* a bad key */
	const char *(*add)(struct svc_aliases *, const char *,
	    const char *);
};

static const struct list_map alias_map = { "service_aliases", service_of,
	"a key must be a PAM service name (1 to 64 of [A-Za-z0-9._+-])",
	aliases_add };
static const struct list_map caller_map = { "daemon_callers", caller_of,
	"a key must be a user name or @group name (1 to 32 of "
	"[A-Za-z0-9._-], not starting with \"-\")", callers_add };

/* One "name: [service, ...]" entry of a list_map. */
static int
map_entry(struct walker *w, const struct list_map *lm, struct svc_aliases *a,
    const yaml_node_t *map, const yaml_node_pair_t *pair)
{
	yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
	yaml_node_t *v = yaml_document_get_node(w->doc, pair->value), *item;
	const yaml_node_pair_t *q;
	const char *from = lm->key_of(k), *to, *msg, *prev;
	char m[160];
	yaml_node_item_t *i;

	if (from == NULL)
		return werr(w, k ? k : map, lm->key, lm->key_msg);
	snprintf(m, sizeof(m), "\"%s\": given twice", from);
	for (q = map->data.mapping.pairs.start; q < pair; q++)
		if ((prev = lm->key_of(yaml_document_get_node(w->doc,
		    q->key))) != NULL && strcmp(prev, from) == 0)
			return werr(w, k, lm->key, m);
	snprintf(m, sizeof(m), "\"%s\": expected a list of PAM service "
	    "names (1 to 64 of [A-Za-z0-9._+-])", from);
	if (v == NULL || v->type != YAML_SEQUENCE_NODE)
		return werr(w, v ? v : k, lm->key, m);
	for (i = v->data.sequence.items.start;
	    i < v->data.sequence.items.top; i++) {
		item = yaml_document_get_node(w->doc, *i);
		if ((to = service_of(item)) == NULL)
			return werr(w, item ? item : v, lm->key, m);
		if ((msg = lm->add(a, from, to)) != NULL) {
			snprintf(m, sizeof(m), "\"%s\": \"%s\": %s", from,
			    to, msg);
			return werr(w, item, lm->key, m);
		}
	}
	return APITOKEN_OK;
}

/* host_groups: a sequence of group names. */
static int
set_groups(struct walker *w, const char *key, const yaml_node_t *v)
{
	const yaml_node_item_t *i;
	const yaml_node_t *item;
	const char *g, *msg;
	char m[160];

	for (i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	    i++) {
		item = yaml_document_get_node(w->doc, *i);
		if (item == NULL || item->type != YAML_SCALAR_NODE ||
		    strlen((const char *)item->data.scalar.value) !=
		    item->data.scalar.length)
			return werr(w, item ? item : v, key, "expected a list "
			    "of host group names (1 to 64 of [A-Za-z0-9._-])");
		g = (const char *)item->data.scalar.value;
		if ((msg = hostid_add_group(&w->c->host, g)) != NULL) {
			snprintf(m, sizeof(m), "\"%.64s\": %s", g, msg);
			return werr(w, item, key, m);
		}
	}
	return APITOKEN_OK;
}

static int
set_map(struct walker *w, const struct list_map *lm, struct svc_aliases *a,
    const yaml_node_t *v)
{
	yaml_node_pair_t *pair;
	int r;

	aliases_clear(a);
	for (pair = v->data.mapping.pairs.start;
	    pair < v->data.mapping.pairs.top; pair++)
		if ((r = map_entry(w, lm, a, v, pair)) != APITOKEN_OK)
			return r;
	return APITOKEN_OK;
}

/* One item of a K_LIST key: 0, or what is wrong with it in err. */
static int
list_item(const struct key *k, const char *s, char *err, size_t errlen)
{
	switch (k - keys) {
	case KEY_HTTP_LISTEN:
		return listen_item(s, err, errlen);
	case KEY_HTTP_PROXIES:
		return proxy_item(s, err, errlen);
	}
	return set_err(err, errlen, APITOKEN_ERR_INTERNAL, "no item rule");
}

/* A K_LIST key: a sequence of at most k->max scalars, each passing
 * list_item. */
static int
set_list(struct walker *w, const struct key *k, const yaml_node_t *v)
{
	struct strlist *l = (struct strlist *)(void *)((char *)w->c + k->off);
	char why[200], m[320];
	yaml_node_item_t *i;
	yaml_node_t *item;
	const char *s;

	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.top - v->data.sequence.items.start >
	    k->max)
		return werr(w, v, k->name, k->msg);
	apitoken_record_list_clear(&l->v, &l->n);
	for (i = v->data.sequence.items.start;
	    i < v->data.sequence.items.top; i++) {
		item = yaml_document_get_node(w->doc, *i);
		if (item == NULL || item->type != YAML_SCALAR_NODE)
			return werr(w, item ? item : v, k->name, k->msg);
		s = (const char *)item->data.scalar.value;
		if (strlen(s) != item->data.scalar.length)
			return werr(w, item, k->name, "NUL byte in value");
		why[0] = '\0';
		if (list_item(k, s, why, sizeof(why)) != APITOKEN_OK) {
			m[0] = '"';
			quote_key(s, m + 1, sizeof(m) / 2);
			snprintf(m + strlen(m), sizeof(m) - strlen(m),
			    "\": %s", why);
			return werr(w, item, k->name, m);
		}
		if (apitoken_record_list_add(&l->v, &l->n, s) != 0)
			return APITOKEN_ERR_NOMEM;
	}
	return APITOKEN_OK;
}

/* One scalar of self_service's sub-key key (named full in errors). */
static int
self_value(struct walker *w, const yaml_node_t *v, const char *full,
    int key, const char *wrong_type)
{
	const char *val, *msg;

	if (v->type != YAML_SCALAR_NODE)
		return werr(w, v, full, wrong_type);
	val = (const char *)v->data.scalar.value;
	if (strlen(val) != v->data.scalar.length)
		return werr(w, v, full, "NUL byte in value");
	if ((msg = self_conf_set(&w->c->self, key, val)) != NULL)
		return werr(w, v, full, msg);
	return APITOKEN_OK;
}

/* One "key: value" of self_service; names its own sub-key in errors. */
static int
self_entry(struct walker *w, const yaml_node_t *map,
    const yaml_node_pair_t *pair)
{
	yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
	yaml_node_t *v = yaml_document_get_node(w->doc, pair->value), *item;
	const char *name;
	char full[96];
	yaml_node_item_t *i;
	int key, is_list, r;

	if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
		return werr(w, k ? k : map, "self_service",
		    "keys must be plain scalars");
	name = (const char *)k->data.scalar.value;
	snprintf(full, sizeof(full), "self_service.%.60s", name);
	if ((key = self_key(name, &is_list)) < 0)
		return werr(w, k, full, "unknown key");
	if (w->c->self.seen & (1u << key))
		return werr(w, k, full, "given twice");
	w->c->self.seen |= 1u << key;
	if (!is_list)
		return self_value(w, v, full, key, "wrong type: expected a "
		    "scalar value");
	if (v->type != YAML_SEQUENCE_NODE)
		return werr(w, v, full, "wrong type: expected a list");
	for (i = v->data.sequence.items.start;
	    i < v->data.sequence.items.top; i++) {
		item = yaml_document_get_node(w->doc, *i);
		if ((r = self_value(w, item ? item : v, full, key, "expected "
		    "a list of plain values")) != APITOKEN_OK)
			return r;
	}
	return APITOKEN_OK;
}

static int
set_self(struct walker *w, const yaml_node_t *v)
{
	yaml_node_pair_t *pair;
	int r;

	if (self_conf_default(&w->c->self) != 0)
		return APITOKEN_ERR_NOMEM;
	for (pair = v->data.mapping.pairs.start;
	    pair < v->data.mapping.pairs.top; pair++)
		if ((r = self_entry(w, v, pair)) != APITOKEN_OK)
			return r;
	return APITOKEN_OK;
}

/* One "key: value" of postgresql (conninfo or passfile). */
static int
pg_entry(struct walker *w, const yaml_node_t *map,
    const yaml_node_pair_t *pair, unsigned *seen)
{
	static const char *const names[] = { "conninfo", "passfile" };
	yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
	yaml_node_t *v = yaml_document_get_node(w->doc, pair->value);
	char full[96], **field;
	const char *name, *val, *msg;
	unsigned i;

	if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
		return werr(w, k ? k : map, "postgresql",
		    "keys must be plain scalars");
	name = (const char *)k->data.scalar.value;
	snprintf(full, sizeof(full), "postgresql.%.60s", name);
	for (i = 0; i < 2 && strcmp(name, names[i]) != 0; i++)
		;
	if (i == 2)
		return werr(w, k, full, "unknown key");
	if (*seen & (1u << i))
		return werr(w, k, full, "given twice");
	*seen |= 1u << i;
	if (v->type != YAML_SCALAR_NODE)
		return werr(w, v, full, "wrong type: expected a scalar value");
	val = (const char *)v->data.scalar.value;
	if (strlen(val) != v->data.scalar.length)
		return werr(w, v, full, "NUL byte in value");
	if (i == 0 && (msg = pg_conninfo_check(val)) != NULL)
		return werr(w, v, full, msg);
	if (i == 1 && !abs_path_ok(val))
		return werr(w, v, full, MSG_PATH);
	field = i == 0 ? &w->c->pg_conninfo : &w->c->pg_passfile;
	return (*field = strdup(val)) ? APITOKEN_OK : APITOKEN_ERR_NOMEM;
}

/* postgresql: a mapping of conninfo (required) and passfile. */
static int
set_pg(struct walker *w, const yaml_node_t *v)
{
	yaml_node_pair_t *pair;
	unsigned seen = 0;
	int r;

	pg_clear(w->c);
	for (pair = v->data.mapping.pairs.start;
	    pair < v->data.mapping.pairs.top; pair++)
		if ((r = pg_entry(w, v, pair, &seen)) != APITOKEN_OK)
			return r;
	if (!(seen & 1u))
		return werr(w, v, "postgresql", "conninfo is required (a libpq "
		    "connection string or postgresql:// URI)");
	return APITOKEN_OK;
}

/* A key not in keys[]: reported where the old per-key reader did. */
static int
unknown_key(const struct walker *w, const yaml_node_t *k,
    const yaml_node_t *v, const char *key)
{
	if (v->type != YAML_SCALAR_NODE)
		return werr(w, v, key, "unknown key");
	if (strlen((const char *)v->data.scalar.value) != v->data.scalar.length)
		return werr(w, v, key, "NUL byte in value");
	return werr(w, k, key, "unknown key");
}

static int
walk_pair(struct walker *w, const yaml_node_t *root,
    const yaml_node_pair_t *pair)
{
	yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
	yaml_node_t *v = yaml_document_get_node(w->doc, pair->value);
	const struct key *kd;
	const char *key, *msg;
	unsigned bit;

	if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
		return werr(w, k ? k : root, NULL, "keys must be plain scalars");
	key = (const char *)k->data.scalar.value;
	if ((kd = key_find(key)) == NULL)
		return unknown_key(w, k, v, key);
	bit = 1u << (kd - keys);
	if (w->seen & bit)
		return werr(w, k, key, "given twice");
	w->seen |= bit;
	if (kd->kind == K_ALIASES || kd->kind == K_CALLERS)
		return v->type == YAML_MAPPING_NODE ? set_map(w,
		    kd->kind == K_ALIASES ? &alias_map : &caller_map,
		    (struct svc_aliases *)(void *)((char *)w->c + kd->off), v) :
		    werr(w, v, key, kd->msg);
	if (kd->kind == K_LIST)
		return set_list(w, kd, v);
	if (kd->kind == K_SELF)
		return v->type == YAML_MAPPING_NODE ? set_self(w, v) :
		    werr(w, v, key, kd->msg);
	if (kd->kind == K_HOST_GROUPS)
		return v->type == YAML_SEQUENCE_NODE ? set_groups(w, key, v) :
		    werr(w, v, key, kd->msg);
	if (kd->kind == K_PG)
		return v->type == YAML_MAPPING_NODE ? set_pg(w, v) :
		    werr(w, v, key, kd->msg);
	if (v->type != YAML_SCALAR_NODE)
		return werr(w, v, key, "wrong type: expected a scalar value");
	if (strlen((const char *)v->data.scalar.value) != v->data.scalar.length)
		return werr(w, v, key, "NUL byte in value");
	if ((msg = set_value(w->c, kd, (const char *)v->data.scalar.value)))
		return werr(w, v, key, msg);
	return APITOKEN_OK;
}

static int
walk(struct walker *w)
{
	yaml_node_t *root = yaml_document_get_root_node(w->doc);
	yaml_node_pair_t *pair;
	int r;

	if (root == NULL)
		return APITOKEN_OK;	/* an empty file: all defaults */
	if (root->type != YAML_MAPPING_NODE)
		return werr(w, root, NULL,
		    "the top level must be a mapping of keys to values");
	for (pair = root->data.mapping.pairs.start;
	    pair < root->data.mapping.pairs.top; pair++)
		if ((r = walk_pair(w, root, pair)) != APITOKEN_OK)
			return r;
	return APITOKEN_OK;
}

/*
 * Defaults for the keys not given.  An unset default_lifetime follows a
 * shorter max_lifetime; a conflicting pair given in the file is an error.
 */
static int
finish(struct apitoken_config *c, unsigned seen, char *err, size_t errlen)
{
	const char *msg;
	size_t i;

	for (i = 0; i < KEY_COUNT; i++)
		if (!(seen & (1u << i)) &&
		    set_value(c, &keys[i], keys[i].def) != NULL)
			return APITOKEN_ERR_NOMEM;	/* defaults are valid */
	if (!(seen & (1u << KEY_DEFAULT_LIFETIME)) &&
	    c->max_lifetime != APITOKEN_NEVER &&
	    c->default_lifetime > c->max_lifetime)
		c->default_lifetime = c->max_lifetime;
	if (c->max_lifetime != APITOKEN_NEVER &&
	    (c->default_lifetime == APITOKEN_NEVER ||
	    c->default_lifetime > c->max_lifetime))
		return set_err(err, errlen, APITOKEN_ERR_CONFIG,
		    "%s: default_lifetime is longer than max_lifetime", c->path);
	if ((msg = self_conf_finish(&c->self, c->max_lifetime)) != NULL)
		return set_err(err, errlen, APITOKEN_ERR_CONFIG, "%s: %s",
		    c->path, msg);
	return APITOKEN_OK;
}

/* Read the file under the trusted-file rule; *bufp is malloc'ed. */
static int
read_config(const char *path, char **bufp, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat st;
	const char *base;
	char *buf = NULL, why[512] = "";
	ssize_t n;
	int dirfd, fd, r;

	*bufp = NULL;
	/* every directory from "/" down checked (issue 14 item 3) */
	if ((r = safe_open_dir_of(path, &dirfd, &base, why,
	    sizeof(why))) != 0)
		return r == APITOKEN_ERR_NOMEM ? r : set_err(err, errlen,
		    APITOKEN_ERR_CONFIG, "%s: %s", path, why);
	fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK);
	close(dirfd);
	if (fd < 0)
		return set_err(err, errlen, APITOKEN_ERR_CONFIG, "%s: %s%s", path,
		    strerror(errno), errno == ELOOP ?
		    " (a symbolic link; refused)" : "");
	if (fstat(fd, &st) != 0 ||
	    safe_check(&st, path, 0, err, errlen) != APITOKEN_OK) {
		r = APITOKEN_ERR_CONFIG;
		goto out;
	}
	if (st.st_size > CONFIG_SIZE_MAX) {
		r = set_err(err, errlen, APITOKEN_ERR_CONFIG,
		    "%s: larger than %d bytes", path, CONFIG_SIZE_MAX);
		goto out;
	}
	r = APITOKEN_ERR_NOMEM;
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	n = read(fd, buf, (size_t)st.st_size + 1);
	if (n >= 0 && n != st.st_size) {
		r = set_err(err, errlen, APITOKEN_ERR_CONFIG,
		    "%s: read %zd of %lld bytes (file changed while read?)",
		    path, n, (long long)st.st_size);
		goto out;
	}
	if (n < 0) {
		r = set_err(err, errlen, APITOKEN_ERR_CONFIG, "%s: read: %s",
		    path, strerror(errno));
		goto out;
	}
	*bufp = buf;
	*lenp = (size_t)n;
	buf = NULL;
	r = APITOKEN_OK;
out:
	free(buf);
	close(fd);
	return r;
}

static int
parse_yaml(struct apitoken_config *c, const char *buf, size_t len,
    unsigned *seenp, char *err, size_t errlen)
{
	struct walker w = { c, NULL, c->path, err, errlen, 0 };
	yaml_parser_t parser;
	yaml_document_t doc;
	int r;

	if (!yaml_parser_initialize(&parser))
		return APITOKEN_ERR_NOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		r = set_err(err, errlen, APITOKEN_ERR_CONFIG,
		    "%s:%zu:%zu: invalid YAML: %s", c->path,
		    parser.problem_mark.line + 1, parser.problem_mark.column + 1,
		    parser.problem ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return r;
	}
	w.doc = &doc;
	r = walk(&w);
	*seenp = w.seen;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return r;
}

int
apitoken_config_load(const char *path, struct apitoken_config **cfgp,
    char *err, size_t errlen)
{
	struct apitoken_config *c;
	char *buf = NULL;
	size_t len = 0;
	unsigned seen = 0;
	int r = APITOKEN_ERR_NOMEM;

	*cfgp = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return r;
	if ((c->path = strdup(path)) == NULL)
		goto out;
	if ((r = read_config(path, &buf, &len, err, errlen)) != APITOKEN_OK ||
	    (r = parse_yaml(c, buf, len, &seen, err, errlen)) != APITOKEN_OK ||
	    (r = finish(c, seen, err, errlen)) != APITOKEN_OK)
		goto out;
	*cfgp = c;
	c = NULL;
	r = APITOKEN_OK;
out:
	free(buf);
	apitoken_config_free(c);
	return r;
}

static int
strlist_copy(struct strlist *dst, const struct strlist *src)
{
	size_t i;

	dst->v = NULL;
	dst->n = 0;
	for (i = 0; i < src->n; i++)
		if (apitoken_record_list_add(&dst->v, &dst->n, src->v[i]) != 0)
			return APITOKEN_ERR_NOMEM;
	return APITOKEN_OK;
}

/* self_service's lists, and its reauth_service pointing into dst. */
static int
self_copy(struct self_conf *dst, const struct self_conf *src)
{
	const struct apitoken_self_service *s = &src->pub;
	struct strlist l;
	int r = APITOKEN_OK;

	*dst = *src;
	dst->pub.services = dst->pub.users = dst->pub.groups = NULL;
	dst->pub.n_services = dst->pub.n_users = dst->pub.n_groups = 0;
	dst->pub.reauth_service = dst->reauth;
	r |= strlist_copy(&l, &(struct strlist){ s->services, s->n_services });
	dst->pub.services = l.v, dst->pub.n_services = l.n;
	r |= strlist_copy(&l, &(struct strlist){ s->users, s->n_users });
	dst->pub.users = l.v, dst->pub.n_users = l.n;
	r |= strlist_copy(&l, &(struct strlist){ s->groups, s->n_groups });
	dst->pub.groups = l.v, dst->pub.n_groups = l.n;
	return r ? APITOKEN_ERR_NOMEM : APITOKEN_OK;
}

static char *
dup_or_null(const char *s, int *failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*failed = 1;
	return d;
}

int
apitoken_config_clone_store(const struct apitoken_config *cfg,
    const char *path, struct apitoken_config **out)
{
	struct apitoken_config *c;
	int failed = 0;

	*out = NULL;
	if ((c = malloc(sizeof(*c))) == NULL)
		return APITOKEN_ERR_NOMEM;
	*c = *cfg;	/* scalars and the host identity; owned parts below */
	c->path = dup_or_null(cfg->path, &failed);
	c->store = dup_or_null(path, &failed);
	c->state_dir = dup_or_null(cfg->state_dir, &failed);
	c->daemon_socket = dup_or_null(cfg->daemon_socket, &failed);
	c->pg_conninfo = dup_or_null(cfg->pg_conninfo, &failed);
	c->pg_passfile = dup_or_null(cfg->pg_passfile, &failed);
	failed |= aliases_copy(&c->aliases, &cfg->aliases) != APITOKEN_OK;
	failed |= aliases_copy(&c->callers, &cfg->callers) != APITOKEN_OK;
	failed |= strlist_copy(&c->http_listen, &cfg->http_listen) != 0;
	failed |= strlist_copy(&c->http_proxies, &cfg->http_proxies) != 0;
	failed |= self_copy(&c->self, &cfg->self) != APITOKEN_OK;
	if (failed) {
		apitoken_config_free(c);
		return APITOKEN_ERR_NOMEM;
	}
	*out = c;
	return APITOKEN_OK;
}
