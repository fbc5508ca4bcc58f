/**
 * The loan servicing rules of DESIGN.md as pure functions over bigint: the TypeScript mirror
 * of `contracts/libraries/LoanMath.sol`. The gateway quotes with it and the verifier replays
 * with it; differential tests (test/differential) prove it agrees with the contract to the
 * unit. Rounding is the contract's: every division rounds down unless its name says "Up".
 */

export const DAY = 86_400n;
export const PERIOD_DAYS = 30n;
export const PPM = 1_000_000n;
export const WAD = 10n ** 18n;
export const DAYS_PER_YEAR = 365n;
/** The largest APR `aprPpm` looks for: 1e12 ppm/year (a million times the principal a year). */
export const MAX_APR_PPM = 1_000_000_000_000n;

export enum ProductKind {
  None = 0,
  PayLater = 1,
  CashLoan = 2,
}

export enum RepaymentMethod {
  Bullet = 0,
  EqualPrincipal = 1,
  Annuity = 2,
}

export enum LoanStatus {
  Active = 0,
  Closed = 1,
  WrittenOff = 2,
}

/** A loan's schedule inputs, as `ICreditLedger.LoanTerms`. */
export interface LoanTerms {
  principal: bigint;
  startTime: bigint;
  periods: number;
  method: RepaymentMethod;
  productId: number;
  ratePpmPerDay: bigint;
  totalFee: bigint;
  firstDueDay: bigint;
  /** Penalty on overdue principal, ppm/day: the product's rate when the loan was drawn. */
  penaltyPpmPerDay: bigint;
  /** Days past due from which the loan may be written off (0: never): the product's threshold when drawn, kept through restructures. */
  writeOffDays: bigint;
}

/** A loan's servicing state, as `ICreditLedger.LoanState`. */
export interface LoanState {
  principalSettled: bigint;
  feeSettled: bigint;
  interestOwed: bigint;
  penaltyOwed: bigint;
  checkpointDay: bigint;
  status: LoanStatus;
  /** Principal refunded since the terms were set (drawn or last restructured): the base of the cumulative fee waiver. */
  principalRefunded: bigint;
  /** The loan's restructures so far (kept through restructures; at most `LEDGER_LIMITS.maxRestructuresPerLoan`). */
  restructures: bigint;
  /** Holiday days its restructures granted together (at most `LEDGER_LIMITS.maxTotalHolidayDays`). */
  holidayDaysGranted: bigint;
}

/** A loan seen at a point in time, as `ICreditLedger.LoanPosition`. */
export interface LoanPosition {
  principalOutstanding: bigint;
  overduePrincipal: bigint;
  currentPrincipal: bigint;
  feesDue: bigint;
  interest: bigint;
  penalty: bigint;
  amountDue: bigint;
  payoff: bigint;
  daysPastDue: bigint;
  nextDueTime: bigint;
}

/** How a repayment was split, as `ICreditLedger.Allocation`. */
export interface Allocation {
  penalty: bigint;
  fee: bigint;
  interest: bigint;
  overduePrincipal: bigint;
  currentPrincipal: bigint;
  prepaidPrincipal: bigint;
}

export interface Installment {
  dueTime: bigint;
  principal: bigint;
  fee: bigint;
}

export const emptyState = (): LoanState => ({
  principalSettled: 0n,
  feeSettled: 0n,
  interestOwed: 0n,
  penaltyOwed: 0n,
  checkpointDay: 0n,
  status: LoanStatus.Active,
  principalRefunded: 0n,
  restructures: 0n,
  holidayDaysGranted: 0n,
});

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const divUp = (a: bigint, b: bigint): bigint => (a === 0n ? 0n : (a - 1n) / b + 1n);

// ---------------------------------------------------------------- calendar

/** Whole days from the loan's start to `time` (0 before the start). */
export function dayOf(t: LoanTerms, time: bigint): bigint {
  return time <= t.startTime ? 0n : (time - t.startTime) / DAY;
}

/** The due day (days since start) of period `k` (1-based). */
export function dueDay(t: LoanTerms, k: number): bigint {
  return t.firstDueDay + BigInt(k - 1) * PERIOD_DAYS;
}

