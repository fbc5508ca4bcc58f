/**
 * Checking an account history exported by the gateway (`GET /v1/accounts/{id}/history`)
 * against the chain: each entry's payload hash is recomputed from its decoded fields (the
 * export's own `payloadHash` is not trusted), the hash chain is rebuilt from zero, and it must
 * end at the account's on-chain `seq` and `head`. When the on-chain entry heads are given
 * (from the ledger's events), the first entry that differs is located even if the export's
 * heads were recomputed to hide an edit.
 */
import { ZeroHash, type ParamType } from "ethers";

import { entryKindOf, nextHead, payloadHashOf } from "../core/hash-chain";
import { entryFragment } from "./abi";
import type { Finding } from "./types";

export interface ExportedEntry {
  seq: string | number | bigint;
  kind: string;
  head: string;
  payloadHash?: string;
  ref?: string;
  txHash?: string;
  blockNumber?: number;
  logIndex?: number;
  fields: Record<string, unknown>;
}

export interface HistoryExport {
  accountId: string;
  entries: ExportedEntry[];
}

export interface ExportCheck {
  ok: boolean;
  entries: number;
  findings: Finding[];
}


/** What the ledger's event for a seq says (from `readLedger`), to locate an entry moved or re-hashed. */
export interface OnchainEntry {
  head: string;
  txHash?: string;
  blockNumber?: number;
  logIndex?: number;
}

/**
 * Why a JSON value is not exactly what the ABI type holds, or undefined when it is: booleans are
 * booleans, integers are decimal strings (or safe JSON numbers) in range, addresses and bytes are
 * hex of the right length, structs have exactly their fields. ethers' encoder is lenient (the
 * string "false" encodes as true, unknown struct keys are ignored), so an export is checked
 * strictly before it is hashed: what is shown must be what was hashed.
 */
