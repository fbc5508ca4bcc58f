/**
 * Reading failures of chain calls: a revert of the ledger decoded into its custom error
 * (name and arguments by ABI name, e.g. `LimitExceeded {account, productId, requested,
 * available}`), and the test for failures worth retrying (the node unreachable, timing out or
 * overloaded) as opposed to answers (a revert is an answer).
 */
import { isError, type Interface } from "ethers";

import { plain } from "../../core/ledger-structs";

export interface LedgerRevert {
  /** The custom error's name (`LimitExceeded`), or `Error` / `Panic` for the built-ins. */
  name: string;
  /** Its arguments by ABI name (an array when unnamed). */
  args: Record<string, unknown> | unknown[];
  data: string;
}

/** A call the ledger refused, with the decoded reason. */
export class LedgerRevertError extends Error {
  constructor(readonly revert: LedgerRevert) {
    super(`ledger reverted with ${revert.name}`);
    this.name = "LedgerRevertError";
  }
}

/** The revert data carried by an ethers or JSON-RPC error, wherever the provider put it. */
export function revertDataOf(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): string | undefined => {
    if (e === null || typeof e !== "object" || seen.has(e) || depth > 6) return undefined;
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (typeof o.data === "string" && /^0x[0-9a-fA-F]{8}/.test(o.data)) return o.data;
    if (o.data && typeof o.data === "object") {
      const nested = o.data as Record<string, unknown>;
      if (typeof nested.data === "string" && /^0x[0-9a-fA-F]{8}/.test(nested.data)) return nested.data;
    }
    for (const key of ["error", "info", "cause", "revert", "payload"]) {
      const found = visit(o[key], depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return visit(error, 0);
}

/** Decodes the revert in `error` with the ledger's interface; undefined when it is not a revert. */
export function decodeRevert(iface: Interface, error: unknown): LedgerRevert | undefined {
  if (error instanceof LedgerRevertError) return error.revert;
  const data = revertDataOf(error);
  if (data === undefined) return undefined;
  try {
    const parsed = iface.parseError(data);
    if (!parsed) return { name: "UnknownError", args: { selector: data.slice(0, 10) }, data };
    return { name: parsed.name, args: plain(parsed.args) as LedgerRevert["args"], data };
  } catch {
    return { name: "UnknownError", args: { selector: data.slice(0, 10) }, data };
  }
}

const TRANSIENT_CODES = new Set(["NETWORK_ERROR", "TIMEOUT", "SERVER_ERROR", "UNKNOWN_ERROR", "BAD_DATA"]);
const TRANSIENT_SYSTEM = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
]);

/** Whether a failed RPC call is worth retrying (the node down, slow or overloaded), not an answer. */
export function isTransient(error: unknown): boolean {
  if (error instanceof LedgerRevertError) return false;
  if (isError(error, "CALL_EXCEPTION")) return false;
  const e = error as { code?: unknown; cause?: { code?: unknown }; message?: unknown } | null;
  if (e && typeof e.code === "string" && TRANSIENT_CODES.has(e.code)) return true;
  if (e && typeof e.code === "string" && TRANSIENT_SYSTEM.has(e.code)) return true;
  if (e?.cause && typeof e.cause.code === "string" && TRANSIENT_SYSTEM.has(e.cause.code)) return true;
  const message = typeof e?.message === "string" ? e.message : "";
  return /fetch failed|socket hang up|ECONNREFUSED|ECONNRESET|timeout|rate limit|too many requests|503|502|504/i.test(message);
}
