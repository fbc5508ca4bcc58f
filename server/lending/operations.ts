/**
 * Operations: what an accepted request becomes. A service prepares an operation (its ledger
 * calls, the request-time facts its response is built from, a new vault row or decision
 * records); `Operations.accept` writes it to the outbox together with the idempotency record
 * in one transaction, before anything is sent, and wakes the sender. `wait` follows it to
 * confirmation (and the indexer to its block, so reads see it) or to a timeout.
 */
import { once, type EventEmitter } from "node:events";
import type { z } from "zod";

import { accountOfCall, type LedgerCall } from "../chain/ledger-calls";
import type { Indexer } from "../chain/indexer";
import type { Clock } from "../clock";
import type { GatewayMetrics } from "../metrics";
import { randomHex, type Random } from "../randomness";
import type { OperationSummary as OperationSummarySchema } from "../schemas/common";
import type { AcceptOutcome, AccountProfileRecord, DecisionRecord, OperationRecord, StoredResponse, Store, VaultRecord } from "../store/store";

export type OperationKind =
  | "application"
  | "purchase"
  | "refund"
  | "cash_loan"
  | "repayment"
  | "freeze"
  | "unfreeze"
  | "reinstate"
  | "limit_review"
  | "temporary_raise"
  | "exposure_cap"
  | "restructure"
  | "write_off";

/** An operation as a service prepared it: validated and pre-flighted, not yet written. */
export interface PreparedOperation<C> {
  kind: OperationKind;
  accountId: string;
  context: C;
  calls: LedgerCall[];
  /** A person new to the vault, inserted with the operation. */
  vault?: VaultRecord;
  decisions?: Array<Omit<DecisionRecord, "operationId" | "createdAt">>;
  /** Servicing facts about the account (time zone, keyed device and phone), stored with the operation. */
  profile?: AccountProfileRecord;
}

/** A request that writes nothing to the ledger (a quote, a review that changes nothing). */
export interface Immediate<C> {
  immediate: C;
}

export type Prepared<C> = PreparedOperation<C> | Immediate<C>;

export const isImmediate = <C>(p: Prepared<C>): p is Immediate<C> => "immediate" in p;

export interface IdempotencyScope {
  /** What the key belongs to: the partner for a partner key (server/auth/api-keys.ts `Principal.owner`). */
  owner: string;
  /** The partner whose request it is: it owns the operation (and a loan it draws). */
  partnerId?: string;
  key: string;
  fingerprint: string;
}

/** The sender as operations need it: wake it, hear when an operation settles. */
export interface SenderSignals extends EventEmitter {
  notify(): void;
}

export class Operations {
  constructor(
    private readonly store: Store,
    private readonly sender: SenderSignals,
    private readonly indexer: Pick<Indexer, "syncTo">,
    private readonly chainHeight: () => Promise<number>,
    private readonly random: Random,
    private readonly clock: Clock,
    private readonly metrics?: GatewayMetrics
  ) {}

  /**
   * Writes the operation and its idempotency record atomically; returns the operation id when
   * accepted. With `answer`, the request's answer is final at once and stored with the key in the
   * same transaction (a velocity hold: the freeze is the operation, the refusal naming it the answer).
   */
  async accept<C>(
    prepared: PreparedOperation<C>,
    idempotency: IdempotencyScope,
    answer?: (operationId: string) => StoredResponse
  ): Promise<AcceptOutcome & { operationId?: string }> {
    const id = `op_${randomHex(this.random, 16).slice(2)}`;
    const response = answer?.(id);
    const fromBlock = await this.chainHeight();
    const createdAt = new Date(this.clock.nowMs()).toISOString();
    const outcome = await this.store.accept({
      idempotency,
      response,
      vault: prepared.vault,
      profile: prepared.profile,
      link: idempotency.partnerId !== undefined && prepared.kind === "application" ? { partnerId: idempotency.partnerId, accountId: prepared.accountId } : undefined,
      decisions: prepared.decisions?.map((d) => ({ ...d, operationId: id, createdAt })),
      operation: {
        id,
        kind: prepared.kind,
        accountId: prepared.accountId,
        ...(idempotency.partnerId !== undefined ? { partnerId: idempotency.partnerId } : {}),
        context: prepared.context,
        fromBlock,
        steps: prepared.calls.map((call) => ({
          accountId: accountOfCall(call),
          fn: call.fn,
          call,
          ref: randomHex(this.random, 32),
        })),
      },
    });
    if (!outcome.accepted) return outcome;
    this.metrics?.operations.inc({ kind: prepared.kind });
    this.sender.notify();
    return { ...outcome, operationId: id };
  }

  /** Records a request answered without a ledger write, with its final response. */
  acceptImmediate(idempotency: IdempotencyScope, response: StoredResponse): Promise<AcceptOutcome> {
    return this.store.accept({ idempotency, response });
  }

  get(id: string): Promise<OperationRecord | undefined> {
    return this.store.getOperation(id);
  }

  /** Waits until the operation is confirmed or failed (and indexed), or `timeoutMs` passes. */
  async wait(id: string, timeoutMs: number): Promise<OperationRecord> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      for (;;) {
        const settled = once(this.sender, "settled", { signal: controller.signal }).catch(() => undefined);
        const op = await this.store.getOperation(id);
        if (!op) throw new Error(`no operation ${id}`);
        if (op.status !== "pending") {
          const blocks = op.steps.flatMap((s) => (s.landed ? [s.landed.blockNumber] : []));
          if (blocks.length > 0) await this.indexer.syncTo(Math.max(...blocks));
          return op;
        }
        if (controller.signal.aborted) return op;
        await settled;
      }
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }
}

/** The operation as POST responses show it. */
export type OperationSummary = z.output<typeof OperationSummarySchema>;

export function summarize(op: OperationRecord): OperationSummary {
  const landed = op.steps.filter((s) => s.landed).map((s) => s.landed!);
  const last = landed[landed.length - 1];
  return { id: op.id, status: op.status, txHash: last?.txHash ?? null, blockNumber: last?.blockNumber ?? null };
}

/** The decoded event of the operation's step that called `fn`, once it landed. */
export function landedResult(op: OperationRecord | undefined, fn: string): Record<string, unknown> | undefined {
  return op?.steps.find((s) => s.fn === fn && s.landed)?.landed?.args;
}
