/**
 * Drawdowns: quotes, pay-later purchases (optionally in installments) and cash loans. The terms
 * are built as the ledger builds them (core/drawdown-terms.ts) and priced with the core
 * (core/pricing.ts): a quote is the schedule, totals and APR of a prospective drawdown; a
 * drawdown is pre-flighted against the ledger and accepted as an operation. Each `present*`
 * builds its response body: the request-time quote, replaced by the drawn terms once the Drawn
 * entry landed.
 */
import type { z } from "zod";

import { cashLoanTerms, periodsAllowed, purchaseTerms } from "../../core/drawdown-terms";
import { numField, structField, termsFromFields } from "../../core/ledger-structs";
import { CASH_METHODS, METHOD_NAMES, PRODUCT_IDS, type ProductName } from "../../core/names";
import { quote, type Quote } from "../../core/pricing";
import type { LedgerClient } from "../chain/ledger-client";
import { nowSeconds, type Clock } from "../clock";
import { DomainError } from "../errors";
import type { CashLoanRequest, DrawResponse, PurchaseRequest, QuoteRequest, QuoteResponse } from "../schemas/lending";
import type { OperationRecord } from "../store/store";
import { loanIdOf } from "./loan-ids";
import { landedResult, summarize, type PreparedOperation } from "./operations";
import { chainRead, type Preflight } from "./preflight";
import type { Product, ProductCatalog } from "./products";
import { OPERATOR, type Reach, type Viewer } from "./reach";

export type QuoteInput = z.output<typeof QuoteRequest>;
export type PurchaseInput = z.output<typeof PurchaseRequest>;
export type CashLoanInput = z.output<typeof CashLoanRequest>;
export type QuoteView = z.output<typeof QuoteResponse>;
export type DrawView = z.output<typeof DrawResponse>;

/** The request-time facts of a drawdown. */
export interface DrawContext {
  accountId: string;
  product: ProductName;
  amount: bigint;
  periods: number;
  method: DrawView["method"];
  merchantReference?: string;
  /** The quote at acceptance; replaced by the drawn terms once confirmed. */
  quote: Quote;
}

const UINT64_MAX = 2n ** 64n - 1n;

/** A quote whose total does not fit the ledger's 64-bit amounts is for an amount no line can hold: bad input. */
function fitsUint64(q: Quote): Quote {
  if (q.totalRepayment > UINT64_MAX) {
    throw new DomainError("validation-failed", "the amount is too large: with fees and interest the total would exceed 64 bits", { field: "amount" });
  }
  return q;
}

export class Drawdowns {
  constructor(
    private readonly client: LedgerClient,
    private readonly products: ProductCatalog,
    private readonly preflight: Preflight,
    private readonly reach: Reach,
    private readonly clock: Clock
  ) {}

  // ---------------------------------------------------------------- quotes

  async quote(input: QuoteInput, viewer: Viewer = OPERATOR): Promise<QuoteView> {
    this.reach.requireProduct(viewer, input.product);
    const product = await this.product(input.product);
    const now = nowSeconds(this.clock);
    if (input.product === "pay_later") {
      this.requirePeriods(product, input.installments, "installments");
      return quoteBody(fitsUint64(quote(purchaseTerms(product.id, product, input.amount, input.installments, now), product.costCeilingPpmPerYear)), input.product, product);
    }
    this.requirePeriods(product, input.periods, "periods");
    let rate = input.dailyRatePpm;
    if (input.accountId !== undefined) {
      // An account the partner may not reach holds no line it can quote, as an unknown one.
      const reachable = await this.reach.account(viewer, input.accountId);
      const line = reachable ? await chainRead(() => this.client.lineOf(input.accountId!, product.id)) : undefined;
      if (!line?.granted) throw new DomainError("ledger/no-line", "the account holds no cash-loan line", { field: "accountId" });
      rate = line.ratePpmPerDay;
    }
    if (rate === undefined) {
      throw new DomainError("validation-failed", "a cash-loan quote needs accountId (the line's rate) or dailyRatePpm", { field: "dailyRatePpm" });
    }
    const terms = cashLoanTerms(product.id, product, input.amount, input.periods, CASH_METHODS[input.method], rate, now);
    return quoteBody(fitsUint64(quote(terms, product.costCeilingPpmPerYear)), input.product, product);
  }

