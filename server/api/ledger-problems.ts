/**
 * The ledger's refusals as problem documents: each custom error of ICreditLedger (and the
 * OpenZeppelin errors the ledger can raise) gets a status, the input it blames and a detail
 * built from its values. The type is `/problems/ledger/<rule>` (`LimitExceeded` ->
 * `/problems/ledger/limit-exceeded`), and the problem carries `rule` and `values` (the error's
 * arguments, amounts as decimal strings), e.g. a 422 naming the requested and available fen.
 */
import { jsonValue } from "../../core/json";
import { productNameOf } from "../../core/names";
import type { LedgerRevert } from "../chain/ledger-errors";
import { ApiError, PROBLEM_TYPES } from "./problems";

interface RuleMapping {
  status: number;
  title: string;
  /** The request field the rule is about (in the API's words). */
  field?: string;
  detail?: (v: Record<string, string>) => string;
}

const RULES: Record<string, RuleMapping> = {
  SeqMismatch: {
    status: 409,
    title: "The account changed while the request was processed",
    detail: (v) => `expected the account at seq ${v.expected}, it is at ${v.actual}; retry the request`,
  },
  AccountExists: { status: 409, title: "The account exists already" },
  // Only the sender builds batches; a nested one is its bug, never a partner's.
  NestedBatch: { status: 500, title: "The gateway sent a batch inside a batch" },
  UnknownAccount: { status: 404, title: "No such account on the ledger", field: "accountId" },
  InvalidAccountId: { status: 400, title: "The account id is zero", field: "accountId" },
  UnknownProduct: { status: 422, title: "The product is unknown or inactive", field: "product" },
  UnknownTier: { status: 422, title: "The identity tier has no policy", field: "identity.verification" },
  TierCapExceeded: {
    status: 422,
    title: "The identity tier's cap is exceeded",
    detail: (v) => `tier ${v.tier} allows at most ${v.cap} fen; ${v.requested} fen was asked`,
  },
  NotScorer: { status: 500, title: "The scorer key does not hold the scorer role" },
  InvalidDecisionSignature: { status: 500, title: "The decision signature does not verify" },
  DecisionExpired: { status: 409, title: "The signed decision expired before it was recorded; apply again" },
  DecisionNonceMismatch: { status: 409, title: "Another decision was recorded for the account first; retry" },
  DecisionOutcomeMismatch: { status: 500, title: "The decision's outcome does not fit the call" },
  // A decision the scorer signed that the ledger binds differently: the scorer's or the gateway's fault, not the partner's.
  DecisionPurposeMismatch: { status: 500, title: "The decision authorises another kind of operation" },
  DecisionSubjectMismatch: { status: 500, title: "The decision authorises other terms than this call's" },
  DecisionScorerMismatch: { status: 500, title: "The decision names another scorer than the one it was sent with" },
  DecisionIssuedInFuture: { status: 409, title: "The decision was issued after the ledger's clock; retry" },
  DecisionLifetimeTooLong: { status: 500, title: "The decision's deadline is beyond the ledger's maximum decision lifetime" },
  DecisionRequired: {
    status: 409,
    title: "A line frozen by a write-off is reinstated only on a scorer's decision",
    field: "product",
    detail: (v) =>
      `the ${productNameOf(Number(v.productId)) ?? `product ${v.productId}`} line was frozen by a write-off (reason ${v.freezeReason}); ` +
      `unfreeze cannot lift that freeze: reinstate it with POST /v1/accounts/${v.account}/reinstate, which asks the scorer for a Reinstate decision`,
  },
  LineExists: { status: 409, title: "The account already holds a line of this product", field: "product" },
  NoLine: { status: 422, title: "The account holds no line of this product", field: "product" },
  LimitNotIncreased: { status: 422, title: "The new limit does not exceed the limit in force" },
  LimitNotCut: { status: 422, title: "The new limit is not below the limit in force" },
  InvalidExpiry: { status: 422, title: "The temporary limit's expiry is not in the future" },
  LimitExceeded: {
    status: 422,
    title: "The amount exceeds what the line's limit leaves available",
    field: "amount",
    detail: (v) => `${v.requested} fen requested, ${v.available} fen available on the line`,
  },
  ExposureCapExceeded: {
    status: 422,
    title: "The amount exceeds what the account's exposure cap leaves available",
    field: "amount",
    detail: (v) => `${v.requested} fen requested, ${v.available} fen available under the exposure cap`,
  },
  LineIsFrozen: {
    status: 422,
    title: "The line is frozen: no drawdowns until it is unfrozen",
    detail: (v) => `the line is frozen (reason code ${v.reasonCode})`,
  },
  FreezeStateUnchanged: {
    status: 409,
    title: "The line is already in that freeze state",
    detail: (v) => (v.frozen === "true" ? "the line is already frozen" : "the line is not frozen"),
  },
  RateAboveMaximum: {
    status: 422,
    title: "The daily rate is above the ledger's maximum",
    detail: (v) => `${v.ratePpmPerDay} ppm/day asked, at most ${v.maxRatePpmPerDay} ppm/day allowed`,
  },
  InvalidAmount: { status: 422, title: "The amount is zero or too large", field: "amount" },
  PeriodsNotAllowed: {
    status: 422,
    title: "The product does not allow this number of periods",
    field: "periods",
    detail: (v) => `product ${v.productId} does not allow ${v.periods} periods`,
  },
  WrongProductKind: { status: 422, title: "The call needs a product of another kind", field: "product" },
  InvalidMethod: { status: 422, title: "The repayment method does not fit the product", field: "method" },
  CostCeilingExceeded: {
    status: 422,
    title: "The terms cost more than the product's annual cost ceiling allows",
    detail: (v) =>
      `the present value of the payments at the ${v.ceilingPpmPerYear} ppm/year ceiling is ${v.presentValue} fen, above the principal ${v.principal} fen`,
  },
  UnknownLoan: { status: 404, title: "No such loan on the ledger", field: "loanId" },
  LoanNotActive: { status: 409, title: "The loan is not active (closed or written off)", field: "loanId" },
  RepaymentExceedsPayoff: {
    status: 422,
    title: "The repayment is more than what closes the loan",
    field: "amount",
    detail: (v) => `${v.amount} fen offered, ${v.payoff} fen closes the loan`,
  },
  RefundExceedsOutstanding: {
    status: 422,
    title: "The refund is more than the purchase's outstanding principal",
    field: "amount",
    detail: (v) => `${v.amount} fen refunded, ${v.outstanding} fen outstanding`,
  },
  NotAPurchase: { status: 422, title: "Refunds apply to pay-later purchases only", field: "loanId" },
  InvalidRestructure: {
    status: 422,
    title: "A restructure may only extend the term, pause payments or cut the rate",
    detail: (v) => `${v.field} = ${v.value} is not allowed`,
  },
  RestructureLimitReached: {
    status: 409,
    title: "The loan has had the most restructures a loan may have",
    field: "loanId",
    detail: (v) => `loan ${v.loanNo} has had ${v.restructures} restructures, at most ${v.maxRestructures} allowed`,
  },
  HolidayDaysExceeded: {
    status: 422,
    title: "The payment holiday is more than the loan's restructures may still grant",
    field: "holidayDays",
    detail: (v) => `${v.requested} holiday days asked, ${v.remaining} left for this loan`,
  },
  WriteOffTooEarly: { status: 422, title: "The loan is not past the write-off threshold" },
  TimeBeforeCheckpoint: { status: 422, title: "The time is before the loan's last checkpoint" },
  ValueOverflow: { status: 422, title: "A value does not fit its storage width" },
  EnforcedPause: { status: 503, title: "The ledger is paused: no new credit until it resumes" },
  AccessControlUnauthorizedAccount: { status: 500, title: "The operator key does not hold the operator role" },
  NotApplied: { status: 502, title: "The transaction was not applied after repeated attempts" },
};

