/**
 * Values read from the chain, made plain: ethers `Result`s (of views, events and errors)
 * become objects keyed by their ABI names (arrays where the ABI has no names), bigints stay
 * bigints. Working by name, never by position, lets a struct gain a field (say
 * `LoanTerms.penaltyPpmPerDay`) without this code changing.
 */
import { Result } from "ethers";

export type Plain = bigint | string | number | boolean | null | Plain[] | { [key: string]: Plain };

export function plain(value: unknown): Plain {
  if (value instanceof Result) {
    let named: Record<string, unknown> | undefined;
    try {
      named = value.toObject(false); // throws when an entry has no name (a plain array)
    } catch {
      named = undefined;
    }
    if (named === undefined || Object.keys(named).length !== value.length) return Array.from(value, (v) => plain(v));
    const out: Record<string, Plain> = {};
    for (const [k, v] of Object.entries(named)) out[k] = plain(v);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => plain(v));
  if (typeof value === "bigint" || typeof value === "string" || typeof value === "boolean" || typeof value === "number")
    return value;
  if (value === null || value === undefined) return null;
  if (typeof value === "object") {
    const out: Record<string, Plain> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  throw new TypeError(`cannot make a ${typeof value} plain`);
}

/** A plain object's field as bigint (fields of uint types). */
export function bigField(object: Record<string, unknown>, name: string): bigint {
  const v = object[name];
  if (typeof v === "bigint") return v;
  if (typeof v === "number" || (typeof v === "string" && /^\d+$/.test(v))) return BigInt(v);
  throw new TypeError(`field ${name} is not an integer`);
}

/** A plain object's field as number (small uint fields: ids, counts, enum values). */
export const numField = (object: Record<string, unknown>, name: string): number => Number(bigField(object, name));
