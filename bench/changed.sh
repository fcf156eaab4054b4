#!/usr/bin/env bash
# What a pre-commit run costs against a full check, on a repository of N
# root modules that share one module (bench/changed.py).
#
#   bash bench/changed.sh [RUNS] [ROOTS]    # defaults: 5 runs, 1000 roots
#
# Prints the median wall time and peak memory of: the whole repository;
# one changed terraform.tfvars (its root alone is checked); one changed root
# main.tf (the repository is scanned for callers, none found); and the
# changed shared module (every root that calls it is checked: a full check).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
n=${2:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source bench/measure.sh

cargo build --release --locked -q
bin=$PWD/target/release/kmsguard
python3 bench/changed.py "$n" "$work/repo"
cd "$work/repo"
printf '%-34s %10s %10s\n' "check" "median s" "peak MB"
for what in "." envs/env0001/terraform.tfvars envs/env0001/main.tf modules/spoke/main.tf; do
  read -r t rss < <(measure "$runs" "$bin" check "$what" --format compact --fail-on never)
  printf '%-34s %10s %10d\n' "$what" "$t" $((rss / 1024))
done
