/**
 * What the explorer shows, computed from the verifier's history and replay with the shared
 * loan math (core/loan-math.ts): lookups and routes, installment status,
 * entry summaries and the chart's geometry. Pure (no DOM, no I/O): tested in Node, bundled
 * for the browser. Money stays bigint fen; only pixel positions are numbers.
 */
import {
  installmentStandings,
  LoanStatus,
  ProductKind,
  RepaymentMethod,
  type Installment,
  type LoanState,
  type LoanTerms,
} from "../../../core/loan-math";
import { MAX_LOAN_NO } from "../../../core/names";
import { reasonText } from "../../../core/reasons";
import type { TimedEvent } from "../../types";
import { count, days, ratePerDay, utcDate, yuan } from "./format";

// ---------------------------------------------------------------- lookups and routes

export type Lookup =
  | { kind: "overview" }
  | { kind: "account"; account: string }
  | { kind: "loan"; account: string; loanNo: number }
  | { kind: "operation"; id: string };

const ACCOUNT = /^0x[0-9a-fA-F]{64}$/;
const LOAN = /^(0x[0-9a-fA-F]{64})[:/]([1-9][0-9]{0,9})$/;
const OPERATION = /^op_[0-9a-f]{32}$/;

export const LOOKUP_HELP =
  "Enter an account id (0x followed by 64 hex digits), a loan as <account id>:<loan number> or <account id>/<loan number>, " +
  "or the id of the operation that drew a loan (op_ followed by 32 hex digits).";

/** What the user typed into the lookup box, or an error message saying what to type. */
export function parseLookup(input: string): Lookup | { error: string } {
  const text = input.trim();
  if (ACCOUNT.test(text)) return { kind: "account", account: text.toLowerCase() };
  const loan = LOAN.exec(text);
  if (loan) {
    const loanNo = Number(loan[2]);
    if (loanNo > MAX_LOAN_NO) return { error: `Loan numbers go up to ${MAX_LOAN_NO}, not ${loanNo}.` };
    return { kind: "loan", account: loan[1].toLowerCase(), loanNo };
  }
  if (OPERATION.test(text)) return { kind: "operation", id: text };
  if (text === "") return { error: LOOKUP_HELP };
  if (/^0x[0-9a-fA-F]{40}$/.test(text)) return { error: `${text} is an address, not an account id. ${LOOKUP_HELP}` };
  return { error: `"${text.length > 80 ? `${text.slice(0, 80)}…` : text}" is not an account or loan id. ${LOOKUP_HELP}` };
}

/** The page's location hash for a lookup: `#/overview`, `#/account/<id>`, `#/loan/<id>/<n>`. */
export function hashOf(lookup: Lookup): string {
  switch (lookup.kind) {
    case "overview":
      return "#/overview";
    case "account":
      return `#/account/${lookup.account}`;
    case "loan":
      return `#/loan/${lookup.account}/${lookup.loanNo}`;
    case "operation":
      return `#/operation/${lookup.id}`;
  }
}

