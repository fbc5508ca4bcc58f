/**
 * Webhook delivery that one partner cannot stall (issue 11): attempts run concurrently across
 * endpoints within a per-endpoint and a global limit, one deadline covers the whole attempt (the
 * DNS lookup included), each endpoint has a circuit breaker, every owner has a subscription cap,
 * and IPv4-mapped IPv6 addresses are refused like the IPv4 addresses they map. The deliverer
 * runs against an in-memory store, a clock the test moves, real receivers on 127.0.0.1 that the
 * test holds and releases, and injected lookups and deadlines: no test waits on a timer.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";

import { ManualClock } from "../../server/clock";
import { readGatewayConfig } from "../../server/config";
import { createLogger } from "../../server/logger";
import { GatewayMetrics } from "../../server/metrics";
import { webhookUrlProblem } from "../../server/schemas/webhook-url";
import { SqliteServicingStore } from "../../server/servicing/servicing-store";
import { eventIdOf } from "../../server/servicing/webhook-events";
import {
  httpTransport,
  WebhookDeliverer,
  WebhookSecrets,
  type DelivererOptions,
  type HostResolver,
  type WebhookSettings,
  type WebhookTransport,
} from "../../server/servicing/webhooks";
import { SqliteStore } from "../../server/store/sqlite-store";
import { del, post, silentLogger, testGateway, testGatewayEnv, type TestGateway } from "../helpers/gateway";
import { startReceiver, type Receiver } from "./receiver";

const OPERATOR = "key_0123456789abcdef"; // an operator key's subscriptions get every event

/** The settings a gateway starts with, from its config (so the defaults are the ones tested). */
const defaults = (): WebhookSettings => readGatewayConfig(testGatewayEnv("0x" + "11".repeat(20), {})).servicing.webhooks;

/** Polls (mocha's timeout bounds it) until `check` holds. */
async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 5));
}

interface Fixture {
  clock: ManualClock;
  store: SqliteServicingStore;
  deliverer: WebhookDeliverer;
  metrics: GatewayMetrics;
  logs: Array<Record<string, unknown>>;
  subscribe(url: string, events?: string[]): Promise<string>;
  /** Records one event of `type`: a pending delivery to every subscription that wants it. */
  event(type?: string): Promise<string>;
  deliveryOf(eventId: string, subscriptionId: string): Promise<{ status: string; attempts: number; lastError: string | null; nextAttemptMs: number | null }>;
  close(): void;
}

function fixture(settings: Partial<WebhookSettings> = {}, transport?: WebhookTransport, options: DelivererOptions = {}): Fixture {
  const clock = new ManualClock(1_900_000_000_000);
  const sqlite = new SqliteStore(":memory:", clock);
  const store = new SqliteServicingStore(sqlite.db, clock);
  sqlite.db
    .prepare("INSERT INTO api_keys (id, key_hash, name, scopes, created_at) VALUES (?, ?, 'operator', 'admin', ?)")
    .run(OPERATOR, randomBytes(32).toString("hex"), new Date(clock.nowMs()).toISOString());
  const secrets = new WebhookSecrets(randomBytes(32));
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const deliverer = new WebhookDeliverer(
    store,
    secrets,
    { ...defaults(), ...settings },
    clock,
    createLogger("info", sink),
    transport ?? httpTransport({ allowLoopbackHttp: true }),
    { metrics, ...options }
  );
  let n = 0;
  return {
    clock,
    store,
    deliverer,
    metrics,
    logs,
    async subscribe(url, events = ["decision.made"]) {
      const id = `wh_${randomBytes(16).toString("hex")}`;
      const sub = { id, apiKeyId: OPERATOR, owner: OPERATOR, url, events, active: true, createdAt: new Date(clock.nowMs()).toISOString() };
      const outcome = await store.insertSubscription(sub, "hash", { owner: OPERATOR, key: id, fingerprint: "f" }, { status: 201, body: {} }, 100);
      expect(outcome).to.deep.equal({ accepted: true });
      return id;
    },
    async event(type = "decision.made") {
      const id = eventIdOf(type as "decision.made", `subject-${++n}-${randomBytes(4).toString("hex")}`);
      await store.recordEvents([{ event: { id, type: type as "decision.made", created: 0, accountId: null, data: { n } }, audience: { partners: [] } }], null, clock.nowMs());
      return id;
    },
    async deliveryOf(eventId, subscriptionId) {
      const [d] = (await store.deliveriesOf(subscriptionId, 1000)).filter((x) => x.eventId === eventId);
      expect(d, `a delivery of ${eventId} to ${subscriptionId}`).to.not.equal(undefined);
      return { status: d.status, attempts: d.attempts, lastError: d.lastError, nextAttemptMs: d.nextAttemptMs };
    },
    close: () => sqlite.db.close(),
  };
}

