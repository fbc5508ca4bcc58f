/**
 * The lending routes: apply, quote, purchase, refund, draw a cash loan, repay, restructure,
 * write off.
 * Each POST runs through the idempotent pipeline (mutations.ts): the lending service prepares
 * the operation (server/lending/), the drawdowns pass the velocity guard, and the service's
 * presenter builds the answer, encoded through the route's response schema.
 */
import type { ApplicationContext } from "../lending/applications";
import type { DrawContext } from "../lending/drawdowns";
import { LOAN_FIELD, type LoanAmountContext, type RestructureContext, type WriteOffContext } from "../lending/loan-changes";
import * as C from "../schemas/common";
import * as S from "../schemas/lending";
import type { GuardedDrawdown } from "../servicing/velocity-guard";
import { mutationAnswer, type MutationGuard } from "./mutations";
import type { ProblemSlug } from "./problems";
import { ADMIN, defineRoute, LEDGER_POST_PROBLEMS, PARTNER, SCORER_PROBLEMS, viewerOf, written, type RouteDef, type RouteDeps } from "./route-table";

/** What a drawdown can answer besides its own: the ledger's limits, a frozen line, a pause, a velocity hold. */
const DRAWDOWN_PROBLEMS: ProblemSlug[] = [
  ...LEDGER_POST_PROBLEMS,
  "ledger/limit-exceeded",
  "ledger/exposure-cap-exceeded",
  "ledger/line-is-frozen",
  "ledger/periods-not-allowed",
  "ledger/no-line",
  "ledger-paused",
  "velocity-hold",
  "product-not-allowed",
  // The account is unknown, or (the same answer) not linked to the partner.
  "ledger/unknown-account",
];

/**
 * What a write on a named loan can answer about the loan: not there (in the read model, or on
 * the ledger: a partner's loan of another partner answers as the ledger's unknown loan), or
 * drawn but not confirmed yet.
 */
const LOAN_PROBLEMS: ProblemSlug[] = ["loan-not-found", "loan-pending", "ledger/unknown-account", "ledger/unknown-loan"];

