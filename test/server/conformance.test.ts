/**
 * The answers match the document: every status and problem type the server sends on a route
 * is declared for that route in /openapi.json, with that status, and every body validates
 * against the schema declared for it (so a client generated from the document handles every
 * answer). Statically: each route's problem list is declared under the status the server
 * sends each problem with, and every ledger rule has one type. Dynamically: each route's
 * success and error paths (validation, credentials, scope, suspension, unknown and other
 * partners' ids, the ledger's rules, quotas) are driven against a real chain, and each answer
 * is checked against the document: status, content type, body, problem type.
 */
import Ajv2020 from "ajv/dist/2020";
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import request from "supertest";

import { kebab, ledgerRuleOfSlug, problemStatus } from "../../server/api/ledger-problems";
import { declaredProblems } from "../../server/api/openapi";
import type { RouteDef } from "../../server/api/route-table";
import { buildRoutes } from "../../server/api/routes";
import { DEFAULT_MODEL } from "../../server/scoring/underwriting";
import { CreditLedger__factory } from "../../typechain-types";
import { GOOD_FEATURES } from "../helpers/identities";
import { applicationBody, approvedAccount, kycEvidence, newIdempotencyKey, post, testGateway, type TestGateway } from "../helpers/gateway";
import { writtenOffPayLaterLine } from "../helpers/write-off";

const ROUTES: RouteDef[] = buildRoutes({ model: DEFAULT_MODEL, development: true } as Parameters<typeof buildRoutes>[0]);
const hex = (bytes: number) => randomBytes(bytes).toString("hex");

type Key = "partner" | "partner2" | "auditor" | "admin" | "suspended" | "cashOnly" | "noHooks" | "none";

/** One request of a route. */
interface Req {
  label: string;
  key: Key;
  params?: Record<string, string>;
  query?: string;
  body?: unknown;
  /** A raw body (bytes), sent as JSON. */
  raw?: Buffer;
  /** The raw body's charset (default: none, UTF-8). */
  charset?: string;
  /** Leave out the Idempotency-Key of a POST. */
  noIdempotencyKey?: boolean;
  /** What must come back (the conformance holds for any answer; this pins the path taken). */
  status: number;
  type?: string;
  /** The field the problem must blame. */
  field?: string;
}

interface Answer {
  status: number;
  contentType: string;
  body: unknown;
}

