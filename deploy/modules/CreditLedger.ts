/**
 * Hardhat Ignition module: deploys the LoanServicing library and the CreditLedger linked to
 * it, grants the roles and applies the default products and tiers of `deploy/defaults.ts`.
 *
 *   npx hardhat ignition deploy deploy/modules/CreditLedger.ts --network <net> \
 *     --parameters deploy/parameters/<net>.json
 *
 * Parameters (module "CreditLedger"): operator, scorer, pauser (addresses; each defaults to
 * the deployer) and adminDelay (seconds, default 0 for local chains and tests; see
 * docs/DEPLOYMENT.md). The deployer is the ledger's one admin (DEFAULT_ADMIN_ROLE, two-step
 * with a delay: OpenZeppelin's AccessControlDefaultAdminRules) for the configuration calls;
 * `admin` (also in the parameters file) is handed the role afterwards by
 * `npm run hand-over` (begin the transfer, then the new admin accepts it after the delay).
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
  const adminDelay = m.getParameter("adminDelay", 0);
  const operator = m.getParameter("operator", deployer);
  const scorer = m.getParameter("scorer", deployer);
  const pauser = m.getParameter("pauser", deployer);

  const loanServicing = m.library("LoanServicing");
  const ledger = m.contract("CreditLedger", [deployer, adminDelay], { libraries: { LoanServicing: loanServicing } });

  m.call(ledger, "grantRole", [ROLES.operator, operator], { id: "grantOperator" });
  m.call(ledger, "grantRole", [ROLES.scorer, scorer], { id: "grantScorer" });
  m.call(ledger, "grantRole", [ROLES.pauser, pauser], { id: "grantPauser" });

  m.call(ledger, "configureProduct", [PAY_LATER_ID, PAY_LATER], { id: "productPayLater" });
  m.call(ledger, "configureProduct", [CASH_LOAN_ID, CASH_LOAN], { id: "productCashLoan" });
  for (const [tier, policy] of Object.entries(TIERS)) {
    m.call(ledger, "setTierPolicy", [Number(tier), policy], { id: `tier${tier}` });
  }
  // The admin role stays the deployer's: a single-step grant is refused by the ledger
  // (AccessControlEnforcedDefaultAdminRules); scripts/hand-over-admin.ts hands it over.

  return { ledger, loanServicing };
});
