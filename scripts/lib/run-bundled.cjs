/**
 * Runs a TypeScript entry point bundled in memory by esbuild, as if it were the file itself
 * (`__dirname`, `require` and `process.argv[1]` are the entry point's): a command-line tool
 * starts in a fraction of a second, where ts-node's transpiling of every imported module takes
 * about 1.5 s. Packages stay external (loaded from node_modules as usual); JSON the code
 * requires (the compiled artifacts) is read at bundle time, every run. No type checking here:
 * that is `npm run typecheck`'s job.
 *
 *   node scripts/lib/run-bundled.cjs scripts/audit.ts [arguments...]
 */
"use strict";
const path = require("node:path");
const Module = require("node:module");

const entry = process.argv[2];
if (entry === undefined) {
  console.error("usage: node scripts/lib/run-bundled.cjs <entry.ts> [arguments...]");
  process.exit(2);
}
const filename = path.resolve(entry);
let outputFiles;
try {
  ({ outputFiles } = require("esbuild").buildSync({
    entryPoints: [filename],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    packages: "external",
    write: false,
    logLevel: "silent",
  }));
} catch (error) {
  const messages = (error.errors ?? []).map((e) => `  ${e.location ? `${e.location.file}:${e.location.line}: ` : ""}${e.text}`);
  console.error(`cannot build ${entry}:\n${messages.join("\n") || error.message}`);
  if (messages.some((m) => m.includes("artifacts/"))) console.error("the compiled contracts are missing: run `npx hardhat compile` (or `npm run build`) first");
  process.exit(2);
}
process.argv.splice(1, 2, filename);
const m = new Module(filename, module);
m.filename = filename;
m.paths = Module._nodeModulePaths(path.dirname(filename));
m._compile(outputFiles[0].text, filename);
