/**
 * Versioned schema migrations of the PostgreSQL store: its own history, apart from the SQLite
 * store's (migrations.ts). The two dialects differ where the stores lean on them (SQLite
 * rebuilds tables to change a constraint; PostgreSQL alters them in place), so each dialect
 * keeps the history its databases actually went through, rather than one history translated at
 * run time. Version 1 is the SQLite schema at its version 7, in PostgreSQL's types: BIGSERIAL
 * for AUTOINCREMENT keys, BIGINT for every integer (SQLite's are 64-bit), and the same TEXT
 * columns (ISO times, JSON, decimal strings of bigints) so one row-mapping module serves both
 * stores. Tables are created in foreign-key order. test/server/pg-migrations.test.ts checks
 * that every table and column of the SQLite schema is here, and no other.
 *
 * Each migration runs once, in its own transaction, under a transaction-scoped advisory lock so
 * that gateways starting at once against one database migrate it once; it is recorded in
 * `schema_migrations`; a database written by a newer gateway is refused.
 * Append new migrations; never edit one that has shipped.
 */
import type { Pool, PoolClient } from "pg";

import type { AppliedMigration, Migration } from "./migrations";

/** The advisory lock key the migrations hold ("cl-migr" in ASCII). */
export const MIGRATION_LOCK = 0x636c2d6d696772n;

