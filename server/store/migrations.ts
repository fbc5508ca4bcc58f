/**
 * Versioned schema migrations of the SQLite store. Each migration runs once, in its own
 * transaction, and is recorded in `schema_migrations`; a database written by a newer
 * gateway (a version this code does not know) is refused rather than guessed at.
 * Append new migrations; never edit one that has shipped.
 */
import type Database from "better-sqlite3";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema: keys, vault, idempotency, outbox, read model, webhooks",
    sql: `
      CREATE TABLE api_keys (
        id          TEXT PRIMARY KEY,
        key_hash    TEXT NOT NULL UNIQUE,
        name        TEXT NOT NULL,
        scopes      TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        revoked_at  TEXT
      );

      CREATE TABLE vault (
        identity_key TEXT PRIMARY KEY,
        account_id   TEXT NOT NULL UNIQUE,
        sealed_pii   TEXT NOT NULL,
        created_at   TEXT NOT NULL
      );

      CREATE TABLE operations (
        id          TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        account_id  TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'failed')),
        context     TEXT NOT NULL,
        error       TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      CREATE INDEX operations_account ON operations (account_id);

      CREATE TABLE outbox (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        operation_id  TEXT NOT NULL REFERENCES operations (id),
        step          INTEGER NOT NULL,
        account_id    TEXT NOT NULL,
        fn            TEXT NOT NULL,
        call          TEXT NOT NULL,
        ref           TEXT NOT NULL UNIQUE,
        status        TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'confirmed', 'failed', 'cancelled')),
        expected_seq  TEXT,
        sent_call     TEXT,
        landed        TEXT,
        error         TEXT,
        attempts      INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        from_block    INTEGER NOT NULL,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        UNIQUE (operation_id, step)
      );
      CREATE INDEX outbox_open ON outbox (id) WHERE status IN ('queued', 'sent');
      CREATE INDEX outbox_account ON outbox (account_id);

      CREATE TABLE outbox_transactions (
        hash        TEXT PRIMARY KEY,
        outbox_id   INTEGER NOT NULL REFERENCES outbox (id),
        nonce       INTEGER NOT NULL,
        raw         TEXT NOT NULL,
        created_at  TEXT NOT NULL
      );
      CREATE INDEX outbox_transactions_step ON outbox_transactions (outbox_id);

      CREATE TABLE idempotency (
        api_key_id       TEXT NOT NULL,
        idem_key         TEXT NOT NULL,
        fingerprint      TEXT NOT NULL,
        operation_id     TEXT REFERENCES operations (id),
        response_status  INTEGER,
        response_body    TEXT,
        created_at       TEXT NOT NULL,
        PRIMARY KEY (api_key_id, idem_key)
      );

      CREATE TABLE decisions (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        operation_id      TEXT NOT NULL REFERENCES operations (id),
        account_id        TEXT NOT NULL,
        product_id        INTEGER NOT NULL,
        approved          INTEGER NOT NULL,
        tier              INTEGER NOT NULL,
        score             INTEGER NOT NULL,
        limit_fen         TEXT NOT NULL,
        rate_ppm_per_day  TEXT NOT NULL,
        reason_codes      TEXT NOT NULL,
        model_id          TEXT NOT NULL,
        features          TEXT NOT NULL,
        salt              TEXT NOT NULL,
        features_hash     TEXT NOT NULL,
        created_at        TEXT NOT NULL
      );
      CREATE INDEX decisions_operation ON decisions (operation_id);

      CREATE TABLE indexer_cursor (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        next_block  INTEGER NOT NULL
      );

      CREATE TABLE entries (
        account_id    TEXT NOT NULL,
        seq           INTEGER NOT NULL,
        kind          TEXT NOT NULL,
        head          TEXT NOT NULL,
        payload_hash  TEXT NOT NULL,
        ref           TEXT NOT NULL,
        fields        TEXT NOT NULL,
        tx_hash       TEXT NOT NULL,
        block_number  INTEGER NOT NULL,
        log_index     INTEGER NOT NULL,
        PRIMARY KEY (account_id, seq)
      );
      CREATE INDEX entries_ref ON entries (ref);

      CREATE TABLE accounts (
        account_id  TEXT PRIMARY KEY,
        state       TEXT NOT NULL,
        block       INTEGER NOT NULL
      );

      CREATE TABLE lines (
        account_id  TEXT NOT NULL,
        product_id  INTEGER NOT NULL,
        state       TEXT NOT NULL,
        block       INTEGER NOT NULL,
        PRIMARY KEY (account_id, product_id)
      );

      CREATE TABLE loans (
        account_id  TEXT NOT NULL,
        loan_no     INTEGER NOT NULL,
        product_id  INTEGER NOT NULL,
        terms       TEXT NOT NULL,
        state       TEXT NOT NULL,
        block       INTEGER NOT NULL,
        PRIMARY KEY (account_id, loan_no)
      );

      CREATE TABLE webhook_subscriptions (
        id           TEXT PRIMARY KEY,
        api_key_id   TEXT NOT NULL REFERENCES api_keys (id),
        url          TEXT NOT NULL,
        events       TEXT NOT NULL,
        secret_hash  TEXT NOT NULL,
        active       INTEGER NOT NULL DEFAULT 1,
        created_at   TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "gateway metadata: the chain and ledger the database belongs to",
    sql: `
      CREATE TABLE gateway_meta (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
      );
    `,
  },
];

export interface AppliedMigration {
  version: number;
  name: string;
  appliedAt: string;
}

/** Applies the migrations the database has not seen, in order; returns the versions applied. */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[] = MIGRATIONS,
  now = () => new Date().toISOString()
): number[] {
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version <= migrations[i - 1].version) throw new Error("migrations must be in ascending version order");
  }
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TEXT NOT NULL
  )`);
  const current = (db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as { v: number | null }).v ?? 0;
  const newest = migrations.length > 0 ? migrations[migrations.length - 1].version : 0;
  if (current > newest) {
    throw new Error(`database schema is at version ${current}, newer than this gateway knows (${newest}): upgrade the gateway`);
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, now());
    })();
    applied.push(m.version);
  }
  return applied;
}

export function appliedMigrations(db: Database.Database): AppliedMigration[] {
  return db
    .prepare("SELECT version, name, applied_at AS appliedAt FROM schema_migrations ORDER BY version")
    .all() as AppliedMigration[];
}
