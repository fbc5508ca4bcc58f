/**
 * Pricing: what a loan's terms (drawdown-terms.ts builds them as the ledger does) cost if every
 * payment is made on its due date: the schedule with each period's interest, the totals and
 * the APR (`aprPpm` of the mirror, IRR-style, the figure the cost ceiling is tested against).
 * Quotes, drawdown answers and approvals disclose these figures. Pure.
 */
import {
  aprPpm,
  cumulativeFee,
  cumulativePrincipals,
  dueDay,
  DAY,
  PERIOD_DAYS,
  PPM,
  RepaymentMethod,
  withinCostCeiling,
  type LoanTerms,
} from "./loan-math";
import { cashLoanTerms } from "./drawdown-terms";

export interface QuotedInstallment {
  period: number;
  dueTime: bigint;
  principal: bigint;
  fee: bigint;
  /** Interest for the period if every payment is made on its due date. */
  interest: bigint;
  total: bigint;
}

export interface Quote {
  terms: LoanTerms;
  schedule: QuotedInstallment[];
  totalFee: bigint;
  totalInterest: bigint;
  /** Fees and interest: what credit costs on top of the principal. */
  totalCost: bigint;
  totalRepayment: bigint;
  aprPpm: bigint;
  withinCostCeiling: boolean;
}

export function quote(terms: LoanTerms, costCeilingPpmPerYear: bigint): Quote {
  const cum = cumulativePrincipals(terms);
  const schedule: QuotedInstallment[] = [];
  for (let k = 1; k <= terms.periods; k++) {
    const days = k === 1 ? terms.firstDueDay : PERIOD_DAYS;
    const interest = ((terms.principal - cum[k - 1]) * terms.ratePpmPerDay * days) / PPM;
    const principal = cum[k] - cum[k - 1];
    const fee = cumulativeFee(terms, k) - cumulativeFee(terms, k - 1);
    schedule.push({
      period: k,
      dueTime: terms.startTime + dueDay(terms, k) * DAY,
      principal,
      fee,
      interest,
      total: principal + fee + interest,
    });
  }
  const totalInterest = schedule.reduce((s, i) => s + i.interest, 0n);
  const totalCost = terms.totalFee + totalInterest;
  return {
    terms,
    schedule,
    totalFee: terms.totalFee,
    totalInterest,
    totalCost,
    totalRepayment: terms.principal + totalCost,
    aprPpm: aprPpm(terms),
    withinCostCeiling: withinCostCeiling(terms, costCeilingPpmPerYear),
  };
}

/** The APR disclosed with a cash-loan approval: a representative 12-period annuity of the limit at the approved rate. */
export function representativeCashApr(productId: number, limit: bigint, ratePpmPerDay: bigint): bigint {
  if (limit === 0n || ratePpmPerDay === 0n) return 0n;
  // On-time payments: the penalty rate does not enter the APR.
  return aprPpm(cashLoanTerms(productId, { penaltyPpmPerDay: 0n, writeOffDays: 0n }, limit, 12, RepaymentMethod.Annuity, ratePpmPerDay, 0n));
}
