/**
 * Rendering an `AuditReport`: a readable summary for a terminal, JSON for machines (integers
 * as decimal strings), and a self-contained HTML page for a person.
 */
import { jsonValue } from "../core/json";
import { crossCheckCalls, type RefusedOperation } from "./ledger-completeness";
import { CHECKS, type AuditReport, type Finding } from "./types";

const MARK = { pass: "PASS", fail: "FAIL", skipped: "SKIP" } as const;

/** JSON with bigints as decimal strings. */
export function reportJson(report: AuditReport): string {
  return JSON.stringify(jsonValue(report), null, 2);
}

export function describeFinding(f: Finding): string {
  const where = [
    f.account !== undefined ? `account ${f.account}` : undefined,
    f.seq !== undefined ? `seq ${f.seq}` : undefined,
    f.loanNo !== undefined ? `loan ${f.loanNo}` : undefined,
    f.blockNumber !== undefined ? `block ${f.blockNumber}` : undefined,
    f.txHash !== undefined ? `tx ${f.txHash}` : undefined,
  ].filter((x) => x !== undefined);
  return `${f.message}${where.length > 0 ? `\n        at ${where.join(", ")}` : ""}`;
}

/** The fen amount as yuan, exactly (no floating point). */
export function yuan(fen: bigint): string {
  const sign = fen < 0n ? "-" : "";
  const abs = fen < 0n ? -fen : fen;
  return `${sign}${(abs / 100n).toLocaleString("en-US")}.${(abs % 100n).toString().padStart(2, "0")}`;
}

export function reportText(report: AuditReport, options: { maxFindings?: number; perAccount?: boolean } = {}): string {
  const max = options.maxFindings ?? 5;
  const lines: string[] = [];
  lines.push(`credit-ledger audit of ${report.ledger} on chain ${report.chainId}, blocks ${report.fromBlock}..${report.toBlock}`);
  const s = report.stats;
  lines.push(`  ${s.accounts} accounts, ${s.entries} entries, ${s.loans} loans (${yuan(s.drawnVolume)} yuan drawn), ${s.declines} declined decisions`);
  lines.push(...verifiedLines(report).map((l) => `  ${l}`));
  const calls = crossCheck(report);
  if (calls.length > 0) {
    lines.push("  To cross-check with another endpoint (the same answers, or that endpoint's audit with these flags):");
    for (const c of calls) lines.push(`    ${c}`);
  }
  lines.push("");
  lines.push("Checks");
  for (const c of report.checks) {
    const proves = CHECKS.find((x) => x.name === c.check)?.proves ?? "";
    lines.push(`  ${MARK[c.status]}  ${c.check.padEnd(13)} ${String(c.checked).padStart(6)} checked  ${c.status === "fail" ? `${c.findings.length} violation(s)` : ""}`);
    if (c.status !== "fail") lines.push(`        ${proves}`);
    for (const f of c.findings.slice(0, max)) lines.push(`      - ${describeFinding(f)}`);
    if (c.findings.length > max) lines.push(`      ... and ${c.findings.length - max} more (see --json)`);
  }
  const failing = report.accounts.filter((a) => a.checks.some((c) => c.status === "fail"));
  if (options.perAccount || failing.length > 0) {
    lines.push("");
    lines.push(options.perAccount ? "Accounts" : "Accounts with violations");
    for (const a of options.perAccount ? report.accounts : failing) {
      const bad = a.checks.filter((c) => c.status === "fail");
      lines.push(`  ${bad.length === 0 ? "PASS" : "FAIL"}  ${a.account}  seq ${a.seq}, ${a.entries} entries${a.declines ? `, ${a.declines} declines` : ""}`);
      for (const c of bad) lines.push(`        ${c.check}: first at ${c.first?.seq !== undefined ? `seq ${c.first.seq}` : "the end of the history"}: ${c.first?.message ?? ""}`);
    }
  }
  const refused = report.refused ?? [];
  if (refused.length > 0) {
    lines.push("");
    lines.push(`Refused batch calls (${refused.length}; OperationRefused, no entry, no balance changed)`);
    for (const r of refused.slice(0, options.perAccount ? refused.length : 20)) lines.push(`  ${describeRefusal(r)}`);
    if (!options.perAccount && refused.length > 20) lines.push(`  ... and ${refused.length - 20} more (see --json or --accounts)`);
  }
  if (report.timeline.length > 0) {
    lines.push("");
    lines.push("Timeline (roles, pauses, products, tiers)");
    for (const t of report.timeline) lines.push(`  block ${String(t.blockNumber).padStart(6)}  ${new Date(Number(t.timestamp) * 1000).toISOString()}  ${t.detail}`);
  }
  lines.push("");
  lines.push(report.ok ? "RESULT: every check holds" : `RESULT: VIOLATIONS in ${report.checks.filter((c) => c.status === "fail").map((c) => c.check).join(", ")}`);
  return lines.join("\n");
}

