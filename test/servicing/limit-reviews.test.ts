/**
 * Periodic limit reviews: every line is re-scored from its own ledger history once the review
 * interval has passed. Paid on time and lightly used: a raise, on a new scorer-signed
 * decision. Unpaid past its due date: a cut, recorded on-chain with the scorecard's reason code.
 */
import { expect } from "chai";

import { PAY_LATER_ID } from "../helpers/fixtures";
import { DAY } from "../../core/loan-math";
import { replayLoans } from "../../core/loan-history";
import { reviewFeatures } from "../../server/servicing/review-features";
import { applicationBody, get, post, testGateway, type TestGateway, withKyc } from "../helpers/gateway";
import { GOOD_FEATURES, MIDDLE_FEATURES } from "../helpers/identities";
import { expectAuditPasses } from "../helpers/audit";

describe("limit reviews from the account's own history", function () {
  let t: TestGateway;

  before(async () => {
    t = await testGateway({ GATEWAY_LIMIT_REVIEW_INTERVAL_DAYS: "45" });
  });

  after(async () => {
    await t.gateway.stop();
  });

  const apply = async (features: Record<string, number>) => {
    const res = await post(t, "/v1/applications", await withKyc(t, applicationBody({ features })));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as { accountId: string; limit: string };
  };
  const advance = async (days: number) => {
    const res = await post(t, "/v1/admin/clock/advance", { days }, { key: t.keys.admin });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };

  it("raises a line paid on time (new signed decision) and cuts one left unpaid (reason code on-chain)", async () => {
    const good = await apply(MIDDLE_FEATURES);
    const bad = await apply(GOOD_FEATURES);
    expect([good.limit, bad.limit]).to.deep.equal(["1000000", "2000000"]);
    const goodBuy = await post(t, "/v1/purchases", { accountId: good.accountId, amount: "50000" });
    const badBuy = await post(t, "/v1/purchases", { accountId: bad.accountId, amount: "100000" });
    expect([goodBuy.status, badBuy.status]).to.deep.equal([201, 201]);

    // A day later the good borrower repays in full (before the due date); no review yet (interval 45 days).
    const early = await advance(1);
    expect(early.run.limitReviews).to.deep.equal([]);
    expect((await post(t, "/v1/repayments", { loanId: goodBuy.body.loanId, amount: "50000" })).status).to.equal(200);

    // Day 45: both lines are due a review; the purchases fell due on day 40.
    const review = await advance(44);
    const byAccount = Object.fromEntries(review.run.limitReviews.map((r: { accountId: string }) => [r.accountId, r]));
    expect(byAccount[good.accountId]).to.include({ product: "pay_later", outcome: "increased" });
    expect(byAccount[bad.accountId]).to.include({ product: "pay_later", outcome: "cut" });
    for (const r of review.run.limitReviews) {
      const op = await t.gateway.operations.wait(r.operationId, 30_000);
      expect(op.status, r.accountId).to.equal("confirmed");
    }

    // The raise: a LimitIncreased entry carrying a decision signed by the scorer.
    expect(await t.l.ledger.effectiveLimit(good.accountId, PAY_LATER_ID)).to.equal(2_000_000n);
    const [raised] = await t.l.ledger.queryFilter(t.l.ledger.filters.LimitIncreased(good.accountId));
    expect(raised.args.scorer).to.equal(t.scorer.address);
    expect(raised.args.decision.limit).to.equal(2_000_000n);

    // The cut: a LimitCut entry with the scorecard's first reason code (101: on-time repayment).
    const [cut] = await t.l.ledger.queryFilter(t.l.ledger.filters.LimitCut(bad.accountId));
    expect(cut.args.newLimit).to.be.lessThan(2_000_000n);
    expect(cut.args.reasonCode).to.equal(101n);
    const [record] = await t.gateway.servicingStore.reviewsOf(bad.accountId);
    expect(record).to.include({ outcome: "cut", reasonCode: 101 });
    expect(record.features).to.include({ onTimeRepaymentPct: 0, overdueCount12m: 1, monthlyIncomeYuan: GOOD_FEATURES.monthlyIncomeYuan });
    const [goodRecord] = await t.gateway.servicingStore.reviewsOf(good.accountId);
    expect(goodRecord.features).to.include({ onTimeRepaymentPct: 100, overdueCount12m: 0, utilizationPct: 0, paymentActivityMonths: 1 });

    // Not again until the next interval.
    const next = await advance(1);
    expect(next.run.limitReviews).to.deep.equal([]);
    expect((await get(t, `/v1/accounts/${bad.accountId}`)).body.lines[0].limit).to.equal(cut.args.newLimit.toString());
    // The raise's decision and the cut pass the auditor's verifier.
    await expectAuditPasses(await t.l.ledger.getAddress());
  });

  it("derives the features from the ledger alone (pure)", () => {
    const start = 1_700_000_000n;
    const terms = { principal: 90_000n, startTime: start, periods: 3n, method: 1n, productId: 1n, ratePpmPerDay: 0n, totalFee: 0n, firstDueDay: 40n, penaltyPpmPerDay: 500n, writeOffDays: 180n };
    const entries = [
      { seq: 3n, name: "Drawn", args: { loanNo: 1n, terms } },
      { seq: 4n, name: "Repaid", args: { loanNo: 1n, day: 40n, amount: 30_000n } }, // period 1 on its due day
      { seq: 5n, name: "Repaid", args: { loanNo: 1n, day: 75n, amount: 30_075n } }, // period 2 five days late (with penalty)
    ];
    const features = reviewFeatures({
      loans: replayLoans(entries),
      now: start + 101n * DAY, // period 3 (due day 100) unpaid, one day late
      openedAt: start - 400n * DAY,
      line: { limit: 100_000n, used: 30_000n },
      carried: { monthlyIncomeYuan: 5000, onTimeRepaymentPct: 99 },
    });
    expect(features).to.deep.equal({
      tenureMonths: 16,
      overdueCount12m: 1,
      paymentActivityMonths: 2,
      onTimeRepaymentPct: 33,
      utilizationPct: 30,
      monthlyIncomeYuan: 5000,
    });
  });
});
