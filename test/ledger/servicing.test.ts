/**
 * Servicing a loan after it is drawn: repayment allocation, interest for the days used,
 * penalty on overdue principal only, payoff and closing, merchant refunds, hardship
 * restructures, write-offs and recoveries, and the views an integrator reads.
 *
 * Expected amounts are worked out by hand in the comments (fen; rates in ppm), or with the
 * TypeScript mirror (core/loan-math.ts) where fixed-point annuity math is involved.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";

import {
  accountWithLines,
  deployLedger,
  drawCash,
  grantLine,
  newRef,
  openAccount,
  PAY_LATER_ID,
  CASH_LOAN_ID,
  purchase,
  type Ledger,
} from "../helpers/fixtures";
import { loanOf, nextTxOnDay, startOf, timeOnDay } from "../helpers/loans";
import { allocationTuple } from "../helpers/tuples";
import { LoanStatus, RepaymentMethod, schedule } from "../../core/loan-math";
import { PAY_LATER } from "../../deploy/defaults";
import { LEDGER_LIMITS } from "../../core/loan-math";

const { maxRestructuresPerLoan: MAX_RESTRUCTURES_PER_LOAN, maxTotalHolidayDays: MAX_TOTAL_HOLIDAY_DAYS } = LEDGER_LIMITS;

const DAY = 86_400n;
const WRITE_OFF_FREEZE_REASON = 0xffff;

/**
 * A cash loan of 600,000 fen over 6 periods, equal principal (100,000 a period, due on days
 * 30, 60, ... 180) at 500 ppm/day; the account is at seq 4.
 */
async function cashLoan(l: Ledger) {
  const account = await accountWithLines(l);
  const loanNo = await drawCash(l, account, 600_000n, 6, RepaymentMethod.EqualPrincipal);
  return { account, loanNo, start: await startOf(l, account, loanNo) };
}

/** A single-payment purchase of 100,000 fen, due on day 40; the account is at seq 4. */
async function singlePurchase(l: Ledger) {
  const account = await accountWithLines(l);
  const loanNo = await purchase(l, account, 100_000n, 1);
  return { account, loanNo, start: await startOf(l, account, loanNo) };
}

/**
 * A purchase of `principal` fen in `periods` installments (due on days 40, 70, 100, ...); the
 * account is at seq 4.
 */
async function installmentPurchase(l: Ledger, principal: bigint, periods: number) {
  const account = await accountWithLines(l);
  const loanNo = await purchase(l, account, principal, periods);
  return { account, loanNo, start: await startOf(l, account, loanNo) };
}

