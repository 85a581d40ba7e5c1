#!/bin/sh
# Installs gitsign-ts from this checkout for the current user, in one command:
#   install/install.sh [--prefix DIR] [--configure-git | --configure-repo DIR] ...
# Installs the npm dependencies and builds (npm ci, npm run build), copies the programs into
# PREFIX/lib/gitsign-ts (so the checkout can go away) with gitsign and gitsign-credential-cache linked
# from PREFIX/bin, and installs the manual pages, bash and zsh completion, and the credential cache's
# systemd user units (Linux) or launchd agent (macOS). Running it again updates everything in place;
# --uninstall removes what it installed.
set -eu

usage() {
  cat <<'EOF'
Usage: install/install.sh [options]
  --prefix DIR          install under DIR: DIR/bin, DIR/lib/gitsign-ts, DIR/share (default: ~/.local)
  --configure-git       sign all commits and tags with gitsign (git config --global)
  --configure-repo DIR  the same for one repository only (git config --local in DIR)
  --service KIND        credential cache service: auto (default), systemd, launchd or none
  --no-enable           write the service files but do not enable or start them
  --no-build            use the existing build (skip npm ci and npm run build)
  --uninstall           remove what an install with the same --prefix put in place
  -h, --help            print this help
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
prefix="$HOME/.local"
configure_git=0
repos=
service=auto
enable=1
build=1
uninstall=0

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { usage >&2; exit 2; }; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --configure-git) configure_git=1; shift ;;
    --configure-repo) [ $# -ge 2 ] || { usage >&2; exit 2; }; repos="$repos
$2"; shift 2 ;;
    --service) [ $# -ge 2 ] || { usage >&2; exit 2; }; service=$2; shift 2 ;;
    --service=*) service=${1#--service=}; shift ;;
    --no-enable) enable=0; shift ;;
    --no-build) build=0; shift ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac
case "$service" in
  auto) if [ "$(uname -s)" = Darwin ]; then service=launchd; else service=systemd; fi ;;
  systemd|launchd|none) ;;
  *) echo "install.sh: --service must be auto, systemd, launchd or none" >&2; exit 2 ;;
esac

bindir="$prefix/bin"
libdir="$prefix/lib/gitsign-ts"
mandir="$prefix/share/man/man1"
bashdir="$prefix/share/bash-completion/completions"
zshdir="$prefix/share/zsh/site-functions"
unitdir="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
agentdir="$HOME/Library/LaunchAgents"
agent="dev.gitsign-ts.credential-cache.plist"
units="gitsign-credential-cache.socket gitsign-credential-cache.service"
programs="gitsign gitsign-credential-cache"
manpages="gitsign.1 gitsign-verify.1 gitsign-credential-cache.1 gitsign-sandbox.1"

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# systemctl --user works only with a user manager (a login session); elsewhere say what to run later.
user_systemctl() {
  if [ "$enable" = 1 ] && have systemctl && systemctl --user show-environment >/dev/null 2>&1; then
    systemctl --user "$@"
  else
    return 1
  fi
}

# Git settings of ours: only removed when they still point at this installation's gitsign.
git_keys="gpg.format gpg.x509.program commit.gpgsign tag.gpgsign"
set_git() { # scope-args...
  git config "$@" gpg.format x509
  git config "$@" gpg.x509.program "$bindir/gitsign"
  git config "$@" commit.gpgsign true
  git config "$@" tag.gpgsign true
}
unset_git() {
  [ "$(git config "$@" --get gpg.x509.program 2>/dev/null || true)" = "$bindir/gitsign" ] || return 0
  for k in $git_keys; do git config "$@" --unset-all "$k" 2>/dev/null || true; done
}

for_repos() { # function
  printf '%s\n' "$repos" | while IFS= read -r repo; do
    [ -n "$repo" ] || continue
    git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 || die "$repo is not a git repository"
    "$1" --file "$(git -C "$repo" rev-parse --absolute-git-dir)/config"
  done
}

