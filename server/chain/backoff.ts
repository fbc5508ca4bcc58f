/**
 * Exponential backoff with jitter for transient RPC failures: attempt n waits a random
 * time up to min(maxMs, initialMs x 2^(n-1)). The randomness is injected (a number in [0, 1)).
 */

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 30_000 };

export function backoffDelay(policy: BackoffPolicy, attempt: number, unit: number = Math.random()): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.floor(ceiling / 2 + (ceiling / 2) * unit);
}

/** A sleep that can be cut short (to wake a poller when work arrives or when stopping). */
export class Sleeper {
  private wake?: () => void;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.wake === done) self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  interrupt(): void {
    this.wake?.();
  }
}
