/**
 * The verifier names every kind of tampering and rule-breaking that can be staged. The real
 * ledger refuses to record any of these, so they are staged on `LedgerDouble`
 * (contracts/test/), which emits the real events without enforcing the rules; the helper
 * (test/helpers/ledger-double.ts) keeps every other value honest: hash chain, loan math and
 * the ledger's views. Each test asserts which checks fail (only the one the violation
 * belongs to, unless the violation necessarily breaks another) and that the check's first
 * finding names the entry: its account, seq and transaction.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { hexlify, randomBytes } from "ethers";

import { CASH_LOAN_ID, PAY_LATER, PAY_LATER_ID } from "../../deploy/defaults";
import { RepaymentMethod } from "../../core/loan-math";
import { DecisionPurpose, MAX_DECISION_LIFETIME, restructureSubject } from "../../core/decision";
import type { AuditReport, CheckName } from "../../verifier/types";
import { audit, describeFindings, failingChecks, firstFinding } from "../helpers/audit";
import { deployDouble, ROLES, StagedLedger, type StagedEntry } from "../helpers/ledger-double";

const DAY = 86_400n;

/** A staged ledger with one account holding both lines (pay-later 1,000,000 fen; cash 2,000,000 fen at 500 ppm/day). */
async function staged(): Promise<{ s: StagedLedger; account: string }> {
  const s = new StagedLedger(await loadFixture(deployDouble));
  const { account } = await s.openAccount();
  await s.grantLine(account, { productId: PAY_LATER_ID, limit: 1_000_000n });
  await s.grantLine(account, { productId: CASH_LOAN_ID, limit: 2_000_000n, ratePpmPerDay: 500n });
  return { s, account };
}

/** Write the honest views (unless told not to) and run every check over the double's history. */
async function auditStaged(s: StagedLedger, { sync = true } = {}): Promise<AuditReport> {
  if (sync) await s.syncViews();
  return (await audit({ ledger: s.f.address, fromBlock: s.f.deployBlock })).report;
}

/**
 * The report fails exactly `checks` (the first one is the check under test), and that check's
 * first finding names the entry: its account, its seq and its transaction.
 */
function expectNamed(report: AuditReport, checks: CheckName[], entry: Pick<StagedEntry, "account" | "seq" | "txHash">): void {
  const why = describeFindings(report);
  expect(report.ok, why).to.equal(false);
  expect(failingChecks(report), why).to.have.members(checks);
  const f = firstFinding(report, checks[0]);
  expect(
    { account: f?.account?.toLowerCase(), seq: f?.seq, txHash: f?.txHash?.toLowerCase() },
    `first ${checks[0]} finding; ${why}`
  ).to.deep.equal({ account: entry.account.toLowerCase(), seq: entry.seq, txHash: entry.txHash.toLowerCase() });
}

describe("verifier: a staged honest history passes", function () {
  it("passes every check (bytecode not asked) on a staged history with every kind of entry", async function () {
    const { s, account } = await staged();
    await s.recordDecline(account, { productId: CASH_LOAN_ID });
    await s.setExposureCap(account, 6_000_000n);
    const now = await s.now();
    await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_500_000n, limitExpiry: now + 30n * DAY });
    await s.increaseLimit(account, { productId: CASH_LOAN_ID, limit: 2_500_000n, ratePpmPerDay: 450n });
    await s.purchase(account, 300_000n, 1); // loan 1
    await s.purchase(account, 600_000n, 3); // loan 2
    await s.drawCash(account, 1_000_000n, 6, RepaymentMethod.Annuity); // loan 3
    await s.refund(account, 2, 100_000n);
    await s.cutLimit(account, PAY_LATER_ID, 1_200_000n, 3);
    await s.freezeLine(account, CASH_LOAN_ID, 9);
    await s.unfreezeLine(account, CASH_LOAN_ID, 0);
    await s.pause();
    await s.repay(account, 3, 50_000n, { at: s.dayOfLoan(account, 3, 10) });
    await s.unpause();
    const overdue = s.dayOfLoan(account, 1, 50);
    await s.repay(account, 1, s.payoffAt(account, 1, overdue), { at: overdue });
    await s.restructure(account, 2, 6, 30);
    await s.writeOff(account, 3, { at: s.dayOfLoan(account, 3, 400) });
    await s.repay(account, 3, 10_000n); // a recovery after the write-off

    const report = await auditStaged(s);
    const statuses = Object.fromEntries(report.checks.map((c) => [c.check, c.status]));
    expect(statuses, describeFindings(report)).to.deep.equal({
      "hash-chain": "pass",
      "ledger-head": "pass",
      roles: "pass",
      decisions: "pass",
      balances: "pass",
      charges: "pass",
      "cost-ceiling": "pass",
      limits: "pass",
      references: "pass",
      bytecode: "skipped",
    });
    expect(report.ok).to.equal(true);
    expect(report.stats).to.deep.include({ accounts: 1, entries: 19, declines: 1, loans: 3 });
  });
});

