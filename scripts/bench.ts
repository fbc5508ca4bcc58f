/**
 * `npm run bench`: end-to-end throughput and latency of the partner gateway on a local chain:
 * a benchmark, not a test (it asserts nothing about speed). It starts what `npm start` starts,
 * on 127.0.0.1 only and on free ports: the Hardhat Network JSON-RPC node, the ledger deployed
 * with separate role keys, the scorer, and the gateway with npm start's settings on a fresh
 * database in a temporary folder (as its own process, `server/main.ts`, unless `--in-process`).
 * Then, over HTTP, as a partner:
 *
 *   1. set-up (on automine, not measured): --accounts applications and one purchase on each,
 *      so that every account has a loan to repay;
 *   2. with --block-time, the node switches to interval mining (a block every N seconds, none
 *      per transaction, as `npm start -- --block-time` does); the gateway was told the block
 *      time from the start (GATEWAY_BLOCK_TIME_MS), so its chain defaults follow it;
 *   3. the measured run: --ops operations, purchases and repayments in turn over the accounts
 *      (account i mod N), sent with ?wait=false by --concurrency workers (at --rate per second
 *      when given, else as fast as the API accepts), until every one is settled. Figures:
 *      accept req/s and latency (to the 202), confirmed ops/s (over the whole run, and
 *      sustained: the middle 80 % of confirmations), p50/p99 from acceptance to confirmation
 *      (the operation's createdAt to the updatedAt at which its status became confirmed, both
 *      the gateway's clock), and from the chain: operations per transaction (distinct refs in
 *      each receipt's logs) and gas per operation;
 *   4. optionally (--requests N), applications, purchases and repayments with ?wait=true at each
 *      --wait-concurrency: req/s and p50/p99 of a request that waits for its entry;
 *   5. the auditor's verifier (verifier/, as `npm run audit` runs it) over everything the run
 *      wrote: the time to read the ledger over JSON-RPC and the time of the checks.
 *
 * Counts and time are bounded (each phase stops after --max-seconds); the run stops by itself
 * and removes its database. Progress goes to stderr every 2 s, the results (markdown) to
 * stdout, and with --json FILE the same figures as JSON.
 *
 *   npm run bench                                   # automine, 3,000 operations over 200 accounts
 *   npm run bench -- --block-time 1 --json bench-1s.json
 *   npm run bench -- --block-time 2 --ops 6000 --accounts 400 --rate 300
 *   npm run bench -- --requests 100 --wait-concurrency 1,8   # also the wait=true latencies
 *   npm run bench -- --in-process                   # the gateway in the node's process, as npm start runs it
 *   GATEWAY_BATCH_MAX_OPS=100 npm run bench          # any GATEWAY_* setting of the bench's environment goes to the gateway
 *   npm run bench -- --cpu-prof prof/               # the gateway's CPU profile (node --cpu-prof), for the accept path
 *   npm run bench -- --audit-entries 50000          # the verifier on a ledger of 50,000 entries written in batches
 *
 * With --audit-entries N the bench measures the verifier instead: it starts the node, deploys the
 * ledger, stages N account entries (scripts/lib/ledger-staging.ts: accounts opened, lines granted,
 * then purchases and repayments, in batch transactions of --audit-batch calls sent straight from
 * the operator key, not through the gateway, on automine), and runs `npm run audit`'s program
 * (scripts/audit.ts, the contracts already compiled) as its own process under /usr/bin/time -v,
 * reading the chain through a counting JSON-RPC endpoint (scripts/lib/rpc-counter.ts): entries/s
 * over the whole audit (start-up included), JSON-RPC calls per entry, peak memory (maximum RSS).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { parseBlockTime } from "./lib/config";

const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);

interface Options {
  blockTimeMs?: number;
  ops: number;
  accounts: number;
  concurrency: number;
  rate: number;
  confirmations: number;
  requests: number;
  waitConcurrency: number[];
  maxSeconds: number;
  inProcess: boolean;
  audit: boolean;
  json?: string;
  /** Write the gateway process's CPU profile (node --cpu-prof) to this folder. */
  cpuProf?: string;
  /** The verifier's benchmark instead: a ledger of this many entries staged in batches, then audited. */
  auditEntries: number;
  auditBatch: number;
  auditEntriesPerAccount: number;
  /** GATEWAY_* settings of the bench's own environment: they override its defaults for the gateway. */
  gatewayEnv: Record<string, string>;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      "block-time": { type: "string" },
      ops: { type: "string", default: "3000" },
      accounts: { type: "string", default: "200" },
      concurrency: { type: "string", default: "32" },
      rate: { type: "string", default: "0" },
      confirmations: { type: "string", default: "1" },
      requests: { type: "string", default: "0" },
      "wait-concurrency": { type: "string", default: "1,8" },
      "max-seconds": { type: "string", default: "600" },
      "in-process": { type: "boolean", default: false },
      "no-audit": { type: "boolean", default: false },
      json: { type: "string" },
      "cpu-prof": { type: "string" },
      "audit-entries": { type: "string", default: "0" },
      "audit-batch": { type: "string", default: "50" },
      "audit-entries-per-account": { type: "string", default: "50" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      [
        "usage: npm run bench [-- --block-time <seconds>] [--ops <n>] [--accounts <n>] [--concurrency <n>] [--rate <ops/s>]",
        "                     [--confirmations <n>] [--requests <n> --wait-concurrency 1,8] [--max-seconds <per phase>]",
        "                     [--in-process] [--no-audit] [--json FILE] [--cpu-prof DIR]",
        "       npm run bench -- --audit-entries <n> [--audit-batch 50] [--audit-entries-per-account 50] [--json FILE]",
        "  --block-time   the node mines a block every <seconds> (interval mining) for the measured run; default automine",
        "  --ops          operations measured, purchases and repayments in turn (default 3000)",
        "  --accounts     accounts they are spread over, each opened with one purchase first (default 200)",
        "  --concurrency  requests in flight while accepting (default 32); --rate caps the offered rate (0: none)",
        "  --requests     also run <n> wait=true applications, purchases and repayments at each --wait-concurrency",
        "  --audit-entries  the verifier instead: stage a ledger of <n> entries with batch transactions from the operator",
        "                 key (no gateway), then time npm run audit over it: entries/s, JSON-RPC calls per entry, peak memory",
      ].join("\n"),
    );
    process.exit(0);
  }
  const problems: string[] = [];
  const int = (name: string, raw: string, min: number, max: number) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) problems.push(`--${name} must be a whole number ${min}-${max}, got "${raw}"`);
    return n;
  };
  const options: Options = {
    blockTimeMs: parseBlockTime(values["block-time"], "--block-time", problems),
    ops: int("ops", values.ops!, 1, 1_000_000),
    accounts: int("accounts", values.accounts!, 1, 100_000),
    concurrency: int("concurrency", values.concurrency!, 1, 1_024),
    rate: int("rate", values.rate!, 0, 100_000),
    confirmations: int("confirmations", values.confirmations!, 1, 100),
    requests: int("requests", values.requests!, 0, 10_000),
    waitConcurrency: values["wait-concurrency"]!.split(",").map((c) => int("wait-concurrency", c.trim(), 1, 256)),
    maxSeconds: int("max-seconds", values["max-seconds"]!, 1, 86_400),
    inProcess: values["in-process"] ?? false,
    audit: !(values["no-audit"] ?? false),
    json: values.json,
    cpuProf: values["cpu-prof"] === undefined ? undefined : path.resolve(values["cpu-prof"]),
    auditEntries: int("audit-entries", values["audit-entries"]!, 0, 100_000_000),
    auditBatch: int("audit-batch", values["audit-batch"]!, 1, 1_000),
    auditEntriesPerAccount: int("audit-entries-per-account", values["audit-entries-per-account"]!, 3, 10_000),
    gatewayEnv: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith("GATEWAY_") && e[1] !== undefined)),
  };
  if (problems.length > 0) throw new Error(problems.join("; "));
  return options;
}

