/**
 * Webhook events: the types a partner can subscribe to, their ids and their envelope. An
 * event id is derived from what the event is about (the reminder's loan and due date, the
 * operation's id), so the same fact never becomes two events, even when the servicing runs
 * twice or the gateway restarts; a partner deduplicates on it. Pure.
 */
import { createHash } from "node:crypto";

import { jsonValue } from "../../core/json";
import { REMINDER_TYPES, type EventType, type ReminderType } from "../schemas/servicing";


export const isReminder = (type: string): type is ReminderType => (REMINDER_TYPES as readonly string[]).includes(type);

/** An event as stored and as delivered (the body of every delivery is this, as JSON). */
export interface WebhookEvent {
  /** `evt_` + 32 hex; unique per fact. */
  id: string;
  type: EventType;
  /** Unix seconds on the business clock when the fact happened (or the reminder was released). */
  created: number;
  /** The account the event is about (pseudonymous id, no personal data). */
  accountId: string | null;
  data: Record<string, unknown>;
}

const digest = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex").slice(0, 32);

/** The id of the event of `type` about `subject` (e.g. "<accountId>:<loanNo>:<dueTime>", an operation id). */
export const eventIdOf = (type: EventType, subject: string): string => `evt_${digest(`${type}|${subject}`)}`;

/** The id of one event's delivery to one subscription. */
export const deliveryIdOf = (eventId: string, subscriptionId: string): string => `dlv_${digest(`${eventId}|${subscriptionId}`)}`;

/** The delivery body: the event as JSON with amounts as decimal strings. */
export function eventBody(event: WebhookEvent): string {
  return JSON.stringify(jsonValue(event));
}
