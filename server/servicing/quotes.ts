/**
 * Quotes: the terms a purchase or cash loan would be drawn with, built exactly as the ledger
 * builds them (`CreditLedger.purchase` / `drawCash`), and what they cost if every payment is
 * made on its due date: the schedule with each period's interest, the totals and the APR
 * (`aprPpm` of the mirror, IRR-style, the figure the cost ceiling is tested against). Pure.
 */
import {
  aprPpm,
  cumulativeFee,
  cumulativePrincipals,
  dueDay,
  DAY,
  installmentFee,
  PERIOD_DAYS,
  PPM,
  RepaymentMethod,
  withinCostCeiling,
  type LoanTerms,
} from "../../core/loan-math";

/** The product terms a quote needs (as `ICreditLedger.Product`). */
export interface ProductTerms {
  graceDays: bigint;
  costCeilingPpmPerYear: bigint;
  penaltyPpmPerDay: bigint;
  installmentFeePpm: bigint[];
}

/** A pay-later purchase's terms: single payment free until the grace end, or installments with their fee. */
export function purchaseTerms(
  productId: number,
  product: ProductTerms,
  amount: bigint,
  periods: number,
  startTime: bigint
): LoanTerms {
  const feePpm = periods === 1 ? 0n : product.installmentFeePpm[periods / 3 - 1];
  return {
    principal: amount,
    startTime,
    periods,
    method: periods === 1 ? RepaymentMethod.Bullet : RepaymentMethod.EqualPrincipal,
    productId,
    ratePpmPerDay: 0n,
    totalFee: periods === 1 ? 0n : installmentFee(amount, feePpm),
    firstDueDay: product.graceDays,
    penaltyPpmPerDay: product.penaltyPpmPerDay,
  };
}

/** A cash loan's terms at the line's daily rate, first due 30 days after drawing. */
export function cashLoanTerms(
  productId: number,
  product: Pick<ProductTerms, "penaltyPpmPerDay">,
  amount: bigint,
  periods: number,
  method: RepaymentMethod,
  ratePpmPerDay: bigint,
  startTime: bigint
): LoanTerms {
  return {
    principal: amount,
    startTime,
    periods,
    method,
    productId,
    ratePpmPerDay,
    totalFee: 0n,
    firstDueDay: PERIOD_DAYS,
    penaltyPpmPerDay: product.penaltyPpmPerDay,
  };
}

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
  return aprPpm(cashLoanTerms(productId, { penaltyPpmPerDay: 0n }, limit, 12, RepaymentMethod.Annuity, ratePpmPerDay, 0n));
}
