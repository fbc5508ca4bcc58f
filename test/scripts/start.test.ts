/**
 * `npm start` as a child process (the program npm runs, `ts-node scripts/start.ts`, without
 * npm's wrapper).
 *
 * For an existing chain (`--rpc <url> --ledger <address>`): a gateway for an existing chain runs
 * in production mode, so it refuses to start without configured secrets, writes no secrets file
 * beside its data and prints no key. The chain is this test's in-process Hardhat network
 * (chain 31337) served over JSON-RPC: the chain id decides nothing.
 *
 * With `--block-time <seconds>`: the embedded node mines by interval, as a real chain does, and
 * the gateway is told the block time (its chain defaults follow it).
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { id, Wallet } from "ethers";
import hre, { network } from "hardhat";
import { TASK_NODE_CREATE_SERVER } from "hardhat/builtin-tasks/task-names";

import { parseBlockTime } from "../../scripts/lib/config";
import { GATEWAY_DATA_ROOT, gatewayConfigFor, gatewayEnvFor } from "../../scripts/lib/gateway-setup";
import { freePort } from "../../scripts/lib/gateway-process";
import { deployLedger, type Ledger } from "../helpers/fixtures";
import { writeTestKeystore, type TestKeystore } from "../helpers/keystore";
import { startLocalSystem, type LocalSystem } from "../helpers/local-system";

const ROOT = path.resolve(__dirname, "..", "..");

interface Run {
  code: number | null;
  output: string;
}

/** Runs start.ts with `args` and only the given GATEWAY_ settings; `untilReady` stops it (SIGTERM) once it is serving. */
async function runStart(args: string[], env: Record<string, string>, untilReady: boolean): Promise<Run> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(GATEWAY_|LEDGER_|SCORER_|HARDHAT_NETWORK$)/.test(name)));
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join("scripts", "start.ts"), ...args], {
    cwd: ROOT,
    env: { ...inherited, TS_NODE_TRANSPILE_ONLY: "true", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let output = "";
  const guard = setTimeout(() => child.kill("SIGKILL"), 120_000); // a hang guard, not a timing assertion
  const onData = (b: Buffer) => {
    output += b.toString();
    if (untilReady && output.includes("[start] press Ctrl-C to stop")) child.kill("SIGTERM");
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(guard);
  process.removeListener("exit", killOnExit);
  return { code, output };
}

const gatewayDirs = (): string[] => (existsSync(path.join(ROOT, GATEWAY_DATA_ROOT)) ? readdirSync(path.join(ROOT, GATEWAY_DATA_ROOT)) : []);

describe("npm start for an existing chain: production mode", function () {
  this.timeout(300_000);

  let l: Ledger;
  let ledgerAddress: string;
  let node: { rpcUrl: string; close(): Promise<void> };
  let dir: string;

  before(async () => {
    l = await deployLedger();
    ledgerAddress = await l.ledger.getAddress();
    const server = await hre.run(TASK_NODE_CREATE_SERVER, { hostname: "127.0.0.1", port: 0, provider: network.provider });
    const { address, port } = (await server.listen()) as { address: string; port: number };
    node = { rpcUrl: `http://${address}:${port}`, close: () => server.close() as Promise<void> };
  });
  after(() => node.close());
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "start-production-"));
  });
  const keystores: TestKeystore[] = [];
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    for (const k of keystores.splice(0)) k.remove();
  });

  it("refuses to start without configured secrets, naming each and how to set it, and writes nothing", async () => {
    const before = gatewayDirs();
    const run = await runStart(["--rpc", node.rpcUrl, "--ledger", ledgerAddress, "--gateway-port", String(await freePort())], {}, false);
    expect(run.code, run.output).to.equal(1);
    for (const name of ["GATEWAY_OPERATOR_KEYSTORE", "SCORER_KEYSTORE", "GATEWAY_VAULT_KEY", "GATEWAY_IDENTITY_PEPPER"]) {
      expect(run.output).to.match(new RegExp(`${name} is not set \\(set it to `));
    }
    expect(run.output).not.to.match(/clk_/);
    expect(gatewayDirs(), "no data folder (and no secrets.json) was made").to.deep.equal(before);
  });

  it("refuses --seed (demo data) outside development mode", async () => {
    const run = await runStart(["--rpc", node.rpcUrl, "--ledger", ledgerAddress, "--seed"], {}, false);
    expect(run.code, run.output).to.equal(1);
    expect(run.output).to.include("--seed (demo data) is for development mode only");
  });

  it("refuses raw role keys in the environment, saying to keep them in a keystore or a remote signer (or --dev)", async () => {
    const run = await runStart(
      ["--rpc", node.rpcUrl, "--ledger", ledgerAddress, "--gateway-port", String(await freePort())],
      { GATEWAY_OPERATOR_KEY: Wallet.createRandom().privateKey, SCORER_KEY: Wallet.createRandom().privateKey },
      false
    );
    expect(run.code, run.output).to.equal(1);
    for (const [name, prefix] of [["GATEWAY_OPERATOR_KEY", "GATEWAY_OPERATOR"], ["SCORER_KEY", "SCORER"]]) {
      expect(run.output).to.include(`${name} is a raw private key in the environment, which production mode refuses: keep the key in ${prefix}_KEYSTORE`);
    }
    expect(run.output).to.include("or add --dev for a development chain");
  });

  it("with its secrets configured, starts on chain 31337, writes no secrets file and prints no key", async () => {
    const operator = Wallet.createRandom();
    const scorer = Wallet.createRandom();
    await l.ledger.connect(l.admin).grantRole(id("OPERATOR_ROLE"), operator.address);
    await l.ledger.connect(l.admin).grantRole(id("SCORER_ROLE"), scorer.address);
    await network.provider.request({ method: "hardhat_setBalance", params: [operator.address, "0x56BC75E2D63100000"] });
    // The role keys in encrypted keystores (production refuses raw keys), their passwords in 0600 files.
    const operatorKeystore = await writeTestKeystore(operator.privateKey, "operator keystore password");
    const scorerKeystore = await writeTestKeystore(scorer.privateKey, "scorer keystore password");
    keystores.push(operatorKeystore, scorerKeystore);
    const secrets = {
      GATEWAY_VAULT_KEY: randomBytes(32).toString("hex"),
      GATEWAY_IDENTITY_PEPPER: randomBytes(32).toString("hex"),
    };
    const keys = { ...operatorKeystore.envFor("GATEWAY_OPERATOR"), ...scorerKeystore.envFor("SCORER") };
    const readyFile = path.join(dir, "ready.json");
    const dbPath = path.join(dir, "gateway.sqlite");
    const before = gatewayDirs();
    let made: string[] = [];
    try {
      const run = await runStart(
        ["--rpc", node.rpcUrl, "--ledger", ledgerAddress, "--gateway-port", String(await freePort()), "--ready-file", readyFile],
        { ...secrets, ...keys, GATEWAY_DB_PATH: dbPath },
        true
      );
      made = gatewayDirs().filter((d) => !before.includes(d));
      expect(run.output).to.include("[start] gateway mode: production");
      expect(run.output).to.include("partner gateway is up");
      expect(run.output).to.include("npm run admin -- admin-keys issue");
      expect(run.output, "an API key was printed").not.to.match(/clk_/);
      for (const value of [...Object.values(secrets), "operator keystore password", "scorer keystore password", operator.privateKey.slice(2), scorer.privateKey.slice(2)]) {
        expect(run.output).not.to.include(value);
      }
      const ready = JSON.parse(readFileSync(readyFile, "utf8")) as { chainId: number; mode: string; gateway: { dataDir: string; keys?: unknown } };
      expect(ready.chainId).to.equal(31337);
      expect(ready.mode).to.equal("production");
      expect(ready.gateway).not.to.have.property("keys");
      expect(existsSync(path.join(ready.gateway.dataDir, "secrets.json"))).to.equal(false);
      expect(existsSync(path.join(dir, "secrets.json"))).to.equal(false);
      expect(statSync(dbPath).isFile()).to.equal(true);
    } finally {
      for (const d of made) rmSync(path.join(ROOT, GATEWAY_DATA_ROOT, d), { recursive: true, force: true });
    }
  });
});

