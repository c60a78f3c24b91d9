/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_oracle.h - an independent token grammar oracle for the token
 * targets, written from the token format, not from token.c.
 */
#ifndef TESTS_FUZZ_ORACLE_H
#define TESTS_FUZZ_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* The 6 base62 CRC digits of s[0..n) into out (not NUL-terminated). */
void oracle_crc6(const char *s, size_t n, char out[6]);
/* 1 if s[0..n) is a well-formed token for prefix, checksum included;
 * *crc_only_bad is set when everything but the checksum is right. */
int oracle_token_ok(const char *prefix, const char *s, size_t n,
    int *crc_only_bad);

#endif
