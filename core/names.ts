/**
 * The names the API and the reports give the ledger's enums and products. The ledger knows
 * products by id; this system's deployment (deploy/defaults.ts) configures product 1 as the
 * pay-later line and product 2 as the cash-loan line, and the gateway's API names them so.
 */
import { LoanStatus, RepaymentMethod } from "./loan-math";

/** The largest loan number: the ledger numbers an account's loans 1..loanCount in a uint32. */
export const MAX_LOAN_NO = 4_294_967_295;

export type ProductName = "pay_later" | "cash_loan";
export const PRODUCT_NAMES: readonly ProductName[] = ["pay_later", "cash_loan"];

/** Product ids by name, as the deployment configures them. */
export const PRODUCT_IDS: Readonly<Record<ProductName, number>> = { pay_later: 1, cash_loan: 2 };

export const productNameOf = (productId: number): ProductName | undefined => PRODUCT_NAMES.find((name) => PRODUCT_IDS[name] === productId);

export const METHOD_NAME_LIST = ["bullet", "equal_principal", "annuity"] as const;
export type MethodName = (typeof METHOD_NAME_LIST)[number];
export const METHOD_NAMES: Readonly<Record<RepaymentMethod, MethodName>> = {
  [RepaymentMethod.Bullet]: "bullet",
  [RepaymentMethod.EqualPrincipal]: "equal_principal",
  [RepaymentMethod.Annuity]: "annuity",
};

/** The methods a cash loan may take, by name. */
export const CASH_METHOD_NAMES = ["equal_principal", "annuity"] as const;
export type CashMethodName = (typeof CASH_METHOD_NAMES)[number];
export const CASH_METHODS: Readonly<Record<CashMethodName, RepaymentMethod>> = {
  equal_principal: RepaymentMethod.EqualPrincipal,
  annuity: RepaymentMethod.Annuity,
};

export const LOAN_STATUS_NAME_LIST = ["active", "closed", "written_off"] as const;
export type LoanStatusName = (typeof LOAN_STATUS_NAME_LIST)[number];
export const LOAN_STATUS_NAMES: Readonly<Record<LoanStatus, LoanStatusName>> = {
  [LoanStatus.Active]: "active",
  [LoanStatus.Closed]: "closed",
  [LoanStatus.WrittenOff]: "written_off",
};
