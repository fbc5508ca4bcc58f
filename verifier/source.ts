/**
 * Reading a ledger's history from any JSON-RPC endpoint (Node or browser): every log of the
 * ledger in pages of blocks, the timestamp of each block that has one, the ledger's views of
 * every account at the last block read, and the ERC-1271 answers of contract scorers. The
 * result is a plain `LedgerHistory` for the pure checks of `verify.ts`.
 */
import { Contract, getAddress, Interface, recoverAddress, zeroPadValue, type Log, type Provider } from "ethers";

import { decisionDigest, decisionDomain } from "../core/decision";
import { isEntry } from "../core/ledger-events";
import { decisionFromFields, plain } from "../core/ledger-structs";
import { decodeLog, LEDGER_ABI, ledgerInterface } from "./abi";
import { compareRuntime, type RuntimeArtifacts } from "./bytecode";
import type { AccountViews, TimedEvent, LedgerHistory } from "./types";

export type Phase = "logs" | "blocks" | "views" | "signatures" | "bytecode";

export interface ReadOptions {
  ledger: string;
  /** First block to read; default: the block the ledger was deployed in (found by binary search on its code). */
  fromBlock?: number;
  /** Last block to read; default: the latest block. */
  toBlock?: number;
  /** Read only this account's entries (the ledger-wide role, pause and product events are always read). */
  account?: string;
  /** Blocks per eth_getLogs call (default 2,000; lower it for providers with a smaller range limit). */
  pageBlocks?: number;
  /** Compiled runtime code to compare with the deployed code (see `bytecode.ts`). */
  artifacts?: RuntimeArtifacts;
  onProgress?: (done: number, total: number, phase: Phase) => void;
}

/** A problem reading the chain or with the arguments: the CLI's exit code 2. */
export class VerifierInputError extends Error {
  override readonly name = "VerifierInputError";
}

