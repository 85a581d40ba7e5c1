#!/bin/sh
# The main job end to end, on this checkout: a repository holding real gitsign-signed objects, git
# configured to call gitsign-ts, then git verify-commit / verify-tag / log --show-signature and
# gitsign verify. (Signing joins this demo once the local Sigstore sandbox lands.)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
corpus="$root/../shared/corpus"
[ -d "$corpus" ] || { echo "demo: $corpus is missing (the shared corpus of real gitsign signatures)" >&2; exit 1; }
[ -f "$root/dist/gitsign.js" ] || (cd "$root" && npm run build >/dev/null)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME="$work/home" XDG_CACHE_HOME="$work/home/.cache" GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
git init -q "$work/repo"
cd "$work/repo"
git config gpg.format x509
git config gpg.x509.program "$root/bin/gitsign"
git config gitsign.offline true   # this machine has no route to rekor.sigstore.dev

commit=$(git hash-object -w --literally -t commit "$corpus/sigstore__gitsign/fe1e62346d3c346a343d089e8b4c3fb57716bc94.commit")
tag=$(git hash-object -w --literally -t tag "$corpus/sigstore__gitsign/f6a73d9c2b84ee0b46598600c14007f41fa7a6ac.tag")
echo "$commit" >> .git/shallow   # its parents are not here: a shallow boundary, as in a shallow clone
git tag -f v0.17.1 "$tag" 2>/dev/null || git update-ref refs/tags/v0.17.1 "$tag"

step() { printf "\n$ %s\n" "$*" >&2; "$@"; }
step git verify-commit "$commit"
step git verify-tag v0.17.1
step git log --show-signature --format='%H %G? %GK' -1 "$commit"
step "$root/bin/gitsign" verify --offline --certificate-identity billy@chainguard.dev --certificate-oidc-issuer https://accounts.google.com "$commit"
step "$root/bin/gitsign" verify-tag --offline --json v0.17.1
printf '\ndemo: all checks passed\n'
