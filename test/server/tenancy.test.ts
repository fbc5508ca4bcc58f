/**
 * Partners are tenants (docs/API.md, "Partners are tenants"). Partner A's borrower has an
 * account with loans, an operation, a webhook endpoint and its deliveries; partner B has its
 * own borrower. For every partner route in the route table, B acting on A's account, loan,
 * operation, webhook or delivery gets exactly what an unknown id gets (status, headers, body
 * with the id itself replaced), and the database, the outbox and the chain stay as they were.
 * Then the borrower applies through B too: one identity, one account, now linked to both, and
 * B sees the lines and limits and only its own loans, entries and events; loan-level webhook
 * events go to the loan's partner only, line-level ones to both.
 */
import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import request from "supertest";

import type { RouteDef } from "../../server/api/route-table";
import { buildRoutes } from "../../server/api/routes";
import { EVENT_TYPES } from "../../server/schemas/servicing";
import { DEFAULT_MODEL } from "../../server/scoring/underwriting";
import { startReceiver, zoneAtNoon, type Receiver } from "../servicing/receiver";
import { GOOD_FEATURES } from "../helpers/identities";
import { applicationBody, approvedAccount, get, newIdempotencyKey, post, testGateway, type TestGateway } from "../helpers/gateway";

const ROUTES: RouteDef[] = buildRoutes({ model: DEFAULT_MODEL, development: true } as Parameters<typeof buildRoutes>[0]);

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/** Ids of things partner A has, or (for the unknown twin) that nobody has. */
interface Ids {
  accountId: string;
  purchaseLoanId: string;
  cashLoanId: string;
  operationId: string;
  webhookId: string;
  deliveryId: string;
}

/** A request of one route, built from ids. */
interface Call {
  params: Record<string, string>;
  body?: Record<string, unknown>;
}

/**
 * For each partner route that takes an id of something a partner owns, the request B makes
 * with A's ids (and, with unknown ids, its twin). `mine` overrides ids B legitimately holds
 * (its own webhook, to ask for A's delivery through it).
 */
const CROSS: Record<string, Array<{ label: string; call: (ids: Ids, mine: { webhookId: string }) => Call }>> = {
  quote: [{ label: "a quote at A's borrower's rate", call: (i) => ({ params: {}, body: { product: "cash_loan", amount: "10000", periods: 6, accountId: i.accountId } }) }],
  purchase: [{ label: "a purchase on A's account", call: (i) => ({ params: {}, body: { accountId: i.accountId, amount: "1000", installments: 1 } }) }],
  refund: [{ label: "a refund of A's purchase", call: (i) => ({ params: { loanId: i.purchaseLoanId }, body: { amount: "100" } }) }],
  drawCashLoan: [{ label: "a cash loan on A's account", call: (i) => ({ params: {}, body: { accountId: i.accountId, amount: "10000", periods: 6, method: "annuity" } }) }],
  repay: [
    { label: "a repayment of A's loan", call: (i) => ({ params: {}, body: { loanId: i.cashLoanId, amount: "100" } }) },
    { label: "a repayment of A's loan named by its operation", call: (i) => ({ params: {}, body: { loanId: i.operationId, amount: "100" } }) },
  ],
  getAccount: [{ label: "A's account", call: (i) => ({ params: { accountId: i.accountId } }) }],
  getAccountHistory: [{ label: "A's account's history", call: (i) => ({ params: { accountId: i.accountId } }) }],
  getLoan: [
    { label: "A's cash loan", call: (i) => ({ params: { loanId: i.cashLoanId } }) },
    { label: "A's purchase", call: (i) => ({ params: { loanId: i.purchaseLoanId } }) },
    { label: "A's cash loan by the id of the operation that drew it", call: (i) => ({ params: { loanId: i.operationId } }) },
  ],
  getOperation: [{ label: "A's operation", call: (i) => ({ params: { operationId: i.operationId } }) }],
  freezeLine: [{ label: "freezing A's borrower's line", call: (i) => ({ params: { accountId: i.accountId }, body: { product: "pay_later", reasonCode: 7 } }) }],
  reviewLimit: [
    {
      label: "a limit review of A's borrower's line",
      call: (i) => ({ params: { accountId: i.accountId }, body: { product: "pay_later", features: GOOD_FEATURES } }),
    },
  ],
  raiseLimitTemporarily: [
    {
      label: "a temporary raise of A's borrower's line",
      call: (i) => ({ params: { accountId: i.accountId }, body: { product: "pay_later", features: GOOD_FEATURES, days: 7 } }),
    },
  ],
  getCreditReport: [{ label: "A's borrower's credit report", call: (i) => ({ params: { accountId: i.accountId } }) }],
  deleteWebhook: [{ label: "deleting A's webhook", call: (i) => ({ params: { webhookId: i.webhookId } }) }],
  listWebhookDeliveries: [{ label: "A's webhook's deliveries", call: (i) => ({ params: { webhookId: i.webhookId } }) }],
  replayWebhookDelivery: [
    { label: "replaying A's delivery on A's webhook", call: (i) => ({ params: { webhookId: i.webhookId }, body: { deliveryId: i.deliveryId } }) },
    { label: "replaying A's delivery through B's own webhook", call: (i, mine) => ({ params: { webhookId: mine.webhookId }, body: { deliveryId: i.deliveryId } }) },
  ],
};

