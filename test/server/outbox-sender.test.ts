import { expect } from "chai";
import { network } from "hardhat";
import { hexlify, randomBytes, Transaction, Wallet, type BrowserProvider } from "ethers";

import { Indexer } from "../../server/chain/indexer";
import type { DecisionCall, LedgerCall } from "../../server/chain/ledger-calls";
import { LedgerClient } from "../../server/chain/ledger-client";
import { FEE_BUMP_PERCENT, OutboxSender, type BatchingOptions, type SenderHooks, type StepFailure } from "../../server/chain/outbox-sender";
import { EntryKind, verifyChain } from "../../core/hash-chain";
import { GatewayMetrics } from "../../server/metrics";
import type { SqliteStore } from "../../server/store/sqlite-store";
import { ScorerClient, ScorerUnavailableError, type DecisionSigner } from "../../server/chain/scorer-client";
import { kycSubjectOf } from "../../core/kyc-attestation";
import { modelId } from "../../core/scoring/scorecard";
import { DEFAULT_MODEL } from "../../core/scoring/underwriting";
import { CASH_LOAN_ID, PAY_LATER_ID } from "../helpers/fixtures";
import { chainEdges, hardhatKey, memoryStore, scorerFor, silentLogger, type ChainEdges } from "../helpers/gateway";
import { MIDDLE_FEATURES, randomNationalId } from "../helpers/identities";
import type { TestScorer } from "../helpers/scorer";

/** Thrown by a hook to stop a send where a crash would. */
class SimulatedCrash extends Error {}

const newId = () => hexlify(randomBytes(32));