if [ "$uninstall" = 1 ]; then
  if [ "$service" = systemd ]; then
    user_systemctl disable --now gitsign-credential-cache.socket gitsign-credential-cache.service >/dev/null 2>&1 || true
    for u in $units; do rm -f "$unitdir/$u"; done
    user_systemctl daemon-reload >/dev/null 2>&1 || true
  elif [ "$service" = launchd ]; then
    [ "$enable" = 1 ] && have launchctl && launchctl unload "$agentdir/$agent" >/dev/null 2>&1 || true
    rm -f "$agentdir/$agent"
  fi
  for p in $programs; do
    # Only our links: a gitsign installed some other way stays.
    case "$(readlink "$bindir/$p" 2>/dev/null || true)" in "$libdir"/*) rm -f "$bindir/$p" ;; esac
  done
  for m in $manpages; do rm -f "$mandir/$m"; done
  rm -f "$bashdir/gitsign" "$bashdir/gitsign-credential-cache" "$zshdir/_gitsign"
  rm -rf "$libdir"
  [ "$configure_git" = 1 ] && unset_git --global
  for_repos unset_git
  say "removed gitsign-ts from $prefix"
  exit 0
fi

# 1. Prerequisites and the build.
have node || die "Node.js 20.19 or newer is needed (node not found)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  die "Node.js 20.19 or newer is needed (found $(node --version))"
have git || die "git is needed"
if [ "$build" = 1 ]; then
  have npm || die "npm is needed"
  say "installing dependencies and building in $root"
  (cd "$root" && npm ci --no-audit --no-fund >/dev/null && npm run build >/dev/null) || die "the build failed"
fi
for f in gitsign.js login.js commands.js tuf.js gitsign-credential-cache.js; do
  [ -f "$root/dist/$f" ] || die "$root/dist/$f is missing: run without --no-build"
done

# 2. The programs: a fresh copy replaces the old one in one rename.
mkdir -p "$prefix/lib" "$bindir"
staging="$libdir.new.$$"
rm -rf "$staging"
mkdir -p "$staging/bin" "$staging/dist"
cp "$root/bin/gitsign" "$root/bin/gitsign-credential-cache" "$staging/bin/"
cp "$root"/dist/*.js "$staging/dist/"
[ -f "$root/dist/peercred.node" ] && cp "$root/dist/peercred.node" "$staging/dist/"
chmod 755 "$staging/bin/gitsign" "$staging/bin/gitsign-credential-cache"
rm -rf "$libdir"
mv "$staging" "$libdir"
for p in $programs; do ln -sfn "$libdir/bin/$p" "$bindir/$p"; done
[ -f "$libdir/dist/peercred.node" ] || say "warning: the peer-credential helper was not built (no C compiler?); the cache relies on file modes alone"

# 3. Manual pages and completion.
mkdir -p "$mandir" "$bashdir" "$zshdir"
for m in $manpages; do cp "$root/man/$m" "$mandir/$m"; chmod 644 "$mandir/$m"; done
"$bindir/gitsign" completion bash >"$bashdir/gitsign"
"$bindir/gitsign" completion zsh >"$zshdir/_gitsign"

# 4. The credential cache as a user service.
node_bin=$(command -v node)
fill() { sed -e "s|@NODE@|$node_bin|g" -e "s|@BINDIR@|$bindir|g" -e "s|@HOME@|$HOME|g" "$1" >"$2"; }
socket=
case "$service" in
  systemd)
    mkdir -p "$unitdir"
    for u in $units; do fill "$root/install/systemd/$u" "$unitdir/$u"; done
    socket="${XDG_CACHE_HOME:-$HOME/.cache}/sigstore/gitsign/cache.sock"
    if user_systemctl daemon-reload && user_systemctl enable --now gitsign-credential-cache.socket >/dev/null 2>&1; then
      say "enabled gitsign-credential-cache.socket (systemd user unit)"
    else
      say "wrote $unitdir/gitsign-credential-cache.{socket,service}; enable with: systemctl --user enable --now gitsign-credential-cache.socket"
    fi
    ;;
  launchd)
    mkdir -p "$agentdir" "$HOME/Library/Logs"
    fill "$root/install/launchd/$agent" "$agentdir/$agent"
    socket="$HOME/Library/Caches/sigstore/gitsign/cache.sock"
    if [ "$enable" = 1 ] && have launchctl; then
      launchctl unload "$agentdir/$agent" >/dev/null 2>&1 || true
      launchctl load "$agentdir/$agent" && say "loaded $agentdir/$agent"
    else
      say "wrote $agentdir/$agent; load with: launchctl load $agentdir/$agent"
    fi
    ;;
esac

# 5. Git.
[ "$configure_git" = 1 ] && set_git --global && say "git signs every commit and tag with $bindir/gitsign (global config)"
for_repos set_git
[ -n "$repos" ] && say "configured the repositories given to sign with $bindir/gitsign"

say "installed gitsign and gitsign-credential-cache in $bindir, manual pages in $mandir"
case ":$PATH:" in *":$bindir:"*) ;; *) say "add $bindir to your PATH" ;; esac
[ -n "$socket" ] && say "to use the credential cache, add to your shell profile: export GITSIGN_CREDENTIAL_CACHE=\"$socket\""
exit 0
