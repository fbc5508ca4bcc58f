/**
 * Partner and key management through the admin API (server/api/admin-routes.ts): a partner's
 * key works from the answer that created it, and is shown in that answer only; a rotated key
 * works through its overlap and not after; a revoked key and a suspended partner are refused
 * at the very next request; every change is in the admin audit log; only admin keys reach
 * these routes. The suspension and scope checks are driven from the route table, so a new
 * route is covered without a change here.
 */
import { expect } from "chai";
import request from "supertest";

import { hashApiKey } from "../../server/auth/api-keys";
import type { RouteDef } from "../../server/api/route-table";
import { buildRoutes } from "../../server/api/routes";
import { DEFAULT_MODEL } from "../../server/scoring/underwriting";
import { get, newIdempotencyKey, post, testGateway, type TestGateway } from "../helpers/gateway";

/** The route table as the app mounts it (only `model` is used when the table is built). */
const ROUTES: RouteDef[] = buildRoutes({ model: DEFAULT_MODEL, development: true } as Parameters<typeof buildRoutes>[0]);

/** A partner route that answers 200 to any partner key: the probe of whether a key works. */
const PROBE = "/v1/webhooks";

/** A request to a route with placeholder path parameters: the key is judged before any of them. */
function callRoute(t: TestGateway, route: RouteDef, key: string) {
  const path = route.path.replace(/\{[^}]+\}/g, "placeholder");
  const r = request(t.gateway.app)[route.method](path).set("Authorization", `Bearer ${key}`);
  return route.method === "post" ? r.set("Idempotency-Key", newIdempotencyKey()).send({}) : r;
}

const admin = {
  post: (t: TestGateway, path: string, body: unknown, idempotencyKey?: string) => post(t, path, body, { key: t.keys.admin, idempotencyKey }),
  get: (t: TestGateway, path: string) => get(t, path, t.keys.admin),
};

async function newPartner(t: TestGateway, body: Record<string, unknown> = {}) {
  const res = await admin.post(t, "/v1/admin/partners", { name: "Acme Shop", ...body });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return { id: res.body.partner.id as string, key: res.body.key.key as string, keyId: res.body.key.id as string, res };
}

const works = async (t: TestGateway, key: string) => (await get(t, PROBE, key)).status;

function expectProblem(res: request.Response, status: number, slug: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.type).to.equal("application/problem+json");
  expect(res.body.type).to.equal(`/problems/${slug}`);
}

