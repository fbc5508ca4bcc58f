/**
 * The gateway's durable state behind one small interface, so the embedded SQLite store
 * (sqlite-store.ts) can be swapped for PostgreSQL by configuration. Every method is one
 * atomic unit: an implementation runs each in a single database transaction. Amounts,
 * sequence numbers and other chain integers are bigint; structured values (contexts, calls,
 * decoded events) are plain objects the store serializes as it likes; entries and chain views
 * are the core's types (core/ledger-events.ts, core/ledger-structs.ts).
 */
import type { LedgerEntry } from "../../core/ledger-events";
import type { LedgerAccount, LedgerLine } from "../../core/ledger-structs";
import type { LoanState, LoanTerms } from "../../core/loan-math";

export type Scope = "partner" | "auditor" | "admin";
export const SCOPES: readonly Scope[] = ["partner", "auditor", "admin"];

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** SHA-256 (hex) of the key; the key itself is never stored. */
  keyHash: string;
  scopes: Scope[];
  /** The partner a partner-scope key acts for (auditor and admin keys belong to the operator). */
  partnerId?: string;
  createdAt: string;
  revokedAt?: string;
  /** After this the key no longer authenticates (a rotated key's overlap window ends). */
  expiresAt?: string;
}

export type PartnerStatus = "active" | "suspended";

/** What the operator sets per partner. */
export interface PartnerSettings {
  /** Requests per minute, counted per partner (all its keys together). */
  ratePerMinute: number;
  /** Requests a partner may send at once above its rate. */
  burst: number;
  /** The products it may apply for, quote and draw. */
  products: ("pay_later" | "cash_loan")[];
  /** The most webhook endpoints it may have registered. */
  webhookQuota: number;
}

/** A partner (merchant, app): a tenant of the gateway. */
export interface PartnerRecord extends PartnerSettings {
  id: string;
  name: string;
  status: PartnerStatus;
  createdAt: string;
  updatedAt: string;
}

/** One admin action, as the admin audit log keeps it. */
export interface AdminAuditRecord {
  id: number;
  at: string;
  /** Who: an admin key's id, or `cli:<user>` for the operator's command line. */
  actor: string;
  action: string;
  target?: string;
  /** Why, in the admin's words (suspensions, reactivations, revocations). */
  reason?: string;
  before?: unknown;
  after?: unknown;
}

export type NewAdminAudit = Omit<AdminAuditRecord, "id" | "at">;

/** One person in the identity vault. */
export interface VaultRecord {
  /** HMAC-SHA256(pepper, normalized national id), hex. */
  identityKey: string;
  accountId: string;
  /** AES-256-GCM sealed PII (name, national id, phone), the account id bound in as AAD. */
  sealedPii: string;
  createdAt: string;
}

/** What the gateway decided and signed for an application or a limit review (kept off-chain). */
export interface DecisionRecord {
  operationId: string;
  accountId: string;
  productId: number;
  approved: boolean;
  tier: number;
  score: number;
  limit: bigint;
  ratePpmPerDay: bigint;
  reasonCodes: number[];
  modelId: string;
  /** The features the score was computed from, and the salt of their on-chain hash. */
  features: Record<string, number | undefined>;
  salt: string;
  featuresHash: string;
  createdAt: string;
}

export type OperationStatus = "pending" | "confirmed" | "failed";

/**
 * An outbox step's life: `queued` (accepted, nothing sent) -> `sent` (a signed transaction
 * is stored, maybe broadcast) -> `confirmed` | `failed`; `cancelled` when an earlier step of
 * its operation failed.
 */
export type StepStatus = "queued" | "sent" | "confirmed" | "failed" | "cancelled";

export interface TransactionRecord {
  hash: string;
  nonce: number;
  /** The signed transaction, so it can be broadcast again after a crash. */
  raw: string;
  createdAt: string;
}

