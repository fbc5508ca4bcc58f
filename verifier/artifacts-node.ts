/**
 * Loading the compiled runtime code of the ledger and its linked library from this
 * repository's Hardhat build (`artifacts/`, written by `npm run build`), in Node. The browser
 * gets the same objects from the gateway's explorer config.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import type { RuntimeArtifact, RuntimeArtifacts } from "./bytecode";

const LEDGER = { source: "contracts/CreditLedger.sol", name: "CreditLedger" };

interface BuildInfo {
  output: { contracts: Record<string, Record<string, { evm: { deployedBytecode: Omit<RuntimeArtifact, "name"> } }>> };
}

function runtimeOf(buildInfo: BuildInfo, source: string, name: string): RuntimeArtifact {
  const compiled = buildInfo.output.contracts[source]?.[name];
  if (!compiled) throw new Error(`${source}:${name} is not in the build info`);
  const { object, linkReferences, immutableReferences } = compiled.evm.deployedBytecode;
  return { name: `${source}:${name}`, object, linkReferences, immutableReferences };
}

/** The ledger's runtime artifact and those of the libraries it links, from `<root>/artifacts`. */
export function loadRuntimeArtifacts(root: string): RuntimeArtifacts {
  const dbg = path.join(root, "artifacts", LEDGER.source, `${LEDGER.name}.dbg.json`);
  if (!existsSync(dbg)) throw new Error(`no compiled artifacts at ${path.dirname(dbg)}: run \`npm run build\` first`);
  const { buildInfo: relative } = JSON.parse(readFileSync(dbg, "utf8")) as { buildInfo: string };
  const buildInfo = JSON.parse(readFileSync(path.resolve(path.dirname(dbg), relative), "utf8")) as BuildInfo;
  const ledger = runtimeOf(buildInfo, LEDGER.source, LEDGER.name);
  const libraries: RuntimeArtifact[] = [];
  for (const [source, libs] of Object.entries(ledger.linkReferences)) {
    for (const name of Object.keys(libs)) libraries.push(runtimeOf(buildInfo, source, name));
  }
  return { ledger, libraries };
}