/** `LimitExceeded` -> `limit-exceeded`; a one-letter word is a word too: `NotAPurchase` -> `not-a-purchase`. */
export const kebab = (name: string): string =>
  name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1-$2")
    .toLowerCase();

/** The values of a custom error with every integer as a decimal string (the JSON edge). */
function stringValues(args: LedgerRevert["args"]): Record<string, string> {
  const entries = Array.isArray(args) ? args.map((v, i) => [String(i), v] as const) : Object.entries(args);
  return Object.fromEntries(
    entries.map(([k, v]) => [
      k,
      typeof v === "object" && v !== null ? JSON.stringify(jsonValue(v)) : String(v),
    ])
  );
}

export interface LedgerProblemOptions {
  /** The request's name for a field the rule blames (e.g. purchases say `installments` for `periods`). */
  fieldAliases?: Record<string, string>;
  /** Extra members (e.g. the failed operation). */
  extensions?: Record<string, unknown>;
}

/** The problem document of a ledger refusal. */
export function ledgerProblem(revert: LedgerRevert, options: LedgerProblemOptions = {}): ApiError {
  const values = stringValues(revert.args);
  const mapping = RULES[revert.name];
  const slug = `ledger/${kebab(revert.name)}` as const;
  const rule = { rule: revert.name, values, ...options.extensions };
  if (!mapping) {
    return new ApiError(slug, `the ledger refused the request with ${revert.name}`, {
      status: 422,
      title: "The ledger refused the request",
      extensions: rule,
    });
  }
  // A rule that names the offending parameter itself (InvalidRestructure("newPeriods", ...)) blames that one.
  const blamed = mapping.field ?? (revert.name === "InvalidRestructure" ? values.field : undefined);
  const field = blamed === undefined ? undefined : options.fieldAliases?.[blamed] ?? blamed;
  const detail = mapping.detail ? mapping.detail(values) : `${mapping.title} (${revert.name})`;
  if (revert.name === "EnforcedPause") return new ApiError("ledger-paused", detail, { extensions: rule });
  if (mapping.status >= 500 && revert.name !== "NotApplied") {
    return new ApiError("gateway-misconfigured", detail, { extensions: { rule: revert.name } });
  }
  return new ApiError(slug, detail, { status: mapping.status, title: mapping.title, field, extensions: rule });
}

/** The rule a `ledger/<rule>` problem type names (its status and title), if this mapping knows it. */
export function ledgerRuleOfSlug(slug: string): { status: number; title: string } | undefined {
  const name = Object.keys(RULES).find((rule) => `ledger/${kebab(rule)}` === slug);
  return name === undefined ? undefined : RULES[name];
}

/**
 * The status a problem type is sent with: the catalog's, or a ledger rule's own. The OpenAPI
 * document declares each route's problems under this status, so the two cannot disagree.
 */
export function problemStatus(slug: string): number {
  const catalog = (PROBLEM_TYPES as Record<string, { status: number }>)[slug];
  if (catalog) return catalog.status;
  if (slug.startsWith("ledger/")) return ledgerRuleOfSlug(slug)?.status ?? 422;
  throw new Error(`unknown problem type ${slug}`);
}

/** The rules this mapping knows (for the API guide). */
export const LEDGER_RULES = Object.keys(RULES);
