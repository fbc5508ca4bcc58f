/**
 * The `Store` on an embedded SQLite database (better-sqlite3): WAL journal, foreign keys on,
 * versioned migrations applied at open, the files readable by the gateway's user only
 * (core/database-file.ts). better-sqlite3 is synchronous, so each method runs
 * to completion (in one transaction where it writes several rows) before any other code
 * runs; the async signatures are the interface's, kept for a PostgreSQL implementation.
 */
import type Database from "better-sqlite3";

import type { Clock } from "../clock";
import { openDatabaseFile } from "../../core/database-file";
import { migrate } from "./migrations";
import { ERASED_FEATURES, openFeatures, sealFeatures, type FieldSealer } from "./sealed-features";
import type {
  Acceptance,
  AcceptOutcome,
  AccountSnapshot,
  AdminAuditRecord,
  ApiKeyRecord,
  BatchRecord,
  BatchStatus,
  ChainBinding,
  DecisionRecord,
  IdempotencyRecord,
  IndexedBatch,
  LineSnapshot,
  LoanSnapshot,
  NewAdminAudit,
  NewBatch,
  OperationRecord,
  OutboxDepth,
  PartnerRecord,
  StepOutcome,
  StepRecord,
  StepStatus,
  Store,
  StoredResponse,
  TransactionRecord,
  VaultRecord,
} from "./store";
import { EntryKind } from "../../core/hash-chain";
import { taggedJson } from "../../core/json";
import { apiKeyFrom, batchFrom, decisionFrom, json, loanFrom, operationFrom, optJson, optStr, partnerFrom, type Row, stepFrom, str, txFrom, vaultFrom } from "./rows";
import type { LedgerEntry } from "../../core/ledger-events";
import { accountFromFields, lineFromFields } from "../../core/ledger-structs";


const OPEN: readonly StepStatus[] = ["queued", "sent"];

/** Distinct SQL texts kept prepared; beyond that a text is prepared each time (dynamic SQL cannot grow the cache without end). */
const STATEMENT_CACHE_SIZE = 1_000;

/**
 * Makes `db.prepare` hand back the statement already prepared for the same SQL text. The
 * store and the servicing store prepare each statement where they run it, and compiling one
 * costs more than running most of them: 4 % of the gateway's CPU under a load test, the
 * largest single item of the accept path (npm run bench -- --cpu-prof). Reusing is safe here:
 * every statement runs to completion synchronously (none is iterated), and none is given a
 * mode (pluck, raw, expand, safeIntegers) that would carry over to its next use.
 */
function reuseStatements(db: Database.Database): void {
  const prepare = db.prepare.bind(db);
  const prepared = new Map<string, Database.Statement>();
  db.prepare = ((source: string) => {
    let statement = prepared.get(source);
    if (statement === undefined) {
      statement = prepare(source);
      if (prepared.size < STATEMENT_CACHE_SIZE) prepared.set(source, statement);
    }
    return statement;
  }) as typeof db.prepare;
}

export class SqliteStore implements Store {
  readonly db: Database.Database;
  #sealer: FieldSealer | undefined;

  /**
   * Opens (creating if needed) and migrates the database at `path` (":memory:" for a throwaway
   * one). `sealer` (the vault keyring) seals decision features; a store opened without one
   * (the admin CLI) gets it from the gateway that uses it (`useSealer`), or touches no features.
   */
  constructor(path: string, private readonly clock: Clock, options: { sealer?: FieldSealer } = {}) {
    this.#sealer = options.sealer;
    this.db = openDatabaseFile(path);
    reuseStatements(this.db);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    migrate(this.db, undefined, () => this.now());
  }

  private now(): string {
    return new Date(this.clock.nowMs()).toISOString();
  }

  /** The sealer of decision features: the one given at opening, else this one (the gateway's keyring). */
  useSealer(sealer: FieldSealer): void {
    this.#sealer ??= sealer;
  }

  get sealer(): FieldSealer | undefined {
    return this.#sealer;
  }

  async bindChain(binding: ChainBinding): Promise<ChainBinding> {
    return this.db
      .transaction(() => {
        const row = this.db.prepare("SELECT value FROM gateway_meta WHERE key = 'chain'").get() as { value: string } | undefined;
        if (row) return JSON.parse(row.value) as ChainBinding;
        this.db.prepare("INSERT INTO gateway_meta (key, value) VALUES ('chain', ?)").run(JSON.stringify(binding));
        return binding;
      })
      .immediate();
  }

