/**
 * The routes for facts the ledger could record but the API could not reach: a write-off past
 * the product's threshold (admin), a temporary limit raise on a scorer-signed decision
 * (partner), and the account's exposure cap (admin). Each shown holding on-chain, refused with
 * its problem, and announced by its webhook event. And the reasons of decisions, cuts and
 * freezes in words (core/reasons.ts) in the answers and the webhooks.
 */
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import { DAY, PAY_LATER_ID } from "../helpers/fixtures";
import { applicationBody, approvedAccount, followChainTime, get, kycEvidence, post, testGateway, type TestGateway } from "../helpers/gateway";
import { GOOD_FEATURES, MIDDLE_FEATURES } from "../helpers/identities";
import { reasonText } from "../../core/reasons";
import { startReceiver, type Receiver } from "../servicing/receiver";

describe("API: write-offs, temporary raises and exposure caps", function () {
  let t: TestGateway;
  let hooks: Receiver;

  before(async () => {
    // No periodic limit reviews: the chain moves months ahead here, and a review due then would change limits beside the requests under test.
    t = await testGateway({ GATEWAY_LIMIT_REVIEW_INTERVAL_DAYS: "0" });
    hooks = await startReceiver();
    const registered = await post(t, "/v1/webhooks", { url: hooks.url, events: ["limit.changed", "exposure_cap.changed", "loan.written_off", "line.frozen", "decision.made"] });
    expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
  });

  after(async () => {
    await t.gateway.stop();
    await hooks.close();
  });

  /** The events of `type` about `accountId` delivered to the partner's endpoint (recorded on settlement, then delivered). */
  async function eventsOf(type: string, accountId: string, atLeast = 1) {
    for (let round = 0; ; round++) {
      await t.gateway.deliverer.deliverDue();
      const found = hooks.received.map((r) => r.body).filter((e) => e.type === type && e.accountId === accountId);
      if (found.length >= atLeast || round === 50) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  describe("POST /v1/loans/{loanId}/write-off", () => {
    it("refuses a loan not yet past its product's threshold with write-off-too-early, naming the days, and writes nothing", async () => {
      const accountId = await approvedAccount(t, "pay_later");
      const purchase = await post(t, "/v1/purchases", { accountId, amount: "50000" });
      expect(purchase.status, JSON.stringify(purchase.body)).to.equal(201);
      const seq = (await t.l.ledger.accountOf(accountId)).seq;
      const res = await post(t, `/v1/loans/${purchase.body.loanId}/write-off`, {}, { key: t.keys.admin });
      expect(res.status, JSON.stringify(res.body)).to.equal(422);
      expect(res.body).to.include({ type: "/problems/ledger/write-off-too-early", rule: "WriteOffTooEarly" });
      expect(res.body.values).to.include({ daysPastDue: "0" });
      expect((await t.l.ledger.accountOf(accountId)).seq).to.equal(seq);
    });

    it("writes off a loan past the threshold (WrittenOff, the line frozen with 65535), idempotently; a second write-off is loan-not-active", async () => {
      const accountId = await approvedAccount(t, "pay_later");
      const purchase = await post(t, "/v1/purchases", { accountId, amount: "80000" });
      const loanId = purchase.body.loanId as string;
      const loanNo = Number(purchase.body.loanNo);
      const [terms] = await t.l.ledger.loanOf(accountId, loanNo);
      await time.increaseTo(terms.startTime + (terms.firstDueDay + terms.writeOffDays + 1n) * BigInt(DAY));
      await followChainTime(t.clock, t.provider);

      const key = `write-off-${loanId}`;
      const res = await post(t, `/v1/loans/${loanId}/write-off`, {}, { key: t.keys.admin, idempotencyKey: key });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ loanId, principalWrittenOff: "80000", lineFrozen: true });
      expect(res.body.daysPastDue).to.be.at.least(Number(terms.writeOffDays));
      expect(res.body.operation.status).to.equal("confirmed");
      const events = await t.l.ledger.queryFilter(t.l.ledger.filters.WrittenOff(accountId));
      expect(events).to.have.length(1);
      expect(events[0].args.principalWrittenOff).to.equal(80_000n);
      const line = await t.l.ledger.lineOf(accountId, PAY_LATER_ID);
      expect([line.frozen, line.freezeReason]).to.deep.equal([true, 0xffffn]);

      const again = await post(t, `/v1/loans/${loanId}/write-off`, {}, { key: t.keys.admin, idempotencyKey: key });
      expect(again.status).to.equal(200);
      expect(again.body.operation.id).to.equal(res.body.operation.id);
      const twice = await post(t, `/v1/loans/${loanId}/write-off`, {}, { key: t.keys.admin });
      expect(twice.status, JSON.stringify(twice.body)).to.equal(409);
      expect(twice.body).to.include({ type: "/problems/ledger/loan-not-active", rule: "LoanNotActive" });
      expect(await t.l.ledger.queryFilter(t.l.ledger.filters.WrittenOff(accountId))).to.have.length(1);

      // The loan's partner hears of the write-off; the line's freeze goes out as a line fact.
      const [written] = await eventsOf("loan.written_off", accountId);
      expect(written.data).to.include({ loanId, product: "pay_later", principalWrittenOff: "80000", lineFrozen: true });
      const [frozen] = await eventsOf("line.frozen", accountId);
      expect(frozen.data).to.include({ product: "pay_later", reasonCode: 65535 });
    });

    it("refuses a partner key with 403, a body with fields with 400, and an unknown loan with 404", async () => {
      const accountId = await approvedAccount(t, "pay_later");
      const purchase = await post(t, "/v1/purchases", { accountId, amount: "10000" });
      const byPartner = await post(t, `/v1/loans/${purchase.body.loanId}/write-off`, {});
      expect(byPartner.status).to.equal(403);
      expect(byPartner.body.type).to.equal("/problems/forbidden");
      const withField = await post(t, `/v1/loans/${purchase.body.loanId}/write-off`, { amount: "1" }, { key: t.keys.admin });
      expect(withField.status).to.equal(400);
      const unknown = await post(t, `/v1/loans/${accountId}:99/write-off`, {}, { key: t.keys.admin });
      expect(unknown.status, JSON.stringify(unknown.body)).to.equal(404);
      expect((await t.l.ledger.lineOf(accountId, PAY_LATER_ID)).frozen).to.equal(false);
    });
  });

  describe("POST /v1/accounts/{accountId}/temporary-raises", () => {
    it("raises a tier-0 line on new evidence until the expiry (LimitIncreased with limitExpiry); the permanent limit applies after it", async () => {
      // A tier-0 application (no KYC evidence) gets the scorer's tier-0 cap, 300,000; new evidence scores 2,000,000.
      const body = applicationBody();
      const applied = await post(t, "/v1/applications", body);
      expect(applied.body.limit).to.equal("300000");
      const accountId = applied.body.accountId as string;
      const res = await post(t, `/v1/accounts/${accountId}/temporary-raises`, {
        product: "pay_later",
        features: GOOD_FEATURES,
        evidence: await kycEvidence(t, body.identity.nationalId),
        days: 30,
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ outcome: "raised", previousLimit: "300000", temporaryLimit: "2000000", score: 920 });
      expect(res.body.operation.status).to.equal("confirmed");
      const expiresAt = BigInt(res.body.expiresAt);
      expect(expiresAt).to.equal(BigInt(t.clock.nowMs() / 1000) + 30n * 86_400n);

      const [raised] = await t.l.ledger.queryFilter(t.l.ledger.filters.LimitIncreased(accountId));
      expect(raised.args.decision.limitExpiry).to.equal(expiresAt);
      expect(raised.args.scorer).to.equal(t.scoring.address);
      const line = await t.l.ledger.lineOf(accountId, PAY_LATER_ID);
      expect([line.limit, line.tempLimit, line.tempExpiry]).to.deep.equal([300_000n, 2_000_000n, expiresAt]);
      expect(await t.l.ledger.effectiveLimit(accountId, PAY_LATER_ID)).to.equal(2_000_000n);
      const [changed] = await eventsOf("limit.changed", accountId);
      expect(changed.data).to.include({ outcome: "temporary_raise", previousLimit: "300000", newLimit: "2000000", expiresAt: Number(expiresAt) });

      await time.increaseTo(expiresAt + 1n);
      expect(await t.l.ledger.effectiveLimit(accountId, PAY_LATER_ID)).to.equal(300_000n);
      await followChainTime(t.clock, t.provider);
    });

    it("writes nothing when the scored limit is not above the limit in force (outcome not_raised): a temporary raise never cuts", async () => {
      const accountId = await approvedAccount(t, "pay_later");
      const seq = (await t.l.ledger.accountOf(accountId)).seq;
      const res = await post(t, `/v1/accounts/${accountId}/temporary-raises`, { product: "pay_later", features: GOOD_FEATURES, days: 7 });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ outcome: "not_raised", previousLimit: "2000000", temporaryLimit: "2000000", expiresAt: null, operation: null });
      expect((await t.l.ledger.accountOf(accountId)).seq).to.equal(seq);
    });

    it("refuses days out of 1-90 (400), a line the account does not hold (NoLine), and another partner's account as unknown (404)", async () => {
      const accountId = await approvedAccount(t, "pay_later");
      for (const days of [0, 91, 1.5]) {
        const res = await post(t, `/v1/accounts/${accountId}/temporary-raises`, { product: "pay_later", features: GOOD_FEATURES, days });
        expect(res.status, `days ${days}`).to.equal(400);
        expect(res.body.type).to.equal("/problems/validation-failed");
      }
      const noLine = await post(t, `/v1/accounts/${accountId}/temporary-raises`, { product: "cash_loan", features: GOOD_FEATURES, days: 7 });
      expect(noLine.status).to.equal(422);
      expect(noLine.body).to.include({ rule: "NoLine", field: "product" });
      const other = await post(t, `/v1/accounts/${accountId}/temporary-raises`, { product: "pay_later", features: GOOD_FEATURES, days: 7 }, { key: t.keys.partner2 });
      const unknown = await post(t, `/v1/accounts/0x${"ab".repeat(32)}/temporary-raises`, { product: "pay_later", features: GOOD_FEATURES, days: 7 }, { key: t.keys.partner2 });
      expect(other.status).to.equal(404);
      expect(other.body.type).to.equal(unknown.body.type);
      expect(other.body.detail.replace(accountId, "ID")).to.equal(unknown.body.detail.replace(`0x${"ab".repeat(32)}`, "ID"));
    });
  });

  describe("reasons in words", () => {
    it("answers a decline, a cut and a freeze with their reasons in English and Chinese, and the webhooks carry the same", async () => {
      const declined = await post(t, "/v1/applications", applicationBody({ features: { ...GOOD_FEATURES, onTimeRepaymentPct: 10, overdueCount12m: 9, utilizationPct: 99 } }));
      expect(declined.status, JSON.stringify(declined.body)).to.equal(201);
      expect(declined.body.outcome).to.equal("declined");
      expect(declined.body.reasonCodes[0]).to.equal(900);
      expect(declined.body.reasons).to.deep.equal(declined.body.reasonCodes.map(reasonText));
      expect(declined.body.reasons[0].zh).to.equal("信用评分低于最低准入标准");
      const [decided] = await eventsOf("decision.made", declined.body.accountId);
      expect(decided.data.reasons).to.deep.equal(declined.body.reasons);

      const accountId = await approvedAccount(t, "pay_later");
      const cut = await post(t, `/v1/accounts/${accountId}/limit-reviews`, { product: "pay_later", features: MIDDLE_FEATURES });
      expect(cut.body).to.include({ outcome: "cut", cutReasonCode: 101 });
      expect(cut.body.reasons[0]).to.deep.equal({ code: 101, en: "Too few repayments paid on time in the last 24 months", zh: "近24个月按时还款的比例偏低" });
      const [changed] = await eventsOf("limit.changed", accountId);
      expect(changed.data.reasons).to.deep.equal(cut.body.reasons);

      const frozen = await post(t, `/v1/accounts/${accountId}/freeze`, { product: "pay_later", reasonCode: 7 });
      expect(frozen.body.reason).to.deep.equal(reasonText(7));
      const [event] = await eventsOf("line.frozen", accountId);
      expect(event.data.reason).to.deep.equal(reasonText(7));
    });
  });

  describe("POST /v1/accounts/{accountId}/exposure-cap", () => {
    it("lowers and raises the cap within the tier's (ExposureCapChanged), and refuses one above it with tier-cap-exceeded", async () => {
      const accountId = await approvedAccount(t, "pay_later");
      const before = await t.l.ledger.accountOf(accountId);
      const lowered = await post(t, `/v1/accounts/${accountId}/exposure-cap`, { exposureCap: "100000" }, { key: t.keys.admin });
      expect(lowered.status, JSON.stringify(lowered.body)).to.equal(200);
      expect(lowered.body).to.include({ accountId, previousCap: before.exposureCap.toString(), exposureCap: "100000" });
      expect(lowered.body.operation.status).to.equal("confirmed");
      expect((await t.l.ledger.accountOf(accountId)).exposureCap).to.equal(100_000n);
      const [changed] = await t.l.ledger.queryFilter(t.l.ledger.filters.ExposureCapChanged(accountId));
      expect([changed.args.previousCap, changed.args.newCap]).to.deep.equal([before.exposureCap, 100_000n]);
      const [event] = await eventsOf("exposure_cap.changed", accountId);
      expect(event.data).to.deep.equal({ previousCap: before.exposureCap.toString(), exposureCap: "100000" });

      // A purchase above the new cap is refused by it.
      const tooMuch = await post(t, "/v1/purchases", { accountId, amount: "100001" });
      expect(tooMuch.status, JSON.stringify(tooMuch.body)).to.equal(422);
      expect(tooMuch.body.rule).to.equal("ExposureCapExceeded");

      const { maxExposure } = await t.l.ledger.tierPolicyOf(before.tier);
      const above = await post(t, `/v1/accounts/${accountId}/exposure-cap`, { exposureCap: (maxExposure + 1n).toString() }, { key: t.keys.admin });
      expect(above.status, JSON.stringify(above.body)).to.equal(422);
      expect(above.body).to.include({ type: "/problems/ledger/tier-cap-exceeded", rule: "TierCapExceeded" });
      expect(above.body.values).to.include({ requested: (maxExposure + 1n).toString(), cap: maxExposure.toString() });
      expect(above.body.detail).to.equal(`tier ${before.tier} allows at most ${maxExposure} fen; ${maxExposure + 1n} fen was asked`);
      const raised = await post(t, `/v1/accounts/${accountId}/exposure-cap`, { exposureCap: maxExposure.toString() }, { key: t.keys.admin });
      expect(raised.status, JSON.stringify(raised.body)).to.equal(200);
      expect(raised.body.previousCap).to.equal("100000");
      expect((await t.l.ledger.accountOf(accountId)).exposureCap).to.equal(maxExposure);
    });

    it("refuses a partner key with 403, an amount that is not fen with 400, and an unknown account with 404", async () => {
      const accountId = await approvedAccount(t, "pay_later");
      const byPartner = await post(t, `/v1/accounts/${accountId}/exposure-cap`, { exposureCap: "1" });
      expect(byPartner.status).to.equal(403);
      const notFen = await post(t, `/v1/accounts/${accountId}/exposure-cap`, { exposureCap: 100 }, { key: t.keys.admin });
      expect(notFen.status).to.equal(400);
      const unknown = await post(t, `/v1/accounts/0x${"cd".repeat(32)}/exposure-cap`, { exposureCap: "1" }, { key: t.keys.admin });
      expect(unknown.status, JSON.stringify(unknown.body)).to.equal(404);
      const account = (await get(t, `/v1/accounts/${accountId}`, t.keys.admin)).body;
      expect(account.exposureCap).to.not.equal("1");
    });
  });
});
