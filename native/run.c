/*
 * runCaptured: runs a short program (git config on git's hot path) to its end and returns what it
 * wrote. Node's child_process forks, which copies our page tables (tens of MB mapped) before git can
 * start; posix_spawn (glibc: clone with CLONE_VM|CLONE_VFORK) starts git without that copy.
 *
 * runCaptured(file, argv[], cwd|null, env[] "NAME=value", maxBytes, timeoutMs)
 *   -> { status: number|null, signal: number|null, stdout: Buffer, stderr: Buffer, timedOut, tooLarge }
 * file without a slash is looked up in env's PATH, as execvp does with that environment. stdin is
 * /dev/null; signals are at their defaults in the child (Node ignores SIGPIPE). A child that runs past
 * timeoutMs, or writes more than maxBytes to either stream, is killed (SIGKILL) and reaped. Errors that
 * prevent the start (no such program, a bad cwd) throw with errno's text; the caller falls back to
 * child_process. Linux only (elsewhere it throws).
 *
 * spawnPiped(file, argv[], cwd|null, env[]) -> { pid, stdin, stdout, stderr }: the same start for a
 * program whose input and output the caller streams on its event loop (git cat-file, rev-list): the
 * parent's ends of three pipes (close-on-exec). reap(pid) -> null while it runs, else { status,
 * signal } (both null when there is nothing to reap). Same errors as runCaptured.
 */
#ifdef __linux__
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define NAPI_VERSION 4
#include <node_api.h>
#include "run.h"
#include "throw.h"
#ifdef __linux__
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#endif

#define MAX_ARGS 64
#define MAX_ENV 4096
#define MAX_STRING 65536
/* The stdout pipe of a streamed program (spawnPiped): Linux's default limit for an unprivileged process. */
#define STREAMED_PIPE_BYTES (1024 * 1024)

/* A JS string as a malloc'd C string; NULL when it is not a string, too long, or holds a NUL. */
static char *string_of(napi_env env, napi_value v) {
  size_t len, got;
  char *s;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len >= MAX_STRING) return NULL;
  s = malloc(len + 1);
  if (!s) return NULL;
  if (napi_get_value_string_utf8(env, v, s, len + 1, &got) != napi_ok || strlen(s) != got) {
    free(s);
    return NULL;
  }
  return s;
}

/* A JS array of strings as a NULL-terminated malloc'd vector (at most max); NULL on any bad element. */
static char **strings_of(napi_env env, napi_value v, uint32_t max) {
  bool is_array;
  uint32_t n, i;
  char **list;
  napi_value item;
  if (napi_is_array(env, v, &is_array) != napi_ok || !is_array || napi_get_array_length(env, v, &n) != napi_ok || n > max) return NULL;
  list = calloc(n + 1, sizeof *list);
  if (!list) return NULL;
  for (i = 0; i < n; i++) {
    if (napi_get_element(env, v, i, &item) != napi_ok || !(list[i] = string_of(env, item))) {
      while (i > 0) free(list[--i]);
      free(list);
      return NULL;
    }
  }
  return list;
}

static void free_strings(char **list) {
  char **p;
  if (!list) return;
  for (p = list; *p; p++) free(*p);
  free(list);
}

#ifdef __linux__
struct sink {
  char *data;
  size_t len, cap;
  int fd;
};