export function lendingRoutes(deps: RouteDeps): RouteDef[] {
  const ApplicationRequest = S.applicationRequest(deps.model);
  /** Drawdowns pass the velocity guard, one per account at a time. */
  const velocity = (accountId: string): MutationGuard<DrawContext> => ({
    section: (work) => deps.velocity.section(accountId, work),
    screen: (prepared, partnerId) => deps.velocity.screen(prepared as GuardedDrawdown, partnerId),
  });

  return [
    defineRoute({
      method: "post",
      path: "/v1/applications",
      operationId: "apply",
      tag: "Applications",
      summary: "Apply for a product",
      description:
        "The scorer process decides: it takes the identity tier only from the KYC evidence (`evidence`: an attestation by this " +
        "partner's KYC verifier about the subject keccak256(\"CreditLedger KYC subject v1:\" + national id); none: tier 0), scores " +
        "with the versioned scorecard (income without level-2 evidence counts as partner-reported and caps the limit a tier lower), " +
        "applies its caps and budget, and signs only the decision it computed. The decision is recorded on-chain: " +
        "a line grant when approved, the signed decline otherwise. Opens the account (a random id; the person stays in the vault) " +
        "if the identity is new; the same identity applying for its second product gets the same account.",
      scopes: PARTNER,
      query: C.WaitQuery,
      body: ApplicationRequest,
      responses: written(201, S.ApplicationResponse, "The decision (approved or declined) is recorded"),
      problems: [...LEDGER_POST_PROBLEMS, ...SCORER_PROBLEMS, "ledger/line-exists", "ledger-paused", "product-not-allowed"],
      handle: (ctx) =>
        mutationAnswer<ApplicationContext>(deps, ctx, {
          prepare: () => deps.applications.prepare(ctx.body, viewerOf(ctx)),
          present: (c, op) => deps.applications.present(c, op!),
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
      problems: [...LEDGER_POST_PROBLEMS, "ledger/periods-not-allowed", "ledger/no-line", "product-not-allowed"],
      handle: (ctx) =>
        mutationAnswer(deps, ctx, {
          prepare: async () => ({ immediate: await deps.drawdowns.quote(ctx.body, viewerOf(ctx)) }),
          present: (c) => c,
          schema: S.QuoteResponse,
          successStatus: 200,
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/purchases",
      operationId: "purchase",
      tag: "Purchases",
      summary: "A pay-later purchase, optionally in installments",
      scopes: PARTNER,
      query: C.WaitQuery,
      body: S.PurchaseRequest,
      responses: written(201, S.DrawResponse, "The purchase is drawn"),
      problems: DRAWDOWN_PROBLEMS,
      handle: (ctx) =>
        mutationAnswer<DrawContext>(deps, ctx, {
          prepare: () => deps.drawdowns.preparePurchase(ctx.body, viewerOf(ctx)),
          present: (c, op) => deps.drawdowns.presentDraw(c, op!),
          schema: S.DrawResponse,
          successStatus: 201,
          fieldAliases: { periods: "installments" },
          guard: velocity(ctx.body.accountId),
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/purchases/{loanId}/refunds",
      operationId: "refund",
      tag: "Purchases",
      summary: "A merchant refund against a purchase",
      scopes: PARTNER,
      params: C.LoanParams,
      query: C.WaitQuery,
      body: S.RefundRequest,
      responses: written(200, S.RefundResponse, "The refund is recorded"),
      problems: [
        ...LEDGER_POST_PROBLEMS,
        ...LOAN_PROBLEMS,
        "ledger/refund-exceeds-outstanding",
        "ledger/not-a-purchase",
        "ledger/loan-not-active",
      ],
      handle: (ctx) =>
        mutationAnswer<LoanAmountContext>(deps, ctx, {
          prepare: () => deps.loanChanges.prepareRefund(ctx.params.loanId, ctx.body.amount, viewerOf(ctx)),
          present: (c, op) => deps.loanChanges.presentRefund(c, op!),
          schema: S.RefundResponse,
          successStatus: 200,
          fieldAliases: LOAN_FIELD,
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/loans",
      operationId: "drawCashLoan",
      tag: "Loans",
      summary: "Draw a cash loan",
      scopes: PARTNER,
      query: C.WaitQuery,
      body: S.CashLoanRequest,
      responses: written(201, S.DrawResponse, "The loan is drawn"),
      problems: [...DRAWDOWN_PROBLEMS, "ledger/cost-ceiling-exceeded"],
      handle: (ctx) =>
        mutationAnswer<DrawContext>(deps, ctx, {
          prepare: () => deps.drawdowns.prepareCashLoan(ctx.body, viewerOf(ctx)),
          present: (c, op) => deps.drawdowns.presentDraw(c, op!),
          schema: S.DrawResponse,
          successStatus: 201,
          guard: velocity(ctx.body.accountId),
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
      query: C.WaitQuery,
      body: S.RepaymentRequest,
      responses: written(200, S.RepaymentResponse, "The repayment is recorded"),
      problems: [...LEDGER_POST_PROBLEMS, ...LOAN_PROBLEMS, "ledger/repayment-exceeds-payoff", "ledger/loan-not-active"],
      handle: (ctx) =>
        mutationAnswer<LoanAmountContext>(deps, ctx, {
          prepare: () => deps.loanChanges.prepareRepayment(ctx.body.loanId, ctx.body.amount, viewerOf(ctx)),
          present: (c, op) => deps.loanChanges.presentRepayment(c, op!),
          schema: S.RepaymentResponse,
          successStatus: 200,
          fieldAliases: LOAN_FIELD,
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/loans/{loanId}/restructure",
      operationId: "restructure",
      tag: "Loans",
      summary: "Hardship restructure of a loan",
      description:
        "Spreads what is left over new periods (never shortening the schedule), optionally after a payment holiday and at a lower rate, on the scorer's decision for exactly these terms (asked when the request is accepted, signed just before sending). A new recorded fact, never an edit of the past.",
      scopes: ADMIN,
      params: C.LoanParams,
      query: C.WaitQuery,
      body: S.RestructureRequest,
      responses: written(200, S.RestructureResponse, "The restructure is recorded"),
      problems: [
        ...LEDGER_POST_PROBLEMS,
        ...LOAN_PROBLEMS,
        "ledger/invalid-restructure",
        "ledger/loan-not-active",
        "ledger/restructure-limit-reached",
        "ledger/holiday-days-exceeded",
        "ledger/cost-ceiling-exceeded",
        "scorer-refused",
        "scorer-unavailable",
      ],
      handle: (ctx) =>
        mutationAnswer<RestructureContext>(deps, ctx, {
          prepare: () => deps.loanChanges.prepareRestructure(ctx.params.loanId, ctx.body),
          present: (c, op) => deps.loanChanges.presentRestructure(c, op!),
          schema: S.RestructureResponse,
          successStatus: 200,
          fieldAliases: { ...LOAN_FIELD, newPeriods: "periods", newRatePpmPerDay: "dailyRatePpm" },
        }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/loans/{loanId}/write-off",
      operationId: "writeOff",
      tag: "Loans",
      summary: "Write a loan off once it is past its product's write-off threshold of days past due",
      description:
        "A collections decision (admin scope): the ledger accepts it only once the loan is at least its product's `writeOffDays` past due " +
        "(`ledger/write-off-too-early` names how many days it is). What is owed stays owed: principal keeps counting against the line and the " +
        "exposure cap until recovered, and later repayments are recoveries. The loan's line is frozen with reason code 65535, which only " +
        "`POST /v1/accounts/{accountId}/reinstate` lifts. Send an empty JSON object as the body.",
      scopes: ADMIN,
      params: C.LoanParams,
      query: C.WaitQuery,
      body: S.WriteOffRequest,
      responses: written(200, S.WriteOffResponse, "The write-off is recorded"),
      problems: [...LEDGER_POST_PROBLEMS, ...LOAN_PROBLEMS, "ledger/write-off-too-early", "ledger/loan-not-active"],
      handle: (ctx) =>
        mutationAnswer<WriteOffContext>(deps, ctx, {
          prepare: () => deps.loanChanges.prepareWriteOff(ctx.params.loanId),
          present: (c, op) => deps.loanChanges.presentWriteOff(c, op!),
          schema: S.WriteOffResponse,
          successStatus: 200,
          fieldAliases: LOAN_FIELD,
        }),
    }),
  ];
}
