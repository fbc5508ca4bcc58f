/**
 * `npm run export -- --network <name>`: rewrites `deployments/<name>-<chainId>/` from the
 * Ignition deployment `deploy/deployments/chain-<chainId>/` (or LEDGER_DEPLOYMENT_ID).
 * `npm run deploy` and `npm start` export already; run this after a deployment made with the
 * plain Ignition CLI.
 */
import hre from "hardhat";

import { readConfig } from "./lib/config";
import { readLedgerDeployment, roleCandidates, roleHoldersOnChain } from "./lib/deploy-ledger";
import { exportDeployment } from "./lib/deployment-export";
import { formatDeploymentSummary } from "./lib/summary";

async function main(): Promise<void> {
  const network = hre.network.name;
  const deployment = await readLedgerDeployment(hre, readConfig().deploymentId);
  const exported = await exportDeployment(hre, deployment, network);
  const roles = await roleHoldersOnChain(hre, deployment.ledger, exported.ledger.deployBlock, await roleCandidates(hre));
  console.log(formatDeploymentSummary({ title: "credit-ledger deployment exported", network, deployment, exportDir: exported.dir, roles }));
}

main().catch((error: unknown) => {
  console.error(`[export] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
