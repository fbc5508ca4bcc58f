/**
 * Webhooks: partners register endpoints for the event types they want; every event is
 * written with its deliveries before anything is sent (servicing-store.ts), and the
 * deliverer sends due deliveries one at a time, signed (webhook-signature.ts), retrying a
 * failure with exponential backoff for up to `retryForMs` (a day by default) from the first
 * attempt (or from the last replay). Every attempt is logged. A partner lists its deliveries
 * and replays one (same event, same id, signed anew). Secrets are derived from a key held by
 * the gateway, never stored or logged: HMAC-SHA256(webhook key, subscription id). Deliveries
 * go only to public addresses (server/schemas/webhook-url.ts), checked after resolving the host, and
 * the connection is made to the address checked.
 */
import { createHash, createHmac } from "node:crypto";
import { lookup as dnsLookup } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";

import type { Clock } from "../clock";
import { DomainError } from "../errors";
import type { Logger } from "../logger";
import { randomHex, type Random } from "../randomness";
import type { Delivery, DeliveryAttempt, ServicingStore, Subscription } from "./servicing-store";
import { bareHost, mayConnect, webhookUrlProblem, type WebhookUrlPolicy } from "../schemas/webhook-url";
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
}) => Promise<{ status: number; excerpt?: string }>;

/** At most this much of an answer's body is read (the rest is dropped with the connection). */
export const RESPONSE_READ_LIMIT_BYTES = 64 * 1024;
/** How much of it is kept (for the log). */
export const RESPONSE_EXCERPT_CHARS = 200;

/** A refused destination: the error code an attempt is logged with. */
export class AddressNotAllowed extends Error {
  readonly code = "EADDRNOTPUBLIC";
  constructor(host: string) {
    super(`${host} resolves to an address webhooks may not reach (loopback, private, link-local or reserved)`);
    this.name = "AddressNotAllowed";
  }
}

/**
 * The address to connect to for `url`: its host resolved (every address it resolves to must be
 * allowed, so a name that also points inside is refused), the first one used.
 */
