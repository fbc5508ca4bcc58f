/**
 * The gateway assembled from its configuration: the composition root. The edges (chain
 * provider, operator key, the scorer process's client, store, clock, randomness, logger,
 * scorecard model) come from the config
 * unless a caller injects them (tests inject the in-process Hardhat network, a manual clock
 * and an in-memory store). `start()` runs the outbox sender and the indexer and listens on the
 * configured address; `stop()` stops them all cleanly. Runnable as its own process by
 * server/main.ts, so it can be killed and restarted (the outbox makes that safe).
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getAddress, id, JsonRpcProvider, Network, type Provider, type Signer } from "ethers";
import type express from "express";

import { openSigner } from "../core/key-source";
import { readExplorerScript, type ExplorerScript } from "../verifier/explorer/bundle";
import { buildOpenApi } from "./api/openapi";
import { answerClientErrors, createApp, type HealthReport } from "./api/app";
import { ExplorerConfigSource } from "./api/explorer";
import type { RouteDef } from "./api/route-table";
import { PartnerRateLimits } from "./api/rate-limits";
import { buildRoutes } from "./api/routes";
import { ApiKeys } from "./auth/api-keys";
import { Partners } from "./auth/partners";
import { isPublicTestAddress } from "./chain/local-keys";
import { probeChainId } from "./chain/rpc-probe";
import { Indexer } from "./chain/indexer";
import { LedgerClient } from "./chain/ledger-client";
import { inFlightOfOtherKeys, OutboxSender, type SenderHooks } from "./chain/outbox-sender";
import { ScorerClient } from "./chain/scorer-client";
import { systemClock, type Clock } from "./clock";
import { ConfigError, publicTestKeyProblem, waitsByDefault, type GatewayConfig } from "./config";
import { Accounts } from "./lending/accounts";
import { Applications } from "./lending/applications";
import { Drawdowns } from "./lending/drawdowns";
import { LineChanges } from "./lending/line-changes";
import { LoanChanges } from "./lending/loan-changes";
import { Operations } from "./lending/operations";
import { Preflight } from "./lending/preflight";
import { ProductCatalog } from "./lending/products";
import { Reach } from "./lending/reach";
import { ScorerDecisions } from "./lending/scorer-decisions";
import { createLogger, type Logger } from "./logger";
import { GatewayMetrics } from "./metrics";
import { cryptoRandom, type Random } from "./randomness";
import type { ScorecardModel } from "./scoring/scorecard";
import { DEFAULT_MODEL } from "./scoring/underwriting";
import { BusinessClock, CLOCK_OFFSET_KEY } from "./servicing/business-clock";
import { CreditReports } from "./servicing/credit-reports";
import { LimitReviews } from "./servicing/limit-reviews";
import { LocalClock, type ChainControl } from "./servicing/local-clock";
import { OperationEventRecorder } from "./servicing/operation-events";
import { Servicing } from "./servicing/scheduler";
import { SqliteServicingStore, type ServicingStore } from "./servicing/servicing-store";
import { VelocityGuard } from "./servicing/velocity-guard";
import { httpTransport, WebhookDeliverer, WebhookSecrets, WebhookSubscriptions, type WebhookTransport } from "./servicing/webhooks";
import { SqliteStore } from "./store/sqlite-store";
import type { Store } from "./store/store";
import { Keyring } from "./vault/keyring";
import { Vault } from "./vault/vault";

export const GATEWAY_VERSION = "0.1.0";

export interface GatewayEdges {
  provider?: Provider;
  /** The operator key, connected to the provider. */
  operator?: Signer;
  /** The scorer process (default: GATEWAY_SCORER_URL with GATEWAY_SCORER_TOKEN). */
  scorer?: ScorerClient;
  store?: Store;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  model?: ScorecardModel;
  metrics?: GatewayMetrics;
  senderHooks?: SenderHooks;
  /** Moving the chain's time and reading block times (default: JSON-RPC on the provider; it moves in development mode only). */
  chainControl?: ChainControl;
  /** How webhook deliveries are sent (default: fetch). */
  webhookTransport?: WebhookTransport;
  /** The explorer page's script (default: the one the build wrote; null: none, /explorer/app.js answers 503). */
  explorerScript?: ExplorerScript | null;
}