/* Reads what is there into the sink; false at end of stream or when it would pass max bytes. */
static bool drain(struct sink *s, size_t max, bool *too_large) {
  char buf[16384];
  ssize_t n = read(s->fd, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  if (s->len + (size_t)n > max) {
    *too_large = true;
    return false;
  }
  if (s->len + (size_t)n > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16384;
    char *grown;
    while (cap < s->len + (size_t)n) cap *= 2;
    grown = realloc(s->data, cap);
    if (!grown) {
      *too_large = true;
      return false;
    }
    s->data = grown;
    s->cap = cap;
  }
  memcpy(s->data + s->len, buf, (size_t)n);
  s->len += (size_t)n;
  return true;
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The value of PATH in envp, or the default execvp uses without one. */
static const char *path_of(char **envp) {
  for (; *envp; envp++) {
    if (strncmp(*envp, "PATH=", 5) == 0) return *envp + 5;
  }
  return "/bin:/usr/bin";
}

/*
 * posix_spawn of file, or of the first PATH entry joined with it that is an executable file (as execvp:
 * go on after ENOENT, ENOTDIR, EACCES). access() skips the entries without one: a posix_spawn that
 * fails still starts a child (a clone, then a failed execve), and a PATH seen here has eight
 * directories before /usr/bin, so every git call started eight children that did nothing.
 */
static int spawn_found(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr, char **argv, char **envp) {
  const char *dirs, *end;
  char path[4096];
  int err = ENOENT, last_access = 0;
  if (strchr(file, '/')) return posix_spawn(pid, file, actions, attr, argv, envp);
  for (dirs = path_of(envp);; dirs = end + 1) {
    size_t len;
    end = strchr(dirs, ':');
    if (!end) end = dirs + strlen(dirs);
    len = (size_t)(end - dirs);
    if (len + strlen(file) + 2 <= sizeof path) {
      if (len == 0) snprintf(path, sizeof path, "%s", file);
      else snprintf(path, sizeof path, "%.*s/%s", (int)len, dirs, file);
      err = access(path, X_OK) == 0 ? posix_spawn(pid, path, actions, attr, argv, envp) : errno;
      if (err == 0) return 0;
      if (err == EACCES) last_access = err;
      else if (err != ENOENT && err != ENOTDIR) return err;
    }
    if (*end == '\0') break;
  }
  return last_access ? last_access : err;
}

/*
 * Starts file (found in envp's PATH) in cwd with in_fd, out_fd and err_fd as its 0, 1 and 2 (in_fd -1:
 * /dev/null), its signals unblocked and at their defaults (Node ignores SIGPIPE, which git needs).
 */
static int start(pid_t *pid, const char *file, char **argv, const char *cwd, char **envp, int in_fd, int out_fd, int err_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t none, all;
  int err;
  posix_spawn_file_actions_init(&actions);
  if (in_fd < 0) posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  else posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  if (cwd) posix_spawn_file_actions_addchdir_np(&actions, cwd);
  posix_spawnattr_init(&attr);
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  err = spawn_found(pid, file, &actions, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return err;
}

/* start() with three new pipes; fds gets the parent's ends (stdin's write end, stdout's and stderr's read ends). */
static int start_piped(pid_t *pid, const char *file, char **argv, const char *cwd, char **envp, int fds[3]) {
  int p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}}, err = 0, i;
  for (i = 0; i < 3 && err == 0; i++) {
    if (pipe2(p[i], O_CLOEXEC) != 0) err = errno;
  }
#ifdef F_SETPIPE_SZ
  /* Room for a program's whole answer (rev-list of 10,000 commits: 820 KB) while our thread is busy:
   * with the default 64 KB it waited for each read. Best effort: the system may allow less. */
  if (err == 0) fcntl(p[1][0], F_SETPIPE_SZ, STREAMED_PIPE_BYTES);
#endif
  if (err == 0) err = start(pid, file, argv, cwd, envp, p[0][0], p[1][1], p[2][1]);
  for (i = 0; i < 3; i++) {
    int child_end = i == 0 ? p[i][0] : p[i][1], parent_end = i == 0 ? p[i][1] : p[i][0];
    if (child_end >= 0) close(child_end);
    if (err != 0 && parent_end >= 0) close(parent_end);
    fds[i] = err == 0 ? parent_end : -1;
  }
  return err;
}

/*
 * Whether the child has ended by the deadline (not reaped: the caller's waitpid does that). Its output
 * has ended, so it is exiting; one that closed its output and went on running is stopped at the
 * deadline. A pidfd (Linux 5.3) wakes us when it ends; without one, short sleeps.
 */
static bool exited_by(pid_t pid, long long deadline) {
  siginfo_t info;
#ifdef SYS_pidfd_open
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd >= 0) {
    struct pollfd p = {pidfd, POLLIN, 0};
    long long left;
    int n = 0;
    while ((left = deadline - now_ms()) > 0 && (n = poll(&p, 1, (int)(left > 60000 ? 60000 : left))) < 0 && errno == EINTR) {
    }
    close(pidfd);
    return n > 0;
  }
#endif
  for (;;) {
    struct timespec pause = {0, 500000};
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      if (errno == EINTR) continue;
      return true; /* nothing to wait for: the caller's waitpid says so */
    }
    if (info.si_pid == pid) return true;
    if (now_ms() >= deadline) return false;
    nanosleep(&pause, NULL);
  }
}

