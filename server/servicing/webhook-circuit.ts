/**
 * A circuit breaker per webhook endpoint (one subscription): after `failures` consecutive failed
 * attempts the circuit opens and no attempt is made for `cooldownMs`; the deliveries wait,
 * still pending (an open circuit fails nothing). Then one attempt goes as a probe (half-open):
 * its success closes the circuit, its failure opens it for another cool-down. Any success
 * closes it. Pure: the time is passed in, so tests move it.
 *
 *   closed --(failures in a row)--> open --(cool-down over: one probe)--> half-open
 *   half-open --(probe succeeds)--> closed        half-open --(probe fails)--> open
 */

export type CircuitState = "closed" | "open" | "half-open";

/** A change of an endpoint's state, for the log and the metrics. */
export interface CircuitChange {
  endpoint: string;
  from: CircuitState;
  to: CircuitState;
  /** Consecutive failed attempts so far. */
  failures: number;
  /** When an open circuit lets a probe through (null unless `to` is open). */
  probeAtMs: number | null;
}

/** Whether an attempt may go now: as a normal one, as the half-open probe, or not at all. */
export type Admission = "attempt" | "probe" | "wait";

type Entry = { state: "closed"; failures: number } | { state: "open"; failures: number; untilMs: number } | { state: "half-open"; failures: number };

export class Circuits {
  readonly #entries = new Map<string, Entry>();

  constructor(private readonly settings: { failures: number; cooldownMs: number }) {}

  stateOf(endpoint: string): CircuitState {
    return this.#entries.get(endpoint)?.state ?? "closed";
  }

  /** Endpoints that get no attempt at `nowMs`: open and cooling down, or half-open with the probe under way. */
  waiting(nowMs: number): string[] {
    return [...this.#entries].filter(([, e]) => e.state === "half-open" || (e.state === "open" && nowMs < e.untilMs)).map(([endpoint]) => endpoint);
  }

  /** May an attempt go to `endpoint` now? A cool-down that is over turns into the one probe (half-open). */
  admit(endpoint: string, nowMs: number): { admission: Admission; change?: CircuitChange } {
    const e = this.#entries.get(endpoint);
    if (!e || e.state === "closed") return { admission: "attempt" };
    if (e.state === "half-open" || nowMs < e.untilMs) return { admission: "wait" };
    this.#entries.set(endpoint, { state: "half-open", failures: e.failures });
    return { admission: "probe", change: { endpoint, from: "open", to: "half-open", failures: e.failures, probeAtMs: null } };
  }

  /** The outcome of an attempt (`probe`: the one the half-open circuit let through). */
  record(endpoint: string, ok: boolean, nowMs: number, probe: boolean): CircuitChange | undefined {
    const e = this.#entries.get(endpoint) ?? { state: "closed", failures: 0 };
    if (ok) {
      this.#entries.delete(endpoint);
      return e.state === "closed" ? undefined : { endpoint, from: e.state, to: "closed", failures: 0, probeAtMs: null };
    }
    const failures = e.failures + 1;
    const open = (from: CircuitState): CircuitChange => {
      const untilMs = nowMs + this.settings.cooldownMs;
      this.#entries.set(endpoint, { state: "open", failures, untilMs });
      return { endpoint, from, to: "open", failures, probeAtMs: untilMs };
    };
    if (e.state === "half-open") {
      if (probe) return open("half-open");
      this.#entries.set(endpoint, { ...e, failures }); // an attempt admitted before the circuit opened: the probe decides
      return undefined;
    }
    if (e.state === "open") {
      this.#entries.set(endpoint, { ...e, failures });
      return undefined;
    }
    if (failures >= this.settings.failures) return open("closed");
    this.#entries.set(endpoint, { state: "closed", failures });
    return undefined;
  }

  /** Forgets an endpoint (its subscription was deleted). */
  forget(endpoint: string): void {
    this.#entries.delete(endpoint);
  }
}
