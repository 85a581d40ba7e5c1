/**
 * The scripts `gitsign completion bash|zsh|fish|powershell` prints. For gitsign each asks the same
 * question on every <Tab>: `gitsign --get-yargs-completions WORDS... CURRENT` (the words before the
 * cursor, gitsign first, then the word being completed, maybe empty). With ZSH_NAME set, yargs
 * answers one `NAME:DESCRIPTION` per line (a colon in NAME as `\:`; choices and refs have no
 * description), which zsh, fish and PowerShell show. The bash, zsh and fish scripts also complete
 * gitsign-credential-cache, from the static list of its options below (it has no completion
 * question of its own), so one script installed under both programs' names serves both.
 */

/**
 * One answer line: group 1 the name (still with `\:` for its colons), group 2 the description if
 * any. The same text is a valid PCRE2 (fish), .NET (PowerShell) and JavaScript pattern.
 */
export const COMPLETION_LINE = '^((?:[^\\\\:]|\\\\.)*)(?::(.*))?$';

/** An option of gitsign-credential-cache, as its --help lists it; `value` says what follows it. */
interface CacheOption {
  name: string;
  short?: string;
  value?: 'path' | 'seconds';
  describe: string;
}

/** gitsign-credential-cache's options, as its --help lists them (src/cache/main.ts). */
export const CREDENTIAL_CACHE_OPTIONS: readonly CacheOption[] = [
  { name: 'socket', value: 'path', describe: 'Listen on PATH (default: $GITSIGN_CREDENTIAL_CACHE, else the user cache directory)' },
  { name: 'systemd-socket-activation', describe: 'Serve the sockets systemd passes (LISTEN_FDS)' },
  { name: 'no-login', describe: 'On a miss, never log in for the client' },
  { name: 'connection-timeout', value: 'seconds', describe: 'Close a connection whose request has not arrived whole within SECONDS' },
  { name: 'idle-timeout', value: 'seconds', describe: 'Close a connection idle between calls for SECONDS' },
  { name: 'version', short: 'v', describe: 'Print the version' },
  { name: 'help', short: 'h', describe: 'Print the usage' },
];

/** A POSIX (bash, zsh) single-quoted word. */
function shQuoted(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

/** A fish single-quoted string: only backslash and quote are special there. */
function fishQuoted(text: string): string {
  return `'${text.replace(/[\\']/g, '\\$&')}'`;
}

const cacheOptionWords = CREDENTIAL_CACHE_OPTIONS.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]);
const cacheValueOptions = CREDENTIAL_CACHE_OPTIONS.filter((o) => o.value).map((o) => `--${o.name}`);

const BASH_SCRIPT = `# gitsign and gitsign-credential-cache completion for bash:
#   source <(gitsign completion bash)     (or save it as completions/gitsign and completions/gitsign-credential-cache)
_gitsign_yargs_completions() {
    local cur=\${COMP_WORDS[COMP_CWORD]} line
    COMPREPLY=()
    # Candidates are filtered here, not by compgen -W (which would expand $(...) in them).
    while IFS= read -r line; do
        [[ $line == "$cur"* ]] && COMPREPLY+=("$line")
    done < <(gitsign --get-yargs-completions "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
    return 0
}
complete -o bashdefault -o default -F _gitsign_yargs_completions gitsign
_gitsign_credential_cache_completions() {
    local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} word
    COMPREPLY=()
    case $prev in
        ${cacheValueOptions.join('|')}) return 0 ;;
    esac
    for word in ${cacheOptionWords.join(' ')}; do
        [[ $word == "$cur"* ]] && COMPREPLY+=("$word")
    done
    return 0
}
complete -o bashdefault -o default -F _gitsign_credential_cache_completions gitsign-credential-cache
`;

/** zsh's _describe takes NAME:DESCRIPTION with a colon in NAME written `\:`. */
const zshCacheOptions = CREDENTIAL_CACHE_OPTIONS.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])].map((w) => shQuoted(`${w}:${o.describe}`)));

