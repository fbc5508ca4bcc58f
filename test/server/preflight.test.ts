/**
 * The pre-flight simulates a call that needs a scorer's decision with the decision unsigned:
 * the ledger checks the signature last, so a refusal for the signature alone means every other
 * rule passes. It never makes a real signature (one would reach the RPC provider before the
 * operation is even accepted).
 *
 * A call without a decision is simulated with the seq the read model holds, in one eth_call; a
 * read model behind the chain costs a second simulation with the seq the ledger's SeqMismatch
 * names, and the answer is always the ledger's for the call as it would be sent.
 */
import { expect } from "chai";
import hre, { ethers, network } from "hardhat";
import { TASK_NODE_CREATE_SERVER } from "hardhat/builtin-tasks/task-names";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import type { DecisionDraft } from "../../core/decision";
import { startRpcCounter } from "../../scripts/lib/rpc-counter";
import { LedgerClient } from "../../server/chain/ledger-client";
import { batchingRpc } from "../../server/gateway";
import { Preflight } from "../../server/lending/preflight";
import type { Reach } from "../../server/lending/reach";
import type { AccountSnapshot, Store } from "../../server/store/store";
import { LedgerRefusal } from "../../server/errors";
import { deployLedger, drawCash, accountWithLines, CASH_LOAN_ID, DAY, FEATURES_HASH, MODEL_ID, newRef, openAccount, PAY_LATER_ID, purchase, repay, seqOf, type Ledger } from "../helpers/fixtures";

