// sandbox-enter: starts one program inside a running sandbox, as the sandbox's own unprivileged user.
//
//   sandbox-enter --pid PID [--cgroup-procs FILE]... [--cwd DIR] -- PROGRAM [ARG]...
//   sandbox-enter --become UID:GID [--keep-fds N] [--stage-at DIR --stage SRC...] [--cgroup-procs FILE]... -- PROGRAM [ARG]...
//   sandbox-enter --print-seccomp-bpf          (the filter as raw BPF, for `bwrap --seccomp FD`)
//
// --become starts a host-side program of the sandbox (bwrap itself, pasta) in its cgroups as the sandbox's host
// uid/gid, with no capabilities and no supplementary groups, killed with its parent (the relay), and holding no
// descriptor from N up (default 3): node-pty leaves every terminal master inheritable, and bwrap's init would keep
// them inside the sandbox. With --stage, it first gives itself a private mount namespace, mounts a small tmpfs on
// DIR and binds each SRC on DIR/0, DIR/1, …: bwrap, no longer root, can then bind them although they lie below
// directories only root may pass (the data dir is 0700), and nothing of this shows in the host's mount table.
//
// PID is the sandbox's init (bwrap's child). The relay runs this as host root; the program ends up
//   - in the sandbox's cgroups (joined first, while still root, so every descendant is counted),
//   - in all of the init's namespaces (user, mount, uts, ipc, net, pid, cgroup) and its root directory,
//   - as uid/gid 0 of the sandbox's user namespace, which is an unprivileged host uid (the relay maps a
//     subordinate range, see server/src/sandbox/sandbox-ids.ts),
//   - with the capability bounding set cut to a container's usual few, no ambient or inheritable capabilities,
//     no_new_privs, the seccomp filter of seccomp-policy.c, and no descriptor above stderr.
// This replaces `nsenter` + `setpriv` + a shell that closed inherited descriptors: one exec instead of four, and the
// seccomp filter, which neither nsenter nor Debian's setpriv can load.
//
// The process stays outside the sandbox (host root, only its children's pid namespace changed) and forwards signals
// to the program, which it started in a fork: joining a pid namespace only applies to children. It exits as the
// program did (the same code, or the same signal). If it is killed, the program gets SIGKILL (parent-death signal).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp-policy.h"

#define MAX_CGROUPS 8
#define MAX_STAGED 4

/** What root inside may still do: Docker's usual set minus raw sockets, mknod, chroot and capability games. */
static const int KEPT_CAPABILITIES[] = {
  CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_NET_BIND_SERVICE,
};

/** Joined in this order: the user namespace first, so the others (all owned by it) can be entered with its capabilities. */
static const struct { const char *name; int type; } NAMESPACES[] = {
  {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
  {"net", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP},
};
#define NAMESPACE_COUNT (sizeof NAMESPACES / sizeof *NAMESPACES)

static pid_t child = -1;

static void fail(const char *what) {
  fprintf(stderr, "sandbox-enter: %s: %s\n", what, strerror(errno));
  _exit(126);
}

static void usage(void) {
  fputs("usage: sandbox-enter --pid PID [--cgroup-procs FILE]... [--cwd DIR] -- PROGRAM [ARG]...\n"
        "       sandbox-enter --become UID:GID [--keep-fds N] [--stage-at DIR --stage SRC]... [--cgroup-procs FILE]... -- PROGRAM [ARG]...\n"
        "       sandbox-enter --print-seccomp-bpf\n", stderr);
  exit(2);
}

static int open_proc(long pid, const char *entry, int flags) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/%s", pid, entry);
  return open(path, flags | O_CLOEXEC);
}

static void join_cgroup(const char *procs_file) {
  int fd = open(procs_file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(procs_file);
  char pid[24];
  int length = snprintf(pid, sizeof pid, "%d\n", getpid());
  if (write(fd, pid, (size_t)length) != length) fail(procs_file);
  close(fd);
}

static int is_kept(int capability) {
  for (size_t i = 0; i < sizeof KEPT_CAPABILITIES / sizeof *KEPT_CAPABILITIES; i++) {
    if (KEPT_CAPABILITIES[i] == capability) return 1;
  }
  return 0;
}

static void drop_capabilities(void) {
  int last = CAP_LAST_CAP;
  FILE *file = fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (file) {
    if (fscanf(file, "%d", &last) != 1) last = CAP_LAST_CAP;
    fclose(file);
  }
  for (int capability = 0; capability <= last; capability++) {
    if (!is_kept(capability) && prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) < 0 && errno != EINVAL) fail("dropping capabilities");
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) fail("clearing ambient capabilities");
  // Permitted and effective become the bounding set at exec (uid 0 inside); inheritable must not carry anything over.
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &header, data) < 0) fail("reading capabilities");
  data[0].inheritable = data[1].inheritable = 0;
  if (syscall(SYS_capset, &header, data) < 0) fail("clearing inheritable capabilities");
}

