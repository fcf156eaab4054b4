#!/usr/bin/env bash
# How kmsguard's wall time and peak memory grow with the number of spokes.
#
#   bash bench/scaling.sh [RUNS] [SPOKES...]    # defaults: 3 runs; 100 1000 10000
#
# Generates each landing zone with bench/generate.py (Terraform only) and
# prints the median wall time, the peak RSS and the time per spoke.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 10000)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source bench/measure.sh

cargo build --release --locked -q
printf '%8s %10s %10s %12s %14s\n' spokes "tf MB" "median s" "peak MB" "us per spoke"
for n in "${sizes[@]}"; do
  rm -rf "$work/lz"
  python3 bench/generate.py "$n" "$work/lz"
  mb=$(find "$work/lz" -name '*.tf' -print0 | xargs -0 cat | wc -c | awk '{printf "%.1f", $1 / 1e6}')
  read -r t rss < <(measure "$runs" ./target/release/kmsguard check "$work/lz" --format compact --fail-on never)
  printf '%8d %10s %10s %12d %14.0f\n' "$n" "$mb" "$t" $((rss / 1024)) "$(awk -v t="$t" -v n="$n" 'BEGIN { print t * 1e6 / n }')"
done
