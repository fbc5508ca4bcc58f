/**
 * The credit-report view: one status per account per calendar month (in the borrower's time
 * zone), in the style of credit-bureau repayment records. Each month is read at its last
 * instant (the current month: now) from the loans replayed from the ledger:
 *
 *   N     nothing overdue (an open account, or loans all current)
 *   1..7  the oldest unpaid amount is 1-30, 31-60, ... 151-180, 181+ days past due
 *   C     everything ever drawn is repaid: no loan open (settled)
 *   D     a loan has been written off
 *
 * The worst loan decides (D, then 7 down to 1, then N, then C). Pure.
 */
import { LoanStatus } from "./loan-math";
import { daysPastDueAt, loanAt, replayLoans, type LoanEntry } from "./loan-history";
import { localMidnight, localTime } from "./zone-time";

export type MonthStatus = "N" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "C" | "D";

export interface MonthReport {
  /** YYYY-MM in the borrower's zone. */
  month: string;
  status: MonthStatus;
  /** The worst days past due at the month's end (or now, for the current month). */
  daysPastDue: bigint;
  /** Unix seconds the month was read at. */
  asOf: bigint;
}

/** The status code of a number of days past due. */
export function overdueCode(daysPastDue: bigint): MonthStatus {
  if (daysPastDue <= 0n) return "N";
  const buckets = (daysPastDue + 29n) / 30n;
  return String(buckets > 7n ? 7n : buckets) as MonthStatus;
}

const RANK: Record<MonthStatus, number> = { C: 0, N: 1, "1": 2, "2": 3, "3": 4, "4": 5, "5": 6, "6": 7, "7": 8, D: 9 };

/** The months from `openedAt` to `now` with their statuses. */
export function creditReport(entries: readonly LoanEntry[], openedAt: bigint, now: bigint, zone: string): MonthReport[] {
  const loans = replayLoans(entries);
  const out: MonthReport[] = [];
  const [y0, m0] = localTime(openedAt, zone).month.split("-").map(Number);
  for (let i = 0; ; i++) {
    const start = localMidnight(y0, m0 + i, 1, zone);
    if (start > now) break;
    const end = localMidnight(y0, m0 + i + 1, 1, zone) - 1n;
    const asOf = end < now ? end : now;
    let status: MonthStatus | undefined;
    let worst = 0n;
    for (const loan of loans) {
      const s = loanAt(loan, asOf);
      if (!s) continue;
      let code: MonthStatus;
      if (s.state.status === LoanStatus.WrittenOff) code = "D";
      else if (s.state.status === LoanStatus.Closed) code = "C";
      else {
        const dpd = daysPastDueAt(s, asOf);
        if (dpd > worst) worst = dpd;
        code = overdueCode(dpd);
      }
      if (status === undefined || RANK[code] > RANK[status]) status = code;
    }
    out.push({ month: localTime(start, zone).month, status: status ?? "N", daysPastDue: worst, asOf });
    if (i > 1200) break;
  }
  return out;
}
