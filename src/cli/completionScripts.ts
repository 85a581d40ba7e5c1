/**
 * `gitsign completion fish` and `gitsign completion powershell`. yargs writes only bash and zsh
 * scripts; these two ask the same question on every <Tab>: `gitsign --get-yargs-completions WORDS...
 * CURRENT` (the words before the cursor, gitsign first, then the word being completed, maybe empty).
 * With ZSH_NAME set, yargs answers one `NAME:DESCRIPTION` per line (a colon in NAME as `\:`; choices
 * have no description), which both shells can show.
 */

/**
 * One answer line: group 1 the name (still with `\:` for its colons), group 2 the description if
 * any. The same text is a valid PCRE2 (fish), .NET (PowerShell) and JavaScript pattern.
 */
export const COMPLETION_LINE = '^((?:[^\\\\:]|\\\\.)*)(?::(.*))?$';

/** A fish single-quoted string: only backslash and quote are special there. */
function fishQuoted(text: string): string {
  return `'${text.replace(/[\\']/g, '\\$&')}'`;
}

export const FISH_SCRIPT = `# gitsign completion for fish: gitsign completion fish > ~/.config/fish/completions/gitsign.fish
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
`;

export const POWERSHELL_SCRIPT = `# gitsign completion for PowerShell 7: gitsign completion powershell >> $PROFILE
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
