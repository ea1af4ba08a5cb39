// fs_at: the *at() system calls Node's fs module lacks, so the relay can walk a sandbox's workspace one directory
// descriptor at a time and never resolve a sandbox-controlled path by name (server/src/sandbox/workspace-walk.ts).
// Every call is synchronous and returns at once: none of them reads file contents or opens anything that could
// block (FIFOs are opened O_NONBLOCK or O_PATH by the caller), so they run on the event loop rather than tying up a
// libuv pool thread a sandbox could hold. Errors are thrown as Error objects with `code` (`ENOENT`, …) and `errno`.
//
// Also `dupNonblocking`, the descriptors the relay reads and writes a PTY through (server/src/session/pty-input.ts,
// pty-output.ts), `setWindowSize`, which resizes a PTY through such a descriptor, and
// `scrubMemory`, which zeroes a secret in this process's original argv and environment block, so that
// /proc/<pid>/cmdline and /proc/<pid>/environ no longer show it once the relay has read it.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NAME 4096

static napi_value throw_errno(napi_env env, int error, const char *syscall) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", syscall, strerror(error));
  napi_value code, text, object, number, call;
  const char *name = strerrorname_np(error);
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &object);
  napi_create_int32(env, -error, &number);
  napi_set_named_property(env, object, "errno", number);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &call);
  napi_set_named_property(env, object, "syscall", call);
  napi_throw(env, object);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < expected) {
    napi_throw_type_error(env, NULL, "wrong number of arguments");
    return 0;
  }
  return 1;
}

static int get_int(napi_env env, napi_value value, int32_t *out) {
  if (napi_get_value_int32(env, value, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected an integer");
    return 0;
  }
  return 1;
}

/** A name within one directory: not empty, no slash or NUL (the caller's bug: TypeError); too long is ENAMETOOLONG. */
static int get_name(napi_env env, napi_value value, char *out) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a string");
    return 0;
  }
  if (length >= MAX_NAME - 1) {
    throw_errno(env, ENAMETOOLONG, "name");
    return 0;
  }
  napi_get_value_string_utf8(env, value, out, MAX_NAME, &length);
  if (length == 0 || strchr(out, '/') || strlen(out) != length) {
    napi_throw_type_error(env, NULL, "expected one path component");
    return 0;
  }
  return 1;
}

static napi_value int_result(napi_env env, int value) {
  napi_value result;
  napi_create_int32(env, value, &result);
  return result;
}

/** openat(dirfd, name, flags, mode) → fd. `name` may be "" with AT_EMPTY_PATH semantics not supported: use a name. */
static napi_value js_openat(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t dirfd, flags, mode;
  char name[MAX_NAME];
  if (!get_args(env, info, 4, argv) || !get_int(env, argv[0], &dirfd) || !get_name(env, argv[1], name) ||
      !get_int(env, argv[2], &flags) || !get_int(env, argv[3], &mode)) return NULL;
  int fd = openat(dirfd, name, flags | O_CLOEXEC | O_NOCTTY, (mode_t)mode);
  if (fd < 0) return throw_errno(env, errno, "openat");
  return int_result(env, fd);
}

static napi_value js_mkdirat(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t dirfd, mode;
  char name[MAX_NAME];
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &dirfd) || !get_name(env, argv[1], name) || !get_int(env, argv[2], &mode)) return NULL;
  if (mkdirat(dirfd, name, (mode_t)mode) < 0) return throw_errno(env, errno, "mkdirat");
  return NULL;
}

static napi_value js_unlinkat(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t dirfd, flags;
  char name[MAX_NAME];
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &dirfd) || !get_name(env, argv[1], name) || !get_int(env, argv[2], &flags)) return NULL;
  if (unlinkat(dirfd, name, flags) < 0) return throw_errno(env, errno, "unlinkat");
  return NULL;
}

static napi_value js_renameat2(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t olddirfd, newdirfd, flags;
  char oldname[MAX_NAME], newname[MAX_NAME];
  if (!get_args(env, info, 5, argv) || !get_int(env, argv[0], &olddirfd) || !get_name(env, argv[1], oldname) ||
      !get_int(env, argv[2], &newdirfd) || !get_name(env, argv[3], newname) || !get_int(env, argv[4], &flags)) return NULL;
  if (renameat2(olddirfd, oldname, newdirfd, newname, (unsigned)flags) < 0) return throw_errno(env, errno, "renameat2");
  return NULL;
}

