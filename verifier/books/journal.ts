/**
 * The journal: every ledger entry that moves money, as balanced double-entry lines on the chart
 * of accounts (chart.ts), from the chain alone. Pure. The amounts come from the entries
 * themselves (a purchase's terms, a repayment's allocation and accrued charges, a refund's waived
 * fee, a write-off's principal); the only figures the shared loan math supplies are the ones no
 * event carries: what a refund checkpointed (the replay's `refundAccruals`) and, on the accrual
 * basis, the interest and penalty accrued from each loan's last checkpoint to the end of the last
 * whole day before the as-of time (`positionAt`, an "Accrual" entry per loan). Nothing is
 * re-decoded and no loan rule is re-implemented here.
 *
 * Entries that move no money (account opened, exposure cap, decisions, lines, limits, freezes,
 * reinstatements) produce no lines. The mapping table, per basis, is docs/ACCOUNTING.md.
 */
import { allocatedPrincipal, allocationTotal, LoanStatus, positionAt, ProductKind, type Allocation } from "../../core/loan-math";
import { allocationFromFields, termsFromFields } from "../../core/ledger-structs";
import type { Replay } from "../replay";
import type { LedgerHistory, TimedEvent } from "../types";
import { ACCOUNTS, portfolioAccount, type ChartAccount } from "./chart";

export type Basis = "accrual" | "cash";
export const BASES: readonly Basis[] = ["accrual", "cash"];

export interface JournalLine {
  account: ChartAccount;
  debit: bigint;
  credit: bigint;
}

export interface JournalEntry {
  /** 1-based, in chain order; the accrual entries come last. */
  id: number;
  /** The ledger entry's event name (`Drawn`, `Repaid`, ...), or `Accrual`. */
  kind: string;
  /** The borrower's account id (0x + 64 hex). */
  ledgerAccount: string;
  loanNo: number;
  productId: number;
  /** The ledger entry's seq (none for an accrual). */
  seq?: bigint;
  time: bigint;
  blockNumber: number;
  txHash?: string;
  memo: string;
  lines: JournalLine[];
}

export interface Journal {
  basis: Basis;
  /** The time the books are drawn up to (unix seconds). */
  asOf: bigint;
  entries: JournalEntry[];
  /** Ledger entries read that move no money (and so have no journal entry). */
  entriesWithoutMoney: number;
  /** Per loan (`loanKey`), per account code: the balance of the lines tagged with the loan (debit positive). */
  loanBalances: Map<string, Map<string, bigint>>;
  /** The product of each loan the journal names, by `loanKey`. */
  loanProducts: Map<string, number>;
}

export const loanKey = (ledgerAccount: string, loanNo: number): string => `${ledgerAccount.toLowerCase()}:${loanNo}`;

const big = (v: unknown): bigint => BigInt(v as bigint | number | string);

const MONEY_ENTRIES = new Set(["Drawn", "Refunded", "Repaid", "Restructured", "WrittenOff"]);

class JournalBuilder {
  readonly entries: JournalEntry[] = [];
  readonly loanBalances = new Map<string, Map<string, bigint>>();
  readonly loanProducts = new Map<string, number>();
  readonly writtenOff = new Set<string>();
  entriesWithoutMoney = 0;

  constructor(
    private readonly basis: Basis,
    private readonly replay: Replay
  ) {}

  /** The balance of `account` in the lines of one loan (debit positive). */
  balance(key: string, account: ChartAccount): bigint {
    return this.loanBalances.get(key)?.get(account.code) ?? 0n;
  }

  post(head: Omit<JournalEntry, "id" | "lines">, lines: JournalLine[]): void {
    const kept = lines.filter((l) => l.debit !== 0n || l.credit !== 0n);
    if (kept.length === 0) return;
    const key = loanKey(head.ledgerAccount, head.loanNo);
    const balances = this.loanBalances.get(key) ?? new Map<string, bigint>();
    this.loanBalances.set(key, balances);
    for (const l of kept) balances.set(l.account.code, (balances.get(l.account.code) ?? 0n) + l.debit - l.credit);
    this.entries.push({ ...head, id: this.entries.length + 1, lines: kept });
  }

