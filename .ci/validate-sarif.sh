#!/usr/bin/env bash
# Validates the SARIF of every example with Microsoft's SARIF validator
# (npm @microsoft/sarif-multitool) and fails on any error or warning.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm install --silent --prefix "$work/npm" @microsoft/sarif-multitool@5 >/dev/null
tool="$work/npm/node_modules/.bin/sarif-multitool"
bin=${KMSGUARD:-target/debug/kmsguard}
for d in examples/*/; do
  "$bin" check "$d" --format sarif --output "$work/$(basename "$d").sarif" || true
done
# Absolute paths become file:// URIs; suppressed findings carry `suppressions`.
"$bin" check "$PWD/examples/01-forced-tunnel-broken" --format sarif --output "$work/absolute.sarif" || true
mkdir -p "$work/suppressed dir"
{ echo "# kmsguard:ignore KG101 -- accepted for the validator"; cat examples/01-forced-tunnel-broken/main.tf; } > "$work/suppressed dir/main.tf"
"$bin" check "$work/suppressed dir" --format sarif --output "$work/suppressed.sarif" || true
"$tool" validate "$work"/*.sarif --output "$work/validation.sarif" --log ForceOverwrite >/dev/null
python3 - "$work/validation.sarif" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
problems = [
    (r.get("level", "warning"), r["ruleId"], r.get("message"))
    for run in doc["runs"] for r in run.get("results", [])
    if r.get("level", "warning") in ("error", "warning")
]
for p in problems:
    print("SARIF validation:", *p)
files = len(doc["runs"][0].get("artifacts", [])) if doc["runs"] else 0
print(f"SARIF validation: {len(problems)} errors or warnings")
sys.exit(1 if problems else 0)
PY
