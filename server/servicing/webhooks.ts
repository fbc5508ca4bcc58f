/**
 * Webhooks: partners register endpoints for the event types they want; every event is
 * written with its deliveries before anything is sent (servicing-store.ts), and the
 * deliverer sends due deliveries one at a time, signed (webhook-signature.ts), retrying a
 * failure with exponential backoff for up to `retryForMs` (a day by default) from the first
 * attempt. Every attempt is logged. A partner lists its deliveries and replays one (same
 * event, same id, signed anew). Secrets are derived from a key held by the gateway, never
 * stored or logged: HMAC-SHA256(webhook key, subscription id).
 */
import { createHash, createHmac } from "node:crypto";

import type { Clock } from "../clock";
import type { Logger } from "../logger";
import { randomHex, type Random } from "../randomness";
import type { Delivery, DeliveryAttempt, ServicingStore } from "./servicing-store";
import { SIGNATURE_HEADER, signWebhook } from "./webhook-signature";

export interface WebhookSettings {
  replayWindowSeconds: number;
  retryForMs: number;
  timeoutMs: number;
}

/** The first retry waits this long; each next one twice as long, up to RETRY_MAX_DELAY_MS. */
export const RETRY_FIRST_DELAY_MS = 30_000;
export const RETRY_MAX_DELAY_MS = 3_600_000;

/** The wait after failed attempt `attempt` (1-based): 30 s, 1 min, 2 min, ... capped at 1 h. */
export function retryDelayMs(attempt: number): number {
  return Math.min(RETRY_MAX_DELAY_MS, RETRY_FIRST_DELAY_MS * 2 ** Math.min(20, Math.max(0, attempt - 1)));
}

/** When to try again after failed attempt `attempt`, or null to give up (past `retryForMs` since the first attempt). */
export function nextAttemptMs(firstAttemptMs: number, nowMs: number, attempt: number, retryForMs: number): number | null {
  const next = nowMs + retryDelayMs(attempt);
  return next - firstAttemptMs > retryForMs ? null : next;
}

/** What one HTTP attempt needs and returns (injected: tests and other transports swap it). */
export type WebhookTransport = (request: {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}) => Promise<{ status: number }>;

export const fetchTransport: WebhookTransport = async ({ url, headers, body, timeoutMs }) => {
  const response = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
  await response.arrayBuffer().catch(() => undefined);
  return { status: response.status };
};

/** Derives subscription secrets from one key (so none is ever stored). */
export class WebhookSecrets {
  readonly #key: Buffer;
  constructor(masterKey: Buffer) {
    this.#key = createHmac("sha256", masterKey).update("credit-ledger/webhook-secrets/v1").digest();
  }
  secretOf(subscriptionId: string): string {
    return `whsec_${createHmac("sha256", this.#key).update(subscriptionId).digest("base64url")}`;
  }
  /** What the subscriptions table keeps: a hash, to recognise a secret, not to use it. */
  static hashOf(secret: string): string {
    return createHash("sha256").update(secret).digest("hex");
  }
  toJSON(): string {
    return "[redacted]";
  }
}

export const newSubscriptionId = (random: Random): string => `wh_${randomHex(random, 16).slice(2)}`;

