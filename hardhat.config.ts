import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-toolbox";

/**
 * The compiler is pinned exactly so auditors can rebuild the deployed bytecode:
 * solc 0.8.30 (the npm `solc` package, no download), optimizer on with 200 runs and viaIR,
 * EVM version cancun. Change these only together with docs/DEPLOYMENT.md.
 */
const SOLC_VERSION = "0.8.30";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const solcPackageVersion: string = require("solc/package.json").version;
if (solcPackageVersion !== SOLC_VERSION) {
  throw new Error(`solc npm package is ${solcPackageVersion}, expected ${SOLC_VERSION}: run npm ci`);
}

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc");
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: solc.version() as string,
  };
});

const rpcUrl = process.env.LEDGER_RPC_URL;
const deployerKey = process.env.LEDGER_DEPLOYER_KEY;

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
      viaIR: true,
      metadata: { bytecodeHash: "ipfs" },
    },
  },
  paths: {
    ignition: "deploy",
  },
  networks: {
    hardhat: {
      // EIP-170 is enforced: no allowUnlimitedContractSize.
      chainId: 31337,
    },
    localhost: { url: "http://127.0.0.1:8545", chainId: 31337 },
    ...(rpcUrl
      ? { custom: { url: rpcUrl, accounts: deployerKey ? [deployerKey] : "remote" } }
      : {}),
  },
  gasReporter: {
    enabled: process.env.REPORT_GAS === "true",
    outputFile: process.env.REPORT_GAS_FILE,
    noColors: true,
    offline: true,
    reportFormat: "markdown",
  },
  mocha: {
    timeout: 120_000,
  },
};

export default config;
