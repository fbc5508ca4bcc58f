/**
 * The reminder business of a loan, one loan day at a time: on day d (whole days since the
 * loan's start, as the ledger counts them) a period falling due in `daysBefore` days gets a
 * "due soon" reminder, a period due that day "due today", and the oldest unpaid amount on its
 * 1st, 7th and 30th day past due an "overdue" reminder. Positions come from the TypeScript
 * mirror of the ledger's math, so amounts, penalty and days past due are the ledger's. Pure.
 */
import {
  cumulativePrincipals,
  DAY,
  delinquencyBucket,
  dueDay,
  LoanStatus,
  periodSettled,
  positionOnDay,
  type DelinquencyBucket,
  type LoanPosition,
  type LoanState,
  type LoanTerms,
} from "../../core/loan-math";
import type { ReminderType } from "../schemas/servicing";
import { eventIdOf } from "./webhook-events";

export const OVERDUE_REMINDER_DAYS = [1n, 7n, 30n] as const;

export interface LoanRef {
  accountId: string;
  loanNo: number;
  loanId: string;
}

export interface Reminder {
  id: string;
  type: ReminderType;
  accountId: string;
  loanId: string;
  loanNo: number;
  /** The period the reminder is about (the oldest unpaid one, for overdue reminders). */
  period: number;
  /** Due time (unix seconds) of that period. */
  dueTime: bigint;
  /** The loan day the reminder belongs to, and its start (unix seconds). */
  day: bigint;
  scheduledAt: bigint;
  /** The position on that day. */
  amountDue: bigint;
  overduePrincipal: bigint;
  penalty: bigint;
  daysPastDue: bigint;
}

/** The loan's position and bucket on loan day `day`. */
export function loanDay(terms: LoanTerms, state: LoanState, day: bigint): { position: LoanPosition; bucket: DelinquencyBucket } {
  const p = positionOnDay(terms, state, day);
  return { position: p, bucket: state.status === LoanStatus.Active ? delinquencyBucket(p.daysPastDue) : "current" };
}

/**
 * The reminders loan day `day` brings (none for a day before the loan's last checkpoint: the
 * state no longer tells what was owed then, and it was serviced at the time).
 */
export function remindersOn(loan: LoanRef, terms: LoanTerms, state: LoanState, day: bigint, daysBefore: bigint): Reminder[] {
  if (state.status !== LoanStatus.Active || day < state.checkpointDay) return [];
  const cum = cumulativePrincipals(terms);
  const { position: p } = loanDay(terms, state, day);
  const out: Reminder[] = [];
  const make = (type: ReminderType, period: number): Reminder => {
    const dueTime = terms.startTime + dueDay(terms, period) * DAY;
    return {
      id: eventIdOf(type, `${loan.accountId}:${loan.loanNo}:${dueTime}`),
      type,
      ...loan,
      period,
      dueTime,
      day,
      scheduledAt: terms.startTime + day * DAY,
      amountDue: p.amountDue,
      overduePrincipal: p.overduePrincipal,
      penalty: p.penalty,
      daysPastDue: p.daysPastDue,
    };
  };
  for (let k = 1; k <= terms.periods; k++) {
    const due = dueDay(terms, k);
    if (periodSettled(terms, state, k, cum)) continue;
    if (due - daysBefore === day && daysBefore > 0n) out.push(make("reminder.due_soon", k));
    if (due === day) out.push(make("reminder.due_today", k));
  }
  if (OVERDUE_REMINDER_DAYS.includes(p.daysPastDue as (typeof OVERDUE_REMINDER_DAYS)[number])) {
    const oldestDue = day - p.daysPastDue;
    let period = 1;
    while (period < terms.periods && dueDay(terms, period) < oldestDue) period++;
    out.push(make(`reminder.overdue_day_${p.daysPastDue}` as ReminderType, period));
  }
  return out;
}

/**
 * Whether a queued reminder is still worth sending on loan day `today`: not once its period is
 * paid (or the loan closed), a "due soon" or "due today" not once the due day is over (the
 * overdue reminders take over), and an "overdue day N" not once the same unpaid amount has
 * reached the next overdue milestone (after a catch-up only the latest one goes, not a burst).
 * Returns the reason when it is not.
 */
export function staleReason(r: Pick<Reminder, "type" | "period" | "dueTime">, terms: LoanTerms, state: LoanState, today: bigint): string | undefined {
  if (state.status !== LoanStatus.Active) return `the loan is ${LoanStatus[state.status].toLowerCase()}`;
  if (r.period <= terms.periods && periodSettled(terms, state, r.period)) return `period ${r.period} is paid`;
  const dueDayOfReminder = (r.dueTime - terms.startTime) / DAY;
  if ((r.type === "reminder.due_soon" || r.type === "reminder.due_today") && today > dueDayOfReminder) {
    return `superseded: period ${r.period} is already past due`;
  }
  const milestone = OVERDUE_REMINDER_DAYS.find((n) => r.type === `reminder.overdue_day_${n}`);
  if (milestone !== undefined) {
    const { position: p } = loanDay(terms, state, today);
    const later = OVERDUE_REMINDER_DAYS.filter((n) => n > milestone && p.daysPastDue >= n);
    // Only while the reminder's amount is still the oldest unpaid one (a restructure can move due dates).
    if (later.length > 0 && today - p.daysPastDue === dueDayOfReminder) {
      const latest = later[later.length - 1];
      return `superseded by reminder.overdue_day_${latest}: ${p.daysPastDue} days past due`;
    }
  }
  return undefined;
}
