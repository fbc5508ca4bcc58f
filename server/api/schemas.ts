/**
 * The API's schemas: every request body, path parameter and query is validated by one of
 * these (strict: unknown keys are refused), the request types are inferred from them, every
 * response is encoded through one (amounts leave as decimal strings of fen, see money.ts),
 * and the OpenAPI document is generated from them. One source of truth.
 */
import { z } from "zod";

import { normalizeNationalId } from "../vault/identity";
import { isTimeZone } from "../servicing/zone-time";
import type { ScorecardModel } from "../scoring/scorecard";
import { LOAN_ID_PATTERN } from "../services/loan-ids";
import { fen, positiveFen, ratePpmIn, safeInt, uint64 } from "./money";
import { ProblemSchema } from "./problems";

// ---------------------------------------------------------------- building blocks

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
  .enum(["pay_later", "cash_loan"])
  .describe("pay_later (revolving, interest-free until due) or cash_loan");
export const Method = z
  .enum(["equal_principal", "annuity"])
  .describe("How scheduled principal is spread: equal principal or equal total (annuity)");
export const Verification = z
  .enum(["none", "verified", "enhanced"])
  .describe(
    "Identity verification: none (tier 0, behavioural score only), verified (tier 1), enhanced with income evidence (tier 2)"
  );
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

const NationalId = z
  .string()
  .max(32)
  .refine((v) => normalizeNationalId(v) !== undefined, "must be an 18-character national id number with a valid check digit")
  .describe("Resident identity card number (GB 11643, 18 characters); sealed in the vault, never on-chain");

// ---------------------------------------------------------------- requests

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
const applicationRequests = new WeakMap<ScorecardModel, ReturnType<typeof buildApplicationRequest>>();
const limitReviewRequests = new WeakMap<ScorecardModel, ReturnType<typeof buildLimitReviewRequest>>();

export function applicationRequest(model: ScorecardModel) {
  let schema = applicationRequests.get(model);
  if (!schema) applicationRequests.set(model, (schema = buildApplicationRequest(model)));
  return schema;
}

function buildApplicationRequest(model: ScorecardModel) {
  return z
    .strictObject({
      identity: z.strictObject({
        nationalId: NationalId,
        name: z.string().trim().min(1).max(100).describe("Full name (sealed in the vault)"),
        phone: z
          .string()
          .regex(/^\+?[0-9][0-9 ()-]{4,24}$/, "must be a phone number")
          .describe("Phone number (sealed in the vault)"),
        verification: Verification,
      }),
      product: ProductName,
      features: featuresSchema(model),
      consent: z.literal(true, { error: "the applicant's consent to scoring and recording must be true" }),
      timeZone: TimeZone.optional().describe(
        "The borrower's IANA time zone: reminders respect quiet hours there, credit-report months are its months (default Asia/Shanghai)"
      ),
      deviceId: z
        .string()
        .min(1)
        .max(128)
        .optional()
        .describe("The partner's id of the applicant's device; kept only as a keyed hash, for velocity rules"),
    })
    .meta({ id: "ApplicationRequest" });
}

export const QuoteRequest = z
  .discriminatedUnion("product", [
    z.strictObject({
      product: z.literal("pay_later"),
      amount: positiveFen,
      installments: Installments.default(1),
      accountId: AccountId.optional(),
    }),
    z.strictObject({
      product: z.literal("cash_loan"),
      amount: positiveFen,
      periods: z.int().min(3).max(12).describe("Monthly periods, 3-12"),
      method: Method.default("annuity"),
      accountId: AccountId.optional().describe("Quote at this account's cash-line rate"),
      dailyRatePpm: ratePpmIn(1, 10_000).optional().describe("Quote at this daily rate, ppm/day (when no accountId)"),
    }),
  ])
  .meta({ id: "QuoteRequest" });

