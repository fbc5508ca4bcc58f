/**
 * The account routes' response schemas: an account with its lines and loans, its verified
 * history, and one loan with its schedule and position.
 */
import { z } from "zod";

import { Bucket, LoanStatusName, MethodName, ProductName, RatePpm, Timestamp } from "./common";
import { fen, safeInt, uint64 } from "./money";

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
    status: LoanStatusName,
    principal: fen,
    principalOutstanding: fen,
    amountDue: fen,
    payoff: fen,
    nextDueTime: Timestamp.nullable(),
    daysPastDue: safeInt,
  })
  .meta({ id: "LoanSummary" });

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
    status: LoanStatusName,
    terms: z.object({
      principal: fen,
      startTime: Timestamp,
      periods: z.int(),
      method: MethodName,
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
