/**
 * `npm run build`: everything a deployment runs, compiled into `dist/`, so production needs no
 * TypeScript, no Hardhat and no devDependencies (docs/DEPLOYMENT.md):
 *
 *   1. the contracts (`hardhat compile`: artifacts/ and the typechain types the gateway reads with)
 *   2. the TypeScript of core/, server/ and verifier/ (tsconfig.build.json) into dist/, the
 *      same layout as the source, so `node dist/server/main.js` runs the gateway
 *   3. the compiled contracts the runtime reads (the ledger's ABI, the runtime code the explorer's
 *      bytecode check compares, and their build info) into dist/artifacts/
 *   4. the explorer page's script, bundled by esbuild, into dist/verifier/explorer/app.js
 *
 *   npm run build                 # the whole build, into dist/
 *   npm run build -- --out DIR    # into DIR instead (inside the repository, so node finds node_modules)
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const { values: flags } = parseArgs({ options: { out: { type: "string" } }, strict: true });
const DIST = path.resolve(ROOT, flags.out ?? "dist");
/** The contracts whose compiled output the runtime reads (the ledger, its linked library and its interface). */
const CONTRACTS = ["CreditLedger.sol", path.join("libraries", "LoanServicing.sol"), path.join("interfaces", "ICreditLedger.sol")];

const log = (message: string) => console.log(`[build] ${message}`);

function run(what: string, command: string, args: string[]): void {
  const started = Date.now();
  log(`${what}: ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`[build] ${what} failed (exit ${result.status ?? result.signal}): fix the errors above and run npm run build again`);
    process.exit(1);
  }
  log(`${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function copyArtifacts(): void {
  const from = path.join(ROOT, "artifacts");
  const to = path.join(DIST, "artifacts");
  const buildInfos = new Set<string>();
  for (const contract of CONTRACTS) {
    const dir = path.join(from, "contracts", contract);
    if (!existsSync(dir)) throw new Error(`${path.relative(ROOT, dir)} is missing after compiling`);
    mkdirSync(path.join(to, "contracts", contract), { recursive: true });
    for (const file of readdirSync(dir)) {
      cpSync(path.join(dir, file), path.join(to, "contracts", contract, file));
      if (file.endsWith(".dbg.json")) {
        const { buildInfo } = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as { buildInfo: string };
        buildInfos.add(path.resolve(dir, buildInfo));
      }
    }
  }
  for (const file of buildInfos) {
    const target = path.join(to, path.relative(from, file));
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(file, target);
  }
  log(`compiled contracts: ${CONTRACTS.length} contracts and ${buildInfos.size} build info file(s) into dist/artifacts/`);
}

async function main(): Promise<void> {
  rmSync(DIST, { recursive: true, force: true });
  run("contracts", "npx", ["hardhat", "compile", "--quiet"]);
  run("TypeScript", "npx", ["tsc", "-p", "tsconfig.build.json", "--outDir", DIST]);
  copyArtifacts();
  const { buildExplorerScript } = await import("../verifier/explorer/bundle");
  const out = path.join(DIST, "verifier", "explorer", "app.js");
  const script = await buildExplorerScript(out);
  log(`explorer page's script: ${path.relative(ROOT, out)} (${Math.round(script.text.length / 1024)} KiB)`);
  log(`done: node ${path.relative(ROOT, path.join(DIST, "server", "main.js"))} runs the gateway (configuration: docs/DEPLOYMENT.md)`);
}

main().catch((error: unknown) => {
  console.error(`[build] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
