import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/config";
import { HardhatPluginError } from "hardhat/plugins";
import "@nomicfoundation/hardhat-toolbox";
import path from "node:path";

import { ConfigError, LOCAL_CHAIN_ID, readConfig, type LedgerConfig } from "./scripts/lib/config";

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

/** Environment settings (LEDGER_*, REPORT_GAS*), validated once: see scripts/lib/config.ts. */
const env: LedgerConfig = (() => {
  try {
    return readConfig();
  } catch (error) {
    // Reported by Hardhat as "Error in plugin credit-ledger: invalid configuration: ...".
    if (error instanceof ConfigError) throw new HardhatPluginError("credit-ledger", error.message);
    throw error;
  }
})();

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
      chainId: LOCAL_CHAIN_ID,
    },
    // The node of `npm start` (port: LEDGER_PORT, default 8545).
    localhost: { url: env.local.rpcUrl, chainId: LOCAL_CHAIN_ID },
    // Any EVM network: LEDGER_RPC_URL, deploying from LEDGER_DEPLOYER_KEY (else the node's accounts).
    ...(env.custom
      ? { custom: { url: env.custom.rpcUrl, accounts: env.custom.deployerKey ? [env.custom.deployerKey] : "remote" } }
      : {}),
  },
  // hardhat-gas-reporter 2.x: `npm run gas` (scripts/gas-report.ts) sets REPORT_GAS=true REPORT_GAS_FILE=docs/GAS.md.
  gasReporter: {
    enabled: env.gasReport.enabled,
    outputFile: env.gasReport.outputFile,
    reportFormat: "markdown",
    noColors: true,
    offline: true, // no price or gas-price fetching: figures are gas units only
    excludeContracts: ["contracts/test/"],
  },
  mocha: {
    timeout: 120_000,
    // spec output, then `tests: N passed, M failed` as the last line and a JSON summary.
    reporter: path.join(__dirname, "scripts", "lib", "mocha-summary-reporter.ts"),
    reporterOptions: { summaryFile: path.join(__dirname, "cache", "test-summary.json") },
    failZero: true,
  },
};

export default config;
