/**
 * The pre-flight simulates a call that needs a scorer's decision with the decision unsigned:
 * the ledger checks the signature last, so a refusal for the signature alone means every other
 * rule passes. It never makes a real signature (one would reach the RPC provider before the
 * operation is even accepted).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import type { DecisionDraft } from "../../core/decision";
import { LedgerClient } from "../../server/chain/ledger-client";
import { Preflight } from "../../server/lending/preflight";
import type { Reach } from "../../server/lending/reach";
import type { Store } from "../../server/store/store";
import { LedgerRefusal } from "../../server/errors";
import { deployLedger, drawCash, accountWithLines, CASH_LOAN_ID, DAY, FEATURES_HASH, MODEL_ID, newRef, openAccount, PAY_LATER_ID, type Ledger } from "../helpers/fixtures";

async function preflightOn(l: Ledger) {
  const client = new LedgerClient({
    provider: ethers.provider,
    ledgerAddress: await l.ledger.getAddress(),
    operatorAddress: l.operator.address,
    chainId: (await ethers.provider.getNetwork()).chainId,
  });
  const store = { openStepsOf: async () => [] } as unknown as Store;
  // The scorer's address only: the pre-flight has no signer it could ask.
  const preflight = new Preflight(client, store, {} as Reach, l.scorer.address);
  return { preflight };
}

const draft = (account: string, overrides: Partial<DecisionDraft> = {}): DecisionDraft => ({
  account,
  productId: PAY_LATER_ID,
  approved: true,
  tier: 1,
  score: 720,
  limit: 1_000_000n,
  limitExpiry: 0n,
  ratePpmPerDay: 0n,
  modelId: MODEL_ID,
  featuresHash: FEATURES_HASH,
  reasonCodes: [0, 0, 0, 0],
  ...overrides,
});

describe("pre-flight of decision calls", function () {
  it("passes a grant that breaks no rule from an unsigned decision (the pre-flight holds no signer)", async function () {
    const l = await loadFixture(deployLedger);
    const account = await openAccount(l);
    const { preflight } = await preflightOn(l);
    expect(await preflight.check({ fn: "grantLine", decision: draft(account), scorerDecision: "scored-1" })).to.equal(undefined);
  });

  it("reports a grant above the tier's cap as TierCapExceeded from an unsigned decision (the pre-flight holds no signer)", async function () {
    const l = await loadFixture(deployLedger);
    const account = await openAccount(l);
    const { preflight } = await preflightOn(l);
    const refusal = await preflight.check({ fn: "grantLine", decision: draft(account, { limit: 6_000_000n }), scorerDecision: "scored-2" }).then(
      () => undefined,
      (e: unknown) => e
    );
    expect(refusal).to.be.instanceOf(LedgerRefusal);
    expect((refusal as LedgerRefusal).revert.name).to.equal("TierCapExceeded");
  });

  it("reports a restructure that shortens the term as InvalidRestructure from an unsigned decision (the pre-flight holds no signer)", async function () {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    const loanNo = await drawCash(l, account, 600_000n, 6);
    await time.increase(60);
    const { preflight } = await preflightOn(l);
    const call = { fn: "restructure" as const, account, loanNo: Number(loanNo), newPeriods: 1, holidayDays: 0, newRatePpmPerDay: 500n };
    const refusal = await preflight.check(call).then(
      () => undefined,
      (e: unknown) => e
    );
    expect(refusal).to.be.instanceOf(LedgerRefusal);
    expect((refusal as LedgerRefusal).revert.name).to.equal("InvalidRestructure");
    expect(await preflight.check({ ...call, newPeriods: 12 })).to.equal(undefined);
  });

  it("reports a reinstatement of a line that is not frozen as FreezeStateUnchanged, and passes one of a write-off freeze, from an unsigned decision", async function () {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    const loanNo = await drawCash(l, account, 600_000n, 6);
    const { preflight } = await preflightOn(l);
    const call = { fn: "reinstateLine" as const, account, productId: CASH_LOAN_ID };
    const refusal = await preflight.check(call).then(
      () => undefined,
      (e: unknown) => e
    );
    expect(refusal).to.be.instanceOf(LedgerRefusal);
    expect((refusal as LedgerRefusal).revert.name).to.equal("FreezeStateUnchanged");
    const [terms] = await l.ledger.loanOf(account, loanNo);
    await time.increaseTo(terms.startTime + (terms.firstDueDay + terms.writeOffDays + 1n) * BigInt(DAY));
    await l.asOperator.writeOff(account, loanNo, newRef(), (await l.ledger.accountOf(account)).seq);
    expect(await preflight.check(call)).to.equal(undefined);
  });
});