describe("npm start -- --block-time: the local chain mines by interval", function () {
  this.timeout(300_000);

  /** One JSON-RPC call to the system's node. */
  async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = (await response.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result as T;
  }
  const blockNumber = async (url: string) => Number(await rpc<string>(url, "eth_blockNumber"));

  /** Polls until `check` holds (a hang guard, not a timing assertion). */
  async function until(what: string, check: () => Promise<boolean>, guardMs = 60_000): Promise<void> {
    const deadline = Date.now() + guardMs;
    while (!(await check())) {
      if (Date.now() > deadline) expect.fail(`${what} did not happen within ${guardMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  let system: LocalSystem;
  before(async () => {
    system = await startLocalSystem({ blockTimeSeconds: 1, timeoutMs: 200_000 });
  });
  after(async () => {
    await system?.stop();
  });

  it("mines blocks with no transaction sent, and none on a transaction's arrival (automine off)", async () => {
    expect(system.blockTimeMs).to.equal(1_000);
    expect(system.output()).to.include("mining a block every 1 s from now on");
    expect(await rpc<boolean>(system.rpcUrl, "hardhat_getAutomine")).to.equal(false);
    const first = await blockNumber(system.rpcUrl);
    await until("two more blocks", async () => (await blockNumber(system.rpcUrl)) >= first + 2);
    const empty: number[] = [];
    for (let n = first + 1; n <= first + 2; n++) {
      const block = await rpc<{ transactions: string[] }>(system.rpcUrl, "eth_getBlockByNumber", [`0x${n.toString(16)}`, false]);
      if (block.transactions.length === 0) empty.push(n);
    }
    expect(empty, "blocks were mined with no transaction in them").not.to.be.empty;
  });

  it("still confirms a request: a purchase waited for lands in a later block and is confirmed", async () => {
    const wang = system.demo.find((d) => d.name === "Wang")!;
    const before = await blockNumber(system.rpcUrl);
    const response = await fetch(`${system.gateway.url}/v1/purchases?wait=true`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${system.gateway.keys.partner}`,
        "Idempotency-Key": `block-time-${randomBytes(8).toString("hex")}`,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ accountId: wang.accountId, amount: "1200", installments: 1 }),
    });
    const body = (await response.json()) as { operation: { status: string; blockNumber: number | null; txHash: string | null } };
    expect(response.status, JSON.stringify(body)).to.equal(201);
    expect(body.operation.status).to.equal("confirmed");
    expect(body.operation.blockNumber).to.be.greaterThan(before);
    const receipt = await rpc<{ status: string; blockNumber: string }>(system.rpcUrl, "eth_getTransactionReceipt", [body.operation.txHash]);
    expect(receipt.status).to.equal("0x1");
    expect(Number(receipt.blockNumber)).to.equal(body.operation.blockNumber);
  });
});

