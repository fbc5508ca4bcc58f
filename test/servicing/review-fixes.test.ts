/**
 * The smaller findings of the servicing review (issue 5), fixed with the six in review.test.ts:
 * where webhooks may connect (checked again at send time, after resolving the host), how much
 * of an answer is read, the velocity 422 kept with its Idempotency-Key, reviews on request
 * recorded, and a retried clock advance that does not move the chain twice.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { expect } from "chai";

import { isPublicAddress, webhookUrlProblem } from "../../server/schemas/webhook-url";
import { checkedAddress, httpTransport, RESPONSE_EXCERPT_CHARS } from "../../server/servicing/webhooks";
import { applicationBody, newIdempotencyKey, post, testGateway, type TestGateway } from "../helpers/gateway";
import { MIDDLE_FEATURES } from "../helpers/identities";

describe("webhook addresses", function () {
  it("tells public addresses from loopback, private, link-local, unique-local, multicast and reserved ones", () => {
    for (const a of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:808:808"]) expect(isPublicAddress(a), a).to.equal(true);
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.31.0.1",
      "192.168.0.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "::",
      "::1",
      "fd00::1",
      "fe80::1",
      "ff02::1",
      "::ffff:7f00:1", // 127.0.0.1, IPv4-mapped
      "::ffff:a9fe:a9fe", // 169.254.169.254, IPv4-mapped
      "64:ff9b::a9fe:a9fe", // NAT64
      "2002:7f00:1::", // 6to4 of 127.0.0.1
      "not an address",
    ]) {
      expect(isPublicAddress(a), a).to.equal(false);
    }
  });

  it("allows plain http only to the loopback host, and only in development mode", () => {
    const local = { allowLoopbackHttp: true };
    const remote = { allowLoopbackHttp: false };
    expect(webhookUrlProblem("http://127.0.0.1:9/hooks", local)).to.equal(undefined);
    expect(webhookUrlProblem("http://localhost:9/hooks", local)).to.equal(undefined);
    expect(webhookUrlProblem("http://[::1]:9/hooks", local)).to.equal(undefined);
    expect(webhookUrlProblem("http://127.0.0.1:9/hooks", remote)).to.match(/only in development mode \(GATEWAY_MODE=development\)/);
    expect(webhookUrlProblem("http://example.com/hooks", local)).to.match(/https/);
    expect(webhookUrlProblem("https://example.com/hooks", remote)).to.equal(undefined);
    expect(webhookUrlProblem("https://user:pw@example.com/hooks", remote)).to.match(/credentials/);
    // The URL parser's other spellings of 127.0.0.1 and of mapped addresses are caught too.
    for (const url of ["https://2130706433/", "https://0x7f.1/", "https://[::ffff:127.0.0.1]/", "https://LOCALHOST./", "https://a.localhost/"]) {
      expect(webhookUrlProblem(url, local), url).to.be.a("string");
    }
  });

  it("refuses at send time a host that resolves to a loopback address, unless it is the local network's plain-http exception", async () => {
    const local = { allowLoopbackHttp: true };
    const refusal = (p: Promise<unknown>) => p.then(() => "allowed", (e: Error) => e.message);
    expect(await checkedAddress(new URL("http://127.0.0.1:9/"), local)).to.deep.equal({ address: "127.0.0.1", family: 4 });
    expect(await refusal(checkedAddress(new URL("http://127.0.0.1:9/"), { allowLoopbackHttp: false }))).to.match(/may not reach/);
    // A DNS name (localhost resolves through the hosts file) over https: refused after resolving.
    expect(await refusal(checkedAddress(new URL("https://localhost:9/"), local))).to.match(/may not reach/);
    const transport = httpTransport({ allowLoopbackHttp: false });
    const refused = await transport({ url: "http://127.0.0.1:9/", headers: {}, body: "{}", signal: AbortSignal.timeout(1000) }).catch((e: { code?: string }) => e);
    expect(refused).to.include({ code: "EADDRNOTPUBLIC" });
  });

  it("reads at most 64 KiB of an answer and keeps a short excerpt", async () => {
    let written = 0;
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(500, { "content-type": "text/plain" });
        const chunk = Buffer.alloc(16 * 1024, "x");
        const pump = () => {
          while (written < 64 * 1024 * 1024 && !res.destroyed) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          res.end();
        };
        pump();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await httpTransport({ allowLoopbackHttp: true })({ url: `http://127.0.0.1:${port}/`, headers: {}, body: "{}", signal: AbortSignal.timeout(30_000) });
      expect(answer.status).to.equal(500);
      expect(answer.excerpt).to.have.length(RESPONSE_EXCERPT_CHARS);
      expect(written, "the gateway stopped reading long before the end").to.be.lessThan(64 * 1024 * 1024);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe("review fixes on the local system", function () {
  let t: TestGateway;

  before(async () => {
    t = await testGateway({ GATEWAY_VELOCITY_DRAWDOWNS_PER_HOUR: "1", GATEWAY_LIMIT_REVIEW_INTERVAL_DAYS: "90" });
    await t.gateway.servicing.stop();
  });

  after(async () => {
    await t.gateway.stop();
  });

  it("answers a retried drawdown that tripped a velocity rule with the same 422, starting no second freeze", async () => {
    const applied = await post(t, "/v1/applications", applicationBody());
    const accountId: string = applied.body.accountId;
    expect((await post(t, "/v1/purchases", { accountId, amount: "1000" })).status).to.equal(201);
    const key = newIdempotencyKey();
    const first = await post(t, "/v1/purchases", { accountId, amount: "1000" }, { idempotencyKey: key });
    expect(first.status, JSON.stringify(first.body)).to.equal(422);
    expect(first.body.type).to.equal("/problems/velocity-hold");
    const again = await post(t, "/v1/purchases", { accountId, amount: "1000" }, { idempotencyKey: key });
    expect(again.status).to.equal(422);
    expect(again.headers["idempotent-replayed"]).to.equal("true");
    expect(again.body).to.deep.equal(first.body);
    expect(await t.gateway.servicingStore.holdsOf(accountId)).to.have.length(1);
    const freezes = t.store.db.prepare("SELECT COUNT(*) AS n FROM operations WHERE account_id = ? AND kind = 'freeze'").get(accountId) as { n: number };
    expect(freezes.n).to.equal(1);
  });

  it("records a limit review made on request, and the periodic review waits a full interval after it", async () => {
    const applied = await post(t, "/v1/applications", applicationBody({ features: MIDDLE_FEATURES }));
    const accountId: string = applied.body.accountId;
    // 89 days later the partner asks for a review; a day later the periodic one is not due.
    const moved = await post(t, "/v1/admin/clock/advance", { days: 89 }, { key: t.keys.admin });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    const asked = await post(t, `/v1/accounts/${accountId}/limit-reviews`, { product: "pay_later", features: MIDDLE_FEATURES });
    expect(asked.status, JSON.stringify(asked.body)).to.equal(200);
    const [record] = await t.gateway.servicingStore.reviewsOf(accountId);
    expect(record).to.include({ outcome: asked.body.outcome, score: asked.body.score });
    const later = await post(t, "/v1/admin/clock/advance", { days: 2 }, { key: t.keys.admin });
    expect(later.status).to.equal(200);
    expect(later.body.run.limitReviews.filter((r: { accountId: string }) => r.accountId === accountId)).to.deep.equal([]);
  });

  it("does not move the chain twice when a clock advance is retried after its run failed", async () => {
    const servicing = t.gateway.servicing as unknown as { runNow: (tasks: unknown) => Promise<unknown> };
    const runNow = servicing.runNow.bind(servicing);
    let failures = 1;
    servicing.runNow = async (tasks) => {
      if (failures-- > 0) throw new Error("the run failed");
      return runNow(tasks);
    };
    try {
      const before = Number((await t.provider.getBlock("latest"))!.timestamp);
      const key = newIdempotencyKey();
      const failed = await post(t, "/v1/admin/clock/advance", { days: 10 }, { key: t.keys.admin, idempotencyKey: key });
      expect(failed.status).to.equal(500);
      const retried = await post(t, "/v1/admin/clock/advance", { days: 10 }, { key: t.keys.admin, idempotencyKey: key });
      expect(retried.status, JSON.stringify(retried.body)).to.equal(200);
      const after = Number((await t.provider.getBlock("latest"))!.timestamp);
      expect(after - before).to.be.at.least(10 * 86_400);
      expect(after - before, "the chain moved twice").to.be.lessThan(20 * 86_400);
      // The answer is the time the one move reached (a block mined since, by the run's own
      // operations, may be a second later).
      expect(Number(retried.body.chainTime)).to.be.at.least(before + 10 * 86_400).and.at.most(after);
      const replayed = await post(t, "/v1/admin/clock/advance", { days: 10 }, { key: t.keys.admin, idempotencyKey: key });
      expect(replayed.body).to.deep.equal(retried.body);
    } finally {
      servicing.runNow = runNow;
    }
  });
});