describe("verifier: limits", function () {
  it("fails the limits check on a drawdown above the line limit, naming the entry", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 400_000n);
    const over = await s.purchase(account, 600_001n);
    expectNamed(await auditStaged(s), ["limits"], over);
  });

  it("fails the limits check on a drawdown above the exposure cap, naming the entry", async function () {
    const { s, account } = await staged();
    await s.setExposureCap(account, 1_500_000n);
    await s.purchase(account, 900_000n);
    const over = await s.drawCash(account, 700_000n); // within the cash line's 2,000,000
    expectNamed(await auditStaged(s), ["limits"], over);
  });

  it("fails the limits check on a drawdown above the tier's line cap, naming the entry", async function () {
    const { s, account } = await staged();
    await s.setTierPolicy(1, { maxLineLimit: 600_000n, maxExposure: 8_000_000n });
    const over = await s.purchase(account, 700_000n); // within the line's 1,000,000
    expectNamed(await auditStaged(s), ["limits"], over);
  });

  it("fails the limits check on a drawdown on a frozen line, naming the entry", async function () {
    const { s, account } = await staged();
    await s.freezeLine(account, PAY_LATER_ID, 7);
    const drawn = await s.purchase(account, 1_000n);
    expectNamed(await auditStaged(s), ["limits"], drawn);
  });

  it("fails the limits check on a drawdown on a line frozen by a write-off, naming the entry", async function () {
    const { s, account } = await staged();
    await s.drawCash(account, 100_000n, 3);
    await s.writeOff(account, 1, { at: s.dayOfLoan(account, 1, 300) });
    const drawn = await s.drawCash(account, 1_000n, 3);
    expectNamed(await auditStaged(s), ["limits"], drawn);
  });

  it("fails the limits check on a cash drawdown of the exposure a written-off purchase still holds, naming the entry", async function () {
    const s = new StagedLedger(await loadFixture(deployDouble));
    const { account } = await s.openAccount({ exposureCap: 1_500_000n });
    await s.grantLine(account, { productId: PAY_LATER_ID, limit: 1_000_000n });
    await s.grantLine(account, { productId: CASH_LOAN_ID, limit: 2_000_000n, ratePpmPerDay: 500n });
    await s.purchase(account, 1_000_000n);
    await s.writeOff(account, 1, { at: s.dayOfLoan(account, 1, 300) });
    const drawn = await s.drawCash(account, 1_500_000n, 3);
    expectNamed(await auditStaged(s), ["limits"], drawn);
  });

  it("fails the limits check on a drawdown while the ledger is paused, naming the entry", async function () {
    const { s, account } = await staged();
    await s.pause();
    const drawn = await s.drawCash(account, 1_000n, 3);
    expectNamed(await auditStaged(s), ["limits"], drawn);
  });

  it("passes a drawdown after an unpause", async function () {
    const { s, account } = await staged();
    await s.pause();
    await s.unpause();
    await s.drawCash(account, 1_000n, 3);
    const report = await auditStaged(s);
    expect(report.ok, describeFindings(report)).to.equal(true);
  });

  it("passes a drawdown above the permanent limit within a temporary raise in force", async function () {
    const { s, account } = await staged();
    await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_500_000n, limitExpiry: (await s.now()) + 10n * DAY });
    await s.purchase(account, 1_400_000n);
    const report = await auditStaged(s);
    expect(report.ok, describeFindings(report)).to.equal(true);
  });

  it("fails the limits check on a drawdown above the permanent limit after a temporary raise expired, naming the entry", async function () {
    const { s, account } = await staged();
    const expiry = (await s.now()) + 10n * DAY;
    await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_500_000n, limitExpiry: expiry });
    const late = await s.purchase(account, 1_400_000n, 1, { at: expiry });
    expectNamed(await auditStaged(s), ["limits"], late);
  });

  it("fails the limits check on a drawdown above a cut limit (the cut went below usage), naming the entry", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 500_000n);
    await s.cutLimit(account, PAY_LATER_ID, 400_000n, 5);
    const drawn = await s.purchase(account, 1_000n);
    expectNamed(await auditStaged(s), ["limits"], drawn);
  });

  it("fails the limits check on a freeze of a line the account does not hold, naming the entry", async function () {
    const { s } = await staged();
    const { account } = await s.openAccount();
    const frozen = await s.freezeLine(account, PAY_LATER_ID, 7);
    expectNamed(await auditStaged(s), ["limits"], frozen);
  });

  it("fails the limits check on a write-off before the product's threshold, naming the entry", async function () {
    const { s, account } = await staged();
    await s.drawCash(account, 100_000n, 3);
    const early = await s.writeOff(account, 1, { at: s.dayOfLoan(account, 1, 100) }); // 70 days past due; 180 needed
    expectNamed(await auditStaged(s), ["limits"], early);
  });

  it("fails the limits check on a write-off by the product's lowered threshold before the loan's own, naming the entry", async function () {
    // Drawn under writeOffDays 180; the product's threshold then lowered to 30. At 60 days past
    // due the product would allow it, the loan's terms do not.
    const { s, account } = await staged();
    await s.purchase(account, 100_000n);
    await s.configureProduct(PAY_LATER_ID, { ...PAY_LATER, writeOffDays: 30 });
    const early = await s.writeOff(account, 1, { at: s.dayOfLoan(account, 1, 100) });
    expectNamed(await auditStaged(s), ["limits"], early);
  });
});