describe("servicing", () => {
  describe("repayment allocation", () => {
    it("applies a cash repayment to penalty, interest, overdue principal, current principal, then prepayment", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      // Day 65: periods 1 and 2 (due days 30, 60) are overdue.
      //   interest = 600,000 x 500 x 65 / 1e6                        = 19,500
      //   penalty  = (100,000 x 35 + 100,000 x 5) x 500 / 1e6         =  2,000
      //   overdue principal 200,000; current (period 3) 100,000; future 300,000.
      // 371,500 = 2,000 + 19,500 + 200,000 + 100,000 + 50,000 prepaid.
      await nextTxOnDay(start, 65);
      const ref = newRef();

      await expect(l.asOperator.repay(account, loanNo, 371_500n, ref, 4))
        .to.emit(l.ledger, "Repaid")
        .withArgs(
          account,
          loanNo,
          5,
          anyValue,
          ref,
          371_500n,
          allocationTuple({
            penalty: 2_000n,
            interest: 19_500n,
            overduePrincipal: 200_000n,
            currentPrincipal: 100_000n,
            prepaidPrincipal: 50_000n,
          }),
          65,
          19_500n,
          2_000n,
          LoanStatus.Active,
          l.operator.address,
        );
      const { state } = await loanOf(l, account, loanNo);
      expect(state.principalSettled).to.equal(350_000n);
      expect(state.interestOwed).to.equal(0n);
      expect(state.penaltyOwed).to.equal(0n);
      expect((await l.ledger.lineOf(account, CASH_LOAN_ID)).used).to.equal(250_000n);
    });

    it("applies an installment repayment to penalty, fees, overdue principal, current principal, then prepayment", async () => {
      const l = await loadFixture(deployLedger);
      // 600,000 in 6 installments: fee 600,000 x 4.5 % = 27,000, 4,500 a period.
      const { account, loanNo, start } = await installmentPurchase(l, 600_000n, 6);
      // Day 75: periods 1 and 2 (due days 40, 70) overdue; period 3 current, its fee billed.
      //   penalty = (100,000 x 35 + 100,000 x 5) x 500 / 1e6 = 2,000
      //   fees billed for periods 1-3 = 13,500
      // 315,501 = 2,000 + 13,500 + 200,000 + 100,000 + 1 prepaid.
      await nextTxOnDay(start, 75);

      await expect(l.asOperator.repay(account, loanNo, 315_501n, newRef(), 4))
        .to.emit(l.ledger, "Repaid")
        .withArgs(
          account,
          loanNo,
          5,
          anyValue,
          anyValue,
          315_501n,
          allocationTuple({
            penalty: 2_000n,
            fee: 13_500n,
            overduePrincipal: 200_000n,
            currentPrincipal: 100_000n,
            prepaidPrincipal: 1n,
          }),
          75,
          0n,
          2_000n,
          LoanStatus.Active,
          l.operator.address,
        );
    });

    it("fills the penalty before anything else", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      await nextTxOnDay(start, 65); // penalty 2,000, interest 19,500 (as above)

      await expect(l.asOperator.repay(account, loanNo, 1_500n, newRef(), 4))
        .to.emit(l.ledger, "Repaid")
        .withArgs(account, loanNo, 5, anyValue, anyValue, 1_500n, allocationTuple({ penalty: 1_500n }), 65, 19_500n, 2_000n, 0, anyValue);
      const { state } = await loanOf(l, account, loanNo);
      expect(state.penaltyOwed).to.equal(500n);
      expect(state.interestOwed).to.equal(19_500n);
      expect(state.principalSettled).to.equal(0n);
    });

    it("fills interest before any principal", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      await nextTxOnDay(start, 65); // penalty 2,000, interest 19,500 (as above)

      await expect(l.asOperator.repay(account, loanNo, 21_000n, newRef(), 4))
        .to.emit(l.ledger, "Repaid")
        .withArgs(
          account,
          loanNo,
          5,
          anyValue,
          anyValue,
          21_000n,
          allocationTuple({ penalty: 2_000n, interest: 19_000n }),
          65,
          19_500n,
          2_000n,
          0,
          anyValue,
        );
    });

    it("returns the allocation to the caller", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      await time.increaseTo(timeOnDay(start, 65)); // a call runs on the next block, still day 65
      const allocation = await l.asOperator.repay.staticCall(account, loanNo, 21_000n, newRef(), 4);
      expect(allocation.penalty).to.equal(2_000n);
      expect(allocation.interest).to.equal(19_000n);
      expect(allocation.overduePrincipal).to.equal(0n);
    });

    it("rejects a zero repayment", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo } = await cashLoan(l);
      await expect(l.asOperator.repay(account, loanNo, 0n, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "InvalidAmount")
        .withArgs(0);
    });

    it("rejects a repayment of a loan that does not exist", async () => {
      const l = await loadFixture(deployLedger);
      const { account } = await cashLoan(l);
      await expect(l.asOperator.repay(account, 9, 1_000n, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "UnknownLoan")
        .withArgs(account, 9);
    });
  });

  describe("early repayment and payoff", () => {
    it("charges interest only for the days used when a loan is repaid early", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      // Day 10: interest = 600,000 x 500 x 10 / 1e6 = 3,000; payoff 603,000.
      expect((await l.ledger.positionOf(account, loanNo, timeOnDay(start, 10))).payoff).to.equal(603_000n);
      await nextTxOnDay(start, 10);

      await expect(l.asOperator.repay(account, loanNo, 603_000n, newRef(), 4))
        .to.emit(l.ledger, "Repaid")
        .withArgs(
          account,
          loanNo,
          5,
          anyValue,
          anyValue,
          603_000n,
          allocationTuple({ interest: 3_000n, currentPrincipal: 100_000n, prepaidPrincipal: 500_000n }),
          10,
          3_000n,
          0n,
          LoanStatus.Closed,
          l.operator.address,
        );
    });

    it("closes the loan at payoff and releases its usage", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      await nextTxOnDay(start, 10);
      await l.asOperator.repay(account, loanNo, 603_000n, newRef(), 4);

      const { state } = await loanOf(l, account, loanNo);
      expect(state.status).to.equal(LoanStatus.Closed);
      expect(state.principalSettled).to.equal(600_000n);
      expect((await l.ledger.lineOf(account, CASH_LOAN_ID)).used).to.equal(0n);
      expect((await l.ledger.accountOf(account)).used).to.equal(0n);
    });

    it("rejects any repayment of a closed loan", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      await nextTxOnDay(start, 10);
      await l.asOperator.repay(account, loanNo, 603_000n, newRef(), 4);

      await expect(l.asOperator.repay(account, loanNo, 1n, newRef(), 5))
        .to.be.revertedWithCustomError(l.ledger, "LoanNotActive")
        .withArgs(account, loanNo, LoanStatus.Closed);
    });

    it("rejects a repayment above the payoff", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      await nextTxOnDay(start, 10);
      await expect(l.asOperator.repay(account, loanNo, 603_001n, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "RepaymentExceedsPayoff")
        .withArgs(account, loanNo, 603_001n, 603_000n);
    });

    it("closes an installment purchase at payoff, waiving the fees of periods not yet started", async () => {
      const l = await loadFixture(deployLedger);
      // 300,000 in 3 installments: fee 6,900, 2,300 a period. Day 5: period 1's fee is billed.
      const { account, loanNo, start } = await installmentPurchase(l, 300_000n, 3);
      expect((await l.ledger.positionOf(account, loanNo, timeOnDay(start, 5))).payoff).to.equal(302_300n);
      await nextTxOnDay(start, 5);

      await expect(l.asOperator.repay(account, loanNo, 302_300n, newRef(), 4))
        .to.emit(l.ledger, "Repaid")
        .withArgs(
          account,
          loanNo,
          5,
          anyValue,
          anyValue,
          302_300n,
          allocationTuple({ fee: 2_300n, currentPrincipal: 100_000n, prepaidPrincipal: 200_000n }),
          5,
          0n,
          0n,
          LoanStatus.Closed,
          anyValue,
        );
    });
  });

  describe("penalty", () => {
    it("keeps the penalty rate a loan was drawn with when the product's rate changes later", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await singlePurchase(l);
      await l.ledger.connect(l.admin).configureProduct(PAY_LATER_ID, { ...PAY_LATER, penaltyPpmPerDay: 100 });
      // Day 50: 10 days overdue at the drawn 500 ppm/day: 100,000 x 500 x 10 / 1e6 = 500 (not 100).
      const p = await l.ledger.positionOf(account, loanNo, timeOnDay(start, 50));
      expect(p.penalty).to.equal(500n);
      expect((await loanOf(l, account, loanNo)).terms.penaltyPpmPerDay).to.equal(500n);
      // A purchase drawn after the change carries the new rate.
      const later = await purchase(l, account, 10_000n, 1);
      expect((await loanOf(l, account, later)).terms.penaltyPpmPerDay).to.equal(100n);
    });

    it("accrues no penalty up to and including the due date", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await singlePurchase(l);
      const p = await l.ledger.positionOf(account, loanNo, timeOnDay(start, 40));
      expect(p.penalty).to.equal(0n);
      expect(p.overduePrincipal).to.equal(0n);
      expect(p.daysPastDue).to.equal(0n);
      expect(p.payoff).to.equal(100_000n);
    });

    it("accrues the daily penalty on overdue principal once the due date has passed", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await singlePurchase(l);
      // Day 50: 10 days overdue; 100,000 x 500 x 10 / 1e6 = 500.
      const p = await l.ledger.positionOf(account, loanNo, timeOnDay(start, 50));
      expect(p.penalty).to.equal(500n);
      expect(p.overduePrincipal).to.equal(100_000n);
      expect(p.daysPastDue).to.equal(10n);
      expect(p.payoff).to.equal(100_500n);
    });

    it("charges no penalty on overdue installment fees", async () => {
      const l = await loadFixture(deployLedger);
      // 300,000 in 3: fee 2,300 a period. Day 50: period 1 (due day 40) overdue, fee included.
      const { account, loanNo, start } = await installmentPurchase(l, 300_000n, 3);
      const p = await l.ledger.positionOf(account, loanNo, timeOnDay(start, 50));
      // 100,000 x 10 x 500 / 1e6 = 500; with the fee it would be 102,300 x 10 x 500 / 1e6 = 511.
      expect(p.penalty).to.equal(500n);
      expect(p.feesDue).to.equal(4_600n); // periods 1 and 2 billed
    });

    it("charges no penalty on unpaid interest", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      // Day 40: interest 600,000 x 500 x 40 / 1e6 = 12,000; penalty only on period 1's 100,000.
      const p = await l.ledger.positionOf(account, loanNo, timeOnDay(start, 40));
      expect(p.interest).to.equal(12_000n);
      expect(p.penalty).to.equal(500n);
    });

    it("does not compound: unpaid penalty accrues no penalty", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await singlePurchase(l);
      await nextTxOnDay(start, 50);
      await l.asOperator.repay(account, loanNo, 100n, newRef(), 4); // to penalty; 400 stays owed
      // Day 60: 400 + 100,000 x 500 x 10 / 1e6 = 900.
      const p = await l.ledger.positionOf(account, loanNo, timeOnDay(start, 60));
      expect(p.penalty).to.equal(900n);
    });
  });

  describe("refund", () => {
    it("reduces a purchase's principal by a refund and waives the proportional fee", async () => {
      const l = await loadFixture(deployLedger);
      // 300,000 in 3: fee 6,900. A 100,000 refund waives 6,900 x 100,000 / 300,000 = 2,300.
      const { account, loanNo } = await installmentPurchase(l, 300_000n, 3);
      const ref = newRef();

      await expect(l.asOperator.refund(account, loanNo, 100_000n, ref, 4))
        .to.emit(l.ledger, "Refunded")
        .withArgs(account, loanNo, 5, anyValue, ref, 100_000n, 2_300n, 0, l.operator.address);
      const { state } = await loanOf(l, account, loanNo);
      expect(state.principalSettled).to.equal(100_000n);
      expect(state.feeSettled).to.equal(2_300n);
      expect(state.status).to.equal(LoanStatus.Active);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).used).to.equal(200_000n);
      expect((await l.ledger.accountOf(account)).used).to.equal(200_000n);
    });

    it("closes a fully refunded purchase and waives its whole fee", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo } = await installmentPurchase(l, 300_000n, 3);

      await expect(l.asOperator.refund(account, loanNo, 300_000n, newRef(), 4))
        .to.emit(l.ledger, "Refunded")
        .withArgs(account, loanNo, 5, anyValue, anyValue, 300_000n, 6_900n, 0, anyValue);
      expect((await loanOf(l, account, loanNo)).state.status).to.equal(LoanStatus.Closed);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).used).to.equal(0n);
    });

    it("waives the fee cumulatively over split refunds, so 167 + 166 closes the purchase as one refund of 333 does", async () => {
      // The history seen: 1,000 in 3 (fee 23 = 9 + 7 + 7; principal 334 + 333 + 333, due days
      // 40, 70, 100). Periods 1 and 2 paid on time, the rest refunded as 167 + 166. Rounded down
      // per call the waivers were 3 + 3, leaving 1 fen of fee owing: the loan went past due and
      // was written off. Cumulatively: floor(23 x 167 / 1,000) = 3, then floor(23 x 333 / 1,000)
      // - 3 = 4, and the second refund settles the last principal, so the loan closes.
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await installmentPurchase(l, 1_000n, 3);
      await nextTxOnDay(start, 40);
      await l.asOperator.repay(account, loanNo, 343n, newRef(), 4); // 9 fee + 334 principal
      await nextTxOnDay(start, 70);
      await l.asOperator.repay(account, loanNo, 340n, newRef(), 5); // 7 fee + 333 principal
      await nextTxOnDay(start, 75);
      await expect(l.asOperator.refund(account, loanNo, 167n, newRef(), 6))
        .to.emit(l.ledger, "Refunded")
        .withArgs(account, loanNo, 7, anyValue, anyValue, 167n, 3n, 75, l.operator.address);
      expect((await loanOf(l, account, loanNo)).state.principalRefunded).to.equal(167n);
      await expect(l.asOperator.refund(account, loanNo, 166n, newRef(), 7))
        .to.emit(l.ledger, "Refunded")
        .withArgs(account, loanNo, 8, anyValue, anyValue, 166n, 4n, 75, l.operator.address);

      const { state } = await loanOf(l, account, loanNo);
      expect(state.feeSettled).to.equal(23n);
      expect(state.principalRefunded).to.equal(333n);
      expect(state.status).to.equal(LoanStatus.Closed);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).used).to.equal(0n);
      await nextTxOnDay(start, 281);
      await expect(l.asOperator.writeOff(account, loanNo, newRef(), 8))
        .to.be.revertedWithCustomError(l.ledger, "LoanNotActive")
        .withArgs(account, loanNo, LoanStatus.Closed);
    });

    it("closes the same purchase with one refund of 333, waiving the 7 fen of fee left", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await installmentPurchase(l, 1_000n, 3);
      await nextTxOnDay(start, 40);
      await l.asOperator.repay(account, loanNo, 343n, newRef(), 4);
      await nextTxOnDay(start, 70);
      await l.asOperator.repay(account, loanNo, 340n, newRef(), 5);
      await nextTxOnDay(start, 75);
      await expect(l.asOperator.refund(account, loanNo, 333n, newRef(), 6))
        .to.emit(l.ledger, "Refunded")
        .withArgs(account, loanNo, 7, anyValue, anyValue, 333n, 7n, 75, l.operator.address);
      expect((await loanOf(l, account, loanNo)).state.status).to.equal(LoanStatus.Closed);
    });

    it("waives all the fee left when a refund settles the last principal, whatever the rounding", async () => {
      // 1,000 in 3 (fee 23), 700 prepaid on day 0 (fee 9 billed and paid first: 691 principal).
      // Refunding the last 309 waives floor(23 x 309 / 1,000) = 7 by proportion, but 14 are
      // left: the refund that brings principal to zero waives all 14 and closes the loan.
      const l = await loadFixture(deployLedger);
      const { account, loanNo } = await installmentPurchase(l, 1_000n, 3);
      await l.asOperator.repay(account, loanNo, 700n, newRef(), 4);
      await expect(l.asOperator.refund(account, loanNo, 309n, newRef(), 5))
        .to.emit(l.ledger, "Refunded")
        .withArgs(account, loanNo, 6, anyValue, anyValue, 309n, 14n, anyValue, l.operator.address);
      const { state } = await loanOf(l, account, loanNo);
      expect(state.feeSettled).to.equal(23n);
      expect(state.status).to.equal(LoanStatus.Closed);
    });

    it("rejects a refund above the purchase's outstanding principal", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo } = await installmentPurchase(l, 300_000n, 3);
      await l.asOperator.refund(account, loanNo, 100_000n, newRef(), 4);

      await expect(l.asOperator.refund(account, loanNo, 200_001n, newRef(), 5))
        .to.be.revertedWithCustomError(l.ledger, "RefundExceedsOutstanding")
        .withArgs(account, loanNo, 200_001n, 200_000n);
    });

    it("rejects a zero refund as an invalid amount", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo } = await installmentPurchase(l, 300_000n, 3);
      // InvalidAmount: "The amount is zero or does not fit ..." (ICreditLedger).
      await expect(l.asOperator.refund(account, loanNo, 0n, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "InvalidAmount")
        .withArgs(0);
    });

    it("rejects a refund of a cash loan", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo } = await cashLoan(l);
      await expect(l.asOperator.refund(account, loanNo, 1_000n, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "NotAPurchase")
        .withArgs(account, loanNo);
    });
  });

  describe("restructure", () => {
    it("restructures into a longer term with a holiday and a lower rate, as a new recorded fact", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      const at = await nextTxOnDay(start, 10);
      const ref = newRef();
      // Interest to day 10: 600,000 x 500 x 10 / 1e6 = 3,000, still owed after the restructure.
      // New terms: 600,000 over 12 periods from now, first due 30 + 30 holiday days, 400 ppm/day.

      await expect(l.asOperator.restructure(account, loanNo, 12, 30, 400, ref, 4))
        .to.emit(l.ledger, "Restructured")
        .withArgs(
          account,
          loanNo,
          5,
          anyValue,
          ref,
          [600_000n, start, 6, RepaymentMethod.EqualPrincipal, CASH_LOAN_ID, 500, 0, 30, 500, 180],
          [600_000n, at, 12, RepaymentMethod.EqualPrincipal, CASH_LOAN_ID, 400, 0, 60, 500, 180],
          3_000n,
          0n,
          30,
          0,
          l.operator.address,
        );
      const { state } = await loanOf(l, account, loanNo);
      expect(state.interestOwed).to.equal(3_000n);
      expect(state.principalSettled).to.equal(0n);
      const s = await l.ledger.scheduleOf(account, loanNo);
      expect(s.length).to.equal(12);
      expect(s[0].dueTime).to.equal(at + 60n * DAY);
      expect(s[0].principal).to.equal(50_000n);
    });

    it("pauses ageing during a payment holiday", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      // Day 40: 10 days past due; penalty 500 and interest 12,000 accrued, and stay owed.
      // The new rate is 0 (interest frozen): at 500 ppm/day the 90-day first period would cost
      // more than the ceiling (see the cost-ceiling test below).
      const at = await nextTxOnDay(start, 40);
      await expect(l.asOperator.restructure(account, loanNo, 6, 60, 0, newRef(), 4))
        .to.emit(l.ledger, "Restructured")
        .withArgs(account, loanNo, 5, anyValue, anyValue, anyValue, anyValue, 12_000n, 500n, 60, 10, anyValue);

      // First new due day is 90 days after the restructure: nothing is past due until then.
      const during = await l.ledger.positionOf(account, loanNo, at + 90n * DAY + 60n);
      expect(during.daysPastDue).to.equal(0n);
      expect(during.overduePrincipal).to.equal(0n);
      expect(during.penalty).to.equal(500n);
      const after = await l.ledger.positionOf(account, loanNo, at + 91n * DAY + 60n);
      expect(after.daysPastDue).to.equal(1n);
      expect(after.overduePrincipal).to.equal(100_000n);
      expect(after.penalty).to.equal(550n); // 500 + 100,000 x 500 x 1 / 1e6
    });

    it("accepts the longest term (36 periods) and holiday (180 days) with interest frozen", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo } = await cashLoan(l);
      await expect(l.asOperator.restructure(account, loanNo, 36, 180, 0, newRef(), 4)).to.emit(l.ledger, "Restructured");
    });

    it("re-bases the fee on what is owed now: a prepaid 12-installment purchase's payoff does not rise", async () => {
      // 1,000 in 12 (fee 75: 9 + 6 x 11); 880 repaid on day 0 pays the 9 billed and 871 of
      // principal, so the payoff is 129. Carrying the unbilled 66 of fee into the new schedule
      // made it 140 at once (about 93 % APR on what was left). The new terms carry only the fee
      // billed and unpaid (0 here); fees of periods not started are waived, as at a payoff.
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await installmentPurchase(l, 1_000n, 12);
      await l.asOperator.repay(account, loanNo, 880n, newRef(), 4);
      const at = await nextTxOnDay(start, 1);
      expect((await l.ledger.positionOf(account, loanNo, at)).payoff).to.equal(129n);

      await expect(l.asOperator.restructure(account, loanNo, 12, 10, 0, newRef(), 5))
        .to.emit(l.ledger, "Restructured")
        .withArgs(
          account, loanNo, 6, anyValue, anyValue, anyValue,
          [129n, at, 12, RepaymentMethod.EqualPrincipal, PAY_LATER_ID, 0, 0, 40, 500, 180],
          0n, 0n, 10, 0, l.operator.address,
        );
      expect((await l.ledger.positionOf(account, loanNo, at)).payoff).to.equal(129n);
    });

    it("carries the fee billed and unpaid into the new schedule, and no more", async () => {
      // 1,000 in 3 (fee 23: 9 + 7 + 7), nothing paid; on day 41 periods 1 and 2 are billed
      // (16 fee), period 1's 334 is 1 day overdue. The new terms carry fee 16 over 6 periods.
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await installmentPurchase(l, 1_000n, 3);
      const at = await nextTxOnDay(start, 41);
      const before = await l.ledger.positionOf(account, loanNo, at);
      await expect(l.asOperator.restructure(account, loanNo, 6, 0, 0, newRef(), 4))
        .to.emit(l.ledger, "Restructured")
        .withArgs(
          account, loanNo, 5, anyValue, anyValue, anyValue,
          [1_000n, at, 6, RepaymentMethod.EqualPrincipal, PAY_LATER_ID, 0, 16, 30, 500, 180],
          0n, 0n, 0, 1, l.operator.address, // penalty: floor(334 x 500 x 1 / 1e6) = 0
        );
      const after = await l.ledger.positionOf(account, loanNo, at);
      expect(after.payoff <= before.payoff, `payoff ${after.payoff} after, ${before.payoff} before`).to.equal(true);
    });

    it("refuses new terms above the product's cost ceiling (CostCeilingExceeded)", async () => {
      // 600,000 at 500 ppm/day, restructured on day 10 into 6 periods after a 60-day holiday:
      // the first payment carries 90 days of interest, about 29 % APR against a 24 % ceiling.
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      await nextTxOnDay(start, 10);
      await expect(l.asOperator.restructure(account, loanNo, 6, 60, 500, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "CostCeilingExceeded")
        .withArgs(CASH_LOAN_ID, anyValue, 600_000n, 240_000);
      // The same holiday with the rate cut to 300 ppm/day is within it.
      await expect(l.asOperator.restructure(account, loanNo, 6, 60, 300, newRef(), 4)).to.emit(l.ledger, "Restructured");
    });

    it(`allows ${MAX_RESTRUCTURES_PER_LOAN} restructures of a loan and refuses the next (RestructureLimitReached)`, async () => {
      // The single payment purchase became a fee-free 36-period plan, again and again.
      const l = await loadFixture(deployLedger);
      const { account, loanNo } = await singlePurchase(l);
      let seq = 4n;
      for (let k = 0; k < MAX_RESTRUCTURES_PER_LOAN; k++) {
        await expect(l.asOperator.restructure(account, loanNo, 36, 0, 0, newRef(), seq++)).to.emit(l.ledger, "Restructured");
      }
      expect((await loanOf(l, account, loanNo)).state.restructures).to.equal(BigInt(MAX_RESTRUCTURES_PER_LOAN));
      await expect(l.asOperator.restructure(account, loanNo, 36, 0, 0, newRef(), seq))
        .to.be.revertedWithCustomError(l.ledger, "RestructureLimitReached")
        .withArgs(account, loanNo, MAX_RESTRUCTURES_PER_LOAN, MAX_RESTRUCTURES_PER_LOAN);
    });

    it(`caps the holiday days of all a loan's restructures together at ${MAX_TOTAL_HOLIDAY_DAYS} (HolidayDaysExceeded)`, async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo } = await singlePurchase(l);
      await expect(l.asOperator.restructure(account, loanNo, 3, 120, 0, newRef(), 4)).to.emit(l.ledger, "Restructured");
      await expect(l.asOperator.restructure(account, loanNo, 6, 61, 0, newRef(), 5))
        .to.be.revertedWithCustomError(l.ledger, "HolidayDaysExceeded")
        .withArgs(account, loanNo, 61, 60);
      await expect(l.asOperator.restructure(account, loanNo, 6, 60, 0, newRef(), 5)).to.emit(l.ledger, "Restructured");
      expect((await loanOf(l, account, loanNo)).state.holidayDaysGranted).to.equal(180n);
    });

    it("says in the event how many days past due a restructure cleared (a loan 179 days past due)", async () => {
      // A single purchase due on day 40, restructured on day 219: 179 days past due before,
      // 0 after, and the event carries the 179 it cleared.
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await singlePurchase(l);
      const at = await nextTxOnDay(start, 219);
      expect((await l.ledger.positionOf(account, loanNo, at)).daysPastDue).to.equal(179n);
      await expect(l.asOperator.restructure(account, loanNo, 6, 0, 0, newRef(), 4))
        .to.emit(l.ledger, "Restructured")
        .withArgs(account, loanNo, 5, anyValue, anyValue, anyValue, anyValue, 0n, 8_950n, 0, 179, l.operator.address);
      expect((await l.ledger.positionOf(account, loanNo, at)).daysPastDue).to.equal(0n);
    });

    it("rejects a restructure that raises the rate", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo } = await cashLoan(l);
      await expect(l.asOperator.restructure(account, loanNo, 12, 0, 501, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "InvalidRestructure")
        .withArgs("newRatePpmPerDay", 501);
    });

    it("rejects a restructure into 0 periods or more than 36", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo } = await cashLoan(l);
      await expect(l.asOperator.restructure(account, loanNo, 0, 0, 500, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "InvalidRestructure")
        .withArgs("newPeriods", 0);
      await expect(l.asOperator.restructure(account, loanNo, 37, 0, 500, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "InvalidRestructure")
        .withArgs("newPeriods", 37);
    });

    it("rejects a payment holiday longer than 180 days", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo } = await cashLoan(l);
      await expect(l.asOperator.restructure(account, loanNo, 12, 181, 500, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "InvalidRestructure")
        .withArgs("holidayDays", 181);
    });

    it("rejects a restructure that shortens the term (a hardship restructure may only extend)", async () => {
      const l = await loadFixture(deployLedger);
      // Due days 30 ... 180; restructured at day 0 into one period, everything would fall due on day 30.
      const { account, loanNo } = await cashLoan(l);
      await expect(l.asOperator.restructure(account, loanNo, 1, 0, 500, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "InvalidRestructure")
        .withArgs("newPeriods", 1);
    });

    it("rejects a restructure of a closed loan", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      await nextTxOnDay(start, 10);
      await l.asOperator.repay(account, loanNo, 603_000n, newRef(), 4);
      await expect(l.asOperator.restructure(account, loanNo, 12, 0, 500, newRef(), 5))
        .to.be.revertedWithCustomError(l.ledger, "LoanNotActive")
        .withArgs(account, loanNo, LoanStatus.Closed);
    });
  });

  describe("write-off", () => {
    it("rejects a write-off before 180 days past due", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await singlePurchase(l);
      await nextTxOnDay(start, 219); // due day 40: 179 days past due
      await expect(l.asOperator.writeOff(account, loanNo, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "WriteOffTooEarly")
        .withArgs(account, loanNo, 179, 180);
    });

    it("rejects a write-off of a loan that is current", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo } = await singlePurchase(l);
      await expect(l.asOperator.writeOff(account, loanNo, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "WriteOffTooEarly")
        .withArgs(account, loanNo, 0, 180);
    });

    it("keeps the write-off threshold a loan was drawn with: lowering the product's writeOffDays later refuses an earlier write-off (WriteOffTooEarly)", async () => {
      // The single purchase is due on day 40 under writeOffDays 180; the admin then lowers the
      // product's threshold to 30. On day 140 (100 days past due) the loan still needs 180.
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await singlePurchase(l);
      await l.ledger.connect(l.admin).configureProduct(PAY_LATER_ID, { ...PAY_LATER, writeOffDays: 30 });
      expect((await loanOf(l, account, loanNo)).terms.writeOffDays).to.equal(180n);
      await nextTxOnDay(start, 140);
      await expect(l.asOperator.writeOff(account, loanNo, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "WriteOffTooEarly")
        .withArgs(account, loanNo, 100, 180);
      await nextTxOnDay(start, 220);
      await expect(l.asOperator.writeOff(account, loanNo, newRef(), 4)).to.emit(l.ledger, "WrittenOff");
    });

    it("gives a loan drawn after the product's change the new write-off threshold", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      await l.ledger.connect(l.admin).configureProduct(PAY_LATER_ID, { ...PAY_LATER, writeOffDays: 30 });
      const loanNo = await purchase(l, account, 100_000n, 1);
      const start = await startOf(l, account, loanNo);
      expect((await loanOf(l, account, loanNo)).terms.writeOffDays).to.equal(30n);
      await nextTxOnDay(start, 69); // 29 days past due
      await expect(l.asOperator.writeOff(account, loanNo, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "WriteOffTooEarly")
        .withArgs(account, loanNo, 29, 30);
      await nextTxOnDay(start, 70);
      await expect(l.asOperator.writeOff(account, loanNo, newRef(), 4))
        .to.emit(l.ledger, "WrittenOff")
        .withArgs(account, loanNo, 5, anyValue, anyValue, 100_000n, 30, 0n, anyValue, true, l.operator.address);
    });

    it("writes a loan off at 180 days past due, keeping its principal in usage until recovered", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await singlePurchase(l);
      await nextTxOnDay(start, 220); // 180 days past due; penalty 100,000 x 500 x 180 / 1e6 = 9,000
      const ref = newRef();

      await expect(l.asOperator.writeOff(account, loanNo, ref, 4))
        .to.emit(l.ledger, "WrittenOff")
        .withArgs(account, loanNo, 5, anyValue, ref, 100_000n, 180, 0n, 9_000n, true, l.operator.address);
      const { state } = await loanOf(l, account, loanNo);
      expect(state.status).to.equal(LoanStatus.WrittenOff);
      expect(state.penaltyOwed).to.equal(9_000n);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).used).to.equal(100_000n);
      expect((await l.ledger.accountOf(account)).used).to.equal(100_000n);
    });

    it("keeps the exposure cap holding a written-off purchase: the cash line cannot draw it again (ExposureCapExceeded)", async () => {
      // The attack: exposure cap 1,500,000, a 1,000,000 purchase defaulted and written off, then
      // 1,500,000 drawn on the cash line, because the write-off released the principal.
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l, 1, 1_500_000n);
      await grantLine(l, account, { productId: PAY_LATER_ID, limit: 1_000_000n });
      await grantLine(l, account, { productId: CASH_LOAN_ID, limit: 2_000_000n, ratePpmPerDay: 500n });
      const loanNo = await purchase(l, account, 1_000_000n, 1);
      const start = await startOf(l, account, loanNo);
      await nextTxOnDay(start, 220);
      await l.asOperator.writeOff(account, loanNo, newRef(), 4);

      await expect(l.asOperator.drawCash(account, CASH_LOAN_ID, 1_500_000n, 3, RepaymentMethod.EqualPrincipal, newRef(), 5))
        .to.be.revertedWithCustomError(l.ledger, "ExposureCapExceeded")
        .withArgs(account, 1_500_000n, 500_000n);
      await expect(l.asOperator.drawCash(account, CASH_LOAN_ID, 500_001n, 3, RepaymentMethod.EqualPrincipal, newRef(), 5))
        .to.be.revertedWithCustomError(l.ledger, "ExposureCapExceeded")
        .withArgs(account, 500_001n, 500_000n);
      await expect(l.asOperator.drawCash(account, CASH_LOAN_ID, 500_000n, 3, RepaymentMethod.EqualPrincipal, newRef(), 5))
        .to.emit(l.ledger, "Drawn");
      expect((await l.ledger.accountOf(account)).used).to.equal(1_500_000n);
    });

    it("freezes the written-off loan's line, so no new credit follows without an explicit unfreeze", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await singlePurchase(l);
      await nextTxOnDay(start, 220);
      await l.asOperator.writeOff(account, loanNo, newRef(), 4);

      const line = await l.ledger.lineOf(account, PAY_LATER_ID);
      expect(line.frozen).to.equal(true);
      expect(line.freezeReason).to.equal(WRITE_OFF_FREEZE_REASON);
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 1_000n, 1, newRef(), 5))
        .to.be.revertedWithCustomError(l.ledger, "LineIsFrozen")
        .withArgs(account, PAY_LATER_ID, WRITE_OFF_FREEZE_REASON);
    });

    it("records reason 0xFFFF on an already frozen line, and says in the event that the line was frozen before", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await singlePurchase(l);
      await l.asOperator.freezeLine(account, PAY_LATER_ID, 42, newRef(), 4);
      await nextTxOnDay(start, 220);

      await expect(l.asOperator.writeOff(account, loanNo, newRef(), 5))
        .to.emit(l.ledger, "WrittenOff")
        .withArgs(account, loanNo, 6, anyValue, anyValue, 100_000n, 180, 0n, 9_000n, false, l.operator.address);
      const line = await l.ledger.lineOf(account, PAY_LATER_ID);
      expect(line.frozen).to.equal(true);
      expect(line.freezeReason).to.equal(WRITE_OFF_FREEZE_REASON);
    });

    it("accepts recoveries after a write-off without accruing, each releasing the principal it repays", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await singlePurchase(l);
      await nextTxOnDay(start, 220);
      await l.asOperator.writeOff(account, loanNo, newRef(), 4);
      // Day 230: accrual stopped at the write-off, so penalty is still 9,000.
      await nextTxOnDay(start, 230);

      await expect(l.asOperator.repay(account, loanNo, 50_000n, newRef(), 5))
        .to.emit(l.ledger, "Repaid")
        .withArgs(
          account,
          loanNo,
          6,
          anyValue,
          anyValue,
          50_000n,
          allocationTuple({ penalty: 9_000n, overduePrincipal: 41_000n }),
          230,
          0n,
          0n,
          LoanStatus.WrittenOff,
          l.operator.address,
        );
      expect((await l.ledger.accountOf(account)).used).to.equal(59_000n);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).used).to.equal(59_000n);
    });

    it("rejects writing off a loan twice", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await singlePurchase(l);
      await nextTxOnDay(start, 220);
      await l.asOperator.writeOff(account, loanNo, newRef(), 4);
      await expect(l.asOperator.writeOff(account, loanNo, newRef(), 5))
        .to.be.revertedWithCustomError(l.ledger, "LoanNotActive")
        .withArgs(account, loanNo, LoanStatus.WrittenOff);
    });
  });

  describe("views", () => {
    it("schedules equal installments with the rounding leftovers of principal and fee in the first period", async () => {
      const l = await loadFixture(deployLedger);
      // 100,000 in 3: principal 33,333 r 1 -> 33,334 / 33,333 / 33,333;
      // fee floor(100,000 x 2.3 %) = 2,300 = 3 x 766 + 2 -> 768 / 766 / 766. Due days 40, 70, 100.
      const { account, loanNo, start } = await installmentPurchase(l, 100_000n, 3);
      const s = await l.ledger.scheduleOf(account, loanNo);
      expect(s.map((i) => [i.dueTime, i.principal, i.fee])).to.deep.equal([
        [start + 40n * DAY, 33_334n, 768n],
        [start + 70n * DAY, 33_333n, 766n],
        [start + 100n * DAY, 33_333n, 766n],
      ]);
    });

    it("schedules an annuity as the fixed-point mirror computes it", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      const loanNo = await drawCash(l, account, 600_000n, 6, RepaymentMethod.Annuity);
      const { terms } = await loanOf(l, account, loanNo);

      const s = await l.ledger.scheduleOf(account, loanNo);
      expect(s.map((i) => ({ dueTime: i.dueTime, principal: i.principal, fee: i.fee }))).to.deep.equal(schedule(terms));
      // Annuity principal grows period by period and sums to the loan.
      expect(s.reduce((sum, i) => sum + i.principal, 0n)).to.equal(600_000n);
      expect(s[5].principal).to.be.above(s[1].principal);
    });

    it("reports what is due, overdue, past due and the payoff at a time", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      // Day 65, as in the allocation test above.
      const p = await l.ledger.positionOf(account, loanNo, timeOnDay(start, 65));
      expect(p.principalOutstanding).to.equal(600_000n);
      expect(p.overduePrincipal).to.equal(200_000n);
      expect(p.currentPrincipal).to.equal(100_000n);
      expect(p.feesDue).to.equal(0n);
      expect(p.interest).to.equal(19_500n);
      expect(p.penalty).to.equal(2_000n);
      expect(p.amountDue).to.equal(321_500n); // 2,000 + 19,500 + 200,000 + 100,000
      expect(p.payoff).to.equal(621_500n); // 2,000 + 19,500 + 600,000
      expect(p.daysPastDue).to.equal(35n); // since day 30
      expect(p.nextDueTime).to.equal(start + 90n * DAY);
    });

    it("returns a loan's terms and servicing state", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      await nextTxOnDay(start, 10);
      await l.asOperator.repay(account, loanNo, 2_000n, newRef(), 4); // to interest (3,000 accrued)

      const [terms, state] = await l.ledger.loanOf(account, loanNo);
      // principal, start, periods, method (EqualPrincipal), product, rate, fee, first due day, penalty rate, write-off days
      expect([...terms]).to.deep.equal([600_000n, start, 6n, 1n, BigInt(CASH_LOAN_ID), 500n, 0n, 30n, 500n, 180n]);
      expect(state.principalSettled).to.equal(0n);
      expect(state.feeSettled).to.equal(0n);
      expect(state.interestOwed).to.equal(1_000n);
      expect(state.checkpointDay).to.equal(10n);
      expect(state.status).to.equal(LoanStatus.Active);
    });

    it("rejects a position asked for a time before the loan's last checkpoint", async () => {
      const l = await loadFixture(deployLedger);
      const { account, loanNo, start } = await cashLoan(l);
      await nextTxOnDay(start, 10);
      await l.asOperator.repay(account, loanNo, 2_000n, newRef(), 4);

      const asked = start + 5n * DAY;
      await expect(l.ledger.positionOf(account, loanNo, asked))
        .to.be.revertedWithCustomError(l.ledger, "TimeBeforeCheckpoint")
        .withArgs(asked, start + 10n * DAY);
    });

    it("rejects a view of a loan that does not exist", async () => {
      const l = await loadFixture(deployLedger);
      const { account } = await cashLoan(l);
      await expect(l.ledger.positionOf(account, 2, 0))
        .to.be.revertedWithCustomError(l.ledger, "UnknownLoan")
        .withArgs(account, 2);
      await expect(l.ledger.scheduleOf(account, 2))
        .to.be.revertedWithCustomError(l.ledger, "UnknownLoan")
        .withArgs(account, 2);
    });
  });
});