export const PurchaseRequest = z
  .strictObject({
    accountId: AccountId,
    amount: positiveFen,
    installments: Installments.default(1),
    merchantReference: z.string().min(1).max(64).optional().describe("The merchant's order reference (kept off-chain)"),
  })
  .meta({ id: "PurchaseRequest" });

export const RefundRequest = z.strictObject({ amount: positiveFen }).meta({ id: "RefundRequest" });

export const CashLoanRequest = z
  .strictObject({
    accountId: AccountId,
    amount: positiveFen,
    periods: z.int().min(3).max(12).describe("Monthly periods, 3-12"),
    method: Method,
  })
  .meta({ id: "CashLoanRequest" });

export const RepaymentRequest = z.strictObject({ loanId: LoanId, amount: positiveFen }).meta({ id: "RepaymentRequest" });

export const FreezeRequest = z.strictObject({ product: ProductName, reasonCode: ReasonCode }).meta({ id: "FreezeRequest" });

export function limitReviewRequest(model: ScorecardModel) {
  let schema = limitReviewRequests.get(model);
  if (!schema) limitReviewRequests.set(model, (schema = buildLimitReviewRequest(model)));
  return schema;
}

function buildLimitReviewRequest(model: ScorecardModel) {
  return z
    .strictObject({
      product: ProductName,
      features: featuresSchema(model),
      verification: Verification.optional().describe("A new verification level (default: the account's tier)"),
    })
    .meta({ id: "LimitReviewRequest" });
}

export const RestructureRequest = z
  .strictObject({
    periods: z
      .int()
      .min(1)
      .max(36)
      .describe("New number of monthly periods for what is left; the last due date may not move earlier"),
    holidayDays: z.int().min(0).max(180).default(0).describe("Payment holiday: days added before the first new due date"),
    dailyRatePpm: ratePpmIn(0, 10_000)
      .optional()
      .describe("New daily rate in ppm/day, not above the current one (default: unchanged)"),
  })
  .meta({ id: "RestructureRequest" });

// ---------------------------------------------------------------- responses

export const OperationSummary = z
  .object({
    id: z.string(),
    status: z.enum(["pending", "confirmed", "failed"]),
    txHash: z.string().nullable().describe("The transaction of the operation's last landed step"),
    blockNumber: z.int().nullable(),
  })
  .meta({ id: "OperationSummary" });

export const ApplicationResponse = z
  .object({
    accountId: z.string(),
    product: ProductName,
    outcome: z.enum(["approved", "declined"]),
    tier: z.int(),
    score: z.int().describe("Scorecard score, 350-950"),
    limit: fen.describe("The approved line limit in fen (0 when declined)"),
    dailyRatePpm: RatePpm,
    aprPpm: RatePpm.describe("APR (ppm/year) of a representative 12-period annuity of the limit for cash loans; 0 for pay-later"),
    reasonCodes: z.array(z.int()),
    modelId: z.string().describe("keccak256 of the canonical scorecard model JSON"),
    featuresHash: z.string().describe("keccak256 of the canonical JSON of {features, salt}; the salt is kept off-chain"),
    cappedByTier: z.boolean(),
    decisionSeq: uint64.nullable().describe("Seq of the decision's entry in the account's chain, once recorded"),
    operation: OperationSummary,
  })
  .meta({ id: "ApplicationResponse" });

export const QuotedInstallment = z
  .object({
    period: z.int(),
    dueTime: Timestamp,
    principal: fen,
    fee: fen,
    interest: fen.describe("Interest for the period when every payment is on time"),
    total: fen,
  })
  .meta({ id: "QuotedInstallment" });

export const QuoteResponse = z
  .object({
    product: ProductName,
    amount: fen,
    periods: z.int(),
    method: z.enum(["bullet", "equal_principal", "annuity"]),
    dailyRatePpm: RatePpm,
    schedule: z.array(QuotedInstallment),
    totalFee: fen,
    totalInterest: fen,
    totalCost: fen.describe("Fees and interest"),
    totalRepayment: fen,
    aprPpm: RatePpm.describe("Annualized cost, IRR-style (docs/LOAN-MATH.md)"),
    costCeilingPpmPerYear: RatePpm,
    withinCostCeiling: z.boolean(),
  })
  .meta({ id: "QuoteResponse" });

