/**
 * Events about operations: when an operation settles (the outbox sender emits "settled"), the
 * facts partners subscribe to are recorded as webhook events, each for the partners it
 * concerns: the operation confirmed or failed, and for a confirmed one its decision, freeze,
 * limit change (a review's or a temporary raise's), exposure cap change or write-off. An event's id is
 * derived from the operation's, so a restart or a second settlement notice records nothing
 * twice; at start the operations settled while the gateway was down get theirs.
 */
import type { EventEmitter } from "node:events";

import { LEDGER_LIMITS } from "../../core/loan-math";
import { principalReasons, reasonText } from "../../core/reasons";
import { nowSeconds, type Clock } from "../clock";
import type { ApplicationContext } from "../lending/applications";
import type { ExposureCapContext, LimitReviewContext, TemporaryRaiseContext } from "../lending/line-changes";
import type { WriteOffContext } from "../lending/loan-changes";
import { loanIdOf } from "../lending/loan-ids";
import type { Logger } from "../logger";
import type { EventType } from "../schemas/servicing";
import type { OperationRecord, Store } from "../store/store";
import type { AddressedEvent, Audience, ServicingStore } from "./servicing-store";
import { eventIdOf } from "./webhook-events";

export interface OperationEventDeps {
  store: Store;
  servicingStore: ServicingStore;
  /** Emits "settled" with an operation id (the outbox sender). */
  settlements: EventEmitter;
  /** The gateway's own clock (dates the records). */
  clock: Clock;
  /** The business clock (the events' `created`). */
  business: Clock;
  logger: Logger;
  /** Called when events were recorded (the deliverer may send them at once). */
  onRecorded?(): void;
}

export class OperationEventRecorder {
  private readonly onSettled = (operationId: string) => {
    void this.record(operationId).catch((error: unknown) =>
      this.deps.logger.error({ err: error, operation: operationId }, "servicing: could not record the operation's events")
    );
  };

  constructor(private readonly deps: OperationEventDeps) {}

  /** Listens for settlements, and records the events of operations settled before. */
  async start(): Promise<void> {
    this.deps.settlements.on("settled", this.onSettled);
    for (const id of await this.deps.servicingStore.settledOperationsWithoutEvents(10_000)) await this.record(id);
  }

  stop(): void {
    this.deps.settlements.off("settled", this.onSettled);
  }

  private async record(operationId: string): Promise<void> {
    const op = await this.deps.store.getOperation(operationId);
    if (!op || op.status === "pending") return;
    if (await this.deps.servicingStore.hasEventFrom(`op:${op.id}`)) return;
    const ctx = op.context as Partial<WriteOffContext>;
    const loanOwner = op.kind === "write_off" && ctx.loanNo !== undefined ? await this.deps.store.loanOwner(op.accountId, ctx.loanNo) : undefined;
    const events = operationEvents(op, Number(nowSeconds(this.deps.business)), await this.deps.store.partnersOf(op.accountId), loanOwner);
    await this.deps.servicingStore.recordEvents(events, `op:${op.id}`, this.deps.clock.nowMs());
    this.deps.onRecorded?.();
  }
}

/**
 * The events an operation's settlement brings, and who each is for (pure): the operation's own
 * (confirmed, failed; a declined decision) go to the partner whose request it was; a line's
 * (a decision granting it, a freeze, a limit change) to every partner linked to the account
 * (`linked`), so they carry no operation id, nothing of any partner's request but the line's
 * new facts. A write-off's `loan.written_off` goes to the partner that owns the loan
 * (`loanOwner`), and the freeze it brings to every linked partner as `line.frozen`.
 */
