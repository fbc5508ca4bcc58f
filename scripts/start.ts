/**
 * `npm start`: the local system in one command. Starts a Hardhat Network JSON-RPC node on
 * 127.0.0.1, deploys the ledger to it with separate role keys (admin = account 0,
 * operator = 1, scorer = 2, pauser = 3), exports addresses and ABIs to
 * `deployments/localhost-31337/`, then starts the scorer as a child process with the scorer
 * key (scripts/lib/scorer-setup.ts) and the partner gateway on 127.0.0.1:8080, which holds
 * only the scorer's URL and token, with a fresh database for this deployment
 * (`.gateway/31337-<ledger>-<genesis>/`), creates a demo partner, auditor
 * and admin key, seeds a few demo accounts through the gateway's services, prints the URLs and
 * keys, and serves until Ctrl-C (which stops the gateway, then the node). The embedded chain runs
 * the gateway in development mode; a gateway for an existing chain runs in production mode
 * unless --dev is given (scripts/lib/start-mode.ts, docs/DEPLOYMENT.md).
 *
 *   npm start                                   # node on 8545 (or LEDGER_PORT), gateway on 8080 (or GATEWAY_PORT)
 *   npm start -- --port 8546 --gateway-port 8081
 *   npm start -- --rpc <url> --ledger <address> # a gateway for a ledger on an existing chain (no node, no deploy;
 *                                               # or GATEWAY_RPC_URL and GATEWAY_LEDGER_ADDRESS); its database is kept
 *                                               # across runs. Production mode: every secret from the environment
 *                                               # (GATEWAY_VAULT_KEY, GATEWAY_IDENTITY_PEPPER), the operator and
 *                                               # scorer keys from keystores or remote signers (GATEWAY_OPERATOR_*,
 *                                               # SCORER_*: core/key-source.ts; raw keys refused), no key printed
 *   npm start -- --rpc <url> --ledger <address> --dev
 *                                               # development mode: generated secrets, Hardhat's accounts 1 and 2
 *                                               # as default operator and scorer keys, demo keys printed; --seed adds demo data
 *   npm start -- --block-time 1                 # the node mines a block every second, like a real chain (or
 *                                               # LEDGER_BLOCK_TIME): no block per transaction; the gateway is
 *                                               # told (GATEWAY_BLOCK_TIME_MS) and its chain defaults follow.
 *                                               # The deployment and the demo data are mined at once, before.
 *                                               # With --rpc: the existing chain's block time, told the gateway
 *   npm start -- --chain-only                   # the node and the ledger, no gateway
 *   npm start -- --log-rpc                      # log the JSON-RPC calls the node serves
 *   npm start -- --ready-file <path>            # once up, write the URLs, (development) keys and demo accounts there as JSON
 *                                               # (for scripts and tests; mode 0600), before "[start] ready"
 *
 * Every other gateway setting comes from the environment (server/config.ts), e.g.
 * GATEWAY_CONFIRMATIONS, GATEWAY_LOG_LEVEL (default here: warn).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import type { GatewayMode } from "../server/config";
import { ConfigError, readConfig, type LedgerConfig } from "./lib/config";
import { requireProductionSecrets, startMode } from "./lib/start-mode";
import { NODE_KINDS, type NodeKind } from "./lib/anvil-node";

const log = (message: string) => console.log(`[start] ${message}`);

interface Flags {
  node: NodeKind;
  port?: string;
  blockTime?: string;
  gatewayPort?: string;
  rpc?: string;
  ledger?: string;
  logRpc: boolean;
  chainOnly: boolean;
  seed: boolean;
  dev: boolean;
  readyFile?: string;
}

function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string", short: "p" },
      node: { type: "string" },
      "block-time": { type: "string" },
      "gateway-port": { type: "string" },
      rpc: { type: "string" },
      ledger: { type: "string" },
      seed: { type: "boolean", default: false },
      dev: { type: "boolean", default: false },
      "chain-only": { type: "boolean", default: false },
      "log-rpc": { type: "boolean", default: false },
      "ready-file": { type: "string" },
      quiet: { type: "boolean", short: "q", default: false }, // the default now; kept for old scripts
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      [
        "usage: npm start [-- --node hardhat|anvil] [--port <n>] [--gateway-port <n>] [--block-time <seconds>] [--chain-only] [--log-rpc] [--ready-file <path>]",
        "       npm start -- --rpc <url> --ledger <address> [--gateway-port <n>] [--block-time <seconds>] [--dev [--seed]]",
        "       (an existing chain runs in production mode unless --dev: see docs/DEPLOYMENT.md)",
        "env: LEDGER_NODE, LEDGER_PORT, LEDGER_BLOCK_TIME, GATEWAY_PORT, GATEWAY_RPC_URL, GATEWAY_LEDGER_ADDRESS, GATEWAY_* (see server/config.ts)",
      ].join("\n")
    );
    process.exit(0);
  }
  const node = (values.node ?? process.env.LEDGER_NODE?.trim()) || "hardhat";
  if (!(NODE_KINDS as readonly string[]).includes(node)) {
    throw new ConfigError([`--node (or LEDGER_NODE) is one of ${NODE_KINDS.join(", ")}, not "${node}"`]);
  }
  return {
    node: node as NodeKind,
    port: values.port,
    blockTime: values["block-time"],
    gatewayPort: values["gateway-port"],
    rpc: values.rpc ?? process.env.GATEWAY_RPC_URL,
    ledger: values.ledger ?? process.env.GATEWAY_LEDGER_ADDRESS,
    logRpc: values["log-rpc"] ?? false,
    chainOnly: values["chain-only"] ?? false,
    seed: values.seed ?? false,
    dev: values.dev ?? false,
    readyFile: values["ready-file"],
  };
}

type Stoppable = { stop(): Promise<void> };

/** What `--ready-file` holds: everything a script needs to use the running system. */
interface ReadyFile {
  rpcUrl?: string;
  /** The node implementation of the embedded chain (absent for an existing chain). */
  node?: NodeKind;
  chainId?: number;
  ledger?: string;
  mode?: GatewayMode;
  /** The chain's block time (ms), when --block-time gave one; absent: automine. */
  blockTimeMs?: number;
  /** `keys`: development mode only. */
  gateway?: { url: string; explorer: string; dataDir: string; keys?: { partner: string; partner2: string; auditor: string; admin: string } };
  demo: Array<{ name: string; accountId: string; story: string }>;
}

