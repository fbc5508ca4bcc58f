/**
 * The ledger's fixed limits as the TypeScript side holds them (`LEDGER_LIMITS` in
 * core/loan-math.ts, which the verifier judges entries by) are the deployed contract's:
 * its public constants, and the bounds its restructure and write-off enforce.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { LEDGER_LIMITS, RepaymentMethod } from "../../core/loan-math";
import { accountWithLines, CASH_LOAN_ID, deployLedger, drawCash, newRef, seqOf, type Ledger } from "../helpers/fixtures";

const DAY = 86_400;

async function cashLoan(l: Ledger) {
  const account = await accountWithLines(l);
  const loanNo = await drawCash(l, account, 600_000n, 6, RepaymentMethod.EqualPrincipal);
  return { account, loanNo };
}

describe("LEDGER_LIMITS equal the deployed ledger's constants", function () {
  it("has the contract's maximum daily rate and cash-loan period range", async function () {
    const { ledger } = await loadFixture(deployLedger);
    expect(await ledger.MAX_RATE_PPM_PER_DAY()).to.equal(LEDGER_LIMITS.maxRatePpmPerDay);
    expect(await ledger.MIN_CASH_PERIODS()).to.equal(BigInt(LEDGER_LIMITS.minCashPeriods));
    expect(await ledger.MAX_CASH_PERIODS()).to.equal(BigInt(LEDGER_LIMITS.maxCashPeriods));
  });

  it("has the contract's longest restructure term and payment holiday: accepted at the limit, refused one above", async function () {
    const l = await loadFixture(deployLedger);
    const { account, loanNo } = await cashLoan(l);
    const { maxRestructurePeriods: periods, maxHolidayDays: holiday } = LEDGER_LIMITS;
    await expect(l.asOperator.restructure(account, loanNo, periods + 1, 0, 500, newRef(), await seqOf(l, account)))
      .to.be.revertedWithCustomError(l.ledger, "InvalidRestructure")
      .withArgs("newPeriods", periods + 1);
    await expect(l.asOperator.restructure(account, loanNo, 12, holiday + 1n, 500, newRef(), await seqOf(l, account)))
      .to.be.revertedWithCustomError(l.ledger, "InvalidRestructure")
      .withArgs("holidayDays", holiday + 1n);
    // At rate 0 (interest frozen): at 500 ppm/day a 180-day holiday fails the cost ceiling.
    await expect(l.asOperator.restructure(account, loanNo, periods, holiday, 0, newRef(), await seqOf(l, account))).to.emit(
      l.ledger,
      "Restructured"
    );
  });

  it("has the contract's restructure budget of a loan: its count and its holiday days together", async function () {
    const l = await loadFixture(deployLedger);
    const { account, loanNo } = await cashLoan(l);
    const { maxRestructurePeriods: periods, maxRestructuresPerLoan: count, maxTotalHolidayDays: holidays } = LEDGER_LIMITS;
    const restructure = async (newPeriods: number, holidayDays: bigint) =>
      l.asOperator.restructure(account, loanNo, newPeriods, holidayDays, 0, newRef(), await seqOf(l, account));
    // Each later restructure runs longer, so that its last due date is not earlier.
    await expect(restructure(12, holidays - 80n)).to.emit(l.ledger, "Restructured");
    await expect(restructure(periods, 81n)).to.be.revertedWithCustomError(l.ledger, "HolidayDaysExceeded").withArgs(account, loanNo, 81, 80);
    for (let k = 1; k < count; k++) await expect(restructure(periods, k === 1 ? 80n : 0n)).to.emit(l.ledger, "Restructured");
    await expect(restructure(periods, 0n))
      .to.be.revertedWithCustomError(l.ledger, "RestructureLimitReached")
      .withArgs(account, loanNo, count, count);
  });

  it("has the reason code a write-off freezes the line with", async function () {
    const l = await loadFixture(deployLedger);
    const { account, loanNo } = await cashLoan(l);
    const writeOffDays = Number((await l.ledger.productOf(CASH_LOAN_ID)).writeOffDays);
    await time.increase((30 + writeOffDays + 1) * DAY);
    await l.asOperator.writeOff(account, loanNo, newRef(), await seqOf(l, account));
    expect((await l.ledger.lineOf(account, CASH_LOAN_ID)).freezeReason).to.equal(BigInt(LEDGER_LIMITS.writeOffFreezeReason));
  });
});
