/**
 * Lending: quotes, pay-later purchases (optionally in installments), merchant refunds, cash
 * loans, repayments and hardship restructures. Each `prepare*` validates against the ledger
 * (pre-flight) and returns the operation to accept; each `present*` builds the response from
 * the request-time facts and, once the step landed, the decoded event (the Drawn loan number
 * and terms, the Repaid allocation, the Refunded fee waived, the Restructured terms).
 */
import type { Plain } from "../chain/chain-values";
import { bigField, numField } from "../chain/chain-values";
import type { LedgerClient } from "../chain/ledger-client";
import type { Clock } from "../clock";
import { nowSeconds } from "../clock";
import { LoanStatus, RepaymentMethod, type Allocation, type LoanTerms } from "../../core/loan-math";
import { ApiError } from "../api/problems";
import { PRODUCT_IDS, type ProductName } from "../scoring/policy";
import { LOAN_STATUS_NAMES, termsFromChain } from "../servicing/loan-view";
import { cashLoanTerms, purchaseTerms, quote, type Quote } from "../servicing/quotes";
import type { OperationRecord, Store } from "../store/store";
import { loanIdOf, resolveLoanId, type LoanKey } from "./loan-ids";
import { landedResult, summarize, type OperationSummary, type PreparedOperation } from "./operations";
import { chainUnavailable, type Preflight } from "./preflight";
import { ProductCatalog, type Product } from "./products";

export type MethodName = "equal_principal" | "annuity";
export const METHODS: Record<MethodName, RepaymentMethod> = {
  equal_principal: RepaymentMethod.EqualPrincipal,
  annuity: RepaymentMethod.Annuity,
};
export const METHOD_NAMES: Record<RepaymentMethod, MethodName | "bullet"> = {
  [RepaymentMethod.Bullet]: "bullet",
  [RepaymentMethod.EqualPrincipal]: "equal_principal",
  [RepaymentMethod.Annuity]: "annuity",
};

export type QuoteInput =
  | { product: "pay_later"; amount: bigint; installments: number; accountId?: string }
  | { product: "cash_loan"; amount: bigint; periods: number; method: MethodName; accountId?: string; dailyRatePpm?: bigint };

export interface PurchaseInput {
  accountId: string;
  amount: bigint;
  installments: number;
  merchantReference?: string;
}

export interface CashLoanInput {
  accountId: string;
  amount: bigint;
  periods: number;
  method: MethodName;
}

export interface DrawContext {
  accountId: string;
  product: ProductName;
  amount: bigint;
  periods: number;
  method: MethodName | "bullet";
  merchantReference?: string;
  /** The quote at acceptance; replaced by the drawn terms once confirmed. */
  quote: Quote;
}

export interface DrawView {
  loanId: string | null;
  accountId: string;
  loanNo: number | null;
  product: ProductName;
  amount: bigint;
  periods: number;
  method: MethodName | "bullet";
  merchantReference?: string;
  quote: Quote;
  operation: OperationSummary;
}

export interface LoanAmountContext {
  accountId: string;
  loanNo: number;
  amount: bigint;
}

export interface RepaymentView {
  loanId: string;
  amount: bigint;
  allocation: Allocation | null;
  loanStatus: "active" | "closed" | "written_off" | null;
  operation: OperationSummary;
}

export interface RefundView {
  loanId: string;
  amount: bigint;
  feeWaived: bigint | null;
  operation: OperationSummary;
}

export interface RestructureInput {
  periods: number;
  holidayDays: number;
  dailyRatePpm?: bigint;
}

export interface RestructureContext extends LoanKey, RestructureInput {
  dailyRatePpm: bigint;
}

export interface RestructureView {
  loanId: string;
  periods: number;
  holidayDays: number;
  dailyRatePpm: bigint;
  schedule: Quote["schedule"] | null;
  operation: OperationSummary;
}

const UINT64_MAX = 2n ** 64n - 1n;

/** A quote whose total does not fit the ledger's 64-bit amounts is for an amount no line can hold: bad input, not a 500. */
function fitsUint64(q: Quote): Quote {
  if (q.totalRepayment > UINT64_MAX) {
    throw new ApiError("validation-failed", "the amount is too large: with fees and interest the total would exceed 64 bits", { field: "amount" });
  }
  return q;
}

export class Lending {
  constructor(
    private readonly client: LedgerClient,
    private readonly store: Store,
    private readonly products: ProductCatalog,
    private readonly preflight: Preflight,
    private readonly clock: Clock
  ) {}

