#!/usr/bin/env bash
# Runs each fuzz target, seeded from the examples, on the stable toolchain
# (no sanitizer). Needs cargo-fuzz (`cargo install cargo-fuzz`).
#
#   bash .ci/fuzz.sh                       # each target for FUZZ_SECONDS (default 20)
#   FUZZ_RUNS=10000000 bash .ci/fuzz.sh    # each target for that many executions
#   FUZZ_TARGETS="arm_expr" bash .ci/fuzz.sh
#
# An input that crashes or takes longer than FUZZ_TIMEOUT seconds (default
# 10) fails the run and is left in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${FUZZ_SECONDS:-20}
runs=${FUZZ_RUNS:-}
timeout=${FUZZ_TIMEOUT:-10}
targets=${FUZZ_TARGETS:-terraform bicep arm arm_expr render config}
seed() {
  mkdir -p "corpus/$1"
  find ../examples ../tests -name "$2" -type f | while read -r f; do
    cp "$f" "corpus/$1/$(printf '%s' "$f" | cksum | cut -d' ' -f1)"
  done
}
seed terraform '*.tf'
seed terraform '*.tfvars'
seed bicep '*.bicep'
seed bicep '*.bicepparam'
seed arm '*.json'
seed config '*.hcl'
# The config target starts from the policy pack's endpoint blocks and a
# config that uses every setting.
cp ../policies/*.hcl corpus/config/
cat > corpus/config/full.hcl <<'HCL'
cloud = "public"
fail_on = "warning"
exclude = ["test/**"]
var_files = ["prod.tfvars"]
assume_bgp_default_route = true
rule "KG202" { enabled = false }
rule "nsg-denies-platform-imds" { severity = "error" }
limits {
  max_file_size = 1000
  parse_timeout = 2.5
  max_eval_steps = 10
  max_collection_size = 5
}
endpoint "lic" {
  title = "licence server"
  protocol = "Tcp"
  port = 27000
  cloud "*" { required = ["203.0.113.10"] }
}
HCL
# The expression target starts from every `[...]` string of the example templates.
mkdir -p corpus/arm_expr
python3 - corpus/arm_expr ../examples <<'PY'
import json, os, sys, zlib
out, root = sys.argv[1], sys.argv[2]
def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)
for d, _, files in os.walk(root):
    for f in files:
        if f.endswith(".json"):
            try:
                doc = json.load(open(os.path.join(d, f)))
            except (ValueError, OSError):
                continue
            for s in strings(doc):
                if s.startswith("["):
                    open(os.path.join(out, "%08x" % zlib.crc32(s.encode())), "w").write(s)
PY
# The output target starts from names, messages and paths that try to inject.
mkdir -p corpus/render
printf 'resource "x" {\n  name = "a"\n}\n\377main.tf\377rt\n::warning file=x::y\377route table rt\377this\377##vso[task.setvariable variable=x]1\377fix\377route {\n}\377`x`\377.kmsguard.hcl\377\033]0;t\007\377b.bicep' >corpus/render/seed
cargo fuzz build -s none
if [ -n "$runs" ]; then limit=(-runs="$runs"); else limit=(-max_total_time="$seconds"); fi
for t in $targets; do
  cargo fuzz run -s none "$t" "corpus/$t" -- "${limit[@]}" -timeout="$timeout" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 2>&1 |
    grep -E "^Done|^stat::number_of_executed_units|SUMMARY|panicked|ERROR" || true
  # A crash or a timeout leaves an artifact and makes `cargo fuzz run` fail; check explicitly.
  if compgen -G "artifacts/$t/*" >/dev/null; then
    echo "fuzz target $t failed: see fuzz/artifacts/$t" >&2
    ls "artifacts/$t" >&2
    exit 1
  fi
done
