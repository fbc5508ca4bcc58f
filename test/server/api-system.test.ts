import { expect } from "chai";
import request from "supertest";

import { readGatewayConfig } from "../../server/config";
import { createGateway } from "../../server/gateway";
import { get, hardhatKey, memoryStore, post, silentLogger, testGateway, type TestGateway, scorerEnv, scorerFor } from "../helpers/gateway";

describe("API: OpenAPI document, docs, health, metrics, HTTP edge", function () {
  let t: TestGateway;

  before(async () => {
    t = await testGateway({ GATEWAY_BODY_LIMIT_BYTES: "2048" });
  });

  after(async () => {
    await t.gateway.stop();
  });

  it("serves an OpenAPI 3.1 document generated from the route table and its schemas", async () => {
    const res = await request(t.gateway.app).get("/openapi.json");
    expect(res.status).to.equal(200);
    const doc = res.body;
    expect(doc.openapi).to.equal("3.1.0");
    for (const route of t.gateway.routes) {
      expect(doc.paths[route.path]?.[route.method], `${route.method} ${route.path}`).to.include({
        operationId: route.operationId,
      });
    }
    const purchase = doc.paths["/v1/purchases"].post;
    expect(purchase.requestBody.content["application/json"].schema).to.deep.equal({
      $ref: "#/components/schemas/PurchaseRequest",
    });
    expect(purchase.parameters.map((p: { name: string }) => p.name)).to.include.members(["wait", "Idempotency-Key"]);
    expect(purchase.responses["422"].content["application/problem+json"].schema).to.deep.equal({
      $ref: "#/components/schemas/Problem",
    });
    const purchaseRequest = doc.components.schemas.PurchaseRequest;
    expect(purchaseRequest.additionalProperties).to.equal(false);
    expect(purchaseRequest.required).to.deep.equal(["accountId", "amount"]);
    expect(purchaseRequest.properties.amount).to.include({ type: "string" }); // fen as decimal strings at the JSON edge
    expect(doc.components.schemas.ApplicationRequest.properties.features.properties).to.have.property("onTimeRepaymentPct");
    expect(doc.components.schemas.Allocation.properties.penalty.type).to.equal("string");
    expect(doc.paths["/v1/loans/{loanId}"].get.parameters[0]).to.include({ name: "loanId", in: "path", required: true });
  });

  it("renders the reference at /docs from the document, self-contained (no external resources)", async () => {
    const res = await request(t.gateway.app).get("/docs");
    expect(res.status).to.equal(200);
    expect(res.headers["content-type"]).to.match(/^text\/html/);
    expect(res.text).to.include('fetch("/openapi.json")');
    expect(res.text).not.to.match(/(src|href)=["']https?:/);
    expect(res.text).not.to.match(/@import|cdn\./i);
  });

  it("reports health: the chain reachable, the outbox depth and the indexer's lag", async () => {
    const res = await request(t.gateway.app).get("/healthz");
    expect(res.status).to.equal(200);
    expect(res.body.status).to.equal("ok");
    expect(res.body.chain).to.include({ reachable: true, chainId: "31337", ledger: t.client.address });
    expect(res.body.scorer).to.deep.equal({ reachable: true, address: t.scoring.address });
    expect(res.body.outbox).to.deep.equal({ depth: 0, oldestCreatedAt: null });
    expect(res.body.indexer.lagBlocks).to.be.a("number");
  });

  it("reports health degraded (503) while the scorer process cannot be reached", async () => {
    const scoring = await scorerFor(t);
    const gateway = await createGateway(
      readGatewayConfig({
        GATEWAY_MODE: "development",
        GATEWAY_RPC_URL: "http://127.0.0.1:9",
        GATEWAY_LEDGER_ADDRESS: t.client.address,
        GATEWAY_OPERATOR_KEY: hardhatKey(1),
        ...scorerEnv(scoring),
        GATEWAY_DB_PATH: ":memory:",
        GATEWAY_VAULT_KEY: "11".repeat(32),
        GATEWAY_IDENTITY_PEPPER: "22".repeat(32),
      }),
      { provider: t.provider, operator: t.operator, store: memoryStore(t.clock), logger: silentLogger() }
    );
    expect((await request(gateway.app).get("/healthz")).status).to.equal(200);
    await scoring.stop();
    const res = await request(gateway.app).get("/healthz");
    expect(res.status).to.equal(503);
    expect(res.body).to.deep.include({ status: "degraded", scorer: { reachable: false, address: scoring.address } });
    expect(res.body.chain.reachable).to.equal(true);
  });

  it("exposes Prometheus metrics", async () => {
    await post(t, "/v1/quotes", { product: "pay_later", amount: "1000" });
    const res = await request(t.gateway.app).get("/metrics");
    expect(res.status).to.equal(200);
    expect(res.text).to.include("gateway_http_requests_total");
    expect(res.text).to.match(/gateway_http_requests_total\{route="\/v1\/quotes",method="POST",status="200"\} 1/);
    expect(res.text).to.include("gateway_outbox_depth");
  });

  it("answers every HTTP-edge error with a problem document", async () => {
    const malformed = await request(t.gateway.app)
      .post("/v1/quotes")
      .set("Authorization", `Bearer ${t.keys.partner}`)
      .set("Idempotency-Key", "k-malformed")
      .set("Content-Type", "application/json")
      .send('{"product": "pay_later", ');
    expect(malformed.status).to.equal(400);
    expect(malformed.headers["content-type"]).to.match(/^application\/problem\+json/);
    expect(malformed.body.type).to.equal("/problems/malformed-json");

    const large = await post(t, "/v1/quotes", { product: "pay_later", amount: "1", pad: "x".repeat(4096) });
    expect(large.status).to.equal(413);
    expect(large.body.type).to.equal("/problems/body-too-large");

    const form = await request(t.gateway.app)
      .post("/v1/quotes")
      .set("Authorization", `Bearer ${t.keys.partner}`)
      .set("Idempotency-Key", "k-form")
      .type("form")
      .send("product=pay_later&amount=1");
    expect(form.status).to.equal(415);
    expect(form.body.type).to.equal("/problems/unsupported-media-type");

    const unknown = await get(t, "/v1/nothing-here");
    expect(unknown.status).to.equal(404);
    expect(unknown.body.type).to.equal("/problems/not-found");

    const strictQuery = await post(t, "/v1/quotes?debug=1", { product: "pay_later", amount: "1" });
    expect(strictQuery.status).to.equal(400);
    expect(strictQuery.body.field).to.equal("debug");
  });

  it("refuses to run on a database that belongs to another chain", async () => {
    const store = memoryStore(t.clock);
    await store.bindChain({ chainId: "31337", ledger: t.client.address, genesisHash: `0x${"00".repeat(32)}` });
    const config = readGatewayConfig({
      GATEWAY_RPC_URL: "http://127.0.0.1:9",
      GATEWAY_LEDGER_ADDRESS: t.client.address,
      GATEWAY_MODE: "development", // Hardhat's public keys are refused in production mode
      GATEWAY_OPERATOR_KEY: hardhatKey(1),
      ...scorerEnv(t.scoring),
      GATEWAY_DB_PATH: ":memory:",
      GATEWAY_VAULT_KEY: "11".repeat(32),
      GATEWAY_IDENTITY_PEPPER: "22".repeat(32),
    });
    await expect(
      createGateway(config, { provider: t.provider, operator: t.operator, store, logger: silentLogger() })
    ).to.be.rejectedWith(/belongs to ledger .* use another GATEWAY_DB_PATH/);
  });

  it("refuses to start when the operator key lacks the operator role", async () => {
    const config = readGatewayConfig({
      GATEWAY_RPC_URL: "http://127.0.0.1:9",
      GATEWAY_LEDGER_ADDRESS: t.client.address,
      GATEWAY_MODE: "development", // Hardhat's public keys are refused in production mode
      GATEWAY_OPERATOR_KEY: hardhatKey(4),
      ...scorerEnv(t.scoring),
      GATEWAY_DB_PATH: ":memory:",
      GATEWAY_VAULT_KEY: "11".repeat(32),
      GATEWAY_IDENTITY_PEPPER: "22".repeat(32),
    });
    const { Wallet } = await import("ethers");
    await expect(
      createGateway(config, {
        provider: t.provider,
        operator: new Wallet(hardhatKey(4), t.provider),
        store: memoryStore(t.clock),
        logger: silentLogger(),
      })
    ).to.be.rejectedWith(/does not hold OPERATOR_ROLE/);
  });

  it("refuses to start when the scorer process cannot be reached, naming its URL", async () => {
    const config = readGatewayConfig({
      GATEWAY_MODE: "development",
      GATEWAY_RPC_URL: "http://127.0.0.1:9",
      GATEWAY_LEDGER_ADDRESS: t.client.address,
      GATEWAY_OPERATOR_KEY: hardhatKey(1),
      GATEWAY_SCORER_URL: "http://127.0.0.1:9",
      GATEWAY_SCORER_TOKEN: "t".repeat(40),
      GATEWAY_DB_PATH: ":memory:",
      GATEWAY_VAULT_KEY: "11".repeat(32),
      GATEWAY_IDENTITY_PEPPER: "22".repeat(32),
    });
    await expect(
      createGateway(config, { provider: t.provider, operator: t.operator, store: memoryStore(t.clock), logger: silentLogger() })
    ).to.be.rejectedWith(/the scorer at http:\/\/127\.0\.0\.1:9 cannot be used/);
  });

  it("refuses to start when the scorer process's key lacks the scorer role", async () => {
    const stranger = await scorerFor(t, {}, hardhatKey(5));
    const config = readGatewayConfig({
      GATEWAY_MODE: "development",
      GATEWAY_RPC_URL: "http://127.0.0.1:9",
      GATEWAY_LEDGER_ADDRESS: t.client.address,
      GATEWAY_OPERATOR_KEY: hardhatKey(1),
      ...scorerEnv(stranger),
      GATEWAY_DB_PATH: ":memory:",
      GATEWAY_VAULT_KEY: "11".repeat(32),
      GATEWAY_IDENTITY_PEPPER: "22".repeat(32),
    });
    await expect(
      createGateway(config, { provider: t.provider, operator: t.operator, store: memoryStore(t.clock), logger: silentLogger() })
    ).to.be.rejectedWith(new RegExp(`the scorer process's key \\(${stranger.address}, at .*\\) does not hold SCORER_ROLE`));
  });
});
