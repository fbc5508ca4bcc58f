/**
 * `npm run audit -- books --rpc <url> [--ledger <address>] [--as-of YYYY-MM-DD] [--basis accrual|cash] [--csv DIR]`:
 * the books drawn up from the chain alone (the verifier's read and replay, journal.ts, trial-balance.ts),
 * printed as a trial balance with a summary of the journal, optionally written as CSV files
 * (journal.csv, general-ledger.csv, trial-balance.csv, loan-tape.csv). Exit 0 when the books
 * balance and agree with the ledger's views, 1 on any difference (each named by chart account
 * and journal entry), 2 on usage or transport errors (thrown as `BooksUsageError` or by the read).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { JsonRpcProvider } from "ethers";

import { LoanStatus, positionAt } from "../../core/loan-math";
import { stateFromFields, termsFromFields } from "../../core/ledger-structs";
import { replay } from "../replay";
import { readLedger, type Phase } from "../source";
import type { LedgerHistory } from "../types";
import { debitNormal } from "./chart";
import { csv, yuanDecimal } from "./csv";
import { BASES, buildJournal, type Basis, type Journal } from "./journal";
import { checkBooks, trialBalance } from "./trial-balance";

export class BooksUsageError extends Error {}

export interface BooksArgs {
  rpc: string;
  ledger?: string;
  asOf?: string;
  basis: Basis;
  csv?: string;
}

export const BOOKS_USAGE = `  npm run audit -- books --rpc <url> [--ledger <address>] [--as-of YYYY-MM-DD] [--basis accrual|cash] [--csv DIR]
                   the journal, general ledger and trial balance as of the end of a UTC day (default: the latest block),
                   checked against the ledger's views; --csv writes journal, general ledger, trial balance and loan tape`;

export function parseBooksArgs(argv: readonly string[]): BooksArgs {
  const args: Partial<BooksArgs> = { basis: "accrual" };
  const rest = [...argv];
  while (rest.length > 0) {
    const flag = rest.shift()!;
    const value = rest.shift();
    if (value === undefined || value.startsWith("--")) throw new BooksUsageError(`${flag} needs a value`);
    switch (flag) {
      case "--rpc": args.rpc = value; break;
      case "--ledger": args.ledger = value; break;
      case "--as-of":
        if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw new BooksUsageError(`--as-of must be a date YYYY-MM-DD (UTC), got "${value}"`);
        args.asOf = value;
        break;
      case "--basis":
        if (!BASES.includes(value as Basis)) throw new BooksUsageError(`--basis must be accrual or cash, got "${value}"`);
        args.basis = value as Basis;
        break;
      case "--csv": args.csv = value; break;
      default: throw new BooksUsageError(`unknown option ${flag} for books`);
    }
  }
  if (args.rpc === undefined) throw new BooksUsageError("--rpc <url> is required (npm start's node is http://127.0.0.1:8545)");
  if (!/^https?:\/\//.test(args.rpc) || !URL.canParse(args.rpc)) throw new BooksUsageError(`--rpc must be an http(s) URL, got "${args.rpc}"`);
  return args as BooksArgs;
}

/** The last block at or before `time` (binary search over block timestamps). */
async function blockAtOrBefore(provider: JsonRpcProvider, time: bigint): Promise<number> {
  let lo = 0;
  let hi = await provider.getBlockNumber();
  const at = async (n: number) => BigInt((await provider.getBlock(n))!.timestamp);
  if ((await at(hi)) <= time) return hi;
  if ((await at(0)) > time) throw new BooksUsageError(`the chain has no block on or before the end of --as-of`);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if ((await at(mid)) <= time) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export async function booksCommand(
  args: BooksArgs,
  edges: { connect: (rpc: string) => Promise<JsonRpcProvider>; ledgerAddress: (given: string | undefined, chainId: bigint) => string; onProgress?: (done: number, total: number, phase: Phase) => void }
): Promise<number> {
  const provider = await edges.connect(args.rpc);
  try {
    const { chainId } = await provider.getNetwork();
    const ledger = edges.ledgerAddress(args.ledger, chainId);
    const asOf = args.asOf === undefined ? undefined : BigInt(Date.parse(`${args.asOf}T00:00:00Z`) / 1000) + 86_399n;
    const toBlock = asOf === undefined ? undefined : await blockAtOrBefore(provider, asOf);
    const history = await readLedger(provider, { ledger, toBlock, onProgress: edges.onProgress });
    const journal = buildJournal(history, replay(history), { basis: args.basis, asOf: asOf ?? history.toTime });
    const findings = checkBooks(journal, history);
    console.log(booksText(journal, history));
    if (args.csv !== undefined) {
      writeBooksCsv(args.csv, journal, history);
      console.log(`CSV written to ${args.csv}: journal.csv, general-ledger.csv, trial-balance.csv, loan-tape.csv`);
    }
    if (findings.length === 0) console.log("RESULT: the books balance and agree with the ledger's views");
    else {
      for (const f of findings) console.log(`  - [${f.account}] entry ${f.entry ?? "-"}: ${f.message}`);
      console.log(`RESULT: ${findings.length} difference(s) between the books and the ledger`);
    }
    return findings.length === 0 ? 0 : 1;
  } finally {
    provider.destroy();
  }
}

const utcDay = (t: bigint): string => new Date(Number(t) * 1000).toISOString().slice(0, 10);

export function booksText(journal: Journal, history: LedgerHistory): string {
  const tb = trialBalance(journal);
  const lines = [
    `books of ledger ${history.ledger} (chain ${history.chainId}), ${journal.basis} basis, as of ${new Date(Number(journal.asOf) * 1000).toISOString()} (block ${history.toBlock})`,
    `journal: ${journal.entries.length} entries, ${journal.entries.reduce((s, e) => s + e.lines.length, 0)} lines; ${journal.entriesWithoutMoney} ledger entries move no money`,
    "",
    `${"account".padEnd(10)} ${"name".padEnd(32)} ${"debit".padStart(16)} ${"credit".padStart(16)} ${"balance".padStart(16)}`,
    ...tb.rows.map((r) => `${r.account.code.padEnd(10)} ${r.account.name.padEnd(32)} ${yuanDecimal(r.debit).padStart(16)} ${yuanDecimal(r.credit).padStart(16)} ${yuanDecimal(r.balance).padStart(16)}`),
    `${"total".padEnd(43)} ${yuanDecimal(tb.totalDebit).padStart(16)} ${yuanDecimal(tb.totalCredit).padStart(16)}`,
  ];
  return lines.join("\n");
}

export function writeBooksCsv(dir: string, journal: Journal, history: LedgerHistory): void {
  mkdirSync(dir, { recursive: true });
  const money = (fen: bigint) => [yuanDecimal(fen), fen];
  const journalRows = journal.entries.flatMap((e) =>
    e.lines.map((l) => [e.id, utcDay(e.time), e.time, e.blockNumber, e.txHash, e.kind, e.ledgerAccount, e.loanNo, e.productId, e.seq, l.account.code, l.account.name, ...money(l.debit), ...money(l.credit), e.memo])
  );
  writeFileSync(
    path.join(dir, "journal.csv"),
    csv(["entry", "date", "time", "block", "tx", "kind", "ledger_account", "loan_no", "product_id", "seq", "account", "account_name", "debit_yuan", "debit_fen", "credit_yuan", "credit_fen", "memo"], journalRows)
  );
  const tb = trialBalance(journal);
  const running = new Map<string, bigint>();
  const gl = tb.rows.flatMap((r) =>
    journal.entries.flatMap((e) =>
      e.lines
        .filter((l) => l.account.code === r.account.code)
        .map((l) => {
          const b = (running.get(r.account.code) ?? 0n) + (debitNormal(r.account) ? l.debit - l.credit : l.credit - l.debit);
          running.set(r.account.code, b);
          return [r.account.code, r.account.name, e.id, utcDay(e.time), e.kind, e.ledgerAccount, e.loanNo, ...money(l.debit), ...money(l.credit), ...money(b)];
        })
    )
  );
  writeFileSync(path.join(dir, "general-ledger.csv"), csv(["account", "account_name", "entry", "date", "kind", "ledger_account", "loan_no", "debit_yuan", "debit_fen", "credit_yuan", "credit_fen", "balance_yuan", "balance_fen"], gl));
  writeFileSync(
    path.join(dir, "trial-balance.csv"),
    csv(["account", "account_name", "type", "debit_yuan", "debit_fen", "credit_yuan", "credit_fen", "balance_yuan", "balance_fen"], [
      ...tb.rows.map((r) => [r.account.code, r.account.name, r.account.type, ...money(r.debit), ...money(r.credit), ...money(r.balance)]),
      ["total", "", "", ...money(tb.totalDebit), ...money(tb.totalCredit), "", ""],
    ])
  );
  const tape = Object.entries(history.views).flatMap(([account, v]) =>
    Object.entries(v.loans).map(([loanNo, l]) => {
      const t = termsFromFields(l.terms);
      const s = stateFromFields(l.state);
      const p = s.status === LoanStatus.Active && t.periods >= 1 ? positionAt(t, s, journal.asOf) : undefined;
      return [account, loanNo, t.productId, utcDay(t.startTime), t.periods, t.ratePpmPerDay, ...money(t.totalFee), ...money(t.principal), ...money(t.principal - s.principalSettled), LoanStatus[s.status], p?.daysPastDue ?? 0n];
    })
  );
  writeFileSync(path.join(dir, "loan-tape.csv"), csv(["ledger_account", "loan_no", "product_id", "start_date", "periods", "rate_ppm_per_day", "total_fee_yuan", "total_fee_fen", "principal_yuan", "principal_fen", "outstanding_yuan", "outstanding_fen", "status", "days_past_due"], tape));
}
