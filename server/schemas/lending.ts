/**
 * The lending routes' schemas: applications, quotes, purchases and refunds, cash loans,
 * repayments, restructures, write-offs, freezes, limit reviews, temporary raises and exposure
 * caps, requests and responses. The lending services take the requests' output types and
 * build the responses' (server/lending/).
 */
import { z } from "zod";

import type { ScorecardModel } from "../scoring/scorecard";
import { AccountId, Installments, LoanId, LoanStatusName, Method, MethodName, NationalId, OperationSummary, ProductName, RatePpm, Reason, ReasonCode, Reasons, TimeZone, Timestamp, KycEvidence, featuresSchema } from "./common";
import { fen, positiveFen, ratePpmIn, uint64 } from "./money";

const applicationRequests = new WeakMap<ScorecardModel, ReturnType<typeof buildApplicationRequest>>();
const limitReviewRequests = new WeakMap<ScorecardModel, ReturnType<typeof buildLimitReviewRequest>>();
const reinstateRequests = new WeakMap<ScorecardModel, ReturnType<typeof buildReinstateRequest>>();
const temporaryRaiseRequests = new WeakMap<ScorecardModel, ReturnType<typeof buildTemporaryRaiseRequest>>();

/** The longest a temporary raise may last (a shopping festival, a trip): longer needs a permanent review. */
export const TEMPORARY_RAISE_MAX_DAYS = 90;

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
      }),
      product: ProductName,
      features: featuresSchema(model),
      evidence: KycEvidence.optional(),
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
      evidence: KycEvidence.optional().describe(
        "New KYC evidence about the account's person (default: the tier the scorer last accepted evidence for, until it expires; else 0)"
      ),
    })
    .meta({ id: "LimitReviewRequest" });
}

export function reinstateRequest(model: ScorecardModel) {
  let schema = reinstateRequests.get(model);
  if (!schema) reinstateRequests.set(model, (schema = buildReinstateRequest(model)));
  return schema;
}

function buildReinstateRequest(model: ScorecardModel) {
  return z
    .strictObject({
      product: ProductName,
      features: featuresSchema(model).describe("The account's current features: the scorer re-scores the line on them (the tier is the one it last accepted evidence for)"),
    })
    .meta({ id: "ReinstateRequest" });
}

export function temporaryRaiseRequest(model: ScorecardModel) {
  let schema = temporaryRaiseRequests.get(model);
  if (!schema) temporaryRaiseRequests.set(model, (schema = buildTemporaryRaiseRequest(model)));
  return schema;
}

function buildTemporaryRaiseRequest(model: ScorecardModel) {
  return z
    .strictObject({
      product: ProductName,
      features: featuresSchema(model),
      evidence: KycEvidence.optional().describe(
        "New KYC evidence about the account's person (default: the tier the scorer last accepted evidence for, until it expires; else 0)"
      ),
      days: z
        .int()
        .min(1)
        .max(TEMPORARY_RAISE_MAX_DAYS)
        .describe(`How long the raise lasts, in days from now (1-${TEMPORARY_RAISE_MAX_DAYS}); then the permanent limit applies again`),
    })
    .meta({ id: "TemporaryRaiseRequest" });
}

export const ExposureCapRequest = z
  .strictObject({ exposureCap: fen.describe("The account's new exposure cap across every line and partner, in fen (at most its tier's cap)") })
  .meta({ id: "ExposureCapRequest" });

export const WriteOffRequest = z.strictObject({}).meta({ id: "WriteOffRequest" });

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
    reasons: Reasons,
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
    method: MethodName,
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
    method: MethodName,
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
    loanStatus: LoanStatusName.nullable(),
    operation: OperationSummary,
  })
  .meta({ id: "RepaymentResponse" });

export const RefundResponse = z
  .object({ loanId: z.string(), amount: fen, feeWaived: fen.nullable(), operation: OperationSummary })
  .meta({ id: "RefundResponse" });

export const FreezeResponse = z
  .object({ accountId: z.string(), product: ProductName, reasonCode: z.int(), reason: Reason, frozen: z.boolean(), operation: OperationSummary })
  .meta({ id: "FreezeResponse" });

export const ReinstateResponse = z
  .object({
    accountId: z.string(),
    product: ProductName,
    outcome: z.enum(["reinstated", "declined"]).describe("declined: the scorer's score does not pass; the line stays frozen and nothing is written"),
    score: z.int(),
    reasonCodes: z.array(z.int()),
    reasons: Reasons,
    modelId: z.string(),
    operation: OperationSummary.nullable(),
  })
  .meta({ id: "ReinstateResponse" });

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
    reasons: Reasons,
    cutReasonCode: z.int().nullable(),
    modelId: z.string(),
    operation: OperationSummary.nullable(),
  })
  .meta({ id: "LimitReviewResponse" });

export const TemporaryRaiseResponse = z
  .object({
    accountId: z.string(),
    product: ProductName,
    outcome: z
      .enum(["raised", "not_raised"])
      .describe("not_raised: the scorer declined, or its limit does not exceed the limit in force; nothing is written (a temporary raise never cuts)"),
    previousLimit: fen.describe("The limit in force when the request was made"),
    temporaryLimit: fen.describe("The limit in force until expiresAt (previousLimit when not raised)"),
    expiresAt: Timestamp.nullable().describe("When the raise lapses and the permanent limit applies again (null when not raised)"),
    dailyRatePpm: RatePpm,
    score: z.int(),
    reasonCodes: z.array(z.int()),
    reasons: Reasons,
    modelId: z.string(),
    operation: OperationSummary.nullable(),
  })
  .meta({ id: "TemporaryRaiseResponse" });

export const ExposureCapResponse = z
  .object({
    accountId: z.string(),
    previousCap: fen.describe("The cap when the request was made"),
    exposureCap: fen,
    operation: OperationSummary,
  })
  .meta({ id: "ExposureCapResponse" });

export const WriteOffResponse = z
  .object({
    loanId: z.string(),
    principalWrittenOff: fen.nullable().describe("Principal outstanding at the write-off (stays in the line's usage until recovered); null until confirmed"),
    interestAccrued: fen.nullable().describe("Interest accrued at the write-off (stays owed)"),
    penaltyAccrued: fen.nullable().describe("Penalty accrued at the write-off (stays owed)"),
    daysPastDue: z.int().nullable(),
    lineFrozen: z.boolean().nullable().describe("true when this write-off froze the line (reason code 65535): POST /v1/accounts/{accountId}/reinstate lifts it"),
    operation: OperationSummary,
  })
  .meta({ id: "WriteOffResponse" });

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
