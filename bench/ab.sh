#!/usr/bin/env bash
# Interleaved A/B timing of two kmsguard binaries on generated landing zones:
# each run of A is followed by a run of B, so a machine that is busy for a
# while slows both alike. Prints the median wall time and the peak RSS of
# each, per size.
#
#   RUNS=7 bash bench/ab.sh OLD_BINARY NEW_BINARY 1000 10000
#
# Build both in release mode first (e.g. a `git worktree` of the old commit).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 BINARY_A BINARY_B SPOKES..." >&2
  exit 2
fi
cd "$(dirname "$0")/.."
a=$1 b=$2 runs=${RUNS:-7}
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
for n in "$@"; do
  python3 bench/generate.py "$n" "$work/lz" >/dev/null
  ta=() tb=() ma=0 mb=0
  for _ in $(seq "$runs"); do
    for side in a b; do
      bin=$a
      [ "$side" = b ] && bin=$b
      /usr/bin/time -o "$work/time" -f "%e %M" "$bin" check "$work/lz" --format compact --fail-on never >/dev/null 2>&1 || true
      read -r t m <"$work/time"
      if [ "$side" = a ]; then
        ta+=("$t")
        ((m > ma)) && ma=$m
      else
        tb+=("$t")
        ((m > mb)) && mb=$m
      fi
    done
  done
  printf '%8d spokes  A: %6s s %6d MB   B: %6s s %6d MB\n' "$n" "$(median "${ta[@]}")" $((ma / 1024)) "$(median "${tb[@]}")" $((mb / 1024))
  rm -rf "$work/lz"
done