/** Events that are about the whole ledger, read even when one account is asked for. */
const LEDGER_WIDE = [
  "RoleGranted",
  "RoleRevoked",
  "RoleAdminChanged",
  "DefaultAdminTransferScheduled",
  "DefaultAdminTransferCanceled",
  "Paused",
  "Unpaused",
  "ProductConfigured",
  "TierPolicySet",
  "LedgerAdvanced", // the ledger-wide chain (ledger-completeness.ts), checked by count in a scoped audit
];
const DECISION_EVENTS = new Set(["LineGranted", "LimitIncreased", "DecisionDeclined", "Restructured", "LineReinstated"]);
const ERC1271_MAGIC = "0x1626ba7e";
const ERC1271 = new Interface(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"]);
const CONCURRENCY = 16;

export async function readLedger(provider: Provider, options: ReadOptions): Promise<LedgerHistory> {
  const progress = options.onProgress ?? (() => undefined);
  let ledger: string;
  try {
    ledger = getAddress(options.ledger);
  } catch {
    throw new VerifierInputError(`--ledger ${options.ledger} is not an address (0x followed by 40 hex digits)`);
  }
  const { chainId } = await provider.getNetwork();
  const latest = await provider.getBlockNumber();
  const toBlock = options.toBlock ?? latest;
  if (toBlock > latest) throw new VerifierInputError(`--to-block ${toBlock} is past the latest block ${latest}`);
  if ((await provider.getCode(ledger, toBlock)) === "0x") {
    throw new VerifierInputError(`no contract at ${ledger} on chain ${chainId} (block ${toBlock}): check --rpc and --ledger`);
  }
  const fromBlock = options.fromBlock ?? (await deployBlock(provider, ledger, toBlock));
  if (fromBlock > toBlock) throw new VerifierInputError(`--from-block ${fromBlock} is after the last block ${toBlock}`);

  const logs = await readLogs(provider, ledger, fromBlock, toBlock, options, progress);

  const blocks = [...new Set([...logs.map((l) => l.blockNumber), toBlock])];
  const times = new Map<number, bigint>();
  let toHash: string | undefined;
  await inBatches(blocks, async (n) => {
    const block = await provider.getBlock(n);
    if (!block) throw new VerifierInputError(`block ${n} is not available from this RPC endpoint`);
    times.set(n, BigInt(block.timestamp));
    if (n === toBlock && block.hash) toHash = block.hash;
  }, (done) => progress(done, blocks.length, "blocks"));

  const events: TimedEvent[] = [];
  for (const log of logs) {
    const e = decodeLog(log, times.get(log.blockNumber)!);
    if (e) events.push(e);
  }

  const contract = new Contract(ledger, LEDGER_ABI as never, provider);
  const viewErrors: Record<string, string[]> = {};
  const views = await readViews(contract, events, toBlock, options.account, progress, viewErrors);
  const contractSignatures = await readContractSignatures(provider, chainId, ledger, events, progress);

  const history: LedgerHistory = {
    chainId,
    ledger,
    fromBlock,
    toBlock,
    toTime: times.get(toBlock)!,
    toHash,
    ...(await readLedgerHeads(contract, fromBlock, toBlock, options.fromBlock !== undefined)),
    events,
    views,
    contractSignatures,
  };
  if (Object.keys(viewErrors).length > 0) history.viewErrors = viewErrors;
  if (options.account !== undefined) history.account = options.account.toLowerCase();
  if (options.artifacts) {
    progress(0, 1, "bytecode");
    history.bytecode = await compareDeployed(provider, ledger, toBlock, options.artifacts);
    progress(1, 1, "bytecode");
  }
  return history;
}

/** `ledgerHead()` at the verified block, and before `fromBlock` when the history read starts after the deployment. */
async function readLedgerHeads(contract: Contract, fromBlock: number, toBlock: number, fromGiven: boolean): Promise<Pick<LedgerHistory, "ledgerHead" | "ledgerStart">> {
  const read = async (blockTag: number) => {
    const [seq, head] = (await contract.ledgerHead({ blockTag })) as [bigint, string];
    return { seq: BigInt(seq), head: String(head).toLowerCase() };
  };
  const out: Pick<LedgerHistory, "ledgerHead" | "ledgerStart"> = {};
  try {
    out.ledgerHead = await read(toBlock);
  } catch (error) {
    out.ledgerHead = { error: (error as Error).message.slice(0, 200) };
  }
  if (fromGiven && fromBlock > 0 && (await contract.runner!.provider!.getCode(contract.target as string, fromBlock - 1)) !== "0x") {
    try {
      out.ledgerStart = { ...(await read(fromBlock - 1)), block: fromBlock - 1, logIndex: -1 };
    } catch {
      // no ledger head before fromBlock: the check starts from zero and names the gap
    }
  }
  return out;
}

/** The first block at which the ledger has code (binary search; 0 when the node cannot answer for old blocks). */
export async function deployBlock(provider: Provider, ledger: string, toBlock: number): Promise<number> {
  let lo = 0;
  let hi = toBlock;
  try {
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await provider.getCode(ledger, mid)) === "0x") lo = mid + 1;
      else hi = mid;
    }
    return lo;
  } catch {
    return 0;
  }
}

