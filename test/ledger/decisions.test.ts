/**
 * Signed credit decisions: a line is granted only on an EIP-712 decision signed by a scorer
 * (an EOA or an ERC-1271 contract wallet), with a nonce and a deadline; declines are recorded
 * too. The operator key alone cannot grant credit.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";

import { ZeroHash } from "ethers";

import {
  CASH_LOAN_ID,
  PAY_LATER_ID,
  deployLedger,
  grantLine,
  makeDecision,
  newAccountId,
  newRef,
  now,
  openAccount,
  seqOf,
  sign,
} from "../helpers/fixtures";
import { decisionTuple } from "../helpers/tuples";
import { decisionDigest, DecisionPurpose, restructureSubject } from "../../core/decision";
import { ROLES } from "../../deploy/modules/CreditLedger";

describe("decisions", () => {
  describe("granting a line", () => {
    it("grants a line on a decision signed by a scorer and records the decision", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { productId: CASH_LOAN_ID, limit: 2_000_000n, ratePpmPerDay: 500n });
      const signature = await sign(l, d);
      const ref = newRef();

      await expect(l.asOperator.grantLine(d, l.scorer.address, signature, ref, 1))
        .to.emit(l.ledger, "LineGranted")
        .withArgs(account, 2, anyValue, ref, decisionTuple(d), l.scorer.address, signature, l.operator.address);

      const line = await l.ledger.lineOf(account, CASH_LOAN_ID);
      expect(line.granted).to.equal(true);
      expect(line.limit).to.equal(2_000_000n);
      expect(line.ratePpmPerDay).to.equal(500n);
      expect(line.used).to.equal(0n);
      expect(line.frozen).to.equal(false);
    });

    it("computes the same EIP-712 digest the gateway's scorer signs", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { reasonCodes: [3, 17, 0, 0], limitExpiry: 123n });
      expect(await l.ledger.decisionDigest(d)).to.equal(decisionDigest(l.domain, d));
    });

    it("spends the decision nonce, so a granted decision cannot be replayed", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await grantLine(l, account);
      expect((await l.ledger.accountOf(account)).decisionNonce).to.equal(1n);

      // The same signed decision, resubmitted as a limit increase at the right seq.
      await expect(l.asOperator.increaseLimit(d, l.scorer.address, await sign(l, d), newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "DecisionNonceMismatch")
        .withArgs(account, 1, 0);
    });

    it("rejects a decision whose nonce is ahead of the account's", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { nonce: 1n });
      await expect(l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "DecisionNonceMismatch")
        .withArgs(account, 0, 1);
    });

    it("rejects a decision signed by a key without the scorer role (the operator alone cannot grant)", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { scorer: l.operator.address });
      const signature = await sign(l, d, l.operator);

      await expect(l.asOperator.grantLine(d, l.operator.address, signature, newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "NotScorer")
        .withArgs(l.operator.address);
    });

    it("rejects a signature that is not the named scorer's", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account);
      const signature = await sign(l, d, l.stranger);

      await expect(l.asOperator.grantLine(d, l.scorer.address, signature, newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "InvalidDecisionSignature")
        .withArgs(l.scorer.address, decisionDigest(l.domain, d));
    });

    it("rejects a decision altered after the scorer signed it", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const signed = await makeDecision(l, account, { limit: 1_000_000n });
      const signature = await sign(l, signed);
      const altered = { ...signed, limit: 3_000_000n };

      await expect(l.asOperator.grantLine(altered, l.scorer.address, signature, newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "InvalidDecisionSignature")
        .withArgs(l.scorer.address, decisionDigest(l.domain, altered));
    });

    it("accepts a decision up to and including its deadline", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account);
      const signature = await sign(l, d);

      await time.setNextBlockTimestamp(d.deadline);
      await expect(l.asOperator.grantLine(d, l.scorer.address, signature, newRef(), 1)).to.emit(l.ledger, "LineGranted");
    });

    it("rejects a decision used after its deadline", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account);
      const signature = await sign(l, d);

      await time.setNextBlockTimestamp(d.deadline + 1n);
      await expect(l.asOperator.grantLine(d, l.scorer.address, signature, newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "DecisionExpired")
        .withArgs(d.deadline, d.deadline + 1n);
    });

    it("rejects a decline submitted as a grant", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { approved: false });
      await expect(l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "DecisionOutcomeMismatch")
        .withArgs(false);
    });

    it("rejects a second line of the same product on one account", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      await grantLine(l, account, { productId: PAY_LATER_ID });
      const d = await makeDecision(l, account, { productId: PAY_LATER_ID });

      await expect(l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "LineExists")
        .withArgs(account, PAY_LATER_ID);
    });

    it("rejects a grant with a temporary expiry (grants are permanent)", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const expiry = (await time.latest()) + 86_400;
      const d = await makeDecision(l, account, { limitExpiry: BigInt(expiry) });
      await expect(l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "InvalidExpiry")
        .withArgs(expiry);
    });

    it("rejects a decision about a product that does not exist", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { productId: 9 });
      await expect(l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "UnknownProduct")
        .withArgs(9);
    });

    it("rejects a zero limit", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { limit: 0n });
      await expect(l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "InvalidAmount")
        .withArgs(0);
    });

    it("accepts a daily rate of 1 %/day, the ledger's maximum", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      await grantLine(l, account, { productId: CASH_LOAN_ID, ratePpmPerDay: 10_000n });
      expect((await l.ledger.lineOf(account, CASH_LOAN_ID)).ratePpmPerDay).to.equal(10_000n);
    });

    it("rejects a daily rate above 1 %/day", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { productId: CASH_LOAN_ID, ratePpmPerDay: 10_001n });
      await expect(l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "RateAboveMaximum")
        .withArgs(10_001n, 10_000n);
    });
  });

  describe("identity tier", () => {
    it("accepts a limit equal to the tier's maximum line limit", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l, 0, 800_000n);
      // Tier 0 (behavioural score only): max line limit 500,000 fen.
      await grantLine(l, account, { tier: 0, limit: 500_000n });
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).limit).to.equal(500_000n);
    });

    it("rejects a limit above the tier's maximum line limit", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l, 0, 800_000n);
      const d = await makeDecision(l, account, { tier: 0, limit: 500_001n });
      await expect(l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "TierCapExceeded")
        .withArgs(0, 500_001n, 500_000n);
    });

    it("rejects a decision naming a tier with no policy", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { tier: 7 });
      await expect(l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "UnknownTier")
        .withArgs(7);
    });

    it("records the tier the scorer saw verified on the account", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l, 0, 800_000n);
      await grantLine(l, account, { tier: 2, limit: 10_000_000n });
      expect((await l.ledger.accountOf(account)).tier).to.equal(2);
    });
  });

  describe("declines", () => {
    it("records a declined decision as an entry and spends its nonce, granting nothing", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { approved: false, limit: 0n, reasonCodes: [11, 12, 0, 0] });
      const signature = await sign(l, d);
      const ref = newRef();

      await expect(l.asOperator.recordDecline(d, l.scorer.address, signature, ref, 1))
        .to.emit(l.ledger, "DecisionDeclined")
        .withArgs(account, 2, anyValue, ref, decisionTuple(d), l.scorer.address, signature, l.operator.address);

      const a = await l.ledger.accountOf(account);
      expect(a.decisionNonce).to.equal(1n);
      expect(a.seq).to.equal(2n);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).granted).to.equal(false);
    });

    it("rejects an approval submitted as a decline", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { approved: true });
      await expect(l.asOperator.recordDecline(d, l.scorer.address, await sign(l, d), newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "DecisionOutcomeMismatch")
        .withArgs(true);
    });

    it("rejects a decline signed by a key without the scorer role", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { approved: false, scorer: l.stranger.address });
      await expect(l.asOperator.recordDecline(d, l.stranger.address, await sign(l, d, l.stranger), newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "NotScorer")
        .withArgs(l.stranger.address);
    });

    it("rejects a replayed decline", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const d = await makeDecision(l, account, { approved: false });
      const signature = await sign(l, d);
      await l.asOperator.recordDecline(d, l.scorer.address, signature, newRef(), 1);

      await expect(l.asOperator.recordDecline(d, l.scorer.address, signature, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "DecisionNonceMismatch")
        .withArgs(account, 1, 0);
    });
  });

  describe("ERC-1271 scorer wallet", () => {
    async function withScorerWallet() {
      const l = await deployLedger();
      const [, , , , , walletOwner] = await ethers.getSigners();
      const wallet = await ethers.deployContract("ScorerWallet", [walletOwner.address]);
      await l.ledger.connect(l.admin).grantRole(ROLES.scorer, await wallet.getAddress());
      const account = newAccountId();
      await l.asOperator.openAccount(account, 1, 8_000_000n, newRef(), 0);
      return { l, wallet, walletOwner, account };
    }

    it("accepts a decision signed through a contract-wallet scorer", async () => {
      const { l, wallet, walletOwner, account } = await loadFixture(withScorerWallet);
      const walletAddress = await wallet.getAddress();
      const d = await makeDecision(l, account, { scorer: walletAddress });
      const signature = await sign(l, d, walletOwner);

      await expect(l.asOperator.grantLine(d, walletAddress, signature, newRef(), 1))
        .to.emit(l.ledger, "LineGranted")
        .withArgs(account, 2, anyValue, anyValue, decisionTuple(d), walletAddress, signature, l.operator.address);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).granted).to.equal(true);
    });

    it("rejects a decision the contract-wallet scorer does not accept", async () => {
      const { l, wallet, account } = await loadFixture(withScorerWallet);
      const walletAddress = await wallet.getAddress();
      const d = await makeDecision(l, account, { scorer: walletAddress });
      const signature = await sign(l, d, l.stranger);

      await expect(l.asOperator.grantLine(d, walletAddress, signature, newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "InvalidDecisionSignature")
        .withArgs(walletAddress, decisionDigest(l.domain, d));
    });

    it("refuses a decision made for a sibling wallet of the same owner with DecisionScorerMismatch", async () => {
      const { l, wallet, walletOwner, account } = await loadFixture(withScorerWallet);
      const sibling = await ethers.deployContract("ScorerWallet", [walletOwner.address]);
      const siblingAddress = await sibling.getAddress();
      await l.ledger.connect(l.admin).grantRole(ROLES.scorer, siblingAddress);
      const walletAddress = await wallet.getAddress();
      // The owner signs a decision for `wallet`; both wallets accept the owner's signature
      // over a bare digest, so only the scorer field binds it to `wallet`.
      const d = await makeDecision(l, account, { scorer: walletAddress });
      const signature = await sign(l, d, walletOwner);
      expect(await sibling.isValidSignature(decisionDigest(l.domain, d), signature)).to.equal("0x1626ba7e");

      await expect(l.asOperator.grantLine(d, siblingAddress, signature, newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "DecisionScorerMismatch")
        .withArgs(siblingAddress, walletAddress);
      // Renamed to the sibling, the digest changes and the owner's signature no longer verifies.
      const renamed = { ...d, scorer: siblingAddress };
      await expect(l.asOperator.grantLine(renamed, siblingAddress, signature, newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "InvalidDecisionSignature")
        .withArgs(siblingAddress, decisionDigest(l.domain, renamed));
    });

    it("rejects a contract wallet that does not hold the scorer role", async () => {
      const { l, wallet, walletOwner, account } = await loadFixture(withScorerWallet);
      const walletAddress = await wallet.getAddress();
      await l.ledger.connect(l.admin).revokeRole(ROLES.scorer, walletAddress);
      const d = await makeDecision(l, account, { scorer: walletAddress });

      await expect(l.asOperator.grantLine(d, walletAddress, await sign(l, d, walletOwner), newRef(), await seqOf(l, account)))
        .to.be.revertedWithCustomError(l.ledger, "NotScorer")
        .withArgs(walletAddress);
    });
  });

  describe("what a decision authorises (purpose, subject)", () => {
    it("refuses a restructure or reinstate decision submitted as a line decision with DecisionPurposeMismatch", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      for (const purpose of [DecisionPurpose.Restructure, DecisionPurpose.Reinstate]) {
        const d = await makeDecision(l, account, { purpose });
        await expect(l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), 1))
          .to.be.revertedWithCustomError(l.ledger, "DecisionPurposeMismatch")
          .withArgs(DecisionPurpose.Line, purpose);
      }
    });

    it("refuses a line decision with a non-zero subject with DecisionSubjectMismatch", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const subject = restructureSubject(1, 6, 0, 0n);
      const d = await makeDecision(l, account, { subject });
      await expect(l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "DecisionSubjectMismatch")
        .withArgs(ZeroHash, subject);
    });
  });

  describe("lifetime", () => {
    it("accepts a decision whose deadline is MAX_DECISION_LIFETIME after its issue time", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const max = await l.ledger.MAX_DECISION_LIFETIME();
      expect(max).to.equal(30n * 86_400n);
      const issuedAt = await now();
      const d = await makeDecision(l, account, { issuedAt, deadline: issuedAt + max });
      const signature = await sign(l, d);
      await time.setNextBlockTimestamp(issuedAt + max);
      await expect(l.asOperator.grantLine(d, l.scorer.address, signature, newRef(), 1)).to.emit(l.ledger, "LineGranted");
    });

    it("refuses a decision whose deadline lies beyond its maximum lifetime with DecisionLifetimeTooLong", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const issuedAt = await now();
      const deadline = issuedAt + 30n * 86_400n + 1n;
      const d = await makeDecision(l, account, { issuedAt, deadline });
      await expect(l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "DecisionLifetimeTooLong")
        .withArgs(issuedAt, deadline, 30n * 86_400n);
    });

    it("refuses a decision issued in the future with DecisionIssuedInFuture", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const t = await now();
      const d = await makeDecision(l, account, { issuedAt: t + 600n, deadline: t + 3_600n });
      const signature = await sign(l, d);
      await time.setNextBlockTimestamp(t + 10n);
      await expect(l.asOperator.grantLine(d, l.scorer.address, signature, newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "DecisionIssuedInFuture")
        .withArgs(t + 600n, t + 10n);
    });

    it("refuses a raise signed a year ahead (the seen attack) with DecisionLifetimeTooLong, and after its deadline with DecisionExpired", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      await grantLine(l, account);
      const issuedAt = await now();
      const yearAhead = await makeDecision(l, account, { limit: 2_000_000n, issuedAt, deadline: issuedAt + 400n * 86_400n });
      const longSignature = await sign(l, yearAhead);
      const inLifetime = await makeDecision(l, account, { limit: 2_000_000n, issuedAt, deadline: issuedAt + 30n * 86_400n });
      const signature = await sign(l, inLifetime);

      await time.increase(365 * 86_400);
      await expect(l.asOperator.increaseLimit(yearAhead, l.scorer.address, longSignature, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "DecisionLifetimeTooLong")
        .withArgs(issuedAt, yearAhead.deadline, 30n * 86_400n);
      await expect(l.asOperator.increaseLimit(inLifetime, l.scorer.address, signature, newRef(), 2))
        .to.be.revertedWithCustomError(l.ledger, "DecisionExpired")
        .withArgs(inLifetime.deadline, anyValue);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).limit).to.equal(1_000_000n);
    });
  });

  describe("adverse events invalidate outstanding decisions", () => {
    async function raiseSignedBeforehand() {
      const l = await deployLedger();
      const account = await openAccount(l);
      await grantLine(l, account);
      const raise = await makeDecision(l, account, { limit: 2_000_000n });
      return { l, account, raise, signature: await sign(l, raise) };
    }

    it("refuses a raise signed before a freeze with DecisionNonceMismatch (the freeze advances the decision nonce)", async () => {
      const { l, account, raise, signature } = await loadFixture(raiseSignedBeforehand);
      await l.asOperator.freezeLine(account, PAY_LATER_ID, 7, newRef(), 2);
      await l.asOperator.unfreezeLine(account, PAY_LATER_ID, 0, newRef(), 3);
      expect((await l.ledger.accountOf(account)).decisionNonce).to.equal(2n);

      await expect(l.asOperator.increaseLimit(raise, l.scorer.address, signature, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "DecisionNonceMismatch")
        .withArgs(account, 2, 1);
    });

    it("refuses a raise signed before a cut to 0 with DecisionNonceMismatch (the cut advances the decision nonce)", async () => {
      const { l, account, raise, signature } = await loadFixture(raiseSignedBeforehand);
      await l.asOperator.cutLimit(account, PAY_LATER_ID, 0n, 9, newRef(), 2);
      expect((await l.ledger.accountOf(account)).decisionNonce).to.equal(2n);

      await expect(l.asOperator.increaseLimit(raise, l.scorer.address, signature, newRef(), 3))
        .to.be.revertedWithCustomError(l.ledger, "DecisionNonceMismatch")
        .withArgs(account, 2, 1);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).limit).to.equal(0n);
    });

    it("applies a raise signed with the account's nonce after the cut", async () => {
      const { l, account } = await loadFixture(raiseSignedBeforehand);
      await l.asOperator.cutLimit(account, PAY_LATER_ID, 0n, 9, newRef(), 2);
      const fresh = await makeDecision(l, account, { limit: 500_000n });
      expect(fresh.nonce).to.equal(2n);
      await expect(l.asOperator.increaseLimit(fresh, l.scorer.address, await sign(l, fresh), newRef(), 3)).to.emit(
        l.ledger,
        "LimitIncreased"
      );
    });

    it("refuses a raise signed before a write-off with DecisionNonceMismatch (the write-off advances the decision nonce)", async () => {
      const { l, account } = await loadFixture(raiseSignedBeforehand);
      await l.asOperator.purchase(account, PAY_LATER_ID, 100_000n, 1, newRef(), 2);
      const product = await l.ledger.productOf(PAY_LATER_ID);
      await time.increase((Number(product.graceDays) + Number(product.writeOffDays) + 1) * 86_400);
      // Signed just before the write-off, well within its lifetime.
      const raise = await makeDecision(l, account, { limit: 2_000_000n });
      const signature = await sign(l, raise);
      await l.asOperator.writeOff(account, 1, newRef(), 3);
      expect((await l.ledger.accountOf(account)).decisionNonce).to.equal(2n);

      await expect(l.asOperator.increaseLimit(raise, l.scorer.address, signature, newRef(), 4))
        .to.be.revertedWithCustomError(l.ledger, "DecisionNonceMismatch")
        .withArgs(account, 2, 1);
    });
  });
});