  // ---------------------------------------------------------------- quotes

  async quote(input: QuoteInput): Promise<Quote> {
    const product = await this.product(input.product);
    const now = nowSeconds(this.clock);
    if (input.product === "pay_later") {
      this.requirePeriods(product, input.installments, "installments");
      return fitsUint64(quote(purchaseTerms(product.id, product, input.amount, input.installments, now), product.costCeilingPpmPerYear));
    }
    this.requirePeriods(product, input.periods, "periods");
    let rate = input.dailyRatePpm;
    if (input.accountId !== undefined) {
      const line = await this.chain(() => this.client.lineOf(input.accountId!, product.id));
      if (line.granted !== true)
        throw new ApiError("ledger/no-line", "the account holds no cash-loan line", { status: 422, field: "accountId" });
      rate = line.ratePpmPerDay as bigint;
    }
    if (rate === undefined) {
      throw new ApiError("validation-failed", "a cash-loan quote needs accountId (the line's rate) or dailyRatePpm", {
        field: "dailyRatePpm",
      });
    }
    return fitsUint64(
      quote(cashLoanTerms(product.id, product, input.amount, input.periods, METHODS[input.method], rate, now), product.costCeilingPpmPerYear)
    );
  }

  /** The product's annual cost ceiling (ppm/year). */
  async costCeiling(name: ProductName): Promise<bigint> {
    return (await this.product(name)).costCeilingPpmPerYear;
  }

  // ---------------------------------------------------------------- drawdowns

  async preparePurchase(input: PurchaseInput): Promise<PreparedOperation<DrawContext>> {
    const product = await this.product("pay_later");
    await this.preflight.check(
      { fn: "purchase", account: input.accountId, productId: product.id, amount: input.amount, periods: input.installments },
      { periods: "installments" }
    );
    const terms = purchaseTerms(product.id, product, input.amount, input.installments, nowSeconds(this.clock));
    return {
      kind: "purchase",
      accountId: input.accountId,
      calls: [
        { fn: "purchase", account: input.accountId, productId: product.id, amount: input.amount, periods: input.installments },
      ],
      context: {
        accountId: input.accountId,
        product: "pay_later",
        amount: input.amount,
        periods: input.installments,
        method: input.installments === 1 ? "bullet" : "equal_principal",
        merchantReference: input.merchantReference,
        quote: quote(terms, product.costCeilingPpmPerYear),
      },
    };
  }

  async prepareCashLoan(input: CashLoanInput): Promise<PreparedOperation<DrawContext>> {
    const product = await this.product("cash_loan");
    const call = {
      fn: "drawCash" as const,
      account: input.accountId,
      productId: product.id,
      amount: input.amount,
      periods: input.periods,
      method: METHODS[input.method],
    };
    await this.preflight.check(call);
    const line = await this.chain(() => this.client.lineOf(input.accountId, product.id));
    const terms = cashLoanTerms(
      product.id,
      product,
      input.amount,
      input.periods,
      METHODS[input.method],
      line.ratePpmPerDay as bigint,
      nowSeconds(this.clock)
    );
    return {
      kind: "cash_loan",
      accountId: input.accountId,
      calls: [call],
      context: {
        accountId: input.accountId,
        product: "cash_loan",
        amount: input.amount,
        periods: input.periods,
        method: input.method,
        quote: quote(terms, product.costCeilingPpmPerYear),
      },
    };
  }

  async presentDraw(context: DrawContext, op: OperationRecord): Promise<DrawView> {
    const drawn = landedResult(op, context.product === "pay_later" ? "purchase" : "drawCash");
    let q = context.quote;
    let loanNo: number | null = null;
    if (drawn) {
      loanNo = numField(drawn, "loanNo");
      const terms = termsFromChain(drawn.terms as Record<string, unknown>);
      const product = await this.products.byId(terms.productId);
      q = quote(terms, product.costCeilingPpmPerYear);
    }
    return {
      loanId: loanNo === null ? null : loanIdOf({ accountId: context.accountId, loanNo }),
      accountId: context.accountId,
      loanNo,
      product: context.product,
      amount: context.amount,
      periods: context.periods,
      method: context.method,
      ...(context.merchantReference !== undefined ? { merchantReference: context.merchantReference } : {}),
      quote: q,
      operation: summarize(op),
    };
  }

  // ---------------------------------------------------------------- servicing

  prepareRefund(loanId: string, amount: bigint): Promise<PreparedOperation<LoanAmountContext>> {
    return this.prepareLoanAmount("refund", "refund", loanId, amount);
  }

