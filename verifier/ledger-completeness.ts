/**
 * Ledger-wide completeness, pure: the ledger-wide seq and head of `ICreditLedger.ledgerHead`
 * recomputed over every account entry and every ledger-wide event read (roles, pause,
 * products, tiers), with the mirror of `core/hash-chain.ts` (`LedgerHeadMirror`), and
 * compared with `ledgerHead()` read at the verified block.
 *
 * The rule it checks: every entry's event (and every ledger-wide event) is followed, at the
 * next log index of the same transaction, by `LedgerAdvanced(n, ledgerHead_n)`, n counting
 * from 1 without a gap, and the last one read is what `ledgerHead()` answers at the verified
 * block. So an endpoint that leaves out one account's logs, or a ledger-wide event, leaves a
 * gap in n (if it drops the `LedgerAdvanced` too), a `LedgerAdvanced` without its event (if it
 * does not), or a count short of `ledgerHead()` (if it drops the last ones): each is a finding
 * of the check `ledger-head` that names the ledger seq range missing and the blocks between
 * which it lies.
 *
 * An audit scoped to one account (`--account`) reads every `LedgerAdvanced` but not the other
 * accounts' entries: a `LedgerAdvanced` with no event read before it is taken as another
 * account's entry (counted as `unread`, its head adopted), so the scoped check proves that no
 * ledger seq is missing and that the chain ends at `ledgerHead()`, and recomputes the heads of
 * the entries it read; a dropped ledger-wide event whose `LedgerAdvanced` was kept is caught
 * only by a full audit.
 *
 * `OperationRefused` (a refused call of a `batch`) changes no balance and advances no chain:
 * it is reported with the call and the custom error decoded.
 *
 * Incremental: `tally()` is what a checkpoint stores, and `new LedgerCompleteness(tally)`
 * resumes from it (the `scale` helper's checkpoints). Take a checkpoint between transactions
 * (at a block boundary): an event whose `LedgerAdvanced` has not been observed yet is not in
 * the tally.
 */
import { ZeroHash, type EventFragment } from "ethers";

import { LedgerHeadMirror } from "../core/hash-chain";
import { ledgerInterface } from "./abi";
import type { AuditReport, Finding, LedgerHeadSummary, LedgerTally, RefusedOperation, TimedEvent, VerifiedBlock } from "./types";

export type { LedgerHeadSummary, LedgerTally, RefusedOperation, VerifiedBlock } from "./types";

const ZERO_TALLY: LedgerTally = { seq: 0n, head: ZeroHash, block: -1, logIndex: -1 };

interface Pending {
  e: TimedEvent;
  expected: { seq: bigint; head: string };
}

const big = (v: unknown): bigint => BigInt(v as bigint | number | string);
const at = (block: number): string => (block < 0 ? "the start of the history read" : `block ${block}`);

export class LedgerCompleteness {
  private state: LedgerTally;
  private readonly mirror = new LedgerHeadMirror();
  private pending: Pending | undefined;
  private readonly found: Finding[] = [];
  private readonly scoped: boolean;
  /** Entries and ledger-wide events read whose LedgerAdvanced was checked. */
  recomputed = 0;
  /** LedgerAdvanced with no event read before it, in a scoped audit. */
  unread = 0;
  readonly refused: RefusedOperation[] = [];

  constructor(start?: LedgerTally, options: { scoped?: boolean } = {}) {
    this.state = { ...(start ?? ZERO_TALLY) };
    this.scoped = options.scoped ?? false;
    this.sync();
  }

  tally(): LedgerTally {
    return { ...this.state };
  }

  /** Every decoded ledger event, in (blockNumber, logIndex) order, including LedgerAdvanced. */
  observe(e: TimedEvent): void {
    if (e.name === "LedgerAdvanced") return this.advanced(e);
    if (e.name === "OperationRefused") {
      this.refused.push(decodeRefusal(e));
      return;
    }
    const fragment = ledgerInterface.getEvent(e.name) as EventFragment | null;
    if (!fragment) return;
    const before = { seq: this.mirror.seq, head: this.mirror.head };
    const expected = this.mirror.apply(e.name, fragment, e.args);
    if (!expected) return;
    // The mirror advances only on the LedgerAdvanced that pairs with this event.
    this.mirror.seq = before.seq;
    this.mirror.head = before.head;
    this.unpaired();
    this.pending = { e, expected };
  }

