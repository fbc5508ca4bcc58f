/**
 * Events about operations: when an operation settles (the outbox sender emits "settled"), the
 * facts partners subscribe to are recorded as webhook events: the operation confirmed or
 * failed, and for a confirmed one its decision, freeze or limit change. An event's id is
 * derived from the operation's, so a restart or a second settlement notice records nothing
 * twice; at start the operations settled while the gateway was down get theirs.
 */
import type { EventEmitter } from "node:events";

import { nowSeconds, type Clock } from "../clock";
import type { ApplicationContext } from "../lending/applications";
import type { LimitReviewContext } from "../lending/line-changes";
import type { Logger } from "../logger";
import type { EventType } from "../schemas/servicing";
import type { OperationRecord, Store } from "../store/store";
import type { ServicingStore } from "./servicing-store";
import { eventIdOf, type WebhookEvent } from "./webhook-events";

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
    const events = operationEvents(op, Number(nowSeconds(this.deps.business)));
    await this.deps.servicingStore.recordEvents(events, `op:${op.id}`, this.deps.clock.nowMs());
    this.deps.onRecorded?.();
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
