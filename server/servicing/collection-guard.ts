/**
 * The collection guard: whether a reminder or collection contact may go to a borrower now.
 * No contact in the quiet hours (default 22:00-08:00) of the borrower's own time zone, and at
 * most a configured number of contacts per local day; a contact that may not go now is
 * deferred to the first instant it may, with the reason. Pure: the policy, the instant, the
 * zone and the day's count go in, a decision comes out (the caller logs every decision).
 */
import { localTime, nextLocalDayAt, nextLocalHour } from "../../core/zone-time";

export interface QuietHours {
  /** Local hour (0-23) quiet hours begin, inclusive. */
  startHour: number;
  /** Local hour (0-23) quiet hours end, exclusive: contact is allowed from this hour on. */
  endHour: number;
}

export interface GuardPolicy {
  quietHours: QuietHours;
  /** Contacts per borrower per local calendar day. */
  maxContactsPerDay: number;
}

export interface ContactCheck {
  /** The instant of the contact (unix seconds, the business clock). */
  now: bigint;
  /** The borrower's IANA time zone. */
  zone: string;
  /** Contacts already made to this borrower on the local date of `now` (see `localDateOf`). */
  contactsToday: number;
}

export type GuardDecision =
  | { action: "send"; localDate: string; localClock: string; reason: string }
  | { action: "defer"; until: bigint; localDate: string; localClock: string; reason: string };

/** Whether a local hour falls in the quiet hours (which may wrap past midnight). */
export function isQuietHour(hour: number, quiet: QuietHours): boolean {
  if (quiet.startHour === quiet.endHour) return false;
  return quiet.startHour > quiet.endHour
    ? hour >= quiet.startHour || hour < quiet.endHour
    : hour >= quiet.startHour && hour < quiet.endHour;
}

/** The borrower's local date of an instant: the day the cap counts contacts in. */
export const localDateOf = (now: bigint, zone: string): string => localTime(now, zone).date;

const hh = (h: number) => `${String(h).padStart(2, "0")}:00`;

export function guardContact(policy: GuardPolicy, check: ContactCheck): GuardDecision {
  const { quietHours: q, maxContactsPerDay: cap } = policy;
  const local = localTime(check.now, check.zone);
  const at = { localDate: local.date, localClock: local.clock };
  if (isQuietHour(local.hour, q)) {
    return {
      action: "defer",
      until: nextLocalHour(check.now, check.zone, q.endHour),
      ...at,
      reason: `quiet hours ${hh(q.startHour)}-${hh(q.endHour)} in ${check.zone} (local time ${local.clock})`,
    };
  }
  if (check.contactsToday >= cap) {
    return {
      action: "defer",
      until: nextLocalDayAt(check.now, check.zone, q.endHour),
      ...at,
      reason: `daily cap of ${cap} contact${cap === 1 ? "" : "s"} reached on ${local.date} in ${check.zone}`,
    };
  }
  return {
    action: "send",
    ...at,
    reason: `allowed at local time ${local.clock} in ${check.zone}, contact ${check.contactsToday + 1} of ${cap} on ${local.date}`,
  };
}