/** The block and ledger head verified, one line each. */
export function verifiedLines(report: AuditReport): string[] {
  const out: string[] = [];
  const b = report.verifiedBlock;
  if (b) out.push(`verified at block ${b.number}, hash ${b.hash}, time ${new Date(Number(b.timestamp) * 1000).toISOString()}`);
  const h = report.ledgerHead;
  if (h) {
    out.push(
      `ledger head: seq ${h.seq}, head ${h.head} (ledgerHead() at that block; ${h.recomputed} entries and ledger-wide events recomputed${
        h.scoped ? `, ${h.unread} of other accounts counted by their LedgerAdvanced only: --account audits check the ledger-wide chain by count` : ""
      })`,
    );
  }
  return out;
}

/** The calls a second auditor makes (empty when the block or head was not read). */
export function crossCheck(report: AuditReport): string[] {
  return report.verifiedBlock && report.ledgerHead ? crossCheckCalls(report.ledger, report.verifiedBlock, report.ledgerHead) : [];
}

export function describeRefusal(r: RefusedOperation): string {
  const call = [r.ref !== undefined ? `ref ${r.ref}` : undefined, r.expectedSeq !== undefined ? `expectedSeq ${r.expectedSeq}` : undefined].filter(Boolean).join(", ");
  return `block ${r.blockNumber} tx ${r.txHash} call ${r.index}: ${r.operation} for account ${r.account}${call ? ` (${call})` : ""} refused with ${r.error}`;
}

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export function reportHtml(report: AuditReport): string {
  const s = report.stats;
  const checkRows = report.checks
    .map((c) => {
      const proves = CHECKS.find((x) => x.name === c.check)?.proves ?? "";
      const findings = c.findings.length
        ? `<ul>${c.findings.slice(0, 50).map((f) => `<li><pre>${esc(describeFinding(f))}</pre></li>`).join("")}${c.findings.length > 50 ? `<li>... ${c.findings.length - 50} more in the JSON report</li>` : ""}</ul>`
        : "";
      return `<tr class="${c.status}"><td><span class="badge ${c.status}">${MARK[c.status]}</span></td><th scope="row">${esc(c.check)}</th><td>${c.checked}</td><td>${esc(proves)}${findings}</td></tr>`;
    })
    .join("\n");
  const accountRows = report.accounts
    .map((a) => {
      const cells = a.checks.map((c) => `<td class="${c.status}" title="${esc(c.first?.message ?? `${c.checked} checked`)}">${MARK[c.status]}</td>`).join("");
      return `<tr><td><code>${esc(a.account)}</code></td><td>${a.seq}</td><td>${a.declines}</td>${cells}</tr>`;
    })
    .join("\n");
  const accountHeads = report.accounts[0]?.checks.map((c) => `<th scope="col">${esc(c.check)}</th>`).join("") ?? "";
  const timeline = report.timeline
    .map((t) => `<tr><td>${t.blockNumber}</td><td>${esc(new Date(Number(t.timestamp) * 1000).toISOString())}</td><td>${esc(t.kind)}</td><td>${esc(t.detail)}</td></tr>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>credit-ledger audit ${esc(report.ledger)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24}h1{font-size:1.4rem}table{border-collapse:collapse;margin:1rem 0;width:100%}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}pre{white-space:pre-wrap;margin:0}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;font-weight:600}.pass .badge,.badge.pass,td.pass{color:#116329}.badge.pass{background:#dafbe1}
.badge.fail{background:#ffebe9;color:#a40e26}td.fail{color:#a40e26;font-weight:600}.badge.skipped{background:#eaeef2}
.verdict{font-size:1.1rem;font-weight:700}.ok{color:#116329}.bad{color:#a40e26}
</style></head><body>
<h1>credit-ledger audit</h1>
<p>Ledger <code>${esc(report.ledger)}</code> on chain ${report.chainId}, blocks ${report.fromBlock}–${report.toBlock}.
${s.accounts} accounts, ${s.entries} entries, ${s.loans} loans (${yuan(s.drawnVolume)} yuan drawn), ${s.declines} declined decisions.</p>
${verifiedLines(report).map((l) => `<p class="verified">${esc(l)}</p>`).join("\n")}
${crossCheck(report).length > 0 ? `<p>To cross-check with another endpoint:</p><pre class="cross-check">${crossCheck(report).map(esc).join("\n")}</pre>` : ""}
<p class="verdict ${report.ok ? "ok" : "bad"}">${report.ok ? "Every check holds." : "Violations found."}</p>
<h2>Checks</h2><table><thead><tr><th>status</th><th>check</th><th>checked</th><th>what it proves / violations</th></tr></thead><tbody>${checkRows}</tbody></table>
<h2>Accounts</h2><table><thead><tr><th>account</th><th>seq</th><th>declines</th>${accountHeads}</tr></thead><tbody>${accountRows}</tbody></table>
${(report.refused ?? []).length > 0 ? `<h2>Refused batch calls (${report.refused!.length})</h2><ul>${report.refused!.map((r) => `<li><code>${esc(describeRefusal(r))}</code></li>`).join("")}</ul>` : ""}
<h2>Timeline</h2><table><thead><tr><th>block</th><th>time (UTC)</th><th>kind</th><th>detail</th></tr></thead><tbody>${timeline}</tbody></table>
</body></html>
`;
}
