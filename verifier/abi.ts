/**
 * The ledger's ABI, taken from this repository's compiled artifact (`npm run build`), and the
 * decoding of its logs (core/ledger-events.ts) with their block times. The artifact is the only source of event layouts:
 * the verifier decodes with exactly what the contract emits.
 */
import { id, Interface, ZeroHash, type EventFragment, type Log } from "ethers";

import { entryKindOf } from "../core/hash-chain";
import { decodeLedgerLog } from "../core/ledger-events";
import type { TimedEvent } from "./types";

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

/** Decode one of the ledger's logs with the shared decoder, with its block's time; undefined for a log the ABI does not know. */
export function decodeLog(log: Log, timestamp: bigint): TimedEvent | undefined {
  const event = decodeLedgerLog(ledgerInterface, log);
  return event && { ...event, timestamp };
}

/** The fragment of an entry event by name (for export verification). */
export function entryFragment(name: string): EventFragment | undefined {
  if (entryKindOf(name) === undefined) return undefined;
  return ledgerInterface.getEvent(name) ?? undefined;
}