  // ---------------------------------------------------------------- api keys and partners

  private audit(a: NewAdminAudit | undefined): void {
    if (!a) return;
    this.db
      .prepare("INSERT INTO admin_audit (at, actor, action, target, reason, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(this.now(), a.actor, a.action, a.target ?? null, a.reason ?? null, a.before === undefined ? null : taggedJson(a.before), a.after === undefined ? null : taggedJson(a.after));
  }

  private insertKeyRow(k: ApiKeyRecord): void {
    this.db
      .prepare("INSERT INTO api_keys (id, key_hash, name, scopes, partner_id, created_at, revoked_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .run(k.id, k.keyHash, k.name, k.scopes.join(","), k.partnerId ?? null, k.createdAt, k.revokedAt ?? null, k.expiresAt ?? null);
  }

  async insertApiKey(k: ApiKeyRecord, audit?: NewAdminAudit): Promise<void> {
    this.db
      .transaction(() => {
        this.insertKeyRow(k);
        this.audit(audit);
      })
      .immediate();
  }

  async insertFirstAdminKey(k: ApiKeyRecord, audit: NewAdminAudit): Promise<{ inserted: true } | { inserted: false; existing: ApiKeyRecord }> {
    return this.db
      .transaction((): { inserted: true } | { inserted: false; existing: ApiKeyRecord } => {
        const live = (
          this.db
            .prepare("SELECT * FROM api_keys WHERE partner_id IS NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) ORDER BY created_at, id")
            .all(this.now()) as Row[]
        )
          .map(apiKeyFrom)
          .find((key) => key.scopes.includes("admin"));
        if (live !== undefined) return { inserted: false, existing: live };
        this.insertKeyRow(k);
        this.audit(audit);
        return { inserted: true };
      })
      .immediate();
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM api_keys WHERE key_hash = ?").get(keyHash) as Row | undefined;
    return r && apiKeyFrom(r);
  }

  async apiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM api_keys WHERE id = ?").get(id) as Row | undefined;
    return r && apiKeyFrom(r);
  }

  async apiKeysOf(partnerId: string): Promise<ApiKeyRecord[]> {
    return (this.db.prepare("SELECT * FROM api_keys WHERE partner_id = ? ORDER BY created_at, id").all(partnerId) as Row[]).map(apiKeyFrom);
  }

  async updateApiKey(id: string, change: { revokedAt?: string; expiresAt?: string }, audit: NewAdminAudit): Promise<void> {
    this.db
      .transaction(() => {
        this.db
          .prepare("UPDATE api_keys SET revoked_at = COALESCE(?, revoked_at), expires_at = COALESCE(?, expires_at) WHERE id = ?")
          .run(change.revokedAt ?? null, change.expiresAt ?? null, id);
        this.audit(audit);
      })
      .immediate();
  }

  async rotateApiKey(oldId: string, expiresAt: string, replacement: ApiKeyRecord, audit: NewAdminAudit): Promise<void> {
    this.db
      .transaction(() => {
        this.db.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)").run(expiresAt, oldId, expiresAt);
        this.insertKeyRow(replacement);
        this.audit(audit);
      })
      .immediate();
  }

  async insertPartner(p: PartnerRecord, audit: NewAdminAudit, firstKey: { record: ApiKeyRecord; audit: NewAdminAudit }): Promise<void> {
    this.db
      .transaction(() => {
        this.db
          .prepare(
            "INSERT INTO partners (id, name, status, rate_per_minute, burst, products, webhook_quota, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
          )
          .run(p.id, p.name, p.status, p.ratePerMinute, p.burst, p.products.join(","), p.webhookQuota, p.createdAt, p.updatedAt);
        this.audit(audit);
        this.insertKeyRow(firstKey.record);
        this.audit(firstKey.audit);
      })
      .immediate();
  }

  async updatePartner(p: PartnerRecord, audit: NewAdminAudit): Promise<void> {
    this.db
      .transaction(() => {
        this.db
          .prepare("UPDATE partners SET name = ?, status = ?, rate_per_minute = ?, burst = ?, products = ?, webhook_quota = ?, updated_at = ? WHERE id = ?")
          .run(p.name, p.status, p.ratePerMinute, p.burst, p.products.join(","), p.webhookQuota, p.updatedAt, p.id);
        this.audit(audit);
      })
      .immediate();
  }

