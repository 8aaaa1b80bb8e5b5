#!/usr/bin/env bash
# Checks the generated command-line reference: man pages and completion scripts.
#
#   reference_check.sh DIR IMGPIPE
#
# DIR holds what `write_reference` wrote (imgpipe.1, imgpipe-<command>.1, the bash script
# `imgpipe`, the zsh script `_imgpipe`); IMGPIPE is the binary they describe. Every problem is
# reported on stderr; the exit status is 1 if there was any, else 0.

set -u

if [[ $# -ne 2 ]]; then
  echo "usage: $0 DIR IMGPIPE" >&2
  exit 1
fi
dir=$1
binary=$2
problems=0

problem() {
  echo "reference_check: $*" >&2
  problems=$((problems + 1))
}

check_inputs() {
  [[ -d $dir ]] || { echo "reference_check: $dir: not a folder" >&2; exit 1; }
  [[ -x $binary ]] || { echo "reference_check: $binary: not an executable" >&2; exit 1; }
}

# Every page renders without a single groff warning.
check_man_pages() {
  if ! command -v groff >/dev/null; then
    problem "groff not found: cannot check the man pages"
    return
  fi
  [[ -f $dir/imgpipe.1 ]] || problem "$dir/imgpipe.1: missing"
  local page warnings
  for page in "$dir"/*.1; do
    [[ -e $page ]] || continue
    if ! warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1); then
      problem "$page: groff failed: $warnings"
    elif [[ -n $warnings ]]; then
      problem "$page: groff warnings:"$'\n'"$warnings"
    fi
  done
}

# The subcommands `imgpipe --help` lists: the lines under "Subcommands:" that start with
# two spaces and a name (longer descriptions continue on lines indented further).
listed_subcommands() {
  "$binary" --help 2>/dev/null | awk '
    /^Subcommands:/ { inside = 1; next }
    inside && /^[^ ]/ { inside = 0 }
    inside && /^  [^ ]/ { print $1 }'
}

check_every_command_has_a_page() {
  local commands command
  commands=$(listed_subcommands)
  if [[ -z $commands ]]; then
    problem "$binary --help lists no subcommands"
    return
  fi
  for command in $commands; do
    [[ -f $dir/imgpipe-$command.1 ]] || problem "$dir/imgpipe-$command.1: missing (\`$command' is in --help)"
  done
}

# What _imgpipe offers for a command line whose last word is being completed, one per line;
# run in a bash of its own so that nothing here leaks into it.
bash_complete() {
  bash --norc --noprofile -c '
    source "$1" || exit 1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$(( $# - 1 ))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    _imgpipe "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" || exit 1
    printf "%s\n" "${COMPREPLY[@]}"' bash_complete "$dir/imgpipe" "$@"
}

expect_bash_completion() {  # WORD LINE...
  local want=$1 offered
  shift
  offered=$(bash_complete "$@" 2>&1) || { problem "bash completion of '$*' failed: $offered"; return; }
  grep -qxF -- "$want" <<<"$offered" ||
    problem "bash completion of '$*' does not offer $want; it offers: $(echo $offered)"
}

check_bash() {
  local script=$dir/imgpipe
  if [[ ! -f $script ]]; then
    problem "$script: missing"
    return
  fi
  local errors
  if ! errors=$(bash -n "$script" 2>&1); then
    problem "$script: bash cannot parse it: $errors"
    return
  fi
  bash --norc --noprofile -c 'source "$1" && complete -p imgpipe' _ "$script" 2>/dev/null | grep -q -- '-F _imgpipe' ||
    problem "$script: does not register _imgpipe for imgpipe"
  expect_bash_completion batch imgpipe ba
  expect_bash_completion --format imgpipe run --for
}

check_zsh() {
  local script=$dir/_imgpipe
  if [[ ! -f $script ]]; then
    problem "$script: missing"
    return
  fi
  [[ $(head -n 1 "$script") == "#compdef imgpipe" ]] || problem "$script: does not start with '#compdef imgpipe'"
  if ! command -v zsh >/dev/null; then
    echo "zsh not found, skipped zsh check"
    return
  fi
  local errors
  errors=$(zsh -n "$script" 2>&1) || problem "$script: zsh cannot parse it: $errors"
}

check_inputs
check_man_pages
check_every_command_has_a_page
check_bash
check_zsh
if ((problems > 0)); then
  echo "reference_check: $problems problem(s) in $dir" >&2
  exit 1
fi
echo "reference_check: $dir is in order"
