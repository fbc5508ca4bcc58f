/**
 * `npm run hand-over -- --network <name>`: the last deployment step, in two runs. The ledger's
 * admin role (DEFAULT_ADMIN_ROLE) has one holder and moves in two steps with a delay
 * (OpenZeppelin's AccessControlDefaultAdminRules): the deployment leaves it with the deployer;
 * the first run, from the deployer, begins the transfer to the `admin` of
 * `deploy/parameters/<name>.json` (a multisig or timelock). Once the ledger's `defaultAdminDelay`
 * has passed, the new admin accepts it (`acceptDefaultAdminTransfer`): a second run does that
 * when the node holds the new admin's key (local chains), otherwise it says what the multisig
 * must call. Until the acceptance the deployer stays admin and can cancel
 * (`cancelDefaultAdminTransfer`). On a real network beginning asks for the chain id as confirmation.
 */
import { createInterface } from "node:readline/promises";
import { getAddress } from "ethers";
import hre from "hardhat";

import { LOCAL_CHAIN_ID, readConfig } from "./lib/config";
import { parametersFileOf, readLedgerDeployment, readRoleParameters } from "./lib/deploy-ledger";

const log = (message: string) => console.log(`[hand-over] ${message}`);

async function confirm(chainId: number, newAdmin: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new Error("handing over the admin role is irreversible once accepted: run this from a terminal");
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question(`[hand-over] type the chain id (${chainId}) to begin handing the admin role to ${newAdmin}: `);
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
  const caller = getAddress(signer.address);
  const ledger = await hre.ethers.getContractAt("CreditLedger", deployment.ledger, signer);

  const admin = getAddress(await ledger.defaultAdmin());
  if (admin === newAdmin) {
    log(`${newAdmin} is the admin of ${deployment.ledger}: already handed over`);
    return;
  }
  log(`ledger ${deployment.ledger} on ${network} (chain id ${deployment.chainId}), admin ${admin}`);
  const [pending, schedule] = await ledger.pendingDefaultAdmin();
  const now = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp);

  if (getAddress(pending) !== newAdmin) {
    // Step 1: the current admin (the deployer) begins the transfer.
    if (caller !== admin) throw new Error(`${caller} is not the admin (${admin}): run the first step from the deployer's key`);
    if ((await hre.ethers.provider.getCode(newAdmin)) === "0x") {
      log(`warning: the new admin ${newAdmin} has no code; a multisig or timelock contract is expected`);
    }
    if (deployment.chainId !== LOCAL_CHAIN_ID && !(await confirm(deployment.chainId, newAdmin))) {
      log("not confirmed; nothing changed");
      return;
    }
    const receipt = await (await ledger.beginDefaultAdminTransfer(newAdmin)).wait();
    const [, acceptAfter] = await ledger.pendingDefaultAdmin();
    log(
      `begun in block ${receipt?.blockNumber}: ${newAdmin} may accept from ${new Date(Number(acceptAfter) * 1000).toISOString()} ` +
        "(run this again then, or have the multisig call acceptDefaultAdminTransfer())",
    );
    return;
  }

  // Step 2: the new admin accepts once the delay has passed.
  if (now < schedule) {
    log(`the transfer to ${newAdmin} can be accepted from ${new Date(Number(schedule) * 1000).toISOString()}; run this again then`);
    return;
  }
  const accounts = (await hre.network.provider.request({ method: "eth_accounts" })) as string[];
  if (!accounts.map((a) => getAddress(a)).includes(newAdmin)) {
    log(`the delay has passed: ${newAdmin} must now call acceptDefaultAdminTransfer() on ${deployment.ledger} (from the multisig)`);
    return;
  }
  const asNewAdmin = await hre.ethers.getSigner(newAdmin);
  const receipt = await (await ledger.connect(asNewAdmin).acceptDefaultAdminTransfer()).wait();
  if (getAddress(await ledger.defaultAdmin()) !== newAdmin) throw new Error(`${newAdmin} is still not the admin`);
  log(`done in block ${receipt?.blockNumber}: ${newAdmin} is the admin; ${admin} no longer holds the role`);
}

main().catch((error: unknown) => {
  console.error(`[hand-over] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
