/**
 * A loan's past rebuilt from its ledger entries alone (Drawn, Repaid, Refunded, Restructured,
 * WrittenOff), with the TypeScript mirror of the ledger's math: the terms and state after each
 * entry and when it happened (entries carry the loan day; a write-off's day follows from the
 * days past due it records). Credit reports and limit reviews read the past through this. Pure.
 */
import {
  applyRefund,
  applyRepayment,
  applyRestructure,
  cumulativePrincipals,
  DAY,
  dueDay,
  emptyState,
  LoanStatus,
  PERIOD_DAYS,
  periodSettled,
  positionAt,
  positionOnDay,
  type LoanState,
  type LoanTerms,
} from "./loan-math";
import type { LedgerEntry } from "./ledger-events";
import { termsFromFields } from "./ledger-structs";

/** What the replay reads of an entry (the read model's, or the verifier's): its event name and fields, in seq order. */
export type LoanEntry = Pick<LedgerEntry, "seq" | "name" | "args">;

export interface LoanSnapshotAt {
  /** Unix seconds (the start of the loan day the entry fell on). */
  time: bigint;
  kind: string;
  terms: LoanTerms;
  state: LoanState;
  /** For a Repaid entry: the repayment's due-date standing (days past due just before it). */
  daysPastDueBefore?: bigint;
}

export interface LoanHistory {
  loanNo: number;
  productId: number;
  snapshots: LoanSnapshotAt[];
}

const big = (v: unknown): bigint => BigInt(v as bigint | number | string);

/** Every loan of an account, replayed from its entries (in seq order). */
export function replayLoans(entries: readonly LoanEntry[]): LoanHistory[] {
  const loans = new Map<number, LoanHistory>();
  for (const e of entries) {
    if (e.args.loanNo === undefined) continue;
    const loanNo = Number(e.args.loanNo);
    if (e.name === "Drawn") {
      const terms = termsFromFields(e.args.terms as Record<string, unknown>);
      loans.set(loanNo, {
        loanNo,
        productId: terms.productId,
        snapshots: [{ time: terms.startTime, kind: e.name, terms, state: emptyState() }],
      });
      continue;
    }
    const loan = loans.get(loanNo);
    if (!loan) continue;
    const last = loan.snapshots[loan.snapshots.length - 1];
    const { terms, state } = last;
    try {
      if (e.name === "Repaid" || e.name === "Refunded") {
        const day = big(e.args.day);
        const amount = big(e.args.amount);
        const before = positionOnDay(terms, state, day).daysPastDue;
        const next = e.name === "Repaid" ? applyRepayment(terms, state, day, amount).state : applyRefund(terms, state, day, amount).state;
        loan.snapshots.push({ time: terms.startTime + day * DAY, kind: e.name, terms, state: next, daysPastDueBefore: before });
      } else if (e.name === "Restructured") {
        const newTerms = termsFromFields(e.args.newTerms as Record<string, unknown>);
        // The state as the ledger's restructure leaves it (accrued amounts owed, counters carried).
        const holidayDays = newTerms.firstDueDay - PERIOD_DAYS;
        const next = applyRestructure(terms, state, newTerms.startTime, newTerms.periods, holidayDays, newTerms.ratePpmPerDay).state;
        loan.snapshots.push({ time: newTerms.startTime, kind: e.name, terms: newTerms, state: next });
      } else if (e.name === "WrittenOff") {
        const dpd = big(e.args.daysPastDue);
        const cum = cumulativePrincipals(terms);
        let k = 1;
        while (k < terms.periods && periodSettled(terms, state, k, cum)) k++;
        const day = dueDay(terms, k) + dpd;
        loan.snapshots.push({ time: terms.startTime + day * DAY, kind: e.name, terms, state: { ...state, status: LoanStatus.WrittenOff } });
      }
    } catch {
      // The mirror refused what the ledger accepted: keep the last known state (the verifier reports such a mismatch).
    }
  }
  return [...loans.values()];
}

/** The loan's terms and state as of `time` (undefined before it was drawn). */
export function loanAt(history: LoanHistory, time: bigint): LoanSnapshotAt | undefined {
  let found: LoanSnapshotAt | undefined;
  for (const s of history.snapshots) if (s.time <= time) found = s;
  return found;
}

/** Days past due of a loan as of `time` (0 unless active). */
export function daysPastDueAt(snapshot: LoanSnapshotAt, time: bigint): bigint {
  if (snapshot.state.status !== LoanStatus.Active) return 0n;
  return positionAt(snapshot.terms, snapshot.state, time).daysPastDue;
}
