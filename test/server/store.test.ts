import { expect } from "chai";
import Database from "better-sqlite3";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { EntryKind } from "../../core/hash-chain";
import type { LedgerEntry } from "../../core/ledger-events";
import { ManualClock } from "../../server/clock";
import { appliedMigrations, migrate, MIGRATIONS, type Migration } from "../../server/store/migrations";
import { openDatabaseFile } from "../../core/database-file";
import { SqliteStore } from "../../server/store/sqlite-store";
import type { NewOperation } from "../../server/store/store";

const clock = () => new ManualClock(Date.UTC(2025, 0, 1));
const VERSIONS = MIGRATIONS.map((m) => m.version);
const NEXT = VERSIONS[VERSIONS.length - 1] + 1;

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), "gateway-store-"));
}

const operation = (id: string, steps = 2): NewOperation => ({
  id,
  kind: "purchase",
  accountId: "0xaa",
  context: { amount: 123n },
  steps: Array.from({ length: steps }, (_, i) => ({
    accountId: "0xaa",
    fn: "purchase",
    call: { amount: 5n + BigInt(i) },
    ref: `${id}-ref-${i}`,
  })),
  fromBlock: 7,
});

describe("SQLite store", () => {
  describe("migrations", () => {
    it("creates every table in a fresh database and records each version", () => {
      const db = new Database(":memory:");
      expect(migrate(db)).to.deep.equal(MIGRATIONS.map((m) => m.version));
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
        (t) => t.name
      );
      for (const t of [
        "api_keys",
        "vault",
        "idempotency",
        "operations",
        "outbox",
        "outbox_transactions",
        "entries",
        "accounts",
        "lines",
        "loans",
        "webhook_subscriptions",
        "gateway_meta",
        "schema_migrations",
      ]) {
        expect(tables, t).to.include(t);
      }
      expect(appliedMigrations(db).map((m) => m.version)).to.deep.equal(VERSIONS);
    });

    it("applies only the migrations a database has not seen, once", () => {
      const db = new Database(":memory:");
      expect(migrate(db, MIGRATIONS.slice(0, 1))).to.deep.equal([1]);
      expect(migrate(db, MIGRATIONS)).to.deep.equal(VERSIONS.slice(1));
      const next: Migration = { version: NEXT, name: "add a column", sql: "ALTER TABLE api_keys ADD COLUMN note TEXT" };
      expect(migrate(db, [...MIGRATIONS, next])).to.deep.equal([NEXT]);
      expect(migrate(db, [...MIGRATIONS, next])).to.deep.equal([]);
      expect(appliedMigrations(db).map((m) => m.version)).to.deep.equal([...VERSIONS, NEXT]);
    });

    it("rolls back a failing migration as a whole", () => {
      const db = new Database(":memory:");
      migrate(db);
      const bad: Migration = {
        version: NEXT,
        name: "half",
        sql: "CREATE TABLE half_done (x INTEGER); SELECT nonsense FROM nowhere;",
      };
      expect(() => migrate(db, [...MIGRATIONS, bad])).to.throw();
      expect(appliedMigrations(db).map((m) => m.version)).to.deep.equal(VERSIONS);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").get()).to.equal(undefined);
    });

    it("rewrites a step landed before version 5 into the decoded entry the indexer stores", () => {
      const db = new Database(":memory:");
      migrate(db, MIGRATIONS.filter((m) => m.version < 5));
      const account = `0x${"ab".repeat(32)}`;
      db.prepare("INSERT INTO operations (id, kind, account_id, status, context, created_at, updated_at) VALUES ('op_1', 'purchase', ?, 'confirmed', '{}', 't', 't')").run(account);
      const old = JSON.stringify({
        txHash: "0xtx",
        blockNumber: 9,
        logIndex: 2,
        entrySeq: { $bigint: "4" },
        entryHead: "0xhead",
        result: { event: "Drawn", fields: { loanNo: { $bigint: "1" }, account } },
      });
      db.prepare(
        `INSERT INTO outbox (operation_id, step, account_id, fn, call, ref, status, from_block, created_at, updated_at, landed)
         VALUES ('op_1', 0, ?, 'purchase', '{}', '0xref', 'confirmed', 1, 't', 't', ?)`
      ).run(account, old);
      db.prepare(
        "INSERT INTO entries (account_id, seq, kind, head, payload_hash, ref, fields, tx_hash, block_number, log_index) VALUES (?, 4, 'Drawn', '0xhead', '0xpayload', '0xref', '{}', '0xtx', 9, 2)"
      ).run(account);
      expect(migrate(db)).to.deep.equal(VERSIONS.filter((v) => v >= 5));
      const store = Object.assign(Object.create(SqliteStore.prototype) as SqliteStore, { db });
      return store.getOperation("op_1").then((op) => {
        expect(op!.steps[0].landed).to.deep.equal({
          name: "Drawn",
          args: { loanNo: 1n, account },
          txHash: "0xtx",
          blockNumber: 9,
          logIndex: 2,
          kind: EntryKind.Drawn,
          account,
          seq: 4n,
          head: "0xhead",
          ref: "0xref",
          payloadHash: "0xpayload",
        });
      });
    });

    it("refuses a database written by a newer gateway", () => {
      const db = new Database(":memory:");
      migrate(db, [...MIGRATIONS, { version: 99, name: "future", sql: "SELECT 1" }]);
      expect(() => migrate(db)).to.throw(/version 99, newer than this gateway knows/);
    });

    it("makes the database file and its -wal and -shm 0600, and a new data directory 0700, whatever the umask", async () => {
      const dir = tempDir();
      const umask = process.umask(0o000); // the loosest: every mode below is the code's, not the umask's
      try {
        const file = path.join(dir, "data", "nested", "g.sqlite");
        const store = new SqliteStore(file, clock());
        await store.insertApiKey({ id: "key_1", name: "demo", keyHash: "h1", scopes: ["partner"], createdAt: "t" });
        const mode = (p: string) => statSync(p).mode & 0o777;
        expect(mode(path.join(dir, "data", "nested"))).to.equal(0o700);
        expect(mode(path.join(dir, "data"))).to.equal(0o700);
        for (const f of [file, `${file}-wal`, `${file}-shm`]) {
          expect(existsSync(f), f).to.equal(true);
          expect(mode(f), f).to.equal(0o600);
        }
        await store.close();

        // A world-readable file from before (and its WAL files) is closed up when it is opened.
        chmodSync(file, 0o644);
        writeFileSync(`${file}-wal`, "");
        chmodSync(`${file}-wal`, 0o666);
        const db = openDatabaseFile(file);
        expect(mode(file)).to.equal(0o600);
        expect(mode(`${file}-wal`)).to.equal(0o600);
        db.close();
      } finally {
        process.umask(umask);
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("opens a file database in WAL mode and keeps its data across reopening", async () => {
      const dir = tempDir();
      try {
        const file = path.join(dir, "g.sqlite");
        const first = new SqliteStore(file, clock());
        expect(first.db.pragma("journal_mode", { simple: true })).to.equal("wal");
        await first.insertApiKey({ id: "key_1", name: "demo", keyHash: "h1", scopes: ["partner"], createdAt: "t" });
        await first.close();
        const second = new SqliteStore(file, clock());
        expect((await second.findApiKeyByHash("h1"))?.scopes).to.deep.equal(["partner"]);
        expect(appliedMigrations(second.db).map((m) => m.version)).to.deep.equal(VERSIONS);
        await second.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it("binds a database to one chain and keeps that binding", async () => {
    const store = new SqliteStore(":memory:", clock());
    const binding = { chainId: "31337", ledger: "0xL", genesisHash: "0xg1" };
    expect(await store.bindChain(binding)).to.deep.equal(binding);
    expect(await store.bindChain({ ...binding, genesisHash: "0xg2" })).to.deep.equal(binding);
  });

  describe("acceptance and the outbox", () => {
    it("writes the idempotency record, the operation and its steps together, with bigints intact", async () => {
      const store = new SqliteStore(":memory:", clock());
      const outcome = await store.accept({
        idempotency: { owner: "k", key: "i1", fingerprint: "f" },
        operation: operation("op_1"),
      });
      expect(outcome).to.deep.equal({ accepted: true });
      const op = await store.getOperation("op_1");
      expect(op?.status).to.equal("pending");
      expect(op?.context).to.deep.equal({ amount: 123n });
      expect(op?.steps.map((s) => [s.step, s.status, s.call])).to.deep.equal([
        [0, "queued", { amount: 5n }],
        [1, "queued", { amount: 6n }],
      ]);
      expect((await store.findIdempotency("k", "i1"))?.operationId).to.equal("op_1");
      expect((await store.outboxDepth()).depth).to.equal(2);
    });

    it("reports an idempotency key already used, and writes nothing", async () => {
      const store = new SqliteStore(":memory:", clock());
      await store.accept({ idempotency: { owner: "k", key: "i1", fingerprint: "f" }, operation: operation("op_1") });
      const again = await store.accept({
        idempotency: { owner: "k", key: "i1", fingerprint: "g" },
        operation: operation("op_2"),
      });
      expect(again).to.include({ accepted: false, conflict: "idempotency" });
      expect(await store.getOperation("op_2")).to.equal(undefined);
      // The same key under another API key is another request.
      expect(
        await store.accept({ idempotency: { owner: "k2", key: "i1", fingerprint: "f" }, operation: operation("op_3") })
      ).to.deep.equal({
        accepted: true,
      });
    });

    it("reports an identity already in the vault, and writes nothing", async () => {
      const store = new SqliteStore(":memory:", clock());
      const person = { identityKey: "id1", accountId: "0xaa", sealedPii: "s", createdAt: "t" };
      await store.accept({
        idempotency: { owner: "k", key: "i1", fingerprint: "f" },
        operation: operation("op_1"),
        vault: person,
      });
      const second = await store.accept({
        idempotency: { owner: "k", key: "i2", fingerprint: "f" },
        operation: operation("op_2"),
        vault: { ...person, accountId: "0xbb" },
      });
      expect(second).to.deep.include({ accepted: false, conflict: "identity" });
      expect(await store.findIdempotency("k", "i2")).to.equal(undefined);
      expect(await store.getOperation("op_2")).to.equal(undefined);
    });

    it("hands out steps in order and confirms an operation when its last step lands", async () => {
      const store = new SqliteStore(":memory:", clock());
      await store.accept({ idempotency: { owner: "k", key: "a", fingerprint: "f" }, operation: operation("op_a") });
      await store.accept({ idempotency: { owner: "k", key: "b", fingerprint: "f" }, operation: operation("op_b", 1) });
      const first = (await store.nextOpenStep())!;
      expect([first.operationId, first.step]).to.deep.equal(["op_a", 0]);
      await store.recordSigned(first.id, 3n, { sent: true }, { hash: "0x01", nonce: 4, raw: "0xraw", createdAt: "t" });
      const sent = (await store.nextOpenStep())!;
      expect(sent.status).to.equal("sent");
      expect(sent.expectedSeq).to.equal(3n);
      expect(sent.transactions.map((t) => t.hash)).to.deep.equal(["0x01"]);
      const landed: LedgerEntry = {
        name: "Drawn",
        kind: EntryKind.Drawn,
        account: "0xacc",
        seq: 4n,
        head: "0xhead",
        ref: "0xref",
        payloadHash: "0xpayload",
        args: { loanNo: 1n },
        txHash: "0x01",
        blockNumber: 9,
        logIndex: 0,
      };
      await store.recordConfirmed(first.id, landed);
      expect((await store.getOperation("op_a"))?.status).to.equal("pending");
      const second = (await store.nextOpenStep())!;
      expect([second.operationId, second.step]).to.deep.equal(["op_a", 1]);
      await store.recordSigned(second.id, 4n, {}, { hash: "0x02", nonce: 5, raw: "0xraw2", createdAt: "t" });
      await store.recordConfirmed(second.id, { ...landed, txHash: "0x02" });
      const op = (await store.getOperation("op_a"))!;
      expect(op.status).to.equal("confirmed");
      expect(op.steps[0].landed).to.deep.equal(landed);
      expect((await store.nextOpenStep())?.operationId).to.equal("op_b");
    });

    it("fails the operation and cancels its later steps when a step fails", async () => {
      const store = new SqliteStore(":memory:", clock());
      await store.accept({ idempotency: { owner: "k", key: "a", fingerprint: "f" }, operation: operation("op_a", 3) });
      const first = (await store.nextOpenStep())!;
      await store.recordFailed(first.id, { rule: "LimitExceeded", available: 10n });
      const op = (await store.getOperation("op_a"))!;
      expect(op.status).to.equal("failed");
      expect(op.error).to.deep.equal({ rule: "LimitExceeded", available: 10n });
      expect(op.steps.map((s) => s.status)).to.deep.equal(["failed", "cancelled", "cancelled"]);
      expect(await store.nextOpenStep()).to.equal(undefined);
    });

    it("stores a batch with the steps it carries before it is broadcast, and refuses a step that is not queued, writing nothing", async () => {
      const store = new SqliteStore(":memory:", clock());
      await store.accept({ idempotency: { owner: "k", key: "a", fingerprint: "f" }, operation: operation("op_a", 2) });
      const [s0, s1] = await store.queuedSteps(10);
      const tx = { hash: "0xb1", nonce: 9, raw: "0xraw", createdAt: "t" };
      const batch = await store.recordBatch({ nonce: 9, tx, steps: [{ stepId: s0.id, expectedSeq: 4n, sentCall: { a: 1n } }, { stepId: s1.id, expectedSeq: 5n, sentCall: {} }] });
      expect(batch).to.deep.include({ nonce: 9, status: "pending", transactions: [tx] });
      expect(batch.steps).to.deep.equal([
        { position: 0, stepId: s0.id, expectedSeq: 4n },
        { position: 1, stepId: s1.id, expectedSeq: 5n },
      ]);
      const [f0, f1] = await store.inFlightSteps();
      expect([f0.status, f0.batchId, f0.expectedSeq, f0.sentCall, f1.expectedSeq]).to.deep.equal(["sent", batch.id, 4n, { a: 1n }, 5n]);
      expect(f0.transactions.map((t) => t.hash)).to.deep.equal(["0xb1"]);
      await store.recordBatchReplacement(batch.id, { ...tx, hash: "0xb2" });
      expect((await store.pendingBatches())[0].transactions.map((t) => t.hash)).to.deep.equal(["0xb1", "0xb2"]);
      await expect(store.recordBatch({ nonce: 10, tx: { ...tx, hash: "0xc1", nonce: 10 }, steps: [{ stepId: s0.id, expectedSeq: 4n, sentCall: {} }] })).to.be.rejectedWith(/not queued/);
      expect((await store.pendingBatches()).map((b) => b.nonce)).to.deep.equal([9]);
    });

    it("resolves a batch step by step: a refusal fails its operation and cancels its later steps, a requeue counts and clears the expected seq", async () => {
      const store = new SqliteStore(":memory:", clock());
      await store.accept({ idempotency: { owner: "k", key: "a", fingerprint: "f" }, operation: operation("op_a", 2) });
      await store.accept({ idempotency: { owner: "k", key: "b", fingerprint: "f" }, operation: operation("op_b", 1) });
      const [a0, a1, b0] = await store.queuedSteps(10);
      const batch = await store.recordBatch({
        nonce: 1,
        tx: { hash: "0x01", nonce: 1, raw: "0x", createdAt: "t" },
        steps: [a0, a1, b0].map((s, i) => ({ stepId: s.id, expectedSeq: BigInt(i), sentCall: {} })),
      });
      await store.resolveBatch(
        batch.id,
        [
          { stepId: b0.id, outcome: "requeued", reason: "SeqMismatch behind a refusal" },
          { stepId: a1.id, outcome: "requeued", reason: "SeqMismatch behind a refusal" },
          { stepId: a0.id, outcome: "failed", error: { rule: "LimitExceeded" } },
        ],
        "resolved"
      );
      expect((await store.getOperation("op_a"))!.steps.map((s) => s.status), "the cancelled step is not requeued").to.deep.equal(["failed", "cancelled"]);
      const [again] = await store.queuedSteps(10);
      expect([again.id, again.status, again.expectedSeq, again.batchId, again.requeues, again.lastError]).to.deep.equal([b0.id, "queued", undefined, undefined, 1, "SeqMismatch behind a refusal"]);
      expect(again.transactions.map((t) => t.hash), "it keeps the transactions that carried it").to.deep.equal(["0x01"]);
      expect(await store.pendingBatches()).to.deep.equal([]);
    });

    it("requeues a sent step without its expected seq, keeping its transactions", async () => {
      const store = new SqliteStore(":memory:", clock());
      await store.accept({ idempotency: { owner: "k", key: "a", fingerprint: "f" }, operation: operation("op_a", 1) });
      const s = (await store.nextOpenStep())!;
      await store.recordSigned(s.id, 1n, {}, { hash: "0x01", nonce: 0, raw: "0x", createdAt: "t" });
      await store.requeue(s.id, "dropped");
      const again = (await store.nextOpenStep())!;
      expect(again.status).to.equal("queued");
      expect(again.expectedSeq).to.equal(undefined);
      expect(again.transactions).to.have.length(1);
      expect(again.lastError).to.equal("dropped");
    });
  });
});
