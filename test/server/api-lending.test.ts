import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import { DecisionPurpose, restructureSubject } from "../../core/decision";
import { plain, termsFromFields } from "../../core/ledger-structs";
import { aprPpm } from "../../core/loan-math";
import { CASH_LOAN_ID, DAY, PAY_LATER_ID } from "../helpers/fixtures";
import { approvedAccount, followChainTime, get, post, testGateway, type TestGateway } from "../helpers/gateway";
import { randomNationalId } from "../helpers/identities";

describe("API: quotes, purchases, refunds, loans, repayments, restructures", function () {
  let t: TestGateway;

  before(async () => {
    t = await testGateway();
  });

  after(async () => {
    await t.gateway.stop();
  });

  /** An account with both lines: pay-later 2,000,000 fen, cash 5,000,000 fen at 300 ppm/day. */
  async function accountWithBothLines(): Promise<string> {
    const identity = { nationalId: randomNationalId() };
    const account = await approvedAccount(t, "pay_later", identity);
    expect(await approvedAccount(t, "cash_loan", identity)).to.equal(account);
    return account;
  }

  describe("quotes", () => {
    it("quotes a 6-installment purchase: the flat fee, its schedule and its APR, without drawing", async () => {
      const res = await post(t, "/v1/quotes", { product: "pay_later", amount: "600000", installments: 6 });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({
        product: "pay_later",
        amount: "600000",
        periods: 6,
        method: "equal_principal",
        totalFee: "27000",
        totalInterest: "0",
        totalCost: "27000",
        totalRepayment: "627000",
        withinCostCeiling: true,
      });
      expect(res.body.schedule).to.have.length(6);
      expect(res.body.schedule.map((i: { principal: string }) => i.principal)).to.deep.equal(Array(6).fill("100000"));
      expect(res.body.schedule.map((i: { fee: string }) => i.fee)).to.deep.equal(Array(6).fill("4500"));
      expect(res.body.aprPpm).to.be.greaterThan(0);
      expect(res.body.aprPpm).to.be.at.most(res.body.costCeilingPpmPerYear);
    });

    it("quotes a cash loan at an account's line rate with the mirror's APR", async () => {
      const account = await accountWithBothLines();
      const res = await post(t, "/v1/quotes", {
        product: "cash_loan",
        amount: "1200000",
        periods: 12,
        method: "annuity",
        accountId: account,
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.dailyRatePpm).to.equal(300);
      const totalPrincipal = res.body.schedule.reduce((s: bigint, i: { principal: string }) => s + BigInt(i.principal), 0n);
      expect(totalPrincipal).to.equal(1_200_000n);
      expect(BigInt(res.body.totalInterest)).to.be.greaterThan(0n);
      expect(res.body.totalCost).to.equal(res.body.totalInterest);
      // The quote writes nothing to the ledger.
      expect((await t.l.ledger.accountOf(account)).loanCount).to.equal(0n);
    });

    it("refuses installments a product does not allow, and a cash quote without a rate", async () => {
      const four = await post(t, "/v1/quotes", { product: "pay_later", amount: "1000", installments: 4 });
      expect(four.status).to.equal(400);
      expect(four.body.field).to.equal("installments");
      const noRate = await post(t, "/v1/quotes", { product: "cash_loan", amount: "1000", periods: 6 });
      expect(noRate.status).to.equal(400);
      expect(noRate.body.field).to.equal("dailyRatePpm");
    });
  });

  describe("purchases and refunds", () => {
    it("draws a purchase in installments and answers with its loan id, schedule and APR", async () => {
      const account = await accountWithBothLines();
      const res = await post(t, "/v1/purchases", {
        accountId: account,
        amount: "300000",
        installments: 3,
        merchantReference: "order-17",
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({
        loanId: `${account}:1`,
        loanNo: 1,
        product: "pay_later",
        amount: "300000",
        periods: 3,
        totalFee: "6900",
        merchantReference: "order-17",
      });
      expect(res.body.schedule).to.have.length(3);
      const [terms] = await t.l.ledger.loanOf(account, 1);
      expect(terms.principal).to.equal(300_000n);
      expect(terms.totalFee).to.equal(6_900n);
      expect(BigInt(res.body.aprPpm)).to.equal(aprPpm(termsFromFields(plain(terms) as Record<string, unknown>)));
      expect(res.body.schedule[0].dueTime).to.equal(Number(terms.startTime) + 40 * DAY);
    });

    it("refuses a purchase above the line's limit with 422 naming the amount, requested and available, and writes nothing", async () => {
      const account = await accountWithBothLines();
      const seq = (await t.l.ledger.accountOf(account)).seq;
      const res = await post(t, "/v1/purchases", { accountId: account, amount: "2000001" });
      expect(res.status).to.equal(422);
      expect(res.headers["content-type"]).to.match(/^application\/problem\+json/);
      expect(res.body).to.include({
        type: "/problems/ledger/limit-exceeded",
        rule: "LimitExceeded",
        field: "amount",
        status: 422,
      });
      expect(res.body.values).to.include({ requested: "2000001", available: "2000000" });
      expect(res.body.detail).to.equal("2000001 fen requested, 2000000 fen available on the line");
      expect((await t.l.ledger.accountOf(account)).seq).to.equal(seq);
      // Nothing was accepted, so the same Idempotency-Key may be used for a corrected request.
    });

    it("refuses a purchase on an unknown account (404) and bad amounts (400)", async () => {
      const unknown = await post(t, "/v1/purchases", { accountId: `0x${"ab".repeat(32)}`, amount: "100" });
      expect(unknown.status).to.equal(404);
      expect(unknown.body.rule).to.equal("UnknownAccount");
      for (const amount of ["0", "-5", "1.5", 100, "18446744073709551616", ""]) {
        const res = await post(t, "/v1/purchases", { accountId: `0x${"ab".repeat(32)}`, amount });
        expect(res.status, String(amount)).to.equal(400);
        expect(res.body.field, String(amount)).to.equal("amount");
      }
    });

    it("refunds part of a purchase: the matching share of the installment fee is waived", async () => {
      const account = await accountWithBothLines();
      const purchase = await post(t, "/v1/purchases", { accountId: account, amount: "300000", installments: 3 });
      const refund = await post(t, `/v1/purchases/${purchase.body.loanId}/refunds`, { amount: "100000" });
      expect(refund.status, JSON.stringify(refund.body)).to.equal(200);
      expect(refund.body).to.include({ loanId: `${account}:1`, amount: "100000", feeWaived: "2300" });
      const tooMuch = await post(t, `/v1/purchases/${purchase.body.loanId}/refunds`, { amount: "200001" });
      expect(tooMuch.status).to.equal(422);
      expect(tooMuch.body).to.include({ rule: "RefundExceedsOutstanding", field: "amount" });
      expect(tooMuch.body.values).to.include({ amount: "200001", outstanding: "200000" });
    });

    it("accepts the drawing operation's id as the loan id", async () => {
      const account = await accountWithBothLines();
      const purchase = await post(t, "/v1/purchases", { accountId: account, amount: "50000" });
      const byOperation = await get(t, `/v1/loans/${purchase.body.operation.id}`);
      expect(byOperation.status).to.equal(200);
      expect(byOperation.body.loanId).to.equal(purchase.body.loanId);
    });
  });

  describe("cash loans and repayments", () => {
    it("draws a cash loan and repays it: the allocation by bucket, the loan's position matching the ledger's", async () => {
      const account = await accountWithBothLines();
      const loan = await post(t, "/v1/loans", { accountId: account, amount: "1200000", periods: 6, method: "equal_principal" });
      expect(loan.status, JSON.stringify(loan.body)).to.equal(201);
      expect(loan.body).to.include({
        loanId: `${account}:1`,
        product: "cash_loan",
        periods: 6,
        method: "equal_principal",
        dailyRatePpm: 300,
      });
      expect(loan.body.schedule.map((i: { principal: string }) => i.principal)).to.deep.equal(Array(6).fill("200000"));

      const [terms] = await t.l.ledger.loanOf(account, 1);
      await time.setNextBlockTimestamp(terms.startTime + 10n * BigInt(DAY) + 5n);
      const repaid = await post(t, "/v1/repayments", { loanId: loan.body.loanId, amount: "50000" });
      expect(repaid.status, JSON.stringify(repaid.body)).to.equal(200);
      // 10 days of interest on 1,200,000 at 300 ppm/day = 3,600; the rest goes to the current period's principal.
      expect(repaid.body.allocation).to.deep.equal({
        penalty: "0",
        fee: "0",
        interest: "3600",
        overduePrincipal: "0",
        currentPrincipal: "46400",
        prepaidPrincipal: "0",
      });
      expect(repaid.body.loanStatus).to.equal("active");

      await followChainTime(t.clock, t.provider);
      const view = await get(t, `/v1/loans/${loan.body.loanId}`, t.keys.auditor);
      expect(view.status).to.equal(200);
      const onChain = await t.l.ledger.positionOf(account, 1, BigInt(view.body.asOf));
      for (const field of ["principalOutstanding", "amountDue", "payoff", "interest", "penalty"] as const) {
        expect(view.body.position[field], field).to.equal(onChain[field].toString());
      }
      expect(view.body.paid).to.deep.equal({ penalty: "0", fee: "0", interest: "3600", principal: "46400", total: "50000" });
      expect(view.body.schedule[0]).to.include({ principalPaid: "46400", status: "partly_paid" });
      expect(view.body.schedule[1].status).to.equal("upcoming");
    });

    it("refuses a repayment above the payoff with 422 naming payoff", async () => {
      const account = await accountWithBothLines();
      const loan = await post(t, "/v1/loans", { accountId: account, amount: "300000", periods: 3, method: "annuity" });
      const res = await post(t, "/v1/repayments", { loanId: loan.body.loanId, amount: "999999999" });
      expect(res.status).to.equal(422);
      expect(res.body).to.include({ rule: "RepaymentExceedsPayoff", field: "amount" });
      expect(BigInt(res.body.values.payoff)).to.be.greaterThanOrEqual(300_000n);
    });

    it("refuses cash loans the product or the line does not allow", async () => {
      const account = await accountWithBothLines();
      const tooLong = await post(t, "/v1/loans", { accountId: account, amount: "1000", periods: 13, method: "annuity" });
      expect(tooLong.status).to.equal(400);
      expect(tooLong.body.field).to.equal("periods");
      const bullet = await post(t, "/v1/loans", { accountId: account, amount: "1000", periods: 6, method: "bullet" });
      expect(bullet.status).to.equal(400);
      expect(bullet.body.field).to.equal("method");
      const payLaterOnly = await approvedAccount(t, "pay_later");
      const noLine = await post(t, "/v1/loans", { accountId: payLaterOnly, amount: "1000", periods: 6, method: "annuity" });
      expect(noLine.status).to.equal(422);
      expect(noLine.body).to.include({ rule: "NoLine", field: "product" });
    });

    it("shows an overdue loan's days past due and delinquency bucket on the account", async () => {
      const account = await accountWithBothLines();
      const purchase = await post(t, "/v1/purchases", { accountId: account, amount: "80000" });
      const [terms] = await t.l.ledger.loanOf(account, purchase.body.loanNo);
      t.clock.setSeconds(terms.startTime + 45n * BigInt(DAY)); // 5 days past the 40-day grace
      const view = await get(t, `/v1/accounts/${account}`);
      expect(view.status).to.equal(200);
      expect(view.body.delinquency).to.deep.equal({ daysPastDue: 5, bucket: "1-30" });
      const loan = view.body.loans.find((l: { loanNo: number }) => l.loanNo === purchase.body.loanNo);
      expect(loan).to.include({ daysPastDue: 5, status: "active" });
      // Penalty accrues on the overdue principal at the rate fixed in the loan's terms: 80,000 x 500 ppm x 5 days.
      const detail = await get(t, `/v1/loans/${purchase.body.loanId}`);
      expect(detail.body.position.penalty).to.equal("200");
      expect(detail.body.delinquency).to.equal("1-30");
      expect(detail.body.schedule[0].status).to.equal("overdue");
      await followChainTime(t.clock, t.provider);
    });
  });

  describe("restructures", () => {
    it("restructures a loan on the scorer's Restructure decision for exactly its terms, and refuses a shorter one or a raised rate naming the field", async () => {
      const account = await accountWithBothLines();
      const loan = await post(t, "/v1/loans", { accountId: account, amount: "600000", periods: 6, method: "equal_principal" });
      const partner = await post(t, `/v1/loans/${loan.body.loanId}/restructure`, { periods: 12 });
      expect(partner.status).to.equal(403);
      const shorter = await post(t, `/v1/loans/${loan.body.loanId}/restructure`, { periods: 3 }, { key: t.keys.admin });
      expect(shorter.status).to.equal(422);
      expect(shorter.body).to.include({ rule: "InvalidRestructure", field: "periods" });
      const raise = await post(t, `/v1/loans/${loan.body.loanId}/restructure`, { periods: 24, dailyRatePpm: 600 }, { key: t.keys.admin });
      expect(raise.status).to.equal(422);
      expect(raise.body.field).to.equal("dailyRatePpm");
      const res = await post(
        t,
        `/v1/loans/${loan.body.loanId}/restructure`,
        { periods: 12, holidayDays: 30, dailyRatePpm: 200 },
        { key: t.keys.admin }
      );
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ periods: 12, holidayDays: 30, dailyRatePpm: 200 });
      expect(res.body.schedule).to.have.length(12);
      const [terms] = await t.l.ledger.loanOf(account, 1);
      expect(terms.periods).to.equal(12n);
      expect(terms.ratePpmPerDay).to.equal(200n);
      // The entry carries the scorer's decision: purpose Restructure, the subject of exactly these terms, signed by the scorer process.
      const [event] = await t.l.ledger.queryFilter(t.l.ledger.filters.Restructured(account));
      const decision = event.args.decision;
      expect(decision.purpose).to.equal(BigInt(DecisionPurpose.Restructure));
      expect(decision.subject).to.equal(restructureSubject(1, 12, 30, 200n));
      expect(event.args.scorer).to.equal(t.scoring.address);
    });
  });

  it("keeps products apart: a refund of a cash loan is refused", async () => {
    const account = await accountWithBothLines();
    const loan = await post(t, "/v1/loans", { accountId: account, amount: "100000", periods: 3, method: "annuity" });
    const res = await post(t, `/v1/purchases/${loan.body.loanId}/refunds`, { amount: "1000" });
    expect(res.status).to.equal(422);
    expect(res.body.rule).to.equal("NotAPurchase");
    expect(PAY_LATER_ID).to.not.equal(CASH_LOAN_ID);
  });
});
