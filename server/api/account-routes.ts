/**
 * The account routes: an account, its verified history, its credit report, a loan, an
 * operation; freezing and unfreezing a line, limit reviews, temporary raises, the exposure cap,
 * and deleting the person behind an account from the vault.
 */
import { z } from "zod";

import type { StepFailure } from "../chain/outbox-sender";
import { nowSeconds } from "../clock";
import { DomainError } from "../errors";
import type { OperationRecord } from "../store/store";
import * as A from "../schemas/accounts";
import * as C from "../schemas/common";
import * as S from "../schemas/lending";
import * as O from "../schemas/operations";
import { CreditReportResponse } from "../schemas/servicing";
import { stepFailureProblem } from "./error-answers";
import { mutationAnswer } from "./mutations";
import { ADMIN, defineRoute, instanceOf, LEDGER_POST_PROBLEMS, PARTNER, READ_PROBLEMS, READERS, SCORER_PROBLEMS, viewerOf, written, type RouteDef, type RouteDeps } from "./route-table";

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
      entrySeq: s.landed?.seq ?? null,
      event: s.landed?.name ?? null,
      transactions: s.transactions.map((t) => t.hash),
      attempts: s.attempts,
    })),
    problem: failure ? stepFailureProblem(failure).toProblem(instance) : null,
  };
}

