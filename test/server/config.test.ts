import { expect } from "chai";
import { inspect } from "node:util";

import { ConfigError, readGatewayConfig, waitsByDefault, type Env } from "../../server/config";
import { createLogger } from "../../server/logger";

const OPERATOR_KEY = `0x${"11".repeat(32)}`;
const SCORER_KEY = `0x${"22".repeat(32)}`;
const SCORER_TOKEN = "s".repeat(40);
const KEYSTORE_PASSWORD = "correct horse battery staple";
const VAULT_KEY_HEX = "ab".repeat(32);
const PEPPER = Buffer.alloc(24, 9).toString("base64");

const validEnv = (overrides: Env = {}): Env => ({
  GATEWAY_RPC_URL: "http://127.0.0.1:8545",
  GATEWAY_LEDGER_ADDRESS: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  GATEWAY_OPERATOR_KEYSTORE: "/etc/credit-ledger/operator.json",
  GATEWAY_OPERATOR_KEYSTORE_PASSWORD: KEYSTORE_PASSWORD,
  GATEWAY_SCORER_URL: "http://127.0.0.1:8091",
  GATEWAY_SCORER_TOKEN: SCORER_TOKEN,
  GATEWAY_DB_PATH: "/tmp/gateway-test.sqlite",
  GATEWAY_VAULT_KEY: VAULT_KEY_HEX,
  GATEWAY_IDENTITY_PEPPER: PEPPER,
  ...overrides,
});

