/**
 * The HTTP contract's building blocks: ids, names, codes, times and the path and query
 * parameters every route shares. Every schema of the API (server/schemas/) is built from these
 * and the JSON codecs of money.ts; requests are strict (unknown keys are refused), request
 * types are inferred from them, responses are encoded through them, and the OpenAPI document
 * is generated from them. One source of truth.
 */
import { z } from "zod";

import { DELINQUENCY_BUCKETS } from "../../core/loan-math";
import { CASH_METHOD_NAMES, LOAN_STATUS_NAME_LIST, METHOD_NAME_LIST, PRODUCT_NAMES } from "../../core/names";
import { isTimeZone } from "../../core/zone-time";
import { normalizeNationalId } from "../vault/identity";
import type { ScorecardModel } from "../scoring/scorecard";
import { safeInt } from "./money";

/** A loan at the API: `<accountId>:<loanNo>` (the ledger's own key), or the id of the operation that drew it. */
export const LOAN_ID_PATTERN = /^(0x[0-9a-fA-F]{64}):([1-9][0-9]{0,9})$|^op_[0-9a-f]{32}$/;

export const AccountId = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, "must be an account id: 0x and 64 hex digits")
  .transform((v) => v.toLowerCase())
  .describe("A pseudonymous account id (32 random bytes, hex)");

export const LoanId = z
  .string()
  .regex(LOAN_ID_PATTERN, 'must be "<accountId>:<loanNo>" or the id of the operation that drew the loan')
  .describe('A loan: "<accountId>:<loanNo>", or the id of the operation that drew it');

export const ProductName = z
  .enum(PRODUCT_NAMES)
  .describe("pay_later (revolving, interest-free until due) or cash_loan");
export const Method = z
  .enum(CASH_METHOD_NAMES)
  .describe("How scheduled principal is spread: equal principal or equal total (annuity)");
/**
 * KYC evidence: an attestation by the partner's KYC verifier (core/kyc-attestation.ts), which
 * the scorer checks; the identity tier comes only from it (docs/SCORER.md).
 */
export const KycEvidence = z
  .strictObject({
    attestation: z.strictObject({
      subject: z
        .string()
        .regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x and 64 hex digits")
        .describe(
          'keccak256 of the UTF-8 bytes of "CreditLedger KYC subject v1:" and the applicant\'s national id number (18 characters, a final x as X): the partner computes it before applying'
        ),
      level: z.int().min(0).max(255).describe("1: verified identity (tier 1); 2: verified identity with income evidence (tier 2)"),
      issuedAt: safeInt.describe("Unix time in seconds the verifier checked the identity"),
      expiry: safeInt.describe("Unix time in seconds from which the attestation is refused"),
      partner: z.string().min(1).max(64).describe("The partner id whose KYC verifier signed it (this partner's own)"),
    }),
    signature: z
      .string()
      .regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte signature, 0x and 130 hex digits")
      .describe('EIP-712 signature of KycAttestation(bytes32 subject,uint8 level,uint64 issuedAt,uint64 expiry,string partner) in the domain {name: "CreditScorer", version: "1", chainId}, by the key registered as the partner\'s KYC verifier'),
  })
  .describe(
    "KYC evidence for the identity tier: an attestation signed by the partner's KYC verifier. Without it the tier is 0 on an application, and on a limit review the tier the scorer last accepted evidence for (until that attestation's expiry). The tier is never a word of the request."
  )
  .meta({ id: "KycEvidence" });
export const Installments = z
  .literal([1, 3, 6, 9, 12])
  .describe("1 (single payment, free until the due date) or 3/6/9/12 monthly installments");
export const ReasonCode = z.int().min(1).max(65_535).describe("A reason code recorded on-chain (1-65535)");
export const Timestamp = safeInt.describe("Unix time in seconds");
export const TimeZone = z
  .string()
  .max(64)
  .refine((v) => isTimeZone(v), "must be an IANA time zone such as Asia/Shanghai")
  .describe("An IANA time zone name");
export const RatePpm = safeInt.describe("A rate in parts per million (per day for interest and penalty, per year for APR)");

/** The behavioural features of a scorecard: each an optional non-negative integer (absent = missing). */
export function featuresSchema(model: ScorecardModel) {
  const shape: Record<string, z.ZodOptional<z.ZodInt>> = {};
  for (const c of model.characteristics) shape[c.feature] = z.int().min(0).max(1_000_000_000).describe(c.description).optional();
  return z
    .strictObject(shape)
    .describe(`Behavioural features of scorecard ${model.name} ${model.version}; a missing feature scores its "missing" points`);
}

export const NationalId = z
  .string()
  .max(32)
  .refine((v) => normalizeNationalId(v) !== undefined, "must be an 18-character national id number with a valid check digit")
  .describe("Resident identity card number (GB 11643, 18 characters); sealed in the vault, never on-chain");

/** A list's `?limit=`: a whole number 1-1000 (what the query string holds is text). */
export const pageLimit = (description: string) =>
  z
    .string()
    .regex(/^[0-9]{1,4}$/, "must be a whole number 1-1000")
    .transform(Number)
    .pipe(z.number().min(1).max(1000))
    .optional()
    .describe(description);

export const WaitQuery = z.strictObject({
  wait: z.enum(["true", "false"]).optional().describe("Wait for confirmation (200/201) or answer 202 with the operation to poll"),
});

export const AsOfQuery = z.strictObject({
  at: z
    .string()
    .regex(/^[0-9]{1,12}$/, "must be a Unix time in seconds")
    .transform((v) => BigInt(v))
    .optional()
    .describe("Show the position as of this Unix time (default: now)"),
});

export const AccountParams = z.strictObject({ accountId: AccountId });
export const LoanParams = z.strictObject({ loanId: LoanId });
export const OperationParams = z.strictObject({
  operationId: z.string().regex(/^op_[0-9a-f]{32}$/, "must be an operation id (op_ and 32 hex digits)"),
});

/** Request schemas that depend on the scorecard, built once per model (they carry a component id). */
/** A delinquency bucket: days past due of the oldest unpaid amount (core/loan-math.ts). */
export const Bucket = z.enum(DELINQUENCY_BUCKETS);

/** A reason code with its words in English and Chinese (core/reasons.ts: one catalog). */
export const Reason = z
  .object({
    code: z.int(),
    en: z.string(),
    zh: z.string(),
  })
  .meta({ id: "Reason", description: "A reason code recorded on-chain and what it means, in English and Chinese" });

/** The principal reasons of a decision or a cut: at most four, worst first. */
export const Reasons = z.array(Reason).max(4).describe("The principal reasons, worst first (at most four), with their words in English and Chinese");

export const OperationSummary = z
  .object({
    id: z.string(),
    status: z.enum(["pending", "confirmed", "failed"]),
    txHash: z.string().nullable().describe("The transaction of the operation's last landed step"),
    blockNumber: z.int().nullable(),
  })
  .meta({ id: "OperationSummary" });

/** A loan's method by name, as responses give it. */
export const MethodName = z.enum(METHOD_NAME_LIST);

/** A loan's status by name. */
export const LoanStatusName = z.enum(LOAN_STATUS_NAME_LIST);
