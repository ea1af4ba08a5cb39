#ifndef SANDBOX_SECCOMP_POLICY_H
#define SANDBOX_SECCOMP_POLICY_H

#include <seccomp.h>

/** The sandbox's seccomp filter (see seccomp-policy.c); NULL with errno set when libseccomp refuses it. */
scmp_filter_ctx sandbox_seccomp_policy(void);

#endif
