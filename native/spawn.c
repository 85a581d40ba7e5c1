/*
 * spawnDetached: starts a program in its own session, stdio on /dev/null, other descriptors closed,
 * signals at their defaults, at a lower priority, and returns its pid without waiting for it.
 * posix_spawn, unlike Node's child_process (fork), does not copy the page tables of our ~50 MB
 * process: git's verify call starts the daily trust root refresh this way as it exits.
 * Exported: spawnDetached(file, argv[], cwd, niceness) -> pid; throws when it cannot start it, or
 * when this system's posix_spawn lacks what is needed (the caller then uses child_process).
 */
#ifdef __linux__
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>
#define NAPI_VERSION 4
#include <node_api.h>
#include "spawn.h"

extern char **environ;

/* Each argument at most this long, at most this many: the refresh's command line is three short strings. */
#define MAX_ARG 4096
#define MAX_ARGS 8

#if defined(POSIX_SPAWN_SETSID) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define HAVE_DETACHED_SPAWN 1
#endif

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, "ESPAWNDETACHED", message);
  return NULL;
}

/* A JS string copied into buf (NUL-terminated); -1 when it is not a string or too long. */
static int string_arg(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len >= size) return -1;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) return -1;
  return strlen(buf) == len ? 0 : -1; /* no NUL inside */
}

#ifdef HAVE_DETACHED_SPAWN
static int start(const char *file, char *const argv[], const char *cwd, int niceness, pid_t *pid) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t none, all;
  int err, fd;
  sigemptyset(&none);
  sigfillset(&all);
  if ((err = posix_spawn_file_actions_init(&actions)) != 0) return err;
  if ((err = posix_spawnattr_init(&attr)) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return err;
  }
  /* Not git's pipes nor any other descriptor of ours: the refresh must not keep git waiting for EOF. */
  for (fd = 0; fd < 3 && err == 0; fd++) err = posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  if (err == 0) err = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  if (err == 0) err = posix_spawn_file_actions_addchdir_np(&actions, cwd);
  /* Its own session (no terminal's signals), and Node's ignored SIGPIPE and blocked signals not inherited. */
  if (err == 0) err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  if (err == 0) err = posix_spawnattr_setsigdefault(&attr, &all);
  if (err == 0) err = posix_spawnattr_setsigmask(&attr, &none);
  if (err == 0) err = posix_spawn(pid, file, &actions, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  /* glibc returns once the program is executing: from here on it runs at the lower priority. */
  if (err == 0) setpriority(PRIO_PROCESS, (id_t)*pid, niceness);
  return err;
}
#endif

static napi_value spawn_detached(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], item, result;
  char file[MAX_ARG], cwd[MAX_ARG], args[MAX_ARGS][MAX_ARG];
  char *child_argv[MAX_ARGS + 1];
  uint32_t count, i;
  int32_t niceness;
  bool is_array;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || string_arg(env, argv[0], file, sizeof file) ||
      napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[1], &count) != napi_ok ||
      count < 1 || count > MAX_ARGS || string_arg(env, argv[2], cwd, sizeof cwd) || napi_get_value_int32(env, argv[3], &niceness) != napi_ok) {
    napi_throw_type_error(env, NULL, "spawnDetached(file, argv, cwd, niceness): bad arguments");
    return NULL;
  }
  for (i = 0; i < count; i++) {
    if (napi_get_element(env, argv[1], i, &item) != napi_ok || string_arg(env, item, args[i], sizeof args[i])) {
      napi_throw_type_error(env, NULL, "spawnDetached: each argument must be a short string");
      return NULL;
    }
    child_argv[i] = args[i];
  }
  child_argv[count] = NULL;
#ifdef HAVE_DETACHED_SPAWN
  {
    pid_t pid;
    int err = start(file, child_argv, cwd, niceness, &pid);
    if (err != 0) return throw_errno(env, "posix_spawn", err);
    if (napi_create_int32(env, (int32_t)pid, &result) != napi_ok) return NULL;
    return result;
  }
#else
  (void)result;
  (void)niceness;
  return throw_errno(env, "posix_spawn without setsid, closefrom and chdir on this system", ENOSYS);
#endif
}

int register_spawn(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "spawnDetached", NAPI_AUTO_LENGTH, spawn_detached, NULL, &fn) != napi_ok) return -1;
  return napi_set_named_property(env, exports, "spawnDetached", fn) == napi_ok ? 0 : -1;
}
