/**
 * `npm run admin` end to end: the CLI as a child process against a temporary database file
 * that a gateway (on the in-process Hardhat network) has open at the same time, as an operator
 * runs it beside a running gateway. What the CLI does is seen by the gateway at its next
 * request: a created key authenticates, a rotated or revoked key stops, a suspended partner is
 * refused. Every change is in the admin audit log as `cli:<os user>`; bad input exits 2 and an
 * unknown partner or key exits 1, each with a message saying what to do.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { expect } from "chai";
import request from "supertest";

import { randomBytes } from "node:crypto";

import { openSigner } from "../../core/key-source";
import { Secret } from "../../core/secret";
import { hashApiKey } from "../../server/auth/api-keys";
import { cryptoRandom } from "../../server/randomness";
import { Keyring } from "../../server/vault/keyring";
import { Vault } from "../../server/vault/vault";
import { randomNationalId } from "../helpers/identities";
import { systemClock } from "../../server/clock";
import { readGatewayConfig } from "../../server/config";
import { createGateway, type Gateway } from "../../server/gateway";
import { GatewayMetrics } from "../../server/metrics";
import { SqliteStore } from "../../server/store/sqlite-store";
import { Wallet } from "ethers";
import { chainEdges, silentLogger, testGatewayEnv, scorerEnv, scorerFor } from "../helpers/gateway";

const ROOT = path.resolve(__dirname, "..", "..");
const TS_NODE = require.resolve("ts-node/dist/bin.js");
const ACTOR = `cli:${userInfo().username}`;
const COMMANDS = ["admin-keys issue", "admin-keys revoke", "vault rotate", "partners list", "partners create", "partners show", "partners suspend", "partners reactivate", "partners set", "keys issue", "keys list", "keys rotate", "keys revoke", "audit", "keystore new", "keystore import"];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const show = (r: Run): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

describe("admin CLI (npm run admin)", function () {
  let dir: string;
  let dbPath: string;
  let store: SqliteStore;
  let gateway: Gateway;

  /** Runs the CLI on the test's database; asynchronous, so the gateway in this process keeps serving. */
  function admin(...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [TS_NODE, "--transpile-only", path.join(ROOT, "scripts", "admin.ts"), ...args],
        { cwd: ROOT, env: { ...process.env, GATEWAY_DB_PATH: dbPath }, maxBuffer: 4 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr })
      );
    });
  }

  async function adminJson(...args: string[]) {
    const run = await admin(...args, "--json");
    expect(run.code, show(run)).to.equal(0);
    return { body: JSON.parse(run.stdout), run };
  }

  /** What the running gateway answers a partner key (GET /v1/webhooks answers 200 to any working one). */
  const gatewayAnswer = async (key: string) => request(gateway.app).get("/v1/webhooks").set("Authorization", `Bearer ${key}`);

  async function newPartner(name = "Cli Shop") {
    const { body, run } = await adminJson("partners", "create", "--name", name);
    return { id: body.partner.id as string, keyId: body.key.id as string, key: body.key.key as string, run };
  }

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "admin-cli-"));
    dbPath = path.join(dir, "gateway.sqlite");
    const edges = await chainEdges();
    const config = readGatewayConfig(testGatewayEnv(edges.client.address, { GATEWAY_DB_PATH: dbPath, ...scorerEnv(await scorerFor(edges)) }));
    // The real clock, as the CLI's: a rotation's overlap ends at the CLI's time, judged by the gateway's.
    store = new SqliteStore(dbPath, systemClock);
    gateway = await createGateway(config, {
      provider: edges.provider,
      operator: edges.operator,
      store,
      clock: systemClock,
      logger: silentLogger(),
      metrics: new GatewayMetrics({ defaultMetrics: false }),
      explorerScript: null,
    });
  });

  after(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("lists every command in --help", async () => {
    const run = await admin("--help");
    expect(run.code, show(run)).to.equal(0);
    for (const command of COMMANDS) expect(run.stdout).to.include(command);
    for (const option of ["--rate-per-minute", "--burst", "--products", "--webhook-quota", "--overlap-seconds", "--reason", "--limit", "--json", "--db"]) {
      expect(run.stdout).to.include(option);
    }
  });

  it("writes a role key into an encrypted keystore (0600, never over a file), new or imported, that the gateway's key source opens", async function () {
    this.timeout(60_000);
    const passwordFile = path.join(dir, "keystore-password");
    writeFileSync(passwordFile, "a long keystore password\n", { mode: 0o600 });
    const out = path.join(dir, "operator.json");
    const made = await admin("keystore", "new", "--out", out, "--password-file", passwordFile, "--json");
    expect(made.code, show(made)).to.equal(0);
    const { address } = JSON.parse(made.stdout) as { address: string };
    expect(statSync(out).mode & 0o777).to.equal(0o600);
    const source = { kind: "keystore" as const, setting: "GATEWAY_OPERATOR_KEYSTORE", path: out, password: new Secret("a long keystore password") };
    expect((await openSigner(source)).address).to.equal(address);

    const again = await admin("keystore", "new", "--out", out, "--password-file", passwordFile);
    expect(again.code, show(again)).to.equal(2);
    expect(again.stderr).to.include(`${out} exists already; a keystore is never overwritten`);

    const key = Wallet.createRandom();
    const keyFile = path.join(dir, "raw-key");
    writeFileSync(keyFile, `${key.privateKey}\n`, { mode: 0o600 });
    const imported = path.join(dir, "imported.json");
    const run = await admin("keystore", "import", "--key-file", keyFile, "--out", imported, "--password-file", passwordFile);
    expect(run.code, show(run)).to.equal(0);
    expect(run.stdout).to.include(`holds the key of ${key.address}`);
    expect(run.stdout + run.stderr).not.to.include(key.privateKey.slice(2));
    expect((await openSigner({ ...source, path: imported })).address).to.equal(key.address);
    expect(readFileSync(imported, "utf8")).not.to.include(key.privateKey.slice(2));

    writeFileSync(path.join(dir, "open-password"), "a long keystore password\n", { mode: 0o644 });
    const open = await admin("keystore", "new", "--out", path.join(dir, "x.json"), "--password-file", path.join(dir, "open-password"));
    expect(open.code, show(open)).to.equal(2);
    expect(open.stderr).to.include("can be read by other users (mode 0644)");
    expect(existsSync(path.join(dir, "x.json"))).to.equal(false);
  });

  it("issues the first admin key once (shown once), which the running gateway accepts as admin at once, and refuses a second while it is live", async () => {
    const first = await admin("admin-keys", "issue", "--name", "ops lead");
    expect(first.code, show(first)).to.equal(0);
    const keys = first.stdout.match(/clk_[A-Za-z0-9_-]{43}/g) ?? [];
    expect(keys).to.have.length(1);
    expect(first.stderr).to.match(/will not be shown again/);
    const adminKey = keys[0]!;
    const stored = (await store.findApiKeyByHash(hashApiKey(adminKey)))!;
    expect(stored).to.include({ name: "ops lead" });
    expect(stored.scopes).to.deep.equal(["admin"]);
    expect((await request(gateway.app).get("/v1/admin/partners").set("Authorization", `Bearer ${adminKey}`)).status).to.equal(200);
    expect((await store.auditLog(1))[0]).to.include({ actor: ACTOR, action: "admin_key.issue_first", target: stored.id });

    const auditBefore = (await store.auditLog(1))[0]!.id;
    const second = await admin("admin-keys", "issue", "--name", "another");
    expect(second.code, show(second)).to.equal(1);
    expect(second.stderr).to.include(`an admin key is live already (${stored.id}, "ops lead"`);
    expect(second.stderr).to.include("admin-keys revoke <keyId>");
    expect(second.stdout + second.stderr).not.to.match(/clk_/);
    expect((await store.auditLog(1))[0]!.id, "nothing was written").to.equal(auditBefore);

    // Once it is revoked (a lost key), the gateway refuses it at once and the command can issue a first key again.
    const revoked = await admin("admin-keys", "revoke", stored.id, "--reason", "lost");
    expect(revoked.code, show(revoked)).to.equal(0);
    expect((await request(gateway.app).get("/v1/admin/partners").set("Authorization", `Bearer ${adminKey}`)).status).to.equal(401);
    expect((await store.auditLog(1))[0]).to.include({ actor: ACTOR, action: "admin_key.revoke", target: stored.id, reason: "lost" });
    const again_ = await admin("admin-keys", "revoke", stored.id, "--reason", "twice");
    expect(again_.code, show(again_)).to.equal(1);
    expect(again_.stderr).to.include(`no live admin key ${stored.id}`);
    const again = await admin("admin-keys", "issue", "--name", "replacement");
    expect(again.code, show(again)).to.equal(0);
    expect(again.stdout).to.match(/clk_[A-Za-z0-9_-]{43}/);
  });

  it("creates a partner: its key is printed once, with a line saying it will not be shown again, and the running gateway accepts it at once", async () => {
    const text = await admin("partners", "create", "--name", "Printed", "--rate-per-minute", "50", "--burst", "5", "--products", "cash_loan", "--webhook-quota", "2");
    expect(text.code, show(text)).to.equal(0);
    const keys = text.stdout.match(/clk_[A-Za-z0-9_-]{43}/g) ?? [];
    expect(keys).to.have.length(1);
    expect(text.stderr).to.match(/will not be shown again/);
    const key = keys[0]!;
    expect((await gatewayAnswer(key)).status).to.equal(200);
    const stored = await store.findApiKeyByHash(hashApiKey(key));
    const partner = (await store.partner(stored!.partnerId!))!;
    expect(partner).to.include({ name: "Printed", ratePerMinute: 50, burst: 5, webhookQuota: 2, status: "active" });
    expect(partner.products).to.deep.equal(["cash_loan"]);

    const json = await newPartner("As JSON");
    expect(json.run.stderr).to.match(/will not be shown again/);
    expect((await gatewayAnswer(json.key)).status).to.equal(200);
  });

  it("lists partners and shows one with its keys, never a key itself", async () => {
    const p = await newPartner("Shown");
    const { body: list } = await adminJson("partners", "list");
    expect(list.partners.map((x: { id: string }) => x.id)).to.include(p.id);
    const table = await admin("partners", "list");
    expect(table.stdout).to.match(/^PARTNER\s+NAME\s+STATUS/);
    expect(table.stdout).to.include(p.id);

    const { body: detail } = await adminJson("partners", "show", p.id);
    expect(detail.partner).to.include({ id: p.id, name: "Shown" });
    expect(detail.keys.map((k: { id: string }) => k.id)).to.deep.equal([p.keyId]);
    const text = await admin("partners", "show", p.id);
    expect(text.stdout).to.include(p.keyId);
    expect(text.stdout + JSON.stringify(detail)).not.to.include(p.key);
  });

  it("changes settings, issues and lists keys", async () => {
    const p = await newPartner();
    const { body } = await adminJson("partners", "set", p.id, "--burst", "7", "--name", "Renamed");
    expect(body).to.include({ id: p.id, burst: 7, name: "Renamed" });
    expect((await store.partner(p.id))!.burst).to.equal(7);
    const { body: issued, run } = await adminJson("keys", "issue", p.id, "--name", "backup");
    expect(run.stderr).to.match(/will not be shown again/);
    expect((await gatewayAnswer(issued.key)).status).to.equal(200);
    const { body: keys } = await adminJson("keys", "list", p.id);
    expect(keys.keys.map((k: { id: string }) => k.id)).to.deep.equal([p.keyId, issued.id]);
  });

  it("rotates and revokes keys: the running gateway refuses the old key and accepts the new one at its next request", async () => {
    const p = await newPartner();
    const { body: rotated } = await adminJson("keys", "rotate", p.id, p.keyId, "--overlap-seconds", "0");
    expect(rotated.previous.id).to.equal(p.keyId);
    expect((await gatewayAnswer(p.key)).status).to.equal(401);
    expect((await gatewayAnswer(rotated.key.key)).status).to.equal(200);

    const { body: revoked } = await adminJson("keys", "revoke", p.id, rotated.key.id, "--reason", "leaked");
    expect(revoked.revokedAt).to.be.a("string");
    expect((await gatewayAnswer(rotated.key.key)).status).to.equal(401);
  });

  it("suspends and reactivates a partner: the running gateway refuses it (403 partner-suspended), then lets it in again", async () => {
    const p = await newPartner();
    const suspended = await admin("partners", "suspend", p.id, "--reason", "fraud review");
    expect(suspended.code, show(suspended)).to.equal(0);
    const refused = await gatewayAnswer(p.key);
    expect(refused.status).to.equal(403);
    expect(refused.body.type).to.equal("/problems/partner-suspended");
    const { body } = await adminJson("partners", "reactivate", p.id, "--reason", "cleared");
    expect(body.status).to.equal("active");
    expect((await gatewayAnswer(p.key)).status).to.equal(200);
  });

  it("writes every change to the admin audit log as cli:<os user>, as the audit command shows", async () => {
    const p = await newPartner();
    await adminJson("partners", "suspend", p.id, "--reason", "audited");
    const { body } = await adminJson("audit", "--limit", "3");
    expect(body.records).to.have.length(3);
    const [suspend, issue, create] = body.records;
    expect(suspend).to.include({ actor: ACTOR, action: "partner.suspend", target: p.id, reason: "audited" });
    expect([suspend.before.status, suspend.after.status]).to.deep.equal(["active", "suspended"]);
    expect(issue).to.include({ actor: ACTOR, action: "key.issue", target: p.id });
    expect(create).to.include({ actor: ACTOR, action: "partner.create", target: p.id });
    const table = await admin("audit", "--limit", "1");
    expect(table.stdout).to.include(ACTOR).and.to.include("partner.suspend");
    const [record] = await store.auditLog(1);
    expect(record).to.include({ actor: ACTOR, action: "partner.suspend" });
  });

  it("exits 2 with what to fix on bad input, changing nothing", async () => {
    const before = (await store.auditLog(1))[0]?.id;
    const cases: [string[], RegExp][] = [
      [["partners", "create", "--name", "X", "--rate-per-minute", "0"], /--rate-per-minute: .*>=1/],
      [["partners", "create", "--name", "X", "--products", "mortgage"], /--products: /],
      [["partners", "create"], /--name: is required/],
      [["partners", "create", "--name", "X", "--burst", "lots"], /--burst: must be a whole number/],
      [["partners", "suspend", "ptr_00000000000000ff"], /--reason: is required/],
      [["partners", "set", "ptr_00000000000000ff"], /at least one of --name/],
      [["partners", "show", "not-an-id"], /<partnerId>: must be a partner id/],
      [["keys", "rotate", "ptr_00000000000000ff", "key_00000000000000ff"], /--overlap-seconds/],
      [["keys", "rotate", "ptr_00000000000000ff", "key_00000000000000ff", "--overlap-seconds", "9999999"], /--overlap-seconds: .*<=2592000/],
      [["audit", "--limit", "0"], /--limit: /],
      [["partners", "list", "--bogus"], /Unknown option '--bogus'/],
      [["partners", "show"], /takes <partnerId>/],
      [["loans", "list"], /unknown command "loans list"/],
    ];
    for (const [args, message] of cases) {
      const run = await admin(...args);
      expect(run.code, `${args.join(" ")}\n${show(run)}`).to.equal(2);
      expect(run.stderr, args.join(" ")).to.match(message);
      expect(run.stderr).to.include("--help");
    }
    expect((await store.auditLog(1))[0]?.id).to.equal(before);
  });

  it("exits 2 when it is not told the database, or the database does not exist (it never creates one)", async () => {
    const missing = path.join(dir, "typo.sqlite");
    const run = await admin("partners", "list", "--db", missing);
    expect(run.code, show(run)).to.equal(2);
    expect(run.stderr).to.include(`no database at ${missing}`);
    const noEnv = await new Promise<Run>((resolve) => {
      const env = { ...process.env };
      delete env.GATEWAY_DB_PATH;
      execFile(process.execPath, [TS_NODE, "--transpile-only", path.join(ROOT, "scripts", "admin.ts"), "partners", "list"], { cwd: ROOT, env }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr })
      );
    });
    expect(noEnv.code, show(noEnv)).to.equal(2);
    expect(noEnv.stderr).to.include("GATEWAY_DB_PATH is not set");
  });

  it("exits 1 naming the unknown partner or key", async () => {
    const p = await newPartner();
    const other = await newPartner("Other");
    const cases: [string[], RegExp][] = [
      [["partners", "show", "ptr_00000000000000ff"], /no partner ptr_00000000000000ff/],
      [["partners", "suspend", "ptr_00000000000000ff", "--reason", "x"], /no partner ptr_00000000000000ff/],
      [["keys", "list", "ptr_00000000000000ff"], /no partner ptr_00000000000000ff/],
      [["keys", "revoke", p.id, "key_00000000000000ff", "--reason", "x"], /has no live key key_00000000000000ff/],
      [["keys", "rotate", p.id, other.keyId, "--overlap-seconds", "0"], new RegExp(`has no live key ${other.keyId}`)],
    ];
    for (const [args, message] of cases) {
      const run = await admin(...args);
      expect(run.code, `${args.join(" ")}\n${show(run)}`).to.equal(1);
      expect(run.stderr).to.match(message);
    }
    expect((await gatewayAnswer(other.key)).status, "the other partner's key is untouched").to.equal(200);
  });

  it("vault rotate re-seals every record under GATEWAY_VAULT_KEY_ID in batches, printing progress, and exits 2 without a keyring", async () => {
    const rotateDb = path.join(dir, "rotate.sqlite");
    const keys = { old: randomBytes(32), new: randomBytes(32) };
    const oldRing = new Keyring({ currentId: "old", keys: [["old", keys.old]] });
    const seeded = new SqliteStore(rotateDb, systemClock, { sealer: oldRing });
    const vault = new Vault(seeded, { keyring: oldRing, identityPepper: randomBytes(32) }, cryptoRandom, systemClock);
    const people = Array.from({ length: 5 }, () => ({ nationalId: randomNationalId(), name: "王五", phone: "+86 137 0000 0000" }));
    const accounts = [];
    for (const p of people) accounts.push((await vault.enroll(p)).accountId);
    await seeded.close();

    const ring = `old:${keys.old.toString("base64")},new:${keys.new.toString("base64")}`;
    const run = await new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        [TS_NODE, "--transpile-only", path.join(ROOT, "scripts", "admin.ts"), "vault", "rotate", "--batch-size", "2", "--db", rotateDb],
        { cwd: ROOT, env: { ...process.env, GATEWAY_VAULT_KEYS: ring, GATEWAY_VAULT_KEY_ID: "new" } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr })
      );
    });
    expect(run.code, show(run)).to.equal(0);
    expect(run.stderr.split("\n").filter((l) => l.startsWith("vault rotate: vault "))).to.deep.equal([
      "vault rotate: vault 0/5 re-sealed under key new",
      "vault rotate: vault 2/5 re-sealed under key new",
      "vault rotate: vault 4/5 re-sealed under key new",
      "vault rotate: vault 5/5 re-sealed under key new",
    ]);
    expect(run.stdout).to.include("every sealed record is now sealed under vault key new");
    expect(run.stdout + run.stderr).not.to.include(keys.new.toString("base64"));

    const reopened = new SqliteStore(rotateDb, systemClock);
    const newOnly = new Vault(reopened, { keyring: Keyring.single(keys.new, "new"), identityPepper: randomBytes(32) }, cryptoRandom, systemClock);
    for (const [i, accountId] of accounts.entries()) {
      expect((await reopened.findIdentityByAccount(accountId))!.sealedPii).to.match(/^v1:new:/);
      expect(await newOnly.reveal(accountId)).to.deep.equal(people[i]);
    }
    await reopened.close();

    const noKeys = await admin("vault", "rotate", "--db", rotateDb);
    expect(noKeys.code, show(noKeys)).to.equal(2);
    expect(noKeys.stderr).to.include("GATEWAY_VAULT_KEY is not set");
  });
});
