/**
 * Test identities: national id numbers with a valid GB 11643 check digit, and applicant
 * feature vectors of known strength for the v1 scorecard.
 */
import { randomInt } from "node:crypto";

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

/** A national id number with the given 17 leading digits and its check digit. */
export function nationalIdFrom(first17: string): string {
  const sum = WEIGHTS.reduce((acc, w, i) => acc + w * Number(first17[i]), 0);
  return first17 + CHECK[sum % 11];
}

/** A random, valid national id number (region 110101, birth date 1990-01-01, random sequence). */
export function randomNationalId(): string {
  const sequence = String(randomInt(0, 10_000_000)).padStart(7, "0");
  return nationalIdFrom(`1101011990${sequence}`);
}

/** Features that score 920 on the v1 scorecard (approved in the best band). */
export const GOOD_FEATURES = {
  onTimeRepaymentPct: 95,
  utilizationPct: 40,
  tenureMonths: 30,
  overdueCount12m: 0,
  monthlyIncomeYuan: 9000,
  paymentActivityMonths: 10,
};

/** Features that score 650 on the v1 scorecard (the middle band). */
export const MIDDLE_FEATURES = {
  onTimeRepaymentPct: 85,
  utilizationPct: 70,
  tenureMonths: 10,
  overdueCount12m: 1,
  monthlyIncomeYuan: 4000,
  paymentActivityMonths: 5,
};

/** Features that score 350 on the v1 scorecard (declined). */
export const WEAK_FEATURES = {
  onTimeRepaymentPct: 60,
  utilizationPct: 95,
  tenureMonths: 2,
  overdueCount12m: 4,
  monthlyIncomeYuan: 1000,
  paymentActivityMonths: 1,
};
