/*
 * config.c - apitoken.yaml, read with libyaml (the only file that
 * includes <yaml.h>).  A flat mapping of known keys to scalars; unknown
 * keys, duplicates, wrong types and bad values are errors reported as
 * "path:line:column: ...".  The file itself must pass the trusted-file
 * rule (no symlink, owner root or euid, not group/other-writable).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "internal.h"

#define CONFIG_SIZE_MAX (64 * 1024)

struct apitoken_config {
	char *path;
	char *store;
	char *state_dir;
	char prefix[APITOKEN_PREFIX_MAX + 1];
	int64_t default_lifetime;
	int64_t max_lifetime;
	int64_t lock_timeout_ms;
	uint64_t max_store_size;
};

const char *apitoken_config_path(const struct apitoken_config *c) { return c->path; }
const char *apitoken_config_store(const struct apitoken_config *c) { return c->store; }
const char *apitoken_config_state_dir(const struct apitoken_config *c) { return c->state_dir; }
const char *apitoken_config_token_prefix(const struct apitoken_config *c) { return c->prefix; }
int64_t apitoken_config_default_lifetime(const struct apitoken_config *c) { return c->default_lifetime; }
int64_t apitoken_config_max_lifetime(const struct apitoken_config *c) { return c->max_lifetime; }
int64_t apitoken_config_lock_timeout_ms(const struct apitoken_config *c) { return c->lock_timeout_ms; }
uint64_t apitoken_config_max_store_size(const struct apitoken_config *c) { return c->max_store_size; }

void
apitoken_config_free(struct apitoken_config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->store);
	free(c->state_dir);
	free(c);
}

static int
set_defaults(struct apitoken_config *c)
{
	c->store = strdup("/var/lib/apitoken/tokens");
	c->state_dir = strdup("/var/lib/apitoken/state");
	snprintf(c->prefix, sizeof(c->prefix), "%s", APITOKEN_DEFAULT_PREFIX);
	c->default_lifetime = 90LL * 86400;
	c->max_lifetime = 365LL * 86400;
	c->lock_timeout_ms = 10 * 1000;
	c->max_store_size = 1ULL << 30;
	return c->store && c->state_dir ? APITOKEN_OK : APITOKEN_ERR_NOMEM;
}

/* An absolute path without "." / ".." components or a trailing slash. */
static int
abs_path_ok(const char *s)
{
	size_t n = strlen(s);

	return s[0] == '/' && n > 1 && n < 4096 && s[n - 1] != '/' &&
	    strstr(s, "/./") == NULL && strstr(s, "/../") == NULL &&
	    strstr(s, "//") == NULL &&
	    (n < 3 || strcmp(s + n - 3, "/..") != 0) &&
	    (n < 2 || strcmp(s + n - 2, "/.") != 0);
}

/* "<n>[KMG]" bytes, at least 4 KiB. */
static int
size_parse(const char *s, uint64_t *v)
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
	if (n > (1ULL << 40) / mult || n * mult < 4096)
		return -1;
	*v = n * mult;
	return 0;
}

