/**
 * The partner API, as a table: each route's method, path, scopes, schemas (params, query,
 * body, responses), the problems it documents, and its handler. The Express app mounts this
 * table and the OpenAPI document is generated from it, so what is documented is what runs.
 */
import type { Request } from "express";
import { z } from "zod";

import type { StepFailure } from "../chain/outbox-sender";
import type { ScorecardModel } from "../scoring/scorecard";
import type { Accounts } from "../services/accounts";
import type { Applications, ApplicationContext } from "../services/applications";
import type { DrawContext, DrawView, Lending, LoanAmountContext, RestructureContext } from "../services/lending";
import type { IdempotencyScope, Operations } from "../services/operations";
import type { ApiKeyRecord, OperationRecord, Scope, Store } from "../store/store";
import type { Quote } from "../servicing/quotes";
import { ledgerProblem } from "./ledger-problems";
import { jsonValue } from "../../core/json";
import { runMutation, type MutationSpec } from "./mutations";
import { ApiError, POST_PROBLEMS, type ProblemSlug } from "./problems";
import * as S from "./schemas";
import type { Servicing } from "../servicing/servicing";
import type { WebhookSubscriptions } from "../servicing/webhooks";
import { servicingRoutes } from "./servicing-routes";
import { ExplorerConfigResponse, type ExplorerConfigSource } from "../explorer/explorer-config";

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface HandlerContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  auth: ApiKeyRecord;
  req: Request;
  /** Set on POST routes: the request's idempotency scope and whether to wait for confirmation. */
  idempotency: IdempotencyScope;
  wait: boolean;
}

