/**
 * Accounts: what the read model shows of an account (lines, limits, outstanding, next due,
 * delinquency), its verified history, a loan's detail, and the account-level changes: freeze
 * and unfreeze of a line, limit reviews (re-score: a raise needs a new signed decision, a
 * lower score cuts with a reason code), and deleting the person from the vault.
 */
import { bigField, numField } from "../chain/chain-values";
import type { DecisionDraft } from "../chain/ledger-calls";
import type { LedgerClient } from "../chain/ledger-client";
import { nowSeconds, type Clock } from "../clock";
import { EntryKind, verifyChain } from "../../core/hash-chain";
import { delinquencyBucket, LoanStatus, type DelinquencyBucket, type LoanPosition, type LoanTerms } from "../../core/loan-math";
import { ApiError } from "../api/problems";
import { randomHex, type Random } from "../randomness";
import { PRODUCT_IDS, REASON_SCORE_TOO_LOW, type ProductName } from "../scoring/policy";
import type { Features, ScorecardModel } from "../scoring/scorecard";
import { reasonCodeSlots, underwrite } from "../scoring/underwriting";
import {
  LOAN_STATUS_NAMES,
  loanPositionAt,
  scheduleView,
  stateFromChain,
  termsFromChain,
  type InstallmentView,
} from "../servicing/loan-view";
import type { LoanSnapshot, OperationRecord, Store } from "../store/store";
import type { Vault } from "../vault/vault";
import { TIER_OF, type Verification } from "./applications";
import { METHOD_NAMES, type MethodName } from "./lending";
import { loanIdOf, resolveLoanId } from "./loan-ids";
import { summarize, type OperationSummary, type Prepared } from "./operations";
import { chainUnavailable, type Preflight } from "./preflight";
import { productNameOf } from "./products";

export interface LineView {
  product: ProductName;
  productId: number;
  limit: bigint;
  /** The limit in force now (a temporary raise while it lasts). */
  effectiveLimit: bigint;
  temporaryLimit: bigint | null;
  temporaryUntil: bigint | null;
  used: bigint;
  available: bigint;
  dailyRatePpm: bigint;
  frozen: boolean;
  freezeReasonCode: number | null;
}

export interface LoanSummaryView {
  loanId: string;
  loanNo: number;
  product: ProductName;
  status: "active" | "closed" | "written_off";
  principal: bigint;
  principalOutstanding: bigint;
  amountDue: bigint;
  payoff: bigint;
  nextDueTime: bigint | null;
  daysPastDue: bigint;
}

export interface AccountView {
  accountId: string;
  tier: number;
  exposureCap: bigint;
  used: bigint;
  seq: bigint;
  head: string;
  lines: LineView[];
  loans: LoanSummaryView[];
  outstanding: { principal: bigint; payoff: bigint };
  nextDue: { time: bigint; amount: bigint } | null;
  delinquency: { daysPastDue: bigint; bucket: DelinquencyBucket };
  asOf: bigint;
  indexedBlock: number;
}

export interface HistoryEntryView {
  seq: bigint;
  kind: string;
  head: string;
  payloadHash: string;
  ref: string;
  txHash: string;
  blockNumber: number;
  logIndex: number;
  fields: Record<string, unknown>;
}

export interface HistoryView {
  accountId: string;
  seq: bigint;
  head: string;
  /** The hash chain rebuilt from the entries ends at the account's seq and head. */
  verified: boolean;
  verification: string;
  entries: HistoryEntryView[];
}

export interface LoanDetailView {
  loanId: string;
  accountId: string;
  loanNo: number;
  product: ProductName;
  status: "active" | "closed" | "written_off";
  terms: {
    principal: bigint;
    startTime: bigint;
    periods: number;
    method: MethodName | "bullet";
    dailyRatePpm: bigint;
    penaltyPpmPerDay: bigint;
    totalFee: bigint;
    firstDueDay: bigint;
  };
  schedule: InstallmentView[];
  paid: { penalty: bigint; fee: bigint; interest: bigint; principal: bigint; total: bigint };
  refunded: bigint;
  position: LoanPosition;
  delinquency: DelinquencyBucket;
  asOf: bigint;
}