export const PG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema: the SQLite schema at its version 7",
    sql: `
      CREATE TABLE partners (
          id               TEXT PRIMARY KEY,
          name             TEXT NOT NULL,
          status           TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
          rate_per_minute  BIGINT NOT NULL,
          burst            BIGINT NOT NULL,
          products         TEXT NOT NULL,
          webhook_quota    BIGINT NOT NULL,
          created_at       TEXT NOT NULL,
          updated_at       TEXT NOT NULL
      );

      CREATE TABLE batches (
          id          BIGSERIAL PRIMARY KEY,
          nonce       BIGINT NOT NULL,
          status      TEXT NOT NULL CHECK (status IN ('pending', 'resolved', 'dropped')),
          created_at  TEXT NOT NULL,
          updated_at  TEXT NOT NULL
      );

      CREATE TABLE api_keys (
          id          TEXT PRIMARY KEY,
          key_hash    TEXT NOT NULL UNIQUE,
          name        TEXT NOT NULL,
          scopes      TEXT NOT NULL,
          created_at  TEXT NOT NULL,
          revoked_at  TEXT,
          partner_id TEXT REFERENCES partners (id),
          expires_at TEXT);

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
          updated_at  TEXT NOT NULL,
          partner_id TEXT);

      CREATE TABLE outbox (
          id            BIGSERIAL PRIMARY KEY,
          operation_id  TEXT NOT NULL REFERENCES operations (id),
          step          BIGINT NOT NULL,
          account_id    TEXT NOT NULL,
          fn            TEXT NOT NULL,
          call          TEXT NOT NULL,
          ref           TEXT NOT NULL UNIQUE,
          status        TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'confirmed', 'failed', 'cancelled')),
          expected_seq  TEXT,
          sent_call     TEXT,
          landed        TEXT,
          error         TEXT,
          attempts      BIGINT NOT NULL DEFAULT 0,
          last_error    TEXT,
          from_block    BIGINT NOT NULL,
          created_at    TEXT NOT NULL,
          updated_at    TEXT NOT NULL,
          batch_id BIGINT REFERENCES batches (id),
          requeues BIGINT NOT NULL DEFAULT 0,
          UNIQUE (operation_id, step)
      );

      CREATE TABLE outbox_transactions (
          hash        TEXT PRIMARY KEY,
          outbox_id   BIGINT NOT NULL REFERENCES outbox (id),
          nonce       BIGINT NOT NULL,
          raw         TEXT NOT NULL,
          created_at  TEXT NOT NULL
      );

      CREATE TABLE idempotency (
          api_key_id       TEXT NOT NULL,
          idem_key         TEXT NOT NULL,
          fingerprint      TEXT NOT NULL,
          operation_id     TEXT REFERENCES operations (id),
          response_status  BIGINT,
          response_body    TEXT,
          created_at       TEXT NOT NULL,
          PRIMARY KEY (api_key_id, idem_key)
      );

      CREATE TABLE decisions (
          id                BIGSERIAL PRIMARY KEY,
          operation_id      TEXT NOT NULL REFERENCES operations (id),
          account_id        TEXT NOT NULL,
          product_id        BIGINT NOT NULL,
          approved          BIGINT NOT NULL,
          tier              BIGINT NOT NULL,
          score             BIGINT NOT NULL,
          limit_fen         TEXT NOT NULL,
          rate_ppm_per_day  TEXT NOT NULL,
          reason_codes      TEXT NOT NULL,
          model_id          TEXT NOT NULL,
          features          TEXT NOT NULL,
          salt              TEXT NOT NULL,
          features_hash     TEXT NOT NULL,
          created_at        TEXT NOT NULL
      );

      CREATE TABLE indexer_cursor (
          id          BIGINT PRIMARY KEY CHECK (id = 1),
          next_block  BIGINT NOT NULL
      );

      CREATE TABLE entries (
          account_id    TEXT NOT NULL,
          seq           BIGINT NOT NULL,
          kind          TEXT NOT NULL,
          head          TEXT NOT NULL,
          payload_hash  TEXT NOT NULL,
          ref           TEXT NOT NULL,
          fields        TEXT NOT NULL,
          tx_hash       TEXT NOT NULL,
          block_number  BIGINT NOT NULL,
          log_index     BIGINT NOT NULL,
          PRIMARY KEY (account_id, seq)
      );

      CREATE TABLE accounts (
          account_id  TEXT PRIMARY KEY,
          state       TEXT NOT NULL,
          block       BIGINT NOT NULL
      );

      CREATE TABLE lines (
          account_id  TEXT NOT NULL,
          product_id  BIGINT NOT NULL,
          state       TEXT NOT NULL,
          block       BIGINT NOT NULL,
          PRIMARY KEY (account_id, product_id)
      );

      CREATE TABLE loans (
          account_id  TEXT NOT NULL,
          loan_no     BIGINT NOT NULL,
          product_id  BIGINT NOT NULL,
          terms       TEXT NOT NULL,
          state       TEXT NOT NULL,
          block       BIGINT NOT NULL,
          PRIMARY KEY (account_id, loan_no)
      );

      CREATE TABLE webhook_subscriptions (
          id           TEXT PRIMARY KEY,
          api_key_id   TEXT NOT NULL REFERENCES api_keys (id),
          url          TEXT NOT NULL,
          events       TEXT NOT NULL,
          secret_hash  TEXT NOT NULL,
          active       BIGINT NOT NULL DEFAULT 1,
          created_at   TEXT NOT NULL,
          deleted_at TEXT,
          owner TEXT);

      CREATE TABLE gateway_meta (
          key    TEXT PRIMARY KEY,
          value  TEXT NOT NULL
      );

      CREATE TABLE account_profiles (
          account_id  TEXT PRIMARY KEY,
          time_zone   TEXT,
          device_key  TEXT,
          phone_key   TEXT,
          created_at  TEXT NOT NULL,
          updated_at  TEXT NOT NULL
      );

      CREATE TABLE webhook_events (
          seq         BIGSERIAL PRIMARY KEY,
          id          TEXT NOT NULL UNIQUE,
          type        TEXT NOT NULL,
          account_id  TEXT,
          source      TEXT,
          body        TEXT NOT NULL,
          created_at  TEXT NOT NULL
      );

      CREATE TABLE webhook_deliveries (
          seq              BIGSERIAL PRIMARY KEY,
          id               TEXT NOT NULL UNIQUE,
          event_id         TEXT NOT NULL REFERENCES webhook_events (id),
          subscription_id  TEXT NOT NULL REFERENCES webhook_subscriptions (id),
          status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
          attempts         BIGINT NOT NULL DEFAULT 0,
          first_attempt_ms BIGINT,
          next_attempt_ms  BIGINT,
          last_status      BIGINT,
          last_error       TEXT,
          created_at       TEXT NOT NULL,
          updated_at       TEXT NOT NULL,
          retry_from_ms BIGINT,
          retry_from_attempt BIGINT,
          UNIQUE (event_id, subscription_id)
      );

      CREATE TABLE webhook_attempts (
          id           BIGSERIAL PRIMARY KEY,
          delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id),
          attempt      BIGINT NOT NULL,
          trigger      TEXT NOT NULL CHECK (trigger IN ('scheduled', 'replay')),
          at_ms        BIGINT NOT NULL,
          status_code  BIGINT,
          error        TEXT,
          duration_ms  BIGINT NOT NULL
      );

      CREATE TABLE servicing_contacts (
          seq          BIGSERIAL PRIMARY KEY,
          id           TEXT NOT NULL UNIQUE,
          type         TEXT NOT NULL,
          account_id   TEXT NOT NULL,
          loan_no      BIGINT NOT NULL,
          period       BIGINT NOT NULL,
          due_time     BIGINT NOT NULL,
          scheduled_at BIGINT NOT NULL,
          not_before   BIGINT NOT NULL,
          data         TEXT NOT NULL,
          status       TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'suppressed')),
          local_date   TEXT,
          created_at   TEXT NOT NULL,
          updated_at   TEXT NOT NULL
      );

      CREATE TABLE contact_attempts (
          id          BIGSERIAL PRIMARY KEY,
          contact_id  TEXT NOT NULL REFERENCES servicing_contacts (id),
          account_id  TEXT NOT NULL,
          at          BIGINT NOT NULL,
          local_time  TEXT NOT NULL,
          time_zone   TEXT NOT NULL,
          outcome     TEXT NOT NULL CHECK (outcome IN ('sent', 'deferred', 'suppressed')),
          reason      TEXT NOT NULL
      );

      CREATE TABLE loan_buckets (
          account_id     TEXT NOT NULL,
          loan_no        BIGINT NOT NULL,
          bucket         TEXT NOT NULL,
          days_past_due  BIGINT NOT NULL,
          since          BIGINT NOT NULL,
          PRIMARY KEY (account_id, loan_no)
      );

      CREATE TABLE bucket_moves (
          id             BIGSERIAL PRIMARY KEY,
          account_id     TEXT NOT NULL,
          loan_no        BIGINT NOT NULL,
          from_bucket    TEXT NOT NULL,
          to_bucket      TEXT NOT NULL,
          days_past_due  BIGINT NOT NULL,
          at             BIGINT NOT NULL
      );

      CREATE TABLE limit_reviews (
          id            BIGSERIAL PRIMARY KEY,
          account_id    TEXT NOT NULL,
          product_id    BIGINT NOT NULL,
          reviewed_at   BIGINT NOT NULL,
          outcome       TEXT NOT NULL,
          score         BIGINT NOT NULL,
          features      TEXT NOT NULL,
          operation_id  TEXT,
          reason_code   BIGINT
      );

      CREATE TABLE velocity_holds (
          id            BIGSERIAL PRIMARY KEY,
          account_id    TEXT NOT NULL,
          product_id    BIGINT NOT NULL,
          rule          TEXT NOT NULL,
          detail        TEXT NOT NULL,
          operation_id  TEXT,
          at_ms         BIGINT NOT NULL
      );

      CREATE TABLE account_links (
          partner_id  TEXT NOT NULL REFERENCES partners (id),
          account_id  TEXT NOT NULL,
          created_at  TEXT NOT NULL,
          PRIMARY KEY (partner_id, account_id)
      );

      CREATE TABLE loan_owners (
          account_id  TEXT NOT NULL,
          loan_no     BIGINT NOT NULL,
          partner_id  TEXT NOT NULL,
          PRIMARY KEY (account_id, loan_no)
      );

      CREATE TABLE admin_audit (
          id      BIGSERIAL PRIMARY KEY,
          at      TEXT NOT NULL,
          actor   TEXT NOT NULL,
          action  TEXT NOT NULL,
          target  TEXT,
          reason  TEXT,
          before  TEXT,
          after   TEXT
      );

      CREATE TABLE batch_transactions (
          hash        TEXT PRIMARY KEY,
          batch_id    BIGINT NOT NULL REFERENCES batches (id),
          nonce       BIGINT NOT NULL,
          raw         TEXT NOT NULL,
          created_at  TEXT NOT NULL
      );

      CREATE TABLE batch_steps (
          batch_id      BIGINT NOT NULL REFERENCES batches (id),
          position      BIGINT NOT NULL,
          outbox_id     BIGINT NOT NULL REFERENCES outbox (id),
          expected_seq  TEXT NOT NULL,
          PRIMARY KEY (batch_id, position)
      );

      CREATE INDEX operations_account ON operations (account_id);

      CREATE INDEX outbox_open ON outbox (id) WHERE status IN ('queued', 'sent');

      CREATE INDEX outbox_account ON outbox (account_id);

      CREATE INDEX outbox_transactions_step ON outbox_transactions (outbox_id);

      CREATE INDEX decisions_operation ON decisions (operation_id);

      CREATE INDEX entries_ref ON entries (ref);

      CREATE INDEX webhook_subscriptions_key ON webhook_subscriptions (api_key_id);

      CREATE INDEX account_profiles_device ON account_profiles (device_key) WHERE device_key IS NOT NULL;

      CREATE INDEX account_profiles_phone ON account_profiles (phone_key) WHERE phone_key IS NOT NULL;

      CREATE INDEX webhook_events_source ON webhook_events (source);

      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_ms, seq) WHERE status = 'pending';

      CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, seq);

      CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);

      CREATE INDEX servicing_contacts_due ON servicing_contacts (not_before, seq) WHERE status = 'queued';

      CREATE INDEX servicing_contacts_sent ON servicing_contacts (account_id, local_date) WHERE status = 'sent';

      CREATE INDEX contact_attempts_account ON contact_attempts (account_id, id);

      CREATE INDEX bucket_moves_account ON bucket_moves (account_id, id);

      CREATE INDEX limit_reviews_account ON limit_reviews (account_id, product_id, reviewed_at);

      CREATE INDEX api_keys_partner ON api_keys (partner_id);

      CREATE INDEX account_links_account ON account_links (account_id);

      CREATE INDEX operations_partner ON operations (partner_id, account_id);

      CREATE INDEX batches_pending ON batches (nonce) WHERE status = 'pending';

      CREATE INDEX batch_transactions_batch ON batch_transactions (batch_id);

      CREATE INDEX batch_steps_step ON batch_steps (outbox_id);
    `,
  },
];

