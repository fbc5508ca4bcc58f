/**
 * Crash recovery of the gateway as a real process. A JSON-RPC node (the in-process Hardhat
 * Network, served on 127.0.0.1, mining a block every second as a real chain does: no automine)
 * holds the ledger; the gateway batches steps and keeps several batch transactions in flight
 * (GATEWAY_BATCH_MAX_OPS, GATEWAY_MAX_IN_FLIGHT), so a kill finds many steps in flight at once.
 * The gateway runs as a child process
 * (server/main.ts) on its own SQLite file. A simulated partner fires concurrent applications,
 * purchases, cash loans and repayments (each with its own Idempotency-Key, some with
 * ?wait=false) while the gateway is killed with SIGKILL at random points and started again on
 * the same database. Whenever a response is lost the partner sends the same request again
 * (same key, same body), as a real partner would. Afterwards every request must be on-chain
 * exactly once, no entry may be posted twice or without a request behind it, every account's
 * hash chain rebuilt from the events must end at its on-chain seq and head, and the read model
 * (history and account views) must match the chain.
 *
 * The workload and the kill delays come from a seeded generator: the seed is printed when the
 * test fails and `LEDGER_FUZZ_SEED=<seed>` replays them (the interleaving with the processes
 * still varies from run to run). There are no timing assertions; the timeouts are hang guards.
 */
