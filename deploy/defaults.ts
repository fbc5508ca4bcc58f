/**
 * The ledger's default configuration: products, identity tiers and roles' reason codes. The
 * deployment module applies it; tests and the local system use it. Amounts are fen, rates
 * ppm (per day for interest and penalty, per year for the cost ceiling).
 */
import { PRODUCT_IDS } from "../core/names";

export const PRODUCT_KIND = { PayLater: 1, CashLoan: 2 } as const;

/** Bit mask of allowed period counts (bit n set: n periods allowed). */
export const periodsMask = (counts: readonly number[]): number => counts.reduce((m, n) => m | (1 << n), 0);

export type ProductConfig = {
  kind: number;
  graceDays: number;
  allowedPeriods: number;
  penaltyPpmPerDay: number;
  costCeilingPpmPerYear: number;
  writeOffDays: number;
  active: boolean;
  /** Total installment fee (ppm of principal) for 3, 6, 9 and 12 periods. */
  installmentFeePpm: [number, number, number, number];
};

/** The product ids the gateway names pay_later and cash_loan (core/names.ts). */
export const PAY_LATER_ID = PRODUCT_IDS.pay_later;
export const CASH_LOAN_ID = PRODUCT_IDS.cash_loan;

/** Pay-later (Huabei-like): 40 days interest-free, 3/6/9/12 installments at 2.3/4.5/6.0/7.5 %. */
export const PAY_LATER: ProductConfig = {
  kind: PRODUCT_KIND.PayLater,
  graceDays: 40,
  allowedPeriods: periodsMask([1, 3, 6, 9, 12]),
  penaltyPpmPerDay: 500,
  costCeilingPpmPerYear: 240_000,
  writeOffDays: 180,
  active: true,
  installmentFeePpm: [23_000, 45_000, 60_000, 75_000],
};

/** Cash loan (Jiebei-like): 3 to 12 monthly periods, daily interest, 0.05 %/day penalty. */
export const CASH_LOAN: ProductConfig = {
  kind: PRODUCT_KIND.CashLoan,
  graceDays: 0,
  allowedPeriods: periodsMask([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
  penaltyPpmPerDay: 500,
  costCeilingPpmPerYear: 240_000,
  writeOffDays: 180,
  active: true,
  installmentFeePpm: [0, 0, 0, 0],
};

export type TierConfig = {
  maxLineLimit: bigint;
  maxExposure: bigint;
};

/**
 * Identity tiers: 0 = behavioural score only (small limits), 1 = verified identity,
 * 2 = verified identity with income evidence.
 */
export const TIERS: Record<number, TierConfig> = {
  0: { maxLineLimit: 500_000n, maxExposure: 800_000n },
  1: { maxLineLimit: 5_000_000n, maxExposure: 8_000_000n },
  2: { maxLineLimit: 20_000_000n, maxExposure: 30_000_000n },
};