describe("verifier: charges", function () {
  it("fails the charges check on a repayment that charges more interest than the math gives, naming the entry", async function () {
    const { s, account } = await staged();
    await s.drawCash(account, 1_000_000n, 6);
    const repaid = await s.repay(account, 1, 50_000n, {
      at: s.dayOfLoan(account, 1, 20),
      fields: (h) => ({ interestAccrued: h.interestAccrued + 1n }),
    });
    expectNamed(await auditStaged(s), ["charges"], repaid);
  });

  it("fails the charges check on a repayment that charges more penalty than the math gives, naming the entry", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 1_000_000n);
    const repaid = await s.repay(account, 1, 100_000n, {
      at: s.dayOfLoan(account, 1, 50), // 10 days past the 40-day grace
      fields: (h) => ({ penaltyAccrued: h.penaltyAccrued + 1_000n }),
    });
    expectNamed(await auditStaged(s), ["charges"], repaid);
  });

  it("fails the charges check on a repayment allocated out of order (principal before penalty), naming the entry", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 1_000_000n);
    const repaid = await s.repay(account, 1, 100_000n, {
      at: s.dayOfLoan(account, 1, 50),
      fields: (h) => {
        expect(h.allocation.penalty, "the staged repayment owes penalty").to.be.greaterThan(0n);
        return { allocation: { penalty: 0n, overduePrincipal: h.allocation.overduePrincipal + h.allocation.penalty } };
      },
    });
    expectNamed(await auditStaged(s), ["charges"], repaid);
  });

  it("fails the charges check on a refund that waives a different fee than the math gives, naming the entry", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 600_000n, 6);
    const refunded = await s.refund(account, 1, 100_000n, { fields: (h) => ({ feeWaived: h.feeWaived - 1n }) });
    expectNamed(await auditStaged(s), ["charges"], refunded);
  });

  it("fails the charges check on a split refund that waives the fee rounded down per call (1 fen left owing), naming the entry", async function () {
    // 1,000 in 3 (fee 23), periods 1 and 2 paid, the last 333 refunded as 167 + 166: the second
    // refund waives 4 by the cumulative rule (and all the fee left, 4); per call it waived 3.
    const { s, account } = await staged();
    await s.purchase(account, 1_000n, 3);
    await s.repay(account, 1, 343n, { at: s.dayOfLoan(account, 1, 40) });
    await s.repay(account, 1, 340n, { at: s.dayOfLoan(account, 1, 70) });
    await s.refund(account, 1, 167n, { at: s.dayOfLoan(account, 1, 75) });
    const second = await s.refund(account, 1, 166n, {
      at: s.dayOfLoan(account, 1, 75) + 60n,
      fields: (h) => {
        expect(h.feeWaived, "the cumulative rule waives the last 4 fen").to.equal(4n);
        return { feeWaived: 3n };
      },
    });
    expectNamed(await auditStaged(s), ["charges"], second);
  });

  it("fails the charges check on a restructure that raises the rate, naming the entry", async function () {
    const { s, account } = await staged();
    await s.drawCash(account, 500_000n, 3);
    const restructured = await s.restructure(account, 1, 6, 0, 600n); // from 500 ppm/day
    expectNamed(await auditStaged(s), ["charges"], restructured);
  });

  it("fails the charges check on a restructure with a payment holiday longer than 180 days, naming the entry", async function () {
    const { s, account } = await staged();
    await s.drawCash(account, 500_000n, 3);
    const restructured = await s.restructure(account, 1, 6, 365, 0n); // interest frozen: within the ceiling
    expectNamed(await auditStaged(s), ["charges"], restructured);
  });

  it("fails the charges and cost-ceiling checks on a restructure that carries the unbilled fee, raising the payoff, naming the entry", async function () {
    // 1,000 in 12 (fee 75), 880 repaid on day 0 (9 fee, 871 principal): payoff 129. Carrying the
    // unbilled 66 of fee into the new terms (the old rule) made the payoff 140.
    const { s, account } = await staged();
    await s.purchase(account, 1_000n, 12);
    await s.repay(account, 1, 880n);
    const restructured = await s.restructure(account, 1, 12, 10, 0n, {
      at: s.dayOfLoan(account, 1, 1),
      fields: (h) => {
        expect(h.newTerms.totalFee, "the re-based fee is what is owed now").to.equal(0n);
        return { newTerms: { ...h.newTerms, totalFee: 66n } };
      },
    });
    // Carried, the fee also puts the new terms at about 93 % APR: the cost-ceiling check names it too.
    expectNamed(await auditStaged(s), ["charges", "cost-ceiling"], restructured);
  });

  it("fails the charges check on a loan's third restructure, naming the entry", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 100_000n);
    await s.restructure(account, 1, 12, 0, 0n);
    await s.restructure(account, 1, 12, 0, 0n);
    const third = await s.restructure(account, 1, 12, 0, 0n);
    expectNamed(await auditStaged(s), ["charges"], third);
  });

  it("fails the charges check on restructures granting more than 180 holiday days together, naming the entry", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 100_000n);
    await s.restructure(account, 1, 6, 120, 0n);
    const second = await s.restructure(account, 1, 6, 61, 0n);
    expectNamed(await auditStaged(s), ["charges"], second);
  });

  it("fails the balances check on a restructure that clears days past due without saying so, naming the entry", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 100_000n);
    const restructured = await s.restructure(account, 1, 6, 0, 0n, {
      at: s.dayOfLoan(account, 1, 219), // 179 days past due
      fields: (h) => {
        expect(h.daysPastDueCleared).to.equal(179n);
        return { daysPastDueCleared: 0n };
      },
    });
    expectNamed(await auditStaged(s), ["balances"], restructured);
  });

  it("fails the cost-ceiling check on restructured terms above the product's ceiling, naming the entry", async function () {
    // 600,000 at 500 ppm/day into 6 periods after a 60-day holiday: about 29 % APR against 24 %.
    const { s, account } = await staged();
    await s.drawCash(account, 600_000n, 6, RepaymentMethod.EqualPrincipal);
    const restructured = await s.restructure(account, 1, 6, 60, 500n, { at: s.dayOfLoan(account, 1, 10) });
    expectNamed(await auditStaged(s), ["cost-ceiling"], restructured);
  });

  it("fails the charges check on a restructure over more than 36 periods, naming the entry", async function () {
    const { s, account } = await staged();
    await s.drawCash(account, 500_000n, 3);
    const restructured = await s.restructure(account, 1, 40, 0);
    expectNamed(await auditStaged(s), ["charges"], restructured);
  });

  it("fails the charges and cost-ceiling checks on a drawdown of zero periods (a finding, not a crash), naming the entry", async function () {
    const { s, account } = await staged();
    const drawn = await s.drawCash(account, 1_000n, 0, RepaymentMethod.EqualPrincipal);
    expectNamed(await auditStaged(s), ["charges", "cost-ceiling"], drawn);
  });
});

