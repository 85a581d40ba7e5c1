#include <stdio.h>
#include <string.h>
#define NAPI_VERSION 4
#include <node_api.h>
#include "throw.h"

napi_value throw_errno(napi_env env, const char *code, const char *what, int err) {
  char message[200];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, code, message);
  return NULL;
}
