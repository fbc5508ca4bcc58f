/**
 * `npm run deploy -- --network <name>`: deploys the ledger to a configured network with
 * Hardhat Ignition, then exports addresses and ABIs to `deployments/<name>-<chainId>/`.
 *
 * Role holders come from `deploy/parameters/<name>.json` (required except on `localhost`,
 * where accounts 0-3 of the node are used). The network `custom` is configured by
 * LEDGER_RPC_URL and LEDGER_DEPLOYER_KEY; see docs/DEPLOYMENT.md.
 */
import { getAddress } from "ethers";
import hre from "hardhat";

import {
  deployLedger,
  parametersFileOf,
  readRoleParameters,
  roleCandidates,
  roleHoldersOnChain,
  type RoleHolders,
} from "./lib/deploy-ledger";
import { LOCAL_CHAIN_ID, readConfig } from "./lib/config";
import { exportDeployment } from "./lib/deployment-export";
import { formatDeploymentSummary } from "./lib/summary";

const log = (message: string) => console.log(`[deploy] ${message}`);

async function main(): Promise<void> {
  const config = readConfig();
  const network = hre.network.name;
  if (network === "hardhat") {
    throw new Error("choose a network: npm run deploy -- --network <localhost|custom|...> (npm start runs a local chain)");
  }
  const accounts = (await hre.network.provider.request({ method: "eth_accounts" })) as string[];
  const deployer = accounts[0];
  if (deployer === undefined) throw new Error(`network ${network} has no account to deploy from (set LEDGER_DEPLOYER_KEY)`);

  const parametersFile = parametersFileOf(hre, network);
  let holders: RoleHolders;
  if (parametersFile !== undefined) {
    holders = readRoleParameters(parametersFile); // checked before Ignition reads the file
    log(`role holders from ${parametersFile}`);
  } else if (network === "localhost") {
    const [admin, operator, scorer, pauser] = accounts;
    holders = { admin, operator, scorer, pauser };
    log("role holders: accounts 0-3 of the node");
  } else {
    throw new Error(
      `deploy/parameters/${network}.json not found: copy deploy/parameters/example.json and set the role addresses`,
    );
  }

  const chainId = Number(await hre.network.provider.request({ method: "eth_chainId" }));
  log(`network ${network} (chain id ${chainId}), deployer ${deployer}`);
  if (chainId !== LOCAL_CHAIN_ID && !config.deployConfirmed && !process.stdin.isTTY) {
    throw new Error(
      "Ignition asks to confirm a deployment to a real network and there is no terminal to ask: " +
        "set HARDHAT_IGNITION_CONFIRM_DEPLOYMENT=true to confirm it in advance",
    );
  }
  const deployment = await deployLedger(hre, {
    roles: parametersFile ? { file: parametersFile } : { holders },
    deploymentId: config.deploymentId,
  });
  const exported = await exportDeployment(hre, deployment, network);
  const roles = await roleHoldersOnChain(hre, deployment.ledger, exported.ledger.deployBlock, await roleCandidates(hre));
  console.log(formatDeploymentSummary({ title: "credit-ledger deployed", network, deployment, exportDir: exported.dir, roles }));

  if (getAddress(holders.admin) !== getAddress(deployer) && roles.admin.includes(getAddress(deployer))) {
    log(
      `the deployer is still the admin, not ${holders.admin}: hand the role over in two steps with ` +
        `npm run hand-over -- --network ${network} (docs/DEPLOYMENT.md, role hand-over)`,
    );
  }
}

let finished = false;
main()
  .then(() => {
    finished = true;
  })
  .catch((error: unknown) => {
    finished = true;
    console.error(`[deploy] failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
// A prompt left unanswered (stdin closed) empties the event loop: that is not a success.
process.on("exit", (code) => {
  if (!finished && code === 0) {
    console.error("\n[deploy] stopped before the deployment finished (confirmation not given?)");
    process.exitCode = 1;
  }
});
