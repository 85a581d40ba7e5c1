/* run.c's export, added to the addon's exports by peercred.c's module initialiser. */
#ifndef GITSIGN_RUN_H
#define GITSIGN_RUN_H
#include <node_api.h>
int register_run(napi_env env, napi_value exports);
#endif
