/**
 * Reading loans back in the TypeScript mirror's types, and placing the next transaction on a
 * chosen day of a loan (days are whole days since the loan's start, as in `LoanMath.dayOf`).
 */
import { time } from "@nomicfoundation/hardhat-network-helpers";

import type { LoanState, LoanTerms } from "../../core/loan-math";
import { DAY, type Ledger } from "./fixtures";

/** A loan's terms and state as the mirror (`core/loan-math.ts`) takes them. */
export async function loanOf(l: Ledger, account: string, loanNo: bigint): Promise<{ terms: LoanTerms; state: LoanState }> {
  const [t, s] = await l.ledger.loanOf(account, loanNo);
  return {
    terms: {
      principal: t.principal,
      startTime: t.startTime,
      periods: Number(t.periods),
      method: Number(t.method),
      productId: Number(t.productId),
      ratePpmPerDay: t.ratePpmPerDay,
      totalFee: t.totalFee,
      firstDueDay: t.firstDueDay,
      penaltyPpmPerDay: t.penaltyPpmPerDay,
      writeOffDays: t.writeOffDays,
    },
    state: {
      principalSettled: s.principalSettled,
      feeSettled: s.feeSettled,
      interestOwed: s.interestOwed,
      penaltyOwed: s.penaltyOwed,
      checkpointDay: s.checkpointDay,
      status: Number(s.status),
      principalRefunded: s.principalRefunded,
      restructures: s.restructures,
      holidayDaysGranted: s.holidayDaysGranted,
    },
  };
}

/** The loan's start time. */
export async function startOf(l: Ledger, account: string, loanNo: bigint): Promise<bigint> {
  return (await l.ledger.loanOf(account, loanNo))[0].startTime;
}

/** A time inside day `day` of a loan started at `start` (one minute past the day boundary). */
export const timeOnDay = (start: bigint, day: number): bigint => start + BigInt(day) * BigInt(DAY) + 60n;

/** Mine the next transaction inside day `day` of the loan started at `start`; returns that time. */
export async function nextTxOnDay(start: bigint, day: number): Promise<bigint> {
  const t = timeOnDay(start, day);
  await time.setNextBlockTimestamp(t);
  return t;
}
