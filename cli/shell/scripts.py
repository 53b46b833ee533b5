"""The scripts ``azctx init SHELL`` prints: a prompt segment, a directory-pin check and
an exit hook per shell, all written with the shell's own builtins, so that drawing a
prompt or changing directory starts no process.

Each script defines:
- the prompt segment: ``AZCTX_PROMPT`` (exported, for starship's ``env_var`` and
  oh-my-posh), refreshed before every prompt from the one-line ``prompt`` file in the
  session's folder (``AZCTX_SESSION_DIR``), or from ``AZCTX_CONTEXT`` inside
  ``azctx run``; fish and pwsh also get a function ``azctx_prompt`` that prints it;
- the directory pin: before each prompt the directories are walked up looking for a
  ``.azctx`` file (``test -f``); ``azctx pin`` runs only when the file found (or its
  absence) changes, or when ``allow`` / ``disallow`` of that file left its mark in the
  session's folder (``test -f`` again), so that the change applies at the next prompt;
- the exit hook: the shell's own session ends with it. It is added to the user's hooks,
  never in their place: bash's ``EXIT`` trap runs an earlier trap's command after ours,
  zsh's ``TRAPHUP`` calls an earlier ``TRAPHUP`` first.

Sourcing a script twice defines the same functions again and adds no second hook.
"""

from __future__ import annotations

from azctx.cli.shell.exports import quote

_POSIX_COMMON = r"""
__azctx_prompt() {
  if [[ -n ${AZCTX_CONTEXT-} ]]; then
    AZCTX_PROMPT=$AZCTX_CONTEXT
  elif [[ -n ${AZCTX_SESSION_DIR-} && -r $AZCTX_SESSION_DIR/prompt ]]; then
    IFS= read -r AZCTX_PROMPT < "$AZCTX_SESSION_DIR/prompt"
  else
    AZCTX_PROMPT=
  fi
  export AZCTX_PROMPT
}
__azctx_pin_check() {
  local d=$PWD found= again=
  while :; do
    if [[ -f $d/.azctx ]]; then found=$d/.azctx; break; fi
    if [[ -z $d || $d == / ]]; then break; fi
    d=${d%/*}
  done
  if [[ $found == "${__azctx_pin-}" ]]; then
    [[ -n ${AZCTX_SESSION_DIR-} && -f $AZCTX_SESSION_DIR/@CHANGED@ ]] || return 0
    again=--again
  fi
  __azctx_pin=$found
  if [[ -z ${AZCTX_CONTEXT-} && -n ${AZCTX_SESSION-} ]]; then
    eval "$("$__azctx_exe" pin --shell @SHELL@ ${again:+"$again"} \
      --previous "${__azctx_pin_prev-}" -- "$found")"
  fi
}
__azctx_exit() {
  local rc=$?
  if [[ -n ${__azctx_own-} && ${AZCTX_SESSION-} == "$__azctx_own" ]]; then
    trap '' HUP
    __azctx_own=  # once: a chained trap of the user's may call it as well
    "$__azctx_exe" session end --shell @SHELL@ >/dev/null 2>&1
  fi
  return $rc
}
"""

_BASH = (
    r"""# azctx for bash: eval "$(azctx init bash)" in ~/.bashrc
if [[ $- == *i* ]]; then
__azctx_exe=@EXE@
"""
    + _POSIX_COMMON
    + r"""__azctx_hook() {
  local status=$?
  __azctx_pin_check
  __azctx_prompt
  return $status
}
if [[ ";${PROMPT_COMMAND-};" != *";__azctx_hook;"* ]]; then
  PROMPT_COMMAND="__azctx_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
fi
# The EXIT trap is one command: an earlier one of ~/.bashrc's runs after ours (seeing
# the shell's exit status), and a second sourcing finds ours first and adds nothing.
__azctx_trap_of() { __azctx_trap=${3-}; }
__azctx_trap=
eval "__azctx_trap_of $(trap -p EXIT)"
if [[ $__azctx_trap != __azctx_exit && $__azctx_trap != __azctx_exit$'\n'* ]]; then
  trap -- "__azctx_exit${__azctx_trap:+$'\n'$__azctx_trap}" EXIT
fi
unset -v __azctx_trap
@START@fi
"""
)

_ZSH = (
    r"""# azctx for zsh: eval "$(azctx init zsh)" in ~/.zshrc
if [[ -o interactive ]]; then
__azctx_exe=@EXE@
"""
    + _POSIX_COMMON
    + r"""__azctx_precmd() {
  __azctx_pin_check
  __azctx_prompt
}
# First of the precmd hooks: a prompt tool's own hook (starship) then sees the new value.
precmd_functions=(__azctx_precmd ${precmd_functions:#__azctx_precmd})
autoload -Uz add-zsh-hook
add-zsh-hook zshexit __azctx_exit
# A TRAPHUP of the user's (defined before this line) is kept and runs first: when it
# returns 0 the shell lives on, and so does its session (zshexit ends it later).
if [[ -n ${functions[TRAPHUP]-} && ${functions[TRAPHUP]} != *__azctx_user_traphup* ]]; then
  functions[__azctx_user_traphup]=${functions[TRAPHUP]}
fi
TRAPHUP() {
  local rc=$(( 128 + $1 ))
  if (( ${+functions[__azctx_user_traphup]} )); then
    __azctx_user_traphup "$@"
    rc=$?
    (( rc == 0 )) && return 0
  fi
  __azctx_exit
  return $rc
}
@START@fi
"""
)

