/**
 * The auditor's verifier. Trusts only the chain (any JSON-RPC URL) and this repository's
 * compiled artifacts.
 *
 *   npm run audit -- --rpc <url> --ledger <address> [--account <id>] [--from-block N] [--to-block N]
 *                    [--json <file>] [--html <file>] [--page-blocks N] [--no-bytecode] [--accounts]
 *                    [--expect-head SEQ[:HEAD]] [--expect-block NUMBER[:HASH]]
 *   npm run audit -- verify-export <file> --rpc <url> --ledger <address>
 *
 * Exit codes: 0 every check holds, 1 a violation was found, 2 usage or connection error.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { Contract, JsonRpcProvider, Network } from "ethers";

import { probeChainId } from "../server/chain/rpc-probe";
import { LEDGER_ABI } from "../verifier/abi";
import { loadCurrentArtifacts } from "../verifier/artifacts-node";
import { verifyExport, type HistoryExport, type OnchainEntry } from "../verifier/export";
import { describeFinding, reportHtml, reportJson, reportText } from "../verifier/report";
import { AuditRpcProvider } from "../verifier/rpc";
import { readLedger, VerifierInputError, type Phase } from "../verifier/source";
import { verifyHistory } from "../verifier/verify";
import { expectationFindings, ledgerHeadAt, withLedgerHeadFindings, type Expectations } from "../verifier/ledger-completeness";
import type { Finding, LedgerHistory } from "../verifier/types";
import { BOOKS_USAGE, booksCommand, BooksUsageError, parseBooksArgs } from "../verifier/books/cli";

const ROOT = path.resolve(__dirname, "..");
const USAGE = `usage:
  npm run audit -- --rpc <url> --ledger <address> [--account <id>] [--from-block N] [--to-block N]
                   [--json <file>] [--html <file>] [--page-blocks N] [--no-bytecode] [--accounts]
                   [--expect-head SEQ[:HEAD]] [--expect-block NUMBER[:HASH]]
  npm run audit -- verify-export <file> --rpc <url> --ledger <address>
${BOOKS_USAGE}

  --rpc          JSON-RPC URL of the chain (npm start's node: http://127.0.0.1:8545)
  --ledger       the CreditLedger address (default: deployments/<network>-<chainId>/CreditLedger.json for the RPC's chain)
  --account      verify one account (0x + 64 hex digits); the ledger-wide role, pause and product events are still read
  --from-block   first block to read (default: the ledger's deploy block, found on chain); events before it are not replayed
  --to-block     last block to read (default: latest)
  --json <file>  write the full report as JSON;  --html <file>  write it as an HTML page
  --page-blocks  blocks per eth_getLogs request (default 2000; lower it if the provider limits ranges)
  --no-bytecode  skip the comparison of the deployed code with this repository's build
  --accounts     list every account in the summary, not only those with violations
  --expect-head SEQ[:HEAD]      fail (exit 1) unless the ledger head verified is at least SEQ (and, with HEAD,
                                the chain read passes through HEAD at SEQ): another auditor's ledger head
  --expect-block NUMBER[:HASH]  fail (exit 1) unless the endpoint verified block NUMBER or later (and, with HASH,
                                its block NUMBER has that hash): another auditor's verified block

exit codes: 0 every check holds, 1 a violation was found, 2 usage or connection error`;

class UsageError extends Error {}

interface Args {
  command: "audit" | "verify-export";
  file?: string;
  rpc: string;
  ledger?: string;
  account?: string;
  fromBlock?: number;
  toBlock?: number;
  json?: string;
  html?: string;
  pageBlocks?: number;
  bytecode: boolean;
  accounts: boolean;
  expect: Expectations;
}

function parseArgs(argv: string[]): Args {
  const args: Partial<Args> & { bytecode: boolean; accounts: boolean } = { command: "audit", bytecode: true, accounts: false, expect: {} };
  const rest = [...argv];
  if (rest[0] === "verify-export") {
    rest.shift();
    args.command = "verify-export";
    const file = rest.shift();
    if (file === undefined || file.startsWith("--")) throw new UsageError("verify-export needs the exported history file: verify-export <file> --rpc ... --ledger ...");
    args.file = file;
  }
  const block = (flag: string, v: string): number => {
    if (!/^\d+$/.test(v)) throw new UsageError(`${flag} must be a block number, got "${v}"`);
    return Number(v);
  };
  while (rest.length > 0) {
    const flag = rest.shift()!;
    if (flag === "--no-bytecode") { args.bytecode = false; continue; }
    if (flag === "--accounts") { args.accounts = true; continue; }
    if (flag === "--help" || flag === "-h") throw new UsageError("");
    const value = rest.shift();
    if (value === undefined || value.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    switch (flag) {
      case "--rpc": args.rpc = value; break;
      case "--ledger": args.ledger = value; break;
      case "--account":
        if (!/^0x[0-9a-fA-F]{64}$/.test(value)) throw new UsageError(`--account must be 0x followed by 64 hex digits, got "${value}"`);
        args.account = value.toLowerCase();
        break;
      case "--from-block": args.fromBlock = block(flag, value); break;
      case "--to-block": args.toBlock = block(flag, value); break;
      case "--json": args.json = value; break;
      case "--html": args.html = value; break;
      case "--expect-head": {
        const m = /^(\d+)(?::(0x[0-9a-fA-F]{64}))?$/.exec(value);
        if (!m) throw new UsageError(`--expect-head must be SEQ or SEQ:HEAD (HEAD 0x followed by 64 hex digits), got "${value}"`);
        args.expect!.head = m[2] === undefined ? { seq: BigInt(m[1]) } : { seq: BigInt(m[1]), head: m[2].toLowerCase() };
        break;
      }
      case "--expect-block": {
        const m = /^(\d+)(?::(0x[0-9a-fA-F]{64}))?$/.exec(value);
        if (!m) throw new UsageError(`--expect-block must be NUMBER or NUMBER:HASH (HASH 0x followed by 64 hex digits), got "${value}"`);
        args.expect!.block = m[2] === undefined ? { number: Number(m[1]) } : { number: Number(m[1]), hash: m[2].toLowerCase() };
        break;
      }
      case "--page-blocks": args.pageBlocks = block(flag, value); if (args.pageBlocks === 0) throw new UsageError("--page-blocks must be at least 1"); break;
      default: throw new UsageError(`unknown option ${flag}`);
    }
  }
  if (args.rpc === undefined) throw new UsageError("--rpc <url> is required (npm start's node is http://127.0.0.1:8545)");
  if (!/^https?:\/\//.test(args.rpc) || !URL.canParse(args.rpc)) throw new UsageError(`--rpc must be an http(s) URL, got "${args.rpc}"`);
  return args as Args;
}

/** A provider for the CLI: the chain id asked first, so an unreachable node is an error now, not an endless retry. */
async function connect(rpc: string): Promise<JsonRpcProvider> {
  let chainId: bigint;
  try {
    chainId = await probeChainId(rpc, 15_000);
  } catch (error) {
    throw new VerifierInputError(
      `cannot reach a JSON-RPC node at ${rpc} (${(error as Error).message}). Check the URL; npm start runs one at http://127.0.0.1:8545`
    );
  }
  // Reads are batched (20 per request): the verifier asks for many blocks and views. Lost requests are retried (verifier/rpc.ts).
  return new AuditRpcProvider(rpc, Network.from(chainId), { batchMaxCount: 20 });
}

