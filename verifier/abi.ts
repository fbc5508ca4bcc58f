/**
 * The ledger's ABI, taken from this repository's compiled artifact (`npm run build`), and the
 * decoding of its logs into `LedgerEvent`s. The artifact is the only source of event layouts:
 * the verifier decodes with exactly what the contract emits.
 */
import { id, Interface, Result, ZeroHash, type EventFragment, type Log } from "ethers";

import { entryKindOf, payloadHashOf } from "../core/hash-chain";
import type { LedgerEvent } from "./types";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const artifact = require("../artifacts/contracts/CreditLedger.sol/CreditLedger.json") as { abi: unknown[] };

export const LEDGER_ABI: readonly unknown[] = artifact.abi;
export const ledgerInterface = new Interface(artifact.abi as never);

/** The ledger's AccessControl role ids, by name. */
export const ROLE_IDS = {
  DEFAULT_ADMIN_ROLE: ZeroHash,
  OPERATOR_ROLE: id("OPERATOR_ROLE"),
  SCORER_ROLE: id("SCORER_ROLE"),
  PAUSER_ROLE: id("PAUSER_ROLE"),
} as const;

/** Role names by role id (lower case). */
export const ROLE_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(ROLE_IDS).map(([name, roleId]) => [roleId.toLowerCase(), name])
);

/** Turn an ethers Result into plain objects (by ABI name) and arrays; bigints stay bigints. */
export function plainArgs(value: unknown): unknown {
  if (value instanceof Result) {
    let named: Record<string, unknown> | undefined;
    try {
      named = value.toObject(false);
    } catch {
      named = undefined;
    }
    if (named === undefined || Object.keys(named).length !== value.length || Object.keys(named).some((k) => /^_?\d+$/.test(k))) {
      return Array.from(value, (v) => plainArgs(v));
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(named)) out[k] = plainArgs(v);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => plainArgs(v));
  return value;
}

/** Decode one of the ledger's logs; undefined for a log the ABI does not know. */
export function decodeLog(log: Log, timestamp: bigint): LedgerEvent | undefined {
  let parsed;
  try {
    parsed = ledgerInterface.parseLog({ topics: [...log.topics], data: log.data });
  } catch {
    return undefined;
  }
  if (!parsed) return undefined;
  const args = plainArgs(parsed.args) as Record<string, unknown>;
  const event: LedgerEvent = {
    name: parsed.name,
    args,
    blockNumber: log.blockNumber,
    logIndex: log.index,
    txHash: log.transactionHash,
    timestamp,
  };
  if (entryKindOf(parsed.name) !== undefined) event.payloadHash = payloadHashOf(parsed.fragment, parsed.args);
  return event;
}

/** The fragment of an entry event by name (for export verification). */
export function entryFragment(name: string): EventFragment | undefined {
  if (entryKindOf(name) === undefined) return undefined;
  return ledgerInterface.getEvent(name) ?? undefined;
}