  presentRefund(context: LoanAmountContext, op: OperationRecord): RefundView {
    const refunded = landedResult(op, "refund");
    return {
      loanId: loanIdOf(context),
      amount: context.amount,
      feeWaived: refunded ? bigField(refunded, "feeWaived") : null,
      operation: summarize(op),
    };
  }

  prepareRepayment(loanId: string, amount: bigint): Promise<PreparedOperation<LoanAmountContext>> {
    return this.prepareLoanAmount("repay", "repayment", loanId, amount);
  }

  /** A refund or a repayment: one ledger call with an amount against one loan, pre-flighted. */
  private async prepareLoanAmount(
    fn: "refund" | "repay",
    kind: "refund" | "repayment",
    loanId: string,
    amount: bigint,
  ): Promise<PreparedOperation<LoanAmountContext>> {
    const key = await resolveLoanId(this.store, loanId);
    const call = { fn, account: key.accountId, loanNo: key.loanNo, amount };
    await this.preflight.check(call);
    return { kind, accountId: key.accountId, calls: [call], context: { ...key, amount } };
  }

  presentRepayment(context: LoanAmountContext, op: OperationRecord): RepaymentView {
    const repaid = landedResult(op, "repay");
    const allocation = repaid?.allocation as Record<string, Plain> | undefined;
    return {
      loanId: loanIdOf(context),
      amount: context.amount,
      allocation: allocation
        ? {
            penalty: bigField(allocation, "penalty"),
            fee: bigField(allocation, "fee"),
            interest: bigField(allocation, "interest"),
            overduePrincipal: bigField(allocation, "overduePrincipal"),
            currentPrincipal: bigField(allocation, "currentPrincipal"),
            prepaidPrincipal: bigField(allocation, "prepaidPrincipal"),
          }
        : null,
      loanStatus: repaid ? LOAN_STATUS_NAMES[numField(repaid, "status") as LoanStatus] : null,
      operation: summarize(op),
    };
  }

  async prepareRestructure(loanId: string, input: RestructureInput): Promise<PreparedOperation<RestructureContext>> {
    const key = await resolveLoanId(this.store, loanId);
    let rate = input.dailyRatePpm;
    if (rate === undefined) {
      const loan = await this.chain(() => this.client.loanOf(key.accountId, key.loanNo)).catch(() => undefined);
      rate = loan ? bigField(loan.terms, "ratePpmPerDay") : 0n;
    }
    const call = {
      fn: "restructure" as const,
      account: key.accountId,
      loanNo: key.loanNo,
      newPeriods: input.periods,
      holidayDays: input.holidayDays,
      newRatePpmPerDay: rate,
    };
    await this.preflight.check(call, { newPeriods: "periods", holidayDays: "holidayDays", newRatePpmPerDay: "dailyRatePpm" });
    return { kind: "restructure", accountId: key.accountId, calls: [call], context: { ...key, ...input, dailyRatePpm: rate } };
  }

  async presentRestructure(context: RestructureContext, op: OperationRecord): Promise<RestructureView> {
    const restructured = landedResult(op, "restructure");
    let schedule: Quote["schedule"] | null = null;
    if (restructured) {
      const terms: LoanTerms = termsFromChain(restructured.newTerms as Record<string, unknown>);
      const product = await this.products.byId(terms.productId);
      schedule = quote(terms, product.costCeilingPpmPerYear).schedule;
    }
    return {
      loanId: loanIdOf(context),
      periods: context.periods,
      holidayDays: context.holidayDays,
      dailyRatePpm: context.dailyRatePpm,
      schedule,
      operation: summarize(op),
    };
  }

  // ---------------------------------------------------------------- helpers

  private async product(name: ProductName): Promise<Product> {
    const product = await this.chain(() => this.products.byId(PRODUCT_IDS[name]));
    if (!product.active)
      throw new ApiError("ledger/unknown-product", `the ${name} product is not active`, { status: 422, field: "product" });
    return product;
  }

  private requirePeriods(product: Product, periods: number, field: string): void {
    if (!ProductCatalog.allows(product, periods) || (product.name === "pay_later" && periods !== 1 && periods % 3 !== 0)) {
      throw new ApiError("ledger/periods-not-allowed", `the ${product.name} product does not allow ${periods} periods`, {
        status: 422,
        field,
        extensions: { rule: "PeriodsNotAllowed", values: { productId: String(product.id), periods: String(periods) } },
      });
    }
  }

  private async chain<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw chainUnavailable(error);
    }
  }
}