export interface FreezeInput {
  product: ProductName;
  reasonCode: number;
}

export interface FreezeContext extends FreezeInput {
  accountId: string;
  frozen: boolean;
}

export interface FreezeView extends FreezeContext {
  operation: OperationSummary;
}

export interface LimitReviewInput {
  product: ProductName;
  features: Features;
  verification?: Verification;
}

export interface LimitReviewContext {
  accountId: string;
  product: ProductName;
  outcome: "increased" | "cut" | "unchanged";
  previousLimit: bigint;
  newLimit: bigint;
  dailyRatePpm: bigint;
  score: number;
  reasonCodes: number[];
  /** The reason code recorded with a cut. */
  cutReasonCode: number | null;
  modelId: string;
}

export interface LimitReviewView extends LimitReviewContext {
  operation: OperationSummary | null;
}

export class Accounts {
  constructor(
    private readonly client: LedgerClient,
    private readonly store: Store,
    private readonly vault: Vault,
    private readonly preflight: Preflight,
    private readonly model: ScorecardModel,
    private readonly random: Random,
    private readonly clock: Clock
  ) {}

  // ---------------------------------------------------------------- reads (the read model)

  async view(accountId: string, at?: bigint): Promise<AccountView> {
    const snapshot = await this.store.accountSnapshot(accountId);
    if (!snapshot) throw new ApiError("account-not-found", `no account ${accountId} on the ledger (yet)`, { field: "accountId" });
    const time = at ?? nowSeconds(this.clock);
    const a = snapshot.account;
    const tier = numField(a, "tier");
    const lines = (await this.store.linesOf(accountId)).map((l): LineView => {
      const line = l.line;
      const limit = bigField(line, "limit");
      const tempLimit = bigField(line, "tempLimit");
      const tempExpiry = bigField(line, "tempExpiry");
      const temporary = time < tempExpiry && tempLimit > limit;
      const effectiveLimit = temporary ? tempLimit : limit;
      const used = bigField(line, "used");
      return {
        product: productNameOf(l.productId) ?? "pay_later",
        productId: l.productId,
        limit,
        effectiveLimit,
        temporaryLimit: temporary ? tempLimit : null,
        temporaryUntil: temporary ? tempExpiry : null,
        used,
        available: effectiveLimit > used ? effectiveLimit - used : 0n,
        dailyRatePpm: bigField(line, "ratePpmPerDay"),
        frozen: line.frozen === true,
        freezeReasonCode: line.frozen === true ? numField(line, "freezeReason") : null,
      };
    });
    const loans = (await this.store.loansOf(accountId)).map((l) => this.loanSummary(l, time));
    const active = loans.filter((l) => l.status === "active");
    const dueTimes = active.flatMap((l) => (l.nextDueTime !== null && l.amountDue > 0n ? [l.nextDueTime] : []));
    const daysPastDue = active.reduce((m, l) => (l.daysPastDue > m ? l.daysPastDue : m), 0n);
    return {
      accountId,
      tier,
      exposureCap: bigField(a, "exposureCap"),
      used: bigField(a, "used"),
      seq: bigField(a, "seq"),
      head: a.head as string,
      lines,
      loans,
      outstanding: {
        principal: active.reduce((s, l) => s + l.principalOutstanding, 0n),
        payoff: active.reduce((s, l) => s + l.payoff, 0n),
      },
      nextDue:
        dueTimes.length === 0
          ? null
          : { time: dueTimes.reduce((m, t) => (t < m ? t : m)), amount: active.reduce((s, l) => s + l.amountDue, 0n) },
      delinquency: { daysPastDue, bucket: delinquencyBucket(daysPastDue) },
      asOf: time,
      indexedBlock: snapshot.block,
    };
  }

  private loanSummary(l: LoanSnapshot, time: bigint): LoanSummaryView {
    const terms = termsFromChain(l.terms);
    const state = stateFromChain(l.state);
    const p = loanPositionAt(terms, state, time);
    return {
      loanId: loanIdOf(l),
      loanNo: l.loanNo,
      product: productNameOf(l.productId) ?? "pay_later",
      status: LOAN_STATUS_NAMES[state.status],
      principal: terms.principal,
      principalOutstanding: p.principalOutstanding,
      amountDue: p.amountDue,
      payoff: p.payoff,
      nextDueTime: p.nextDueTime === 0n ? null : p.nextDueTime,
      daysPastDue: p.daysPastDue,
    };
  }

