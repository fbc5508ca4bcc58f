/**
 * The export partners and auditors read: one JSON file per deployed contract in
 * `deployments/<network>-<chainId>/`, built only from the Ignition deployment directory
 * (`deploy/deployments/<id>/`: journal, artifacts and build info of what was actually
 * deployed) and one `eth_getCode` read per contract.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { keccak256 } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { FUTURES, type LedgerDeployment } from "./deploy-ledger";

export interface CompilerSettings {
  version: string;
  longVersion: string;
  optimizer: { enabled: boolean; runs: number };
  viaIR: boolean;
  evmVersion: string;
  bytecodeHash: string;
}

export interface ContractExport {
  contractName: string;
  sourceName: string;
  network: string;
  chainId: number;
  address: string;
  /** Fully qualified library name -> linked address. */
  libraries: Record<string, string>;
  deployBlock: number;
  deployTransaction: string;
  /** keccak256 of the runtime code on chain when exported. */
  codeHash: string;
  compiler: CompilerSettings;
  ignition: { deploymentId: string; futureId: string; buildInfo: string };
  abi: unknown[];
}

interface JournalMessage {
  type: string;
  futureId?: string;
  libraries?: Record<string, string>;
  hash?: string;
  receipt?: { blockNumber: number; contractAddress?: string; status: string };
}

interface Artifact {
  contractName: string;
  sourceName: string;
  abi: unknown[];
  linkReferences: Record<string, Record<string, unknown>>;
}

export interface DeploymentExport {
  /** Relative to the project root. */
  dir: string;
  ledger: ContractExport;
  loanServicing: ContractExport;
}

/** Writes `deployments/<network>-<chainId>/{CreditLedger,LoanServicing}.json`. */
export async function exportDeployment(
  hre: HardhatRuntimeEnvironment,
  deployment: LedgerDeployment,
  networkName: string,
): Promise<DeploymentExport> {
  const root = hre.config.paths.root;
  const dir = path.join(root, "deployments", `${networkName}-${deployment.chainId}`);
  const journal = readJournal(path.join(deployment.deploymentDir, "journal.jsonl"));
  const loanServicing = await contractExport(hre, deployment, networkName, FUTURES.loanServicing, journal);
  const ledger = await contractExport(hre, deployment, networkName, FUTURES.ledger, journal);
  mkdirSync(dir, { recursive: true });
  for (const record of [loanServicing, ledger]) {
    writeFileSync(path.join(dir, `${record.contractName}.json`), `${JSON.stringify(record, null, 2)}\n`);
  }
  return { dir: path.relative(root, dir), ledger, loanServicing };
}

async function contractExport(
  hre: HardhatRuntimeEnvironment,
  deployment: LedgerDeployment,
  networkName: string,
  futureId: string,
  journal: JournalMessage[],
): Promise<ContractExport> {
  const artifactsDir = path.join(deployment.deploymentDir, "artifacts");
  const artifact = readJson<Artifact>(path.join(artifactsDir, `${futureId}.json`));
  const debug = readJson<{ buildInfo: string }>(path.join(artifactsDir, `${futureId}.dbg.json`));
  const buildInfoFile = path.resolve(artifactsDir, debug.buildInfo);

  const init = journal.find((m) => m.type === "DEPLOYMENT_EXECUTION_STATE_INITIALIZE" && m.futureId === futureId);
  const confirm = journal.find(
    (m) => m.type === "TRANSACTION_CONFIRM" && m.futureId === futureId && m.receipt?.status === "SUCCESS",
  );
  const address = confirm?.receipt?.contractAddress;
  if (init === undefined || confirm?.receipt === undefined || confirm.hash === undefined || address === undefined) {
    throw new Error(`${futureId}: no confirmed deployment in the journal of ${deployment.deploymentId}`);
  }

  const code = (await hre.network.provider.request({ method: "eth_getCode", params: [address, "latest"] })) as string;
  if (code === "0x") throw new Error(`${futureId}: no code at ${address} on chain ${deployment.chainId}`);

  return {
    contractName: artifact.contractName,
    sourceName: artifact.sourceName,
    network: networkName,
    chainId: deployment.chainId,
    address,
    libraries: qualifyLibraries(artifact.linkReferences, init.libraries ?? {}),
    deployBlock: confirm.receipt.blockNumber,
    deployTransaction: confirm.hash,
    codeHash: keccak256(code),
    compiler: compilerSettings(buildInfoFile),
    ignition: {
      deploymentId: deployment.deploymentId,
      futureId,
      buildInfo: path.relative(hre.config.paths.root, buildInfoFile),
    },
    abi: artifact.abi,
  };
}

/** `{ LoanServicing: 0x.. }` -> `{ "contracts/libraries/LoanServicing.sol:LoanServicing": 0x.. }`. */
function qualifyLibraries(
  linkReferences: Artifact["linkReferences"],
  linked: Record<string, string>,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [sourceName, libraries] of Object.entries(linkReferences)) {
    for (const name of Object.keys(libraries)) {
      const address = linked[name] ?? linked[`${sourceName}:${name}`];
      if (address === undefined) throw new Error(`library ${sourceName}:${name} is not linked in the journal`);
      result[`${sourceName}:${name}`] = address;
    }
  }
  return result;
}

function compilerSettings(buildInfoFile: string): CompilerSettings {
  const buildInfo = readJson<{
    solcVersion: string;
    solcLongVersion: string;
    input: {
      settings: {
        optimizer?: { enabled?: boolean; runs?: number };
        viaIR?: boolean;
        evmVersion?: string;
        metadata?: { bytecodeHash?: string };
      };
    };
  }>(buildInfoFile);
  const settings = buildInfo.input.settings;
  return {
    version: buildInfo.solcVersion,
    longVersion: buildInfo.solcLongVersion,
    optimizer: { enabled: settings.optimizer?.enabled ?? false, runs: settings.optimizer?.runs ?? 200 },
    viaIR: settings.viaIR ?? false,
    evmVersion: settings.evmVersion ?? "default",
    bytecodeHash: settings.metadata?.bytecodeHash ?? "ipfs",
  };
}

function readJournal(file: string): JournalMessage[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as JournalMessage);
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}
