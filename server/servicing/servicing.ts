/**
 * The servicing day, run by the gateway: for every loan, each loan day since the last run is
 * read from the ledger's read model with the TypeScript mirror of the ledger's math (amount
 * due, overdue principal, penalty, days past due); the loan moves between delinquency buckets
 * and the day's reminders are queued. Queued reminders pass the collection guard (quiet
 * hours in the borrower's zone, a daily cap) and become webhook events; the deliverer sends
 * them. Periodically each line is re-scored from its own history (a raise on a new signed
 * decision, a cut with its reason code), and drawdowns are screened by velocity rules (a trip
 * freezes the line instead of drawing). Events about operations (decisions, confirmations,
 * freezes, limit changes) are recorded as operations settle. The edges (stores, chain, clocks,
 * transport, logger) are injected; the rules are in the pure modules beside this one.
 */
import type { EventEmitter } from "node:events";

import { bigField, numField } from "../chain/chain-values";
import { nowSeconds, type Clock } from "../clock";
import type { ServicingConfig } from "../config";
import { DAY, dayOf, delinquencyBucket, LoanStatus, type DelinquencyBucket } from "../../core/loan-math";
import { ApiError } from "../api/problems";
import type { Logger } from "../logger";
import { PRODUCT_IDS, type ProductName } from "../scoring/policy";
import type { Accounts, LimitReviewContext } from "../services/accounts";
import type { ApplicationContext } from "../services/applications";
import { isImmediate, type Operations, type Prepared, type PreparedOperation } from "../services/operations";
import { productNameOf } from "../services/products";
import type { EntryRecord, OperationRecord, Store } from "../store/store";
import { CLOCK_OFFSET_KEY, type BusinessClock } from "./business-clock";
import { guardContact, localDateOf } from "./collection-guard";
import { KeyedQueue } from "./keyed-queue";
import { creditReport, type MonthReport } from "./credit-report";
import { replayLoans } from "./loan-history";
import { loanPositionAt, stateFromChain, termsFromChain } from "./loan-view";
import { loanDay, remindersOn, staleReason } from "./reminders";
import { reviewFeatures } from "./review-features";
import type { Contact, ServicingStore } from "./servicing-store";
import { screenDrawdown, type VelocityRule } from "./velocity";
import { eventIdOf, type EventType, type WebhookEvent } from "./webhook-events";
import type { WebhookDeliverer } from "./webhooks";
import { DEFAULT_TIME_ZONE, localTime } from "./zone-time";

/** What the servicing needs of the chain beyond the ledger client. */
export interface ChainControl {
  /** Whether this is the local development network (the only one whose time may be moved). */
  local: boolean;
  /** evm_increaseTime + evm_mine; resolves to the new latest block's timestamp. */
  increaseTime(seconds: number): Promise<bigint>;
  /** The timestamp of a block. */
  blockTime(blockNumber: number): Promise<bigint>;
}

export const SERVICING_TASKS = ["delinquency", "reminders", "limit_reviews", "deliveries"] as const;
export type ServicingTask = (typeof SERVICING_TASKS)[number];

export interface RunSummary {
  from: bigint;
  through: bigint;
  loansServiced: number;
  remindersQueued: number;
  contacts: { sent: number; deferred: number; suppressed: number };
  bucketMoves: Array<{ loanId: string; from: DelinquencyBucket; to: DelinquencyBucket; daysPastDue: bigint; at: bigint }>;
  limitReviews: Array<{ accountId: string; product: ProductName; outcome: string; operationId: string | null }>;
  deliveriesAttempted: number;
}

export interface CreditReportView {
  accountId: string;
  timeZone: string;
  openedAt: bigint;
  asOf: bigint;
  months: MonthReport[];
}

export interface ServicingDeps {
  store: Store;
  servicingStore: ServicingStore;
  accounts: Accounts;
  operations: Operations;
  deliverer: WebhookDeliverer;
  /** Emits "settled" with an operation id (the outbox sender). */
  settlements: EventEmitter;
  chain: ChainControl;
  config: ServicingConfig;
  /** The gateway's own clock (dates operations and deliveries). */
  clock: Clock;
  business: BusinessClock;
  logger: Logger;
  pollIntervalMs: number;
}

