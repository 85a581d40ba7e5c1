#!/bin/sh
# Installs gitsign-ts from this checkout for the current user, in one command:
#   install/install.sh [--prefix DIR] [--configure-git | --configure-repo DIR] ...
# Installs the npm dependencies and builds (npm ci, npm run build), copies the programs into
# PREFIX/lib/gitsign-ts (so the checkout can go away) with gitsign and gitsign-credential-cache linked
# from PREFIX/bin, and installs the manual pages, bash, zsh and fish completion, and the credential
# cache's systemd user units (Linux) or launchd agent (macOS), and the server hook
# PREFIX/share/gitsign-ts/hooks/pre-receive (to link from a repository's hooks). Running it again updates in place what
# differs and leaves the rest as it is: the same checkout again changes nothing (no file is rewritten,
# the service is not reloaded, git's configuration is not rewritten).
#
# Other programs use the same names (the Go gitsign installs gitsign, gitsign-credential-cache, their
# manual pages, completion and systemd units), so every file put in place is recorded with its SHA-256
# in PREFIX/share/gitsign-ts/manifest: an install never replaces a file it did not put there (or that
# was changed since) unless --force says so, and --uninstall removes only recorded files still unchanged.
# The directories an install creates are recorded too; --uninstall removes those that are then empty,
# and never a directory that was there before.
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
  --force               replace files of the same names that gitsign-ts did not install
  --uninstall           remove what an install with the same --prefix put in place (and left unchanged),
                        and the directories it created once they are empty
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
force=0
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
    --force) force=1; shift ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

say() { printf 'install.sh: %s\n' "$*"; }
reported=0
die() { printf 'install.sh: %s\n' "$*" >&2; reported=1; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac
case "$service" in
  auto) if [ "$(uname -s)" = Darwin ]; then service=launchd; else service=systemd; fi ;;
  systemd|launchd|none) ;;
  *) echo "install.sh: --service must be auto, systemd, launchd or none" >&2; exit 2 ;;
esac

bindir="$prefix/bin"
libdir="$prefix/lib/gitsign-ts"
datadir="$prefix/share/gitsign-ts"
manifest="$datadir/manifest"
mandir="$prefix/share/man/man1"
bashdir="$prefix/share/bash-completion/completions"
zshdir="$prefix/share/zsh/site-functions"
fishdir="$prefix/share/fish/vendor_completions.d"
unitdir="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
agentdir="$HOME/Library/LaunchAgents"
agent="dev.gitsign-ts.credential-cache.plist"
units="gitsign-credential-cache.socket gitsign-credential-cache.service"
programs="gitsign gitsign-credential-cache"
manpages="gitsign.1 gitsign-verify.1 gitsign-credential-cache.1 gitsign-sandbox.1 gitsign-attest.1 gitsign-verify-attestation.1 gitsign-show.1 gitsign-verify-bundle.1 gitsign-policy.5"
tab=$(printf '\t')

# The manifest is line-based (tab-separated) and the generated files take paths as text: no control
# characters in them (XML cannot hold most of them at all).
for p in "$prefix" "$HOME" "$unitdir"; do
  case "$p" in *[[:cntrl:]]*) die "paths with control characters (tab, newline...) are not supported: $p" ;; esac
done

# A failing command stops the script (set -e); this says which step it was, keeps the record of what
# was installed until then, and removes temporary files.
step="starting"
work=
staging=
tmp=
manifest_pending=0
on_exit() {
  rc=$?
  if [ "$rc" != 0 ] && [ "$manifest_pending" = 1 ]; then save_manifest || true; fi
  [ -z "$tmp" ] || rm -f "$tmp"
  [ -z "$staging" ] || rm -rf "$staging"
  [ -z "$work" ] || rm -rf "$work"
  if [ "$rc" != 0 ] && [ "$reported" = 0 ]; then
    printf 'install.sh: stopped: %s failed (exit %s); the steps after it were not done\n' "$step" "$rc" >&2
  fi
}
trap on_exit EXIT

