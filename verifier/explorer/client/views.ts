/**
 * The explorer's views, rendered from a history the browser read and verified itself:
 * the ledger overview (accounts, volume, delinquency buckets, a badge per check) and the
 * account view (lines and limits, the entry timeline, the outstanding-principal chart, each
 * loan's schedule with paid / due / overdue, a badge per check). A loan lookup is the account
 * view focused on one loan.
 */
import { CHECKS, type CheckName, type CheckStatus, type Finding } from "../../types";
import type { AccountReplay, LoanView } from "../../account-view";
import { DELINQUENCY_BUCKETS, LoanStatus } from "../../../core/loan-math";
import { creditReport } from "../../../core/credit-report";
import { DEFAULT_TIME_ZONE } from "../../../core/zone-time";
import type { Loaded } from "./connection";
import { renderChart } from "./chart";
import { h, type Child } from "./dom";
import { count, days, ratePerDay, short, utc, utcDate, yuan } from "./format";
import {
  hashOf,
  installmentRows,
  loanSeries,
  METHOD_LABEL,
  plural,
  productLabel,
  productLabels,
  STATUS_LABEL,
  summarizeEntry,
} from "./model";

const PROVES = new Map<CheckName, string>(CHECKS.map((c) => [c.name, c.proves]));

// ---------------------------------------------------------------- pieces

function findingText(f: Finding): string {
  const where = [
    f.account ? `account ${short(f.account, 8)}` : undefined,
    f.seq !== undefined ? `seq ${f.seq}` : undefined,
    f.loanNo !== undefined ? `loan ${f.loanNo}` : undefined,
    f.blockNumber !== undefined ? `block ${f.blockNumber}` : undefined,
    f.txHash ? `tx ${short(f.txHash)}` : undefined,
  ].filter(Boolean);
  return `${f.message}${where.length > 0 ? ` (${where.join(", ")})` : ""}`;
}

interface BadgeInput {
  check: CheckName;
  status: CheckStatus;
  checked: number;
  first?: Finding;
}

const VERDICT: Record<CheckStatus, string> = { pass: "✓ pass", fail: "✗ fail", skipped: "– skipped" };

/** One badge per check, and the first finding of each failing check below them. */
function badges(checks: readonly BadgeInput[], testid: string, skippedWhy: Partial<Record<CheckName, string>> = {}): HTMLElement {
  const failing = checks.filter((c) => c.status === "fail");
  return h(
    "section",
    { class: "panel", "aria-labelledby": `${testid}-heading`, "data-testid": testid },
    h("h3", { id: `${testid}-heading` }, "Verification, computed in this browser from the chain"),
    h(
      "ul",
      { class: "badges" },
      checks.map((c) => {
        const why = c.status === "skipped" ? skippedWhy[c.check] ?? "not computed" : c.first ? findingText(c.first) : PROVES.get(c.check) ?? "";
        return h(
          "li",
          { class: `badge ${c.status}`, title: why, "data-testid": `badge-${c.check}`, "data-status": c.status },
          h("span", { class: "name" }, c.check),
          h("span", { class: "verdict" }, `${VERDICT[c.status]} · ${plural(c.checked, "fact")} checked`)
        );
      })
    ),
    failing.length > 0
      ? h(
          "ul",
          { class: "findings", "data-testid": `${testid}-findings` },
          failing.map((c) => h("li", {}, h("strong", {}, c.check), ": ", c.first ? findingText(c.first) : "failed"))
        )
      : null
  );
}

function table(testid: string, caption: string | null, head: readonly (string | [string, "num"])[], rows: readonly HTMLTableRowElement[]): HTMLElement {
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { class: "data", "data-testid": testid },
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, head.map((c) => (Array.isArray(c) ? h("th", { scope: "col", class: "num" }, c[0]) : h("th", { scope: "col" }, c))))),
      h("tbody", {}, rows)
    )
  );
}

const num = (value: Child, attrs: Record<string, string> = {}) => h("td", { class: "num", ...attrs }, value);

