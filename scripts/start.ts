/**
 * `npm start`: the local stack in one command. Starts a Hardhat Network JSON-RPC node on
 * 127.0.0.1, deploys the ledger to it with separate role keys (admin = account 0,
 * operator = 1, scorer = 2, pauser = 3), exports addresses and ABIs to
 * `deployments/localhost-31337/`, prints a summary and serves until Ctrl-C.
 *
 *   npm start                      # port 8545 (or LEDGER_PORT)
 *   npm start -- --port 8546       # another port
 *   npm start -- --quiet           # do not log the JSON-RPC calls the node serves
 */
import { parseArgs } from "node:util";

import { ConfigError, readConfig, type LedgerConfig } from "./lib/config";

const log = (message: string) => console.log(`[start] ${message}`);

function parseFlags(argv: string[]): { port?: string; quiet: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string", short: "p" },
      quiet: { type: "boolean", short: "q", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log("usage: npm start [-- --port <n>] [--quiet]   (env: LEDGER_PORT)");
    process.exit(0);
  }
  return { port: values.port, quiet: values.quiet ?? false };
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const config: LedgerConfig = readConfig(process.env, { port: flags.port });
  const { host, port } = config.local;

  // Imported here so flag and configuration errors show before Hardhat loads.
  const { assertPortFree, startLocalNode, waitUntilAnswering } = await import("./lib/local-node");
  await assertPortFree(host, port);

  log("loading Hardhat and compiling contracts");
  delete process.env.HARDHAT_NETWORK; // the node is the in-process Hardhat Network
  const hre = (await import("hardhat")).default;
  await hre.run("compile", { quiet: true });

  log(`starting JSON-RPC node on ${host}:${port}`);
  const node = await startLocalNode(hre, host, port);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping the node`);
    await node.close();
    log("node stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGHUP", () => void stop("SIGHUP"));
  // If whatever started us (npm, a shell) dies without passing a signal on, stop too.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop("parent process exited");
  }, 1_000).unref();

  const chainId = await waitUntilAnswering(node.rpcUrl);
  log(`node answers at ${node.rpcUrl} (chain id ${chainId})`);

  const { deployLedger, roleHoldersOnChain } = await import("./lib/deploy-ledger");
  const { exportDeployment } = await import("./lib/deployment-export");
  const { formatDeploymentSummary } = await import("./lib/summary");
  const accounts = (await hre.network.provider.request({ method: "eth_accounts" })) as string[];
  const [admin, operator, scorer, pauser] = accounts;
  log("deploying LoanServicing and CreditLedger with Ignition");
  const deployment = await deployLedger(hre, {
    roles: { holders: { admin, operator, scorer, pauser } },
    reset: true, // a fresh chain on every start: never resume an old journal
  });

  log("exporting addresses and ABIs");
  const exported = await exportDeployment(hre, deployment, "localhost");
  const roles = await roleHoldersOnChain(hre, deployment.ledger, exported.ledger.deployBlock, accounts.slice(0, 4));
  console.log(
    formatDeploymentSummary({
      title: "credit-ledger local stack is up",
      network: "localhost",
      rpcUrl: node.rpcUrl,
      deployment,
      exportDir: exported.dir,
      roles,
    }),
  );
  log(`ready in ${process.uptime().toFixed(1)} s; accounts 0-3 use Hardhat's public test keys`);
  log(`serving ${node.rpcUrl}${flags.quiet ? "" : " (JSON-RPC calls are logged below)"}; press Ctrl-C to stop`);
  if (!flags.quiet) await node.setLogging(true);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(error instanceof ConfigError ? `[start] ${message}` : `[start] failed: ${message}`);
  process.exit(1);
});