describe("verifier: references", function () {
  it("fails the references check on a reused caller reference, naming the second entry", async function () {
    const { s, account } = await staged();
    const first = await s.purchase(account, 10_000n);
    await s.purchase(account, 20_000n);
    const reused = await s.drawCash(account, 30_000n, 3, RepaymentMethod.EqualPrincipal, { ref: first.ref });
    expectNamed(await auditStaged(s), ["references"], reused);
  });

  it("fails the references check on a reference reused across accounts, naming the second entry", async function () {
    const { s, account } = await staged();
    const first = await s.purchase(account, 10_000n);
    const reused = await s.openAccount({}, { ref: first.ref });
    expectNamed(await auditStaged(s), ["references"], reused);
  });
});

describe("verifier: decisions", function () {
  it("fails the decisions check on a decision signed by a key that never held the scorer role, naming the entry", async function () {
    const { s, account } = await staged();
    const raised = await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_500_000n }, { signer: s.f.stranger });
    expectNamed(await auditStaged(s), ["decisions"], raised);
  });

  it("fails the decisions check on a grant whose signature is not the named scorer's, naming the entry", async function () {
    const { s } = await staged();
    const { account } = await s.openAccount();
    const granted = await s.grantLine(account, { limit: 500_000n }, { signer: s.f.stranger, scorer: s.f.scorer.address });
    expectNamed(await auditStaged(s), ["decisions"], granted);
  });

  it("fails the decisions check on a decline signed by a key that never held the scorer role, naming the entry", async function () {
    const { s, account } = await staged();
    const declined = await s.recordDecline(account, {}, { signer: s.f.stranger });
    expectNamed(await auditStaged(s), ["decisions"], declined);
  });

  it("fails the decisions check on a decision by a key whose scorer role was revoked before that block, naming the entry", async function () {
    const { s, account } = await staged();
    await s.grantRole(ROLES.scorer, s.f.scorer2.address);
    await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_200_000n }, { signer: s.f.scorer2 });
    await s.revokeRole(ROLES.scorer, s.f.scorer2.address);
    const raised = await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_400_000n }, { signer: s.f.scorer2 });
    const report = await auditStaged(s);
    expectNamed(report, ["decisions"], raised);
    expect(report.checks.find((c) => c.check === "decisions")!.findings, "only the decision after the revocation").to.have.length(1);
  });

  it("passes a decision signed for a contract-wallet scorer (ERC-1271) by its owner key", async function () {
    const { s, account } = await staged();
    const wallet = await ethers.deployContract("ScorerWallet", [s.f.scorer2.address]);
    await s.grantRole(ROLES.scorer, await wallet.getAddress());
    await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_200_000n }, { signer: s.f.scorer2, scorer: await wallet.getAddress() });
    const report = await auditStaged(s);
    expect(report.ok, describeFindings(report)).to.equal(true);
  });

  it("fails the decisions check on a decision a contract-wallet scorer (ERC-1271) does not accept, naming the entry", async function () {
    const { s, account } = await staged();
    const wallet = await ethers.deployContract("ScorerWallet", [s.f.scorer2.address]);
    await s.grantRole(ROLES.scorer, await wallet.getAddress());
    const raised = await s.increaseLimit(
      account,
      { productId: PAY_LATER_ID, limit: 1_200_000n },
      { signer: s.f.stranger, scorer: await wallet.getAddress() }
    );
    expectNamed(await auditStaged(s), ["decisions"], raised);
  });

  it("fails the decisions check on a decision used after its deadline, naming the entry", async function () {
    const { s, account } = await staged();
    const raised = await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_200_000n, deadline: await s.now() });
    expectNamed(await auditStaged(s), ["decisions"], raised);
  });

  it("fails the decisions check on a replayed decision nonce, naming the entry", async function () {
    const { s, account } = await staged();
    const raised = await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_200_000n, nonce: 0n });
    expectNamed(await auditStaged(s), ["decisions"], raised);
  });

  it("fails the decisions check on a decision whose deadline lies beyond its maximum lifetime, naming the entry", async function () {
    const { s, account } = await staged();
    const issuedAt = await s.now();
    const raised = await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_200_000n, issuedAt, deadline: issuedAt + MAX_DECISION_LIFETIME + 1n });
    expectNamed(await auditStaged(s), ["decisions"], raised);
  });

  it("fails the decisions check on a decision issued after the block that used it, naming the entry", async function () {
    const { s, account } = await staged();
    const t = await s.now();
    const raised = await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_200_000n, issuedAt: t + DAY, deadline: t + 2n * DAY });
    expectNamed(await auditStaged(s), ["decisions"], raised);
  });

  it("fails the decisions check on a raise signed before a freeze and applied after it (the freeze spent the nonce), naming the entry", async function () {
    const { s, account } = await staged();
    const before = s.account(account).decisionNonce;
    await s.freezeLine(account, PAY_LATER_ID, 9);
    await s.unfreezeLine(account, PAY_LATER_ID, 0);
    const raised = await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_200_000n, nonce: before });
    expectNamed(await auditStaged(s), ["decisions"], raised);
  });

  it("fails the decisions check on a raise signed before a cut and applied after it (the cut spent the nonce), naming the entry", async function () {
    const { s, account } = await staged();
    const before = s.account(account).decisionNonce;
    await s.cutLimit(account, PAY_LATER_ID, 0n, 3);
    const raised = await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_200_000n, nonce: before });
    expectNamed(await auditStaged(s), ["decisions"], raised);
  });

  it("fails the decisions check on a line decision with another purpose or a subject, naming the entry", async function () {
    const { s, account } = await staged();
    const raised = await s.increaseLimit(account, { productId: PAY_LATER_ID, limit: 1_200_000n, purpose: DecisionPurpose.Restructure });
    expectNamed(await auditStaged(s), ["decisions"], raised);
    const { s: s2, account: account2 } = await staged();
    const withSubject = await s2.increaseLimit(account2, { productId: PAY_LATER_ID, limit: 1_200_000n, subject: restructureSubject(1, 6, 0, 0n) });
    expectNamed(await auditStaged(s2), ["decisions"], withSubject);
  });

  it("fails the decisions check on an unfreeze of a write-off freeze without a decision, naming the entry, and passes a reinstatement on one", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 300_000n, 1); // loan 1
    await s.writeOff(account, 1, { at: s.dayOfLoan(account, 1, 400) });
    const unfrozen = await s.unfreezeLine(account, PAY_LATER_ID, 0);
    expectNamed(await auditStaged(s), ["decisions"], unfrozen);

    const { s: honest, account: other } = await staged();
    await honest.purchase(other, 300_000n, 1);
    await honest.writeOff(other, 1, { at: honest.dayOfLoan(other, 1, 400) });
    await honest.reinstateLine(other, PAY_LATER_ID);
    const report = await auditStaged(honest);
    expect(report.ok, describeFindings(report)).to.equal(true);
  });

  it("fails the decisions check on a reinstatement whose decision is of another purpose, naming the entry", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 300_000n, 1);
    await s.writeOff(account, 1, { at: s.dayOfLoan(account, 1, 400) });
    const reinstated = await s.reinstateLine(account, PAY_LATER_ID, { purpose: DecisionPurpose.Line });
    expectNamed(await auditStaged(s), ["decisions"], reinstated);
  });

  it("fails the decisions check on a restructure without its decision's terms (another subject), naming the entry", async function () {
    const { s, account } = await staged();
    await s.drawCash(account, 1_000_000n, 6, RepaymentMethod.Annuity); // loan 1
    const restructured = await s.restructure(account, 1, 12, 30, undefined, { decision: { subject: restructureSubject(1, 6, 0, 0n) } });
    expectNamed(await auditStaged(s), ["decisions"], restructured);
  });

  it("fails the decisions check on a restructure decided by a key without the scorer role, naming the entry", async function () {
    const { s, account } = await staged();
    await s.drawCash(account, 1_000_000n, 6, RepaymentMethod.Annuity);
    const restructured = await s.restructure(account, 1, 12, 30, undefined, { sign: { signer: s.f.stranger } });
    expectNamed(await auditStaged(s), ["decisions"], restructured);
  });

  it("fails the decisions check on a decision made for a sibling ERC-1271 wallet of the same owner, naming the entry", async function () {
    const { s, account } = await staged();
    const wallet = await ethers.deployContract("ScorerWallet", [s.f.scorer2.address]);
    const sibling = await ethers.deployContract("ScorerWallet", [s.f.scorer2.address]);
    await s.grantRole(ROLES.scorer, await wallet.getAddress());
    await s.grantRole(ROLES.scorer, await sibling.getAddress());
    const raised = await s.increaseLimit(
      account,
      { productId: PAY_LATER_ID, limit: 1_200_000n, scorer: await wallet.getAddress() },
      { signer: s.f.scorer2, scorer: await sibling.getAddress() }
    );
    expectNamed(await auditStaged(s), ["decisions"], raised);
  });
});