// ---------------------------------------------------------------- measuring

interface Sample {
  ms: number;
  status: number;
}

interface PhaseResult {
  name: string;
  concurrency: number;
  samples: Sample[];
  seconds: number;
}

/** The nearest-rank percentile of sorted values. */
const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const ascending = (values: number[]) => [...values].sort((a, b) => a - b);
const round = (n: number, digits = 1) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : null);

/**
 * Runs `count` requests made by `make(i)` with `concurrency` in flight (and, with `rate`, no
 * request started before i / rate seconds), for at most `maxSeconds`.
 */
async function phase(
  name: string,
  count: number,
  options: { concurrency: number; maxSeconds: number; rate?: number },
  make: (i: number) => Promise<{ status: number; body: Record<string, unknown> }>,
  onAnswer?: (i: number, body: Record<string, unknown>, status: number) => void,
): Promise<PhaseResult> {
  const { concurrency, maxSeconds, rate = 0 } = options;
  const samples: Sample[] = [];
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  let next = 0;
  let lastReport = started;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      if (rate > 0) {
        const due = started + (i * 1000) / rate;
        const now = performance.now();
        if (due > now) await new Promise((resolve) => setTimeout(resolve, due - now));
      }
      const t0 = performance.now();
      let status = 0;
      try {
        const answer = await make(i);
        status = answer.status;
        onAnswer?.(i, answer.body, status);
      } catch {
        status = 0; // no answer (connection error)
      }
      samples.push({ ms: performance.now() - t0, status });
      if (performance.now() - lastReport > 2_000) {
        lastReport = performance.now();
        progress(`  ${name}: ${samples.length}/${count} answered, ${(samples.length / ((lastReport - started) / 1000)).toFixed(0)}/s`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const seconds = (performance.now() - started) / 1000;
  const failed = samples.filter((s) => s.status < 200 || s.status >= 300).length;
  progress(`  ${name}: ${samples.length} in ${seconds.toFixed(1)} s${failed > 0 ? `, ${failed} not 2xx` : ""}`);
  return { name, concurrency, samples, seconds };
}

function latencyFigures(r: PhaseResult) {
  const ok = r.samples.filter((s) => s.status >= 200 && s.status < 300);
  const sorted = ascending(ok.map((s) => s.ms));
  return {
    name: r.name,
    concurrency: r.concurrency,
    requests: r.samples.length,
    not2xx: r.samples.length - ok.length,
    reqPerSec: round(ok.length / r.seconds),
    p50Ms: round(percentile(sorted, 50), 0),
    p99Ms: round(percentile(sorted, 99), 0),
    maxMs: round(sorted[sorted.length - 1] ?? NaN, 0),
  };
}

// ---------------------------------------------------------------- the partner side

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/** A valid national id number (GB 11643 check digit) for applicant `n`. */
function nationalId(n: number): string {
  const first17 = `1101011990${String(n).padStart(7, "0")}`;
  return first17 + "10X98765432"[WEIGHTS.reduce((a, w, i) => a + w * Number(first17[i]), 0) % 11];
}

const FEATURES = { onTimeRepaymentPct: 95, utilizationPct: 40, tenureMonths: 30, overdueCount12m: 0, monthlyIncomeYuan: 9000, paymentActivityMonths: 10 };

class Partner {
  private counter = 0;
  private applicant = 0;
  constructor(
    private readonly base: string,
    private readonly key: string,
  ) {}

  async post(pathname: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.base}${pathname}`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${this.key}`,
        "Idempotency-Key": `bench-${process.pid}-${++this.counter}`,
        "Content-Type": "application/json",
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async get(pathname: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.base}${pathname}`, { headers: { Authorization: `Bearer ${this.key}` } });
    return (await res.json()) as Record<string, unknown>;
  }

  /** An application of a new identity with good features (approved). */
  application(wait: boolean) {
    return this.post(`/v1/applications?wait=${wait}`, {
      identity: { nationalId: nationalId(++this.applicant), name: "测试", phone: "+86 139 0000 0000" },
      product: "pay_later",
      features: FEATURES,
      consent: true,
    });
  }

  async outboxDepth(): Promise<number> {
    return ((await this.get("/healthz")).outbox as { depth: number }).depth;
  }
}

interface OperationRecord {
  id: string;
  kind: string;
  status: "pending" | "confirmed" | "failed";
  createdAt: string;
  updatedAt: string;
  steps: Array<{ txHash: string | null; blockNumber: number | null; ref: string }>;
  problem: { rule?: string; title?: string } | null;
}

/** Reads the operations back (untimed), `concurrency` at a time. */
async function readOperations(partner: Partner, ids: string[], concurrency = 16): Promise<OperationRecord[]> {
  const out: OperationRecord[] = new Array(ids.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
      while (next < ids.length) {
        const i = next++;
        out[i] = (await partner.get(`/v1/operations/${ids[i]}`)) as unknown as OperationRecord;
      }
    }),
  );
  return out;
}

/** Waits until the outbox is empty (or `maxSeconds` pass), saying how deep it is every 2 s. Seconds waited. */
async function drain(partner: Partner, what: string, maxSeconds: number, accepted: () => number): Promise<{ seconds: number; depth: number }> {
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  let depth = Infinity;
  let lastReport = started;
  while (performance.now() < deadline) {
    depth = await partner.outboxDepth();
    if (depth === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (performance.now() - lastReport > 2_000) {
      lastReport = performance.now();
      const n = accepted();
      progress(`  ${what}: outbox depth ${depth}, about ${n - depth} of ${n} settled, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  if (depth > 0) progress(`  ${what}: ${depth} still in the outbox after ${maxSeconds} s (--max-seconds): the figures cover what settled`);
  return { seconds: (performance.now() - started) / 1000, depth };
}

// ---------------------------------------------------------------- the system under test

interface System {
  url: string;
  partnerKey: string;
  rpcUrl: string;
  ledgerAddress: string;
  /** Interval mining from now on. */
  setBlockTime(ms: number): Promise<void>;
  stop(): Promise<void>;
}

async function startSystem(options: Options, dir: string): Promise<System> {
  progress("loading Hardhat and compiling contracts");
  delete process.env.HARDHAT_NETWORK; // the node is the in-process Hardhat Network
  const hre = (await import("hardhat")).default;
  await hre.run("compile", { quiet: true });
  const { startLocalNode, waitUntilAnswering } = await import("./lib/local-node");
  const { freePort, startGatewayProcess } = await import("./lib/gateway-process");
  const { chainPaceEnv } = await import("./lib/gateway-setup");

  const node = await startLocalNode(hre, "127.0.0.1", await freePort());
  await waitUntilAnswering(node.rpcUrl);
  progress(`node answers at ${node.rpcUrl}`);

  // The ledger as npm start deploys it (the real Ignition module, separate role keys), without a journal on disk.
  const { default: CreditLedgerModule } = await import("../deploy/modules/CreditLedger");
  const [admin, operator, scorer, pauser] = (await hre.network.provider.request({ method: "eth_accounts" })) as string[];
  const { ledger } = await hre.ignition.deploy(CreditLedgerModule, {
    parameters: { CreditLedger: { admin, operator, scorer, pauser } },
  });
  const ledgerAddress = await ledger.getAddress();
  const startBlock = await hre.ethers.provider.getBlockNumber();
  progress(`ledger deployed at ${ledgerAddress}`);

  const { localAccountKey } = await import("../server/chain/local-keys");
  const hd = hre.config.networks.hardhat.accounts as unknown as Parameters<typeof localAccountKey>[0];
  // The scorer beside the gateway, as npm start runs it: a process of its own with the scorer key.
  const { startScorerProcess } = await import("./lib/scorer-process");
  const scorerToken = randomBytes(32).toString("hex");
  const scorerProcess = await startScorerProcess({
    SCORER_MODE: "development", // Hardhat's public key
    SCORER_KEY: localAccountKey(hd, 2),
    SCORER_TOKEN: scorerToken,
    SCORER_DB_PATH: path.join(dir, "scorer.sqlite"),
    SCORER_CHAIN_ID: String(await hre.ethers.provider.getNetwork().then((n) => n.chainId)),
    SCORER_LEDGER_ADDRESS: ledgerAddress,
    SCORER_PORT: "0",
    SCORER_LOG_LEVEL: "warn",
    // A load test grants far more new credit per hour than any real day would.
    SCORER_BUDGET_PER_HOUR: "1000000000000",
    SCORER_BUDGET_PER_DAY: "1000000000000",
  });
  progress(`scorer listening on ${scorerProcess.url} (process ${scorerProcess.pid})`);
  // npm start's gateway settings (scripts/lib/gateway-setup.ts): log level warn; 250 ms polls on
  // automine, else the block time, told to the gateway, sets its defaults.
  const env: Record<string, string> = {
    GATEWAY_RPC_URL: node.rpcUrl,
    GATEWAY_LEDGER_ADDRESS: ledgerAddress,
    GATEWAY_LEDGER_START_BLOCK: String(startBlock),
    GATEWAY_MODE: "development", // Hardhat's public keys are refused in production mode
    GATEWAY_OPERATOR_KEY: localAccountKey(hd, 1),
    GATEWAY_SCORER_URL: scorerProcess.url,
    GATEWAY_SCORER_TOKEN: scorerToken,
    GATEWAY_DB_PATH: path.join(dir, "gateway.sqlite"),
    GATEWAY_VAULT_KEY: randomBytes(32).toString("hex"),
    GATEWAY_IDENTITY_PEPPER: randomBytes(32).toString("hex"),
    GATEWAY_HOST: "127.0.0.1",
    GATEWAY_PORT: String(await freePort()),
    GATEWAY_LOG_LEVEL: "warn",
    GATEWAY_CONFIRMATIONS: String(options.confirmations),
    ...chainPaceEnv(options.blockTimeMs),
    // A load test draws far faster than any borrower: velocity rules would (rightly) freeze its lines.
    GATEWAY_VELOCITY_DRAWDOWNS_PER_HOUR: "10000",
    GATEWAY_VELOCITY_SPIKE_MULTIPLE: "1000",
    GATEWAY_VELOCITY_ACCOUNTS_PER_PHONE: "10000",
    // The bench's own GATEWAY_* settings last: GATEWAY_BATCH_MAX_OPS=100 npm run bench tries another batch size.
    ...options.gatewayEnv,
  };
  const setBlockTime = (ms: number) => node.setBlockTime(ms);

  if (options.inProcess) {
    const { readGatewayConfig } = await import("../server/config");
    const { createGateway } = await import("../server/gateway");
    const gateway = await createGateway(readGatewayConfig(env));
    const url = (await gateway.start())!;
    const partnerKey = (await gateway.partners.create({ name: "bench partner", ratePerMinute: 1_000_000, burst: 1_000_000 }, "bench")).key.key;
    progress(`gateway listening on ${url} (in this process)`);
    return {
      url,
      partnerKey,
      rpcUrl: node.rpcUrl,
      ledgerAddress,
      setBlockTime,
      stop: async () => {
        await gateway.stop();
        await scorerProcess.kill();
        await node.close();
      },
    };
  }

  // The partner key goes into the gateway's database before it starts.
  const { SqliteStore } = await import("../server/store/sqlite-store");
  const { ApiKeys } = await import("../server/auth/api-keys");
  const { Partners } = await import("../server/auth/partners");
  const { systemClock } = await import("../server/clock");
  const { cryptoRandom } = await import("../server/randomness");
  const store = new SqliteStore(env.GATEWAY_DB_PATH, systemClock);
  const partners = new Partners(store, new ApiKeys(store, cryptoRandom, systemClock), cryptoRandom, systemClock);
  const partnerKey = (await partners.create({ name: "bench partner", ratePerMinute: 1_000_000, burst: 1_000_000 }, "bench")).key.key;
  await store.close();
  // A profile is written when the process exits (SIGTERM at the end of the run).
  const gateway = await startGatewayProcess(env, options.cpuProf === undefined ? {} : { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${options.cpuProf}`] });
  progress(`gateway listening on ${gateway.url} (process ${gateway.pid})`);
  return {
    url: gateway.url,
    partnerKey,
    rpcUrl: node.rpcUrl,
    ledgerAddress,
    setBlockTime,
    stop: async () => {
      await gateway.kill("SIGTERM");
      await scorerProcess.kill();
      await node.close();
    },
  };
}

// ---------------------------------------------------------------- the chain's side of the run

/**
 * Operations per transaction and gas per operation, from the receipts of the transactions the
 * operations landed in: an operation of a transaction is an entry of it, told apart by its
 * `ref` (every account entry event carries its own), and a refused one by OperationRefused.
 */
async function chainFigures(rpcUrl: string, ledgerAddress: string, txHashes: string[]) {
  const { JsonRpcProvider } = await import("ethers");
  const { ledgerInterface: ledger } = await import("../verifier/abi");
  const provider = new JsonRpcProvider(rpcUrl, undefined, { batchMaxCount: 50, staticNetwork: true });
  const perTx: Array<{ ops: number; gas: bigint; block: number }> = [];
  for (let i = 0; i < txHashes.length; i += 50) {
    const receipts = await Promise.all(txHashes.slice(i, i + 50).map((hash) => provider.getTransactionReceipt(hash)));
    for (const receipt of receipts) {
      if (!receipt) continue;
      const refs = new Set<string>();
      let refused = 0;
      for (const log of receipt.logs) {
        if (log.address.toLowerCase() !== ledgerAddress.toLowerCase()) continue;
        const parsed = ledger.parseLog(log);
        if (!parsed) continue;
        if (parsed.name === "OperationRefused") refused += 1;
        const ref = parsed.fragment.inputs.findIndex((input) => input.name === "ref");
        if (ref >= 0) refs.add(String(parsed.args[ref]));
      }
      perTx.push({ ops: refs.size + refused, gas: receipt.gasUsed, block: receipt.blockNumber });
    }
  }
  provider.destroy();
  const sizes = ascending(perTx.map((t) => t.ops));
  const ops = sizes.reduce((a, b) => a + b, 0);
  const gas = perTx.reduce((a, t) => a + t.gas, 0n);
  const blocks = new Set(perTx.map((t) => t.block));
  const buckets: Record<string, number> = { "1": 0, "2-9": 0, "10-49": 0, "50-199": 0, "200+": 0 };
  for (const s of sizes) buckets[s <= 1 ? "1" : s < 10 ? "2-9" : s < 50 ? "10-49" : s < 200 ? "50-199" : "200+"] += 1;
  return {
    transactions: perTx.length,
    blocks: blocks.size,
    opsPerTransaction: {
      mean: round(ops / perTx.length),
      p50: percentile(sizes, 50),
      max: sizes[sizes.length - 1] ?? 0,
      histogram: buckets,
    },
    opsPerBlock: round(ops / blocks.size),
    gasPerOp: ops === 0 ? null : Number(gas / BigInt(ops)),
  };
}

// ---------------------------------------------------------------- the verifier

/** Time the auditor's verifier over everything the run wrote: the chain read, then the pure checks. */
async function auditLedger(system: System) {
  const { JsonRpcProvider } = await import("ethers");
  const { readLedger } = await import("../verifier/source");
  const { verifyHistory } = await import("../verifier/verify");
  const { reportText } = await import("../verifier/report");
  const { loadRuntimeArtifacts } = await import("../verifier/artifacts-node");
  const provider = new JsonRpcProvider(system.rpcUrl, undefined, { batchMaxCount: 20 });
  const readStarted = performance.now();
  const history = await readLedger(provider, { ledger: system.ledgerAddress, artifacts: loadRuntimeArtifacts(path.resolve(__dirname, "..")) });
  const readSeconds = (performance.now() - readStarted) / 1000;
  const verifyStarted = performance.now();
  const report = verifyHistory(history);
  const verifySeconds = (performance.now() - verifyStarted) / 1000;
  provider.destroy();
  if (!report.ok) process.stderr.write(`${reportText(report)}\n`);
  progress(`  ${report.stats.entries} entries of ${report.stats.accounts} accounts read in ${readSeconds.toFixed(2)} s, checked in ${verifySeconds.toFixed(2)} s`);
  return {
    blocks: history.toBlock - history.fromBlock + 1,
    accounts: report.stats.accounts,
    entries: report.stats.entries,
    readSeconds: round(readSeconds, 2),
    verifySeconds: round(verifySeconds, 2),
    entriesPerSecond: round(report.stats.entries / (readSeconds + verifySeconds), 0),
    ok: report.ok,
  };
}

// ---------------------------------------------------------------- the phases

/** Counts an answer that is not the one hoped for, by status and the rule (or title) of its problem. */
function tally(counts: Record<string, number>, status: number | string, problem: { rule?: unknown; title?: unknown }): void {
  const key = `${status} ${String(problem.rule ?? problem.title ?? "")}`.trim();
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Set-up, not measured: `n` approved accounts, each with one purchase to repay. */
async function setUp(partner: Partner, options: Options) {
  const started = performance.now();
  progress(`set-up (automine, not measured): ${options.accounts} applications, then a purchase on each`);
  const accounts: string[] = [];
  await phase("applications (wait=false)", options.accounts, { concurrency: 16, maxSeconds: options.maxSeconds }, () => partner.application(false), (_, body, status) => {
    if (status === 202) accounts.push(body.accountId as string);
  });
  await drain(partner, "applications", options.maxSeconds, () => accounts.length);
  let purchases = 0;
  const refusals: Record<string, number> = {};
  await phase(
    "set-up purchases (wait=false)",
    accounts.length,
    { concurrency: 16, maxSeconds: options.maxSeconds },
    (i) => partner.post("/v1/purchases?wait=false", { accountId: accounts[i], amount: "20000", installments: 1 }),
    (_, body, status) => {
      if (status === 202) purchases += 1;
      else tally(refusals, status, body);
    },
  );
  if (Object.keys(refusals).length > 0) progress(`  set-up purchases refused: ${JSON.stringify(refusals)}`);
  await drain(partner, "set-up purchases", options.maxSeconds, () => purchases);
  progress(`  set-up done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  // Each fresh account's first loan is loan 1.
  return { accounts, loans: accounts.map((a) => `${a}:1`) };
}

/** The measured run: purchases and repayments in turn over the accounts, wait=false, until settled. */
async function throughput(partner: Partner, system: System, options: Options, accounts: string[], loans: string[]) {
  const n = accounts.length;
  const mode = options.blockTimeMs === undefined ? "automine" : `a block every ${options.blockTimeMs / 1000} s`;
  progress(`measured: ${options.ops} operations over ${n} accounts (${mode}), concurrency ${options.concurrency}${options.rate > 0 ? `, offered at ${options.rate}/s` : ""}`);
  const ids: string[] = [];
  const refused: Record<string, number> = {};
  const started = performance.now();
  // Account i mod n; rounds of purchases and of repayments in turn, so every account sees both.
  const kindOf = (i: number) => (Math.floor(i / n) % 2 === 0 ? "purchase" : "repayment");
  const accepted = await phase(
    "accept (wait=false)",
    options.ops,
    { concurrency: options.concurrency, maxSeconds: options.maxSeconds, rate: options.rate },
    (i) =>
      kindOf(i) === "purchase"
        ? partner.post("/v1/purchases?wait=false", { accountId: accounts[i % n], amount: String(1_000 + (i % 97)), installments: 1 })
        : partner.post("/v1/repayments?wait=false", { loanId: loans[i % n], amount: "100" }),
    (_, body, status) => {
      if (status === 202) ids.push((body.operation as { id: string }).id);
      else tally(refused, status, body);
    },
  );
  const drained = await drain(partner, "measured", options.maxSeconds, () => ids.length);
  const wallSeconds = (performance.now() - started) / 1000;
  progress(`  reading back ${ids.length} operations`);
  const ops = await readOperations(partner, ids);
  const confirmed = ops.filter((o) => o.status === "confirmed");
  const failed = ops.filter((o) => o.status === "failed");
  const failures: Record<string, number> = {};
  for (const f of failed) tally(failures, "failed", f.problem ?? {});
  const createdMs = ops.map((o) => Date.parse(o.createdAt));
  const confirmedMs = ascending(confirmed.map((o) => Date.parse(o.updatedAt)));
  const latencies = ascending(confirmed.map((o) => Date.parse(o.updatedAt) - Date.parse(o.createdAt)));
  const firstAccepted = Math.min(...createdMs);
  const lastConfirmed = confirmedMs[confirmedMs.length - 1];
  // Sustained: the middle 80 % of confirmations (the start's ramp and the tail's stragglers left out).
  const lo = confirmedMs[Math.floor(confirmedMs.length * 0.1)];
  const hi = confirmedMs[Math.max(0, Math.ceil(confirmedMs.length * 0.9) - 1)];
  const sustained = hi > lo ? (Math.ceil(confirmedMs.length * 0.9) - Math.floor(confirmedMs.length * 0.1) - 1) / ((hi - lo) / 1000) : NaN;
  const txHashes = [...new Set(confirmed.flatMap((o) => o.steps.map((s) => s.txHash).filter((h): h is string => h !== null)))];
  progress(`  reading ${txHashes.length} receipts`);
  const chain = await chainFigures(system.rpcUrl, system.ledgerAddress, txHashes);
  const acceptOk = ascending(accepted.samples.filter((s) => s.status === 202).map((s) => s.ms));
  const blockMs = options.blockTimeMs;
  return {
    chain: options.blockTimeMs === undefined ? "automine" : `interval mining, ${options.blockTimeMs / 1000} s blocks`,
    blockTimeMs: options.blockTimeMs ?? null,
    confirmations: options.confirmations,
    accounts: n,
    ops: options.ops,
    accepted: ids.length,
    refusedAtAccept: refused,
    confirmed: confirmed.length,
    failed: failed.length,
    failures,
    pendingAtEnd: drained.depth,
    accept: {
      concurrency: options.concurrency,
      offeredRate: options.rate || null,
      reqPerSec: round(acceptOk.length / accepted.seconds),
      p50Ms: round(percentile(acceptOk, 50), 0),
      p99Ms: round(percentile(acceptOk, 99), 0),
      seconds: round(accepted.seconds, 1),
    },
    confirmedOpsPerSec: round(confirmed.length / ((lastConfirmed - firstAccepted) / 1000)),
    sustainedOpsPerSec: round(sustained),
    wallSeconds: round(wallSeconds, 1),
    latency: {
      p50Ms: round(percentile(latencies, 50), 0),
      p99Ms: round(percentile(latencies, 99), 0),
      maxMs: round(latencies[latencies.length - 1] ?? NaN, 0),
      p50Blocks: blockMs === undefined ? null : round(percentile(latencies, 50) / blockMs),
      p99Blocks: blockMs === undefined ? null : round(percentile(latencies, 99) / blockMs),
    },
    ...chain,
  };
}

/** Applications, purchases and repayments that wait for their entry, at each concurrency. */
async function waitPhases(partner: Partner, options: Options) {
  const results: PhaseResult[] = [];
  for (const concurrency of options.waitConcurrency) {
    progress(`applications, purchases and repayments (wait=true), ${options.requests} each, concurrency ${concurrency}`);
    const fresh: string[] = [];
    const bounds = { concurrency, maxSeconds: options.maxSeconds };
    results.push(await phase("applications", options.requests, bounds, () => partner.application(true), (_, body, s) => void (s < 300 && fresh.push(body.accountId as string))));
    const mine: string[] = [];
    results.push(
      await phase(
        "purchases",
        options.requests,
        bounds,
        (i) => partner.post("/v1/purchases?wait=true", { accountId: fresh[i % fresh.length], amount: String(1_000 + i), installments: 1 }),
        (_, body, s) => void (s < 300 && mine.push(body.loanId as string)),
      ),
    );
    results.push(await phase("repayments", options.requests, bounds, (i) => partner.post("/v1/repayments?wait=true", { loanId: mine[i % mine.length], amount: "100" })));
  }
  return results.map(latencyFigures);
}

// ---------------------------------------------------------------- the verifier's benchmark

/** The program `npm run audit` runs, as its own process under /usr/bin/time -v; its output and its peak memory. */
async function runAudit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number; maxRssKb?: number }> {
  const { spawn } = await import("node:child_process");
  const { existsSync } = await import("node:fs");
  const root = path.resolve(__dirname, "..");
  // As npm run audit runs it (bundled, no ts-node); BENCH_AUDIT_NODE_ARGS adds node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.BENCH_AUDIT_NODE_ARGS ?? "").split(/\s+/).filter((a) => a !== "");
  const node = [process.execPath, ...nodeArgs, path.join(root, "scripts", "lib", "run-bundled.cjs"), path.join("scripts", "audit.ts"), ...args];
  const timed = existsSync("/usr/bin/time");
  const started = performance.now();
  const child = spawn(timed ? "/usr/bin/time" : node[0], timed ? ["-v", ...node] : node.slice(1), {
    cwd: root,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => {
    stderr += b.toString();
    // The verifier's own progress lines, passed on.
    for (const line of b.toString().split("\n")) if (line.trim() !== "" && !/^\s+[A-Z][a-z].*: /.test(line)) progress(`  audit: ${line.trim()}`);
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const seconds = (performance.now() - started) / 1000;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
  return { code, stdout, stderr, seconds, maxRssKb: rss === undefined ? undefined : Number(rss) };
}

/** `--audit-entries N`: a ledger of N entries staged in batches, then the auditor's verifier over it. */
async function auditBench(options: Options) {
  progress("loading Hardhat and compiling contracts");
  delete process.env.HARDHAT_NETWORK;
  const hre = (await import("hardhat")).default;
  await hre.run("compile", { quiet: true });
  const { startLocalNode, waitUntilAnswering } = await import("./lib/local-node");
  const { freePort } = await import("./lib/gateway-process");
  const { stageLedger } = await import("./lib/ledger-staging");
  const { startRpcCounter } = await import("./lib/rpc-counter");
  const { localAccountKey } = await import("../server/chain/local-keys");
  const { JsonRpcProvider, Network } = await import("ethers");
  const node = await startLocalNode(hre, "127.0.0.1", await freePort());
  const chainId = await waitUntilAnswering(node.rpcUrl);
  try {
    const { default: CreditLedgerModule } = await import("../deploy/modules/CreditLedger");
    const [admin, operator, scorer, pauser] = (await hre.network.provider.request({ method: "eth_accounts" })) as string[];
    const { ledger } = await hre.ignition.deploy(CreditLedgerModule, { parameters: { CreditLedger: { admin, operator, scorer, pauser } } });
    const ledgerAddress = await ledger.getAddress();
    progress(`ledger deployed at ${ledgerAddress}; staging ${options.auditEntries} entries in batches of ${options.auditBatch}`);
    const hd = hre.config.networks.hardhat.accounts as unknown as Parameters<typeof localAccountKey>[0];
    const provider = new JsonRpcProvider(node.rpcUrl, Network.from(chainId), { staticNetwork: true, batchMaxCount: 1 });
    const staged = await stageLedger({
      provider,
      ledger: ledgerAddress,
      chainId: BigInt(chainId),
      operatorKey: localAccountKey(hd, 1),
      scorerKey: localAccountKey(hd, 2),
      entries: options.auditEntries,
      entriesPerAccount: options.auditEntriesPerAccount,
      batchSize: options.auditBatch,
      progress,
    });
    provider.destroy();
    progress(`  staged ${staged.entries} entries of ${staged.accounts} accounts in ${staged.transactions} transactions (${staged.blocks} blocks) in ${staged.seconds.toFixed(1)} s`);

    const counter = await startRpcCounter(node.rpcUrl);
    const { readFileSync } = await import("node:fs");
    // The verifier's own figures, when its CLI has them (i12-verifier's --stats).
    const statsFlag = readFileSync(path.resolve(__dirname, "audit.ts"), "utf8").includes('"--stats"') ? ["--stats"] : [];
    progress(`verifier: npm run audit's program over ${counter.url} (counting JSON-RPC calls)${statsFlag.length > 0 ? " with --stats" : ""}`);
    const audit = await runAudit(["--rpc", counter.url, "--ledger", ledgerAddress, ...statsFlag]);
    const counts = counter.counts();
    await counter.close();
    if (audit.code !== 0) process.stderr.write(`${audit.stdout}\n${audit.stderr}\n`);
    const topMethods = Object.fromEntries(Object.entries(counts.byMethod).sort((a, b) => b[1] - a[1]));
    return {
      staged: { ...staged, gasUsed: staged.gasUsed.toString(), seconds: round(staged.seconds, 1), batchSize: options.auditBatch },
      audit: {
        exitCode: audit.code,
        seconds: round(audit.seconds, 2),
        entriesPerSecond: round(staged.entries / audit.seconds, 0),
        jsonRpcCalls: counts.calls,
        httpRequests: counts.httpRequests,
        callsPerEntry: round(counts.calls / staged.entries, 4),
        callsByMethod: topMethods,
        maxRssMb: audit.maxRssKb === undefined ? null : round(audit.maxRssKb / 1024, 0),
        verifierStats: audit.stdout.split("\n").filter((l) => /stat|entries\/s|calls|memory|rss/i.test(l)).slice(0, 30),
        summary: audit.stdout.trim().split("\n").slice(-6),
      },
    };
  } finally {
    await node.close();
  }
}

// ---------------------------------------------------------------- the report

type Throughput = Awaited<ReturnType<typeof throughput>>;

function markdown(facts: string[], t: Throughput, waits: ReturnType<typeof latencyFigures>[], audit: Awaited<ReturnType<typeof auditLedger>> | undefined): string {
  const v = (x: number | null | undefined) => (x === null || x === undefined ? "-" : x.toLocaleString("en-US"));
  const hist = Object.entries(t.opsPerTransaction.histogram)
    .filter(([, c]) => c > 0)
    .map(([size, c]) => `${size}: ${c}`)
    .join(", ");
  const lines = [
    "",
    ...facts.map((f) => `- ${f}`),
    "",
    `| ${t.chain}, ${t.confirmations} confirmation(s) | figure |`,
    "|---|---:|",
    `| operations (purchases and repayments in turn) over accounts | ${v(t.ops)} over ${v(t.accounts)} |`,
    `| accepted (202) / refused at once | ${v(t.accepted)} / ${v(Object.values(t.refusedAtAccept).reduce((a, b) => a + b, 0))} |`,
    `| accept req/s (concurrency ${t.accept.concurrency}${t.accept.offeredRate ? `, offered ${t.accept.offeredRate}/s` : ""}) | ${v(t.accept.reqPerSec)} |`,
    `| accept p50 / p99 ms | ${v(t.accept.p50Ms)} / ${v(t.accept.p99Ms)} |`,
    `| confirmed / failed / still pending | ${v(t.confirmed)} / ${v(t.failed)} / ${v(t.pendingAtEnd)} |`,
    `| confirmed ops/s, first acceptance to last confirmation | ${v(t.confirmedOpsPerSec)} |`,
    `| confirmed ops/s sustained (middle 80 % of confirmations) | ${v(t.sustainedOpsPerSec)} |`,
    `| acceptance to confirmed, p50 / p99 / max ms | ${v(t.latency.p50Ms)} / ${v(t.latency.p99Ms)} / ${v(t.latency.maxMs)} |`,
    ...(t.blockTimeMs === null ? [] : [`| acceptance to confirmed, p50 / p99 in blocks | ${v(t.latency.p50Blocks)} / ${v(t.latency.p99Blocks)} |`]),
    `| transactions / blocks they landed in | ${v(t.transactions)} / ${v(t.blocks)} |`,
    `| operations per transaction: mean / p50 / max | ${v(t.opsPerTransaction.mean)} / ${v(t.opsPerTransaction.p50)} / ${v(t.opsPerTransaction.max)} |`,
    `| transactions by operations carried | ${hist || "-"} |`,
    `| operations per block (of those with one) | ${v(t.opsPerBlock)} |`,
    `| gas per operation (receipts' gasUsed / operations) | ${v(t.gasPerOp)} |`,
  ];
  if (Object.keys(t.failures).length > 0) lines.push("", `failed operations by rule: ${JSON.stringify(t.failures)}`);
  if (Object.keys(t.refusedAtAccept).length > 0) lines.push("", `refused at acceptance: ${JSON.stringify(t.refusedAtAccept)}`);
  if (waits.length > 0) {
    lines.push(
      "",
      "| operation (wait=true) | concurrency | requests | not 2xx | req/s | p50 ms | p99 ms | max ms |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      ...waits.map((w) => `| ${w.name} | ${w.concurrency} | ${w.requests} | ${w.not2xx} | ${v(w.reqPerSec)} | ${v(w.p50Ms)} | ${v(w.p99Ms)} | ${v(w.maxMs)} |`),
    );
  }
  if (audit) {
    lines.push(
      "",
      "| verifier (npm run audit's library) | blocks | accounts | entries | read s | checks s | entries/s overall | result |",
      "|---|---:|---:|---:|---:|---:|---:|---|",
      `| whole ledger over JSON-RPC, bytecode included | ${v(audit.blocks)} | ${v(audit.accounts)} | ${v(audit.entries)} | ${audit.readSeconds} | ${audit.verifySeconds} | ${v(audit.entriesPerSecond)} | ${audit.ok ? "every check holds" : "VIOLATIONS (see stderr)"} |`,
    );
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------- the run

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.auditEntries > 0) {
    const figures = await auditBench(options);
    const { staged, audit } = figures;
    const cpus = os.cpus();
    console.log(
      [
        "",
        `- machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? "unknown CPU"}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}; Node ${process.version}`,
        `- command: npm run bench -- ${process.argv.slice(2).join(" ")}`,
        `- load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(", ")}`,
        "",
        "| verifier over a ledger written in batches | figure |",
        "|---|---:|",
        `| entries staged (accounts; batch transactions of ${staged.batchSize} calls; blocks) | ${staged.entries.toLocaleString("en-US")} (${staged.accounts.toLocaleString("en-US")}; ${staged.transactions}; ${staged.blocks}) |`,
        `| audit wall time, start-up included, s | ${audit.seconds} |`,
        `| entries/s over the whole audit | ${audit.entriesPerSecond?.toLocaleString("en-US")} |`,
        `| JSON-RPC calls (HTTP requests) | ${audit.jsonRpcCalls.toLocaleString("en-US")} (${audit.httpRequests.toLocaleString("en-US")}) |`,
        `| JSON-RPC calls per entry | ${audit.callsPerEntry} |`,
        `| peak memory (maximum RSS), MB | ${audit.maxRssMb ?? "- (no /usr/bin/time)"} |`,
        `| exit code | ${audit.exitCode} |`,
        "",
        `calls by method: ${JSON.stringify(audit.callsByMethod)}`,
        ...(audit.verifierStats.length > 0 ? ["", "the verifier's own figures:", ...audit.verifierStats.map((l) => `    ${l}`)] : []),
        "",
        "the audit's last lines:",
        ...audit.summary.map((l) => `    ${l}`),
      ].join("\n"),
    );
    if (options.json) writeFileSync(options.json, `${JSON.stringify({ date: new Date().toISOString(), command: process.argv.slice(2), ...figures }, null, 2)}\n`);
    process.exit(audit.exitCode === 0 ? 0 : 1);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "credit-ledger-bench-"));
  let system: System | undefined;
  const cleanUp = async () => {
    await system?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    progress("interrupted: stopping");
    void cleanUp().then(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    system = await startSystem(options, dir);
    const partner = new Partner(system.url, system.partnerKey);
    const { accounts, loans } = await setUp(partner, options);
    if (options.blockTimeMs !== undefined) {
      await system.setBlockTime(options.blockTimeMs);
      progress(`node: a block every ${options.blockTimeMs / 1000} s from now on (interval mining, automine off)`);
    }
    const measured = await throughput(partner, system, options, accounts, loans);
    const waits = options.requests > 0 ? await waitPhases(partner, options) : [];
    let audit: Awaited<ReturnType<typeof auditLedger>> | undefined;
    if (options.audit) {
      progress("verifier: reading the whole ledger over JSON-RPC and running every check");
      audit = await auditLedger(system);
    }

    const cpus = os.cpus();
    const facts = [
      `machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? "unknown CPU"}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}`,
      `Node ${process.version}; gateway ${options.inProcess ? "in the node's process (as npm start)" : "as its own process (server/main.ts)"}; ` +
        `Hardhat Network, ${measured.chain} for the measured run, ${options.confirmations} confirmation(s)`,
      `command: ${Object.entries(options.gatewayEnv).map(([k, v]) => `${k}=${v} `).join("")}npm run bench -- ${process.argv.slice(2).join(" ")}`.trimEnd(),
      `load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(", ")}`,
    ];
    console.log(markdown(facts, measured, waits, audit));
    if (options.json) {
      const figures = { date: new Date().toISOString(), facts, measured, waitPhases: waits, audit: audit ?? null };
      writeFileSync(options.json, `${JSON.stringify(figures, null, 2)}\n`);
      progress(`figures written to ${options.json}`);
    }
  } finally {
    progress("stopping the gateway and the node");
    await cleanUp();
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`[bench] failed: ${message.length > 2_000 ? `${message.slice(0, 2_000)} ...` : message}`);
  process.exit(1);
});