  async partner(id: string): Promise<PartnerRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM partners WHERE id = ?").get(id) as Row | undefined;
    return r && partnerFrom(r);
  }

  async partners(): Promise<PartnerRecord[]> {
    return (this.db.prepare("SELECT * FROM partners ORDER BY created_at, id").all() as Row[]).map(partnerFrom);
  }

  async recordAudit(audit: NewAdminAudit): Promise<void> {
    this.audit(audit);
  }

  async auditLog(limit: number, beforeId?: number): Promise<AdminAuditRecord[]> {
    const rows = this.db
      .prepare("SELECT * FROM admin_audit WHERE id < ? ORDER BY id DESC LIMIT ?")
      .all(beforeId ?? Number.MAX_SAFE_INTEGER, limit) as Row[];
    return rows.map((r) => ({
      id: r.id as number,
      at: str(r.at),
      actor: str(r.actor),
      action: str(r.action),
      target: optStr(r.target),
      reason: optStr(r.reason),
      before: optJson(r.before),
      after: optJson(r.after),
    }));
  }

  // ---------------------------------------------------------------- tenancy

  async isLinked(partnerId: string, accountId: string): Promise<boolean> {
    return this.db.prepare("SELECT 1 FROM account_links WHERE partner_id = ? AND account_id = ?").get(partnerId, accountId) !== undefined;
  }

  async linkAccount(partnerId: string, accountId: string): Promise<void> {
    this.db.prepare("INSERT OR IGNORE INTO account_links (partner_id, account_id, created_at) VALUES (?, ?, ?)").run(partnerId, accountId, this.now());
  }

  async partnersOf(accountId: string): Promise<string[]> {
    return (this.db.prepare("SELECT partner_id FROM account_links WHERE account_id = ? ORDER BY created_at, partner_id").all(accountId) as Row[]).map((r) =>
      str(r.partner_id)
    );
  }

  async loanOwner(accountId: string, loanNo: number): Promise<string | undefined> {
    const r = this.db.prepare("SELECT partner_id FROM loan_owners WHERE account_id = ? AND loan_no = ?").get(accountId, loanNo) as Row | undefined;
    return r && str(r.partner_id);
  }

  async loansOwnedBy(partnerId: string, accountId: string): Promise<number[]> {
    return (this.db.prepare("SELECT loan_no FROM loan_owners WHERE partner_id = ? AND account_id = ? ORDER BY loan_no").all(partnerId, accountId) as Row[]).map(
      (r) => r.loan_no as number
    );
  }

  async refsOf(partnerId: string, accountId: string): Promise<string[]> {
    return (
      this.db
        .prepare("SELECT s.ref FROM outbox s JOIN operations o ON o.id = s.operation_id WHERE o.partner_id = ? AND s.account_id = ?")
        .all(partnerId, accountId) as Row[]
    ).map((r) => str(r.ref));
  }

  // ---------------------------------------------------------------- vault

  async findIdentity(identityKey: string): Promise<VaultRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM vault WHERE identity_key = ?").get(identityKey) as Row | undefined;
    return r && vaultFrom(r);
  }

  async findIdentityByAccount(accountId: string): Promise<VaultRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM vault WHERE account_id = ?").get(accountId) as Row | undefined;
    return r && vaultFrom(r);
  }

  async insertIdentity(record: VaultRecord): Promise<VaultRecord> {
    return this.db
      .transaction(() => {
        const existing = this.db.prepare("SELECT * FROM vault WHERE identity_key = ?").get(record.identityKey) as Row | undefined;
        if (existing) return vaultFrom(existing);
        this.db
          .prepare("INSERT INTO vault (identity_key, account_id, sealed_pii, created_at) VALUES (?, ?, ?, ?)")
          .run(record.identityKey, record.accountId, record.sealedPii, record.createdAt);
        return record;
      })
      .immediate();
  }

  async deleteIdentity(accountId: string): Promise<boolean> {
    return this.db
      .transaction(() => {
        // The keyed phone and device would link the account back to the person: they go too,
        // and so do the features of its decisions and limit reviews (declared income among them).
        this.db.prepare("UPDATE account_profiles SET phone_key = NULL, device_key = NULL WHERE account_id = ?").run(accountId);
        this.db.prepare("UPDATE decisions SET features = ? WHERE account_id = ?").run(ERASED_FEATURES, accountId);
        this.db.prepare("UPDATE limit_reviews SET features = ? WHERE account_id = ?").run(ERASED_FEATURES, accountId);
        return this.db.prepare("DELETE FROM vault WHERE account_id = ?").run(accountId).changes > 0;
      })
      .immediate();
  }

  // ---------------------------------------------------------------- acceptance

  async accept(a: Acceptance): Promise<AcceptOutcome> {
    return this.db
      .transaction((): AcceptOutcome => {
        const { owner, key, fingerprint } = a.idempotency;
        const existing = this.idempotencyRow(owner, key);
        if (existing) return { accepted: false, conflict: "idempotency", existing };
        if (a.vault) {
          const person = this.db.prepare("SELECT * FROM vault WHERE identity_key = ?").get(a.vault.identityKey) as
            | Row
            | undefined;
          if (person) return { accepted: false, conflict: "identity", existing: vaultFrom(person) };
        }
        const now = this.now();
        if (a.vault) {
          this.db
            .prepare("INSERT INTO vault (identity_key, account_id, sealed_pii, created_at) VALUES (?, ?, ?, ?)")
            .run(a.vault.identityKey, a.vault.accountId, a.vault.sealedPii, a.vault.createdAt);
        }
        const op = a.operation;
        if (op) {
          this.db
            .prepare(
              "INSERT INTO operations (id, kind, account_id, partner_id, status, context, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)"
            )
            .run(op.id, op.kind, op.accountId, op.partnerId ?? null, taggedJson(op.context), now, now);
          const insertStep = this.db.prepare(
            `INSERT INTO outbox (operation_id, step, account_id, fn, call, ref, status, from_block, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`
          );
          op.steps.forEach((s, i) =>
            insertStep.run(op.id, i, s.accountId, s.fn, taggedJson(s.call), s.ref, op.fromBlock, now, now)
          );
          if (op.steps.length === 0) {
            this.db.prepare("UPDATE operations SET status = 'confirmed' WHERE id = ?").run(op.id);
          }
        }
        if (a.link) {
          this.db
            .prepare("INSERT OR IGNORE INTO account_links (partner_id, account_id, created_at) VALUES (?, ?, ?)")
            .run(a.link.partnerId, a.link.accountId, now);
        }
        if (a.profile) {
          const p = a.profile;
          this.db
            .prepare(
              `INSERT INTO account_profiles (account_id, time_zone, device_key, phone_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (account_id) DO UPDATE SET time_zone = COALESCE(excluded.time_zone, time_zone),
               device_key = COALESCE(excluded.device_key, device_key), phone_key = COALESCE(excluded.phone_key, phone_key),
               updated_at = excluded.updated_at`
            )
            .run(p.accountId, p.timeZone ?? null, p.deviceKey ?? null, p.phoneKey ?? null, now, now);
        }
        for (const d of a.decisions ?? []) {
          this.db
            .prepare(
              `INSERT INTO decisions (operation_id, account_id, product_id, approved, tier, score, limit_fen, rate_ppm_per_day,
               reason_codes, model_id, features, salt, features_hash, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
            )
            .run(
              d.operationId,
              d.accountId,
              d.productId,
              d.approved ? 1 : 0,
              d.tier,
              d.score,
              d.limit.toString(),
              d.ratePpmPerDay.toString(),
              JSON.stringify(d.reasonCodes),
              d.modelId,
              sealFeatures(this.#sealer, d.accountId, d.features),
              d.salt,
              d.featuresHash,
              d.createdAt
            );
        }
        this.db
          .prepare(
            `INSERT INTO idempotency (api_key_id, idem_key, fingerprint, operation_id, response_status, response_body, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`
          )
          .run(
            owner,
            key,
            fingerprint,
            op?.id ?? null,
            a.response?.status ?? null,
            a.response ? JSON.stringify(a.response.body) : null,
            now
          );
        return { accepted: true };
      })
      .immediate();
  }

  private idempotencyRow(owner: string, key: string): IdempotencyRecord | undefined {
    const r = this.db.prepare("SELECT * FROM idempotency WHERE api_key_id = ? AND idem_key = ?").get(owner, key) as
      | Row
      | undefined;
    if (!r) return undefined;
    return {
      owner: str(r.api_key_id),
      key: str(r.idem_key),
      fingerprint: str(r.fingerprint),
      operationId: optStr(r.operation_id),
      response:
        r.response_status === null ? undefined : { status: r.response_status as number, body: JSON.parse(str(r.response_body)) },
      createdAt: str(r.created_at),
    };
  }

  async findIdempotency(owner: string, key: string): Promise<IdempotencyRecord | undefined> {
    return this.idempotencyRow(owner, key);
  }

  async saveResponse(owner: string, key: string, response: StoredResponse): Promise<void> {
    this.db
      .prepare(
        "UPDATE idempotency SET response_status = ?, response_body = ? WHERE api_key_id = ? AND idem_key = ? AND response_status IS NULL"
      )
      .run(response.status, JSON.stringify(response.body), owner, key);
  }

  async decisionsOf(operationId: string): Promise<DecisionRecord[]> {
    const rows = this.db.prepare("SELECT * FROM decisions WHERE operation_id = ? ORDER BY id").all(operationId) as Row[];
    return rows.map((r) => decisionFrom(r, openFeatures(this.#sealer, str(r.account_id), str(r.features))));
  }

  // ---------------------------------------------------------------- operations and outbox

  async getOperation(id: string): Promise<OperationRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM operations WHERE id = ?").get(id) as Row | undefined;
    if (!r) return undefined;
    const steps = (this.db.prepare("SELECT * FROM outbox WHERE operation_id = ? ORDER BY step").all(id) as Row[]).map((s) =>
      this.stepRow(s)
    );
    return operationFrom(r, steps);
  }

  private stepRow(r: Row): StepRecord {
    // Its own transactions (signed one by one, before batches), then those of the batches that carried it.
    const transactions = (
      this.db
        .prepare(
          `SELECT hash, nonce, raw, created_at, 0 AS src, 0 AS batch, rowid AS r FROM outbox_transactions WHERE outbox_id = ?
           UNION ALL
           SELECT t.hash, t.nonce, t.raw, t.created_at, 1 AS src, t.batch_id AS batch, t.rowid AS r
             FROM batch_steps bs JOIN batch_transactions t ON t.batch_id = bs.batch_id WHERE bs.outbox_id = ?
           ORDER BY src, batch, r`
        )
        .all(r.id, r.id) as Row[]
    ).map(txFrom);
    return stepFrom(r, transactions);
  }

  private step(stepId: number): StepRecord {
    const r = this.db.prepare("SELECT * FROM outbox WHERE id = ?").get(stepId) as Row | undefined;
    if (!r) throw new Error(`no outbox step ${stepId}`);
    return this.stepRow(r);
  }

  async nextOpenStep(): Promise<StepRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM outbox WHERE status IN ('queued', 'sent') ORDER BY id LIMIT 1").get() as
      | Row
      | undefined;
    return r && this.stepRow(r);
  }

  async openStepsOf(accountId: string): Promise<StepRecord[]> {
    const rows = this.db
      .prepare("SELECT * FROM outbox WHERE account_id = ? AND status IN ('queued', 'sent') ORDER BY id")
      .all(accountId) as Row[];
    return rows.map((r) => this.stepRow(r));
  }

  async recordSigned(stepId: number, expectedSeq: bigint, sentCall: unknown, tx: TransactionRecord): Promise<void> {
    this.db
      .transaction(() => {
        const s = this.step(stepId);
        if (!OPEN.includes(s.status)) throw new Error(`outbox step ${stepId} is ${s.status}, not open`);
        this.db
          .prepare("UPDATE outbox SET status = 'sent', expected_seq = ?, sent_call = ?, updated_at = ? WHERE id = ?")
          .run(expectedSeq.toString(), taggedJson(sentCall), this.now(), stepId);
        this.insertTx(stepId, tx);
      })
      .immediate();
  }

  private insertTx(stepId: number, tx: TransactionRecord): void {
    this.db
      .prepare("INSERT OR IGNORE INTO outbox_transactions (hash, outbox_id, nonce, raw, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(tx.hash, stepId, tx.nonce, tx.raw, tx.createdAt);
  }

  async recordReplacement(stepId: number, tx: TransactionRecord): Promise<void> {
    this.db
      .transaction(() => {
        this.insertTx(stepId, tx);
        this.db.prepare("UPDATE outbox SET updated_at = ? WHERE id = ?").run(this.now(), stepId);
      })
      .immediate();
  }

  async recordConfirmed(stepId: number, landed: LedgerEntry): Promise<void> {
    this.db.transaction(() => this.confirmStep(stepId, landed)).immediate();
  }

  private confirmStep(stepId: number, landed: LedgerEntry): void {
    const s = this.step(stepId);
    const now = this.now();
    this.db
      .prepare("UPDATE outbox SET status = 'confirmed', landed = ?, batch_id = NULL, updated_at = ? WHERE id = ?")
      .run(taggedJson(landed), now, stepId);
    if (landed.name === "Drawn") {
      // The loan belongs to the partner whose request drew it.
      this.db
        .prepare(
          "INSERT OR IGNORE INTO loan_owners (account_id, loan_no, partner_id) SELECT ?, ?, partner_id FROM operations WHERE id = ? AND partner_id IS NOT NULL"
        )
        .run(landed.account, Number(landed.args.loanNo as bigint), s.operationId);
    }
    const open = this.db
      .prepare("SELECT COUNT(*) AS n FROM outbox WHERE operation_id = ? AND status <> 'confirmed'")
      .get(s.operationId) as { n: number };
    if (open.n === 0) {
      this.db
        .prepare("UPDATE operations SET status = 'confirmed', updated_at = ? WHERE id = ? AND status = 'pending'")
        .run(now, s.operationId);
    }
  }

  async recordFailed(stepId: number, error: unknown): Promise<void> {
    this.db.transaction(() => this.failStep(stepId, error)).immediate();
  }

  private failStep(stepId: number, error: unknown): void {
    const s = this.step(stepId);
    const now = this.now();
    const e = taggedJson(error);
    this.db.prepare("UPDATE outbox SET status = 'failed', error = ?, batch_id = NULL, updated_at = ? WHERE id = ?").run(e, now, stepId);
    this.db
      .prepare(
        "UPDATE outbox SET status = 'cancelled', batch_id = NULL, updated_at = ? WHERE operation_id = ? AND step > ? AND status IN ('queued', 'sent')"
      )
      .run(now, s.operationId, s.step);
    this.db.prepare("UPDATE operations SET status = 'failed', error = ?, updated_at = ? WHERE id = ?").run(e, now, s.operationId);
  }

  async requeue(stepId: number, reason: string): Promise<void> {
    this.db
      .prepare("UPDATE outbox SET status = 'queued', expected_seq = NULL, batch_id = NULL, last_error = ?, updated_at = ? WHERE id = ?")
      .run(reason, this.now(), stepId);
  }

  // ---------------------------------------------------------------- batches

  async queuedSteps(limit: number): Promise<StepRecord[]> {
    const rows = this.db.prepare("SELECT * FROM outbox WHERE status = 'queued' ORDER BY id LIMIT ?").all(limit) as Row[];
    return rows.map((r) => this.stepRow(r));
  }

  async inFlightSteps(): Promise<StepRecord[]> {
    const rows = this.db.prepare("SELECT * FROM outbox WHERE status = 'sent' AND batch_id IS NOT NULL ORDER BY id").all() as Row[];
    return rows.map((r) => this.stepRow(r));
  }

  async batchSteps(batchId: number): Promise<StepRecord[]> {
    const rows = this.db
      .prepare("SELECT o.* FROM batch_steps bs JOIN outbox o ON o.id = bs.outbox_id WHERE bs.batch_id = ? ORDER BY bs.position")
      .all(batchId) as Row[];
    return rows.map((r) => this.stepRow(r));
  }

  async unbatchedSentSteps(): Promise<StepRecord[]> {
    const rows = this.db.prepare("SELECT * FROM outbox WHERE status = 'sent' AND batch_id IS NULL ORDER BY id").all() as Row[];
    return rows.map((r) => this.stepRow(r));
  }

  async recordBatch(batch: NewBatch): Promise<BatchRecord> {
    return this.db
      .transaction((): BatchRecord => {
        const now = this.now();
        const id = Number(
          this.db.prepare("INSERT INTO batches (nonce, status, created_at, updated_at) VALUES (?, 'pending', ?, ?)").run(batch.nonce, now, now)
            .lastInsertRowid
        );
        this.insertBatchTx(id, batch.tx);
        const insertStep = this.db.prepare("INSERT INTO batch_steps (batch_id, position, outbox_id, expected_seq) VALUES (?, ?, ?, ?)");
        const markSent = this.db.prepare(
          "UPDATE outbox SET status = 'sent', expected_seq = ?, sent_call = ?, batch_id = ?, updated_at = ? WHERE id = ? AND status = 'queued'"
        );
        batch.steps.forEach((s, position) => {
          if (markSent.run(s.expectedSeq.toString(), taggedJson(s.sentCall), id, now, s.stepId).changes !== 1) {
            throw new Error(`outbox step ${s.stepId} is not queued: it cannot join batch ${id}`);
          }
          insertStep.run(id, position, s.stepId, s.expectedSeq.toString());
        });
        return this.batch(id);
      })
      .immediate();
  }

  private insertBatchTx(batchId: number, tx: TransactionRecord): void {
    this.db
      .prepare("INSERT OR IGNORE INTO batch_transactions (hash, batch_id, nonce, raw, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(tx.hash, batchId, tx.nonce, tx.raw, tx.createdAt);
  }

  async recordBatchReplacement(batchId: number, tx: TransactionRecord): Promise<void> {
    this.db
      .transaction(() => {
        this.insertBatchTx(batchId, tx);
        this.db.prepare("UPDATE batches SET updated_at = ? WHERE id = ?").run(this.now(), batchId);
      })
      .immediate();
  }

  private batch(id: number): BatchRecord {
    const r = this.db.prepare("SELECT * FROM batches WHERE id = ?").get(id) as Row | undefined;
    if (!r) throw new Error(`no batch ${id}`);
    const steps = this.db.prepare("SELECT position, outbox_id, expected_seq FROM batch_steps WHERE batch_id = ? ORDER BY position").all(id) as Row[];
    const transactions = (this.db.prepare("SELECT * FROM batch_transactions WHERE batch_id = ? ORDER BY rowid").all(id) as Row[]).map(txFrom);
    return batchFrom(r, steps, transactions);
  }

  async pendingBatches(): Promise<BatchRecord[]> {
    const ids = this.db.prepare("SELECT id FROM batches WHERE status = 'pending' ORDER BY nonce, id").all() as Row[];
    return ids.map((r) => this.batch(r.id as number));
  }

  async resolveBatch(batchId: number, outcomes: StepOutcome[], status: Exclude<BatchStatus, "pending">): Promise<void> {
    this.db
      .transaction(() => {
        const positions = new Map(this.batch(batchId).steps.map((s) => [s.stepId, s.position]));
        const ordered = [...outcomes].sort((a, b) => (positions.get(a.stepId) ?? 0) - (positions.get(b.stepId) ?? 0));
        for (const o of ordered) {
          const current = this.step(o.stepId);
          // An entry on-chain is a fact whatever the step's state; the other outcomes apply to a step still in flight.
          if (o.outcome === "confirmed") {
            if (current.status !== "confirmed") this.confirmStep(o.stepId, o.landed);
          } else if (current.status === "sent" && current.batchId === batchId) {
            if (o.outcome === "failed") this.failStep(o.stepId, o.error);
            else
              this.db
                .prepare(
                  "UPDATE outbox SET status = 'queued', expected_seq = NULL, batch_id = NULL, requeues = requeues + 1, last_error = ?, updated_at = ? WHERE id = ?"
                )
                .run(o.reason.slice(0, 2000), this.now(), o.stepId);
          }
        }
        this.db.prepare("UPDATE batches SET status = ?, updated_at = ? WHERE id = ?").run(status, this.now(), batchId);
      })
      .immediate();
  }

  async recordAttempt(stepId: number, message: string): Promise<void> {
    this.db
      .prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ?")
      .run(message.slice(0, 2000), this.now(), stepId);
  }

  async outboxDepth(): Promise<OutboxDepth> {
    const r = this.db
      .prepare("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE status IN ('queued', 'sent')")
      .get() as { n: number; oldest: string | null };
    return { depth: r.n, oldestCreatedAt: r.oldest ?? undefined };
  }

  // ---------------------------------------------------------------- read model

  async indexerNextBlock(): Promise<number | undefined> {
    const r = this.db.prepare("SELECT next_block FROM indexer_cursor WHERE id = 1").get() as { next_block: number } | undefined;
    return r?.next_block;
  }

  async applyIndexed(b: IndexedBatch): Promise<void> {
    this.db
      .transaction(() => {
        const insertEntry = this.db.prepare(
          `INSERT INTO entries (account_id, seq, kind, head, payload_hash, ref, fields, tx_hash, block_number, log_index)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, seq) DO UPDATE SET kind = excluded.kind, head = excluded.head, payload_hash = excluded.payload_hash,
           ref = excluded.ref, fields = excluded.fields, tx_hash = excluded.tx_hash, block_number = excluded.block_number,
           log_index = excluded.log_index`
        );
        for (const e of b.entries) {
          insertEntry.run(
            e.account,
            Number(e.seq),
            e.name,
            e.head,
            e.payloadHash,
            e.ref,
            taggedJson(e.args),
            e.txHash,
            e.blockNumber,
            e.logIndex
          );
        }
        const upsertAccount = this.db.prepare(
          `INSERT INTO accounts (account_id, state, block) VALUES (?, ?, ?)
         ON CONFLICT (account_id) DO UPDATE SET state = excluded.state, block = excluded.block WHERE excluded.block >= accounts.block`
        );
        for (const a of b.accounts) upsertAccount.run(a.accountId, taggedJson(a.account), a.block);
        const upsertLine = this.db.prepare(
          `INSERT INTO lines (account_id, product_id, state, block) VALUES (?, ?, ?, ?)
         ON CONFLICT (account_id, product_id) DO UPDATE SET state = excluded.state, block = excluded.block WHERE excluded.block >= lines.block`
        );
        for (const l of b.lines) upsertLine.run(l.accountId, l.productId, taggedJson(l.line), l.block);
        const upsertLoan = this.db.prepare(
          `INSERT INTO loans (account_id, loan_no, product_id, terms, state, block) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, loan_no) DO UPDATE SET product_id = excluded.product_id, terms = excluded.terms,
           state = excluded.state, block = excluded.block WHERE excluded.block >= loans.block`
        );
        for (const l of b.loans)
          upsertLoan.run(l.accountId, l.loanNo, l.productId, taggedJson(l.terms), taggedJson(l.state), l.block);
        this.db
          .prepare(
            "INSERT INTO indexer_cursor (id, next_block) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET next_block = excluded.next_block"
          )
          .run(b.nextBlock);
      })
      .immediate();
  }

  async entriesOf(accountId: string): Promise<LedgerEntry[]> {
    const rows = this.db.prepare("SELECT * FROM entries WHERE account_id = ? ORDER BY seq").all(accountId) as Row[];
    return rows.map((r) => ({
      name: str(r.kind),
      kind: EntryKind[str(r.kind) as keyof typeof EntryKind],
      account: str(r.account_id),
      seq: BigInt(r.seq as number),
      head: str(r.head),
      ref: str(r.ref),
      payloadHash: str(r.payload_hash),
      args: json(r.fields),
      txHash: str(r.tx_hash),
      blockNumber: r.block_number as number,
      logIndex: r.log_index as number,
    }));
  }

  async accountSnapshot(accountId: string): Promise<AccountSnapshot | undefined> {
    const r = this.db.prepare("SELECT * FROM accounts WHERE account_id = ?").get(accountId) as Row | undefined;
    return r && { accountId: str(r.account_id), account: accountFromFields(json(r.state)), block: r.block as number };
  }

  async linesOf(accountId: string): Promise<LineSnapshot[]> {
    const rows = this.db.prepare("SELECT * FROM lines WHERE account_id = ? ORDER BY product_id").all(accountId) as Row[];
    return rows.map((r) => ({
      accountId: str(r.account_id),
      productId: r.product_id as number,
      line: lineFromFields(json(r.state)),
      block: r.block as number,
    }));
  }

  async loansOf(accountId: string): Promise<LoanSnapshot[]> {
    const rows = this.db.prepare("SELECT * FROM loans WHERE account_id = ? ORDER BY loan_no").all(accountId) as Row[];
    return rows.map(loanFrom);
  }

  async loanSnapshot(accountId: string, loanNo: number): Promise<LoanSnapshot | undefined> {
    const r = this.db.prepare("SELECT * FROM loans WHERE account_id = ? AND loan_no = ?").get(accountId, loanNo) as
      | Row
      | undefined;
    return r && loanFrom(r);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
