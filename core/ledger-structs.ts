/**
 * The ledger's structs (`ICreditLedger.Product`, `Line`, `Account`, `TierPolicy`, `Decision`,
 * `Allocation`, `LoanTerms`, `LoanState`) as TypeScript values, and the one reader of each. A
 * reader takes anything that names the struct's fields (an ethers `Result` made plain, a
 * decoded event's field, a row of the gateway's read model, an export's JSON) and gives the
 * typed value: integer fields that fit a JS number (ids, counts, enum values, small widths)
 * are numbers, amounts, rates and times are bigint. Reading by field name, never by position,
 * lets a struct gain a field without the readers' callers changing.
 */
import { Result } from "ethers";

import type { Decision } from "./decision";
import type { Allocation, LoanState, LoanStatus, LoanTerms, ProductKind, RepaymentMethod } from "./loan-math";

/** A value read from the chain, made plain: objects by ABI name, arrays, bigints, strings, booleans. */
export type Plain = bigint | string | number | boolean | null | Plain[] | { [key: string]: Plain };

/**
 * An ethers `Result` (of a view, an event or a custom error) as plain objects keyed by ABI
 * name, or arrays where the ABI has no names; bigints stay bigints.
 */
export function plain(value: unknown): Plain {
  if (value instanceof Result) {
    let named: Record<string, unknown> | undefined;
    try {
      named = value.toObject(false); // throws when an entry has no name (a plain array)
    } catch {
      named = undefined;
    }
    const unnamed = named === undefined || Object.keys(named).length !== value.length || Object.keys(named).some((k) => /^_?\d+$/.test(k));
    if (unnamed) return Array.from(value, (v) => plain(v));
    const out: Record<string, Plain> = {};
    for (const [k, v] of Object.entries(named!)) out[k] = plain(v);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => plain(v));
  if (typeof value === "bigint" || typeof value === "string" || typeof value === "boolean" || typeof value === "number") return value;
  if (value === null || value === undefined) return null;
  if (typeof value === "object") {
    const out: Record<string, Plain> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  throw new TypeError(`cannot make a ${typeof value} plain`);
}

type Fields = { readonly [field: string]: unknown };

/** A field as bigint (uint fields: from a bigint, a safe number or a decimal string). */
export function bigField(object: Fields, name: string): bigint {
  return bigOf(object[name], name);
}

function bigOf(v: unknown, what: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === "string" && /^\d+$/.test(v)) return BigInt(v);
  throw new TypeError(`field ${what} is not an integer (${typeof v})`);
}

/** A small uint field (an id, a count, an enum value) as a number. */
export const numField = (object: Fields, name: string): number => Number(bigField(object, name));

/** A bool field (true, or the string "true" of a plain copy). */
export const boolField = (object: Fields, name: string): boolean => object[name] === true || object[name] === "true";

// ---------------------------------------------------------------- the structs

/** Each struct's fields, in the ABI's order (what the readers below read; what a comparison of two values walks). */
export const STRUCT_FIELDS = {
  line: ["limit", "used", "tempLimit", "tempExpiry", "granted", "frozen", "ratePpmPerDay", "freezeReason"],
  terms: ["principal", "startTime", "periods", "method", "productId", "ratePpmPerDay", "totalFee", "firstDueDay", "penaltyPpmPerDay", "writeOffDays"],
  state: ["principalSettled", "feeSettled", "interestOwed", "penaltyOwed", "checkpointDay", "status", "principalRefunded", "restructures", "holidayDaysGranted"],
  allocation: ["penalty", "fee", "interest", "overduePrincipal", "currentPrincipal", "prepaidPrincipal"],
} as const satisfies {
  line: readonly (keyof LedgerLine)[];
  terms: readonly (keyof LoanTerms)[];
  state: readonly (keyof LoanState)[];
  allocation: readonly (keyof Allocation)[];
};

/** `ICreditLedger.Product`: a product's terms as the admin configured them. */
export interface LedgerProduct {
  kind: ProductKind;
  graceDays: bigint;
  /** Bit mask: bit n set means a loan of n periods is allowed. */
  allowedPeriods: number;
  penaltyPpmPerDay: bigint;
  costCeilingPpmPerYear: bigint;
  writeOffDays: bigint;
  active: boolean;
  /** Total installment fee (ppm of principal) for 3, 6, 9 and 12 periods. */
  installmentFeePpm: bigint[];
}

/** `ICreditLedger.TierPolicy`: what an identity tier allows. */
export interface TierPolicy {
  maxLineLimit: bigint;
  maxExposure: bigint;
}

/** `ICreditLedger.Account`. */
export interface LedgerAccount {
  exists: boolean;
  tier: number;
  exposureCap: bigint;
  used: bigint;
  seq: bigint;
  head: string;
  decisionNonce: bigint;
  loanCount: number;
}

