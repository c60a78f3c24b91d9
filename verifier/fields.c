/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fields.c - the record's one field table (apitoken.h, "records").
 * Every list of the record's fields walks this table: record new, dup,
 * free and check (record.c), the store line codec (codec.c) and
 * tokenctl's JSON forms.  Rows are in store order; a store line has one
 * column per row.  Adding a field: a member in struct apitoken_record,
 * a row here, a column in apitoken_store_header() and tests.  A new
 * column goes last, flagged APITOKEN_FIELD_OPTIONAL, and is left out of
 * a line when empty, so stores written before it still load (codec.c);
 * a column that cannot be empty would need a new store format version.
 */
#include <stddef.h>

#include "internal.h"

#define OFF(m) offsetof(struct apitoken_record, m)
#define NOTE(m) #m ": too long, not UTF-8 or has control characters"

/* name, kind, flags, max, offset, count offset, why, view */
#define ROW(m, kind, fl, max, why, view) \
	{ #m, APITOKEN_FIELD_##kind, (fl), (max), OFF(m), 0, (why), (view) }
#define LIST(m, fl, max, why, view) \
	{ #m, APITOKEN_FIELD_LIST, (fl), (max), OFF(m), OFF(n_##m), (why), \
	    (view) }
#define IMPORT APITOKEN_FIELD_IMPORT
#define WHEN_SET "created/updated: unset or updated before created"

static const struct apitoken_field fields[STORE_NFIELDS] = {
	ROW(id, ID, IMPORT, APITOKEN_ID_LEN,
	    "id: not 12 base62 characters", 1),
	ROW(status, STATUS, IMPORT, 0,
	    "status: not active, disabled or revoked", 9),
	ROW(user, TEXT, APITOKEN_FIELD_NONEMPTY | APITOKEN_FIELD_NOBLANK |
	    IMPORT, APITOKEN_USER_MAX,
	    "user: empty, too long or has blanks/control characters", 2),
	ROW(hash, HASH, IMPORT, APITOKEN_HASH_MAX - 1,
	    "hash: not a supported stored hash", 0),
	ROW(label, TEXT, APITOKEN_FIELD_NONEMPTY | IMPORT, APITOKEN_LABEL_MAX,
	    "label: empty, too long, not UTF-8 or has control characters", 3),
	ROW(description, TEXT, APITOKEN_FIELD_MULTILINE,
	    APITOKEN_DESCRIPTION_MAX, NOTE(description), 4),
	ROW(external_id, TEXT, 0, APITOKEN_EXTERNAL_ID_MAX,
	    NOTE(external_id), 5),
	LIST(services, APITOKEN_FIELD_SERVICES, APITOKEN_SERVICES_MAX,
	    "services: invalid service name", 6),
	LIST(from, APITOKEN_FIELD_CIDRS, APITOKEN_FROM_MAX,
	    "from: invalid CIDR", 7),
	ROW(created, TIME, APITOKEN_FIELD_SET | IMPORT, 0, WHEN_SET, 10),
	ROW(updated, TIME, APITOKEN_FIELD_AFTER_CREATED, 0, WHEN_SET, 12),
	ROW(created_by, TEXT, 0, APITOKEN_USER_MAX,
	    "created_by: too long or has control characters", 11),
	ROW(expires, TIME, 0, 0, "expires: negative", 13),
	ROW(revoked_at, TIME, APITOKEN_FIELD_IF_REVOKED, 0,
	    "revoked_at: must be set exactly when status is revoked", 14),
	ROW(revoke_reason, TEXT, 0, APITOKEN_REASON_MAX,
	    "revoke_reason: too long or has control characters", 15),
	ROW(parent, REF, 0, APITOKEN_ID_LEN,
	    "parent: not a token id (or the token itself)", 16),
	LIST(hosts, APITOKEN_FIELD_HOSTS | APITOKEN_FIELD_OPTIONAL,
	    APITOKEN_HOSTS_MAX, "hosts: invalid host name, pattern or @group",
	    8),
};

const struct apitoken_field *
apitoken_record_fields(size_t *n)
{
	*n = STORE_NFIELDS;
	return fields;
}
