/**
 * Changes to a line and its account: freeze and unfreeze (an explicit fact with a reason
 * code); limit reviews (the scorer process re-scores the line, the tier from new KYC evidence
 * or the one it last attested for the account: a raise needs its signed decision, a lower
 * score cuts with a reason code, an unchanged limit writes nothing); temporary raises (the
 * same re-scoring, a decision whose limit lapses at an expiry; never a cut); and the account's
 * exposure cap. Each `prepare*` checks against the ledger and returns the operation to accept;
 * each `present*` builds the response body.
 */
import type { z } from "zod";

import { bigField } from "../../core/ledger-structs";
import { PRODUCT_IDS } from "../../core/names";
import { principalReasons, reasonText } from "../../core/reasons";
import type { LedgerClient } from "../chain/ledger-client";
import { nowSeconds, type Clock } from "../clock";
import { DomainError } from "../errors";
import { randomHex, type Random } from "../randomness";
import { REASON_SCORE_TOO_LOW } from "../scoring/policy";
import type {
  ExposureCapRequest,
  ExposureCapResponse,
  FreezeRequest,
  FreezeResponse,
  limitReviewRequest,
  LimitReviewResponse,
  reinstateRequest,
  ReinstateResponse,
  temporaryRaiseRequest,
  TemporaryRaiseResponse,
} from "../schemas/lending";
import type { OperationRecord } from "../store/store";
import { normalizeNationalId } from "../vault/identity";
import type { Vault } from "../vault/vault";
import { landedResult, summarize, type Prepared, type PreparedOperation } from "./operations";
import { chainRead, type Preflight } from "./preflight";
import { OPERATOR, type Reach, type Viewer } from "./reach";
import { decisionRecordOf, reasonCodesOf, type ScorerDecisions } from "./scorer-decisions";

export type FreezeInput = z.output<typeof FreezeRequest>;
export type LimitReviewInput = z.output<ReturnType<typeof limitReviewRequest>>;
export type ReinstateInput = z.output<ReturnType<typeof reinstateRequest>>;
export type TemporaryRaiseInput = z.output<ReturnType<typeof temporaryRaiseRequest>>;
export type ExposureCapInput = z.output<typeof ExposureCapRequest>;

/** What a temporary raise decided (the response body without its operation). */
export type TemporaryRaiseContext = Omit<z.output<typeof TemporaryRaiseResponse>, "operation" | "reasons">;

/** An exposure cap change: the cap read when it was accepted, and the new one. */
export interface ExposureCapContext {
  accountId: string;
  previousCap: bigint;
  exposureCap: bigint;
}

const DAY_SECONDS = 86_400n;

/** What a reinstatement decided (the response body without its operation). */
export type ReinstateContext = Omit<z.output<typeof ReinstateResponse>, "operation" | "reasons">;

export interface FreezeContext extends FreezeInput {
  accountId: string;
  frozen: boolean;
  /** Set when a velocity rule froze the line (server/servicing/velocity-guard.ts). */
  velocity?: { rule: string; detail: string };
}

/** What a limit review decided (the response body without its operation). */
export type LimitReviewContext = Omit<z.output<typeof LimitReviewResponse>, "operation" | "reasons">;

export class LineChanges {
  constructor(
    private readonly client: LedgerClient,
    private readonly preflight: Preflight,
    private readonly reach: Reach,
    private readonly decisions: ScorerDecisions,
    private readonly vault: Vault,
    private readonly random: Random,
    /** The business clock: a temporary raise's expiry counts from its now. */
    private readonly clock: Clock
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
    return {
      accountId: context.accountId,
      product: context.product,
      reasonCode: context.reasonCode,
      reason: reasonText(context.reasonCode),
      frozen: context.frozen,
      operation: summarize(op),
    };
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
    return { ...context, reasons: principalReasons(context.reasonCodes), operation: op ? summarize(op) : null };
  }

  async prepareLimitReview(accountId: string, input: LimitReviewInput, viewer: Viewer = OPERATOR): Promise<Prepared<LimitReviewContext>> {
    const productId = PRODUCT_IDS[input.product];
    const { line, current } = await this.grantedLine(accountId, input.product, viewer);
    const { scored, salt } = await this.rescore(accountId, input, viewer, current);
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
    return { ...context, reasons: principalReasons(context.reasonCodes), operation: op ? summarize(op) : null };
  }