function writeReadyFile(file: string | undefined, ready: ReadyFile): void {
  if (file === undefined) return;
  writeFileSync(file, `${JSON.stringify(ready, null, 2)}\n`, { mode: 0o600 });
}

/** Ctrl-C, SIGTERM, SIGHUP or the parent going away stop everything, in reverse order of starting. */
function stopOnSignals(parts: Array<{ name: string; part: Stoppable }>): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    for (const { name, part } of [...parts].reverse()) {
      try {
        await part.stop();
        log(`${name} stopped`);
      } catch (error) {
        log(`${name} did not stop cleanly: ${(error as Error).message}`);
      }
    }
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGHUP", () => void stop("SIGHUP"));
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop("parent process exited");
  }, 1_000).unref();
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if ((flags.rpc === undefined) !== (flags.ledger === undefined)) {
    throw new ConfigError(["--rpc and --ledger (or GATEWAY_RPC_URL and GATEWAY_LEDGER_ADDRESS) go together"]);
  }
  const mode = startMode({ embedded: flags.rpc === undefined, dev: flags.dev, seed: flags.seed, env: process.env });
  if (!flags.chainOnly) requireProductionSecrets(mode, process.env);
  const root = path.resolve(__dirname, "..");
  const parts: Array<{ name: string; part: Stoppable }> = [];
  stopOnSignals(parts);
  const { assertPortFree } = await import("./lib/local-node");
  const gatewayPort = flags.gatewayPort ?? process.env.GATEWAY_PORT ?? "8080";
  if (!flags.chainOnly) await assertPortFree("127.0.0.1", Number(gatewayPort));

  const config: LedgerConfig = readConfig(process.env, { port: flags.port, blockTime: flags.blockTime });
  const { host, port, blockTimeMs } = config.local;
  if (flags.rpc !== undefined && flags.ledger !== undefined) {
    log(`gateway mode: ${mode}`);
    await startForExistingChain(root, flags, mode, gatewayPort, blockTimeMs, parts);
    return;
  }

  const { startLocalNode, waitUntilAnswering } = await import("./lib/local-node");
  await assertPortFree(host, port);
  if (flags.node === "anvil" && blockTimeMs !== undefined) {
    const { anvilBlockSeconds } = await import("./lib/anvil-node");
    anvilBlockSeconds(blockTimeMs); // a fraction of a second is refused before anything starts
  }

  let node: { rpcUrl: string; setBlockTime(ms: number): Promise<void>; setLogging(enabled: boolean): Promise<void> };
  let hre: typeof import("hardhat");
  if (flags.node === "anvil") {
    // Anvil is its own process; Hardhat talks to it as the `localhost` network (hardhat.config.ts, LEDGER_PORT).
    const { startAnvil } = await import("./lib/anvil-node");
    log(`starting anvil on ${host}:${port}`);
    const anvil = await startAnvil({ host, port, chainId: 31337, logRpc: flags.logRpc });
    parts.push({ name: "node", part: { stop: () => anvil.close() } });
    node = { ...anvil, setLogging: async () => {} }; // --log-rpc: anvil's own log, passed through from the start
    process.env.LEDGER_PORT = String(port);
    process.env.HARDHAT_NETWORK = "localhost";
    log("loading Hardhat and compiling contracts");
    hre = (await import("hardhat")).default;
    await hre.run("compile", { quiet: true });
  } else {
    log("loading Hardhat and compiling contracts");
    delete process.env.HARDHAT_NETWORK; // the node is the in-process Hardhat Network
    hre = (await import("hardhat")).default;
    await hre.run("compile", { quiet: true });
    log(`starting JSON-RPC node on ${host}:${port}`);
    const hardhatNode = await startLocalNode(hre, host, port);
    parts.push({ name: "node", part: { stop: () => hardhatNode.close() } });
    node = hardhatNode;
  }
  const chainId = await waitUntilAnswering(node.rpcUrl);
  log(`node (${flags.node}) answers at ${node.rpcUrl} (chain id ${chainId})`);

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
      title: "credit-ledger local chain is up",
      network: "localhost",
      rpcUrl: node.rpcUrl,
      deployment,
      exportDir: exported.dir,
      roles,
    })
  );

  let gateway: StartedGateway | undefined;
  if (!flags.chainOnly) {
    const { localAccountKey } = await import("../server/chain/local-keys");
    const hd = hre.config.networks.hardhat.accounts as unknown as Parameters<typeof localAccountKey>[0];
    const { gatewayDataDir } = await import("./lib/gateway-setup");
    const genesis = (await hre.network.provider.request({ method: "eth_getBlockByNumber", params: ["0x0", false] })) as {
      hash: string;
    };
    gateway = await startGateway(
      {
        mode,
        rpcUrl: node.rpcUrl,
        ledger: deployment.ledger,
        startBlock: exported.ledger.deployBlock,
        dataDir: gatewayDataDir(root, chainId, deployment.ledger, genesis.hash, true),
        operatorKey: localAccountKey(hd, 1),
        scorerKey: localAccountKey(hd, 2),
        port: gatewayPort,
        blockTimeMs,
      },
      { chainId: BigInt(chainId), devVerifierKey: localAccountKey(hd, 9) },
      true,
      parts
    );
  }
  if (blockTimeMs !== undefined) {
    // From here on like a real chain: the deployment and the demo data above were mined at once, so start-up stays quick.
    await node.setBlockTime(blockTimeMs);
    log(`mining a block every ${blockTimeMs / 1_000} s from now on (interval mining; a transaction waits for the next block)`);
  }
  writeReadyFile(flags.readyFile, { rpcUrl: node.rpcUrl, node: flags.node, chainId, ledger: deployment.ledger, mode, blockTimeMs, gateway, demo: gateway?.demo ?? [] });
  log(`ready in ${process.uptime().toFixed(1)} s on ${flags.node}; accounts 0-3 use Hardhat's public test keys`);
  log(`serving ${node.rpcUrl}${flags.logRpc ? " (JSON-RPC calls are logged below)" : ""}; press Ctrl-C to stop`);
  if (flags.logRpc) await node.setLogging(true);
}

