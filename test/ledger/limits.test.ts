/**
 * Limits, freezes, pause and roles: raises need a signed decision (permanent or temporary with
 * an expiry), cuts may go below usage without creating debt, frozen lines and a paused ledger
 * take no drawdowns while repayments are always accepted, and each function belongs to a role.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { ZeroHash } from "ethers";

import {
  accountWithLines,
  CASH_LOAN_ID,
  deployLedger,
  grantLine,
  makeDecision,
  newAccountId,
  newRef,
  openAccount,
  PAY_LATER_ID,
  purchase,
  repay,
  seqOf,
  sign,
  type Ledger,
} from "../helpers/fixtures";
import { decisionTuple } from "../helpers/tuples";
import { CASH_LOAN, TIERS } from "../../deploy/defaults";
import { ROLES } from "../../deploy/modules/CreditLedger";
import type { Decision } from "../../core/decision";

/** An account with one pay-later line of 1,000,000 fen (seq 2). */
async function accountWithPayLater(l: Ledger): Promise<string> {
  const account = await openAccount(l);
  await grantLine(l, account, { productId: PAY_LATER_ID, limit: 1_000_000n });
  return account;
}

/** Submit a scorer-signed limit increase for `account`'s pay-later line. */
async function increaseLimit(l: Ledger, account: string, overrides: Partial<Decision>) {
  const d = await makeDecision(l, account, { productId: PAY_LATER_ID, ...overrides });
  const signature = await sign(l, d);
  const ref = newRef();
  const tx = l.asOperator.increaseLimit(d, l.scorer.address, signature, ref, await seqOf(l, account));
  return { tx, d, signature, ref };
}

