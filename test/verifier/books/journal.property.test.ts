/**
 * The auditor's books balance and agree with the ledger's own views (issue 14): on random
 * operation histories on the real ledger (purchases single and in installments, merchant
 * refunds, cash loans, repayments, overdue days, restructures, write-offs and recoveries), the
 * journal of every entry balances, the trial balance's debits equal its credits, and per loan the
 * portfolio equals the outstanding principal of `loanOf` and (accrual basis) the receivables
 * equal the interest, penalty and fee the views say are owed, on both bases.
 */
import { expect } from "chai";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";

import { buildJournal, BASES } from "../../../verifier/books/journal";
import { checkBooks, trialBalance } from "../../../verifier/books/trial-balance";
import { replay } from "../../../verifier/replay";
import { accountWithLines, deployLedger, drawCash, newRef, now, purchase, restructureArgs, seqOf, DAY, type Ledger } from "../../helpers/fixtures";
import { audit } from "../../helpers/audit";
import { fuzzParameters, fuzzRuns, fuzzTimeout } from "../../helpers/fuzz";

const RUNS = fuzzRuns(6);

type Op =
  | { op: "purchase"; amount: bigint; periods: number }
  | { op: "cash"; amount: bigint; periods: number; method: number }
  | { op: "repay"; loan: number; ppm: bigint }
  | { op: "refund"; loan: number; ppm: bigint }
  | { op: "days"; days: number }
  | { op: "restructure"; loan: number; extra: number; holiday: number }
  | { op: "writeOff"; loan: number };

const ppm = fc.bigInt({ min: 1n, max: 1_000_000n });
const loan = fc.nat({ max: 7 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("purchase" as const), amount: fc.bigInt({ min: 100n, max: 200_000n }), periods: fc.constantFrom(1, 3, 6) }),
  fc.record({ op: fc.constant("cash" as const), amount: fc.bigInt({ min: 1_000n, max: 300_000n }), periods: fc.constantFrom(3, 6), method: fc.constantFrom(1, 2) }),
  fc.record({ op: fc.constant("repay" as const), loan, ppm }),
  fc.record({ op: fc.constant("refund" as const), loan, ppm }),
  fc.record({ op: fc.constant("days" as const), days: fc.constantFrom(1, 15, 45, 120, 250, 400) }),
  fc.record({ op: fc.constant("restructure" as const), loan, extra: fc.constantFrom(1, 3), holiday: fc.constantFrom(0, 10) }),
  fc.record({ op: fc.constant("writeOff" as const), loan })
);

/** Apply one operation; one the ledger refuses (a revert) changes nothing and is skipped. */
async function apply(l: Ledger, account: string, op: Op): Promise<void> {
  const count = Number((await l.ledger.accountOf(account)).loanCount);
  const loanNo = count === 0 ? 0 : (("loan" in op ? op.loan : 0) % count) + 1;
  try {
    switch (op.op) {
      case "purchase": await purchase(l, account, op.amount, op.periods); break;
      case "cash": await drawCash(l, account, op.amount, op.periods, op.method); break;
      case "days": await time.increase(op.days * DAY); break;
      case "repay": {
        if (loanNo === 0) return;
        const p = await l.ledger.positionOf(account, loanNo, (await now()) + 1n);
        const amount = (p.payoff * op.ppm) / 1_000_000n;
        if (amount > 0n) await l.asOperator.repay(account, loanNo, amount, newRef(), await seqOf(l, account));
        break;
      }
      case "refund": {
        if (loanNo === 0) return;
        const [terms, state] = await l.ledger.loanOf(account, loanNo);
        const amount = ((terms.principal - state.principalSettled) * op.ppm) / 1_000_000n;
        if (amount > 0n) await l.asOperator.refund(account, loanNo, amount, newRef(), await seqOf(l, account));
        break;
      }
      case "restructure": {
        if (loanNo === 0) return;
        const [terms] = await l.ledger.loanOf(account, loanNo);
        const args = await restructureArgs(l, account, loanNo, Number(terms.periods) + op.extra, op.holiday, terms.ratePpmPerDay);
        await l.asOperator.restructure(...args, newRef(), await seqOf(l, account));
        break;
      }
      case "writeOff":
        if (loanNo === 0) return;
        await l.asOperator.writeOff(account, loanNo, newRef(), await seqOf(l, account));
        break;
    }
  } catch (error) {
    if (!/revert/i.test((error as Error).message)) throw error;
  }
}

