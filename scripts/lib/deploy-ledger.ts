/**
 * Deploys the ledger with Hardhat Ignition (module `deploy/modules/CreditLedger.ts`) and
 * checks the outcome. Ignition keeps a journal per deployment id in
 * `deploy/deployments/<id>/`, so an interrupted deployment to a real network resumes where it
 * stopped when the same command runs again.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { getAddress, isAddress, ZeroAddress } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { ROLES } from "../../deploy/modules/CreditLedger";

export const MODULE_ID = "CreditLedger";
export const FUTURES = {
  ledger: `${MODULE_ID}#CreditLedger`,
  loanServicing: `${MODULE_ID}#LoanServicing`,
} as const;

export type RoleName = keyof typeof ROLES;
export type RoleHolders = Record<RoleName, string>;
export const ROLE_NAMES = Object.keys(ROLES) as RoleName[];

export interface DeployOptions {
  /** Role holders: a parameters file (Ignition JSON) or the addresses themselves. */
  roles: { file: string } | { holders: RoleHolders };
  /** Ignition deployment id; default `chain-<chainId>`. */
  deploymentId?: string;
  /** Wipe the journal first (for an ephemeral local chain). */
  reset?: boolean;
}

export interface LedgerDeployment {
  deploymentId: string;
  deploymentDir: string;
  chainId: number;
  ledger: string;
  loanServicing: string;
}

/**
 * Reads and checks a parameters file: `{ "CreditLedger": { admin, operator, scorer, pauser, adminDelay? } }`
 * and returns the role holders (`admin` is the one the deployer hands the admin role to).
 */
