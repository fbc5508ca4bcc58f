/**
 * Loans as the API shows them, computed with the TypeScript mirror of the ledger's math
 * (core/loan-math.ts) from the terms and state the indexer read from the chain. Terms
 * and state are converted by field name, so a field the ledger adds to `LoanTerms` flows
 * through to the mirror. Pure.
 */
import {
  cumulativeFee,
  cumulativePrincipals,
  dayOf,
  dueDay,
  DAY,
  LoanStatus,
  position,
  type LoanPosition,
  type LoanState,
  type LoanTerms,
} from "../../core/loan-math";

/** Fields of LoanTerms / LoanState that the mirror holds as numbers (the rest are bigint). */
const NUMBER_FIELDS = new Set(["periods", "method", "productId", "status"]);

function byName<T>(chain: Record<string, unknown>): T {
  return Object.fromEntries(
    Object.entries(chain).map(([k, v]) => [k, NUMBER_FIELDS.has(k) ? Number(v) : typeof v === "number" ? BigInt(v) : v])
  ) as T;
}

export const termsFromChain = (terms: Record<string, unknown>): LoanTerms => byName<LoanTerms>(terms);
export const stateFromChain = (state: Record<string, unknown>): LoanState => byName<LoanState>(state);

/** The loan as of `time` (never before its last checkpoint). */
export function loanPositionAt(terms: LoanTerms, state: LoanState, time: bigint): LoanPosition {
  const day = dayOf(terms, time);
  return position(terms, state, day > state.checkpointDay ? day : state.checkpointDay);
}

export type InstallmentStatus = "paid" | "partly_paid" | "overdue" | "due" | "upcoming";

export interface InstallmentView {
  period: number;
  dueTime: bigint;
  principal: bigint;
  fee: bigint;
  principalPaid: bigint;
  feePaid: bigint;
  status: InstallmentStatus;
}

/**
 * The schedule with what of each period is settled (settled principal and fee fill the
 * periods oldest first, as the ledger applies them) and each period's status as of `time`.
 */
export function scheduleView(terms: LoanTerms, state: LoanState, time: bigint): InstallmentView[] {
  const cum = cumulativePrincipals(terms);
  const day = dayOf(terms, time);
  const out: InstallmentView[] = [];
  let nextMarked = false;
  for (let k = 1; k <= terms.periods; k++) {
    const principal = cum[k] - cum[k - 1];
    const fee = cumulativeFee(terms, k) - cumulativeFee(terms, k - 1);
    const principalPaid = clamp(state.principalSettled - cum[k - 1], 0n, principal);
    const feePaid = clamp(state.feeSettled - cumulativeFee(terms, k - 1), 0n, fee);
    const settled = principalPaid === principal && feePaid === fee;
    const due = dueDay(terms, k);
    let status: InstallmentStatus;
    if (settled || state.status === LoanStatus.Closed) status = "paid";
    else if (day > due) status = "overdue";
    else if (!nextMarked) status = principalPaid > 0n || feePaid > 0n ? "partly_paid" : "due";
    else status = "upcoming";
    if (day <= due && !settled) nextMarked = true;
    out.push({ period: k, dueTime: terms.startTime + due * DAY, principal, fee, principalPaid, feePaid, status });
  }
  return out;
}

const clamp = (v: bigint, lo: bigint, hi: bigint): bigint => (v < lo ? lo : v > hi ? hi : v);

export const LOAN_STATUS_NAMES: Record<LoanStatus, "active" | "closed" | "written_off"> = {
  [LoanStatus.Active]: "active",
  [LoanStatus.Closed]: "closed",
  [LoanStatus.WrittenOff]: "written_off",
};
