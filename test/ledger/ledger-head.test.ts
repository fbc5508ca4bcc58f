/**
 * The ledger-wide chain (`ICreditLedger.ledgerHead`): every account entry and every
 * ledger-wide event (roles, pause, products, tiers) advances one seq and head, each followed
 * by `LedgerAdvanced`, and the mirror (`core/hash-chain.ts`) recomputes `ledgerHead()` from
 * the logs alone. A differential test runs random histories and compares after every step.
 */
import { expect } from "chai";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";
import { ZeroHash, type Log } from "ethers";

import { LedgerHeadMirror, nextLedgerHead, ledgerEventEntryHead, LedgerEventKind } from "../../core/hash-chain";
import { PAY_LATER, TIERS } from "../../deploy/defaults";
import {
  accountWithLines,
  deployLedger,
  grantLine,
  newAccountId,
  newRef,
  openAccount,
  PAY_LATER_ID,
  purchase,
  repay,
  seqOf,
  type Ledger,
} from "../helpers/fixtures";
import { fuzzParameters, fuzzRuns, fuzzTimeout } from "../helpers/fuzz";

const OPERATOR_ROLE = ethers.id("OPERATOR_ROLE");

/** Every log of the ledger since its deployment, in order. */
async function ledgerLogs(l: Ledger): Promise<Log[]> {
  return ethers.provider.getLogs({ address: await l.ledger.getAddress(), fromBlock: 0, toBlock: "latest" });
}

/**
 * Fold the mirror over the logs, checking that every entry's event is followed, at the next
 * log index of the same transaction, by the LedgerAdvanced the mirror computes.
 */
function replay(l: Ledger, logs: Log[]): { seq: bigint; head: string; entries: number } {
  const mirror = new LedgerHeadMirror();
  let entries = 0;
  let covered = true;
  for (let i = 0; i < logs.length; i++) {
    const parsed = l.ledger.interface.parseLog(logs[i]);
    if (!parsed) throw new Error(`unknown log at ${i}`);
    const expected = mirror.apply(parsed.name, parsed.fragment, parsed.args);
    if (parsed.name === "LedgerAdvanced") {
      // A LedgerAdvanced only ever right after the entry it covers (checked there), never alone.
      expect(covered, `stray LedgerAdvanced at log ${i}`).to.equal(false);
      covered = true;
      continue;
    }
    if (!expected) continue;
    covered = false;
    entries++;
    const next = logs[i + 1];
    expect(next, `${parsed.name} at log ${i} is the last log`).to.not.equal(undefined);
    expect([next.transactionHash, next.index]).to.deep.equal([logs[i].transactionHash, logs[i].index + 1]);
    const advanced = l.ledger.interface.parseLog(next);
    expect(advanced?.name, `after ${parsed.name}`).to.equal("LedgerAdvanced");
    expect([advanced!.args.ledgerSeq, advanced!.args.ledgerHead]).to.deep.equal([expected.seq, expected.head]);
  }
  return { seq: mirror.seq, head: mirror.head, entries };
}

async function expectMirrorMatches(l: Ledger): Promise<{ seq: bigint; entries: number }> {
  const r = replay(l, await ledgerLogs(l));
  const [seq, head] = await l.ledger.ledgerHead();
  expect([seq, head]).to.deep.equal([r.seq, r.head]);
  expect(r.entries).to.equal(Number(seq));
  return r;
}

