/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * logesc.c - the escaping rule for values in log and audit lines, so no
 * value can forge a field or a line: printable ASCII but '"' and '\' is
 * kept (a space only inside quotes), every other byte becomes \xNN.
 * The PAM module's decision lines and tokenctl's audit lines use it.
 */
#include "internal.h"

void
apitoken_log_escape(char *dst, size_t dstlen, const char *s, int quoted)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (dstlen == 0)
		return;
	for (; s != NULL && *s != '\0' && o + 5 < dstlen; s++) {
		unsigned char c = (unsigned char)*s;

		if (((c == ' ' && quoted) || (c > 0x20 && c < 0x7f)) &&
		    c != '"' && c != '\\') {
			dst[o++] = (char)c;
			continue;
		}
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[c >> 4];
		dst[o++] = hex[c & 0xf];
	}
	dst[o] = '\0';
	if (o == 0 && !quoted && dstlen > 1) {
		dst[0] = '-';
		dst[1] = '\0';
	}
}