static napi_value js_readlinkat(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t dirfd;
  char name[MAX_NAME], target[MAX_NAME];
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &dirfd) || !get_name(env, argv[1], name)) return NULL;
  ssize_t length = readlinkat(dirfd, name, target, sizeof target);
  if (length < 0) return throw_errno(env, errno, "readlinkat");
  if ((size_t)length >= sizeof target) return throw_errno(env, ENAMETOOLONG, "readlinkat");
  napi_value result;
  napi_create_string_utf8(env, target, (size_t)length, &result);
  return result;
}

static napi_value js_fchownat(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t dirfd, uid, gid, flags;
  char name[MAX_NAME];
  if (!get_args(env, info, 5, argv) || !get_int(env, argv[0], &dirfd) || !get_name(env, argv[1], name) ||
      !get_int(env, argv[2], &uid) || !get_int(env, argv[3], &gid) || !get_int(env, argv[4], &flags)) return NULL;
  if (fchownat(dirfd, name, (uid_t)uid, (gid_t)gid, flags) < 0) return throw_errno(env, errno, "fchownat");
  return NULL;
}

static void set_number(napi_env env, napi_value object, const char *key, double value) {
  napi_value number;
  napi_create_double(env, value, &number);
  napi_set_named_property(env, object, key, number);
}

/** fstatat(dirfd, name, flags) → { mode, uid, gid, size, mtimeMs, ino, dev, nlink } (numbers). */
static napi_value js_fstatat(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t dirfd, flags;
  char name[MAX_NAME];
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &dirfd) || !get_name(env, argv[1], name) || !get_int(env, argv[2], &flags)) return NULL;
  struct stat status;
  if (fstatat(dirfd, name, &status, flags) < 0) return throw_errno(env, errno, "fstatat");
  napi_value result;
  napi_create_object(env, &result);
  set_number(env, result, "mode", status.st_mode);
  set_number(env, result, "uid", status.st_uid);
  set_number(env, result, "gid", status.st_gid);
  set_number(env, result, "size", (double)status.st_size);
  set_number(env, result, "mtimeMs", (double)status.st_mtim.tv_sec * 1e3 + (double)status.st_mtim.tv_nsec / 1e6);
  set_number(env, result, "ino", (double)status.st_ino);
  set_number(env, result, "dev", (double)status.st_dev);
  set_number(env, result, "nlink", (double)status.st_nlink);
  return result;
}

/**
 * readdir(fd, max) → at most `max` names of the directory open as `fd` (the descriptor stays open and is not moved),
 * without `.` and `..`: a sandbox can make a directory of millions of entries, and the caller decides how many it
 * will look at.
 */
static napi_value js_readdir(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, max;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &max)) return NULL;
  int copy = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0) return throw_errno(env, errno, "openat");
  DIR *dir = fdopendir(copy);
  if (!dir) {
    int error = errno;
    close(copy);
    return throw_errno(env, error, "fdopendir");
  }
  napi_value result;
  napi_create_array(env, &result);
  uint32_t index = 0;
  struct dirent *entry;
  errno = 0;
  while ((int32_t)index < max && (entry = readdir(dir))) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    napi_value name;
    napi_create_string_utf8(env, entry->d_name, NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, result, index++, name);
  }
  int error = errno;
  closedir(dir);
  if (error) return throw_errno(env, error, "readdir");
  return result;
}

/** Reads four fields of /proc/self/stat: the bounds of the original argv (48, 49) and environment (50, 51) blocks. */
static int process_blocks(unsigned long bounds[4]) {
  FILE *file = fopen("/proc/self/stat", "re");
  if (!file) return -1;
  char text[4096];
  size_t length = fread(text, 1, sizeof text - 1, file);
  fclose(file);
  text[length] = 0;
  char *cursor = strrchr(text, ')');
  if (!cursor) return -1;
  // Field 3 (state) follows ") "; fields 48-51 are arg_start, arg_end, env_start, env_end (proc(5)).
  int field = 2;
  for (char *token = strtok(cursor + 1, " "); token; token = strtok(NULL, " ")) {
    field++;
    if (field >= 48 && field <= 51) bounds[field - 48] = strtoul(token, NULL, 10);
  }
  if (field < 51 || bounds[0] > bounds[1] || bounds[2] > bounds[3]) return -1;
  return 0;
}