/** How many periods' due days lie strictly before `day`. */
export function periodsElapsed(t: LoanTerms, day: bigint): number {
  if (day <= t.firstDueDay) return 0;
  const e = (day - t.firstDueDay - 1n) / PERIOD_DAYS + 1n;
  return Number(min(e, BigInt(t.periods)));
}

// ---------------------------------------------------------------- schedule

/** The per-period rate of a daily rate, in WAD (rounded down). */
export function periodRateWad(ratePpmPerDay: bigint): bigint {
  return (ratePpmPerDay * PERIOD_DAYS * WAD) / PPM;
}

/**
 * Scheduled principal of periods 1..k together, for k = 0..periods. Equal principal and
 * bullet: floor(P/n) a period, leftover in period 1. Annuity: period i >= 2 gets
 * floor(P r (1+r)^(i-1) / ((1+r)^n - 1)), powers in WAD rounded down; period 1 the rest.
 */
export function cumulativePrincipals(t: LoanTerms): bigint[] {
  const n = t.periods;
  const P = t.principal;
  const cum: bigint[] = new Array(n + 1).fill(0n);
  if (t.method !== RepaymentMethod.Annuity || t.ratePpmPerDay === 0n) {
    const base = P / BigInt(n);
    for (let k = 1; k <= n; k++) cum[k] = P - base * BigInt(n - k);
    return cum;
  }
  const r = periodRateWad(t.ratePpmPerDay);
  const pows: bigint[] = [];
  let pow = WAD;
  for (let k = 1; k <= n; k++) {
    pows[k] = pow;
    pow = (pow * (WAD + r)) / WAD;
  }
  const denominator = (pow - WAD) * WAD;
  let later = 0n;
  for (let k = n; k > 0; k--) {
    const share = k === 1 ? 0n : (P * r * pows[k]) / denominator;
    cum[k] = P - later;
    later += share;
  }
  return cum;
}

/** Installment fee of periods 1..k together: floor(F/n) a period, leftover in period 1. */
export function cumulativeFee(t: LoanTerms, k: number): bigint {
  const n = t.periods;
  if (k === 0) return 0n;
  if (k >= n) return t.totalFee;
  return t.totalFee - (t.totalFee / BigInt(n)) * BigInt(n - k);
}

/** Total installment fee: floor(principal x feePpm / 1e6). */
export function installmentFee(principal: bigint, feePpm: bigint): bigint {
  return (principal * feePpm) / PPM;
}

/** The schedule: due time, principal and fee of each period. */
export function schedule(t: LoanTerms): Installment[] {
  const cum = cumulativePrincipals(t);
  const out: Installment[] = [];
  for (let k = 1; k <= t.periods; k++) {
    out.push({
      dueTime: t.startTime + dueDay(t, k) * DAY,
      principal: cum[k] - cum[k - 1],
      fee: cumulativeFee(t, k) - cumulativeFee(t, k - 1),
    });
  }
  return out;
}

// ---------------------------------------------------------------- accrual

/**
 * Interest and penalty accrued from the checkpoint to `day`, each rounded down once.
 * Interest: outstanding principal x daily rate x days. Penalty: each overdue period's unpaid
 * principal x penalty rate x days overdue since the checkpoint (principal only).
 */
export function accrue(
  t: LoanTerms,
  s: LoanState,
  day: bigint,
  cum: bigint[] = cumulativePrincipals(t),
): { interest: bigint; penalty: bigint } {
  if (day <= s.checkpointDay || s.status !== LoanStatus.Active) return { interest: 0n, penalty: 0n };
  const paid = s.principalSettled;
  const interest = ((t.principal - paid) * t.ratePpmPerDay * (day - s.checkpointDay)) / PPM;
  const elapsed = periodsElapsed(t, day);
  let weighted = 0n;
  for (let k = 1; k <= elapsed; k++) {
    const floor = max(cum[k - 1], paid);
    if (cum[k] > floor) {
      const from = max(dueDay(t, k), s.checkpointDay);
      weighted += (cum[k] - floor) * (day - from);
    }
  }
  return { interest, penalty: (weighted * t.penaltyPpmPerDay) / PPM };
}

// ---------------------------------------------------------------- the ledger's fixed limits

/**
 * The ledger's limits that are constants in the contracts, not configuration (`CreditLedger.sol`:
 * MAX_RATE_PPM_PER_DAY, MIN_CASH_PERIODS, MAX_CASH_PERIODS; `LoanServicing.sol`:
 * MAX_RESTRUCTURE_PERIODS, MAX_HOLIDAY_DAYS, WRITE_OFF_FREEZE_REASON). test/differential checks
 * them against the deployed ledger.
 */
