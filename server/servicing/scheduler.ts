/**
 * The servicing day, scheduled: at each new business day (and when an admin asks) the
 * servicing runs its tasks in order, one run at a time:
 *
 *   delinquency     every loan day since the task last ran moves the loan between buckets (loan-days.ts)
 *   reminders       the reminders those days bring are queued, then released through the
 *                   collection guard (contacts.ts)
 *   limit_reviews   lines past their review interval are re-scored (limit-reviews.ts)
 *   deliveries      webhook deliveries that are due are sent (webhooks.ts)
 *
 * Between days the loop releases deferred reminders that came due and starts sending due
 * deliveries (in the background: the deliverer's own limits and timeouts bound them).
 * In development mode the clock can be moved and the skipped days run (local-clock.ts). Events
 * about settled operations are recorded as they settle (operation-events.ts). Each day task has
 * its own cursor, so a run of other tasks moves neither.
 */
import { nowSeconds, type Clock } from "../clock";
import type { ServicingConfig } from "../config";
import type { Logger } from "../logger";
import { DEFAULT_TIME_ZONE, localTime } from "../../core/zone-time";
import { DAY } from "../../core/loan-math";
import { SERVICING_TASKS, type ServicingTask } from "../schemas/servicing";
import type { Store } from "../store/store";
import type { BusinessClock } from "./business-clock";
import { releaseContacts, type ContactCounts } from "./contacts";
import type { LimitReviewOutcome, LimitReviews } from "./limit-reviews";
import type { LocalClock } from "./local-clock";
import { DAY_TASKS, walkLoanDays, type BucketMove, type DayTask } from "./loan-days";
import type { OperationEventRecorder } from "./operation-events";
import type { ServicingStore } from "./servicing-store";
import type { WebhookDeliverer } from "./webhooks";

export interface RunSummary {
  from: bigint;
  through: bigint;
  loansServiced: number;
  remindersQueued: number;
  contacts: ContactCounts;
  bucketMoves: BucketMove[];
  limitReviews: LimitReviewOutcome[];
  deliveriesAttempted: number;
}

export interface ClockAdvance {
  days: number;
  previousTime: bigint;
  businessTime: bigint;
  chainTime: bigint;
  run: RunSummary;
}

export interface ServicingDeps {
  store: Store;
  servicingStore: ServicingStore;
  deliverer: WebhookDeliverer;
  limitReviews: LimitReviews;
  localClock: LocalClock;
  operationEvents: OperationEventRecorder;
  config: ServicingConfig;
  /** The gateway's own clock (dates records). */
  clock: Clock;
  business: BusinessClock;
  logger: Logger;
  pollIntervalMs: number;
}

/** Before per-task cursors: one cursor for every task (read as the start of both). */
const THROUGH_KEY = "servicing_through";
const cursorKey = (task: DayTask) => `${THROUGH_KEY}:${task}`;

export class Servicing {
  private queue: Promise<unknown> = Promise.resolve();
  private loop?: Promise<void>;
  private running = false;
  private wake?: () => void;

  constructor(private readonly deps: ServicingDeps) {}

  private get business(): bigint {
    return nowSeconds(this.deps.business);
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    if (this.loop) return;
    await this.deps.operationEvents.start();
    this.running = true;
    this.loop = this.tickLoop();
  }

  async stop(): Promise<void> {
    this.deps.operationEvents.stop();
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    await this.queue.catch(() => undefined);
  }

  /** Something to deliver was recorded: stop idling. */
  notify(): void {
    this.wake?.();
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
        let timer: NodeJS.Timeout | undefined = undefined;
        const done = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
        timer = setTimeout(done, this.deps.pollIntervalMs);
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
    await releaseContacts(this.deps, now);
    // In the background: the deliverer has its own limits, and a slow endpoint must not hold this loop.
    this.deps.deliverer.kick();
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

  // ---------------------------------------------------------------- runs

  /** Runs the servicing through the business clock's now (each loan day since the last run, in order). */
  run(tasks: readonly ServicingTask[] = SERVICING_TASKS): Promise<RunSummary> {
    return this.serialized(() => this.runNow(tasks));
  }

  /**
   * Local network only: moves the chain's time `days` forward, the business clock with it, and
   * runs the skipped days; `once` (the request's idempotency key and fingerprint) makes a retry
   * run without moving the chain again.
   */
  async advance(days: number, once?: { request: string; fingerprint: string }): Promise<ClockAdvance> {
    this.deps.localClock.requireLocal();
    return this.serialized(async () => {
      const move = await this.deps.localClock.move(days, once);
      const run = await this.runNow([...SERVICING_TASKS]);
      return { days, previousTime: move.previousTime, businessTime: this.business, chainTime: move.chainTime, run };
    });
  }

  private async runNow(tasks: readonly ServicingTask[]): Promise<RunSummary> {
    const { servicingStore: ss, config } = this.deps;
    const now = this.business;
    const ran = DAY_TASKS.filter((task) => tasks.includes(task));
    const fromOf = {} as Record<DayTask, bigint>;
    for (const task of DAY_TASKS) {
      const through = await this.cursorOf(task);
      fromOf[task] = through === undefined ? now - DAY : through < now ? through : now;
    }
    const from = ran.length === 0 ? now : ran.map((task) => fromOf[task]).reduce((a, b) => (a < b ? a : b));
    const days = await walkLoanDays({ ...this.deps, reminderDaysBefore: config.reminderDaysBefore }, ran, fromOf, now);
    const summary: RunSummary = {
      from,
      through: now,
      ...days,
      contacts: { sent: 0, deferred: 0, suppressed: 0 },
      limitReviews: [],
      deliveriesAttempted: 0,
    };
    if (tasks.includes("reminders")) summary.contacts = await releaseContacts(this.deps, now);
    if (tasks.includes("limit_reviews")) summary.limitReviews = await this.deps.limitReviews.reviewDue(now);
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
}
