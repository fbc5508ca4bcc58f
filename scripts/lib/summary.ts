/**
 * The summary printed after a deployment: where the ledger is and who holds each role (as
 * read from the chain, not as requested).
 */
import type { LedgerDeployment, RoleName } from "./deploy-ledger";

export interface DeploymentSummary {
  title: string;
  network: string;
  rpcUrl?: string;
  deployment: LedgerDeployment;
  exportDir: string;
  roles: Record<RoleName, string[]>;
}

export function formatDeploymentSummary(s: DeploymentSummary): string {
  const row = (label: string, value: string) => `  ${label.padEnd(15)} ${value}`;
  return [
    "",
    s.title,
    row("network", s.network),
    ...(s.rpcUrl !== undefined ? [row("RPC URL", s.rpcUrl)] : []),
    row("chain id", String(s.deployment.chainId)),
    row("CreditLedger", s.deployment.ledger),
    row("LoanServicing", s.deployment.loanServicing),
    ...Object.entries(s.roles).map(([role, holders]) => row(`${role} role`, holders.join(", ") || "(none)")),
    row("exports", `${s.exportDir}/`),
    row("journal", `deploy/deployments/${s.deployment.deploymentId}/`),
    "",
  ].join("\n");
}
