/**
 * The scorer's own SQLite store: every decision it computed, with the exact values it will
 * sign, and each signature it gave. The gateway's database is not consulted: a decision the
 * scorer did not write here is never signed.
 */
import type Database from "better-sqlite3";

import { openDatabaseFile } from "../core/database-file";

import type { DecisionDraft } from "./decision-values";

export interface StoredDecision {
  id: string;
  draft: DecisionDraft;
  /** Limit this decision adds (a grant's limit, an increase's raise; 0 for a decline), counted by the rate budget. */
  newLimit: bigint;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds: it is not signed at or after this. */
  expiresAt: number;
  /** `DecisionPurpose` and the subject it authorises (zero for Line and Reinstate). */
  purpose: number;
  subject: string;
  /** A restructure's loan (counted against SCORER_MAX_RESTRUCTURES_PER_LOAN once signed). */
  loanNo?: number;
}

export interface SignatureRecord {
  decisionId: string;
  nonce: bigint;
  deadline: bigint;
  signature: string;
  signedAt: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS decisions (
    id          TEXT PRIMARY KEY,
    account     TEXT NOT NULL,
    draft       TEXT NOT NULL,
    new_limit   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    purpose     INTEGER NOT NULL,
    subject     TEXT NOT NULL,
    loan_no     INTEGER
  );
  CREATE INDEX IF NOT EXISTS decisions_created ON decisions (created_at);
  CREATE TABLE IF NOT EXISTS signatures (
    decision_id TEXT NOT NULL REFERENCES decisions (id),
    nonce       TEXT NOT NULL,
    deadline    TEXT NOT NULL,
    signature   TEXT NOT NULL,
    signed_at   INTEGER NOT NULL,
    PRIMARY KEY (decision_id, nonce)
  );
  CREATE TABLE IF NOT EXISTS attested_tiers (
    account     TEXT PRIMARY KEY,
    tier        INTEGER NOT NULL,
    expiry      INTEGER NOT NULL,
    partner     TEXT NOT NULL,
    attested_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS kyc_verifiers (
    partner       TEXT PRIMARY KEY,
    verifier      TEXT NOT NULL,
    registered_at INTEGER NOT NULL
  );
`;

/** The tier an attestation proved for an account, until the attestation's expiry. */
export interface AttestedTier {
  account: string;
  tier: number;
  /** Unix seconds: the attestation's expiry. */
  expiry: number;
  partner: string;
  attestedAt: number;
}

const encode = (d: DecisionDraft): string =>
  JSON.stringify(d, (_k, v: unknown) => (typeof v === "bigint" ? { $bigint: v.toString() } : v));
const decode = (text: string): DecisionDraft =>
  JSON.parse(text, (_k, v: unknown) =>
    v !== null && typeof v === "object" && "$bigint" in (v as object) ? BigInt((v as { $bigint: string }).$bigint) : v
  ) as DecisionDraft;

export class ScorerStore {
  readonly db: Database.Database;

  constructor(path: string) {
    // 0600 files (and a new directory 0700), as the gateway's: decisions and features are personal data.
    this.db = openDatabaseFile(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
  }

  insert(d: StoredDecision): void {
    this.db
      .prepare("INSERT INTO decisions (id, account, draft, new_limit, created_at, expires_at, purpose, subject, loan_no) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .run(d.id, d.draft.account.toLowerCase(), encode(d.draft), d.newLimit.toString(), d.createdAt, d.expiresAt, d.purpose, d.subject, d.loanNo ?? null);
  }

  get(id: string): StoredDecision | undefined {
    const row = this.db.prepare("SELECT * FROM decisions WHERE id = ?").get(id) as Record<string, unknown> | undefined;
    if (!row) return undefined;
    return {
      id: row.id as string,
      draft: decode(row.draft as string),
      newLimit: BigInt(row.new_limit as string),
      createdAt: row.created_at as number,
      expiresAt: row.expires_at as number,
      purpose: row.purpose as number,
      subject: row.subject as string,
      ...(row.loan_no === null ? {} : { loanNo: row.loan_no as number }),
    };
  }

  /** Sum of the new limit of the decisions computed at or after `since` (unix seconds). */
  newLimitSince(since: number): bigint {
    const rows = this.db.prepare("SELECT new_limit FROM decisions WHERE created_at >= ?").all(since) as Array<{ new_limit: string }>;
    return rows.reduce((sum, r) => sum + BigInt(r.new_limit), 0n);
  }

  /** How many restructure decisions for `account`'s loan `loanNo` the scorer has signed. */
  restructuresOf(account: string, loanNo: number): number {
    const row = this.db
      .prepare("SELECT COUNT(DISTINCT d.id) AS n FROM decisions d JOIN signatures s ON s.decision_id = d.id WHERE d.account = ? AND d.loan_no = ?")
      .get(account.toLowerCase(), loanNo) as { n: number };
    return row.n;
  }

  /** Computes and stores in one transaction, so two concurrent requests cannot both pass the budget. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  recordSignature(s: SignatureRecord): void {
    this.db
      .prepare("INSERT OR REPLACE INTO signatures (decision_id, nonce, deadline, signature, signed_at) VALUES (?, ?, ?, ?, ?)")
      .run(s.decisionId, s.nonce.toString(), s.deadline.toString(), s.signature, s.signedAt);
  }

  /** Remembers the tier an attestation proved for `account` (the last one counts). */
  recordAttestedTier(t: AttestedTier): void {
    this.db
      .prepare("INSERT OR REPLACE INTO attested_tiers (account, tier, expiry, partner, attested_at) VALUES (?, ?, ?, ?, ?)")
      .run(t.account.toLowerCase(), t.tier, t.expiry, t.partner, t.attestedAt);
  }

  attestedTier(account: string): AttestedTier | undefined {
    const row = this.db.prepare("SELECT * FROM attested_tiers WHERE account = ?").get(account.toLowerCase()) as Record<string, unknown> | undefined;
    if (!row) return undefined;
    return { account: row.account as string, tier: row.tier as number, expiry: row.expiry as number, partner: row.partner as string, attestedAt: row.attested_at as number };
  }

  /** Registers (or replaces) the KYC verifier of a partner (the admin API). */
  registerVerifier(partner: string, verifier: string, now: number): void {
    this.db.prepare("INSERT OR REPLACE INTO kyc_verifiers (partner, verifier, registered_at) VALUES (?, ?, ?)").run(partner, verifier, now);
  }

  verifierOf(partner: string): string | undefined {
    const row = this.db.prepare("SELECT verifier FROM kyc_verifiers WHERE partner = ?").get(partner) as { verifier: string } | undefined;
    return row?.verifier;
  }

  close(): void {
    this.db.close();
  }
}
