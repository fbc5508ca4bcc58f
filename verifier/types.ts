import type { LedgerEntry, LedgerEvent } from "../core/ledger-events";

/**
 * What the verifier reads and what it reports. The verifier trusts only the chain and the
 * compiled artifacts: `source.ts` reads a `LedgerHistory` from any JSON-RPC provider (Node or
 * browser), `replay.ts` and `verify.ts` check it with pure code (the shared loan math and hash chain of
 * `core/`), and `report.ts` renders the `AuditReport` as text, JSON or HTML.
 */

/**
 * One ledger event as the verifier reads it: the shared decoding of its log (core/ledger-events.ts,
 * a `LedgerEntry` for hash-chain entries, so `payloadHash` is set exactly on entries) and the
 * time of its block, in seconds.
 */
export type TimedEvent = ((LedgerEvent & { payloadHash?: undefined }) | LedgerEntry) & { timestamp: bigint };

/** The ledger's views for one account, read at `LedgerHistory.toBlock`. */
export interface AccountViews {
  account: Record<string, unknown>;
  /** lineOf(account, productId) by product id, for every product the history names. */
  lines: Record<number, Record<string, unknown>>;
  /** loanOf(account, loanNo) as { terms, state } by loan number. */
  loans: Record<number, { terms: Record<string, unknown>; state: Record<string, unknown> }>;
}

/** Everything the checks need, read from the chain. */
export interface LedgerHistory {
  chainId: bigint;
  ledger: string;
  fromBlock: number;
  toBlock: number;
  /** Timestamp of `toBlock`. */
  toTime: bigint;
  /** Hash of `toBlock` (the block verified, for a second auditor's cross-check). */
  toHash?: string;
  /** `ledgerHead()` at `toBlock` (or why the ledger could not answer it). */
  ledgerHead?: { seq: bigint; head: string } | { error: string };
  /** Where the ledger-wide chain stood before `fromBlock` (`ledgerHead()` at `fromBlock - 1`; zero from the deployment). */
  ledgerStart?: LedgerTally;
  /** Every log of the ledger (and of its linked library, which emits on the ledger's address) in [fromBlock, toBlock], in chain order. */
  events: TimedEvent[];
  /** Views at `toBlock` for every account in `events` (or the one account asked for). */
  views: Record<string, AccountViews>;
  /** ERC-1271 answers for decisions whose signer is a contract: key `${txHash}:${logIndex}`. */
  contractSignatures: Record<string, boolean>;
  /** View calls that failed (a ledger that cannot answer its own views), as messages by account. */
  viewErrors?: Record<string, string[]>;
  /** Bytecode comparison, when the caller asked for it (see bytecode.ts). */
  bytecode?: BytecodeResult[];
  /** When only one account was read. */
  account?: string;
}

export type CheckName =
  | "hash-chain"
  | "ledger-head"
  | "roles"
  | "decisions"
  | "balances"
  | "charges"
  | "cost-ceiling"
  | "limits"
  | "references"
  | "bytecode";

export const CHECKS: readonly { name: CheckName; proves: string }[] = [
  { name: "hash-chain", proves: "every account's history is complete and in order: the chain recomputed from events ends at the on-chain seq and head" },
  { name: "ledger-head", proves: "no entry of any account and no ledger-wide event is missing: the ledger-wide seq and head recomputed from every entry and role, pause, product and tier event read, each followed by its LedgerAdvanced, end at ledgerHead() at the verified block" },
  { name: "roles", proves: "every entry was recorded by a key that held the operator role, and every product, tier, pause and role change was made by a key that held the role it needs, at that point of the chain" },
  { name: "decisions", proves: "every grant, limit increase, decline, restructure and reinstatement carries an EIP-712 decision for that operation (purpose and subject), naming and signed by an address that held the scorer role at that block, in nonce order (cuts, freezes and write-offs spend a nonce), issued before its use and within its deadline and maximum lifetime" },
  { name: "balances", proves: "balances replayed from events equal the ledger's own views of accounts, lines and loans" },
  { name: "charges", proves: "interest, fees and penalty recomputed with the shared loan math equal what was charged, and every repayment was allocated in the documented order" },
  { name: "cost-ceiling", proves: "no loan's terms exceed its product's annual cost ceiling in force at drawdown" },
  { name: "limits", proves: "no drawdown exceeded the line limit, the exposure cap or the tier cap, and none happened on a frozen line or while the ledger was paused" },
  { name: "references", proves: "no caller reference was used twice" },
  { name: "bytecode", proves: "the deployed runtime code equals this repository's compiled artifacts (metadata hash and immutables aside)" },
];

