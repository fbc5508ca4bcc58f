/**
 * `npm run hand-over -- --network <name>`: the last deployment step. The deployment module
 * grants DEFAULT_ADMIN_ROLE to the `admin` of `deploy/parameters/<name>.json` (a multisig or
 * timelock) but the deployer keeps it too; this renounces the deployer's admin role, after
 * checking on chain that the new admin already holds it. Irreversible: on a real network it
 * asks for the chain id as confirmation.
 */
import { createInterface } from "node:readline/promises";
import { getAddress } from "ethers";
import hre from "hardhat";

import { LOCAL_CHAIN_ID, readConfig } from "./lib/config";
import { parametersFileOf, readLedgerDeployment, readRoleParameters } from "./lib/deploy-ledger";
import { ROLES } from "../deploy/modules/CreditLedger";

const log = (message: string) => console.log(`[hand-over] ${message}`);

async function confirm(chainId: number): Promise<boolean> {
  if (!process.stdin.isTTY) throw new Error("renouncing the admin role is irreversible: run this from a terminal");
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question(`[hand-over] type the chain id (${chainId}) to renounce the deployer's admin role: `);
  rl.close();
  return answer.trim() === String(chainId);
}

async function main(): Promise<void> {
  const network = hre.network.name;
  const deployment = await readLedgerDeployment(hre, readConfig().deploymentId);
  const file = parametersFileOf(hre, network);
  if (file === undefined) throw new Error(`deploy/parameters/${network}.json not found: it names the new admin`);
  const newAdmin = readRoleParameters(file).admin;
  const [signer] = await hre.ethers.getSigners();
  const deployer = getAddress(signer.address);
  const ledger = await hre.ethers.getContractAt("CreditLedger", deployment.ledger, signer);

  if (newAdmin === deployer) throw new Error(`the admin in ${file} is the deployer itself: nothing to hand over`);
  if (!(await ledger.hasRole(ROLES.admin, deployer))) {
    log(`${deployer} holds no admin role on ${deployment.ledger}: already handed over`);
    return;
  }
  if (!(await ledger.hasRole(ROLES.admin, newAdmin))) {
    throw new Error(`${newAdmin} does not hold the admin role yet: finish the deployment first (npm run deploy)`);
  }
  if ((await hre.ethers.provider.getCode(newAdmin)) === "0x") {
    log(`warning: the new admin ${newAdmin} has no code; a multisig or timelock contract is expected`);
  }
  log(`ledger ${deployment.ledger} on ${network} (chain id ${deployment.chainId})`);
  log(`new admin ${newAdmin} holds the role; the deployer ${deployer} renounces it`);
  if (deployment.chainId !== LOCAL_CHAIN_ID && !(await confirm(deployment.chainId))) {
    log("not confirmed; nothing changed");
    return;
  }
  const receipt = await (await ledger.renounceRole(ROLES.admin, deployer)).wait();
  if (await ledger.hasRole(ROLES.admin, deployer)) throw new Error("the deployer still holds the admin role");
  log(`done in block ${receipt?.blockNumber}: the deployer no longer holds the admin role`);
}

main().catch((error: unknown) => {
  console.error(`[hand-over] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