/**
 * Closes every inherited descriptor but stdio and `keep`: node-pty leaves each terminal master inheritable, and a
 * helper that held another session's master would keep that terminal open after the relay closed it (its shell
 * would never get SIGHUP) and carry it towards the sandbox.
 */
static void close_inherited_except(const int keep[], size_t count) {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) fail("listing descriptors");
  int own = dirfd(dir);
  int doomed[1024];
  size_t doomed_count = 0;
  for (struct dirent *entry; (entry = readdir(dir));) {
    int fd = atoi(entry->d_name);
    if (fd < 3 || fd == own || entry->d_name[0] == '.') continue;
    int kept = 0;
    for (size_t k = 0; k < count; k++) kept |= keep[k] == fd;
    if (!kept && doomed_count < sizeof doomed / sizeof *doomed) doomed[doomed_count++] = fd;
  }
  closedir(dir);
  for (size_t d = 0; d < doomed_count; d++) close(doomed[d]);
  // More than fit in one pass: list again (rare; a relay with over a thousand terminals).
  if (doomed_count == sizeof doomed / sizeof *doomed) close_inherited_except(keep, count);
}

static void close_descriptors_from(unsigned first) {
  if (syscall(SYS_close_range, first, ~0U, 0U) == 0) return;
  long max = sysconf(_SC_OPEN_MAX);
  for (long fd = first; fd < (max > 0 ? max : 65536); fd++) close((int)fd);
}

/** The child: into the sandbox, down to its user, and exec. Never returns. */
static void become_sandboxed(int namespace_fds[], int root_fd, const char *cwd, char **argv, pid_t parent) {
  for (size_t i = 0; i < NAMESPACE_COUNT; i++) {
    if (setns(namespace_fds[i], NAMESPACES[i].type) < 0) fail(NAMESPACES[i].name);
    close(namespace_fds[i]);
  }
  if (fchdir(root_fd) < 0 || chroot(".") < 0) fail("entering the sandbox's root");
  close(root_fd);
  if (chdir(cwd) < 0 && chdir("/") < 0) fail(cwd);
  // uid/gid 0 of the sandbox's user namespace: an unprivileged uid on the host.
  if (setgroups(0, NULL) < 0) fail("setgroups");
  if (setresgid(0, 0, 0) < 0) fail("setresgid");
  if (setresuid(0, 0, 0) < 0) fail("setresuid");
  drop_capabilities();
  // Set after the credential change, which clears it; then check the parent is not already gone. It lives outside
  // the pid namespace, where getppid() reads 0; an orphan would have been given to the sandbox's init.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail("parent-death signal");
  pid_t seen = getppid();
  if (seen != 0 && seen != parent) _exit(126);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("no_new_privs");
  scmp_filter_ctx filter = sandbox_seccomp_policy();
  if (!filter) fail("building the seccomp filter");
  int rc = seccomp_load(filter);
  if (rc < 0) {
    errno = -rc;
    fail("loading the seccomp filter");
  }
  seccomp_release(filter);
  close_descriptors_from(3);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execvp(argv[0], argv);
  fprintf(stderr, "sandbox-enter: %s: %s\n", argv[0], strerror(errno));
  _exit(errno == ENOENT ? 127 : 126);
}

static void forward(int signal) {
  if (child > 0) kill(child, signal);
}

static int wait_and_mirror(void) {
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) fail("waitpid");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  int signal = WTERMSIG(status);
  // Die of the same signal, so whoever waits for us (node-pty, the relay) sees what happened to the program.
  struct sigaction fallback = {.sa_handler = SIG_DFL};
  sigaction(signal, &fallback, NULL);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, signal);
  sigprocmask(SIG_UNBLOCK, &only, NULL);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  kill(getpid(), signal);
  return 128 + signal;
}

/** Binds each of `sources` on `at`/0, `at`/1, … in a mount namespace of this process's own (see --stage). */
static void stage(const char *at, const char *sources[], int count) {
  if (unshare(CLONE_NEWNS) < 0) fail("a private mount namespace");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("making mounts private");
  if (mount("sandbox-stage", at, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") < 0) fail(at);
  for (int n = 0; n < count; n++) {
    char target[4096];
    snprintf(target, sizeof target, "%s/%d", at, n);
    if (mkdir(target, 0755) < 0) fail(target);
    if (mount(sources[n], target, NULL, MS_BIND, NULL) < 0) fail(sources[n]);
  }
}

/** --become: cgroups, then down to an unprivileged host user for good, then exec in place (no namespaces, no fork). */
static int become(const char *ids, unsigned keep_fds, char **argv) {
  char *end;
  unsigned long uid = strtoul(ids, &end, 10);
  if (*end != ':' || uid == 0) usage();
  unsigned long gid = strtoul(end + 1, &end, 10);
  if (*end || gid == 0) usage();
  if (setgroups(0, NULL) < 0) fail("setgroups");
  if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0) fail("setresgid");
  // From uid 0 to another uid with all three ids changed: the kernel clears every capability.
  if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0) fail("setresuid");
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) fail("parent-death signal");
  if (getppid() == 1) _exit(126);
  close_descriptors_from(keep_fds);
  execvp(argv[0], argv);
  fprintf(stderr, "sandbox-enter: %s: %s\n", argv[0], strerror(errno));
  _exit(errno == ENOENT ? 127 : 126);
}

