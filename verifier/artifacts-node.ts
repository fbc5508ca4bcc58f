/**
 * Loading the compiled runtime code of the ledger and its linked library from this
 * repository's Hardhat build (`artifacts/`, written by `npm run build`), in Node, and checking
 * that the build is the one of the sources on disk. The browser gets the same objects from the
 * gateway's explorer config.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import type { RuntimeArtifact, RuntimeArtifacts } from "./bytecode";

const LEDGER = { source: "contracts/CreditLedger.sol", name: "CreditLedger" };

interface BuildInfo {
  /** The build info's file, as the artifacts' `.dbg.json` files name it. */
  file?: string;
  input: { sources: Record<string, { content: string }> };
  output: { contracts: Record<string, Record<string, { evm: { deployedBytecode: Omit<RuntimeArtifact, "name"> } }>> };
}

function runtimeOf(buildInfo: BuildInfo, source: string, name: string): RuntimeArtifact {
  const compiled = buildInfo.output.contracts[source]?.[name];
  if (!compiled) throw new Error(`${source}:${name} is not in the build info`);
  const { object, linkReferences, immutableReferences } = compiled.evm.deployedBytecode;
  return { name: `${source}:${name}`, object, linkReferences, immutableReferences };
}

/** The build info (solc's input and output) the ledger's artifact was compiled in. */
function readBuildInfo(root: string): BuildInfo {
  const dbg = path.join(root, "artifacts", LEDGER.source, `${LEDGER.name}.dbg.json`);
  if (!existsSync(dbg)) throw new Error(`no compiled artifacts at ${path.dirname(dbg)}: run \`npx hardhat compile\` (or \`npm run build\`) first`);
  const file = buildInfoOf(dbg);
  return { ...(JSON.parse(readFileSync(file, "utf8")) as BuildInfo), file };
}

/** The absolute path of the build info an artifact's `.dbg.json` points to. */
function buildInfoOf(dbg: string): string {
  const { buildInfo: relative } = JSON.parse(readFileSync(dbg, "utf8")) as { buildInfo: string };
  return path.resolve(path.dirname(dbg), relative);
}

/**
 * Whether a source was compiled again, into another build info, after this one: Hardhat then
 * recompiled everything that imports it, so a build that still holds its older text does not
 * depend on it (e.g. a test double changed after the ledger was compiled).
 */
function recompiledElsewhere(root: string, source: string, buildInfo: BuildInfo): boolean {
  if (!buildInfo.file) return false;
  const dir = path.join(root, "artifacts", source);
  if (!existsSync(dir)) return false;
  return readdirSync(dir)
    .filter((f) => f.endsWith(".dbg.json"))
    .some((f) => buildInfoOf(path.join(dir, f)) !== buildInfo.file);
}

/** The ledger's runtime artifact and those of the libraries it links, from `<root>/artifacts`. */
export function loadRuntimeArtifacts(root: string, buildInfo: BuildInfo = readBuildInfo(root)): RuntimeArtifacts {
  const ledger = runtimeOf(buildInfo, LEDGER.source, LEDGER.name);
  const libraries: RuntimeArtifact[] = [];
  for (const [source, libs] of Object.entries(ledger.linkReferences)) {
    for (const name of Object.keys(libs)) libraries.push(runtimeOf(buildInfo, source, name));
  }
  return { ledger, libraries };
}

/**
 * The sources (as solc names them) whose text on disk differs from the text the build was
 * compiled from, or that are gone: the build info holds every source it compiled, so this is
 * exact and needs no compiler (a few milliseconds, where `hardhat compile` takes seconds
 * even when it has nothing to do). A source Hardhat compiled again later into another build
 * info is left out: the ledger's build does not import it, or it would have been recompiled
 * with it.
 */
export function changedSources(root: string, buildInfo: BuildInfo): string[] {
  return Object.entries(buildInfo.input.sources)
    .filter(([name, { content }]) => {
      if (recompiledElsewhere(root, name, buildInfo)) return false;
      const file = name.startsWith("contracts/") ? path.join(root, name) : path.join(root, "node_modules", name);
      return !existsSync(file) || readFileSync(file, "utf8") !== content;
    })
    .map(([name]) => name);
}

/**
 * The runtime artifacts, after checking that they were compiled from the sources on disk (the
 * ABI the verifier decodes with comes from the same build); throws saying what to run when not.
 */
export function loadCurrentArtifacts(root: string): RuntimeArtifacts {
  const buildInfo = readBuildInfo(root);
  const changed = changedSources(root, buildInfo);
  if (changed.length > 0) {
    throw new Error(
      `the compiled artifacts are older than the sources (${changed.slice(0, 3).join(", ")}${changed.length > 3 ? ` and ${changed.length - 3} more` : ""} changed since the last compile): run \`npx hardhat compile\` (or \`npm run build\`), then the audit again`
    );
  }
  return loadRuntimeArtifacts(root, buildInfo);
}
