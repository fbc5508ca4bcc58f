/**
 * The velocity guard the drawdown routes run before acceptance (server/api/mutations.ts): it
 * screens a prepared drawdown with the velocity rules (velocity.ts) against the account's
 * recent drawdowns and shared device or phone. A drawdown that trips a rule is not accepted:
 * the guard hands back the line's freeze to accept in its place, and the refusal that answers
 * the request (422 `velocity-hold`, naming the freeze operation); once the freeze is accepted
 * the hold and an `alert.velocity` event are recorded. Screen-then-accept runs one drawdown per
 * account at a time (`section`), so the rules count every drawdown accepted before this one.
 * One gateway process only: several instances would need the count inside the acceptance
 * transaction.
 */
import { PRODUCT_IDS, type ProductName } from "../../core/names";
import { nowSeconds, type Clock } from "../clock";
import type { ServicingConfig } from "../config";
import { DomainError } from "../errors";
import type { FreezeContext, LineChanges } from "../lending/line-changes";
import type { PreparedOperation } from "../lending/operations";
import type { Logger } from "../logger";
import { KeyedQueue } from "./keyed-queue";
import type { ServicingStore } from "./servicing-store";
import { screenDrawdown } from "./velocity";
import { eventIdOf, type WebhookEvent } from "./webhook-events";

/** What the guard says of a drawdown: go on, or hold (accept the freeze instead and answer with the refusal). */
export type GuardVerdict =
  | { hold: false }
  | {
      hold: true;
      /** The operation to accept instead of the drawdown: the line's freeze. */
      freeze: PreparedOperation<FreezeContext>;
      /** The request's answer, naming the accepted freeze operation. */
      refusal(freezeOperationId: string): DomainError;
      /** Records the hold and its alert once the freeze is accepted. */
      recorded(freezeOperationId: string): Promise<void>;
    };

/** A drawdown as the guard needs it. */
export type GuardedDrawdown = PreparedOperation<{ amount: bigint; product: ProductName }>;

export interface VelocityGuardDeps {
  servicingStore: ServicingStore;
  lineChanges: LineChanges;
  config: Pick<ServicingConfig, "velocity">;
  /** The gateway's own clock: the same one that dates drawdowns. */
  clock: Clock;
  /** The business clock (dates the alert event). */
  business: Clock;
  logger: Logger;
  /** Called when an alert was recorded (the deliverer may send it at once). */
  onAlert?(): void;
}

export class VelocityGuard {
  private readonly drawdowns = new KeyedQueue();

  constructor(private readonly deps: VelocityGuardDeps) {}

  /** Runs a drawdown's screen-then-accept with no other drawdown of the account in between. */
  section<T>(accountId: string, work: () => Promise<T>): Promise<T> {
    return this.drawdowns.run(accountId, work);
  }

  /** Screens a prepared drawdown (already pre-flighted: it would draw) of `partnerId`'s request. */
  async screen(prepared: GuardedDrawdown, partnerId?: string): Promise<GuardVerdict> {
    const { servicingStore: ss, config, lineChanges, logger } = this.deps;
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
    if (!verdict.tripped) return { hold: false };
    const product = prepared.context.product;
    const freeze = await lineChanges.prepareFreeze(accountId, { product, reasonCode: verdict.reasonCode }, true);
    return {
      hold: true,
      freeze: { ...freeze, context: { ...freeze.context, velocity: { rule: verdict.rule, detail: verdict.detail } } },
      refusal: (freezeOperationId) =>
        new DomainError("velocity-hold", `${verdict.detail}: the line is frozen and the drawdown refused`, {
          field: "amount",
          extensions: { rule: verdict.rule, reasonCode: verdict.reasonCode, freezeOperationId },
        }),
      recorded: async (freezeOperationId) => {
        await ss.recordHold({ accountId, productId: PRODUCT_IDS[product], rule: verdict.rule, detail: verdict.detail, operationId: freezeOperationId, atMs: nowMs });
        const alert: WebhookEvent = {
          id: eventIdOf("alert.velocity", freezeOperationId),
          type: "alert.velocity",
          created: Number(nowSeconds(this.deps.business)),
          accountId,
          data: { product, rule: verdict.rule, reasonCode: verdict.reasonCode, detail: verdict.detail, amount: prepared.context.amount, freezeOperationId },
        };
        // The alert names the refused drawdown: it goes to the partner that asked for it.
        await ss.recordEvents([{ event: alert, audience: { partners: partnerId === undefined ? [] : [partnerId] } }], `hold:${freezeOperationId}`, nowMs);
        this.deps.onAlert?.();
        logger.warn({ account: accountId, product, rule: verdict.rule, detail: verdict.detail, operation: freezeOperationId }, "velocity rule tripped: line frozen instead of drawing");
      },
    };
  }
}