/** Before per-task cursors: one cursor for every task (read as the start of both). */
const THROUGH_KEY = "servicing_through";
/** The tasks that walk loan days, each with its own cursor: a run of other tasks moves neither. */
const DAY_TASKS = ["delinquency", "reminders"] as const;
type DayTask = (typeof DAY_TASKS)[number];
const cursorKey = (task: DayTask) => `${THROUGH_KEY}:${task}`;
/** Entries that set a line's limit on a decision or a cut: the periodic review interval counts from the latest. */
const LINE_DECISION_KINDS = new Set(["LineGranted", "LimitIncreased", "LimitCut"]);
/** The most loan days one run looks back over, per loan. */
const MAX_CATCH_UP_DAYS = 400n;
const SYSTEM_KEY = "system:servicing";

export class Servicing {
  private queue: Promise<unknown> = Promise.resolve();
  /** Screen-then-accept of drawdowns, one at a time per account. */
  private readonly drawdowns = new KeyedQueue();
  private loop?: Promise<void>;
  private running = false;
  private wake?: () => void;
  private readonly onSettled = (operationId: string) => {
    void this.recordOperationEvents(operationId).catch((error: unknown) =>
      this.deps.logger.error({ err: error, operation: operationId }, "servicing: could not record the operation's events")
    );
  };

  constructor(private readonly deps: ServicingDeps) {}

  private get business(): bigint {
    return nowSeconds(this.deps.business);
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    if (this.loop) return;
    this.deps.settlements.on("settled", this.onSettled);
    for (const id of await this.deps.servicingStore.settledOperationsWithoutEvents(10_000)) await this.recordOperationEvents(id);
    this.running = true;
    this.loop = this.tickLoop();
  }

  async stop(): Promise<void> {
    this.deps.settlements.off("settled", this.onSettled);
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    await this.queue.catch(() => undefined);
  }