describe("npm start's block time, as configuration", () => {
  it("reads --block-time as seconds between blocks (fractions to the ms), refusing less than a second", () => {
    const problems: string[] = [];
    expect(parseBlockTime("1", "--block-time", problems)).to.equal(1_000);
    expect(parseBlockTime("1.5", "--block-time", problems)).to.equal(1_500);
    expect(parseBlockTime("12", "--block-time", problems)).to.equal(12_000);
    expect(parseBlockTime(undefined, "--block-time", problems)).to.equal(undefined);
    expect(problems).to.deep.equal([]);
    for (const bad of ["0.5", "0", "-1", "abc", "601", "1.0001"]) parseBlockTime(bad, "--block-time", problems);
    expect(problems).to.have.length(6);
    expect(problems[0]).to.equal('--block-time must be seconds between blocks, 1-600 (e.g. 1, 2, 12 or 1.5), got "0.5"');
  });

  it("tells the gateway the block time (GATEWAY_BLOCK_TIME_MS) and polls four times a block (50 ms-1 s); automine polls every 250 ms", () => {
    const setup = {
      mode: "development" as const,
      rpcUrl: "http://127.0.0.1:8545",
      ledger: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
      startBlock: 0,
      dataDir: mkdtempSync(path.join(tmpdir(), "start-block-time-")),
      operatorKey: `0x${"11".repeat(32)}`,
    };
    const scorer = { url: "http://127.0.0.1:8091", token: "t".repeat(40) };
    const env = { GATEWAY_VAULT_KEY: "ab".repeat(32), GATEWAY_IDENTITY_PEPPER: "cd".repeat(32) };
    const pace = (e: Record<string, string | undefined>) => [e.GATEWAY_BLOCK_TIME_MS, e.GATEWAY_POLL_INTERVAL_MS];
    try {
      expect(pace(gatewayEnvFor(setup, scorer, env))).to.deep.equal([undefined, "250"]);
      expect(pace(gatewayEnvFor({ ...setup, blockTimeMs: 2_000 }, scorer, env))).to.deep.equal(["2000", "500"]);
      expect(pace(gatewayEnvFor({ ...setup, blockTimeMs: 12_000 }, scorer, env))).to.deep.equal(["12000", "1000"]);
      expect(pace(gatewayEnvFor({ ...setup, blockTimeMs: 2_000 }, scorer, { ...env, GATEWAY_POLL_INTERVAL_MS: "100" }))).to.deep.equal(["2000", "100"]);
      expect(gatewayConfigFor({ ...setup, blockTimeMs: 2_000 }, scorer, env).chain.pollIntervalMs).to.equal(500);
    } finally {
      rmSync(setup.dataDir, { recursive: true, force: true });
    }
  });

  it("refuses a block time under a second before starting anything, naming the flag", async () => {
    const run = await runStart(["--block-time", "0.5", "--port", String(await freePort()), "--gateway-port", String(await freePort())], {}, false);
    expect(run.code, run.output).to.equal(1);
    expect(run.output).to.include('--block-time must be seconds between blocks, 1-600 (e.g. 1, 2, 12 or 1.5), got "0.5"');
  });
});