export const LEDGER_LIMITS = {
  maxRatePpmPerDay: 10_000n,
  minCashPeriods: 3,
  maxCashPeriods: 12,
  maxRestructurePeriods: 36,
  maxHolidayDays: 180n,
  /** `MAX_RESTRUCTURES_PER_LOAN` of ICreditLedger.sol. */
  maxRestructuresPerLoan: 2,
  /** `MAX_TOTAL_HOLIDAY_DAYS` of ICreditLedger.sol: the holiday days of all a loan's restructures together. */
  maxTotalHolidayDays: 180n,
  writeOffFreezeReason: 0xffff,
} as const;

// ---------------------------------------------------------------- delinquency

export type DelinquencyBucket = "current" | "1-30" | "31-60" | "61-90" | "90+";
export const DELINQUENCY_BUCKETS: readonly DelinquencyBucket[] = ["current", "1-30", "31-60", "61-90", "90+"];

/** The credit-reporting bucket of a number of days past due of the oldest unpaid amount (DESIGN.md). */
export function delinquencyBucket(daysPastDue: bigint): DelinquencyBucket {
  if (daysPastDue <= 0n) return "current";
  if (daysPastDue <= 30n) return "1-30";
  if (daysPastDue <= 60n) return "31-60";
  if (daysPastDue <= 90n) return "61-90";
  return "90+";
}

// ---------------------------------------------------------------- position

/** A position with nothing owed (a closed loan's). Copy it before changing it. */
export const ZERO_POSITION: Readonly<LoanPosition> = {
  principalOutstanding: 0n,
  overduePrincipal: 0n,
  currentPrincipal: 0n,
  feesDue: 0n,
  interest: 0n,
  penalty: 0n,
  amountDue: 0n,
  payoff: 0n,
  daysPastDue: 0n,
  nextDueTime: 0n,
};

/** The loan as of `day` (days since its start), accruing from its checkpoint. */
export function position(t: LoanTerms, s: LoanState, day: bigint): LoanPosition {
  if (s.status === LoanStatus.Closed) return { ...ZERO_POSITION };
  const cum = cumulativePrincipals(t);
  const accrued = accrue(t, s, day, cum);
  const interest = accrued.interest + s.interestOwed;
  const penalty = accrued.penalty + s.penaltyOwed;
  const paid = s.principalSettled;
  const elapsed = periodsElapsed(t, day);
  const cumElapsed = cum[elapsed];
  const principalOutstanding = t.principal - paid;
  const overduePrincipal = cumElapsed > paid ? cumElapsed - paid : 0n;
  let currentPrincipal = 0n;
  let nextDueTime = 0n;
  if (elapsed < t.periods) {
    const floor = max(cumElapsed, paid);
    currentPrincipal = cum[elapsed + 1] > floor ? cum[elapsed + 1] - floor : 0n;
    nextDueTime = t.startTime + dueDay(t, elapsed + 1) * DAY;
  }
  const billed = cumulativeFee(t, elapsed < t.periods ? elapsed + 1 : elapsed);
  const feesDue = billed > s.feeSettled ? billed - s.feeSettled : 0n;
  let daysPastDue = 0n;
  for (let k = 1; k <= elapsed; k++) {
    if (cum[k] > paid || cumulativeFee(t, k) > s.feeSettled) {
      daysPastDue = day - dueDay(t, k);
      break;
    }
  }
  const owed = penalty + feesDue + interest;
  return {
    principalOutstanding,
    overduePrincipal,
    currentPrincipal,
    feesDue,
    interest,
    penalty,
    amountDue: owed + overduePrincipal + currentPrincipal,
    payoff: owed + principalOutstanding,
    daysPastDue,
    nextDueTime,
  };
}

/** The loan as of loan day `day`, never before its last checkpoint (the state no longer tells what was owed earlier). */
export function positionOnDay(t: LoanTerms, s: LoanState, day: bigint): LoanPosition {
  return position(t, s, day > s.checkpointDay ? day : s.checkpointDay);
}

/** The loan as of `time` (unix seconds), never before its last checkpoint. */
export function positionAt(t: LoanTerms, s: LoanState, time: bigint): LoanPosition {
  return positionOnDay(t, s, dayOf(t, time));
}