describe("ledger head", () => {
  const fixture = () => deployLedger({ adminDelay: 0 });

  it("counts the constructor's grant of DEFAULT_ADMIN_ROLE as entry 1", async () => {
    const [admin] = await ethers.getSigners();
    const ledger = await (
      await ethers.getContractFactory("CreditLedger", {
        libraries: { LoanServicing: await (await ethers.deployContract("LoanServicing")).getAddress() },
      })
    ).deploy(admin.address, 0);
    const fragment = ledger.interface.getEvent("RoleGranted");
    const entryHead = ledgerEventEntryHead(LedgerEventKind.RoleGranted, fragment, [ZeroHash, admin.address, admin.address]);
    expect(await ledger.ledgerHead()).to.deep.equal([1n, nextLedgerHead(ZeroHash, 1n, ZeroHash, entryHead)]);
  });

  it("is recomputed by the mirror from the logs of a mixed history (accounts, roles, pause, products, tiers, an admin hand-over, batches)", async () => {
    const l = await loadFixture(fixture);
    const a = await accountWithLines(l);
    const loanNo = await purchase(l, a, 100_000n);
    await repay(l, a, loanNo, 50_000n);
    const admin = l.ledger.connect(l.admin);
    await admin.grantRole(OPERATOR_ROLE, l.stranger.address);
    await admin.revokeRole(OPERATOR_ROLE, l.stranger.address);
    await admin.configureProduct(PAY_LATER_ID, { ...PAY_LATER, graceDays: 40 });
    await admin.setTierPolicy(1, { ...TIERS[1], maxExposure: TIERS[1].maxExposure + 1n });
    await l.ledger.connect(l.pauser).pause();
    await repay(l, a, loanNo, 10_000n);
    await l.ledger.connect(l.pauser).unpause();
    const i = l.ledger.interface;
    const b = newAccountId();
    await l.asOperator.batch([
      i.encodeFunctionData("openAccount", [b, 1, 1_000_000n, newRef(), 0n]),
      i.encodeFunctionData("purchase", [a, PAY_LATER_ID, 10_000n, 1, newRef(), 99n]), // refused: no entry
      i.encodeFunctionData("repay", [a, loanNo, 40_000n, newRef(), await seqOf(l, a)]),
    ]);
    // The two-step admin hand-over: its acceptance revokes and grants DEFAULT_ADMIN_ROLE.
    await admin.beginDefaultAdminTransfer(l.stranger.address);
    await time.increase(1);
    await l.ledger.connect(l.stranger).acceptDefaultAdminTransfer();
    const r = await expectMirrorMatches(l);
    expect(r.entries).to.be.greaterThan(10);
  });

  it("fails the mirror when one entry's log is left out (a hidden account entry changes the head)", async () => {
    const l = await loadFixture(fixture);
    const a = await openAccount(l);
    await grantLine(l, a);
    const logs = await ledgerLogs(l);
    const opened = logs.findIndex((log) => l.ledger.interface.parseLog(log)?.name === "AccountOpened");
    const hidden = logs.filter((_, i) => i !== opened && i !== opened + 1);
    const mirror = new LedgerHeadMirror();
    for (const log of hidden) {
      const parsed = l.ledger.interface.parseLog(log)!;
      mirror.apply(parsed.name, parsed.fragment, parsed.args);
    }
    const [seq, head] = await l.ledger.ledgerHead();
    expect(mirror.seq).to.equal(seq - 1n);
    expect(mirror.head).to.not.equal(head);
    // and the LedgerAdvanced after the first entry following the gap disagrees with the fold
    expect(() => replay(l, hidden)).to.throw(/expected \[/);
  });

  it("agrees with the mirror after every step of random histories (differential)", async function () {
    this.timeout(fuzzTimeout(240_000));
    const l = await loadFixture(fixture);
    const op = fc.oneof(
      fc.constant("open" as const),
      fc.constant("grant" as const),
      fc.record({ kind: fc.constant("purchase" as const), amount: fc.bigInt({ min: 1n, max: 1_200_000n }) }),
      fc.constant("repay" as const),
      fc.constant("pause" as const),
      fc.constant("role" as const),
      fc.constant("product" as const),
      fc.constant("tier" as const),
      fc.record({ kind: fc.constant("batch" as const), size: fc.integer({ min: 1, max: 6 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 3, maxLength: 12 }), async (ops) => {
        const accounts: string[] = [];
        const loans: [string, bigint][] = [];
        let paused = false;
        for (const o of ops) {
          const kind = typeof o === "string" ? o : o.kind;
          const i = l.ledger.interface;
          try {
            if (kind === "open") accounts.push(await openAccount(l));
            else if (kind === "grant" && accounts.length) await grantLine(l, accounts[accounts.length - 1]);
            else if (kind === "purchase" && accounts.length && typeof o !== "string" && o.kind === "purchase") {
              const a = accounts[0];
              const loanNo = await purchase(l, a, o.amount);
              loans.push([a, loanNo]);
            } else if (kind === "repay" && loans.length) await repay(l, loans[0][0], loans[0][1], 1n);
            else if (kind === "pause") {
              await (paused ? l.ledger.connect(l.pauser).unpause() : l.ledger.connect(l.pauser).pause());
              paused = !paused;
            } else if (kind === "role") await l.ledger.connect(l.admin).grantRole(OPERATOR_ROLE, ethers.Wallet.createRandom().address);
            else if (kind === "product") await l.ledger.connect(l.admin).configureProduct(PAY_LATER_ID, PAY_LATER);
            else if (kind === "tier") await l.ledger.connect(l.admin).setTierPolicy(1, TIERS[1]);
            else if (kind === "batch" && typeof o !== "string" && o.kind === "batch") {
              const calls = [];
              for (let k = 0; k < o.size; k++) {
                const a = accounts.length ? accounts[k % accounts.length] : newAccountId();
                calls.push(
                  k % 2 === 0
                    ? i.encodeFunctionData("openAccount", [newAccountId(), 1, 1_000n, newRef(), 0n])
                    : i.encodeFunctionData("purchase", [a, PAY_LATER_ID, 1_000n, 1, newRef(), 0n]),
                );
              }
              await l.asOperator.batch(calls);
            }
          } catch (error) {
            // A refused direct call (over the limit, paused) records nothing; the head must still agree.
            if (!String(error).includes("reverted")) throw error;
          }
          const logs = await ledgerLogs(l);
          const r = replay(l, logs);
          expect(await l.ledger.ledgerHead()).to.deep.equal([r.seq, r.head]);
        }
      }),
      fuzzParameters(fuzzRuns(8)),
    );
  });
});