export function accountRoutes(deps: RouteDeps): RouteDef[] {
  const LimitReviewRequest = S.limitReviewRequest(deps.model);
  const ReinstateRequest = S.reinstateRequest(deps.model);
  const TemporaryRaiseRequest = S.temporaryRaiseRequest(deps.model);
  return [
    defineRoute({
      method: "get",
      path: "/v1/accounts/{accountId}",
      operationId: "getAccount",
      tag: "Accounts",
      summary: "An account: lines, limits, outstanding, next due, delinquency",
      scopes: READERS,
      params: C.AccountParams,
      query: C.AsOfQuery,
      responses: { 200: { description: "The account", schema: A.AccountResponse } },
      problems: [...READ_PROBLEMS, "account-not-found"],
      handle: async (ctx) => ({ status: 200, body: z.encode(A.AccountResponse, await deps.accounts.view(ctx.params.accountId, ctx.query.at, viewerOf(ctx))) }),
    }),
    defineRoute({
      method: "get",
      path: "/v1/accounts/{accountId}/history",
      operationId: "getAccountHistory",
      tag: "Accounts",
      summary: "Every entry of the account's hash chain, with tx hash and block, verified against the account's head",
      scopes: READERS,
      params: C.AccountParams,
      responses: { 200: { description: "The history", schema: A.HistoryResponse } },
      problems: [...READ_PROBLEMS, "account-not-found"],
      handle: async (ctx) => ({ status: 200, body: z.encode(A.HistoryResponse, await deps.accounts.history(ctx.params.accountId, viewerOf(ctx))) }),
    }),
    defineRoute({
      method: "get",
      path: "/v1/loans/{loanId}",
      operationId: "getLoan",
      tag: "Loans",
      summary: "A loan: terms, schedule, paid, due, days past due",
      scopes: READERS,
      params: C.LoanParams,
      query: C.AsOfQuery,
      responses: { 200: { description: "The loan", schema: A.LoanResponse } },
      problems: [...READ_PROBLEMS, "loan-not-found", "loan-pending"],
      handle: async (ctx) => ({ status: 200, body: z.encode(A.LoanResponse, await deps.accounts.loan(ctx.params.loanId, ctx.query.at, viewerOf(ctx))) }),
    }),
    defineRoute({
      method: "get",
      path: "/v1/operations/{operationId}",
      operationId: "getOperation",
      tag: "Operations",
      summary: "An operation: its outbox steps, transactions and outcome",
      scopes: READERS,
      params: C.OperationParams,
      responses: { 200: { description: "The operation", schema: O.OperationResponse } },
      problems: [...READ_PROBLEMS, "operation-not-found"],
      handle: async (ctx) => {
        const op = await deps.operations.get(ctx.params.operationId);
        if (!op || !deps.reach.operation(viewerOf(ctx), op)) throw new DomainError("operation-not-found", `no operation ${ctx.params.operationId}`, { field: "operationId" });
        return { status: 200, body: z.encode(O.OperationResponse, operationBody(op, instanceOf(ctx)) as never) };
      },
    }),
    defineRoute({
      method: "post",
      path: "/v1/accounts/{accountId}/freeze",
      operationId: "freezeLine",
      tag: "Accounts",
      summary: "Freeze a line: no drawdowns until it is unfrozen (repayments go on)",
      scopes: PARTNER,
      params: C.AccountParams,
      query: C.WaitQuery,
      body: S.FreezeRequest,
      responses: written(200, S.FreezeResponse, "The line is frozen"),
      problems: [...LEDGER_POST_PROBLEMS, "ledger/freeze-state-unchanged", "ledger/no-line", "ledger/unknown-account"],
      handle: (ctx) =>
        mutationAnswer(deps, ctx, {
          prepare: () => deps.lineChanges.prepareFreeze(ctx.params.accountId, ctx.body, true, viewerOf(ctx)),
          present: (c, op) => deps.lineChanges.presentFreeze(c, op!),
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
      params: C.AccountParams,
      query: C.WaitQuery,
      body: S.FreezeRequest,
      responses: written(200, S.FreezeResponse, "The line is unfrozen"),
      problems: [...LEDGER_POST_PROBLEMS, "ledger/decision-required", "ledger/freeze-state-unchanged", "ledger/no-line", "ledger/unknown-account", "ledger-paused"],
      handle: (ctx) =>
        mutationAnswer(deps, ctx, {
          prepare: () => deps.lineChanges.prepareFreeze(ctx.params.accountId, ctx.body, false),
          present: (c, op) => deps.lineChanges.presentFreeze(c, op!),
          schema: S.FreezeResponse,
          successStatus: 200,
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/accounts/{accountId}/reinstate",
      operationId: "reinstateLine",
      tag: "Accounts",
      summary: "Reinstate a line a write-off froze, on the scorer's Reinstate decision",
      description:
        "A write-off freezes the line with reason 0xFFFF, and the ledger unfreezes it only on a scorer-signed decision of purpose Reinstate " +
        "(`unfreeze` answers `ledger/decision-required`). The scorer process re-scores the account on `features`; a score that does not " +
        "pass answers outcome `declined` and writes nothing.",
      scopes: ADMIN,
      params: C.AccountParams,
      query: C.WaitQuery,
      body: ReinstateRequest,
      responses: written(200, S.ReinstateResponse, "The line is reinstated (or the scorer declined: no operation)"),
      problems: [...LEDGER_POST_PROBLEMS, ...SCORER_PROBLEMS, "ledger/freeze-state-unchanged", "ledger/no-line", "ledger/unknown-account", "ledger-paused"],
      handle: (ctx) =>
        mutationAnswer(deps, ctx, {
          prepare: () => deps.lineChanges.prepareReinstate(ctx.params.accountId, ctx.body),
          present: (c, op) => deps.lineChanges.presentReinstate(c, op),
          schema: S.ReinstateResponse,
          successStatus: 200,
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/accounts/{accountId}/limit-reviews",
      operationId: "reviewLimit",
      tag: "Accounts",
      summary: "Re-score a line: raise (on a new signed decision), cut (with a reason code) or keep its limit",
      description:
        "The scorer process re-scores the line. The tier comes from new KYC evidence (`evidence`, about the account's person), " +
        "else from the last evidence the scorer accepted for the account while it is unexpired, else 0: never from a word in the request.",
      scopes: PARTNER,
      params: C.AccountParams,
      query: C.WaitQuery,
      body: LimitReviewRequest,
      responses: { ...written(200, S.LimitReviewResponse, "The new limit is recorded (or unchanged: no operation)") },
      problems: [...LEDGER_POST_PROBLEMS, ...SCORER_PROBLEMS, "account-not-found", "ledger/no-line", "ledger-paused"],
      handle: (ctx) =>
        mutationAnswer(deps, ctx, {
          prepare: () => deps.lineChanges.prepareLimitReview(ctx.params.accountId, ctx.body, viewerOf(ctx)),
          present: (c, op) => deps.lineChanges.presentLimitReview(c, op),
          schema: S.LimitReviewResponse,
          successStatus: 200,
          // Kept like a periodic review: the next periodic one waits a full interval after it.
          afterAccept: (c, operationId) => deps.limitReviews.recordRequested(c, ctx.body.features, operationId, nowSeconds(deps.businessClock)),
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/accounts/{accountId}/temporary-raises",
      operationId: "raiseLimitTemporarily",
      tag: "Accounts",
      summary: "Raise a line's limit for a number of days (a festival, a trip), on a new signed decision",
      description:
        "The scorer process re-scores the line as a limit review does (the tier from `evidence`, else the last evidence it accepted for the account, else 0) " +
        "and signs a decision whose limit lapses `days` from now; the ledger keeps it as the line's temporary limit, and its permanent limit applies again " +
        "after the expiry. A decline, or a scored limit not above the limit in force, answers outcome `not_raised` and writes nothing: a temporary raise never cuts.",
      scopes: PARTNER,
      params: C.AccountParams,
      query: C.WaitQuery,
      body: TemporaryRaiseRequest,
      responses: written(200, S.TemporaryRaiseResponse, "The temporary limit is recorded (or not raised: no operation)"),
      problems: [...LEDGER_POST_PROBLEMS, ...SCORER_PROBLEMS, "account-not-found", "ledger/no-line", "ledger/limit-not-increased", "ledger/invalid-expiry", "ledger/tier-cap-exceeded", "ledger-paused"],
      handle: (ctx) =>
        mutationAnswer(deps, ctx, {
          prepare: () => deps.lineChanges.prepareTemporaryRaise(ctx.params.accountId, ctx.body, viewerOf(ctx)),
          present: (c, op) => deps.lineChanges.presentTemporaryRaise(c, op),
          schema: S.TemporaryRaiseResponse,
          successStatus: 200,
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/accounts/{accountId}/exposure-cap",
      operationId: "setExposureCap",
      tag: "Accounts",
      summary: "Change the account's exposure cap: the most it may owe across every line and partner",
      description:
        "At most the tier's cap (`ledger/tier-cap-exceeded`). Raising it is new credit capacity and is refused while the ledger is paused; " +
        "lowering it (even below what the account uses, which then blocks drawdowns until it is repaid) is always accepted.",
      scopes: ADMIN,
      params: C.AccountParams,
      query: C.WaitQuery,
      body: S.ExposureCapRequest,
      responses: written(200, S.ExposureCapResponse, "The new cap is recorded"),
      problems: [...LEDGER_POST_PROBLEMS, "ledger/unknown-account", "ledger/tier-cap-exceeded", "ledger/unknown-tier", "ledger-paused"],
      handle: (ctx) =>
        mutationAnswer(deps, ctx, {
          prepare: () => deps.lineChanges.prepareExposureCap(ctx.params.accountId, ctx.body),
          present: (c, op) => deps.lineChanges.presentExposureCap(c, op!),
          schema: S.ExposureCapResponse,
          successStatus: 200,
          fieldAliases: { newCap: "exposureCap" },
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
      params: C.AccountParams,
      responses: { 204: { description: "Deleted" } },
      problems: [...READ_PROBLEMS, "identity-not-found"],
      handle: async (ctx) => {
        await deps.accounts.forget(ctx.params.accountId);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/accounts/{accountId}/credit-report",
      operationId: "getCreditReport",
      tag: "Accounts",
      summary: "Monthly status of the account, credit-bureau style (N, 1-7, C, D), rebuilt from the ledger",
      scopes: READERS,
      params: C.AccountParams,
      responses: { 200: { description: "The months", schema: CreditReportResponse } },
      problems: [...READ_PROBLEMS, "account-not-found"],
      handle: async (ctx) => ({ status: 200, body: z.encode(CreditReportResponse, await deps.creditReports.of(ctx.params.accountId, viewerOf(ctx))) }),
    }),
  ];
}