describe("outbox sender", function () {
  let edges: ChainEdges;
  let store: SqliteStore;
  let scoring: TestScorer;
  let scorer: ScorerClient;

  before(async () => {
    edges = await chainEdges();
    scoring = await scorerFor(edges);
    scorer = new ScorerClient(scoring.url, scoring.token);
  });

  beforeEach(() => {
    store = memoryStore(edges.clock);
  });

  function sender(
    options: {
      hooks?: SenderHooks;
      client?: LedgerClient;
      operator?: Wallet;
      metrics?: GatewayMetrics;
      stuckAfterMs?: number;
      scorer?: DecisionSigner;
      confirmations?: number;
      batching?: Partial<BatchingOptions>;
    } = {}
  ) {
    return new OutboxSender({
      store,
      client: options.client ?? edges.client,
      operator: options.operator ?? edges.operator,
      scorer: options.scorer ?? scorer,
      logger: silentLogger(),
      clock: edges.clock,
      metrics: options.metrics,
      confirmations: options.confirmations ?? 1,
      pollIntervalMs: 5,
      stuckAfterMs: options.stuckAfterMs ?? 3_600_000,
      batching: { maxOps: 50, waitMs: 0, maxInFlight: 8, ...options.batching },
      backoff: { initialMs: 1, maxMs: 5 },
      hooks: options.hooks,
    });
  }

  let operationCount = 0;
  async function enqueue(account: string, calls: LedgerCall[]): Promise<string> {
    const id = `op_test_${++operationCount}_${Date.now()}`;
    const fromBlock = await edges.provider.getBlockNumber();
    const accepted = await store.accept({
      idempotency: { owner: "test", key: id, fingerprint: "f" },
      operation: {
        id,
        kind: "test",
        accountId: account,
        context: {},
        fromBlock,
        steps: calls.map((call) => ({ accountId: account, fn: call.fn, call, ref: newId() })),
      },
    });
    expect(accepted.accepted).to.equal(true);
    return id;
  }

  /** A decision the scorer computed for `account` (tier 1 from an attestation; middle-band features: pay-later 1,000,000, cash 2,000,000). */
  async function scored(account: string, product: "pay_later" | "cash_loan" = "pay_later") {
    const nationalId = randomNationalId();
    const e = await scoring.attest("operator", nationalId, 1);
    const answer = await scorer.score({
      account,
      partner: "operator",
      product,
      modelId: modelId(DEFAULT_MODEL),
      features: { values: MIDDLE_FEATURES, partnerReported: [] },
      salt: hexlify(randomBytes(16)),
      evidence: { ...e, attestation: { ...e.attestation, issuedAt: BigInt(e.attestation.issuedAt), expiry: BigInt(e.attestation.expiry) } },
      subject: kycSubjectOf(nationalId),
    });
    return { decision: answer.decision, scorerDecision: answer.id };
  }

  const openAndGrant = async (account: string): Promise<LedgerCall[]> => [
    { fn: "openAccount", account, tier: 1, exposureCap: 8_000_000n },
    { fn: "grantLine", ...(await scored(account)) },
  ];

  it("sends steps in order and records tx hash, block, log index, seq and the decoded result", async () => {
    const account = newId();
    const op = await enqueue(account, [
      ...(await openAndGrant(account)),
      { fn: "purchase", account, productId: PAY_LATER_ID, amount: 120_000n, periods: 3 },
    ]);
    await sender().drain();
    const record = (await store.getOperation(op))!;
    expect(record.status).to.equal("confirmed");
    expect(record.steps.map((s) => s.landed?.name)).to.deep.equal(["AccountOpened", "LineGranted", "Drawn"]);
    expect(record.steps.map((s) => s.landed?.seq)).to.deep.equal([1n, 2n, 3n]);
    const drawn = record.steps[2].landed!;
    expect(drawn.args.loanNo).to.equal(1n);
    const receipt = await edges.provider.getTransactionReceipt(drawn.txHash);
    expect(receipt?.blockNumber).to.equal(drawn.blockNumber);
    expect(receipt?.logs.some((l) => l.index === drawn.logIndex)).to.equal(true);
    const onChain = await edges.l.ledger.accountOf(account);
    expect(onChain.seq).to.equal(3n);
    expect(onChain.head).to.equal(drawn.head);
    // The decision was completed and signed by the scorer when sent.
    const sent = record.steps[1].sentCall as { decision: { nonce: bigint }; scorer: string };
    expect(sent.scorer).to.equal(edges.scorer.address);
    expect(sent.decision.nonce).to.equal(0n);
  });

  it("fails a step the ledger refuses, with the decoded custom error, and cancels the rest", async () => {
    const account = newId();
    await sender().drain(); // nothing queued
    const op = await enqueue(account, [
      ...(await openAndGrant(account)),
      { fn: "purchase", account, productId: PAY_LATER_ID, amount: 1_000_001n, periods: 1 },
      { fn: "purchase", account, productId: PAY_LATER_ID, amount: 1n, periods: 1 },
    ]);
    await sender().drain();
    const record = (await store.getOperation(op))!;
    expect(record.status).to.equal("failed");
    expect(record.steps.map((s) => s.status)).to.deep.equal(["confirmed", "confirmed", "failed", "cancelled"]);
    const failure = record.error as Extract<StepFailure, { kind: "ledger-revert" }>;
    expect(failure.revert.name).to.equal("LimitExceeded");
    expect(failure.revert.args).to.deep.include({ requested: 1_000_001n, available: 1_000_000n });
    expect((await edges.l.ledger.accountOf(account)).seq).to.equal(2n);
  });

  it("fails a decision step the scorer will not sign (DecisionAltered), with its code and the fields, and sends nothing", async () => {
    const account = newId();
    const [open, grant] = await openAndGrant(account);
    const altered = { ...(grant as DecisionCall) };
    altered.decision = { ...altered.decision, limit: 20_000_000n, score: 350 };
    const op = await enqueue(account, [open, altered, { fn: "purchase", account, productId: PAY_LATER_ID, amount: 1n, periods: 1 }]);
    await sender().drain();
    const record = (await store.getOperation(op))!;
    expect(record.status).to.equal("failed");
    expect(record.steps.map((s) => s.status)).to.deep.equal(["confirmed", "failed", "cancelled"]);
    expect(record.steps[1].transactions, "nothing was signed for the chain").to.have.length(0);
    const failure = record.error as Extract<StepFailure, { kind: "scorer-refusal" }>;
    expect(failure).to.deep.include({ kind: "scorer-refusal", code: "DecisionAltered", status: 409 });
    expect(failure.details.fields).to.deep.equal(["limit", "score"]);
    expect((await edges.l.ledger.accountOf(account)).seq).to.equal(1n);
  });

  it("keeps a decision step queued while the scorer cannot be reached, retrying with backoff, then confirms it", async () => {
    const account = newId();
    const op = await enqueue(account, await openAndGrant(account));
    let outages = 2;
    const flakyScorer: DecisionSigner = {
      sign: (...args) => (outages-- > 0 ? Promise.reject(new ScorerUnavailableError(scoring.url, "connect ECONNREFUSED")) : scorer.sign(...args)),
      scorerAddress: () => scorer.scorerAddress(),
    };
    const s = sender({ scorer: flakyScorer });
    const settled = new Promise<void>((resolve) =>
      s.on("settled", async () => {
        if ((await store.getOperation(op))?.status !== "pending") resolve();
      })
    );
    s.start();
    await settled;
    await s.stop();
    const record = (await store.getOperation(op))!;
    expect(record.status).to.equal("confirmed");
    expect(outages).to.equal(-1);
    expect(record.steps[1].attempts, "the two outages were counted on the step").to.equal(2);
    expect((await edges.l.ledger.accountOf(account)).seq).to.equal(2n);
  });

  it("after a crash between storing and broadcasting, a restarted sender broadcasts the stored transaction once", async () => {
    const account = newId();
    const op = await enqueue(account, await openAndGrant(account));
    const crashing = sender({
      hooks: {
        afterStore: () => {
          throw new SimulatedCrash();
        },
      },
    });
    await expect(crashing.processNext()).to.be.rejectedWith(SimulatedCrash);
    const stored = (await store.getOperation(op))!.steps[0];
    expect(stored.status).to.equal("sent");
    expect(await edges.provider.getTransactionReceipt(stored.transactions[0].hash)).to.equal(null);

    await sender().drain(); // the restart
    const record = (await store.getOperation(op))!;
    expect(record.status).to.equal("confirmed");
    expect(record.steps[0].landed?.txHash).to.equal(stored.transactions[0].hash);
    expect((await edges.l.ledger.accountOf(account)).seq).to.equal(2n);
  });

  it("after a crash between broadcasting and recording, a restart confirms from the receipt and posts nothing twice", async () => {
    const account = newId();
    const op = await enqueue(account, await openAndGrant(account));
    const crashing = sender({
      hooks: {
        afterBroadcast: () => {
          throw new SimulatedCrash();
        },
      },
    });
    await expect(crashing.processNext()).to.be.rejectedWith(SimulatedCrash);
    expect((await edges.l.ledger.accountOf(account)).seq).to.equal(2n); // both steps landed in one batch, not recorded
    expect((await store.getOperation(op))!.steps.map((s) => s.status)).to.deep.equal(["sent", "sent"]);

    await sender().drain();
    const record = (await store.getOperation(op))!;
    expect(record.status).to.equal("confirmed");
    expect(record.steps.map((s) => s.landed?.seq)).to.deep.equal([1n, 2n]);
    expect((await edges.l.ledger.accountOf(account)).seq).to.equal(2n);
  });

  it("retries transient RPC failures with backoff and then confirms", async () => {
    let failuresLeft = 3;
    const flaky = new Proxy(edges.provider, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if ((property === "broadcastTransaction" || property === "getTransactionReceipt") && failuresLeft > 0) {
            failuresLeft -= 1;
            return Promise.reject(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8545"), { code: "ECONNREFUSED" }));
          }
          return value.apply(target, args);
        };
      },
    }) as BrowserProvider;
    const client = await LedgerClient.connect({
      provider: flaky,
      ledgerAddress: edges.client.address,
      operatorAddress: edges.operator.address,
    });
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const account = newId();
    const op = await enqueue(account, await openAndGrant(account));
    const s = sender({ client, operator: new Wallet(hardhatKey(1), flaky), metrics });
    const settled = new Promise<void>((resolve) =>
      s.on("settled", async () => {
        if ((await store.getOperation(op))?.status !== "pending") resolve();
      })
    );
    s.start();
    await settled;
    await s.stop();
    const record = (await store.getOperation(op))!;
    expect(record.status).to.equal("confirmed");
    expect(failuresLeft).to.equal(0);
    expect(record.steps.map((step) => step.transactions.length), "the batch was signed once, then broadcast again").to.deep.equal([1, 1]);
    expect((await metrics.rpcRetries.get()).values[0].value).to.equal(3);
    expect((await edges.l.ledger.accountOf(account)).seq).to.equal(2n);
  });

  it("replaces a stuck batch transaction with fees at least FEE_BUMP_PERCENT (>= 10 %) higher, and exactly one of them lands", async () => {
    const account = newId();
    const op = await enqueue(account, [{ fn: "openAccount", account, tier: 1, exposureCap: 8_000_000n }]);
    await network.provider.send("evm_setAutomine", [false]);
    let step;
    try {
      const s = sender({ stuckAfterMs: 0 });
      await s.processNext(); // signed, stored, broadcast: pending, never mined
      await s.processNext(); // unmined past stuckAfterMs: replaced
      step = (await store.getOperation(op))!.steps[0];
      expect(step.transactions).to.have.length(2);
      const [first, second] = step.transactions.map((t) => Transaction.from(t.raw));
      expect(second.nonce).to.equal(first.nonce);
      expect(second.data).to.equal(first.data);
      expect(FEE_BUMP_PERCENT >= 10n).to.equal(true);
      expect(second.maxFeePerGas! * 100n >= first.maxFeePerGas! * 110n, "maxFeePerGas raised by at least 10 %").to.equal(true);
      expect(second.maxPriorityFeePerGas! * 100n >= first.maxPriorityFeePerGas! * 110n, "maxPriorityFeePerGas raised by at least 10 %").to.equal(true);
      await network.provider.send("evm_mine", []);
    } finally {
      await network.provider.send("evm_setAutomine", [true]);
    }
    await sender().drain();
    const record = (await store.getOperation(op))!;
    expect(record.status).to.equal("confirmed");
    const receipts = await Promise.all(step.transactions.map((t) => edges.provider.getTransactionReceipt(t.hash)));
    expect(receipts.filter((r) => r !== null), "one transaction of the nonce is mined").to.have.length(1);
    expect(record.steps[0].landed?.txHash).to.equal(receipts.find((r) => r !== null)!.hash);
    expect(await entriesWithRef(account, record.steps[0].ref)).to.equal(1);
    expect((await edges.l.ledger.accountOf(account)).seq).to.equal(1n);
  });

  it("fills a nonce gap: a batch transaction the node lost is broadcast again, and the later nonce behind it lands too", async () => {
    const [a, b] = [newId(), newId()];
    const opA = await enqueue(a, [{ fn: "openAccount", account: a, tier: 1, exposureCap: 8_000_000n }]);
    const opB = await enqueue(b, [{ fn: "openAccount", account: b, tier: 1, exposureCap: 8_000_000n }]);
    await network.provider.send("evm_setAutomine", [false]);
    try {
      const s = sender({ batching: { maxOps: 1 } });
      await s.processNext(); // two batches of one step, consecutive nonces, both pending
      const [first, second] = [(await store.getOperation(opA))!.steps[0], (await store.getOperation(opB))!.steps[0]];
      expect(second.transactions[0].nonce).to.equal(first.transactions[0].nonce + 1);
      await network.provider.send("hardhat_dropTransaction", [first.transactions[0].hash]);
      await network.provider.send("evm_mine", []);
      expect(await edges.provider.getTransactionReceipt(second.transactions[0].hash), "the later nonce waits behind the gap").to.equal(null);
      await s.processNext(); // the node does not know the first: broadcast again
      await network.provider.send("evm_mine", []);
      await s.drain();
    } finally {
      await network.provider.send("evm_setAutomine", [true]);
    }
    for (const [op, account] of [[opA, a], [opB, b]]) {
      const record = (await store.getOperation(op))!;
      expect(record.status).to.equal("confirmed");
      expect(record.steps[0].transactions, "no new transaction was signed for the gap").to.have.length(1);
      expect(await entriesWithRef(account, record.steps[0].ref)).to.equal(1);
    }
  });

  it("a reorg that drops a mined batch under the confirmations: the step is resolved only at the configured depth, exactly once", async () => {
    const account = newId();
    const op = await enqueue(account, [{ fn: "openAccount", account, tier: 1, exposureCap: 8_000_000n }]);
    const snapshot = await network.provider.send("evm_snapshot", []);
    const s = sender({ confirmations: 3 });
    await s.processNext(); // sent, mined at once (automine): 1 block deep
    const mined = (await store.getOperation(op))!.steps[0];
    const first = await edges.provider.getTransactionReceipt(mined.transactions[0].hash);
    expect(first).to.not.equal(null);
    await network.provider.send("evm_mine", []);
    await s.processNext(); // 2 blocks deep: not yet
    expect((await store.getOperation(op))!.status, "not resolved under the confirmations").to.equal("pending");
    await network.provider.send("evm_revert", [snapshot]); // the blocks with the batch are gone
    expect(await edges.provider.getTransactionReceipt(mined.transactions[0].hash)).to.equal(null);
    await s.processNext(); // no receipt, the nonce free: broadcast again
    for (let i = 0; i < 3; i++) await network.provider.send("evm_mine", []);
    await s.drain();
    const record = (await store.getOperation(op))!;
    expect(record.status).to.equal("confirmed");
    expect(record.steps[0].transactions.map((t) => t.hash), "the same transaction, broadcast again").to.deep.equal([mined.transactions[0].hash]);
    expect(await entriesWithRef(account, record.steps[0].ref), "on-chain once").to.equal(1);
    const receipt = (await edges.provider.getTransactionReceipt(record.steps[0].landed!.txHash))!;
    expect(record.steps[0].landed?.blockNumber).to.equal(receipt.blockNumber);
    expect((await edges.l.ledger.accountOf(account)).seq).to.equal(1n);
  });

  it("resolves a batch with refused calls in the middle step by step: the refused one fails with its decoded error, a later step of its account comes back to queued (SeqMismatch) and confirms next, the others confirm", async () => {
    const [a, b] = [newId(), newId()];
    await enqueue(a, await openAndGrant(a));
    await enqueue(b, await openAndGrant(b));
    await sender().drain();
    const purchase = (account: string, amount: bigint): LedgerCall => ({ fn: "purchase", account, productId: PAY_LATER_ID, amount, periods: 1 });
    const ok1 = await enqueue(a, [purchase(a, 1_000n)]);
    const refused = await enqueue(a, [purchase(a, 5_000_000n)]);
    const behind = await enqueue(a, [purchase(a, 2_000n)]);
    const other = await enqueue(b, [purchase(b, 3_000n)]);
    const sizes: number[] = [];
    const s = sender();
    s.on("batch", (batch: { size: number }) => sizes.push(batch.size));
    await s.drain();
    expect(sizes, "one batch of four, then the requeued step alone").to.deep.equal([4, 1]);
    const [r1, rRefused, rBehind, rOther] = await Promise.all([ok1, refused, behind, other].map(async (id) => (await store.getOperation(id))!));
    expect([r1, rRefused, rBehind, rOther].map((r) => r.status)).to.deep.equal(["confirmed", "failed", "confirmed", "confirmed"]);
    const failure = rRefused.error as Extract<StepFailure, { kind: "ledger-revert" }>;
    expect(failure.revert.name).to.equal("LimitExceeded");
    expect(failure.revert.args).to.deep.include({ requested: 5_000_000n, available: 999_000n });
    expect(r1.steps[0].landed!.txHash, "applied in the same batch transaction").to.equal(rOther.steps[0].landed!.txHash);
    expect(rRefused.steps[0].transactions[0].hash).to.equal(r1.steps[0].landed!.txHash);
    expect(rBehind.steps[0].requeues).to.equal(1);
    expect(rBehind.steps[0].transactions, "carried by two batches").to.have.length(2);
    expect(rBehind.steps[0].landed!.txHash).to.equal(rBehind.steps[0].transactions[1].hash);
    expect([r1, rBehind].map((r) => r.steps[0].landed!.seq)).to.deep.equal([3n, 4n]);
    expect((await edges.l.ledger.accountOf(a)).seq).to.equal(4n);
    for (const [account, op] of [[a, r1], [a, rBehind], [b, rOther]] as const) expect(await entriesWithRef(account, op.steps[0].ref)).to.equal(1);

    // The indexer reads the batch's logs (entries, OperationRefused, LedgerAdvanced) into the read model.
    const indexer = new Indexer({ store, client: edges.client, logger: silentLogger(), startBlock: 0, confirmations: 1, pollIntervalMs: 5 });
    await indexer.syncTo(await edges.provider.getBlockNumber());
    expect((await store.entriesOf(a)).map((e) => [e.name, e.seq])).to.deep.equal([
      ["AccountOpened", 1n],
      ["LineGranted", 2n],
      ["Drawn", 3n],
      ["Drawn", 4n],
    ]);
  });

  /** How many entries on-chain carry `ref`. */
  async function entriesWithRef(account: string, ref: string): Promise<number> {
    const latest = await edges.provider.getBlockNumber();
    const logs = await edges.client.logs(0, latest, account);
    return logs.map((log) => edges.client.decodeEntry(log)).filter((e) => e?.ref.toLowerCase() === ref.toLowerCase()).length;
  }

  it("the indexer puts every entry in the read model, and the chain rebuilt from it ends at the on-chain head", async () => {
    const account = newId();
    await enqueue(account, [
      ...(await openAndGrant(account)),
      { fn: "grantLine", ...(await scored(account, "cash_loan")) },
      { fn: "drawCash", account, productId: CASH_LOAN_ID, amount: 300_000n, periods: 6, method: 2 },
      { fn: "repay", account, loanNo: 1, amount: 10_000n },
    ]);
    await sender().drain();
    const indexer = new Indexer({
      store,
      client: edges.client,
      logger: silentLogger(),
      startBlock: 0,
      confirmations: 1,
      pollIntervalMs: 5,
    });
    await indexer.syncTo(await edges.provider.getBlockNumber());
    const entries = await store.entriesOf(account);
    expect(entries.map((e) => e.name)).to.deep.equal(["AccountOpened", "LineGranted", "LineGranted", "Drawn", "Repaid"]);
    const onChain = await edges.l.ledger.accountOf(account);
    const check = verifyChain(
      entries.map((e) => ({
        seq: e.seq,
        kind: e.kind,
        payloadHash: e.payloadHash,
        head: e.head,
      })),
      { seq: onChain.seq, head: onChain.head }
    );
    expect(check.ok).to.equal(true);
    const loan = (await store.loanSnapshot(account, 1))!;
    expect(loan.productId).to.equal(CASH_LOAN_ID);
    expect(loan.terms.principal).to.equal(300_000n);
    const [, state] = await edges.l.ledger.loanOf(account, 1);
    expect(loan.state.principalSettled).to.equal(state.principalSettled);
    expect((await store.linesOf(account)).map((l) => [l.productId, l.line.used])).to.deep.equal([
      [PAY_LATER_ID, 0n],
      [CASH_LOAN_ID, 300_000n - state.principalSettled],
    ]);
    expect((await store.accountSnapshot(account))?.account.seq).to.equal(5n);
  });

  it("puts every step of a batch that reverts as a whole on-chain back to queued; once the cause is gone they land exactly once", async () => {
    const accounts = [newId(), newId(), newId()];
    const ops = [];
    for (const account of accounts) ops.push(await enqueue(account, [{ fn: "openAccount", account, tier: 1, exposureCap: 8_000_000n }]));
    // batch() is OPERATOR_ROLE only: without the role the whole transaction reverts (status 0), nothing applies.
    const OPERATOR_ROLE = await edges.l.ledger.OPERATOR_ROLE();
    await edges.l.ledger.connect(edges.l.admin).revokeRole(OPERATOR_ROLE, edges.operator.address);
    const s = sender();
    let reverted: string | undefined;
    try {
      expect(await s.processNext(), "the batch was sent").to.equal(true);
      const sent = (await store.getOperation(ops[0]))!.steps[0];
      expect(sent.status).to.equal("sent");
      reverted = sent.transactions[0].hash;
      expect((await edges.provider.getTransactionReceipt(reverted))?.status, "mined and reverted as a whole").to.equal(0);
      // Follows the batch: its receipt (status 0) puts the steps back to queued, and the same round sends them again.
      await s.processNext();
      for (const op of ops) {
        const step = (await store.getOperation(op))!.steps[0];
        expect(step.requeues, "requeued once").to.equal(1);
        expect(step.landed).to.equal(undefined);
      }
    } finally {
      await edges.l.ledger.connect(edges.l.admin).grantRole(OPERATOR_ROLE, edges.operator.address);
    }
    await s.drain();
    for (const [i, op] of ops.entries()) {
      const record = (await store.getOperation(op))!;
      expect(record.status).to.equal("confirmed");
      expect(record.steps[0].landed?.txHash).to.not.equal(reverted);
      expect((await edges.l.ledger.accountOf(accounts[i])).seq, "opened exactly once").to.equal(1n);
    }
  });
});
