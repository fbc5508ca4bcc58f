/**
 * Per-partner rate limits (server/api/rate-limits.ts): a partner may send its rate plus its
 * burst within a minute, counted for all its keys together; beyond that it is answered 429
 * `rate-limited` with `Retry-After`; every answer to a partner carries the RateLimit-* headers,
 * which count down to the refusal; another partner is unaffected; a settings change made
 * through the admin API applies at the next request. Counts and headers only, never timings.
 */
import { expect } from "chai";
import type { Response } from "supertest";

import { get, post, testGateway, type TestGateway } from "../helpers/gateway";

const PROBE = "/v1/webhooks";
const RATE = 3;
const BURST = 2;

async function limitedPartner(t: TestGateway, name: string) {
  const created = await post(t, "/v1/admin/partners", { name, ratePerMinute: RATE, burst: BURST }, { key: t.keys.admin });
  expect(created.status, JSON.stringify(created.body)).to.equal(201);
  const id = created.body.partner.id as string;
  const second = await post(t, `/v1/admin/partners/${id}/keys`, { name: "second" }, { key: t.keys.admin });
  expect(second.status).to.equal(201);
  return { id, keys: [created.body.key.key as string, second.body.key as string] };
}

function rateHeaders(res: Response) {
  return {
    limit: res.headers["ratelimit-limit"],
    remaining: res.headers["ratelimit-remaining"],
    reset: Number(res.headers["ratelimit-reset"]),
  };
}

describe("per-partner rate limits", function () {
  let t: TestGateway;

  before(async () => {
    t = await testGateway();
  });
  after(async () => {
    await t.gateway.stop();
  });

  it("allows a partner its rate plus its burst, counted across its keys, with headers that count down, then answers 429 rate-limited with Retry-After", async () => {
    const p = await limitedPartner(t, "Limited");
    const budget = RATE + BURST;
    for (let i = 0; i < budget; i++) {
      const res = await get(t, PROBE, p.keys[i % 2]);
      expect(res.status, `request ${i + 1}: ${JSON.stringify(res.body)}`).to.equal(200);
      const h = rateHeaders(res);
      expect(h.limit).to.equal(String(budget));
      expect(h.remaining, `request ${i + 1}`).to.equal(String(budget - i - 1));
      expect(h.reset).to.be.within(1, 60);
    }
    for (const key of p.keys) {
      const refused = await get(t, PROBE, key);
      expect(refused.status).to.equal(429);
      expect(refused.type).to.equal("application/problem+json");
      expect(refused.body.type).to.equal("/problems/rate-limited");
      expect(Number(refused.headers["retry-after"])).to.be.within(1, 60);
      expect(refused.body.retryAfterSeconds).to.equal(Number(refused.headers["retry-after"]));
      expect(rateHeaders(refused)).to.include({ limit: String(budget), remaining: "0" });
    }
  });

  it("counts per partner: another partner's requests are not refused when one is", async () => {
    const busy = await limitedPartner(t, "Busy");
    const quiet = await limitedPartner(t, "Quiet");
    for (let i = 0; i < RATE + BURST; i++) await get(t, PROBE, busy.keys[0]);
    expect((await get(t, PROBE, busy.keys[1])).status).to.equal(429);
    const res = await get(t, PROBE, quiet.keys[0]);
    expect(res.status).to.equal(200);
    expect(rateHeaders(res).remaining).to.equal(String(RATE + BURST - 1));
  });

  it("applies a settings change made through the admin API at the partner's next request", async () => {
    const p = await limitedPartner(t, "Raised");
    for (let i = 0; i < RATE + BURST; i++) await get(t, PROBE, p.keys[0]);
    expect((await get(t, PROBE, p.keys[0])).status).to.equal(429);
    const raised = await post(t, `/v1/admin/partners/${p.id}/settings`, { ratePerMinute: 100, burst: 0 }, { key: t.keys.admin });
    expect(raised.status).to.equal(200);
    const res = await get(t, PROBE, p.keys[1]);
    expect(res.status).to.equal(200);
    expect(rateHeaders(res).limit).to.equal("100");
  });

  it("does not limit the operator's keys (admin, auditor): their answers carry no RateLimit headers", async () => {
    const res = await get(t, "/v1/admin/partners", t.keys.admin);
    expect(res.status).to.equal(200);
    expect(res.headers["ratelimit-limit"]).to.equal(undefined);
  });
});
