/**
 * A restructure never raises what closes the loan: for random loans (purchases in installments
 * with their fee, cash loans with daily interest), random repayment and refund histories, any
 * day and any new terms the ledger would take (1..36 periods, a holiday, a rate no higher), the
 * payoff right after `applyRestructure` is at most the payoff right before, and the new terms
 * carry no more fee than was left. The mirror is the contract's to the unit
 * (test/differential/ledger.test.ts also checks this on the real ledger at every restructure).
 */
import { expect } from "chai";
import fc from "fast-check";

import {
  applyRefund,
  applyRepayment,
  applyRestructure,
  DAY,
  emptyState,
  installmentFee,
  LoanStatus,
  position,
  RepaymentMethod,
  type LoanState,
  type LoanTerms,
} from "../../core/loan-math";
import { fuzzParameters, fuzzRuns } from "../helpers/fuzz";
import { show } from "../helpers/mirror";

const RUNS = fuzzRuns(2_000);
const START = 1_800_000_000n;

const termsArb: fc.Arbitrary<LoanTerms> = fc.oneof(
  fc
    .record({
      principal: fc.bigInt({ min: 1n, max: 5_000_000n }),
      periods: fc.constantFrom(1, 3, 6, 9, 12),
      feePpm: fc.constantFrom(23_000n, 45_000n, 60_000n, 75_000n, 200_000n),
    })
    .map(({ principal, periods, feePpm }) => ({
      principal,
      startTime: START,
      periods,
      method: periods === 1 ? RepaymentMethod.Bullet : RepaymentMethod.EqualPrincipal,
      productId: 1,
      ratePpmPerDay: 0n,
      totalFee: periods === 1 ? 0n : installmentFee(principal, feePpm),
      firstDueDay: 40n,
      penaltyPpmPerDay: 500n,
      writeOffDays: 180n,
    })),
  fc
    .record({
      principal: fc.bigInt({ min: 1n, max: 5_000_000n }),
      periods: fc.integer({ min: 3, max: 12 }),
      method: fc.constantFrom(RepaymentMethod.EqualPrincipal, RepaymentMethod.Annuity),
      rate: fc.bigInt({ min: 0n, max: 1_000n }),
    })
    .map(({ principal, periods, method, rate }) => ({
      principal,
      startTime: START,
      periods,
      method,
      productId: 2,
      ratePpmPerDay: rate,
      totalFee: 0n,
      firstDueDay: 30n,
      penaltyPpmPerDay: 500n,
      writeOffDays: 180n,
    }))
);

/** A history step: after some days, repay or refund a share (ppm) of the payoff or principal. */
const stepArb = fc.record({
  days: fc.integer({ min: 0, max: 60 }),
  kind: fc.constantFrom("repay", "refund"),
  ppm: fc.integer({ min: 1, max: 1_000_000 }),
});

function replay(t: LoanTerms, steps: { days: number; kind: string; ppm: number }[]): { state: LoanState; day: bigint } {
  let s = emptyState();
  let day = 0n;
  for (const step of steps) {
    if (s.status !== LoanStatus.Active) break;
    day += BigInt(step.days);
    if (step.kind === "refund" && t.productId === 1) {
      const outstanding = t.principal - s.principalSettled;
      const amount = (outstanding * BigInt(step.ppm)) / 1_000_000n;
      if (amount > 0n) s = applyRefund(t, s, day, amount).state;
    } else {
      const amount = (position(t, s, day).payoff * BigInt(step.ppm)) / 1_000_000n;
      if (amount > 0n) s = applyRepayment(t, s, day, amount).state;
    }
  }
  return { state: s, day };
}

describe("restructure: the payoff never rises", function () {
  it(`keeps the payoff right after a restructure at most the payoff right before (${RUNS} random loans)`, async function () {
    const arb = fc.record({
      terms: termsArb,
      steps: fc.array(stepArb, { maxLength: 5 }),
      laterDays: fc.integer({ min: 0, max: 400 }),
      newPeriods: fc.integer({ min: 1, max: 36 }),
      holidayDays: fc.integer({ min: 0, max: 180 }),
      ratePpm: fc.integer({ min: 0, max: 1_000_000 }),
    });
    fc.assert(
      fc.property(arb, ({ terms, steps, laterDays, newPeriods, holidayDays, ratePpm }) => {
        const { state, day: lastDay } = replay(terms, steps);
        if (state.status !== LoanStatus.Active || state.principalSettled === terms.principal) return;
        const day = lastDay + BigInt(laterDays);
        const time = terms.startTime + day * DAY + 60n;
        const newRate = (terms.ratePpmPerDay * BigInt(ratePpm)) / 1_000_000n;
        const before = position(terms, state, day);
        const r = applyRestructure(terms, state, time, newPeriods, BigInt(holidayDays), newRate);
        const after = position(r.terms, r.state, 0n);
        const what = `${show({ terms, state })} restructured on day ${day} to ${show(r.terms)}`;
        expect(after.payoff <= before.payoff, `payoff ${after.payoff} after, ${before.payoff} before: ${what}`).to.equal(true);
        expect(r.terms.totalFee <= terms.totalFee - state.feeSettled, `fee carried: ${what}`).to.equal(true);
        expect(r.terms.totalFee, `the fee carried is the fee owed now: ${what}`).to.equal(before.feesDue);
        expect(r.daysPastDueCleared, what).to.equal(before.daysPastDue);
      }),
      fuzzParameters(RUNS)
    );
  });
});