const metricValue = async (metrics: GatewayMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
};

describe("webhook delivery settings", function () {
  const env = (extra: Record<string, string>) => testGatewayEnv("0x" + "11".repeat(20), extra);

  it("defaults to one attempt per endpoint, 16 in all, a circuit that opens after 5 failures for 300 s, and 20 endpoints per operator key", () => {
    expect(defaults()).to.include({ perEndpointConcurrency: 1, concurrency: 16, breakerFailures: 5, breakerCooldownMs: 300_000, maxSubscriptions: 20, timeoutMs: 10_000 });
  });

  it("reads each delivery setting from its GATEWAY_WEBHOOK_ variable, and refuses one out of range naming it", () => {
    const read = readGatewayConfig(
      env({
        GATEWAY_WEBHOOK_CONCURRENCY: "4",
        GATEWAY_WEBHOOK_CONCURRENCY_PER_ENDPOINT: "2",
        GATEWAY_WEBHOOK_BREAKER_FAILURES: "3",
        GATEWAY_WEBHOOK_BREAKER_COOLDOWN_SECONDS: "60",
        GATEWAY_WEBHOOK_MAX_SUBSCRIPTIONS: "7",
      })
    ).servicing.webhooks;
    expect(read).to.include({ concurrency: 4, perEndpointConcurrency: 2, breakerFailures: 3, breakerCooldownMs: 60_000, maxSubscriptions: 7 });
    expect(() => readGatewayConfig(env({ GATEWAY_WEBHOOK_CONCURRENCY_PER_ENDPOINT: "0" }))).to.throw(/GATEWAY_WEBHOOK_CONCURRENCY_PER_ENDPOINT/);
  });
});

