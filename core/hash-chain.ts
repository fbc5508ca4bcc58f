/**
 * The per-account hash chain of DESIGN.md, mirrored from `LedgerStorage.append`:
 *
 *   payloadHash = keccak256(abi.encode(<event fields except seq and head, in order>))
 *   head        = keccak256(abi.encode(prevHead, seq, kind, payloadHash))
 *
 * The first entry's prevHead is zero. Every ledger event that is an entry carries its `seq` and
 * `head`, so the chain can be recomputed from events alone and compared with one on-chain read
 * of `accountOf(account)`.
 */
import { AbiCoder, keccak256, Result, ZeroHash, type EventFragment, type ParamType } from "ethers";

/** Entry kinds, as `ICreditLedger.EntryKind`; the event of each kind has the same name. */
export enum EntryKind {
  None = 0,
  AccountOpened = 1,
  DecisionDeclined = 2,
  LineGranted = 3,
  LimitIncreased = 4,
  LimitCut = 5,
  LineFrozen = 6,
  LineUnfrozen = 7,
  ExposureCapChanged = 8,
  Drawn = 9,
  Refunded = 10,
  Repaid = 11,
  Restructured = 12,
  WrittenOff = 13,
  LineReinstated = 14,
}

const coder = AbiCoder.defaultAbiCoder();

/** The entry kind of a ledger event name, or undefined for events that are not entries. */
export function entryKindOf(eventName: string): EntryKind | undefined {
  const kind = (EntryKind as unknown as Record<string, EntryKind | undefined>)[eventName];
  return kind === undefined || kind === EntryKind.None ? undefined : kind;
}

/** The next head: keccak256(abi.encode(prevHead, seq, kind, payloadHash)). */
export function nextHead(prevHead: string, seq: bigint, kind: EntryKind, payloadHash: string): string {
  return keccak256(coder.encode(["bytes32", "uint64", "uint8", "bytes32"], [prevHead, seq, kind, payloadHash]));
}

/**
 * The payload hash of an entry event: its fields except `seq` and `head`, in event order,
 * ABI-encoded. `args` gives the values by position (an ethers `Result`, an array) or by ABI
 * name (a decoded event's fields, an export's JSON).
 */
export function payloadHashOf(fragment: EventFragment, args: Result | readonly unknown[] | Record<string, unknown>): string {
  const byName = !Array.isArray(args) && !(args instanceof Result);
  const types: ParamType[] = [];
  const values: unknown[] = [];
  fragment.inputs.forEach((input, i) => {
    if (input.name === "seq" || input.name === "head") return;
    types.push(input);
    values.push(byName ? (args as Record<string, unknown>)[input.name] : (args as readonly unknown[])[i]);
  });
  return keccak256(coder.encode(types, values));
}

/** One entry of an account's history, as an export or the verifier holds it. */
export interface ChainEntry {
  seq: bigint;
  kind: EntryKind;
  payloadHash: string;
  head: string;
}

export type ChainCheck =
  | { ok: true; seq: bigint; head: string }
  | { ok: false; index: number; seq: bigint; reason: string };

/**
 * Recompute the chain over `entries` (in order, from seq 1) and check every claimed head; if
 * `expected` is given (the on-chain `seq` and `head`), the chain must end there.
 */
export function verifyChain(entries: readonly ChainEntry[], expected?: { seq: bigint; head: string }): ChainCheck {
  let head = ZeroHash;
  let seq = 0n;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.seq !== seq + 1n) return { ok: false, index: i, seq: e.seq, reason: `expected seq ${seq + 1n}, found ${e.seq}` };
    head = nextHead(head, e.seq, e.kind, e.payloadHash);
    if (head.toLowerCase() !== e.head.toLowerCase()) {
      return { ok: false, index: i, seq: e.seq, reason: `head mismatch at seq ${e.seq}` };
    }
    seq = e.seq;
  }
  if (expected && (expected.seq !== seq || expected.head.toLowerCase() !== head.toLowerCase())) {
    return {
      ok: false,
      index: entries.length,
      seq,
      reason: `chain ends at seq ${seq} head ${head}, on-chain seq ${expected.seq} head ${expected.head}`,
    };
  }
  return { ok: true, seq, head };
}

