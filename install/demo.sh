#!/bin/sh
# The main job end to end on this checkout: start the built-in local Sigstore (`gitsign sandbox`),
# make a repository configured to sign with gitsign-ts, sign a commit and a tag, and verify them with
# git verify-commit, git verify-tag, git log --show-signature and gitsign verify.
#
# Every step is shown before it runs, as a command line you can paste into a shell (with gitsign on
# PATH) to do the same yourself: the line shown is the very text that runs.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$root/dist/gitsign.js" ] || (cd "$root" && npm run build >/dev/null)

work=$(mktemp -d)
cleanup() {
  if [ -f "$work/sandbox/sandbox.lock" ]; then gitsign sandbox down --dir "$work/sandbox" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
# The demo's own world: this checkout's gitsign first on PATH, a HOME of its own and none of your
# GITSIGN_* and SIGSTORE_* settings (your git settings, credential cache and tokens play no part),
# and git's output not paged.
for v in $(env | LC_ALL=C awk -F= '/^(GITSIGN|SIGSTORE)_[A-Za-z0-9_]*=/ { print $1 }'); do unset "$v" 2>/dev/null || true; done
PATH="$root/bin:$PATH"
export PATH HOME="$work/home" XDG_CACHE_HOME="$work/home/.cache" GIT_CONFIG_NOSYSTEM=1 GIT_PAGER=cat
mkdir -p "$HOME"

# A word as a POSIX shell reads it back: bare when every character is plain, else single-quoted.
quote() {
  case "$1" in
    '' | *[!A-Za-z0-9_./:@%+=,-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
    *) printf '%s' "$1" ;;
  esac
}

# Shows a command line, then runs exactly that text in this shell.
run() {
  printf '\n$ %s\n' "$1" >&2
  eval "$1"
}

sandbox="$work/sandbox"
repo="$work/repo"
# --detach returns once every service answers (or exits non-zero saying why), so the env file is there.
run "gitsign sandbox up --detach --dir $(quote "$sandbox") --port 0 --subject demo@example.com"
run ". $(quote "$sandbox/env")"
run 'export SIGSTORE_ID_TOKEN="$(gitsign sandbox token)"'

run "git init -q -b main $(quote "$repo")"
run "cd $(quote "$repo")"
run "git config user.name 'Demo User'"
run 'git config user.email demo@example.com'
run 'git config gpg.format x509'
run 'git config gpg.x509.program gitsign'
run "echo 'hello, sigstore' > README"
run 'git add README'

run "git commit -S -m 'A commit signed with gitsign-ts'"
run "git tag -s v1.0.0 -m 'A tag signed with gitsign-ts'"
run 'git verify-commit HEAD'
run 'git verify-tag v1.0.0'
run 'git log --show-signature -1'
run 'gitsign verify --certificate-identity demo@example.com --certificate-oidc-issuer "$GITSIGN_OIDC_ISSUER" HEAD'
run 'gitsign verify-tag --json v1.0.0'
run 'gitsign sandbox down'
printf '\ndemo: signed and verified a commit and a tag against the local Sigstore\n'