/** Whether period `k` (1-based) is settled: its principal and its fee, filled oldest period first. */
export function periodSettled(t: LoanTerms, s: LoanState, k: number, cum: bigint[] = cumulativePrincipals(t)): boolean {
  return s.principalSettled >= cum[k] && s.feeSettled >= cumulativeFee(t, k);
}

/** One period of a loan's schedule with what of it is settled, as of a day. */
export interface InstallmentStanding {
  period: number;
  dueTime: bigint;
  principal: bigint;
  fee: bigint;
  principalPaid: bigint;
  feePaid: bigint;
  /** Principal and fee both settled. */
  settled: boolean;
  /** Days past its due day while unsettled (an amount is overdue once its due day has passed); 0 otherwise. */
  daysOverdue: bigint;
  /** The first unsettled period that is not overdue: the one to pay next. */
  current: boolean;
}

/**
 * The schedule as of `time`: settled principal and fee fill the periods oldest first (as the
 * ledger applies repayments and refunds); a period is overdue once its due day is strictly
 * before today. How a view names these (paid, due, waived...) is the view's business.
 */
export function installmentStandings(t: LoanTerms, s: LoanState, time: bigint): InstallmentStanding[] {
  const cum = cumulativePrincipals(t);
  const today = dayOf(t, time);
  const clamp = (v: bigint, hi: bigint): bigint => (v < 0n ? 0n : v > hi ? hi : v);
  const out: InstallmentStanding[] = [];
  let currentFound = false;
  for (let k = 1; k <= t.periods; k++) {
    const principal = cum[k] - cum[k - 1];
    const fee = cumulativeFee(t, k) - cumulativeFee(t, k - 1);
    const principalPaid = clamp(s.principalSettled - cum[k - 1], principal);
    const feePaid = clamp(s.feeSettled - cumulativeFee(t, k - 1), fee);
    const settled = principalPaid === principal && feePaid === fee;
    const due = dueDay(t, k);
    const daysOverdue = !settled && today > due ? today - due : 0n;
    const current = !settled && today <= due && !currentFound;
    if (current) currentFound = true;
    out.push({ period: k, dueTime: t.startTime + due * DAY, principal, fee, principalPaid, feePaid, settled, daysOverdue, current });
  }
  return out;
}

/** Days past due (delinquency) of a loan as of `day`. */
export function daysPastDue(t: LoanTerms, s: LoanState, day: bigint): bigint {
  return position(t, s, day).daysPastDue;
}

// ---------------------------------------------------------------- allocation

/**
 * Split `amount` (<= payoff) in DESIGN.md's order: penalty, fees, interest, overdue principal,
 * the current period's principal, prepayment.
 */
export function allocate(p: LoanPosition, amount: bigint): Allocation {
  let left = amount;
  const take = (bucket: bigint): bigint => {
    const taken = min(left, bucket);
    left -= taken;
    return taken;
  };
  const penalty = take(p.penalty);
  const fee = take(p.feesDue);
  const interest = take(p.interest);
  const overduePrincipal = take(p.overduePrincipal);
  const currentPrincipal = take(p.currentPrincipal);
  const prepaidPrincipal = take(p.principalOutstanding - p.overduePrincipal - p.currentPrincipal);
  return { penalty, fee, interest, overduePrincipal, currentPrincipal, prepaidPrincipal };
}

export const allocatedPrincipal = (a: Allocation): bigint =>
  a.overduePrincipal + a.currentPrincipal + a.prepaidPrincipal;

export const allocationTotal = (a: Allocation): bigint =>
  a.penalty + a.fee + a.interest + allocatedPrincipal(a);

// ---------------------------------------------------------------- state transitions

/** Accrue to `day` into a copy of the state (a checkpoint). */
export function checkpoint(t: LoanTerms, s: LoanState, day: bigint): LoanState {
  const { interest, penalty } = accrue(t, s, day);
  return {
    ...s,
    interestOwed: s.interestOwed + interest,
    penaltyOwed: s.penaltyOwed + penalty,
    checkpointDay: day > s.checkpointDay ? day : s.checkpointDay,
  };
}

