/**
 * Checking an account history exported by the gateway (`GET /v1/accounts/{id}/history`)
 * against the chain: each entry's payload hash is recomputed from its decoded fields (the
 * export's own `payloadHash` is not trusted), the hash chain is rebuilt from zero, and it must
 * end at the account's on-chain `seq` and `head`. When the on-chain entry heads are given
 * (from the ledger's events), the first entry that differs is located even if the export's
 * heads were recomputed to hide an edit.
 */
import { AbiCoder, keccak256, ZeroHash } from "ethers";

import { entryKindOf, nextHead } from "../server/core/hash-chain";
import { entryFragment } from "./abi";
import type { Finding } from "./types";

export interface ExportedEntry {
  seq: string | number | bigint;
  kind: string;
  head: string;
  payloadHash?: string;
  txHash?: string;
  blockNumber?: number;
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

const coder = AbiCoder.defaultAbiCoder();

/** The payload hash of an exported entry, from its fields by ABI name. */
export function payloadHashOfFields(kind: string, fields: Record<string, unknown>): string {
  const fragment = entryFragment(kind);
  if (!fragment) throw new Error(`"${kind}" is not a ledger entry kind`);
  const types = fragment.inputs.filter((i) => i.name !== "seq" && i.name !== "head");
  const values = types.map((i) => {
    if (!(i.name in fields)) throw new Error(`field ${i.name} is missing`);
    return fields[i.name];
  });
  return keccak256(coder.encode(types, values));
}

export function verifyExport(
  exported: HistoryExport,
  onchain: { seq: bigint; head: string },
  onchainHeads?: ReadonlyMap<bigint, string>
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
    const real = onchainHeads?.get(entrySeq);
    if (real !== undefined && real.toLowerCase() !== String(entry.head).toLowerCase()) {
      fail(`seq ${entrySeq}: the ledger's event for this seq has head ${real}, the export has ${entry.head}`, entry, entrySeq);
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
