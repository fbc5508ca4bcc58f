/**
 * The features of a periodic limit review, derived from the account's own ledger history
 * (nothing the borrower declares): on-time ratio of the periods fallen due, utilization of the
 * line, tenure, repayments more than 3 days late in the last 12 months, and months with a
 * repayment in the last 12. Declared facts the ledger cannot know (income) are carried over
 * from the account's last decision. Pure.
 */
import { DAY, dueDay, LoanStatus, periodSettled } from "../../core/loan-math";
import type { Features } from "../scoring/scorecard";
import { loanAt, type LoanHistory } from "../../core/loan-history";

const MONTH = 30n * DAY;
const YEAR = 365n * DAY;
/** A repayment later than this many days counts as overdue for the scorecard. */
export const LATE_AFTER_DAYS = 3n;

export interface ReviewInput {
  loans: readonly LoanHistory[];
  /** Unix seconds of the review (the business clock). */
  now: bigint;
  /** When the account was opened (unix seconds). */
  openedAt: bigint;
  line: { limit: bigint; used: bigint };
  /** Features of the last decision; only declared ones (income) are kept. */
  carried?: Features;
}

export function reviewFeatures(input: ReviewInput): Features {
  const { now } = input;
  let due = 0;
  let onTime = 0;
  let late12m = 0;
  const activeMonths = new Set<bigint>();
  for (const loan of input.loans) {
    const latest = loan.snapshots[loan.snapshots.length - 1];
    const terms = latest.terms;
    for (let k = 1; k <= terms.periods; k++) {
      const dueTime = terms.startTime + dueDay(terms, k) * DAY;
      if (dueTime + DAY > now) break;
      const settledBy = (t: bigint) => {
        const s = loanAt(loan, t);
        return s !== undefined && (s.state.status === LoanStatus.Closed || periodSettled(s.terms, s.state, k));
      };
      due += 1;
      if (settledBy(dueTime + DAY - 1n)) onTime += 1;
      const lateMark = dueTime + (LATE_AFTER_DAYS + 1n) * DAY - 1n;
      if (now - dueTime <= YEAR && lateMark <= now && !settledBy(lateMark)) late12m += 1;
    }
    for (const s of loan.snapshots) {
      if (s.kind === "Repaid" && now - s.time < 12n * MONTH) activeMonths.add((now - s.time) / MONTH);
    }
  }
  const features: Features = {
    tenureMonths: Number((now > input.openedAt ? now - input.openedAt : 0n) / MONTH),
    overdueCount12m: late12m,
    paymentActivityMonths: activeMonths.size,
  };
  if (due > 0) features.onTimeRepaymentPct = Math.floor((onTime * 100) / due);
  if (input.line.limit > 0n) features.utilizationPct = Number((input.line.used * 100n) / input.line.limit);
  if (input.carried?.monthlyIncomeYuan !== undefined) features.monthlyIncomeYuan = input.carried.monthlyIncomeYuan;
  return features;
}
