/**
 * A gateway built against the in-process Hardhat network: the ledger deployed by the real
 * Ignition module (test/helpers/fixtures.ts), the operator key of Hardhat's account 1 as an
 * ethers Wallet, the scorer beside it (test/helpers/scorer.ts: the real scorer on a loopback
 * port with account 2's key, which the gateway never holds), an in-memory SQLite store, a
 * manual clock that follows the chain's time, and a silent logger. Each test file builds its own.
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
import { startTestScorer, type EvidenceBody, type TestScorer } from "./scorer";

export interface ChainEdges {
  l: Ledger;
  provider: BrowserProvider;
  operator: Wallet;
  /** The scorer key (the fixture's SCORER_ROLE holder): the test scorer's key, never the gateway's. */
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
  /** The scorer beside the gateway (its admin side is the test's). */
  scoring: TestScorer;
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
 * clock route, loopback webhooks), fresh secrets, an in-memory database unless `env` names one,
 * and a scorer URL and token (`scorerEnv` of a running test scorer, or a port nobody listens on).
 */
export function testGatewayEnv(ledgerAddress: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    GATEWAY_MODE: "development",
    GATEWAY_RPC_URL: "http://127.0.0.1:9",
    GATEWAY_LEDGER_ADDRESS: ledgerAddress,
    GATEWAY_OPERATOR_KEY: hardhatKey(1),
    GATEWAY_SCORER_URL: "http://127.0.0.1:9",
    GATEWAY_SCORER_TOKEN: randomBytes(24).toString("hex"),
    GATEWAY_DB_PATH: ":memory:",
    GATEWAY_VAULT_KEY: randomBytes(32).toString("hex"),
    GATEWAY_IDENTITY_PEPPER: randomBytes(32).toString("hex"),
    GATEWAY_POLL_INTERVAL_MS: "20",
    GATEWAY_LOG_LEVEL: "silent",
    ...env,
  };
}

/** The gateway's settings for `scorer`: its URL and the gateway's token (never the admin token). */
export const scorerEnv = (scorer: TestScorer): Record<string, string> => ({ GATEWAY_SCORER_URL: scorer.url, GATEWAY_SCORER_TOKEN: scorer.token });

/** A test scorer for the edges' ledger, with the fixture's scorer key (or `key`). */
export function scorerFor(edges: Pick<ChainEdges, "client">, env: Record<string, string> = {}, key = hardhatKey(2)): Promise<TestScorer> {
  return startTestScorer({ key, chainId: edges.client.chainId, ledgerAddress: edges.client.address, env });
}

export async function testGateway(env: Record<string, string> = {}, options: { explorerScript?: ExplorerScript; scorerEnv?: Record<string, string> } = {}): Promise<TestGateway> {
  const edges = await chainEdges();
  const scoring = await scorerFor(edges, options.scorerEnv);
  const config = readGatewayConfig(testGatewayEnv(edges.client.address, { ...scorerEnv(scoring), ...env }));
  const store = memoryStore(edges.clock);
  const gateway = await createGateway(config, {
    provider: edges.provider,
    operator: edges.operator,
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
  return { ...edges, gateway, scoring, store, keys };
}

/** The partner id the scorer knows the key's requests by ("operator" for an admin key). */
export async function partnerIdOf(t: Pick<TestGateway, "gateway">, key: string): Promise<string> {
  const principal = await t.gateway.apiKeys.authenticate(key);
  if (!principal) throw new Error("not a live API key");
  return principal.key.partnerId ?? "operator";
}

/**
 * KYC evidence about the person with `nationalId` by the verifier of the partner whose key is
 * `key` (default: the test partner), level 2 (identity with income evidence) unless told.
 */
export async function kycEvidence(
  t: Pick<TestGateway, "gateway" | "scoring" | "keys">,
  nationalId: string,
  options: { level?: number; key?: string } = {}
): Promise<EvidenceBody> {
  return t.scoring.attest(await partnerIdOf(t, options.key ?? t.keys.partner), nationalId, options.level ?? 2);
}

/** `body` (an application) with KYC evidence about its applicant attached. */
export async function withKyc<B extends { identity: { nationalId: unknown } }>(
  t: Pick<TestGateway, "gateway" | "scoring" | "keys">,
  body: B,
  options: { level?: number; key?: string } = {}
): Promise<B & { evidence: EvidenceBody }> {
  return { ...body, evidence: await kycEvidence(t, String(body.identity.nationalId), options) };
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

/** An application body for a new random person (no KYC evidence: `withKyc` attaches it). */
export function applicationBody(overrides: Record<string, unknown> = {}, identity: Record<string, unknown> = {}) {
  return {
    // A phone number of their own: velocity rules count accounts sharing one.
    identity: { nationalId: randomNationalId(), name: "李四", phone: `+86 139 ${randomBytes(4).readUInt32BE() % 100_000_000}`, ...identity },
    product: "pay_later",
    features: GOOD_FEATURES,
    consent: true,
    ...overrides,
  };
}

/** Applies with level-2 KYC evidence (approved) and returns the account id. */
export async function approvedAccount(
  t: TestGateway,
  product = "pay_later",
  identity: Record<string, unknown> = {},
  key?: string
): Promise<string> {
  const body = await withKyc(t, applicationBody({ product }, identity), { key: key ?? t.keys.partner });
  const res = await post(t, "/v1/applications", body, { key });
  if (res.status !== 201 || res.body.outcome !== "approved")
    throw new Error(`application failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.accountId as string;
}

export function del(t: TestGateway, path: string, key?: string) {
  return request(t.gateway.app)
    .delete(path)
    .set("Authorization", `Bearer ${key ?? t.keys.partner}`);
}
