/**
 * The auditor's report, pure: the replay's tallies (`replay.ts`) per check and per account,
 * the bytecode comparison, the ledger-wide timeline and the totals, as an `AuditReport`.
 */
import { replay, type Replay } from "./replay";
import type { LedgerHeadSummary } from "./ledger-completeness";
import { CHECKS, type AccountResult, type AuditReport, type CheckResult, type Finding, type LedgerHistory } from "./types";

/** Every check over a history (pure). */
export function verifyHistory(history: LedgerHistory, replayed: Replay = replay(history)): AuditReport {
  const onlyAccount = history.account;
  const checks: CheckResult[] = CHECKS.map(({ name }) => {
    if (name === "bytecode") {
      if (!history.bytecode) return { check: name, status: "skipped", checked: 0, findings: [] };
      const findings: Finding[] = history.bytecode
        .filter((b) => !b.matches)
        .map((b) => ({ check: "bytecode", message: `${b.contract} at ${b.address}: ${b.detail}` }));
      return { check: name, status: findings.length > 0 ? "fail" : "pass", checked: history.bytecode.length, findings };
    }
    if (name === "ledger-head" && history.ledgerHead === undefined) return { check: name, status: "skipped", checked: 0, findings: [] };
    const t = replayed.tallies.get(name)!;
    const findings = onlyAccount === undefined ? t.findings : t.findings.filter((f) => f.account === undefined || f.account === onlyAccount);
    return { check: name, status: findings.length > 0 ? "fail" : "pass", checked: t.checked, findings };
  });

  const accounts: AccountResult[] = [];
  let entries = 0;
  let declines = 0;
  let loans = 0;
  let drawnVolume = 0n;
  for (const a of replayed.accounts.values()) {
    if (onlyAccount !== undefined && a.account !== onlyAccount) continue;
    entries += a.entries.length;
    declines += a.declines;
    loans += a.loans.size;
    for (const loan of a.loans.values()) drawnVolume += loan.principalDrawn;
    const tallies = replayed.accountTallies.get(a.account);
    accounts.push({
      account: a.account,
      seq: a.seq,
      head: a.head,
      entries: a.entries.length,
      declines: a.declines,
      checks: CHECKS.filter((c) => c.name !== "bytecode" && c.name !== "ledger-head").map(({ name }) => {
        const t = tallies?.get(name) ?? { checked: 0, findings: [] };
        const result: AccountResult["checks"][number] = { check: name, status: t.findings.length > 0 ? "fail" : "pass", checked: t.checked };
        if (t.findings.length > 0) result.first = t.findings[0];
        return result;
      }),
    });
  }
  return {
    ledger: history.ledger,
    chainId: history.chainId,
    fromBlock: history.fromBlock,
    toBlock: history.toBlock,
    ok: checks.every((c) => c.status !== "fail"),
    checks,
    accounts,
    timeline: replayed.timeline,
    stats: { accounts: accounts.length, entries, declines, loans, drawnVolume },
    ...ledgerWide(history, replayed),
  };
}


/** The block and ledger head verified, and the refused batch calls, for the report. */
function ledgerWide(history: LedgerHistory, replayed: Replay): Pick<AuditReport, "verifiedBlock" | "ledgerHead" | "refused"> {
  const out: Pick<AuditReport, "verifiedBlock" | "ledgerHead" | "refused"> = { refused: replayed.completeness.refused };
  if (history.toHash !== undefined) out.verifiedBlock = { number: history.toBlock, hash: history.toHash, timestamp: history.toTime };
  if (history.ledgerHead !== undefined && !("error" in history.ledgerHead)) {
    const head: LedgerHeadSummary = {
      seq: history.ledgerHead.seq,
      head: history.ledgerHead.head,
      recomputed: replayed.completeness.recomputed,
      unread: replayed.completeness.unread,
      scoped: history.account !== undefined,
    };
    out.ledgerHead = head;
  }
  return out;
}
