/**
 * The ledger's logs as values: one decoder, used by the gateway's outbox sender (receipts) and
 * indexer (log queries), the verifier and the explorer (every log of the ledger). An event the
 * ABI knows becomes a `LedgerEvent` (its name and fields by ABI name); an event that is an
 * entry of an account's hash chain (its name is an `EntryKind`) is a `LedgerEntry`, with the
 * entry's account, seq, head, reference and payload hash at hand. The read model stores this
 * shape, the outbox records it for a landed step, and the HTTP API shows a view of it.
 */
import { getAddress, type EventFragment, type Interface } from "ethers";

import { entryKindOf, payloadHashOf, type EntryKind } from "./hash-chain";
import { plain } from "./ledger-structs";

/** One ledger event decoded from its log. Integers are bigint; structs are objects by field name. */
export interface LedgerEvent {
  /** The event's name in the ABI (`Drawn`, `RoleGranted`, `Paused`, ...). */
  name: string;
  /** Its fields by ABI name. */
  args: Record<string, unknown>;
  txHash: string;
  blockNumber: number;
  logIndex: number;
}

/** An event that is an entry of an account's hash chain. */
export interface LedgerEntry extends LedgerEvent {
  kind: EntryKind;
  account: string;
  seq: bigint;
  head: string;
  /** The caller's reference the entry carries. */
  ref: string;
  /** keccak256 of the ABI-encoded fields except seq and head (hash-chain.ts). */
  payloadHash: string;
}

export const isEntry = <E extends LedgerEvent>(e: E): e is E & LedgerEntry => (e as Partial<LedgerEntry>).payloadHash !== undefined;

/** What decoding needs of a log (an ethers `Log`, or a log of a receipt). */
export interface LogLike {
  address: string;
  topics: readonly string[];
  data: string;
  transactionHash: string;
  blockNumber: number;
  index: number;
}

/**
 * Decodes one log with the ledger's interface: undefined for a log the ABI does not know, or
 * (when `ledger` is given) one another contract emitted.
 */
export function decodeLedgerLog(iface: Interface, log: LogLike, ledger?: string): LedgerEvent | LedgerEntry | undefined {
  if (ledger !== undefined && getAddress(log.address) !== getAddress(ledger)) return undefined;
  // As Interface.parseLog, but the event found by a topic table: parseLog hashes every event's
  // signature for every log (most of an audit's decoding time before).
  const fragment = log.topics.length > 0 ? topicTable(iface).get(log.topics[0].toLowerCase()) : undefined;
  if (fragment === undefined) return undefined;
  let decoded;
  try {
    decoded = iface.decodeEventLog(fragment, log.data, log.topics);
  } catch {
    return undefined;
  }
  const parsed = { name: fragment.name, fragment, args: decoded };
  const args = plain(parsed.args) as Record<string, unknown>;
  const event: LedgerEvent = { name: parsed.name, args, txHash: log.transactionHash, blockNumber: log.blockNumber, logIndex: log.index };
  const kind = entryKindOf(parsed.name);
  if (kind === undefined) return event;
  return {
    ...event,
    kind,
    account: String(args.account).toLowerCase(),
    seq: args.seq as bigint,
    head: String(args.head),
    ref: String(args.ref),
    payloadHash: payloadHashOf(parsed.fragment, parsed.args),
  };
}

/** The entries among decoded events. */
export const entriesOf = <E extends LedgerEvent>(events: readonly E[]): Array<E & LedgerEntry> => events.filter(isEntry);

const topicTables = new WeakMap<Interface, Map<string, EventFragment>>();

/** The interface's non-anonymous events by topic hash (lower case), computed once per interface. */
function topicTable(iface: Interface): Map<string, EventFragment> {
  let table = topicTables.get(iface);
  if (table === undefined) {
    table = new Map();
    iface.forEachEvent((fragment) => {
      if (!fragment.anonymous) table!.set(fragment.topicHash.toLowerCase(), fragment);
    });
    topicTables.set(iface, table);
  }
  return table;
}