export interface StepRecord {
  /** Position in the outbox: steps are sent in this order. */
  id: number;
  operationId: string;
  /** 0-based position within its operation. */
  step: number;
  accountId: string;
  fn: string;
  /** The ledger call as accepted (see server/chain/ledger-calls.ts). */
  call: unknown;
  /** The on-chain reference (bytes32) this step's entry carries. */
  ref: string;
  status: StepStatus;
  /** The account seq the step's transactions expect; fixed when first signed. */
  expectedSeq?: bigint;
  /** The exact arguments last signed (with the decision's nonce and signature, if any). */
  sentCall?: unknown;
  /** The step's entry, once it landed on-chain (where: tx, block, log index; what: the decoded event). */
  landed?: LedgerEntry;
  error?: unknown;
  attempts: number;
  lastError?: string;
  /** The chain height when accepted: the entry cannot be in an earlier block. */
  fromBlock: number;
  /** Every transaction signed for the step: its own (before batches), and those of every batch that carried it. */
  transactions: TransactionRecord[];
  /** The batch carrying the step while it is in flight (unset when queued or resolved). */
  batchId?: number;
  /** How often it came back to queued from a batch (SeqMismatch behind an earlier refusal, a whole-batch revert). */
  requeues: number;
  createdAt: string;
  updatedAt: string;
}

export type BatchStatus = "pending" | "resolved" | "dropped";

/**
 * One batch transaction of the outbox sender (server/chain/outbox-sender.ts): one operator
 * nonce, the steps at their positions in its `calls`, and its signed transactions (the first
 * signing and its replacements: same nonce, same calls, higher fees). `pending` until its
 * outcome is recorded (`resolved`), or `dropped` when its nonce was spent by a transaction
 * that is none of its own.
 */
export interface BatchRecord {
  id: number;
  nonce: number;
  status: BatchStatus;
  steps: Array<{ position: number; stepId: number; expectedSeq: bigint }>;
  transactions: TransactionRecord[];
  createdAt: string;
}

export interface NewBatch {
  nonce: number;
  /** The signed transaction, stored before it is broadcast. */
  tx: TransactionRecord;
  /** The steps in the order of the batch's calls, each with the seq it expects and the exact arguments signed. */
  steps: Array<{ stepId: number; expectedSeq: bigint; sentCall: unknown }>;
}

/** What a batch's receipt (at the configured confirmations) says of one of its steps. */
export type StepOutcome =
  | { stepId: number; outcome: "confirmed"; landed: LedgerEntry }
  | { stepId: number; outcome: "failed"; error: unknown }
  | { stepId: number; outcome: "requeued"; reason: string };

export interface OperationRecord {
  id: string;
  kind: string;
  accountId: string;
  /** The partner whose request it is (none for the gateway's own: periodic reviews). */
  partnerId?: string;
  status: OperationStatus;
  /** Request-time facts the response is built from (score, limit, amounts...). */
  context: unknown;
  error?: unknown;
  steps: StepRecord[];
  createdAt: string;
  updatedAt: string;
}

export interface NewStep {
  accountId: string;
  fn: string;
  call: unknown;
  ref: string;
}

export interface NewOperation {
  id: string;
  kind: string;
  accountId: string;
  partnerId?: string;
  context: unknown;
  steps: NewStep[];
  fromBlock: number;
}

export interface StoredResponse {
  status: number;
  body: unknown;
}

export interface IdempotencyRecord {
  owner: string;
  key: string;
  /** Hash of the request (method, path, canonical body): the same key with another body is a conflict. */
  fingerprint: string;
  operationId?: string;
  /** The response once final; until then it is rebuilt from the operation. */
  response?: StoredResponse;
  createdAt: string;
}

/** Everything one accepted request writes, atomically, before anything is sent. */
export interface Acceptance {
  idempotency: { owner: string; key: string; fingerprint: string };
  operation?: NewOperation;
  /** A final response known at once (quotes, no-op reviews). */
  response?: StoredResponse;
  vault?: VaultRecord;
  decisions?: DecisionRecord[];
  /** Servicing facts about the account given at application time (time zone, keyed device and phone). */
  profile?: AccountProfileRecord;
  /** The partner the borrower applied through: it may reach the account from now on. */
  link?: { partnerId: string; accountId: string };
}

/** What servicing keeps about an account besides the ledger: never personal data in the clear. */
export interface AccountProfileRecord {
  accountId: string;
  /** IANA time zone of the borrower (quiet hours, credit-report months); unset keeps the one on file. */
  timeZone?: string;
  /** HMAC of the device id and of the phone number (velocity rules count accounts sharing them). */
  deviceKey?: string;
  phoneKey?: string;
}

