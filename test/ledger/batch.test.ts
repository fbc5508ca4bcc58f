/**
 * `batch`: many ledger operations in one transaction, each by DELEGATECALL to the ledger, so
 * each keeps its own role, pause, `expectedSeq` and `ref` rules; a refused one is undone and
 * recorded as `OperationRefused(account, index, call, reason)`, and the batch goes on.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";
import type { ContractTransactionResponse, LogDescription } from "ethers";

import {
  accountWithLines,
  CASH_LOAN_ID,
  deployLedger,
  makeDecision,
  newAccountId,
  newRef,
  openAccount,
  PAY_LATER_ID,
  purchase,
  seqOf,
  sign,
  type Ledger,
} from "../helpers/fixtures";

const OPERATOR_ROLE = ethers.id("OPERATOR_ROLE");

async function logsOf(l: Ledger, tx: ContractTransactionResponse): Promise<LogDescription[]> {
  const receipt = await tx.wait();
  const address = (await l.ledger.getAddress()).toLowerCase();
  return receipt!.logs
    .filter((log) => log.address.toLowerCase() === address)
    .map((log) => l.ledger.interface.parseLog(log))
    .filter((d): d is LogDescription => d !== null);
}

const refusals = (logs: LogDescription[]) => logs.filter((d) => d.name === "OperationRefused");

/** The refused call's custom error, decoded with the ledger's ABI: name and values. */
function reasonOf(l: Ledger, refusal: LogDescription): { name: string; args: unknown[] } {
  const error = l.ledger.interface.parseError(refusal.args.reason as string);
  if (!error) throw new Error(`undecodable revert data ${refusal.args.reason as string}`);
  return { name: error.name, args: [...error.args] };
}