  private async tickLoop(): Promise<void> {
    while (this.running) {
      try {
        await this.serialized(() => this.tick());
      } catch (error) {
        this.deps.logger.warn({ err: error }, "servicing: tick failed; retrying at the next one");
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.deps.pollIntervalMs);
        const self = this;
        function done() {
          clearTimeout(timer);
          self.wake = undefined;
          resolve();
        }
        this.wake = done;
      });
    }
  }

  /** A new business day runs the servicing; deferred reminders that came due go; due deliveries go. */
  private async tick(): Promise<void> {
    const now = this.business;
    const cursors = await Promise.all(DAY_TASKS.map((task) => this.cursorOf(task)));
    const through = cursors.some((c) => c === undefined) ? undefined : (cursors as bigint[]).reduce((a, b) => (a < b ? a : b));
    if (through === undefined || localTime(now, DEFAULT_TIME_ZONE).date !== localTime(through, DEFAULT_TIME_ZONE).date) {
      await this.runNow([...SERVICING_TASKS]);
      return;
    }
    await this.releaseContacts(now);
    await this.deps.deliverer.deliverDue();
  }

  /** Through when a day task has serviced the loans (undefined before its first run). */
  private async cursorOf(task: DayTask): Promise<bigint | undefined> {
    const ss = this.deps.servicingStore;
    const value = (await ss.getMeta(cursorKey(task))) ?? (await ss.getMeta(THROUGH_KEY));
    return value === undefined ? undefined : BigInt(value);
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ---------------------------------------------------------------- the servicing day

  /** Runs the servicing through the business clock's now (each loan day since the last run, in order). */
  run(tasks: readonly ServicingTask[] = SERVICING_TASKS): Promise<RunSummary> {
    return this.serialized(() => this.runNow(tasks));
  }

  /**
   * Local network only: moves the chain's time `days` forward, the business clock with it, and
   * runs the skipped days. With `once` (the request's idempotency key and fingerprint) the move
   * is recorded as soon as it is made: a retry of a request whose run failed does not move the
   * chain again, it runs the servicing and answers.
   */
  async advance(
    days: number,
    once?: { request: string; fingerprint: string }
  ): Promise<{ days: number; previousTime: bigint; businessTime: bigint; chainTime: bigint; run: RunSummary }> {
    if (!this.deps.chain.local) {
      throw new ApiError("clock-advance-refused", "the clock can only be advanced on the local development network (chain 31337)", {
        field: "days",
      });
    }
    return this.serialized(async () => {
      const ss = this.deps.servicingStore;
      const moveKey = once && `clock_advance:${once.request}`;
      const made = moveKey === undefined ? undefined : await ss.getMeta(moveKey);
      let previousTime: bigint;
      let chainTime: bigint;
      if (made !== undefined) {
        const move = JSON.parse(made) as { fingerprint: string; previousTime: string; chainTime: string };
        if (move.fingerprint !== once!.fingerprint) {
          throw new ApiError("idempotency-key-reused", "this Idempotency-Key was used with a different request; use a new key for a new request", {
            field: "Idempotency-Key",
          });
        }
        previousTime = BigInt(move.previousTime);
        chainTime = BigInt(move.chainTime);
      } else {
        previousTime = this.business;
        chainTime = await this.deps.chain.increaseTime(days * 86_400);
        if (moveKey !== undefined) {
          await ss.setMeta(moveKey, JSON.stringify({ fingerprint: once!.fingerprint, previousTime: String(previousTime), chainTime: String(chainTime) }));
        }
      }
      const offset = this.deps.business.catchUpTo(Number(chainTime) * 1000);
      await ss.setMeta(CLOCK_OFFSET_KEY, String(offset));
      this.deps.logger.info({ days, previousTime: String(previousTime), chainTime: String(chainTime), retried: made !== undefined }, "business clock advanced");
      const run = await this.runNow([...SERVICING_TASKS]);
      return { days, previousTime, businessTime: this.business, chainTime, run };
    });
  }

  private async runNow(tasks: readonly ServicingTask[]): Promise<RunSummary> {
    const { store, servicingStore: ss, config } = this.deps;
    const now = this.business;
    // Each day task starts where it last ran (a run of other tasks moves neither cursor).
    const ran = DAY_TASKS.filter((task) => tasks.includes(task));
    const fromOf = {} as Record<DayTask, bigint>;
    for (const task of DAY_TASKS) {
      const through = await this.cursorOf(task);
      fromOf[task] = through === undefined ? now - DAY : through < now ? through : now;
    }
    const from = ran.length === 0 ? now : ran.map((task) => fromOf[task]).reduce((a, b) => (a < b ? a : b));
    const summary: RunSummary = {
      from,
      through: now,
      loansServiced: 0,
      remindersQueued: 0,
      contacts: { sent: 0, deferred: 0, suppressed: 0 },
      bucketMoves: [],
      limitReviews: [],
      deliveriesAttempted: 0,
    };
    const daysBefore = BigInt(config.reminderDaysBefore);
    if (tasks.includes("delinquency") || tasks.includes("reminders")) {
      for (const accountId of await ss.accountIds()) {
        for (const snapshot of await store.loansOf(accountId)) {
          const terms = termsFromChain(snapshot.terms);
          const state = stateFromChain(snapshot.state);
          const loan = { accountId, loanNo: snapshot.loanNo, loanId: `${accountId}:${snapshot.loanNo}` };
          summary.loansServiced += 1;
          if (state.status !== LoanStatus.Active) {
            if (tasks.includes("delinquency")) await this.moveBucket(summary, loan.loanId, accountId, snapshot.loanNo, "current", 0n, now);
            continue;
          }
          const dTo = dayOf(terms, now);
          const firstDay = (task: DayTask): bigint => {
            const f = fromOf[task];
            let d = f < terms.startTime ? 0n : (f - terms.startTime) / DAY + 1n;
            if (d > dTo) d = dTo; // always look at today: a repayment since the last run moves the bucket back
            if (dTo - d > MAX_CATCH_UP_DAYS) d = dTo - MAX_CATCH_UP_DAYS;
            return d;
          };
          const dFromOf = { delinquency: firstDay("delinquency"), reminders: firstDay("reminders") };
          const dFrom = ran.map((task) => dFromOf[task]).reduce((a, b) => (a < b ? a : b));
          for (let d = dFrom; d <= dTo; d++) {
            if (d < state.checkpointDay) continue;
            if (tasks.includes("delinquency") && d >= dFromOf.delinquency) {
              const { position, bucket } = loanDay(terms, state, d);
              await this.moveBucket(summary, loan.loanId, accountId, snapshot.loanNo, bucket, position.daysPastDue, terms.startTime + d * DAY);
            }
            if (tasks.includes("reminders") && d >= dFromOf.reminders) {
              for (const r of remindersOn(loan, terms, state, d, daysBefore)) {
                const contact: Contact = {
                  id: r.id,
                  type: r.type,
                  accountId,
                  loanNo: r.loanNo,
                  period: r.period,
                  dueTime: r.dueTime,
                  scheduledAt: r.scheduledAt,
                  notBefore: r.scheduledAt,
                  data: {},
                  status: "queued",
                };
                if (await ss.queueContact(contact)) summary.remindersQueued += 1;
              }
            }
          }
        }
      }
    }
    if (tasks.includes("reminders")) summary.contacts = await this.releaseContacts(now);
    if (tasks.includes("limit_reviews") && config.reviewIntervalDays > 0) summary.limitReviews = await this.reviewLimits(now);
    for (const task of ran) if (fromOf[task] < now) await ss.setMeta(cursorKey(task), String(now));
    if (tasks.includes("deliveries")) summary.deliveriesAttempted = await this.deps.deliverer.deliverDue();
    this.deps.logger.info(
      {
        from: String(from),
        through: String(now),
        loans: summary.loansServiced,
        remindersQueued: summary.remindersQueued,
        contacts: summary.contacts,
        bucketMoves: summary.bucketMoves.length,
        limitReviews: summary.limitReviews.length,
      },
      "servicing run"
    );
    return summary;
  }

  private async moveBucket(summary: RunSummary, loanId: string, accountId: string, loanNo: number, bucket: DelinquencyBucket, dpd: bigint, at: bigint) {
    const move = await this.deps.servicingStore.setBucket(accountId, loanNo, bucket, dpd, at);
    if (!move) return;
    summary.bucketMoves.push({ loanId, from: move.from, to: move.to, daysPastDue: dpd, at });
    this.deps.logger.info({ loan: loanId, from: move.from, to: move.to, daysPastDue: String(dpd) }, "loan moved between delinquency buckets");
  }

  /** Every queued reminder that is due passes the guard: sent (as an event), deferred or suppressed, each decision logged. */
  private async releaseContacts(now: bigint): Promise<RunSummary["contacts"]> {
    const { store, servicingStore: ss, config, logger } = this.deps;
    const counts = { sent: 0, deferred: 0, suppressed: 0 };
    for (const c of await ss.dueContacts(now)) {
      const zone = (await ss.profileOf(c.accountId))?.timeZone ?? DEFAULT_TIME_ZONE;
      const local = localTime(now, zone);
      const base = { at: now, localTime: `${local.date} ${local.clock}`, timeZone: zone };
      const snapshot = await store.loanSnapshot(c.accountId, c.loanNo);
      const terms = snapshot && termsFromChain(snapshot.terms);
      const state = snapshot && stateFromChain(snapshot.state);
      const stale = terms && state ? staleReason(c as Parameters<typeof staleReason>[0], terms, state, dayOf(terms, now)) : "the loan is not in the read model";
      if (stale !== undefined) {
        await ss.decideContact(c, { outcome: "suppressed", reason: stale, ...base }, undefined, this.deps.clock.nowMs());
        counts.suppressed += 1;
        logger.info({ contact: c.id, account: c.accountId, type: c.type, outcome: "suppressed", reason: stale }, "reminder not sent");
        continue;
      }
      const decision = guardContact(
        { quietHours: config.quietHours, maxContactsPerDay: config.maxContactsPerDay },
        { now, zone, contactsToday: await ss.contactsSentOn(c.accountId, localDateOf(now, zone)) }
      );
      if (decision.action === "defer") {
        await ss.decideContact(c, { outcome: "deferred", reason: decision.reason, notBefore: decision.until, ...base }, undefined, this.deps.clock.nowMs());
        counts.deferred += 1;
        logger.info({ contact: c.id, account: c.accountId, type: c.type, outcome: "deferred", reason: decision.reason, until: String(decision.until) }, "reminder deferred");
        continue;
      }
      const p = loanPositionAt(terms!, state!, now);
      const event: WebhookEvent = {
        id: c.id,
        type: c.type as EventType,
        created: Number(now),
        accountId: c.accountId,
        data: {
          loanId: `${c.accountId}:${c.loanNo}`,
          loanNo: c.loanNo,
          product: productNameOf(terms!.productId) ?? "pay_later",
          period: c.period,
          dueTime: Number(c.dueTime),
          scheduledFor: Number(c.scheduledAt),
          amountDue: p.amountDue,
          overduePrincipal: p.overduePrincipal,
          penalty: p.penalty,
          interest: p.interest,
          payoff: p.payoff,
          daysPastDue: Number(p.daysPastDue),
          bucket: delinquencyBucket(p.daysPastDue),
          timeZone: zone,
          localTime: base.localTime,
        },
      };
      await ss.decideContact(c, { outcome: "sent", reason: decision.reason, localDate: decision.localDate, ...base }, event, this.deps.clock.nowMs());
      counts.sent += 1;
      logger.info({ contact: c.id, account: c.accountId, type: c.type, outcome: "sent", reason: decision.reason }, "reminder sent");
    }
    return counts;
  }

  // ---------------------------------------------------------------- limit reviews

  private async reviewLimits(now: bigint): Promise<RunSummary["limitReviews"]> {
    const { store, servicingStore: ss, accounts, operations, config, logger } = this.deps;
    const out: RunSummary["limitReviews"] = [];
    const interval = BigInt(config.reviewIntervalDays) * DAY;
    for (const accountId of await ss.accountIds()) {
      const lines = await store.linesOf(accountId);
      if (lines.length === 0) continue;
      const entries = await store.entriesOf(accountId);
      if (entries.length === 0) continue;
      const openedAt = await this.deps.chain.blockTime(entries[0].blockNumber);
      for (const line of lines) {
        const product = productNameOf(line.productId);
        if (!product || line.line.granted !== true) continue;
        // The interval counts from the line's latest decision (grant, raise, cut) or review, whichever is later.
        const since = max(await ss.lastReview(accountId, line.productId), await this.lineDecidedAt(entries, line.productId)) ?? openedAt;
        if (now - since < interval) continue;
        const features = reviewFeatures({
          loans: replayLoans(entries).filter((l) => l.productId === line.productId),
          now,
          openedAt,
          line: { limit: bigField(line.line, "limit"), used: bigField(line.line, "used") },
          carried: await ss.latestDecisionFeatures(accountId, line.productId),
        });
        let prepared: Prepared<LimitReviewContext>;
        try {
          prepared = await accounts.prepareLimitReview(accountId, { product, features });
        } catch (error) {
          logger.warn({ err: error, account: accountId, product }, "limit review skipped: the ledger refused it");
          continue;
        }
        const context = isImmediate(prepared) ? prepared.immediate : prepared.context;
        let operationId: string | null = null;
        if (!isImmediate(prepared)) {
          const accepted = await operations.accept(prepared, {
            apiKeyId: SYSTEM_KEY,
            key: `limit-review:${accountId}:${line.productId}:${now}`,
            fingerprint: "limit-review",
          });
          operationId = accepted.operationId ?? null;
        }
        await ss.recordReview({
          accountId,
          productId: line.productId,
          reviewedAt: now,
          outcome: context.outcome,
          score: context.score,
          features,
          operationId: operationId ?? undefined,
          reasonCode: context.cutReasonCode ?? undefined,
        });
        out.push({ accountId, product, outcome: context.outcome, operationId });
        logger.info({ account: accountId, product, outcome: context.outcome, score: context.score, operation: operationId }, "periodic limit review");
      }
    }
    return out;
  }

  /** The block time of the line's latest grant, raise or cut (undefined when the read model has none). */
  private async lineDecidedAt(entries: readonly EntryRecord[], productId: number): Promise<bigint | undefined> {
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i];
      if (!LINE_DECISION_KINDS.has(e.kind)) continue;
      const fields = (e.kind === "LimitCut" ? e.fields : e.fields.decision) as Record<string, unknown> | undefined;
      if (fields?.productId === undefined || numField(fields, "productId") !== productId) continue;
      return this.deps.chain.blockTime(e.blockNumber);
    }
    return undefined;
  }

  /** Records a review made on request (POST /v1/accounts/{id}/limit-reviews), as the periodic ones are. */
  async recordRequestedReview(context: LimitReviewContext, features: Record<string, number | undefined>, operationId: string | undefined): Promise<void> {
    await this.deps.servicingStore.recordReview({
      accountId: context.accountId,
      productId: PRODUCT_IDS[context.product],
      reviewedAt: this.business,
      outcome: context.outcome,
      score: context.score,
      features,
      operationId,
      reasonCode: context.cutReasonCode ?? undefined,
    });
  }

  // ---------------------------------------------------------------- velocity

  /**
   * Runs a drawdown's screen-then-accept with no other drawdown of the account in between, so
   * the velocity rules count every drawdown accepted before this one. One gateway process only:
   * several instances would need the count inside the acceptance transaction.
   */
  drawdownSection<T>(accountId: string, section: () => Promise<T>): Promise<T> {
    return this.drawdowns.run(accountId, section);
  }

  /**
   * Screens a prepared drawdown (already pre-flighted: it would draw). When a velocity rule
   * trips, the line is frozen through the outbox instead, an alert event is recorded, and the
   * request is answered 422 `velocity-hold`; otherwise the drawdown goes on unchanged.
   */
  async screen<C extends { amount: bigint; product: ProductName }>(prepared: PreparedOperation<C>): Promise<PreparedOperation<C>> {
    const { servicingStore: ss, config, accounts, operations, logger } = this.deps;
    const accountId = prepared.accountId;
    const profile = await ss.profileOf(accountId);
    const nowMs = this.deps.clock.nowMs();
    const verdict = screenDrawdown(config.velocity, {
      nowMs,
      amount: prepared.context.amount,
      history: await ss.drawdownsOf(accountId, prepared.kind === "cash_loan" ? "cash_loan" : "purchase"),
      accountsOnDevice: profile?.deviceKey ? await ss.accountsSharing("device", profile.deviceKey) : 0,
      accountsOnPhone: profile?.phoneKey ? await ss.accountsSharing("phone", profile.phoneKey) : 0,
    });
    if (!verdict.tripped) return prepared;
    const product = prepared.context.product;
    const freeze = await accounts.prepareFreeze(accountId, { product, reasonCode: verdict.reasonCode }, true);
    if (isImmediate(freeze)) throw new Error("a freeze is always an operation");
    const holdKey = `velocity:${accountId}:${product}:${nowMs}`;
    const accepted = await operations.accept(
      { ...freeze, context: { ...freeze.context, velocity: { rule: verdict.rule, detail: verdict.detail } } },
      { apiKeyId: "system:velocity", key: holdKey, fingerprint: verdict.rule }
    );
    const operationId = accepted.operationId ?? (accepted.accepted === false && accepted.conflict === "idempotency" ? accepted.existing.operationId : undefined) ?? null;
    await ss.recordHold({ accountId, productId: PRODUCT_IDS[product], rule: verdict.rule, detail: verdict.detail, operationId: operationId ?? undefined, atMs: nowMs });
    const alert: WebhookEvent = {
      id: eventIdOf("alert.velocity", operationId ?? holdKey),
      type: "alert.velocity",
      created: Number(this.business),
      accountId,
      data: { product, rule: verdict.rule, reasonCode: verdict.reasonCode, detail: verdict.detail, amount: prepared.context.amount, freezeOperationId: operationId },
    };
    await ss.recordEvents([alert], `hold:${operationId ?? holdKey}`, nowMs);
    this.wake?.();
    logger.warn({ account: accountId, product, rule: verdict.rule, detail: verdict.detail, operation: operationId }, "velocity rule tripped: line frozen instead of drawing");
    throw new ApiError("velocity-hold", `${verdict.detail}: the line is frozen and the drawdown refused`, {
      field: "amount",
      extensions: { rule: verdict.rule as VelocityRule, reasonCode: verdict.reasonCode, freezeOperationId: operationId },
    });
  }

  // ---------------------------------------------------------------- events of operations

  private async recordOperationEvents(operationId: string): Promise<void> {
    const op = await this.deps.store.getOperation(operationId);
    if (!op || op.status === "pending") return;
    if (await this.deps.servicingStore.hasEventFrom(`op:${op.id}`)) return;
    const events = operationEvents(op, Number(this.business));
    await this.deps.servicingStore.recordEvents(events, `op:${op.id}`, this.deps.clock.nowMs());
    this.wake?.();
  }

  // ---------------------------------------------------------------- credit report

  async creditReport(accountId: string): Promise<CreditReportView> {
    const { store, servicingStore: ss } = this.deps;
    const snapshot = await store.accountSnapshot(accountId);
    if (!snapshot) throw new ApiError("account-not-found", `no account ${accountId} on the ledger (yet)`, { field: "accountId" });
    const entries = await store.entriesOf(accountId);
    const now = this.business;
    const openedAt = entries.length > 0 ? await this.deps.chain.blockTime(entries[0].blockNumber) : now;
    const zone = (await ss.profileOf(accountId))?.timeZone ?? DEFAULT_TIME_ZONE;
    return { accountId, timeZone: zone, openedAt, asOf: now, months: creditReport(entries, openedAt, now, zone) };
  }
}

