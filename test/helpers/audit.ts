/**
 * Running the verifier (verifier/) from tests: a JSON-RPC provider over the in-process Hardhat
 * network (the verifier reads through ethers' `Provider`, as it does against a remote node),
 * and readable summaries of an `AuditReport` for assertions and failure messages.
 */
import { network } from "hardhat";
import { BrowserProvider } from "ethers";

import { readLedger, type ReadOptions } from "../../verifier/source";
import { verifyHistory } from "../../verifier/verify";
import type { AuditReport, CheckName, Finding, LedgerHistory } from "../../verifier/types";

/** A provider over the Hardhat network that never caches (every read sees the latest block). */
export function rpcProvider(): BrowserProvider {
  return new BrowserProvider(network.provider as never, undefined, { cacheTimeout: -1, pollingInterval: 50 });
}

/** Read the ledger at `ledger` and run every check. */
export async function audit(options: ReadOptions): Promise<{ history: LedgerHistory; report: AuditReport }> {
  const history = await readLedger(rpcProvider(), options);
  return { history, report: verifyHistory(history) };
}

/** The checks that failed, by name, in the report's order. */
export const failingChecks = (report: AuditReport): CheckName[] =>
  report.checks.filter((c) => c.status === "fail").map((c) => c.check);

/** The first finding of a check (undefined when it has none). */
export const firstFinding = (report: AuditReport, check: CheckName): Finding | undefined =>
  report.checks.find((c) => c.check === check)?.findings[0];

/** Every finding, one line each, for assertion messages. */
export function describeFindings(report: AuditReport): string {
  const lines = report.checks.flatMap((c) =>
    c.findings.map((f) => `  [${f.check}] ${f.event ?? ""} seq ${f.seq ?? "-"} tx ${f.txHash ?? "-"}: ${f.message}`)
  );
  return lines.length === 0 ? "no findings" : `findings:\n${lines.join("\n")}`;
}

/** Where a finding must point: the entry's account and seq, and (when it names one) its transaction. */
export interface EntryLocation {
  account: string;
  seq?: bigint;
  txHash?: string;
}

/** The finding's location, in the shape of `EntryLocation` (for deep equality). */
export function locationOf(f: Finding | undefined, want: EntryLocation): EntryLocation | undefined {
  if (!f) return undefined;
  const out: EntryLocation = { account: (f.account ?? "").toLowerCase() };
  if ("seq" in want) out.seq = f.seq;
  if ("txHash" in want) out.txHash = f.txHash?.toLowerCase();
  return out;
}

/** The auditor's verifier reads the ledger at `ledger` and every check holds (bytecode not asked). */
export async function expectAuditPasses(ledger: string): Promise<AuditReport> {
  const { report } = await audit({ ledger });
  if (!report.ok) throw new Error(`the verifier found violations in a history the gateway wrote: ${describeFindings(report)}`);
  return report;
}