  async history(accountId: string): Promise<HistoryView> {
    const snapshot = await this.store.accountSnapshot(accountId);
    if (!snapshot) throw new ApiError("account-not-found", `no account ${accountId} on the ledger (yet)`, { field: "accountId" });
    const entries = await this.store.entriesOf(accountId);
    const seq = bigField(snapshot.account, "seq");
    const head = snapshot.account.head as string;
    const check = verifyChain(
      entries.map((e) => ({
        seq: e.seq,
        kind: EntryKind[e.kind as keyof typeof EntryKind],
        payloadHash: e.payloadHash,
        head: e.head,
      })),
      { seq, head }
    );
    return {
      accountId,
      seq,
      head,
      verified: check.ok,
      verification: check.ok ? `chain of ${entries.length} entries ends at seq ${seq} and the account's head` : check.reason,
      entries: entries.map((e) => ({
        seq: e.seq,
        kind: e.kind,
        head: e.head,
        payloadHash: e.payloadHash,
        ref: e.ref,
        txHash: e.txHash,
        blockNumber: e.blockNumber,
        logIndex: e.logIndex,
        fields: e.fields,
      })),
    };
  }

  async loan(loanId: string, at?: bigint): Promise<LoanDetailView> {
    const key = await resolveLoanId(this.store, loanId);
    const snapshot = await this.store.loanSnapshot(key.accountId, key.loanNo);
    if (!snapshot) throw new ApiError("loan-not-found", `no loan ${loanId} on the ledger (yet)`, { field: "loanId" });
    const time = at ?? nowSeconds(this.clock);
    const terms: LoanTerms = termsFromChain(snapshot.terms);
    const state = stateFromChain(snapshot.state);
    const position = loanPositionAt(terms, state, time);
    const paid = { penalty: 0n, fee: 0n, interest: 0n, principal: 0n, total: 0n };
    let refunded = 0n;
    for (const e of await this.store.entriesOf(key.accountId)) {
      if (e.fields.loanNo === undefined || numField(e.fields, "loanNo") !== key.loanNo) continue;
      if (e.kind === "Repaid") {
        const a = e.fields.allocation as Record<string, unknown>;
        paid.penalty += bigField(a, "penalty");
        paid.fee += bigField(a, "fee");
        paid.interest += bigField(a, "interest");
        paid.principal += bigField(a, "overduePrincipal") + bigField(a, "currentPrincipal") + bigField(a, "prepaidPrincipal");
        paid.total += bigField(e.fields, "amount");
      } else if (e.kind === "Refunded") {
        refunded += bigField(e.fields, "amount");
      }
    }
    return {
      loanId: loanIdOf(key),
      accountId: key.accountId,
      loanNo: key.loanNo,
      product: productNameOf(terms.productId) ?? "pay_later",
      status: LOAN_STATUS_NAMES[state.status],
      terms: {
        principal: terms.principal,
        startTime: terms.startTime,
        periods: terms.periods,
        method: METHOD_NAMES[terms.method],
        dailyRatePpm: terms.ratePpmPerDay,
        penaltyPpmPerDay: terms.penaltyPpmPerDay,
        totalFee: terms.totalFee,
        firstDueDay: terms.firstDueDay,
      },
      schedule: scheduleView(terms, state, time),
      paid,
      refunded,
      position,
      delinquency: state.status === LoanStatus.Active ? delinquencyBucket(position.daysPastDue) : "current",
      asOf: time,
    };
  }

  // ---------------------------------------------------------------- changes

  async prepareFreeze(accountId: string, input: FreezeInput, frozen: boolean): Promise<Prepared<FreezeContext>> {
    const call = {
      fn: frozen ? ("freezeLine" as const) : ("unfreezeLine" as const),
      account: accountId,
      productId: PRODUCT_IDS[input.product],
      reasonCode: input.reasonCode,
    };
    await this.preflight.check(call);
    return { kind: frozen ? "freeze" : "unfreeze", accountId, calls: [call], context: { accountId, ...input, frozen } };
  }

