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
import type { DecisionSigner } from "../../server/chain/scorer-client";
import { Preflight } from "../../server/lending/preflight";
import type { Reach } from "../../server/lending/reach";
import type { Store } from "../../server/store/store";
import { LedgerRefusal } from "../../server/errors";
import { deployLedger, drawCash, accountWithLines, FEATURES_HASH, MODEL_ID, openAccount, PAY_LATER_ID, type Ledger } from "../helpers/fixtures";

/** A scorer that counts every signature asked of it (and signs nothing). */
function spyScorer(address: string): { scorer: DecisionSigner; signatures: () => number } {
  let count = 0;
  const scorer: DecisionSigner = {
    sign: () => {
      count += 1;
      return Promise.reject(new Error("the pre-flight must not ask for a signature"));
    },
    scorerAddress: async () => address,
  };
  return { scorer, signatures: () => count };
}

async function preflightOn(l: Ledger) {
  const spy = spyScorer(l.scorer.address);
  const client = new LedgerClient({
    provider: ethers.provider,
    ledgerAddress: await l.ledger.getAddress(),
    operatorAddress: l.operator.address,
    chainId: (await ethers.provider.getNetwork()).chainId,
  });
  const store = { openStepsOf: async () => [] } as unknown as Store;
  const preflight = new Preflight(client, store, {} as Reach, spy.scorer);
  return { preflight, signatures: spy.signatures };
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
  it("passes a grant that breaks no rule without asking the scorer for a signature", async function () {
    const l = await loadFixture(deployLedger);
    const account = await openAccount(l);
    const { preflight, signatures } = await preflightOn(l);
    expect(await preflight.check({ fn: "grantLine", decision: draft(account), scorerDecision: "scored-1" })).to.equal(undefined);
    expect(signatures()).to.equal(0);
  });

  it("reports a grant above the tier's cap as TierCapExceeded without asking the scorer for a signature", async function () {
    const l = await loadFixture(deployLedger);
    const account = await openAccount(l);
    const { preflight, signatures } = await preflightOn(l);
    const refusal = await preflight.check({ fn: "grantLine", decision: draft(account, { limit: 6_000_000n }), scorerDecision: "scored-2" }).then(
      () => undefined,
      (e: unknown) => e
    );
    expect(refusal).to.be.instanceOf(LedgerRefusal);
    expect((refusal as LedgerRefusal).revert.name).to.equal("TierCapExceeded");
    expect(signatures()).to.equal(0);
  });

  it("reports a restructure that shortens the term as InvalidRestructure without asking the scorer for a signature", async function () {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    const loanNo = await drawCash(l, account, 600_000n, 6);
    await time.increase(60);
    const { preflight, signatures } = await preflightOn(l);
    const call = { fn: "restructure" as const, account, loanNo: Number(loanNo), newPeriods: 1, holidayDays: 0, newRatePpmPerDay: 500n };
    const refusal = await preflight.check(call).then(
      () => undefined,
      (e: unknown) => e
    );
    expect(refusal).to.be.instanceOf(LedgerRefusal);
    expect((refusal as LedgerRefusal).revert.name).to.equal("InvalidRestructure");
    expect(await preflight.check({ ...call, newPeriods: 12 })).to.equal(undefined);
    expect(signatures()).to.equal(0);
  });
});
