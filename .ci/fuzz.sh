#!/usr/bin/env bash
# Runs each fuzz target briefly (FUZZ_SECONDS, default 20), seeded from the
# examples, on the stable toolchain (no sanitizer). Needs cargo-fuzz.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${FUZZ_SECONDS:-20}
seed() {
  mkdir -p "corpus/$1"
  find ../examples -name "$2" -type f | while read -r f; do
    cp "$f" "corpus/$1/$(printf '%s' "$f" | cksum | cut -d' ' -f1)"
  done
}
seed terraform '*.tf'
seed bicep '*.bicep'
seed arm '*.json'
cargo fuzz build -s none
for t in terraform bicep arm; do
  cargo fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 2>&1 | grep -E "^Done|SUMMARY|panicked" || true
  # A crash leaves an artifact and makes `cargo fuzz run` fail; check explicitly.
  if compgen -G "artifacts/$t/crash-*" >/dev/null; then
    echo "fuzz target $t crashed: see fuzz/artifacts/$t" >&2
    exit 1
  fi
done