/** Whether a loan closes: principal, billed fees, interest and penalty all settled. */
export function isSettled(t: LoanTerms, s: LoanState, day: bigint): boolean {
  if (s.status !== LoanStatus.Active || s.principalSettled !== t.principal) return false;
  if (s.interestOwed !== 0n || s.penaltyOwed !== 0n) return false;
  const elapsed = periodsElapsed(t, day);
  return s.feeSettled >= cumulativeFee(t, elapsed < t.periods ? elapsed + 1 : elapsed);
}

export interface RepaymentResult {
  allocation: Allocation;
  state: LoanState;
  interestAccrued: bigint;
  penaltyAccrued: bigint;
}

/** Apply a repayment of `amount` at `day`, as the contract's `repay` does. Throws above payoff. */
export function applyRepayment(t: LoanTerms, s: LoanState, day: bigint, amount: bigint): RepaymentResult {
  if (s.status === LoanStatus.Closed) throw new RangeError("loan is closed");
  const p = position(t, s, day);
  if (amount <= 0n || amount > p.payoff) throw new RangeError(`amount ${amount} outside 1..${p.payoff}`);
  const allocation = allocate(p, amount);
  const next: LoanState = {
    ...s,
    penaltyOwed: p.penalty - allocation.penalty,
    interestOwed: p.interest - allocation.interest,
    feeSettled: s.feeSettled + allocation.fee,
    principalSettled: s.principalSettled + allocatedPrincipal(allocation),
  };
  if (s.status === LoanStatus.Active) next.checkpointDay = day;
  if (isSettled(t, next, day)) next.status = LoanStatus.Closed;
  return {
    allocation,
    state: next,
    interestAccrued: p.interest - s.interestOwed,
    penaltyAccrued: p.penalty - s.penaltyOwed,
  };
}

/**
 * The fee a refund of `amount` waives, cumulatively (`LoanServicing._feeWaived`): the share of
 * the total fee of all principal refunded so far, rounded down once, less what earlier refunds
 * waived, at most the fee left; all the fee left when the refund settles the last principal.
 */
export function refundFeeWaived(t: LoanTerms, s: LoanState, amount: bigint): bigint {
  const feeLeft = t.totalFee - s.feeSettled;
  if (s.principalSettled + amount === t.principal) return feeLeft;
  const before = s.principalRefunded;
  return min((t.totalFee * (before + amount)) / t.principal - (t.totalFee * before) / t.principal, feeLeft);
}

/** Apply a merchant refund at `day`, as the contract's `refund` does. */
export function applyRefund(
  t: LoanTerms,
  s: LoanState,
  day: bigint,
  amount: bigint,
): { state: LoanState; feeWaived: bigint } {
  const outstanding = t.principal - s.principalSettled;
  if (amount <= 0n || amount > outstanding) throw new RangeError(`refund ${amount} outside 1..${outstanding}`);
  const c = checkpoint(t, s, day);
  const feeWaived = refundFeeWaived(t, c, amount);
  const next: LoanState = {
    ...c,
    principalSettled: c.principalSettled + amount,
    principalRefunded: c.principalRefunded + amount,
    feeSettled: c.feeSettled + feeWaived,
  };
  if (isSettled(t, next, day)) next.status = LoanStatus.Closed;
  return { state: next, feeWaived };
}

/**
 * A hardship restructure at `time`, as the contract's `restructure` builds it: the remaining
 * principal and the fee billed and unpaid (fees of periods not yet started are waived, as at a
 * payoff, so the payoff never rises) spread over `newPeriods` periods from now, first due
 * `holidayDays` + 30 days later, at `newRatePpmPerDay`; the restructure counters carried on;
 * `daysPastDueCleared` the days past due just before. The bounds (counts, holidays, ceiling,
 * term) are the caller's to check: see `restructureBudgetRefusal` and `withinCostCeiling`.
 */
