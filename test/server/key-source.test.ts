/**
 * Keys kept like keys (core/key-source.ts): the operator and scorer keys come from an encrypted
 * JSON keystore or a remote signer; a raw key in the environment is refused outside
 * development. The remote signer here is a real HTTP JSON-RPC server (test/helpers/remote-signer.ts)
 * holding the key; the end-to-end case runs a production gateway and a scorer process whose
 * keys both live in remote signers, and the ledger accepts what they signed.
 */
import { expect } from "chai";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { hexlify, id, randomBytes, Wallet, type Signer } from "ethers";
import { network } from "hardhat";
import request from "supertest";

import { decisionDomain } from "../../core/decision";
import { KeySourceError, openSigner, readKeySource, RemoteSigner, type KeySource } from "../../core/key-source";
import { kycDomain, kycSubjectOf, signKycAttestation } from "../../core/kyc-attestation";
import { OutboxSender } from "../../server/chain/outbox-sender";
import { ScorerClient } from "../../server/chain/scorer-client";
import { readGatewayConfig } from "../../server/config";
import { createGateway } from "../../server/gateway";
import { GatewayMetrics } from "../../server/metrics";
import { normalizeNationalId } from "../../server/vault/identity";
import { startLocalScorer } from "../../scripts/lib/scorer-setup";
import { DEVELOPMENT_CHAIN_AHEAD } from "../../scripts/lib/scorer-process";
import { applicationBody, chainEdges, memoryStore, newIdempotencyKey, scorerFor, silentLogger, testGatewayEnv } from "../helpers/gateway";
import { writeTestKeystore } from "../helpers/keystore";
import { startRemoteSigner } from "../helpers/remote-signer";

const OPTIONS = { allowRaw: false, developmentSwitch: "GATEWAY_MODE=development", role: "the operator key" };

function read(env: Record<string, string | undefined>, allowRaw = false): { source?: KeySource; problems: string[] } {
  const problems: string[] = [];
  const source = readKeySource(env, "GATEWAY_OPERATOR", { ...OPTIONS, allowRaw }, problems);
  return { source, problems };
}

