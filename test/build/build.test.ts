/**
 * The build (docs/DEPLOYMENT.md): `npm run build` compiles the gateway to plain JavaScript, and
 * `node <build>/server/main.js` (no ts-node, no TypeScript) runs a gateway against the ledger of
 * `npm start -- --chain-only`: it answers its health, serves the explorer's script it was built
 * with, records an application on-chain and shows the account's history verified. The build
 * goes to cache/build-test/ (ignored; inside the repository so node finds node_modules).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes, createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { expect } from "chai";

import { freePort } from "../../scripts/lib/gateway-process";
import { startScorerProcess, type ScorerProcess } from "../../scripts/lib/scorer-process";
import { randomNationalId } from "../helpers/identities";
import { hardhatKey } from "../helpers/gateway";
import { startLocalSystem, type LocalSystem } from "../helpers/local-system";

const ROOT = path.resolve(__dirname, "..", "..");
const OUT = path.join(ROOT, "cache", "build-test");

describe("the build: node runs the compiled gateway", function () {
  this.timeout(600_000);
  let system: LocalSystem | undefined;
  let gateway: ChildProcess | undefined;
  let scorer: ScorerProcess | undefined;
  const scorerToken = randomBytes(24).toString("hex");
  let dataDir: string | undefined;
  let url = "";
  let key = "";
  const output: string[] = [];

  before(async () => {
    const build = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join("scripts", "build.ts"), "--out", OUT], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });
    expect(build.status, `npm run build failed:\n${build.stdout}\n${build.stderr}`).to.equal(0);
    for (const file of ["server/main.js", "core/scoring/models/scorecard-v1.json", "verifier/explorer/app.js", "artifacts/contracts/CreditLedger.sol/CreditLedger.json"]) {
      expect(existsSync(path.join(OUT, file)), `${file} is in the build`).to.equal(true);
    }
    system = await startLocalSystem({ chainOnly: true });
    dataDir = mkdtempSync(path.join(tmpdir(), "credit-ledger-build-"));
    // The scorer beside the built gateway: its own process and key (from source: the build is the gateway's).
    // Started before the gateway's port is picked: its port 0 could otherwise be given the port just freed.
    scorer = await startScorerProcess({
      SCORER_MODE: "development",
      SCORER_KEY: hardhatKey(2),
      SCORER_TOKEN: scorerToken,
      SCORER_DB_PATH: path.join(dataDir, "scorer.sqlite"),
      SCORER_CHAIN_ID: String(system.chainId),
      SCORER_LEDGER_ADDRESS: system.ledger,
      SCORER_PORT: "0",
    });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(GATEWAY_|TS_NODE_)/.test(name)));
    gateway = spawn(process.execPath, [path.join(OUT, "server", "main.js")], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...env,
        GATEWAY_RPC_URL: system.rpcUrl,
        GATEWAY_LEDGER_ADDRESS: system.ledger,
        GATEWAY_MODE: "development", // Hardhat's public keys are refused in production mode
        GATEWAY_OPERATOR_KEY: hardhatKey(1),
        GATEWAY_SCORER_URL: scorer.url,
        GATEWAY_SCORER_TOKEN: scorerToken,
        GATEWAY_DB_PATH: path.join(dataDir, "gateway.sqlite"),
        GATEWAY_VAULT_KEY: randomBytes(32).toString("hex"),
        GATEWAY_IDENTITY_PEPPER: randomBytes(16).toString("hex"),
        GATEWAY_PORT: String(port),
        GATEWAY_LOG_LEVEL: "warn",
        GATEWAY_POLL_INTERVAL_MS: "100",
      },
    });
    gateway.stdout!.on("data", (b: Buffer) => output.push(b.toString()));
    gateway.stderr!.on("data", (b: Buffer) => output.push(b.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the built gateway did not start:\n${output.join("")}`)), 60_000);
      gateway!.stdout!.on("data", (b: Buffer) => {
        if (b.toString().includes("gateway listening")) {
          clearTimeout(timer);
          resolve();
        }
      });
      gateway!.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the built gateway exited with ${code}:\n${output.join("")}`));
      });
    });
    // A partner key, as an operator would add one to the gateway's database.
    key = `clk_${randomBytes(32).toString("base64url")}`;
    const db = new Database(path.join(dataDir, "gateway.sqlite"));
    db.pragma("busy_timeout = 5000");
    db.prepare("INSERT INTO api_keys (id, key_hash, name, scopes, created_at) VALUES (?, ?, ?, ?, ?)").run(
      "key_build_test",
      createHash("sha256").update(key).digest("hex"),
      "build test",
      "partner",
      new Date().toISOString()
    );
    db.close();
  });

  after(async () => {
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((resolve) => gateway!.once("exit", resolve));
      gateway.kill("SIGTERM");
      await exited;
    }
    await scorer?.kill();
    await system?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    rmSync(OUT, { recursive: true, force: true });
  });

  it("answers its health and serves the explorer's script it was built with", async () => {
    const health = await fetch(`${url}/healthz`);
    expect(health.status, output.join("")).to.equal(200);
    const body = (await health.json()) as { chain: { reachable: boolean; ledger: string } };
    expect(body.chain).to.include({ reachable: true, ledger: system!.ledger });
    const script = await fetch(`${url}/explorer/app.js`);
    expect(script.status).to.equal(200);
    expect(await script.text()).to.include("/v1/explorer/config");
  });

  it("records an application on-chain and shows the account's history verified against its head", async () => {
    const headers = { Authorization: `Bearer ${key}`, "Content-Type": "application/json" };
    const applied = await fetch(`${url}/v1/applications`, {
      method: "POST",
      headers: { ...headers, "Idempotency-Key": "build-test-1" },
      body: JSON.stringify({
        identity: { nationalId: randomNationalId(), name: "Li Lei", phone: "+86 138 0000 0000" },
        product: "pay_later",
        features: { onTimeRepaymentPct: 100, tenureMonths: 60 },
        consent: true,
      }),
    });
    const application = (await applied.json()) as { accountId: string; outcome: string; operation: { status: string } };
    expect(applied.status, JSON.stringify(application)).to.equal(201);
    expect(application.operation.status).to.equal("confirmed");
    const history = (await (await fetch(`${url}/v1/accounts/${application.accountId}/history`, { headers })).json()) as {
      verified: boolean;
      entries: Array<{ kind: string }>;
    };
    expect(history.verified).to.equal(true);
    expect(history.entries.map((e) => e.kind)).to.deep.equal(["AccountOpened", application.outcome === "approved" ? "LineGranted" : "DecisionDeclined"]);
  });
});
