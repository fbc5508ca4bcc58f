/**
 * Time as an injected edge: the gateway reads the time only through a `Clock`, so tests can
 * put it where the chain's time is (after moving the chain forward) without waiting.
 */

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** Whole seconds since the Unix epoch (what the ledger's timestamps use). */
export const nowSeconds = (clock: Clock): bigint => BigInt(Math.floor(clock.nowMs() / 1000));

/** A clock that stands still until moved: for tests and replays. */
export class ManualClock implements Clock {
  constructor(private ms: number) {}
  nowMs(): number {
    return this.ms;
  }
  setSeconds(seconds: bigint | number): void {
    this.ms = Number(seconds) * 1000;
  }
  advanceMs(ms: number): void {
    this.ms += ms;
  }
}