describe("role keys: keystores and remote signers, raw keys only in development", function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "key-source-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("reading the source from the environment", () => {
    it("refuses a raw key unless development, naming where to keep it instead", () => {
      const raw = { GATEWAY_OPERATOR_KEY: `0x${"12".repeat(32)}` };
      const refused = read(raw);
      expect(refused.source).to.equal(undefined);
      expect(refused.problems[0]).to.match(/^GATEWAY_OPERATOR_KEY is a raw private key in the environment, which a production setup refuses: keep the operator key in GATEWAY_OPERATOR_KEYSTORE .* or GATEWAY_OPERATOR_SIGNER_URL .*; or set GATEWAY_MODE=development/);
      expect(refused.problems.join("")).not.to.include("12".repeat(32));
      expect(read(raw, true).source).to.include({ kind: "raw", setting: "GATEWAY_OPERATOR_KEY" });
    });

    it("takes exactly one source and names what is missing", () => {
      expect(read({}).problems).to.deep.equal([
        "GATEWAY_OPERATOR_KEYSTORE is not set (set it to the operator key: GATEWAY_OPERATOR_KEYSTORE (an encrypted JSON keystore: npm run admin -- keystore new) with GATEWAY_OPERATOR_KEYSTORE_PASSWORD_FILE, or GATEWAY_OPERATOR_SIGNER_URL with GATEWAY_OPERATOR_SIGNER_ADDRESS (a remote signer))",
      ]);
      expect(read({ GATEWAY_OPERATOR_KEYSTORE: "/k.json", GATEWAY_OPERATOR_SIGNER_URL: "http://127.0.0.1:9" }).problems[0]).to.match(
        /^GATEWAY_OPERATOR_KEYSTORE and GATEWAY_OPERATOR_SIGNER_URL are both set: the operator key comes from one source/
      );
      expect(read({ GATEWAY_OPERATOR_KEYSTORE: "/k.json" }).problems[0]).to.match(/^GATEWAY_OPERATOR_KEYSTORE is set but not its password: set GATEWAY_OPERATOR_KEYSTORE_PASSWORD_FILE/);
      expect(read({ GATEWAY_OPERATOR_SIGNER_URL: "http://127.0.0.1:9" }).problems[0]).to.match(/^GATEWAY_OPERATOR_SIGNER_ADDRESS must be the address the remote signer at http:\/\/127.0.0.1:9 signs for \(not set\)/);
      expect(read({ GATEWAY_OPERATOR_SIGNER_URL: "ftp://x", GATEWAY_OPERATOR_SIGNER_ADDRESS: Wallet.createRandom().address }).problems[0]).to.match(/must be an http\(s\) URL/);
    });

    it("reads the keystore password from a file only this user can read, and refuses an empty or missing one", () => {
      const file = path.join(dir, "password");
      writeFileSync(file, "s3cret password\n", { mode: 0o600 });
      const ok = read({ GATEWAY_OPERATOR_KEYSTORE: "/k.json", GATEWAY_OPERATOR_KEYSTORE_PASSWORD_FILE: file });
      expect(ok.source?.kind === "keystore" && ok.source.password.reveal()).to.equal("s3cret password");
      expect(JSON.stringify(ok.source)).not.to.include("s3cret");

      chmodSync(file, 0o644);
      expect(read({ GATEWAY_OPERATOR_KEYSTORE: "/k.json", GATEWAY_OPERATOR_KEYSTORE_PASSWORD_FILE: file }).problems[0]).to.equal(
        `GATEWAY_OPERATOR_KEYSTORE_PASSWORD_FILE ${file} can be read by other users (mode 0644): chmod 600 ${file}`
      );
      const empty = path.join(dir, "empty");
      writeFileSync(empty, "", { mode: 0o600 });
      expect(read({ GATEWAY_OPERATOR_KEYSTORE: "/k.json", GATEWAY_OPERATOR_KEYSTORE_PASSWORD_FILE: empty }).problems[0]).to.match(/is empty: it must hold the keystore's password/);
      expect(read({ GATEWAY_OPERATOR_KEYSTORE: "/k.json", GATEWAY_OPERATOR_KEYSTORE_PASSWORD_FILE: path.join(dir, "none") }).problems[0]).to.match(/cannot be read \(ENOENT\)/);
    });
  });

  describe("opening a keystore", () => {
    it("opens with its password, and says which setting to check when the password or the file is wrong", async () => {
      const wallet = Wallet.createRandom();
      const ks = await writeTestKeystore(wallet.privateKey);
      try {
        const source: KeySource = { kind: "keystore", setting: "GATEWAY_OPERATOR_KEYSTORE", path: ks.file, password: { reveal: () => ks.password } as never };
        expect((await openSigner(source)).address).to.equal(wallet.address);
        const wrong = { ...source, password: { reveal: () => "not the password" } as never };
        await expectKeySourceError(openSigner(wrong), `GATEWAY_OPERATOR_KEYSTORE ${ks.file}: the password does not open it: check the keystore file and its password setting`);
        const notJson = path.join(ks.dir, "not.json");
        writeFileSync(notJson, "hello");
        await expectKeySourceError(openSigner({ ...source, path: notJson }), /not a JSON keystore/);
        await expectKeySourceError(openSigner({ ...source, path: path.join(ks.dir, "missing.json") }), /cannot be read \(ENOENT\): point it at the encrypted JSON keystore/);
      } finally {
        ks.remove();
      }
    });
  });

  describe("a remote signer", () => {
    it("signs and sends a transaction the node accepts; a Clef-shaped answer too", async () => {
      const edges = await chainEdges();
      const key = Wallet.createRandom();
      await network.provider.request({ method: "hardhat_setBalance", params: [key.address, "0x56BC75E2D63100000"] });
      const remote = await startRemoteSigner(key.privateKey);
      try {
        const signer = await openSigner({ kind: "remote", setting: "GATEWAY_OPERATOR_SIGNER_URL", url: remote.url, address: key.address }, edges.provider);
        const to = Wallet.createRandom().address;
        const receipt = await (await signer.sendTransaction({ to, value: 1_000n })).wait();
        expect(receipt?.status).to.equal(1);
        expect(await edges.provider.getBalance(to)).to.equal(1_000n);
        remote.misbehave("clef-shape");
        await (await signer.sendTransaction({ to, value: 1n })).wait();
        expect(await edges.provider.getBalance(to)).to.equal(1_001n);
        expect(remote.signed.transactions).to.equal(2);
      } finally {
        await remote.close();
      }
    });

    it("refuses a signer that signs another transaction or with another key: nothing is broadcast", async () => {
      const edges = await chainEdges();
      const key = Wallet.createRandom();
      await network.provider.request({ method: "hardhat_setBalance", params: [key.address, "0x56BC75E2D63100000"] });
      const remote = await startRemoteSigner(key.privateKey);
      try {
        const signer = await openSigner({ kind: "remote", setting: "GATEWAY_OPERATOR_SIGNER_URL", url: remote.url, address: key.address }, edges.provider);
        for (const mode of ["alter-nonce", "other-key"] as const) {
          remote.misbehave(mode);
          await expectKeySourceError(signer.sendTransaction({ to: key.address, value: 1n }), /signed a different transaction than asked .*: nothing was broadcast/);
        }
        expect(await edges.provider.getTransactionCount(key.address)).to.equal(0);
        const domain = decisionDomain(31337n, Wallet.createRandom().address);
        await expectKeySourceError(
          signer.signTypedData(domain, { Ping: [{ name: "n", type: "uint256" }] }, { n: 1 }),
          new RegExp(`signed with 0x[0-9a-fA-F]{40}, not ${key.address}`)
        );
      } finally {
        await remote.close();
      }
    });

    it("signs typed data exactly as the key itself would", async () => {
      const key = Wallet.createRandom();
      const remote = await startRemoteSigner(key.privateKey);
      try {
        const signer = new RemoteSigner(remote.url, key.address, undefined, null);
        const domain = kycDomain(31337n);
        const attestation = { subject: kycSubjectOf("110101199003077777"), level: 2, issuedAt: 1n, expiry: 2n, partner: "p" };
        expect(await signKycAttestation(signer, domain, attestation)).to.equal(await signKycAttestation(key, domain, attestation));
        expect(remote.signed.typedData).to.equal(1);
      } finally {
        await remote.close();
      }
    });

    it("refuses at open a signer that does not hold the address, a wrong token, and one that cannot be reached", async () => {
      const key = Wallet.createRandom();
      const remote = await startRemoteSigner(key.privateKey, { token: "the signer's token" });
      try {
        const other = Wallet.createRandom().address;
        const source = { kind: "remote" as const, setting: "GATEWAY_OPERATOR_SIGNER_URL", url: remote.url, address: other, token: { reveal: () => "the signer's token" } as never };
        await expectKeySourceError(openSigner(source), new RegExp(`does not hold ${other} \\(its accounts: ${key.address}\\): check the signer address setting`));
        await expectKeySourceError(openSigner({ ...source, address: key.address, token: undefined }), /refused the request \(HTTP 401\): check the signer token setting/);
        expect((await openSigner({ ...source, address: key.address })).address).to.equal(key.address);
      } finally {
        await remote.close();
      }
      await expectKeySourceError(openSigner({ kind: "remote", setting: "S", url: remote.url, address: key.address }), /cannot be reached .*: check the signer URL and that it runs/);
    });
  });

  it("runs a production gateway and a scorer process whose keys live in remote signers: the ledger accepts what they signed", async () => {
    const edges = await chainEdges();
    const operatorKey = Wallet.createRandom();
    const scorerKey = Wallet.createRandom();
    await edges.l.ledger.connect(edges.l.admin).grantRole(id("OPERATOR_ROLE"), operatorKey.address);
    await edges.l.ledger.connect(edges.l.admin).grantRole(id("SCORER_ROLE"), scorerKey.address);
    await network.provider.request({ method: "hardhat_setBalance", params: [operatorKey.address, "0x56BC75E2D63100000"] });
    const operatorSigner = await startRemoteSigner(operatorKey.privateKey);
    const scorerSigner = await startRemoteSigner(scorerKey.privateKey, { token: "scorer signer token" });
    const data = mkdtempSync(path.join(dir, "scorer-"));
    const scorer = await startLocalScorer({
      chainId: edges.client.chainId,
      ledger: edges.client.address,
      dataDir: data,
      development: false,
      env: {
        ...DEVELOPMENT_CHAIN_AHEAD, // tests move the shared chain's time ahead
        SCORER_SIGNER_URL: scorerSigner.url,
        SCORER_SIGNER_ADDRESS: scorerKey.address,
        SCORER_SIGNER_TOKEN: "scorer signer token",
        SCORER_LOG_LEVEL: "silent",
      },
    });
    const { GATEWAY_OPERATOR_KEY: _raw, ...env } = testGatewayEnv(edges.client.address, {
      GATEWAY_MODE: "production",
      GATEWAY_OPERATOR_SIGNER_URL: operatorSigner.url,
      GATEWAY_OPERATOR_SIGNER_ADDRESS: operatorKey.address,
      GATEWAY_SCORER_URL: scorer.url,
      GATEWAY_SCORER_TOKEN: scorer.token,
    });
    void _raw;
    const gateway = await createGateway(readGatewayConfig(env), {
      provider: edges.provider,
      store: memoryStore(edges.clock),
      clock: edges.clock,
      logger: silentLogger(),
      metrics: new GatewayMetrics({ defaultMetrics: false }),
      explorerScript: null,
    });
    try {
      await gateway.start({ listen: false });
      expect(scorer.address).to.equal(scorerKey.address);
      const { key: partnerKey, partner } = await gateway.partners.create({ name: "partner" }, "test");
      const verifier = Wallet.createRandom();
      await scorer.registerVerifier(partner.id, verifier.address);
      const body = applicationBody();
      // The scorer judges an attestation's times by its own (wall) clock, not the chain's, which tests move ahead.
      const now = BigInt(Math.floor(Date.now() / 1000));
      const attestation = { subject: kycSubjectOf(normalizeNationalId(String(body.identity.nationalId))!), level: 2, issuedAt: now - 60n, expiry: now + 86_400n, partner: partner.id };
      const evidence = { attestation: { ...attestation, issuedAt: Number(attestation.issuedAt), expiry: Number(attestation.expiry) }, signature: await signKycAttestation(verifier, kycDomain(edges.client.chainId), attestation) };
      const res = await request(gateway.app)
        .post("/v1/applications?wait=true")
        .set("Authorization", `Bearer ${partnerKey.key}`)
        .set("Idempotency-Key", newIdempotencyKey())
        .send({ ...body, evidence });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body.outcome).to.equal("approved");
      // On-chain: a line granted on a decision the scorer's remote key signed, in a transaction the operator's remote key signed.
      const lines = await edges.l.ledger.queryFilter(edges.l.ledger.filters.LineGranted());
      const granted = lines.find((l) => l.args.account.toLowerCase() === String(res.body.accountId).toLowerCase());
      expect(granted, "the LineGranted of the new account").to.not.equal(undefined);
      const tx = await edges.provider.getTransaction(granted!.transactionHash);
      expect(tx?.from).to.equal(operatorKey.address);
      expect(operatorSigner.signed.transactions).to.be.greaterThan(0);
      expect(scorerSigner.signed.typedData).to.be.greaterThan(0);
    } finally {
      await gateway.stop();
      await scorer.stop();
      await operatorSigner.close();
      await scorerSigner.close();
    }
  });
});