export type AcceptOutcome =
  | { accepted: true }
  | { accepted: false; conflict: "idempotency"; existing: IdempotencyRecord }
  | { accepted: false; conflict: "identity"; existing: VaultRecord };

// ---------------------------------------------------------------- read model

/** A chain view (`accountOf`, `lineOf`, `loanOf`) as of `block`. */
export interface AccountSnapshot {
  accountId: string;
  account: LedgerAccount;
  block: number;
}

export interface LineSnapshot {
  accountId: string;
  productId: number;
  line: LedgerLine;
  block: number;
}

export interface LoanSnapshot {
  accountId: string;
  loanNo: number;
  productId: number;
  terms: LoanTerms;
  state: LoanState;
  block: number;
}

export interface IndexedBatch {
  entries: LedgerEntry[];
  accounts: AccountSnapshot[];
  lines: LineSnapshot[];
  loans: LoanSnapshot[];
  /** The first block not yet indexed after this batch. */
  nextBlock: number;
}

export interface OutboxDepth {
  /** Steps not yet confirmed or failed. */
  depth: number;
  oldestCreatedAt?: string;
}

/** The chain a database belongs to: its records mean nothing on another chain. */
export interface ChainBinding {
  chainId: string;
  ledger: string;
  /** Hash of block 0: tells two instances of a development chain (same id, same addresses) apart. */
  genesisHash: string;
}

export interface Store {
  /** Binds an empty database to `binding`, or returns the binding it already has. */
  bindChain(binding: ChainBinding): Promise<ChainBinding>;

  // api keys and partners (every admin change is written with its audit record, atomically)
  insertApiKey(record: ApiKeyRecord, audit?: NewAdminAudit): Promise<void>;
  /**
   * The first admin key, in one transaction with the check: inserted only when no live (unrevoked,
   * unexpired) admin key exists; else nothing is written and the live one comes back.
   */
  insertFirstAdminKey(record: ApiKeyRecord, audit: NewAdminAudit): Promise<{ inserted: true } | { inserted: false; existing: ApiKeyRecord }>;
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  apiKey(id: string): Promise<ApiKeyRecord | undefined>;
  apiKeysOf(partnerId: string): Promise<ApiKeyRecord[]>;
  /** Sets a key's revocation or expiry time (unset fields stay). */
  updateApiKey(id: string, change: { revokedAt?: string; expiresAt?: string }, audit: NewAdminAudit): Promise<void>;
  /** A rotation: the new key and the old one's expiry, together. */
  rotateApiKey(oldId: string, expiresAt: string, replacement: ApiKeyRecord, audit: NewAdminAudit): Promise<void>;
  /** A new partner and its first key, with their audit records, in one transaction. */
  insertPartner(partner: PartnerRecord, audit: NewAdminAudit, firstKey: { record: ApiKeyRecord; audit: NewAdminAudit }): Promise<void>;
  updatePartner(partner: PartnerRecord, audit: NewAdminAudit): Promise<void>;
  partner(id: string): Promise<PartnerRecord | undefined>;
  partners(): Promise<PartnerRecord[]>;
  recordAudit(audit: NewAdminAudit): Promise<void>;
  /** The admin audit log, newest first. */
  auditLog(limit: number, beforeId?: number): Promise<AdminAuditRecord[]>;

  // tenancy: which partner reaches which account, and owns which loan
  isLinked(partnerId: string, accountId: string): Promise<boolean>;
  /** Links the account to the partner (the borrower applied through it, with consent); idempotent. */
  linkAccount(partnerId: string, accountId: string): Promise<void>;
  partnersOf(accountId: string): Promise<string[]>;
  loanOwner(accountId: string, loanNo: number): Promise<string | undefined>;
  loansOwnedBy(partnerId: string, accountId: string): Promise<number[]>;
  /** The references of the partner's steps on the account (its history entries carry them). */
  refsOf(partnerId: string, accountId: string): Promise<string[]>;