/** ethers' provider, counting the eth_calls made through it (views and simulations alike). */
function countingProvider() {
  const count = { calls: 0 };
  const provider = new Proxy(ethers.provider, {
    get(target, name) {
      if (name === "call") {
        return (tx: Parameters<typeof target.call>[0]) => {
          count.calls += 1;
          return target.call(tx);
        };
      }
      const value = Reflect.get(target, name, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { provider, count };
}

/** A pre-flight on `l`'s ledger; `readModelSeq` is the seq the read model holds for every account (undefined: it has none). */
async function preflightOn(l: Ledger, readModel: { seq?: bigint } = {}) {
  const { provider, count } = countingProvider();
  const client = new LedgerClient({
    provider,
    ledgerAddress: await l.ledger.getAddress(),
    operatorAddress: l.operator.address,
    chainId: (await ethers.provider.getNetwork()).chainId,
  });
  const store = {
    openStepsOf: async () => [],
    accountSnapshot: async (accountId: string): Promise<AccountSnapshot | undefined> =>
      readModel.seq === undefined ? undefined : ({ accountId, account: { seq: readModel.seq }, block: 0 } as unknown as AccountSnapshot),
  } as unknown as Store;
  // The scorer's address only: the pre-flight has no signer it could ask.
  const preflight = new Preflight(client, store, {} as Reach, l.scorer.address);
  return { preflight, count };
}

const refusalOf = (work: Promise<unknown>): Promise<unknown> =>
  work.then(
    () => expect.fail("the pre-flight passed"),
    (e: unknown) => e
  );

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

describe("pre-flight of calls without a decision: the seq from the read model", function () {
  const purchaseCall = (account: string, amount: bigint) => ({ fn: "purchase" as const, account, productId: PAY_LATER_ID, amount, periods: 1 });

  it("simulates with the read model's seq in one eth_call, no read of the account, and returns the ledger's result", async function () {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    const { preflight, count } = await preflightOn(l, { seq: await seqOf(l, account) });
    const result = (await preflight.check(purchaseCall(account, 10_000n))) as { loanNo: bigint };
    expect(result.loanNo, "the loan number the purchase would get").to.equal(1n);
    expect(count.calls).to.equal(1);
    expect(preflight.seqSources).to.deep.equal({ "read model": 1, chain: 0 });
  });

  it("answers with the ledger's verdict when the read model is behind the chain: simulated again with the seq SeqMismatch names", async function () {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    const stale = await seqOf(l, account);
    await purchase(l, account, 10_000n); // on-chain, not yet indexed
    const { preflight, count } = await preflightOn(l, { seq: stale });
    const result = (await preflight.check(purchaseCall(account, 10_000n))) as { loanNo: bigint };
    expect(result.loanNo).to.equal(2n);
    expect(count.calls, "the stale simulation and the one with the actual seq").to.equal(2);
    expect(preflight.seqSources).to.deep.equal({ "read model": 0, chain: 1 });
  });

  it("refuses a purchase above the limit with LimitExceeded (with its values), whether the read model's seq is current or behind", async function () {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    const current = await seqOf(l, account);
    for (const seq of [current, current - 1n]) {
      const { preflight } = await preflightOn(l, { seq });
      const refusal = await refusalOf(preflight.check(purchaseCall(account, 1_000_001n)));
      expect(refusal).to.be.instanceOf(LedgerRefusal);
      expect((refusal as LedgerRefusal).revert.name, `read model at seq ${seq}`).to.equal("LimitExceeded");
      expect((refusal as LedgerRefusal).revert.args).to.deep.include({ requested: 1_000_001n, available: 1_000_000n });
    }
  });

  it("reads the account from the chain when the read model does not have it (not indexed yet)", async function () {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    const { preflight, count } = await preflightOn(l);
    const loanNo = await purchase(l, account, 10_000n);
    await repay(l, account, loanNo, 100n);
    expect(await preflight.check({ fn: "repay", account, loanNo: Number(loanNo), amount: 100n })).to.be.an("object");
    expect(count.calls, "the account read, then the simulation").to.equal(2);
    expect(preflight.seqSources).to.deep.equal({ "read model": 0, chain: 1 });
  });

  it("never reports a stale seq as a refusal: a read model ahead of the chain (a reorg) gets the ledger's answer too", async function () {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    const { preflight } = await preflightOn(l, { seq: (await seqOf(l, account)) + 5n });
    const result = (await preflight.check(purchaseCall(account, 10_000n))) as { loanNo: bigint };
    expect(result.loanNo).to.equal(1n);
    expect(preflight.seqSources).to.deep.equal({ "read model": 0, chain: 1 });
  });
});

describe("pre-flight over JSON-RPC: concurrent simulations coalesced", function () {
  it("sends the simulations of concurrent requests in one JSON-RPC batch, each answered on its own: passes with their results, a refusal with its values", async function () {
    const l = await loadFixture(deployLedger);
    const accounts = [await accountWithLines(l), await accountWithLines(l), await accountWithLines(l), await accountWithLines(l)];
    const seqs = await Promise.all(accounts.map((a) => seqOf(l, a)));
    const server = await hre.run(TASK_NODE_CREATE_SERVER, { hostname: "127.0.0.1", port: 0, provider: network.provider });
    const { address, port } = (await server.listen()) as { address: string; port: number };
    const counter = await startRpcCounter(`http://${address}:${port}`);
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const provider = batchingRpc(counter.url, chainId, 20);
    try {
      const client = new LedgerClient({ provider, ledgerAddress: await l.ledger.getAddress(), operatorAddress: l.operator.address, chainId });
      const store = {
        openStepsOf: async () => [],
        accountSnapshot: async (accountId: string) => ({ accountId, account: { seq: seqs[accounts.indexOf(accountId)] }, block: 0 }),
      } as unknown as Store;
      const preflight = new Preflight(client, store, {} as Reach, l.scorer.address);
      const amounts = [10_000n, 20_000n, 1_000_001n, 30_000n];
      const answers = await Promise.all(
        accounts.map((account, i) =>
          preflight.check({ fn: "purchase", account, productId: PAY_LATER_ID, amount: amounts[i], periods: 1 }).then(
            (result) => ({ ok: result as { loanNo: bigint } }),
            (error: unknown) => ({ refused: error as LedgerRefusal })
          )
        )
      );
      const n = counter.counts().calls;
      expect(answers[0]).to.deep.equal({ ok: { loanNo: 1n } });
      expect(answers[1]).to.deep.equal({ ok: { loanNo: 1n } });
      expect(answers[3]).to.deep.equal({ ok: { loanNo: 1n } });
      const refusal = (answers[2] as { refused: LedgerRefusal }).refused;
      expect(refusal).to.be.instanceOf(LedgerRefusal);
      expect(refusal.revert.name).to.equal("LimitExceeded");
      expect(refusal.revert.args).to.deep.include({ requested: 1_000_001n, available: 1_000_000n });
      expect(n, "four simulations").to.equal(4);
      expect(counter.counts().httpRequests, "in one JSON-RPC batch").to.equal(1);
    } finally {
      provider.destroy();
      await counter.close();
      await server.close();
    }
  });
});