export function operationEvents(op: OperationRecord, created: number, linked: readonly string[], loanOwner?: string): AddressedEvent[] {
  const own = { partners: op.partnerId === undefined ? [] : [op.partnerId] };
  const line = { partners: linked };
  const landed = op.steps.filter((s) => s.landed).map((s) => s.landed!);
  const last = landed[landed.length - 1];
  const confirmed = op.status === "confirmed";
  const type: EventType = confirmed ? "operation.confirmed" : "operation.failed";
  const events: AddressedEvent[] = [
    {
      event: {
        id: eventIdOf(type, op.id),
        type,
        created,
        accountId: op.accountId,
        data: { operationId: op.id, kind: op.kind, status: op.status, txHash: last?.txHash ?? null, blockNumber: last?.blockNumber ?? null },
      },
      audience: own,
    },
  ];
  if (!confirmed) return events;
  const ctx = op.context as Record<string, unknown>;
  const add = (t: EventType, audience: Audience, data: Record<string, unknown>) =>
    events.push({ event: { id: eventIdOf(t, op.id), type: t, created, accountId: op.accountId, data }, audience });
  if (op.kind === "application") {
    const a = ctx as unknown as ApplicationContext;
    add("decision.made", a.outcome === "approved" ? line : own, {
      product: a.product,
      outcome: a.outcome,
      score: a.score,
      limit: a.limit,
      dailyRatePpm: a.ratePpmPerDay,
      reasonCodes: a.reasonCodes,
      reasons: principalReasons(a.reasonCodes),
      modelId: a.modelId,
    });
  } else if (op.kind === "freeze") {
    // The rule only: a velocity detail quotes the refused drawdown's amounts (the asking partner gets those in alert.velocity).
    const velocity = ctx.velocity as { rule: string } | undefined;
    const reasonCode = Number(ctx.reasonCode);
    add("line.frozen", line, { product: ctx.product, reasonCode, reason: reasonText(reasonCode), velocity: velocity ? { rule: velocity.rule } : null });
  } else if (op.kind === "limit_review") {
    const r = ctx as unknown as LimitReviewContext;
    add("limit.changed", line, {
      product: r.product,
      outcome: r.outcome,
      previousLimit: r.previousLimit,
      newLimit: r.newLimit,
      cutReasonCode: r.cutReasonCode,
      expiresAt: null,
      score: r.score,
      reasonCodes: r.reasonCodes,
      reasons: principalReasons(r.reasonCodes),
    });
  } else if (op.kind === "temporary_raise") {
    const r = ctx as unknown as TemporaryRaiseContext;
    add("limit.changed", line, {
      product: r.product,
      outcome: "temporary_raise",
      previousLimit: r.previousLimit,
      newLimit: r.temporaryLimit,
      cutReasonCode: null,
      expiresAt: r.expiresAt === null ? null : Number(r.expiresAt),
      score: r.score,
      reasonCodes: r.reasonCodes,
      reasons: principalReasons(r.reasonCodes),
    });
  } else if (op.kind === "exposure_cap") {
    const c = ctx as unknown as ExposureCapContext;
    const previousCap = last?.args.previousCap ?? c.previousCap;
    add("exposure_cap.changed", line, { previousCap, exposureCap: c.exposureCap });
  } else if (op.kind === "write_off" && last) {
    const w = ctx as unknown as WriteOffContext;
    const a = last.args;
    add("loan.written_off", { partners: loanOwner === undefined ? [] : [loanOwner] }, {
      loanId: loanIdOf(w),
      product: w.product,
      principalWrittenOff: a.principalWrittenOff,
      interestAccrued: a.interestAccrued,
      penaltyAccrued: a.penaltyAccrued,
      daysPastDue: a.daysPastDue,
      lineFrozen: a.lineFrozen,
    });
    // The freeze a write-off brings is a line fact every linked partner needs (no loan of theirs in it).
    const reasonCode = LEDGER_LIMITS.writeOffFreezeReason;
    if (a.lineFrozen === true || a.lineFrozen === "true") add("line.frozen", line, { product: w.product, reasonCode, reason: reasonText(reasonCode), velocity: null });
  }
  return events;
}