/** `ICreditLedger.Line`: one product's line of an account. */
export interface LedgerLine {
  limit: bigint;
  used: bigint;
  tempLimit: bigint;
  tempExpiry: bigint;
  granted: boolean;
  frozen: boolean;
  ratePpmPerDay: bigint;
  freezeReason: number;
}

export function productFromFields(r: Fields): LedgerProduct {
  return {
    kind: numField(r, "kind") as ProductKind,
    graceDays: bigField(r, "graceDays"),
    allowedPeriods: numField(r, "allowedPeriods"),
    penaltyPpmPerDay: bigField(r, "penaltyPpmPerDay"),
    costCeilingPpmPerYear: bigField(r, "costCeilingPpmPerYear"),
    writeOffDays: bigField(r, "writeOffDays"),
    active: boolField(r, "active"),
    installmentFeePpm: (r.installmentFeePpm as unknown[]).map((v) => bigOf(v, "installmentFeePpm")),
  };
}

export function tierPolicyFromFields(r: Fields): TierPolicy {
  return { maxLineLimit: bigField(r, "maxLineLimit"), maxExposure: bigField(r, "maxExposure") };
}

export function accountFromFields(r: Fields): LedgerAccount {
  return {
    exists: boolField(r, "exists"),
    tier: numField(r, "tier"),
    exposureCap: bigField(r, "exposureCap"),
    used: bigField(r, "used"),
    seq: bigField(r, "seq"),
    head: String(r.head),
    decisionNonce: bigField(r, "decisionNonce"),
    loanCount: numField(r, "loanCount"),
  };
}

export function lineFromFields(r: Fields): LedgerLine {
  return {
    limit: bigField(r, "limit"),
    used: bigField(r, "used"),
    tempLimit: bigField(r, "tempLimit"),
    tempExpiry: bigField(r, "tempExpiry"),
    granted: boolField(r, "granted"),
    frozen: boolField(r, "frozen"),
    ratePpmPerDay: bigField(r, "ratePpmPerDay"),
    freezeReason: numField(r, "freezeReason"),
  };
}

/** Loan terms (`ICreditLedger.LoanTerms`). */
export function termsFromFields(r: Fields): LoanTerms {
  return {
    principal: bigField(r, "principal"),
    startTime: bigField(r, "startTime"),
    periods: numField(r, "periods"),
    method: numField(r, "method") as RepaymentMethod,
    productId: numField(r, "productId"),
    ratePpmPerDay: bigField(r, "ratePpmPerDay"),
    totalFee: bigField(r, "totalFee"),
    firstDueDay: bigField(r, "firstDueDay"),
    penaltyPpmPerDay: bigField(r, "penaltyPpmPerDay"),
    writeOffDays: bigField(r, "writeOffDays"),
  };
}

/** A loan's servicing state (`ICreditLedger.LoanState`). */
export function stateFromFields(r: Fields): LoanState {
  return {
    principalSettled: bigField(r, "principalSettled"),
    feeSettled: bigField(r, "feeSettled"),
    interestOwed: bigField(r, "interestOwed"),
    penaltyOwed: bigField(r, "penaltyOwed"),
    checkpointDay: bigField(r, "checkpointDay"),
    status: numField(r, "status") as LoanStatus,
    principalRefunded: bigField(r, "principalRefunded"),
    restructures: bigField(r, "restructures"),
    holidayDaysGranted: bigField(r, "holidayDaysGranted"),
  };
}

/** How a repayment was split (`ICreditLedger.Allocation`). */
export function allocationFromFields(r: Fields): Allocation {
  return {
    penalty: bigField(r, "penalty"),
    fee: bigField(r, "fee"),
    interest: bigField(r, "interest"),
    overduePrincipal: bigField(r, "overduePrincipal"),
    currentPrincipal: bigField(r, "currentPrincipal"),
    prepaidPrincipal: bigField(r, "prepaidPrincipal"),
  };
}

/** A signed credit decision (`ICreditLedger.Decision`). */
export function decisionFromFields(r: Fields): Decision {
  return {
    account: String(r.account),
    purpose: numField(r, "purpose"),
    productId: numField(r, "productId"),
    approved: boolField(r, "approved"),
    tier: numField(r, "tier"),
    score: numField(r, "score"),
    limit: bigField(r, "limit"),
    limitExpiry: bigField(r, "limitExpiry"),
    ratePpmPerDay: bigField(r, "ratePpmPerDay"),
    modelId: String(r.modelId),
    featuresHash: String(r.featuresHash),
    reasonCodes: (r.reasonCodes as unknown[]).map(Number) as [number, number, number, number],
    subject: String(r.subject),
    scorer: String(r.scorer),
    nonce: bigField(r, "nonce"),
    issuedAt: bigField(r, "issuedAt"),
    deadline: bigField(r, "deadline"),
  };
}

/** A struct-valued field of a decoded event or record (`terms`, `decision`, `allocation`, ...). */
export const structField = (object: Fields, name: string): Fields => object[name] as Fields;