  event(e: TimedEvent): void {
    if (e.payloadHash === undefined) return;
    if (!MONEY_ENTRIES.has(e.name)) {
      this.entriesWithoutMoney += 1;
      return;
    }
    const ledgerAccount = String(e.args.account).toLowerCase();
    const loanNo = Number(e.args.loanNo);
    const key = loanKey(ledgerAccount, loanNo);
    if (e.name === "Drawn") this.loanProducts.set(key, termsFromFields(e.args.terms as Record<string, unknown>).productId);
    const productId = this.loanProducts.get(key);
    if (productId === undefined) return; // an entry for a loan no Drawn created: the replay's balances check reports it
    const head = { kind: e.name, ledgerAccount, loanNo, productId, seq: big(e.args.seq), time: e.timestamp, blockNumber: e.blockNumber, txHash: e.txHash };
    const portfolio = portfolioAccount(productId);
    const accrual = this.basis === "accrual";
    switch (e.name) {
      case "Drawn": {
        const terms = termsFromFields(e.args.terms as Record<string, unknown>);
        const kind = this.replay.products.get(productId)?.kind;
        const what = kind === ProductKind.CashLoan ? "cash loan" : terms.periods > 1 ? `purchase in ${terms.periods} installments` : "purchase";
        this.post({ ...head, memo: `${what}: loan ${loanNo} drawn` }, [
          dr(portfolio, terms.principal),
          cr(ACCOUNTS.clearing, terms.principal),
          ...(accrual ? [dr(ACCOUNTS.feeReceivable, terms.totalFee), cr(ACCOUNTS.feeIncome, terms.totalFee)] : []),
        ]);
        return;
      }
      case "Refunded": {
        const amount = big(e.args.amount);
        const feeWaived = big(e.args.feeWaived);
        const charged = this.replay.refundAccruals.get(`${e.txHash}:${e.logIndex}`) ?? { interest: 0n, penalty: 0n };
        this.post({ ...head, memo: `merchant refund on loan ${loanNo}` }, [
          ...(accrual ? accrued(charged.interest, charged.penalty) : []),
          dr(ACCOUNTS.clearing, amount),
          cr(portfolio, amount),
          ...(accrual ? [dr(ACCOUNTS.feeIncome, feeWaived), cr(ACCOUNTS.feeReceivable, feeWaived)] : []),
        ]);
        return;
      }
      case "Repaid": {
        const amount = big(e.args.amount);
        if (this.writtenOff.has(key)) {
          this.post({ ...head, memo: `recovery on written-off loan ${loanNo}` }, [dr(ACCOUNTS.clearing, amount), cr(ACCOUNTS.recoveries, amount)]);
          return;
        }
        const a = allocationFromFields(e.args.allocation as Record<string, unknown>);
        const overpaid = amount > allocationTotal(a) ? amount - allocationTotal(a) : 0n;
        const lines = [
          ...(accrual ? accrued(big(e.args.interestAccrued), big(e.args.penaltyAccrued)) : []),
          dr(ACCOUNTS.clearing, amount),
          cr(accrual ? ACCOUNTS.penaltyReceivable : ACCOUNTS.penaltyIncome, a.penalty),
          cr(accrual ? ACCOUNTS.feeReceivable : ACCOUNTS.feeIncome, a.fee),
          cr(accrual ? ACCOUNTS.interestReceivable : ACCOUNTS.interestIncome, a.interest),
          cr(portfolio, allocatedPrincipal(a)),
          cr(ACCOUNTS.overpayment, overpaid),
        ];
        if (accrual && Number(e.args.status) === LoanStatus.Closed) {
          // A loan closed early owes no fee of the periods not begun: the rest of its fee is waived.
          const feeLeft = this.balance(key, ACCOUNTS.feeReceivable) - a.fee;
          if (feeLeft > 0n) lines.push(dr(ACCOUNTS.feeIncome, feeLeft), cr(ACCOUNTS.feeReceivable, feeLeft));
        }
        this.post({ ...head, memo: `repayment on loan ${loanNo}${describe(a)}` }, lines);
        return;
      }
      case "Restructured": {
        if (!accrual) return; // the principal stays; only charges and fees change, which the cash basis books when paid
        const newFee = termsFromFields(e.args.newTerms as Record<string, unknown>).totalFee;
        const feeWaived = this.balance(key, ACCOUNTS.feeReceivable) - newFee;
        this.post({ ...head, memo: `restructure of loan ${loanNo}` }, [
          ...accrued(big(e.args.interestAccrued), big(e.args.penaltyAccrued)),
          ...(feeWaived >= 0n
            ? [dr(ACCOUNTS.feeIncome, feeWaived), cr(ACCOUNTS.feeReceivable, feeWaived)]
            : [dr(ACCOUNTS.feeReceivable, -feeWaived), cr(ACCOUNTS.feeIncome, -feeWaived)]),
        ]);
        return;
      }
      case "WrittenOff": {
        const principal = big(e.args.principalWrittenOff);
        const lines = [dr(ACCOUNTS.writeOffLoss, principal), cr(portfolio, principal)];
        if (accrual) {
          const interest = this.balance(key, ACCOUNTS.interestReceivable) + big(e.args.interestAccrued);
          const penalty = this.balance(key, ACCOUNTS.penaltyReceivable) + big(e.args.penaltyAccrued);
          const fee = this.balance(key, ACCOUNTS.feeReceivable);
          lines.unshift(...accrued(big(e.args.interestAccrued), big(e.args.penaltyAccrued)));
          lines.push(
            dr(ACCOUNTS.writeOffLoss, interest + fee + penalty),
            cr(ACCOUNTS.interestReceivable, interest),
            cr(ACCOUNTS.feeReceivable, fee),
            cr(ACCOUNTS.penaltyReceivable, penalty)
          );
        }
        this.writtenOff.add(key);
        this.post({ ...head, memo: `write-off of loan ${loanNo} at ${String(e.args.daysPastDue)} days past due` }, lines);
        return;
      }
    }
  }

