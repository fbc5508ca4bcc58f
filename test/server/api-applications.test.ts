import { expect } from "chai";

import { PAY_LATER_ID, CASH_LOAN_ID } from "../helpers/fixtures";
import { applicationBody, get, post, testGateway, withKyc, type TestGateway } from "../helpers/gateway";
import { MIDDLE_FEATURES, randomNationalId, WEAK_FEATURES } from "../helpers/identities";

describe("API: applications", function () {
  let t: TestGateway;

  before(async () => {
    t = await testGateway();
  });

  after(async () => {
    await t.gateway.stop();
  });

  it("approves an applicant with KYC evidence: opens the account at the scorer's tier, grants the line on its signed decision, answers with the decision", async () => {
    const res = await post(t, "/v1/applications", await withKyc(t, applicationBody()));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({
      product: "pay_later",
      outcome: "approved",
      tier: 2,
      score: 920,
      limit: "2000000",
      dailyRatePpm: 0,
      aprPpm: 0,
    });
    expect(res.body.reasonCodes).to.deep.equal([101, 102, 103, 105]);
    expect(res.body.modelId).to.equal("0xeb024107e9382ca091eaf69ba6eac21b0d109b426a17efac2bd0ab26306f0ae3");
    expect(res.body.operation.status).to.equal("confirmed");
    expect(res.body.operation.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(res.body.decisionSeq).to.equal("2");
    const account = res.body.accountId as string;
    const line = await t.l.ledger.lineOf(account, PAY_LATER_ID);
    expect(line.granted).to.equal(true);
    expect(line.limit).to.equal(2_000_000n);
    const onChain = await t.l.ledger.accountOf(account);
    expect(onChain.tier).to.equal(2n);
    expect(onChain.exposureCap).to.equal(30_000_000n);
    // The decision on-chain carries the model id, the salted features hash, and the scorer's signature.
    const [granted] = await t.l.ledger.queryFilter(t.l.ledger.filters.LineGranted(account));
    expect(granted.args.decision.modelId).to.equal(res.body.modelId);
    expect(granted.args.decision.featuresHash).to.equal(res.body.featuresHash);
    expect(granted.args.scorer).to.equal(t.scorer.address);
    expect(granted.args.by).to.equal(t.operator.address);
    // The features and the salt are kept off-chain with the decision.
    const op = await t.store.getOperation(res.body.operation.id);
    const [decision] = await t.store.decisionsOf(op!.id);
    expect(decision).to.include({ approved: true, score: 920, featuresHash: res.body.featuresHash });
  });

  it("gives one identity one account: its second product is granted on the same account", async () => {
    const identity = { nationalId: randomNationalId() };
    const first = await post(t, "/v1/applications", await withKyc(t, applicationBody({ product: "pay_later" }, identity)));
    const second = await post(t, "/v1/applications", await withKyc(t, applicationBody({ product: "cash_loan" }, identity)));
    expect(first.status).to.equal(201);
    expect(second.status, JSON.stringify(second.body)).to.equal(201);
    expect(second.body.accountId).to.equal(first.body.accountId);
    expect(second.body).to.include({ product: "cash_loan", outcome: "approved", limit: "5000000", dailyRatePpm: 300 });
    expect(Number(second.body.aprPpm)).to.be.greaterThan(100_000).and.lessThan(120_000);
    const account = first.body.accountId;
    expect((await t.l.ledger.lineOf(account, PAY_LATER_ID)).granted).to.equal(true);
    expect((await t.l.ledger.lineOf(account, CASH_LOAN_ID)).ratePpmPerDay).to.equal(300n);
    expect((await t.l.ledger.accountOf(account)).seq).to.equal(3n); // opened once, two grants
  });

  it("records a decline on-chain, with the signed decision and its reason codes", async () => {
    const res = await post(t, "/v1/applications", applicationBody({ features: WEAK_FEATURES }));
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ outcome: "declined", score: 350, limit: "0" });
    expect(res.body.reasonCodes).to.deep.equal([900, 101, 104, 102]);
    const account = res.body.accountId;
    const [declined] = await t.l.ledger.queryFilter(t.l.ledger.filters.DecisionDeclined(account));
    expect(declined.args.decision.approved).to.equal(false);
    expect(declined.args.decision.score).to.equal(350n);
    expect(declined.args.decision.reasonCodes.map(Number)).to.deep.equal([900, 101, 104, 102]);
    expect((await t.l.ledger.lineOf(account, PAY_LATER_ID)).granted).to.equal(false);
    const history = await get(t, `/v1/accounts/${account}/history`);
    expect(history.body.entries.map((e: { kind: string }) => e.kind)).to.deep.equal(["AccountOpened", "DecisionDeclined"]);
  });

  it("caps a level-1 applicant whose income only the partner reports at the tier below's cap", async () => {
    const res = await post(t, "/v1/applications", await withKyc(t, applicationBody(), { level: 1 }));
    expect(res.body).to.include({ outcome: "approved", tier: 1, limit: "300000", cappedByTier: true });
    const { monthlyIncomeYuan: _income, ...withoutIncome } = MIDDLE_FEATURES;
    const noIncome = await post(t, "/v1/applications", await withKyc(t, applicationBody({ product: "cash_loan", features: withoutIncome }), { level: 1 }));
    expect(noIncome.body, "without a partner-reported feature the tier's own cap holds").to.include({ outcome: "approved", tier: 1 });
    expect(BigInt(noIncome.body.limit)).to.be.greaterThan(300_000n);
  });

  it("caps the limit by the identity tier: behavioural score alone (no evidence) gets the scorer's tier-0 cap", async () => {
    const res = await post(t, "/v1/applications", applicationBody());
    expect(res.body).to.include({ outcome: "approved", tier: 0, limit: "300000", cappedByTier: true });
    const middle = await post(
      t,
      "/v1/applications",
      await withKyc(t, applicationBody({ product: "cash_loan", features: MIDDLE_FEATURES }))
    );
    expect(middle.body).to.include({
      outcome: "approved",
      tier: 2,
      score: 650,
      limit: "2000000",
      dailyRatePpm: 450,
      cappedByTier: false,
    });
  });

  it("refuses a second grant of the same product with 409 and writes nothing", async () => {
    const identity = { nationalId: randomNationalId() };
    const first = await post(t, "/v1/applications", await withKyc(t, applicationBody({}, identity)));
    const account = first.body.accountId;
    const seq = (await t.l.ledger.accountOf(account)).seq;
    const depthBefore = (await t.store.outboxDepth()).depth;
    const again = await post(t, "/v1/applications", await withKyc(t, applicationBody({}, identity)));
    expect(again.status).to.equal(409);
    expect(again.headers["content-type"]).to.match(/^application\/problem\+json/);
    expect(again.body).to.include({ type: "/problems/ledger/line-exists", rule: "LineExists", field: "product" });
    expect((await t.l.ledger.accountOf(account)).seq).to.equal(seq);
    expect((await t.store.outboxDepth()).depth).to.equal(depthBefore);
  });

  it("rejects bad input with 400 naming the field, and writes nothing", async () => {
    const nationalId = randomNationalId();
    const cases: Array<[Record<string, unknown>, string]> = [
      [applicationBody({ consent: false }, { nationalId }), "consent"],
      [
        applicationBody({}, { nationalId: `${nationalId.slice(0, 17)}${nationalId[17] === "1" ? "2" : "1"}` }),
        "identity.nationalId",
      ],
      [applicationBody({ product: "mortgage" }, { nationalId }), "product"],
      [applicationBody({ features: { onTimeRepaymentPct: 95.5 } }, { nationalId }), "features.onTimeRepaymentPct"],
      [applicationBody({ features: { shoeSize: 42 } }, { nationalId }), "features.shoeSize"],
      [applicationBody({ extra: 1 }, { nationalId }), "extra"],
      [applicationBody({}, { nationalId, verification: "kinda" }), "identity.verification"],
    ];
    for (const [body, field] of cases) {
      const res = await post(t, "/v1/applications", body);
      expect(res.status, field).to.equal(400);
      expect(res.body.type, field).to.equal("/problems/validation-failed");
      expect(res.body.field, field).to.equal(field);
    }
    // Nothing about this person reached the vault.
    expect(await t.store.findIdentity(t.gateway.vault.identityKeyOf(nationalId))).to.equal(undefined);
  });

  it("needs a partner key and an Idempotency-Key", async () => {
    const body = applicationBody();
    const anonymous = await post(t, "/v1/applications", body, { key: "clk_not-a-real-key" });
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers["www-authenticate"]).to.match(/^Bearer/);
    const auditor = await post(t, "/v1/applications", body, { key: t.keys.auditor });
    expect(auditor.status).to.equal(403);
    expect(auditor.body.type).to.equal("/problems/forbidden");
    const noKey = await post(t, "/v1/applications", body, { idempotencyKey: "" });
    expect(noKey.status).to.equal(400);
    expect(noKey.body).to.include({ type: "/problems/idempotency-key-required", field: "Idempotency-Key" });
  });
});
