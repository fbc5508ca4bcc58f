/**
 * The business clock: the time servicing and the API's "now" run on. It is the gateway's clock
 * plus an offset that only moves forward, and only in development mode, when an admin
 * advances the chain's time (evm_increaseTime) to see a loan's days go by: afterwards the
 * business clock reads the chain's time. The offset is persisted, so a restart keeps it.
 */
import type { Clock } from "../clock";

export const CLOCK_OFFSET_KEY = "business_clock_offset_ms";

export class BusinessClock implements Clock {
  constructor(private readonly base: Clock, private offset = 0) {}

  nowMs(): number {
    return this.base.nowMs() + this.offset;
  }

  get offsetMs(): number {
    return this.offset;
  }

  /** Makes the clock read `targetMs` now (never moving it backwards); returns the new offset. */
  catchUpTo(targetMs: number): number {
    const wanted = targetMs - this.base.nowMs();
    if (wanted > this.offset) this.offset = wanted;
    return this.offset;
  }
}
