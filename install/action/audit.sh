#!/bin/sh
# The GitHub Action's audit step: `gitsign audit BASE..HEAD --trust-root BASE --json` for the pull
# request of the event (or a push's BEFORE..AFTER, or the range and trust-root inputs), its result
# written to the job summary by report.js; exit 0 clean, 1 violations, 2 could not run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fail() { printf '::error title=gitsign-ts audit::%s\n' "$1"; exit 2; }
: "${GITHUB_STEP_SUMMARY:?GITHUB_STEP_SUMMARY is not set: this runs in a GitHub Actions job}"

# "BASE HEAD" from the event (object IDs only), or nothing.
shas=$(node "$here/report.js" event)
base=${shas% *}
head=${shas#* }
range=${INPUT_RANGE:-}
if [ -z "$range" ]; then
  [ -n "$shas" ] || fail "the event is neither a pull request nor a push to an existing branch: give the range input"
  range="$base..$head"
fi
trust=${INPUT_TRUST_ROOT:-$base}
if [ -n "$trust" ] && ! git cat-file -e "$trust^{commit}" 2>/dev/null; then
  fail "the trust root $trust is not in the checkout: check out with fetch-depth: 0"
fi

set -- audit --json
[ -z "$trust" ] || set -- "$@" --trust-root "$trust"
case "${INPUT_OFFLINE:-false}" in
  true) set -- "$@" --offline ;;
  false | '') ;;
  *) fail "the offline input must be true or false" ;;
esac
json=${INPUT_JSON_PATH:-}
[ -n "$json" ] || json="${RUNNER_TEMP:-/tmp}/gitsign-audit.$$.jsonl"
err=$(mktemp)
trap 'rm -f "$err"' EXIT
rc=0
gitsign "$@" "$range" >"$json" 2>"$err" || rc=$?
node "$here/report.js" summary "$json" "$err" "$rc" "$range"
exit "$rc"