export const DrawResponse = z
  .object({
    loanId: z.string().nullable().describe('"<accountId>:<loanNo>" once drawn'),
    accountId: z.string(),
    loanNo: z.int().nullable(),
    product: ProductName,
    amount: fen,
    periods: z.int(),
    method: z.enum(["bullet", "equal_principal", "annuity"]),
    merchantReference: z.string().optional(),
    dailyRatePpm: RatePpm,
    totalFee: fen,
    totalInterest: fen,
    aprPpm: RatePpm,
    schedule: z.array(QuotedInstallment),
    operation: OperationSummary,
  })
  .meta({ id: "DrawResponse" });

export const Allocation = z
  .object({
    penalty: fen,
    fee: fen,
    interest: fen,
    overduePrincipal: fen,
    currentPrincipal: fen,
    prepaidPrincipal: fen,
  })
  .meta({ id: "Allocation" });

export const RepaymentResponse = z
  .object({
    loanId: z.string(),
    amount: fen,
    allocation: Allocation.nullable().describe("How the ledger split the repayment, once confirmed"),
    loanStatus: z.enum(["active", "closed", "written_off"]).nullable(),
    operation: OperationSummary,
  })
  .meta({ id: "RepaymentResponse" });

export const RefundResponse = z
  .object({ loanId: z.string(), amount: fen, feeWaived: fen.nullable(), operation: OperationSummary })
  .meta({ id: "RefundResponse" });

export const LineView = z
  .object({
    product: ProductName,
    productId: z.int(),
    limit: fen,
    effectiveLimit: fen,
    temporaryLimit: fen.nullable(),
    temporaryUntil: Timestamp.nullable(),
    used: fen,
    available: fen,
    dailyRatePpm: RatePpm,
    frozen: z.boolean(),
    freezeReasonCode: z.int().nullable(),
  })
  .meta({ id: "Line" });

export const LoanSummary = z
  .object({
    loanId: z.string(),
    loanNo: z.int(),
    product: ProductName,
    status: z.enum(["active", "closed", "written_off"]),
    principal: fen,
    principalOutstanding: fen,
    amountDue: fen,
    payoff: fen,
    nextDueTime: Timestamp.nullable(),
    daysPastDue: safeInt,
  })
  .meta({ id: "LoanSummary" });

const Bucket = z.enum(["current", "1-30", "31-60", "61-90", "90+"]);

export const AccountResponse = z
  .object({
    accountId: z.string(),
    tier: z.int(),
    exposureCap: fen,
    used: fen,
    seq: uint64,
    head: z.string(),
    lines: z.array(LineView),
    loans: z.array(LoanSummary),
    outstanding: z.object({ principal: fen, payoff: fen }),
    nextDue: z.object({ time: Timestamp, amount: fen }).nullable(),
    delinquency: z.object({ daysPastDue: safeInt, bucket: Bucket }),
    asOf: Timestamp,
    indexedBlock: z.int(),
  })
  .meta({ id: "Account" });

export const HistoryResponse = z
  .object({
    accountId: z.string(),
    seq: uint64,
    head: z.string(),
    verified: z.boolean().describe("The hash chain rebuilt from these entries ends at the account's on-chain seq and head"),
    verification: z.string(),
    entries: z.array(
      z.object({
        seq: uint64,
        kind: z.string(),
        head: z.string(),
        payloadHash: z.string(),
        ref: z.string(),
        txHash: z.string(),
        blockNumber: z.int(),
        logIndex: z.int(),
        fields: z
          .record(z.string(), z.unknown())
          .describe("The event's decoded fields by ABI name (integers as decimal strings)"),
      })
    ),
  })
  .meta({ id: "History" });

