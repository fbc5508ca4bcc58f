/**
 * JSON, in one place. Chain integers are bigint everywhere in the code; JSON has no bigint, so
 * every way a value leaves as JSON goes through one rule, `jsonValue` (a bigint becomes its
 * decimal string), and the two texts built on it:
 *
 *   jsonValue(v)       the value with every bigint as a decimal string (HTTP bodies, problem
 *                      documents, webhook bodies, decoded events shown to partners)
 *   canonicalJson(v)   RFC 8785-style text: object keys sorted at every level, no whitespace,
 *                      undefined members left out. The model id and the features hash that go
 *                      on-chain with a decision are keccak256 of it (`canonicalHash`), so an
 *                      auditor holding the model file and the features can recompute both; the
 *                      idempotency fingerprint of a request body is built on it too.
 *   taggedJson(v)      the database's text, reversible: a bigint is kept as {"$bigint":"<decimal>"}
 *                      so `fromTaggedJson` gives the bigint back (the decimal-string rule cannot
 *                      tell an amount from a string that looks like one).
 */
import { keccak256, toUtf8Bytes } from "ethers";

/** `value` with every bigint (at any depth) as its decimal string; everything else as it is. */
export function jsonValue(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, jsonValue(v)]));
  }
  return value;
}

export interface CanonicalOptions {
  /**
   * Accept numbers that are not safe integers (default: refused, so hashed data holds no
   * floats). A request fingerprint takes any JSON body as it came.
   */
  anyNumber?: boolean;
}

/** Canonical JSON of `value`: keys sorted, no whitespace, bigints as decimal strings, undefined members dropped. */
export function canonicalJson(value: unknown, options: CanonicalOptions = {}): string {
  const encode = (v: unknown): string => {
    if (v === null || typeof v === "boolean" || typeof v === "string") return JSON.stringify(v);
    if (typeof v === "number") {
      if (!Number.isSafeInteger(v) && !options.anyNumber) throw new TypeError(`canonical JSON takes safe integers only, got ${v}`);
      return JSON.stringify(v);
    }
    if (typeof v === "bigint") return JSON.stringify(v.toString());
    if (Array.isArray(v)) return `[${v.map(encode).join(",")}]`;
    if (typeof v === "object") {
      const entries = Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${encode(x)}`).join(",")}}`;
    }
    throw new TypeError(`canonical JSON cannot hold a ${typeof v}`);
  };
  return encode(value);
}

/** keccak256 of the canonical JSON of `value`, as 0x-hex. */
export function canonicalHash(value: unknown): string {
  return keccak256(toUtf8Bytes(canonicalJson(value)));
}

const BIGINT_TAG = "$bigint";

/** The database's JSON text of `value`: bigints survive the round trip through `fromTaggedJson`. */
export function taggedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? { [BIGINT_TAG]: v.toString() } : v));
}

/** The value `taggedJson` wrote, bigints restored. */
export function fromTaggedJson<T = unknown>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const tagged = (v as Record<string, unknown>)[BIGINT_TAG];
      if (keys.length === 1 && typeof tagged === "string") return BigInt(tagged);
    }
    return v;
  }) as T;
}
