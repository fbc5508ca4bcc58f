/**
 * Changes to a line: freeze and unfreeze (an explicit fact with a reason code), and limit
 * reviews (the scorer process re-scores the line, the tier from new KYC evidence or the one it
 * last attested for the account: a raise needs its signed decision, a lower score cuts with a
 * reason code, an unchanged limit writes nothing). Each `prepare*` checks against the
 * ledger and returns the operation to accept; each `present*` builds the response body.
 */
import type { z } from "zod";

import { PRODUCT_IDS } from "../../core/names";
import type { LedgerClient } from "../chain/ledger-client";
import { DomainError } from "../errors";
import { randomHex, type Random } from "../randomness";
import { REASON_SCORE_TOO_LOW } from "../scoring/policy";
import type { FreezeRequest, FreezeResponse, limitReviewRequest, LimitReviewResponse, reinstateRequest, ReinstateResponse } from "../schemas/lending";
import type { OperationRecord } from "../store/store";
import { normalizeNationalId } from "../vault/identity";
import type { Vault } from "../vault/vault";
import { summarize, type Prepared, type PreparedOperation } from "./operations";
import { chainRead, type Preflight } from "./preflight";
import { OPERATOR, type Reach, type Viewer } from "./reach";
import { decisionRecordOf, reasonCodesOf, type ScorerDecisions } from "./scorer-decisions";

export type FreezeInput = z.output<typeof FreezeRequest>;
export type LimitReviewInput = z.output<ReturnType<typeof limitReviewRequest>>;
export type ReinstateInput = z.output<ReturnType<typeof reinstateRequest>>;

/** What a reinstatement decided (the response body without its operation). */
export type ReinstateContext = Omit<z.output<typeof ReinstateResponse>, "operation">;

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
    private readonly decisions: ScorerDecisions,
    private readonly vault: Vault,
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

  /**
   * Reinstates a line a write-off froze (the ledger refuses to unfreeze it without a decision,
   * `DecisionRequired`): simulated unsigned, then the scorer re-scores the account for a
   * decision of purpose Reinstate; the sender has it signed just before sending. A score that
   * does not pass writes nothing (outcome "declined").
   */
  async prepareReinstate(accountId: string, input: ReinstateInput): Promise<Prepared<ReinstateContext>> {
    const productId = PRODUCT_IDS[input.product];
    const call = { fn: "reinstateLine" as const, account: accountId, productId };
    await this.preflight.check(call);
    const salt = randomHex(this.random, 16);
    const scored = await this.decisions.decideReinstate({ accountId, product: input.product, features: input.features, salt });
    const d = scored.decision;
    const context: ReinstateContext = {
      accountId,
      product: input.product,
      outcome: d.approved ? "reinstated" : "declined",
      score: d.score,
      reasonCodes: reasonCodesOf(d),
      modelId: d.modelId,
    };
    if (!d.approved) return { immediate: context };
    const approved = { ...call, approval: { id: scored.id, draft: d } };
    return { kind: "reinstate", accountId, calls: [approved], context, decisions: [decisionRecordOf(d, input.features, salt)] };
  }

  presentReinstate(context: ReinstateContext, op: OperationRecord | undefined): z.output<typeof ReinstateResponse> {
    return { ...context, operation: op ? summarize(op) : null };
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
    // New evidence is about the person the vault holds for the account (its subject is theirs).
    const person = input.evidence ? await this.vault.reveal(accountId) : undefined;
    const salt = randomHex(this.random, 16);
    const scored = await this.decisions.decide({
      accountId,
      viewer,
      product: input.product,
      features: input.features,
      salt,
      evidence: input.evidence,
      nationalId: person ? normalizeNationalId(person.nationalId) : undefined,
      currentLimit: current,
    });
    const d = scored.decision;
    const reasonCodes = reasonCodesOf(d);
    const newLimit = d.approved ? d.limit : 0n;
    const outcome = newLimit > current ? "increased" : newLimit < current ? "cut" : "unchanged";
    const cutReasonCode = outcome === "cut" ? reasonCodes[0] ?? REASON_SCORE_TOO_LOW : null;
    const context: LimitReviewContext = {
      accountId,
      product: input.product,
      outcome,
      previousLimit: current,
      newLimit: outcome === "unchanged" ? current : newLimit,
      dailyRatePpm: outcome === "increased" ? d.ratePpmPerDay : line.ratePpmPerDay,
      score: d.score,
      reasonCodes,
      cutReasonCode,
      modelId: d.modelId,
    };
    if (outcome === "unchanged") return { immediate: context };
    const decisionRecord = decisionRecordOf(d, input.features, salt);
    if (outcome === "increased") {
      const call = { fn: "increaseLimit" as const, decision: d, scorerDecision: scored.id };
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
