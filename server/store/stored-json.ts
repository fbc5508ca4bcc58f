/**
 * JSON as the store keeps it: bigints survive the round trip as `{"$bigint":"<decimal>"}`.
 * (This is the database edge; the HTTP edge has its own encoding, in server/api/money.ts.)
 */

const TAG = "$bigint";

export function toStoredJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? { [TAG]: v.toString() } : v));
}

export function fromStoredJson<T = unknown>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const tagged = (v as Record<string, unknown>)[TAG];
      if (keys.length === 1 && typeof tagged === "string") return BigInt(tagged);
    }
    return v;
  }) as T;
}
