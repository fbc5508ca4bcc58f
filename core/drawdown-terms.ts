/**
 * The terms a drawdown gets, built exactly as the ledger builds them (`CreditLedger.purchase`
 * and `drawCash`): which period counts a product allows, and the loan terms of a purchase or
 * a cash loan. The gateway quotes with these; the verifier checks every Drawn entry's terms
 * against them. Pure.
 */
import { LEDGER_LIMITS, installmentFee, PERIOD_DAYS, ProductKind, RepaymentMethod, type LoanTerms } from "./loan-math";
import type { LedgerProduct } from "./ledger-structs";

/** What building terms needs of a product. */
export type DrawdownProduct = Pick<LedgerProduct, "kind" | "graceDays" | "allowedPeriods" | "penaltyPpmPerDay" | "writeOffDays" | "installmentFeePpm">;

/** Whether the product's bit mask allows `periods` (bit n set: n periods; the mask is 16 bits wide). */
export const periodsInMask = (allowedPeriods: number, periods: number): boolean =>
  Number.isInteger(periods) && periods >= 0 && periods < 16 && ((allowedPeriods >> periods) & 1) === 1;

/**
 * Whether the ledger draws a loan of `periods` periods on the product: a purchase pays once or
 * in 3, 6, 9 or 12 installments; a cash loan runs 3 to 12 periods; and the product's mask
 * allows the count.
 */
export function periodsAllowed(product: Pick<LedgerProduct, "kind" | "allowedPeriods">, periods: number): boolean {
  if (!periodsInMask(product.allowedPeriods, periods)) return false;
  if (product.kind === ProductKind.PayLater) return periods === 1 || (periods % 3 === 0 && periods <= 12);
  if (product.kind === ProductKind.CashLoan) return periods >= LEDGER_LIMITS.minCashPeriods && periods <= LEDGER_LIMITS.maxCashPeriods;
  return false;
}

/** A pay-later purchase's terms: a single payment free until the grace end, or installments with their fee. */
export function purchaseTerms(productId: number, product: DrawdownProduct, amount: bigint, periods: number, startTime: bigint): LoanTerms {
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
    writeOffDays: product.writeOffDays,
  };
}

/** A cash loan's terms at the line's daily rate, first due 30 days after drawing. */
export function cashLoanTerms(
  productId: number,
  product: Pick<DrawdownProduct, "penaltyPpmPerDay" | "writeOffDays">,
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
    writeOffDays: product.writeOffDays,
  };
}

export interface DrawdownRequest {
  amount: bigint;
  periods: number;
  /** A cash loan's method (a purchase's follows from its periods). */
  method: RepaymentMethod;
}

/**
 * The terms the ledger gives a drawdown on `product` at `time` (the line's rate for a cash
 * loan), or undefined when it refuses the periods or the method.
 */
export function drawdownTerms(
  productId: number,
  product: DrawdownProduct,
  line: { ratePpmPerDay: bigint },
  request: DrawdownRequest,
  time: bigint
): LoanTerms | undefined {
  if (!periodsAllowed(product, request.periods)) return undefined;
  if (product.kind === ProductKind.PayLater) return purchaseTerms(productId, product, request.amount, request.periods, time);
  if (request.method === RepaymentMethod.Bullet) return undefined;
  return cashLoanTerms(productId, product, request.amount, request.periods, request.method, line.ratePpmPerDay, time);
}
