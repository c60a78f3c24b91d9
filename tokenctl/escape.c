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

/* C1 controls, and characters that reorder or hide text on a terminal. */
static int
cp_invisible(uint32_t cp)
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
	uint32_t cp;

	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f) {
			esc_ctl(*p++, o);
		} else if (*p < 0x80) {
			*o++ = (char)*p++;
			*o = '\0';
		} else if ((len = apitoken_utf8_decode((const char *)p,
		    strnlen((const char *)p, 4), &cp)) == 0) {
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
