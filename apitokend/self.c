/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * self.c - self-service (issue 16) is not written yet: every self-service
 * op is refused with caller-not-allowed.  Helper "self" replaces this
 * file with apitokend/self*.c implementing self_dispatch (core.h).
 */
#include <syslog.h>

#include "core.h"

int
self_dispatch(struct core *c, int fd, const struct caller *who,
    const struct apitoken_msg *req)
{
	struct apitoken_msg m;

	(void)c;
	core_log(LOG_NOTICE, "self-service op %u from caller_uid=%lu "
	    "refused: not available", req->op, (unsigned long)who->uid);
	apitoken_msg_init(&m, APITOKEN_OP_REPLY);
	if (apitoken_msg_add_str(&m, APITOKEN_T_REASON,
	    apitoken_reason_str(APITOKEN_R_CALLER)) != 0)
		return -1;
	return msg_send(fd, &m);
}
