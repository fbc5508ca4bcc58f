/**
 * Webhooks: partners register endpoints for the event types they want (at most their quota of
 * them); every event is written with its deliveries before anything is sent
 * (servicing-store.ts), and the deliverer sends due deliveries signed (webhook-signature.ts),
 * concurrently across endpoints and within limits per endpoint and in all, each attempt under one
 * deadline (DNS lookup, connection, request, answer), each endpoint behind a circuit breaker
 * (webhook-circuit.ts), so one partner's slow or dead endpoint cannot hold up another's. A failure
 * is retried with exponential backoff for up to `retryForMs` (a day by default) from the first
 * attempt (or from the last replay). Every attempt is logged. A partner lists its deliveries and
 * replays one (same event, same id, signed anew). Secrets are derived from a key held by the
 * gateway, never stored or logged: HMAC-SHA256(webhook key, subscription id). Deliveries go only
 * to public addresses (server/schemas/webhook-url.ts), checked after resolving the host, and the
 * connection is made to the address checked.
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
import type { GatewayMetrics } from "../metrics";
import type { Delivery, DeliveryAttempt, ServicingStore, Subscription } from "./servicing-store";
import { Circuits, type CircuitChange, type CircuitState } from "./webhook-circuit";
import { bareHost, mayConnect, webhookUrlProblem, type WebhookUrlPolicy } from "../schemas/webhook-url";
import { SIGNATURE_HEADER, signWebhook } from "./webhook-signature";

export interface WebhookSettings {
  replayWindowSeconds: number;
  retryForMs: number;
  /** One attempt, all of it: DNS lookup, connect, request and the answer's body. */
  timeoutMs: number;
  /** Attempts in flight at once, every endpoint together. */
  concurrency: number;
  /** Attempts in flight at once to one endpoint (1 keeps its deliveries in order). */
  perEndpointConcurrency: number;
  /** Consecutive failed attempts that open an endpoint's circuit. */
  breakerFailures: number;
  /** How long an open circuit makes no attempt before it lets one probe through. */
  breakerCooldownMs: number;
  /** The most active subscriptions of an owner without a quota of its own (an operator key). */
  maxSubscriptions: number;
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

/**
 * What one HTTP attempt needs and returns (injected: tests and other transports swap it). The
 * signal is the attempt's deadline: it aborts when the whole attempt has taken `timeoutMs`, and
 * the deliverer stops waiting then whether the transport heeds it or not.
 */
export type WebhookTransport = (request: {
  url: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}) => Promise<{ status: number; excerpt?: string }>;

/** Resolves a host name to every address it has (injected: tests answer with what they need). */
export type HostResolver = (host: string) => Promise<ReadonlyArray<{ address: string; family: number }>>;

export const systemResolver: HostResolver = (host) => dnsLookup(host, { all: true, verbatim: true });

/** `work`, or a rejection with the signal's reason as soon as it aborts (the work itself is left to end unobserved). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      }
    );
  });
}

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
 * allowed, so a name that also points inside is refused), the first one used. A lookup that
 * does not answer before `signal` aborts ends the attempt (DNS is part of the deadline).
 */