# A word for a POSIX shell, single-quoted (for the commands we print).
shquote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

# SHA-256 of a file, in hex.
digest() {
  if have sha256sum; then h=$(sha256sum <"$1") || return 1
  elif have shasum; then h=$(shasum -a 256 <"$1") || return 1
  else h=$(node -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(0)).digest("hex"))' <"$1") || return 1
  fi
  printf '%s\n' "${h%% *}"
}

# The manifest: one line per installed path, "f<TAB>sha256<TAB>path" or "l<TAB>link target<TAB>path",
# and "d<TAB><TAB>path" for a directory the install created; sorted by path.
recorded() { # path -> its line's kind<TAB>value, if recorded
  [ -f "$manifest" ] || return 1
  WANTED=$1 LC_ALL=C awk -F "$tab" '$3 == ENVIRON["WANTED"] { print $1 FS $2; found = 1; exit } END { exit !found }' "$manifest"
}

# Is what is at path now exactly what gitsign-ts recorded there?
unchanged() { # path
  r=$(recorded "$1") || return 1
  case "$r" in
    "l$tab"*) [ -L "$1" ] && [ "$(readlink "$1")" = "${r#l"$tab"}" ] ;;
    "f$tab"*) [ -f "$1" ] && [ ! -L "$1" ] && [ "$(digest "$1")" = "${r#f"$tab"}" ] ;;
    *) return 1 ;;
  esac
}

