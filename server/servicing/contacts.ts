/**
 * Releasing queued reminders: every reminder that is due passes the collection guard (quiet
 * hours in the borrower's zone, a daily cap) and is sent as a webhook event, deferred to the
 * guard's next allowed time, or suppressed when it is no longer true (paid, superseded). Every
 * decision is recorded and logged with its reason.
 */
import { dayOf, delinquencyBucket, positionAt } from "../../core/loan-math";
import { productNameOf } from "../../core/names";
import { DEFAULT_TIME_ZONE, localTime } from "../../core/zone-time";
import type { Clock } from "../clock";
import type { ServicingConfig } from "../config";
import type { Logger } from "../logger";
import type { EventType } from "../schemas/servicing";
import type { Store } from "../store/store";
import { guardContact, localDateOf } from "./collection-guard";
import { staleReason } from "./reminders";
import type { ServicingStore } from "./servicing-store";
import type { WebhookEvent } from "./webhook-events";

export interface ContactDeps {
  store: Store;
  servicingStore: ServicingStore;
  config: Pick<ServicingConfig, "quietHours" | "maxContactsPerDay">;
  /** The gateway's own clock (dates the records). */
  clock: Clock;
  logger: Logger;
}

export interface ContactCounts {
  sent: number;
  deferred: number;
  suppressed: number;
}

/** Every queued reminder due at `now` (business time) through the guard. */
export async function releaseContacts(deps: ContactDeps, now: bigint): Promise<ContactCounts> {
  const { store, servicingStore: ss, config, logger } = deps;
  const counts: ContactCounts = { sent: 0, deferred: 0, suppressed: 0 };
  for (const c of await ss.dueContacts(now)) {
    const zone = (await ss.profileOf(c.accountId))?.timeZone ?? DEFAULT_TIME_ZONE;
    const local = localTime(now, zone);
    const base = { at: now, localTime: `${local.date} ${local.clock}`, timeZone: zone };
    const snapshot = await store.loanSnapshot(c.accountId, c.loanNo);
    const stale = snapshot
      ? staleReason(c as Parameters<typeof staleReason>[0], snapshot.terms, snapshot.state, dayOf(snapshot.terms, now))
      : "the loan is not in the read model";
    if (stale !== undefined) {
      await ss.decideContact(c, { outcome: "suppressed", reason: stale, ...base }, undefined, deps.clock.nowMs());
      counts.suppressed += 1;
      logger.info({ contact: c.id, account: c.accountId, type: c.type, outcome: "suppressed", reason: stale }, "reminder not sent");
      continue;
    }
    const decision = guardContact(
      { quietHours: config.quietHours, maxContactsPerDay: config.maxContactsPerDay },
      { now, zone, contactsToday: await ss.contactsSentOn(c.accountId, localDateOf(now, zone)) }
    );
    if (decision.action === "defer") {
      await ss.decideContact(c, { outcome: "deferred", reason: decision.reason, notBefore: decision.until, ...base }, undefined, deps.clock.nowMs());
      counts.deferred += 1;
      logger.info(
        { contact: c.id, account: c.accountId, type: c.type, outcome: "deferred", reason: decision.reason, until: String(decision.until) },
        "reminder deferred"
      );
      continue;
    }
    const { terms, state } = snapshot!;
    const p = positionAt(terms, state, now);
    const event: WebhookEvent = {
      id: c.id,
      type: c.type as EventType,
      created: Number(now),
      accountId: c.accountId,
      data: {
        loanId: `${c.accountId}:${c.loanNo}`,
        loanNo: c.loanNo,
        product: productNameOf(terms.productId) ?? "pay_later",
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
    // A reminder is about one loan: it goes to the partner whose loan it is.
    const owner = await store.loanOwner(c.accountId, c.loanNo);
    const audience = { partners: owner === undefined ? [] : [owner] };
    await ss.decideContact(c, { outcome: "sent", reason: decision.reason, localDate: decision.localDate, ...base }, { event, audience }, deps.clock.nowMs());
    counts.sent += 1;
    logger.info({ contact: c.id, account: c.accountId, type: c.type, outcome: "sent", reason: decision.reason }, "reminder sent");
  }
  return counts;
}
