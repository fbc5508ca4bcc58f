/**
 * A decision as the scorer computes it: everything but the fields set when it is signed
 * (purpose Line, subject zero, the scorer's address, nonce, issuedAt and deadline).
 */
import type { DecisionDraft } from "../core/decision";

export type { DecisionDraft };

/** Fields of `a` and `b` that differ (bigints compared by value, reason codes slot by slot). */
export function differingFields(a: DecisionDraft, b: DecisionDraft): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof DecisionDraft>;
  const same = (x: unknown, y: unknown): boolean => {
    if (typeof x === "string" && typeof y === "string") return x.toLowerCase() === y.toLowerCase();
    if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => same(v, y[i]));
    if ((typeof x === "bigint" || typeof x === "number") && (typeof y === "bigint" || typeof y === "number")) {
      return BigInt(x) === BigInt(y);
    }
    return x === y;
  };
  return [...keys].filter((k) => !same(a[k], b[k])).sort();
}
