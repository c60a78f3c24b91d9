/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * escape.c - the one escaping function for everything tokenctl prints to
 * a terminal or a log: list's table, show, error messages and audit
 * lines.  A value from the store, an import file or an option can hold
 * TAB/LF/CR (descriptions), and older stores or hostile input other
 * control characters; none of them may reach a terminal or syslog raw.
 *
 * Escaped: C0 controls and DEL ("\t", "\n", "\r", else "\xHH"), bytes
 * that are not valid UTF-8 ("\xHH"), C1 controls, bidirectional and other
 * invisible format characters ("\u{HHHH}" with the code point).  Every
 * other character, backslash included, is copied as is, so output for
 * ordinary text is unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenctl.h"

/* Code point of a valid UTF-8 sequence at s, its length in *lenp; or -1. */
static long
utf8_cp(const unsigned char *s, size_t *lenp)
{
	size_t len, i;
	long cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return -1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return -1;
	*lenp = len;
	return cp;
}

/* C1 controls, and characters that reorder or hide text on a terminal. */
static int
cp_invisible(long cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
	    (cp >= 0xfff9 && cp <= 0xfffb);
}

/* The escaped form of one byte below 0x20 or DEL. */
static void
esc_ctl(unsigned char c, char *o)
{
	if (c == '\t')
		strcpy(o, "\\t");
	else if (c == '\n')
		strcpy(o, "\\n");
	else if (c == '\r')
		strcpy(o, "\\r");
	else
		snprintf(o, 5, "\\x%02x", c);
}

char *
ctl_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(strlen(s) * 4 + 1), *o = out, u[24];
	size_t len;
	long cp;

	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f) {
			esc_ctl(*p++, o);
		} else if (*p < 0x80) {
			*o++ = (char)*p++;
			*o = '\0';
		} else if ((cp = utf8_cp(p, &len)) < 0) {
			snprintf(o, 5, "\\x%02x", *p++);
		} else if (cp_invisible(cp)) {
			snprintf(u, sizeof(u), "\\u{%04lx}", (unsigned long)cp);
			memcpy(o, u, strlen(u) + 1);	/* 8 bytes: cp <= 0xffff */
			p += len;
		} else {
			memcpy(o, p, len);
			o[len] = '\0';
			p += len;
		}
		o += strlen(o);
	}
	*o = '\0';
	return out;
}
