/**
 * Servicing's durable state behind one interface (as `Store` is for the rest of the gateway),
 * on the same SQLite database: account profiles, webhook subscriptions, events, deliveries
 * and every delivery attempt, queued reminders and every guard decision about them, loan
 * buckets and their moves, limit reviews and velocity holds. Each method is one transaction;
 * an event and its deliveries are written together, before anything is sent.
 */
import type Database from "better-sqlite3";

import type { Clock } from "../clock";
import type { IdempotencyRecord, StoredResponse } from "../store/store";
import { fromTaggedJson, taggedJson } from "../../core/json";
import { openFeatures, sealFeatures, type FieldSealer } from "../store/sealed-features";
import type { DelinquencyBucket } from "../../core/loan-math";
import { deliveryIdOf, eventBody, type WebhookEvent } from "./webhook-events";

export interface AccountProfile {
  accountId: string;
  timeZone?: string;
  deviceKey?: string;
  phoneKey?: string;
}

export interface Subscription {
  id: string;
  /** The key that registered it. */
  apiKeyId: string;
  /** Who it belongs to: a partner's id (it gets that partner's events) or an operator key's id (it gets every event). */
  owner: string;
  url: string;
  events: string[];
  active: boolean;
  createdAt: string;
}

/**
 * Who an event is for: the partners it concerns (a loan's partner, or every partner linked to
 * an account for a line's event). The operator's own subscriptions get every event.
 */
export interface Audience {
  partners: readonly string[];
}

/** An event and who it is for. */
export interface AddressedEvent {
  event: WebhookEvent;
  audience: Audience;
}

/** Partner ids (server/auth/partners.ts); an owner that is not one is an operator key. */
const isPartnerOwner = (owner: string): boolean => owner.startsWith("ptr_");

export type DeliveryStatus = "pending" | "delivered" | "failed" | "cancelled";

export interface DeliveryAttempt {
  attempt: number;
  trigger: "scheduled" | "replay";
  atMs: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  subscriptionId: string;
  url: string;
  /** The event as JSON: the exact body every attempt sends. */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  firstAttemptMs: number | null;
  /** The retry window and backoff count from here after a replay (the replay's time and the attempts before it). */
  retryFromMs: number | null;
  retryFromAttempt: number | null;
  nextAttemptMs: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
}

export interface Contact {
  id: string;
  type: string;
  accountId: string;
  loanNo: number;
  period: number;
  dueTime: bigint;
  scheduledAt: bigint;
  notBefore: bigint;
  data: Record<string, unknown>;
  status: "queued" | "sent" | "suppressed";
}

export interface ContactDecision {
  outcome: "sent" | "deferred" | "suppressed";
  reason: string;
  at: bigint;
  localTime: string;
  timeZone: string;
  /** For a deferral: when to try again. */
  notBefore?: bigint;
  /** For a send: the borrower's local date (the daily cap counts by it). */
  localDate?: string;
}

export interface ContactAttempt extends ContactDecision {
  contactId: string;
  accountId: string;
}

export interface BucketMove {
  accountId: string;
  loanNo: number;
  from: DelinquencyBucket;
  to: DelinquencyBucket;
  daysPastDue: bigint;
  at: bigint;
}

export interface LimitReviewRecord {
  accountId: string;
  productId: number;
  reviewedAt: bigint;
  outcome: string;
  score: number;
  features: Record<string, number | undefined>;
  operationId?: string;
  reasonCode?: number;
}

export interface VelocityHold {
  accountId: string;
  productId: number;
  rule: string;
  detail: string;
  operationId?: string;
  atMs: number;
}

export interface ServicingStore {
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;

  profileOf(accountId: string): Promise<AccountProfile | undefined>;
  accountsSharing(kind: "device" | "phone", key: string): Promise<number>;
  /** Drawdowns of one kind (purchase, cash_loan) accepted on the account and not refused: when and how much. */
  drawdownsOf(accountId: string, kind: "purchase" | "cash_loan"): Promise<Array<{ atMs: number; amount: bigint }>>;
  /** The features of the account's latest decision for the product. */
  latestDecisionFeatures(accountId: string, productId: number): Promise<Record<string, number | undefined> | undefined>;

