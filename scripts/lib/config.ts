/**
 * Operator configuration: read from the environment (and, for `npm start`, command-line
 * flags) once, validated, and passed down. Nothing else in scripts/ or hardhat.config.ts
 * reads `process.env`.
 *
 *   LEDGER_PORT          port of the local node (`npm start`, network `localhost`); default 8545
 *   LEDGER_BLOCK_TIME    seconds between the local node's blocks, 1-600 (`npm start -- --block-time`):
 *                        it mines by interval, like a real chain; unset: automine (a block per
 *                        transaction, at once)
 *   LEDGER_RPC_URL       JSON-RPC URL of the network `custom` (http or https)
 *   LEDGER_DEPLOYER_KEY  0x-prefixed 32-byte private key of the deployer on `custom`
 *                        (unset: the node's own accounts are used, e.g. a node-managed key)
 *   LEDGER_DEPLOYMENT_ID Ignition deployment id for deploy/export/hand-over; default chain-<chainId>
 *                        (a new id deploys a fresh ledger on a chain that already has one)
 *   REPORT_GAS           "true" to collect gas figures during `hardhat test`
 *   REPORT_GAS_FILE      file the gas report is written to (unset: the terminal)
 *   HARDHAT_IGNITION_CONFIRM_DEPLOYMENT  Ignition's own: set (any value) to skip its "Confirm
 *                        deploy to network ...?" prompt, for deployments from a script or CI
 */

/** The local node listens on the loopback interface only. */
export const LOCAL_HOST = "127.0.0.1";
export const DEFAULT_LOCAL_PORT = 8545;
export const LOCAL_CHAIN_ID = 31337;

export interface LedgerConfig {
  /** `blockTimeMs`: undefined for automine. */
  local: { host: string; port: number; rpcUrl: string; blockTimeMs?: number };
  /** The network `custom`, when LEDGER_RPC_URL is set. */
  custom?: { rpcUrl: string; deployerKey?: string };
  gasReport: { enabled: boolean; outputFile?: string };
  /** Ignition deployment id; undefined means `chain-<chainId>`. */
  deploymentId?: string;
  /** Deployments to chains other than 31337 are confirmed in advance (no prompt). */
  deployConfirmed: boolean;
}

/** A configuration problem, with every invalid setting named in its message. */
export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Overrides given as command-line flags; they win over the environment. */
export interface ConfigFlags {
  port?: string;
  blockTime?: string;
}

export function readConfig(env: Env = process.env, flags: ConfigFlags = {}): LedgerConfig {
  const problems: string[] = [];
  const nonEmpty = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };

  const portSource = flags.port !== undefined ? "--port" : "LEDGER_PORT";
  const port = parsePort(flags.port ?? nonEmpty("LEDGER_PORT"), portSource, problems);

  const blockTimeSource = flags.blockTime !== undefined ? "--block-time" : "LEDGER_BLOCK_TIME";
  const blockTimeMs = parseBlockTime(flags.blockTime ?? nonEmpty("LEDGER_BLOCK_TIME"), blockTimeSource, problems);

  let custom: LedgerConfig["custom"];
  const rpcUrl = nonEmpty("LEDGER_RPC_URL");
  const deployerKey = nonEmpty("LEDGER_DEPLOYER_KEY");
  if (rpcUrl !== undefined) {
    if (!isHttpUrl(rpcUrl)) problems.push(`LEDGER_RPC_URL must be an http(s) URL, got "${rpcUrl}"`);
    custom = { rpcUrl, deployerKey };
  }
  if (deployerKey !== undefined) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(deployerKey)) {
      problems.push("LEDGER_DEPLOYER_KEY must be 0x followed by 64 hex digits (the value is not shown)");
    }
    if (rpcUrl === undefined) problems.push("LEDGER_DEPLOYER_KEY is set but LEDGER_RPC_URL is not");
  }

  const deploymentId = nonEmpty("LEDGER_DEPLOYMENT_ID");
  if (deploymentId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(deploymentId)) {
    problems.push(`LEDGER_DEPLOYMENT_ID may hold letters, digits, "-" and "_" only, got "${deploymentId}"`);
  }

  const reportGas = nonEmpty("REPORT_GAS");
  if (reportGas !== undefined && reportGas !== "true" && reportGas !== "false") {
    problems.push(`REPORT_GAS must be "true" or "false", got "${reportGas}"`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    local: { host: LOCAL_HOST, port, rpcUrl: `http://${LOCAL_HOST}:${port}`, ...(blockTimeMs !== undefined ? { blockTimeMs } : {}) },
    custom,
    gasReport: { enabled: reportGas === "true", outputFile: nonEmpty("REPORT_GAS_FILE") },
    deploymentId,
    deployConfirmed: env.HARDHAT_IGNITION_CONFIRM_DEPLOYMENT !== undefined,
  };
}

function parsePort(value: string | undefined, source: string, problems: string[]): number {
  if (value === undefined) return DEFAULT_LOCAL_PORT;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65_535) {
    problems.push(`${source} must be a port number 1-65535, got "${value}"`);
    return DEFAULT_LOCAL_PORT;
  }
  return port;
}

/**
 * Seconds between blocks, 1-600, fractions allowed to the millisecond (1.5); in ms. Block
 * timestamps are whole seconds and must rise from block to block, so blocks less than a second
 * apart would run the chain's clock ahead of the wall clock: refused.
 */
export function parseBlockTime(value: string | undefined, source: string, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!/^\d+(\.\d{1,3})?$/.test(value) || seconds < 1 || seconds > 600) {
    problems.push(`${source} must be seconds between blocks, 1-600 (e.g. 1, 2, 12 or 1.5), got "${value}"`);
    return undefined;
  }
  return Math.round(seconds * 1_000);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
