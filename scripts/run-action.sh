#!/usr/bin/env bash
# The GitHub Action's check step: turns the action's inputs (INPUT_* in the
# environment) into one `kmsguard check` command, writes the step summary
# and the outputs, and exits with kmsguard's code.
#
# `path` and `args` are lists: one item per line, or, on a single line,
# items separated by spaces (so `infra modules` is two paths). A path or an
# argument holding a space goes on a line of its own. Nothing is globbed or
# otherwise expanded: `*.tf` reaches kmsguard as written.
set -uo pipefail
set -f

KMSGUARD=${KMSGUARD:-kmsguard}
tmp=${RUNNER_TEMP:-$(mktemp -d)}

# Splits $1 into the array `items`: by lines when it has several, else by
# blanks. (No namerefs: macOS ships bash 3.2.)
split() {
  local text=$1 line
  items=()
  if [[ "$text" == *$'\n'* ]]; then
    while IFS= read -r line; do
      line="${line#"${line%%[![:space:]]*}"}"
      line="${line%"${line##*[![:space:]]}"}"
      if [ -n "$line" ]; then items+=("$line"); fi
    done <<<"$text"
  else
    read -r -a items <<<"$text" || true
  fi
}

split "${INPUT_PATH:-.}"
paths=(${items[@]+"${items[@]}"})
split "${INPUT_ARGS:-}"
args=(${items[@]+"${items[@]}"})
[ "${#paths[@]}" -gt 0 ] || paths=(.)

cmd=("$KMSGUARD" check)
[ -n "${INPUT_CLOUD:-}" ] && cmd+=(--cloud "$INPUT_CLOUD")
[ -n "${INPUT_CONFIG:-}" ] && cmd+=(--config "$INPUT_CONFIG")
[ "${INPUT_NO_CONFIG:-false}" = "true" ] && cmd+=(--no-config)
[ "${INPUT_INLINE_SUPPRESSIONS:-true}" = "false" ] && cmd+=(--no-inline-suppressions)
# Only when set: otherwise fail_on in .kmsguard.hcl (or the default, error) decides.
[ -n "${INPUT_FAIL_ON:-}" ] && cmd+=(--fail-on "$INPUT_FAIL_ON")
cmd+=(${args[@]+"${args[@]}"})
cmd+=(--format github
  --report "sarif=${INPUT_SARIF_FILE:-kmsguard.sarif}"
  --report "markdown=$tmp/kmsguard.md"
  --report "json=$tmp/kmsguard.json"
  --)
cmd+=("${paths[@]}")

"${cmd[@]}"
code=$?

if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$tmp/kmsguard.md" ]; then
  cat "$tmp/kmsguard.md" >>"$GITHUB_STEP_SUMMARY"
fi
findings=$(jq '[.findings[] | select(.suppressed == null)] | length' "$tmp/kmsguard.json" 2>/dev/null || echo 0)
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "findings=$findings" >>"$GITHUB_OUTPUT"
  echo "sarif-file=${INPUT_SARIF_FILE:-kmsguard.sarif}" >>"$GITHUB_OUTPUT"
fi
exit "$code"