async function startForExistingChain(
  root: string,
  flags: Flags,
  mode: GatewayMode,
  gatewayPort: string,
  blockTimeMs: number | undefined,
  parts: Array<{ name: string; part: Stoppable }>
): Promise<void> {
  const { connectRpc } = await import("../server/gateway");
  const { gatewayDataDir } = await import("./lib/gateway-setup");
  log(`connecting to ${flags.rpc}`);
  const provider = await connectRpc(flags.rpc!);
  const { chainId } = await provider.getNetwork();
  const genesisHash = (await provider.getBlock(0))?.hash ?? "0xunknown";
  (provider as { destroy?: () => void }).destroy?.();
  let operatorKey: string | undefined;
  let scorerKey: string | undefined;
  let devVerifierKey: string | undefined;
  const { keySourceSettings } = await import("../core/key-source");
  const configured = (prefix: string) => keySourceSettings(prefix).some((name) => Boolean(process.env[name]?.trim()));
  if (mode === "development" && (!configured("GATEWAY_OPERATOR") || !configured("SCORER"))) {
    // Development: Hardhat's (and anvil's) accounts 1 and 2 are the operator and scorer `npm start` deploys with.
    const { localAccountKey } = await import("../server/chain/local-keys");
    const hre = (await import("hardhat")).default;
    const hd = hre.config.networks.hardhat.accounts as unknown as Parameters<typeof localAccountKey>[0];
    if (!configured("GATEWAY_OPERATOR")) operatorKey = localAccountKey(hd, 1);
    if (!configured("SCORER")) scorerKey = localAccountKey(hd, 2);
    devVerifierKey = localAccountKey(hd, 9);
    log(
      "development mode: using Hardhat's accounts 1 and 2 as operator and scorer where no key is configured (GATEWAY_OPERATOR_* / SCORER_* set them: a keystore, a remote signer or a raw key)"
    );
  }
  const gateway = await startGateway(
    {
      mode,
      rpcUrl: flags.rpc!,
      ledger: flags.ledger!,
      startBlock: 0,
      dataDir: gatewayDataDir(root, chainId, flags.ledger!, genesisHash, false),
      operatorKey,
      scorerKey,
      port: gatewayPort,
      blockTimeMs,
    },
    { chainId, devVerifierKey },
    flags.seed,
    parts
  );
  writeReadyFile(flags.readyFile, { rpcUrl: flags.rpc, chainId: Number(chainId), ledger: flags.ledger, mode, blockTimeMs, gateway, demo: gateway.demo });
  log("press Ctrl-C to stop");
}