const ZSH_SCRIPT = `#compdef gitsign gitsign-credential-cache
# gitsign and gitsign-credential-cache completion for zsh: source <(gitsign completion zsh), or save
# it as _gitsign in a directory of $fpath (before compinit runs).
_gitsign_yargs_completions() {
  local -a reply
  reply=(\${(f)"$(ZSH_NAME=zsh gitsign --get-yargs-completions "\${(@)words[1,CURRENT]}" 2>/dev/null)"})
  if (( \${#reply} )); then
    _describe 'values' reply
  else
    _default
  fi
}
_gitsign_credential_cache_completions() {
  local -a options
  case \${words[CURRENT-1]} in
    ${cacheValueOptions.join('|')}) _default; return ;;
  esac
  options=(${zshCacheOptions.join(' ')})
  _describe 'options' options
}
_gitsign() {
  case $service in
    gitsign-credential-cache) _gitsign_credential_cache_completions "$@" ;;
    *) _gitsign_yargs_completions "$@" ;;
  esac
}
# Autoloaded from $fpath, this file is the body of _gitsign: complete now; sourced, register.
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _gitsign "$@"
else
  compdef _gitsign_yargs_completions gitsign
  compdef _gitsign_credential_cache_completions gitsign-credential-cache
fi
`;

function fishCacheLine(o: CacheOption): string {
  const names = `${o.short ? `-s ${o.short} ` : ''}-l ${o.name}`;
  const value = o.value === 'path' ? ' -r -F' : o.value ? ' -x' : '';
  return `complete -c gitsign-credential-cache ${names}${value} -d ${fishQuoted(o.describe)}`;
}

const FISH_SCRIPT = `# gitsign and gitsign-credential-cache completion for fish:
#   gitsign completion fish > ~/.config/fish/completions/gitsign.fish
#   gitsign completion fish > ~/.config/fish/completions/gitsign-credential-cache.fish
function __gitsign_completions
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    for line in (env ZSH_NAME=zsh gitsign --get-yargs-completions $words "$current" 2>/dev/null)
        set -l m (string match -r -- ${fishQuoted(COMPLETION_LINE)} $line); or continue
        set -l name (string replace -a -- ${fishQuoted('\\:')} : $m[2])
        if set -q m[3]
            printf '%s\\t%s\\n' $name $m[3]
        else
            printf '%s\\n' $name
        end
    end
end
complete -c gitsign -f -a '(__gitsign_completions)'
complete -c gitsign-credential-cache -f
${CREDENTIAL_CACHE_OPTIONS.map(fishCacheLine).join('\n')}
`;

const POWERSHELL_SCRIPT = `# gitsign completion for PowerShell 7: gitsign completion powershell >> $PROFILE
Register-ArgumentCompleter -Native -CommandName gitsign -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | Where-Object { $_.Extent.EndOffset -lt $cursorPosition } | ForEach-Object {
        if ($_ -is [System.Management.Automation.Language.StringConstantExpressionAst]) { $_.Value } else { $_.Extent.Text }
    })
    # ArgumentList passes every word as it is, the empty current word too (native calls may drop it).
    $start = [System.Diagnostics.ProcessStartInfo]::new('gitsign')
    $start.UseShellExecute = $false
    $start.RedirectStandardOutput = $true
    $start.Environment['ZSH_NAME'] = 'zsh'
    $start.ArgumentList.Add('--get-yargs-completions')
    foreach ($word in $words) { $start.ArgumentList.Add($word) }
    $start.ArgumentList.Add($wordToComplete)
    $process = [System.Diagnostics.Process]::Start($start)
    $answer = $process.StandardOutput.ReadToEnd()
    $process.WaitForExit()
    foreach ($line in $answer -split '\\r?\\n') {
        if ($line -eq '' -or -not ($line -cmatch '${COMPLETION_LINE.replace(/'/g, "''")}')) { continue }
        $name = $Matches[1] -replace '\\\\:', ':'
        if (-not $name.StartsWith($wordToComplete, [System.StringComparison]::Ordinal)) { continue }
        $description = if ($Matches[2]) { $Matches[2] } else { $name }
        [System.Management.Automation.CompletionResult]::new($name, $name, 'ParameterValue', $description)
    }
}
`;

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

export const COMPLETION_SCRIPTS: Readonly<Record<Shell, string>> = { bash: BASH_SCRIPT, zsh: ZSH_SCRIPT, fish: FISH_SCRIPT, powershell: POWERSHELL_SCRIPT };
