/**
 * Conversions between what the contracts return (ethers `Result`s of bigints) and the
 * TypeScript mirror's types (`core/loan-math.ts`), so differential tests compare like
 * with like, field by field.
 */
import {
  LoanStatus,
  type Allocation,
  type Installment,
  type LoanPosition,
  type LoanState,
  type LoanTerms,
} from "../../core/loan-math";
import { stateFromFields, termsFromFields } from "../../core/ledger-structs";

/** An ethers `Result` (or typechain struct output) or a plain object, read by field name. */
type Fields = { [key: string]: unknown };

const big = (v: unknown): bigint => BigInt(v as bigint | number | string);

export const termsFrom = (result: object): LoanTerms => termsFromFields(result as Fields);

export const stateFrom = (result: object): LoanState => stateFromFields(result as Fields);

export const POSITION_FIELDS = [
  "principalOutstanding",
  "overduePrincipal",
  "currentPrincipal",
  "feesDue",
  "interest",
  "penalty",
  "amountDue",
  "payoff",
  "daysPastDue",
  "nextDueTime",
] as const satisfies readonly (keyof LoanPosition)[];

export const ALLOCATION_FIELDS = [
  "penalty",
  "fee",
  "interest",
  "overduePrincipal",
  "currentPrincipal",
  "prepaidPrincipal",
] as const satisfies readonly (keyof Allocation)[];

export function positionFrom(result: object): LoanPosition {
  const r = result as Fields;
  const p = {} as LoanPosition;
  for (const f of POSITION_FIELDS) p[f] = big(r[f]);
  return p;
}

export function allocationFrom(result: object): Allocation {
  const r = result as Fields;
  const a = {} as Allocation;
  for (const f of ALLOCATION_FIELDS) a[f] = big(r[f]);
  return a;
}

export function scheduleFrom(rows: readonly object[]): Installment[] {
  return (rows as readonly Fields[]).map((r) => ({
    dueTime: big(r.dueTime),
    principal: big(r.principal),
    fee: big(r.fee),
  }));
}

/** Terms as a contract argument (ethers accepts a struct as an object of its fields). */
export const termsArg = (t: LoanTerms) => ({ ...t });
export const stateArg = (s: LoanState) => ({ ...s });

/** JSON with bigints as strings, for readable failure messages and counterexamples. */
export const show = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

/**
 * Where two values differ, as "path: actual != expected" lines (empty when equal). Compares
 * bigints, numbers, strings, booleans, arrays and plain objects; numbers and bigints of the
 * same value are equal, so contract results and mirror values compare directly.
 */
export function differences(actual: unknown, expected: unknown, path = "$"): string[] {
  const scalar = (v: unknown) => typeof v === "bigint" || typeof v === "number";
  if (scalar(actual) && scalar(expected)) {
    return BigInt(actual as bigint) === BigInt(expected as bigint) ? [] : [`${path}: ${actual} != ${expected}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: ${show(actual)} != ${show(expected)}`];
    const out: string[] =
      actual.length === expected.length ? [] : [`${path}.length: ${actual.length} != ${expected.length}`];
    for (let i = 0; i < Math.min(actual.length, expected.length); i++)
      out.push(...differences(actual[i], expected[i], `${path}[${i}]`));
    return out;
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object") return [`${path}: ${show(actual)} != ${show(expected)}`];
    const out: string[] = [];
    for (const key of Object.keys(expected)) {
      out.push(...differences((actual as Fields)[key], (expected as Fields)[key], `${path}.${key}`));
    }
    return out;
  }
  return actual === expected ? [] : [`${path}: ${show(actual)} != ${show(expected)}`];
}