describe("the answers match the OpenAPI document, on every route", function () {
  let t: TestGateway;
  let doc: Record<string, any>;
  let keys: Record<Exclude<Key, "none">, string>;
  let f: {
    accountId: string;
    purchaseLoanId: string;
    cashLoanId: string;
    operationId: string;
    webhookId: string;
    deliveryId: string;
    partnerId: string;
    keyId: string;
    nationalId: string;
    forgettable: string;
    spareWebhookId: string;
    writtenOff: string;
    overdueLoanId: string;
    lowLimit: string;
    lowEvidence: unknown;
  };
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });

  before(async () => {
    t = await testGateway();
    // A loan drawn before the chain moves past a write-off threshold: the writeOff route's case writes it off.
    const overdue = await post(t, "/v1/purchases", { accountId: await approvedAccount(t, "pay_later"), amount: "20000" });
    expect(overdue.status, JSON.stringify(overdue.body)).to.equal(201);
    // First, as it moves the chain past a write-off: every other fixture is made at the new time.
    const writtenOff = (await writtenOffPayLaterLine(t)).accountId;
    doc = (await request(t.gateway.app).get("/openapi.json")).body;
    const partner = (settings: Record<string, unknown>) => t.gateway.partners.create({ name: `p ${hex(2)}`, ratePerMinute: 100_000, burst: 100_000, ...settings }, "test");
    const suspended = await partner({});
    await t.gateway.partners.suspend(suspended.partner.id, "conformance test", "test");
    keys = {
      partner: t.keys.partner,
      partner2: t.keys.partner2,
      auditor: t.keys.auditor,
      admin: t.keys.admin,
      suspended: suspended.key.key,
      cashOnly: (await partner({ products: ["cash_loan"] })).key.key,
      noHooks: (await partner({ webhookQuota: 0 })).key.key,
    };
    const nationalId = applicationBody().identity.nationalId as string;
    const accountId = await approvedAccount(t, "pay_later", { nationalId });
    expect(await approvedAccount(t, "cash_loan", { nationalId })).to.equal(accountId);
    const hook = await post(t, "/v1/webhooks", { url: "http://127.0.0.1:9/hooks", events: ["operation.confirmed"] });
    const purchase = await post(t, "/v1/purchases", { accountId, amount: "30000", installments: 3 });
    const loan = await post(t, "/v1/loans", { accountId, amount: "60000", periods: 6, method: "annuity" });
    expect([hook.status, purchase.status, loan.status]).to.deep.equal([201, 201, 201]);
    const delivery = t.store.db.prepare("SELECT id FROM webhook_deliveries WHERE subscription_id = ? LIMIT 1").get(hook.body.id) as { id: string } | undefined;
    const created = await t.gateway.partners.create({ name: "managed" }, "test");
    f = {
      accountId,
      purchaseLoanId: purchase.body.loanId,
      cashLoanId: loan.body.loanId,
      operationId: loan.body.operation.id,
      webhookId: hook.body.id,
      deliveryId: delivery?.id ?? `dlv_${hex(16)}`,
      partnerId: created.partner.id,
      keyId: created.key.id,
      nationalId,
      forgettable: await approvedAccount(t),
      spareWebhookId: (await post(t, "/v1/webhooks", { url: "http://127.0.0.1:9/spare", events: ["line.frozen"] })).body.id,
      writtenOff,
      overdueLoanId: overdue.body.loanId,
      ...(await lowLimitLine()),
    };
  });

  after(async () => {
    await t?.gateway.stop();
  });

  /** A tier-0 line (no KYC evidence: the tier-0 cap) and new evidence about its person, which a temporary raise lifts it on. */
  async function lowLimitLine() {
    const body = applicationBody();
    const applied = await post(t, "/v1/applications", body);
    expect(applied.status, JSON.stringify(applied.body)).to.equal(201);
    return { lowLimit: applied.body.accountId as string, lowEvidence: await kycEvidence(t, body.identity.nationalId) };
  }

  /** The route's declared answer for a status, or undefined. */
  const declared = (route: RouteDef, status: number) => doc.paths[route.path][route.method].responses[String(status)];

  /** Why an answer does not match the document (undefined: it does). */
  function mismatch(route: RouteDef, a: Answer): string | undefined {
    const response = declared(route, a.status);
    if (!response) return `status ${a.status} is not declared (declared: ${Object.keys(doc.paths[route.path][route.method].responses).join(", ")})`;
    if (!response.content) return a.body === undefined || a.body === "" || (typeof a.body === "object" && Object.keys(a.body as object).length === 0) ? undefined : "a body where none is declared";
    const [mediaType, { schema }] = Object.entries(response.content as Record<string, { schema: unknown }>)[0];
    if (!a.contentType.startsWith(mediaType)) return `content type ${a.contentType}, declared ${mediaType}`;
    const validate = ajv.compile({ ...(schema as object), components: doc.components });
    if (!validate(a.body)) return `the body does not match the declared schema: ${ajv.errorsText(validate.errors)}`;
    if (mediaType === "application/problem+json") {
      const type = (a.body as { type: string }).type;
      if (!(response["x-problem-types"] as string[]).includes(type)) return `problem type ${type} is not declared under ${a.status} (declared: ${response["x-problem-types"].join(", ")})`;
    }
    return undefined;
  }

  async function send(route: RouteDef, r: Req): Promise<Answer> {
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => r.params?.[name] ?? "") + (r.query ? `?${r.query}` : "");
    let req = (request(t.gateway.app) as unknown as Record<string, (p: string) => request.Test>)[route.method](path);
    if (r.key !== "none") req = req.set("Authorization", `Bearer ${keys[r.key]}`);
    if (route.method === "post" && !r.noIdempotencyKey) req = req.set("Idempotency-Key", newIdempotencyKey());
    let res: request.Response;
    if (r.raw) res = await req.set("Content-Type", `application/json${r.charset ? `; charset=${r.charset}` : ""}`).serialize((b: unknown) => b as string).send(r.raw);
    else if (r.body !== undefined) res = await req.send(r.body as object);
    else if (route.method === "post") res = await req.send({});
    else res = await req;
    return { status: res.status, contentType: String(res.headers["content-type"] ?? ""), body: res.status === 204 ? undefined : res.body };
  }

  it("declares each route's problems under the status the server sends them with, and names every ledger rule once", () => {
    const failures: string[] = [];
    for (const route of ROUTES) {
      for (const slug of declaredProblems(route)) {
        const response = declared(route, problemStatus(slug));
        if (!response?.["x-problem-types"]?.includes(`/problems/${slug}`)) failures.push(`${route.operationId}: ${slug} not declared under ${problemStatus(slug)}`);
      }
    }
    expect(failures).to.deep.equal([]);
    const errors = CreditLedger__factory.createInterface()
      .fragments.filter((x) => x.type === "error")
      .map((x) => (x as unknown as { name: string }).name);
    const slugs = errors.map((name) => `ledger/${kebab(name)}`);
    expect(new Set(slugs).size, "one type per rule").to.equal(slugs.length);
    for (const slug of slugs) expect(slug, "words split by one hyphen").to.match(/^ledger\/[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(kebab("NotAPurchase")).to.equal("not-a-purchase");
    expect(kebab("LimitExceeded")).to.equal("limit-exceeded");
    // Errors of calls only the ledger's admin makes (configuration, roles, the two-step admin
    // hand-over and its delay, whose SafeCast of the schedule): the gateway never meets them.
    const adminOnly = [
      "AccessControlBadConfirmation",
      "AccessControlEnforcedDefaultAdminDelay",
      "AccessControlEnforcedDefaultAdminRules",
      "AccessControlInvalidDefaultAdmin",
      "ExpectedPause",
      "InvalidProduct",
      "InvalidShortString",
      "PenaltyAboveCeiling",
      "SafeCastOverflowedUintDowncast",
      "StringTooLong",
    ];
    const unmapped = errors.filter((name) => !adminOnly.includes(name) && ledgerRuleOfSlug(`ledger/${kebab(name)}`) === undefined);
    expect(unmapped, "rules without a status and title").to.deep.equal([]);
  });

  /** Cases every route gets: no key, the wrong scope, a suspended partner, unreadable input. */
  function commonCases(route: RouteDef): Req[] {
    const params = validParams(route);
    const cases: Req[] = [{ label: "no key", key: "none", params, status: 401 }];
    const wrongScope: Key | undefined = !route.scopes.includes("auditor") ? "auditor" : !route.scopes.includes("partner") ? "partner" : undefined;
    if (wrongScope) cases.push({ label: "the wrong scope", key: wrongScope, params, status: 403, type: "/problems/forbidden" });
    cases.push(
      route.scopes.includes("partner")
        ? { label: "a suspended partner", key: "suspended", params, status: 403, type: "/problems/partner-suspended" }
        : { label: "a suspended partner on a route partners may not call", key: "suspended", params, status: 403, type: "/problems/forbidden" }
    );
    const key: Key = route.scopes.includes("partner") ? "partner" : "admin";
    const malformed = Object.fromEntries(Object.keys(params).map((name) => [name, "not-an-id"]));
    if (Object.keys(params).length > 0) cases.push({ label: "a malformed id", key, params: malformed, status: 400, type: "/problems/validation-failed" });
    if (route.method === "post") {
      cases.push({ label: "no Idempotency-Key", key, params, body: {}, noIdempotencyKey: true, status: 400 });
      cases.push({ label: "malformed JSON", key, params, raw: Buffer.from("{"), status: 400, type: "/problems/malformed-json" });
      cases.push({ label: "not UTF-8", key, params, raw: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xc3, 0x22, 0x3a, 0x31, 0x7d]), status: 400, type: "/problems/malformed-json" });
    }
    if (route.method !== "post") cases.push({ label: "a malformed body on a read", key, params, raw: Buffer.from("{"), status: 400, type: "/problems/malformed-json" });
    if (route.method === "post") {
      cases.push({ label: "UTF-16", key, params, raw: Buffer.from("{}", "utf16le"), charset: "utf-16", status: 415, type: "/problems/unsupported-media-type" });
    }
    if (route.query) cases.push({ label: "an unknown query parameter", key, params, query: "bogus=1", status: 400, type: "/problems/validation-failed" });
    return cases;
  }

  function validParams(route: RouteDef): Record<string, string> {
    const byName: Record<string, string> = {
      accountId: f.accountId,
      loanId: route.operationId === "refund" ? f.purchaseLoanId : f.cashLoanId,
      operationId: f.operationId,
      webhookId: f.webhookId,
      partnerId: f.partnerId,
      keyId: f.keyId,
    };
    return Object.fromEntries([...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name, byName[name]]));
  }

  /** Each route's own paths: success, and the errors it can meet. */
  function routeCases(route: RouteDef): Req[] {
    const nobody = `0x${hex(32)}`;
    const A = f.accountId;
    const cases: Record<string, Req[]> = {
      apply: [
        { label: "approved", key: "partner", body: applicationBody(), status: 201 },
        { label: "a line the person holds", key: "partner", body: applicationBody({}, { nationalId: f.nationalId }), status: 409, type: "/problems/ledger/line-exists" },
        { label: "a product the partner may not offer", key: "cashOnly", body: applicationBody(), status: 403, type: "/problems/product-not-allowed" },
        { label: "no consent", key: "partner", body: applicationBody({ consent: false }), status: 400 },
      ],
      quote: [
        { label: "a quote", key: "partner", body: { product: "pay_later", amount: "100000", installments: 3 }, status: 200 },
        { label: "at an account's rate", key: "partner", body: { product: "cash_loan", amount: "10000", periods: 6, accountId: A }, status: 200 },
        // An account the partner may not reach holds no line it can quote, as an unknown one.
        { label: "at another partner's account's rate", key: "partner2", body: { product: "cash_loan", amount: "10000", periods: 6, accountId: A }, status: 422, type: "/problems/ledger/no-line" },
        { label: "a product the partner may not offer", key: "cashOnly", body: { product: "pay_later", amount: "100000" }, status: 403, type: "/problems/product-not-allowed" },
      ],
      purchase: [
        { label: "drawn", key: "partner", body: { accountId: A, amount: "1000" }, status: 201 },
        { label: "not waiting", key: "partner", query: "wait=false", body: { accountId: A, amount: "1000" }, status: 202 },
        { label: "over the limit", key: "partner", body: { accountId: A, amount: "900000000" }, status: 422 },
        { label: "another partner's account", key: "partner2", body: { accountId: A, amount: "1000" }, status: 404, type: "/problems/ledger/unknown-account" },
        { label: "an unknown account", key: "partner", body: { accountId: nobody, amount: "1000" }, status: 404, type: "/problems/ledger/unknown-account" },
      ],
      refund: [
        { label: "refunded", key: "partner", params: { loanId: f.purchaseLoanId }, body: { amount: "100" }, status: 200 },
        { label: "a cash loan", key: "partner", params: { loanId: f.cashLoanId }, body: { amount: "100" }, status: 422, type: "/problems/ledger/not-a-purchase" },
        { label: "more than outstanding", key: "partner", params: { loanId: f.purchaseLoanId }, body: { amount: "90000000" }, status: 422 },
        { label: "another partner's loan", key: "partner2", params: { loanId: f.purchaseLoanId }, body: { amount: "100" }, status: 404 },
        { label: "an unknown loan", key: "partner", params: { loanId: `${A}:99` }, body: { amount: "100" }, status: 404, field: "loanId" },
        { label: "a loan of an unknown account", key: "partner", params: { loanId: `${nobody}:1` }, body: { amount: "100" }, status: 404, field: "loanId" },
      ],
      drawCashLoan: [
        { label: "drawn", key: "partner", body: { accountId: A, amount: "10000", periods: 6, method: "annuity" }, status: 201 },
        { label: "another partner's account", key: "partner2", body: { accountId: A, amount: "10000", periods: 6, method: "annuity" }, status: 404, type: "/problems/ledger/unknown-account" },
      ],
      repay: [
        { label: "repaid", key: "partner", body: { loanId: f.cashLoanId, amount: "100" }, status: 200 },
        { label: "above the payoff", key: "partner", body: { loanId: f.cashLoanId, amount: "90000000" }, status: 422, type: "/problems/ledger/repayment-exceeds-payoff" },
        { label: "another partner's loan", key: "partner2", body: { loanId: f.cashLoanId, amount: "100" }, status: 404 },
        // The request names a loan, so the unknown account is the loanId's fault.
        { label: "an unknown loan", key: "partner", body: { loanId: `${nobody}:1`, amount: "100" }, status: 404, type: "/problems/ledger/unknown-account", field: "loanId" },
        { label: "an unknown loan number", key: "partner", body: { loanId: `${A}:99`, amount: "100" }, status: 404, field: "loanId" },
      ],
      restructure: [
        // The ledger needs a scorer's Restructure decision, which the scorer does not issue yet.
        { label: "restructured", key: "admin", params: { loanId: f.cashLoanId }, body: { periods: 12 }, status: 200 },
        { label: "shorter", key: "admin", params: { loanId: f.cashLoanId }, body: { periods: 3 }, status: 422 },
        { label: "an unknown loan", key: "admin", params: { loanId: `${nobody}:1` }, body: { periods: 12 }, status: 404 },
      ],
      writeOff: [
        { label: "too early", key: "admin", params: { loanId: f.purchaseLoanId }, body: {}, status: 422, type: "/problems/ledger/write-off-too-early" },
        { label: "written off", key: "admin", params: { loanId: f.overdueLoanId }, body: {}, status: 200 },
        { label: "written off again", key: "admin", params: { loanId: f.overdueLoanId }, body: {}, status: 409, type: "/problems/ledger/loan-not-active" },
        { label: "an unknown loan", key: "admin", params: { loanId: `${nobody}:1` }, body: {}, status: 404 },
      ],
      getAccount: [
        { label: "read", key: "partner", params: { accountId: A }, status: 200 },
        { label: "by the auditor", key: "auditor", params: { accountId: A }, status: 200 },
        { label: "another partner's", key: "partner2", params: { accountId: A }, status: 404 },
      ],
      getAccountHistory: [
        { label: "read", key: "partner", params: { accountId: A }, status: 200 },
        { label: "unknown", key: "auditor", params: { accountId: nobody }, status: 404 },
      ],
      getLoan: [
        { label: "read", key: "partner", params: { loanId: f.cashLoanId }, status: 200 },
        { label: "another partner's", key: "partner2", params: { loanId: f.cashLoanId }, status: 404 },
      ],
      getOperation: [
        { label: "read", key: "partner", params: { operationId: f.operationId }, status: 200 },
        { label: "another partner's", key: "partner2", params: { operationId: f.operationId }, status: 404 },
      ],
      // The cash line: the over-limit purchase above tripped the velocity rule, which froze the pay-later line.
      freezeLine: [
        { label: "frozen", key: "partner", params: { accountId: A }, body: { product: "cash_loan", reasonCode: 7 }, status: 200 },
        { label: "frozen again", key: "partner", params: { accountId: A }, body: { product: "cash_loan", reasonCode: 7 }, status: 409, type: "/problems/ledger/freeze-state-unchanged" },
        { label: "another partner's", key: "partner2", params: { accountId: A }, body: { product: "pay_later", reasonCode: 7 }, status: 404, type: "/problems/ledger/unknown-account" },
      ],
      unfreezeLine: [
        { label: "unfrozen", key: "admin", params: { accountId: A }, body: { product: "cash_loan", reasonCode: 8 }, status: 200 },
        { label: "unfrozen again", key: "admin", params: { accountId: A }, body: { product: "cash_loan", reasonCode: 8 }, status: 409, type: "/problems/ledger/freeze-state-unchanged" },
        // Runs before reinstateLine's cases (routes in table order): the write-off freeze is still on.
        { label: "a write-off freeze", key: "admin", params: { accountId: f.writtenOff }, body: { product: "pay_later", reasonCode: 8 }, status: 409, type: "/problems/ledger/decision-required" },
      ],
      reinstateLine: [
        { label: "reinstated", key: "admin", params: { accountId: f.writtenOff }, body: { product: "pay_later", features: GOOD_FEATURES }, status: 200 },
        { label: "reinstated again", key: "admin", params: { accountId: f.writtenOff }, body: { product: "pay_later", features: GOOD_FEATURES }, status: 409, type: "/problems/ledger/freeze-state-unchanged" },
        { label: "no line", key: "admin", params: { accountId: f.forgettable }, body: { product: "cash_loan", features: GOOD_FEATURES }, status: 422, type: "/problems/ledger/no-line" },
      ],
      reviewLimit: [
        { label: "reviewed", key: "partner", params: { accountId: A }, body: { product: "pay_later", features: GOOD_FEATURES }, status: 200 },
        { label: "another partner's", key: "partner2", params: { accountId: A }, body: { product: "pay_later", features: GOOD_FEATURES }, status: 404 },
      ],
      raiseLimitTemporarily: [
        { label: "raised", key: "partner", params: { accountId: f.lowLimit }, body: { product: "pay_later", features: GOOD_FEATURES, evidence: f.lowEvidence, days: 30 }, status: 200 },
        { label: "not raised", key: "partner", params: { accountId: A }, body: { product: "pay_later", features: GOOD_FEATURES, days: 30 }, status: 200 },
        { label: "no line", key: "partner", params: { accountId: f.lowLimit }, body: { product: "cash_loan", features: GOOD_FEATURES, days: 30 }, status: 422, type: "/problems/ledger/no-line" },
        { label: "another partner's", key: "partner2", params: { accountId: A }, body: { product: "pay_later", features: GOOD_FEATURES, days: 30 }, status: 404 },
      ],
      setExposureCap: [
        { label: "set", key: "admin", params: { accountId: f.lowLimit }, body: { exposureCap: "500000" }, status: 200 },
        { label: "above the tier's", key: "admin", params: { accountId: f.lowLimit }, body: { exposureCap: "999999999999" }, status: 422, type: "/problems/ledger/tier-cap-exceeded" },
        { label: "unknown", key: "admin", params: { accountId: nobody }, body: { exposureCap: "500000" }, status: 404, type: "/problems/ledger/unknown-account" },
      ],
      forgetIdentity: [
        { label: "forgotten", key: "admin", params: { accountId: f.forgettable }, status: 204 },
        { label: "not in the vault", key: "admin", params: { accountId: f.forgettable }, status: 404, type: "/problems/identity-not-found" },
      ],
      getCreditReport: [
        { label: "read", key: "partner", params: { accountId: A }, status: 200 },
        { label: "another partner's", key: "partner2", params: { accountId: A }, status: 404 },
      ],
      getExplorerConfig: [{ label: "read", key: "auditor", status: 200 }],
      registerWebhook: [
        { label: "registered", key: "partner", body: { url: "http://127.0.0.1:9/other", events: ["line.frozen"] }, status: 201 },
        { label: "over the quota", key: "noHooks", body: { url: "http://127.0.0.1:9/other", events: ["line.frozen"] }, status: 409, type: "/problems/webhook-quota-exceeded" },
      ],
      listWebhooks: [{ label: "listed", key: "partner", status: 200 }],
      deleteWebhook: [
        { label: "deleted", key: "partner", params: { webhookId: f.spareWebhookId }, status: 204 },
        { label: "another partner's", key: "partner2", params: { webhookId: f.webhookId }, status: 404, type: "/problems/webhook-not-found" },
        { label: "unknown", key: "partner", params: { webhookId: `wh_${hex(16)}` }, status: 404, type: "/problems/webhook-not-found" },
      ],
      listWebhookDeliveries: [
        { label: "listed", key: "partner", params: { webhookId: f.webhookId }, status: 200 },
        { label: "another partner's", key: "partner2", params: { webhookId: f.webhookId }, status: 404 },
      ],
      replayWebhookDelivery: [
        { label: "an unknown delivery", key: "partner", params: { webhookId: f.webhookId }, body: { deliveryId: `dlv_${hex(16)}` }, status: 404, type: "/problems/delivery-not-found" },
      ],
      advanceClock: [{ label: "a day on", key: "admin", body: { days: 1 }, status: 200 }],
      runServicing: [{ label: "run", key: "admin", body: { tasks: ["delinquency"] }, status: 200 }],
      createPartner: [{ label: "created", key: "admin", body: { name: "another" }, status: 201 }],
      listPartners: [{ label: "listed", key: "admin", status: 200 }],
      getPartner: [
        { label: "read", key: "admin", params: { partnerId: f.partnerId }, status: 200 },
        { label: "unknown", key: "admin", params: { partnerId: `ptr_${hex(8)}` }, status: 404, type: "/problems/partner-not-found" },
      ],
      suspendPartner: [{ label: "suspended", key: "admin", params: { partnerId: f.partnerId }, body: { reason: "test" }, status: 200 }],
      reactivatePartner: [{ label: "reactivated", key: "admin", params: { partnerId: f.partnerId }, body: { reason: "test" }, status: 200 }],
      configurePartner: [
        { label: "configured", key: "admin", params: { partnerId: f.partnerId }, body: { burst: 5 }, status: 200 },
        { label: "no setting", key: "admin", params: { partnerId: f.partnerId }, body: {}, status: 400 },
      ],
      issuePartnerKey: [{ label: "issued", key: "admin", params: { partnerId: f.partnerId }, body: { name: "second" }, status: 201 }],
      listPartnerKeys: [{ label: "listed", key: "admin", params: { partnerId: f.partnerId }, status: 200 }],
      rotatePartnerKey: [
        { label: "rotated", key: "admin", params: { partnerId: f.partnerId, keyId: f.keyId }, body: { overlapSeconds: 60 }, status: 201 },
        { label: "an unknown key", key: "admin", params: { partnerId: f.partnerId, keyId: `key_${hex(8)}` }, body: { overlapSeconds: 60 }, status: 404, type: "/problems/key-not-found" },
      ],
      revokePartnerKey: [
        { label: "revoked", key: "admin", params: { partnerId: f.partnerId, keyId: f.keyId }, body: { reason: "test" }, status: 200 },
        { label: "revoked again", key: "admin", params: { partnerId: f.partnerId, keyId: f.keyId }, body: { reason: "test" }, status: 404, type: "/problems/key-not-found" },
      ],
      getAdminAuditLog: [{ label: "read", key: "admin", query: "limit=5", status: 200 }],
    };
    return cases[route.operationId] ?? [];
  }

  it("has its own cases for every route, with a success among them", () => {
    const without = ROUTES.filter(
      (r) => !routeCases(r).some((c) => c.status < 300) && r.operationId !== "replayWebhookDelivery"
    );
    expect(without.map((r) => r.operationId), "routes without a success case").to.deep.equal([]);
  });

  for (const route of ROUTES) {
    it(`${route.method.toUpperCase()} ${route.path}: every answer is declared, and its body is the declared one`, async () => {
      const failures: string[] = [];
      for (const c of [...commonCases(route), ...routeCases(route)]) {
        const a = await send(route, c);
        const what = `${c.label}: ${a.status} ${JSON.stringify(a.body)?.slice(0, 200)}`;
        const why = mismatch(route, a);
        if (why) failures.push(`${what}: ${why}`);
        if (a.status !== c.status) failures.push(`${what}: expected ${c.status}`);
        else if (c.type !== undefined && (a.body as { type?: string }).type !== c.type) failures.push(`${what}: expected type ${c.type}`);
        else if (c.field !== undefined && (a.body as { field?: string }).field !== c.field) failures.push(`${what}: expected field ${c.field}`);
      }
      expect(failures).to.deep.equal([]);
    });
  }
});