static int scrub_block(char *start, char *end, const char *needle, size_t length) {
  int found = 0;
  for (char *at = start; at && at + length <= end; at++) {
    at = memmem(at, (size_t)(end - at), needle, length);
    if (!at) break;
    memset(at, 0, length);
    found++;
  }
  return found;
}

/** scrubMemory(secret) → how many copies were zeroed in the original argv and environment blocks. */
static napi_value js_scrub_memory(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char secret[MAX_NAME];
  size_t length;
  if (!get_args(env, info, 1, argv)) return NULL;
  if (napi_get_value_string_utf8(env, argv[0], secret, sizeof secret, &length) != napi_ok || length == 0) {
    napi_throw_type_error(env, NULL, "expected a non-empty string");
    return NULL;
  }
  unsigned long bounds[4] = {0};
  if (process_blocks(bounds) < 0) return throw_errno(env, EIO, "reading /proc/self/stat");
  int found = scrub_block((char *)bounds[0], (char *)bounds[1], secret, length) +
              scrub_block((char *)bounds[2], (char *)bounds[3], secret, length);
  return int_result(env, found);
}

static void export_function(napi_env env, napi_value exports, const char *name, napi_callback callback) {
  napi_value function;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &function);
  napi_set_named_property(env, exports, name, function);
}

static void export_constant(napi_env env, napi_value exports, const char *name, int value) {
  napi_set_named_property(env, exports, name, int_result(env, value));
}

/**
 * dupNonblocking(fd) → a new descriptor (close-on-exec) for the same open file, set non-blocking. The relay writes a
 * PTY's input through its own copy, so a write can never reach another file after node-pty closes (and the process
 * reuses the number of) its descriptor.
 */
static napi_value js_dup_nonblocking(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) return throw_errno(env, errno, "fcntl");
  int flags = fcntl(copy, F_GETFL);
  if (flags < 0 || fcntl(copy, F_SETFL, flags | O_NONBLOCK) < 0) {
    int error = errno;
    close(copy);
    return throw_errno(env, error, "fcntl");
  }
  return int_result(env, copy);
}

/**
 * setWindowSize(fd, cols, rows): TIOCSWINSZ on a PTY master. Through the relay's own descriptor (a `dupNonblocking`
 * copy), not node-pty's, which the relay closes once it reads the PTY itself (server/src/session/pty-output.ts).
 */
static napi_value js_set_window_size(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, cols, rows;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &cols) || !get_int(env, argv[2], &rows)) return NULL;
  if (cols < 1 || rows < 1 || cols > 0xffff || rows > 0xffff) {
    napi_throw_range_error(env, NULL, "cols and rows must be 1 to 65535");
    return NULL;
  }
  struct winsize size = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  if (ioctl(fd, TIOCSWINSZ, &size) < 0) return throw_errno(env, errno, "ioctl");
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  export_function(env, exports, "openat", js_openat);
  export_function(env, exports, "mkdirat", js_mkdirat);
  export_function(env, exports, "unlinkat", js_unlinkat);
  export_function(env, exports, "renameat2", js_renameat2);
  export_function(env, exports, "readlinkat", js_readlinkat);
  export_function(env, exports, "fchownat", js_fchownat);
  export_function(env, exports, "fstatat", js_fstatat);
  export_function(env, exports, "readdir", js_readdir);
  export_function(env, exports, "scrubMemory", js_scrub_memory);
  export_function(env, exports, "dupNonblocking", js_dup_nonblocking);
  export_function(env, exports, "setWindowSize", js_set_window_size);
  export_constant(env, exports, "O_PATH", O_PATH);
  export_constant(env, exports, "O_DIRECTORY", O_DIRECTORY);
  export_constant(env, exports, "O_NOFOLLOW", O_NOFOLLOW);
  export_constant(env, exports, "O_NONBLOCK", O_NONBLOCK);
  export_constant(env, exports, "O_RDONLY", O_RDONLY);
  export_constant(env, exports, "O_WRONLY", O_WRONLY);
  export_constant(env, exports, "O_CREAT", O_CREAT);
  export_constant(env, exports, "O_EXCL", O_EXCL);
  export_constant(env, exports, "AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW);
  export_constant(env, exports, "AT_REMOVEDIR", AT_REMOVEDIR);
  export_constant(env, exports, "RENAME_NOREPLACE", RENAME_NOREPLACE);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