  presentFreeze(context: FreezeContext, op: OperationRecord): FreezeView {
    return { ...context, operation: summarize(op) };
  }

  async prepareLimitReview(accountId: string, input: LimitReviewInput): Promise<Prepared<LimitReviewContext>> {
    const productId = PRODUCT_IDS[input.product];
    let account: Record<string, unknown>;
    let line: Record<string, unknown>;
    let current: bigint;
    try {
      account = await this.client.accountOf(accountId);
      line = await this.client.lineOf(accountId, productId);
      current = await this.client.effectiveLimit(accountId, productId);
    } catch (error) {
      throw chainUnavailable(error);
    }
    if (account.exists !== true)
      throw new ApiError("account-not-found", `no account ${accountId} on the ledger`, { field: "accountId" });
    if (line.granted !== true) {
      throw new ApiError("ledger/no-line", `the account holds no ${input.product} line`, {
        status: 422,
        field: "product",
        extensions: { rule: "NoLine", values: { account: accountId, productId: String(productId) } },
      });
    }
    const tier = input.verification !== undefined ? TIER_OF[input.verification] : numField(account, "tier");
    const caps = await this.client.tierPolicyOf(tier).catch((e: unknown) => {
      throw chainUnavailable(e);
    });
    const salt = randomHex(this.random, 16);
    const u = underwrite({ model: this.model, features: input.features, tier, product: input.product, salt });
    const newLimit = u.approved ? (u.limit < caps.maxLineLimit ? u.limit : caps.maxLineLimit) : 0n;
    const outcome = newLimit > current ? "increased" : newLimit < current ? "cut" : "unchanged";
    const cutReasonCode = outcome === "cut" ? u.reasonCodes[0] ?? REASON_SCORE_TOO_LOW : null;
    const context: LimitReviewContext = {
      accountId,
      product: input.product,
      outcome,
      previousLimit: current,
      newLimit: outcome === "unchanged" ? current : newLimit,
      dailyRatePpm: outcome === "increased" ? u.ratePpmPerDay : bigField(line, "ratePpmPerDay"),
      score: u.score,
      reasonCodes: u.reasonCodes,
      cutReasonCode,
      modelId: u.modelId,
    };
    if (outcome === "unchanged") return { immediate: context };
    const decisionRecord = {
      accountId,
      productId,
      approved: u.approved,
      tier,
      score: u.score,
      limit: newLimit,
      ratePpmPerDay: u.ratePpmPerDay,
      reasonCodes: u.reasonCodes,
      modelId: u.modelId,
      features: input.features,
      salt,
      featuresHash: u.featuresHash,
    };
    if (outcome === "increased") {
      const decision: DecisionDraft = {
        account: accountId,
        productId,
        approved: true,
        tier,
        score: u.score,
        limit: newLimit,
        limitExpiry: 0n,
        ratePpmPerDay: u.ratePpmPerDay,
        modelId: u.modelId,
        featuresHash: u.featuresHash,
        reasonCodes: reasonCodeSlots(u.reasonCodes),
      };
      const call = { fn: "increaseLimit" as const, decision };
      await this.preflight.check(call);
      return { kind: "limit_review", accountId, calls: [call], context, decisions: [decisionRecord] };
    }
    const call = { fn: "cutLimit" as const, account: accountId, productId, newLimit, reasonCode: cutReasonCode! };
    await this.preflight.check(call);
    return { kind: "limit_review", accountId, calls: [call], context, decisions: [decisionRecord] };
  }

  presentLimitReview(context: LimitReviewContext, op: OperationRecord | undefined): LimitReviewView {
    return { ...context, operation: op ? summarize(op) : null };
  }

  /** Deletes the person behind the account from the vault. */
  async forget(accountId: string): Promise<void> {
    if (!(await this.vault.forget(accountId))) {
      throw new ApiError("identity-not-found", `the vault holds no person for account ${accountId}`, { field: "accountId" });
    }
  }
}
