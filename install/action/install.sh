#!/bin/sh
# The GitHub Action's install step: builds and installs gitsign-ts from the action's own checkout
# under $RUNNER_TEMP (nothing from a registry but the locked npm dependencies), and puts it on PATH
# for the next steps.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix="${RUNNER_TEMP:?RUNNER_TEMP is not set: this runs in a GitHub Actions job}/gitsign-ts"
sh "$root/install/install.sh" --prefix "$prefix" --service none
printf '%s\n' "$prefix/bin" >>"${GITHUB_PATH:?GITHUB_PATH is not set}"
