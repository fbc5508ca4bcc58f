/**
 * GATEWAY_MODE, not the chain id, turns on the local conveniences: the clock-advance route,
 * plain-http webhooks to loopback, waiting POSTs by default, generated secrets and Hardhat's
 * public keys. Both gateways here run on the in-process Hardhat network, chain 31337: the
 * production one has none of them.
 */
import { expect } from "chai";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { id, Wallet } from "ethers";
import { network } from "hardhat";
import request from "supertest";

import { ConfigError, readGatewayConfig } from "../../server/config";
import { createGateway, type Gateway } from "../../server/gateway";
import { GatewayMetrics } from "../../server/metrics";
import { gatewayConfigFor, type GatewaySetup } from "../../scripts/lib/gateway-setup";
import { ConfigError as StartConfigError } from "../../scripts/lib/config";
import { startMode } from "../../scripts/lib/start-mode";
import {
  chainEdges,
  hardhatKey,
  memoryStore,
  newIdempotencyKey,
  silentLogger,
  testGateway,
  testGatewayEnv,
  scorerEnv,
  scorerFor,
  type ChainEdges,
  type TestGateway,
} from "../helpers/gateway";
import { writeTestKeystore, type TestKeystore } from "../helpers/keystore";
import type { TestScorer } from "../helpers/scorer";

const SECRETS = ["GATEWAY_OPERATOR_KEYSTORE", "GATEWAY_VAULT_KEY", "GATEWAY_IDENTITY_PEPPER"];
const NO_SCORER = { url: "http://127.0.0.1:9", token: "t".repeat(32) };

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  expect.fail("the configuration was accepted");
}

/** A production gateway on the fixture's ledger, its operator and scorer fresh keys granted their roles. */
async function productionGateway(edges: ChainEdges): Promise<{ gateway: Gateway; scoring: TestScorer; admin: string; partner: string; keystore: TestKeystore }> {
  const operator = Wallet.createRandom();
  const scorer = Wallet.createRandom();
  await edges.l.ledger.connect(edges.l.admin).grantRole(id("OPERATOR_ROLE"), operator.address);
  await edges.l.ledger.connect(edges.l.admin).grantRole(id("SCORER_ROLE"), scorer.address);
  await network.provider.request({ method: "hardhat_setBalance", params: [operator.address, "0x56BC75E2D63100000"] });
  // The scorer key is its process's own: the gateway gets only the scorer's URL and token.
  const scoring = await scorerFor(edges, {}, scorer.privateKey);
  // Production reads the operator key from an encrypted keystore (a raw key in the environment is refused).
  const keystore = await writeTestKeystore(operator.privateKey);
  const { GATEWAY_OPERATOR_KEY: _raw, ...env } = testGatewayEnv(edges.client.address, { GATEWAY_MODE: "production", ...keystore.env, ...scorerEnv(scoring) });
  void _raw;
  const config = readGatewayConfig(env);
  const gateway = await createGateway(config, {
    provider: edges.provider,
    store: memoryStore(edges.clock),
    clock: edges.clock,
    logger: silentLogger(),
    metrics: new GatewayMetrics({ defaultMetrics: false }),
    explorerScript: null,
  });
  await gateway.start({ listen: false });
  const admin = (await gateway.apiKeys.issue("admin", ["admin"])).key;
  const partner = (await gateway.partners.create({ name: "partner" }, "test")).key.key;
  return { gateway, scoring, admin, partner, keystore };
}

const advanceClock = (gateway: Gateway, key: string) =>
  request(gateway.app).post("/v1/admin/clock/advance").set("Authorization", `Bearer ${key}`).set("Idempotency-Key", newIdempotencyKey()).send({ days: 1 });

const registerLoopbackWebhook = (gateway: Gateway, key: string) =>
  request(gateway.app)
    .post("/v1/webhooks")
    .set("Authorization", `Bearer ${key}`)
    .set("Idempotency-Key", newIdempotencyKey())
    .send({ url: "http://127.0.0.1:9/hooks", events: ["decision.made"] });