describe("verifier: hash chain", function () {
  it("fails the hash-chain check on an entry whose head is not the hash of its predecessor and payload, naming the entry", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 10_000n);
    const wrong = await s.freezeLine(account, PAY_LATER_ID, 7, { head: hexlify(randomBytes(32)) });
    await s.unfreezeLine(account, PAY_LATER_ID);
    expectNamed(await auditStaged(s), ["hash-chain"], wrong);
  });

  it("fails the hash-chain check on an entry whose amount was altered after it was chained, naming the entry", async function () {
    const { s, account } = await staged();
    const altered = await s.purchase(account, 100_000n, 1, { emitted: { terms: { principal: 1_000n } } });
    await s.purchase(account, 5_000n);
    // The ledger's usage (100,000 + 5,000) also disagrees with the replayed events (1,000 + 5,000).
    expectNamed(await auditStaged(s), ["hash-chain", "balances"], altered);
  });

  it("fails the hash-chain check on entries emitted out of order, naming the first out-of-place entry", async function () {
    const { s, account } = await staged();
    const frozen = await s.freezeLine(account, PAY_LATER_ID, 7, { hold: true });
    const cut = await s.cutLimit(account, PAY_LATER_ID, 800_000n, 1, { hold: true });
    await s.release([cut, frozen]);
    expectNamed(await auditStaged(s), ["hash-chain"], cut);
  });

  it("fails the hash-chain check on an inserted entry that repeats a seq, naming the inserted entry", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 10_000n);
    const inserted = await s.purchase(account, 20_000n, 1, { seq: s.account(account).seq, advance: false });
    await s.purchase(account, 30_000n);
    const report = await auditStaged(s);
    // The inserted drawdown also adds usage and a loan number the ledger never had.
    expect(failingChecks(report), describeFindings(report)).to.include("hash-chain");
    const f = firstFinding(report, "hash-chain");
    expect({ account: f?.account, seq: f?.seq, txHash: f?.txHash }).to.deep.equal({
      account: inserted.account,
      seq: inserted.seq,
      txHash: inserted.txHash,
    });
  });

  it("fails the hash-chain check on a gap in the seq, naming the entry after the gap", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 10_000n);
    const after = await s.purchase(account, 20_000n, 1, { seq: s.account(account).seq + 2n });
    expectNamed(await auditStaged(s), ["hash-chain"], after);
  });

  it("fails the hash-chain check when the ledger's seq and head are past the last event, naming the account", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 10_000n);
    await s.syncViews();
    const a = s.account(account);
    await s.setAccountView(account, { seq: a.seq + 1n, head: hexlify(randomBytes(32)) });
    const report = await auditStaged(s, { sync: false });
    expect(failingChecks(report), describeFindings(report)).to.deep.equal(["hash-chain"]);
    expect(firstFinding(report, "hash-chain")?.account).to.equal(account);
  });
});

