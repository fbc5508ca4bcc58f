/**
 * A gateway built against the in-process Hardhat network: the ledger deployed by the real
 * Ignition module (test/helpers/fixtures.ts), the operator and scorer keys of Hardhat's
 * accounts 1 and 2 as ethers Wallets, an in-memory SQLite store, a manual clock that follows
 * the chain's time, and a silent logger. Each test file builds its own.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import hre, { network } from "hardhat";
import { BrowserProvider, Wallet } from "ethers";
import request from "supertest";

import { ManualClock } from "../../server/clock";
import { localAccountKey, type HdAccountsConfig } from "../../server/chain/local-keys";
import { readGatewayConfig } from "../../server/config";

import { buildExplorerScript, type ExplorerScript } from "../../verifier/explorer/bundle";
import { createGateway, type Gateway } from "../../server/gateway";
import { GatewayMetrics } from "../../server/metrics";
import { LedgerClient } from "../../server/chain/ledger-client";
import { createLogger } from "../../server/logger";
import { SqliteStore } from "../../server/store/sqlite-store";
import { deployLedger, type Ledger } from "./fixtures";
import { GOOD_FEATURES, randomNationalId } from "./identities";

export interface ChainEdges {
  l: Ledger;
  provider: BrowserProvider;
  operator: Wallet;
  scorer: Wallet;
  client: LedgerClient;
  clock: ManualClock;
}

export function hardhatKey(index: number): string {
  return localAccountKey(hre.config.networks.hardhat.accounts as unknown as HdAccountsConfig, index);
}

/** A fresh ledger and the chain-side edges of a gateway for it. */
export async function chainEdges(): Promise<ChainEdges> {
  const l = await deployLedger();
  const provider = new BrowserProvider(network.provider as never, undefined, { cacheTimeout: -1, pollingInterval: 50 });
  const operator = new Wallet(hardhatKey(1), provider);
  const scorer = new Wallet(hardhatKey(2));
  if (operator.address !== l.operator.address || scorer.address !== l.scorer.address) {
    throw new Error("hardhat accounts 1 and 2 are not the operator and scorer of the fixture");
  }
  const client = await LedgerClient.connect({
    provider,
    ledgerAddress: await l.ledger.getAddress(),
    operatorAddress: operator.address,
    scorer,
  });
  const clock = new ManualClock(0);
  await followChainTime(clock, provider);
  return { l, provider, operator, scorer, client, clock };
}

/** Puts the clock at the latest block's time. */
export async function followChainTime(clock: ManualClock, provider: BrowserProvider): Promise<void> {
  const block = await provider.getBlock("latest");
  clock.setSeconds(block!.timestamp);
}

export const silentLogger = () => createLogger("silent");

export const memoryStore = (clock: ManualClock) => new SqliteStore(":memory:", clock);

// ---------------------------------------------------------------- a whole gateway

export interface TestGateway extends ChainEdges {
  gateway: Gateway;
  store: SqliteStore;
  keys: { partner: string; auditor: string; admin: string; partner2: string };
}

/** A gateway on a fresh ledger, its sender and indexer running, with a key of each scope. */
/** The explorer page's script, built once per test run into a temporary file (never into the tree). */
let explorerScript: Promise<ExplorerScript> | undefined;
export function testExplorerScript(): Promise<ExplorerScript> {
  explorerScript ??= buildExplorerScript(path.join(mkdtempSync(path.join(tmpdir(), "explorer-")), "app.js"));
  return explorerScript;
}

/**
 * A test gateway's settings on the fixture's ledger: development mode (Hardhat's keys, the
 * clock route, loopback webhooks), fresh secrets, an in-memory database unless `env` names one.
 */
export function testGatewayEnv(ledgerAddress: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    GATEWAY_MODE: "development",
    GATEWAY_RPC_URL: "http://127.0.0.1:9",
    GATEWAY_LEDGER_ADDRESS: ledgerAddress,
    GATEWAY_OPERATOR_KEY: hardhatKey(1),
    GATEWAY_SCORER_KEY: hardhatKey(2),
    GATEWAY_DB_PATH: ":memory:",
    GATEWAY_VAULT_KEY: randomBytes(32).toString("hex"),
    GATEWAY_IDENTITY_PEPPER: randomBytes(32).toString("hex"),
    GATEWAY_POLL_INTERVAL_MS: "20",
    GATEWAY_LOG_LEVEL: "silent",
    ...env,
  };
}

export async function testGateway(env: Record<string, string> = {}, options: { explorerScript?: ExplorerScript } = {}): Promise<TestGateway> {
  const edges = await chainEdges();
  const config = readGatewayConfig(testGatewayEnv(edges.client.address, env));
  const store = memoryStore(edges.clock);
  const gateway = await createGateway(config, {
    provider: edges.provider,
    operator: edges.operator,
    scorer: edges.scorer,
    store,
    clock: edges.clock,
    logger: silentLogger(),
    metrics: new GatewayMetrics({ defaultMetrics: false }),
    explorerScript: options.explorerScript ?? null,
  });
  await gateway.start({ listen: false });
  const keys = {
    partner: (await gateway.partners.create({ name: "partner", ratePerMinute: 1_000_000, burst: 1_000_000 }, "test")).key.key,
    partner2: (await gateway.partners.create({ name: "partner 2", ratePerMinute: 1_000_000, burst: 1_000_000 }, "test")).key.key,
    auditor: (await gateway.apiKeys.issue("auditor", ["auditor"])).key,
    admin: (await gateway.apiKeys.issue("admin", ["admin"])).key,
  };
  return { ...edges, gateway, store, keys };
}

let idempotencyCounter = 0;
export const newIdempotencyKey = (): string => `test-${Date.now()}-${++idempotencyCounter}-${randomBytes(4).toString("hex")}`;

/** A POST with a key, a fresh Idempotency-Key (unless given) and a JSON body. */
export function post(t: TestGateway, path: string, body: unknown, options: { key?: string; idempotencyKey?: string } = {}) {
  return request(t.gateway.app)
    .post(path)
    .set("Authorization", `Bearer ${options.key ?? t.keys.partner}`)
    .set("Idempotency-Key", options.idempotencyKey ?? newIdempotencyKey())
    .send(body as object);
}

export function get(t: TestGateway, path: string, key?: string) {
  return request(t.gateway.app)
    .get(path)
    .set("Authorization", `Bearer ${key ?? t.keys.partner}`);
}

/** An application body for a new random person. */
export function applicationBody(overrides: Record<string, unknown> = {}, identity: Record<string, unknown> = {}) {
  return {
    // A phone number of their own: velocity rules count accounts sharing one.
    identity: { nationalId: randomNationalId(), name: "李四", phone: `+86 139 ${randomBytes(4).readUInt32BE() % 100_000_000}`, verification: "verified", ...identity },
    product: "pay_later",
    features: GOOD_FEATURES,
    consent: true,
    ...overrides,
  };
}

/** Applies (approved) and returns the account id. */
export async function approvedAccount(
  t: TestGateway,
  product = "pay_later",
  identity: Record<string, unknown> = {},
  key?: string
): Promise<string> {
  const res = await post(t, "/v1/applications", applicationBody({ product }, identity), { key });
  if (res.status !== 201 || res.body.outcome !== "approved")
    throw new Error(`application failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.accountId as string;
}

export function del(t: TestGateway, path: string, key?: string) {
  return request(t.gateway.app)
    .delete(path)
    .set("Authorization", `Bearer ${key ?? t.keys.partner}`);
}