  /**
   * Inserts the subscription with its idempotency record, unless the owner already has `quota`
   * active ones; or returns the record already there.
   */
  insertSubscription(
    sub: Subscription,
    secretHash: string,
    idempotency: { owner: string; key: string; fingerprint: string },
    response: StoredResponse,
    quota: number
  ): Promise<{ accepted: true } | { accepted: false; existing: IdempotencyRecord } | { accepted: false; quotaReached: true }>;
  subscription(id: string): Promise<Subscription | undefined>;
  subscriptionsOf(owner: string): Promise<Subscription[]>;
  /** Deactivates it and cancels its pending deliveries; false when it was not active. */
  deleteSubscription(id: string): Promise<boolean>;

  /**
   * Records the events, each with a pending delivery to every active subscription that wants
   * its type, in one transaction; an event whose id was seen is skipped. Returns how many were new.
   */
  recordEvents(events: readonly AddressedEvent[], source: string | null, nowMs: number): Promise<number>;
  hasEventFrom(source: string): Promise<boolean>;
  /**
   * Pending deliveries due at `nowMs`, oldest first, leaving out the ones named in `except` (in
   * flight already) and those to the subscriptions named there (busy, or behind an open circuit).
   */
  dueDeliveries(nowMs: number, limit: number, except?: { deliveries?: readonly string[]; subscriptions?: readonly string[] }): Promise<Delivery[]>;
  recordDeliveryAttempt(deliveryId: string, attempt: DeliveryAttempt, next: { status: DeliveryStatus; nextAttemptMs: number | null }): Promise<void>;
  delivery(id: string): Promise<Delivery | undefined>;
  deliveriesOf(subscriptionId: string, limit: number): Promise<Array<Delivery & { attemptLog: DeliveryAttempt[] }>>;
  /** One delivery with every attempt, whatever its age. */
  deliveryWithAttempts(id: string): Promise<(Delivery & { attemptLog: DeliveryAttempt[] }) | undefined>;
  /**
   * Back to pending, due at once (the event, its id and its body unchanged); the retry window
   * and the backoff restart at the replay.
   */
  replayDelivery(id: string, nowMs: number): Promise<void>;

  /** Queues a reminder unless its id was seen; true when queued. */
  queueContact(contact: Contact): Promise<boolean>;
  dueContacts(now: bigint): Promise<Contact[]>;
  contactsSentOn(accountId: string, localDate: string): Promise<number>;
  /** Logs the guard's decision and applies it; a send records the event (and its deliveries) in the same transaction. */
  decideContact(contact: Contact, decision: ContactDecision, event: AddressedEvent | undefined, nowMs: number): Promise<void>;
  contactAttempts(accountId: string): Promise<ContactAttempt[]>;

  bucketOf(accountId: string, loanNo: number): Promise<{ bucket: DelinquencyBucket; daysPastDue: bigint } | undefined>;
  /** Sets the loan's bucket; a change of bucket is recorded as a move. */
  setBucket(accountId: string, loanNo: number, bucket: DelinquencyBucket, daysPastDue: bigint, at: bigint): Promise<BucketMove | undefined>;
  bucketMoves(accountId: string): Promise<BucketMove[]>;

  lastReview(accountId: string, productId: number): Promise<bigint | undefined>;
  recordReview(review: LimitReviewRecord): Promise<void>;
  reviewsOf(accountId: string): Promise<LimitReviewRecord[]>;

  recordHold(hold: VelocityHold): Promise<void>;
  holdsOf(accountId: string): Promise<VelocityHold[]>;

  /** Operations settled (confirmed or failed) with no event recorded from them yet. */
  settledOperationsWithoutEvents(limit: number): Promise<string[]>;
  /** All accounts in the read model. */
  accountIds(): Promise<string[]>;
}

type Row = Record<string, unknown>;
const s = (v: unknown): string => v as string;
const optS = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : (v as string));
const optN = (v: unknown): number | null => (v === null || v === undefined ? null : (v as number));

