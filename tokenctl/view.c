/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * view.c - records as JSON (through jansson only): the view form of list
 * and show (never the hash), and the record form of export/import (every
 * stored field, with the hash, never a secret).
 *
 * Record form (export --json, import):
 *   {"id": "...", "status": "active|disabled|revoked", "user": "...",
 *    "hash": "sha256$...", "label": "...", "description": "...",
 *    "external_id": "...", "services": [...], "from": [...],
 *    "created": TIME, "updated": TIME, "created_by": "...",
 *    "expires": TIME|null, "revoked_at": TIME|null,
 *    "revoke_reason": "...", "parent": "ID"|null}
 * TIME is "YYYY-MM-DDTHH:MM:SSZ"; null means unset.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenctl.h"

const char *
view_status(const struct apitoken_record *r, time_t now)
{
	if (r->status == APITOKEN_ACTIVE && apitoken_record_expired(r, now))
		return "expired";
	return apitoken_status_str(r->status);
}

static json_t *
jtime(int64_t t)
{
	char buf[32];

	if (t == 0 || apitoken_time_format(t, buf, sizeof(buf)) != 0)
		return json_null();
	return json_string(buf);
}

static json_t *
jlist(char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
jstr_or_null(const char *s)
{
	return s[0] == '\0' ? json_null() : json_string(s);
}

static void
view_lastuse(const struct ctl *ctl, const struct apitoken_record *r,
    json_t *o)
{
	struct apitoken_lastuse lu;
	char host[APITOKEN_HOST_MAX + 1];

	memset(&lu, 0, sizeof(lu));
	if (db_lastuse(ctl, r->id, &lu, host, sizeof(host)) != APITOKEN_OK)
		memset(&lu, 0, sizeof(lu));
	json_object_set_new(o, "last_used", jtime(lu.when));
	json_object_set_new(o, "last_used_service", lu.when ?
	    jstr_or_null(lu.service) : json_null());
	json_object_set_new(o, "last_used_rhost", lu.when ?
	    jstr_or_null(lu.rhost) : json_null());
	if (pg_mode(ctl))	/* the fleet: which host it was used on */
		json_object_set_new(o, "last_used_host", lu.when ?
		    jstr_or_null(host) : json_null());
}

/* A row's value of r as JSON, as the record form writes it. */
static json_t *
field_json(const struct apitoken_record *r, const struct apitoken_field *f)
{
	switch (f->kind) {
	case APITOKEN_FIELD_STATUS:
		return json_string(apitoken_status_str(r->status));
	case APITOKEN_FIELD_LIST:
		return jlist(apitoken_field_clist(r, f),
		    apitoken_field_ccount(r, f));
	case APITOKEN_FIELD_TIME:
		return jtime(apitoken_field_ctime(r, f));
	case APITOKEN_FIELD_REF:
		return jstr_or_null(apitoken_field_cstr(r, f));
	default:
		return json_string(apitoken_field_cstr(r, f));
	}
}

const struct apitoken_field *
view_field(size_t rank)
{
	const struct apitoken_field *f;
	size_t i, n;

	f = apitoken_record_fields(&n);
	for (i = 0; i < n && rank > 0; i++)
		if (f[i].view == rank)
			return &f[i];
	return NULL;
}

/* The fields in view order (the table's view column); never the hash.
 * status is the shown one ("expired" too), followed by "expired". */
json_t *
view_json(const struct ctl *ctl, const struct apitoken_record *r)
{
	const struct apitoken_field *f;
	json_t *o = json_object();
	size_t rank;

	for (rank = 1; (f = view_field(rank)) != NULL; rank++) {
		if (f->kind != APITOKEN_FIELD_STATUS) {
			json_object_set_new(o, f->name, field_json(r, f));
			continue;
		}
		json_object_set_new(o, f->name, json_string(
		    view_status(r, ctl->now)));
		json_object_set_new(o, "expired", json_boolean(
		    apitoken_record_expired(r, ctl->now)));
	}
	view_lastuse(ctl, r, o);
	return o;
}

/* Every field in store order, with the hash. */
json_t *
record_to_json(const struct apitoken_record *r)
{
	const struct apitoken_field *f;
	json_t *o = json_object();
	size_t i, n;

	f = apitoken_record_fields(&n);
	for (i = 0; i < n; i++)
		json_object_set_new(o, f[i].name, field_json(r, &f[i]));
	return o;
}

/* ------------------------------------------------- record from JSON */

static int
bad(char *err, size_t errlen, const char *key, const char *what)
{
	snprintf(err, errlen, "%s: %s", key, what);
	return APITOKEN_ERR_INVALID;
}

static int
get_str(json_t *v, const char *key, char **field, char *err, size_t errlen)
{
	if (json_is_null(v))
		return apitoken_record_set(field, "");
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return bad(err, errlen, key, "must be a string");
	return apitoken_record_set(field, json_string_value(v));
}

static int
get_time(json_t *v, const char *key, int64_t *t, char *err, size_t errlen)
{
	*t = 0;
	if (json_is_null(v))
		return APITOKEN_OK;
	if (!json_is_string(v) ||
	    apitoken_time_parse(json_string_value(v), t) != APITOKEN_OK)
		return bad(err, errlen, key, "must be a time "
		    "YYYY-MM-DDTHH:MM:SSZ or null");
	return APITOKEN_OK;
}

static int
get_list(json_t *v, const char *key, char ***list, size_t *n, char *err,
    size_t errlen)
{
	json_t *e;
	size_t i;
	int r;

	apitoken_record_list_clear(list, n);
	if (json_is_null(v))
		return APITOKEN_OK;
	if (!json_is_array(v))
		return bad(err, errlen, key, "must be an array of strings");
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) ||
		    strlen(json_string_value(e)) != json_string_length(e))
			return bad(err, errlen, key, "must be an array of "
			    "strings");
		if ((r = apitoken_record_list_add(list, n,
		    json_string_value(e))) != APITOKEN_OK)
			return r;
	}
	return APITOKEN_OK;
}

