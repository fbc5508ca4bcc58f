/**
 * Webhook deliveries against real HTTP receivers on 127.0.0.1: retries with exponential
 * backoff (on the gateway's clock, moved by the test), giving up after a day, every attempt
 * logged and listed, a replay on request (same event id, fresh signature), deletion, and
 * deliveries that survive a gateway restart.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { readGatewayConfig } from "../../server/config";
import { createGateway, type Gateway } from "../../server/gateway";
import { GatewayMetrics } from "../../server/metrics";
import { retryDelayMs } from "../../server/servicing/webhooks";
import { verifyWebhook } from "../../server/servicing/webhook-signature";
import { SqliteStore } from "../../server/store/sqlite-store";
import { approvedAccount, chainEdges, del, get, hardhatKey, post, silentLogger, testGateway, type TestGateway, scorerEnv, scorerFor } from "../helpers/gateway";
import { startReceiver, type Receiver } from "./receiver";

const nowSeconds = (t: { clock: { nowMs(): number } }) => Math.floor(t.clock.nowMs() / 1000);

/** Polls (without any time limit of its own: mocha's timeout bounds it) until `check` holds. */
async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10));
}

describe("webhooks: signed deliveries, retries with backoff, replay, restart", function () {
  let t: TestGateway;
  const receivers: Receiver[] = [];

  before(async () => {
    t = await testGateway();
  });

  after(async () => {
    await t.gateway.stop();
    for (const r of receivers) await r.close();
  });

  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  const register = async (url: string, events: string[]) => {
    const res = await post(t, "/v1/webhooks", { url, events });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { id: string; secret: string };
  };
  const deliveries = async (hookId: string) => {
    const res = await get(t, `/v1/webhooks/${hookId}/deliveries`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.deliveries as Array<Record<string, any>>;
  };

  it("registers an endpoint with a secret shown once; lists it without the secret; a retry of the registration returns the same", async () => {
    const r = await receiver();
    const key = `hook-${randomBytes(4).toString("hex")}`;
    const first = await post(t, "/v1/webhooks", { url: r.url, events: ["decision.made"] }, { idempotencyKey: key });
    const again = await post(t, "/v1/webhooks", { url: r.url, events: ["decision.made"] }, { idempotencyKey: key });
    expect(first.status).to.equal(201);
    expect(again.status).to.equal(201);
    expect(again.headers["idempotent-replayed"]).to.equal("true");
    expect(again.body).to.deep.equal(first.body);
    expect(first.body).to.include({ url: r.url, replayWindowSeconds: 300 });
    const listed = await get(t, "/v1/webhooks");
    const mine = listed.body.webhooks.find((w: { id: string }) => w.id === first.body.id);
    expect(mine).to.not.have.property("secret");
    expect((await get(t, "/v1/webhooks", t.keys.partner2)).body.webhooks.map((w: { id: string }) => w.id)).to.not.include(first.body.id);
    const stored = t.store.db.prepare("SELECT * FROM webhook_subscriptions WHERE id = ?").get(first.body.id) as Record<string, string>;
    expect(JSON.stringify(stored)).to.not.include(first.body.secret);
  });

  it("refuses an http URL to another host, and unknown event types", async () => {
    const remote = await post(t, "/v1/webhooks", { url: "http://example.com/hook", events: ["decision.made"] });
    expect(remote.status).to.equal(400);
    expect(remote.body.field).to.equal("url");
    const unknown = await post(t, "/v1/webhooks", { url: "https://example.com/hook", events: ["loan.exploded"] });
    expect(unknown.status).to.equal(400);
    expect(unknown.body.field).to.equal("events.0");
  });

  it("retries a failed delivery with exponential backoff (30 s, then 1 min) and logs every attempt", async () => {
    const r = await receiver();
    const hook = await register(r.url, ["decision.made"]);
    r.answers.push(500, 503);
    await approvedAccount(t);
    await until(async () => (await deliveries(hook.id)).some((d) => d.attempts >= 1));
    let [d] = await deliveries(hook.id);
    expect(d).to.include({ status: "pending", attempts: 1, lastStatus: 500, eventType: "decision.made" });
    const firstAt = Date.parse(d.attemptLog[0].at);
    expect(Date.parse(d.nextAttemptAt)).to.equal(firstAt + 30_000);

    // Not due yet: nothing is sent.
    await t.gateway.deliverer.deliverDue();
    expect(r.received).to.have.length(1);
    t.clock.advanceMs(30_000);
    await t.gateway.deliverer.deliverDue();
    [d] = await deliveries(hook.id);
    expect(d).to.include({ status: "pending", attempts: 2, lastStatus: 503 });
    expect(Date.parse(d.nextAttemptAt)).to.equal(firstAt + 30_000 + 60_000);
    t.clock.advanceMs(60_000);
    await t.gateway.deliverer.deliverDue();
    [d] = await deliveries(hook.id);
    expect(d).to.include({ status: "delivered", attempts: 3, lastStatus: 200, nextAttemptAt: null });
    expect(d.attemptLog.map((a: { statusCode: number; trigger: string }) => [a.statusCode, a.trigger])).to.deep.equal([
      [500, "scheduled"],
      [503, "scheduled"],
      [200, "scheduled"],
    ]);

    // Three receipts of one event: the same id each time (the partner deduplicates), each validly signed when sent.
    expect(r.received.map((x) => x.body.id)).to.deep.equal([d.eventId, d.eventId, d.eventId]);
    const sentAt = d.attemptLog.map((a: { at: string }) => Math.floor(Date.parse(a.at) / 1000));
    r.received.forEach((x, i) => expect(verifyWebhook(x.headers["webhook-signature"] as string, x.rawBody, hook.secret, sentAt[i]).ok).to.equal(true));
  });

  it("gives up after a day of failures, each wait twice the last up to an hour", async () => {
    const dead = await receiver();
    await dead.close(); // connection refused from now on
    const hook = await register(dead.url, ["decision.made"]);
    await approvedAccount(t);
    await until(async () => (await deliveries(hook.id)).some((d) => d.attempts >= 1));
    for (let i = 0; i < 100; i++) {
      const [d] = await deliveries(hook.id);
      if (d.status !== "pending") break;
      t.clock.advanceMs(Date.parse(d.nextAttemptAt) - t.clock.nowMs());
      await t.gateway.deliverer.deliverDue();
    }
    const [d] = await deliveries(hook.id);
    expect(d.status).to.equal("failed");
    const times = d.attemptLog.map((a: { at: string }) => Date.parse(a.at));
    const waits = times.slice(1).map((x: number, i: number) => x - times[i]);
    expect(waits).to.deep.equal(waits.map((_: number, i: number) => retryDelayMs(i + 1)));
    expect(waits.slice(0, 8)).to.deep.equal([30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000]);
    const span = times[times.length - 1] - times[0];
    expect(span).to.be.at.most(86_400_000);
    expect(span + retryDelayMs(times.length)).to.be.greaterThan(86_400_000);
    expect(d.attemptLog.every((a: { error: string | null }) => a.error !== null)).to.equal(true);
  });

  it("replays a delivery on request: the same event id and body, signed anew, logged as a replay", async () => {
    const r = await receiver();
    const hook = await register(r.url, ["decision.made"]);
    await approvedAccount(t);
    await until(async () => (await deliveries(hook.id)).some((d) => d.status === "delivered"));
    const [d] = await deliveries(hook.id);
    t.clock.advanceMs(5_000);
    const replay = await post(t, `/v1/webhooks/${hook.id}/replays`, { deliveryId: d.id });
    expect(replay.status, JSON.stringify(replay.body)).to.equal(200);
    expect(replay.body.attemptLog.map((a: { trigger: string }) => a.trigger)).to.deep.equal(["scheduled", "replay"]);
    expect(r.received).to.have.length(2);
    expect(r.received[1].rawBody).to.equal(r.received[0].rawBody);
    expect(r.received[1].headers["webhook-signature"]).to.not.equal(r.received[0].headers["webhook-signature"]);
    expect(verifyWebhook(r.received[1].headers["webhook-signature"] as string, r.received[1].rawBody, hook.secret, nowSeconds(t)).ok).to.equal(true);
    // Another partner cannot see or replay it.
    expect((await post(t, `/v1/webhooks/${hook.id}/replays`, { deliveryId: d.id }, { key: t.keys.partner2 })).status).to.equal(404);
    expect((await post(t, `/v1/webhooks/${hook.id}/replays`, { deliveryId: `dlv_${"0".repeat(32)}` })).status).to.equal(404);
  });

  it("stops delivering to a deleted endpoint and cancels its pending deliveries", async () => {
    const r = await receiver();
    const hook = await register(r.url, ["decision.made"]);
    r.answers.push(500);
    await approvedAccount(t);
    await until(async () => (await deliveries(hook.id)).some((d) => d.attempts >= 1));
    expect((await del(t, `/v1/webhooks/${hook.id}`, t.keys.partner2)).status).to.equal(404);
    expect((await del(t, `/v1/webhooks/${hook.id}`)).status).to.equal(204);
    const row = t.store.db.prepare("SELECT status FROM webhook_deliveries WHERE subscription_id = ?").get(hook.id) as { status: string };
    expect(row.status).to.equal("cancelled");
    t.clock.advanceMs(60_000);
    await t.gateway.deliverer.deliverDue();
    expect(r.received).to.have.length(1);
    expect((await del(t, `/v1/webhooks/${hook.id}`)).status).to.equal(404);
  });
});

describe("webhooks: deliveries survive a gateway restart", function () {
  let dir: string;
  let r: Receiver;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "webhooks-"));
    r = await startReceiver();
  });

  after(async () => {
    await r.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers after a restart what was accepted before it, exactly once", async () => {
    const edges = await chainEdges();
    const scoring = await scorerFor(edges);
    const dbPath = path.join(dir, "gateway.db");
    const env = {
      GATEWAY_RPC_URL: "http://127.0.0.1:9",
      GATEWAY_LEDGER_ADDRESS: edges.client.address,
      GATEWAY_MODE: "development", // Hardhat's public keys are refused in production mode
      GATEWAY_OPERATOR_KEY: hardhatKey(1),
      ...scorerEnv(scoring),
      GATEWAY_DB_PATH: dbPath,
      GATEWAY_VAULT_KEY: randomBytes(32).toString("hex"),
      GATEWAY_IDENTITY_PEPPER: randomBytes(32).toString("hex"),
      GATEWAY_POLL_INTERVAL_MS: "20",
      GATEWAY_LOG_LEVEL: "silent",
    };
    const open = async (): Promise<{ gateway: Gateway; store: SqliteStore }> => {
      const store = new SqliteStore(dbPath, edges.clock);
      const gateway = await createGateway(readGatewayConfig(env), {
        provider: edges.provider,
        operator: edges.operator,
        store,
        clock: edges.clock,
        logger: silentLogger(),
        metrics: new GatewayMetrics({ defaultMetrics: false }),
      });
      await gateway.start({ listen: false });
      return { gateway, store };
    };

    const a = await open();
    const partner = (await a.gateway.partners.create({ name: "partner" }, "test")).key.key;
    const tA = { gateway: a.gateway, scoring, keys: { partner } } as unknown as TestGateway;
    const hook = await post(tA, "/v1/webhooks", { url: r.url, events: ["decision.made"] });
    expect(hook.status).to.equal(201);
    r.answers.push(500); // the first attempt fails: the delivery waits in the database
    await approvedAccount(tA);
    const pending = () => a.store.db.prepare("SELECT status, attempts FROM webhook_deliveries").get() as { status: string; attempts: number } | undefined;
    await until(() => pending()?.attempts === 1);
    await a.gateway.stop();
    await a.store.close();

    edges.clock.advanceMs(30_000);
    const b = await open();
    await b.gateway.deliverer.deliverDue();
    const row = b.store.db.prepare("SELECT status, attempts FROM webhook_deliveries").get() as { status: string; attempts: number };
    expect(row).to.deep.equal({ status: "delivered", attempts: 2 });
    expect(r.received.map((x) => x.answered)).to.deep.equal([500, 200]);
    expect(new Set(r.received.map((x) => x.body.id)).size).to.equal(1);
    expect(verifyWebhook(r.received[1].headers["webhook-signature"] as string, r.received[1].rawBody, hook.body.secret, Math.floor(edges.clock.nowMs() / 1000)).ok).to.equal(true);
    await b.gateway.stop();
    await b.store.close();
  });
});
