#!/usr/bin/env bash
# Times `kmsguard check` against checkov on the same generated landing zone.
#
#   bash bench/compare.sh [SPOKES] [RUNS]      # defaults: 1000 spokes, 5 runs
#
# checkov is installed from PyPI into a throwaway venv and run offline
# (BC_SKIP_MAPPING=TRUE) on the Terraform only. Prints the median wall time
# and peak memory of each, and the ratio. Set SKIP_CHECKOV=1 to time only kmsguard.
set -euo pipefail
cd "$(dirname "$0")/.."
spokes=${1:-1000}
runs=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --locked -q
python3 bench/generate.py "$spokes" "$work/lz"
echo "tree: $spokes spokes, $(find "$work/lz" -name '*.tf' | wc -l) .tf files, $(find "$work/lz" -name '*.tf' -print0 | xargs -0 cat | wc -c | awk '{printf "%.1f", $1 / 1e6}') MB"

source bench/measure.sh

read -r k_time k_rss < <(measure "$runs" ./target/release/kmsguard check "$work/lz" --format compact --fail-on never)
echo "kmsguard: median ${k_time}s, peak ${k_rss} KB over $runs runs"

if [ "${SKIP_CHECKOV:-0}" != 1 ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q checkov >/dev/null
  echo "checkov $("$work/venv/bin/checkov" --version 2>/dev/null)"
  export BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false
  read -r c_time c_rss < <(measure "$runs" "$work/venv/bin/checkov" -d "$work/lz" --framework terraform --quiet --compact --skip-download --soft-fail)
  echo "checkov:  median ${c_time}s, peak ${c_rss} KB over $runs runs"
  awk -v c="$c_time" -v k="$k_time" 'BEGIN { if (k > 0) printf "kmsguard is %.0fx faster\n", c / k }'
fi
