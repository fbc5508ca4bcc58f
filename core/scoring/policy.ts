/**
 * Credit policy: maps a score and the applicant's identity tier to an outcome, a limit and a
 * daily rate per product. Limits are capped by the tier's policy (small limits on the
 * behavioural score alone; larger ones only with verified identity): the caller passes the
 * caps the ledger enforces, read from the chain (`tierPolicyOf`). Pure.
 */
import type { TierPolicy } from "../ledger-structs";
import type { ProductName } from "../names";

export interface PolicyBand {
  /** Lowest score in the band (inclusive). */
  minScore: number;
  /** Line limit in fen before the tier cap. */
  limit: Record<ProductName, bigint>;
  /** Daily interest rate for cash loans, ppm/day. */
  cashRatePpmPerDay: bigint;
}

/** Bands from the best down; a score below the last band is declined. */
export const POLICY_BANDS: readonly PolicyBand[] = [
  { minScore: 750, limit: { pay_later: 2_000_000n, cash_loan: 5_000_000n }, cashRatePpmPerDay: 300n },
  { minScore: 650, limit: { pay_later: 1_000_000n, cash_loan: 2_000_000n }, cashRatePpmPerDay: 450n },
  { minScore: 550, limit: { pay_later: 300_000n, cash_loan: 500_000n }, cashRatePpmPerDay: 600n },
];

/** Reason code added to a decline because the score is below every band. */
export const REASON_SCORE_TOO_LOW = 900;

export interface PolicyDecision {
  approved: boolean;
  limit: bigint;
  ratePpmPerDay: bigint;
  /** Set when the tier cap lowered the band's limit. */
  cappedByTier: boolean;
}

/** The decision for `score`; a tier with no policy on the ledger (`caps` undefined or a zero cap, as the ledger reads it) declines. */
export function decide(score: number, caps: Pick<TierPolicy, "maxLineLimit"> | undefined, product: ProductName): PolicyDecision {
  const band = POLICY_BANDS.find((b) => score >= b.minScore);
  if (!band || !caps || caps.maxLineLimit === 0n) return { approved: false, limit: 0n, ratePpmPerDay: 0n, cappedByTier: false };
  const wanted = band.limit[product];
  const limit = wanted < caps.maxLineLimit ? wanted : caps.maxLineLimit;
  return {
    approved: true,
    limit,
    ratePpmPerDay: product === "cash_loan" ? band.cashRatePpmPerDay : 0n,
    cappedByTier: limit < wanted,
  };
}