describe("books: the journal balances and the trial balance equals the ledger's views", function () {
  this.timeout(fuzzTimeout(600_000));

  it(`balances every entry and agrees with loanOf/positionOf on both bases (${RUNS} random histories)`, async function () {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 3, maxLength: 14 }), async (ops) => {
        const l = await loadFixture(deployLedger);
        const account = await accountWithLines(l);
        for (const op of ops) await apply(l, account, op);
        const { history, report } = await audit({ ledger: await l.ledger.getAddress() });
        expect(report.ok, "the verifier's own checks hold").to.equal(true);
        const replayed = replay(history);
        for (const basis of BASES) {
          const journal = buildJournal(history, replayed, { basis });
          const findings = checkBooks(journal, history);
          expect(findings.map((f) => f.message), `${basis} basis`).to.deep.equal([]);
          const tb = trialBalance(journal);
          expect(tb.totalDebit, `${basis} basis: debits equal credits`).to.equal(tb.totalCredit);
          const drawn = history.events.filter((e) => e.name === "Drawn").length;
          expect(journal.entries.filter((e) => e.kind === "Drawn").length, "every drawdown is journalled").to.equal(drawn);
        }
      }),
      fuzzParameters(RUNS)
    );
  });

  it("books a restructure, a write-off (principal and receivables to the loss) and a later recovery as the views say", async function () {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    const cash = await drawCash(l, account, 300_000n, 6, 2);
    const bought = await purchase(l, account, 60_000n, 3);
    await time.increase(40 * DAY);
    const args = await restructureArgs(l, account, cash, 9, 10, 500);
    await l.asOperator.restructure(...args, newRef(), await seqOf(l, account));
    await time.increase(400 * DAY);
    await l.asOperator.writeOff(account, bought, newRef(), await seqOf(l, account));
    await l.asOperator.repay(account, bought, 10_000n, newRef(), await seqOf(l, account));
    const { history, report } = await audit({ ledger: await l.ledger.getAddress() });
    expect(report.ok).to.equal(true);
    for (const basis of BASES) {
      const journal = buildJournal(history, replay(history), { basis });
      expect(checkBooks(journal, history).map((f) => f.message), basis).to.deep.equal([]);
      const kinds = journal.entries.map((e) => e.kind);
      expect(kinds, basis).to.include.members(["Drawn", "WrittenOff", "Repaid", ...(basis === "accrual" ? ["Restructured", "Accrual"] : [])]);
      const rows = new Map(trialBalance(journal).rows.map((r) => [r.account.code, r.balance]));
      expect(rows.get("4100"), `${basis}: the repayment after the write-off is a recovery`).to.equal(10_000n);
      expect(rows.get("5000")! >= 60_000n, `${basis}: the purchase's principal is a loss`).to.equal(true);
    }
  });

  it("fails the portfolio check, naming the account and the entry, when the books miss a repayment", async function () {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    const loanNo = await purchase(l, account, 50_000n, 3);
    await l.asOperator.repay(account, loanNo, 20_000n, newRef(), await seqOf(l, account));
    const { history } = await audit({ ledger: await l.ledger.getAddress() });
    const withoutRepayment = { ...history, events: history.events.filter((e) => e.name !== "Repaid") };
    const journal = buildJournal(withoutRepayment, replay(history), { basis: "cash" });
    const findings = checkBooks(journal, history);
    expect(findings.map((f) => [f.account, f.loanNo, f.entry])).to.deep.include([`1100-${journal.loanProducts.values().next().value}`, Number(loanNo), 1]);
  });
});