describe("verifier: cost ceiling", function () {
  it("fails the cost-ceiling check on a loan whose terms cost more than the product's ceiling, naming the entry", async function () {
    const { s } = await staged();
    const { account } = await s.openAccount();
    await s.grantLine(account, { productId: CASH_LOAN_ID, limit: 1_000_000n, ratePpmPerDay: 2_000n }); // 73 %/year simple
    const drawn = await s.drawCash(account, 500_000n, 6);
    expectNamed(await auditStaged(s), ["cost-ceiling"], drawn);
  });

  it("fails the cost-ceiling check on installment fees above the ceiling after the product's ceiling was lowered, naming the entry", async function () {
    const { s, account } = await staged();
    await s.configureProduct(PAY_LATER_ID, { ...PAY_LATER, costCeilingPpmPerYear: 50_000, penaltyPpmPerDay: 100 });
    const drawn = await s.purchase(account, 300_000n, 3); // 2.3 % over three months is far above 5 %/year
    expectNamed(await auditStaged(s), ["cost-ceiling"], drawn);
  });
});

describe("verifier: one account", function () {
  it("checks only the account asked for: another account's violation is not its finding", async function () {
    const { s, account } = await staged();
    const { account: other } = await s.openAccount();
    await s.grantLine(other, { limit: 100_000n });
    const over = await s.purchase(other, 200_000n);
    await s.purchase(account, 1_000n);
    await s.syncViews();
    const mine = (await audit({ ledger: s.f.address, fromBlock: s.f.deployBlock, account })).report;
    expect(mine.ok, describeFindings(mine)).to.equal(true);
    expect(mine.accounts.map((a) => a.account)).to.deep.equal([account]);
    const theirs = (await audit({ ledger: s.f.address, fromBlock: s.f.deployBlock, account: other })).report;
    expectNamed(theirs, ["limits"], over);
  });
});

