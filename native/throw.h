/* The one way the addon's functions report a failed system call to JavaScript. */
#ifndef GITSIGN_THROW_H
#define GITSIGN_THROW_H
#include <node_api.h>
/* Throws an Error with `code` and the message "what: strerror(err)"; returns NULL for the caller to return. */
napi_value throw_errno(napi_env env, const char *code, const char *what, int err);
#endif