export function strictValueProblem(param: ParamType, value: unknown, path: string): string | undefined {
  if (param.baseType === "tuple") {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return `${path} must be an object`;
    const names = new Set(param.components!.map((c) => c.name));
    const extra = Object.keys(value).filter((k) => !names.has(k));
    if (extra.length > 0) return `${path} has fields the event does not have: ${extra.join(", ")}`;
    for (const c of param.components!) {
      if (!(c.name in value)) return `${path}.${c.name} is missing`;
      const problem = strictValueProblem(c, (value as Record<string, unknown>)[c.name], `${path}.${c.name}`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (param.baseType === "array") {
    if (!Array.isArray(value)) return `${path} must be an array`;
    if (param.arrayLength !== null && param.arrayLength >= 0 && value.length !== param.arrayLength) return `${path} must have ${param.arrayLength} items`;
    for (let i = 0; i < value.length; i++) {
      const problem = strictValueProblem(param.arrayChildren!, value[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  const type = param.type;
  if (type === "bool") return typeof value === "boolean" ? undefined : `${path} must be true or false, not ${JSON.stringify(value)}`;
  if (type === "address") return typeof value === "string" && /^0x[0-9a-fA-F]{40}$/.test(value) ? undefined : `${path} must be an address`;
  if (type === "string") return typeof value === "string" ? undefined : `${path} must be a string`;
  if (type === "bytes") return typeof value === "string" && /^0x([0-9a-fA-F]{2})*$/.test(value) ? undefined : `${path} must be 0x-hex bytes`;
  const fixed = /^bytes(\d+)$/.exec(type);
  if (fixed) return typeof value === "string" && new RegExp(`^0x[0-9a-fA-F]{${Number(fixed[1]) * 2}}$`).test(value) ? undefined : `${path} must be ${fixed[1]} bytes of hex`;
  const int = /^(u?)int(\d+)$/.exec(type);
  if (int) {
    const ok =
      (typeof value === "string" && /^-?(0|[1-9]\d*)$/.test(value)) ||
      (typeof value === "number" && Number.isSafeInteger(value)) ||
      typeof value === "bigint";
    if (!ok) return `${path} must be an integer as a decimal string, not ${JSON.stringify(value)}`;
    const n = BigInt(value as string | number | bigint);
    const bits = BigInt(int[2]);
    const [min, max] = int[1] === "u" ? [0n, (1n << bits) - 1n] : [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n];
    return n < min || n > max ? `${path} is out of range for ${type}` : undefined;
  }
  return `${path} has a type (${type}) the export check does not know`;
}

/** The payload hash of an exported entry, from its fields by ABI name; throws when a field is not strictly its ABI type. */
export function payloadHashOfFields(kind: string, fields: Record<string, unknown>): string {
  const fragment = entryFragment(kind);
  if (!fragment) throw new Error(`"${kind}" is not a ledger entry kind`);
  const names = new Set(fragment.inputs.map((i) => i.name));
  const extra = Object.keys(fields).filter((k) => !names.has(k));
  if (extra.length > 0) throw new Error(`fields the event does not have: ${extra.join(", ")}`);
  for (const i of fragment.inputs.filter((input) => input.name !== "seq" && input.name !== "head")) {
    if (!(i.name in fields)) throw new Error(`field ${i.name} is missing`);
    const problem = strictValueProblem(i, fields[i.name], i.name);
    if (problem) throw new Error(problem);
  }
  return payloadHashOf(fragment, fields);
}

export function verifyExport(
  exported: HistoryExport,
  onchain: { seq: bigint; head: string },
  onchainEntries?: ReadonlyMap<bigint, string | OnchainEntry>
): ExportCheck {
  const account = String(exported.accountId).toLowerCase();
  const findings: Finding[] = [];
  const fail = (message: string, entry?: ExportedEntry, seq?: bigint) => {
    const f: Finding = { check: "hash-chain", account, message };
    if (seq !== undefined) f.seq = seq;
    if (entry?.txHash) f.txHash = entry.txHash;
    if (entry?.blockNumber !== undefined) f.blockNumber = entry.blockNumber;
    if (entry) f.event = entry.kind;
    findings.push(f);
  };
  if (!Array.isArray(exported.entries)) {
    fail("the file has no `entries` array: is it the JSON of GET /v1/accounts/{id}/history?");
    return { ok: false, entries: 0, findings };
  }

  let head = ZeroHash;
  let seq = 0n;
  exported.entries.forEach((entry, index) => {
    let entrySeq: bigint;
    try {
      entrySeq = BigInt(entry.seq);
    } catch {
      fail(`entry ${index} has no valid seq`, entry);
      return;
    }
    const kind = entryKindOf(entry.kind);
    if (kind === undefined) {
      fail(`entry ${index} (seq ${entrySeq}) has unknown kind "${entry.kind}"`, entry, entrySeq);
      return;
    }
    if (entrySeq <= seq) {
      fail(`entry ${index} repeats seq ${entrySeq} (the previous entry was seq ${seq}): an inserted entry`, entry, entrySeq);
      return;
    }
    if (entrySeq > seq + 1n) {
      fail(`seq ${seq + 1n}${entrySeq > seq + 2n ? `..${entrySeq - 1n}` : ""} missing: the export jumps from seq ${seq} to ${entrySeq}`, undefined, seq + 1n);
    }
    let payloadHash: string;
    try {
      payloadHash = payloadHashOfFields(entry.kind, entry.fields ?? {});
    } catch (error) {
      fail(`seq ${entrySeq}: the fields cannot be encoded (${(error as Error).message})`, entry, entrySeq);
      return;
    }
    if (entry.payloadHash !== undefined && entry.payloadHash.toLowerCase() !== payloadHash.toLowerCase()) {
      fail(`seq ${entrySeq}: the fields do not hash to the entry's payloadHash (an altered field)`, entry, entrySeq);
    }
    const computed = entrySeq === seq + 1n ? nextHead(head, entrySeq, kind, payloadHash) : undefined;
    if (computed !== undefined && computed.toLowerCase() !== String(entry.head).toLowerCase()) {
      fail(`seq ${entrySeq}: head ${entry.head} is not the hash of the previous head and this entry's fields (${computed}): an altered entry`, entry, entrySeq);
    }
    const fields = entry.fields ?? {};
    if (fields.seq !== undefined && String(fields.seq) !== String(entrySeq)) fail(`seq ${entrySeq}: fields.seq says ${String(fields.seq)}`, entry, entrySeq);
    if (fields.head !== undefined && String(fields.head).toLowerCase() !== String(entry.head).toLowerCase()) fail(`seq ${entrySeq}: fields.head differs from the entry's head`, entry, entrySeq);
    if (entry.ref !== undefined && String(entry.ref).toLowerCase() !== String(fields.ref).toLowerCase()) {
      fail(`seq ${entrySeq}: the entry's ref ${entry.ref} is not the hashed fields.ref ${String(fields.ref)}`, entry, entrySeq);
    }
    const known = onchainEntries?.get(entrySeq);
    const real: OnchainEntry | undefined = typeof known === "string" ? { head: known } : known;
    if (real !== undefined) {
      if (real.head.toLowerCase() !== String(entry.head).toLowerCase()) {
        fail(`seq ${entrySeq}: the ledger's event for this seq has head ${real.head}, the export has ${entry.head}`, entry, entrySeq);
      }
      const moved = (["txHash", "blockNumber", "logIndex"] as const).filter(
        (k) => real[k] !== undefined && entry[k] !== undefined && String(real[k]).toLowerCase() !== String(entry[k]).toLowerCase()
      );
      if (moved.length > 0) {
        fail(`seq ${entrySeq}: the ledger's event is in block ${real.blockNumber} tx ${real.txHash} (log ${real.logIndex}); the export says ${moved.map((k) => `${k} ${String(entry[k])}`).join(", ")}`, entry, entrySeq);
      }
    } else if (onchainEntries !== undefined && entrySeq <= onchain.seq) {
      fail(`seq ${entrySeq}: the ledger has no event for this seq in the blocks read`, entry, entrySeq);
    }
    head = String(entry.head);
    seq = entrySeq;
  });
  if (seq !== onchain.seq || head.toLowerCase() !== onchain.head.toLowerCase()) {
    fail(
      seq < onchain.seq
        ? `the export stops at seq ${seq}; the ledger is at seq ${onchain.seq}: entries ${seq + 1n}..${onchain.seq} are missing`
        : `the export ends at seq ${seq} head ${head}; the ledger says seq ${onchain.seq} head ${onchain.head}`,
      undefined,
      seq < onchain.seq ? seq + 1n : seq
    );
  }
  return { ok: findings.length === 0, entries: exported.entries.length, findings };
}