  // ---------------------------------------------------------------- drawdowns

  async preparePurchase(input: PurchaseInput, viewer: Viewer = OPERATOR): Promise<PreparedOperation<DrawContext>> {
    this.reach.requireProduct(viewer, "pay_later");
    const product = await this.product("pay_later");
    const call = { fn: "purchase" as const, account: input.accountId, productId: product.id, amount: input.amount, periods: input.installments };
    await this.preflight.check(call, { fieldAliases: { periods: "installments" }, viewer });
    const terms = purchaseTerms(product.id, product, input.amount, input.installments, nowSeconds(this.clock));
    return {
      kind: "purchase",
      accountId: input.accountId,
      calls: [call],
      context: {
        accountId: input.accountId,
        product: "pay_later",
        amount: input.amount,
        periods: input.installments,
        method: METHOD_NAMES[terms.method],
        merchantReference: input.merchantReference,
        quote: quote(terms, product.costCeilingPpmPerYear),
      },
    };
  }

  async prepareCashLoan(input: CashLoanInput, viewer: Viewer = OPERATOR): Promise<PreparedOperation<DrawContext>> {
    this.reach.requireProduct(viewer, "cash_loan");
    const product = await this.product("cash_loan");
    const method = CASH_METHODS[input.method];
    const call = { fn: "drawCash" as const, account: input.accountId, productId: product.id, amount: input.amount, periods: input.periods, method };
    await this.preflight.check(call, { viewer });
    const line = await chainRead(() => this.client.lineOf(input.accountId, product.id));
    const terms = cashLoanTerms(product.id, product, input.amount, input.periods, method, line.ratePpmPerDay, nowSeconds(this.clock));
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
      const terms = termsFromFields(structField(drawn, "terms"));
      q = quote(terms, (await this.products.byId(terms.productId)).costCeilingPpmPerYear);
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
      dailyRatePpm: q.terms.ratePpmPerDay,
      totalFee: q.totalFee,
      totalInterest: q.totalInterest,
      aprPpm: q.aprPpm,
      schedule: q.schedule,
      operation: summarize(op),
    };
  }

  // ---------------------------------------------------------------- helpers

  private async product(name: ProductName): Promise<Product> {
    const product = await chainRead(() => this.products.byId(PRODUCT_IDS[name]));
    if (!product.active) throw new DomainError("ledger/unknown-product", `the ${name} product is not active`, { field: "product" });
    return product;
  }

  private requirePeriods(product: Product, periods: number, field: string): void {
    if (periodsAllowed(product, periods)) return;
    throw new DomainError("ledger/periods-not-allowed", `the ${product.name} product does not allow ${periods} periods`, {
      field,
      extensions: { rule: "PeriodsNotAllowed", values: { productId: String(product.id), periods: String(periods) } },
    });
  }
}

/** The quote answer: the terms' schedule, totals and APR, and the product's ceiling. */
function quoteBody(q: Quote, product: ProductName, p: Product): QuoteView {
  return {
    product,
    amount: q.terms.principal,
    periods: q.terms.periods,
    method: METHOD_NAMES[q.terms.method],
    dailyRatePpm: q.terms.ratePpmPerDay,
    schedule: q.schedule,
    totalFee: q.totalFee,
    totalInterest: q.totalInterest,
    totalCost: q.totalCost,
    totalRepayment: q.totalRepayment,
    aprPpm: q.aprPpm,
    costCeilingPpmPerYear: p.costCeilingPpmPerYear,
    withinCostCeiling: q.withinCostCeiling,
  };
}