/**
 * The ledger-wide chain of `ICreditLedger.ledgerHead`, mirrored from `LedgerStorage.advanceLedger`:
 *
 *   ledgerHead_n = keccak256(abi.encode(ledgerHead_{n-1}, uint64 n, bytes32 account, bytes32 entryHead))
 *
 * from a zero head, n counting from 1. An account entry gives `account` = the account id and
 * `entryHead` = the account's head after the entry; a ledger-wide event gives `account` = zero
 * and `entryHead = ledgerEventEntryHead(kind, payload)`. Every entry's event is followed by
 * `LedgerAdvanced(n, ledgerHead_n)`.
 */
export enum LedgerEventKind {
  None = 0,
  RoleGranted = 1,
  RoleRevoked = 2,
  Paused = 3,
  Unpaused = 4,
  ProductConfigured = 5,
  TierPolicySet = 6,
}

/** The ledger-wide event kind of an event name, or undefined for events that are not ledger-wide. */
export function ledgerEventKindOf(eventName: string): LedgerEventKind | undefined {
  const kind = (LedgerEventKind as unknown as Record<string, LedgerEventKind | undefined>)[eventName];
  return kind === undefined || kind === LedgerEventKind.None ? undefined : kind;
}

/** The next ledger-wide head: keccak256(abi.encode(prevHead, uint64 seq, bytes32 account, bytes32 entryHead)). */
export function nextLedgerHead(prevHead: string, seq: bigint, account: string, entryHead: string): string {
  return keccak256(coder.encode(["bytes32", "uint64", "bytes32", "bytes32"], [prevHead, seq, account, entryHead]));
}

/**
 * The entry head of a ledger-wide event: keccak256(abi.encode(uint8 kind, keccak256(payload))),
 * the payload the ABI encoding of the event's fields in event order, indexed ones included
 * (`args` by position or by ABI name, as for `payloadHashOf`).
 */
export function ledgerEventEntryHead(
  kind: LedgerEventKind,
  fragment: EventFragment,
  args: Result | readonly unknown[] | Record<string, unknown>,
): string {
  const byName = !Array.isArray(args) && !(args instanceof Result);
  const values = fragment.inputs.map((input, i) =>
    byName ? (args as Record<string, unknown>)[input.name] : (args as readonly unknown[])[i],
  );
  const payloadHash = keccak256(coder.encode(fragment.inputs, values));
  return keccak256(coder.encode(["uint8", "bytes32"], [kind, payloadHash]));
}

/**
 * The ledger-wide chain folded over a ledger's events in log order: `apply` takes each decoded
 * event and, for an account entry (an `EntryKind` event: `account`, `head`) or a ledger-wide
 * event (a `LedgerEventKind` event), returns the entry's ledger-wide seq and head, which the
 * `LedgerAdvanced` right after it must carry; other events (LedgerAdvanced, OperationRefused,
 * admin-transfer schedules) return undefined.
 */
export class LedgerHeadMirror {
  seq = 0n;
  head: string = ZeroHash;

  apply(
    name: string,
    fragment: EventFragment,
    args: Result | readonly unknown[] | Record<string, unknown>,
  ): { seq: bigint; head: string } | undefined {
    let account: string;
    let entryHead: string;
    const wide = ledgerEventKindOf(name);
    if (entryKindOf(name) !== undefined) {
      const byName = !Array.isArray(args) && !(args instanceof Result);
      const field = (n: string) =>
        byName ? (args as Record<string, unknown>)[n] : (args as readonly unknown[])[fragment.inputs.findIndex((p) => p.name === n)];
      account = String(field("account"));
      entryHead = String(field("head"));
    } else if (wide !== undefined) {
      account = ZeroHash;
      entryHead = ledgerEventEntryHead(wide, fragment, args);
    } else {
      return undefined;
    }
    this.seq += 1n;
    this.head = nextLedgerHead(this.head, this.seq, account, entryHead);
    return { seq: this.seq, head: this.head };
  }
}
