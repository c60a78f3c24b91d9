/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * die-abort.c - tl_die() for the fuzz targets: print why and abort(), so
 * that libFuzzer saves the input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tl.h"

int tl_in_child;

void
tl_die(const char *fmt, ...)
{
	va_list ap;

	fputs("\n==FUZZ== ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
