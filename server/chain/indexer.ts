/**
 * The indexer: follows the ledger's events block range by block range into the read model.
 * Every entry event becomes an `entries` row (seq, head, kind, payload hash, ref, decoded
 * fields, tx hash, block, log index); the accounts, lines and loans the range touched are
 * refreshed from the ledger's views as of the range's last block, so the read model holds
 * exactly what the chain holds without re-implementing the servicing rules. The cursor moves
 * in the same transaction as the rows, so a crash mid-range re-reads the range (rows are
 * keyed by account and seq: reading twice writes the same thing).
 */
import type { Logger } from "../logger";
import type { GatewayMetrics } from "../metrics";
import type { LedgerEntry } from "../../core/ledger-events";
import { numField, structField } from "../../core/ledger-structs";
import type { AccountSnapshot, LineSnapshot, LoanSnapshot, Store } from "../store/store";
import { backoffDelay, DEFAULT_BACKOFF, Sleeper } from "./backoff";
import type { LedgerClient } from "./ledger-client";

export interface IndexerOptions {
  store: Store;
  client: LedgerClient;
  logger: Logger;
  metrics?: GatewayMetrics;
  /** The ledger's deploy block: nothing before it is read. */
  startBlock: number;
  /** Blocks an event needs under it before it is indexed (1 = the latest block counts). */
  confirmations: number;
  pollIntervalMs: number;
  /** Blocks read per range. */
  batchBlocks?: number;
}

/** Events that change a loan, by the loan number they carry. */
const LOAN_EVENTS = new Set(["Drawn", "Refunded", "Repaid", "Restructured", "WrittenOff"]);

export class Indexer {
  private readonly idle = new Sleeper();
  private running = false;
  private loop?: Promise<void>;
  /** Ranges are read one at a time: concurrent callers queue behind this. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: IndexerOptions) {}

  start(): void {
    if (this.loop) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.idle.interrupt();
    await this.loop;
    this.loop = undefined;
    await this.queue.catch(() => undefined);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const moved = await this.syncOnce();
        failures = 0;
        if (!moved && this.running) await this.idle.sleep(this.options.pollIntervalMs);
      } catch (error) {
        failures += 1;
        this.options.metrics?.rpcRetries.inc({ component: "indexer" });
        this.options.logger.warn({ err: error, failures }, "indexer: range failed, retrying with backoff");
        if (this.running) await this.idle.sleep(backoffDelay(DEFAULT_BACKOFF, failures));
      }
    }
  }

  /** Reads until `block` is indexed (used to make a confirmed operation visible to reads at once). */
  async syncTo(block: number): Promise<void> {
    for (;;) {
      const next = (await this.options.store.indexerNextBlock()) ?? this.options.startBlock;
      if (next > block) return;
      const moved = await this.syncOnce();
      if (!moved) return; // `block` is not confirmed deep enough yet
    }
  }

  /** Indexes the next range; false when there is nothing new to read. */
  syncOnce(): Promise<boolean> {
    const run = this.queue.then(() => this.indexNextRange());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async indexNextRange(): Promise<boolean> {
    const { store, client } = this.options;
    const from = (await store.indexerNextBlock()) ?? this.options.startBlock;
    const latest = await client.provider.getBlockNumber();
    const head = latest - (this.options.confirmations - 1);
    if (from > head) return false;
    const to = Math.min(head, from + (this.options.batchBlocks ?? 2_000) - 1);

    const entries: LedgerEntry[] = [];
    const accounts = new Set<string>();
    const lines = new Map<string, { accountId: string; productId: number }>();
    const loans = new Map<string, { accountId: string; loanNo: number }>();
    for (const log of await client.logs(from, to)) {
      const e = client.decodeEntry(log);
      if (!e) continue;
      entries.push(e);
      accounts.add(e.account);
      const productId = productIdOf(e.args);
      if (productId !== undefined) lines.set(`${e.account}:${productId}`, { accountId: e.account, productId });
      if (LOAN_EVENTS.has(e.name)) {
        const loanNo = numField(e.args, "loanNo");
        loans.set(`${e.account}:${loanNo}`, { accountId: e.account, loanNo });
      }
    }

    const accountSnapshots: AccountSnapshot[] = [];
    for (const accountId of accounts) {
      accountSnapshots.push({ accountId, account: await client.accountOf(accountId, to), block: to });
    }
    const loanSnapshots: LoanSnapshot[] = [];
    for (const { accountId, loanNo } of loans.values()) {
      const { terms, state } = await client.loanOf(accountId, loanNo, to);
      const productId = terms.productId;
      lines.set(`${accountId}:${productId}`, { accountId, productId });
      loanSnapshots.push({ accountId, loanNo, productId, terms, state, block: to });
    }
    const lineSnapshots: LineSnapshot[] = [];
    for (const { accountId, productId } of lines.values()) {
      lineSnapshots.push({ accountId, productId, line: await client.lineOf(accountId, productId, to), block: to });
    }

    await store.applyIndexed({
      entries,
      accounts: accountSnapshots,
      lines: lineSnapshots,
      loans: loanSnapshots,
      nextBlock: to + 1,
    });
    this.options.metrics?.indexedBlock.set(to + 1);
    if (entries.length > 0) this.options.logger.debug({ from, to, entries: entries.length }, "indexed ledger range");
    return true;
  }
}

/** The product an entry is about, where its fields say so directly. */
function productIdOf(args: Record<string, unknown>): number | undefined {
  if (args.productId !== undefined) return numField(args, "productId");
  for (const struct of ["decision", "terms"]) {
    if (args[struct] !== undefined && structField(args, struct).productId !== undefined) return numField(structField(args, struct), "productId");
  }
  return undefined;
}