export const LoanResponse = z
  .object({
    loanId: z.string(),
    accountId: z.string(),
    loanNo: z.int(),
    product: ProductName,
    status: z.enum(["active", "closed", "written_off"]),
    terms: z.object({
      principal: fen,
      startTime: Timestamp,
      periods: z.int(),
      method: z.enum(["bullet", "equal_principal", "annuity"]),
      dailyRatePpm: RatePpm,
      penaltyPpmPerDay: RatePpm,
      totalFee: fen,
      firstDueDay: safeInt,
    }),
    schedule: z.array(
      z.object({
        period: z.int(),
        dueTime: Timestamp,
        principal: fen,
        fee: fen,
        principalPaid: fen,
        feePaid: fen,
        status: z.enum(["paid", "partly_paid", "overdue", "due", "upcoming"]),
      })
    ),
    paid: z.object({ penalty: fen, fee: fen, interest: fen, principal: fen, total: fen }),
    refunded: fen,
    position: z.object({
      principalOutstanding: fen,
      overduePrincipal: fen,
      currentPrincipal: fen,
      feesDue: fen,
      interest: fen,
      penalty: fen,
      amountDue: fen,
      payoff: fen,
      daysPastDue: safeInt,
      nextDueTime: Timestamp,
    }),
    delinquency: Bucket,
    asOf: Timestamp,
  })
  .meta({ id: "Loan" });

export const FreezeResponse = z
  .object({ accountId: z.string(), product: ProductName, reasonCode: z.int(), frozen: z.boolean(), operation: OperationSummary })
  .meta({ id: "FreezeResponse" });

export const LimitReviewResponse = z
  .object({
    accountId: z.string(),
    product: ProductName,
    outcome: z.enum(["increased", "cut", "unchanged"]),
    previousLimit: fen,
    newLimit: fen,
    dailyRatePpm: RatePpm,
    score: z.int(),
    reasonCodes: z.array(z.int()),
    cutReasonCode: z.int().nullable(),
    modelId: z.string(),
    operation: OperationSummary.nullable(),
  })
  .meta({ id: "LimitReviewResponse" });

export const RestructureResponse = z
  .object({
    loanId: z.string(),
    periods: z.int(),
    holidayDays: z.int(),
    dailyRatePpm: RatePpm,
    schedule: z.array(QuotedInstallment).nullable(),
    operation: OperationSummary,
  })
  .meta({ id: "RestructureResponse" });

export const OperationResponse = z
  .object({
    id: z.string(),
    kind: z.string(),
    accountId: z.string(),
    status: z.enum(["pending", "confirmed", "failed"]),
    createdAt: z.string(),
    updatedAt: z.string(),
    steps: z.array(
      z.object({
        step: z.int(),
        call: z.string().describe("The ledger function"),
        status: z.enum(["queued", "sent", "confirmed", "failed", "cancelled"]),
        ref: z.string().describe("The reference the entry carries on-chain"),
        expectedSeq: uint64.nullable(),
        txHash: z.string().nullable(),
        blockNumber: z.int().nullable(),
        logIndex: z.int().nullable(),
        entrySeq: uint64.nullable(),
        event: z.string().nullable(),
        transactions: z.array(z.string()).describe("Every transaction signed for the step (replacements included)"),
        attempts: z.int(),
      })
    ),
    problem: ProblemSchema.nullable().describe("Why the operation failed"),
  })
  .meta({ id: "Operation" });

export const HealthResponse = z
  .object({
    status: z.enum(["ok", "degraded"]),
    chain: z.object({
      reachable: z.boolean(),
      chainId: z.string().nullable(),
      blockNumber: z.int().nullable(),
      ledger: z.string(),
    }),
    outbox: z.object({ depth: z.int(), oldestCreatedAt: z.string().nullable() }),
    indexer: z.object({ nextBlock: z.int().nullable(), lagBlocks: z.int().nullable() }),
  })
  .meta({ id: "Health" });