describe("webhook delivery: one endpoint cannot stall another", function () {
  const receivers: Receiver[] = [];
  const fixtures: Fixture[] = [];
  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  const make = (...args: Parameters<typeof fixture>) => {
    const f = fixture(...args);
    fixtures.push(f);
    return f;
  };

  afterEach(async () => {
    for (const f of fixtures.splice(0)) {
      for (const r of receivers) r.release();
      await f.deliverer.stop();
      f.close();
    }
    for (const r of receivers.splice(0)) await r.close();
  });

  it("delivers to one endpoint while another endpoint holds its answer", async () => {
    const f = make();
    const slow = await receiver();
    const fast = await receiver();
    slow.hold();
    const slowSub = await f.subscribe(slow.url);
    const fastSub = await f.subscribe(fast.url);
    const event = await f.event();

    const pass = f.deliverer.deliverDue();
    await slow.arrived(1);
    await until(async () => (await f.deliveryOf(event, fastSub)).status === "delivered");
    // The fast endpoint has its delivery while the slow one still holds its request.
    expect(slow.waiting).to.equal(1);
    expect(await f.deliveryOf(event, slowSub)).to.include({ status: "pending", attempts: 0 });
    expect(fast.received).to.have.length(1);

    slow.release();
    expect(await pass).to.equal(2);
    expect(await f.deliveryOf(event, slowSub)).to.include({ status: "delivered", attempts: 1 });
  });

  it("lets a delivery that comes due later go while an earlier pass waits on a held endpoint", async () => {
    const f = make();
    const slow = await receiver();
    const fast = await receiver();
    slow.hold();
    await f.subscribe(slow.url, ["decision.made"]);
    const fastSub = await f.subscribe(fast.url, ["line.frozen"]);
    await f.event("decision.made");
    f.deliverer.kick(); // the scheduler's tick: a background pass, now waiting on the slow endpoint
    await slow.arrived(1);
    const later = await f.event("line.frozen");
    f.deliverer.kick(); // the next tick wakes the pass
    await until(async () => (await f.deliveryOf(later, fastSub)).status === "delivered");
    expect(slow.waiting).to.equal(1);
  });

  it("keeps at most the per-endpoint limit of requests in flight at one receiver, and sends them all", async () => {
    const K = 2;
    const f = make({ perEndpointConcurrency: K });
    const r = await receiver();
    r.hold();
    const sub = await f.subscribe(r.url);
    const events: string[] = [];
    for (let i = 0; i < 5; i++) events.push(await f.event());

    const pass = f.deliverer.deliverDue();
    for (let released = 0; released < 5; released++) {
      await r.arrived(Math.min(5, released + K));
      // Attempts start together, before any of their requests can arrive, and end only when released
      // here: had more than K been started, more would be counted now.
      const inFlight = await metricValue(f.metrics, "gateway_webhook_attempts_in_flight");
      if (released === 0) expect(inFlight).to.equal(K);
      else expect(inFlight).to.be.at.most(K);
      expect(r.waiting).to.be.at.most(K);
      r.release(1);
    }
    await pass;
    expect(r.mostWaiting).to.equal(K);
    for (const e of events) expect(await f.deliveryOf(e, sub)).to.include({ status: "delivered", attempts: 1 });
  });

  it("sends one endpoint's deliveries in the order they were recorded (one in flight per endpoint by default)", async () => {
    const f = make();
    expect(defaults().perEndpointConcurrency).to.equal(1);
    const r = await receiver();
    await f.subscribe(r.url);
    const events: string[] = [];
    for (let i = 0; i < 4; i++) events.push(await f.event());
    await f.deliverer.deliverDue();
    expect(r.received.map((x) => x.body.id)).to.deep.equal(events);
    expect(r.mostWaiting).to.equal(0);
  });

  it("keeps at most the global limit of attempts in flight over all endpoints", async () => {
    const f = make({ concurrency: 2 });
    const rs = [await receiver(), await receiver(), await receiver()];
    for (const r of rs) {
      r.hold();
      await f.subscribe(r.url);
    }
    await f.event();
    const pass = f.deliverer.deliverDue();
    await until(() => rs.filter((r) => r.waiting === 1).length === 2);
    expect(await metricValue(f.metrics, "gateway_webhook_attempts_in_flight")).to.equal(2);
    const idle = rs.find((r) => r.waiting === 0)!;
    for (const r of rs) if (r !== idle) r.release();
    await idle.arrived(1);
    idle.release();
    expect(await pass).to.equal(3);
  });
});