static int
get_status(json_t *v, enum apitoken_status *st, char *err, size_t errlen)
{
	const char *s = json_string_value(v);

	if (s == NULL || apitoken_status_parse(s, st) != APITOKEN_OK)
		return bad(err, errlen, "status", "must be active, disabled "
		    "or revoked");
	return APITOKEN_OK;
}

static int
get_id(json_t *v, char id[APITOKEN_ID_LEN + 1], char *err, size_t errlen)
{
	const char *s = json_string_value(v);

	if (s == NULL || apitoken_id_valid(s) != 0)
		return bad(err, errlen, "id", "must be a token ID");
	memcpy(id, s, APITOKEN_ID_LEN + 1);
	return APITOKEN_OK;
}

static int
get_field(struct apitoken_record *r, const char *key, json_t *v, char *err,
    size_t errlen)
{
	const struct apitoken_field *f;
	size_t i, n;

	f = apitoken_record_fields(&n);
	for (i = 0; i < n && strcmp(f[i].name, key) != 0; i++)
		;
	if (i == n)
		return bad(err, errlen, key, "unknown key");
	switch (f[i].kind) {
	case APITOKEN_FIELD_ID:
		return get_id(v, r->id, err, errlen);
	case APITOKEN_FIELD_STATUS:
		return get_status(v, &r->status, err, errlen);
	case APITOKEN_FIELD_LIST:
		return get_list(v, key, (char ***)apitoken_field_str(r, &f[i]),
		    apitoken_field_count(r, &f[i]), err, errlen);
	case APITOKEN_FIELD_TIME:
		return get_time(v, key, apitoken_field_time(r, &f[i]), err,
		    errlen);
	default:
		return get_str(v, key, apitoken_field_str(r, &f[i]), err,
		    errlen);
	}
}

/* The first key an import must give (APITOKEN_FIELD_IMPORT) that obj
 * lacks, or NULL. */
static const char *
missing_key(json_t *obj)
{
	const struct apitoken_field *f;
	size_t i, n;

	f = apitoken_record_fields(&n);
	for (i = 0; i < n; i++)
		if ((f[i].flags & APITOKEN_FIELD_IMPORT) &&
		    json_object_get(obj, f[i].name) == NULL)
			return f[i].name;
	return NULL;
}

int
record_from_json(json_t *obj, struct apitoken_record **recp, char *err,
    size_t errlen)
{
	struct apitoken_record *r = NULL;
	const char *key;
	json_t *v;
	int rc = APITOKEN_ERR_INVALID;

	*recp = NULL;
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}
	if ((key = missing_key(obj)) != NULL) {
		rc = bad(err, errlen, key, "missing");
		goto out;
	}
	if ((r = apitoken_record_new()) == NULL) {
		rc = APITOKEN_ERR_NOMEM;
		goto out;
	}
	json_object_foreach(obj, key, v)
		if ((rc = get_field(r, key, v, err, errlen)) != APITOKEN_OK)
			goto out;
	if (r->updated == 0)
		r->updated = r->created;
	if ((rc = apitoken_record_check(r, err, errlen)) != APITOKEN_OK)
		goto out;
	*recp = r;
	r = NULL;
	rc = APITOKEN_OK;
out:
	apitoken_record_free(r);
	return rc;
}

int
json_print(json_t *v, int secret)
{
	char *s;
	int r;

	if (v == NULL) {
		ctl_err("out of memory");
		return CTL_EXIT_SYSTEM;
	}
	s = json_dumps(v, secret ? JSON_COMPACT : JSON_INDENT(2));
	json_decref(v);
	if (s == NULL) {
		ctl_err("out of memory");
		return CTL_EXIT_SYSTEM;
	}
	if (secret) {
		r = ctl_write_secret_line(s, strlen(s));
		apitoken_wipe(s, strlen(s));
	} else {
		r = puts(s) < 0 ? CTL_EXIT_SYSTEM : CTL_EXIT_OK;
	}
	free(s);
	return r;
}