_FISH = r"""# azctx for fish: azctx init fish | source  in ~/.config/fish/config.fish
if status is-interactive
set -g __azctx_exe @EXE@
function __azctx_prompt --on-event fish_prompt
    __azctx_pin_check
    if test -n "$AZCTX_CONTEXT"
        set -gx AZCTX_PROMPT $AZCTX_CONTEXT
    else if test -n "$AZCTX_SESSION_DIR" -a -r "$AZCTX_SESSION_DIR/prompt"
        read -l line < "$AZCTX_SESSION_DIR/prompt"
        set -gx AZCTX_PROMPT $line
    else
        set -gx AZCTX_PROMPT ''
    end
end
function azctx_prompt --description 'The shell default azure context, for fish_prompt'
    printf '%s' $AZCTX_PROMPT
end
function __azctx_pin_check
    set -l d $PWD
    set -l found ''
    while true
        if test -f "$d/.azctx"
            set found "$d/.azctx"
            break
        end
        if test -z "$d" -o "$d" = /
            break
        end
        set d (string replace -r '/[^/]*$' '' -- $d)
    end
    set -l again
    if test "$found" = "$__azctx_pin"
        test -n "$AZCTX_SESSION_DIR" -a -f "$AZCTX_SESSION_DIR/@CHANGED@"; or return 0
        set again --again
    end
    set -g __azctx_pin $found
    if test -z "$AZCTX_CONTEXT" -a -n "$AZCTX_SESSION"
        $__azctx_exe pin --shell fish $again --previous "$__azctx_pin_prev" -- "$found" | source
    end
end
function __azctx_exit --on-event fish_exit
    if test -n "$__azctx_own" -a "$AZCTX_SESSION" = "$__azctx_own"
        $__azctx_exe session end --shell fish >/dev/null 2>&1
    end
end
set -q __azctx_pin; or set -g __azctx_pin ''
set -q __azctx_pin_prev; or set -g __azctx_pin_prev ''
@START@end
"""

_PWSH = r"""# azctx for PowerShell: azctx init pwsh | Out-String | Invoke-Expression  in $PROFILE
$global:__azctxExe = @EXE@
function global:azctx_prompt {
    $file = if ($env:AZCTX_SESSION_DIR) { Join-Path $env:AZCTX_SESSION_DIR 'prompt' } else { '' }
    if ($env:AZCTX_CONTEXT) { $value = $env:AZCTX_CONTEXT }
    elseif ($file -and [IO.File]::Exists($file)) {
        $value = [IO.File]::ReadAllText($file).TrimEnd("`r", "`n")
    }
    else { $value = '' }
    $env:AZCTX_PROMPT = $value
    $value
}
function global:__azctx_pin_check {
    $dir = $PWD.ProviderPath
    $found = ''
    while ($dir) {
        $candidate = Join-Path $dir '.azctx'
        if ([IO.File]::Exists($candidate)) { $found = $candidate; break }
        $dir = [IO.Path]::GetDirectoryName($dir)
    }
    $again = @()
    if ($found -eq $global:__azctxPin) {
        $mark = if ($env:AZCTX_SESSION_DIR) { Join-Path $env:AZCTX_SESSION_DIR '@CHANGED@' }
        if (-not ($mark -and [IO.File]::Exists($mark))) { return }
        $again = @('--again')
    }
    $global:__azctxPin = $found
    if (-not $env:AZCTX_CONTEXT -and $env:AZCTX_SESSION) {
        $previous = "$global:__azctxPinPrev"
        & $global:__azctxExe pin --shell pwsh @again --previous $previous -- "$found" |
            Out-String | Invoke-Expression
    }
}
if (-not $global:__azctxHooked) {
    $global:__azctxHooked = $true
    $global:__azctxPin = ''
    $global:__azctxPinPrev = ''
    $global:__azctxOriginalPrompt = $function:prompt
    function global:prompt {
        __azctx_pin_check
        $null = azctx_prompt
        & $global:__azctxOriginalPrompt
    }
    $null = Register-EngineEvent -SourceIdentifier PowerShell.Exiting -Action {
        if ($global:__azctxOwn -and $env:AZCTX_SESSION -eq $global:__azctxOwn) {
            & $global:__azctxExe session end --shell pwsh *> $null
        }
    }
}
@START@"""

_TEMPLATES = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH, "pwsh": _PWSH}


def own_line(shell: str, session: str) -> str:
    """The shell variable that tells the exit hook which session is this shell's own
    (not exported: a nested shell has its own)."""
    if shell == "fish":
        return f"set -g __azctx_own {quote(shell, session)}"
    if shell == "pwsh":
        return f"$global:__azctxOwn = {quote(shell, session)}"
    return f"__azctx_own={quote(shell, session)}"


def script(shell: str, exe: str, start: list[str]) -> str:
    """The init script for ``shell``; ``start``: the lines that start its session (none
    when the shell has one, or runs inside ``azctx run``)."""
    text = _TEMPLATES[shell]
    from azctx.store.azcli.sessions import PIN_CHANGED

    body = "".join(line + "\n" for line in start)
    for mark, value in (
        ("@EXE@", quote(shell, exe)),
        ("@SHELL@", shell),
        ("@CHANGED@", PIN_CHANGED),
    ):
        text = text.replace(mark, value)
    return text.replace("@START@", body)