describe("gateway mode: development mode, not chain 31337, turns on the local conveniences", function () {
  this.timeout(120_000);

  describe("production mode on chain 31337", () => {
    let prod: Awaited<ReturnType<typeof productionGateway>>;
    before(async () => {
      prod = await productionGateway(await chainEdges());
      expect(prod.gateway.chainId).to.equal(31337n);
    });
    after(async () => {
      await prod.gateway.stop();
      await prod.scoring.stop();
      prod.keystore.remove();
    });

    it("has no clock-advance route (404), and the OpenAPI document has none", async () => {
      const res = await advanceClock(prod.gateway, prod.admin);
      expect(res.status).to.equal(404);
      expect(prod.gateway.routes.map((r) => r.operationId)).not.to.include("advanceClock");
      const doc = (await request(prod.gateway.app).get("/openapi.json")).body as { paths: Record<string, unknown> };
      expect(doc.paths).not.to.have.property("/v1/admin/clock/advance");
    });

    it("refuses a plain-http webhook to the loopback host, naming the url field", async () => {
      const res = await registerLoopbackWebhook(prod.gateway, prod.partner);
      expect(res.status).to.be.within(400, 499);
      expect(res.body.field).to.equal("url");
      expect(res.body.detail).to.match(/development mode/);
    });

    it("does not make POSTs wait for confirmation by default", () => {
      expect(prod.gateway.defaultWait).to.equal(false);
    });
  });

  describe("development mode on the same chain", () => {
    let t: TestGateway;
    before(async () => {
      t = await testGateway();
    });
    after(() => t.gateway.stop());

    it("has the clock-advance route, accepts a loopback http webhook and waits by default", async () => {
      expect((await advanceClock(t.gateway, t.keys.admin)).status).to.equal(200);
      expect((await registerLoopbackWebhook(t.gateway, t.keys.partner)).status).to.equal(201);
      expect(t.gateway.defaultWait).to.equal(true);
    });
  });

  describe("secrets and keys at start-up (npm start's gateway setup)", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), "gateway-mode-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const setup = (mode: GatewaySetup["mode"]): GatewaySetup => ({
      mode,
      rpcUrl: "http://127.0.0.1:9",
      ledger: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      startBlock: 0,
      dataDir: dir,
      // npm start offers Hardhat's accounts 1 and 2 as default keys: production must not take them.
      operatorKey: hardhatKey(1),
      scorerKey: hardhatKey(2),
    });

    it("refuses to start in production without configured secrets, naming each and how to set it, and writes none", () => {
      const problems = problemsOf(() => gatewayConfigFor(setup("production"), NO_SCORER, {}));
      for (const name of SECRETS) {
        expect(problems.some((p) => p.startsWith(`${name} is not set (set it to `)), `${name} in ${problems.join("; ")}`).to.equal(true);
      }
      expect(existsSync(path.join(dir, "secrets.json"))).to.equal(false);
    });

    it("refuses a raw key in production, even when configured explicitly, saying where to keep it", () => {
      const env = testGatewayEnv("0x5FbDB2315678afecb367f032d93F642f64180aa3", { GATEWAY_MODE: "production" });
      const problems = problemsOf(() => readGatewayConfig(env));
      expect(problems).to.have.length(1);
      expect(problems[0]).to.match(/^GATEWAY_OPERATOR_KEY is a raw private key in the environment, which a production setup refuses: .*GATEWAY_OPERATOR_KEYSTORE.*GATEWAY_OPERATOR_SIGNER_URL.*GATEWAY_MODE=development/);
      expect(problems.join("\n")).not.to.include(hardhatKey(1));
      expect(readGatewayConfig({ ...env, GATEWAY_MODE: "development" }).mode).to.equal("development");
    });

    it("refuses Hardhat's public keys in production, even in a keystore", async () => {
      const edges = await chainEdges();
      const scoring = await scorerFor(edges);
      const keystore = await writeTestKeystore(hardhatKey(1));
      try {
        const { GATEWAY_OPERATOR_KEY: _raw, ...env } = testGatewayEnv(edges.client.address, { GATEWAY_MODE: "production", ...keystore.env, ...scorerEnv(scoring) });
        void _raw;
        const error = await createGateway(readGatewayConfig(env), { provider: edges.provider, store: memoryStore(edges.clock), clock: edges.clock, logger: silentLogger(), explorerScript: null }).then(
          () => expect.fail("a production gateway started with a public test key"),
          (e: unknown) => e
        );
        expect(error).to.be.instanceOf(ConfigError);
        expect((error as ConfigError).problems[0]).to.match(/^the operator key \(0x[0-9a-fA-F]{40}, from GATEWAY_OPERATOR_KEYSTORE\) is one of Hardhat's public test keys/);
      } finally {
        keystore.remove();
        await scoring.stop();
      }
    });

    it("in development, generates the vault key and pepper once beside the data (0600) and uses Hardhat's keys", () => {
      const first = gatewayConfigFor(setup("development"), NO_SCORER, {});
      const file = path.join(dir, "secrets.json");
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      expect(first.mode).to.equal("development");
      expect(first.keys.operator.kind === "raw" && first.keys.operator.key.reveal()).to.equal(hardhatKey(1));
      const again = gatewayConfigFor(setup("development"), NO_SCORER, {});
      expect(again.vault.keyring.reveal()).to.deep.equal(first.vault.keyring.reveal());
    });
  });

  describe("npm start's mode", () => {
    const env = {};
    it("runs the embedded chain in development mode and refuses GATEWAY_MODE=production for it", () => {
      expect(startMode({ embedded: true, dev: false, seed: false, env })).to.equal("development");
      expect(() => startMode({ embedded: true, dev: false, seed: false, env: { GATEWAY_MODE: "production" } })).to.throw(StartConfigError, /development mode only/);
    });

    it("runs a gateway for an existing chain in production unless --dev (or GATEWAY_MODE=development)", () => {
      expect(startMode({ embedded: false, dev: false, seed: false, env })).to.equal("production");
      expect(startMode({ embedded: false, dev: true, seed: false, env })).to.equal("development");
      expect(startMode({ embedded: false, dev: false, seed: false, env: { GATEWAY_MODE: "development" } })).to.equal("development");
    });

    it("refuses --seed outside development mode", () => {
      expect(() => startMode({ embedded: false, dev: false, seed: true, env })).to.throw(StartConfigError, /--seed \(demo data\) is for development mode only/);
      expect(startMode({ embedded: false, dev: true, seed: true, env })).to.equal("development");
    });
  });
});
