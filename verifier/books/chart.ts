/**
 * The chart of accounts of the auditor's books, after Apache Fineract's loan accounting
 * (its "loan portfolio", "interest/fees/penalties receivable", "income from interest/fees/
 * penalties", "fund source", "overpayment liability", "losses written off" and "income from
 * recovery repayments" mappings). The fund source is the settlement clearing account: money
 * paid out to merchants (purchases) and borrowers (cash loans) is credited to it, money
 * received (repayments, merchant refunds) debited. Each product has its own portfolio account.
 * Pure: docs/ACCOUNTING.md shows the chart and the mapping of entries onto it.
 */

export type AccountType = "asset" | "liability" | "income" | "expense";

export interface ChartAccount {
  /** The account's code: `1100-<productId>` for a product's portfolio, a fixed code otherwise. */
  code: string;
  name: string;
  type: AccountType;
  /** The product of a portfolio account. */
  productId?: number;
}

/** The fixed accounts (the portfolio accounts are per product: `portfolioAccount`). */
export const ACCOUNTS = {
  clearing: { code: "1000", name: "Settlement clearing", type: "asset" },
  interestReceivable: { code: "1200", name: "Interest receivable", type: "asset" },
  feeReceivable: { code: "1210", name: "Fee receivable", type: "asset" },
  penaltyReceivable: { code: "1220", name: "Penalty receivable", type: "asset" },
  overpayment: { code: "2100", name: "Overpayment liability", type: "liability" },
  interestIncome: { code: "4000", name: "Interest income", type: "income" },
  feeIncome: { code: "4010", name: "Fee income", type: "income" },
  penaltyIncome: { code: "4020", name: "Penalty income", type: "income" },
  recoveries: { code: "4100", name: "Recoveries of written-off loans", type: "income" },
  writeOffLoss: { code: "5000", name: "Loss on write-off", type: "expense" },
} as const satisfies Record<string, ChartAccount>;

export const PORTFOLIO_PREFIX = "1100";

/** A product's loan portfolio account (outstanding principal of its active loans). */
export function portfolioAccount(productId: number): ChartAccount {
  return { code: `${PORTFOLIO_PREFIX}-${productId}`, name: `Loan portfolio, product ${productId}`, type: "asset", productId };
}

/** Debit-normal accounts (assets, expenses) show debit minus credit; the others credit minus debit. */
export const debitNormal = (a: ChartAccount): boolean => a.type === "asset" || a.type === "expense";

/** The chart for the products a journal names: the fixed accounts and one portfolio account per product, in code order. */
export function chartOf(productIds: Iterable<number>): ChartAccount[] {
  const portfolios = [...new Set(productIds)].sort((x, y) => x - y).map(portfolioAccount);
  return [...Object.values(ACCOUNTS), ...portfolios].sort((x, y) => (x.code < y.code ? -1 : x.code > y.code ? 1 : 0));
}