struct outcome {
  int status;
  bool timed_out, too_large;
  struct sink out, err;
};

static int run(const char *file, char **argv, const char *cwd, char **envp, size_t max, int timeout_ms, struct outcome *o) {
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, err, i;
  pid_t pid;
  long long deadline = now_ms() + timeout_ms;
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return errno;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    err = errno;
    close(out_pipe[0]);
    close(out_pipe[1]);
    return err;
  }
  err = start(&pid, file, argv, cwd, envp, -1, out_pipe[1], err_pipe[1]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (err != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return err;
  }
  o->out.fd = out_pipe[0];
  o->err.fd = err_pipe[0];
  while (o->out.fd >= 0 || o->err.fd >= 0) {
    struct pollfd fds[2];
    struct sink *sinks[2];
    int n = 0;
    long long left = deadline - now_ms();
    if (left <= 0) {
      o->timed_out = true;
      break;
    }
    if (o->out.fd >= 0) sinks[n] = &o->out, fds[n].fd = o->out.fd, fds[n++].events = POLLIN;
    if (o->err.fd >= 0) sinks[n] = &o->err, fds[n].fd = o->err.fd, fds[n++].events = POLLIN;
    if (poll(fds, (nfds_t)n, (int)(left > 60000 ? 60000 : left)) < 0) {
      if (errno == EINTR) continue;
      o->timed_out = true; /* cannot wait for it properly: end it */
      break;
    }
    for (i = 0; i < n; i++) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (!drain(sinks[i], max, &o->too_large)) {
        close(sinks[i]->fd);
        sinks[i]->fd = -1;
      }
    }
    if (o->too_large) break;
  }
  if (o->out.fd >= 0) close(o->out.fd);
  if (o->err.fd >= 0) close(o->err.fd);
  if (!o->timed_out && !o->too_large && !exited_by(pid, deadline)) o->timed_out = true;
  if (o->timed_out || o->too_large) kill(pid, SIGKILL);
  while (waitpid(pid, &o->status, 0) < 0) {
    if (errno != EINTR) {
      o->status = -1;
      break;
    }
  }
  return 0;
}

static napi_value buffer_of(napi_env env, const struct sink *s) {
  napi_value b;
  void *copy;
  if (napi_create_buffer_copy(env, s->len, s->len ? s->data : "", &copy, &b) != napi_ok) return NULL;
  return b;
}

static napi_value set(napi_env env, napi_value obj, const char *name, napi_value v) {
  return v && napi_set_named_property(env, obj, name, v) == napi_ok ? obj : NULL;
}
#endif

/* What both starts take first: (file, argv[], cwd|null, env[] "NAME=value"). */
struct program {
  char *file, *cwd, **args, **envp;
};

static void free_program(struct program *p) {
  free(p->file);
  free(p->cwd);
  free_strings(p->args);
  free_strings(p->envp);
}

/* Reads argv[0..3] into p; false (p freed) when one is not what it must be. */
static bool read_program(napi_env env, napi_value *argv, struct program *p) {
  napi_valuetype cwd_type;
  memset(p, 0, sizeof *p);
  if (napi_typeof(env, argv[2], &cwd_type) == napi_ok && (p->file = string_of(env, argv[0])) && (p->args = strings_of(env, argv[1], MAX_ARGS)) && p->args[0] &&
      (cwd_type == napi_null || cwd_type == napi_undefined || (p->cwd = string_of(env, argv[2]))) && (p->envp = strings_of(env, argv[3], MAX_ENV))) {
    return true;
  }
  free_program(p);
  return false;
}

static napi_value run_captured(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], result = NULL;
  struct program p;
  uint32_t max_bytes;
  int32_t timeout_ms;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6 || napi_get_value_uint32(env, argv[4], &max_bytes) != napi_ok ||
      napi_get_value_int32(env, argv[5], &timeout_ms) != napi_ok || timeout_ms <= 0 || !read_program(env, argv, &p)) {
    napi_throw_type_error(env, NULL, "runCaptured(file, argv, cwd, env, maxBytes, timeoutMs): bad arguments");
    return NULL;
  }