  /** Accrual basis: interest and penalty accrued from each active loan's checkpoint to `asOf`. */
  accrueTo(asOf: bigint, blockNumber: number): void {
    for (const a of this.replay.accounts.values()) {
      for (const loan of a.loans.values()) {
        if (loan.state.status !== LoanStatus.Active || loan.terms.periods < 1) continue;
        const p = positionAt(loan.terms, loan.state, asOf);
        this.post(
          { kind: "Accrual", ledgerAccount: a.account, loanNo: loan.loanNo, productId: loan.productId, time: asOf, blockNumber, memo: `interest and penalty of loan ${loan.loanNo} accrued to the as-of day end` },
          accrued(p.interest - loan.state.interestOwed, p.penalty - loan.state.penaltyOwed)
        );
      }
    }
  }
}

const dr = (account: ChartAccount, amount: bigint): JournalLine => ({ account, debit: amount, credit: 0n });
const cr = (account: ChartAccount, amount: bigint): JournalLine => ({ account, debit: 0n, credit: amount });

/** Interest and penalty charged: receivable against income. */
const accrued = (interest: bigint, penalty: bigint): JournalLine[] => [
  dr(ACCOUNTS.interestReceivable, interest),
  cr(ACCOUNTS.interestIncome, interest),
  dr(ACCOUNTS.penaltyReceivable, penalty),
  cr(ACCOUNTS.penaltyIncome, penalty),
];

function describe(a: Allocation): string {
  const parts = (
    [
      ["penalty", a.penalty],
      ["fee", a.fee],
      ["interest", a.interest],
      ["overdue principal", a.overduePrincipal],
      ["current principal", a.currentPrincipal],
      ["prepaid principal", a.prepaidPrincipal],
    ] as const
  ).filter(([, v]) => v > 0n);
  return parts.length === 0 ? "" : ` (${parts.map(([n, v]) => `${n} ${v}`).join(", ")})`;
}

/**
 * The journal of a history read from the chain and its replay (`replay(history)`), on a basis,
 * as of `asOf` (default the time of the block read): entries after `asOf` are left out.
 */
export function buildJournal(history: LedgerHistory, replayed: Replay, options: { basis: Basis; asOf?: bigint }): Journal {
  const asOf = options.asOf ?? history.toTime;
  const b = new JournalBuilder(options.basis, replayed);
  for (const e of history.events) if (e.timestamp <= asOf) b.event(e);
  if (options.basis === "accrual") b.accrueTo(asOf, history.toBlock);
  return { basis: options.basis, asOf, entries: b.entries, entriesWithoutMoney: b.entriesWithoutMoney, loanBalances: b.loanBalances, loanProducts: b.loanProducts };
}
