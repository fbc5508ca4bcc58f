/**
 * Accounts and the ledger as the replay holds them, for display (the explorer): each loan with
 * its schedule and position at the history's last block, the outstanding-principal series,
 * and the ledger overview with delinquency buckets. Pure.
 */
import {
  DELINQUENCY_BUCKETS,
  delinquencyBucket,
  LoanStatus,
  positionAt as positionAtTime,
  schedule,
  ZERO_POSITION,
  type DelinquencyBucket,
  type Installment,
  type LoanPosition,
} from "../core/loan-math";
import { replay, type LineR, type LoanR, type Replay } from "./replay";
import type { LedgerEntry } from "../core/ledger-events";
import type { TimedEvent, LedgerHistory } from "./types";

/** One loan as replayed, with its schedule and its position at the history's last block. */
export interface LoanView extends LoanR {
  schedule: Installment[];
  position: LoanPosition;
}

export interface AccountReplay {
  account: string;
  seq: bigint;
  head: string;
  tier: number;
  exposureCap: bigint;
  used: bigint;
  entries: Array<TimedEvent & LedgerEntry>;
  lines: LineR[];
  loans: LoanView[];
  balanceSeries: { timestamp: bigint; blockNumber: number; outstanding: bigint }[];
}

/** An account as the replay holds it, for display (the explorer). Undefined when the history never names it. */
export function replayAccount(history: LedgerHistory, account: string, replayed: Replay = replay(history)): AccountReplay | undefined {
  const a = replayed.accounts.get(account.toLowerCase());
  if (!a) return undefined;
  return {
    account: a.account,
    seq: a.seq,
    head: a.head,
    tier: a.tier,
    exposureCap: a.exposureCap,
    used: a.used,
    entries: a.entries,
    lines: [...a.lines.values()],
    loans: [...a.loans.values()].map((l) => ({
      ...l,
      schedule: l.terms.periods < 1 ? [] : schedule(l.terms),
      position: positionAt(l, history.toTime),
    })),
    balanceSeries: a.series,
  };
}



/** A replayed loan's position at a time; for terms no schedule can be computed from, the principal left and nothing else. */
function positionAt(loan: LoanR, time: bigint): LoanPosition {
  if (loan.terms.periods < 1) return { ...ZERO_POSITION, principalOutstanding: loan.terms.principal - loan.state.principalSettled };
  return positionAtTime(loan.terms, loan.state, time);
}

export interface LedgerOverview {
  accounts: number;
  entries: number;
  loans: number;
  activeLoans: number;
  drawnVolume: bigint;
  outstanding: bigint;
  /** Active loans and their outstanding principal, by bucket, at the history's last block. */
  buckets: Record<DelinquencyBucket, { loans: number; principal: bigint }>;
}

/** Accounts, volume and delinquency buckets at the history's last block. */
export function ledgerOverview(history: LedgerHistory, replayed: Replay = replay(history)): LedgerOverview {
  const buckets = Object.fromEntries(DELINQUENCY_BUCKETS.map((b) => [b, { loans: 0, principal: 0n }])) as LedgerOverview["buckets"];
  let entries = 0;
  let loans = 0;
  let activeLoans = 0;
  let drawnVolume = 0n;
  let outstanding = 0n;
  for (const a of replayed.accounts.values()) {
    entries += a.entries.length;
    outstanding += a.used;
    for (const loan of a.loans.values()) {
      loans += 1;
      drawnVolume += loan.principalDrawn;
      if (loan.state.status !== LoanStatus.Active) continue;
      activeLoans += 1;
      const p = positionAt(loan, history.toTime);
      const bucket = buckets[delinquencyBucket(p.daysPastDue)];
      bucket.loans += 1;
      bucket.principal += p.principalOutstanding;
    }
  }
  return { accounts: replayed.accounts.size, entries, loans, activeLoans, drawnVolume, outstanding, buckets };
}
