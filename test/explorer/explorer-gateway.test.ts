/**
 * The gateway's side of the explorer: GET /v1/explorer/config (auditor key; the RPC URL for
 * the browser, the ledger and the compiled code that matches what is deployed), GET /explorer
 * (a shell with a strict Content-Security-Policy and no data) and GET /explorer/app.js (the
 * bundle, with ethers and the verifier inside, nothing from a CDN), and the
 * GATEWAY_EXPLORER_RPC_URL setting.
 */
import { expect } from "chai";
import { getAddress } from "ethers";
import request from "supertest";

import { ConfigError, readGatewayConfig } from "../../server/config";
import { compareRuntime } from "../../verifier/bytecode";
import { get, hardhatKey, testExplorerScript, testGateway, type TestGateway } from "../helpers/gateway";

const EXPLORER_RPC = "http://rpc.example.test:8545";

describe("explorer: gateway endpoints", () => {
  let t: TestGateway;

  before(async () => {
    t = await testGateway({ GATEWAY_EXPLORER_RPC_URL: EXPLORER_RPC, GATEWAY_LEDGER_START_BLOCK: "3" }, { explorerScript: await testExplorerScript() });
  });
  after(async () => {
    await t?.gateway.stop();
  });

  it("answers the explorer's configuration to an auditor key: RPC URL for the browser, ledger, chain, deploy block", async () => {
    for (const key of [t.keys.auditor, t.keys.admin]) {
      const res = await get(t, "/v1/explorer/config", key);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ rpcUrl: EXPLORER_RPC, ledger: t.client.address, chainId: "31337", deployBlock: 3, pageBlocks: 2_000 });
    }
  });

  it("refuses the configuration without a key (401) and to a partner key (403)", async () => {
    const none = await request(t.gateway.app).get("/v1/explorer/config");
    expect(none.status).to.equal(401);
    const partner = await get(t, "/v1/explorer/config", t.keys.partner);
    expect(partner.status).to.equal(403);
    expect(partner.body.type).to.equal("/problems/forbidden");
  });

  it("serves compiled code that equals the deployed ledger and library (the browser's bytecode check passes on an honest gateway)", async () => {
    const { artifacts } = (await get(t, "/v1/explorer/config", t.keys.auditor)).body;
    expect(artifacts.ledger.name).to.equal("contracts/CreditLedger.sol:CreditLedger");
    expect(artifacts.libraries.map((l: { name: string }) => l.name)).to.deep.equal(["contracts/libraries/LoanServicing.sol:LoanServicing"]);
    const code = await t.provider.getCode(t.client.address);
    const [source, libs] = Object.entries(artifacts.ledger.linkReferences as Record<string, Record<string, Array<{ start: number }>>>)[0];
    const [name, refs] = Object.entries(libs)[0];
    const library = getAddress(`0x${code.slice(2 + refs[0].start * 2, 2 + refs[0].start * 2 + 40)}`);
    const libraries = { [`${source}:${name}`]: library };
    expect(compareRuntime({ contract: "CreditLedger", address: t.client.address, deployedCode: code, runtime: artifacts.ledger, libraries }).matches).to.equal(true);
    const libraryCode = await t.provider.getCode(library);
    expect(compareRuntime({ contract: "LoanServicing", address: library, deployedCode: libraryCode, runtime: artifacts.libraries[0], libraries }).matches).to.equal(true);
    // One flipped byte of the artifact is caught.
    const tampered = { ...artifacts.ledger, object: artifacts.ledger.object.slice(0, 100) + (artifacts.ledger.object[100] === "0" ? "1" : "0") + artifacts.ledger.object.slice(101) };
    expect(compareRuntime({ contract: "CreditLedger", address: t.client.address, deployedCode: code, runtime: tampered, libraries }).matches).to.equal(false);
  });

  it("documents the configuration route and the page in the OpenAPI document", async () => {
    const doc = (await request(t.gateway.app).get("/openapi.json")).body;
    expect(doc.paths["/v1/explorer/config"].get["x-scopes"]).to.deep.equal(["auditor", "admin"]);
    expect(doc.paths["/explorer"].get.responses["200"].content).to.have.property("text/html");
  });

  it("serves the page shell without data or inline script, under a CSP that allows scripts only from the gateway and connections to it and to RPC nodes (the configured one, or the auditor's own)", async () => {
    const res = await request(t.gateway.app).get("/explorer");
    expect(res.status).to.equal(200);
    expect(res.headers["content-type"]).to.match(/^text\/html/);
    const csp = res.headers["content-security-policy"];
    expect(csp).to.include("script-src 'self'");
    expect(csp).to.include(`connect-src 'self' ${EXPLORER_RPC} http: https:`);
    expect(csp).to.include("frame-ancestors 'none'");
    expect(res.text).to.include('<script src="/explorer/app.js" defer></script>');
    expect(res.text.match(/<script/g)).to.have.length(1);
    expect(res.text).to.not.include(t.client.address);
    for (const testid of ["key-input", "lookup-input", "progress", "content"]) expect(res.text).to.include(`data-testid="${testid}"`);
  });

  it("serves the bundled script with ethers and the verifier inside, cached by ETag", async () => {
    const res = await request(t.gateway.app).get("/explorer/app.js");
    expect(res.status).to.equal(200);
    expect(res.headers["content-type"]).to.match(/^text\/javascript/);
    expect(res.text).to.include("/v1/explorer/config");
    expect(res.text).to.include("eth_chainId");
    expect(res.text).to.not.match(/require\("(node:)?(fs|path|crypto)"\)/);
    expect(res.text).to.not.include("deployedBytecode"); // the artifact's ABI only: code comes from the config route
    const again = await request(t.gateway.app).get("/explorer/app.js").set("If-None-Match", res.headers.etag);
    expect(again.status).to.equal(304);
  });
});

