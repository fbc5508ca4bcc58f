import { expect } from "chai";
import { spawnSync } from "node:child_process";
import path from "node:path";

const root = path.resolve(__dirname, "..", "..");

describe("gateway process (server/main.ts)", () => {
  it("exits 1 naming every missing setting, before touching the network", () => {
    const result = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "server/main.ts"], {
      cwd: root,
      env: { PATH: process.env.PATH, GATEWAY_PORT: "not-a-port", GATEWAY_OPERATOR_KEY: "0xsecret-but-malformed" },
      encoding: "utf8",
    });
    expect(result.status).to.equal(1);
    for (const name of [
      "GATEWAY_RPC_URL",
      "GATEWAY_LEDGER_ADDRESS",
      "GATEWAY_OPERATOR_KEY",
      "GATEWAY_SCORER_URL",
      "GATEWAY_SCORER_TOKEN",
      "GATEWAY_DB_PATH",
      "GATEWAY_VAULT_KEY",
      "GATEWAY_IDENTITY_PEPPER",
      "GATEWAY_PORT",
    ]) {
      expect(result.stderr).to.include(name);
    }
    expect(result.stderr).not.to.include("0xsecret-but-malformed");
  });
});