if [ "$uninstall" = 1 ]; then
  # Git settings of ours: only removed when they still point at this installation's gitsign.
  unset_git() {
    [ "$(git config "$@" --get gpg.x509.program 2>/dev/null || true)" = "$bindir/gitsign" ] || return 0
    for k in gpg.format gpg.x509.program commit.gpgsign tag.gpgsign; do git config "$@" --unset-all "$k" 2>/dev/null || true; done
  }
  step="removing git settings"
  if [ "$configure_git" = 1 ]; then unset_git --global; fi
  printf '%s\n' "$repos" | while IFS= read -r repo; do
    [ -n "$repo" ] || continue
    git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 || die "$repo is not a git repository"
    unset_git --file "$(git -C "$repo" rev-parse --absolute-git-dir)/config"
  done
  if [ ! -f "$manifest" ]; then
    say "no install recorded in $manifest: no files removed"
    exit 0
  fi
  step="stopping the credential cache service"
  if unchanged "$unitdir/gitsign-credential-cache.socket" && [ "$enable" = 1 ] && have systemctl &&
    systemctl --user show-environment >/dev/null 2>&1; then
    systemctl --user disable --now gitsign-credential-cache.socket gitsign-credential-cache.service >/dev/null 2>&1 || true
  fi
  if unchanged "$agentdir/$agent" && [ "$enable" = 1 ] && have launchctl; then
    launchctl unload "$agentdir/$agent" >/dev/null 2>&1 || true
  fi
  step="removing the recorded files"
  work=$(mktemp -d)
  kept="$work/kept"
  dirs="$work/dirs"
  : >"$kept"
  : >"$dirs"
  while IFS= read -r line; do
    path=${line#*"$tab"*"$tab"}
    case "$line" in "d$tab"*) printf '%s\n' "$path" >>"$dirs"; continue ;; esac
    if unchanged "$path"; then
      rm -f "$path"
    elif [ -e "$path" ] || [ -L "$path" ]; then
      say "kept $path: it changed since gitsign-ts installed it"
      printf '%s\n' "$line" >>"$kept"
    fi
  done <"$manifest"
  # The programs' V8 code caches, written next to the bundles when they run.
  rm -f "$libdir"/dist/*.js.cache
  for d in "$libdir/bin" "$libdir/dist" "$libdir"; do [ ! -d "$d" ] || rmdir "$d" 2>/dev/null || say "kept $d: it holds files gitsign-ts did not install"; done
  # The directories the install created, deepest first (a parent sorts before its children): each
  # is removed once empty; one that holds files of others is left to them.
  remove_dirs() { LC_ALL=C sort -r "$dirs" | while IFS= read -r d; do [ -L "$d" ] || rmdir "$d" 2>/dev/null || true; done; }
  remove_dirs
  if [ -s "$kept" ]; then
    # Still recorded for a later --uninstall: the kept files, and the created directories that remain.
    while IFS= read -r d; do if [ -d "$d" ]; then printf 'd%s%s%s\n' "$tab" "$tab" "$d" >>"$kept"; fi; done <"$dirs"
    LC_ALL=C sort -t "$tab" -k3,3 "$kept" >"$manifest"
  else
    rm -f "$manifest"
    # The manifest's own directory (and the others it kept from being empty).
    remove_dirs
  fi
  if have systemctl && systemctl --user show-environment >/dev/null 2>&1; then systemctl --user daemon-reload >/dev/null 2>&1 || true; fi
  say "removed gitsign-ts from $prefix"
  exit 0
fi

# 1. Prerequisites and the build.
step="checking the prerequisites"
have node || die "Node.js 20.19 or newer is needed (node not found)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  die "Node.js 20.19 or newer is needed (found $(node --version))"
have git || die "git is needed"
node_bin=$(command -v node)
case "$node_bin" in /*) ;; *) die "node must be found at an absolute path (found: $node_bin)" ;; esac
case "$node_bin" in *[[:cntrl:]]*) die "paths with control characters are not supported: $node_bin" ;; esac
if [ "$build" = 1 ]; then
  step="the build (npm ci, npm run build in $root)"
  have npm || die "npm is needed"
  say "installing dependencies and building in $root"
  (cd "$root" && npm ci --no-audit --no-fund >/dev/null && npm run build >/dev/null) || die "the build failed"
fi
for f in gitsign.js login.js commands.js tuf.js noble.js verifyWorker.js gitsign-credential-cache.js; do
  [ -f "$root/dist/$f" ] || die "$root/dist/$f is missing: run without --no-build"
done

# 2. The generated files, in a work directory: nothing under PREFIX or HOME changes until every
# target is checked.
step="preparing the files"
work=$(mktemp -d)
# One script per shell completes both programs; bash-completion and fish load a command's file by
# its name, so those two are installed under both names (zsh's names both on its #compdef line).
for sh in bash zsh fish; do "$root/bin/gitsign" completion "$sh" >"$work/completion.$sh"; done

# Fills a template's @NODE@, @CACHE_PROGRAM@ and @HOME@ with the paths escaped for its syntax:
# systemd (each placeholder is a whole command-line word, double-quoted with \ and " escaped and % as
# the specifier escape %%, see systemd.syntax(7); $ is written $$ in arguments only, as the program
# word is not expanded, see systemd.service(5)) or xml (a plist).
fill() { # template out syntax
  FILL_NODE=$node_bin FILL_CACHE_PROGRAM=$bindir/gitsign-credential-cache FILL_HOME=$HOME LC_ALL=C awk -v syntax="$3" '
    function escaped(s, program,   out, i, c) {
      out = ""
      for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (syntax == "systemd") {
          if (c == "\\") c = "\\\\"; else if (c == "\"") c = "\\\""; else if (c == "%") c = "%%"; else if (c == "$" && !program) c = "$$"
        } else {
          if (c == "&") c = "&amp;"; else if (c == "<") c = "&lt;"; else if (c == ">") c = "&gt;"; else if (c == "\"") c = "&quot;"; else if (c == "\047") c = "&apos;"
        }
        out = out c
      }
      return syntax == "systemd" ? "\"" out "\"" : out
    }
    function replace(line, key, value,   out, i) {
      out = ""
      while ((i = index(line, key)) > 0) { out = out substr(line, 1, i - 1) value; line = substr(line, i + length(key)) }
      return out line
    }
    BEGIN { node = escaped(ENVIRON["FILL_NODE"], 1); cache = escaped(ENVIRON["FILL_CACHE_PROGRAM"], 0); home = escaped(ENVIRON["FILL_HOME"], 0) }
    { print replace(replace(replace($0, "@NODE@", node), "@CACHE_PROGRAM@", cache), "@HOME@", home) }
  ' "$1" >"$2"
}

# The server hook, made to call this installation's gitsign (a server's hooks rarely have PREFIX/bin on PATH).
WANTED_PROGRAM=$(shquote "$bindir/gitsign") awk '
  $0 == "default_program=gitsign" { print "default_program=" ENVIRON["WANTED_PROGRAM"]; next }
  { print }
' "$root/install/hooks/pre-receive" >"$work/pre-receive"

# What goes where: "source<TAB>target<TAB>mode" lines.
plan="$work/plan"
: >"$plan"
planned() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$plan"; }
# Each page in its section: man1 for commands, man5 for the policy file format.
for m in $manpages; do planned "$root/man/$m" "$prefix/share/man/man${m##*.}/$m" 644; done
for p in $programs; do
  planned "$work/completion.bash" "$bashdir/$p" 644
  planned "$work/completion.fish" "$fishdir/$p.fish" 644
done
planned "$work/completion.zsh" "$zshdir/_gitsign" 644
planned "$work/pre-receive" "$datadir/hooks/pre-receive" 755
case "$service" in
  systemd)
    # systemd refuses to run a program whose path holds any of these, however it is quoted.
    case "$node_bin" in *[\\\'\"]*) die "systemd cannot run node from a path with \\, ' or \" in it ($node_bin): use another node, or --service none" ;; esac
    for u in $units; do fill "$root/install/systemd/$u" "$work/$u" systemd; planned "$work/$u" "$unitdir/$u" 644; done ;;
  launchd) fill "$root/install/launchd/$agent" "$work/$agent" xml; planned "$work/$agent" "$agentdir/$agent" 644 ;;
esac

# 3. Every target is either absent, what gitsign-ts recorded there, or already identical to the new
# content; anything else belongs to someone else and is only replaced with --force.
step="checking the targets"
foreign="$work/foreign"
: >"$foreign"
check_target() { # target new-content-or-link-target kind(f|l)
  [ -e "$1" ] || [ -L "$1" ] || return 0
  unchanged "$1" && return 0
  if [ "$3" = l ]; then [ -L "$1" ] && [ "$(readlink "$1")" = "$2" ] && return 0
  else [ -f "$1" ] && [ ! -L "$1" ] && cmp -s "$1" "$2" && return 0
  fi
  printf '%s\n' "$1" >>"$foreign"
}
while IFS="$tab" read -r src target mode; do check_target "$target" "$src" f; done <"$plan"
for p in $programs; do check_target "$bindir/$p" "$libdir/bin/$p" l; done
if [ -d "$libdir" ] || [ -L "$libdir" ]; then
  # PREFIX/lib/gitsign-ts is replaced whole: only by an install of ours (its files recorded).
  recorded "$libdir/bin/gitsign" >/dev/null || cmp -s "$libdir/bin/gitsign" "$root/bin/gitsign" || printf '%s\n' "$libdir" >>"$foreign"
fi
if [ -s "$foreign" ]; then
  if [ "$force" = 1 ]; then
    while IFS= read -r f; do say "replacing $f, which gitsign-ts did not install (--force)"; done <"$foreign"
  else
    while IFS= read -r f; do printf 'install.sh: %s exists and was not installed by gitsign-ts (or changed since)\n' "$f" >&2; done <"$foreign"
    die "nothing was changed; move those files away, or run again with --force to replace them"
  fi
fi

# 4. Install, recording each file as it is put in place (a failure part-way keeps what was recorded).
newmanifest="$work/manifest"
: >"$newmanifest"
written="$work/written"
: >"$written"
record() { # kind value path
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$newmanifest"
}
# mkdir -p that records each directory it creates, for --uninstall to remove once empty.
makedir() { # dir
  [ -d "$1" ] && return 0
  makedir "$(dirname "$1")"
  mkdir "$1"
  record d "" "$1"
  printf '%s\n' "$1" >>"$written"
}
save_manifest() {
  makedir "$datadir"
  # Entries of this run, and earlier ones for paths this run did not touch that are still there,
  # sorted by path: the same install gives the same manifest, which is then left as it is.
  {
    cat "$newmanifest"
    if [ -f "$manifest" ]; then
      LC_ALL=C awk -F "$tab" 'NR == FNR { seen[$3] = 1; next } !($3 in seen)' "$newmanifest" "$manifest" |
        while IFS= read -r line; do
          path=${line#*"$tab"*"$tab"}
          if [ -e "$path" ] || [ -L "$path" ]; then printf '%s\n' "$line"; fi
        done
    fi
  } | LC_ALL=C sort -t "$tab" -k3,3 >"$work/manifest.sorted"
  if [ -f "$manifest" ] && cmp -s "$work/manifest.sorted" "$manifest"; then return 0; fi
  cp "$work/manifest.sorted" "$manifest.new.$$"
  mv -f "$manifest.new.$$" "$manifest"
}
manifest_pending=1

# Is this file already what put would make it (content and mode)?
same_file() { # source target mode
  [ -f "$2" ] && [ ! -L "$2" ] && cmp -s "$1" "$2" && [ -n "$(find "$2" -prune -perm "$3")" ]
}

# A new file next to the target, then renamed over it: the target is never written through a link.
# A target that is already the same is left as it is.
put() { # source target mode
  step="installing $2"
  makedir "$(dirname "$2")"
  if ! same_file "$1" "$2" "$3"; then
    tmp=$(mktemp "$(dirname "$2")/.gitsign-ts.XXXXXX")
    cp "$1" "$tmp"
    chmod "$3" "$tmp"
    if [ -e "$2" ] || [ -L "$2" ]; then rm -f "$2"; fi
    mv -f "$tmp" "$2"
    tmp=
    printf '%s\n' "$2" >>"$written"
  fi
  h=$(digest "$2")
  record f "$h" "$2"
}

# The programs' files, relative to the checkout and to PREFIX/lib/gitsign-ts.
program_files() {
  (cd "$root" && { printf '%s\n' bin/gitsign bin/gitsign-credential-cache; for f in dist/*.js dist/peercred.node; do [ ! -f "$f" ] || printf '%s\n' "$f"; done; }) | LC_ALL=C sort
}
program_mode() { # file
  case "$1" in bin/*) echo 755 ;; *) if [ -x "$root/$1" ]; then echo 755; else echo 644; fi ;; esac
}
# Is PREFIX/lib/gitsign-ts already exactly these files (nothing else but the V8 code caches)?
lib_is_current() {
  [ -d "$libdir" ] && [ ! -L "$libdir" ] || return 1
  [ "$(cd "$libdir" && find . ! -type d ! -name '*.js.cache' | sed 's|^\./||' | LC_ALL=C sort)" = "$(program_files)" ] || return 1
  for f in $(program_files); do same_file "$root/$f" "$libdir/$f" "$(program_mode "$f")" || return 1; done
}

# The programs: a fresh copy replaces the old one, unless the old one is the same.
step="installing the programs in $libdir"
makedir "$prefix/lib"
if ! lib_is_current; then
  staging="$libdir.new.$$"
  rm -rf "$staging"
  mkdir -p "$staging/bin" "$staging/dist"
  for f in $(program_files); do cp "$root/$f" "$staging/$f"; chmod "$(program_mode "$f")" "$staging/$f"; done
  if [ -e "$libdir" ] || [ -L "$libdir" ]; then rm -rf "$libdir"; fi
  mv "$staging" "$libdir"
  staging=
  printf '%s\n' "$libdir" >>"$written"
fi
find "$libdir" -type f ! -name '*.js.cache' | LC_ALL=C sort | while IFS= read -r f; do h=$(digest "$f"); record f "$h" "$f"; done
makedir "$bindir"
for p in $programs; do
  step="linking $bindir/$p"
  if [ ! -L "$bindir/$p" ] || [ "$(readlink "$bindir/$p")" != "$libdir/bin/$p" ]; then
    if [ -e "$bindir/$p" ] || [ -L "$bindir/$p" ]; then rm -f "$bindir/$p"; fi
    ln -s "$libdir/bin/$p" "$bindir/$p"
    printf '%s\n' "$bindir/$p" >>"$written"
  fi
  record l "$libdir/bin/$p" "$bindir/$p"
done
[ -f "$libdir/dist/peercred.node" ] || say "warning: the peer-credential helper was not built (no C compiler?); the cache relies on file modes alone"
while IFS="$tab" read -r src target mode; do put "$src" "$target" "$mode"; done <"$plan"
step="writing $manifest"
save_manifest
manifest_pending=0

# 5. The credential cache as a user service.
socket=
case "$service" in
  systemd)
    step="enabling the systemd user units"
    socket="${XDG_CACHE_HOME:-$HOME/.cache}/sigstore/gitsign/cache.sock"
    if [ "$enable" = 1 ] && have systemctl && systemctl --user show-environment >/dev/null 2>&1; then
      if grep -q "^$unitdir/" "$written"; then systemctl --user daemon-reload; fi
      systemctl --user enable --now gitsign-credential-cache.socket >/dev/null
      say "enabled gitsign-credential-cache.socket (systemd user unit)"
    else
      say "wrote $unitdir/gitsign-credential-cache.{socket,service}; enable with: systemctl --user enable --now gitsign-credential-cache.socket"
    fi
    ;;
  launchd)
    step="loading the launchd agent"
    mkdir -p "$HOME/Library/Logs"
    socket="$HOME/Library/Caches/sigstore/gitsign/cache.sock"
    if [ "$enable" = 1 ] && have launchctl; then
      # Reloading restarts the cache (and drops what it holds): only for a new agent file, or one not loaded.
      if grep -qxF "$agentdir/$agent" "$written" || ! launchctl list dev.gitsign-ts.credential-cache >/dev/null 2>&1; then
        launchctl unload "$agentdir/$agent" >/dev/null 2>&1 || true
        launchctl load "$agentdir/$agent"
      fi
      say "loaded $agentdir/$agent"
    else
      say "wrote $agentdir/$agent; load with: launchctl load $(shquote "$agentdir/$agent")"
    fi
    ;;
esac

# 6. Git.
# Each setting is written only when it differs (git rewrites the whole file on every write).
set_git() { # scope-args...
  for kv in "gpg.format=x509" "gpg.x509.program=$bindir/gitsign" "commit.gpgsign=true" "tag.gpgsign=true"; do
    if [ "$(git config "$@" --get-all "${kv%%=*}" 2>/dev/null || true)" != "${kv#*=}" ]; then
      git config "$@" --replace-all "${kv%%=*}" "${kv#*=}"
      printf 'git config %s\n' "${kv%%=*}" >>"$written"
    fi
  done
}
if [ "$configure_git" = 1 ]; then
  step="configuring git (global)"
  set_git --global
  say "git signs every commit and tag with $bindir/gitsign (global config)"
fi
if [ -n "$repos" ]; then
  step="configuring the repositories"
  printf '%s\n' "$repos" | while IFS= read -r repo; do
    [ -n "$repo" ] || continue
    git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 || die "$repo is not a git repository"
    set_git --file "$(git -C "$repo" rev-parse --absolute-git-dir)/config"
  done
  say "configured the repositories given to sign with $bindir/gitsign"
fi

if [ -s "$written" ]; then
  say "installed gitsign and gitsign-credential-cache in $bindir, manual pages in $mandir"
else
  say "gitsign and gitsign-credential-cache in $bindir are up to date: nothing changed"
fi
case ":$PATH:" in *":$bindir:"*) ;; *) say "add $bindir to your PATH" ;; esac
if [ -n "$socket" ]; then say "to use the credential cache, add to your shell profile: export GITSIGN_CREDENTIAL_CACHE=$(shquote "$socket")"; fi
exit 0
