/**
 * Changes to a line: freeze and unfreeze (an explicit fact with a reason code), and limit
 * reviews (re-score the line: a raise needs a new scorer-signed decision, a lower score cuts
 * with a reason code, an unchanged limit writes nothing). Each `prepare*` checks against the
 * ledger and returns the operation to accept; each `present*` builds the response body.
 */
import type { z } from "zod";

import { PRODUCT_IDS } from "../../core/names";
import type { LedgerClient } from "../chain/ledger-client";
import { DomainError } from "../errors";
import { randomHex, type Random } from "../randomness";
import { REASON_SCORE_TOO_LOW } from "../scoring/policy";
import type { ScorecardModel } from "../scoring/scorecard";
import { underwrite } from "../scoring/underwriting";
import type { FreezeRequest, FreezeResponse, limitReviewRequest, LimitReviewResponse } from "../schemas/lending";
import type { OperationRecord } from "../store/store";
import { TIER_OF } from "./applications";
import { decisionParts } from "./decisions";
import { summarize, type Prepared, type PreparedOperation } from "./operations";
import { chainRead, type Preflight } from "./preflight";
import { OPERATOR, type Reach, type Viewer } from "./reach";

export type FreezeInput = z.output<typeof FreezeRequest>;
export type LimitReviewInput = z.output<ReturnType<typeof limitReviewRequest>>;

export interface FreezeContext extends FreezeInput {
  accountId: string;
  frozen: boolean;
  /** Set when a velocity rule froze the line (server/servicing/velocity-guard.ts). */
  velocity?: { rule: string; detail: string };
}

/** What a limit review decided (the response body without its operation). */
export type LimitReviewContext = Omit<z.output<typeof LimitReviewResponse>, "operation">;

export class LineChanges {
  constructor(
    private readonly client: LedgerClient,
    private readonly preflight: Preflight,
    private readonly reach: Reach,
    private readonly model: ScorecardModel,
    private readonly random: Random
  ) {}

  async prepareFreeze(accountId: string, input: FreezeInput, frozen: boolean, viewer: Viewer = OPERATOR): Promise<PreparedOperation<FreezeContext>> {
    const call = {
      fn: frozen ? ("freezeLine" as const) : ("unfreezeLine" as const),
      account: accountId,
      productId: PRODUCT_IDS[input.product],
      reasonCode: input.reasonCode,
    };
    await this.preflight.check(call, { viewer });
    return { kind: frozen ? "freeze" : "unfreeze", accountId, calls: [call], context: { accountId, ...input, frozen } };
  }

  presentFreeze(context: FreezeContext, op: OperationRecord): z.output<typeof FreezeResponse> {
    return { accountId: context.accountId, product: context.product, reasonCode: context.reasonCode, frozen: context.frozen, operation: summarize(op) };
  }

  async prepareLimitReview(accountId: string, input: LimitReviewInput, viewer: Viewer = OPERATOR): Promise<Prepared<LimitReviewContext>> {
    const productId = PRODUCT_IDS[input.product];
    const notFound = new DomainError("account-not-found", `no account ${accountId} on the ledger`, { field: "accountId" });
    if (!(await this.reach.account(viewer, accountId))) throw notFound;
    const { account, line, current } = await chainRead(async () => ({
      account: await this.client.accountOf(accountId),
      line: await this.client.lineOf(accountId, productId),
      current: await this.client.effectiveLimit(accountId, productId),
    }));
    if (!account.exists) throw notFound;
    if (!line.granted) {
      throw new DomainError("ledger/no-line", `the account holds no ${input.product} line`, {
        field: "product",
        extensions: { rule: "NoLine", values: { account: accountId, productId: String(productId) } },
      });
    }
    const tier = input.verification !== undefined ? TIER_OF[input.verification] : account.tier;
    const caps = await chainRead(() => this.client.tierPolicyOf(tier));
    const salt = randomHex(this.random, 16);
    const u = underwrite({ model: this.model, features: input.features, tier, caps, product: input.product, salt });
    const newLimit = u.approved ? (u.limit < caps.maxLineLimit ? u.limit : caps.maxLineLimit) : 0n;
    const outcome = newLimit > current ? "increased" : newLimit < current ? "cut" : "unchanged";
    const cutReasonCode = outcome === "cut" ? u.reasonCodes[0] ?? REASON_SCORE_TOO_LOW : null;
    const context: LimitReviewContext = {
      accountId,
      product: input.product,
      outcome,
      previousLimit: current,
      newLimit: outcome === "unchanged" ? current : newLimit,
      dailyRatePpm: outcome === "increased" ? u.ratePpmPerDay : line.ratePpmPerDay,
      score: u.score,
      reasonCodes: u.reasonCodes,
      cutReasonCode,
      modelId: u.modelId,
    };
    if (outcome === "unchanged") return { immediate: context };
    const { draft, record: decisionRecord } = decisionParts(u, accountId, newLimit, input.features, salt);
    if (outcome === "increased") {
      const call = { fn: "increaseLimit" as const, decision: { ...draft, approved: true } };
      await this.preflight.check(call);
      return { kind: "limit_review", accountId, calls: [call], context, decisions: [decisionRecord] };
    }
    const call = { fn: "cutLimit" as const, account: accountId, productId, newLimit, reasonCode: cutReasonCode! };
    await this.preflight.check(call);
    return { kind: "limit_review", accountId, calls: [call], context, decisions: [decisionRecord] };
  }

  presentLimitReview(context: LimitReviewContext, op: OperationRecord | undefined): z.output<typeof LimitReviewResponse> {
    return { ...context, operation: op ? summarize(op) : null };
  }
}
