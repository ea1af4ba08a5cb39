# sandbox-terminal shell integration: the shell side of server/src/session/bash-contract.ts (read its header first).
__st_ctl=$__ST_CTL
__st_start_cwd=$__ST_CWD
unset __ST_CTL __ST_CWD
[[ -r /etc/bash.bashrc ]] && builtin . /etc/bash.bashrc
[[ -r ~/.bashrc ]] && builtin . ~/.bashrc
[[ $PS1 == '\s-\v\$ ' || -z $PS1 ]] && PS1='\[\e[1;32m\]\w\[\e[0m\]\$ '
if [[ -n $__st_start_cwd ]]; then
  builtin cd -- "$__st_start_cwd" 2>/dev/null || builtin printf 'sandbox-terminal: %s no longer exists; starting in %s\n' "$__st_start_cwd" "$PWD"
fi
unset __st_start_cwd
# The control directory is read-only here; history lives in the sandbox's own /tmp.
HISTFILE=/tmp/.bash_history-${__st_ctl##*/}
__st_mark_ps1='\[\e]6973;P\a\]'
__st_job=
__st_restore=
__st_save() { { builtin printf '%s\0' "$PWD"; builtin export -p; builtin printf '\0\0ST-STATE\0\0'; } >>"$__st_ctl/state" 2>/dev/null; }
__st_ret() { return "$1"; }
__st_begin() {
  [[ -n $__st_tty ]] || __st_tty=$(builtin command stty -g 2>/dev/null)
  builtin history -s -- "$1"
  local p=${PS1%"$__st_mark_ps1"}
  __st_prompt_before=${p@P}
  builtin printf '%s%s\n\e]6973;B;%s\a' "$__st_prompt_before" "$1" "$2" >/dev/tty
}
# $1: exit code; $2: "done" (the job ran to its end) or "aborted" (SIGINT threw the shell back to its prompt).
# A job killed by a signal makes bash reset the terminal to cooked mode under readline's feet, and after an abort
# readline does not prepare the terminal again (it believes it still is): put readline's mode back in both cases.
__st_end() {
  if [[ -n $__st_tty ]] && { [[ $2 == aborted ]] || (( $1 > 128 )) || [[ -e $__st_ctl/restore-tty ]]; }; then
    builtin command stty "$__st_tty" </dev/tty 2>/dev/null
    [[ $2 == aborted ]] && builtin printf '\e[?2004h' >/dev/tty
  fi
  __st_save
  builtin printf '\0\0ST-END:%s:%s\0\0' "$__st_job" "$1" >>"$__st_ctl/out"
  builtin printf '\0\0ST-END:%s\0\0' "$__st_job" >>"$__st_ctl/err"
  # Readline will redraw the prompt it had before the job. When the job changed it (a cd) and the user has nothing
  # half-typed, say "stale": the relay then submits the empty line so a fresh prompt (and OSC 7) is drawn.
  local p=${PS1%"$__st_mark_ps1"} stale=
  [[ $2 == done && -z $READLINE_LINE && ${p@P} != "$__st_prompt_before" ]] && stale=';stale'
  builtin printf '\e]7;file://sandbox%s\a\e]6973;E;%s%s\a' "$PWD" "$__st_job" "$stale" >/dev/tty
  __st_job=
}
__st_prompt() {
  [[ $PS1 == *"$__st_mark_ps1" ]] || PS1=$PS1$__st_mark_ps1
  # C: a new prompt cycle (not a redraw of the same prompt); OSC 7: the cwd, for terminals that show it.
  builtin printf '\e]6973;C\a\e]7;file://sandbox%s\a' "$PWD"
}
PROMPT_COMMAND=('__st_rc=$?; [[ -z $__st_job ]] || { builtin eval "$__st_restore"; __st_end "$__st_rc" aborted; }; __st_save; __st_ret "$__st_rc"' "${PROMPT_COMMAND[@]}" '__st_prompt')
# bash exports READLINE_LINE, _POINT and _MARK (and _ARGUMENT) to a `bind -x` command; a command typed at the prompt
# does not see them, so neither does one run by exec (nor are they saved with the session's env). The values stay.
__st_bind='builtin export -n READLINE_LINE READLINE_POINT READLINE_MARK READLINE_ARGUMENT; builtin . "$__st_ctl/job"; __st_rc=$?; builtin eval "$__st_restore"; __st_end "$__st_rc" done'
builtin bind -x "\"\\e[5999~\": $__st_bind" 2>/dev/null
builtin bind -m vi-insert -x "\"\\e[5999~\": $__st_bind" 2>/dev/null
builtin bind -m vi-command -x "\"\\e[5999~\": $__st_bind" 2>/dev/null
