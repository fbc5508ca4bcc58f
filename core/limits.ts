/**
 * What a line and an account leave to draw, as the ledger computes it (`CreditLedger._draw`
 * and `_effectiveLimit`): the limit in force is a temporary raise until its expiry, else the
 * line's limit; a drawdown must fit the limit in force (capped by the identity tier), what the
 * line has used, and the account's exposure cap (capped by the tier). Pure.
 */
import type { LedgerAccount, LedgerLine, TierPolicy } from "./ledger-structs";

type LineLimits = Pick<LedgerLine, "limit" | "tempLimit" | "tempExpiry">;

/** Whether a temporary raise is in force at `time` (before its expiry, and above the limit). */
export const temporaryInForce = (line: LineLimits, time: bigint): boolean => time < line.tempExpiry && line.tempLimit > line.limit;

/** The line's limit in force at `time` (the ledger's `effectiveLimit`). */
export const effectiveLimit = (line: LineLimits, time: bigint): bigint => (temporaryInForce(line, time) ? line.tempLimit : line.limit);

const room = (limit: bigint, used: bigint): bigint => (limit > used ? limit - used : 0n);

/** What the line's limit in force leaves after its usage (the tier cap aside). */
export const lineAvailable = (line: LineLimits & Pick<LedgerLine, "used">, time: bigint): bigint => room(effectiveLimit(line, time), line.used);

export interface DrawdownRoom {
  /** The limit in force, capped by the tier's largest line limit. */
  limitInForce: bigint;
  lineAvailable: bigint;
  /** The exposure cap, capped by the tier's largest exposure. */
  exposureCap: bigint;
  exposureAvailable: bigint;
}

/**
 * What a drawdown on `line` may take at `time`. `tier` undefined (a tier with no policy) caps
 * nothing here: the ledger refuses such a tier when an account is opened in it.
 */
export function drawdownRoom(
  line: LineLimits & Pick<LedgerLine, "used">,
  account: Pick<LedgerAccount, "exposureCap" | "used">,
  tier: TierPolicy | undefined,
  time: bigint
): DrawdownRoom {
  let limitInForce = effectiveLimit(line, time);
  if (tier && limitInForce > tier.maxLineLimit) limitInForce = tier.maxLineLimit;
  const exposureCap = tier && tier.maxExposure < account.exposureCap ? tier.maxExposure : account.exposureCap;
  return { limitInForce, lineAvailable: room(limitInForce, line.used), exposureCap, exposureAvailable: room(exposureCap, account.used) };
}