export interface HandlerResult {
  status: number;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: "get" | "post" | "delete";
  /** OpenAPI-style path: `/v1/loans/{loanId}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  scopes: readonly Scope[];
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  problems: ProblemSlug[];
  handle(ctx: HandlerContext<P, Q, B>): Promise<HandlerResult>;
}

function defineRoute<
  PS extends z.ZodType | undefined = undefined,
  QS extends z.ZodType | undefined = undefined,
  BS extends z.ZodType | undefined = undefined
>(
  def: Omit<RouteDef<Out<PS>, Out<QS>, Out<BS>>, "params" | "query" | "body"> & { params?: PS; query?: QS; body?: BS }
): RouteDef {
  return def as unknown as RouteDef;
}

export interface RouteDeps {
  store: Store;
  operations: Operations;
  applications: Applications;
  lending: Lending;
  accounts: Accounts;
  model: ScorecardModel;
  waitTimeoutMs: number;
  explorer: ExplorerConfigSource;
  servicing: Servicing;
  webhooks: WebhookSubscriptions;
}

const PARTNER: Scope[] = ["partner", "admin"];
const READERS: Scope[] = ["partner", "auditor", "admin"];
const ADMIN: Scope[] = ["admin"];
const AUDITORS: Scope[] = ["auditor", "admin"];

/** A POST that reaches the ledger can also find it unavailable. */
const COMMON_POST_PROBLEMS: ProblemSlug[] = [...POST_PROBLEMS, "ledger-unavailable"];

/** Documented answers of a ledger-writing POST. */
const written = (status: number, schema: z.ZodType, what: string) => ({
  [status]: { description: `${what}: confirmed on-chain (when waiting)`, schema },
  202: { description: "Accepted into the outbox, not yet confirmed: poll the operation", schema },
});

function quoteBody(q: Quote, product: "pay_later" | "cash_loan", ceiling: bigint) {
  return {
    product,
    amount: q.terms.principal,
    periods: q.terms.periods,
    method: (["bullet", "equal_principal", "annuity"] as const)[q.terms.method],
    dailyRatePpm: q.terms.ratePpmPerDay,
    schedule: q.schedule,
    totalFee: q.totalFee,
    totalInterest: q.totalInterest,
    totalCost: q.totalCost,
    totalRepayment: q.totalRepayment,
    aprPpm: q.aprPpm,
    costCeilingPpmPerYear: ceiling,
    withinCostCeiling: q.withinCostCeiling,
  };
}

function drawBody(v: DrawView) {
  return {
    loanId: v.loanId,
    accountId: v.accountId,
    loanNo: v.loanNo,
    product: v.product,
    amount: v.amount,
    periods: v.periods,
    method: v.method,
    ...(v.merchantReference !== undefined ? { merchantReference: v.merchantReference } : {}),
    dailyRatePpm: v.quote.terms.ratePpmPerDay,
    totalFee: v.quote.totalFee,
    totalInterest: v.quote.totalInterest,
    aprPpm: v.quote.aprPpm,
    schedule: v.quote.schedule,
    operation: v.operation,
  };
}

/** An operation as GET /v1/operations/{id} shows it. */
export function operationBody(op: OperationRecord, instance: string) {
  const failure = op.error as StepFailure | undefined;
  return {
    id: op.id,
    kind: op.kind,
    accountId: op.accountId,
    status: op.status,
    createdAt: op.createdAt,
    updatedAt: op.updatedAt,
    steps: op.steps.map((s) => ({
      step: s.step,
      call: s.fn,
      status: s.status,
      ref: s.ref,
      expectedSeq: s.expectedSeq ?? null,
      txHash: s.landed?.txHash ?? null,
      blockNumber: s.landed?.blockNumber ?? null,
      logIndex: s.landed?.logIndex ?? null,
      entrySeq: s.landed?.entrySeq ?? null,
      event: s.landed?.result.event ?? null,
      transactions: s.transactions.map((t) => t.hash),
      attempts: s.attempts,
    })),
    problem: failure ? ledgerProblem(failure.revert).toProblem(instance) : null,
  };
}

export function buildRoutes(deps: RouteDeps): RouteDef[] {
  const { applications, lending, accounts } = deps;
  const ApplicationRequest = S.applicationRequest(deps.model);
  const LimitReviewRequest = S.limitReviewRequest(deps.model);

  /** Runs a POST that writes to the ledger (or answers at once) through the idempotent pipeline. */
  const mutate = async <C>(ctx: HandlerContext<unknown, unknown, unknown>, spec: MutationSpec<C>): Promise<HandlerResult> => {
    const result = await runMutation(
      deps,
      { idempotency: ctx.idempotency, wait: ctx.wait, instance: ctx.req.originalUrl.split("?")[0] },
      spec
    );
    return {
      status: result.status,
      body: result.body,
      contentType: result.status >= 400 ? "application/problem+json" : "application/json",
      headers: result.replayed ? { "Idempotent-Replayed": "true" } : {},
    };
  };

  return [
    // ------------------------------------------------------------ applications and quotes
    defineRoute({
      method: "post",
      path: "/v1/applications",
      operationId: "apply",
      tag: "Applications",
      summary: "Apply for a product",
      description:
        "Scores the applicant with the versioned scorecard, signs the decision with the scorer key and records it on-chain: " +
        "a line grant when approved, the signed decline otherwise. Opens the account (a random id; the person stays in the vault) " +
        "if the identity is new; the same identity applying for its second product gets the same account.",
      scopes: PARTNER,
      query: S.WaitQuery,
      body: ApplicationRequest,
      responses: written(201, S.ApplicationResponse, "The decision (approved or declined) is recorded"),
      problems: [...COMMON_POST_PROBLEMS, "ledger/line-exists", "ledger-paused"],
      handle: (ctx) =>
        mutate<ApplicationContext>(ctx, {
          prepare: () => applications.prepare(ctx.body),
          present: (c, op) => applications.present(c, op!),
          schema: S.ApplicationResponse,
          successStatus: 201,
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/quotes",
      operationId: "quote",
      tag: "Applications",
      summary: "Quote a purchase or cash loan (nothing is drawn)",
      description:
        "The schedule, total cost and APR (IRR-style, as the cost ceiling is tested) of a prospective purchase or loan, paid on time.",
      scopes: PARTNER,
      body: S.QuoteRequest,
      responses: { 200: { description: "The quote", schema: S.QuoteResponse } },
      problems: [...COMMON_POST_PROBLEMS, "ledger/periods-not-allowed", "ledger/no-line"],
      handle: (ctx) =>
        mutate(ctx, {
          prepare: async () => {
            const q = await lending.quote(ctx.body);
            const ceiling = (await lending.costCeiling(ctx.body.product)) ?? 0n;
            return { immediate: quoteBody(q, ctx.body.product, ceiling) };
          },
          present: (c) => c,
          schema: S.QuoteResponse,
          successStatus: 200,
        }),
    }),

    // ------------------------------------------------------------ drawdowns and servicing
    defineRoute({
      method: "post",
      path: "/v1/purchases",
      operationId: "purchase",
      tag: "Purchases",
      summary: "A pay-later purchase, optionally in installments",
      scopes: PARTNER,
      query: S.WaitQuery,
      body: S.PurchaseRequest,
      responses: written(201, S.DrawResponse, "The purchase is drawn"),
      problems: [
        ...COMMON_POST_PROBLEMS,
        "ledger/limit-exceeded",
        "ledger/exposure-cap-exceeded",
        "ledger/line-is-frozen",
        "ledger/periods-not-allowed",
        "ledger/no-line",
        "ledger/unknown-account",
        "ledger-paused",
        "velocity-hold",
      ],
      handle: (ctx) =>
        mutate<DrawContext>(ctx, {
          prepare: async () => deps.servicing.screen(await lending.preparePurchase(ctx.body)),
          present: async (c, op) => drawBody(await lending.presentDraw(c, op!)),
          schema: S.DrawResponse,
          successStatus: 201,
          fieldAliases: { periods: "installments" },
          exclusive: (section) => deps.servicing.drawdownSection(ctx.body.accountId, section),
          finalProblems: ["velocity-hold"],
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/purchases/{loanId}/refunds",
      operationId: "refund",
      tag: "Purchases",
      summary: "A merchant refund against a purchase",
      scopes: PARTNER,
      params: S.LoanParams,
      query: S.WaitQuery,
      body: S.RefundRequest,
      responses: written(200, S.RefundResponse, "The refund is recorded"),
      problems: [
        ...COMMON_POST_PROBLEMS,
        "loan-not-found",
        "loan-pending",
        "ledger/refund-exceeds-outstanding",
        "ledger/not-a-purchase",
        "ledger/loan-not-active",
      ],
      handle: (ctx) =>
        mutate<LoanAmountContext>(ctx, {
          prepare: () => lending.prepareRefund(ctx.params.loanId, ctx.body.amount),
          present: (c, op) => lending.presentRefund(c, op!),
          schema: S.RefundResponse,
          successStatus: 200,
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/loans",
      operationId: "drawCashLoan",
      tag: "Loans",
      summary: "Draw a cash loan",
      scopes: PARTNER,
      query: S.WaitQuery,
      body: S.CashLoanRequest,
      responses: written(201, S.DrawResponse, "The loan is drawn"),
      problems: [
        ...COMMON_POST_PROBLEMS,
        "ledger/limit-exceeded",
        "ledger/exposure-cap-exceeded",
        "ledger/line-is-frozen",
        "ledger/periods-not-allowed",
        "ledger/cost-ceiling-exceeded",
        "ledger/no-line",
        "ledger-paused",
        "velocity-hold",
      ],
      handle: (ctx) =>
        mutate<DrawContext>(ctx, {
          prepare: async () => deps.servicing.screen(await lending.prepareCashLoan(ctx.body)),
          present: async (c, op) => drawBody(await lending.presentDraw(c, op!)),
          schema: S.DrawResponse,
          successStatus: 201,
          exclusive: (section) => deps.servicing.drawdownSection(ctx.body.accountId, section),
          finalProblems: ["velocity-hold"],
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/repayments",
      operationId: "repay",
      tag: "Loans",
      summary: "Repay a loan",
      description:
        "Applied by the ledger to penalty, fees, interest, overdue principal, current principal, then prepayment; the answer gives the allocation by bucket.",
      scopes: PARTNER,
      query: S.WaitQuery,
      body: S.RepaymentRequest,
      responses: written(200, S.RepaymentResponse, "The repayment is recorded"),
      problems: [
        ...COMMON_POST_PROBLEMS,
        "loan-not-found",
        "loan-pending",
        "ledger/repayment-exceeds-payoff",
        "ledger/loan-not-active",
      ],
      handle: (ctx) =>
        mutate<LoanAmountContext>(ctx, {
          prepare: () => lending.prepareRepayment(ctx.body.loanId, ctx.body.amount),
          present: (c, op) => lending.presentRepayment(c, op!),
          schema: S.RepaymentResponse,
          successStatus: 200,
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/loans/{loanId}/restructure",
      operationId: "restructure",
      tag: "Loans",
      summary: "Hardship restructure of a loan",
      description:
        "Spreads what is left over new periods (never shortening the schedule), optionally after a payment holiday and at a lower rate. A new recorded fact, never an edit of the past.",
      scopes: ADMIN,
      params: S.LoanParams,
      query: S.WaitQuery,
      body: S.RestructureRequest,
      responses: written(200, S.RestructureResponse, "The restructure is recorded"),
      problems: [...COMMON_POST_PROBLEMS, "loan-not-found", "ledger/invalid-restructure", "ledger/loan-not-active"],
      handle: (ctx) =>
        mutate<RestructureContext>(ctx, {
          prepare: () => lending.prepareRestructure(ctx.params.loanId, ctx.body),
          present: (c, op) => lending.presentRestructure(c, op!),
          schema: S.RestructureResponse,
          successStatus: 200,
          fieldAliases: { newPeriods: "periods", newRatePpmPerDay: "dailyRatePpm" },
        }),
    }),

    // ------------------------------------------------------------ accounts
    defineRoute({
      method: "get",
      path: "/v1/accounts/{accountId}",
      operationId: "getAccount",
      tag: "Accounts",
      summary: "An account: lines, limits, outstanding, next due, delinquency",
      scopes: READERS,
      params: S.AccountParams,
      query: S.AsOfQuery,
      responses: { 200: { description: "The account", schema: S.AccountResponse } },
      problems: ["unauthorized", "forbidden", "validation-failed", "account-not-found"],
      handle: async (ctx) => ({
        status: 200,
        body: z.encode(S.AccountResponse, await accounts.view(ctx.params.accountId, ctx.query.at)),
      }),
    }),
    defineRoute({
      method: "get",
      path: "/v1/accounts/{accountId}/history",
      operationId: "getAccountHistory",
      tag: "Accounts",
      summary: "Every entry of the account's hash chain, with tx hash and block, verified against the account's head",
      scopes: READERS,
      params: S.AccountParams,
      responses: { 200: { description: "The history", schema: S.HistoryResponse } },
      problems: ["unauthorized", "forbidden", "validation-failed", "account-not-found"],
      handle: async (ctx) => {
        const h = await accounts.history(ctx.params.accountId);
        const body = { ...h, entries: h.entries.map((e) => ({ ...e, fields: jsonValue(e.fields) as Record<string, unknown> })) };
        return { status: 200, body: z.encode(S.HistoryResponse, body) };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/loans/{loanId}",
      operationId: "getLoan",
      tag: "Loans",
      summary: "A loan: terms, schedule, paid, due, days past due",
      scopes: READERS,
      params: S.LoanParams,
      query: S.AsOfQuery,
      responses: { 200: { description: "The loan", schema: S.LoanResponse } },
      problems: ["unauthorized", "forbidden", "validation-failed", "loan-not-found", "loan-pending"],
      handle: async (ctx) => ({
        status: 200,
        body: z.encode(S.LoanResponse, await accounts.loan(ctx.params.loanId, ctx.query.at)),
      }),
    }),
    defineRoute({
      method: "get",
      path: "/v1/operations/{operationId}",
      operationId: "getOperation",
      tag: "Operations",
      summary: "An operation: its outbox steps, transactions and outcome",
      scopes: READERS,
      params: S.OperationParams,
      responses: { 200: { description: "The operation", schema: S.OperationResponse } },
      problems: ["unauthorized", "forbidden", "validation-failed", "operation-not-found"],
      handle: async (ctx) => {
        const op = await deps.operations.get(ctx.params.operationId);
        if (!op) throw new ApiError("operation-not-found", `no operation ${ctx.params.operationId}`, { field: "operationId" });
        return {
          status: 200,
          body: z.encode(S.OperationResponse, operationBody(op, ctx.req.originalUrl.split("?")[0]) as never),
        };
      },
    }),
    defineRoute({
      method: "post",
      path: "/v1/accounts/{accountId}/freeze",
      operationId: "freezeLine",
      tag: "Accounts",
      summary: "Freeze a line: no drawdowns until it is unfrozen (repayments go on)",
      scopes: PARTNER,
      params: S.AccountParams,
      query: S.WaitQuery,
      body: S.FreezeRequest,
      responses: written(200, S.FreezeResponse, "The line is frozen"),
      problems: [...COMMON_POST_PROBLEMS, "ledger/freeze-state-unchanged", "ledger/no-line", "ledger/unknown-account"],
      handle: (ctx) =>
        mutate(ctx, {
          prepare: () => accounts.prepareFreeze(ctx.params.accountId, ctx.body, true),
          present: (c, op) => accounts.presentFreeze(c, op!),
          schema: S.FreezeResponse,
          successStatus: 200,
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/accounts/{accountId}/unfreeze",
      operationId: "unfreezeLine",
      tag: "Accounts",
      summary: "Unfreeze a line",
      scopes: ADMIN,
      params: S.AccountParams,
      query: S.WaitQuery,
      body: S.FreezeRequest,
      responses: written(200, S.FreezeResponse, "The line is unfrozen"),
      problems: [
        ...COMMON_POST_PROBLEMS,
        "ledger/freeze-state-unchanged",
        "ledger/no-line",
        "ledger/unknown-account",
        "ledger-paused",
      ],
      handle: (ctx) =>
        mutate(ctx, {
          prepare: () => accounts.prepareFreeze(ctx.params.accountId, ctx.body, false),
          present: (c, op) => accounts.presentFreeze(c, op!),
          schema: S.FreezeResponse,
          successStatus: 200,
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/accounts/{accountId}/limit-reviews",
      operationId: "reviewLimit",
      tag: "Accounts",
      summary: "Re-score a line: raise (on a new signed decision), cut (with a reason code) or keep its limit",
      scopes: PARTNER,
      params: S.AccountParams,
      query: S.WaitQuery,
      body: LimitReviewRequest,
      responses: {
        ...written(200, S.LimitReviewResponse, "The new limit is recorded (or unchanged: no operation)"),
      },
      problems: [...COMMON_POST_PROBLEMS, "account-not-found", "ledger/no-line", "ledger-paused"],
      handle: (ctx) =>
        mutate(ctx, {
          prepare: () => accounts.prepareLimitReview(ctx.params.accountId, ctx.body),
          present: (c, op) => accounts.presentLimitReview(c, op),
          schema: S.LimitReviewResponse,
          successStatus: 200,
          // Kept like a periodic review: the next periodic one waits a full interval after it.
          afterAccept: (c, operationId) => deps.servicing.recordRequestedReview(c, ctx.body.features, operationId),
        }),
    }),
    defineRoute({
      method: "delete",
      path: "/v1/accounts/{accountId}/identity",
      operationId: "forgetIdentity",
      tag: "Admin",
      summary: "Delete the person behind an account from the vault",
      description: "Removes the vault row (identity key and sealed PII). The on-chain history stays, unlinkable to the person.",
      scopes: ADMIN,
      params: S.AccountParams,
      responses: { 204: { description: "Deleted" } },
      problems: ["unauthorized", "forbidden", "validation-failed", "identity-not-found"],
      handle: async (ctx) => {
        await accounts.forget(ctx.params.accountId);
        return { status: 204 };
      },
    }),

    // ------------------------------------------------------------ explorer
    defineRoute({
      method: "get",
      path: "/v1/explorer/config",
      operationId: "getExplorerConfig",
      tag: "Explorer",
      summary: "What the explorer page (/explorer) needs to read and verify the chain itself",
      description:
        "The RPC URL for the browser, the ledger's address, chain id and deploy block, and this gateway's compiled runtime code " +
        "of the ledger and its library (for the bytecode check). No account data: the page reads that from the chain.",
      scopes: AUDITORS,
      responses: { 200: { description: "The explorer's configuration", schema: ExplorerConfigResponse } },
      problems: ["unauthorized", "forbidden", "validation-failed"],
      handle: async () => ({ status: 200, body: deps.explorer.config() }),
    }),

    // ------------------------------------------------------------ servicing (webhooks, credit report, admin clock and run)
    ...servicingRoutes(deps),
  ];
}

/** Express's form of an OpenAPI path: `{loanId}` -> `:loanId`. */
export const expressPath = (path: string): string => path.replace(/\{([A-Za-z]+)\}/g, ":$1");
