/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * doctor.h - the findings of tokenctl doctor (doctor.c) and its check of
 * the PAM service files (doctor_pam.c).
 */
#ifndef DOCTOR_H
#define DOCTOR_H

#include <stddef.h>
#include <sys/types.h>

#define DOC_PAM_DIR	"/etc/pam.d"

enum { DOC_OK, DOC_WARN, DOC_ERROR };

struct doc_finding {
	int level;		/* DOC_* */
	char *subject;		/* a path, "path:line" or a token id */
	char *message;
	char *fix;		/* what to do; NULL when ok */
};

struct doc {
	struct doc_finding *v;
	size_t n, cap;
	size_t problems;	/* findings that are not ok */
	mode_t store_mode;
	const char **services;	/* services named by live tokens */
	size_t n_services, cap_services;
};

/* Add a finding (fix may be NULL for ok). */
void doc_add(struct doc *d, int level, const char *subject, const char *fix,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void doc_print_one(const struct doc_finding *f);
/* Check every file in pamdir that names pam_apitoken.so. */
void doc_check_pam(const struct ctl *ctl, struct doc *d, const char *pamdir);

#endif