type StartedGateway = NonNullable<ReadyFile["gateway"]> & { demo: ReadyFile["demo"] };

async function startGateway(
  setup: import("./lib/gateway-setup").GatewaySetup,
  chain: { chainId: bigint; devVerifierKey?: string },
  seed: boolean,
  parts: Array<{ name: string; part: Stoppable }>
): Promise<StartedGateway> {
  const { formatGatewaySummary, gatewayConfigFor } = await import("./lib/gateway-setup");
  const { createGateway } = await import("../server/gateway");
  const { buildExplorerScript, EXPLORER_SCRIPT_FILE } = await import("../verifier/explorer/bundle");
  const { startLocalScorer, scorerSettingsOf } = await import("./lib/scorer-setup");
  const scorer = await startLocalScorer({
    key: setup.scorerKey,
    chainId: chain.chainId,
    ledger: setup.ledger,
    dataDir: setup.dataDir,
    development: setup.mode === "development",
    devVerifierKey: chain.devVerifierKey,
    env: scorerSettingsOf(process.env),
  });
  parts.push({ name: "scorer", part: scorer });
  // The gateway runs in this process: the scorer key (and what opens it) stays with the scorer process only.
  const { secretKeySourceSettings } = await import("../core/key-source");
  for (const name of secretKeySourceSettings("SCORER")) delete process.env[name];
  const { isPublicTestAddress } = await import("../server/chain/local-keys");
  if (setup.mode === "production" && isPublicTestAddress(scorer.address)) {
    const { publicTestKeyProblem } = await import("../server/config");
    throw new ConfigError([publicTestKeyProblem(`the scorer key (${scorer.address})`)]);
  }
  log(`scorer process ${scorer.process.pid} listening on ${scorer.url} (key ${scorer.address}; the gateway holds only its URL and token)`);
  const config = gatewayConfigFor(setup, scorer, process.env);
  await buildExplorerScript();
  log(`built the explorer page's script (${path.relative(process.cwd(), EXPLORER_SCRIPT_FILE)})`);
  log(`starting the gateway (database ${path.relative(process.cwd(), config.store.path)})`);
  const gateway = await createGateway(config);
  parts.push({ name: "gateway", part: gateway });
  const url = (await gateway.start())!;
  const dataDir = path.relative(process.cwd(), setup.dataDir);
  if (setup.mode === "production") {
    // No demo partners and no key printed: the first admin key is issued once with npm run admin.
    console.log(formatGatewaySummary({ url, dataDir, demo: [] }));
    return { url, explorer: `${url}/explorer`, dataDir: setup.dataDir, demo: [] };
  }
  // Two demo partners, so that isolation can be tried at once: the demo accounts are the first one's.
  const first = await gateway.partners.create({ name: "demo partner" }, "cli:npm-start");
  const second = await gateway.partners.create({ name: "demo partner 2" }, "cli:npm-start");
  const keys = {
    partner: first.key,
    partner2: second.key,
    auditor: await gateway.apiKeys.issue("demo auditor", ["auditor"]),
    admin: await gateway.apiKeys.issue("demo admin", ["admin"]),
  };
  let demo: import("./lib/demo-seed").DemoAccount[] = [];
  if (seed) {
    log("seeding demo accounts through the gateway");
    const { seedDemo } = await import("./lib/demo-seed");
    demo = await seedDemo(gateway, first.partner.id, (nationalId, level) => scorer.devEvidence("operator", nationalId, level));
  }
  if (scorer.devVerifier) {
    // The demo partners' KYC verifier is the development one: attestations it signs count for them.
    for (const p of [first, second]) await scorer.registerVerifier(p.partner.id, scorer.devVerifier.address);
    log(`development KYC verifier for the demo partners: ${scorer.devVerifier.address} (Hardhat's account 9)`);
  }
  console.log(formatGatewaySummary({ url, dataDir, keys, demo }));
  return {
    url,
    explorer: `${url}/explorer`,
    dataDir: setup.dataDir,
    keys: { partner: keys.partner.key, partner2: keys.partner2.key, auditor: keys.auditor.key, admin: keys.admin.key },
    demo,
  };
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(
    error instanceof ConfigError || error?.constructor?.name === "ConfigError"
      ? `[start] ${message}`
      : `[start] failed: ${message}`
  );
  process.exit(1);
});