/* Apply one key; returns NULL or a message describing the bad value. */
static const char *
apply(struct apitoken_config *c, const char *key, const char *val)
{
	int64_t d;
	char **pathp;

	if (strcmp(key, "store") == 0 || strcmp(key, "state_dir") == 0) {
		pathp = key[1] == 't' && key[2] == 'o' ? &c->store :
		    &c->state_dir;
		if (!abs_path_ok(val))
			return "must be an absolute path (no \".\", \"..\", "
			    "\"//\" or trailing \"/\")";
		free(*pathp);
		return (*pathp = strdup(val)) ? NULL : "out of memory";
	}
	if (strcmp(key, "token_prefix") == 0) {
		if (!prefix_valid(val))
			return "must be 1 to 16 characters of [a-z0-9]";
		snprintf(c->prefix, sizeof(c->prefix), "%s", val);
		return NULL;
	}
	if (strcmp(key, "default_lifetime") == 0 ||
	    strcmp(key, "max_lifetime") == 0) {
		if (apitoken_duration_parse(val, &d) != APITOKEN_OK)
			return "must be a duration such as 30m, 12h, 90d, 2w, "
			    "1y, or \"never\"";
		*(key[0] == 'd' ? &c->default_lifetime : &c->max_lifetime) = d;
		return NULL;
	}
	if (strcmp(key, "lock_timeout") == 0) {
		if (apitoken_duration_parse(val, &d) != APITOKEN_OK ||
		    d == APITOKEN_NEVER || d > 3600)
			return "must be a duration from 1s to 1h";
		c->lock_timeout_ms = d * 1000;
		return NULL;
	}
	if (strcmp(key, "max_store_size") == 0)
		return size_parse(val, &c->max_store_size) == 0 ? NULL :
		    "must be a size in bytes (suffix K, M or G), 4K to 1024G";
	return "unknown key";
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

static int
walk(struct apitoken_config *c, yaml_document_t *doc, const char *path,
    char *err, size_t errlen)
{
	yaml_node_t *root = yaml_document_get_root_node(doc), *k, *v;
	yaml_node_pair_t *pair, *q;
	const char *key, *msg;

	if (root == NULL)
		return APITOKEN_OK;	/* an empty file: all defaults */
	if (root->type != YAML_MAPPING_NODE)
		return node_err(err, errlen, path, root, NULL,
		    "the top level must be a mapping of keys to values");
	for (pair = root->data.mapping.pairs.start;
	    pair < root->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(doc, pair->key);
		v = yaml_document_get_node(doc, pair->value);
		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE)
			return node_err(err, errlen, path, k ? k : root, NULL,
			    "keys must be plain scalars");
		key = (const char *)k->data.scalar.value;
		for (q = root->data.mapping.pairs.start; q < pair; q++) {
			yaml_node_t *qk = yaml_document_get_node(doc, q->key);
			if (qk && qk->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)qk->data.scalar.value, key) == 0)
				return node_err(err, errlen, path, k, key,
				    "given twice");
		}
		if (v->type != YAML_SCALAR_NODE)
			return node_err(err, errlen, path, v, key,
			    apply(c, key, "") && strcmp(apply(c, key, ""),
			    "unknown key") == 0 ? "unknown key" :
			    "wrong type: expected a scalar value");
		if (strlen((const char *)v->data.scalar.value) !=
		    v->data.scalar.length)
			return node_err(err, errlen, path, v, key,
			    "NUL byte in value");
		if ((msg = apply(c, key, (const char *)v->data.scalar.value)))
			return node_err(err, errlen, path,
			    strcmp(msg, "unknown key") == 0 ? k : v, key, msg);
	}
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
    char *err, size_t errlen)
{
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
	r = walk(c, &doc, c->path, err, errlen);
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
	int r = APITOKEN_ERR_NOMEM;

	*cfgp = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return r;
	if ((c->path = strdup(path)) == NULL || set_defaults(c) != APITOKEN_OK)
		goto out;
	if ((r = read_config(path, &buf, &len, err, errlen)) != APITOKEN_OK)
		goto out;
	if ((r = parse_yaml(c, buf, len, err, errlen)) != APITOKEN_OK)
		goto out;
	if (c->max_lifetime != APITOKEN_NEVER &&
	    (c->default_lifetime == APITOKEN_NEVER ||
	    c->default_lifetime > c->max_lifetime)) {
		r = set_err(err, errlen, APITOKEN_ERR_CONFIG,
		    "%s: default_lifetime is longer than max_lifetime", path);
		goto out;
	}
	*cfgp = c;
	c = NULL;
	r = APITOKEN_OK;
out:
	free(buf);
	apitoken_config_free(c);
	return r;
}
