// The system calls a sandbox may not make. Docker's default profile is the reference
// (https://github.com/moby/moby/blob/master/profiles/seccomp/default.json): everything it refuses to a container
// without extra capabilities is refused here too, with EPERM, so a program sees "operation not permitted" and goes on.
// It is a deny list over an allow-by-default filter, because the sandbox's bounding set already takes the
// capabilities these calls would need; the filter closes the kernel surface that stays reachable without them
// (new user namespaces, keyrings, BPF, perf, userfaultfd, io_uring, the new mount API, vsock).
#define _GNU_SOURCE
#include "seccomp-policy.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <sys/socket.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static const char *const DENIED_SYSCALLS[] = {
  // kernel modules, kexec, reboot, swap, accounting, quotas
  "init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms",
  "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
  // clocks
  "clock_settime", "clock_adjtime", "settimeofday", "stime",
  // keyrings: not namespaced per sandbox (keyed by host uid, which all sandboxes share)
  "keyctl", "add_key", "request_key",
  // BPF, perf, userfaultfd, io_uring: large kernel attack surface, refused by container runtimes
  "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
  // namespaces and mounts, old and new API
  "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "chroot", "mount_setattr", "move_mount",
  "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
  // handles that bypass path permission checks; other processes' memory; kernel logs; I/O ports
  "open_by_handle_at", "name_to_handle_at", "process_vm_readv", "process_vm_writev", "kcmp", "syslog",
  "ioperm", "iopl", "vm86", "vm86old", "lookup_dcookie", "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl",
  "vhangup", "bdflush", "afs_syscall", "fanotify_init",
  // NUMA policy (Docker: only with CAP_SYS_NICE)
  "mbind", "set_mempolicy", "get_mempolicy", "move_pages", "migrate_pages", "set_mempolicy_home_node",
};

/** Namespace flags that `clone` may not carry: a nested user namespace would hand the sandbox every capability again. */
static const unsigned long NAMESPACE_FLAGS[] = {
  CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP,
#ifdef CLONE_NEWTIME
  CLONE_NEWTIME,
#endif
};

static int deny(scmp_filter_ctx ctx, const char *name) {
  int nr = seccomp_syscall_resolve_name(name);
  // A call this architecture does not have (vm86 on x86_64, …) needs no rule.
  if (nr == __NR_SCMP_ERROR) return 0;
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
  return rc == -EDOM ? 0 : rc;
}

scmp_filter_ctx sandbox_seccomp_policy(void) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return NULL;
  int rc = 0;
  // The other ABIs of this CPU (i386 and x32 on x86_64, arm on aarch64) get the same rules, so int 0x80 is no way around them.
#if defined(__x86_64__)
  if (!rc) rc = seccomp_arch_add(ctx, SCMP_ARCH_X86);
  if (!rc) rc = seccomp_arch_add(ctx, SCMP_ARCH_X32);
#elif defined(__aarch64__)
  if (!rc) rc = seccomp_arch_add(ctx, SCMP_ARCH_ARM);
#endif
  if (rc == -EEXIST) rc = 0;
  for (size_t i = 0; !rc && i < sizeof DENIED_SYSCALLS / sizeof *DENIED_SYSCALLS; i++) rc = deny(ctx, DENIED_SYSCALLS[i]);
  // clone: the flags are the first argument on x86 and arm (s390 swaps them; not supported).
  for (size_t i = 0; !rc && i < sizeof NAMESPACE_FLAGS / sizeof *NAMESPACE_FLAGS; i++) {
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, NAMESPACE_FLAGS[i], NAMESPACE_FLAGS[i]));
  }
  // clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc fall back to clone, which is checked.
  if (!rc) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  // vsock is not network-namespaced: it would reach the hypervisor and the VM's own vsock services.
  if (!rc) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_VSOCK));
  if (!rc) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socketpair), 1, SCMP_A0(SCMP_CMP_EQ, AF_VSOCK));
  if (rc) {
    seccomp_release(ctx);
    errno = -rc;
    return NULL;
  }
  return ctx;
}
