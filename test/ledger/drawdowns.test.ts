/**
 * Drawdowns: pay-later purchases (single payment or installments for a flat fee) and cash
 * loans, within the line limit, the identity tier, the account's exposure cap and the
 * product's annual cost ceiling.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { ethers } from "hardhat";

import {
  accountWithLines,
  CASH_LOAN_ID,
  deployLedger,
  drawCash,
  grantLine,
  newRef,
  openAccount,
  PAY_LATER_ID,
  purchase,
  repay,
  type Ledger,
} from "../helpers/fixtures";
import { termsTuple } from "../helpers/tuples";
import { CASH_LOAN, PAY_LATER, periodsMask, type ProductConfig } from "../../deploy/defaults";
import { aprPpm, presentValueUp, RepaymentMethod, type LoanTerms } from "../../core/loan-math";

const DAY = 86_400n;
const CEILING = 240_000n; // 24 % a year, the default cost ceiling

/** A pay-later product 3 configured by the admin, and an account holding a 1,000,000 fen line of it. */
async function accountOnProduct(l: Ledger, product: ProductConfig): Promise<string> {
  await l.ledger.connect(l.admin).configureProduct(3, product);
  const account = await openAccount(l);
  await grantLine(l, account, { productId: 3, limit: 1_000_000n });
  return account;
}

/** An account with a cash line at `ratePpmPerDay` (limit 2,000,000 fen), at seq 2. */
async function accountWithCashRate(l: Ledger, ratePpmPerDay: bigint): Promise<string> {
  const account = await openAccount(l);
  await grantLine(l, account, { productId: CASH_LOAN_ID, limit: 2_000_000n, ratePpmPerDay });
  return account;
}

/** Cash-loan terms as the ledger builds them (start time does not enter the cost test). */
const cashTerms = (principal: bigint, periods: number, method: RepaymentMethod, ratePpmPerDay: bigint): LoanTerms => ({
  principal,
  startTime: 0n,
  periods,
  method,
  productId: CASH_LOAN_ID,
  ratePpmPerDay,
  totalFee: 0n,
  firstDueDay: 30n,
  penaltyPpmPerDay: 500n,
  writeOffDays: 180n,
});

