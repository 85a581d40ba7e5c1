/*
 * peercred: the credentials of the process at the other end of a connected Unix socket, which Node
 * does not expose. gitsign-credential-cache uses it to refuse connections from other users.
 * Linux: SO_PEERCRED (uid, gid, pid as of connect()); macOS and the BSDs: getpeereid (uid, gid).
 * Exported: peerCredentials(fd) -> { uid, gid, pid } (pid -1 when the system does not tell).
 */
#ifdef __linux__
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <unistd.h>
#define NAPI_VERSION 4
#include <node_api.h>
#include "run.h"
#include "spawn.h"
#include "throw.h"

static int set_number(napi_env env, napi_value obj, const char *name, double value) {
  napi_value v;
  if (napi_create_double(env, value, &v) != napi_ok) return -1;
  return napi_set_named_property(env, obj, name, v) == napi_ok ? 0 : -1;
}

static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  double uid, gid, pid = -1;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "peerCredentials(fd): fd must be a number");
    return NULL;
  }
#ifdef SO_PEERCRED
  {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return throw_errno(env, "EPEERCRED", "getsockopt(SO_PEERCRED)", errno);
    if (len != sizeof cred) return throw_errno(env, "EPEERCRED", "getsockopt(SO_PEERCRED)", EINVAL);
    uid = cred.uid;
    gid = cred.gid;
    pid = cred.pid;
  }
#else
  {
    uid_t u;
    gid_t g;
    if (getpeereid(fd, &u, &g) != 0) return throw_errno(env, "EPEERCRED", "getpeereid", errno);
    uid = u;
    gid = g;
  }
#endif
  if (napi_create_object(env, &result) != napi_ok || set_number(env, result, "uid", uid) || set_number(env, result, "gid", gid) || set_number(env, result, "pid", pid)) {
    napi_throw_error(env, NULL, "peerCredentials: out of memory");
    return NULL;
  }
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "peerCredentials", NAPI_AUTO_LENGTH, peer_credentials, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "peerCredentials", fn) != napi_ok) return NULL;
  if (register_spawn(env, exports) != 0) return NULL;
  if (register_run(env, exports) != 0) return NULL;
  return exports;
}