describe("admin API: partners and their keys", function () {
  let t: TestGateway;
  let adminKeyId: string;

  before(async () => {
    t = await testGateway();
    adminKeyId = (await t.store.findApiKeyByHash(hashApiKey(t.keys.admin)))!.id;
  });
  after(async () => {
    await t.gateway.stop();
  });

  it("creates a partner whose key works at once; the key is in that answer only (a retry answers key: null) and the store holds only its hash", async () => {
    const idem = newIdempotencyKey();
    const body = { name: "Shown Once", ratePerMinute: 120, burst: 10, products: ["pay_later"], webhookQuota: 3 };
    const first = await admin.post(t, "/v1/admin/partners", body, idem);
    expect(first.status).to.equal(201);
    expect(first.body.partner).to.include({ name: "Shown Once", status: "active", ratePerMinute: 120, burst: 10, webhookQuota: 3 });
    expect(first.body.partner.products).to.deep.equal(["pay_later"]);
    const key = first.body.key.key as string;
    expect(key).to.match(/^clk_[A-Za-z0-9_-]{43}$/);
    expect(await works(t, key)).to.equal(200);

    const retry = await admin.post(t, "/v1/admin/partners", body, idem);
    expect(retry.status).to.equal(201);
    expect(retry.body.partner.id).to.equal(first.body.partner.id);
    expect(retry.body.key.id).to.equal(first.body.key.id);
    expect(retry.body.key.key).to.equal(null);
    expect((await t.store.partners()).filter((p) => p.name === "Shown Once")).to.have.length(1);

    const stored = (await t.store.apiKey(first.body.key.id))!;
    expect(stored.keyHash).to.equal(hashApiKey(key));
    const rows = t.store.db.prepare("SELECT * FROM api_keys WHERE id = ?").all(first.body.key.id);
    expect(JSON.stringify(rows)).not.to.include(key);
  });

  it("lists partners and shows one with its keys, never the keys themselves or their hashes", async () => {
    const p = await newPartner(t, { name: "Listed" });
    const list = await admin.get(t, "/v1/admin/partners");
    expect(list.status).to.equal(200);
    expect(list.body.partners.map((x: { id: string }) => x.id)).to.include(p.id);

    const shown = await admin.get(t, `/v1/admin/partners/${p.id}`);
    expect(shown.status).to.equal(200);
    expect(shown.body.partner).to.include({ id: p.id, name: "Listed", status: "active", ratePerMinute: 600, burst: 100, webhookQuota: 20 });
    expect(shown.body.keys.map((k: { id: string }) => k.id)).to.deep.equal([p.keyId]);
    const text = JSON.stringify(shown.body) + JSON.stringify((await admin.get(t, `/v1/admin/partners/${p.id}/keys`)).body);
    expect(text).not.to.include(p.key);
    expect(text).not.to.include(hashApiKey(p.key));
  });

  it("changes a partner's settings, naming only what changes", async () => {
    const p = await newPartner(t);
    const res = await admin.post(t, `/v1/admin/partners/${p.id}/settings`, { ratePerMinute: 30, products: ["cash_loan"] });
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ id: p.id, name: "Acme Shop", ratePerMinute: 30, burst: 100 });
    expect(res.body.products).to.deep.equal(["cash_loan"]);
    expect((await t.store.partner(p.id))!.ratePerMinute).to.equal(30);
    expectProblem(await admin.post(t, `/v1/admin/partners/${p.id}/settings`, {}), 400, "validation-failed");
    expectProblem(await admin.post(t, `/v1/admin/partners/${p.id}/settings`, { ratePerMinute: 0 }), 400, "validation-failed");
  });

  it("rotates a key: the old one works through the overlap and stops after it; the new one works", async () => {
    const p = await newPartner(t);
    const res = await admin.post(t, `/v1/admin/partners/${p.id}/keys/${p.keyId}/rotate`, { overlapSeconds: 60 });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const replacement = res.body.key.key as string;
    expect(res.body.previous.id).to.equal(p.keyId);
    expect(Date.parse(res.body.previous.expiresAt)).to.equal(t.clock.nowMs() + 60_000);
    expect(await works(t, p.key)).to.equal(200);
    expect(await works(t, replacement)).to.equal(200);

    t.clock.advanceMs(59_000);
    expect(await works(t, p.key)).to.equal(200);
    t.clock.advanceMs(1_000);
    expectProblem(await get(t, PROBE, p.key), 401, "unauthorized");
    expect(await works(t, replacement)).to.equal(200);
  });

  it("revokes a key: the very next request with it is 401, as an unknown key is", async () => {
    const p = await newPartner(t);
    expect(await works(t, p.key)).to.equal(200);
    const res = await admin.post(t, `/v1/admin/partners/${p.id}/keys/${p.keyId}/revoke`, { reason: "leaked in a log" });
    expect(res.status).to.equal(200);
    expect(res.body.revokedAt).to.be.a("string");
    const revoked = await get(t, PROBE, p.key);
    const unknown = await get(t, PROBE, `clk_${"A".repeat(43)}`);
    expectProblem(revoked, 401, "unauthorized");
    expect(revoked.body.detail).to.equal(unknown.body.detail);
    expectProblem(await admin.post(t, `/v1/admin/partners/${p.id}/keys/${p.keyId}/revoke`, { reason: "again" }), 404, "key-not-found");
  });

  it("refuses a suspended partner with 403 partner-suspended on every partner route, before any validation; reactivation restores access", async () => {
    const p = await newPartner(t);
    const second = await admin.post(t, `/v1/admin/partners/${p.id}/keys`, { name: "second" });
    expect(second.status).to.equal(201);
    const suspended = await admin.post(t, `/v1/admin/partners/${p.id}/suspend`, { reason: "unpaid invoices" });
    expect(suspended.status).to.equal(200);
    expect(suspended.body.status).to.equal("suspended");

    const partnerRoutes = ROUTES.filter((r) => r.scopes.includes("partner"));
    expect(partnerRoutes.length).to.be.greaterThan(10);
    for (const route of partnerRoutes) {
      for (const key of [p.key, second.body.key as string]) {
        const res = await callRoute(t, route, key);
        expectProblem(res, 403, "partner-suspended");
      }
    }
    expect(await works(t, t.keys.partner), "another partner is not affected").to.equal(200);

    const reactivated = await admin.post(t, `/v1/admin/partners/${p.id}/reactivate`, { reason: "paid" });
    expect(reactivated.status).to.equal(200);
    expect(reactivated.body.status).to.equal("active");
    expect(await works(t, p.key)).to.equal(200);
    expect(await works(t, second.body.key)).to.equal(200);
  });

  it("records every admin action in the audit log with actor, action, target, reason, before and after, newest first, paged with before", async () => {
    const p = await newPartner(t, { name: "Audited" });
    await admin.post(t, `/v1/admin/partners/${p.id}/settings`, { burst: 5 });
    const issued = await admin.post(t, `/v1/admin/partners/${p.id}/keys`, { name: "spare" });
    await admin.post(t, `/v1/admin/partners/${p.id}/keys/${p.keyId}/rotate`, { overlapSeconds: 0 });
    await admin.post(t, `/v1/admin/partners/${p.id}/keys/${issued.body.id}/revoke`, { reason: "not needed" });
    await admin.post(t, `/v1/admin/partners/${p.id}/suspend`, { reason: "review" });
    await admin.post(t, `/v1/admin/partners/${p.id}/reactivate`, { reason: "reviewed" });

    const log = await admin.get(t, "/v1/admin/audit-log?limit=1000");
    expect(log.status).to.equal(200);
    const records = log.body.records as { id: number; actor: string; action: string; target: string; reason: string | null; before: any; after: any }[];
    const ids = records.map((r) => r.id);
    expect(ids).to.deep.equal([...ids].sort((a, b) => b - a), "newest first");
    const mine = records.filter((r) => r.target === p.id || r.target.startsWith(`${p.id}/`)).reverse();
    expect(mine.map((r) => r.action)).to.deep.equal([
      "partner.create",
      "key.issue",
      "partner.settings",
      "key.issue",
      "key.rotate",
      "key.revoke",
      "partner.suspend",
      "partner.reactivate",
    ]);
    for (const r of mine) expect(r.actor).to.equal(adminKeyId);
    const [, , settings, , rotate, revoke, suspend, reactivate] = mine;
    expect(settings.before.burst).to.equal(100);
    expect(settings.after.burst).to.equal(5);
    expect(rotate.target).to.equal(`${p.id}/${p.keyId}`);
    expect(rotate.before.expiresAt).to.equal(null);
    expect(rotate.after.previous.expiresAt).to.be.a("string");
    expect(rotate.after.replacement.id).to.match(/^key_/);
    expect(revoke).to.include({ reason: "not needed", target: `${p.id}/${issued.body.id}` });
    expect(revoke.before.revokedAt).to.equal(null);
    expect(revoke.after.revokedAt).to.be.a("string");
    expect(suspend.reason).to.equal("review");
    expect([suspend.before.status, suspend.after.status]).to.deep.equal(["active", "suspended"]);
    expect([reactivate.before.status, reactivate.after.status]).to.deep.equal(["suspended", "active"]);
    expect(JSON.stringify(records)).not.to.include(p.key);
    expect(JSON.stringify(records)).not.to.include("keyHash");

    const first = await admin.get(t, "/v1/admin/audit-log?limit=3");
    const next = await admin.get(t, `/v1/admin/audit-log?limit=3&before=${first.body.records[2].id}`);
    expect([...first.body.records, ...next.body.records].map((r: { id: number }) => r.id)).to.deep.equal(ids.slice(0, 6));
  });

  it("refuses partner and auditor keys on every admin-only route with 403 forbidden", async () => {
    const adminRoutes = ROUTES.filter((r) => r.scopes.length === 1 && r.scopes[0] === "admin");
    expect(adminRoutes.map((r) => r.operationId)).to.include.members(["createPartner", "getAdminAuditLog", "revokePartnerKey"]);
    for (const route of adminRoutes) {
      for (const key of [t.keys.partner, t.keys.auditor]) {
        const res = await callRoute(t, route, key);
        expectProblem(res, 403, "forbidden");
      }
    }
  });

  it("answers partner-not-found and key-not-found for ids that do not exist, and key-not-found for another partner's key", async () => {
    const p = await newPartner(t);
    const other = await newPartner(t, { name: "Other" });
    const nobody = "ptr_00000000000000ff";
    const noKey = "key_00000000000000ff";
    expectProblem(await admin.get(t, `/v1/admin/partners/${nobody}`), 404, "partner-not-found");
    expectProblem(await admin.get(t, `/v1/admin/partners/${nobody}/keys`), 404, "partner-not-found");
    expectProblem(await admin.post(t, `/v1/admin/partners/${nobody}/suspend`, { reason: "x" }), 404, "partner-not-found");
    expectProblem(await admin.post(t, `/v1/admin/partners/${nobody}/settings`, { burst: 1 }), 404, "partner-not-found");
    expectProblem(await admin.post(t, `/v1/admin/partners/${nobody}/keys`, { name: "x" }), 404, "partner-not-found");
    expectProblem(await admin.post(t, `/v1/admin/partners/${p.id}/keys/${noKey}/rotate`, { overlapSeconds: 0 }), 404, "key-not-found");
    expectProblem(await admin.post(t, `/v1/admin/partners/${p.id}/keys/${other.keyId}/rotate`, { overlapSeconds: 0 }), 404, "key-not-found");
    expectProblem(await admin.post(t, `/v1/admin/partners/${p.id}/keys/${other.keyId}/revoke`, { reason: "x" }), 404, "key-not-found");
    expect(await works(t, other.key), "the other partner's key is untouched").to.equal(200);
  });
});