function txCell(txHash: string): HTMLElement {
  return h("td", { class: "mono", "data-testid": "entry-tx", "data-tx": txHash, title: txHash }, h("span", { "aria-label": `transaction ${txHash}` }, short(txHash, 10)));
}

function card(label: string, value: string, testid: string): HTMLElement {
  return h("div", { class: "card", "data-testid": testid }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
}

function accountLink(account: string): HTMLElement {
  return h("a", { href: hashOf({ kind: "account", account }), class: "mono", title: account }, short(account, 10));
}

/** The heading line: what was read, from where, up to which block. */
export function readSummary(loaded: Loaded, rpcUrl: string): string {
  const { history } = loaded;
  return `Ledger ${history.ledger} on chain ${history.chainId}, read from ${rpcUrl}: blocks ${count(history.fromBlock)}–${count(history.toBlock)} (latest block time ${utc(history.toTime)})${loaded.account ? `, account ${short(loaded.account, 10)} only` : ""}.`;
}

const BYTECODE_SKIPPED = "the gateway sent no compiled artifacts (it runs without a build), so the deployed code was not compared";

// ---------------------------------------------------------------- overview

export function renderOverview(loaded: Loaded): HTMLElement {
  const { report, overview, history, replayed } = loaded;
  const labels = productLabels(replayed.products);
  return h(
    "article",
    { "data-testid": "overview" },
    h("h2", { tabindex: "-1", "data-testid": "view-heading" }, "Ledger overview"),
    badges(
      report.checks.map((c) => ({ check: c.check, status: c.status, checked: c.checked, ...(c.findings[0] ? { first: c.findings[0] } : {}) })),
      "ledger-badges",
      { bytecode: BYTECODE_SKIPPED }
    ),
    h(
      "div",
      { class: "cards", "data-testid": "stats" },
      card("accounts", count(overview.accounts), "stat-accounts"),
      card("entries", count(overview.entries), "stat-entries"),
      card("loans (active)", `${count(overview.loans)} (${count(overview.activeLoans)})`, "stat-loans"),
      card("drawn volume", yuan(overview.drawnVolume), "stat-volume"),
      card("outstanding principal", yuan(overview.outstanding), "stat-outstanding"),
      card("declines recorded", count(report.stats.declines), "stat-declines")
    ),
    h("h3", {}, "Delinquency of active loans"),
    table(
      "buckets",
      `Days past due of the oldest unpaid amount, at the latest block time (${utc(history.toTime)}).`,
      ["days past due", ["active loans", "num"], ["outstanding principal", "num"]],
      DELINQUENCY_BUCKETS.map((bucket) =>
        h("tr", { "data-testid": `bucket-${bucket}` }, h("th", { scope: "row" }, bucket), num(count(overview.buckets[bucket].loans)), num(yuan(overview.buckets[bucket].principal)))
      )
    ),
    h("h3", {}, "Accounts"),
    table(
      "accounts-table",
      null,
      ["account", ["entries", "num"], ["declines", "num"], ["outstanding", "num"], "lines", "checks"],
      report.accounts.map((a) => {
        const r = replayed.accounts.get(a.account);
        const failing = a.checks.filter((c) => c.status === "fail").map((c) => c.check);
        return h(
          "tr",
          { "data-testid": "account-row", "data-account": a.account },
          h("td", {}, accountLink(a.account)),
          num(count(a.entries)),
          num(count(a.declines)),
          num(r ? yuan(r.used) : "—"),
          h("td", {}, r ? [...r.lines.keys()].map((id) => labels.get(id) ?? productLabel(id)).join(", ") || "none" : "—"),
          h("td", {}, failing.length === 0 ? h("span", { class: "pill paid" }, "all pass") : h("span", { class: "pill overdue" }, `fail: ${failing.join(", ")}`))
        );
      })
    ),
    h("h3", {}, "Ledger-wide events"),
    table(
      "ledger-timeline",
      "Roles, pauses, products and tier policies: what the per-account checks are judged against.",
      ["time", "event", "detail", ["block", "num"], "tx"],
      report.timeline.map((t) => h("tr", {}, h("td", {}, utc(t.timestamp)), h("td", {}, t.kind), h("td", {}, t.detail), num(count(t.blockNumber)), txCell(t.txHash)))
    ),
    history.bytecode
      ? [
          h("h3", {}, "Deployed code"),
          table(
            "bytecode-table",
            "The deployed runtime code against the compiled artifacts the gateway sent (see docs/EXPLORER.md for what that trusts).",
            ["contract", "address", "result"],
            history.bytecode.map((b) => h("tr", {}, h("td", { class: "mono" }, b.contract), h("td", { class: "mono" }, b.address), h("td", {}, h("span", { class: `pill ${b.matches ? "paid" : "overdue"}` }, b.matches ? "matches" : "differs"), " ", b.detail)))
          ),
        ]
      : null
  );
}

// ---------------------------------------------------------------- account

function linesTable(a: AccountReplay, labels: ReadonlyMap<number, string>, asOf: bigint): HTMLElement {
  return table(
    "lines-table",
    null,
    ["line", ["limit", "num"], ["temporary limit", "num"], ["used", "num"], ["available", "num"], "interest", "state"],
    a.lines.map((line) => {
      const temporary = line.tempExpiry > asOf;
      const limit = temporary ? line.tempLimit : line.limit;
      const available = limit > line.used ? limit - line.used : 0n;
      return h(
        "tr",
        { "data-testid": "line-row" },
        h("th", { scope: "row" }, labels.get(line.productId) ?? productLabel(line.productId)),
        num(yuan(line.limit)),
        num(temporary ? `${yuan(line.tempLimit)} until ${utcDate(line.tempExpiry)}` : "—"),
        num(yuan(line.used)),
        num(yuan(available)),
        h("td", {}, line.ratePpmPerDay > 0n ? ratePerDay(line.ratePpmPerDay) : "interest-free"),
        h("td", {}, line.frozen ? h("span", { class: "pill overdue" }, `frozen (reason ${line.freezeReason})`) : h("span", { class: "pill active" }, "open"))
      );
    })
  );
}

function loanSection(loan: LoanView, labels: ReadonlyMap<number, string>, asOf: bigint, focused: boolean, account: string): HTMLElement {
  const p = loan.position;
  const t = loan.terms;
  const status = STATUS_LABEL[loan.state.status] ?? `status ${loan.state.status}`;
  const rows = installmentRows(loan, asOf);
  const statusClass = loan.state.status === LoanStatus.WrittenOff ? "written-off" : loan.state.status === LoanStatus.Closed ? "closed" : "active";
  return h(
    "section",
    { class: `loan${focused ? " focused" : ""}`, "data-testid": `loan-${loan.loanNo}`, "aria-labelledby": `loan-${loan.loanNo}-heading` },
    h(
      "h3",
      { id: `loan-${loan.loanNo}-heading` },
      h("a", { href: hashOf({ kind: "loan", account, loanNo: loan.loanNo }) }, `Loan ${loan.loanNo}`),
      ` · ${labels.get(loan.productId) ?? productLabel(loan.productId)} · `,
      h("span", { class: `pill ${statusClass}` }, status)
    ),
    h(
      "dl",
      { class: "kv" },
      h("dt", {}, "drawn"),
      h("dd", {}, `${yuan(loan.principalDrawn)} at ${utc(loan.drawnAt)}, block ${count(loan.drawnBlock)}, tx `, h("span", { class: "mono", title: loan.drawnTx }, short(loan.drawnTx, 10))),
      h("dt", {}, "terms"),
      h(
        "dd",
        {},
        [
          `${yuan(t.principal)} over ${plural(t.periods, "period")}`,
          METHOD_LABEL[t.method] ?? `method ${t.method}`,
          t.ratePpmPerDay > 0n ? `interest ${ratePerDay(t.ratePpmPerDay)}` : "no interest",
          t.totalFee > 0n ? `installment fee ${yuan(t.totalFee)}` : null,
          `penalty ${ratePerDay(t.penaltyPpmPerDay)} on overdue principal`,
        ]
          .filter(Boolean)
          .join(" · ")
      ),
      h("dt", {}, "outstanding principal"),
      h("dd", { "data-testid": `loan-${loan.loanNo}-outstanding` }, yuan(p.principalOutstanding)),
      h("dt", {}, "due now"),
      h("dd", {}, `${yuan(p.amountDue)}${p.nextDueTime > 0n ? ` by ${utcDate(p.nextDueTime)}` : ""} (overdue principal ${yuan(p.overduePrincipal)}, fees ${yuan(p.feesDue)}, interest ${yuan(p.interest)}, penalty ${yuan(p.penalty)})`),
      h("dt", {}, "payoff"),
      h("dd", {}, yuan(p.payoff)),
      h("dt", {}, "days past due"),
      h("dd", {}, p.daysPastDue > 0n ? h("span", { class: "pill overdue" }, days(p.daysPastDue)) : "current")
    ),
    table(
      `schedule-${loan.loanNo}`,
      "Settled amounts (repaid, refunded or waived) fill periods oldest first; interest accrues daily and is not in the schedule.",
      [["period", "num"], "due date", ["principal", "num"], ["fee", "num"], ["paid", "num"], ["owed", "num"], "status"],
      rows.map((r) =>
        h(
          "tr",
          { "data-testid": "installment-row", "data-status": r.status },
          num(r.period),
          h("td", {}, utcDate(r.dueTime)),
          num(yuan(r.principal)),
          num(yuan(r.fee)),
          num(yuan(r.paid)),
          num(yuan(r.owed)),
          h("td", {}, h("span", { class: `pill ${r.status}` }, r.status === "overdue" ? `overdue ${days(r.daysOverdue)}` : r.status))
        )
      )
    )
  );
}

function timeline(a: AccountReplay, labels: ReadonlyMap<number, string>, loanNo: number | undefined): HTMLElement {
  const entries = loanNo === undefined ? a.entries : a.entries.filter((e) => e.args.loanNo !== undefined && Number(e.args.loanNo) === loanNo);
  return table(
    "timeline",
    `${plural(entries.length, "entry")}${loanNo === undefined ? "" : ` of loan ${loanNo}`}, in chain order; every one is in the account's hash chain.`,
    [["seq", "num"], "time", "entry", ["loan", "num"], "what", ["block", "num"], "tx"],
    entries.map((e) => {
      const s = summarizeEntry(e, labels);
      return h(
        "tr",
        { "data-testid": "timeline-row", "data-seq": s.seq.toString() },
        num(s.seq.toString()),
        h("td", {}, utc(e.timestamp)),
        h("td", {}, s.kind),
        num(s.loanNo ?? ""),
        h("td", {}, s.detail),
        num(count(e.blockNumber), { "data-testid": "entry-block", "data-block": String(e.blockNumber) }),
        txCell(e.txHash)
      );
    })
  );
}

/**
 * The credit-bureau-style monthly status (core/credit-report.ts, the code behind
 * GET /v1/accounts/{id}/credit-report), computed here from the entries this browser read. The
 * borrower's time zone is off-chain (the gateway's vault); months are read in Asia/Shanghai.
 */
function creditReportTable(a: AccountReplay, asOf: bigint): HTMLElement {
  const openedAt = a.entries[0]?.timestamp ?? asOf;
  const months = creditReport(a.entries, openedAt, asOf, DEFAULT_TIME_ZONE);
  return table(
    "credit-report",
    `Monthly status read at each month's end (${DEFAULT_TIME_ZONE}): N current, 1–7 each 30 days past due of the oldest unpaid amount, C all repaid, D written off.`,
    ["month", "status", ["days past due", "num"]],
    months.map((m) =>
      h("tr", { "data-testid": "credit-month", "data-status": m.status }, h("td", {}, m.month), h("td", { class: "mono" }, m.status), num(count(m.daysPastDue)))
    )
  );
}

/** The account view (focused on one loan when `loanNo` is given); undefined when the chain has no such account. */
export function renderAccount(loaded: Loaded, account: string, replayed: AccountReplay | undefined, loanNo?: number): HTMLElement {
  const { report, history } = loaded;
  if (!replayed) {
    return h(
      "article",
      { "data-testid": "not-found" },
      h("h2", { tabindex: "-1", "data-testid": "view-heading" }, "No such account"),
      h("p", { "data-testid": "not-found-detail" }, `The ledger ${history.ledger} has no entry for account ${account} (read up to block ${count(history.toBlock)}).`),
      h("p", {}, "Check the id: account ids are 0x followed by 64 hex digits, the same ones the gateway's API uses. ", h("a", { href: "#/overview" }, "The overview"), " lists every account.")
    );
  }
  const labels = productLabels(loaded.replayed.products);
  const result = report.accounts.find((r) => r.account === replayed.account);
  // The ledger-wide checks (the ledger head, read by count for one account; the bytecode) after the account's own.
  const wide = report.checks.filter((c) => c.check === "ledger-head" || c.check === "bytecode");
  const checks = [
    ...(result?.checks ?? []),
    ...wide.map((c) => ({ check: c.check, status: c.status, checked: c.checked, ...(c.findings[0] ? { first: c.findings[0] } : {}) })),
  ];
  const loan = loanNo === undefined ? undefined : replayed.loans.find((l) => l.loanNo === loanNo);
  if (loanNo !== undefined && !loan) {
    return h(
      "article",
      { "data-testid": "not-found" },
      h("h2", { tabindex: "-1", "data-testid": "view-heading" }, "No such loan"),
      h("p", { "data-testid": "not-found-detail" }, `Account ${account} has ${plural(replayed.loans.length, "loan")}; there is no loan ${loanNo}.`),
      h("p", {}, h("a", { href: hashOf({ kind: "account", account }) }, "Show the account"))
    );
  }
  const loans = loan ? [loan] : replayed.loans;
  const series = loan ? loanSeries(replayed.entries, loan.loanNo) : replayed.balanceSeries;
  return h(
    "article",
    { "data-testid": loan ? "loan-view" : "account-view", "data-account": replayed.account },
    h(
      "h2",
      { tabindex: "-1", "data-testid": "view-heading" },
      loan ? `Loan ${loan.loanNo} of account ` : "Account ",
      h("span", { class: "mono" }, replayed.account)
    ),
    loan ? h("p", {}, h("a", { href: hashOf({ kind: "account", account: replayed.account }) }, "Show the whole account")) : null,
    badges(checks, "account-badges", { bytecode: BYTECODE_SKIPPED }),
    h(
      "div",
      { class: "cards", "data-testid": "account-stats" },
      card("entries (seq)", count(replayed.seq), "stat-seq"),
      card("outstanding principal", yuan(replayed.used), "stat-used"),
      card("exposure cap", yuan(replayed.exposureCap), "stat-cap"),
      card("identity tier", String(replayed.tier), "stat-tier"),
      card("loans", count(replayed.loans.length), "stat-loans")
    ),
    h("p", { class: "muted" }, "Head of the hash chain: ", h("span", { class: "mono", "data-testid": "account-head" }, replayed.head)),
    h("h3", {}, "Lines and limits"),
    replayed.lines.length > 0 ? linesTable(replayed, labels, history.toTime) : h("p", { class: "muted" }, "No line granted."),
    h("h3", {}, loan ? "Outstanding principal of this loan" : "Outstanding principal over time"),
    renderChart(series, history.toTime, loan ? `Loan ${loan.loanNo}: outstanding principal after each entry` : "Outstanding principal across lines after each entry", "balance-chart"),
    h("h3", {}, loan ? "Schedule" : "Loans and schedules"),
    loans.length > 0 ? loans.map((l) => loanSection(l, labels, history.toTime, loan !== undefined, replayed.account)) : h("p", { class: "muted" }, "No loans."),
    loan ? null : h("h3", {}, "Credit report"),
    loan ? null : creditReportTable(replayed, history.toTime),
    h("h3", {}, "Timeline"),
    timeline(replayed, labels, loan?.loanNo)
  );
}