  /**
   * A temporary raise: the scorer re-scores the line as a review does, for a decision whose
   * limit lapses `days` from now (the ledger's temporary limit; the permanent one applies again
   * after it). A raise above the limit in force is sent with its signed decision; a decline or a
   * limit not above the one in force writes nothing (outcome "not_raised"): a temporary raise
   * never cuts.
   */
  async prepareTemporaryRaise(accountId: string, input: TemporaryRaiseInput, viewer: Viewer = OPERATOR): Promise<Prepared<TemporaryRaiseContext>> {
    const { line, current } = await this.grantedLine(accountId, input.product, viewer);
    const expiresAt = nowSeconds(this.clock) + BigInt(input.days) * DAY_SECONDS;
    const { scored, salt } = await this.rescore(accountId, input, viewer, current, expiresAt);
    const d = scored.decision;
    const raised = d.approved && d.limit > current;
    const context: TemporaryRaiseContext = {
      accountId,
      product: input.product,
      outcome: raised ? "raised" : "not_raised",
      previousLimit: current,
      temporaryLimit: raised ? d.limit : current,
      expiresAt: raised ? d.limitExpiry : null,
      dailyRatePpm: raised ? d.ratePpmPerDay : line.ratePpmPerDay,
      score: d.score,
      reasonCodes: reasonCodesOf(d),
      modelId: d.modelId,
    };
    if (!raised) return { immediate: context };
    const call = { fn: "increaseLimit" as const, decision: d, scorerDecision: scored.id };
    await this.preflight.check(call, { fieldAliases: { limitExpiry: "days" } });
    return { kind: "temporary_raise", accountId, calls: [call], context, decisions: [decisionRecordOf(d, input.features, salt)] };
  }

  presentTemporaryRaise(context: TemporaryRaiseContext, op: OperationRecord | undefined): z.output<typeof TemporaryRaiseResponse> {
    return { ...context, reasons: principalReasons(context.reasonCodes), operation: op ? summarize(op) : null };
  }

  /** The account's exposure cap across every line and partner (at most its tier's cap: the ledger's `TierCapExceeded`). */
  async prepareExposureCap(accountId: string, input: ExposureCapInput): Promise<PreparedOperation<ExposureCapContext>> {
    const call = { fn: "setExposureCap" as const, account: accountId, newCap: input.exposureCap };
    await this.preflight.check(call, { fieldAliases: { newCap: "exposureCap" } });
    const account = await chainRead(() => this.client.accountOf(accountId));
    return { kind: "exposure_cap", accountId, calls: [call], context: { accountId, previousCap: account.exposureCap, exposureCap: input.exposureCap } };
  }

  presentExposureCap(context: ExposureCapContext, op: OperationRecord): z.output<typeof ExposureCapResponse> {
    // Once confirmed, the cap the entry replaced (another change may have landed in between).
    const changed = landedResult(op, "setExposureCap");
    return {
      accountId: context.accountId,
      previousCap: changed ? bigField(changed, "previousCap") : context.previousCap,
      exposureCap: context.exposureCap,
      operation: summarize(op),
    };
  }

  /** The account's line of `product` and its limit in force; an account the viewer cannot reach is unknown, a line not granted `NoLine`. */
  private async grantedLine(accountId: string, product: LimitReviewInput["product"], viewer: Viewer) {
    const productId = PRODUCT_IDS[product];
    const notFound = new DomainError("account-not-found", `no account ${accountId} on the ledger`, { field: "accountId" });
    if (!(await this.reach.account(viewer, accountId))) throw notFound;
    const { account, line, current } = await chainRead(async () => ({
      account: await this.client.accountOf(accountId),
      line: await this.client.lineOf(accountId, productId),
      current: await this.client.effectiveLimit(accountId, productId),
    }));
    if (!account.exists) throw notFound;
    if (!line.granted) {
      throw new DomainError("ledger/no-line", `the account holds no ${product} line`, {
        field: "product",
        extensions: { rule: "NoLine", values: { account: accountId, productId: String(productId) } },
      });
    }
    return { line, current };
  }

  /** Asks the scorer to re-score a line on new features (and evidence about the account's person, when given). */
  private async rescore(accountId: string, input: LimitReviewInput, viewer: Viewer, currentLimit: bigint, limitExpiry?: bigint) {
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
      currentLimit,
      limitExpiry,
    });
    return { scored, salt };
  }
}