async function readLogs(
  provider: Provider,
  ledger: string,
  fromBlock: number,
  toBlock: number,
  options: ReadOptions,
  progress: (done: number, total: number, phase: Phase) => void
): Promise<Log[]> {
  const page = Math.max(1, options.pageBlocks ?? 2_000);
  const total = toBlock - fromBlock + 1;
  const filters: (string | string[] | null)[][] =
    options.account === undefined
      ? [[]]
      : [
          [null, zeroPadValue(options.account, 32)],
          [LEDGER_WIDE.map((name) => ledgerInterface.getEvent(name)!.topicHash)],
        ];
  const logs: Log[] = [];
  for (let from = fromBlock; from <= toBlock; from += page) {
    const to = Math.min(toBlock, from + page - 1);
    for (const topics of filters) {
      logs.push(...(await provider.getLogs({ address: ledger, fromBlock: from, toBlock: to, topics })));
    }
    progress(to - fromBlock + 1, total, "logs");
  }
  const seen = new Set<string>();
  return logs
    .filter((l) => {
      const key = `${l.blockNumber}:${l.index}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
}

async function readViews(
  contract: Contract,
  events: readonly TimedEvent[],
  blockTag: number,
  onlyAccount: string | undefined,
  progress: (done: number, total: number, phase: Phase) => void,
  viewErrors: Record<string, string[]>
): Promise<Record<string, AccountViews>> {
  const products = new Map<string, Set<number>>();
  const drawn = new Map<string, number>();
  for (const e of events) {
    const account = typeof e.args.account === "string" ? e.args.account.toLowerCase() : undefined;
    if (account === undefined || !isEntry(e)) continue;
    if (onlyAccount !== undefined && account !== onlyAccount.toLowerCase()) continue;
    const set = products.get(account) ?? new Set<number>();
    products.set(account, set);
    const productId = productOfEvent(e);
    if (productId !== undefined) set.add(productId);
    if (e.name === "Drawn") drawn.set(account, Math.max(drawn.get(account) ?? 0, Number(e.args.loanNo)));
  }
  if (onlyAccount !== undefined && !products.has(onlyAccount.toLowerCase())) products.set(onlyAccount.toLowerCase(), new Set());
  const accounts = [...products.keys()];
  const views: Record<string, AccountViews> = {};
  await inBatches(accounts, async (account) => {
    const errors: string[] = [];
    const read = async <T>(what: string, call: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await call();
      } catch (error) {
        errors.push(`${what} failed: ${(error as Error).message.slice(0, 200)}`);
        return undefined;
      }
    };
    const a = (plain(await read("accountOf", () => contract.accountOf(account, { blockTag }))) ?? {}) as Record<string, unknown>;
    // The lines and loans are read all at once (the provider sends them in JSON-RPC batches), not
    // one round trip after another; errors are kept in the order of the reads, not of the answers.
    const productIds = [...products.get(account)!];
    // The loans the events name, and one more: a loan the ledger holds without a Drawn event shows
    // in accountOf's loanCount (compared by the balances check), and one more read catches the first.
    // Never the ledger's own count: a hostile ledger could claim 4,294,967,295 loans.
    const loanCount = Math.min(Number(a.loanCount ?? 0), (drawn.get(account) ?? 0) + 1);
    const loanNos = Array.from({ length: Math.max(0, loanCount) }, (_, i) => i + 1);
    const ordered: string[][] = [];
    const readAt = async <T>(slot: number, what: string, call: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await call();
      } catch (error) {
        ordered[slot] = [`${what} failed: ${(error as Error).message.slice(0, 200)}`];
        return undefined;
      }
    };
    const [lineAnswers, loanAnswers] = await Promise.all([
      Promise.all(productIds.map((productId, i) => readAt(i, `lineOf(${productId})`, () => contract.lineOf(account, productId, { blockTag })))),
      Promise.all(loanNos.map((loanNo, i) => readAt(productIds.length + i, `loanOf(${loanNo})`, () => contract.loanOf(account, loanNo, { blockTag })))),
    ]);
    for (const slot of ordered) if (slot) errors.push(...slot);
    const lines: AccountViews["lines"] = {};
    productIds.forEach((productId, i) => {
      if (lineAnswers[i] !== undefined) lines[productId] = plain(lineAnswers[i]) as Record<string, unknown>;
    });
    const loans: AccountViews["loans"] = {};
    loanNos.forEach((loanNo, i) => {
      const loan = loanAnswers[i];
      if (loan !== undefined) loans[loanNo] = { terms: plain(loan[0]) as Record<string, unknown>, state: plain(loan[1]) as Record<string, unknown> };
    });
    views[account] = { account: a, lines, loans };
    if (errors.length > 0) viewErrors[account] = errors;
  }, (done) => progress(done, accounts.length, "views"));
  return views;
}

/** The product an entry event is about, where its fields say so. */
export function productOfEvent(e: TimedEvent): number | undefined {
  const a = e.args;
  if (a.productId !== undefined) return Number(a.productId);
  const d = a.decision as Record<string, unknown> | undefined;
  if (d?.productId !== undefined) return Number(d.productId);
  const t = (a.terms ?? a.newTerms) as Record<string, unknown> | undefined;
  if (t?.productId !== undefined) return Number(t.productId);
  return undefined;
}

/** For decisions whose signature does not recover to the named scorer: the scorer contract's ERC-1271 answer at that block. */
async function readContractSignatures(
  provider: Provider,
  chainId: bigint,
  ledger: string,
  events: readonly TimedEvent[],
  progress: (done: number, total: number, phase: Phase) => void
): Promise<Record<string, boolean>> {
  const domain = decisionDomain(chainId, ledger);
  const out: Record<string, boolean> = {};
  const candidates = events.filter((e) => DECISION_EVENTS.has(e.name));
  let done = 0;
  for (const e of candidates) {
    const scorer = getAddress(e.args.scorer as string);
    const signature = e.args.signature as string;
    const digest = decisionDigest(domain, decisionFromFields(e.args.decision as Record<string, unknown>));
    let recovered: string | undefined;
    try {
      recovered = recoverAddress(digest, signature);
    } catch {
      recovered = undefined;
    }
    if (recovered !== scorer && (await provider.getCode(scorer, e.blockNumber)) !== "0x") {
      try {
        // As the ledger asks it (OpenZeppelin SignatureChecker.isValidERC1271SignatureNow): msg.sender
        // is the ledger, and the answer's first word must be exactly the selector, zero-padded.
        const data = ERC1271.encodeFunctionData("isValidSignature", [digest, signature]);
        const answer = await provider.call({ to: scorer, from: ledger, data, blockTag: e.blockNumber });
        out[`${e.txHash}:${e.logIndex}`] = answer.length >= 66 && answer.slice(0, 66).toLowerCase() === ERC1271_MAGIC.padEnd(66, "0");
      } catch {
        out[`${e.txHash}:${e.logIndex}`] = false;
      }
    }
    progress(++done, candidates.length, "signatures");
  }
  return out;
}


/** Compare the deployed ledger, and the LoanServicing library it links, with compiled runtime code. */
async function compareDeployed(provider: Provider, ledger: string, blockTag: number, artifacts: RuntimeArtifacts) {
  const ledgerCode = await provider.getCode(ledger, blockTag);
  const results = [];
  const libraries: Record<string, string> = {};
  for (const [source, libs] of Object.entries(artifacts.ledger.linkReferences)) {
    for (const [name, refs] of Object.entries(libs)) {
      const ref = refs[0];
      const hex = ledgerCode.slice(2 + ref.start * 2, 2 + (ref.start + ref.length) * 2);
      libraries[`${source}:${name}`] = getAddress(`0x${hex.padStart(40, "0")}`);
    }
  }
  results.push(compareRuntime({ contract: artifacts.ledger.name, address: ledger, deployedCode: ledgerCode, runtime: artifacts.ledger, libraries }));
  for (const library of artifacts.libraries) {
    const address = libraries[library.name];
    if (address === undefined) {
      results.push({ contract: library.name, address: "", matches: false, detail: "the ledger's code does not link this library" });
      continue;
    }
    const code = await provider.getCode(address, blockTag);
    results.push(compareRuntime({ contract: library.name, address, deployedCode: code, runtime: library, libraries }));
  }
  return results;
}

/** Run `fn` over `items`, `CONCURRENCY` at a time, reporting each completion. */
async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<void>, onDone: (done: number) => void): Promise<void> {
  let done = 0;
  for (let i = 0; i < items.length; i += CONCURRENCY) {
    await Promise.all(
      items.slice(i, i + CONCURRENCY).map(async (item) => {
        await fn(item);
        onDone(++done);
      })
    );
  }
}