export async function checkedAddress(url: URL, policy: WebhookUrlPolicy): Promise<{ address: string; family: 4 | 6 }> {
  const host = bareHost(url.hostname);
  const literal = isIP(host);
  const addresses = literal !== 0 ? [{ address: host, family: literal }] : await dnsLookup(host, { all: true, verbatim: true });
  if (addresses.length === 0 || addresses.some((a) => !mayConnect(url, a.address, policy))) throw new AddressNotAllowed(host);
  return { address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
}

/**
 * POSTs with node:http(s): the host is resolved and checked first, and the connection goes to
 * the checked address (a `lookup` that answers it), so a DNS answer that changes between the
 * check and the connection (rebinding) cannot redirect it. TLS still verifies the certificate
 * for the URL's host name. Redirects are not followed; at most RESPONSE_READ_LIMIT_BYTES of the
 * answer are read, the first RESPONSE_EXCERPT_CHARS kept.
 */
export function httpTransport(policy: WebhookUrlPolicy): WebhookTransport {
  return async ({ url, headers, body, timeoutMs }) => {
    const signal = AbortSignal.timeout(timeoutMs);
    const target = new URL(url);
    const { address, family } = await checkedAddress(target, policy);
    const pinned: LookupFunction = (_hostname, options, callback) => {
      if (options.all) (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address, family }]);
      else callback(null, address, family);
    };
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        target,
        {
          method: "POST",
          headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
          lookup: pinned,
          agent: false,
          signal,
          ...(target.protocol === "https:" && isIP(bareHost(target.hostname)) === 0 ? { servername: bareHost(target.hostname) } : {}),
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let read = 0;
          const finish = () => {
            const excerpt = Buffer.concat(chunks).toString("utf8").slice(0, RESPONSE_EXCERPT_CHARS);
            resolve({ status: res.statusCode ?? 0, excerpt });
          };
          res.on("data", (chunk: Buffer) => {
            if (read < RESPONSE_READ_LIMIT_BYTES) chunks.push(chunk.subarray(0, RESPONSE_READ_LIMIT_BYTES - read));
            read += chunk.length;
            if (read >= RESPONSE_READ_LIMIT_BYTES) {
              res.destroy();
              finish();
            }
          });
          res.on("end", finish);
          res.on("error", () => finish()); // the status is known; a broken body does not change it
        }
      );
      req.on("error", reject);
      req.end(body);
    });
  };
}

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
    /** Default: node:http(s) to public addresses only. */
    private readonly transport: WebhookTransport = httpTransport({ allowLoopbackHttp: false })
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
    let excerpt: string | undefined;
    try {
      const answer = await this.transport({ url: d.url, headers, body: d.body, timeoutMs: this.settings.timeoutMs });
      statusCode = answer.status;
      excerpt = answer.excerpt;
      if (statusCode < 200 || statusCode > 299) error = `HTTP ${statusCode}`;
    } catch (e) {
      const err = e as { cause?: { code?: string }; code?: string; name?: string };
      error = err.cause?.code ?? (err.name === "AbortError" || err.name === "TimeoutError" ? "TimeoutError" : err.code) ?? err.name ?? "error";
    }
    const attempt = d.attempts + 1;
    // A replay restarts the window and the backoff: counted from the replay, not the first attempt.
    const windowFrom = d.retryFromMs ?? d.firstAttemptMs ?? startedMs;
    const sinceWindow = attempt - (d.retryFromAttempt ?? 0);
    const ok = error === null;
    const next = ok ? null : nextAttemptMs(windowFrom, startedMs, sinceWindow, this.settings.retryForMs);
    const status = ok ? "delivered" : next === null ? "failed" : "pending";
    await this.store.recordDeliveryAttempt(
      d.id,
      { attempt, trigger, atMs: startedMs, statusCode, error, durationMs: Math.round(performance.now() - t0) },
      { status, nextAttemptMs: next }
    );
    const log = { delivery: d.id, event: d.eventId, type: d.eventType, subscription: d.subscriptionId, attempt, trigger, statusCode, outcome: status };
    if (ok) this.logger.info(log, "webhook delivered");
    else this.logger.warn({ ...log, error, responseExcerpt: excerpt, nextAttemptMs: next }, status === "failed" ? "webhook delivery given up" : "webhook delivery failed; will retry");
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
    private readonly logger: Logger,
    /** Which URLs may be registered (plain http to the loopback host only on the local network). */
    readonly urlPolicy: WebhookUrlPolicy = { allowLoopbackHttp: false }
  ) {}

  /** Refuses a URL the policy does not allow (a 400 naming `url`). */
  checkUrl(url: string): void {
    const problem = webhookUrlProblem(url, this.urlPolicy);
    if (problem === undefined) return;
    throw new DomainError("validation-failed", `url: ${problem}`, { field: "url", extensions: { errors: [{ field: "url", message: problem }] } });
  }

  /** A subscription registered by `apiKeyId` for `owner` (the partner, or the operator's key). */
  newSubscription(apiKeyId: string, owner: string, url: string, events: string[]): Subscription {
    return {
      id: newSubscriptionId(this.random),
      apiKeyId,
      owner,
      url,
      events: [...new Set(events)],
      active: true,
      createdAt: new Date(this.clock.nowMs()).toISOString(),
    };
  }

  view(sub: { id: string; url: string; events: string[]; createdAt: string }): SubscriptionView {
    return { id: sub.id, url: sub.url, events: sub.events, createdAt: sub.createdAt, replayWindowSeconds: this.settings.replayWindowSeconds };
  }

  logRegistered(sub: Subscription): void {
    // The URL's origin and path only: partners often put a token in the query string.
    this.logger.info({ subscription: sub.id, apiKey: sub.apiKeyId, owner: sub.owner, endpoint: loggableUrl(sub.url), events: sub.events }, "webhook registered");
  }

  /** The owner's active subscription `id` (another owner's answers as an unknown one does). */
  async owned(owner: string, id: string) {
    const sub = await this.store.subscription(id);
    if (!sub || !sub.active || sub.owner !== owner) return undefined;
    return sub;
  }

  list(owner: string) {
    return this.store.subscriptionsOf(owner);
  }

  async remove(owner: string, id: string): Promise<boolean> {
    if (!(await this.owned(owner, id))) return false;
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
    return this.store.deliveryWithAttempts(deliveryId);
  }
}

/** A URL without its query, fragment or credentials, for logs. */
export function loggableUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "[unparseable url]";
  }
}
