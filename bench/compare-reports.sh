#!/usr/bin/env bash
# Runs two kmsguard binaries over the same directories and diffs their
# reports byte for byte: the check for refactors that must not change
# behaviour.
#
#   bash bench/compare-reports.sh A B DIR...
#   bash bench/compare-reports.sh target/before/kmsguard target/debug/kmsguard examples /work/repos/*
#
# Each DIR is checked as a whole, and each of its immediate subdirectories on
# its own (so one broken example does not hide behind another's findings), in
# the formats of FORMATS (default: json human). Also compares `rules` and
# `explain` for every code the catalogue lists. EXTRA_ARGS (split on spaces)
# are added to every check, e.g. EXTRA_ARGS="--cloud usgov". Exits 1 when
# any report differs.
set -uo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 BINARY_A BINARY_B DIR..." >&2
  exit 2
fi
a=$1 b=$2
shift 2
formats=${FORMATS:-json human}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
differ=0 compared=0

compare() {
  # $1: label; the rest: the kmsguard arguments.
  local label=$1
  shift
  "$a" "$@" >"$work/a.out" 2>"$work/a.err"
  echo "exit $?" >>"$work/a.out"
  "$b" "$@" >"$work/b.out" 2>"$work/b.err"
  echo "exit $?" >>"$work/b.out"
  compared=$((compared + 1))
  if ! cmp -s "$work/a.out" "$work/b.out" || ! cmp -s "$work/a.err" "$work/b.err"; then
    differ=$((differ + 1))
    echo "DIFFERS: $label"
    diff "$work/a.out" "$work/b.out" | head -20
    diff "$work/a.err" "$work/b.err" | head -20
  fi
}

targets=()
for dir in "$@"; do
  targets+=("$dir")
  for sub in "$dir"/*/; do
    [ -d "$sub" ] && targets+=("${sub%/}")
  done
done

for t in "${targets[@]}"; do
  for f in $formats; do
    # shellcheck disable=SC2086 # EXTRA_ARGS is a list of flags
    compare "check $t --format $f ${EXTRA_ARGS:-}" check "$t" --format "$f" --fail-on never --color never ${EXTRA_ARGS:-}
  done
done

compare "rules" rules
for code in $("$a" rules 2>/dev/null | grep -o '^KG[0-9]\{3\}' | sort -u); do
  compare "explain $code" explain "$code"
done

echo "$compared comparisons, $differ differ"
[ "$differ" -eq 0 ]