  /** At the verified block: compare with ledgerHead() read there. */
  finish(onChain: { seq: bigint; head: string; block?: number }): Finding[] {
    this.unpaired();
    const where = onChain.block !== undefined ? ` at block ${onChain.block}` : "";
    const s = this.state;
    if (s.seq < onChain.seq) {
      this.fail(
        `ledger entries ${s.seq + 1n}..${onChain.seq} are missing: ledgerHead()${where} says seq ${onChain.seq}, the logs read end at seq ${s.seq} (${at(s.block)}); the missing entries lie between ${at(s.block)} and block ${onChain.block ?? "the last read"}. The endpoint left out logs: read the ledger from another endpoint`,
        undefined,
      );
    } else if (s.seq > onChain.seq) {
      this.fail(`the logs read reach ledger seq ${s.seq} (${at(s.block)}), but ledgerHead()${where} says seq ${onChain.seq}: the ledger's own head disagrees with its logs`, undefined);
    } else if (s.head.toLowerCase() !== onChain.head.toLowerCase()) {
      this.fail(`the logs read end at ledger seq ${s.seq} head ${s.head}, but ledgerHead()${where} says head ${onChain.head}: an entry was altered or replaced`, undefined);
    }
    return [...this.found];
  }

  /** The findings so far (without the comparison of `finish`). */
  findings(): readonly Finding[] {
    return this.found;
  }

  private advanced(e: TimedEvent): void {
    const seq = big(e.args.ledgerSeq);
    const head = String(e.args.ledgerHead).toLowerCase();
    const p = this.pending;
    const paired = p !== undefined && p.e.txHash === e.txHash && p.e.logIndex + 1 === e.logIndex;
    if (!paired) {
      this.unpaired();
      if (this.scoped) this.unread += 1;
      else {
        this.fail(
          `LedgerAdvanced(${seq}) at block ${e.blockNumber} log ${e.logIndex} follows no entry or ledger-wide event: the log before it (log ${e.logIndex - 1} of tx ${e.txHash}) was not read, an entry hidden by the endpoint`,
          e,
        );
      }
      this.continuity(seq, e);
    } else {
      this.pending = undefined;
      this.recomputed += 1;
      if (seq !== p.expected.seq) this.continuity(seq, e);
      else if (head !== p.expected.head.toLowerCase()) {
        this.fail(
          `LedgerAdvanced(${seq}) after ${p.e.name} at block ${e.blockNumber} carries head ${head}; keccak256(prevHead, seq, account, entryHead) over the logs read gives ${p.expected.head}`,
          e,
        );
      }
    }
    // Go on from what the log claims, so that one gap or one bad head is reported once.
    this.state = { seq, head, block: e.blockNumber, logIndex: e.logIndex };
    this.sync();
  }

  /** The seq must be the next one; otherwise name the missing range and where it lies. */
  private continuity(seq: bigint, e: TimedEvent): void {
    const s = this.state;
    if (seq === s.seq + 1n) return;
    if (seq > s.seq + 1n) {
      this.fail(
        `ledger entries ${s.seq + 1n}..${seq - 1n} are missing: no LedgerAdvanced for them in the logs read, between ${at(s.block)} (ledger seq ${s.seq}) and block ${e.blockNumber} (ledger seq ${seq}). The endpoint left out logs: read the ledger from another endpoint`,
        e,
      );
    } else {
      this.fail(`LedgerAdvanced(${seq}) at block ${e.blockNumber} repeats or goes back (the ledger was at seq ${s.seq}, ${at(s.block)})`, e);
    }
  }

  /** An entry or ledger-wide event whose LedgerAdvanced did not follow it. */
  private unpaired(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    this.fail(`${p.e.name} at block ${p.e.blockNumber} log ${p.e.logIndex} is not followed by its LedgerAdvanced (ledger seq ${p.expected.seq} expected)`, p.e);
  }

  private sync(): void {
    this.mirror.seq = this.state.seq;
    this.mirror.head = this.state.head;
  }

  private fail(message: string, e: TimedEvent | undefined): void {
    const finding: Finding = { check: "ledger-head", message };
    if (e) {
      finding.event = e.name;
      finding.txHash = e.txHash;
      finding.blockNumber = e.blockNumber;
      if (typeof e.args.account === "string" && e.args.seq !== undefined) {
        finding.account = e.args.account.toLowerCase();
        finding.seq = big(e.args.seq);
      }
    }
    this.found.push(finding);
  }
}

/** One value of a decoded error or call, readable. */
function show(v: unknown): string {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
  if (v !== null && typeof v === "object") return `{${Object.entries(v).map(([k, x]) => `${k}: ${show(x)}`).join(", ")}}`;
  return String(v);
}

/** The refused call and its custom error, decoded with the ledger's ABI. */
export function decodeRefusal(e: TimedEvent): RefusedOperation {
  const call = String(e.args.call);
  const reason = String(e.args.reason);
  const out: RefusedOperation = {
    account: String(e.args.account).toLowerCase(),
    index: Number(e.args.index),
    operation: call.slice(0, 10),
    error: reason === "0x" ? "no revert data" : reason,
    txHash: e.txHash,
    blockNumber: e.blockNumber,
    logIndex: e.logIndex,
  };
  try {
    const tx = ledgerInterface.parseTransaction({ data: call });
    if (tx) {
      out.operation = tx.name;
      const names = tx.fragment.inputs.map((i) => i.name);
      const arg = (n: string) => (names.includes(n) ? tx.args[names.indexOf(n)] : undefined);
      if (arg("ref") !== undefined) out.ref = String(arg("ref")).toLowerCase();
      if (arg("expectedSeq") !== undefined) out.expectedSeq = big(arg("expectedSeq"));
      const decision = arg("decision") as { account?: string } | undefined;
      const account = arg("account") ?? decision?.account;
      if (typeof account === "string") out.account = account.toLowerCase();
    }
  } catch {
    // an unknown call: its selector stays
  }
  try {
    const error = ledgerInterface.parseError(reason);
    if (error) {
      out.error = `${error.name}(${error.fragment.inputs.map((input, i) => `${input.name || i}=${show(error.args[i])}`).join(", ")})`;
    }
  } catch {
    // an error the ABI does not know: its raw data stays
  }
  return out;
}