describe("batch", () => {
  const fixture = () => deployLedger();

  it("applies a batch of mixed kinds over several accounts, each with its own entry and ref", async () => {
    const l = await loadFixture(fixture);
    const a = await accountWithLines(l);
    const b = await accountWithLines(l);
    const loanNo = await purchase(l, b, 100_000n);
    const fresh = newAccountId();
    const i = l.ledger.interface;
    const refs = [newRef(), newRef(), newRef(), newRef(), newRef()];
    const d = await makeDecision(l, a, { productId: PAY_LATER_ID, limit: 1_500_000n });
    const calls = [
      i.encodeFunctionData("openAccount", [fresh, 1, 5_000_000n, refs[0], 0]),
      i.encodeFunctionData("purchase", [a, PAY_LATER_ID, 200_000n, 1, refs[1], await seqOf(l, a)]),
      i.encodeFunctionData("drawCash", [a, CASH_LOAN_ID, 300_000n, 6, 2, refs[2], (await seqOf(l, a)) + 1n]),
      i.encodeFunctionData("repay", [b, loanNo, 40_000n, refs[3], await seqOf(l, b)]),
      i.encodeFunctionData("increaseLimit", [{ ...d, nonce: d.nonce }, l.scorer.address, await sign(l, d), refs[4], (await seqOf(l, a)) + 2n]),
    ];
    const logs = await logsOf(l, await l.asOperator.batch(calls));
    expect(refusals(logs)).to.have.length(0);
    const entries = logs.filter((e) => ["AccountOpened", "Drawn", "Repaid", "LimitIncreased"].includes(e.name));
    expect(entries.map((e) => [e.name, e.args.ref])).to.deep.equal([
      ["AccountOpened", refs[0]],
      ["Drawn", refs[1]],
      ["Drawn", refs[2]],
      ["Repaid", refs[3]],
      ["LimitIncreased", refs[4]],
    ]);
    expect((await l.ledger.accountOf(fresh)).seq).to.equal(1n);
    expect((await l.ledger.lineOf(a, PAY_LATER_ID)).used).to.equal(200_000n);
    expect((await l.ledger.lineOf(a, CASH_LOAN_ID)).used).to.equal(300_000n);
    expect((await l.ledger.lineOf(a, PAY_LATER_ID)).limit).to.equal(1_500_000n);
    expect((await l.ledger.loanOf(b, loanNo))[1].principalSettled).to.equal(40_000n);
  });

  it("records refused operations in the middle as OperationRefused (index, account, call, the custom error with its values) and applies the ones around them", async () => {
    const l = await loadFixture(fixture);
    const [a, b, c, d, e] = [await accountWithLines(l), await accountWithLines(l), await accountWithLines(l), await accountWithLines(l), await accountWithLines(l)];
    const i = l.ledger.interface;
    const seq = 3n; // opened and two lines
    const calls = [
      i.encodeFunctionData("purchase", [a, PAY_LATER_ID, 100_000n, 1, newRef(), seq]),
      i.encodeFunctionData("purchase", [b, PAY_LATER_ID, 100_000n, 1, newRef(), seq + 5n]),
      i.encodeFunctionData("purchase", [c, PAY_LATER_ID, 1_000_001n, 1, newRef(), seq]),
      i.encodeFunctionData("repay", [d, 7, 10_000n, newRef(), seq]),
      i.encodeFunctionData("purchase", [e, PAY_LATER_ID, 100_000n, 1, newRef(), seq]),
    ];
    const logs = await logsOf(l, await l.asOperator.batch(calls));
    const refused = refusals(logs);
    expect(refused.map((r) => [r.args.index, r.args.account, r.args.call])).to.deep.equal([
      [1n, b, calls[1]],
      [2n, c, calls[2]],
      [3n, d, calls[3]],
    ]);
    expect(refused.map((r) => reasonOf(l, r))).to.deep.equal([
      { name: "SeqMismatch", args: [b, seq + 5n, seq] },
      { name: "LimitExceeded", args: [c, BigInt(PAY_LATER_ID), 1_000_001n, 1_000_000n] },
      { name: "UnknownLoan", args: [d, 7n] },
    ]);
    expect(logs.filter((x) => x.name === "Drawn").map((x) => x.args.account)).to.deep.equal([a, e]);
    expect([await seqOf(l, a), await seqOf(l, b), await seqOf(l, c), await seqOf(l, d), await seqOf(l, e)]).to.deep.equal([
      seq + 1n, seq, seq, seq, seq + 1n,
    ]);
    expect((await l.ledger.lineOf(c, PAY_LATER_ID)).used).to.equal(0n);
  });

  it("refuses a later operation of the same account expecting the refused one's seq with SeqMismatch", async () => {
    const l = await loadFixture(fixture);
    const a = await accountWithLines(l);
    const i = l.ledger.interface;
    const calls = [
      i.encodeFunctionData("purchase", [a, PAY_LATER_ID, 2_000_000n, 1, newRef(), 3n]), // over the limit
      i.encodeFunctionData("purchase", [a, PAY_LATER_ID, 100_000n, 1, newRef(), 4n]), // expects the refused one applied
      i.encodeFunctionData("purchase", [a, PAY_LATER_ID, 100_000n, 1, newRef(), 3n]), // at the real seq: applies
    ];
    const logs = await logsOf(l, await l.asOperator.batch(calls));
    expect(refusals(logs).map((r) => [r.args.index, reasonOf(l, r)])).to.deep.equal([
      [0n, { name: "LimitExceeded", args: [a, BigInt(PAY_LATER_ID), 2_000_000n, 1_000_000n] }],
      [1n, { name: "SeqMismatch", args: [a, 4n, 3n] }],
    ]);
    expect(await seqOf(l, a)).to.equal(4n);
  });

  it("refuses a repeat of an applied call in the same batch (its expectedSeq is spent) with SeqMismatch", async () => {
    const l = await loadFixture(fixture);
    const a = await accountWithLines(l);
    const call = l.ledger.interface.encodeFunctionData("purchase", [a, PAY_LATER_ID, 100_000n, 1, newRef(), 3n]);
    const logs = await logsOf(l, await l.asOperator.batch([call, call]));
    expect(refusals(logs).map((r) => [r.args.index, reasonOf(l, r)])).to.deep.equal([[1n, { name: "SeqMismatch", args: [a, 3n, 4n] }]]);
    expect(logs.filter((x) => x.name === "Drawn")).to.have.length(1);
    // and in a later batch too
    const again = await logsOf(l, await l.asOperator.batch([call]));
    expect(refusals(again).map((r) => reasonOf(l, r))).to.deep.equal([{ name: "SeqMismatch", args: [a, 3n, 4n] }]);
  });

  it("applies each call's own pause rule: while paused a purchase is refused with EnforcedPause, a repayment applies", async () => {
    const l = await loadFixture(fixture);
    const a = await accountWithLines(l);
    const loanNo = await purchase(l, a, 100_000n);
    await l.ledger.connect(l.pauser).pause();
    const i = l.ledger.interface;
    const calls = [
      i.encodeFunctionData("purchase", [a, PAY_LATER_ID, 100_000n, 1, newRef(), 4n]),
      i.encodeFunctionData("repay", [a, loanNo, 100_000n, newRef(), 4n]),
      i.encodeFunctionData("openAccount", [newAccountId(), 1, 1_000n, newRef(), 0n]),
    ];
    const logs = await logsOf(l, await l.asOperator.batch(calls));
    expect(refusals(logs).map((r) => [r.args.index, reasonOf(l, r).name])).to.deep.equal([
      [0n, "EnforcedPause"],
      [2n, "EnforcedPause"],
    ]);
    expect(logs.filter((x) => x.name === "Repaid")).to.have.length(1);
  });

  it("refuses a batch from a key without OPERATOR_ROLE with AccessControlUnauthorizedAccount, applying nothing", async () => {
    const l = await loadFixture(fixture);
    const a = await accountWithLines(l);
    const call = l.ledger.interface.encodeFunctionData("purchase", [a, PAY_LATER_ID, 100_000n, 1, newRef(), 3n]);
    await expect(l.ledger.connect(l.stranger).batch([call]))
      .to.be.revertedWithCustomError(l.ledger, "AccessControlUnauthorizedAccount")
      .withArgs(l.stranger.address, OPERATOR_ROLE);
    expect(await seqOf(l, a)).to.equal(3n);
  });

  it("grants nothing a direct call would not: an admin call in the operator's batch is refused with AccessControlUnauthorizedAccount", async () => {
    const l = await loadFixture(fixture);
    const call = l.ledger.interface.encodeFunctionData("grantRole", [OPERATOR_ROLE, l.stranger.address]);
    const logs = await logsOf(l, await l.asOperator.batch([call]));
    expect(refusals(logs).map((r) => reasonOf(l, r))).to.deep.equal([
      { name: "AccessControlUnauthorizedAccount", args: [l.operator.address, ethers.ZeroHash] },
    ]);
    expect(await l.ledger.hasRole(OPERATOR_ROLE, l.stranger.address)).to.equal(false);
  });

  it("refuses a nested batch with NestedBatch, and a selector the ledger does not have with empty revert data", async () => {
    const l = await loadFixture(fixture);
    const a = await openAccount(l);
    const i = l.ledger.interface;
    const inner = i.encodeFunctionData("setExposureCap", [a, 1_000n, newRef(), 1n]);
    const nested = i.encodeFunctionData("batch", [[inner]]);
    const unknown = "0xdeadbeef" + a.slice(2);
    const logs = await logsOf(l, await l.asOperator.batch([nested, unknown]));
    const refused = refusals(logs);
    expect(refused.map((r) => r.args.index)).to.deep.equal([0n, 1n]);
    expect(reasonOf(l, refused[0])).to.deep.equal({ name: "NestedBatch", args: [] });
    expect(refused[1].args.account).to.equal(a);
    expect(refused[1].args.reason).to.equal("0x");
    expect(await seqOf(l, a)).to.equal(1n);
  });

  it("reverts the whole batch when a call runs out of the gas it was given (never a refusal)", async () => {
    const l = await loadFixture(fixture);
    const accounts = [await accountWithLines(l), await accountWithLines(l)];
    const calls = accounts.map((a) => l.ledger.interface.encodeFunctionData("purchase", [a, PAY_LATER_ID, 100_000n, 1, newRef(), 3n]));
    const one = await l.asOperator.batch.estimateGas([calls[0]]);
    // Enough for the first purchase, not for the second.
    await expect(l.asOperator.batch(calls, { gasLimit: one + 20_000n })).to.be.reverted;
    expect([await seqOf(l, accounts[0]), await seqOf(l, accounts[1])]).to.deep.equal([3n, 3n]);
  });
});
