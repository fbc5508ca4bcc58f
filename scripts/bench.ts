/**
 * `npm run bench`: end-to-end throughput and latency of the partner gateway on the local
 * network: a benchmark, not a test (it asserts nothing about speed). It starts what `npm
 * start` starts, on 127.0.0.1 only and on free ports: the Hardhat Network JSON-RPC node, the
 * ledger deployed with separate role keys, and the gateway with npm start's settings on a
 * fresh database in a temporary folder (as its own process, `server/main.ts`, unless
 * `--in-process`). Then, over HTTP:
 *
 *   1. applications, purchases and repayments with ?wait=true (each answer means the entry
 *      is on-chain and indexed), at each concurrency of --concurrency: requests per second
 *      and p50/p99 latency;
 *   2. the outbox drain: --drain purchases sent with ?wait=false as fast as the API accepts
 *      them, then the time until every one is confirmed on-chain (drain rate);
 *   3. the auditor's verifier (verifier/, as `npm run audit` runs it) over everything the run
 *      wrote: the time to read the ledger over JSON-RPC and the time of the checks.
 *
 * Counts and time are bounded (each phase stops after --max-seconds); the run stops by itself
 * and removes its database. Progress goes to stderr, the results (a markdown table) to stdout.
 *
 *   npm run bench
 *   npm run bench -- --requests 40 --concurrency 1,4,16 --drain 300
 *   npm run bench -- --in-process      # the gateway in the node's process, exactly as npm start runs it
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);

interface Options {
  requests: number;
  concurrency: number[];
  drain: number;
  drainConcurrency: number;
  maxSeconds: number;
  inProcess: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: "string", default: "100" },
      concurrency: { type: "string", default: "1,8" },
      drain: { type: "string", default: "500" },
      "drain-concurrency": { type: "string", default: "16" },
      "max-seconds": { type: "string", default: "120" },
      "in-process": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      "usage: npm run bench [-- --requests <n per operation and concurrency>] [--concurrency 1,8] [--drain <n>]\n" +
        "                     [--drain-concurrency <n>] [--max-seconds <per phase>] [--in-process]",
    );
    process.exit(0);
  }
  const int = (name: string, raw: string, min: number, max: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number ${min}-${max}, got "${raw}"`);
    return n;
  };
  return {
    requests: int("requests", values.requests!, 1, 10_000),
    concurrency: values.concurrency!.split(",").map((c) => int("concurrency", c.trim(), 1, 256)),
    drain: int("drain", values.drain!, 0, 100_000),
    drainConcurrency: int("drain-concurrency", values["drain-concurrency"]!, 1, 256),
    maxSeconds: int("max-seconds", values["max-seconds"]!, 1, 3_600),
    inProcess: values["in-process"] ?? false,
  };
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

/** Runs `count` requests made by `make(i)` with `concurrency` in flight, for at most `maxSeconds`. */
async function phase(
  name: string,
  count: number,
  concurrency: number,
  maxSeconds: number,
  make: (i: number) => Promise<{ status: number; body: Record<string, unknown> }>,
  onAnswer?: (i: number, body: Record<string, unknown>) => void,
): Promise<PhaseResult> {
  const samples: Sample[] = [];
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  let next = 0;
  let lastReport = started;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      let status = 0;
      try {
        const answer = await make(i);
        status = answer.status;
        if (status >= 200 && status < 300) onAnswer?.(i, answer.body);
      } catch {
        status = 0; // no answer (connection error)
      }
      samples.push({ ms: performance.now() - t0, status });
      if (performance.now() - lastReport > 2_000) {
        lastReport = performance.now();
        progress(`  ${name}, concurrency ${concurrency}: ${samples.length}/${count}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const seconds = (performance.now() - started) / 1000;
  const failed = samples.filter((s) => s.status < 200 || s.status >= 300).length;
  progress(`  ${name}, concurrency ${concurrency}: ${samples.length} in ${seconds.toFixed(1)} s${failed > 0 ? `, ${failed} not 2xx` : ""}`);
  return { name, concurrency, samples, seconds };
}

function row(r: PhaseResult): string {
  const ok = r.samples.filter((s) => s.status >= 200 && s.status < 300);
  const sorted = ok.map((s) => s.ms).sort((a, b) => a - b);
  const fmt = (n: number) => (Number.isNaN(n) ? "-" : n.toFixed(0));
  return `| ${r.name} | ${r.concurrency} | ${r.samples.length} | ${r.samples.length - ok.length} | ${(ok.length / r.seconds).toFixed(1)} | ${fmt(percentile(sorted, 50))} | ${fmt(percentile(sorted, 99))} | ${fmt(sorted[sorted.length - 1] ?? NaN)} |`;
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
}

// ---------------------------------------------------------------- the system under test

interface System {
  url: string;
  partnerKey: string;
  rpcUrl: string;
  ledgerAddress: string;
  stop(): Promise<void>;
}

async function startSystem(options: Options, dir: string): Promise<System> {
  progress("loading Hardhat and compiling contracts");
  delete process.env.HARDHAT_NETWORK; // the node is the in-process Hardhat Network
  const hre = (await import("hardhat")).default;
  await hre.run("compile", { quiet: true });
  const { startLocalNode, waitUntilAnswering } = await import("./lib/local-node");
  const { freePort, startGatewayProcess } = await import("./lib/gateway-process");

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
  // npm start's gateway settings (scripts/lib/gateway-setup.ts): log level warn, 250 ms polls.
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
    GATEWAY_POLL_INTERVAL_MS: "250",
    // A load test draws far faster than any borrower: velocity rules would (rightly) freeze its lines.
    GATEWAY_VELOCITY_DRAWDOWNS_PER_HOUR: "10000",
    GATEWAY_VELOCITY_SPIKE_MULTIPLE: "1000",
    GATEWAY_VELOCITY_ACCOUNTS_PER_PHONE: "10000",
  };

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
  const gateway = await startGatewayProcess(env);
  progress(`gateway listening on ${gateway.url} (process ${gateway.pid})`);
  return {
    url: gateway.url,
    partnerKey,
    rpcUrl: node.rpcUrl,
    ledgerAddress,
    stop: async () => {
      await gateway.kill("SIGTERM");
      await scorerProcess.kill();
      await node.close();
    },
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
    readSeconds,
    verifySeconds,
    ok: report.ok,
  };
}

// ---------------------------------------------------------------- the run

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
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
    const results: PhaseResult[] = [];
    let applicant = 0;
    const accounts: string[] = [];
    const loans: string[] = [];

    progress("warming up (not measured): 4 applications, 4 purchases, 4 repayments");
    await phase("warm-up applications", 4, 1, options.maxSeconds, () =>
      partner.post("/v1/applications", { identity: { nationalId: nationalId(++applicant), name: "测试", phone: "+86 139 0000 0000" }, product: "pay_later", features: FEATURES, consent: true }),
    (_, body) => accounts.push(body.accountId as string));
    await phase("warm-up purchases", 4, 1, options.maxSeconds, (i) => partner.post("/v1/purchases", { accountId: accounts[i % accounts.length], amount: "1000" }), (_, body) => loans.push(body.loanId as string));
    await phase("warm-up repayments", 4, 1, options.maxSeconds, (i) => partner.post("/v1/repayments", { loanId: loans[i % loans.length], amount: "10" }));

    for (const concurrency of options.concurrency) {
      progress(`applications, purchases and repayments (wait=true), ${options.requests} each, concurrency ${concurrency}`);
      const before = accounts.length;
      results.push(
        await phase("applications", options.requests, concurrency, options.maxSeconds, () =>
          partner.post("/v1/applications?wait=true", {
            identity: { nationalId: nationalId(++applicant), name: "测试", phone: "+86 139 0000 0000" },
            product: "pay_later",
            features: FEATURES,
            consent: true,
          }),
        (_, body) => accounts.push(body.accountId as string)),
      );
      const fresh = accounts.slice(before);
      const mine: string[] = [];
      results.push(
        await phase("purchases", options.requests, concurrency, options.maxSeconds, (i) =>
          partner.post("/v1/purchases?wait=true", { accountId: fresh[i % fresh.length], amount: String(1_000 + i), installments: 1 }),
        (_, body) => mine.push(body.loanId as string)),
      );
      results.push(
        await phase("repayments", options.requests, concurrency, options.maxSeconds, (i) =>
          partner.post("/v1/repayments?wait=true", { loanId: mine[i % mine.length], amount: "100" }),
        ),
      );
      loans.push(...mine);
    }

    let drain: { n: number; accepted: PhaseResult; allConfirmedSeconds: number; confirmed: number; failed: number } | undefined;
    if (options.drain > 0) {
      progress(`outbox drain: ${options.drain} purchases with wait=false, concurrency ${options.drainConcurrency}`);
      const operations: string[] = [];
      const started = performance.now();
      const accepted = await phase("enqueue purchases (wait=false)", options.drain, options.drainConcurrency, options.maxSeconds, (i) =>
        partner.post("/v1/purchases?wait=false", { accountId: accounts[i % accounts.length], amount: "500", installments: 1 }),
      (_, body) => operations.push((body.operation as { id: string }).id));
      const deadline = performance.now() + options.maxSeconds * 1000;
      let depth = Infinity;
      let lastReport = performance.now();
      while (depth > 0 && performance.now() < deadline) {
        depth = ((await partner.get("/healthz")).outbox as { depth: number }).depth;
        if (depth > 0) await new Promise((resolve) => setTimeout(resolve, 25));
        if (performance.now() - lastReport > 2_000) {
          lastReport = performance.now();
          progress(`  outbox depth ${depth}`);
        }
      }
      const allConfirmedSeconds = (performance.now() - started) / 1000;
      let confirmed = 0;
      let failed = 0;
      for (const id of operations) {
        const status = (await partner.get(`/v1/operations/${id}`)).status;
        if (status === "confirmed") confirmed += 1;
        else if (status === "failed") failed += 1;
      }
      progress(`  ${confirmed} of ${operations.length} confirmed ${allConfirmedSeconds.toFixed(1)} s after the first was sent${failed > 0 ? `, ${failed} failed` : ""}`);
      drain = { n: operations.length, accepted, allConfirmedSeconds, confirmed, failed };
    }

    // ------------------------------------------------------------ the verifier over what the run wrote
    progress("verifier: reading the whole ledger over JSON-RPC and running every check");
    const audit = await auditLedger(system);

    // ------------------------------------------------------------ the report
    const cpus = os.cpus();
    const facts = [
      `machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? "unknown CPU"}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}`,
      `Node ${process.version}; gateway ${options.inProcess ? "in the node's process (as npm start)" : "as its own process (server/main.ts)"}; ` +
        "Hardhat Network automine, 1 confirmation, GATEWAY_POLL_INTERVAL_MS=250",
      `load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(", ")}`,
    ];
    const lines = [
      "",
      ...facts.map((f) => `- ${f}`),
      "",
      "| operation (wait=true) | concurrency | requests | not 2xx | req/s | p50 ms | p99 ms | max ms |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      ...results.map(row),
    ];
    if (drain) {
      const ok = drain.accepted.samples.filter((s) => s.status === 202).map((s) => s.ms).sort((a, b) => a - b);
      lines.push(
        "",
        "| outbox drain | operations | accepted (202) req/s | accept p50 ms | accept p99 ms | all confirmed after s | drain rate ops/s | failed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        `| purchases, wait=false, concurrency ${drain.accepted.concurrency} | ${drain.n} | ${(ok.length / drain.accepted.seconds).toFixed(1)} | ${percentile(ok, 50).toFixed(0)} | ${percentile(ok, 99).toFixed(0)} | ${drain.allConfirmedSeconds.toFixed(1)} | ${(drain.confirmed / drain.allConfirmedSeconds).toFixed(1)} | ${drain.failed} |`,
      );
    }
    lines.push(
      "",
      "| verifier (npm run audit's library) | blocks | accounts | entries | read s | checks s | entries/s overall | result |",
      "|---|---:|---:|---:|---:|---:|---:|---|",
      `| whole ledger over JSON-RPC, bytecode included | ${audit.blocks} | ${audit.accounts} | ${audit.entries} | ${audit.readSeconds.toFixed(2)} | ${audit.verifySeconds.toFixed(2)} | ${(audit.entries / (audit.readSeconds + audit.verifySeconds)).toFixed(0)} | ${audit.ok ? "every check holds" : "VIOLATIONS (see stderr)"} |`,
    );
    console.log(lines.join("\n"));
  } finally {
    progress("stopping the gateway and the node");
    await cleanUp();
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(`[bench] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