export function applyRestructure(
  t: LoanTerms,
  s: LoanState,
  time: bigint,
  newPeriods: number,
  holidayDays: bigint,
  newRatePpmPerDay: bigint,
): { terms: LoanTerms; state: LoanState; interestAccrued: bigint; penaltyAccrued: bigint; daysPastDueCleared: bigint } {
  const day = dayOf(t, time);
  const before = position(t, s, day);
  const c = checkpoint(t, s, day);
  const terms: LoanTerms = {
    principal: t.principal - c.principalSettled,
    startTime: time,
    periods: newPeriods,
    method: t.method === RepaymentMethod.Bullet && newPeriods > 1 ? RepaymentMethod.EqualPrincipal : t.method,
    productId: t.productId,
    ratePpmPerDay: newRatePpmPerDay,
    totalFee: before.feesDue,
    firstDueDay: holidayDays + PERIOD_DAYS,
    penaltyPpmPerDay: t.penaltyPpmPerDay,
    writeOffDays: t.writeOffDays,
  };
  return {
    terms,
    state: {
      ...emptyState(),
      interestOwed: c.interestOwed,
      penaltyOwed: c.penaltyOwed,
      restructures: s.restructures + 1n,
      holidayDaysGranted: s.holidayDaysGranted + holidayDays,
    },
    interestAccrued: c.interestOwed - s.interestOwed,
    penaltyAccrued: c.penaltyOwed - s.penaltyOwed,
    daysPastDueCleared: before.daysPastDue,
  };
}

/**
 * Whether the ledger refuses a restructure for its per-loan bounds (before building terms):
 * the `RestructureLimitReached` or `HolidayDaysExceeded` it reverts with, or undefined.
 */
export function restructureBudgetRefusal(
  s: LoanState,
  holidayDays: bigint
): { error: "RestructureLimitReached"; restructures: bigint; max: bigint } | { error: "HolidayDaysExceeded"; requested: bigint; remaining: bigint } | undefined {
  const max = BigInt(LEDGER_LIMITS.maxRestructuresPerLoan);
  if (s.restructures >= max) return { error: "RestructureLimitReached", restructures: s.restructures, max };
  const remaining = LEDGER_LIMITS.maxTotalHolidayDays - s.holidayDaysGranted;
  if (holidayDays > remaining) return { error: "HolidayDaysExceeded", requested: holidayDays, remaining };
  return undefined;
}

// ---------------------------------------------------------------- cost ceiling and APR

/**
 * Present value of the scheduled payments (principal, fee, on-time interest) at an annual
 * rate; terms are within a ceiling iff this is <= principal. Payment k is discounted k 30-day
 * periods at floor(annual x 30 / 365) per period; discount factors round up and the sum
 * rounds up once.
 */
export function presentValueUp(t: LoanTerms, annualRatePpm: bigint): bigint {
  const i = (annualRatePpm * PERIOD_DAYS * WAD) / (DAYS_PER_YEAR * PPM);
  const cum = cumulativePrincipals(t);
  let factor = WAD;
  let sum = 0n;
  for (let k = 1; k <= t.periods; k++) {
    const days = k === 1 ? t.firstDueDay : PERIOD_DAYS;
    const interest = ((t.principal - cum[k - 1]) * t.ratePpmPerDay * days) / PPM;
    const payment = cum[k] - cum[k - 1] + (cumulativeFee(t, k) - cumulativeFee(t, k - 1)) + interest;
    factor = divUp(factor * WAD, WAD + i);
    sum += payment * factor;
  }
  return divUp(sum, WAD);
}

/** Whether the terms are within an annual cost ceiling (the contract's test). */
export function withinCostCeiling(t: LoanTerms, ceilingPpmPerYear: bigint): boolean {
  if (t.totalFee === 0n && t.ratePpmPerDay === 0n) return true;
  return presentValueUp(t, ceilingPpmPerYear) <= t.principal;
}

/**
 * The annualized cost (APR) in ppm/year, IRR-style: the smallest annual rate, to the ppm, at
 * which the present value of the payments is at most the principal (365/30 x the IRR per
 * 30-day period). This is the rate disclosed in quotes; `withinCostCeiling(t, c)` holds
 * exactly when `aprPpm(t) <= c`.
 */
export function aprPpm(t: LoanTerms): bigint {
  if (t.totalFee === 0n && t.ratePpmPerDay === 0n) return 0n;
  let lo = 0n;
  let hi = 1_000_000n;
  while (presentValueUp(t, hi) > t.principal) {
    // A bound, so absurd terms give an error instead of a search that never ends.
    if (hi > MAX_APR_PPM) throw new RangeError(`no APR up to ${MAX_APR_PPM} ppm/year for these terms`);
    hi *= 2n;
  }
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    if (presentValueUp(t, mid) <= t.principal) hi = mid;
    else lo = mid + 1n;
  }
  return lo;
}