/** The events an operation's settlement brings (pure). */
export function operationEvents(op: OperationRecord, created: number): WebhookEvent[] {
  const landed = op.steps.filter((s) => s.landed).map((s) => s.landed!);
  const last = landed[landed.length - 1];
  const confirmed = op.status === "confirmed";
  const type: EventType = confirmed ? "operation.confirmed" : "operation.failed";
  const events: WebhookEvent[] = [
    {
      id: eventIdOf(type, op.id),
      type,
      created,
      accountId: op.accountId,
      data: { operationId: op.id, kind: op.kind, status: op.status, txHash: last?.txHash ?? null, blockNumber: last?.blockNumber ?? null },
    },
  ];
  if (!confirmed) return events;
  const ctx = op.context as Record<string, unknown>;
  const add = (t: EventType, data: Record<string, unknown>) =>
    events.push({ id: eventIdOf(t, op.id), type: t, created, accountId: op.accountId, data: { operationId: op.id, ...data } });
  if (op.kind === "application") {
    const a = ctx as unknown as ApplicationContext;
    add("decision.made", {
      product: a.product,
      outcome: a.outcome,
      score: a.score,
      limit: a.limit,
      dailyRatePpm: a.ratePpmPerDay,
      reasonCodes: a.reasonCodes,
      modelId: a.modelId,
    });
  } else if (op.kind === "freeze") {
    add("line.frozen", { product: ctx.product, reasonCode: ctx.reasonCode, velocity: ctx.velocity ?? null });
  } else if (op.kind === "limit_review") {
    const r = ctx as unknown as LimitReviewContext;
    add("limit.changed", {
      product: r.product,
      outcome: r.outcome,
      previousLimit: r.previousLimit,
      newLimit: r.newLimit,
      cutReasonCode: r.cutReasonCode,
      score: r.score,
      reasonCodes: r.reasonCodes,
    });
  }
  return events;
}

/** The later of two optional times. */
function max(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}