/** What the auditor expects of the endpoint (`--expect-head SEQ[:HEAD]`, `--expect-block NUMBER[:HASH]`). */
export interface Expectations {
  head?: { seq: bigint; head?: string };
  block?: { number: number; hash?: string };
}

/**
 * The findings of the expectations against what the endpoint gave: the head verified (and,
 * for an expected head older than it, the LedgerAdvanced of that seq among `advanced`), and
 * the block verified (and, for an expected block older than it, `hashOf` that block).
 */
export function expectationFindings(
  expect: Expectations,
  got: { head: { seq: bigint; head: string }; block: VerifiedBlock; headAt?: (seq: bigint) => string | undefined; hashOf?: (n: number) => string | undefined },
): Finding[] {
  const out: Finding[] = [];
  const fail = (message: string) => out.push({ check: "ledger-head", message });
  if (expect.head) {
    const want = expect.head;
    if (got.head.seq < want.seq) {
      fail(`expected ledger head seq ${want.seq}${want.head ? ` (head ${want.head})` : ""}; the endpoint gave seq ${got.head.seq} (head ${got.head.head}) at block ${got.block.number}: it is behind`);
    } else if (want.head !== undefined) {
      const head = got.head.seq === want.seq ? got.head.head : got.headAt?.(want.seq);
      if (head === undefined) fail(`expected ledger head ${want.head} at seq ${want.seq}; the logs read have no LedgerAdvanced(${want.seq}) to compare (read from an earlier --from-block)`);
      else if (head.toLowerCase() !== want.head.toLowerCase()) {
        fail(`expected ledger head ${want.head} at seq ${want.seq}; the endpoint's chain has ${head} there: another chain, or another history`);
      }
    }
  }
  if (expect.block) {
    const want = expect.block;
    if (got.block.number < want.number) {
      fail(`expected block ${want.number}${want.hash ? ` (hash ${want.hash})` : ""}; the endpoint's latest verified block is ${got.block.number} (hash ${got.block.hash}): it is behind`);
    } else if (want.hash !== undefined) {
      const hash = got.block.number === want.number ? got.block.hash : got.hashOf?.(want.number);
      if (hash === undefined) fail(`expected block ${want.number} with hash ${want.hash}; the endpoint did not give that block's hash`);
      else if (hash.toLowerCase() !== want.hash.toLowerCase()) {
        fail(`expected block ${want.number} with hash ${want.hash}; the endpoint's block ${want.number} has hash ${hash}: another chain (or a reorganised one)`);
      }
    }
  }
  return out;
}

/** The JSON-RPC calls a second auditor makes against another endpoint to cross-check the verified block and head. */
export function crossCheckCalls(ledger: string, block: VerifiedBlock, head: { seq: bigint; head: string }): string[] {
  const tag = `0x${block.number.toString(16)}`;
  const data = ledgerInterface.encodeFunctionData("ledgerHead");
  return [
    `eth_call {"to":"${ledger}","data":"${data}"} "${tag}"   -> (${head.seq}, ${head.head}) as two 32-byte words`,
    `eth_getBlockByNumber "${tag}" false   -> hash ${block.hash}`,
    `npm run audit -- --rpc <another endpoint> --ledger ${ledger} --expect-block ${block.number}:${block.hash} --expect-head ${head.seq}:${head.head}`,
  ];
}

/** The report with `findings` added to its `ledger-head` check (which then fails, and the audit with it). */
export function withLedgerHeadFindings(report: AuditReport, findings: readonly Finding[]): AuditReport {
  if (findings.length === 0) return report;
  const checks = report.checks.map((c) => (c.check === "ledger-head" ? { ...c, status: "fail" as const, findings: [...c.findings, ...findings] } : c));
  return { ...report, checks, ok: false };
}

/** The head the logs read give at ledger seq `seq` (its LedgerAdvanced), if they hold it. */
export function ledgerHeadAt(events: readonly TimedEvent[], seq: bigint): string | undefined {
  const e = events.find((x) => x.name === "LedgerAdvanced" && BigInt(x.args.ledgerSeq as bigint) === seq);
  return e === undefined ? undefined : String(e.args.ledgerHead);
}