export interface Gateway {
  app: express.Express;
  store: Store;
  client: LedgerClient;
  sender: OutboxSender;
  indexer: Indexer;
  apiKeys: ApiKeys;
  partners: Partners;
  reach: Reach;
  vault: Vault;
  operations: Operations;
  applications: Applications;
  drawdowns: Drawdowns;
  loanChanges: LoanChanges;
  lineChanges: LineChanges;
  accounts: Accounts;
  metrics: GatewayMetrics;
  logger: Logger;
  servicing: Servicing;
  velocity: VelocityGuard;
  limitReviews: LimitReviews;
  creditReports: CreditReports;
  servicingStore: ServicingStore;
  webhooks: WebhookSubscriptions;
  deliverer: WebhookDeliverer;
  /** The clock the API's "now" and the servicing run on (moved by the admin clock in development mode). */
  businessClock: BusinessClock;
  chainId: bigint;
  defaultWait: boolean;
  routes: RouteDef[];
  /** Runs the sender and the indexer, and listens (unless `listen` is false); resolves to the URL. */
  start(options?: { listen?: boolean }): Promise<string | undefined>;
  stop(): Promise<void>;
}

const ROLE = { operator: id("OPERATOR_ROLE"), scorer: id("SCORER_ROLE") };

/**
 * A JSON-RPC provider that sends the calls made within 1 ms of each other as one JSON-RPC batch
 * of at most `batchMax` (1: none), no response cache: for calls that many requests make at
 * once, such as pre-flight simulations.
 */
export function batchingRpc(rpcUrl: string, chainId: bigint, batchMax: number): JsonRpcProvider {
  return new JsonRpcProvider(rpcUrl, Network.from(chainId), { staticNetwork: true, batchMaxCount: batchMax, batchStallTime: 1, cacheTimeout: -1 });
}

/** A JSON-RPC provider for the configured URL: no request batching (no added latency), no response cache. */
export async function connectRpc(rpcUrl: string, timeoutMs = 10_000, retries = 1): Promise<Provider> {
  const chainId = await probeChainId(rpcUrl, timeoutMs, retries);
  return new JsonRpcProvider(rpcUrl, Network.from(chainId), { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 });
}

