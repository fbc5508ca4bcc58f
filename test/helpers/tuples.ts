/**
 * Struct values as the positional tuples hardhat-chai-matchers compares event and error
 * arguments with (`.withArgs(...)` matches a struct field by field only when given an array in
 * the struct's declaration order, as in `ICreditLedger.sol`).
 */
import type { ProductConfig, TierConfig } from "../../deploy/defaults";
import type { Decision } from "../../core/decision";
import type { Allocation, LoanTerms } from "../../core/loan-math";

/** `ICreditLedger.Decision`. */
export const decisionTuple = (d: Decision): unknown[] => [
  d.account,
  d.purpose,
  d.productId,
  d.approved,
  d.tier,
  d.score,
  d.limit,
  d.limitExpiry,
  d.ratePpmPerDay,
  d.modelId,
  d.featuresHash,
  [...d.reasonCodes],
  d.subject,
  d.scorer,
  d.nonce,
  d.issuedAt,
  d.deadline,
];

/** `ICreditLedger.Product`. */
export const productTuple = (p: ProductConfig): unknown[] => [
  p.kind,
  p.graceDays,
  p.allowedPeriods,
  p.penaltyPpmPerDay,
  p.costCeilingPpmPerYear,
  p.writeOffDays,
  p.active,
  [...p.installmentFeePpm],
];

/** A product slot that was never configured. */
export const EMPTY_PRODUCT: ProductConfig = {
  kind: 0,
  graceDays: 0,
  allowedPeriods: 0,
  penaltyPpmPerDay: 0,
  costCeilingPpmPerYear: 0,
  writeOffDays: 0,
  active: false,
  installmentFeePpm: [0, 0, 0, 0],
};

/** `ICreditLedger.TierPolicy`. */
export const tierTuple = (t: TierConfig): unknown[] => [t.maxLineLimit, t.maxExposure];

/** `ICreditLedger.LoanTerms`. */
export const termsTuple = (t: LoanTerms): unknown[] => [
  t.principal,
  t.startTime,
  t.periods,
  t.method,
  t.productId,
  t.ratePpmPerDay,
  t.totalFee,
  t.firstDueDay,
  t.penaltyPpmPerDay,
  t.writeOffDays,
];

/** `ICreditLedger.Allocation`, from the buckets that received something (the rest are 0). */
export const allocationTuple = (a: Partial<Allocation>): unknown[] => [
  a.penalty ?? 0n,
  a.fee ?? 0n,
  a.interest ?? 0n,
  a.overduePrincipal ?? 0n,
  a.currentPrincipal ?? 0n,
  a.prepaidPrincipal ?? 0n,
];
