#!/bin/sh
# The main job end to end on this checkout: start the built-in local Sigstore (`gitsign sandbox`),
# make a repository configured to sign with gitsign-ts, sign a commit and a tag, and verify them with
# git verify-commit, git verify-tag, git log --show-signature and gitsign verify.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
gitsign="$root/bin/gitsign"
[ -f "$root/dist/gitsign.js" ] || (cd "$root" && npm run build >/dev/null)

work=$(mktemp -d)
cleanup() {
  if [ -f "$work/sandbox/sandbox.lock" ]; then "$gitsign" sandbox down --dir "$work/sandbox" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
export HOME="$work/home" XDG_CACHE_HOME="$work/home/.cache" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"

step() { printf '\n$ %s\n' "$*" >&2; "$@"; }

# --detach returns once every service answers (or exits non-zero saying why), so the env file is there.
printf '$ gitsign sandbox up --detach --dir %s --subject demo@example.com\n' "$work/sandbox" >&2
"$gitsign" sandbox up --detach --dir "$work/sandbox" --port 0 --subject demo@example.com >/dev/null
. "$work/sandbox/env"
SIGSTORE_ID_TOKEN=$("$gitsign" sandbox token)
export SIGSTORE_ID_TOKEN

git init -q -b main "$work/repo"
cd "$work/repo"
git config user.name 'Demo User'
git config user.email demo@example.com
git config gpg.format x509
git config gpg.x509.program "$gitsign"
echo 'hello, sigstore' > README
git add README

step git commit -S -m 'A commit signed with gitsign-ts'
step git tag -s v1.0.0 -m 'A tag signed with gitsign-ts'
step git verify-commit HEAD
step git verify-tag v1.0.0
step git log --show-signature -1
step "$gitsign" verify --certificate-identity demo@example.com --certificate-oidc-issuer "$GITSIGN_OIDC_ISSUER" HEAD
step "$gitsign" verify-tag --json v1.0.0
printf '\ndemo: signed and verified a commit and a tag against the local Sigstore\n'
