/**
 * Limit reviews: every line is re-scored once its review interval has passed since its latest
 * decision (grant, raise, cut) or review, from features of its own ledger history
 * (review-features.ts): a raise on a new scorer-signed decision, a cut with its reason code, or
 * nothing when the limit stays. Reviews asked for through the API are recorded the same way,
 * so the next periodic one waits a full interval.
 */
import { numField, structField } from "../../core/ledger-structs";
import { DAY } from "../../core/loan-math";
import { replayLoans } from "../../core/loan-history";
import type { LedgerEntry } from "../../core/ledger-events";
import { PRODUCT_IDS, productNameOf, type ProductName } from "../../core/names";
import type { LimitReviewContext, LineChanges } from "../lending/line-changes";
import { isImmediate, type Operations, type Prepared } from "../lending/operations";
import type { Logger } from "../logger";
import type { Store } from "../store/store";
import { reviewFeatures } from "./review-features";
import type { ServicingStore } from "./servicing-store";

/** Entries that set a line's limit on a decision or a cut: the periodic review interval counts from the latest. */
const LINE_DECISION_KINDS = new Set(["LineGranted", "LimitIncreased", "LimitCut"]);
const SYSTEM_KEY = "system:servicing";

export interface LimitReviewOutcome {
  accountId: string;
  product: ProductName;
  outcome: string;
  operationId: string | null;
}

export interface LimitReviewDeps {
  store: Store;
  servicingStore: ServicingStore;
  lineChanges: LineChanges;
  operations: Operations;
  logger: Logger;
  reviewIntervalDays: number;
  /** The timestamp of a block. */
  blockTime(blockNumber: number): Promise<bigint>;
}

export class LimitReviews {
  constructor(private readonly deps: LimitReviewDeps) {}

  /** Reviews every line whose interval has passed at `now` (business time). */
  async reviewDue(now: bigint): Promise<LimitReviewOutcome[]> {
    const { store, servicingStore: ss, lineChanges, operations, logger } = this.deps;
    const out: LimitReviewOutcome[] = [];
    if (this.deps.reviewIntervalDays <= 0) return out;
    const interval = BigInt(this.deps.reviewIntervalDays) * DAY;
    for (const accountId of await ss.accountIds()) {
      const lines = await store.linesOf(accountId);
      if (lines.length === 0) continue;
      const entries = await store.entriesOf(accountId);
      if (entries.length === 0) continue;
      const openedAt = await this.deps.blockTime(entries[0].blockNumber);
      for (const { productId, line } of lines) {
        const product = productNameOf(productId);
        if (!product || !line.granted) continue;
        // The interval counts from the line's latest decision (grant, raise, cut) or review, whichever is later.
        const since = later(await ss.lastReview(accountId, productId), await this.lineDecidedAt(entries, productId)) ?? openedAt;
        if (now - since < interval) continue;
        const features = reviewFeatures({
          loans: replayLoans(entries).filter((l) => l.productId === productId),
          now,
          openedAt,
          line: { limit: line.limit, used: line.used },
          carried: await ss.latestDecisionFeatures(accountId, productId),
        });
        let prepared: Prepared<LimitReviewContext>;
        try {
          prepared = await lineChanges.prepareLimitReview(accountId, { product, features });
        } catch (error) {
          logger.warn({ err: error, account: accountId, product }, "limit review skipped: the ledger or the scorer refused it, or could not be reached; it comes up again next round");
          continue;
        }
        const context = isImmediate(prepared) ? prepared.immediate : prepared.context;
        let operationId: string | null = null;
        if (!isImmediate(prepared)) {
          const accepted = await operations.accept(prepared, {
            owner: SYSTEM_KEY,
            key: `limit-review:${accountId}:${productId}:${now}`,
            fingerprint: "limit-review",
          });
          operationId = accepted.operationId ?? null;
        }
        await ss.recordReview({
          accountId,
          productId,
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

  /** Records a review made on request (POST /v1/accounts/{id}/limit-reviews) at `now`, as the periodic ones are. */
  async recordRequested(context: LimitReviewContext, features: Record<string, number | undefined>, operationId: string | undefined, now: bigint): Promise<void> {
    await this.deps.servicingStore.recordReview({
      accountId: context.accountId,
      productId: PRODUCT_IDS[context.product],
      reviewedAt: now,
      outcome: context.outcome,
      score: context.score,
      features,
      operationId,
      reasonCode: context.cutReasonCode ?? undefined,
    });
  }

  /** The block time of the line's latest grant, raise or cut (undefined when the read model has none). */
  private async lineDecidedAt(entries: readonly LedgerEntry[], productId: number): Promise<bigint | undefined> {
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i];
      if (!LINE_DECISION_KINDS.has(e.name)) continue;
      const fields = e.name === "LimitCut" ? e.args : e.args.decision === undefined ? undefined : structField(e.args, "decision");
      if (fields?.productId === undefined || numField(fields, "productId") !== productId) continue;
      return this.deps.blockTime(e.blockNumber);
    }
    return undefined;
  }
}

/** The later of two optional times. */
function later(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}
