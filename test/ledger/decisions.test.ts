/**
 * Signed credit decisions: a line is granted only on an EIP-712 decision signed by a scorer
 * (an EOA or an ERC-1271 contract wallet), with a nonce and a deadline; declines are recorded
 * too. The operator key alone cannot grant credit.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";

import { CASH_LOAN_ID, PAY_LATER_ID, deployLedger, grantLine, makeDecision, newAccountId, newRef, openAccount, seqOf, sign } from "../helpers/fixtures";
import { decisionTuple } from "../helpers/tuples";
import { decisionDigest } from "../../core/decision";
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
      const d = await makeDecision(l, account);
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
      const d = await makeDecision(l, account, { approved: false });
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
      const d = await makeDecision(l, account);
      const signature = await sign(l, d, walletOwner);
      const walletAddress = await wallet.getAddress();

      await expect(l.asOperator.grantLine(d, walletAddress, signature, newRef(), 1))
        .to.emit(l.ledger, "LineGranted")
        .withArgs(account, 2, anyValue, anyValue, decisionTuple(d), walletAddress, signature, l.operator.address);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).granted).to.equal(true);
    });

    it("rejects a decision the contract-wallet scorer does not accept", async () => {
      const { l, wallet, account } = await loadFixture(withScorerWallet);
      const d = await makeDecision(l, account);
      const signature = await sign(l, d, l.stranger);
      const walletAddress = await wallet.getAddress();

      await expect(l.asOperator.grantLine(d, walletAddress, signature, newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "InvalidDecisionSignature")
        .withArgs(walletAddress, decisionDigest(l.domain, d));
    });

    it("rejects a contract wallet that does not hold the scorer role", async () => {
      const { l, wallet, walletOwner, account } = await loadFixture(withScorerWallet);
      const walletAddress = await wallet.getAddress();
      await l.ledger.connect(l.admin).revokeRole(ROLES.scorer, walletAddress);
      const d = await makeDecision(l, account);

      await expect(l.asOperator.grantLine(d, walletAddress, await sign(l, d, walletOwner), newRef(), await seqOf(l, account)))
        .to.be.revertedWithCustomError(l.ledger, "NotScorer")
        .withArgs(walletAddress);
    });
  });
});