/** Partner routes without a cross-partner case here, and where their tenancy is shown instead. */
const NO_CROSS_CASE: Record<string, string> = {
  apply: "takes an identity, not an id: applying for A's borrower links the account (the one-identity test below)",
  registerWebhook: "takes no id: the endpoint is B's own (its quota is B's, server/servicing/webhooks.ts)",
  listWebhooks: "takes no id: B's list holds only B's endpoints (asserted below)",
};

/** Header values that differ between any two requests. */
const VOLATILE_HEADERS = new Set(["date", "x-request-id", "ratelimit-remaining", "ratelimit-reset", "ratelimit", "content-length", "etag"]);

describe("partners are tenants: B reaches nothing of A's, and what it may not reach answers as an unknown id", function () {
  let t: TestGateway;
  let a: string;
  let b: string;
  let ids: Ids;
  let unknown: Ids;
  let bHook: { id: string };
  let bAccount: string;
  const nationalId = applicationBody().identity.nationalId as string;
  const receivers: Record<"a" | "b", Receiver | undefined> = { a: undefined, b: undefined };

  /** Every row of every table and the chain's state: what a refused request must leave alone. */
  async function snapshot(): Promise<Record<string, unknown>> {
    const db = t.store.db;
    const tables: Record<string, string> = {};
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>) {
      const rows = (db.prepare(`SELECT * FROM "${name}"`).all() as unknown[]).map((r) => JSON.stringify(r)).sort();
      tables[name] = createHash("sha256").update(rows.join("\n")).digest("hex");
    }
    const onChain = await t.l.ledger.accountOf(ids.accountId);
    return {
      tables,
      outbox: await t.store.outboxDepth(),
      block: await t.provider.getBlockNumber(),
      operatorNonce: await t.provider.getTransactionCount(t.operator.address),
      account: `seq ${onChain.seq} head ${onChain.head} used ${onChain.used}`,
    };
  }

  /** B sends the route's call; the answer as compared (ids in it replaced by their role). */
  async function send(route: RouteDef, call: Call, names: Record<string, string>) {
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => call.params[name]);
    let req = (request(t.gateway.app) as unknown as Record<string, (p: string) => request.Test>)[route.method](path).set("Authorization", `Bearer ${b}`);
    if (route.method === "post") req = req.set("Idempotency-Key", newIdempotencyKey());
    const res = call.body === undefined ? await req : await req.send(call.body);
    let text = JSON.stringify(res.body);
    // Longest first: a loan id holds its account's id.
    for (const [id, role] of Object.entries(names).sort(([x], [y]) => y.length - x.length)) {
      text = text.split(id).join(`<${role}>`).split(id.toLowerCase()).join(`<${role}>`);
      // A ledger refusal names a loan by account and number: the number is the id's too.
      const loanNo = /^0x[0-9a-f]{64}:(\d+)$/i.exec(id)?.[1];
      if (loanNo !== undefined) text = text.split(`"loanNo":"${loanNo}"`).join(`"loanNo":"<${role} number>"`);
    }
    const headers = Object.entries(res.headers as Record<string, string>)
      .filter(([h]) => !VOLATILE_HEADERS.has(h))
      .sort(([x], [y]) => x.localeCompare(y));
    return { status: res.status, headers, body: JSON.parse(text) as unknown, raw: JSON.stringify(res.body) };
  }

  const roles = (i: Ids): Record<string, string> => ({
    [i.accountId]: "account",
    [i.purchaseLoanId]: "purchase",
    [i.cashLoanId]: "cash loan",
    [i.operationId]: "operation",
    [i.webhookId]: "webhook",
    [i.deliveryId]: "delivery",
  });

  /** B on A's things answers as B on unknown things, and changes nothing. */
  async function expectAsUnknown(routes: RouteDef[], theirs: Ids, nobody: Ids): Promise<number> {
    let compared = 0;
    const failures: string[] = [];
    for (const route of routes) {
      for (const c of CROSS[route.operationId] ?? []) {
        const before = await snapshot();
        const forbidden = await send(route, c.call(theirs, { webhookId: bHook.id }), roles(theirs));
        const absent = await send(route, c.call(nobody, { webhookId: bHook.id }), roles(nobody));
        const after = await snapshot();
        const what = `${route.operationId}, ${c.label}`;
        if (forbidden.status < 400 || forbidden.status > 499) failures.push(`${what}: answered ${forbidden.status} ${forbidden.raw.slice(0, 200)}`);
        else if (JSON.stringify(forbidden) !== JSON.stringify({ ...absent, raw: forbidden.raw })) {
          failures.push(`${what}:\n  A's:     ${forbidden.status} ${JSON.stringify(forbidden.body)}\n  unknown: ${absent.status} ${JSON.stringify(absent.body)}`);
        }
        if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`${what}: the database, the outbox or the chain changed`);
        compared++;
      }
    }
    expect(failures, "B's answers on A's things").to.deep.equal([]);
    return compared;
  }

  before(async () => {
    t = await testGateway();
    a = t.keys.partner;
    b = t.keys.partner2;
    receivers.a = await startReceiver();
    receivers.b = await startReceiver();
    const hookA = await post(t, "/v1/webhooks", { url: receivers.a.url, events: [...EVENT_TYPES] }, { key: a });
    const hookB = await post(t, "/v1/webhooks", { url: receivers.b.url, events: [...EVENT_TYPES] }, { key: b });
    expect([hookA.status, hookB.status]).to.deep.equal([201, 201]);
    bHook = hookB.body;

    // Around noon where the borrower lives, so quiet hours do not hold reminders back.
    const now = Number((await t.provider.getBlock("latest"))!.timestamp);
    const applied = await post(t, "/v1/applications", applicationBody({ product: "pay_later", timeZone: zoneAtNoon(now) }, { nationalId }), { key: a });
    expect(applied.status, JSON.stringify(applied.body)).to.equal(201);
    const accountId: string = applied.body.accountId;
    expect(await approvedAccount(t, "cash_loan", { nationalId }, a)).to.equal(accountId);
    const purchase = await post(t, "/v1/purchases", { accountId, amount: "30000", installments: 3 }, { key: a });
    const loan = await post(t, "/v1/loans", { accountId, amount: "60000", periods: 6, method: "annuity" }, { key: a });
    expect([purchase.status, loan.status]).to.deep.equal([201, 201]);
    bAccount = await approvedAccount(t, "pay_later", {}, b);
    expect((await post(t, "/v1/purchases", { accountId: bAccount, amount: "5000" }, { key: b })).status).to.equal(201);

    await t.gateway.deliverer.deliverDue();
    const deliveries = await get(t, `/v1/webhooks/${hookA.body.id}/deliveries`, a);
    expect(deliveries.status).to.equal(200);
    expect(deliveries.body.deliveries.length, "A's endpoint has deliveries").to.be.greaterThan(0);
    ids = {
      accountId,
      purchaseLoanId: purchase.body.loanId,
      cashLoanId: loan.body.loanId,
      operationId: loan.body.operation.id,
      webhookId: hookA.body.id,
      deliveryId: deliveries.body.deliveries[0].id,
    };
    const nobody = `0x${hex(32)}`;
    unknown = {
      accountId: nobody,
      purchaseLoanId: `${nobody}:1`,
      cashLoanId: `${nobody}:2`,
      operationId: `op_${hex(16)}`,
      webhookId: `wh_${hex(16)}`,
      deliveryId: `dlv_${hex(16)}`,
    };
    await t.gateway.indexer.syncTo(await t.provider.getBlockNumber());
  });

  after(async () => {
    await t?.gateway.stop();
    await receivers.a?.close();
    await receivers.b?.close();
  });

  it("has a cross-partner case for every partner route that takes an id (or says why not)", () => {
    const partnerRoutes = ROUTES.filter((r) => r.scopes.includes("partner")).map((r) => r.operationId);
    const uncovered = partnerRoutes.filter((id) => CROSS[id] === undefined && NO_CROSS_CASE[id] === undefined);
    expect(uncovered, "partner routes with no tenancy case in this file").to.deep.equal([]);
    const stale = [...Object.keys(CROSS), ...Object.keys(NO_CROSS_CASE)].filter((id) => !partnerRoutes.includes(id));
    expect(stale, "cases for routes that are not partner routes").to.deep.equal([]);
  });

  it("answers B on A's account, loans, operation, webhook and delivery exactly as on unknown ids, changing nothing", async () => {
    const compared = await expectAsUnknown(ROUTES, ids, unknown);
    expect(compared).to.equal(Object.values(CROSS).flat().length);
  });

  it("lists only B's own webhook endpoints to B", async () => {
    const listed = await get(t, "/v1/webhooks", b);
    expect(listed.status).to.equal(200);
    expect(listed.body.webhooks.map((w: { id: string }) => w.id)).to.deep.equal([bHook.id]);
  });

  it("sent A's borrower's events to A's endpoint only, and B's borrower's to B's only", async () => {
    await t.gateway.deliverer.deliverDue();
    const accountsIn = (r: Receiver) => new Set(r.received.map((x) => x.body.accountId));
    expect([...accountsIn(receivers.a!)], "A's endpoint").to.deep.equal([ids.accountId]);
    expect([...accountsIn(receivers.b!)], "B's endpoint").to.deep.equal([bAccount]);
  });

  describe("one identity through two partners", () => {
    let beforeLink: { a: number; b: number };
    let bPurchase: string;

    before(() => {
      beforeLink = { a: receivers.a!.received.length, b: receivers.b!.received.length };
    });

    it("answers B's application for a line the person holds with line-exists naming only the account and product, and links the account to B", async () => {
      const res = await post(t, "/v1/applications", applicationBody({ product: "pay_later" }, { nationalId }), { key: b });
      expect(res.status).to.equal(409);
      expect(res.body.type).to.equal("/problems/ledger/line-exists");
      const text = JSON.stringify(res.body);
      for (const theirs of [ids.purchaseLoanId, ids.cashLoanId, ids.operationId, "30000", "60000"]) expect(text).to.not.include(theirs);
      const account = await get(t, `/v1/accounts/${ids.accountId}`, b);
      expect(account.status).to.equal(200);
      expect(account.body.loans, "none of A's loans").to.deep.equal([]);
    });

    it("keeps one account and one exposure cap: B's draw on the same person is on the same account and counts against the same limit", async () => {
      const viewA = (await get(t, `/v1/accounts/${ids.accountId}`, a)).body;
      const payLater = viewA.lines.find((l: { product: string }) => l.product === "pay_later");
      const res = await post(t, "/v1/purchases", { accountId: ids.accountId, amount: "20000", installments: 1 }, { key: b });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      bPurchase = res.body.loanId;
      const viewB = (await get(t, `/v1/accounts/${ids.accountId}`, b)).body;
      expect(viewB.used).to.equal((BigInt(viewA.used) + 20000n).toString());
      expect(viewB.lines.find((l: { product: string }) => l.product === "pay_later").available).to.equal((BigInt(payLater.available) - 20000n).toString());
      expect(viewB.loans.map((l: { loanId: string }) => l.loanId)).to.deep.equal([bPurchase]);
      const viewA2 = (await get(t, `/v1/accounts/${ids.accountId}`, a)).body;
      expect(viewA2.loans.map((l: { loanId: string }) => l.loanId)).to.not.include(bPurchase);
      const auditor = (await get(t, `/v1/accounts/${ids.accountId}`, t.keys.auditor)).body;
      expect(auditor.loans.map((l: { loanId: string }) => l.loanId)).to.include.members([ids.purchaseLoanId, ids.cashLoanId, bPurchase]);
    });

    it("shows B only its own history entries, each with its seq and head, and the auditor the whole chain", async () => {
      await t.gateway.indexer.syncTo(await t.provider.getBlockNumber());
      const full = (await get(t, `/v1/accounts/${ids.accountId}/history`, t.keys.auditor)).body;
      const mine = (await get(t, `/v1/accounts/${ids.accountId}/history`, b)).body;
      expect(full.verified).to.equal(true);
      expect(mine.verified).to.equal(true);
      expect(mine.entries.length).to.equal(1);
      const entry = mine.entries[0];
      expect(entry.fields.loanNo).to.equal(bPurchase.split(":")[1]);
      // The same entry, seq and head, as the whole chain holds it (and the chain: see the verifier).
      expect(full.entries.find((e: { seq: string }) => e.seq === entry.seq)).to.deep.equal(entry);
      const onChain = await t.l.ledger.accountOf(ids.accountId);
      expect(mine.seq).to.equal(onChain.seq.toString());
    });

    it("still answers B on A's loans and operation as on unknown ones, now that B reaches the account", async () => {
      const linked: Ids = { ...unknown, accountId: ids.accountId, purchaseLoanId: `${ids.accountId}:90`, cashLoanId: `${ids.accountId}:91` };
      const loanRoutes = ROUTES.filter((r) => ["refund", "repay", "getLoan", "getOperation", "deleteWebhook", "listWebhookDeliveries", "replayWebhookDelivery"].includes(r.operationId));
      await expectAsUnknown(loanRoutes, ids, linked);
    });

    it("sends a line event to both partners, a loan event to its own partner only, with nothing of the other's", async () => {
      const freeze = await post(t, `/v1/accounts/${ids.accountId}/freeze`, { product: "cash_loan", reasonCode: 7 }, { key: a });
      expect(freeze.status, JSON.stringify(freeze.body)).to.equal(200);
      await t.gateway.deliverer.deliverDue();
      const since = (r: Receiver, n: number) => r.received.slice(n).map((x) => x.body);
      const toA = since(receivers.a!, beforeLink.a);
      const toB = since(receivers.b!, beforeLink.b);
      const frozen = (events: typeof toA) => events.filter((e) => e.type === "line.frozen");
      expect(frozen(toA).length, "A gets the freeze").to.equal(1);
      expect(frozen(toB).map((e) => e.id), "B gets the same freeze").to.deep.equal(frozen(toA).map((e) => e.id));
      expect(frozen(toB)[0].data).to.not.have.property("operationId");
      // B's purchase: confirmed to B only; A's freeze operation: confirmed to A only.
      const confirmed = (events: typeof toA) => events.filter((e) => e.type === "operation.confirmed").map((e) => e.data.kind);
      expect(confirmed(toA)).to.deep.equal(["freeze"]);
      expect(confirmed(toB)).to.deep.equal(["purchase"]);
      for (const e of toB) expect(JSON.stringify(e)).to.not.include(ids.operationId);
      for (const e of toB) expect(JSON.stringify(e)).to.not.include(freeze.body.operation.id);
    });

    it("sends each loan's reminders to its own partner only", async () => {
      const counts = { a: receivers.a!.received.length, b: receivers.b!.received.length };
      // Purchases fall due on their 40th day: 37 days on, both partners' purchases are due soon.
      const advanced = await post(t, "/v1/admin/clock/advance", { days: 37 }, { key: t.keys.admin });
      expect(advanced.status, JSON.stringify(advanced.body)).to.equal(200);
      await t.gateway.deliverer.deliverDue();
      const reminders = (r: Receiver, n: number) =>
        r.received.slice(n).filter((x) => x.body.type.startsWith("reminder.") && x.body.accountId === ids.accountId).map((x) => x.body.data.loanId as string);
      const toA = reminders(receivers.a!, counts.a);
      const toB = reminders(receivers.b!, counts.b);
      expect(toB, "B's reminders").to.include(bPurchase);
      expect(toB.every((l) => l === bPurchase), `B's reminders: ${toB.join(", ")}`).to.equal(true);
      expect(toA, "A's reminders").to.not.include(bPurchase);
      expect(toA.length, "A's reminders").to.be.greaterThan(0);
    });
  });
});
