/**
 * Row mapping shared by the SQLite and PostgreSQL stores: database row -> record. Both schemas
 * keep the same columns (server/store/migrations.ts, pg-migrations.ts): ISO times and JSON as
 * TEXT, chain bigints as decimal TEXT. The one difference a mapper sees is integers: SQLite
 * returns numbers, the `pg` driver returns BIGINT columns as decimal strings; `num` takes
 * either and refuses a value that is no safe integer rather than rounding it.
 */
import { fromTaggedJson } from "../../core/json";
import type { LedgerEntry } from "../../core/ledger-events";
import { stateFromFields, termsFromFields } from "../../core/ledger-structs";
import type {
  ApiKeyRecord,
  BatchRecord,
  BatchStatus,
  DecisionRecord,
  LoanSnapshot,
  OperationRecord,
  PartnerRecord,
  PartnerStatus,
  Scope,
  StepRecord,
  StepStatus,
  TransactionRecord,
  VaultRecord,
} from "./store";

export type Row = Record<string, unknown>;

export const str = (v: unknown): string => v as string;
export const optStr = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : (v as string));
export const json = <T>(v: unknown): T => fromTaggedJson<T>(v as string);
export const optJson = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : fromTaggedJson<T>(v as string));

/** An integer column: a number (SQLite) or a BIGINT's decimal string (pg). */
export function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint" || typeof v === "string") {
    const n = Number(v);
    if (Number.isSafeInteger(n) && String(n) === String(v)) return n;
  }
  throw new Error(`expected an integer column, got ${typeof v} ${String(v)}: the database holds a value this gateway cannot read exactly`);
}
export const optNum = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : num(v));

export function txFrom(t: Row): TransactionRecord {
  return { hash: str(t.hash), nonce: num(t.nonce), raw: str(t.raw), createdAt: str(t.created_at) };
}

export function apiKeyFrom(r: Row): ApiKeyRecord {
  return {
    id: str(r.id),
    name: str(r.name),
    keyHash: str(r.key_hash),
    scopes: str(r.scopes).split(",").filter(Boolean) as Scope[],
    partnerId: optStr(r.partner_id),
    createdAt: str(r.created_at),
    revokedAt: optStr(r.revoked_at),
    expiresAt: optStr(r.expires_at),
  };
}

export function partnerFrom(r: Row): PartnerRecord {
  return {
    id: str(r.id),
    name: str(r.name),
    status: str(r.status) as PartnerStatus,
    ratePerMinute: num(r.rate_per_minute),
    burst: num(r.burst),
    products: str(r.products).split(",").filter(Boolean) as PartnerRecord["products"],
    webhookQuota: num(r.webhook_quota),
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

export function vaultFrom(r: Row): VaultRecord {
  return {
    identityKey: str(r.identity_key),
    accountId: str(r.account_id),
    sealedPii: str(r.sealed_pii),
    createdAt: str(r.created_at),
  };
}

export function loanFrom(r: Row): LoanSnapshot {
  return {
    accountId: str(r.account_id),
    loanNo: num(r.loan_no),
    productId: num(r.product_id),
    terms: termsFromFields(json(r.terms)),
    state: stateFromFields(json(r.state)),
    block: num(r.block),
  };
}

/** An `operations` row with its steps (already mapped). */
export function operationFrom(r: Row, steps: StepRecord[]): OperationRecord {
  return {
    id: str(r.id),
    kind: str(r.kind),
    accountId: str(r.account_id),
    partnerId: optStr(r.partner_id),
    status: r.status as OperationRecord["status"],
    context: json(r.context),
    error: optJson(r.error),
    steps,
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

/** An `outbox` row with its transactions (its own first, then its batches', in order). */
export function stepFrom(r: Row, transactions: TransactionRecord[]): StepRecord {
  return {
    id: num(r.id),
    operationId: str(r.operation_id),
    step: num(r.step),
    accountId: str(r.account_id),
    fn: str(r.fn),
    call: json(r.call),
    ref: str(r.ref),
    status: r.status as StepStatus,
    expectedSeq: r.expected_seq === null || r.expected_seq === undefined ? undefined : BigInt(str(r.expected_seq)),
    sentCall: optJson(r.sent_call),
    landed: optJson<LedgerEntry>(r.landed),
    error: optJson(r.error),
    attempts: num(r.attempts),
    lastError: optStr(r.last_error),
    fromBlock: num(r.from_block),
    transactions,
    batchId: optNum(r.batch_id),
    requeues: optNum(r.requeues) ?? 0,
    createdAt: str(r.created_at),
    updatedAt: str(r.updated_at),
  };
}

/** A `batches` row with its `batch_steps` rows (by position) and its transactions (mapped). */
export function batchFrom(r: Row, stepRows: Row[], transactions: TransactionRecord[]): BatchRecord {
  return {
    id: num(r.id),
    nonce: num(r.nonce),
    status: r.status as BatchStatus,
    steps: stepRows.map((s) => ({ position: num(s.position), stepId: num(s.outbox_id), expectedSeq: BigInt(str(s.expected_seq)) })),
    transactions,
    createdAt: str(r.created_at),
  };
}

/** A `decisions` row; `features` already opened (the stores hold the field sealer). */
export function decisionFrom(r: Row, features: DecisionRecord["features"]): DecisionRecord {
  return {
    operationId: str(r.operation_id),
    accountId: str(r.account_id),
    productId: num(r.product_id),
    approved: num(r.approved) === 1,
    tier: num(r.tier),
    score: num(r.score),
    limit: BigInt(str(r.limit_fen)),
    ratePpmPerDay: BigInt(str(r.rate_ppm_per_day)),
    reasonCodes: JSON.parse(str(r.reason_codes)) as number[],
    modelId: str(r.model_id),
    features,
    salt: str(r.salt),
    featuresHash: str(r.features_hash),
    createdAt: str(r.created_at),
  };
}