#ifdef __linux__
  {
    struct outcome o;
    int err;
    napi_value v;
    memset(&o, 0, sizeof o);
    o.out.fd = o.err.fd = -1;
    err = run(p.file, p.args, p.cwd, p.envp, max_bytes, timeout_ms, &o);
    if (err != 0) {
      throw_errno(env, "ERUNCAPTURED", "posix_spawn", err);
    } else if (napi_create_object(env, &result) == napi_ok) {
      bool exited = o.status >= 0 && WIFEXITED(o.status), signaled = o.status >= 0 && WIFSIGNALED(o.status);
      napi_value null_value;
      napi_get_null(env, &null_value);
      if (exited) napi_create_int32(env, WEXITSTATUS(o.status), &v);
      else v = null_value;
      result = set(env, result, "status", v);
      if (result && signaled) napi_create_int32(env, WTERMSIG(o.status), &v);
      else v = null_value;
      if (result) result = set(env, result, "signal", v);
      if (result) napi_get_boolean(env, o.timed_out, &v), result = set(env, result, "timedOut", v);
      if (result) napi_get_boolean(env, o.too_large, &v), result = set(env, result, "tooLarge", v);
      if (result) result = set(env, result, "stdout", buffer_of(env, &o.out));
      if (result) result = set(env, result, "stderr", buffer_of(env, &o.err));
    }
    free(o.out.data);
    free(o.err.data);
  }
#else
  (void)max_bytes;
  throw_errno(env, "ERUNCAPTURED", "runCaptured is for Linux", ENOSYS);
#endif
  free_program(&p);
  return result;
}

static napi_value int_value(napi_env env, int n) {
  napi_value v;
  return napi_create_int32(env, n, &v) == napi_ok ? v : NULL;
}

static napi_value spawn_piped(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result = NULL;
  struct program p;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || !read_program(env, argv, &p)) {
    napi_throw_type_error(env, NULL, "spawnPiped(file, argv, cwd, env): bad arguments");
    return NULL;
  }
#ifdef __linux__
  {
    pid_t pid;
    int fds[3], err = start_piped(&pid, p.file, p.args, p.cwd, p.envp, fds);
    if (err != 0) {
      throw_errno(env, "ERUNCAPTURED", "posix_spawn", err);
    } else if (napi_create_object(env, &result) == napi_ok) {
      result = set(env, result, "pid", int_value(env, (int)pid));
      if (result) result = set(env, result, "stdin", int_value(env, fds[0]));
      if (result) result = set(env, result, "stdout", int_value(env, fds[1]));
      if (result) result = set(env, result, "stderr", int_value(env, fds[2]));
      if (!result) {
        /* Nobody could use it: end it rather than leave it waiting for input. */
        close(fds[0]), close(fds[1]), close(fds[2]);
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
      }
    }
  }
#else
  throw_errno(env, "ERUNCAPTURED", "spawnPiped is for Linux", ENOSYS);
#endif
  free_program(&p);
  return result;
}

static napi_value reap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result = NULL, null_value;
  int32_t pid;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "reap(pid): bad arguments");
    return NULL;
  }
  napi_get_null(env, &null_value);
#ifdef __linux__
  {
    int status = 0;
    pid_t got;
    while ((got = waitpid((pid_t)pid, &status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (got == 0) return null_value;
    if (napi_create_object(env, &result) != napi_ok) return NULL;
    result = set(env, result, "status", got > 0 && WIFEXITED(status) ? int_value(env, WEXITSTATUS(status)) : null_value);
    if (result) result = set(env, result, "signal", got > 0 && WIFSIGNALED(status) ? int_value(env, WTERMSIG(status)) : null_value);
  }
#else
  throw_errno(env, "ERUNCAPTURED", "reap is for Linux", ENOSYS);
#endif
  return result;
}

int register_run(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } exported[] = {{"runCaptured", run_captured}, {"spawnPiped", spawn_piped}, {"reap", reap}};
  size_t i;
  for (i = 0; i < sizeof exported / sizeof exported[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, exported[i].name, NAPI_AUTO_LENGTH, exported[i].fn, NULL, &fn) != napi_ok) return -1;
    if (napi_set_named_property(env, exports, exported[i].name, fn) != napi_ok) return -1;
  }
  return 0;
}