/** The lookup a location hash names (the overview for anything else). */
export function routeOf(hash: string): Lookup {
  const path = hash.replace(/^#\/?/, "");
  const [what, ...rest] = path.split("/");
  const parsed =
    what === "account" ? parseLookup(rest[0] ?? "") : what === "loan" ? parseLookup(rest.join("/")) : what === "operation" ? parseLookup(rest[0] ?? "") : undefined;
  return parsed && !("error" in parsed) ? parsed : { kind: "overview" };
}

// ---------------------------------------------------------------- products

/** A product's name as the chain configured it: `pay-later (product 1)`. */
export function productLabel(id: number, kind?: number): string {
  const name = kind === ProductKind.PayLater ? "pay-later" : kind === ProductKind.CashLoan ? "cash loan" : undefined;
  return name ? `${name} (product ${id})` : `product ${id}`;
}

/** Product labels by id, from the replayed products (their kind). */
export function productLabels(products: ReadonlyMap<number, { kind: number }>): Map<number, string> {
  return new Map([...products].map(([id, p]) => [id, productLabel(id, p.kind)]));
}

const productName = (products: ReadonlyMap<number, string>, id: unknown) => products.get(Number(id)) ?? productLabel(Number(id));

// ---------------------------------------------------------------- loans

/** What the installment table needs of a replayed loan (verifier/verify.ts `LoanView`). */
export interface ScheduledLoan {
  terms: LoanTerms;
  state: LoanState;
  schedule: Installment[];
}

export const STATUS_LABEL: Record<LoanStatus, string> = {
  [LoanStatus.Active]: "active",
  [LoanStatus.Closed]: "closed",
  [LoanStatus.WrittenOff]: "written off",
};

export const METHOD_LABEL: Record<RepaymentMethod, string> = {
  [RepaymentMethod.Bullet]: "single payment",
  [RepaymentMethod.EqualPrincipal]: "equal principal",
  [RepaymentMethod.Annuity]: "annuity",
};

export type InstallmentStatus = "paid" | "overdue" | "due" | "upcoming" | "waived" | "written-off";

export interface InstallmentRow {
  period: number;
  dueTime: bigint;
  principal: bigint;
  fee: bigint;
  /** Principal and fee of this period settled so far (repaid, refunded or waived), oldest period first. */
  paid: bigint;
  /** Principal and fee of this period still owed. */
  owed: bigint;
  status: InstallmentStatus;
  /** Days past its due date, for an overdue period. */
  daysOverdue: bigint;
}

/**
 * Each period of a loan's schedule at `asOf`: settled amounts fill periods oldest first (as
 * the ledger applies them); a period is overdue once its due day has passed unpaid (the
 * ledger's rule: due day strictly before today), the first unpaid period not yet overdue is
 * due, the rest are upcoming. Future fees a payoff waived show as waived.
 */
export function installmentRows(loan: ScheduledLoan, asOf: bigint): InstallmentRow[] {
  const { terms, state } = loan;
  return installmentStandings(terms, state, asOf).map((p) => {
    const paid = p.principalPaid + p.feePaid;
    const owed = p.principal + p.fee - paid;
    const status: InstallmentStatus =
      owed === 0n
        ? "paid"
        : state.status === LoanStatus.WrittenOff
          ? "written-off"
          : state.status === LoanStatus.Closed
            ? "waived"
            : p.daysOverdue > 0n
              ? "overdue"
              : p.current
                ? "due"
                : "upcoming";
    return { period: p.period, dueTime: p.dueTime, principal: p.principal, fee: p.fee, paid, owed, status, daysOverdue: status === "overdue" ? p.daysOverdue : 0n };
  });
}

// ---------------------------------------------------------------- entries

const big = (v: unknown): bigint => BigInt(v as bigint | number | string);
const rec = (v: unknown): Record<string, unknown> => v as Record<string, unknown>;

export interface EntrySummary {
  seq: bigint;
  kind: string;
  loanNo?: number;
  /** The entry's key facts, in words and yuan. */
  detail: string;
}

/** A reason code with its words from the one catalog (core/reasons.ts), English then Chinese. */
function reasonWords(code: number): string {
  const r = reasonText(code);
  return `${code} ${r.en} (${r.zh})`;
}

function decisionDetail(d: Record<string, unknown>, products: ReadonlyMap<number, string>): string {
  const reasons = (d.reasonCodes as unknown[]).map(Number).filter((c) => c !== 0);
  const expiry = big(d.limitExpiry);
  return [
    productName(products, d.productId),
    `limit ${yuan(big(d.limit))}${expiry > 0n ? ` until ${utcDate(expiry)}` : ""}`,
    ...(big(d.ratePpmPerDay) > 0n ? [ratePerDay(big(d.ratePpmPerDay))] : []),
    `score ${d.score}`,
    `tier ${d.tier}`,
    ...(reasons.length > 0 ? [`reasons ${reasons.map(reasonWords).join("; ")}`] : []),
  ].join(" · ");
}

/** The kind, loan and key amounts of one ledger entry, for the timeline. */
export function summarizeEntry(e: TimedEvent, products: ReadonlyMap<number, string>): EntrySummary {
  const a = e.args;
  const loanNo = a.loanNo !== undefined ? Number(a.loanNo) : undefined;
  const base = { seq: big(a.seq), kind: e.name, ...(loanNo !== undefined ? { loanNo } : {}) };
  switch (e.name) {
    case "AccountOpened":
      return { ...base, detail: `tier ${a.tier} · exposure cap ${yuan(big(a.exposureCap))}` };
    case "ExposureCapChanged":
      return { ...base, detail: `exposure cap ${yuan(big(a.previousCap))} → ${yuan(big(a.newCap))}` };
    case "DecisionDeclined":
      return { ...base, detail: `declined: ${decisionDetail(rec(a.decision), products)}` };
    case "LineGranted":
      return { ...base, detail: decisionDetail(rec(a.decision), products) };
    case "LimitIncreased": {
      const d = rec(a.decision);
      return { ...base, detail: `${productName(products, d.productId)} · limit ${yuan(big(a.previousLimit))} → ${decisionDetail(d, products).split(" · ").slice(1).join(" · ")}` };
    }
    case "LimitCut":
      return { ...base, detail: `${productName(products, a.productId)} · limit ${yuan(big(a.previousLimit))} → ${yuan(big(a.newLimit))} · reason ${reasonWords(Number(a.reasonCode))}` };
    case "LineFrozen":
    case "LineUnfrozen":
      return { ...base, detail: `${productName(products, a.productId)} · reason ${reasonWords(Number(a.reasonCode))}` };
    case "Drawn": {
      const t = rec(a.terms);
      const method = METHOD_LABEL[Number(t.method) as RepaymentMethod] ?? `method ${t.method}`;
      return {
        ...base,
        detail: [
          `${yuan(big(t.principal))} on ${productName(products, t.productId)}`,
          `${t.periods} period${Number(t.periods) === 1 ? "" : "s"}, ${method}`,
          ...(big(t.totalFee) > 0n ? [`fee ${yuan(big(t.totalFee))}`] : []),
          ...(big(t.ratePpmPerDay) > 0n ? [`interest ${ratePerDay(big(t.ratePpmPerDay))}`] : []),
        ].join(" · "),
      };
    }
    case "Refunded":
      return { ...base, detail: `refund ${yuan(big(a.amount))}${big(a.feeWaived) > 0n ? ` · fee waived ${yuan(big(a.feeWaived))}` : ""}` };
    case "Repaid": {
      const al = rec(a.allocation);
      const principal = big(al.overduePrincipal) + big(al.currentPrincipal) + big(al.prepaidPrincipal);
      const parts = [
        ["penalty", big(al.penalty)],
        ["fee", big(al.fee)],
        ["interest", big(al.interest)],
        ["principal", principal],
      ] as const;
      const split = parts.filter(([, v]) => v > 0n).map(([name, v]) => `${name} ${yuan(v)}`);
      return { ...base, detail: `paid ${yuan(big(a.amount))}${split.length > 0 ? ` (${split.join(", ")})` : ""}${Number(a.status) !== LoanStatus.Active ? ` · loan ${STATUS_LABEL[Number(a.status) as LoanStatus]}` : ""}` };
    }
    case "Restructured": {
      const t = rec(a.newTerms);
      const holiday = big(a.holidayDays);
      return {
        ...base,
        detail: [
          `${yuan(big(t.principal))} over ${t.periods} periods`,
          ...(holiday > 0n ? [`holiday ${days(holiday)}`] : []),
          ...(big(t.ratePpmPerDay) > 0n ? [`interest ${ratePerDay(big(t.ratePpmPerDay))}`] : []),
        ].join(" · "),
      };
    }
    case "WrittenOff":
      return { ...base, detail: `written off ${yuan(big(a.principalWrittenOff))} at ${days(big(a.daysPastDue))} past due${a.lineFrozen ? " · line frozen" : ""}` };
    default:
      return { ...base, detail: "" };
  }
}

/** Outstanding principal of one loan after each of its entries. */
export function loanSeries(entries: readonly TimedEvent[], loanNo: number): SeriesPoint[] {
  const series: SeriesPoint[] = [];
  let outstanding = 0n;
  for (const e of entries) {
    if (e.args.loanNo === undefined || Number(e.args.loanNo) !== loanNo) continue;
    const a = e.args;
    if (e.name === "Drawn") outstanding += big(rec(a.terms).principal);
    else if (e.name === "Refunded") outstanding -= big(a.amount);
    else if (e.name === "Repaid") {
      const al = rec(a.allocation);
      outstanding -= big(al.overduePrincipal) + big(al.currentPrincipal) + big(al.prepaidPrincipal);
    } else if (e.name === "WrittenOff") outstanding -= big(a.principalWrittenOff);
    else continue;
    series.push({ timestamp: e.timestamp, blockNumber: e.blockNumber, outstanding });
  }
  return series;
}

// ---------------------------------------------------------------- chart

export interface SeriesPoint {
  timestamp: bigint;
  blockNumber: number;
  outstanding: bigint;
}

export interface ChartBox {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const CHART_BOX: ChartBox = { width: 760, height: 260, left: 96, right: 20, top: 16, bottom: 40 };

export interface ChartGeometry {
  /** The step line: outstanding holds until the next entry changes it. */
  path: string;
  /** The area under the line. */
  area: string;
  points: Array<{ x: number; y: number; point: SeriesPoint }>;
  yTicks: Array<{ y: number; label: string }>;
  xTicks: Array<{ x: number; label: string }>;
  /** Plot area corners. */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** A round tick step in fen (1, 2 or 5 x 10^k yuan-cents) giving at most `ticks` steps up to `max`. */
export function tickStep(max: bigint, ticks = 5): bigint {
  if (max <= 0n) return 100n;
  let magnitude = 1n;
  for (;;) {
    for (const m of [1n, 2n, 5n]) {
      const step = m * magnitude;
      if (step * BigInt(ticks) >= max) return step;
    }
    magnitude *= 10n;
  }
}

const round = (v: number) => Math.round(v * 10) / 10;

/** Where each point of `series` goes in `box`, from its first entry to `endTime`. */
export function chartGeometry(series: readonly SeriesPoint[], endTime: bigint, box: ChartBox = CHART_BOX): ChartGeometry {
  const x0 = box.left;
  const x1 = box.width - box.right;
  const y0 = box.height - box.bottom;
  const y1 = box.top;
  const empty = { path: "", area: "", points: [], yTicks: [], xTicks: [], x0, x1, y0, y1 };
  if (series.length === 0) return empty;
  const t0 = series[0].timestamp;
  const last = series[series.length - 1].timestamp;
  const tEnd = endTime > last ? endTime : last;
  const span = tEnd > t0 ? tEnd - t0 : 1n;
  const maxValue = series.reduce((m, p) => (p.outstanding > m ? p.outstanding : m), 0n);
  const step = tickStep(maxValue);
  const steps = maxValue === 0n ? 1n : (maxValue + step - 1n) / step;
  const top = step * steps;
  // Pixels are the only numbers: ratios of exact integers, rounded to 0.1 px.
  const xOf = (t: bigint) => round(x0 + (Number(t - t0) / Number(span)) * (x1 - x0));
  const yOf = (v: bigint) => round(y0 - (Number(v) / Number(top)) * (y0 - y1));
  const points = series.map((point) => ({ x: xOf(point.timestamp), y: yOf(point.outstanding), point }));
  let path = `M${points[0].x},${y0} V${points[0].y}`;
  for (let i = 1; i < points.length; i++) path += ` H${points[i].x} V${points[i].y}`;
  const xEnd = xOf(tEnd);
  path += ` H${xEnd}`;
  const area = `${path} V${y0} Z`;
  const yTicks = [];
  for (let i = 0n; i <= steps; i++) yTicks.push({ y: yOf(step * i), label: yuan(step * i) });
  const xTicks = [
    { x: x0, label: timeLabel(t0, span) },
    ...(tEnd > t0 ? [{ x: xEnd, label: timeLabel(tEnd, span) }] : []),
  ];
  return { path, area, points, yTicks, xTicks, x0, x1, y0, y1 };
}

/** A time label fine enough for the span shown. */
function timeLabel(t: bigint, span: bigint): string {
  const iso = new Date(Number(t) * 1000).toISOString();
  return span < 2n * 86_400n ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso.slice(0, 10);
}

// ---------------------------------------------------------------- misc

/** A count of things with its noun: `1 loan`, `3 loans`, `2 entries`. */
export function plural(n: number | bigint, noun: string, nouns = noun.endsWith("y") ? `${noun.slice(0, -1)}ies` : `${noun}s`): string {
  return `${count(n)} ${BigInt(n) === 1n ? noun : nouns}`;
}