describe("limits", () => {
  describe("increase", () => {
    it("raises a line's limit permanently on a signed decision, recording the previous limit", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const { tx, d, signature, ref } = await increaseLimit(l, account, { limit: 1_500_000n });

      await expect(tx)
        .to.emit(l.ledger, "LimitIncreased")
        .withArgs(account, 3, anyValue, ref, 1_000_000n, 0, 0, decisionTuple(d), l.scorer.address, signature, l.operator.address);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).limit).to.equal(1_500_000n);
      expect(await l.ledger.effectiveLimit(account, PAY_LATER_ID)).to.equal(1_500_000n);
    });

    it("raises a line's limit temporarily until its expiry, leaving the permanent limit", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const expiry = BigInt(await time.latest()) + 10n * 86_400n;
      await (await increaseLimit(l, account, { limit: 1_500_000n, limitExpiry: expiry })).tx;

      const line = await l.ledger.lineOf(account, PAY_LATER_ID);
      expect(line.limit).to.equal(1_000_000n);
      expect(line.tempLimit).to.equal(1_500_000n);
      expect(line.tempExpiry).to.equal(expiry);
      expect(await l.ledger.effectiveLimit(account, PAY_LATER_ID)).to.equal(1_500_000n);
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 1_500_000n, 1, newRef(), 3)).to.emit(l.ledger, "Drawn");
    });

    it("lets a temporary limit lapse at its expiry", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const expiry = BigInt(await time.latest()) + 10n * 86_400n;
      await (await increaseLimit(l, account, { limit: 1_500_000n, limitExpiry: expiry })).tx;

      await time.increaseTo(expiry);
      expect(await l.ledger.effectiveLimit(account, PAY_LATER_ID)).to.equal(1_000_000n);
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 1_200_000n, 1, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "LimitExceeded")
        .withArgs(account, PAY_LATER_ID, 1_200_000n, 1_000_000n);
    });

    it("sets the decision's daily rate as the line's rate for later drawdowns", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l); // cash line at 500 ppm/day
      const d = await makeDecision(l, account, { productId: CASH_LOAN_ID, limit: 3_000_000n, ratePpmPerDay: 400n });
      await l.asOperator.increaseLimit(d, l.scorer.address, await sign(l, d), newRef(), 3);

      expect((await l.ledger.lineOf(account, CASH_LOAN_ID)).ratePpmPerDay).to.equal(400n);
      await l.asOperator.drawCash(account, CASH_LOAN_ID, 600_000n, 6, 1, newRef(), 4);
      const [terms] = await l.ledger.loanOf(account, 1);
      expect(terms.ratePpmPerDay).to.equal(400n);
    });

    it("rejects an increase that does not exceed the limit in force", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const { tx } = await increaseLimit(l, account, { limit: 1_000_000n });
      await expect(tx).to.be.revertedWithCustomError(l.ledger, "LimitNotIncreased").withArgs(1_000_000n, 1_000_000n);
    });

    it("rejects a permanent increase below a temporary limit still in force", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const expiry = BigInt(await time.latest()) + 10n * 86_400n;
      await (await increaseLimit(l, account, { limit: 1_500_000n, limitExpiry: expiry })).tx;

      const { tx } = await increaseLimit(l, account, { limit: 1_200_000n });
      await expect(tx).to.be.revertedWithCustomError(l.ledger, "LimitNotIncreased").withArgs(1_500_000n, 1_200_000n);
    });

    it("rejects a temporary limit whose expiry is not in the future", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const expiry = BigInt(await time.latest());
      const { tx } = await increaseLimit(l, account, { limit: 1_500_000n, limitExpiry: expiry });
      await expect(tx).to.be.revertedWithCustomError(l.ledger, "InvalidExpiry").withArgs(expiry);
    });

    it("rejects an increase above the tier's maximum line limit", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l); // tier 1: max line limit 5,000,000
      const { tx } = await increaseLimit(l, account, { limit: 5_000_001n });
      await expect(tx).to.be.revertedWithCustomError(l.ledger, "TierCapExceeded").withArgs(1, 5_000_001n, 5_000_000n);
    });

    it("rejects an increase of a line the account does not hold", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const d = await makeDecision(l, account, { productId: CASH_LOAN_ID, limit: 1_000_000n, ratePpmPerDay: 500n });
      await expect(l.asOperator.increaseLimit(d, l.scorer.address, await sign(l, d), newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "NoLine")
        .withArgs(account, CASH_LOAN_ID);
    });

    it("rejects an increase signed by a key without the scorer role", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const d = await makeDecision(l, account, { limit: 2_000_000n, scorer: l.operator.address });
      await expect(l.asOperator.increaseLimit(d, l.operator.address, await sign(l, d, l.operator), newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "NotScorer")
        .withArgs(l.operator.address);
    });
  });

  describe("cut", () => {
    it("cuts a limit, recording the previous limit, the new limit, the reason and who cut it", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const ref = newRef();

      await expect(l.asOperator.cutLimit(account, PAY_LATER_ID, 400_000n, 7, ref, 2))
        .to.emit(l.ledger, "LimitCut")
        .withArgs(account, 3, anyValue, ref, PAY_LATER_ID, 1_000_000n, 400_000n, 7, l.operator.address);
      expect(await l.ledger.effectiveLimit(account, PAY_LATER_ID)).to.equal(400_000n);
    });

    it("cuts below current usage: new drawdowns are blocked but no debt is created", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const loanNo = await purchase(l, account, 600_000n);
      await l.asOperator.cutLimit(account, PAY_LATER_ID, 400_000n, 7, newRef(), 3);

      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 1n, 1, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "LimitExceeded")
        .withArgs(account, PAY_LATER_ID, 1n, 0n);
      // The purchase is owed exactly as before: 600,000 principal, nothing due before its grace end.
      const position = await l.ledger.positionOf(account, loanNo, await time.latest());
      expect(position.payoff).to.equal(600_000n);
      expect(position.amountDue).to.equal(600_000n);
      expect(position.overduePrincipal).to.equal(0n);
      expect((await l.ledger.accountOf(account)).used).to.equal(600_000n);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).used).to.equal(600_000n);
    });

    it("rejects a cut that does not lower the limit", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      await expect(l.asOperator.cutLimit(account, PAY_LATER_ID, 1_000_000n, 7, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "LimitNotCut")
        .withArgs(1_000_000n, 1_000_000n);
    });

    it("cuts a temporary raise and the permanent limit below it to the new limit", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const expiry = BigInt(await time.latest()) + 10n * 86_400n;
      await (await increaseLimit(l, account, { limit: 1_500_000n, limitExpiry: expiry })).tx;

      await expect(l.asOperator.cutLimit(account, PAY_LATER_ID, 800_000n, 7, newRef(), 3))
        .to.emit(l.ledger, "LimitCut")
        .withArgs(account, 4, anyValue, anyValue, PAY_LATER_ID, 1_500_000n, 800_000n, 7, l.operator.address);
      const line = await l.ledger.lineOf(account, PAY_LATER_ID);
      expect(line.limit).to.equal(800_000n);
      expect(line.tempLimit).to.equal(800_000n);
      expect(await l.ledger.effectiveLimit(account, PAY_LATER_ID)).to.equal(800_000n);
      await time.increaseTo(expiry);
      expect(await l.ledger.effectiveLimit(account, PAY_LATER_ID)).to.equal(800_000n);
    });

    it("cuts a temporary raise above the permanent limit until its expiry, then the permanent limit applies", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l); // permanent limit 1,000,000
      const expiry = BigInt(await time.latest()) + 10n * 86_400n;
      await (await increaseLimit(l, account, { limit: 1_500_000n, limitExpiry: expiry })).tx;

      await l.asOperator.cutLimit(account, PAY_LATER_ID, 1_200_000n, 7, newRef(), 3);
      const line = await l.ledger.lineOf(account, PAY_LATER_ID);
      expect(line.limit).to.equal(1_000_000n);
      expect(line.tempLimit).to.equal(1_200_000n);
      expect(line.tempExpiry).to.equal(expiry);
      expect(await l.ledger.effectiveLimit(account, PAY_LATER_ID)).to.equal(1_200_000n);
      await time.increaseTo(expiry);
      expect(await l.ledger.effectiveLimit(account, PAY_LATER_ID)).to.equal(1_000_000n);
    });

    it("never turns a temporary raise into a higher permanent limit without a decision", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l); // permanent limit 1,000,000 (signed)
      const expiry = BigInt(await time.latest()) + 10n * 86_400n;
      await (await increaseLimit(l, account, { limit: 1_500_000n, limitExpiry: expiry })).tx;

      // A "cut" of the 1,500,000 temporary limit to 1,200,000 ...
      await l.asOperator.cutLimit(account, PAY_LATER_ID, 1_200_000n, 7, newRef(), 3);
      await time.increaseTo(expiry);
      // ... must not leave a permanent limit above the 1,000,000 the scorer approved permanently.
      expect(await l.ledger.effectiveLimit(account, PAY_LATER_ID)).to.be.at.most(1_000_000n);
    });

    it("rejects a cut of a line the account does not hold", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      await expect(l.asOperator.cutLimit(account, CASH_LOAN_ID, 0n, 7, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "NoLine")
        .withArgs(account, CASH_LOAN_ID);
    });
  });

  describe("freeze", () => {
    it("freezes a line with a reason and who froze it, and blocks drawdowns on it", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const ref = newRef();

      await expect(l.asOperator.freezeLine(account, PAY_LATER_ID, 42, ref, 2))
        .to.emit(l.ledger, "LineFrozen")
        .withArgs(account, 3, anyValue, ref, PAY_LATER_ID, 42, l.operator.address);
      const line = await l.ledger.lineOf(account, PAY_LATER_ID);
      expect(line.frozen).to.equal(true);
      expect(line.freezeReason).to.equal(42);
    });

    it("rejects a drawdown on a frozen line with the freeze reason", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      await l.asOperator.freezeLine(account, PAY_LATER_ID, 42, newRef(), 2);

      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 1_000n, 1, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "LineIsFrozen")
        .withArgs(account, PAY_LATER_ID, 42);
    });

    it("unfreezes a line only on an explicit unfreeze, with a reason and who unfroze it", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      await l.asOperator.freezeLine(account, PAY_LATER_ID, 42, newRef(), 2);
      const ref = newRef();

      await expect(l.asOperator.unfreezeLine(account, PAY_LATER_ID, 43, ref, 3))
        .to.emit(l.ledger, "LineUnfrozen")
        .withArgs(account, 4, anyValue, ref, PAY_LATER_ID, 43, l.operator.address);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).frozen).to.equal(false);
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 1_000n, 1, newRef(), 4)).to.emit(l.ledger, "Drawn");
    });

    it("accepts a repayment on a frozen line and keeps the line frozen", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const loanNo = await purchase(l, account, 100_000n);
      await l.asOperator.freezeLine(account, PAY_LATER_ID, 42, newRef(), 3);

      await expect(repay(l, account, loanNo, 100_000n)).to.emit(l.ledger, "Repaid");
      const line = await l.ledger.lineOf(account, PAY_LATER_ID);
      expect(line.used).to.equal(0n);
      expect(line.frozen).to.equal(true);
      expect(line.freezeReason).to.equal(42);
    });

    it("keeps a line frozen through repayments, refunds, limit changes and restructures", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      const loanNo = await purchase(l, account, 300_000n, 3);
      await l.asOperator.freezeLine(account, PAY_LATER_ID, 42, newRef(), 4);

      await repay(l, account, loanNo, 10_000n);
      await l.asOperator.refund(account, loanNo, 10_000n, newRef(), await seqOf(l, account));
      await (await increaseLimit(l, account, { limit: 2_000_000n })).tx;
      await l.asOperator.cutLimit(account, PAY_LATER_ID, 1_500_000n, 9, newRef(), await seqOf(l, account));
      await l.asOperator.restructure(account, loanNo, 6, 30, 0, newRef(), await seqOf(l, account));

      const line = await l.ledger.lineOf(account, PAY_LATER_ID);
      expect(line.frozen).to.equal(true);
      expect(line.freezeReason).to.equal(42);
    });

    it("rejects freezing a frozen line", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      await l.asOperator.freezeLine(account, PAY_LATER_ID, 42, newRef(), 2);
      await expect(l.asOperator.freezeLine(account, PAY_LATER_ID, 44, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "FreezeStateUnchanged")
        .withArgs(account, PAY_LATER_ID, true);
    });

    it("rejects unfreezing a line that is not frozen", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      await expect(l.asOperator.unfreezeLine(account, PAY_LATER_ID, 43, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "FreezeStateUnchanged")
        .withArgs(account, PAY_LATER_ID, false);
    });

    it("rejects freezing a line the account does not hold", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      await expect(l.asOperator.freezeLine(account, CASH_LOAN_ID, 42, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "NoLine")
        .withArgs(account, CASH_LOAN_ID);
    });
  });

  describe("pause", () => {
    it("lets the pauser pause and unpause", async () => {
      const l = await loadFixture(deployLedger);
      await expect(l.ledger.connect(l.pauser).pause()).to.emit(l.ledger, "Paused").withArgs(l.pauser.address);
      expect(await l.ledger.paused()).to.equal(true);
      await expect(l.ledger.connect(l.pauser).unpause()).to.emit(l.ledger, "Unpaused").withArgs(l.pauser.address);
      expect(await l.ledger.paused()).to.equal(false);
    });

    it("rejects drawdowns while paused", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      await l.ledger.connect(l.pauser).pause();

      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 1_000n, 1, newRef(), 3)).to.be.revertedWithCustomError(
        l.ledger,
        "EnforcedPause",
      );
      await expect(
        l.asOperator.drawCash(account, CASH_LOAN_ID, 300_000n, 3, 1, newRef(), 3),
      ).to.be.revertedWithCustomError(l.ledger, "EnforcedPause");
    });

    it("rejects new accounts, grants and limit increases while paused", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      await l.ledger.connect(l.pauser).pause();

      const grant = await makeDecision(l, account, { productId: CASH_LOAN_ID, ratePpmPerDay: 500n });
      await expect(
        l.asOperator.grantLine(grant, l.scorer.address, await sign(l, grant), newRef(), 2),
      ).to.be.revertedWithCustomError(l.ledger, "EnforcedPause");
      const raise = await makeDecision(l, account, { limit: 2_000_000n });
      await expect(
        l.asOperator.increaseLimit(raise, l.scorer.address, await sign(l, raise), newRef(), 2),
      ).to.be.revertedWithCustomError(l.ledger, "EnforcedPause");
      await expect(l.asOperator.openAccount(newAccountId(), 1, 1_000n, newRef(), 0)).to.be.revertedWithCustomError(
        l.ledger,
        "EnforcedPause",
      );
    });

    it("accepts repayments while paused", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      const loanNo = await purchase(l, account, 100_000n);
      await l.ledger.connect(l.pauser).pause();

      await expect(repay(l, account, loanNo, 30_000n)).to.emit(l.ledger, "Repaid");
      expect((await l.ledger.accountOf(account)).used).to.equal(70_000n);
    });

    it("resumes drawdowns after unpause", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithPayLater(l);
      await l.ledger.connect(l.pauser).pause();
      await l.ledger.connect(l.pauser).unpause();
      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 1_000n, 1, newRef(), 2)).to.emit(l.ledger, "Drawn");
    });
  });

  describe("roles", () => {
    // Every operator-only entry point, called with harmless arguments: the role check comes first.
    const operatorCalls: Record<string, (l: Ledger, d: Decision) => Promise<unknown>> = {
      openAccount: (l) => l.ledger.openAccount(newAccountId(), 1, 1_000n, ZeroHash, 0),
      setExposureCap: (l) => l.ledger.setExposureCap(newAccountId(), 1_000n, ZeroHash, 0),
      recordDecline: (l, d) => l.ledger.recordDecline({ ...d, approved: false }, l.scorer.address, "0x", ZeroHash, 0),
      grantLine: (l, d) => l.ledger.grantLine(d, l.scorer.address, "0x", ZeroHash, 0),
      increaseLimit: (l, d) => l.ledger.increaseLimit(d, l.scorer.address, "0x", ZeroHash, 0),
      cutLimit: (l) => l.ledger.cutLimit(newAccountId(), PAY_LATER_ID, 0n, 0, ZeroHash, 0),
      freezeLine: (l) => l.ledger.freezeLine(newAccountId(), PAY_LATER_ID, 0, ZeroHash, 0),
      unfreezeLine: (l) => l.ledger.unfreezeLine(newAccountId(), PAY_LATER_ID, 0, ZeroHash, 0),
      purchase: (l) => l.ledger.purchase(newAccountId(), PAY_LATER_ID, 1n, 1, ZeroHash, 0),
      refund: (l) => l.ledger.refund(newAccountId(), 1, 1n, ZeroHash, 0),
      drawCash: (l) => l.ledger.drawCash(newAccountId(), CASH_LOAN_ID, 1n, 3, 1, ZeroHash, 0),
      repay: (l) => l.ledger.repay(newAccountId(), 1, 1n, ZeroHash, 0),
      restructure: (l) => l.ledger.restructure(newAccountId(), 1, 3, 0, 0, ZeroHash, 0),
      writeOff: (l) => l.ledger.writeOff(newAccountId(), 1, ZeroHash, 0),
    };

    for (const [name, call] of Object.entries(operatorCalls)) {
      it(`rejects ${name} from a key without the operator role`, async () => {
        const l = await loadFixture(deployLedger);
        const d = await makeDecision(l, newAccountId());
        const asStranger = { ...l, ledger: l.ledger.connect(l.stranger) };

        await expect(call(asStranger, d))
          .to.be.revertedWithCustomError(l.ledger, "AccessControlUnauthorizedAccount")
          .withArgs(l.stranger.address, ROLES.operator);
      });
    }

    it("rejects a grant sent by the scorer itself (scorers sign, never send)", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account);
      await expect(l.ledger.connect(l.scorer).grantLine(d, l.scorer.address, await sign(l, d), newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "AccessControlUnauthorizedAccount")
        .withArgs(l.scorer.address, ROLES.operator);
    });

    it("lets only the admin configure products", async () => {
      const l = await loadFixture(deployLedger);
      await expect(l.ledger.connect(l.admin).configureProduct(3, CASH_LOAN)).to.emit(l.ledger, "ProductConfigured");
      await expect(l.asOperator.configureProduct(3, CASH_LOAN))
        .to.be.revertedWithCustomError(l.ledger, "AccessControlUnauthorizedAccount")
        .withArgs(l.operator.address, ROLES.admin);
    });

    it("lets only the admin set tier policies", async () => {
      const l = await loadFixture(deployLedger);
      await expect(l.ledger.connect(l.admin).setTierPolicy(3, TIERS[2])).to.emit(l.ledger, "TierPolicySet");
      await expect(l.asOperator.setTierPolicy(3, TIERS[2]))
        .to.be.revertedWithCustomError(l.ledger, "AccessControlUnauthorizedAccount")
        .withArgs(l.operator.address, ROLES.admin);
    });

    it("rejects pause and unpause from a key without the pauser role, even the admin", async () => {
      const l = await loadFixture(deployLedger);
      await expect(l.ledger.connect(l.admin).pause())
        .to.be.revertedWithCustomError(l.ledger, "AccessControlUnauthorizedAccount")
        .withArgs(l.admin.address, ROLES.pauser);
      await l.ledger.connect(l.pauser).pause();
      await expect(l.asOperator.unpause())
        .to.be.revertedWithCustomError(l.ledger, "AccessControlUnauthorizedAccount")
        .withArgs(l.operator.address, ROLES.pauser);
    });

    it("gives each deployed key only its own role", async () => {
      const l = await loadFixture(deployLedger);
      const holders = { admin: l.admin, operator: l.operator, scorer: l.scorer, pauser: l.pauser };
      for (const [role, roleId] of Object.entries(ROLES)) {
        for (const [who, signer] of Object.entries(holders)) {
          expect(await l.ledger.hasRole(roleId, signer.address), `${who} holds ${role}`).to.equal(role === who);
        }
      }
    });
  });
});
