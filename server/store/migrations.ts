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
  {
    version: 3,
    name: "servicing: account profiles, webhook events and deliveries, reminders and their guard log, buckets, reviews, velocity holds",
    sql: `
      ALTER TABLE webhook_subscriptions ADD COLUMN deleted_at TEXT;
      CREATE INDEX webhook_subscriptions_key ON webhook_subscriptions (api_key_id);

      CREATE TABLE account_profiles (
        account_id  TEXT PRIMARY KEY,
        time_zone   TEXT,
        device_key  TEXT,
        phone_key   TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      CREATE INDEX account_profiles_device ON account_profiles (device_key) WHERE device_key IS NOT NULL;
      CREATE INDEX account_profiles_phone ON account_profiles (phone_key) WHERE phone_key IS NOT NULL;

      CREATE TABLE webhook_events (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT NOT NULL UNIQUE,
        type        TEXT NOT NULL,
        account_id  TEXT,
        source      TEXT,
        body        TEXT NOT NULL,
        created_at  TEXT NOT NULL
      );
      CREATE INDEX webhook_events_source ON webhook_events (source);

      CREATE TABLE webhook_deliveries (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        id               TEXT NOT NULL UNIQUE,
        event_id         TEXT NOT NULL REFERENCES webhook_events (id),
        subscription_id  TEXT NOT NULL REFERENCES webhook_subscriptions (id),
        status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        first_attempt_ms INTEGER,
        next_attempt_ms  INTEGER,
        last_status      INTEGER,
        last_error       TEXT,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        UNIQUE (event_id, subscription_id)
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_ms, seq) WHERE status = 'pending';
      CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, seq);

      CREATE TABLE webhook_attempts (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id),
        attempt      INTEGER NOT NULL,
        trigger      TEXT NOT NULL CHECK (trigger IN ('scheduled', 'replay')),
        at_ms        INTEGER NOT NULL,
        status_code  INTEGER,
        error        TEXT,
        duration_ms  INTEGER NOT NULL
      );
      CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);

      CREATE TABLE servicing_contacts (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        id           TEXT NOT NULL UNIQUE,
        type         TEXT NOT NULL,
        account_id   TEXT NOT NULL,
        loan_no      INTEGER NOT NULL,
        period       INTEGER NOT NULL,
        due_time     INTEGER NOT NULL,
        scheduled_at INTEGER NOT NULL,
        not_before   INTEGER NOT NULL,
        data         TEXT NOT NULL,
        status       TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'suppressed')),
        local_date   TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
      );
      CREATE INDEX servicing_contacts_due ON servicing_contacts (not_before, seq) WHERE status = 'queued';
      CREATE INDEX servicing_contacts_sent ON servicing_contacts (account_id, local_date) WHERE status = 'sent';

      CREATE TABLE contact_attempts (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        contact_id  TEXT NOT NULL REFERENCES servicing_contacts (id),
        account_id  TEXT NOT NULL,
        at          INTEGER NOT NULL,
        local_time  TEXT NOT NULL,
        time_zone   TEXT NOT NULL,
        outcome     TEXT NOT NULL CHECK (outcome IN ('sent', 'deferred', 'suppressed')),
        reason      TEXT NOT NULL
      );
      CREATE INDEX contact_attempts_account ON contact_attempts (account_id, id);

      CREATE TABLE loan_buckets (
        account_id     TEXT NOT NULL,
        loan_no        INTEGER NOT NULL,
        bucket         TEXT NOT NULL,
        days_past_due  INTEGER NOT NULL,
        since          INTEGER NOT NULL,
        PRIMARY KEY (account_id, loan_no)
      );

      CREATE TABLE bucket_moves (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id     TEXT NOT NULL,
        loan_no        INTEGER NOT NULL,
        from_bucket    TEXT NOT NULL,
        to_bucket      TEXT NOT NULL,
        days_past_due  INTEGER NOT NULL,
        at             INTEGER NOT NULL
      );
      CREATE INDEX bucket_moves_account ON bucket_moves (account_id, id);

      CREATE TABLE limit_reviews (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id    TEXT NOT NULL,
        product_id    INTEGER NOT NULL,
        reviewed_at   INTEGER NOT NULL,
        outcome       TEXT NOT NULL,
        score         INTEGER NOT NULL,
        features      TEXT NOT NULL,
        operation_id  TEXT,
        reason_code   INTEGER
      );
      CREATE INDEX limit_reviews_account ON limit_reviews (account_id, product_id, reviewed_at);

      CREATE TABLE velocity_holds (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id    TEXT NOT NULL,
        product_id    INTEGER NOT NULL,
        rule          TEXT NOT NULL,
        detail        TEXT NOT NULL,
        operation_id  TEXT,
        at_ms         INTEGER NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: "webhook replays restart the retry window: the time and attempt count of the last replay",
    sql: `
      ALTER TABLE webhook_deliveries ADD COLUMN retry_from_ms INTEGER;
      ALTER TABLE webhook_deliveries ADD COLUMN retry_from_attempt INTEGER;
    `,
  },
  {
    version: 5,
    name: "a landed step holds the decoded entry in the shape the indexer and the verifier use (core/ledger-events.ts)",
    // Before: {txHash, blockNumber, logIndex, entrySeq, entryHead, result: {event, fields}}. The payload
    // hash comes from the indexed entry (null while the entry is not indexed: nothing reads it from a step).
    sql: `
      UPDATE outbox SET landed = json_object(
        'name', json_extract(landed, '$.result.event'),
        'args', json(json_extract(landed, '$.result.fields')),
        'txHash', json_extract(landed, '$.txHash'),
        'blockNumber', json_extract(landed, '$.blockNumber'),
        'logIndex', json_extract(landed, '$.logIndex'),
        'kind', CASE json_extract(landed, '$.result.event') WHEN 'AccountOpened' THEN 1 WHEN 'DecisionDeclined' THEN 2 WHEN 'LineGranted' THEN 3 WHEN 'LimitIncreased' THEN 4 WHEN 'LimitCut' THEN 5 WHEN 'LineFrozen' THEN 6 WHEN 'LineUnfrozen' THEN 7 WHEN 'ExposureCapChanged' THEN 8 WHEN 'Drawn' THEN 9 WHEN 'Refunded' THEN 10 WHEN 'Repaid' THEN 11 WHEN 'Restructured' THEN 12 WHEN 'WrittenOff' THEN 13 END,
        'account', account_id,
        'seq', json(json_extract(landed, '$.entrySeq')),
        'head', json_extract(landed, '$.entryHead'),
        'ref', ref,
        'payloadHash', (SELECT e.payload_hash FROM entries e WHERE e.account_id = outbox.account_id
                          AND e.seq = CAST(json_extract(outbox.landed, '$.entrySeq."$bigint"') AS INTEGER))
      )
      WHERE landed IS NOT NULL AND json_extract(landed, '$.result') IS NOT NULL;
    `,
  },
  {
    version: 6,
    name: "partners as tenants: partners, keys per partner with expiry, account links, owners of operations, loans and webhook subscriptions, the admin audit log",
    // Keys with the partner scope from before become one partner's, with what they did:
    // their idempotency records, webhooks, operations, the accounts and loans those reached.
    sql: `
      CREATE TABLE partners (
        id               TEXT PRIMARY KEY,
        name             TEXT NOT NULL,
        status           TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
        rate_per_minute  INTEGER NOT NULL,
        burst            INTEGER NOT NULL,
        products         TEXT NOT NULL,
        webhook_quota    INTEGER NOT NULL,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL
      );
      ALTER TABLE api_keys ADD COLUMN partner_id TEXT REFERENCES partners (id);
      ALTER TABLE api_keys ADD COLUMN expires_at TEXT;
      CREATE INDEX api_keys_partner ON api_keys (partner_id);
      CREATE TABLE account_links (
        partner_id  TEXT NOT NULL REFERENCES partners (id),
        account_id  TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (partner_id, account_id)
      );
      CREATE INDEX account_links_account ON account_links (account_id);
      ALTER TABLE operations ADD COLUMN partner_id TEXT;
      CREATE INDEX operations_partner ON operations (partner_id, account_id);
      CREATE TABLE loan_owners (
        account_id  TEXT NOT NULL,
        loan_no     INTEGER NOT NULL,
        partner_id  TEXT NOT NULL,
        PRIMARY KEY (account_id, loan_no)
      );
      ALTER TABLE webhook_subscriptions ADD COLUMN owner TEXT;
      UPDATE webhook_subscriptions SET owner = api_key_id;
      CREATE TABLE admin_audit (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        at      TEXT NOT NULL,
        actor   TEXT NOT NULL,
        action  TEXT NOT NULL,
        target  TEXT,
        reason  TEXT,
        before  TEXT,
        after   TEXT
      );

      INSERT INTO partners (id, name, status, rate_per_minute, burst, products, webhook_quota, created_at, updated_at)
        SELECT 'ptr_before_tenancy', 'the partner keys from before tenancy', 'active', 600, 100, 'pay_later,cash_loan', 20,
               strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
        WHERE EXISTS (SELECT 1 FROM api_keys WHERE ',' || scopes || ',' LIKE '%,partner,%');
      UPDATE api_keys SET partner_id = 'ptr_before_tenancy' WHERE ',' || scopes || ',' LIKE '%,partner,%';
      UPDATE operations SET partner_id = 'ptr_before_tenancy' WHERE id IN (
        SELECT i.operation_id FROM idempotency i JOIN api_keys k ON k.id = i.api_key_id WHERE k.partner_id = 'ptr_before_tenancy');
      UPDATE idempotency SET api_key_id = 'ptr_before_tenancy' WHERE api_key_id IN (SELECT id FROM api_keys WHERE partner_id = 'ptr_before_tenancy');
      UPDATE webhook_subscriptions SET owner = 'ptr_before_tenancy' WHERE api_key_id IN (SELECT id FROM api_keys WHERE partner_id = 'ptr_before_tenancy');
      INSERT OR IGNORE INTO account_links (partner_id, account_id, created_at)
        SELECT DISTINCT partner_id, account_id, created_at FROM operations WHERE partner_id IS NOT NULL;
      INSERT OR IGNORE INTO loan_owners (account_id, loan_no, partner_id)
        SELECT o.account_id, CAST(json_extract(s.landed, '$.args.loanNo."$bigint"') AS INTEGER), o.partner_id
        FROM operations o JOIN outbox s ON s.operation_id = o.id
        WHERE o.partner_id IS NOT NULL AND s.fn IN ('purchase', 'drawCash') AND s.landed IS NOT NULL;
    `,
  },
  {
    version: 7,
    name: "batches: the outbox sender sends steps in batch transactions, several in flight; each batch's signed transactions and the steps it carries",
    // A batch holds one nonce; its transactions are the first signing and its replacements (same
    // nonce, same calls, higher fees). batch_steps says which step is at which position of the
    // batch's calls, with the seq it expects and the arguments signed. A step in flight names its
    // batch (outbox.batch_id); requeued or resolved, it names none. requeues counts how often a
    // step came back to queued (refused by SeqMismatch behind an earlier refusal, or a whole-batch revert).
    sql: `
      CREATE TABLE batches (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        nonce       INTEGER NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('pending', 'resolved', 'dropped')),
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      CREATE INDEX batches_pending ON batches (nonce) WHERE status = 'pending';

      CREATE TABLE batch_transactions (
        hash        TEXT PRIMARY KEY,
        batch_id    INTEGER NOT NULL REFERENCES batches (id),
        nonce       INTEGER NOT NULL,
        raw         TEXT NOT NULL,
        created_at  TEXT NOT NULL
      );
      CREATE INDEX batch_transactions_batch ON batch_transactions (batch_id);

      CREATE TABLE batch_steps (
        batch_id      INTEGER NOT NULL REFERENCES batches (id),
        position      INTEGER NOT NULL,
        outbox_id     INTEGER NOT NULL REFERENCES outbox (id),
        expected_seq  TEXT NOT NULL,
        PRIMARY KEY (batch_id, position)
      );
      CREATE INDEX batch_steps_step ON batch_steps (outbox_id);

      ALTER TABLE outbox ADD COLUMN batch_id INTEGER REFERENCES batches (id);
      ALTER TABLE outbox ADD COLUMN requeues INTEGER NOT NULL DEFAULT 0;
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
