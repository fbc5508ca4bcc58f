/**
 * `npm run check-bytecode -- --network <name>`: rebuilds the contracts with the pinned
 * compiler and compares the result with the code deployed at the addresses of
 * `deployments/<name>-<chainId>/`. The deployed code must equal the rebuilt runtime code
 * byte for byte once the linked library addresses are filled in and the immutable values
 * (set by the constructor: EIP-712 domain cache, the library's own address) are masked.
 * The metadata hash at the end of the code covers every source file, so any source or
 * setting change shows. Exits non-zero on any mismatch.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import hre from "hardhat";

import type { ContractExport } from "./lib/deployment-export";

interface Reference {
  start: number;
  length: number;
}

interface CompiledRuntime {
  object: string;
  linkReferences: Record<string, Record<string, Reference[]>>;
  immutableReferences?: Record<string, Reference[]>;
}

/** Overwrites `length` bytes at `start` of a hex string (no 0x) with `hex`. */
function splice(code: string, { start, length }: Reference, hex: string): string {
  return code.slice(0, start * 2) + hex.padStart(length * 2, "0") + code.slice((start + length) * 2);
}

async function check(record: ContractExport): Promise<string[]> {
  const problems: string[] = [];
  const fqn = `${record.sourceName}:${record.contractName}`;
  const buildInfo = await hre.artifacts.getBuildInfo(fqn);
  if (buildInfo === undefined) return [`${fqn} is not in the rebuilt artifacts`];
  const settings = buildInfo.input.settings as {
    optimizer: { enabled?: boolean; runs?: number };
    viaIR?: boolean;
    evmVersion?: string;
  };
  const rebuilt = {
    version: buildInfo.solcVersion,
    optimizer: { enabled: settings.optimizer.enabled ?? false, runs: settings.optimizer.runs ?? 200 },
    viaIR: settings.viaIR ?? false,
    evmVersion: settings.evmVersion,
  };
  const deployed = {
    version: record.compiler.version,
    optimizer: record.compiler.optimizer,
    viaIR: record.compiler.viaIR,
    evmVersion: record.compiler.evmVersion,
  };
  if (JSON.stringify(rebuilt) !== JSON.stringify(deployed)) {
    problems.push(`compiler settings differ: deployed ${JSON.stringify(deployed)}, rebuilt ${JSON.stringify(rebuilt)}`);
  }

  const runtime = (
    buildInfo.output.contracts[record.sourceName][record.contractName] as unknown as {
      evm: { deployedBytecode: CompiledRuntime };
    }
  ).evm.deployedBytecode;
  let expected = runtime.object.replace(/^0x/, "").toLowerCase();
  for (const [source, libraries] of Object.entries(runtime.linkReferences)) {
    for (const [name, references] of Object.entries(libraries)) {
      const address = record.libraries[`${source}:${name}`];
      if (address === undefined) {
        problems.push(`library ${source}:${name} has no address in the export`);
        continue;
      }
      for (const reference of references) expected = splice(expected, reference, address.slice(2).toLowerCase());
    }
  }
  const code = (await hre.network.provider.request({ method: "eth_getCode", params: [record.address, "latest"] })) as string;
  let actual = code.replace(/^0x/, "").toLowerCase();
  for (const references of Object.values(runtime.immutableReferences ?? {})) {
    for (const reference of references) {
      expected = splice(expected, reference, "");
      actual = splice(actual, reference, "");
    }
  }
  if (actual.length === 0) problems.push(`no code at ${record.address}`);
  else if (actual !== expected) {
    const at = [...actual].findIndex((c, i) => c !== expected[i]);
    problems.push(`runtime code differs from the rebuild (${actual.length / 2} vs ${expected.length / 2} bytes, first difference at byte ${Math.floor(at / 2)})`);
  }
  return problems;
}

async function main(): Promise<void> {
  const chainId = Number(await hre.network.provider.request({ method: "eth_chainId" }));
  const dir = path.join(hre.config.paths.root, "deployments", `${hre.network.name}-${chainId}`);
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  if (files.length === 0) throw new Error(`no exports in ${dir}`);
  await hre.run("compile", { quiet: true });
  let failed = false;
  for (const file of files) {
    const record = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as ContractExport;
    const problems = await check(record);
    failed ||= problems.length > 0;
    const verdict = problems.length === 0 ? "matches the rebuild" : `MISMATCH\n    ${problems.join("\n    ")}`;
    console.log(`[check-bytecode] ${record.contractName} at ${record.address}: ${verdict}`);
  }
  if (failed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(`[check-bytecode] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
