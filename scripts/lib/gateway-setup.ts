/**
 * The gateway part of `npm start`: where its data lives (a git-ignored `.gateway/` folder,
 * one sub-folder per deployment), its secrets for a development run, its configuration (built
 * as an environment and read through server/config.ts like any other start), its demo keys
 * (development) and the summary printed once it is up. Production writes no secrets and
 * prints no keys (start-mode.ts).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { readGatewayConfig, type GatewayConfig, type GatewayMode } from "../../server/config";
import type { IssuedApiKey } from "../../server/auth/api-keys";
import type { DemoAccount } from "./demo-seed";

export const GATEWAY_DATA_ROOT = ".gateway";

/**
 * `.gateway/<chainId>-<ledger>-<genesis>/`: one database per deployment (the genesis hash tells
 * two runs of a development chain apart: same chain id, same addresses). `fresh` wipes it first.
 */
export function gatewayDataDir(
  root: string,
  chainId: bigint | number,
  ledger: string,
  genesisHash: string,
  fresh: boolean
): string {
  const dir = path.join(root, GATEWAY_DATA_ROOT, `${chainId}-${ledger.toLowerCase()}-${genesisHash.slice(2, 10)}`);
  if (fresh) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

interface LocalSecrets {
  vaultKey: string;
  identityPepper: string;
}

/** Development mode only: the vault key and identity pepper of a deployment's database, made once, kept beside it (mode 0600). */
export function localSecrets(dir: string): LocalSecrets {
  const file = path.join(dir, "secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as LocalSecrets;
  const secrets = { vaultKey: randomBytes(32).toString("hex"), identityPepper: randomBytes(32).toString("hex") };
  writeFileSync(file, `${JSON.stringify(secrets)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secrets;
}

export interface GatewaySetup {
  mode: GatewayMode;
  rpcUrl: string;
  ledger: string;
  startBlock: number;
  dataDir: string;
  /** Development mode only (ignored in production): keys used when the environment has none. */
  operatorKey?: string;
  /** The scorer process's key (it runs beside the gateway, scorer-setup.ts; the gateway never gets it). */
  scorerKey?: string;
  port?: string;
  /** The chain's block time (`npm start -- --block-time`): the gateway is told (GATEWAY_BLOCK_TIME_MS). */
  blockTimeMs?: number;
}

/** The scorer process the gateway asks: its URL and the gateway's token. */
export interface GatewayScorer {
  url: string;
  token: string;
}

/**
 * The gateway's configuration for `npm start`: the chain, ledger and database of this run, and
 * every other GATEWAY_* setting from the environment. In development mode, secrets the
 * environment lacks are the deployment's local ones and the keys the setup's; in production
 * they all come from the environment (a missing one is a `ConfigError` naming it, and nothing
 * is written).
 */
export function gatewayConfigFor(setup: GatewaySetup, scorer: GatewayScorer, env: NodeJS.ProcessEnv): GatewayConfig {
  return readGatewayConfig(gatewayEnvFor(setup, scorer, env));
}

/**
 * How often the gateway polls the chain on a chain with `blockTimeMs` blocks: four times a
 * block (a receipt is seen within a quarter block of its block), between 50 ms and 1 s; on
 * automine (undefined), where a receipt is there at once, every 250 ms.
 */
export function pollIntervalFor(blockTimeMs: number | undefined): number {
  if (blockTimeMs === undefined) return 250;
  return Math.min(1_000, Math.max(50, Math.round(blockTimeMs / 4)));
}

/**
 * The gateway's chain-pace settings for a chain with `blockTimeMs` blocks (undefined: automine):
 * the block time told (GATEWAY_BLOCK_TIME_MS: the sender's batch wait follows it) and the poll
 * interval that suits it.
 */
export function chainPaceEnv(blockTimeMs: number | undefined): Record<string, string> {
  return {
    GATEWAY_POLL_INTERVAL_MS: String(pollIntervalFor(blockTimeMs)),
    ...(blockTimeMs === undefined ? {} : { GATEWAY_BLOCK_TIME_MS: String(blockTimeMs) }),
  };
}

/** The environment gatewayConfigFor reads: the run's settings over `env`'s (which win where they are npm start's defaults). */
export function gatewayEnvFor(setup: GatewaySetup, scorer: GatewayScorer, env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const development = setup.mode === "development";
  const vaultKeySet = Boolean(env.GATEWAY_VAULT_KEY || env.GATEWAY_VAULT_KEYS);
  const secrets = !development || (vaultKeySet && env.GATEWAY_IDENTITY_PEPPER) ? undefined : localSecrets(setup.dataDir);
  return {
    GATEWAY_LOG_LEVEL: "warn",
    ...chainPaceEnv(setup.blockTimeMs),
    ...env,
    GATEWAY_MODE: setup.mode,
    GATEWAY_RPC_URL: setup.rpcUrl,
    GATEWAY_LEDGER_ADDRESS: setup.ledger,
    GATEWAY_LEDGER_START_BLOCK: env.GATEWAY_LEDGER_START_BLOCK ?? String(setup.startBlock),
    GATEWAY_DB_PATH: env.GATEWAY_DB_PATH ?? path.join(setup.dataDir, "gateway.sqlite"),
    GATEWAY_VAULT_KEY: vaultKeySet ? env.GATEWAY_VAULT_KEY : secrets?.vaultKey,
    GATEWAY_IDENTITY_PEPPER: env.GATEWAY_IDENTITY_PEPPER ?? secrets?.identityPepper,
    GATEWAY_OPERATOR_KEY: env.GATEWAY_OPERATOR_KEY ?? (development ? setup.operatorKey : undefined),
    GATEWAY_SCORER_URL: scorer.url,
    GATEWAY_SCORER_TOKEN: scorer.token,
    ...(setup.port !== undefined ? { GATEWAY_PORT: setup.port } : {}),
  };
}

export interface DemoKeys {
  partner: IssuedApiKey;
  partner2: IssuedApiKey;
  auditor: IssuedApiKey;
  admin: IssuedApiKey;
}

export interface GatewaySummary {
  url: string;
  dataDir: string;
  /** Development mode only: production prints no key. */
  keys?: DemoKeys;
  demo: DemoAccount[];
}

export function formatGatewaySummary(s: GatewaySummary): string {
  const row = (label: string, value: string) => `  ${label.padEnd(15)} ${value}`;
  const lines = [
    "",
    "partner gateway is up",
    row("API", `${s.url}/v1`),
    row("docs", `${s.url}/docs`),
    row("explorer", `${s.url}/explorer (auditor key)`),
    row("OpenAPI", `${s.url}/openapi.json`),
    row("health", `${s.url}/healthz`),
    row("metrics", `${s.url}/metrics`),
    row("database", `${s.dataDir}/gateway.sqlite`),
  ];
  if (s.keys === undefined) {
    return [
      ...lines,
      "",
      "  production mode: no API key is printed. Issue the first admin key once, on this database:",
      "    npm run admin -- admin-keys issue --name <who> --db <the database file>",
      "  then manage partners and their keys with the admin API or npm run admin.",
      "",
    ].join("\n");
  }
  const keys = s.keys;
  const first = s.demo[0]?.accountId;
  return [
    ...lines,
    row("partner key", `${keys.partner.key}   (demo partner: the demo accounts are its borrowers)`),
    row("partner 2 key", `${keys.partner2.key}   (demo partner 2: another tenant, sees none of them)`),
    row("auditor key", keys.auditor.key),
    row("admin key", keys.admin.key),
    ...(s.demo.length > 0
      ? ["", "  demo accounts:", ...s.demo.map((d) => `    ${d.name.padEnd(6)} ${d.accountId}  ${d.story}`)]
      : []),
    "",
    "  try:",
    ...(first
      ? [
          `    curl -s -H 'Authorization: Bearer ${keys.auditor.key}' ${s.url}/v1/accounts/${first}`,
          `    curl -s -H 'Authorization: Bearer ${keys.partner2.key}' ${s.url}/v1/accounts/${first}   # partner 2: 404, as for an unknown id`,
        ]
      : []),
    `    curl -s -X POST ${s.url}/v1/quotes -H 'Authorization: Bearer ${keys.partner.key}' \\`,
    `      -H 'Idempotency-Key: quote-1' -H 'Content-Type: application/json' \\`,
    `      -d '{"product":"cash_loan","amount":"1200000","periods":12,"method":"annuity","dailyRatePpm":300}'`,
    "",
  ].join("\n");
}