export async function createGateway(config: GatewayConfig, edges: GatewayEdges = {}): Promise<Gateway> {
  const logger = edges.logger ?? createLogger(config.logLevel);
  const clock = edges.clock ?? systemClock;
  const random = edges.random ?? cryptoRandom;
  const model = edges.model ?? DEFAULT_MODEL;
  const metrics = edges.metrics ?? new GatewayMetrics();
  const provider = edges.provider ?? (await connectRpc(config.chain.rpcUrl));
  const operator = edges.operator ?? (await openSigner(config.keys.operator, provider));
  const scorer = edges.scorer ?? new ScorerClient(config.scorer.url, config.scorer.token.reveal());
  const operatorAddress = await operator.getAddress();
  if (config.mode === "production" && isPublicTestAddress(operatorAddress)) {
    throw new ConfigError([publicTestKeyProblem(`the operator key (${operatorAddress}, from ${config.keys.operator.setting})`)]);
  }

  const client = await LedgerClient.connect({ provider, ledgerAddress: config.chain.ledgerAddress, operatorAddress });
  // The scorer's own key signs; the gateway learns only its address, to check the role.
  const scorerAddress = getAddress((await scorer.health()).scorer);
  const [operatorHasRole, scorerHasRole] = await Promise.all([
    client.contract.hasRole(ROLE.operator, operatorAddress),
    client.contract.hasRole(ROLE.scorer, scorerAddress),
  ]);
  const missing = [
    ...(operatorHasRole ? [] : [`the operator key (${operatorAddress}) does not hold OPERATOR_ROLE`]),
    ...(scorerHasRole ? [] : [`the scorer process's key (${scorerAddress}, at ${config.scorer.url}) does not hold SCORER_ROLE`]),
  ];
  if (missing.length > 0) throw new Error(`ledger ${client.address} on chain ${client.chainId}: ${missing.join("; ")}`);

  const keyring = new Keyring(config.vault.keyring.reveal());
  const store = edges.store ?? new SqliteStore(config.store.path, clock, { sealer: keyring });
  const genesis = await provider.getBlock(0);
  const binding = { chainId: client.chainId.toString(), ledger: client.address, genesisHash: genesis?.hash ?? "unknown" };
  const bound = await store.bindChain(binding);
  if (bound.chainId !== binding.chainId || bound.ledger !== binding.ledger || bound.genesisHash !== binding.genesisHash) {
    if (!edges.store) await store.close();
    throw new Error(
      `the database ${config.store.path} belongs to ledger ${bound.ledger} on chain ${bound.chainId} (genesis ${bound.genesisHash}), ` +
        `not to ledger ${binding.ledger} on chain ${binding.chainId} (genesis ${binding.genesisHash}): use another GATEWAY_DB_PATH`
    );
  }
  // A new operator key (a rotation) must not start while the old key's batches are in flight: their nonces are the
  // old key's, the new key could not replace a stuck one, and the new key's nonces would start after them (a gap).
  const foreign = await inFlightOfOtherKeys(store, operatorAddress);
  if (foreign.length > 0) {
    if (!edges.store) await store.close();
    throw new Error(
      `the outbox has batch transactions in flight signed by another operator key (${foreign.map((f) => `${f.from}: ${f.count}`).join(", ")}), not by ${operatorAddress}: ` +
        "start the gateway with that key once more until GET /healthz shows none in flight, then switch keys (docs/DEPLOYMENT.md, rotating the operator key)"
    );
  }
  const sender = new OutboxSender({
    store,
    client,
    operator,
    scorer,
    logger: logger.child({ component: "sender" }),
    clock,
    metrics,
    confirmations: config.chain.confirmations,
    pollIntervalMs: config.chain.pollIntervalMs,
    stuckAfterMs: config.chain.stuckAfterMs,
    batching: config.chain.batching,
    hooks: edges.senderHooks,
  });
  sender.setMaxListeners(0); // every waiting request listens for settlements
  const indexer = new Indexer({
    store,
    client,
    logger: logger.child({ component: "indexer" }),
    metrics,
    startBlock: config.chain.startBlock,
    confirmations: config.chain.confirmations,
    pollIntervalMs: config.chain.pollIntervalMs,
  });

  const apiKeys = new ApiKeys(store, random, clock);
  const vault = new Vault(
    store,
    { keyring, identityPepper: config.vault.identityPepper.reveal() },
    random,
    clock
  );
  const operations = new Operations(store, sender, indexer, () => provider.getBlockNumber(), random, clock, metrics);
  const reach = new Reach(store);
  // Pre-flights on a provider of their own that batches: the simulations of concurrent requests
  // share one JSON-RPC request (half the node's work per simulation, measured; 1 ms of added
  // wait). An injected provider (tests) is used as it is.
  const preflightProvider = edges.provider ? undefined : batchingRpc(config.chain.rpcUrl, client.chainId, config.preflight.batchMax);
  const preflightClient = preflightProvider ? new LedgerClient({ provider: preflightProvider, ledgerAddress: client.address, operatorAddress, chainId: client.chainId }) : client;
  const preflight = new Preflight(preflightClient, store, reach, scorerAddress);
  const partners = new Partners(store, apiKeys, random, clock);
  if (!(store instanceof SqliteStore)) throw new Error("servicing needs the SQLite store (a PostgreSQL ServicingStore is not written yet)");
  store.useSealer(keyring); // an injected store seals decision features with the gateway's keyring too
  const servicingStore = new SqliteServicingStore(store.db, clock, store.sealer);
  const businessClock = new BusinessClock(clock, Number((await servicingStore.getMeta(CLOCK_OFFSET_KEY)) ?? "0"));
  const products = new ProductCatalog(client, businessClock);
  const scorerDecisions = new ScorerDecisions(scorer, client, model);
  const applications = new Applications(vault, client, store, preflight, reach, scorerDecisions, random);
  const drawdowns = new Drawdowns(client, products, preflight, reach, businessClock);
  const loanChanges = new LoanChanges(client, store, products, preflight, scorerDecisions);
  const lineChanges = new LineChanges(client, preflight, reach, scorerDecisions, vault, random, businessClock);
  const accounts = new Accounts(store, vault, reach, businessClock);
  const rpc = provider as unknown as { send?: (method: string, params: unknown[]) => Promise<unknown> };
  const chainControl: ChainControl = edges.chainControl ?? {
    local: config.mode === "development" && typeof rpc.send === "function",
    async increaseTime(seconds) {
      await rpc.send!("evm_increaseTime", [seconds]);
      await rpc.send!("evm_mine", []);
      return BigInt((await provider.getBlock("latest"))!.timestamp);
    },
    async blockTime(blockNumber) {
      return BigInt((await provider.getBlock(blockNumber))!.timestamp);
    },
  };
  // Derived from the pepper, which never changes: rotating the vault's keys leaves webhook secrets as they are.
  const webhookSecrets = new WebhookSecrets(config.vault.identityPepper.reveal());
  // Webhooks go to public addresses only; plain http to the loopback host is for development mode.
  const webhookUrlPolicy = { allowLoopbackHttp: config.mode === "development" };
  const deliverer = new WebhookDeliverer(
    servicingStore,
    webhookSecrets,
    config.servicing.webhooks,
    clock,
    logger.child({ component: "webhooks" }),
    edges.webhookTransport ?? httpTransport(webhookUrlPolicy),
    { metrics }
  );
  const webhooks = new WebhookSubscriptions(
    servicingStore,
    webhookSecrets,
    deliverer,
    config.servicing.webhooks,
    random,
    clock,
    logger.child({ component: "webhooks" }),
    webhookUrlPolicy
  );
  const servicingLogger = logger.child({ component: "servicing" });
  const limitReviews = new LimitReviews({
    store,
    servicingStore,
    lineChanges,
    operations,
    logger: servicingLogger,
    reviewIntervalDays: config.servicing.reviewIntervalDays,
    blockTime: (n) => chainControl.blockTime(n),
  });
  const creditReports = new CreditReports(store, servicingStore, reach, businessClock, (n) => chainControl.blockTime(n));
  // The servicing loop sends what these record at once (they wake it).
  const wakeServicing = () => servicing.notify();
  const velocity = new VelocityGuard({
    servicingStore,
    lineChanges,
    config: config.servicing,
    clock,
    business: businessClock,
    logger: servicingLogger,
    onAlert: wakeServicing,
  });
  const operationEvents = new OperationEventRecorder({
    store,
    servicingStore,
    settlements: sender,
    clock,
    business: businessClock,
    logger: servicingLogger,
    onRecorded: wakeServicing,
  });
  const servicing = new Servicing({
    store,
    servicingStore,
    deliverer,
    limitReviews,
    localClock: new LocalClock(chainControl, businessClock, servicingStore, servicingLogger),
    operationEvents,
    config: config.servicing,
    clock,
    business: businessClock,
    logger: servicingLogger,
    pollIntervalMs: config.chain.pollIntervalMs,
  });
  const defaultWait = waitsByDefault(config);

  const explorer = new ExplorerConfigSource({
    rpcUrl: config.explorer.rpcUrl,
    pageBlocks: config.explorer.pageBlocks,
    ledger: client.address,
    chainId: client.chainId,
    deployBlock: config.chain.startBlock,
  });
  const routes = buildRoutes({
    store,
    operations,
    waitTimeoutMs: config.waitTimeoutMs,
    model,
    applications,
    drawdowns,
    loanChanges,
    lineChanges,
    accounts,
    reach,
    partners,
    velocity,
    servicing,
    limitReviews,
    creditReports,
    webhooks,
    businessClock,
    explorer,
    development: config.mode === "development",
  });
  let openApi: Record<string, unknown> | undefined;
  const health = async (): Promise<HealthReport> => {
    const outbox = await store.outboxDepth();
    metrics.outboxDepth.set(outbox.depth);
    const nextBlock = (await store.indexerNextBlock()) ?? null;
    let blockNumber: number | null = null;
    try {
      blockNumber = await provider.getBlockNumber();
    } catch (error) {
      logger.warn({ err: error }, "health: the chain is not reachable");
    }
    const reachable = blockNumber !== null;
    // Decisions wait in the outbox while the scorer cannot be reached: that is degraded too.
    const scorerReachable = await scorer.health().then(
      () => true,
      (error: unknown) => {
        logger.warn({ err: error }, "health: the scorer is not reachable");
        return false;
      }
    );
    return {
      healthy: reachable && scorerReachable,
      body: {
        status: reachable && scorerReachable ? "ok" : "degraded",
        chain: { reachable, chainId: client.chainId.toString(), blockNumber, ledger: client.address },
        scorer: { reachable: scorerReachable, address: scorerAddress },
        outbox: { depth: outbox.depth, oldestCreatedAt: outbox.oldestCreatedAt ?? null },
        indexer: {
          nextBlock,
          lagBlocks: blockNumber !== null && nextBlock !== null ? Math.max(0, blockNumber + 1 - nextBlock) : null,
        },
      },
    };
  };
  const app = createApp({
    routes,
    apiKeys,
    logger,
    metrics,
    health,
    bodyLimitBytes: config.http.bodyLimitBytes,
    defaultWait,
    rateLimits: new PartnerRateLimits(),
    recordAudit: (audit) => store.recordAudit(audit),
    explorer,
    explorerScript: edges.explorerScript === undefined ? readExplorerScript() : (edges.explorerScript ?? undefined),
    openApi: () =>
      (openApi ??= buildOpenApi(routes, {
        version: GATEWAY_VERSION,
        ledgerAddress: client.address,
        chainId: client.chainId.toString(),
      })),
  });

  let server: Server | undefined;
  let started = false;
  return {
    app,
    store,
    client,
    sender,
    indexer,
    apiKeys,
    partners,
    reach,
    vault,
    operations,
    applications,
    drawdowns,
    loanChanges,
    lineChanges,
    accounts,
    metrics,
    logger,
    servicing,
    velocity,
    limitReviews,
    creditReports,
    servicingStore,
    webhooks,
    deliverer,
    businessClock,
    chainId: client.chainId,
    defaultWait,
    routes,
    async start(options = {}) {
      if (!started) {
        started = true;
        sender.start();
        indexer.start();
        await servicing.start();
      }
      if (options.listen === false) return undefined;
      server = await new Promise<Server>((resolve, reject) => {
        const s = app.listen(config.http.port, config.http.host, (error?: Error) => (error ? reject(error) : resolve(s)));
        answerClientErrors(s);
        s.once("error", reject);
      });
      const address = server.address() as AddressInfo;
      const url = `http://${address.address}:${address.port}`;
      logger.info(
        { url, ledger: client.address, chainId: client.chainId.toString(), operator: operatorAddress, scorer: scorerAddress },
        "gateway listening"
      );
      return url;
    },
    async stop() {
      if (server) {
        const s = server;
        server = undefined;
        s.closeIdleConnections?.();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await servicing.stop();
      await deliverer.stop();
      await sender.stop();
      await indexer.stop();
      if (!edges.store) await store.close();
      if (!edges.provider) (provider as JsonRpcProvider).destroy?.();
      preflightProvider?.destroy();
    },
  };
}
