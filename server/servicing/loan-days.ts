/**
 * The servicing day's walk over the loans: every loan day since a task last ran, in order, read
 * from the ledger's read model with the core's math. The delinquency task moves the loan
 * between buckets (current, 1-30, 31-60, 61-90, 90+); the reminders task queues the reminders
 * that day brings (reminders.ts), for the collection guard to release (contacts.ts).
 */
import { DAY, dayOf, LoanStatus, type DelinquencyBucket } from "../../core/loan-math";
import type { Logger } from "../logger";
import type { Store } from "../store/store";
import { loanDay, remindersOn } from "./reminders";
import type { Contact, ServicingStore } from "./servicing-store";

/** The tasks that walk loan days, each with its own cursor: a run of other tasks moves neither. */
export const DAY_TASKS = ["delinquency", "reminders"] as const;
export type DayTask = (typeof DAY_TASKS)[number];

/** The most loan days one run looks back over, per loan. */
const MAX_CATCH_UP_DAYS = 400n;

export interface BucketMove {
  loanId: string;
  from: DelinquencyBucket;
  to: DelinquencyBucket;
  daysPastDue: bigint;
  at: bigint;
}

export interface LoanDaysResult {
  loansServiced: number;
  remindersQueued: number;
  bucketMoves: BucketMove[];
}

export interface LoanDaysDeps {
  store: Store;
  servicingStore: ServicingStore;
  logger: Logger;
  /** Days before a due date the "due soon" reminder goes (0: none). */
  reminderDaysBefore: number;
}

/**
 * Walks every loan's days from each ran task's start (`fromOf`, unix seconds) through `now`,
 * always including today (a repayment since the last run moves the bucket back).
 */
export async function walkLoanDays(deps: LoanDaysDeps, ran: readonly DayTask[], fromOf: Record<DayTask, bigint>, now: bigint): Promise<LoanDaysResult> {
  const { store, servicingStore: ss } = deps;
  const result: LoanDaysResult = { loansServiced: 0, remindersQueued: 0, bucketMoves: [] };
  const delinquency = ran.includes("delinquency");
  const reminders = ran.includes("reminders");
  if (!delinquency && !reminders) return result;
  const daysBefore = BigInt(deps.reminderDaysBefore);
  for (const accountId of await ss.accountIds()) {
    for (const { loanNo, terms, state } of await store.loansOf(accountId)) {
      const loan = { accountId, loanNo, loanId: `${accountId}:${loanNo}` };
      result.loansServiced += 1;
      if (state.status !== LoanStatus.Active) {
        if (delinquency) await moveBucket(deps, result, loan.loanId, accountId, loanNo, "current", 0n, now);
        continue;
      }
      const dTo = dayOf(terms, now);
      const firstDay = (task: DayTask): bigint => {
        const f = fromOf[task];
        let d = f < terms.startTime ? 0n : (f - terms.startTime) / DAY + 1n;
        if (d > dTo) d = dTo; // always look at today
        if (dTo - d > MAX_CATCH_UP_DAYS) d = dTo - MAX_CATCH_UP_DAYS;
        return d;
      };
      const dFromOf = { delinquency: firstDay("delinquency"), reminders: firstDay("reminders") };
      const dFrom = ran.map((task) => dFromOf[task]).reduce((a, b) => (a < b ? a : b));
      for (let d = dFrom; d <= dTo; d++) {
        if (d < state.checkpointDay) continue;
        if (delinquency && d >= dFromOf.delinquency) {
          const { position, bucket } = loanDay(terms, state, d);
          await moveBucket(deps, result, loan.loanId, accountId, loanNo, bucket, position.daysPastDue, terms.startTime + d * DAY);
        }
        if (reminders && d >= dFromOf.reminders) {
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
            if (await ss.queueContact(contact)) result.remindersQueued += 1;
          }
        }
      }
    }
  }
  return result;
}

async function moveBucket(
  deps: LoanDaysDeps,
  result: LoanDaysResult,
  loanId: string,
  accountId: string,
  loanNo: number,
  bucket: DelinquencyBucket,
  dpd: bigint,
  at: bigint
): Promise<void> {
  const move = await deps.servicingStore.setBucket(accountId, loanNo, bucket, dpd, at);
  if (!move) return;
  result.bucketMoves.push({ loanId, from: move.from, to: move.to, daysPastDue: dpd, at });
  deps.logger.info({ loan: loanId, from: move.from, to: move.to, daysPastDue: String(dpd) }, "loan moved between delinquency buckets");
}
