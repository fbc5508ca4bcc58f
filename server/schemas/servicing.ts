/**
 * The servicing routes' schemas: webhooks (the event types a partner subscribes to, endpoints,
 * deliveries, replays), the credit report, and the admin clock and servicing run. The
 * servicing takes its task and event-type names from here (server/servicing/).
 */
import { z } from "zod";

import { Bucket, pageLimit } from "./common";
import { safeInt } from "./money";
import { webhookUrlProblem } from "./webhook-url";

export const REMINDER_TYPES = [
  "reminder.due_soon",
  "reminder.due_today",
  "reminder.overdue_day_1",
  "reminder.overdue_day_7",
  "reminder.overdue_day_30",
] as const;

export const EVENT_TYPES = [
  ...REMINDER_TYPES,
  "decision.made",
  "operation.confirmed",
  "operation.failed",
  "line.frozen",
  "limit.changed",
  "exposure_cap.changed",
  "loan.written_off",
  "alert.velocity",
] as const;

export type ReminderType = (typeof REMINDER_TYPES)[number];
export type EventType = (typeof EVENT_TYPES)[number];


/** The parts of the servicing day (server/servicing/scheduler.ts runs them in this order). */
export const SERVICING_TASKS = ["delinquency", "reminders", "limit_reviews", "deliveries"] as const;
export type ServicingTask = (typeof SERVICING_TASKS)[number];

const Unix = safeInt.describe("Unix time in seconds (the business clock)");

export const WebhookParams = z.strictObject({
  webhookId: z.string().regex(/^wh_[0-9a-f]{32}$/, "must be a webhook id (wh_ and 32 hex digits)"),
});

const WebhookUrl = z
  .string()
  .max(2048)
  .superRefine((v, ctx) => {
    // The local-network exception (plain http to the loopback host) is checked again with the
    // chain's id when the endpoint is registered (WebhookSubscriptions.checkUrl).
    const problem = webhookUrlProblem(v, { allowLoopbackHttp: true });
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  })
  .describe(
    "Where deliveries are POSTed: https to a public address (plain http only to 127.0.0.1 or localhost, in development mode), without credentials"
  );

export const WebhookRequest = z
  .strictObject({
    url: WebhookUrl,
    events: z.array(z.enum(EVENT_TYPES)).min(1).max(64).describe("The event types to deliver"),
  })
  .meta({ id: "WebhookRequest" });

export const WebhookResponse = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    createdAt: z.string(),
    replayWindowSeconds: z.int().describe("The signature timestamp window receivers should enforce"),
    secret: z
      .string()
      .optional()
      .describe("The signing secret: shown when the endpoint is registered (and to a retry of that request), never again"),
  })
  .meta({ id: "Webhook" });

export const WebhookListResponse = z.object({ webhooks: z.array(WebhookResponse) }).meta({ id: "WebhookList" });

export const DeliveriesQuery = z.strictObject({
  limit: pageLimit("Most recent deliveries first; at most this many (default 100)"),
});

export const DeliveryView = z
  .object({
    id: z.string(),
    eventId: z.string().describe("The event id: the same on every attempt and replay (deduplicate on it)"),
    eventType: z.string(),
    status: z.enum(["pending", "delivered", "failed", "cancelled"]),
    attempts: z.int(),
    nextAttemptAt: z.string().nullable(),
    lastStatus: z.int().nullable().describe("HTTP status of the last attempt"),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    event: z.record(z.string(), z.unknown()).describe("The delivered body"),
    attemptLog: z.array(
      z.object({
        attempt: z.int(),
        trigger: z.enum(["scheduled", "replay"]),
        at: z.string(),
        statusCode: z.int().nullable(),
        error: z.string().nullable(),
        durationMs: z.int(),
      })
    ),
  })
  .meta({ id: "WebhookDelivery" });

export const DeliveriesResponse = z.object({ deliveries: z.array(DeliveryView) }).meta({ id: "WebhookDeliveries" });

export const ReplayRequest = z
  .strictObject({
    deliveryId: z.string().regex(/^dlv_[0-9a-f]{32}$/, "must be a delivery id (dlv_ and 32 hex digits)"),
  })
  .meta({ id: "ReplayRequest" });

export const CreditReportResponse = z
  .object({
    accountId: z.string(),
    timeZone: z.string(),
    openedAt: Unix,
    asOf: Unix,
    months: z.array(
      z.object({
        month: z.string().describe("YYYY-MM in the borrower's time zone"),
        status: z
          .enum(["N", "1", "2", "3", "4", "5", "6", "7", "C", "D"])
          .describe("N current; 1-7 each 30 days past due (7: 181+); C everything repaid; D written off"),
        daysPastDue: safeInt,
        asOf: Unix.describe("When the month was read: its last second, or now for the current month"),
      })
    ),
  })
  .meta({ id: "CreditReport" });

export const ClockAdvanceRequest = z
  .strictObject({ days: z.int().min(1).max(400).describe("Days to move the chain's time (and the business clock) forward") })
  .meta({ id: "ClockAdvanceRequest" });

export const ServicingRunRequest = z
  .strictObject({
    tasks: z
      .array(z.enum(SERVICING_TASKS))
      .min(1)
      .describe("Which parts of the servicing day to run: delinquency (buckets), reminders (queue and guard), limit_reviews, deliveries"),
  })
  .meta({ id: "ServicingRunRequest" });

export const RunSummaryResponse = z
  .object({
    from: Unix,
    through: Unix,
    loansServiced: z.int(),
    remindersQueued: z.int(),
    contacts: z.object({ sent: z.int(), deferred: z.int(), suppressed: z.int() }),
    bucketMoves: z.array(z.object({ loanId: z.string(), from: Bucket, to: Bucket, daysPastDue: safeInt, at: Unix })),
    limitReviews: z.array(z.object({ accountId: z.string(), product: z.string(), outcome: z.string(), operationId: z.string().nullable() })),
    deliveriesAttempted: z.int(),
  })
  .meta({ id: "ServicingRun" });

export const ClockAdvanceResponse = z
  .object({ days: z.int(), previousTime: Unix, businessTime: Unix, chainTime: Unix, run: RunSummaryResponse })
  .meta({ id: "ClockAdvance" });

