/**
 * One realistic call of every state-changing function of CreditLedger, so that `npm run gas`
 * (docs/GAS.md) has a figure for each, whatever the rest of the suite covers. Each scenario
 * also checks the call's effect briefly: these are tests, not just gas probes.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";

import { CASH_LOAN, PAY_LATER } from "../../deploy/defaults";
import { ROLES } from "../../deploy/modules/CreditLedger";
import {
  accountWithLines,
  CASH_LOAN_ID,
  DAY,
  deployLedger,
  drawCash,
  grantLine,
  makeDecision,
  newRef,
  now,
  openAccount,
  PAY_LATER_ID,
  purchase,
  repay,
  seqOf,
  sign,
  type Ledger,
  restructureArgs,
} from "../helpers/fixtures";

const EQUAL_PRINCIPAL = 1;
const ANNUITY = 2;
const LOAN_STATUS = { Active: 0n, Closed: 1n, WrittenOff: 2n };

describe("gas scenarios: every state-changing ledger function", () => {
  async function ledgerWithLines(): Promise<{ l: Ledger; account: string }> {
    const l = await deployLedger();
    return { l, account: await accountWithLines(l) };
  }

  describe("accounts and lines", () => {
    it("opens an account at seq 1 with its tier and exposure cap", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l, 1, 8_000_000n);
      const a = await l.ledger.accountOf(account);
      expect(a.exists).to.equal(true);
      expect(a.seq).to.equal(1n);
      expect(a.exposureCap).to.equal(8_000_000n);
    });

    it("grants a line on a scorer-signed decision", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      await grantLine(l, account, { productId: PAY_LATER_ID, limit: 1_000_000n });
      const line = await l.ledger.lineOf(account, PAY_LATER_ID);
      expect(line.granted).to.equal(true);
      expect(line.limit).to.equal(1_000_000n);
      expect((await l.ledger.accountOf(account)).decisionNonce).to.equal(1n);
    });

    it("records a declined decision and spends its nonce", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { approved: false, limit: 0n, reasonCodes: [101, 205, 0, 0] });
      await expect(l.asOperator.recordDecline(d, l.scorer.address, await sign(l, d), newRef(), await seqOf(l, account)))
        .to.emit(l.ledger, "DecisionDeclined");
      expect((await l.ledger.accountOf(account)).decisionNonce).to.equal(1n);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).granted).to.equal(false);
    });

    it("raises a limit permanently on a signed decision", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      const d = await makeDecision(l, account, { productId: PAY_LATER_ID, limit: 1_500_000n });
      await l.asOperator.increaseLimit(d, l.scorer.address, await sign(l, d), newRef(), await seqOf(l, account));
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).limit).to.equal(1_500_000n);
    });

    it("raises a limit temporarily until its expiry", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      const expiry = (await now()) + 30n * BigInt(DAY);
      const d = await makeDecision(l, account, { productId: PAY_LATER_ID, limit: 2_000_000n, limitExpiry: expiry });
      await l.asOperator.increaseLimit(d, l.scorer.address, await sign(l, d), newRef(), await seqOf(l, account));
      expect(await l.ledger.effectiveLimit(account, PAY_LATER_ID)).to.equal(2_000_000n);
      await time.increaseTo(expiry);
      expect(await l.ledger.effectiveLimit(account, PAY_LATER_ID)).to.equal(1_000_000n);
    });

    it("cuts a limit below usage without creating a debt", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      await purchase(l, account, 600_000n);
      await l.asOperator.cutLimit(account, PAY_LATER_ID, 400_000n, 7, newRef(), await seqOf(l, account));
      expect(await l.ledger.effectiveLimit(account, PAY_LATER_ID)).to.equal(400_000n);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).used).to.equal(600_000n);
      await expect(
        l.asOperator.purchase(account, PAY_LATER_ID, 1n, 1, newRef(), await seqOf(l, account)),
      ).to.be.revertedWithCustomError(l.ledger, "LimitExceeded");
    });

    it("freezes a line against drawdowns until an explicit unfreeze", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      await l.asOperator.freezeLine(account, PAY_LATER_ID, 3, newRef(), await seqOf(l, account));
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).frozen).to.equal(true);
      await expect(
        l.asOperator.purchase(account, PAY_LATER_ID, 1_000n, 1, newRef(), await seqOf(l, account)),
      ).to.be.revertedWithCustomError(l.ledger, "LineIsFrozen");
      await l.asOperator.unfreezeLine(account, PAY_LATER_ID, 4, newRef(), await seqOf(l, account));
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).frozen).to.equal(false);
      await purchase(l, account, 1_000n);
    });

    it("changes the exposure cap within the tier's maximum", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      await l.asOperator.setExposureCap(account, 2_500_000n, newRef(), await seqOf(l, account));
      expect((await l.ledger.accountOf(account)).exposureCap).to.equal(2_500_000n);
    });
  });

  describe("drawdowns", () => {
    it("books a single-payment purchase, free until the grace end", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      const loanNo = await purchase(l, account, 250_000n, 1);
      const [terms] = await l.ledger.loanOf(account, loanNo);
      expect(terms.periods).to.equal(1n);
      expect(terms.totalFee).to.equal(0n);
      expect(terms.firstDueDay).to.equal(BigInt(PAY_LATER.graceDays));
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).used).to.equal(250_000n);
    });

    it("books a 3-installment purchase with its flat fee", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      const loanNo = await purchase(l, account, 300_000n, 3);
      const [terms] = await l.ledger.loanOf(account, loanNo);
      expect(terms.periods).to.equal(3n);
      expect(terms.totalFee).to.equal((300_000n * BigInt(PAY_LATER.installmentFeePpm[0])) / 1_000_000n);
      expect(await l.ledger.scheduleOf(account, loanNo)).to.have.length(3);
    });

    it("draws a cash loan repaid in equal principal", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      const loanNo = await drawCash(l, account, 600_000n, 6, EQUAL_PRINCIPAL);
      const schedule = await l.ledger.scheduleOf(account, loanNo);
      expect(schedule).to.have.length(6);
      expect(schedule.every((i) => i.principal === 100_000n)).to.equal(true);
    });

    it("draws a cash loan repaid as an annuity", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      const loanNo = await drawCash(l, account, 1_200_000n, 12, ANNUITY);
      const [terms] = await l.ledger.loanOf(account, loanNo);
      expect(terms.method).to.equal(BigInt(ANNUITY));
      expect(terms.ratePpmPerDay).to.equal(500n);
      const schedule = await l.ledger.scheduleOf(account, loanNo);
      expect(schedule.reduce((sum, i) => sum + i.principal, 0n)).to.equal(1_200_000n);
    });
  });

  describe("servicing", () => {
    it("applies an on-time repayment to the current period's principal", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      const loanNo = await purchase(l, account, 300_000n, 3);
      await time.increase(10 * DAY);
      const allocation = await l.asOperator.repay.staticCall(account, loanNo, 50_000n, newRef(), await seqOf(l, account));
      await repay(l, account, loanNo, 50_000n);
      expect(allocation.penalty).to.equal(0n);
      expect(allocation.fee + allocation.currentPrincipal).to.equal(50_000n);
      expect((await l.ledger.loanOf(account, loanNo))[1].principalSettled).to.equal(allocation.currentPrincipal);
    });

    it("applies an overdue repayment to the penalty first", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      const loanNo = await purchase(l, account, 200_000n, 1);
      await time.increase((PAY_LATER.graceDays + 10) * DAY);
      const allocation = await l.asOperator.repay.staticCall(account, loanNo, 100_000n, newRef(), await seqOf(l, account));
      await repay(l, account, loanNo, 100_000n);
      // 10 days at 500 ppm/day on 200,000 fen of overdue principal
      expect(allocation.penalty).to.equal(1_000n);
      expect(allocation.overduePrincipal).to.equal(99_000n);
    });

    it("closes a cash loan repaid early, charging interest only for the days used", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      const loanNo = await drawCash(l, account, 600_000n, 6, EQUAL_PRINCIPAL);
      await time.increase(15 * DAY);
      const block = await ethers.provider.getBlock("latest");
      const position = await l.ledger.positionOf(account, loanNo, BigInt(block!.timestamp) + 1n);
      await repay(l, account, loanNo, position.payoff);
      const [, state] = await l.ledger.loanOf(account, loanNo);
      expect(state.status).to.equal(LOAN_STATUS.Closed);
      expect(position.interest).to.equal((600_000n * 500n * 15n) / 1_000_000n);
      expect((await l.ledger.accountOf(account)).used).to.equal(0n);
    });

    it("reduces a purchase by a merchant refund and waives its share of the fee", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      const loanNo = await purchase(l, account, 300_000n, 3);
      await l.asOperator.refund(account, loanNo, 100_000n, newRef(), await seqOf(l, account));
      const [, state] = await l.ledger.loanOf(account, loanNo);
      expect(state.principalSettled).to.equal(100_000n);
      expect(state.feeSettled).to.equal(2_300n);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).used).to.equal(200_000n);
    });

    it("restructures a cash loan over more periods with a payment holiday", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      const loanNo = await drawCash(l, account, 600_000n, 6, EQUAL_PRINCIPAL);
      await time.increase(20 * DAY);
      await l.asOperator.restructure(...(await restructureArgs(l, account, loanNo, 12, 30, 400)), newRef(), await seqOf(l, account));
      const [terms, state] = await l.ledger.loanOf(account, loanNo);
      expect(terms.periods).to.equal(12n);
      expect(terms.firstDueDay).to.equal(60n);
      expect(terms.ratePpmPerDay).to.equal(400n);
      expect(state.interestOwed).to.equal((600_000n * 500n * 20n) / 1_000_000n);
    });

    it("writes a loan off after 180 days past due, freezes its line and keeps the principal in usage", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      const loanNo = await purchase(l, account, 200_000n, 1);
      await time.increase((PAY_LATER.graceDays + PAY_LATER.writeOffDays) * DAY);
      await l.asOperator.writeOff(account, loanNo, newRef(), await seqOf(l, account));
      const [, state] = await l.ledger.loanOf(account, loanNo);
      expect(state.status).to.equal(LOAN_STATUS.WrittenOff);
      const line = await l.ledger.lineOf(account, PAY_LATER_ID);
      expect(line.frozen).to.equal(true);
      expect(line.freezeReason).to.equal(0xffffn);
      expect(line.used).to.equal(200_000n);
    });
  });

  describe("administration", () => {
    it("changes a product's terms (admin)", async () => {
      const l = await loadFixture(deployLedger);
      await l.ledger.connect(l.admin).configureProduct(CASH_LOAN_ID, { ...CASH_LOAN, costCeilingPpmPerYear: 200_000 });
      expect((await l.ledger.productOf(CASH_LOAN_ID)).costCeilingPpmPerYear).to.equal(200_000n);
    });

    it("sets an identity tier's caps (admin)", async () => {
      const l = await loadFixture(deployLedger);
      await l.ledger.connect(l.admin).setTierPolicy(3, { maxLineLimit: 50_000_000n, maxExposure: 60_000_000n });
      expect((await l.ledger.tierPolicyOf(3)).maxLineLimit).to.equal(50_000_000n);
    });

    it("pauses new credit but accepts repayments, then unpauses (pauser)", async () => {
      const { l, account } = await loadFixture(ledgerWithLines);
      const loanNo = await purchase(l, account, 100_000n, 1);
      await l.ledger.connect(l.pauser).pause();
      await expect(
        l.asOperator.purchase(account, PAY_LATER_ID, 1_000n, 1, newRef(), await seqOf(l, account)),
      ).to.be.revertedWithCustomError(l.ledger, "EnforcedPause");
      await repay(l, account, loanNo, 10_000n);
      await l.ledger.connect(l.pauser).unpause();
      expect(await l.ledger.paused()).to.equal(false);
      await purchase(l, account, 1_000n);
    });

    it("hands the admin role over to a new holder (begin, accept, revoke)", async () => {
      const l = await loadFixture(deployLedger);
      const [, , , , , multisig, retiredOperator] = await ethers.getSigners();
      const asAdmin = l.ledger.connect(l.admin);
      await asAdmin.grantRole(ROLES.operator, retiredOperator.address);
      await asAdmin.beginDefaultAdminTransfer(multisig.address);
      await l.ledger.connect(multisig).acceptDefaultAdminTransfer(); // the fixture's delay is 0
      await l.ledger.connect(multisig).revokeRole(ROLES.operator, retiredOperator.address);
      expect(await l.ledger.hasRole(ROLES.admin, multisig.address)).to.equal(true);
      expect(await l.ledger.hasRole(ROLES.admin, l.admin.address)).to.equal(false);
      expect(await l.ledger.hasRole(ROLES.operator, retiredOperator.address)).to.equal(false);
    });
  });
});