/** Applies the migrations the database has not seen, in order; returns the versions applied. */
export async function migratePg(
  pool: Pool,
  migrations: readonly Migration[] = PG_MIGRATIONS,
  now = () => new Date().toISOString()
): Promise<number[]> {
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version <= migrations[i - 1].version) throw new Error("migrations must be in ascending version order");
  }
  const newest = migrations.length > 0 ? migrations[migrations.length - 1].version : 0;
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    for (;;) {
      await client.query("BEGIN");
      try {
        await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK.toString()]);
        await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version     BIGINT PRIMARY KEY,
          name        TEXT NOT NULL,
          applied_at  TEXT NOT NULL
        )`);
        const current = await currentVersion(client);
        if (current > newest) {
          throw new Error(`database schema is at version ${current}, newer than this gateway knows (${newest}): upgrade the gateway`);
        }
        const next = migrations.find((m) => m.version > current);
        if (!next) {
          await client.query("COMMIT");
          return applied;
        }
        await client.query(next.sql);
        await client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [next.version, next.name, now()]);
        await client.query("COMMIT");
        applied.push(next.version);
      } catch (e) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw e;
      }
    }
  } finally {
    client.release();
  }
}

async function currentVersion(client: PoolClient): Promise<number> {
  const r = await client.query<{ v: string | null }>("SELECT MAX(version)::text AS v FROM schema_migrations");
  return Number(r.rows[0].v ?? 0);
}

export async function appliedPgMigrations(pool: Pool): Promise<AppliedMigration[]> {
  const r = await pool.query<{ version: string; name: string; appliedat: string }>(
    "SELECT version::text AS version, name, applied_at AS appliedat FROM schema_migrations ORDER BY version"
  );
  return r.rows.map((row) => ({ version: Number(row.version), name: row.name, appliedAt: row.appliedat }));
}