static int print_seccomp_bpf(void) {
  scmp_filter_ctx filter = sandbox_seccomp_policy();
  if (!filter) fail("building the seccomp filter");
  int rc = seccomp_export_bpf(filter, STDOUT_FILENO);
  seccomp_release(filter);
  if (rc < 0) {
    errno = -rc;
    fail("exporting the seccomp filter");
  }
  return 0;
}

int main(int argc, char **argv) {
  long pid = 0;
  const char *become_ids = NULL;
  unsigned keep_fds = 3;
  const char *stage_at = NULL;
  const char *staged[MAX_STAGED];
  int staged_count = 0;
  const char *cwd = "/";
  const char *cgroups[MAX_CGROUPS];
  int cgroup_count = 0;
  int i = 1;
  if (argc == 2 && strcmp(argv[1], "--print-seccomp-bpf") == 0) return print_seccomp_bpf();
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    }
    if (i + 1 >= argc) usage();
    if (strcmp(argv[i], "--pid") == 0) {
      char *end;
      pid = strtol(argv[++i], &end, 10);
      if (*end || pid <= 0) usage();
    } else if (strcmp(argv[i], "--become") == 0) {
      become_ids = argv[++i];
    } else if (strcmp(argv[i], "--stage-at") == 0) {
      stage_at = argv[++i];
    } else if (strcmp(argv[i], "--stage") == 0) {
      if (staged_count == MAX_STAGED) usage();
      staged[staged_count++] = argv[++i];
    } else if (strcmp(argv[i], "--keep-fds") == 0) {
      char *end;
      long value = strtol(argv[++i], &end, 10);
      if (*end || value < 3 || value > 64) usage();
      keep_fds = (unsigned)value;
    } else if (strcmp(argv[i], "--cwd") == 0) {
      cwd = argv[++i];
    } else if (strcmp(argv[i], "--cgroup-procs") == 0) {
      if (cgroup_count == MAX_CGROUPS) usage();
      cgroups[cgroup_count++] = argv[++i];
    } else {
      usage();
    }
  }
  if (i >= argc || !pid == !become_ids) usage();
  if (become_ids) {
    if (staged_count && !stage_at) usage();
    for (int c = 0; c < cgroup_count; c++) join_cgroup(cgroups[c]);
    if (staged_count) stage(stage_at, staged, staged_count);
    return become(become_ids, keep_fds, &argv[i]);
  }

  int namespace_fds[NAMESPACE_COUNT];
  for (size_t n = 0; n < NAMESPACE_COUNT; n++) {
    char entry[32];
    snprintf(entry, sizeof entry, "ns/%s", NAMESPACES[n].name);
    if ((namespace_fds[n] = open_proc(pid, entry, O_RDONLY)) < 0) fail(entry);
  }
  int root_fd = open_proc(pid, "root", O_RDONLY | O_DIRECTORY);
  if (root_fd < 0) fail("the sandbox's root");
  int pid_namespace = open_proc(pid, "ns/pid", O_RDONLY);
  if (pid_namespace < 0) fail("ns/pid");
  int keep[NAMESPACE_COUNT + 2];
  for (size_t n = 0; n < NAMESPACE_COUNT; n++) keep[n] = namespace_fds[n];
  keep[NAMESPACE_COUNT] = root_fd;
  keep[NAMESPACE_COUNT + 1] = pid_namespace;
  close_inherited_except(keep, NAMESPACE_COUNT + 2);
  for (int c = 0; c < cgroup_count; c++) join_cgroup(cgroups[c]);
  if (setns(pid_namespace, CLONE_NEWPID) < 0) fail("pid namespace");
  close(pid_namespace);

  // Signals that arrive between fork and the handlers are held, then forwarded.
  sigset_t forwarded, previous;
  sigemptyset(&forwarded);
  const int FORWARDED[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
  for (size_t s = 0; s < sizeof FORWARDED / sizeof *FORWARDED; s++) sigaddset(&forwarded, FORWARDED[s]);
  sigprocmask(SIG_BLOCK, &forwarded, &previous);
  pid_t parent = getpid();
  child = fork();
  if (child < 0) fail("fork");
  if (child == 0) become_sandboxed(namespace_fds, root_fd, cwd, &argv[i], parent);

  for (size_t n = 0; n < NAMESPACE_COUNT; n++) close(namespace_fds[n]);
  close(root_fd);
  struct sigaction action = {.sa_handler = forward, .sa_flags = SA_RESTART};
  sigemptyset(&action.sa_mask);
  for (size_t s = 0; s < sizeof FORWARDED / sizeof *FORWARDED; s++) sigaction(FORWARDED[s], &action, NULL);
  sigprocmask(SIG_SETMASK, &previous, NULL);
  return wait_and_mirror();
}
