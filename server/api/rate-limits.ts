/**
 * Per-partner rate limits: each partner may send `ratePerMinute` requests a minute, and
 * `burst` more within the same minute before it is refused; counted per partner (all its keys
 * together), not per key, so a second key buys no more. A refused request gets 429
 * `/problems/rate-limited` with `Retry-After`; every answer to a partner carries the
 * `RateLimit-Limit` (rate plus burst), `RateLimit-Remaining` (of both) and `RateLimit-Reset`
 * headers (IETF draft "RateLimit header fields for HTTP"). The operator's keys (auditor, admin) are not limited.
 *
 * The counting is rate-limiter-flexible's (a well-kept limiter with in-memory, PostgreSQL and
 * Redis stores, so several gateway instances can share one count later): a fixed window of a
 * minute for the rate, a second limiter for the burst. A partner's new settings take effect
 * at its next request.
 */
import type { Response } from "express";
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

import type { PartnerRecord } from "../store/store";
import { ApiError } from "./problems";

const WINDOW_SECONDS = 60;

interface PartnerLimiter {
  ratePerMinute: number;
  burst: number;
  limiter: BurstyRateLimiter;
  /** The burst half of `limiter`, read for the headers (the bursty limiter reports only the rate's points). */
  burstLimiter: RateLimiterMemory;
}

export class PartnerRateLimits {
  private readonly limiters = new Map<string, PartnerLimiter>();

  private limiterOf(partner: PartnerRecord): PartnerLimiter {
    const known = this.limiters.get(partner.id);
    if (known && known.ratePerMinute === partner.ratePerMinute && known.burst === partner.burst) return known;
    const burstLimiter = new RateLimiterMemory({ keyPrefix: "burst", points: Math.max(partner.burst, 0), duration: WINDOW_SECONDS });
    const limiter = new BurstyRateLimiter(
      new RateLimiterMemory({ keyPrefix: "rate", points: partner.ratePerMinute, duration: WINDOW_SECONDS }),
      burstLimiter
    );
    const made = { ratePerMinute: partner.ratePerMinute, burst: partner.burst, limiter, burstLimiter };
    this.limiters.set(partner.id, made);
    return made;
  }

  /** Counts one request of the partner; sets the headers; throws the 429 problem when over the limit. */
  async take(partner: PartnerRecord, res: Response): Promise<void> {
    const { limiter, burstLimiter, ratePerMinute, burst } = this.limiterOf(partner);
    let outcome: RateLimiterRes;
    let refused = false;
    try {
      outcome = await limiter.consume(partner.id, 1);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      outcome = error;
      refused = true;
    }
    const resetSeconds = Math.max(1, Math.ceil(outcome.msBeforeNext / 1000));
    // The headers count the whole minute's allowance, rate and burst: a client that stops at
    // RateLimit-Remaining: 0 must not stop while its burst would still be let through.
    const burstLeft = Math.max(0, burst - ((await burstLimiter.get(partner.id))?.consumedPoints ?? 0));
    res.setHeader("RateLimit-Limit", String(ratePerMinute + burst));
    res.setHeader("RateLimit-Remaining", String(Math.max(0, outcome.remainingPoints) + burstLeft));
    res.setHeader("RateLimit-Reset", String(resetSeconds));
    if (!refused) return;
    res.setHeader("Retry-After", String(resetSeconds));
    throw new ApiError("rate-limited", `more than ${ratePerMinute} requests a minute (and ${partner.burst} more at once): retry after ${resetSeconds} s`, {
      extensions: { retryAfterSeconds: resetSeconds },
    });
  }
}