/** One violation, located. */
export interface Finding {
  check: CheckName;
  message: string;
  account?: string;
  seq?: bigint;
  loanNo?: number;
  event?: string;
  txHash?: string;
  blockNumber?: number;
}

export type CheckStatus = "pass" | "fail" | "skipped";

export interface CheckResult {
  check: CheckName;
  status: CheckStatus;
  /** How many facts this check looked at (entries, decisions, drawdowns...). */
  checked: number;
  findings: Finding[];
}

export interface AccountResult {
  account: string;
  seq: bigint;
  head: string;
  entries: number;
  declines: number;
  checks: { check: CheckName; status: CheckStatus; checked: number; first?: Finding }[];
}

export interface TimelineItem {
  kind: "role-granted" | "role-revoked" | "paused" | "unpaused" | "product-configured" | "tier-policy-set" | "admin-transfer-scheduled" | "admin-transfer-canceled";
  blockNumber: number;
  txHash: string;
  timestamp: bigint;
  detail: string;
}

export interface BytecodeResult {
  contract: string;
  address: string;
  matches: boolean;
  detail: string;
}

export interface AuditReport {
  ledger: string;
  chainId: bigint;
  fromBlock: number;
  toBlock: number;
  ok: boolean;
  checks: CheckResult[];
  accounts: AccountResult[];
  timeline: TimelineItem[];
  stats: { accounts: number; entries: number; declines: number; loans: number; drawnVolume: bigint };
  /** The block verified (number, hash, time). */
  verifiedBlock?: VerifiedBlock;
  /** The ledger head verified (`ledgerHead()` at that block) and how much of it was recomputed. */
  ledgerHead?: LedgerHeadSummary;
  /** Calls of batches the ledger refused (`OperationRefused`): they change no balance. */
  refused?: RefusedOperation[];
}

/** What the completeness check carries between entries (and in a checkpoint). */
export interface LedgerTally {
  /** The last ledgerSeq seen (0n before entry 1). */
  seq: bigint;
  /** The ledger head after it (zero before entry 1). */
  head: string;
  /** Block and log index of the last LedgerAdvanced seen (-1 before the first). */
  block: number;
  logIndex: number;
}

/** A call of a batch the ledger refused (`OperationRefused`), decoded. */
export interface RefusedOperation {
  account: string;
  /** The call's index in its batch. */
  index: number;
  /** The function called (`purchase`, `repay`...), or the selector when the ABI does not know it. */
  operation: string;
  /** The call's `ref` and `expectedSeq`, when it has them. */
  ref?: string;
  expectedSeq?: bigint;
  /** The custom error with its values, as `SeqMismatch(account=0x.., expected=3, actual=4)`. */
  error: string;
  txHash: string;
  blockNumber: number;
  logIndex: number;
}

/** The ledger head the audit verified, for the report. */
export interface LedgerHeadSummary {
  /** `ledgerHead()` at the verified block. */
  seq: bigint;
  head: string;
  /** Entries and ledger-wide events read and recomputed. */
  recomputed: number;
  /** LedgerAdvanced taken as another account's entry (scoped audits only). */
  unread: number;
  /** Whether the audit read one account only (see the module's header). */
  scoped: boolean;
}

/** The block the audit verified. */
export interface VerifiedBlock {
  number: number;
  hash: string;
  timestamp: bigint;
}