export class SqliteServicingStore implements ServicingStore {
  /** `sealer`: the vault keyring, which seals the features of decisions and limit reviews. */
  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    private readonly sealer?: FieldSealer
  ) {}

  private now(): string {
    return new Date(this.clock.nowMs()).toISOString();
  }

  async getMeta(key: string): Promise<string | undefined> {
    const r = this.db.prepare("SELECT value FROM gateway_meta WHERE key = ?").get(key) as { value: string } | undefined;
    return r?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.db
      .prepare("INSERT INTO gateway_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .run(key, value);
  }

  async profileOf(accountId: string): Promise<AccountProfile | undefined> {
    const r = this.db.prepare("SELECT * FROM account_profiles WHERE account_id = ?").get(accountId) as Row | undefined;
    if (!r) return undefined;
    return { accountId, timeZone: optS(r.time_zone), deviceKey: optS(r.device_key), phoneKey: optS(r.phone_key) };
  }

  async accountsSharing(kind: "device" | "phone", key: string): Promise<number> {
    const column = kind === "device" ? "device_key" : "phone_key";
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM account_profiles WHERE ${column} = ?`).get(key) as { n: number }).n;
  }

  async drawdownsOf(accountId: string, kind: "purchase" | "cash_loan"): Promise<Array<{ atMs: number; amount: bigint }>> {
    const rows = this.db
      .prepare("SELECT context, created_at FROM operations WHERE account_id = ? AND kind = ? AND status <> 'failed' ORDER BY created_at")
      .all(accountId, kind) as Row[];
    return rows.map((r) => ({
      atMs: Date.parse(s(r.created_at)),
      amount: BigInt((fromTaggedJson<{ amount: bigint }>(s(r.context)).amount ?? 0n) as bigint),
    }));
  }

  async latestDecisionFeatures(accountId: string, productId: number): Promise<Record<string, number | undefined> | undefined> {
    const r = this.db
      .prepare("SELECT features FROM decisions WHERE account_id = ? AND product_id = ? ORDER BY id DESC LIMIT 1")
      .get(accountId, productId) as Row | undefined;
    return r ? openFeatures(this.sealer, accountId, s(r.features)) : undefined;
  }

  // ---------------------------------------------------------------- subscriptions

  async insertSubscription(
    sub: Subscription,
    secretHash: string,
    idem: { owner: string; key: string; fingerprint: string },
    response: StoredResponse,
    quota: number
  ): Promise<{ accepted: true } | { accepted: false; existing: IdempotencyRecord } | { accepted: false; quotaReached: true }> {
    return this.db
      .transaction((): { accepted: true } | { accepted: false; existing: IdempotencyRecord } | { accepted: false; quotaReached: true } => {
        const seen = this.db.prepare("SELECT * FROM idempotency WHERE api_key_id = ? AND idem_key = ?").get(idem.owner, idem.key) as Row | undefined;
        if (seen) {
          return {
            accepted: false,
            existing: {
              owner: s(seen.api_key_id),
              key: s(seen.idem_key),
              fingerprint: s(seen.fingerprint),
              response: seen.response_status === null ? undefined : { status: seen.response_status as number, body: JSON.parse(s(seen.response_body)) },
              createdAt: s(seen.created_at),
            },
          };
        }
        const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM webhook_subscriptions WHERE owner = ? AND active = 1").get(sub.owner) as { n: number };
        if (n >= quota) return { accepted: false, quotaReached: true };
        this.db
          .prepare("INSERT INTO webhook_subscriptions (id, api_key_id, owner, url, events, secret_hash, active, created_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?)")
          .run(sub.id, sub.apiKeyId, sub.owner, sub.url, JSON.stringify(sub.events), secretHash, sub.createdAt);
        this.db
          .prepare(
            "INSERT INTO idempotency (api_key_id, idem_key, fingerprint, operation_id, response_status, response_body, created_at) VALUES (?, ?, ?, NULL, ?, ?, ?)"
          )
          .run(idem.owner, idem.key, idem.fingerprint, response.status, JSON.stringify(response.body), this.now());
        return { accepted: true };
      })
      .immediate();
  }

  async subscription(id: string): Promise<Subscription | undefined> {
    const r = this.db.prepare("SELECT * FROM webhook_subscriptions WHERE id = ?").get(id) as Row | undefined;
    return r && subscriptionFrom(r);
  }

  async subscriptionsOf(owner: string): Promise<Subscription[]> {
    const rows = this.db.prepare("SELECT * FROM webhook_subscriptions WHERE owner = ? AND active = 1 ORDER BY created_at, id").all(owner) as Row[];
    return rows.map(subscriptionFrom);
  }

  async deleteSubscription(id: string): Promise<boolean> {
    return this.db
      .transaction(() => {
        const now = this.now();
        const changed = this.db.prepare("UPDATE webhook_subscriptions SET active = 0, deleted_at = ? WHERE id = ? AND active = 1").run(now, id).changes;
        if (changed === 0) return false;
        this.db
          .prepare("UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_ms = NULL, updated_at = ? WHERE subscription_id = ? AND status = 'pending'")
          .run(now, id);
        return true;
      })
      .immediate();
  }

  // ---------------------------------------------------------------- events and deliveries

  private insertEvent({ event, audience }: AddressedEvent, source: string | null, nowMs: number): boolean {
    const now = this.now();
    const inserted = this.db
      .prepare("INSERT OR IGNORE INTO webhook_events (id, type, account_id, source, body, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(event.id, event.type, event.accountId, source, eventBody(event), now).changes;
    if (inserted === 0) return false;
    const subs = this.db.prepare("SELECT id, owner, events FROM webhook_subscriptions WHERE active = 1 ORDER BY created_at, id").all() as Row[];
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO webhook_deliveries (id, event_id, subscription_id, status, next_attempt_ms, created_at, updated_at)
       VALUES (?, ?, ?, 'pending', ?, ?, ?)`
    );
    for (const sub of subs) {
      if (!(JSON.parse(s(sub.events)) as string[]).includes(event.type)) continue;
      const owner = s(sub.owner);
      // A partner's endpoint gets only the events about its borrowers; the operator's get all.
      if (isPartnerOwner(owner) && !audience.partners.includes(owner)) continue;
      insert.run(deliveryIdOf(event.id, s(sub.id)), event.id, s(sub.id), nowMs, now, now);
    }
    return true;
  }

  async recordEvents(events: readonly AddressedEvent[], source: string | null, nowMs: number): Promise<number> {
    return this.db.transaction(() => events.filter((e) => this.insertEvent(e, source, nowMs)).length).immediate();
  }

  async hasEventFrom(source: string): Promise<boolean> {
    return this.db.prepare("SELECT 1 FROM webhook_events WHERE source = ? LIMIT 1").get(source) !== undefined;
  }

  private static readonly DELIVERY_SELECT = `SELECT d.*, e.type AS event_type, e.body AS body, w.url AS url
    FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id JOIN webhook_subscriptions w ON w.id = d.subscription_id`;

  async dueDeliveries(nowMs: number, limit: number, except: { deliveries?: readonly string[]; subscriptions?: readonly string[] } = {}): Promise<Delivery[]> {
    const rows = this.db
      .prepare(
        `${SqliteServicingStore.DELIVERY_SELECT} WHERE d.status = 'pending' AND d.next_attempt_ms <= ?
         AND d.id NOT IN (SELECT value FROM json_each(?)) AND d.subscription_id NOT IN (SELECT value FROM json_each(?))
         ORDER BY d.next_attempt_ms, d.seq LIMIT ?`
      )
      .all(nowMs, JSON.stringify(except.deliveries ?? []), JSON.stringify(except.subscriptions ?? []), limit) as Row[];
    return rows.map(deliveryFrom);
  }

  async recordDeliveryAttempt(deliveryId: string, a: DeliveryAttempt, next: { status: DeliveryStatus; nextAttemptMs: number | null }): Promise<void> {
    this.db
      .transaction(() => {
        this.db
          .prepare("INSERT INTO webhook_attempts (delivery_id, attempt, trigger, at_ms, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)")
          .run(deliveryId, a.attempt, a.trigger, a.atMs, a.statusCode, a.error, a.durationMs);
        this.db
          .prepare(
            `UPDATE webhook_deliveries SET status = ?, attempts = ?, first_attempt_ms = COALESCE(first_attempt_ms, ?), next_attempt_ms = ?,
             last_status = ?, last_error = ?, updated_at = ? WHERE id = ?`
          )
          .run(next.status, a.attempt, a.atMs, next.nextAttemptMs, a.statusCode, a.error, this.now(), deliveryId);
      })
      .immediate();
  }

  async delivery(id: string): Promise<Delivery | undefined> {
    const r = this.db.prepare(`${SqliteServicingStore.DELIVERY_SELECT} WHERE d.id = ?`).get(id) as Row | undefined;
    return r && deliveryFrom(r);
  }

  async deliveriesOf(subscriptionId: string, limit: number): Promise<Array<Delivery & { attemptLog: DeliveryAttempt[] }>> {
    const rows = this.db
      .prepare(`${SqliteServicingStore.DELIVERY_SELECT} WHERE d.subscription_id = ? ORDER BY d.seq DESC LIMIT ?`)
      .all(subscriptionId, limit) as Row[];
    return rows.map((r) => this.withAttempts(r));
  }

  async deliveryWithAttempts(id: string): Promise<(Delivery & { attemptLog: DeliveryAttempt[] }) | undefined> {
    const r = this.db.prepare(`${SqliteServicingStore.DELIVERY_SELECT} WHERE d.id = ?`).get(id) as Row | undefined;
    return r && this.withAttempts(r);
  }

  private withAttempts(r: Row): Delivery & { attemptLog: DeliveryAttempt[] } {
    const attempts = this.db.prepare("SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY id").all(r.id) as Row[];
    return {
      ...deliveryFrom(r),
      attemptLog: attempts.map((a) => ({
        attempt: a.attempt as number,
        trigger: a.trigger as DeliveryAttempt["trigger"],
        atMs: a.at_ms as number,
        statusCode: optN(a.status_code),
        error: (a.error as string | null) ?? null,
        durationMs: a.duration_ms as number,
      })),
    };
  }

  async replayDelivery(id: string, nowMs: number): Promise<void> {
    this.db
      .prepare(
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_ms = ?, retry_from_ms = ?, retry_from_attempt = attempts, updated_at = ?
         WHERE id = ?`
      )
      .run(nowMs, nowMs, this.now(), id);
  }

  // ---------------------------------------------------------------- reminders and the guard log

  async queueContact(c: Contact): Promise<boolean> {
    const now = this.now();
    return (
      this.db
        .prepare(
          `INSERT OR IGNORE INTO servicing_contacts (id, type, account_id, loan_no, period, due_time, scheduled_at, not_before, data, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)`
        )
        .run(c.id, c.type, c.accountId, c.loanNo, c.period, Number(c.dueTime), Number(c.scheduledAt), Number(c.notBefore), taggedJson(c.data), now, now)
        .changes > 0
    );
  }

  async dueContacts(now: bigint): Promise<Contact[]> {
    const rows = this.db.prepare("SELECT * FROM servicing_contacts WHERE status = 'queued' AND not_before <= ? ORDER BY scheduled_at, seq").all(Number(now)) as Row[];
    return rows.map((r) => ({
      id: s(r.id),
      type: s(r.type),
      accountId: s(r.account_id),
      loanNo: r.loan_no as number,
      period: r.period as number,
      dueTime: BigInt(r.due_time as number),
      scheduledAt: BigInt(r.scheduled_at as number),
      notBefore: BigInt(r.not_before as number),
      data: fromTaggedJson(s(r.data)),
      status: r.status as Contact["status"],
    }));
  }

  async contactsSentOn(accountId: string, localDate: string): Promise<number> {
    return (
      this.db.prepare("SELECT COUNT(*) AS n FROM servicing_contacts WHERE account_id = ? AND status = 'sent' AND local_date = ?").get(accountId, localDate) as {
        n: number;
      }
    ).n;
  }

  async decideContact(c: Contact, d: ContactDecision, event: AddressedEvent | undefined, nowMs: number): Promise<void> {
    this.db
      .transaction(() => {
        const now = this.now();
        this.db
          .prepare("INSERT INTO contact_attempts (contact_id, account_id, at, local_time, time_zone, outcome, reason) VALUES (?, ?, ?, ?, ?, ?, ?)")
          .run(c.id, c.accountId, Number(d.at), d.localTime, d.timeZone, d.outcome, d.reason);
        if (d.outcome === "deferred") {
          this.db.prepare("UPDATE servicing_contacts SET not_before = ?, updated_at = ? WHERE id = ?").run(Number(d.notBefore ?? d.at), now, c.id);
          return;
        }
        this.db
          .prepare("UPDATE servicing_contacts SET status = ?, local_date = ?, updated_at = ? WHERE id = ?")
          .run(d.outcome, d.localDate ?? null, now, c.id);
        if (d.outcome === "sent" && event) this.insertEvent(event, `contact:${c.id}`, nowMs);
      })
      .immediate();
  }

  async contactAttempts(accountId: string): Promise<ContactAttempt[]> {
    const rows = this.db.prepare("SELECT * FROM contact_attempts WHERE account_id = ? ORDER BY id").all(accountId) as Row[];
    return rows.map((r) => ({
      contactId: s(r.contact_id),
      accountId: s(r.account_id),
      outcome: r.outcome as ContactDecision["outcome"],
      reason: s(r.reason),
      at: BigInt(r.at as number),
      localTime: s(r.local_time),
      timeZone: s(r.time_zone),
    }));
  }

  // ---------------------------------------------------------------- buckets

  async bucketOf(accountId: string, loanNo: number): Promise<{ bucket: DelinquencyBucket; daysPastDue: bigint } | undefined> {
    const r = this.db.prepare("SELECT * FROM loan_buckets WHERE account_id = ? AND loan_no = ?").get(accountId, loanNo) as Row | undefined;
    return r && { bucket: r.bucket as DelinquencyBucket, daysPastDue: BigInt(r.days_past_due as number) };
  }

  async setBucket(accountId: string, loanNo: number, bucket: DelinquencyBucket, daysPastDue: bigint, at: bigint): Promise<BucketMove | undefined> {
    return this.db
      .transaction((): BucketMove | undefined => {
        const r = this.db.prepare("SELECT bucket FROM loan_buckets WHERE account_id = ? AND loan_no = ?").get(accountId, loanNo) as Row | undefined;
        const from = (r?.bucket as DelinquencyBucket | undefined) ?? "current";
        this.db
          .prepare(
            `INSERT INTO loan_buckets (account_id, loan_no, bucket, days_past_due, since) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (account_id, loan_no) DO UPDATE SET days_past_due = excluded.days_past_due,
               since = CASE WHEN loan_buckets.bucket = excluded.bucket THEN loan_buckets.since ELSE excluded.since END, bucket = excluded.bucket`
          )
          .run(accountId, loanNo, bucket, Number(daysPastDue), Number(at));
        if (from === bucket) return undefined;
        this.db
          .prepare("INSERT INTO bucket_moves (account_id, loan_no, from_bucket, to_bucket, days_past_due, at) VALUES (?, ?, ?, ?, ?, ?)")
          .run(accountId, loanNo, from, bucket, Number(daysPastDue), Number(at));
        return { accountId, loanNo, from, to: bucket, daysPastDue, at };
      })
      .immediate();
  }

  async bucketMoves(accountId: string): Promise<BucketMove[]> {
    const rows = this.db.prepare("SELECT * FROM bucket_moves WHERE account_id = ? ORDER BY id").all(accountId) as Row[];
    return rows.map((r) => ({
      accountId: s(r.account_id),
      loanNo: r.loan_no as number,
      from: r.from_bucket as DelinquencyBucket,
      to: r.to_bucket as DelinquencyBucket,
      daysPastDue: BigInt(r.days_past_due as number),
      at: BigInt(r.at as number),
    }));
  }

  // ---------------------------------------------------------------- reviews and holds

  async lastReview(accountId: string, productId: number): Promise<bigint | undefined> {
    const r = this.db.prepare("SELECT MAX(reviewed_at) AS t FROM limit_reviews WHERE account_id = ? AND product_id = ?").get(accountId, productId) as { t: number | null };
    return r.t === null ? undefined : BigInt(r.t);
  }

  async recordReview(v: LimitReviewRecord): Promise<void> {
    this.db
      .prepare("INSERT INTO limit_reviews (account_id, product_id, reviewed_at, outcome, score, features, operation_id, reason_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .run(v.accountId, v.productId, Number(v.reviewedAt), v.outcome, v.score, sealFeatures(this.sealer, v.accountId, v.features), v.operationId ?? null, v.reasonCode ?? null);
  }

  async reviewsOf(accountId: string): Promise<LimitReviewRecord[]> {
    const rows = this.db.prepare("SELECT * FROM limit_reviews WHERE account_id = ? ORDER BY id").all(accountId) as Row[];
    return rows.map((r) => ({
      accountId: s(r.account_id),
      productId: r.product_id as number,
      reviewedAt: BigInt(r.reviewed_at as number),
      outcome: s(r.outcome),
      score: r.score as number,
      features: openFeatures(this.sealer, s(r.account_id), s(r.features)),
      operationId: optS(r.operation_id),
      reasonCode: (r.reason_code as number | null) ?? undefined,
    }));
  }

  async recordHold(h: VelocityHold): Promise<void> {
    this.db
      .prepare("INSERT INTO velocity_holds (account_id, product_id, rule, detail, operation_id, at_ms) VALUES (?, ?, ?, ?, ?, ?)")
      .run(h.accountId, h.productId, h.rule, h.detail, h.operationId ?? null, h.atMs);
  }

  async holdsOf(accountId: string): Promise<VelocityHold[]> {
    const rows = this.db.prepare("SELECT * FROM velocity_holds WHERE account_id = ? ORDER BY id").all(accountId) as Row[];
    return rows.map((r) => ({
      accountId: s(r.account_id),
      productId: r.product_id as number,
      rule: s(r.rule),
      detail: s(r.detail),
      operationId: optS(r.operation_id),
      atMs: r.at_ms as number,
    }));
  }

  async settledOperationsWithoutEvents(limit: number): Promise<string[]> {
    const rows = this.db
      .prepare(
        `SELECT o.id FROM operations o WHERE o.status IN ('confirmed', 'failed')
         AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.source = 'op:' || o.id) ORDER BY o.created_at LIMIT ?`
      )
      .all(limit) as Row[];
    return rows.map((r) => s(r.id));
  }

  async accountIds(): Promise<string[]> {
    return (this.db.prepare("SELECT account_id FROM accounts ORDER BY account_id").all() as Row[]).map((r) => s(r.account_id));
  }
}

function subscriptionFrom(r: Row): Subscription {
  return {
    id: s(r.id),
    apiKeyId: s(r.api_key_id),
    owner: s(r.owner ?? r.api_key_id),
    url: s(r.url),
    events: JSON.parse(s(r.events)) as string[],
    active: r.active === 1,
    createdAt: s(r.created_at),
  };
}

function deliveryFrom(r: Row): Delivery {
  return {
    id: s(r.id),
    eventId: s(r.event_id),
    eventType: s(r.event_type),
    subscriptionId: s(r.subscription_id),
    url: s(r.url),
    body: s(r.body),
    status: r.status as DeliveryStatus,
    attempts: r.attempts as number,
    firstAttemptMs: optN(r.first_attempt_ms),
    retryFromMs: optN(r.retry_from_ms),
    retryFromAttempt: optN(r.retry_from_attempt),
    nextAttemptMs: optN(r.next_attempt_ms),
    lastStatus: optN(r.last_status),
    lastError: (r.last_error as string | null) ?? null,
    createdAt: s(r.created_at),
  };
}