  // identity vault
  findIdentity(identityKey: string): Promise<VaultRecord | undefined>;
  findIdentityByAccount(accountId: string): Promise<VaultRecord | undefined>;
  /** Inserts the person unless their identity key is already there; returns the row that holds. */
  insertIdentity(record: VaultRecord): Promise<VaultRecord>;
  /** Removes the person's vault row; true when there was one. */
  deleteIdentity(accountId: string): Promise<boolean>;

  // acceptance: idempotency record + vault row + operation + outbox steps, atomically
  accept(acceptance: Acceptance): Promise<AcceptOutcome>;
  findIdempotency(owner: string, key: string): Promise<IdempotencyRecord | undefined>;
  saveResponse(owner: string, key: string, response: StoredResponse): Promise<void>;
  decisionsOf(operationId: string): Promise<DecisionRecord[]>;

  // operations and the outbox
  getOperation(id: string): Promise<OperationRecord | undefined>;
  /** The first step (in outbox order) not yet confirmed, failed or cancelled. */
  nextOpenStep(): Promise<StepRecord | undefined>;
  openStepsOf(accountId: string): Promise<StepRecord[]>;
  /** Stores the signed transaction before it is broadcast; fixes the step's expected seq. */
  recordSigned(stepId: number, expectedSeq: bigint, sentCall: unknown, tx: TransactionRecord): Promise<void>;
  /** A replacement (same nonce, higher fee) of a step's transaction. */
  recordReplacement(stepId: number, tx: TransactionRecord): Promise<void>;
  /** The step's entry is on-chain; its operation is confirmed when every step is (a drawn loan gets its operation's partner as owner). */
  recordConfirmed(stepId: number, landed: LedgerEntry): Promise<void>;
  /** The ledger refused the step: it and its operation fail, later steps are cancelled. */
  recordFailed(stepId: number, error: unknown): Promise<void>;
  /** Back to `queued` (no transaction of it can apply any more); the next send reads a fresh seq. */
  requeue(stepId: number, reason: string): Promise<void>;
  /** A transient failure: counted and remembered, the step stays where it is. */
  recordAttempt(stepId: number, message: string): Promise<void>;
  outboxDepth(): Promise<OutboxDepth>;

  // batches (the pipelined sender)
  /** Queued steps in outbox order, at most `limit`. */
  queuedSteps(limit: number): Promise<StepRecord[]>;
  /** Steps in flight in a pending batch, in outbox order. */
  inFlightSteps(): Promise<StepRecord[]>;
  /** The steps a batch carries, in the order of its calls, whatever their state now. */
  batchSteps(batchId: number): Promise<StepRecord[]>;
  /** Sent steps of no batch (signed one by one before batches); followed to an outcome the old way. */
  unbatchedSentSteps(): Promise<StepRecord[]>;
  /**
   * Stores a batch before it is broadcast: the batch, its signed transaction and its steps, each
   * step `sent` with its expected seq and signed arguments, in one transaction (refused, writing
   * nothing, unless every step is queued).
   */
  recordBatch(batch: NewBatch): Promise<BatchRecord>;
  /** A replacement of the batch's transaction (same nonce, same calls, higher fees). */
  recordBatchReplacement(batchId: number, tx: TransactionRecord): Promise<void>;
  /** The pending batches, by nonce. */
  pendingBatches(): Promise<BatchRecord[]>;
  /**
   * The batch's outcome, step by step, in one transaction, in position order (a failed step
   * cancels the later steps of its operation; an outcome for a step that is no longer `sent`
   * is ignored, but an entry that landed is recorded); the batch becomes `status`.
   */
  resolveBatch(batchId: number, outcomes: StepOutcome[], status: Exclude<BatchStatus, "pending">): Promise<void>;

  // read model (written by the indexer only)
  indexerNextBlock(): Promise<number | undefined>;
  applyIndexed(batch: IndexedBatch): Promise<void>;
  entriesOf(accountId: string): Promise<LedgerEntry[]>;
  accountSnapshot(accountId: string): Promise<AccountSnapshot | undefined>;
  linesOf(accountId: string): Promise<LineSnapshot[]>;
  loansOf(accountId: string): Promise<LoanSnapshot[]>;
  loanSnapshot(accountId: string, loanNo: number): Promise<LoanSnapshot | undefined>;

  close(): Promise<void>;
}