/** The ledger address from --ledger or from deployments/<network>-<chainId>/CreditLedger.json. */
function ledgerAddress(args: Args, chainId: bigint): string {
  if (args.ledger !== undefined) return args.ledger;
  const dir = path.join(ROOT, "deployments");
  const found = existsSync(dir)
    ? readdirSync(dir)
        .filter((d) => d.endsWith(`-${chainId}`) && existsSync(path.join(dir, d, "CreditLedger.json")))
        .map((d) => (JSON.parse(readFileSync(path.join(dir, d, "CreditLedger.json"), "utf8")) as { address: string }).address)
    : [];
  if (found.length !== 1) {
    throw new UsageError(`--ledger <address> is required (${found.length === 0 ? "no" : "more than one"} deployment export for chain ${chainId} in deployments/)`);
  }
  return found[0];
}

/**
 * This repository's build, checked against the sources on disk (the ABI the events are decoded
 * with comes from it, so it is checked with --no-bytecode too). `npm run audit` does not
 * compile: a build older than the sources is an error that says what to run.
 */
function currentArtifacts() {
  try {
    return loadCurrentArtifacts(ROOT);
  } catch (error) {
    throw new VerifierInputError((error as Error).message);
  }
}

/** A progress bar on stderr: redrawn in place on a terminal, a line per phase and quarter otherwise. */
function progressBar(): { update: (done: number, total: number, phase: Phase) => void; end: () => void } {
  const tty = process.stderr.isTTY === true;
  let lastPhase = "";
  let lastQuarter = -1;
  return {
    update(done, total, phase) {
      const fraction = total === 0 ? 1 : done / total;
      if (tty) {
        const width = 30;
        const filled = Math.round(fraction * width);
        process.stderr.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${phase} ${done}/${total}   `);
        return;
      }
      const quarter = Math.floor(fraction * 4);
      if (phase !== lastPhase || quarter !== lastQuarter) {
        process.stderr.write(`[audit] ${phase}: ${done}/${total}\n`);
        lastPhase = phase;
        lastQuarter = quarter;
      }
    },
    end() {
      if (tty) process.stderr.write("\r" + " ".repeat(70) + "\r");
    },
  };
}

async function audit(args: Args): Promise<number> {
  const provider = await connect(args.rpc);
  const { chainId } = await provider.getNetwork();
  const ledger = ledgerAddress(args, chainId);
  const build = currentArtifacts();
  const artifacts = args.bytecode ? build : undefined;
  const bar = progressBar();
  const history = await readLedger(provider, {
    ledger,
    fromBlock: args.fromBlock,
    toBlock: args.toBlock,
    account: args.account,
    pageBlocks: args.pageBlocks,
    artifacts,
    onProgress: bar.update,
  });
  bar.end();
  if (args.account !== undefined && history.views[args.account]?.account.exists !== true) {
    throw new VerifierInputError(`no account ${args.account} on the ledger ${ledger} (as of block ${history.toBlock}): check the id`);
  }
  const report = withLedgerHeadFindings(verifyHistory(history), await expectations(provider, history, args.expect));
  console.log(reportText(report, { perAccount: args.accounts }));
  if (args.json) writeFileSync(args.json, reportJson(report) + "\n");
  if (args.html) writeFileSync(args.html, reportHtml(report));
  if (args.json || args.html) console.log(`report written to ${[args.json, args.html].filter(Boolean).join(" and ")}`);
  provider.destroy();
  return report.ok ? 0 : 1;
}

/** The findings of --expect-head and --expect-block against what the endpoint gave. */
async function expectations(provider: JsonRpcProvider, history: LedgerHistory, expect: Expectations): Promise<Finding[]> {
  if (expect.head === undefined && expect.block === undefined) return [];
  if (history.ledgerHead === undefined || "error" in history.ledgerHead || history.toHash === undefined) {
    return [{ check: "ledger-head", message: "the endpoint gave no ledger head or block hash to compare with --expect-head/--expect-block" }];
  }
  const block = { number: history.toBlock, hash: history.toHash, timestamp: history.toTime };
  let older: string | undefined;
  if (expect.block?.hash !== undefined && expect.block.number < history.toBlock) older = (await provider.getBlock(expect.block.number))?.hash ?? undefined;
  return expectationFindings(expect, {
    head: history.ledgerHead,
    block,
    headAt: (seq) => ledgerHeadAt(history.events, seq),
    hashOf: () => older,
  });
}

async function verifyExportCommand(args: Args): Promise<number> {
  let exported: HistoryExport;
  try {
    exported = JSON.parse(readFileSync(args.file!, "utf8")) as HistoryExport;
  } catch (error) {
    throw new UsageError(`cannot read ${args.file} as JSON: ${(error as Error).message}`);
  }
  if (typeof exported.accountId !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(exported.accountId)) {
    throw new UsageError(`${args.file} has no accountId: is it the JSON of GET /v1/accounts/{id}/history?`);
  }
  currentArtifacts();
  const provider = await connect(args.rpc);
  const { chainId } = await provider.getNetwork();
  const ledgerAt = ledgerAddress(args, chainId);
  const ledger = new Contract(ledgerAt, LEDGER_ABI as never, provider);
  const history = await readLedger(provider, { ledger: ledgerAt, account: exported.accountId.toLowerCase() });
  const latest = history.toBlock;
  const onchain = await ledger.accountOf(exported.accountId, { blockTag: latest });
  const heads = new Map<bigint, OnchainEntry>();
  for (const e of history.events) {
    if (e.payloadHash !== undefined) {
      heads.set(BigInt(e.args.seq as bigint), { head: String(e.args.head), txHash: e.txHash, blockNumber: e.blockNumber, logIndex: e.logIndex });
    }
  }
  const result = verifyExport(exported, { seq: BigInt(onchain.seq), head: String(onchain.head) }, heads);
  console.log(`export of account ${exported.accountId}: ${result.entries} entries; the ledger ${ledgerAt} is at seq ${onchain.seq} (block ${latest})`);
  if (result.ok) console.log("RESULT: the export is complete and unaltered: its hash chain ends at the on-chain head");
  else {
    for (const f of result.findings) console.log(`  - ${describeFinding(f)}`);
    console.log(`RESULT: the export does NOT match the chain (${result.findings.length} finding(s))`);
  }
  provider.destroy();
  return result.ok ? 0 : 1;
}

/** `books` (verifier/books/cli.ts): the same connection, deployment lookup and progress as the audit. */
async function books(argv: string[]): Promise<number> {
  const bar = progressBar();
  const edges = { connect, ledgerAddress: (ledger: string | undefined, chainId: bigint) => ledgerAddress({ ledger } as Args, chainId), onProgress: bar.update };
  try {
    return await booksCommand(parseBooksArgs(argv), edges);
  } finally {
    bar.end();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === "books") {
    try {
      process.exitCode = await books(process.argv.slice(3));
    } catch (error) {
      const usage = error instanceof BooksUsageError || error instanceof UsageError;
      console.error(`audit: ${(error as Error).message}${usage ? `\n\n${USAGE}` : ""}`);
      process.exitCode = 2;
    }
    return;
  }
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    const message = (error as Error).message;
    if (message) console.error(`audit: ${message}\n`);
    console.error(USAGE);
    process.exitCode = message ? 2 : 0;
    return;
  }
  try {
    process.exitCode = args.command === "verify-export" ? await verifyExportCommand(args) : await audit(args);
  } catch (error) {
    if (error instanceof UsageError || error instanceof VerifierInputError) {
      console.error(`audit: ${error.message}`);
    } else {
      console.error(`audit: could not complete: ${(error as Error).message}\n(is the RPC endpoint an archive node that answers eth_getLogs and historical eth_call? try --page-blocks 500)`);
    }
    process.exitCode = 2;
  }
}

void main();
