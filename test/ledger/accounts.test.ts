/**
 * Accounts: opening, exposure caps against identity tiers, on-chain idempotency by `seq`, and
 * the per-account hash chain every entry advances.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { AbiCoder, keccak256, ZeroHash, type EventFragment, type Result } from "ethers";

import { EntryKind, entryKindOf, verifyChain, type ChainEntry } from "../../core/hash-chain";
import {
  accountWithLines,
  CASH_LOAN_ID,
  deployLedger,
  drawCash,
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
  restructureArgs,
} from "../helpers/fixtures";

const coder = AbiCoder.defaultAbiCoder();

describe("accounts", () => {
  describe("opening", () => {
    it("opens an account at seq 1 with its tier and exposure cap", async () => {
      const l = await loadFixture(deployLedger);
      const account = newAccountId();
      const ref = newRef();

      await expect(l.asOperator.openAccount(account, 1, 3_000_000n, ref, 0))
        .to.emit(l.ledger, "AccountOpened")
        .withArgs(account, 1, anyValue, ref, 1, 3_000_000n, l.operator.address);

      const a = await l.ledger.accountOf(account);
      expect(a.exists).to.equal(true);
      expect(a.tier).to.equal(1);
      expect(a.exposureCap).to.equal(3_000_000n);
      expect(a.used).to.equal(0n);
      expect(a.seq).to.equal(1n);
      expect(a.decisionNonce).to.equal(0n);
    });

    it("rejects opening an account whose id already exists (a retried open posts once)", async () => {
      const l = await loadFixture(deployLedger);
      const account = newAccountId();
      const ref = newRef();
      await l.asOperator.openAccount(account, 1, 3_000_000n, ref, 0);

      await expect(l.asOperator.openAccount(account, 1, 3_000_000n, ref, 0))
        .to.be.revertedWithCustomError(l.ledger, "AccountExists")
        .withArgs(account);
      expect((await l.ledger.accountOf(account)).seq).to.equal(1n);
    });

    it("rejects the zero account id", async () => {
      const l = await loadFixture(deployLedger);
      await expect(l.asOperator.openAccount(ZeroHash, 1, 3_000_000n, newRef(), 0)).to.be.revertedWithCustomError(
        l.ledger,
        "InvalidAccountId",
      );
    });

    it("rejects opening an account at an expectedSeq other than 0", async () => {
      const l = await loadFixture(deployLedger);
      const account = newAccountId();
      await expect(l.asOperator.openAccount(account, 1, 3_000_000n, newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "SeqMismatch")
        .withArgs(account, 1, 0);
    });

    it("accepts an exposure cap equal to the tier's maximum exposure", async () => {
      const l = await loadFixture(deployLedger);
      const account = newAccountId();
      // Tier 0 (behavioural score only): max exposure 800,000 fen (deploy/defaults.ts).
      await expect(l.asOperator.openAccount(account, 0, 800_000n, newRef(), 0)).to.emit(l.ledger, "AccountOpened");
      expect((await l.ledger.accountOf(account)).exposureCap).to.equal(800_000n);
    });

    it("rejects an exposure cap above the tier's maximum exposure", async () => {
      const l = await loadFixture(deployLedger);
      await expect(l.asOperator.openAccount(newAccountId(), 0, 800_001n, newRef(), 0))
        .to.be.revertedWithCustomError(l.ledger, "TierCapExceeded")
        .withArgs(0, 800_001n, 800_000n);
    });

    it("rejects an identity tier that has no policy", async () => {
      const l = await loadFixture(deployLedger);
      await expect(l.asOperator.openAccount(newAccountId(), 3, 1_000n, newRef(), 0))
        .to.be.revertedWithCustomError(l.ledger, "UnknownTier")
        .withArgs(3);
    });
  });

  describe("exposure cap", () => {
    it("changes the exposure cap and records the previous cap, the new cap and who changed it", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l, 1, 8_000_000n);
      const ref = newRef();

      await expect(l.asOperator.setExposureCap(account, 5_000_000n, ref, 1))
        .to.emit(l.ledger, "ExposureCapChanged")
        .withArgs(account, 2, anyValue, ref, 8_000_000n, 5_000_000n, l.operator.address);
      expect((await l.ledger.accountOf(account)).exposureCap).to.equal(5_000_000n);
    });

    it("rejects an exposure cap change above the tier's maximum exposure", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l, 1, 1_000_000n);
      // Tier 1: max exposure 8,000,000 fen.
      await expect(l.asOperator.setExposureCap(account, 8_000_001n, newRef(), 1))
        .to.be.revertedWithCustomError(l.ledger, "TierCapExceeded")
        .withArgs(1, 8_000_001n, 8_000_000n);
    });

    it("lowers the exposure cap while paused (a cut only reduces risk)", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l, 1, 8_000_000n);
      await l.ledger.connect(l.pauser).pause();
      await expect(l.asOperator.setExposureCap(account, 5_000_000n, newRef(), 1)).to.emit(l.ledger, "ExposureCapChanged");
      expect((await l.ledger.accountOf(account)).exposureCap).to.equal(5_000_000n);
    });

    it("rejects raising the exposure cap while paused", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l, 1, 5_000_000n);
      await l.ledger.connect(l.pauser).pause();
      await expect(l.asOperator.setExposureCap(account, 6_000_000n, newRef(), 1)).to.be.revertedWithCustomError(
        l.ledger,
        "EnforcedPause",
      );
    });

    it("rejects a change to an account that does not exist", async () => {
      const l = await loadFixture(deployLedger);
      const unknown = newAccountId();
      await expect(l.asOperator.setExposureCap(unknown, 1_000n, newRef(), 0))
        .to.be.revertedWithCustomError(l.ledger, "UnknownAccount")
        .withArgs(unknown);
    });
  });

  describe("idempotency by seq", () => {
    it("applies a call at the account's current seq and advances seq by one", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l); // open + two grants: seq 3
      expect(await seqOf(l, account)).to.equal(3n);

      await l.asOperator.purchase(account, PAY_LATER_ID, 100_000n, 1, newRef(), 3);

      expect(await seqOf(l, account)).to.equal(4n);
      expect((await l.ledger.accountOf(account)).loanCount).to.equal(1n);
    });

    it("rejects a retried drawdown with SeqMismatch, so it posts only once", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      const ref = newRef();
      await l.asOperator.purchase(account, PAY_LATER_ID, 100_000n, 1, ref, 3);

      await expect(l.asOperator.purchase(account, PAY_LATER_ID, 100_000n, 1, ref, 3))
        .to.be.revertedWithCustomError(l.ledger, "SeqMismatch")
        .withArgs(account, 3, 4);

      const a = await l.ledger.accountOf(account);
      expect(a.loanCount).to.equal(1n);
      expect(a.used).to.equal(100_000n);
      expect((await l.ledger.lineOf(account, PAY_LATER_ID)).used).to.equal(100_000n);
    });

    it("rejects a retried repayment with SeqMismatch, so it is applied only once", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      const loanNo = await purchase(l, account, 100_000n);
      const seq = await seqOf(l, account);
      const ref = newRef();
      await l.asOperator.repay(account, loanNo, 40_000n, ref, seq);

      await expect(l.asOperator.repay(account, loanNo, 40_000n, ref, seq))
        .to.be.revertedWithCustomError(l.ledger, "SeqMismatch")
        .withArgs(account, seq, seq + 1n);
      const [, state] = await l.ledger.loanOf(account, loanNo);
      expect(state.principalSettled).to.equal(40_000n);
    });

    it("rejects a call that names a future seq", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      await expect(l.asOperator.setExposureCap(account, 1_000n, newRef(), 5))
        .to.be.revertedWithCustomError(l.ledger, "SeqMismatch")
        .withArgs(account, 5, 1);
    });
  });

  describe("hash chain", () => {
    it("chains the first entry as keccak256(abi.encode(0, 1, AccountOpened, keccak256(payload)))", async () => {
      const l = await loadFixture(deployLedger);
      const account = newAccountId();
      const ref = newRef();
      await l.asOperator.openAccount(account, 2, 9_000_000n, ref, 0);

      const payloadHash = keccak256(
        coder.encode(["bytes32", "bytes32", "uint8", "uint64", "address"], [account, ref, 2, 9_000_000n, l.operator.address]),
      );
      const head = keccak256(
        coder.encode(["bytes32", "uint64", "uint8", "bytes32"], [ZeroHash, 1n, EntryKind.AccountOpened, payloadHash]),
      );
      const a = await l.ledger.accountOf(account);
      expect(a.head).to.equal(head);
    });

    it("carries seq and head in every kind of entry, so the events rebuild the on-chain head", async () => {
      const l = await loadFixture(deployLedger);
      const account = await openAccount(l);
      const op = l.asOperator;
      const decline = await makeDecision(l, account, { productId: CASH_LOAN_ID, approved: false, limit: 0n });
      await op.recordDecline(decline, l.scorer.address, await sign(l, decline), newRef(), await seqOf(l, account));
      await grantLine(l, account, { productId: PAY_LATER_ID, limit: 1_000_000n });
      await grantLine(l, account, { productId: CASH_LOAN_ID, limit: 2_000_000n, ratePpmPerDay: 500n });
      const raise = await makeDecision(l, account, { productId: PAY_LATER_ID, limit: 1_500_000n });
      await op.increaseLimit(raise, l.scorer.address, await sign(l, raise), newRef(), await seqOf(l, account));
      await op.cutLimit(account, PAY_LATER_ID, 1_200_000n, 3, newRef(), await seqOf(l, account));
      await op.setExposureCap(account, 7_000_000n, newRef(), await seqOf(l, account));
      await op.freezeLine(account, PAY_LATER_ID, 7, newRef(), await seqOf(l, account));
      await op.unfreezeLine(account, PAY_LATER_ID, 8, newRef(), await seqOf(l, account));
      const installments = await purchase(l, account, 300_000n, 3);
      await op.refund(account, installments, 100_000n, newRef(), await seqOf(l, account));
      await repay(l, account, installments, 10_000n);
      const cash = await drawCash(l, account, 600_000n, 6, 1);
      await op.restructure(...(await restructureArgs(l, account, cash, 12, 30, 400)), newRef(), await seqOf(l, account));
      const single = await purchase(l, account, 100_000n, 1);
      await time.increase(221 * 86_400); // the single purchase is > 180 days past its day-40 due date
      await op.writeOff(account, single, newRef(), await seqOf(l, account));

      const entries = await chainEntries(l, account);
      expect(entries.map((e) => e.kind)).to.deep.equal([
        EntryKind.AccountOpened,
        EntryKind.DecisionDeclined,
        EntryKind.LineGranted,
        EntryKind.LineGranted,
        EntryKind.LimitIncreased,
        EntryKind.LimitCut,
        EntryKind.ExposureCapChanged,
        EntryKind.LineFrozen,
        EntryKind.LineUnfrozen,
        EntryKind.Drawn,
        EntryKind.Refunded,
        EntryKind.Repaid,
        EntryKind.Drawn,
        EntryKind.Restructured,
        EntryKind.Drawn,
        EntryKind.WrittenOff,
      ]);
      const a = await l.ledger.accountOf(account);
      expect(verifyChain(entries, { seq: a.seq, head: a.head })).to.deep.equal({ ok: true, seq: 16n, head: a.head });
    });

    it("makes a changed entry detectable against the on-chain head", async () => {
      const l = await loadFixture(deployLedger);
      const account = await accountWithLines(l);
      await purchase(l, account, 300_000n, 3);

      const entries = await chainEntries(l, account);
      const tampered = entries.map((e, i) => (i === 3 ? { ...e, payloadHash: keccak256("0x01") } : e));
      const a = await l.ledger.accountOf(account);
      expect(verifyChain(entries, { seq: a.seq, head: a.head }).ok).to.equal(true);
      expect(verifyChain(tampered, { seq: a.seq, head: a.head }).ok).to.equal(false);
    });

    it("keeps other accounts' chains separate", async () => {
      const l = await loadFixture(deployLedger);
      const first = await openAccount(l);
      const second = await openAccount(l);
      await grantLine(l, first);

      expect(await seqOf(l, first)).to.equal(2n);
      expect(await seqOf(l, second)).to.equal(1n);
    });
  });
});

/** The account's entries rebuilt from the ledger's events (seq, kind, payload hash, head). */
async function chainEntries(l: Ledger, account: string): Promise<ChainEntry[]> {
  const logs = await l.ledger.runner!.provider!.getLogs({ address: await l.ledger.getAddress(), fromBlock: 0 });
  const entries: ChainEntry[] = [];
  for (const log of logs) {
    const parsed = l.ledger.interface.parseLog(log);
    if (!parsed) continue;
    const kind = entryKindOf(parsed.name);
    if (kind === undefined || parsed.args.account !== account) continue;
    entries.push({
      seq: parsed.args.seq as bigint,
      kind,
      payloadHash: payloadHash(parsed.fragment as EventFragment, parsed.args),
      head: parsed.args.head as string,
    });
  }
  return entries.sort((a, b) => (a.seq < b.seq ? -1 : 1));
}

/**
 * keccak256(abi.encode(<the event's fields except seq and head>)), as ICreditLedger documents.
 * (Written here rather than taken from core/hash-chain.ts, whose payloadHashOf passes
 * `format("full")` types such as "bytes32 indexed account" to the ABI coder, which rejects them.)
 */
function payloadHash(fragment: EventFragment, args: Result): string {
  const types: string[] = [];
  const values: unknown[] = [];
  fragment.inputs.forEach((input, i) => {
    if (input.name === "seq" || input.name === "head") return;
    types.push(input.format("sighash"));
    values.push(args[i]);
  });
  return keccak256(coder.encode(types, values));
}