export async function checkedAddress(
  url: URL,
  policy: WebhookUrlPolicy,
  resolve: HostResolver = systemResolver,
  signal?: AbortSignal
): Promise<{ address: string; family: 4 | 6 }> {
  const host = bareHost(url.hostname);
  const literal = isIP(host);
  const lookup = literal !== 0 ? Promise.resolve([{ address: host, family: literal }]) : resolve(host);
  const addresses = await (signal ? untilAborted(lookup, signal) : lookup);
  if (addresses.length === 0 || addresses.some((a) => !mayConnect(url, a.address, policy))) throw new AddressNotAllowed(host);
  return { address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
}

/**
 * POSTs with node:http(s): the host is resolved and checked first, and the connection goes to
 * the checked address (a `lookup` that answers it), so a DNS answer that changes between the
 * check and the connection (rebinding) cannot redirect it. TLS still verifies the certificate
 * for the URL's host name. Redirects are not followed; at most RESPONSE_READ_LIMIT_BYTES of the
 * answer are read, the first RESPONSE_EXCERPT_CHARS kept. The request's signal bounds all of it:
 * the lookup, the connection, the request and the reading of the answer.
 */
export function httpTransport(policy: WebhookUrlPolicy, resolve: HostResolver = systemResolver): WebhookTransport {
  return async ({ url, headers, body, signal }) => {
    const target = new URL(url);
    const { address, family } = await checkedAddress(target, policy, resolve, signal);
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
          // Past the deadline the attempt timed out, however far the answer got; otherwise the status
          // is known, and a broken body does not change it.
          res.on("error", () => (signal.aborted ? reject(signal.reason) : finish()));
          res.on("close", () => signal.aborted && reject(signal.reason)); // (a no-op once finished)
        }
      );
      req.on("error", (error) => reject(signal.aborted ? signal.reason : error)); // past the deadline: its reason (TimeoutError)
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

/** How many due deliveries one look at the store reads. */
const DUE_BATCH = 50;
/** Bounds one `deliverDue` (each round waits for an attempt to end, or for a nudge). */
const MAX_ROUNDS = 5_000;

const CIRCUIT_GAUGE: Record<CircuitState, number> = { closed: 0, "half-open": 1, open: 2 };

export interface DelivererOptions {
  metrics?: GatewayMetrics;
  /** The deadline of one attempt (default: AbortSignal.timeout); tests abort it themselves. */
  deadline?: (timeoutMs: number) => AbortSignal;
}

/**
 * Sends due deliveries concurrently: at most `concurrency` attempts in flight in all, at most
 * `perEndpointConcurrency` to one endpoint (a subscription), each bounded by one deadline over
 * the whole attempt, each endpoint behind its own circuit breaker (webhook-circuit.ts). So a
 * slow or dead endpoint holds its own slots only, for at most the timeout, and after a few
 * failures none at all, while every other endpoint's deliveries go.
 *
 * The store stays the queue: a delivery is pending until an attempt succeeds or its retry
 * window is over (as before), and nothing about it is kept only in memory. Deliveries to an
 * endpoint are read oldest first and, with one attempt per endpoint (the default), sent in that
 * order. An endpoint that is full or behind an open circuit is left out of the read, so its
 * backlog never hides another endpoint's due deliveries.
 */
export class WebhookDeliverer {
  /** Delivery id -> its attempt under way. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Subscription id -> its scheduled attempts under way. */
  private readonly perEndpoint = new Map<string, number>();
  readonly circuits: Circuits;
  private readonly metrics?: GatewayMetrics;
  private readonly deadline: (timeoutMs: number) => AbortSignal;
  private nudge: () => void = () => undefined;
  private nudged: Promise<void> = this.freshNudge();
  private background?: Promise<unknown>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: ServicingStore,
    private readonly secrets: WebhookSecrets,
    private readonly settings: WebhookSettings,
    /** The gateway's own clock (not the business clock): signatures, retries and circuits live in real time. */
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Default: node:http(s) to public addresses only. */
    private readonly transport: WebhookTransport = httpTransport({ allowLoopbackHttp: false }),
    options: DelivererOptions = {}
  ) {
    this.circuits = new Circuits({ failures: settings.breakerFailures, cooldownMs: settings.breakerCooldownMs });
    this.metrics = options.metrics;
    this.deadline = options.deadline ?? ((ms) => AbortSignal.timeout(ms));
  }

  private freshNudge(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.nudge = () => {
        this.nudged = this.freshNudge();
        resolve();
      };
    });
  }

  /**
   * Sends every delivery due now (and those that come due while it runs), concurrently within
   * the limits; resolves once none is in flight any more, with how many attempts it started.
   * Deliveries behind an open circuit stay pending and are not waited for.
   */
  async deliverDue(): Promise<number> {
    let started = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const woken = this.nudged;
      if (!this.stopped && this.inFlight.size < this.settings.concurrency) started += await this.startDue();
      if (this.inFlight.size === 0) break;
      await Promise.race([woken, ...this.inFlight.values()]);
    }
    return started;
  }

  /** Starts what is due, as far as the limits and the circuits let it. */
  private async startDue(): Promise<number> {
    const now = this.clock.nowMs();
    const full = [...this.perEndpoint].filter(([, n]) => n >= this.settings.perEndpointConcurrency).map(([sub]) => sub);
    const due = await this.store.dueDeliveries(now, DUE_BATCH, {
      deliveries: [...this.inFlight.keys()],
      subscriptions: [...full, ...this.circuits.waiting(now)],
    });
    let started = 0;
    for (const d of due) {
      if (this.inFlight.size >= this.settings.concurrency) break;
      if (this.inFlight.has(d.id) || (this.perEndpoint.get(d.subscriptionId) ?? 0) >= this.settings.perEndpointConcurrency) continue;
      const { admission, change } = this.circuits.admit(d.subscriptionId, this.clock.nowMs());
      if (change) this.circuitChanged(change, d);
      if (admission === "wait") continue;
      this.start(d, admission === "probe");
      started += 1;
    }
    return started;
  }

  private start(d: Delivery, probe: boolean): void {
    const sub = d.subscriptionId;
    this.perEndpoint.set(sub, (this.perEndpoint.get(sub) ?? 0) + 1);
    const run = this.attemptAndSettle(d, "scheduled", probe).finally(() => {
      const left = (this.perEndpoint.get(sub) ?? 1) - 1;
      if (left === 0) this.perEndpoint.delete(sub);
      else this.perEndpoint.set(sub, left);
    });
    this.track(d.id, run);
  }

  private track(deliveryId: string, run: Promise<void>): void {
    const tracked = run.finally(() => {
      this.inFlight.delete(deliveryId);
      this.metrics?.webhookAttemptsInFlight.set(this.inFlight.size);
    });
    this.inFlight.set(deliveryId, tracked);
    this.metrics?.webhookAttemptsInFlight.set(this.inFlight.size);
  }

  /** One attempt, its outcome recorded, the endpoint's circuit told; never rejects (a store failure leaves the delivery due). */
  private async attemptAndSettle(d: Delivery, trigger: DeliveryAttempt["trigger"], probe: boolean): Promise<void> {
    let ok = false;
    try {
      ok = await this.attempt(d, trigger);
    } catch (error) {
      this.logger.error({ err: error, delivery: d.id, subscription: d.subscriptionId }, "webhook attempt not recorded; the delivery stays due and is tried again");
    }
    const change = this.circuits.record(d.subscriptionId, ok, this.clock.nowMs(), probe);
    if (change) this.circuitChanged(change, d);
  }

  private circuitChanged(c: CircuitChange, d: Delivery): void {
    this.metrics?.webhookCircuitState.set({ subscription: c.endpoint }, CIRCUIT_GAUGE[c.to]);
    this.metrics?.webhookCircuitChanges.inc({ to: c.to });
    // The endpoint's origin and path only: no query (tokens), no body, no secret.
    const log = { subscription: c.endpoint, endpoint: loggableUrl(d.url), from: c.from, to: c.to, failures: c.failures };
    if (c.to === "open") {
      this.logger.warn({ ...log, probeAt: new Date(c.probeAtMs!).toISOString() }, "webhook circuit opened: no attempt to this endpoint until the probe; its deliveries wait");
    } else if (c.to === "half-open") this.logger.info(log, "webhook circuit half-open: one probe goes");
    else this.logger.info(log, "webhook circuit closed: the endpoint answers again");
  }

  /**
   * Runs `deliverDue` in the background (the scheduler's tick: a slow endpoint never holds the
   * servicing loop); a pass already running is woken to look at the store again.
   */
  kick(): void {
    if (this.stopped) return;
    this.nudge();
    if (this.background) {
      this.again = true;
      return;
    }
    this.background = (async () => {
      do {
        this.again = false;
        try {
          await this.deliverDue();
        } catch (error) {
          this.logger.warn({ err: error }, "webhook deliveries: a pass failed; the next tick tries again");
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.background = undefined));
  }

  /** Forgets an endpoint's circuit (its subscription was deleted). */
  forget(subscriptionId: string): void {
    this.circuits.forget(subscriptionId);
    this.metrics?.webhookCircuitState.remove({ subscription: subscriptionId });
  }

  /** Starts nothing more and waits for the attempts under way (each bounded by the timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.nudge();
    while (this.background || this.inFlight.size > 0) await Promise.allSettled([this.background, ...this.inFlight.values()]);
  }

  /**
   * Makes a delivery due again at once (a replay) and sends it, whatever the endpoint's circuit
   * and limit (the partner asks for this attempt; its success closes the circuit); resolves once attempted.
   */
  async replay(deliveryId: string): Promise<void> {
    await this.inFlight.get(deliveryId); // a scheduled attempt of it under way ends first
    const run = (async () => {
      await this.store.replayDelivery(deliveryId, this.clock.nowMs());
      const d = await this.store.delivery(deliveryId);
      if (d && d.status === "pending") await this.attemptAndSettle(d, "replay", false);
    })();
    this.track(deliveryId, run);
    await run;
    this.kick();
  }

  /** One attempt: signed, sent within the deadline, recorded with what comes next. Whether it succeeded. */
  private async attempt(d: Delivery, trigger: DeliveryAttempt["trigger"]): Promise<boolean> {
    const startedMs = this.clock.nowMs();
    const timestamp = Math.floor(startedMs / 1000);
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
      // One deadline over all of it: the transport gets it, and the wait ends with it whatever the transport does.
      const deadline = this.deadline(this.settings.timeoutMs);
      const answer = await untilAborted(this.transport({ url: d.url, headers, body: d.body, signal: deadline }), deadline);
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
    this.metrics?.webhookAttempts.inc({ outcome: status === "pending" ? "retrying" : status });
    const log = { delivery: d.id, event: d.eventId, type: d.eventType, subscription: d.subscriptionId, attempt, trigger, statusCode, outcome: status };
    if (ok) this.logger.info(log, "webhook delivered");
    else this.logger.warn({ ...log, error, responseExcerpt: excerpt, nextAttemptMs: next }, status === "failed" ? "webhook delivery given up" : "webhook delivery failed; will retry");
    return ok;
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
    /** Which URLs may be registered (plain http to the loopback host only in development mode). */
    readonly urlPolicy: WebhookUrlPolicy = { allowLoopbackHttp: false }
  ) {}

  /** The most active subscriptions the owner may have: a partner's quota, or the operator keys' limit. */
  quotaOf(partner: { webhookQuota: number } | undefined): number {
    return partner?.webhookQuota ?? this.settings.maxSubscriptions;
  }

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
    if (removed) {
      this.deliverer.forget(id);
      this.logger.info({ subscription: id }, "webhook deleted; its pending deliveries are cancelled");
    }
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