describe("webhook delivery: one deadline over the whole attempt", function () {
  it("ends an attempt whose DNS lookup never answers at the attempt's deadline, and retries it later", async () => {
    const r = await startReceiver();
    const port = new URL(r.url).port;
    let lookups = 0;
    let lookupStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (lookupStarted = resolve));
    const resolver: HostResolver = (host) => {
      lookups += 1;
      expect(host).to.equal("localhost");
      if (lookups === 1) {
        lookupStarted();
        return new Promise(() => undefined); // never answers
      }
      return Promise.resolve([{ address: "127.0.0.1", family: 4 }]);
    };
    const deadlines: AbortController[] = [];
    const f = fixture({}, httpTransport({ allowLoopbackHttp: true }, resolver), {
      deadline: () => {
        const c = new AbortController();
        deadlines.push(c);
        return c.signal;
      },
    });
    try {
      const sub = await f.subscribe(`http://localhost:${port}/hooks`);
      const event = await f.event();
      const pass = f.deliverer.deliverDue();
      await started;
      // The test is the timer: the deadline passes while the lookup still has no answer.
      deadlines[0].abort(new DOMException("The operation timed out.", "TimeoutError"));
      await pass;
      const first = await f.deliveryOf(event, sub);
      expect(first).to.include({ status: "pending", attempts: 1, lastError: "TimeoutError" });
      expect(first.nextAttemptMs).to.equal(f.clock.nowMs() + 30_000);
      expect(r.received).to.have.length(0);

      f.clock.advanceMs(30_000);
      await f.deliverer.deliverDue();
      expect(await f.deliveryOf(event, sub)).to.include({ status: "delivered", attempts: 2 });
      expect(r.received).to.have.length(1);
    } finally {
      await f.deliverer.stop();
      f.close();
      await r.close();
    }
  });

  it("times out a lookup that never answers with the default deadline (GATEWAY_WEBHOOK_TIMEOUT_MS) too", async () => {
    const never: HostResolver = () => new Promise(() => undefined);
    const f = fixture({ timeoutMs: 100 }, httpTransport({ allowLoopbackHttp: false }, never));
    try {
      const sub = await f.subscribe("https://hooks.partner.example/in");
      const event = await f.event();
      await f.deliverer.deliverDue();
      expect(await f.deliveryOf(event, sub)).to.include({ status: "pending", attempts: 1, lastError: "TimeoutError" });
    } finally {
      await f.deliverer.stop();
      f.close();
    }
  });

  it("ends the attempt at the deadline while the endpoint is still sending its answer's body", async () => {
    let headSent: () => void = () => undefined;
    const sent = new Promise<void>((resolve) => (headSent = resolve));
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("the first bytes, and then nothing", () => headSent()); // never ended
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const deadline = new AbortController();
      const attempt = httpTransport({ allowLoopbackHttp: true })({ url: `http://127.0.0.1:${port}/`, headers: {}, body: "{}", signal: deadline.signal });
      await sent;
      deadline.abort(new DOMException("The operation timed out.", "TimeoutError"));
      const outcome = await attempt.then(
        (answer) => ({ answer }),
        (e: Error) => ({ error: e.name })
      );
      expect(outcome).to.deep.equal({ error: "TimeoutError" });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("stops waiting at the deadline even for a transport that ignores it", async () => {
    const deadlines: AbortController[] = [];
    let called: () => void = () => undefined;
    const calledOnce = new Promise<void>((resolve) => (called = resolve));
    const deaf: WebhookTransport = () => {
      called();
      return new Promise(() => undefined);
    };
    const f = fixture({}, deaf, {
      deadline: () => {
        const c = new AbortController();
        deadlines.push(c);
        return c.signal;
      },
    });
    try {
      const sub = await f.subscribe("https://hooks.partner.example/in");
      const event = await f.event();
      const pass = f.deliverer.deliverDue();
      await calledOnce;
      deadlines[0].abort(new DOMException("The operation timed out.", "TimeoutError"));
      await pass;
      expect(await f.deliveryOf(event, sub)).to.include({ status: "pending", attempts: 1, lastError: "TimeoutError" });
    } finally {
      f.close();
    }
  });
});

describe("webhook delivery: a circuit breaker per endpoint", function () {
  it("opens after N failures, makes no attempt while open, lets one probe through after the cool-down, and closes on its success", async () => {
    const f = fixture({ breakerFailures: 3, breakerCooldownMs: 600_000 });
    const r = await startReceiver();
    try {
      const sub = await f.subscribe(r.url);
      r.answers.push(500, 500, 500);
      const first = await f.event();
      await f.deliverer.deliverDue(); // failure 1
      f.clock.advanceMs(30_000);
      await f.deliverer.deliverDue(); // failure 2
      expect(f.deliverer.circuits.stateOf(sub)).to.equal("closed");
      f.clock.advanceMs(60_000);
      await f.deliverer.deliverDue(); // failure 3: the circuit opens
      expect(f.deliverer.circuits.stateOf(sub)).to.equal("open");
      expect(r.received).to.have.length(3);
      expect(await metricValue(f.metrics, "gateway_webhook_circuit_state", { subscription: sub })).to.equal(2);
      const opened = f.logs.find((l) => l.msg?.toString().startsWith("webhook circuit opened"));
      expect(opened).to.include({ subscription: sub, from: "closed", to: "open", failures: 3 });
      expect(opened!.probeAt).to.equal(new Date(f.clock.nowMs() + 600_000).toISOString());

      // While open: the first delivery comes due again and a new one is recorded; neither is attempted, neither fails.
      const second = await f.event();
      f.clock.advanceMs(120_000);
      await f.deliverer.deliverDue();
      expect(r.received).to.have.length(3);
      expect(await f.deliveryOf(first, sub)).to.include({ status: "pending", attempts: 3 });
      expect(await f.deliveryOf(second, sub)).to.include({ status: "pending", attempts: 0 });

      // After the cool-down: one probe (the delivery due longest: the second); it succeeds, the circuit closes, the rest go.
      f.clock.advanceMs(600_000 - 120_000);
      await f.deliverer.deliverDue();
      expect(f.deliverer.circuits.stateOf(sub)).to.equal("closed");
      expect(r.received.map((x) => [x.body.id, x.answered])).to.deep.equal([
        [first, 500],
        [first, 500],
        [first, 500],
        [second, 200],
        [first, 200],
      ]);
      expect(await f.deliveryOf(second, sub)).to.include({ status: "delivered" });
      expect(f.logs.filter((l) => l.subscription === sub && l.to !== undefined).map((l) => [l.from, l.to])).to.deep.equal([
        ["closed", "open"],
        ["open", "half-open"],
        ["half-open", "closed"],
      ]);
      expect(await metricValue(f.metrics, "gateway_webhook_circuit_state", { subscription: sub })).to.equal(0);
      // Structured, without secrets or bodies: the endpoint's origin and path only.
      for (const l of f.logs.filter((x) => x.to !== undefined)) {
        expect(l.endpoint).to.equal(r.url);
        expect(JSON.stringify(l)).to.not.match(/whsec_|"data"|"body"/);
      }
    } finally {
      await f.deliverer.stop();
      f.close();
      await r.close();
    }
  });

  it("lets exactly one probe through when half-open, and opens again for a cool-down when it fails", async () => {
    const f = fixture({ breakerFailures: 1, breakerCooldownMs: 600_000 });
    const r = await startReceiver();
    try {
      const sub = await f.subscribe(r.url);
      r.answers.push(500, 500);
      await f.event();
      await f.deliverer.deliverDue(); // the one failure that opens it
      await f.event();
      await f.event();
      f.clock.advanceMs(600_000);
      await f.deliverer.deliverDue(); // three due; one probe, which fails
      expect(r.received).to.have.length(2);
      expect(f.deliverer.circuits.stateOf(sub)).to.equal("open");
      f.clock.advanceMs(599_999);
      await f.deliverer.deliverDue();
      expect(r.received).to.have.length(2);
      f.clock.advanceMs(1);
      await f.deliverer.deliverDue();
      expect(r.received.map((x) => x.answered)).to.deep.equal([500, 500, 200, 200, 200]);
      expect(f.deliverer.circuits.stateOf(sub)).to.equal("closed");
    } finally {
      await f.deliverer.stop();
      f.close();
      await r.close();
    }
  });

  it("keeps other endpoints' deliveries going while one endpoint's circuit is open", async () => {
    const f = fixture({ breakerFailures: 1 });
    const dead = await startReceiver();
    const alive = await startReceiver();
    try {
      const deadSub = await f.subscribe(dead.url);
      const aliveSub = await f.subscribe(alive.url);
      dead.answers.push(500);
      await f.event();
      await f.deliverer.deliverDue();
      expect(f.deliverer.circuits.stateOf(deadSub)).to.equal("open");
      const next = await f.event();
      await f.deliverer.deliverDue();
      expect(await f.deliveryOf(next, aliveSub)).to.include({ status: "delivered" });
      expect(await f.deliveryOf(next, deadSub)).to.include({ status: "pending", attempts: 0 });
    } finally {
      await f.deliverer.stop();
      f.close();
      await dead.close();
      await alive.close();
    }
  });
});

const MAPPED = ["::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "::ffff:169.254.169.254"];

describe("webhook addresses: IPv4-mapped IPv6", function () {
  it("refuses an IPv4-mapped loopback, private or link-local address in a webhook URL, in either spelling", () => {
    for (const policy of [{ allowLoopbackHttp: false }, { allowLoopbackHttp: true }]) {
      for (const url of ["https://[::ffff:127.0.0.1]/h", "https://[::ffff:7f00:1]/h", "https://[::ffff:10.0.0.1]/h", "https://[::ffff:a00:1]/h", "https://[::ffff:169.254.169.254]/h", "https://[0:0:0:0:0:ffff:a9fe:a9fe]/h"]) {
        expect(webhookUrlProblem(url, policy), url).to.match(/loopback, private, link-local/);
      }
    }
    expect(webhookUrlProblem("http://[::ffff:127.0.0.1]:9/h", { allowLoopbackHttp: false })).to.match(/only in development mode/);
    expect(webhookUrlProblem("http://[::ffff:10.0.0.1]:9/h", { allowLoopbackHttp: true })).to.match(/https/);
    expect(webhookUrlProblem("https://[::ffff:8.8.8.8]/h", { allowLoopbackHttp: false })).to.equal(undefined);
  });

  it("refuses at delivery a host name that resolves to an IPv4-mapped address inside", async () => {
    for (const address of MAPPED) {
      const resolver: HostResolver = () => Promise.resolve([{ address, family: 6 }]);
      const f = fixture({}, httpTransport({ allowLoopbackHttp: false }, resolver));
      try {
        const sub = await f.subscribe("https://hooks.partner.example/in");
        const event = await f.event();
        await f.deliverer.deliverDue();
        expect(await f.deliveryOf(event, sub), address).to.include({ status: "pending", attempts: 1, lastError: "EADDRNOTPUBLIC" });
      } finally {
        f.close();
      }
    }
  });

  it("refuses at delivery a mapped private address even behind the local network's plain-http loopback exception", async () => {
    const r = await startReceiver();
    const port = new URL(r.url).port;
    for (const address of ["::ffff:10.0.0.1", "::ffff:169.254.169.254"]) {
      const f = fixture({}, httpTransport({ allowLoopbackHttp: true }, () => Promise.resolve([{ address, family: 6 }])));
      try {
        const sub = await f.subscribe(`http://localhost:${port}/hooks`);
        const event = await f.event();
        await f.deliverer.deliverDue();
        expect(await f.deliveryOf(event, sub), address).to.include({ lastError: "EADDRNOTPUBLIC" });
      } finally {
        f.close();
      }
    }
    expect(r.received).to.have.length(0);
    await r.close();
  });
});

describe("webhook subscriptions: a cap for every owner", function () {
  let t: TestGateway;

  before(async () => {
    t = await testGateway({ GATEWAY_WEBHOOK_MAX_SUBSCRIPTIONS: "2" });
  });

  after(async () => {
    await t.gateway.stop();
  });

  const hook = (key: string, n: number) => post(t, "/v1/webhooks", { url: `http://127.0.0.1:9/hook-${n}`, events: ["decision.made"] }, { key });

  it("refuses an operator key's subscription past GATEWAY_WEBHOOK_MAX_SUBSCRIPTIONS with webhook-quota-exceeded", async () => {
    expect((await hook(t.keys.admin, 1)).status).to.equal(201);
    const second = await hook(t.keys.admin, 2);
    expect(second.status).to.equal(201);
    const third = await hook(t.keys.admin, 3);
    expect(third.status, JSON.stringify(third.body)).to.equal(409);
    expect(third.body).to.include({ type: "/problems/webhook-quota-exceeded", field: "url" });
    expect(third.body.detail).to.match(/delete one first/);
    // Deleting one makes room again.
    expect((await del(t, `/v1/webhooks/${second.body.id}`, t.keys.admin)).status).to.equal(204);
    expect((await hook(t.keys.admin, 4)).status).to.equal(201);
  });

  it("refuses a partner's subscription past its own webhook quota (a partner setting), whatever the operator keys' limit", async () => {
    const partner = (await t.gateway.partners.create({ name: "one hook", ratePerMinute: 1_000_000, burst: 1_000_000, webhookQuota: 3 }, "test")).key.key;
    for (let i = 0; i < 3; i++) expect((await hook(partner, i)).status).to.equal(201);
    const over = await hook(partner, 9);
    expect(over.status).to.equal(409);
    expect(over.body.type).to.equal("/problems/webhook-quota-exceeded");
    // Another partner's count is its own.
    expect((await hook(t.keys.partner2, 1)).status).to.equal(201);
  });

  it("refuses an IPv4-mapped address at subscription with a 400 naming url", async () => {
    for (const host of MAPPED) {
      const res = await post(t, "/v1/webhooks", { url: `https://[${host}]/hooks`, events: ["decision.made"] });
      expect(res.status, host).to.equal(400);
      expect(res.body.field).to.equal("url");
    }
  });
});
