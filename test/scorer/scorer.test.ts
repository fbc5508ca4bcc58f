/**
 * The scorer (scorer/): it signs only what it computed, takes the tier only from a KYC
 * attestation by the partner's configured verifier, caps limits per tier and by evidence,
 * keeps to its rate budget and answers nobody without the bearer token.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { hexlify, randomBytes, verifyTypedData, Wallet } from "ethers";
import request from "supertest";

import { DECISION_TYPES, decisionDomain, restructureSubject, type TypedDataSigner } from "../../core/decision";
import { kycDomain, kycSubjectOf, signKycAttestation, type KycAttestation } from "../../core/kyc-attestation";
import { DEFAULT_MODEL } from "../../core/scoring/underwriting";
import { modelId } from "../../core/scoring/scorecard";
import { loadScorerConfig, type ScorerConfig } from "../../scorer/config";
import { scorerApp } from "../../scorer/http";
import { startScorerProcess, type ScorerProcess } from "../../scripts/lib/scorer-process";
import { ScorerClient, ScorerRefusedError } from "../../server/chain/scorer-client";
import { ScorerService } from "../../scorer/service";
import { ScorerStore } from "../../scorer/store";
import { writeTestKeystore } from "../helpers/keystore";

const CHAIN_ID = 31337n;
const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const TOKEN = "t".repeat(40);
const ACCOUNT = `0x${"ab".repeat(32)}`;
const OTHER_ACCOUNT = `0x${"cd".repeat(32)}`;
const SUBJECT = kycSubjectOf("11010119900101123X");
const OTHER_SUBJECT = kycSubjectOf("110101199001011238");
const ADMIN_TOKEN = "a".repeat(40);
const NOW = 1_800_000_000;
const GOOD = { onTimeRepaymentPct: 99, utilizationPct: 10, tenureMonths: 70, overdueCount12m: 0, monthlyIncomeYuan: 25_000, paymentActivityMonths: 12 };
const MODEL_ID = modelId(DEFAULT_MODEL);

const verifierA = Wallet.createRandom();
const verifierB = Wallet.createRandom();
const scorerKey = Wallet.createRandom();

function config(overrides: Record<string, string> = {}): ScorerConfig {
  return loadScorerConfig({
    SCORER_MODE: "development",
    SCORER_KEY: scorerKey.privateKey,
    SCORER_TOKEN: TOKEN,
    SCORER_DB_PATH: ":memory:",
    SCORER_CHAIN_ID: CHAIN_ID.toString(),
    SCORER_LEDGER_ADDRESS: LEDGER,
    SCORER_KYC_VERIFIERS: JSON.stringify({ "partner-a": verifierA.address, "partner-b": verifierB.address }),
    ...overrides,
  });
}

function harness(overrides: Record<string, string> = {}) {
  const clock = { now: NOW };
  const store = new ScorerStore(":memory:");
  const service = new ScorerService({ config: config(overrides), store, signer: scorerKey, now: () => clock.now });
  const app = scorerApp(service, TOKEN, ADMIN_TOKEN);
  const post = (path: string, body: unknown) => request(app).post(path).set("authorization", `Bearer ${TOKEN}`).send(body as object);
  return { clock, store, service, app, post };
}

async function attest(signer: TypedDataSigner, fields: Partial<KycAttestation> = {}) {
  const attestation: KycAttestation = { subject: SUBJECT, level: 2, issuedAt: BigInt(NOW - 100), expiry: BigInt(NOW + 86_400), partner: "partner-a", ...fields };
  const signature = await signKycAttestation(signer, kycDomain(CHAIN_ID), attestation);
  return { attestation, signature };
}

const wire = (e: { attestation: KycAttestation; signature: string }) => ({
  attestation: { ...e.attestation, issuedAt: e.attestation.issuedAt.toString(), expiry: e.attestation.expiry.toString() },
  signature: e.signature,
});

function scoreBody(extra: Record<string, unknown> = {}) {
  return {
    account: ACCOUNT,
    partner: "partner-a",
    product: "cash_loan",
    modelId: MODEL_ID,
    features: { values: GOOD, partnerReported: [] },
    salt: hexlify(randomBytes(16)),
    subject: SUBJECT,
    limitExpiry: String(NOW + 365 * 86_400),
    ...extra,
  };
}

describe("scorer: signs only what it computed", () => {
  it("signs a decision it computed, with the exact values it stored, by its own key", async () => {
    const h = harness();
    const scored = await h.post("/v1/score", scoreBody()).expect(201);
    const signed = await h.post("/v1/sign", { id: scored.body.id, account: ACCOUNT, nonce: "7", decision: scored.body.decision }).expect(200);
    expect(signed.body.decision).to.deep.include({ ...scored.body.decision, nonce: "7" });
    expect(signed.body.scorer).to.equal(scorerKey.address);
    const d = signed.body.decision;
    const typed = { ...d, limit: BigInt(d.limit), limitExpiry: BigInt(d.limitExpiry), ratePpmPerDay: BigInt(d.ratePpmPerDay), nonce: BigInt(d.nonce), deadline: BigInt(d.deadline) };
    expect(verifyTypedData(decisionDomain(CHAIN_ID, LEDGER), { Decision: [...DECISION_TYPES.Decision] }, typed, signed.body.signature)).to.equal(scorerKey.address);
  });

  it("refuses to sign a decision it never computed with UnknownDecision", async () => {
    const h = harness();
    const forged = { account: ACCOUNT, productId: 2, approved: true, tier: 2, score: 350, limit: "20000000", limitExpiry: String(NOW + 86_400), ratePpmPerDay: "300", modelId: `0x${"00".repeat(32)}`, featuresHash: `0x${"00".repeat(32)}`, reasonCodes: [0, 0, 0, 0] };
    const res = await h.post("/v1/sign", { id: "forged-1", account: ACCOUNT, nonce: "0", decision: forged }).expect(404);
    expect(res.body).to.include({ code: "UnknownDecision" });
  });

  it("refuses to sign a stored decision whose values were changed with DecisionAltered, naming the fields", async () => {
    const h = harness();
    const scored = await h.post("/v1/score", scoreBody()).expect(201);
    const altered = { ...scored.body.decision, score: 350, limit: "20000000", modelId: `0x${"00".repeat(32)}` };
    const res = await h.post("/v1/sign", { id: scored.body.id, account: ACCOUNT, nonce: "0", decision: altered }).expect(409);
    expect(res.body.code).to.equal("DecisionAltered");
    expect(res.body.details.fields).to.deep.equal(["limit", "modelId", "score"]);
  });

  it("refuses to sign for another account with DecisionAccountMismatch", async () => {
    const h = harness();
    const scored = await h.post("/v1/score", scoreBody()).expect(201);
    const res = await h.post("/v1/sign", { id: scored.body.id, account: OTHER_ACCOUNT, nonce: "0" }).expect(409);
    expect(res.body.code).to.equal("DecisionAccountMismatch");
  });

  it("refuses to sign an expired decision with DecisionExpired", async () => {
    const h = harness({ SCORER_DECISION_TTL_SECONDS: "60" });
    const scored = await h.post("/v1/score", scoreBody()).expect(201);
    h.clock.now = NOW + 60;
    const res = await h.post("/v1/sign", { id: scored.body.id, account: ACCOUNT, nonce: "0" }).expect(409);
    expect(res.body).to.include({ code: "DecisionExpired" });
    expect(res.body.details).to.deep.equal({ id: scored.body.id, expiresAt: NOW + 60, now: NOW + 60 });
  });

  it("refuses a model it does not hold with UnknownModel", async () => {
    const h = harness();
    const res = await h.post("/v1/score", scoreBody({ modelId: `0x${"00".repeat(32)}` })).expect(422);
    expect(res.body.code).to.equal("UnknownModel");
  });
});

describe("scorer: tiers from evidence", () => {
  it("gives tier 0 without an attestation, whatever the request says about verification", async () => {
    const h = harness();
    const res = await h.post("/v1/score", { ...scoreBody(), verification: "enhanced" }).expect(400);
    expect(res.body.code).to.equal("InvalidRequest");
    const plain = await h.post("/v1/score", scoreBody()).expect(201);
    expect(plain.body.tier).to.equal(0);
    expect(plain.body.decision).to.include({ tier: 0, limit: "300000" });
    expect(plain.body.cappedBy).to.equal("tier");
  });

  it("raises the tier on a valid attestation by the partner's verifier", async () => {
    const h = harness();
    const res = await h.post("/v1/score", scoreBody({ evidence: wire(await attest(verifierA)) })).expect(201);
    expect(res.body.decision).to.include({ tier: 2, limit: "5000000" });
    const level1 = await h.post("/v1/score", scoreBody({ evidence: wire(await attest(verifierA, { level: 1 })) })).expect(201);
    expect(level1.body.decision).to.include({ tier: 1, limit: "2000000" });
  });

  it("refuses an attestation by another partner's verifier with AttestationNotByVerifier", async () => {
    const h = harness();
    const res = await h.post("/v1/score", scoreBody({ evidence: wire(await attest(verifierB)) })).expect(422);
    expect(res.body.code).to.equal("AttestationNotByVerifier");
    expect(res.body.details).to.deep.equal({ signer: verifierB.address, verifier: verifierA.address, partner: "partner-a" });
  });

  it("refuses an attestation naming another partner with AttestationPartnerMismatch", async () => {
    const h = harness();
    const res = await h.post("/v1/score", scoreBody({ evidence: wire(await attest(verifierB, { partner: "partner-b" })) })).expect(422);
    expect(res.body.code).to.equal("AttestationPartnerMismatch");
  });

  it("refuses an expired attestation with AttestationExpired", async () => {
    const h = harness();
    const res = await h.post("/v1/score", scoreBody({ evidence: wire(await attest(verifierA, { expiry: BigInt(NOW) })) })).expect(422);
    expect(res.body.code).to.equal("AttestationExpired");
    expect(res.body.details).to.deep.equal({ expiry: String(NOW), now: String(NOW) });
  });

  it("refuses a tampered attestation (level raised after signing) with AttestationNotByVerifier", async () => {
    const h = harness();
    const signed = await attest(verifierA, { level: 1 });
    const tampered = { ...signed, attestation: { ...signed.attestation, level: 2 } };
    const res = await h.post("/v1/score", scoreBody({ evidence: wire(tampered) })).expect(422);
    expect(res.body.code).to.equal("AttestationNotByVerifier");
  });

  it("refuses an attestation about another subject with AttestationSubjectMismatch", async () => {
    const h = harness();
    const res = await h.post("/v1/score", scoreBody({ evidence: wire(await attest(verifierA, { subject: OTHER_SUBJECT })) })).expect(422);
    expect(res.body.code).to.equal("AttestationSubjectMismatch");
  });

  it("refuses an attestation from a partner with no verifier configured with NoVerifierForPartner", async () => {
    const h = harness();
    const res = await h.post("/v1/score", scoreBody({ partner: "partner-c", evidence: wire(await attest(verifierA, { partner: "partner-c" })) })).expect(422);
    expect(res.body.code).to.equal("NoVerifierForPartner");
  });

  it("caps the limit a tier lower when a feature is only partner-reported", async () => {
    const h = harness();
    const features = { values: GOOD, partnerReported: ["tenureMonths"] };
    const res = await h.post("/v1/score", scoreBody({ features, evidence: wire(await attest(verifierA)) })).expect(201);
    expect(res.body.decision).to.include({ tier: 2, limit: "2000000" });
    expect(res.body.cappedBy).to.equal("partner-reported");
  });

  it("counts a partner-reported income as evidenced from tier 2 (income evidence), and caps it below", async () => {
    const h = harness();
    const features = { values: GOOD, partnerReported: ["monthlyIncomeYuan"] };
    const level2 = await h.post("/v1/score", scoreBody({ features, evidence: wire(await attest(verifierA)) })).expect(201);
    expect(level2.body.decision).to.include({ tier: 2, limit: "5000000" });
    expect(level2.body.cappedBy).to.equal(undefined);
    const level1 = await h.post("/v1/score", scoreBody({ features, evidence: wire(await attest(verifierA, { level: 1 })) })).expect(201);
    expect(level1.body.decision).to.include({ tier: 1, limit: "300000" });
    expect(level1.body.cappedBy).to.equal("partner-reported");
  });
});

describe("scorer: the tier it last attested, and who registers verifiers", () => {
  it("keeps the tier it last attested for the account for a review without evidence, until the attestation expires", async () => {
    const h = harness();
    await h.post("/v1/score", scoreBody({ evidence: wire(await attest(verifierA, { level: 1, expiry: BigInt(NOW + 3600) })) })).expect(201);
    const review = await h.post("/v1/score", scoreBody({ subject: undefined, currentLimit: "2000000" })).expect(201);
    expect(review.body.tier).to.equal(1);
    const other = await h.post("/v1/score", scoreBody({ account: OTHER_ACCOUNT, subject: undefined })).expect(201);
    expect(other.body.tier, "another account does not inherit it").to.equal(0);
    h.clock.now = NOW + 3600;
    const lapsed = await h.post("/v1/score", scoreBody({ subject: undefined })).expect(201);
    expect(lapsed.body.tier, "after the attestation's expiry").to.equal(0);
  });

  it("refuses an attestation without the applicant's subject beside it with SubjectRequired", async () => {
    const h = harness();
    const res = await h.post("/v1/score", scoreBody({ subject: undefined, evidence: wire(await attest(verifierA)) })).expect(400);
    expect(res.body.code).to.equal("SubjectRequired");
  });

  it("registers a partner's verifier only with the admin token, never with the gateway's token", async () => {
    const h = harness();
    const verifierC = Wallet.createRandom();
    const put = (auth: string) => request(h.app).put("/admin/v1/kyc-verifiers/partner-c").set("authorization", `Bearer ${auth}`).send({ verifier: verifierC.address });
    expect((await put(TOKEN).expect(401)).body.code).to.equal("Unauthenticated");
    const evidence = wire(await attest(verifierC, { partner: "partner-c" }));
    await h.post("/v1/score", scoreBody({ partner: "partner-c", evidence })).expect(422);
    await put(ADMIN_TOKEN).expect(200);
    const res = await h.post("/v1/score", scoreBody({ partner: "partner-c", evidence })).expect(201);
    expect(res.body.tier).to.equal(2);
  });

  it("has no admin API without SCORER_ADMIN_TOKEN", async () => {
    const service = new ScorerService({ config: config(), store: new ScorerStore(":memory:"), signer: scorerKey, now: () => NOW });
    const res = await request(scorerApp(service, TOKEN)).put("/admin/v1/kyc-verifiers/partner-c").set("authorization", `Bearer ${TOKEN}`).send({ verifier: verifierA.address }).expect(404);
    expect(res.body.code).to.equal("NotFound");
  });

  it("takes the ledger's cap of the tier it derived from the per-tier caps", async () => {
    const h = harness();
    const res = await h.post("/v1/score", scoreBody({ ledgerCaps: { 0: "100", 1: "200", 2: "1500000" }, evidence: wire(await attest(verifierA)) })).expect(201);
    expect(res.body.decision).to.include({ tier: 2, limit: "1500000" });
  });

  it("moves the deadline by a chain time ahead of its clock, at most SCORER_MAX_CHAIN_AHEAD_SECONDS", async () => {
    const h = harness({ SCORER_DECISION_TTL_SECONDS: "600", SCORER_MAX_CHAIN_AHEAD_SECONDS: "1000" });
    const scored = await h.post("/v1/score", scoreBody()).expect(201);
    const sign = (chainTime: number) => h.post("/v1/sign", { id: scored.body.id, account: ACCOUNT, nonce: "0", chainTime: String(chainTime) }).expect(200);
    expect((await sign(NOW + 400)).body.decision.deadline).to.equal(String(NOW + 600 + 400));
    expect((await sign(NOW + 50_000)).body.decision.deadline).to.equal(String(NOW + 600 + 1000));
    const behind = (await sign(NOW - 50_000)).body.decision;
    expect(behind.deadline, "a chain behind does not shorten it").to.equal(String(NOW + 600));
    expect(behind.issuedAt, "but the issue time is never after the chain's now (by at most the bound)").to.equal(String(NOW - 1000));
    expect((await sign(NOW + 400)).body.decision.issuedAt).to.equal(String(NOW + 400));
  });
});

describe("scorer: restructure and reinstate decisions", () => {
  const terms = { loanNo: 3, newPeriods: 12, holidayDays: 30, newRatePpmPerDay: "400" };

  it("signs a restructure decision with purpose Restructure and the subject of exactly the terms it decided", async () => {
    const h = harness();
    const scored = await h.post("/v1/score", scoreBody({ purpose: "restructure", restructure: terms })).expect(201);
    const subject = restructureSubject(3, 12, 30, 400n);
    expect(scored.body).to.include({ purpose: 1, subject });
    expect(scored.body.decision).to.include({ approved: true, limit: "0", ratePpmPerDay: "400" });
    const signed = await h.post("/v1/sign", { id: scored.body.id, account: ACCOUNT, nonce: "4", decision: scored.body.decision }).expect(200);
    expect(signed.body.decision).to.include({ purpose: 1, subject, scorer: scorerKey.address });
    const d = signed.body.decision;
    const typed = { ...d, limit: BigInt(d.limit), limitExpiry: BigInt(d.limitExpiry), ratePpmPerDay: BigInt(d.ratePpmPerDay), nonce: BigInt(d.nonce), issuedAt: BigInt(d.issuedAt), deadline: BigInt(d.deadline) };
    expect(verifyTypedData(decisionDomain(CHAIN_ID, LEDGER), { Decision: [...DECISION_TYPES.Decision] }, typed, signed.body.signature)).to.equal(scorerKey.address);
  });

  it("refuses a payment holiday past SCORER_MAX_HOLIDAY_DAYS with RestructureNotAllowed", async () => {
    const h = harness({ SCORER_MAX_HOLIDAY_DAYS: "60" });
    const res = await h.post("/v1/score", scoreBody({ purpose: "restructure", restructure: { ...terms, holidayDays: 61 } })).expect(422);
    expect(res.body).to.include({ code: "RestructureNotAllowed" });
    expect(res.body.details).to.deep.equal({ holidayDays: 61, most: 60 });
  });

  it("refuses a restructure of a loan past SCORER_MAX_RESTRUCTURES_PER_LOAN signed ones with RestructureNotAllowed", async () => {
    const h = harness({ SCORER_MAX_RESTRUCTURES_PER_LOAN: "1" });
    const first = await h.post("/v1/score", scoreBody({ purpose: "restructure", restructure: terms })).expect(201);
    await h.post("/v1/score", scoreBody({ purpose: "restructure", restructure: terms })).expect(201); // computed, not signed: not counted
    await h.post("/v1/sign", { id: first.body.id, account: ACCOUNT, nonce: "0" }).expect(200);
    const res = await h.post("/v1/score", scoreBody({ purpose: "restructure", restructure: terms })).expect(422);
    expect(res.body.details).to.deep.equal({ loanNo: 3, restructures: 1, most: 1 });
    await h.post("/v1/score", scoreBody({ purpose: "restructure", restructure: { ...terms, loanNo: 4 } })).expect(201);
  });

  it("signs a reinstate decision with purpose Reinstate, approved only on a passing score, adding no limit to the budget", async () => {
    const h = harness({ SCORER_BUDGET_PER_HOUR: "1" });
    const good = await h.post("/v1/score", scoreBody({ purpose: "reinstate" })).expect(201);
    expect(good.body).to.include({ purpose: 2, subject: `0x${"00".repeat(32)}` });
    expect(good.body.decision).to.include({ approved: true, limit: "0" });
    const bad = { onTimeRepaymentPct: 50, utilizationPct: 95, tenureMonths: 1, overdueCount12m: 5, monthlyIncomeYuan: 1000, paymentActivityMonths: 1 };
    const weak = await h.post("/v1/score", scoreBody({ purpose: "reinstate", features: { values: bad, partnerReported: [] } })).expect(201);
    expect(weak.body.decision.approved).to.equal(false);
    const signed = await h.post("/v1/sign", { id: good.body.id, account: ACCOUNT, nonce: "0" }).expect(200);
    expect(signed.body.decision).to.include({ purpose: 2 });
  });

  it("keeps the purpose it stored: a line decision is signed as a line decision whatever the caller sends", async () => {
    const h = harness();
    const scored = await h.post("/v1/score", scoreBody()).expect(201);
    expect(scored.body).to.include({ purpose: 0 });
    const res = await h.post("/v1/sign", { id: scored.body.id, account: ACCOUNT, nonce: "0", decision: { ...scored.body.decision, purpose: 1 } }).expect(400);
    expect(res.body.code).to.equal("InvalidRequest");
  });
});

describe("scorer: caps and rate budget", () => {
  it("takes the lower of its tier cap and the ledger's cap", async () => {
    const h = harness();
    const res = await h.post("/v1/score", scoreBody({ ledgerCap: "1000000", evidence: wire(await attest(verifierA)) })).expect(201);
    expect(res.body.decision).to.include({ limit: "1000000" });
  });

  it("declines a tier it has no cap for", async () => {
    const h = harness({ SCORER_TIER_MAX_LIMITS: JSON.stringify({ 0: "300000", 1: "2000000" }) });
    const res = await h.post("/v1/score", scoreBody({ evidence: wire(await attest(verifierA)) })).expect(201);
    expect(res.body.decision).to.include({ approved: false, limit: "0" });
  });

  it("refuses new limit past the hourly budget with RateBudgetExceeded, and grants again an hour later", async () => {
    const h = harness({ SCORER_BUDGET_PER_HOUR: "500000" });
    await h.post("/v1/score", scoreBody()).expect(201); // 300,000
    const res = await h.post("/v1/score", scoreBody()).expect(429);
    expect(res.body.code).to.equal("RateBudgetExceeded");
    expect(res.body.details).to.deep.equal({ newLimit: "300000", used: "300000", budget: "500000", window: "hour" });
    h.clock.now = NOW + 3600;
    await h.post("/v1/score", scoreBody()).expect(201);
  });

  it("refuses new limit past the daily budget with RateBudgetExceeded", async () => {
    const h = harness({ SCORER_BUDGET_PER_DAY: "500000" });
    await h.post("/v1/score", scoreBody()).expect(201);
    h.clock.now = NOW + 7200;
    const res = await h.post("/v1/score", scoreBody()).expect(429);
    expect(res.body.details).to.include({ window: "day", used: "300000" });
  });

  it("counts nothing for a decline: a decline is scored and signed with the budget spent", async () => {
    const h = harness({ SCORER_BUDGET_PER_HOUR: "300000" });
    await h.post("/v1/score", scoreBody()).expect(201);
    const bad = { onTimeRepaymentPct: 50, utilizationPct: 95, tenureMonths: 1, overdueCount12m: 5, monthlyIncomeYuan: 1000, paymentActivityMonths: 1 };
    const declined = await h.post("/v1/score", scoreBody({ features: { values: bad, partnerReported: [] } })).expect(201);
    expect(declined.body.decision).to.include({ approved: false, limit: "0", limitExpiry: "0" });
    await h.post("/v1/sign", { id: declined.body.id, account: ACCOUNT, nonce: "1" }).expect(200);
    await h.post("/v1/score", scoreBody()).expect(429);
  });

  it("counts only the raise above the current limit of a review", async () => {
    const h = harness({ SCORER_BUDGET_PER_HOUR: "500000" });
    await h.post("/v1/score", scoreBody()).expect(201);
    await h.post("/v1/score", scoreBody({ currentLimit: "100000" })).expect(201); // +200,000: 500,000 used
    await h.post("/v1/score", scoreBody({ currentLimit: "299999" })).expect(429); // +1 is too much
  });
});

describe("scorer: authentication", () => {
  it("refuses calls without the bearer token with Unauthenticated", async () => {
    const h = harness();
    for (const auth of [undefined, "Bearer wrong-token", `Basic ${TOKEN}`]) {
      const req = request(h.app).post("/v1/score").send(scoreBody());
      const res = await (auth ? req.set("authorization", auth) : req).expect(401);
      expect(res.body.code).to.equal("Unauthenticated");
    }
    await request(h.app).post("/v1/sign").send({ id: "x", account: ACCOUNT, nonce: "0" }).expect(401);
  });

  it("the scorer process (scorer/main.ts), its key in an encrypted keystore, answers /health, refuses unauthenticated calls, scores and signs for the gateway's ScorerClient", async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), "scorer-"));
    const keystore = await writeTestKeystore(scorerKey.privateKey);
    let child: ScorerProcess | undefined;
    try {
      child = await startScorerProcess({
        ...keystore.envFor("SCORER"), // production mode: a raw SCORER_KEY would be refused
        SCORER_TOKEN: TOKEN,
        SCORER_DB_PATH: join(dir, "scorer.db"),
        SCORER_CHAIN_ID: CHAIN_ID.toString(),
        SCORER_LEDGER_ADDRESS: LEDGER,
        SCORER_PORT: "0",
      });
      expect(child.address).to.equal(scorerKey.address);
      expect(child.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const body = { ...scoreBody(), limitExpiry: String(Math.floor(Date.now() / 1000) + 86_400) };
      const anonymous = await fetch(`${child.url}/v1/score`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      expect(anonymous.status).to.equal(401);
      const wrong = new ScorerClient(child.url, "w".repeat(40));
      const refused = await wrong.score(body).then(() => undefined, (error: unknown) => error);
      expect(refused).to.be.instanceOf(ScorerRefusedError).and.include({ status: 401, code: "Unauthenticated" });

      const client = new ScorerClient(child.url, TOKEN);
      expect(await client.health()).to.deep.equal({ status: "ok", scorer: scorerKey.address });
      const scored = await client.score(body);
      const signed = await client.sign(scored.id, scored.decision, 3n);
      expect(signed.decision).to.deep.include({ ...scored.decision, nonce: 3n });
      expect(signed.scorer).to.equal(scorerKey.address);
      const forged = await client.sign(scored.id, { ...scored.decision, limit: 20_000_000n }, 3n).then(() => undefined, (error: unknown) => error);
      expect(forged).to.be.instanceOf(ScorerRefusedError).and.include({ status: 409, code: "DecisionAltered" });
    } finally {
      await child?.kill();
      rmSync(dir, { recursive: true, force: true });
      keystore.remove();
    }
  });
});

describe("scorer: its database files", () => {
  it("keeps its database file and its -wal and -shm 0600, in a new data directory 0700", () => {
    const root = mkdtempSync(join(tmpdir(), "scorer-files-"));
    const file = join(root, "data", "scorer.sqlite");
    try {
      const store = new ScorerStore(file);
      store.db.exec("CREATE TABLE probe (x INTEGER); INSERT INTO probe VALUES (1)");
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        expect(existsSync(f), f).to.equal(true);
        expect(statSync(f).mode & 0o777, f).to.equal(0o600);
      }
      expect(statSync(join(root, "data")).mode & 0o777).to.equal(0o700);
      store.db.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("scorer: configuration", () => {
  it("refuses a short token and a non-loopback host, without showing the token", () => {
    let message = "";
    try {
      config({ SCORER_TOKEN: "short-secret-value" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).to.match(/SCORER_TOKEN: invalid \(value not shown\)/);
    expect(message).not.to.include("short-secret-value");
    expect(() => config({ SCORER_HOST: "0.0.0.0" })).to.throw(/SCORER_HOST/);
  });

  it("refuses a raw SCORER_KEY outside development mode, saying where to keep the key, without showing it", () => {
    let message = "";
    try {
      config({ SCORER_MODE: "production" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).to.match(/SCORER_KEY is a raw private key in the environment, which a production setup refuses: keep the scorer key .* in SCORER_KEYSTORE .* or SCORER_SIGNER_URL .*; or set SCORER_MODE=development/);
    expect(message).not.to.include(scorerKey.privateKey.slice(2));
    expect(config().key).to.include({ kind: "raw", setting: "SCORER_KEY" });
  });

  it("refuses a decision TTL beyond the ledger's maximum decision lifetime (30 days), naming the setting", () => {
    expect(config({ SCORER_DECISION_TTL_SECONDS: String(30 * 86_400) }).decisionTtlSeconds).to.equal(30 * 86_400);
    expect(() => config({ SCORER_DECISION_TTL_SECONDS: String(30 * 86_400 + 1) })).to.throw(/SCORER_DECISION_TTL_SECONDS/);
  });
});