export function readRoleParameters(file: string): RoleHolders {
  if (!existsSync(file)) throw new Error(`parameters file ${file} not found (see docs/DEPLOYMENT.md)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`parameters file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  const params = (json as Record<string, unknown> | null)?.[MODULE_ID];
  if (typeof params !== "object" || params === null) {
    throw new Error(`parameters file ${file} must hold an object under "${MODULE_ID}"`);
  }
  const { adminDelay, ...holders } = params as Record<string, unknown>;
  const unknown = Object.keys(holders).filter((key) => !(ROLE_NAMES as string[]).includes(key));
  if (unknown.length > 0) throw new Error(`parameters file ${file}: unknown parameter(s) ${unknown.join(", ")}`);
  // The ledger's admin hand-over delay (uint48 seconds); the module's default is 0.
  if (adminDelay !== undefined && !(Number.isSafeInteger(adminDelay) && (adminDelay as number) >= 0)) {
    throw new Error(`parameters file ${file}: adminDelay must be a whole number of seconds, got ${JSON.stringify(adminDelay)}`);
  }
  return checkRoleHolders(holders, file);
}

/** Every role needs a non-zero address; the operator and the scorer must differ (separation of duties). */
export function checkRoleHolders(holders: Record<string, unknown>, source: string): RoleHolders {
  const problems: string[] = [];
  const result = {} as RoleHolders;
  for (const role of ROLE_NAMES) {
    const value = holders[role];
    if (typeof value !== "string" || !isAddress(value)) {
      problems.push(`${role} must be an address, got ${JSON.stringify(value)}`);
    } else if (getAddress(value) === ZeroAddress) {
      problems.push(`${role} is the zero address (copied from example.json?)`);
    } else {
      result[role] = getAddress(value);
    }
  }
  if (problems.length === 0 && result.operator === result.scorer) {
    problems.push("operator and scorer must be different keys (the operator alone must not be able to grant credit)");
  }
  if (problems.length > 0) throw new Error(`${source}: ${problems.join("; ")}`);
  return result;
}

export async function deployLedger(hre: HardhatRuntimeEnvironment, options: DeployOptions): Promise<LedgerDeployment> {
  const chainId = Number(await hre.network.provider.request({ method: "eth_chainId" }));
  const deploymentId = options.deploymentId ?? `chain-${chainId}`;
  const parameters =
    "file" in options.roles
      ? path.resolve(options.roles.file)
      : JSON.stringify({ [MODULE_ID]: options.roles.holders });

  const exitCodeBefore = process.exitCode;
  process.exitCode = undefined;
  await hre.run(
    { scope: "ignition", task: "deploy" },
    {
      modulePath: path.join(hre.config.paths.ignition, "modules", `${MODULE_ID}.ts`),
      parameters,
      deploymentId,
      reset: options.reset ?? false,
      // The in-process network is ephemeral; write its journal anyway so the export reads one format.
      writeLocalhostDeployment: hre.network.name === "hardhat",
    },
  );
  // Ignition reports a failed deployment by setting the exit code, not by throwing.
  const failed = process.exitCode !== undefined && process.exitCode !== 0;
  process.exitCode = exitCodeBefore;
  if (failed) throw new Error(`Ignition deployment ${deploymentId} failed (see its output above)`);

  try {
    return await readLedgerDeployment(hre, deploymentId, chainId);
  } catch (error) {
    throw new Error(`Ignition deployment ${deploymentId} did not complete (cancelled?): ${(error as Error).message}`);
  }
}

/** The ledger deployment recorded in `deploy/deployments/<deploymentId>/` (default `chain-<chainId>`). */
export async function readLedgerDeployment(
  hre: HardhatRuntimeEnvironment,
  givenDeploymentId?: string,
  knownChainId?: number,
): Promise<LedgerDeployment> {
  const chainId = knownChainId ?? Number(await hre.network.provider.request({ method: "eth_chainId" }));
  const deploymentId = givenDeploymentId ?? `chain-${chainId}`;
  const deploymentDir = path.join(hre.config.paths.ignition, "deployments", deploymentId);
  const addressesFile = path.join(deploymentDir, "deployed_addresses.json");
  const addresses: Record<string, string> = existsSync(addressesFile) ? JSON.parse(readFileSync(addressesFile, "utf8")) : {};
  const ledger = addresses[FUTURES.ledger];
  const loanServicing = addresses[FUTURES.loanServicing];
  if (ledger === undefined || loanServicing === undefined) {
    throw new Error(`no complete ledger deployment "${deploymentId}" (no addresses in ${path.relative(hre.config.paths.root, addressesFile)})`);
  }
  return { deploymentId, deploymentDir, chainId, ledger, loanServicing };
}

/**
 * Who holds each role, replayed from the ledger's RoleGranted/RoleRevoked events since
 * `fromBlock` (AccessControl keeps no list). When the node refuses the log query (some RPC
 * providers limit ranges), checks `candidates` with `hasRole` instead.
 */
export async function roleHoldersOnChain(
  hre: HardhatRuntimeEnvironment,
  ledger: string,
  fromBlock: number,
  candidates: readonly string[],
): Promise<Record<RoleName, string[]>> {
  const contract = await hre.ethers.getContractAt("CreditLedger", ledger);
  const result = {} as Record<RoleName, string[]>;
  try {
    const granted = await contract.queryFilter(contract.filters.RoleGranted(), fromBlock);
    const revoked = await contract.queryFilter(contract.filters.RoleRevoked(), fromBlock);
    const events = [...granted.map((e) => ({ e, held: true })), ...revoked.map((e) => ({ e, held: false }))].sort(
      (a, b) => a.e.blockNumber - b.e.blockNumber || a.e.index - b.e.index,
    );
    for (const role of ROLE_NAMES) {
      const holders = new Set<string>();
      for (const { e, held } of events) {
        if (e.args.role !== ROLES[role]) continue;
        if (held) holders.add(getAddress(e.args.account));
        else holders.delete(getAddress(e.args.account));
      }
      result[role] = [...holders];
    }
  } catch {
    for (const role of ROLE_NAMES) {
      result[role] = [];
      for (const account of new Set(candidates.map((c) => getAddress(c)))) {
        if (await contract.hasRole(ROLES[role], account)) result[role].push(account);
      }
    }
  }
  return result;
}

/** `deploy/parameters/<network>.json` when it exists. */
export function parametersFileOf(hre: HardhatRuntimeEnvironment, network: string): string | undefined {
  const file = path.join(hre.config.paths.ignition, "parameters", `${network}.json`);
  return existsSync(file) ? file : undefined;
}

/** The addresses worth checking for roles: the network's parameters file and its first four accounts. */
export async function roleCandidates(hre: HardhatRuntimeEnvironment): Promise<string[]> {
  const accounts = (await hre.network.provider.request({ method: "eth_accounts" })) as string[];
  const file = parametersFileOf(hre, hre.network.name);
  const fromFile = file !== undefined ? Object.values(readRoleParameters(file)) : [];
  return [...fromFile, ...accounts.slice(0, 4)];
}