describe("explorer: a gateway whose script was not built", function () {
  let t: TestGateway;

  before(async () => {
    t = await testGateway();
  });

  after(async () => {
    await t.gateway.stop();
  });

  it("answers /explorer/app.js with a 503 problem saying how to build it, as its OpenAPI entry declares", async () => {
    const res = await request(t.gateway.app).get("/explorer/app.js");
    expect(res.status).to.equal(503);
    expect(res.headers["content-type"]).to.match(/^application\/problem\+json/);
    expect(res.body.type).to.equal("/problems/explorer-not-built");
    expect(res.body.detail).to.include("npm run build");
    const doc = (await request(t.gateway.app).get("/openapi.json")).body;
    expect(Object.keys(doc.paths["/explorer/app.js"].get.responses)).to.include("503");
  });
});

describe("explorer: GATEWAY_EXPLORER_RPC_URL", () => {
  const env = {
    GATEWAY_RPC_URL: "http://127.0.0.1:8545",
    GATEWAY_LEDGER_ADDRESS: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    GATEWAY_MODE: "development", // Hardhat's public keys are refused in production mode
    GATEWAY_OPERATOR_KEY: hardhatKey(1),
    GATEWAY_SCORER_URL: "http://127.0.0.1:8091",
    GATEWAY_SCORER_TOKEN: "t".repeat(40),
    GATEWAY_DB_PATH: ":memory:",
    GATEWAY_VAULT_KEY: "00".repeat(32),
    GATEWAY_IDENTITY_PEPPER: "11".repeat(16),
  };

  it("defaults to the gateway's own RPC URL, and is an http(s) URL when set", () => {
    expect(readGatewayConfig(env).explorer.rpcUrl).to.equal("http://127.0.0.1:8545");
    expect(readGatewayConfig({ ...env, GATEWAY_EXPLORER_RPC_URL: " " }).explorer.rpcUrl).to.equal("http://127.0.0.1:8545");
    expect(readGatewayConfig({ ...env, GATEWAY_EXPLORER_RPC_URL: "https://rpc.example.test/ledger" }).explorer.rpcUrl).to.equal("https://rpc.example.test/ledger");
    expect(() => readGatewayConfig({ ...env, GATEWAY_EXPLORER_RPC_URL: "ws://127.0.0.1:8545" }))
      .to.throw(ConfigError)
      .with.property("message")
      .that.matches(/GATEWAY_EXPLORER_RPC_URL must be an http\(s\) URL/);
  });
});
