/**
 * A loan's past rebuilt from its ledger entries alone (Drawn, Repaid, Refunded, Restructured,
 * WrittenOff), with the TypeScript mirror of the ledger's math: the terms and state after each
 * entry and when it happened (entries carry the loan day; a write-off's day follows from the
 * days past due it records). Credit reports and limit reviews read the past through this. Pure.
 */
import {
  applyRefund,
  applyRepayment,
  checkpoint,
  cumulativeFee,
  cumulativePrincipals,
  DAY,
  dueDay,
  emptyState,
  LoanStatus,
  position,
  type LoanState,
  type LoanTerms,
} from "../../core/loan-math";
import { termsFromChain } from "./loan-view";

/** An entry as the read model holds it: kind and decoded fields (bigints), in seq order. */
export interface LedgerEntry {
  seq: bigint;
  kind: string;
  fields: Record<string, unknown>;
}

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
export function replayLoans(entries: readonly LedgerEntry[]): LoanHistory[] {
  const loans = new Map<number, LoanHistory>();
  for (const e of entries) {
    if (e.fields.loanNo === undefined) continue;
    const loanNo = Number(e.fields.loanNo);
    if (e.kind === "Drawn") {
      const terms = termsFromChain(e.fields.terms as Record<string, unknown>);
      loans.set(loanNo, {
        loanNo,
        productId: terms.productId,
        snapshots: [{ time: terms.startTime, kind: e.kind, terms, state: emptyState() }],
      });
      continue;
    }
    const loan = loans.get(loanNo);
    if (!loan) continue;
    const last = loan.snapshots[loan.snapshots.length - 1];
    const { terms, state } = last;
    try {
      if (e.kind === "Repaid" || e.kind === "Refunded") {
        const day = big(e.fields.day);
        const amount = big(e.fields.amount);
        const before = position(terms, state, day > state.checkpointDay ? day : state.checkpointDay).daysPastDue;
        const next = e.kind === "Repaid" ? applyRepayment(terms, state, day, amount).state : applyRefund(terms, state, day, amount).state;
        loan.snapshots.push({ time: terms.startTime + day * DAY, kind: e.kind, terms, state: next, daysPastDueBefore: before });
      } else if (e.kind === "Restructured") {
        const newTerms = termsFromChain(e.fields.newTerms as Record<string, unknown>);
        const day = (newTerms.startTime - terms.startTime) / DAY;
        const c = checkpoint(terms, state, day);
        const next: LoanState = { ...emptyState(), interestOwed: c.interestOwed, penaltyOwed: c.penaltyOwed };
        loan.snapshots.push({ time: newTerms.startTime, kind: e.kind, terms: newTerms, state: next });
      } else if (e.kind === "WrittenOff") {
        const dpd = big(e.fields.daysPastDue);
        const cum = cumulativePrincipals(terms);
        let k = 1;
        while (k < terms.periods && state.principalSettled >= cum[k] && state.feeSettled >= cumulativeFee(terms, k)) k++;
        const day = dueDay(terms, k) + dpd;
        loan.snapshots.push({ time: terms.startTime + day * DAY, kind: e.kind, terms, state: { ...state, status: LoanStatus.WrittenOff } });
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
  const t = snapshot.terms;
  const day = time <= t.startTime ? 0n : (time - t.startTime) / DAY;
  return position(t, snapshot.state, day > snapshot.state.checkpointDay ? day : snapshot.state.checkpointDay).daysPastDue;
}
