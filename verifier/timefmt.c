/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * timefmt.c - durations ("90d"), WHEN values and the store's UTC time form
 * "YYYY-MM-DDTHH:MM:SSZ".  Strict: what is parsed formats back the same.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define DURATION_MAX (100LL * 365 * 86400)	/* 100 years */

static int64_t
unit_seconds(char u)
{
	switch (u) {
	case 's': return 1;
	case 'm': return 60;
	case 'h': return 3600;
	case 'd': return 86400;
	case 'w': return 7 * 86400;
	case 'y': return 365 * 86400;
	}
	return 0;
}

int
apitoken_duration_parse(const char *s, int64_t *secs)
{
	int64_t n = 0, unit;
	size_t i, len = strlen(s);

	*secs = 0;
	if (strcmp(s, "never") == 0) {
		*secs = APITOKEN_NEVER;
		return APITOKEN_OK;
	}
	if (len < 2 || len > 16 || (unit = unit_seconds(s[len - 1])) == 0)
		return APITOKEN_ERR_INVALID;
	for (i = 0; i + 1 < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return APITOKEN_ERR_INVALID;
		n = n * 10 + (s[i] - '0');
		if (n > DURATION_MAX)
			return APITOKEN_ERR_INVALID;
	}
	if (n == 0 || n > DURATION_MAX / unit)
		return APITOKEN_ERR_INVALID;
	*secs = n * unit;
	return APITOKEN_OK;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : dm[m - 1];
}

int
ymd_to_time(int y, int mo, int d, int h, int mi, int s, int64_t *t)
{
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    s < 0 || s > 59)
		return APITOKEN_ERR_INVALID;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return APITOKEN_OK;
}

/* Read exactly n digits. */
static int
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

/* "YYYY-MM-DD", then optionally "THH:MM" [":SS"] "Z". */
static int
iso_parse(const char *s, int allow_date, int allow_nosec, int64_t *t)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	size_t len = strlen(s);

	if (len < 10 || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d))
		return APITOKEN_ERR_INVALID;
	if (len == 10 && allow_date)
		return ymd_to_time(y, mo, d, 0, 0, 0, t);
	if (len < 17 || s[10] != 'T' || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi))
		return APITOKEN_ERR_INVALID;
	if (len == 17 && allow_nosec && s[16] == 'Z')
		return ymd_to_time(y, mo, d, h, mi, 0, t);
	if (len != 20 || s[16] != ':' || !digits(s + 17, 2, &sec) ||
	    s[19] != 'Z')
		return APITOKEN_ERR_INVALID;
	return ymd_to_time(y, mo, d, h, mi, sec, t);
}

int
apitoken_time_parse(const char *s, int64_t *t)
{
	*t = 0;
	return iso_parse(s, 0, 0, t);
}

int
apitoken_time_format(int64_t t, char *buf, size_t bufsize)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (bufsize < 21 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, bufsize, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20) {
		if (bufsize > 0)
			buf[0] = '\0';
		return APITOKEN_ERR_INVALID;
	}
	return APITOKEN_OK;
}

int
apitoken_when_parse(const char *s, time_t now, int64_t *when)
{
	int64_t d;

	*when = 0;
	if (apitoken_duration_parse(s, &d) == APITOKEN_OK) {
		*when = d == APITOKEN_NEVER ? APITOKEN_NEVER : (int64_t)now + d;
		return APITOKEN_OK;
	}
	return iso_parse(s, 1, 1, when);
}