describe("verifier: balances", function () {
  it("fails the balances check when a line's usage on the ledger disagrees with the replay, naming the account", async function () {
    const { s, account } = await staged();
    await s.purchase(account, 10_000n);
    await s.syncViews();
    await s.setLineView(account, PAY_LATER_ID, { used: 10_001n });
    const report = await auditStaged(s, { sync: false });
    expect(failingChecks(report), describeFindings(report)).to.deep.equal(["balances"]);
    expect(firstFinding(report, "balances")?.account).to.equal(account);
  });

  it("fails the balances check when a loan's state on the ledger disagrees with the replay, naming the loan", async function () {
    const { s, account } = await staged();
    await s.drawCash(account, 100_000n, 3);
    await s.repay(account, 1, 10_000n, { at: s.dayOfLoan(account, 1, 5) });
    await s.syncViews();
    const loan = s.loan(account, 1);
    await s.setLoanView(account, 1, { state: { principalSettled: loan.state.principalSettled - 1n } });
    const report = await auditStaged(s, { sync: false });
    expect(failingChecks(report), describeFindings(report)).to.deep.equal(["balances"]);
    expect(firstFinding(report, "balances")).to.deep.include({ account, loanNo: 1 });
  });

  it("fails the balances check on a write-off of more principal than was outstanding, naming the entry", async function () {
    const { s, account } = await staged();
    await s.drawCash(account, 100_000n, 3);
    const written = await s.writeOff(account, 1, {
      at: s.dayOfLoan(account, 1, 300),
      fields: (h) => ({ principalWrittenOff: h.principalWrittenOff + 1n }),
    });
    expectNamed(await auditStaged(s), ["balances"], written);
  });
});
