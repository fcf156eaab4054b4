#!/usr/bin/env bash
# Parses `kmsguard graph` Mermaid output with the official Mermaid package
# (npm mermaid, in Node with jsdom standing in for the browser DOM it asks
# for): the graph of every example, of all examples together, of a tree with
# hostile names, and a deliberately broken chart that must be refused.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm install --silent --no-audit --no-fund --prefix "$work/npm" mermaid@11 jsdom@26 >/dev/null
bin=${KMSGUARD:-target/debug/kmsguard}
for d in examples/*/; do
  "$bin" graph "$d" --no-config > "$work/$(basename "$d").mmd"
done
"$bin" graph examples --no-config > "$work/all.mmd"
mkdir -p "$work/hostile"
printf 'resource "azurerm_route_table" "x" {\n  name = "rt\\"]<b>x</b> #35; `y` | ##vso[z]"\n  route {\n    name = "d"\n    address_prefix = "0.0.0.0/0"\n    next_hop_type = "None"\n  }\n}\n' > "$work/hostile/main.tf"
"$bin" graph "$work/hostile" --no-config > "$work/hostile.mmd"
printf 'flowchart LR\n  a --> \n' > "$work/broken.mmd.bad"
cat > "$work/npm/parse.mjs" <<'JS'
import fs from 'node:fs';
import { JSDOM } from 'jsdom';
const dom = new JSDOM('<!DOCTYPE html><body></body>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
let failed = 0;
for (const f of process.argv.slice(2)) {
  const text = fs.readFileSync(f, 'utf8');
  const bad = f.endsWith('.bad');
  let ok = true;
  try { await mermaid.parse(text); } catch (e) { ok = false; if (!bad) console.log(`${f}: ${e.message}`); }
  if (ok === bad) { failed++; console.log(`${f}: ${bad ? 'accepted a broken chart' : 'not parsed'}`); }
}
console.log(`Mermaid: ${process.argv.length - 2} charts, ${failed} failures`);
process.exit(failed ? 1 : 0);
JS
(cd "$work/npm" && node parse.mjs "$work"/*.mmd "$work/broken.mmd.bad")