export class WebhookDeliverer {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: ServicingStore,
    private readonly secrets: WebhookSecrets,
    private readonly settings: WebhookSettings,
    /** The gateway's own clock (not the business clock): signatures and retries live in real time. */
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly transport: WebhookTransport = fetchTransport
  ) {}

  /** Sends every delivery due now, one at a time, in order; resolves when each has been attempted. */
  deliverDue(): Promise<number> {
    const run = this.queue.then(() => this.drain());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Makes a delivery due again at once (a replay) and sends it. */
  async replay(deliveryId: string): Promise<void> {
    await this.store.replayDelivery(deliveryId, this.clock.nowMs());
    this.replays.add(deliveryId);
    await this.deliverDue();
  }

  private readonly replays = new Set<string>();

  private async drain(): Promise<number> {
    let sent = 0;
    for (let round = 0; round < 100; round++) {
      const due = await this.store.dueDeliveries(this.clock.nowMs(), 50);
      if (due.length === 0) break;
      for (const d of due) {
        await this.attempt(d);
        sent += 1;
      }
    }
    return sent;
  }

  private async attempt(d: Delivery): Promise<void> {
    const startedMs = this.clock.nowMs();
    const timestamp = Math.floor(startedMs / 1000);
    const trigger: DeliveryAttempt["trigger"] = this.replays.delete(d.id) ? "replay" : "scheduled";
    const headers = {
      "content-type": "application/json",
      "user-agent": "credit-ledger-webhooks/1",
      [SIGNATURE_HEADER.toLowerCase()]: signWebhook(this.secrets.secretOf(d.subscriptionId), timestamp, d.body),
      "webhook-id": d.eventId,
      "webhook-delivery": d.id,
    };
    const t0 = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      statusCode = (await this.transport({ url: d.url, headers, body: d.body, timeoutMs: this.settings.timeoutMs })).status;
      if (statusCode < 200 || statusCode > 299) error = `HTTP ${statusCode}`;
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      error = cause ?? (e as Error).name ?? "error";
    }
    const attempt = d.attempts + 1;
    const first = d.firstAttemptMs ?? startedMs;
    const ok = error === null;
    const next = ok ? null : nextAttemptMs(first, startedMs, attempt, this.settings.retryForMs);
    const status = ok ? "delivered" : next === null ? "failed" : "pending";
    await this.store.recordDeliveryAttempt(
      d.id,
      { attempt, trigger, atMs: startedMs, statusCode, error, durationMs: Math.round(performance.now() - t0) },
      { status, nextAttemptMs: next }
    );
    const log = { delivery: d.id, event: d.eventId, type: d.eventType, subscription: d.subscriptionId, attempt, trigger, statusCode, outcome: status };
    if (ok) this.logger.info(log, "webhook delivered");
    else this.logger.warn({ ...log, error, nextAttemptMs: next }, status === "failed" ? "webhook delivery given up" : "webhook delivery failed; will retry");
  }
}

export interface SubscriptionView {
  id: string;
  url: string;
  events: string[];
  createdAt: string;
  replayWindowSeconds: number;
}

/** A partner's subscriptions: register, list, delete, deliveries, replay (owner only). */
export class WebhookSubscriptions {
  constructor(
    readonly store: ServicingStore,
    readonly secrets: WebhookSecrets,
    private readonly deliverer: WebhookDeliverer,
    private readonly settings: WebhookSettings,
    private readonly random: Random,
    private readonly clock: Clock,
    private readonly logger: Logger
  ) {}

  newSubscription(apiKeyId: string, url: string, events: string[]) {
    return {
      id: newSubscriptionId(this.random),
      apiKeyId,
      url,
      events: [...new Set(events)],
      active: true,
      createdAt: new Date(this.clock.nowMs()).toISOString(),
    };
  }

  view(sub: { id: string; url: string; events: string[]; createdAt: string }): SubscriptionView {
    return { id: sub.id, url: sub.url, events: sub.events, createdAt: sub.createdAt, replayWindowSeconds: this.settings.replayWindowSeconds };
  }

  logRegistered(sub: { id: string; apiKeyId: string; url: string; events: string[] }): void {
    this.logger.info({ subscription: sub.id, apiKey: sub.apiKeyId, url: sub.url, events: sub.events }, "webhook registered");
  }

  async owned(apiKeyId: string, id: string) {
    const sub = await this.store.subscription(id);
    if (!sub || !sub.active || sub.apiKeyId !== apiKeyId) return undefined;
    return sub;
  }

  list(apiKeyId: string) {
    return this.store.subscriptionsOf(apiKeyId);
  }

  async remove(apiKeyId: string, id: string): Promise<boolean> {
    if (!(await this.owned(apiKeyId, id))) return false;
    const removed = await this.store.deleteSubscription(id);
    if (removed) this.logger.info({ subscription: id }, "webhook deleted; its pending deliveries are cancelled");
    return removed;
  }

  deliveries(id: string, limit: number) {
    return this.store.deliveriesOf(id, limit);
  }

  /** Sends the delivery again (the same event id and body, a fresh signature); resolves once attempted. */
  async replay(subscriptionId: string, deliveryId: string) {
    const d = await this.store.delivery(deliveryId);
    if (!d || d.subscriptionId !== subscriptionId) return undefined;
    this.logger.info({ subscription: subscriptionId, delivery: deliveryId }, "webhook delivery replayed on request");
    await this.deliverer.replay(deliveryId);
    return (await this.store.deliveriesOf(subscriptionId, 1_000)).find((x) => x.id === deliveryId);
  }
}
