/**
 * The whole system on a second EVM node implementation, Foundry's anvil (issue 13, item 4):
 * `npm start -- --node anvil` as a child process (test/helpers/local-system.ts) starts anvil on
 * a free 127.0.0.1 port under its guard, deploys the ledger through Hardhat's localhost network,
 * starts the scorer and the real gateway; this file drives the main paths through the HTTP API
 * only, then runs `npm run audit` against anvil as an auditor would. A second system mines by
 * interval (anvil's --block-time) to show the sender's batching. docs/NODES.md says where the two
 * nodes differ and how the code copes.
 *
 * Anvil missing is a failure, not a skip: `startAnvil` throws saying what to install.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { JsonRpcProvider, Wallet } from "ethers";

import { kycDomain, kycSubjectOf, signKycAttestation } from "../../core/kyc-attestation";
import { normalizeNationalId } from "../../server/vault/identity";
import { anvilBinary } from "../../scripts/lib/anvil-node";
import { CreditLedger__factory } from "../../typechain-types";
import { runAudit, showRun } from "../helpers/audit-cli";
import { GOOD_FEATURES, randomNationalId } from "../helpers/identities";
import { hardhatKey } from "../helpers/gateway";
import { startLocalSystem, type LocalSystem } from "../helpers/local-system";

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One HTTP request to the system's gateway. */
async function call(system: LocalSystem, method: "GET" | "POST", route: string, key: string, body?: unknown, idempotencyKey?: string): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (method === "POST") {
    headers["content-type"] = "application/json";
    headers["idempotency-key"] = idempotencyKey ?? `anvil-${randomBytes(8).toString("hex")}`;
  }
  const response = await fetch(`${system.gateway.url}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} };
}

/** The demo partner's id (the scorer knows requests by it; its KYC verifier is Hardhat's account 9). */
async function demoPartnerId(system: LocalSystem): Promise<string> {
  const res = await call(system, "GET", "/v1/admin/partners", system.gateway.keys.admin);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  const partner = (res.body.partners as Array<{ id: string; name: string }>).find((p) => p.name === "demo partner");
  if (!partner) throw new Error(`no demo partner among ${JSON.stringify(res.body.partners)}`);
  return partner.id;
}

/** KYC evidence about `nationalId`, signed by the demo partners' development verifier, as their KYC provider would. */
async function evidence(system: LocalSystem, partnerId: string, nationalId: string, level = 2) {
  const now = Math.floor(Date.now() / 1000);
  const attestation = { subject: kycSubjectOf(normalizeNationalId(nationalId) ?? nationalId), level, issuedAt: BigInt(now - 60), expiry: BigInt(now + 30 * 86_400), partner: partnerId };
  const signature = await signKycAttestation(new Wallet(hardhatKey(9)), kycDomain(BigInt(system.chainId)), attestation);
  return { attestation: { ...attestation, issuedAt: now - 60, expiry: now + 30 * 86_400 }, signature };
}

const person = () => ({ nationalId: randomNationalId(), name: "李四", phone: `+86 139 ${randomBytes(4).readUInt32BE() % 100_000_000}` });

/** Applies through the API with level-2 evidence; the answer must be an approval. */
async function apply(system: LocalSystem, partnerId: string, product: "pay_later" | "cash_loan", identity = person()): Promise<Answer & { identity: ReturnType<typeof person> }> {
  const res = await call(system, "POST", "/v1/applications", system.gateway.keys.partner, {
    identity,
    product,
    features: GOOD_FEATURES,
    consent: true,
    evidence: await evidence(system, partnerId, identity.nationalId),
  });
  return { ...res, identity };
}

/** The operation until it is confirmed or failed (a hang guard, not a timing assertion). */
async function settled(system: LocalSystem, operationId: string, guardMs = 120_000): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const deadline = Date.now() + guardMs;
  for (;;) {
    const res = await call(system, "GET", `/v1/operations/${operationId}`, system.gateway.keys.partner);
    if (res.status === 200 && res.body.status !== "pending") return res.body;
    if (Date.now() > deadline) expect.fail(`operation ${operationId} did not settle within ${guardMs} ms: ${JSON.stringify(res.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("anvil: the binary", () => {
  it("is installed (the npm package @foundry-rs/anvil), and a missing one is named with what to do", () => {
    expect(anvilBinary(process.env)).to.match(/anvil(\.exe)?$/);
    expect(() => anvilBinary({ ANVIL_BIN: "/nonexistent/anvil" })).to.throw(/ANVIL_BIN is \/nonexistent\/anvil, which does not exist: point it at an anvil binary/);
  });
});

describe("anvil: the gateway end to end (npm start -- --node anvil)", function () {
  this.timeout(400_000);

  let system: LocalSystem;
  let partnerId: string;
  let ledger: ReturnType<typeof CreditLedger__factory.connect>;
  let provider: JsonRpcProvider;
  let dir: string;
  /** Accounts this file created, for the audit's count. */
  const mine: string[] = [];

  before(async () => {
    system = await startLocalSystem({ node: "anvil", timeoutMs: 300_000 });
    dir = mkdtempSync(path.join(tmpdir(), "anvil-e2e-"));
    provider = new JsonRpcProvider(system.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    ledger = CreditLedger__factory.connect(system.ledger, provider);
    partnerId = await demoPartnerId(system);
  });
  after(async () => {
    provider?.destroy();
    await system?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs on anvil: the node says so, chain 31337, and the ledger's code is there", async () => {
    expect(system.node).to.equal("anvil");
    expect(system.output()).to.match(/\[start\] ready in [\d.]+ s on anvil/);
    const version = (await provider.send("web3_clientVersion", [])) as string;
    expect(version.toLowerCase()).to.include("anvil");
    expect(system.chainId).to.equal(31337);
    expect(await provider.getCode(system.ledger)).to.not.equal("0x");
  });

  let payLater: string;
  let identity: ReturnType<typeof person>;
  it("opens an account on an approved application, then grants a second line (cash loan) to the same person", async () => {
    const first = await apply(system, partnerId, "pay_later");
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect(first.body).to.include({ outcome: "approved", product: "pay_later" });
    expect(first.body.operation.status).to.equal("confirmed");
    payLater = first.body.accountId;
    identity = first.identity;
    mine.push(payLater);
    const second = await apply(system, partnerId, "cash_loan", identity);
    expect(second.status, JSON.stringify(second.body)).to.equal(201);
    expect(second.body).to.include({ outcome: "approved", product: "cash_loan", accountId: payLater });
    const account = await call(system, "GET", `/v1/accounts/${payLater}`, system.gateway.keys.partner);
    expect(account.status).to.equal(200);
    expect((account.body.lines as unknown[]).length).to.equal(2);
  });

  it("posts a purchase, a cash draw and a repayment, each confirmed on anvil with its entry", async () => {
    const seqBefore = (await ledger.accountOf(payLater)).seq;
    const purchase = await call(system, "POST", "/v1/purchases", system.gateway.keys.partner, { accountId: payLater, amount: "300000", installments: 3 });
    expect(purchase.status, JSON.stringify(purchase.body)).to.equal(201);
    expect(purchase.body.loanId).to.equal(`${payLater}:1`);
    const cash = await call(system, "POST", "/v1/loans", system.gateway.keys.partner, { accountId: payLater, amount: "600000", periods: 6, method: "annuity" });
    expect(cash.status, JSON.stringify(cash.body)).to.equal(201);
    expect(cash.body.loanId).to.equal(`${payLater}:2`);
    const repaid = await call(system, "POST", "/v1/repayments", system.gateway.keys.partner, { loanId: purchase.body.loanId, amount: "100000" });
    expect(repaid.status, JSON.stringify(repaid.body)).to.equal(200);
    for (const op of [purchase, cash, repaid]) {
      expect(op.body.operation.status).to.equal("confirmed");
      const receipt = await provider.getTransactionReceipt(op.body.operation.txHash);
      expect(receipt?.status, "the transaction succeeded on anvil").to.equal(1);
    }
    expect((await ledger.accountOf(payLater)).seq).to.equal(seqBefore + 3n);
    expect((await ledger.accountOf(payLater)).loanCount).to.equal(2n);
  });

  it("refuses a purchase over the limit with its problem (LimitExceeded, 422) and writes nothing", async () => {
    const seq = (await ledger.accountOf(payLater)).seq;
    const res = await call(system, "POST", "/v1/purchases", system.gateway.keys.partner, { accountId: payLater, amount: "19000000" });
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.headers.get("content-type")).to.match(/^application\/problem\+json/);
    expect(res.body).to.include({ rule: "LimitExceeded" });
    expect(BigInt(res.body.values.requested)).to.equal(19_000_000n);
    expect((await ledger.accountOf(payLater)).seq).to.equal(seq);
  });

  it("answers a retry with the same Idempotency-Key with the first answer and posts nothing twice", async () => {
    const key = `anvil-retry-${randomBytes(6).toString("hex")}`;
    const first = await call(system, "POST", "/v1/purchases", system.gateway.keys.partner, { accountId: payLater, amount: "10000" }, key);
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    const seq = (await ledger.accountOf(payLater)).seq;
    const retry = await call(system, "POST", "/v1/purchases", system.gateway.keys.partner, { amount: "10000", accountId: payLater }, key);
    expect(retry.status).to.equal(201);
    expect(retry.headers.get("idempotent-replayed")).to.equal("true");
    expect(retry.body).to.deep.equal(first.body);
    expect((await ledger.accountOf(payLater)).seq).to.equal(seq);
    expect((await ledger.accountOf(payLater)).loanCount).to.equal(3n);
  });

  it("passes npm run audit against anvil (exit 0, every check, this file's accounts and the demo's among those reported)", async () => {
    const json = path.join(dir, "report.json");
    const run = await runAudit(["--rpc", system.rpcUrl, "--ledger", system.ledger, "--json", json, "--accounts"]);
    expect(run.code, showRun(run)).to.equal(0);
    expect(run.stdout).to.contain("RESULT: every check holds");
    const report = JSON.parse(readFileSync(json, "utf8")) as { ok: boolean; checks: { check: string; status: string; checked: number }[]; stats: { accounts: number; entries?: number } };
    expect(report.ok).to.equal(true);
    expect(report.checks.map((c) => [c.check, c.status])).to.deep.equal(
      ["hash-chain", "ledger-head", "roles", "decisions", "balances", "charges", "cost-ceiling", "limits", "references", "bytecode"].map((c) => [c, "pass"])
    );
    expect(report.checks.every((c) => c.checked > 0), "every check looked at something").to.equal(true);
    expect(report.stats.accounts).to.equal(system.demo.length + mine.length);
    for (const account of [...mine, ...system.demo.map((d) => d.accountId)]) expect(run.stdout).to.contain(account);
  });
});

describe("anvil: interval mining (npm start -- --node anvil --block-time 1)", function () {
  this.timeout(400_000);

  let system: LocalSystem;
  let provider: JsonRpcProvider;
  before(async () => {
    system = await startLocalSystem({ node: "anvil", blockTimeSeconds: 1, timeoutMs: 300_000 });
    provider = new JsonRpcProvider(system.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  });
  after(async () => {
    provider?.destroy();
    await system?.stop();
  });

  it("mines by interval: no block on a transaction's arrival", async () => {
    expect(system.blockTimeMs).to.equal(1_000);
    expect(system.output()).to.include("mining a block every 1 s from now on");
    expect(await provider.send("anvil_getAutomine", [])).to.equal(false);
  });

  it("confirms many operations sent at once in fewer batch transactions than operations", async () => {
    const partnerId = await demoPartnerId(system);
    const accounts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await apply(system, partnerId, "pay_later");
      expect(res.status, JSON.stringify(res.body)).to.be.oneOf([201, 202]);
      if (res.status === 202) expect((await settled(system, res.body.operation.id)).status).to.equal("confirmed");
      accounts.push(res.body.accountId);
    }
    // Twelve purchases at once, four per account: the sender puts what is queued into batch transactions.
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => call(system, "POST", "/v1/purchases", system.gateway.keys.partner, { accountId: accounts[i % 3], amount: String(1_000 + i) }))
    );
    const operations = [];
    for (const a of answers) {
      expect(a.status, JSON.stringify(a.body)).to.be.oneOf([201, 202]);
      operations.push(await settled(system, a.body.operation?.id ?? a.body.operationId));
    }
    expect(operations.map((o) => o.status)).to.deep.equal(Array(12).fill("confirmed"));
    const transactions = new Set(operations.flatMap((o) => (o.steps as Array<{ txHash: string }>).map((s) => s.txHash)));
    expect(transactions.size, `${transactions.size} transactions for 12 operations`).to.be.lessThan(12);
    for (const hash of transactions) expect((await provider.getTransactionReceipt(hash))?.status).to.equal(1);
    const ledger = CreditLedger__factory.connect(system.ledger, provider);
    for (const account of accounts) expect((await ledger.accountOf(account)).loanCount).to.equal(4n);
  });
});
