/**
 * The trial balance of a journal (journal.ts) and the checks of the books against the ledger's
 * own views. Pure. Checks: every entry's debits equal its credits, and so do the totals; per loan,
 * the portfolio balance equals the view's outstanding principal (`loanOf` at the block read:
 * terms.principal - state.principalSettled, for an active loan; nothing for a closed or
 * written-off one), and on the accrual basis the receivables equal what the views say is owed:
 * interest and penalty by the shared math at the as-of time (`positionAt`), the fee the
 * contractual fee not yet settled (terms.totalFee - state.feeSettled). On the cash basis the
 * receivables are zero. docs/ACCOUNTING.md says what each check proves.
 */
import { LoanStatus, positionAt } from "../../core/loan-math";
import { stateFromFields, termsFromFields } from "../../core/ledger-structs";
import type { LedgerHistory } from "../types";
import { ACCOUNTS, chartOf, debitNormal, portfolioAccount, type ChartAccount } from "./chart";
import { loanKey, type Journal } from "./journal";

export interface TrialBalanceRow {
  account: ChartAccount;
  debit: bigint;
  credit: bigint;
  /** On the account's normal side: debit - credit for assets and expenses, credit - debit otherwise. */
  balance: bigint;
}

export interface TrialBalance {
  rows: TrialBalanceRow[];
  totalDebit: bigint;
  totalCredit: bigint;
}

export function trialBalance(journal: Journal): TrialBalance {
  const chart = chartOf(journal.loanProducts.values());
  const sums = new Map<string, { debit: bigint; credit: bigint }>(chart.map((a) => [a.code, { debit: 0n, credit: 0n }]));
  for (const e of journal.entries) {
    for (const l of e.lines) {
      const s = sums.get(l.account.code)!;
      s.debit += l.debit;
      s.credit += l.credit;
    }
  }
  const rows = chart.map((account) => {
    const { debit, credit } = sums.get(account.code)!;
    return { account, debit, credit, balance: debitNormal(account) ? debit - credit : credit - debit };
  });
  return { rows, totalDebit: rows.reduce((s, r) => s + r.debit, 0n), totalCredit: rows.reduce((s, r) => s + r.credit, 0n) };
}

/** A difference between the books and the chain, naming the chart account and the journal entry. */
export interface BooksFinding {
  /** The chart account's code. */
  account: string;
  /** The journal entry (its id) where the difference shows, when there is one. */
  entry?: number;
  ledgerAccount?: string;
  loanNo?: number;
  seq?: bigint;
  txHash?: string;
  message: string;
}

export function checkBooks(journal: Journal, history: LedgerHistory): BooksFinding[] {
  const findings: BooksFinding[] = [];
  for (const e of journal.entries) {
    const debit = e.lines.reduce((s, l) => s + l.debit, 0n);
    const credit = e.lines.reduce((s, l) => s + l.credit, 0n);
    if (debit !== credit) {
      findings.push({
        account: e.lines[0].account.code,
        entry: e.id,
        ledgerAccount: e.ledgerAccount,
        loanNo: e.loanNo,
        seq: e.seq,
        txHash: e.txHash,
        message: `journal entry ${e.id} (${e.kind} of loan ${e.loanNo}, seq ${e.seq ?? "-"}) has debits ${debit} and credits ${credit} fen`,
      });
    }
  }
  const tb = trialBalance(journal);
  if (tb.totalDebit !== tb.totalCredit) findings.push({ account: "total", message: `the journal's debits ${tb.totalDebit} and credits ${tb.totalCredit} fen differ` });

  // The last journal entry of each loan, to name where a difference shows.
  const lastEntry = new Map<string, number>();
  for (const e of journal.entries) lastEntry.set(loanKey(e.ledgerAccount, e.loanNo), e.id);
  const seen = new Set<string>();
  for (const [ledgerAccount, views] of Object.entries(history.views)) {
    for (const [loanNoText, view] of Object.entries(views.loans)) {
      const loanNo = Number(loanNoText);
      const key = loanKey(ledgerAccount, loanNo);
      seen.add(key);
      const terms = termsFromFields(view.terms);
      const state = stateFromFields(view.state);
      const active = state.status === LoanStatus.Active;
      const p = active && terms.periods >= 1 ? positionAt(terms, state, journal.asOf) : undefined;
      const expected: [ChartAccount, bigint][] = [[portfolioAccount(terms.productId), active ? terms.principal - state.principalSettled : 0n]];
      const accrual = journal.basis === "accrual";
      expected.push(
        [ACCOUNTS.interestReceivable, accrual && p ? p.interest : 0n],
        [ACCOUNTS.penaltyReceivable, accrual && p ? p.penalty : 0n],
        [ACCOUNTS.feeReceivable, accrual && active ? terms.totalFee - state.feeSettled : 0n]
      );
      for (const [account, want] of expected) {
        const got = journal.loanBalances.get(key)?.get(account.code) ?? 0n;
        if (got !== want) {
          findings.push({
            account: account.code,
            entry: lastEntry.get(key),
            ledgerAccount,
            loanNo,
            message: `${account.name} (${account.code}) of loan ${loanNo} of account ${ledgerAccount} is ${got} fen in the books (last entry ${lastEntry.get(key) ?? "none"}); the ledger's views say ${want}`,
          });
        }
      }
    }
  }
  for (const [key, balances] of journal.loanBalances) {
    if (seen.has(key)) continue;
    const [ledgerAccount, loanNo] = key.split(":");
    if (history.account !== undefined && history.account !== ledgerAccount) continue;
    const productId = journal.loanProducts.get(key)!;
    const principal = balances.get(portfolioAccount(productId).code) ?? 0n;
    if (principal !== 0n) findings.push({ account: portfolioAccount(productId).code, entry: lastEntry.get(key), ledgerAccount, loanNo: Number(loanNo), message: `loan ${loanNo} of account ${ledgerAccount} has ${principal} fen in the portfolio, and the ledger's views hold no such loan` });
  }
  return findings;
}