function problemsOf(env: Env): string[] {
  try {
    readGatewayConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  expect.fail("configuration was accepted");
}

describe("gateway configuration", () => {
  it("reads a complete environment, with the documented defaults", () => {
    const config = readGatewayConfig(validEnv());
    expect(config.chain.rpcUrl).to.equal("http://127.0.0.1:8545");
    expect(config.chain.ledgerAddress).to.equal("0x5FbDB2315678afecb367f032d93F642f64180aa3");
    expect(config.http).to.deep.equal({ host: "127.0.0.1", port: 8080, bodyLimitBytes: 16_384 });
    expect(config.chain.confirmations).to.equal(1);
    expect(config.waitDefault).to.equal("auto");
    expect(config.keys.operator).to.include({ kind: "keystore", path: "/etc/credit-ledger/operator.json", setting: "GATEWAY_OPERATOR_KEYSTORE" });
    expect(config.keys.operator.kind === "keystore" && config.keys.operator.password.reveal()).to.equal(KEYSTORE_PASSWORD);
    expect(config.vault.keyring.reveal()).to.deep.equal({ currentId: "k0", keys: [["k0", Buffer.from(VAULT_KEY_HEX, "hex")]] });
    expect(config.vault.identityPepper.reveal().length).to.equal(24);
  });

  it("batches by size and by a wait budget of a quarter of the block time unless set, with several batches in flight", () => {
    expect(readGatewayConfig(validEnv()).chain.batching, "mined on demand: a batch goes at once").to.deep.equal({ maxOps: 50, waitMs: 0, maxInFlight: 8 });
    const interval = readGatewayConfig(validEnv({ GATEWAY_BLOCK_TIME_MS: "2000" })).chain;
    expect([interval.blockTimeMs, interval.batching.waitMs]).to.deep.equal([2_000, 500]);
    const set = readGatewayConfig(validEnv({ GATEWAY_BLOCK_TIME_MS: "2000", GATEWAY_BATCH_WAIT_MS: "100", GATEWAY_BATCH_MAX_OPS: "200", GATEWAY_MAX_IN_FLIGHT: "4" }));
    expect(set.chain.batching).to.deep.equal({ maxOps: 200, waitMs: 100, maxInFlight: 4 });
    expect(problemsOf(validEnv({ GATEWAY_BATCH_MAX_OPS: "0", GATEWAY_MAX_IN_FLIGHT: "x" })).join("\n")).to.match(/GATEWAY_BATCH_MAX_OPS[\s\S]*GATEWAY_MAX_IN_FLIGHT|GATEWAY_MAX_IN_FLIGHT[\s\S]*GATEWAY_BATCH_MAX_OPS/);
  });

  it("accepts the vault key as base64 too", () => {
    const key = Buffer.alloc(32, 5);
    const config = readGatewayConfig(validEnv({ GATEWAY_VAULT_KEY: key.toString("base64") }));
    expect(config.vault.keyring.reveal().keys[0][1]).to.deep.equal(key);
  });

  it("names every missing setting at once", () => {
    const problems = problemsOf({});
    for (const name of [
      "GATEWAY_RPC_URL",
      "GATEWAY_LEDGER_ADDRESS",
      "GATEWAY_OPERATOR_KEYSTORE",
      "GATEWAY_SCORER_URL",
      "GATEWAY_SCORER_TOKEN",
      "GATEWAY_DB_PATH",
      "GATEWAY_VAULT_KEY",
      "GATEWAY_IDENTITY_PEPPER",
    ]) {
      expect(
        problems.some((p) => p.startsWith(`${name} is not set`)),
        name
      ).to.equal(true);
    }
  });

  it("names every bad setting, without showing secret values", () => {
    const badKey = "0xnot-a-key-but-secret";
    const problems = problemsOf(
      validEnv({
        GATEWAY_RPC_URL: "ftp://example",
        GATEWAY_LEDGER_ADDRESS: "0x1234",
        GATEWAY_MODE: "development", // a raw key: development only
        GATEWAY_OPERATOR_KEYSTORE: undefined,
        GATEWAY_OPERATOR_KEY: badKey,
        GATEWAY_VAULT_KEY: "abcd",
        GATEWAY_PORT: "99999",
        GATEWAY_CONFIRMATIONS: "0",
        GATEWAY_WAIT_DEFAULT: "sometimes",
        GATEWAY_HOST: "localhost:80",
      })
    );
    const named = problems.map((p) => p.split(" ")[0]).sort();
    expect(named).to.deep.equal(
      [
        "GATEWAY_CONFIRMATIONS",
        "GATEWAY_HOST",
        "GATEWAY_LEDGER_ADDRESS",
        "GATEWAY_OPERATOR_KEY",
        "GATEWAY_PORT",
        "GATEWAY_RPC_URL",
        "GATEWAY_VAULT_KEY",
        "GATEWAY_WAIT_DEFAULT",
      ].sort()
    );
    expect(problems.join("\n")).not.to.include(badKey);
    expect(problems.join("\n")).not.to.include("abcd");
  });

  it("refuses a scorer key in the gateway's environment (separation of duties: only the scorer process holds it)", () => {
    for (const name of ["GATEWAY_SCORER_KEY", "SCORER_KEY"]) {
      const problems = problemsOf(validEnv({ [name]: SCORER_KEY }));
      expect(problems, name).to.have.length(1);
      expect(problems[0]).to.match(new RegExp(`^${name} must not be in the gateway's environment`));
      expect(problems[0]).not.to.include(SCORER_KEY);
    }
  });

  it("reads the scorer's URL and token; the token is a secret and must be at least 32 characters", () => {
    const config = readGatewayConfig(validEnv({ GATEWAY_SCORER_URL: "http://127.0.0.1:8091/" }));
    expect(config.scorer.url).to.equal("http://127.0.0.1:8091");
    expect(config.scorer.token.reveal()).to.equal(SCORER_TOKEN);
    expect(JSON.stringify(config)).not.to.include(SCORER_TOKEN);
    const problems = problemsOf(validEnv({ GATEWAY_SCORER_TOKEN: "short-secret" }));
    expect(problems[0]).to.match(/^GATEWAY_SCORER_TOKEN must be at least 32 characters/);
    expect(problems.join("\n")).not.to.include("short-secret");
  });

  it("never prints a secret: JSON, util.inspect and the logger show [redacted]", () => {
    const config = readGatewayConfig(validEnv());
    const development = readGatewayConfig(validEnv({ GATEWAY_MODE: "development", GATEWAY_OPERATOR_KEYSTORE: undefined, GATEWAY_OPERATOR_KEY: OPERATOR_KEY }));
    const lines: string[] = [];
    const logger = createLogger("info", { write: (line: string) => lines.push(line) });
    logger.info({ config, development }, "starting");
    for (const text of [JSON.stringify([config, development]), inspect([config, development], { depth: 10 }), lines.join("")]) {
      expect(text).not.to.include(OPERATOR_KEY.slice(2));
      expect(text).not.to.include(KEYSTORE_PASSWORD);
      expect(text).not.to.include(SCORER_TOKEN);
      expect(text).not.to.include(VAULT_KEY_HEX);
      expect(text).not.to.include(PEPPER);
      expect(text).to.include("[redacted]");
    }
  });

  it("waits for confirmation by default in development mode only (auto), whatever the chain", () => {
    expect(waitsByDefault({ waitDefault: "auto", mode: "development" })).to.equal(true);
    expect(waitsByDefault({ waitDefault: "auto", mode: "production" })).to.equal(false);
    expect(waitsByDefault({ waitDefault: "true", mode: "production" })).to.equal(true);
    expect(waitsByDefault({ waitDefault: "false", mode: "development" })).to.equal(false);
  });

  it("runs in production mode unless GATEWAY_MODE says development, and refuses another mode", () => {
    expect(readGatewayConfig(validEnv()).mode).to.equal("production");
    expect(readGatewayConfig(validEnv({ GATEWAY_MODE: "development" })).mode).to.equal("development");
    expect(problemsOf(validEnv({ GATEWAY_MODE: "local" }))).to.deep.equal(['GATEWAY_MODE must be "development" or "production"']);
  });

  it("says how to set a missing secret", () => {
    const problems = problemsOf(validEnv({ GATEWAY_VAULT_KEY: undefined, GATEWAY_IDENTITY_PEPPER: undefined })).sort();
    expect(problems).to.have.length(2);
    expect(problems[0]).to.match(/^GATEWAY_IDENTITY_PEPPER is not set \(set it to .*openssl rand -hex 32/);
    expect(problems[1]).to.match(/^GATEWAY_VAULT_KEY is not set \(set it to 32 random bytes.*openssl rand -hex 32 \(or set GATEWAY_VAULT_KEYS and GATEWAY_VAULT_KEY_ID\)/);
  });

  it("reads a vault keyring (GATEWAY_VAULT_KEYS + GATEWAY_VAULT_KEY_ID), and refuses a keyring without its sealing key", () => {
    const [a, b] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    const ring = `old:${a.toString("base64")}, new:${b.toString("hex")}`;
    const config = readGatewayConfig(validEnv({ GATEWAY_VAULT_KEY: undefined, GATEWAY_VAULT_KEYS: ring, GATEWAY_VAULT_KEY_ID: "new" }));
    expect(config.vault.keyring.reveal()).to.deep.equal({ currentId: "new", keys: [["old", a], ["new", b]] });
    expect(problemsOf(validEnv({ GATEWAY_VAULT_KEY: undefined, GATEWAY_VAULT_KEYS: ring }))).to.deep.equal([
      "GATEWAY_VAULT_KEY_ID is not set: name the key of GATEWAY_VAULT_KEYS that seals (one of old, new)",
    ]);
    expect(problemsOf(validEnv({ GATEWAY_VAULT_KEY: undefined, GATEWAY_VAULT_KEYS: ring, GATEWAY_VAULT_KEY_ID: "newer" }))).to.deep.equal([
      'GATEWAY_VAULT_KEY_ID "newer" is not a key of GATEWAY_VAULT_KEYS (old, new)',
    ]);
    expect(problemsOf(validEnv({ GATEWAY_VAULT_KEYS: ring, GATEWAY_VAULT_KEY_ID: "new" }))[0]).to.match(/GATEWAY_VAULT_KEY and GATEWAY_VAULT_KEYS are both set/);
    const bad = problemsOf(validEnv({ GATEWAY_VAULT_KEY: undefined, GATEWAY_VAULT_KEYS: `old:${a.toString("base64")},new:short`, GATEWAY_VAULT_KEY_ID: "new" }));
    expect(bad).to.have.length(1);
    expect(bad[0]).to.match(/^GATEWAY_VAULT_KEYS must be "id:key,id2:key2".*entry 2 is not; the value is not shown/);
    expect(bad[0]).not.to.include(a.toString("base64"));
  });
});