describe("drawdowns", () => {
  describe("pay-later purchase", () => {
    it("records a single-payment purchase, interest-free and due at the grace end", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      const start = BigInt(await time.latest()) + 100n;
      const ref = newRef();
      await time.setNextBlockTimestamp(start);

      // Terms: principal, start, 1 period, Bullet, pay-later, no interest, no fee, due on day 40.
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 100_000n, 1, ref, 3))
        .to.emit(l.ledger, "Drawn")
        .withArgs(account, 1, 4, anyValue, ref, [100_000n, start, 1, 0, PAY_LATER_ID, 0, 0, 40, 500, 180], l.operator.address);

      const schedule = await l.ledger.scheduleOf(account, 1);
      expect(schedule.length).to.equal(1);
      expect(schedule[0].dueTime).to.equal(start + 40n * DAY);
      expect(schedule[0].principal).to.equal(100_000n);
      expect(schedule[0].fee).to.equal(0n);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).used).to.equal(100_000n);
      expect((await l.ledger.accountOf(account)).used).to.equal(100_000n);
    });

    // 333,333 fen: floor(333,333 x fee ppm / 1e6) at the default 2.3 / 4.5 / 6.0 / 7.5 % fees.
    const fees: Array<[number, bigint]> = [
      [3, 7_666n], // 7,666.659
      [6, 14_999n], // 14,999.985
      [9, 19_999n], // 19,999.98
      [12, 24_999n], // 24,999.975
    ];
    for (const [periods, fee] of fees) {
      it(`charges a ${periods}-installment purchase the fee floor(principal x feePpm / 1e6)`, async () => {
        const l = await loadFixture(deployLedger);
        const account = await accountWithLines(l);
        const start = BigInt(await time.latest()) + 100n;
        await time.setNextBlockTimestamp(start);

        await expect(l.asOperator.purchase(account, PAY_LATER_ID, 333_333n, periods, newRef(), 3))
          .to.emit(l.ledger, "Drawn")
          .withArgs(
            account,
            1,
            4,
            anyValue,
            anyValue,
            [333_333n, start, periods, RepaymentMethod.EqualPrincipal, PAY_LATER_ID, 0, fee, 40, 500, 180],
            l.operator.address,
          );
      });
    }

    it("rejects a number of installments the product does not allow", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      for (const periods of [0, 2, 4, 15]) {
        await expect(l.asOperator.purchase(account, PAY_LATER_ID, 100_000n, periods, newRef(), 3))
          .to.be.revertedWithCustomError(l.ledger, "PeriodsNotAllowed")
          .withArgs(PAY_LATER_ID, periods);
      }
    });

    it("rejects installments the product's period mask leaves out", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountOnProduct(l, { ...PAY_LATER, allowedPeriods: periodsMask([1, 3, 6]) });
      await expect(l.asOperator.purchase(account, 3, 100_000n, 12, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "PeriodsNotAllowed")
        .withArgs(3, 12);
    });

    it("rejects a single-payment purchase when the product's period mask does not allow one period", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountOnProduct(l, { ...PAY_LATER, allowedPeriods: periodsMask([3, 6]) });
      await expect(l.asOperator.purchase(account, 3, 100_000n, 1, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "PeriodsNotAllowed")
        .withArgs(3, 1);
    });

    it("rejects a purchase on a cash-loan product", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      await expect(l.asOperator.purchase(account, CASH_LOAN_ID, 100_000n, 1, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "WrongProductKind")
        .withArgs(CASH_LOAN_ID, 1);
    });

    it("accepts the default installment fees, all within the 24 % cost ceiling", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      await purchase(l, account, 200_000n, 3);
      await purchase(l, account, 200_000n, 6);
      await purchase(l, account, 200_000n, 9);
      await purchase(l, account, 200_000n, 12);
      expect((await l.ledger.accountOf(account)).loanCount).to.equal(4n);
    });

    it("rejects installments whose fee costs more than the product's cost ceiling", async () => {
      const l = await loadFixture(deployLedger);
      // 10 % for 3 months is far above 24 % a year.
      const account = await accountOnProduct(l, { ...PAY_LATER, installmentFeePpm: [100_000, 45_000, 60_000, 75_000] });
      const terms: LoanTerms = {
        principal: 300_000n,
        startTime: 0n,
        periods: 3,
        method: RepaymentMethod.EqualPrincipal,
        productId: 3,
        ratePpmPerDay: 0n,
        totalFee: 30_000n, // 300,000 x 10 %
        firstDueDay: 40n,
        penaltyPpmPerDay: 500n,
        writeOffDays: 180n,
      };
      expect(aprPpm(terms)).to.be.above(CEILING);

      await expect(l.asOperator.purchase(account, 3, 300_000n, 3, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "CostCeilingExceeded")
        .withArgs(3, presentValueUp(terms, CEILING), 300_000n, CEILING);
    });
  });

  describe("cash loan", () => {
    it("draws a cash loan at the line's daily rate, first due 30 days after the drawdown", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      const start = BigInt(await time.latest()) + 100n;
      const ref = newRef();
      await time.setNextBlockTimestamp(start);

      await expect(l.asOperator.drawCash(account, CASH_LOAN_ID, 600_000n, 6, RepaymentMethod.Annuity, ref, 3))
        .to.emit(l.ledger, "Drawn")
        .withArgs(
          account,
          1,
          4,
          anyValue,
          ref,
          termsTuple({ ...cashTerms(600_000n, 6, RepaymentMethod.Annuity, 500n), startTime: start }),
          l.operator.address,
        );
      expect((await l.ledger.lineOf(account, CASH_LOAN_ID)).used).to.equal(600_000n);
    });

    it("draws cash loans of 3 to 12 periods", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      for (let periods = 3, seq = 3; periods <= 12; periods++, seq++) {
        await expect(
          l.asOperator.drawCash(account, CASH_LOAN_ID, 100_000n, periods, RepaymentMethod.EqualPrincipal, newRef(), seq),
        ).to.emit(l.ledger, "Drawn");
      }
      expect((await l.ledger.lineOf(account, CASH_LOAN_ID)).used).to.equal(1_000_000n);
    });

    it("rejects cash loans of fewer than 3 or more than 12 periods", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      for (const periods of [1, 2, 13]) {
        await expect(l.asOperator.drawCash(account, CASH_LOAN_ID, 100_000n, periods, RepaymentMethod.Annuity, newRef(), 3))
          .to.be.revertedWithCustomError(l.ledger, "PeriodsNotAllowed")
          .withArgs(CASH_LOAN_ID, periods);
      }
    });

    it("rejects a single-payment (bullet) cash loan", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      await expect(l.asOperator.drawCash(account, CASH_LOAN_ID, 100_000n, 3, RepaymentMethod.Bullet, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "InvalidMethod")
        .withArgs(RepaymentMethod.Bullet);
    });

    it("rejects a cash drawdown on a pay-later product", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      await expect(l.asOperator.drawCash(account, PAY_LATER_ID, 100_000n, 3, RepaymentMethod.Annuity, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "WrongProductKind")
        .withArgs(PAY_LATER_ID, 2);
    });
  });

  describe("products", () => {
    it("rejects a drawdown on a product that does not exist", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      await expect(l.asOperator.purchase(account, 9, 100_000n, 1, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "UnknownProduct")
        .withArgs(9);
      await expect(l.asOperator.drawCash(account, 9, 100_000n, 3, RepaymentMethod.Annuity, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "UnknownProduct")
        .withArgs(9);
    });

    it("rejects a drawdown on a product the admin deactivated", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      await l.ledger.connect(l.admin).configureProduct(PAY_LATER_ID, { ...PAY_LATER, active: false });
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 100_000n, 1, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "UnknownProduct")
        .withArgs(PAY_LATER_ID);
    });

    it("rejects a drawdown on a product the account holds no line of", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      await grantLine(l, account, { productId: PAY_LATER_ID });
      await expect(l.asOperator.drawCash(account, CASH_LOAN_ID, 100_000n, 3, RepaymentMethod.Annuity, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "NoLine")
        .withArgs(account, CASH_LOAN_ID);
    });
  });

  describe("amount", () => {
    it("rejects a zero drawdown", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 0n, 1, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "InvalidAmount")
        .withArgs(0);
      await expect(l.asOperator.drawCash(account, CASH_LOAN_ID, 0n, 3, RepaymentMethod.Annuity, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "InvalidAmount")
        .withArgs(0);
    });
  });

  describe("line limit", () => {
    it("accepts drawdowns up to exactly the line limit", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l); // pay-later limit 1,000,000
      await purchase(l, account, 700_000n);
      await purchase(l, account, 300_000n);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).used).to.equal(1_000_000n);
    });

    it("rejects a drawdown above the line limit, naming what is available", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 1_000_001n, 1, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "LimitExceeded")
        .withArgs(account, PAY_LATER_ID, 1_000_001n, 1_000_000n);
      await purchase(l, account, 700_000n);
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 300_001n, 1, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "LimitExceeded")
        .withArgs(account, PAY_LATER_ID, 300_001n, 300_000n);
    });

    it("frees the limit as principal is repaid", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      const loanNo = await purchase(l, account, 1_000_000n);
      await l.asOperator.repay(account, loanNo, 250_000n, newRef(), 4);
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 250_000n, 1, newRef(), 5)).to.emit(l.ledger, "Drawn");
    });

    it("caps the line limit by the identity tier's maximum line limit", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l); // tier 1, pay-later limit 1,000,000
      await l.ledger.connect(l.admin).setTierPolicy(1, { maxLineLimit: 300_000n, maxExposure: 8_000_000n });
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 300_001n, 1, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "LimitExceeded")
        .withArgs(account, PAY_LATER_ID, 300_001n, 300_000n);
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 300_000n, 1, newRef(), 3)).to.emit(l.ledger, "Drawn");
    });
  });

  describe("exposure cap", () => {
    /** Exposure cap 1,200,000 fen across a 1,000,000 pay-later line and a 2,000,000 cash line. */
    async function cappedAccount(l: Ledger): Promise<string> {
      const account = await openAccount(l, 1, 1_200_000n);
      await grantLine(l, account, { productId: PAY_LATER_ID, limit: 1_000_000n });
      await grantLine(l, account, { productId: CASH_LOAN_ID, limit: 2_000_000n, ratePpmPerDay: 500n });
      return account;
    }

    it("accepts drawdowns across lines up to exactly the exposure cap", async () => {
      const l = await loadFixture(deployLedger);
      const account = await cappedAccount(l);
      await purchase(l, account, 1_000_000n);
      await expect(l.asOperator.drawCash(account, CASH_LOAN_ID, 200_000n, 3, RepaymentMethod.EqualPrincipal, newRef(), 4))
        .to.emit(l.ledger, "Drawn");
      expect((await l.ledger.accountOf(account)).used).to.equal(1_200_000n);
    });

    it("rejects a drawdown above the account's exposure cap across lines", async () => {
      const l = await loadFixture(deployLedger);
      const account = await cappedAccount(l);
      await purchase(l, account, 1_000_000n);
      await expect(l.asOperator.drawCash(account, CASH_LOAN_ID, 200_001n, 3, RepaymentMethod.EqualPrincipal, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "ExposureCapExceeded")
        .withArgs(account, 200_001n, 200_000n);
    });

    it("caps the exposure by the identity tier's maximum exposure", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l); // tier 1, exposure cap 8,000,000
      await l.ledger.connect(l.admin).setTierPolicy(1, { maxLineLimit: 5_000_000n, maxExposure: 500_000n });
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 500_001n, 1, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "ExposureCapExceeded")
        .withArgs(account, 500_001n, 500_000n);
    });
  });

  describe("cost ceiling", () => {
    // Simple daily interest on the outstanding principal at r ppm/day is an APR of 365 x r:
    // 657 ppm/day = 23.98 % (within 24 %), 658 = 24.02 %, 900 = 32.85 % (above).
    it("accepts a cash loan just under the 24 % ceiling (657 ppm/day)", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithCashRate(l, 657n);
      await expect(l.asOperator.drawCash(account, CASH_LOAN_ID, 600_000n, 6, RepaymentMethod.Annuity, newRef(), 2))
        .to.emit(l.ledger, "Drawn");
      await expect(
        l.asOperator.drawCash(account, CASH_LOAN_ID, 600_000n, 12, RepaymentMethod.EqualPrincipal, newRef(), 3),
      ).to.emit(l.ledger, "Drawn");
    });

    it("rejects a cash loan just over the 24 % ceiling (658 ppm/day)", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithCashRate(l, 658n);
      const terms = cashTerms(600_000n, 6, RepaymentMethod.Annuity, 658n);
      await expect(l.asOperator.drawCash(account, CASH_LOAN_ID, 600_000n, 6, RepaymentMethod.Annuity, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "CostCeilingExceeded")
        .withArgs(CASH_LOAN_ID, presentValueUp(terms, CEILING), 600_000n, CEILING);
    });

    it("rejects a cash loan whose line rate (900 ppm/day) costs more than the 24 % ceiling", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithCashRate(l, 900n);
      const terms = cashTerms(600_000n, 6, RepaymentMethod.EqualPrincipal, 900n);
      await expect(
        l.asOperator.drawCash(account, CASH_LOAN_ID, 600_000n, 6, RepaymentMethod.EqualPrincipal, newRef(), 2),
      )
        .to.be.revertedWithCustomError(l.ledger, "CostCeilingExceeded")
        .withArgs(CASH_LOAN_ID, presentValueUp(terms, CEILING), 600_000n, CEILING);
    });

    it("applies the product's configured ceiling, not a fixed 24 %", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithCashRate(l, 500n); // 18.25 % a year
      await l.ledger.connect(l.admin).configureProduct(CASH_LOAN_ID, { ...CASH_LOAN, penaltyPpmPerDay: 400, costCeilingPpmPerYear: 150_000 });
      const terms = cashTerms(600_000n, 6, RepaymentMethod.Annuity, 500n);
      await expect(l.asOperator.drawCash(account, CASH_LOAN_ID, 600_000n, 6, RepaymentMethod.Annuity, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "CostCeilingExceeded")
        .withArgs(CASH_LOAN_ID, presentValueUp(terms, 150_000n), 600_000n, 150_000n);
    });
  });

  describe("loan numbers", () => {
    /**
     * The storage slot of `_s.accounts[account]`: the ledger's `Layout` sits after the storage
     * of the contracts it inherits, so the `accounts` mapping's slot is found rather than
     * hard-coded: it is the one `p` where keccak256(account, p) holds the opened account and the
     * same slot of an account never opened holds nothing.
     */
    async function accountSlot(l: Ledger, account: string): Promise<bigint> {
      const address = await l.ledger.getAddress();
      const slotOf = (key: string, p: bigint) => BigInt(ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256"], [key, p])));
      const stranger = ethers.hexlify(ethers.randomBytes(32));
      const found: bigint[] = [];
      for (let p = 0n; p < 64n; p++) {
        const word = await ethers.provider.getStorage(address, slotOf(account, p));
        const empty = await ethers.provider.getStorage(address, slotOf(stranger, p));
        if (BigInt(word) !== 0n && BigInt(empty) === 0n) found.push(slotOf(account, p));
      }
      expect(found, "exactly one mapping holds the account").to.have.length(1);
      return found[0];
    }

    /** Stage `loanCount` (the top 32 bits of slot 0 of the stored Account, see ICreditLedger.Account) without drawing that many loans. */
    async function stageLoanCount(l: Ledger, account: string, loanCount: bigint): Promise<void> {
      const address = await l.ledger.getAddress();
      const slot = await accountSlot(l, account);
      const word = BigInt(await ethers.provider.getStorage(address, slot));
      const staged = (word & ((1n << 224n) - 1n)) | (loanCount << 224n);
      await ethers.provider.send("hardhat_setStorageAt", [address, ethers.toQuantity(slot), ethers.zeroPadValue(ethers.toBeHex(staged), 32)]);
      expect((await l.ledger.accountOf(account)).loanCount).to.equal(loanCount);
    }

    it("numbers loans past 65,535 (uint32): an account at loanCount 65,535 still draws cash and purchases", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      await stageLoanCount(l, account, 65_535n);

      expect(await drawCash(l, account, 100_000n)).to.equal(65_536n);
      expect(await purchase(l, account, 10_000n)).to.equal(65_537n);
      const [terms] = await l.ledger.loanOf(account, 65_536n);
      expect(terms.principal).to.equal(100_000n);
      expect((await l.ledger.accountOf(account)).loanCount).to.equal(65_537n);
      await expect(repay(l, account, 65_537n, 10_000n)).to.emit(l.ledger, "Repaid").withArgs(account, 65_537n, anyValue, anyValue, anyValue, 10_000n, anyValue, anyValue, anyValue, anyValue, anyValue, anyValue);
    });

    it("stores a principal of up to 2^56 - 1 fen and refuses a larger one with ValueOverflow (the stored loan's width)", async () => {
      // Slot 0 of a stored loan holds principal and principalSettled in 56 bits each, so that
      // writeOffDays fits beside them (LedgerStorage.StoredLoan). Tier 1 is opened wide enough.
      const l = await loadFixture(deployLedger);
      const max = 2n ** 56n - 1n;
      await l.ledger.connect(l.admin).setTierPolicy(1, { maxLineLimit: 2n ** 63n, maxExposure: 2n ** 63n });
      const account = await openAccount(l, 1, 2n ** 63n);
      await grantLine(l, account, { productId: PAY_LATER_ID, limit: 2n ** 62n });
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, max + 1n, 1, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "ValueOverflow")
        .withArgs(max + 1n);
      expect(await purchase(l, account, max, 1)).to.equal(1n);
      expect((await l.ledger.loanOf(account, 1n))[0].principal).to.equal(max);
    });

    it("refuses a loan number beyond the account's loans with UnknownLoan (uint32 loanNo)", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      await stageLoanCount(l, account, 65_535n);
      await expect(l.ledger.loanOf(account, 65_536n)).to.be.revertedWithCustomError(l.ledger, "UnknownLoan").withArgs(account, 65_536n);
    });
  });
});
