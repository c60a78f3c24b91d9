/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * die.c - tl_die() for the Criterion test binaries: fail the current
 * test, or, in a child made by tl_fork(), say why and exit 125.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tl.h"

void
tl_die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (tl_in_child) {
		fprintf(stderr, "tl: child %d: %s\n", (int)getpid(), msg);
		_exit(125);
	}
	cr_assert_fail("%s", msg);
	abort();	/* not reached: cr_assert_fail ends the test */
}
