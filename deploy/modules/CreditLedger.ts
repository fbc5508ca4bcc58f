/**
 * Hardhat Ignition module: deploys the LoanServicing library and the CreditLedger linked to
 * it, grants the roles and applies the default products and tiers of `deploy/defaults.ts`.
 *
 *   npx hardhat ignition deploy deploy/modules/CreditLedger.ts --network <net> \
 *     --parameters deploy/parameters/<net>.json
 *
 * Parameters (module "CreditLedger"): admin, operator, scorer, pauser (addresses; each
 * defaults to the deployer). The deployer must be the admin for the configuration calls; hand
 * DEFAULT_ADMIN_ROLE to a multisig or timelock afterwards.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id, ZeroHash } from "ethers";

import { CASH_LOAN, CASH_LOAN_ID, PAY_LATER, PAY_LATER_ID, TIERS } from "../defaults";

export const ROLES = {
  admin: ZeroHash,
  operator: id("OPERATOR_ROLE"),
  scorer: id("SCORER_ROLE"),
  pauser: id("PAUSER_ROLE"),
} as const;

export default buildModule("CreditLedger", (m) => {
  const deployer = m.getAccount(0);
  const admin = m.getParameter("admin", deployer);
  const operator = m.getParameter("operator", deployer);
  const scorer = m.getParameter("scorer", deployer);
  const pauser = m.getParameter("pauser", deployer);

  const loanServicing = m.library("LoanServicing");
  const ledger = m.contract("CreditLedger", [deployer], { libraries: { LoanServicing: loanServicing } });

  const grantOperator = m.call(ledger, "grantRole", [ROLES.operator, operator], { id: "grantOperator" });
  const grantScorer = m.call(ledger, "grantRole", [ROLES.scorer, scorer], { id: "grantScorer" });
  const grantPauser = m.call(ledger, "grantRole", [ROLES.pauser, pauser], { id: "grantPauser" });

  const payLater = m.call(ledger, "configureProduct", [PAY_LATER_ID, PAY_LATER], { id: "productPayLater" });
  const cashLoan = m.call(ledger, "configureProduct", [CASH_LOAN_ID, CASH_LOAN], { id: "productCashLoan" });
  const tiers = Object.entries(TIERS).map(([tier, policy]) =>
    m.call(ledger, "setTierPolicy", [Number(tier), policy], { id: `tier${tier}` }),
  );

  // Hand the admin role over last, once everything the deployer configures is done.
  const after = [grantOperator, grantScorer, grantPauser, payLater, cashLoan, ...tiers];
  m.call(ledger, "grantRole", [ROLES.admin, admin], { id: "grantAdmin", after });

  return { ledger, loanServicing };
});
