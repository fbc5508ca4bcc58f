/**
 * Canonical JSON (RFC 8785 style for the values we use: objects with keys sorted, no
 * whitespace, integers only) and the hashes built on it. The model id and the features hash
 * that go on-chain with a decision are keccak256 of canonical JSON, so an auditor holding the
 * model file and the features can recompute both.
 */
import { keccak256, toUtf8Bytes } from "ethers";

export type Canonical = null | boolean | number | string | Canonical[] | { [key: string]: Canonical };

/** Serialize `value` canonically. Non-integer numbers are refused: no floats in hashed data. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError(`canonical JSON takes safe integers only, got ${value}`);
    return String(value);
  }
  if (typeof value === "bigint") return JSON.stringify(value.toString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}

/** keccak256 of the canonical JSON of `value`, as 0x-hex. */
export function canonicalHash(value: unknown): string {
  return keccak256(toUtf8Bytes(canonicalJson(value)));
}