describe("rotating the operator key: a gateway does not start with another key's batches in flight", function () {
  this.timeout(120_000);

  it("refuses to start with a new operator key while the old key's batch is in flight, naming it; the old key resolves it, then the new key starts", async () => {
    const edges = await chainEdges();
    const scoring = await scorerFor(edges);
    const store = memoryStore(edges.clock);
    const account = hexlify(randomBytes(32));
    const accepted = await store.accept({
      idempotency: { owner: "test", key: account, fingerprint: "f" },
      operation: {
        id: `op_rotation_${Date.now()}`,
        kind: "test",
        accountId: account,
        context: {},
        fromBlock: await edges.provider.getBlockNumber(),
        steps: [{ accountId: account, fn: "openAccount", call: { fn: "openAccount", account, tier: 1, exposureCap: 8_000_000n }, ref: hexlify(randomBytes(32)) }],
      },
    });
    expect(accepted.accepted).to.equal(true);
    // The old key's batch is stored and never broadcast: a crash (or a stop) with it in flight.
    const crashing = new OutboxSender({
      store,
      client: edges.client,
      operator: edges.operator,
      scorer: new ScorerClient(scoring.url, scoring.token),
      logger: silentLogger(),
      clock: edges.clock,
      confirmations: 1,
      pollIntervalMs: 5,
      stuckAfterMs: 3_600_000,
      batching: { maxOps: 50, waitMs: 0, maxInFlight: 8 },
      hooks: {
        afterStore: () => {
          throw new Error("simulated crash");
        },
      },
    });
    await crashing.processNext().catch(() => undefined);
    expect((await store.pendingBatches()).length).to.equal(1);

    const newKey = Wallet.createRandom();
    await edges.l.ledger.connect(edges.l.admin).grantRole(id("OPERATOR_ROLE"), newKey.address);
    await network.provider.request({ method: "hardhat_setBalance", params: [newKey.address, "0x56BC75E2D63100000"] });
    const start = (operator: Signer) =>
      createGateway(readGatewayConfig(testGatewayEnv(edges.client.address, { GATEWAY_SCORER_URL: scoring.url, GATEWAY_SCORER_TOKEN: scoring.token })), {
        provider: edges.provider,
        operator,
        store,
        clock: edges.clock,
        logger: silentLogger(),
        metrics: new GatewayMetrics({ defaultMetrics: false }),
        explorerScript: null,
      });
    const refused = await start(newKey.connect(edges.provider)).then(
      () => expect.fail("a gateway started with a new key while the old key's batch was in flight"),
      (e: unknown) => e as Error
    );
    expect(refused.message).to.include(`signed by another operator key (${edges.operator.address}: 1), not by ${newKey.address}`);
    expect(refused.message).to.include("start the gateway with that key once more");

    const old = await start(edges.operator);
    await old.start({ listen: false });
    await old.sender.drain();
    expect((await edges.l.ledger.accountOf(account)).seq).to.equal(1n);
    await old.stop();
    const rotated = await start(newKey.connect(edges.provider));
    await rotated.stop();
    await scoring.stop();
  });
});

async function expectKeySourceError(promise: Promise<unknown>, message: string | RegExp): Promise<void> {
  const error = await promise.then(
    () => expect.fail("it was accepted"),
    (e: unknown) => e
  );
  expect(error).to.be.instanceOf(KeySourceError);
  if (typeof message === "string") expect((error as Error).message).to.equal(message);
  else expect((error as Error).message).to.match(message);
}
