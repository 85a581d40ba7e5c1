/* spawn.c's export, added to the addon's exports by peercred.c's module initialiser. */
#ifndef GITSIGN_SPAWN_H
#define GITSIGN_SPAWN_H
#include <node_api.h>
int register_spawn(napi_env env, napi_value exports);
#endif
