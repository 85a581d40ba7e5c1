/*
 * spawnDetached: starts a program in its own session, at a lower priority, in a given directory,
 * stdio on /dev/null, no other descriptor of ours, signals at their defaults, and returns its pid
 * at once: it waits neither for a copy of our page tables (fork: Node's child_process) nor for the
 * new process to exec (vfork, posix_spawn), which on a loaded machine waits for a CPU. git waits
 * for our exit, and its first verify call of a day starts the trust root refresh as it exits.
 *
 * How (Linux): clone(CLONE_VM) without CLONE_VFORK. The child shares our memory until its execve,
 * so it touches only a block of its own, mapped here and never unmapped (the stack it runs on and
 * copies of the program, arguments, environment and directory), with every signal blocked until
 * the handlers are reset, and only system calls (libc's wrappers: one that fails sets our errno, as
 * we exit). Once it holds none of our descriptors, it waits for us to exit before its execve, which
 * then frees the memory we shared (at its lower priority, not while git waits). Exec failures are
 * not reported (exit 127): the caller's lock then goes stale. Call it once per process, as it ends.
 * Elsewhere it throws, and the caller uses child_process.
 *
 * Exported: spawnDetached(file, argv[], cwd, niceness) -> pid.
 */
#ifdef __linux__
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#define NAPI_VERSION 4
#include <node_api.h>
#include "spawn.h"
#include "throw.h"
#ifdef __linux__
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
extern char **environ;
#endif

/* Each string at most this long (a path), at most this many arguments: the refresh's command line is three. */
#define MAX_STRING 4096
#define MAX_ARGS 8
#define CHILD_STACK (64 * 1024)

/* A JS string copied into buf (NUL-terminated); -1 when it is not a string, too long, or holds a NUL. */
static int string_arg(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len >= size) return -1;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) return -1;
  return strlen(buf) == len ? 0 : -1;
}

#ifdef __linux__
/* What the child reads: all inside the block it owns. */
struct job {
  char *file;
  char *cwd;
  char **argv;
  char **envp;
  int niceness;
  int max_fd;
  pid_t parent;
};

/* Runs in the child, on its own stack, sharing our memory until execve: system calls only. */
static int child_main(void *arg) {
  struct job *job = arg;
  struct sigaction dfl;
  unsigned long none = 0;
  int sig, fd;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  /* Our handlers must not run here (they would run on our memory); Node ignores SIGPIPE, which execve would keep. */
  for (sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);
  setsid();
  setpriority(PRIO_PROCESS, 0, job->niceness);
  fd = open("/dev/null", O_RDWR);
  if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || chdir(job->cwd) != 0) syscall(SYS_exit, 127);
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
    for (fd = 3; fd < job->max_fd; fd++) close(fd);
  /*
   * Holding none of git's pipes now, it waits (at most 5 s, using no CPU) for us to have exited:
   * its execve and the program's start then take no CPU from our last milliseconds, and it is its
   * execve, not our exit, that frees the memory we share (git waits for our exit).
   */
  {
    sigset_t death;
    struct timespec bound = {5, 0}, none_left = {0, 0};
    sigemptyset(&death);
    sigaddset(&death, SIGUSR2);
    if (prctl(PR_SET_PDEATHSIG, SIGUSR2) == 0 && getppid() == job->parent) sigtimedwait(&death, NULL, &bound);
    prctl(PR_SET_PDEATHSIG, 0);
    /* One sent between prctl and getppid (we exited then) is taken here, not delivered once unblocked. */
    sigtimedwait(&death, NULL, &none_left);
  }
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
  execve(job->file, job->argv, job->envp);
  syscall(SYS_exit, 127);
  return 127;
}

/* Copies s at *at, advancing it. */
static char *put(char **at, const char *s) {
  char *copy = *at;
  size_t len = strlen(s) + 1;
  memcpy(copy, s, len);
  *at += len;
  return copy;
}

static int start(const char *file, char *const args[], size_t count, const char *cwd, int niceness, pid_t *pid) {
  size_t envc = 0, strings = strlen(file) + strlen(cwd) + 2, size, page = (size_t)sysconf(_SC_PAGESIZE), i;
  unsigned long all = ~0UL, old;
  long open_max = sysconf(_SC_OPEN_MAX);
  struct job *job;
  char *block, *at;
  int err;
  for (i = 0; i < count; i++) strings += strlen(args[i]) + 1;
  for (; environ && environ[envc]; envc++) strings += strlen(environ[envc]) + 1;
  size = (sizeof *job + (count + envc + 2) * sizeof(char *) + strings + CHILD_STACK + page - 1) / page * page;
  block = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED) return errno;
  job = (struct job *)block;
  job->argv = (char **)(block + sizeof *job);
  job->envp = job->argv + count + 1;
  at = (char *)(job->envp + envc + 1);
  job->file = put(&at, file);
  job->cwd = put(&at, cwd);
  for (i = 0; i < count; i++) job->argv[i] = put(&at, args[i]);
  job->argv[count] = NULL;
  for (i = 0; i < envc; i++) job->envp[i] = put(&at, environ[i]);
  job->envp[envc] = NULL;
  job->niceness = niceness;
  job->max_fd = open_max > 0 && open_max < 65536 ? (int)open_max : 65536;
  job->parent = getpid();
  /* Every signal blocked (glibc's own too) from before the clone until the child has reset the handlers. */
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof all);
  *pid = clone(child_main, block + size, CLONE_VM | SIGCHLD, job); /* the stack grows down from the block's end */
  err = *pid < 0 ? errno : 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
  if (err) munmap(block, size); /* no child: nothing uses it */
  return err;
}
#endif

static napi_value spawn_detached(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], item, result;
  char file[MAX_STRING], cwd[MAX_STRING], strings[MAX_ARGS][MAX_STRING];
  char *args[MAX_ARGS];
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
    if (napi_get_element(env, argv[1], i, &item) != napi_ok || string_arg(env, item, strings[i], sizeof strings[i])) {
      napi_throw_type_error(env, NULL, "spawnDetached: each argument must be a string without NUL, at most 4095 bytes");
      return NULL;
    }
    args[i] = strings[i];
  }
#ifdef __linux__
  {
    pid_t pid = -1;
    int err = start(file, args, count, cwd, niceness, &pid);
    if (err != 0) return throw_errno(env, "ESPAWNDETACHED", "clone", err);
    if (napi_create_int32(env, (int32_t)pid, &result) != napi_ok) return NULL;
    return result;
  }
#else
  (void)result;
  (void)niceness;
  return throw_errno(env, "ESPAWNDETACHED", "spawnDetached is for Linux", ENOSYS);
#endif
}

int register_spawn(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "spawnDetached", NAPI_AUTO_LENGTH, spawn_detached, NULL, &fn) != napi_ok) return -1;
  return napi_set_named_property(env, exports, "spawnDetached", fn) == napi_ok ? 0 : -1;
}
