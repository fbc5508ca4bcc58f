/**
 * Velocity rules: signs that a line is being drained by someone who is not its borrower, or
 * by a ring. A drawdown that trips one does not draw: the line is frozen (an explicit
 * unfreeze by an admin is the only way back) and an `alert.velocity` event goes out. Pure:
 * the policy, the drawdown and the account's recent facts go in, a verdict comes out.
 *
 *   drawdowns_per_hour  more than N drawdowns accepted on the account in the last hour
 *   amount_spike        a drawdown above M x the mean of the account's earlier drawdowns
 *                       (judged only once the account has at least K of them)
 *   shared_device       more than N accounts applied from the account's device
 *   shared_phone        more than N accounts with the account's phone number
 */

export interface VelocityPolicy {
  maxDrawdownsPerHour: number;
  spikeMultiple: number;
  spikeMinHistory: number;
  maxAccountsPerDevice: number;
  maxAccountsPerPhone: number;
}

export type VelocityRule = "drawdowns_per_hour" | "amount_spike" | "shared_device" | "shared_phone";

/** Reason codes recorded on-chain with the freeze, one per rule. */
export const VELOCITY_REASON_CODES: Record<VelocityRule, number> = {
  drawdowns_per_hour: 7101,
  amount_spike: 7102,
  shared_device: 7103,
  shared_phone: 7104,
};

export interface VelocityInput {
  /** Milliseconds since the epoch (the gateway's clock: the same one that dates drawdowns). */
  nowMs: number;
  amount: bigint;
  /** The account's earlier drawdowns of the same product that were not refused. */
  history: ReadonlyArray<{ atMs: number; amount: bigint }>;
  /** Accounts (this one included) sharing the account's device / phone; 0 when unknown. */
  accountsOnDevice: number;
  accountsOnPhone: number;
}

export type VelocityVerdict = { tripped: false } | { tripped: true; rule: VelocityRule; reasonCode: number; detail: string };

const HOUR_MS = 3_600_000;

export function screenDrawdown(policy: VelocityPolicy, input: VelocityInput): VelocityVerdict {
  const trip = (rule: VelocityRule, detail: string): VelocityVerdict => ({
    tripped: true,
    rule,
    reasonCode: VELOCITY_REASON_CODES[rule],
    detail,
  });
  const lastHour = input.history.filter((d) => d.atMs > input.nowMs - HOUR_MS && d.atMs <= input.nowMs).length;
  if (lastHour + 1 > policy.maxDrawdownsPerHour) {
    return trip("drawdowns_per_hour", `drawdown ${lastHour + 1} within an hour; at most ${policy.maxDrawdownsPerHour} allowed`);
  }
  const n = BigInt(input.history.length);
  if (input.history.length >= policy.spikeMinHistory) {
    const sum = input.history.reduce((s, d) => s + d.amount, 0n);
    if (input.amount * n > sum * BigInt(policy.spikeMultiple)) {
      return trip("amount_spike", `${input.amount} fen is above ${policy.spikeMultiple} x the mean of ${n} earlier drawdowns (${sum / n} fen)`);
    }
  }
  if (input.accountsOnDevice > policy.maxAccountsPerDevice) {
    return trip("shared_device", `${input.accountsOnDevice} accounts applied from this device; at most ${policy.maxAccountsPerDevice} allowed`);
  }
  if (input.accountsOnPhone > policy.maxAccountsPerPhone) {
    return trip("shared_phone", `${input.accountsOnPhone} accounts share this phone number; at most ${policy.maxAccountsPerPhone} allowed`);
  }
  return { tripped: false };
}
