/**
 * `npm start -- --rpc <url> --ledger <address>` as a child process (the program npm runs,
 * `ts-node scripts/start.ts`, without npm's wrapper): a gateway for an existing chain runs in
 * production mode, so it refuses to start without configured secrets, writes no secrets file
 * beside its data and prints no key. The chain is this test's in-process Hardhat network
 * (chain 31337) served over JSON-RPC: the chain id decides nothing.
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

import { GATEWAY_DATA_ROOT } from "../../scripts/lib/gateway-setup";
import { freePort } from "../../scripts/lib/gateway-process";
import { deployLedger, type Ledger } from "../helpers/fixtures";

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
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses to start without configured secrets, naming each and how to set it, and writes nothing", async () => {
    const before = gatewayDirs();
    const run = await runStart(["--rpc", node.rpcUrl, "--ledger", ledgerAddress, "--gateway-port", String(await freePort())], {}, false);
    expect(run.code, run.output).to.equal(1);
    for (const name of ["GATEWAY_OPERATOR_KEY", "SCORER_KEY", "GATEWAY_VAULT_KEY", "GATEWAY_IDENTITY_PEPPER"]) {
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

  it("with its secrets configured, starts on chain 31337, writes no secrets file and prints no key", async () => {
    const operator = Wallet.createRandom();
    const scorer = Wallet.createRandom();
    await l.ledger.connect(l.admin).grantRole(id("OPERATOR_ROLE"), operator.address);
    await l.ledger.connect(l.admin).grantRole(id("SCORER_ROLE"), scorer.address);
    await network.provider.request({ method: "hardhat_setBalance", params: [operator.address, "0x56BC75E2D63100000"] });
    const secrets = {
      GATEWAY_OPERATOR_KEY: operator.privateKey,
      SCORER_KEY: scorer.privateKey,
      GATEWAY_VAULT_KEY: randomBytes(32).toString("hex"),
      GATEWAY_IDENTITY_PEPPER: randomBytes(32).toString("hex"),
    };
    const readyFile = path.join(dir, "ready.json");
    const dbPath = path.join(dir, "gateway.sqlite");
    const before = gatewayDirs();
    let made: string[] = [];
    try {
      const run = await runStart(
        ["--rpc", node.rpcUrl, "--ledger", ledgerAddress, "--gateway-port", String(await freePort()), "--ready-file", readyFile],
        { ...secrets, GATEWAY_DB_PATH: dbPath },
        true
      );
      made = gatewayDirs().filter((d) => !before.includes(d));
      expect(run.output).to.include("[start] gateway mode: production");
      expect(run.output).to.include("partner gateway is up");
      expect(run.output).to.include("npm run admin -- admin-keys issue");
      expect(run.output, "an API key was printed").not.to.match(/clk_/);
      for (const value of Object.values(secrets)) expect(run.output).not.to.include(value);
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