import { expect } from "chai";
import { randomBytes, randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import hre, { ethers, network } from "hardhat";
import { TASK_NODE_CREATE_SERVER } from "hardhat/builtin-tasks/task-names";
import type { EIP1193Provider, RequestArguments } from "hardhat/types";
import { BrowserProvider } from "ethers";

import { ApiKeys } from "../../server/auth/api-keys";
import { Partners } from "../../server/auth/partners";
import type { LedgerEntry } from "../../core/ledger-events";
import { LedgerClient } from "../../server/chain/ledger-client";
import { systemClock } from "../../server/clock";
import { EntryKind, verifyChain } from "../../core/hash-chain";
import { cryptoRandom } from "../../server/randomness";
import { SqliteStore } from "../../server/store/sqlite-store";
import { freePort, startGatewayProcess, type GatewayProcess } from "../../scripts/lib/gateway-process";
import { DEVELOPMENT_CHAIN_AHEAD, startScorerProcess, type ScorerProcess } from "../../scripts/lib/scorer-process";
import { deployLedger } from "../helpers/fixtures";
import { FUZZ_SEED } from "../helpers/fuzz";
import { hardhatKey } from "../helpers/gateway";
import { GOOD_FEATURES, nationalIdFrom } from "../helpers/identities";

// ---------------------------------------------------------------- the workload's size

const PERSONS = 10;
/** The chain's block interval (interval mining). */
const BLOCK_TIME_MS = 1_000;
/** Kills (each followed by a restart on the same database). */
const KILLS = { min: 4, max: 5 };
/** Random delay before each kill is armed, ms after the (re)start: from "just after a restart" to "deep in the burst". */
const KILL_DELAY_MS = { min: 50, max: 1_200 };

/**
 * Where a kill lands. After its random delay a kill is armed and fires at the next moment of
 * its kind: `timer` at once (while requests are in flight); the others when the node serves
 * the gateway's next call of that method, after the node has acted on it and before the
 * gateway hears the answer: `signing` (eth_gasPrice, the fee read of signing: a batch is about to be signed and stored),
 * `broadcast` (eth_sendRawTransaction: the transaction is mined, the gateway never learns
 * it was sent), `receipt` (a non-empty eth_getTransactionReceipt: the entry is on-chain, the
 * gateway has not recorded it). Every run has a broadcast and a receipt kill: they are the
 * windows where a careless sender posts twice or loses a request.
 */
type KillPoint = "timer" | "signing" | "broadcast" | "receipt";
const KILL_METHOD: Record<Exclude<KillPoint, "timer">, string> = {
  signing: "eth_gasPrice",
  broadcast: "eth_sendRawTransaction",
  receipt: "eth_getTransactionReceipt",
};
/** A fired kill's longest wait for its moment; then it falls back to a timer kill (the partner may be done). */
const ARMED_KILL_WAIT_MS = 5_000;

/** A small seeded generator (mulberry32): the same seed gives the same workload and delays. */
function seededRandom(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return { next, int, chance: (p: number) => next() < p, pick: <T>(items: readonly T[]): T => items[int(0, items.length - 1)] };
}
type Rng = ReturnType<typeof seededRandom>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Kind = "application" | "purchase" | "cash_loan" | "repayment";

/** One partner request, sent until it is answered. */
interface PartnerRequest {
  label: string;
  kind: Kind;
  person: number;
  path: string;
  body: Record<string, unknown>;
  key: string;
  wait: boolean;
  /** Sends made, and how many of them lost their response (connection refused, reset or cut). */
  sends: number;
  lost: number;
  /** Every operation id any answer to this key named: exactly one when idempotency holds. */
  operationIds: Set<string>;
  /** The first 2xx answer (202 when not waiting). */
  ack?: { status: number; body: Record<string, unknown> };
  /** The answer once confirmed (the final re-send with ?wait=true). */
  final?: { status: number; body: Record<string, unknown> };
}

/** What one person does, drawn up front from the seed. */
interface PersonPlan {
  /** The person starts once the gateway has been started this many times after the first (0: at once)... */
  wave: number;
  /** ... and this long after that start. */
  startDelayMs: number;
  identity: { nationalId: string; name: string; phone: string };
  /** pay_later always; cash_loan too for some (sent concurrently: the same identity, one account). */
  products: Array<"pay_later" | "cash_loan">;
  applyWait: boolean[];
  draws: Array<{
    kind: "purchase" | "cash_loan";
    delayMs: number;
    amount: number;
    periods: number;
    method: "equal_principal" | "annuity";
    wait: boolean;
    repay?: { amount: number; wait: boolean };
  }>;
}

const waits = (rng: Rng) => !rng.chance(0.3); // about a third of the requests do not wait (?wait=false, 202)

function planPerson(rng: Rng, p: number, wave: number): PersonPlan {
  const products: PersonPlan["products"] = rng.chance(0.5) ? ["pay_later", "cash_loan"] : ["pay_later"];
  const draws: PersonPlan["draws"] = [];
  for (let i = rng.int(1, 3); i > 0; i--) {
    draws.push({ kind: "purchase", delayMs: rng.int(0, 500), amount: rng.int(1_000, 50_000), periods: rng.pick([1, 3, 6]), method: "equal_principal", wait: waits(rng) });
  }
  if (products.includes("cash_loan")) {
    draws.push({ kind: "cash_loan", delayMs: rng.int(0, 500), amount: rng.int(10_000, 100_000), periods: rng.pick([3, 6, 12]), method: rng.pick(["equal_principal", "annuity"] as const), wait: waits(rng) });
  }
  for (const d of draws) if (rng.chance(0.6)) d.repay = { amount: rng.int(100, Math.min(5_000, d.amount)), wait: waits(rng) };
  return {
    wave,
    startDelayMs: rng.int(0, 500),
    identity: {
      // 17 digits unique per person (the index is in them) and the check digit.
      nationalId: nationalIdFrom(`1101011990${String(rng.int(0, 9_999)).padStart(4, "0")}${String(p).padStart(3, "0")}`),
      name: `测试${p}`,
      phone: `+86 139 ${String(rng.int(0, 9_999)).padStart(4, "0")} ${String(p).padStart(4, "0")}`,
    },
    products,
    applyWait: products.map(() => waits(rng)),
    draws,
  };
}

function shuffle<T>(rng: Rng, items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Serves the in-process Hardhat Network over JSON-RPC on 127.0.0.1 (as `npm start` does, see
 * scripts/lib/local-node.ts), with `tap` called after each call is served and before its
 * answer is written: the crash points of this test. The test's own reads bypass the server.
 */
async function serveTapped(provider: EIP1193Provider, tap: (method: string, result: unknown) => Promise<void>) {
  const tapped = new Proxy(provider, {
    get(target, property) {
      if (property === "request") {
        return async (args: RequestArguments) => {
          const result = await target.request(args);
          await tap(args.method, result);
          return result;
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const server = await hre.run(TASK_NODE_CREATE_SERVER, { hostname: "127.0.0.1", port: 0, provider: tapped });
  const { address, port } = (await server.listen()) as { address: string; port: number };
  return { rpcUrl: `http://${address}:${port}`, close: () => server.close() as Promise<void> };
}

/** Whether the gateway is up; requests wait here while it is down. */
class Gate {
  private open!: Promise<void>;
  private release!: () => void;
  constructor() {
    this.close();
  }
  close(): void {
    this.open = new Promise((resolve) => (this.release = resolve));
  }
  opened(): void {
    this.release();
  }
  wait(): Promise<void> {
    return this.open;
  }
}

describe("gateway crash recovery: SIGKILL at random points while requests are in flight", function () {
  this.timeout(600_000); // a hang guard for the whole run, not a timing assertion

  const seed = FUZZ_SEED ?? randomInt(0, 2 ** 31 - 1);
  let node: { rpcUrl: string; close(): Promise<void> };
  /** Called after the node served each of the gateway's JSON-RPC calls, before the answer goes out. */
  let tap: ((method: string, result: unknown) => Promise<void>) | undefined;
  let dir: string;
  let dbPath: string;
  let env: Record<string, string>;
  let gateway: GatewayProcess | undefined;
  let scorer: ScorerProcess | undefined;
  const scorerToken = randomBytes(24).toString("hex");
  let ledgerAddress: string;
  let startBlock: number;
  let keys: { partner: string; auditor: string };
  let client: LedgerClient;

  before(async () => {
    const l = await deployLedger();
    ledgerAddress = await l.ledger.getAddress();
    startBlock = await ethers.provider.getBlockNumber();
    node = await serveTapped(network.provider, (method, result) => tap?.(method, result) ?? Promise.resolve());
    dir = mkdtempSync(path.join(tmpdir(), "credit-ledger-crash-"));
    dbPath = path.join(dir, "gateway.sqlite");
    // The partner's and the auditor's API keys go into the gateway's database before it starts.
    const store = new SqliteStore(dbPath, systemClock);
    const apiKeys = new ApiKeys(store, cryptoRandom, systemClock);
    const partners = new Partners(store, apiKeys, cryptoRandom, systemClock);
    keys = { partner: (await partners.create({ name: "partner" }, "test")).key.key, auditor: (await apiKeys.issue("auditor", ["auditor"])).key };
    await store.close();
    scorer = await startScorerProcess({
      SCORER_MODE: "development",
      SCORER_KEY: hardhatKey(2),
      SCORER_TOKEN: scorerToken,
      SCORER_DB_PATH: path.join(dir, "scorer.sqlite"),
      SCORER_CHAIN_ID: "31337",
      SCORER_LEDGER_ADDRESS: ledgerAddress,
      SCORER_PORT: "0",
      SCORER_LOG_LEVEL: "warn",
      // Earlier test files advanced the in-process chain's clock by days.
      ...DEVELOPMENT_CHAIN_AHEAD,
    });
    // A block a second from here on (restored in `after`): transactions wait in the pool, as on a real chain.
    await network.provider.send("evm_setAutomine", [false]);
    await network.provider.send("evm_setIntervalMining", [BLOCK_TIME_MS]);
    env = {
      GATEWAY_RPC_URL: node.rpcUrl,
      GATEWAY_LEDGER_ADDRESS: ledgerAddress,
      GATEWAY_LEDGER_START_BLOCK: String(startBlock),
      GATEWAY_MODE: "development", // Hardhat's public keys are refused in production mode
      GATEWAY_OPERATOR_KEY: hardhatKey(1),
      // The scorer is a process of its own too, on its own database; it outlives every gateway kill.
      GATEWAY_SCORER_URL: scorer.url,
      GATEWAY_SCORER_TOKEN: scorerToken,
      GATEWAY_DB_PATH: dbPath,
      GATEWAY_VAULT_KEY: randomBytes(32).toString("hex"),
      GATEWAY_IDENTITY_PEPPER: randomBytes(32).toString("hex"),
      GATEWAY_HOST: "127.0.0.1",
      GATEWAY_PORT: String(await freePort()),
      GATEWAY_POLL_INTERVAL_MS: "50",
      // Small batches and a short pipeline, so the workload spans many batches, several in flight at every kill.
      GATEWAY_BLOCK_TIME_MS: String(BLOCK_TIME_MS),
      GATEWAY_BATCH_MAX_OPS: "4",
      GATEWAY_MAX_IN_FLIGHT: "3",
      GATEWAY_WAIT_DEFAULT: "true",
      GATEWAY_LOG_LEVEL: "warn",
    };
    const provider = new BrowserProvider(network.provider as never, undefined, { cacheTimeout: -1 });
    client = await LedgerClient.connect({ provider, ledgerAddress, operatorAddress: l.operator.address });
  });

  after(async () => {
    await network.provider.send("evm_setIntervalMining", [0]);
    await network.provider.send("evm_setAutomine", [true]);
    await gateway?.kill("SIGKILL");
    await scorer?.kill();
    await node?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("puts every acknowledged request on-chain exactly once, posts nothing twice, and the read model matches the chain", async () => {
    // Everything random is drawn here, up front, so a seed replays the same workload and delays.
    const rng = seededRandom(seed);
    const points: KillPoint[] = ["broadcast", "receipt", "timer", "signing", "broadcast", "receipt", "timer"];
    const chosen: KillPoint[] = ["broadcast", "receipt"];
    while (chosen.length < rng.int(KILLS.min, KILLS.max)) chosen.push(rng.pick(points));
    const killPlan = shuffle(rng, chosen).map((point) => ({
      point,
      delayMs: rng.int(KILL_DELAY_MS.min, KILL_DELAY_MS.max),
      downMs: rng.int(0, 300),
    }));
    // The persons are spread over the intervals between kills, so every kill finds requests in flight.
    const plans = Array.from({ length: PERSONS }, (_, p) => planPerson(rng, p, Math.floor((p * killPlan.length) / PERSONS)));
    /** starts[w] resolves once the gateway has been started w + 1 times. */
    const starts = killPlan.map(() => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      return { promise, resolve };
    });
    const gate = new Gate();
    const requests: PartnerRequest[] = [];
    let inFlight = 0;
    let workloadDone = false;
    const failures: string[] = [];

    gateway = await startGatewayProcess(env);
    const base = gateway.url;
    gate.opened();
    starts[0].resolve();

    // ------------------------------------------------------------ the partner

    /** Sends `r` until the gateway answers it (resending after every lost response); returns the answer. */
    async function send(r: PartnerRequest, wait: boolean): Promise<{ status: number; body: Record<string, unknown> }> {
      for (let pending = 0; ; ) {
        await gate.wait();
        r.sends += 1;
        inFlight += 1;
        let status: number;
        let text: string;
        try {
          const res = await fetch(`${base}${r.path}${wait ? "" : "?wait=false"}`, {
            method: "POST",
            headers: { Authorization: `Bearer ${keys.partner}`, "Idempotency-Key": r.key, "Content-Type": "application/json" },
            body: JSON.stringify(r.body),
          });
          status = res.status;
          text = await res.text();
        } catch {
          r.lost += 1; // refused, reset or cut off: the partner does not know whether it was accepted
          continue;
        } finally {
          inFlight -= 1;
        }
        const body = JSON.parse(text) as Record<string, unknown>;
        const op = body.operation as { id?: string } | undefined;
        if (op?.id) r.operationIds.add(op.id);
        // The loan being repaid is not drawn yet: nothing was accepted, ask again shortly.
        if (status === 409 && body.type === "/problems/loan-pending" && ++pending < 600) {
          await sleep(100);
          continue;
        }
        return { status, body };
      }
    }

    async function run(r: PartnerRequest): Promise<PartnerRequest> {
      requests.push(r);
      const answer = await send(r, r.wait);
      if (answer.status >= 200 && answer.status < 300) r.ack = answer;
      else failures.push(`${r.label}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return r;
    }

    const request = (person: number, kind: Kind, label: string, path: string, body: Record<string, unknown>, wait: boolean): PartnerRequest => ({
      label: `person ${person} ${label}`,
      kind,
      person,
      path,
      body,
      key: `crash-${seed}-${person}-${label.replace(/ /g, "-")}-${randomBytes(4).toString("hex")}`,
      wait,
      sends: 0,
      lost: 0,
      operationIds: new Set(),
    });

    /** One person: applies for pay-later (and maybe cash, concurrently), draws, repays some loans. */
    async function person(p: number, plan: PersonPlan): Promise<void> {
      await starts[plan.wave].promise;
      await sleep(plan.startDelayMs);
      const applications = plan.products.map((product, i) =>
        request(p, "application", `apply ${product}`, "/v1/applications", { identity: plan.identity, product, features: GOOD_FEATURES, consent: true }, plan.applyWait[i]),
      );
      const applied = await Promise.all(applications.map(run));
      const accountId = applied[0].ack?.body.accountId as string | undefined;
      if (!accountId) return;
      await Promise.all(
        plan.draws.map(async (d, i) => {
          await sleep(d.delayMs);
          const draw =
            d.kind === "purchase"
              ? request(p, "purchase", `purchase ${i + 1}`, "/v1/purchases", { accountId, amount: String(d.amount), installments: d.periods }, d.wait)
              : request(p, "cash_loan", "cash loan", "/v1/loans", { accountId, amount: String(d.amount), periods: d.periods, method: d.method }, d.wait);
          await run(draw);
          if (!draw.ack || d.repay === undefined) return;
          const loanId = (draw.ack.body.loanId as string | null) ?? (draw.ack.body.operation as { id: string }).id;
          await run(request(p, "repayment", `repay ${d.kind} ${i + 1}`, "/v1/repayments", { loanId, amount: String(d.repay.amount) }, d.repay.wait));
        }),
      );
    }

    // ------------------------------------------------------------ the killer

    const killLog: string[] = [];
    async function killNow(k: number, point: string): Promise<void> {
      gate.close();
      const inFlightAtKill = inFlight;
      const exit = await gateway!.kill("SIGKILL");
      expect(exit.signal, `kill ${k}`).to.equal("SIGKILL");
      killLog.push(`kill ${k} at ${point}: ${inFlightAtKill} request(s) in flight`);
    }

    async function killer(): Promise<void> {
      for (let k = 1; k <= killPlan.length; k++) {
        const { point, delayMs, downMs } = killPlan[k - 1];
        await sleep(delayMs);
        let killed = false;
        if (point !== "timer") {
          // Armed: the node's next answer of this kind to the gateway is the last thing it hears.
          const method = KILL_METHOD[point];
          const fired = new Promise<void>((resolve) => {
            tap = async (m, result) => {
              if (m !== method || (point === "receipt" && result === null)) return;
              tap = undefined;
              await killNow(k, point);
              killed = true;
              resolve();
            };
          });
          await Promise.race([fired, sleep(ARMED_KILL_WAIT_MS)]);
          tap = undefined;
        }
        if (!killed) {
          // Kill while requests are in flight (unless the partner is done already).
          for (let i = 0; i < 200 && inFlight === 0 && !workloadDone; i++) await sleep(10);
          await killNow(k, point === "timer" ? "timer" : `timer (no ${point} came)`);
        }
        await sleep(downMs);
        gateway = await startGatewayProcess(env);
        expect(gateway.url).to.equal(base);
        gate.opened();
        starts[k]?.resolve();
      }
    }

    const context = () =>
      [
        `seed ${seed} (replay the workload and kill delays: LEDGER_FUZZ_SEED=${seed} npx hardhat test test/server/crash-recovery.test.ts)`,
        ...killLog,
        `gateway output (last lines):\n${gateway?.output() ?? ""}`,
      ].join("\n");

    try {
      await Promise.all([
        killer(),
        Promise.all(plans.map((plan, p) => person(p, plan))).then(() => {
          workloadDone = true;
        }),
      ]);
      expect(failures, "every request is answered 2xx").to.deep.equal([]);
      expect(killLog).to.have.length(killPlan.length);
      expect(requests.reduce((n, r) => n + r.lost, 0), "responses lost to the kills (the test must crash something)").to.be.greaterThan(0);

      // -------------------------------------------------------- final answers: the same request, waiting
      for (const r of requests) {
        for (let i = 0; i < 20 && !(r.final && (r.final.body.operation as { status: string }).status === "confirmed"); i++) {
          r.final = await send(r, true);
        }
        expect(r.final!.status, `${r.label} final answer ${JSON.stringify(r.final!.body)}`).to.equal(r.kind === "repayment" ? 200 : 201);
        expect((r.final!.body.operation as { status: string }).status, r.label).to.equal("confirmed");
        expect([...r.operationIds], `${r.label}: every answer names one operation`).to.have.length(1);
      }
      const opIds = requests.map((r) => [...r.operationIds][0]);
      expect(new Set(opIds).size, "one operation per request").to.equal(requests.length);

      // -------------------------------------------------------- the operations as the gateway records them
      const auth = { Authorization: `Bearer ${keys.auditor}` };
      type Step = { call: string; status: string; ref: string; txHash: string; entrySeq: string; event: string; blockNumber: number; logIndex: number };
      const operations = new Map<string, { accountId: string; steps: Step[] }>();
      for (const id of opIds) {
        const res = await fetch(`${base}/v1/operations/${id}`, { headers: auth });
        expect(res.status).to.equal(200);
        const op = (await res.json()) as { status: string; accountId: string; steps: Step[] };
        expect(op.status).to.equal("confirmed");
        operations.set(id, op);
      }

      // -------------------------------------------------------- the chain: every entry, by account
      const latest = await ethers.provider.getBlockNumber();
      const entries = (await client.logs(startBlock, latest)).map((log) => client.decodeEntry(log)).filter((e): e is LedgerEntry => e !== undefined);
      const byRef = new Map<string, LedgerEntry[]>();
      for (const e of entries) byRef.set(e.ref.toLowerCase(), [...(byRef.get(e.ref.toLowerCase()) ?? []), e]);
      const twice = [...byRef.entries()].filter(([, es]) => es.length > 1).map(([ref]) => ref);
      expect(twice, "no reference is on-chain twice").to.deep.equal([]);

      // Every step of every operation landed exactly once, where the gateway says it did.
      const stepRefs = new Set<string>();
      const expectedEvent: Record<string, string> = { openAccount: "AccountOpened", grantLine: "LineGranted", purchase: "Drawn", drawCash: "Drawn", repay: "Repaid" };
      for (const r of requests) {
        const op = operations.get([...r.operationIds][0])!;
        for (const step of op.steps) {
          const ref = step.ref.toLowerCase();
          stepRefs.add(ref);
          const onChain = byRef.get(ref) ?? [];
          expect(onChain, `${r.label}: ${step.call} is on-chain once`).to.have.length(1);
          const [e] = onChain;
          expect(step.status).to.equal("confirmed");
          expect(e.name, `${r.label}: ${step.call}`).to.equal(expectedEvent[step.call]);
          expect({ txHash: e.txHash, seq: String(e.seq), block: e.blockNumber, logIndex: e.logIndex }, r.label).to.deep.equal({
            txHash: step.txHash,
            seq: step.entrySeq,
            block: step.blockNumber,
            logIndex: step.logIndex,
          });
          expect(e.account.toLowerCase()).to.equal(op.accountId.toLowerCase());
        }
        // The entry is the request's: the amounts on-chain are the ones asked for.
        const main = byRef.get(op.steps[op.steps.length - 1].ref.toLowerCase())![0];
        if (r.kind === "purchase" || r.kind === "cash_loan") {
          const terms = main.args.terms as Record<string, unknown>;
          expect(String(terms.principal), r.label).to.equal(r.body.amount);
        } else if (r.kind === "repayment") {
          expect(String(main.args.amount), r.label).to.equal(r.body.amount);
        } else {
          const decision = main.args.decision as Record<string, unknown>;
          expect(Number(decision.productId), r.label).to.equal(r.body.product === "pay_later" ? 1 : 2);
        }
      }
      // ... and nothing else is on-chain: no entry without a request behind it.
      const orphans = entries.filter((e) => !stepRefs.has(e.ref.toLowerCase())).map((e) => `${e.name} ${e.account} seq ${e.seq}`);
      expect(orphans, "every on-chain entry belongs to an accepted request").to.deep.equal([]);

      // Per account: one opening, a grant per application, a draw per purchase or loan, a repayment per repayment.
      const accounts = [...new Set(requests.filter((r) => r.kind === "application").map((r) => r.final!.body.accountId as string))];
      expect(accounts, "one account per person").to.have.length(PERSONS);
      for (const account of accounts) {
        const mine = entries.filter((e) => e.account.toLowerCase() === account.toLowerCase()).sort((a, b) => Number(a.seq - b.seq));
        const asked = (kind: Kind) => requests.filter((r) => r.kind === kind && (r.final!.body.accountId ?? (r.final!.body.loanId as string).split(":")[0]) === account).length;
        const count = (event: string) => mine.filter((e) => e.name === event).length;
        expect(count("AccountOpened"), account).to.equal(1);
        expect(count("LineGranted"), account).to.equal(asked("application"));
        expect(count("Drawn"), account).to.equal(asked("purchase") + asked("cash_loan"));
        expect(count("Repaid"), account).to.equal(asked("repayment"));
        expect(mine).to.have.length(1 + asked("application") + asked("purchase") + asked("cash_loan") + asked("repayment"));

        // The hash chain rebuilt from the events ends at the on-chain seq and head.
        const onChain = await client.accountOf(account);
        const check = verifyChain(
          mine.map((e) => ({ seq: e.seq, kind: EntryKind[e.name as keyof typeof EntryKind], payloadHash: e.payloadHash, head: e.head })),
          { seq: onChain.seq as bigint, head: onChain.head as string },
        );
        expect(check, account).to.deep.include({ ok: true });

        // The read model: the history is the chain's, entry by entry; the account view is the chain's.
        const history = (await (await fetch(`${base}/v1/accounts/${account}/history`, { headers: auth })).json()) as {
          seq: string;
          head: string;
          verified: boolean;
          entries: Array<{ seq: string; kind: string; head: string; payloadHash: string; ref: string; txHash: string; blockNumber: number; logIndex: number }>;
        };
        expect({ seq: history.seq, head: history.head, verified: history.verified }).to.deep.equal({
          seq: String(onChain.seq),
          head: onChain.head,
          verified: true,
        });
        expect(history.entries.map((e) => [e.seq, e.kind, e.head, e.payloadHash, e.ref, e.txHash, e.blockNumber, e.logIndex])).to.deep.equal(
          mine.map((e) => [String(e.seq), e.name, e.head, e.payloadHash, e.ref, e.txHash, e.blockNumber, e.logIndex]),
        );
        const view = (await (await fetch(`${base}/v1/accounts/${account}`, { headers: auth })).json()) as {
          seq: string;
          head: string;
          used: string;
          loans: Array<{ loanNo: number; principalOutstanding: string }>;
        };
        expect({ seq: view.seq, head: view.head, used: view.used, loans: view.loans.length }).to.deep.equal({
          seq: String(onChain.seq),
          head: onChain.head,
          used: String(onChain.used),
          loans: Number(onChain.loanCount),
        });
      }

      const lost = requests.reduce((n, r) => n + r.lost, 0);
      const sends = requests.reduce((n, r) => n + r.sends, 0);
      console.log(
        `      seed ${seed}: ${requests.length} requests, ${sends} sends, ${lost} responses lost, ${entries.length} entries on-chain; ` +
          killLog.map((k) => k.replace(/^kill \d+ at /, "").replace(/ request\(s\) in flight/, " in flight")).join(", "),
      );

      const health = (await (await fetch(`${base}/healthz`)).json()) as { outbox: { depth: number } };
      expect(health.outbox.depth, "the outbox is drained").to.equal(0);

      // A clean stop after all that, then the database itself: one operation and one idempotency
      // record per request, every outbox step confirmed.
      const stopped = await gateway.kill("SIGTERM");
      expect(stopped.code, "a clean stop exits 0").to.equal(0);
      gateway = undefined;
      const db = new Database(dbPath, { readonly: true });
      try {
        const rows = (sql: string) => db.prepare(sql).all() as Array<Record<string, unknown>>;
        expect(rows("SELECT status, COUNT(*) AS n FROM operations GROUP BY status")).to.deep.equal([{ status: "confirmed", n: requests.length }]);
        expect(rows("SELECT COUNT(*) AS n FROM idempotency")).to.deep.equal([{ n: requests.length }]);
        expect(rows("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")).to.deep.equal([{ status: "confirmed", n: entries.length }]);
        expect(rows("SELECT COUNT(*) AS n FROM vault")).to.deep.equal([{ n: PERSONS }]);
      } finally {
        db.close();
      }
    } catch (error) {
      if (error instanceof Error) error.message = `${error.message}\n${context()}`;
      throw error;
    }
  });
});
