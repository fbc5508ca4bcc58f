/**
 * The outbox sender: the only code that sends transactions. It groups queued steps into
 * `batch` transactions (ICreditLedger.batch: many ledger calls in one transaction, a refused
 * call recorded as `OperationRefused` without sinking the others) and keeps several of them in
 * flight with consecutive nonces:
 *
 *   queued  -> chosen for a batch (outbox order; at most `maxOps`; sent when full or when the
 *              oldest chosen step has waited `waitMs`) -> its expected seq assigned (the account's
 *              seq, or the seq after its steps already in flight or earlier in the batch); a
 *              decision step's decision signed by the scorer process at this moment (a refusal
 *              fails the step with the scorer's code; an unreachable scorer is retried like the
 *              RPC) -> its gas limit the sum of a bound per call -> signed with the next nonce ->
 *              STORED (the raw transaction, the steps it carries at their positions, each
 *              step's expected seq and signed arguments) -> broadcast
 *   in flight -> the batch's receipt with the configured confirmations resolves each of its
 *              steps: its entry (found by ref in the receipt's logs) confirms it; an
 *              `OperationRefused` at its index fails it with the decoded custom error, except
 *              `SeqMismatch`, which puts it back to queued (an earlier step of its account, in
 *              this batch or an earlier one, was refused, so the seq it expected never came); a
 *              batch that reverted as a whole puts all its steps back to queued.
 *              No receipt: a transaction the node does not know (stored before a crash and never
 *              sent, dropped from the pool, or mined in blocks a reorg removed) is broadcast
 *              again, so no nonce stays a gap; one unmined for `stuckAfterMs` is replaced (same
 *              nonce, same calls, fees raised by at least FEE_BUMP_PERCENT).
 *
 * Why a crash, a lost transaction or a reorg loses nothing and posts nothing twice:
 *  1. A step is durable before anything is sent (the API accepted it into the outbox), and a
 *     batch is stored, with the steps it carries, before it is broadcast: after a crash every
 *     transaction that may be on the network is in the store, and the nonce after the highest
 *     stored one is the floor of new nonces, so a stored nonce is never reused for other calls.
 *  2. Every call names the seq it expects, so it applies at most once: a replacement carries
 *     the same calls at the same nonce, and of all the transactions of one nonce at most one
 *     is mined.
 *  3. A step leaves a batch only on that batch's receipt at the configured confirmations
 *     (applied: confirmed; refused: failed or back to queued), or when its nonce is spent, as
 *     deep as the confirmations, with none of the batch's transactions mined (then none of
 *     them can apply any more, and its entry is looked for by ref before it goes back to
 *     queued). So a step is queued again only when no transaction carrying it can still apply,
 *     and it is resolved only from blocks deep enough that a reorg within the configured
 *     confirmations cannot undo it; shallower, a reorg only makes the receipt disappear, and
 *     the transaction is broadcast again at the same nonce.
 *  4. Steps of one account go in outbox order: within a batch with consecutive seqs; behind
 *     steps of the same account in flight with the seqs after theirs (transactions of
 *     consecutive nonces run in nonce order, so the earlier ones have run when a later one
 *     runs; an earlier refusal makes the later ones SeqMismatch and they come back queued, in
 *     order). A step queued again behind steps of its account still in flight waits until
 *     they are resolved, and a decision step waits until its account has nothing in flight
 *     (the decision's nonce is the account's when it is signed).
 * Transient RPC failures are retried with backoff; the steps stay where they were.
 */
import { EventEmitter } from "node:events";
import { performance } from "node:perf_hooks";
import { isError, keccak256, Transaction, type Provider, type Signer, type TransactionReceipt, type TransactionRequest } from "ethers";

import type { Clock } from "../clock";
import type { Logger } from "../logger";
import type { GatewayMetrics } from "../metrics";
import type { BatchRecord, StepOutcome, StepRecord, Store, TransactionRecord } from "../store/store";
import { backoffDelay, DEFAULT_BACKOFF, Sleeper, type BackoffPolicy } from "./backoff";
import { isDecisionRefusal, type DecisionSigner } from "./scorer-client";
import { accountOfCall, callArguments, isDecisionCall, needsDecision, type LedgerCall, type SignedDecision } from "./ledger-calls";
import type { LedgerEntry } from "../../core/ledger-events";
import type { LedgerAccount } from "../../core/ledger-structs";
import type { LedgerClient } from "./ledger-client";
import type { LedgerRevert } from "./ledger-errors";
import { NonceManager } from "./nonce-manager";

/**
 * The signers of the batch transactions still in flight other than `operator`, with how many
 * each: a gateway started with a new operator key refuses to send while the old key's are
 * unresolved (their nonces are the old key's; only it can replace one that is stuck).
 */
export async function inFlightOfOtherKeys(store: Pick<Store, "pendingBatches">, operator: string): Promise<Array<{ from: string; count: number }>> {
  const counts = new Map<string, number>();
  for (const batch of await store.pendingBatches()) {
    const latest = batch.transactions[batch.transactions.length - 1];
    const from = latest === undefined ? null : Transaction.from(latest.raw).from;
    if (from !== null && from.toLowerCase() !== operator.toLowerCase()) counts.set(from, (counts.get(from) ?? 0) + 1);
  }
  return [...counts].map(([from, count]) => ({ from, count }));
}

/** How a failed step's error is stored (and later mapped to a problem document). */
export type StepFailure =
  | { kind: "ledger-revert"; revert: LedgerRevert }
  /** The scorer would not sign the step's decision (docs/SCORER.md: UnknownDecision, DecisionAltered, DecisionExpired, …). */
  | { kind: "scorer-refusal"; code: string; status: number; detail: string; details: Record<string, unknown> };

/** Points of a send where a test can simulate a crash (throw) or watch. */
export interface SenderHooks {
  /** The batch and its signed transaction are stored; nothing is broadcast yet. */
  afterStore?(batch: BatchRecord): void | Promise<void>;
  /** The batch's transaction is broadcast; its outcome is not recorded yet. */
  afterBroadcast?(batch: BatchRecord): void | Promise<void>;
}

/** How steps are grouped into batch transactions, and how many of those may be in flight. */
export interface BatchingOptions {
  /** Most ledger calls in one batch transaction. */
  maxOps: number;
  /** Longest a chosen step waits for its batch to fill before the batch goes as it is (ms). */
  waitMs: number;
  /** Most batch transactions signed and not yet resolved at once (consecutive nonces). */
  maxInFlight: number;
}

/** server/config.ts sets these from GATEWAY_BATCH_MAX_OPS, GATEWAY_BATCH_WAIT_MS and GATEWAY_MAX_IN_FLIGHT. */
export const DEFAULT_BATCHING: BatchingOptions = { maxOps: 50, waitMs: 0, maxInFlight: 8 };

export interface OutboxSenderOptions {
  store: Store;
  client: LedgerClient;
  /** The operator key, connected to the provider: signs transactions (never decisions). */
  operator: Signer;
  /** The scorer process: signs the decisions it computed (the gateway holds no scorer key). */
  scorer: DecisionSigner;
  logger: Logger;
  clock: Clock;
  metrics?: GatewayMetrics;
  confirmations: number;
  pollIntervalMs: number;
  stuckAfterMs: number;
  batching?: Partial<BatchingOptions>;
  backoff?: BackoffPolicy;
  hooks?: SenderHooks;
  /** Milliseconds from a monotonic source, for the batch wait budget (default: performance.now). */
  monotonicMs?: () => number;
}

/** What the sender tells listeners about each batch it broadcasts (benchmarks count sizes and gas). */
export interface BatchSent {
  batchId: number;
  nonce: number;
  size: number;
  gasLimit: bigint;
}

/** How often a step may come back to queued from batches before it is failed (NotApplied). */
const MAX_REQUEUES = 10;
/** How many transactions a step signed one by one (before batches) may have had: the legacy bound. */
const MAX_LEGACY_RESENDS = 5;
/** How many times to look again for an entry when the seq moved on without it (slow log indexing). */
const MAX_REF_LOOKUPS = 10;
/** A replacement raises maxFeePerGas and maxPriorityFeePerGas (or gasPrice) by at least this much. */
export const FEE_BUMP_PERCENT = 12n;
/**
 * The gas limit of a batch is the sum of a bound per call, not an eth_estimateGas of the batch.
 * A simulation runs against the latest (or pending) state, where a call behind a batch still in
 * flight is refused cheaply (SeqMismatch) and so not covered, and on a node with many batches
 * pending each estimate re-executes all of them, several times over (the estimate's search):
 * it was the sender's bottleneck. Each bound is the call's dearest direct transaction in
 * docs/GAS.md, rounded up: that includes the 21,000 base of a transaction, which a call in a
 * batch does not pay again, and which covers what a call in a batch adds (its ledger-wide head,
 * the LedgerAdvanced event, its share of the calldata). Unused gas is not charged; what the
 * bounds over-reserve only limits how many batches a block takes. A batch whose gas falls short
 * reverts as a whole (the ledger does not record an out-of-gas call as a refusal) and its steps
 * go back to queued, to be sent again (failed NotApplied after MAX_REQUEUES).
 */
const CALL_GAS_BOUND: Record<string, bigint> = {
  openAccount: 80_000n,
  setExposureCap: 50_000n,
  recordDecline: 90_000n,
  grantLine: 140_000n,
  increaseLimit: 110_000n,
  cutLimit: 60_000n,
  freezeLine: 75_000n,
  unfreezeLine: 60_000n,
  reinstateLine: 90_000n,
  purchase: 160_000n,
  drawCash: 160_000n,
  refund: 120_000n,
  repay: 120_000n,
  restructure: 270_000n,
  writeOff: 150_000n,
};
/** A call not in the table (none today): the dearest bound. */
const DEFAULT_CALL_GAS_BOUND = 300_000n;
/** The batch transaction's own cost besides its calls: the 21,000 base, the loop, the array's encoding. */
const BATCH_BASE_GAS = 40_000n;
/** The most gas one transaction may ask for (EIP-7825's cap, which nodes enforce at broadcast). */
export const TX_GAS_CAP = 16_777_216n;
/** Queued steps read per round: enough to fill every free batch. */
const SCAN_FACTOR = 4;

export class OutboxSender extends EventEmitter {
  private readonly store: Store;
  private readonly client: LedgerClient;
  private readonly provider: Provider;
  private readonly nonces: NonceManager;
  private readonly batching: BatchingOptions;
  private readonly monotonicMs: () => number;
  private readonly idle = new Sleeper();
  private readonly backoffSleep = new Sleeper();
  /** When this process first saw each queued step (the wait budget runs from there). */
  private readonly firstSeen = new Map<number, number>();
  /** The block at which each batch was last found unmined: it is looked at again when the chain moves. */
  private readonly checkedAt = new Map<number, number>();
  /**
   * Accounts' seqs as the batches this process resolved left them (the sender is the ledger's
   * only writer): a batch reads only the accounts it has not seen, and decision steps' accounts
   * (their decision nonce). A stale value costs a SeqMismatch and a requeue, never a double
   * post (the ledger checks every expected seq); a requeue of an account's step forgets it.
   */
  private readonly knownSeq = new Map<string, bigint>();
  /** The fees of new transactions, read once per block. */
  private fees?: { block: number; maxFeePerGas: bigint | null; maxPriorityFeePerGas: bigint | null; gasPrice: bigint | null };
  /** Until when the batch being filled may wait (ms, monotonic). */
  private fillDeadline?: number;
  private running = false;
  private loop?: Promise<void>;

  constructor(private readonly options: OutboxSenderOptions) {
    super();
    this.store = options.store;
    this.client = options.client;
    this.provider = options.client.provider;
    this.nonces = new NonceManager(this.provider, options.client.operatorAddress);
    this.batching = { ...DEFAULT_BATCHING, ...options.batching };
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
  }

  /** Starts draining in the background. */
  start(): void {
    if (this.loop) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Work arrived: stop idling. */
  notify(): void {
    this.idle.interrupt();
  }

  /** Finishes the round in hand and stops. */
  async stop(): Promise<void> {
    this.running = false;
    this.idle.interrupt();
    this.backoffSleep.interrupt();
    await this.loop;
    this.loop = undefined;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        const worked = await this.processNext();
        failures = 0;
        if (!worked && this.running) await this.idle.sleep(this.idleMs());
      } catch (error) {
        failures += 1;
        this.options.metrics?.rpcRetries.inc({ component: "sender" });
        this.options.logger.warn({ err: error, failures }, "outbox sender: round failed transiently, retrying with backoff");
        this.nonces.reset();
        this.knownSeq.clear();
        if (this.running) await this.backoffSleep.sleep(backoffDelay(this.options.backoff ?? DEFAULT_BACKOFF, failures));
      }
    }
  }

  /** The poll interval, or less when a batch being filled is due sooner. */
  private idleMs(): number {
    if (this.fillDeadline === undefined) return this.options.pollIntervalMs;
    return Math.max(1, Math.min(this.options.pollIntervalMs, Math.ceil(this.fillDeadline - this.monotonicMs())));
  }

  /**
   * One round: follows every transaction in flight (resolving the batches whose receipts are
   * deep enough, broadcasting again or replacing the others), then fills the free places of the
   * pipeline with new batches. Returns whether anything moved.
   */
  async processNext(): Promise<boolean> {
    let moved = await this.followUnbatched();
    const pending = await this.store.pendingBatches();
    const latest = pending.length > 0 ? await this.provider.getBlockNumber() : 0;
    let inFlight = pending.length;
    for (const batch of pending) {
      const progress = await this.followBatch(batch, latest);
      if (progress !== "waiting") moved = true;
      if (progress === "resolved") inFlight -= 1;
    }
    while (inFlight < this.batching.maxInFlight && (await this.sendNextBatch())) {
      moved = true;
      inFlight += 1;
    }
    return moved;
  }

  /** Processes until the outbox is empty (for scripts and tests that run the sender inline). */
  async drain(): Promise<void> {
    while ((await this.store.outboxDepth()).depth > 0) {
      if (!(await this.processNext())) await this.idle.sleep(this.idleMs());
    }
  }

  // ---------------------------------------------------------------- queued: choose, sign, store, broadcast

  /** Builds, stores and broadcasts the next batch; false when nothing is ready to go. */
  private async sendNextBatch(): Promise<boolean> {
    const { maxOps, waitMs } = this.batching;
    const queued = await this.store.queuedSteps(maxOps * SCAN_FACTOR);
    this.forgetUnqueued(queued);
    if (queued.length === 0) {
      this.fillDeadline = undefined;
      return false;
    }
    const candidates = chooseSteps(queued, await this.store.inFlightSteps(), maxOps);
    if (candidates.length === 0) {
      this.fillDeadline = undefined;
      return false;
    }
    const oldest = Math.min(...candidates.map((c) => this.firstSeen.get(c.step.id)!));
    if (candidates.length < maxOps && this.monotonicMs() - oldest < waitMs) {
      this.fillDeadline = oldest + waitMs;
      return false;
    }
    this.fillDeadline = undefined;

    // The seqs and decision nonces of the accounts with nothing in flight, read at once.
    const toRead = [
      ...new Set(
        candidates
          .filter((c) => c.seqAfter === undefined && (needsDecision(c.step.call as LedgerCall) || !this.knownSeq.has(c.account)))
          .map((c) => c.account)
      ),
    ];
    const read = new Map<string, LedgerAccount>(
      await Promise.all(toRead.map(async (account) => [account, await this.client.accountOf(account)] as const))
    );

    const members: Array<{ step: StepRecord; expectedSeq: bigint; sentCall: Record<string, unknown>; data: string }> = [];
    const nextSeq = new Map<string, bigint>();
    const blocked = new Set<string>();
    for (const c of candidates) {
      if (blocked.has(c.account)) continue;
      const call = c.step.call as LedgerCall;
      const seq = nextSeq.get(c.account) ?? c.seqAfter ?? read.get(c.account)?.seq ?? this.knownSeq.get(c.account)!;
      const expectedSeq = call.fn === "openAccount" ? 0n : seq;
      let signed: SignedDecision | undefined;
      if (needsDecision(call)) {
        const outcome = await this.signDecision(c.step, call, read.get(c.account)!);
        if (outcome === "failed") {
          blocked.add(c.account); // its later steps would expect the seq this one takes
          continue;
        }
        signed = outcome;
      }
      const sentCall = callArguments(call, c.step.ref, expectedSeq, signed);
      members.push({ step: c.step, expectedSeq, sentCall, data: this.client.encode(call.fn, sentCall) });
      nextSeq.set(c.account, seq + 1n);
    }
    if (members.length === 0) return true; // every candidate failed at the scorer: that moved them

    const data = this.client.encodeBatch(members.map((m) => m.data));
    const bound = members.reduce((sum, m) => sum + (CALL_GAS_BOUND[m.step.fn] ?? DEFAULT_CALL_GAS_BOUND), BATCH_BASE_GAS);
    const gasLimit = min(bound, TX_GAS_CAP);

    const floor = Math.max(0, ...(await this.store.pendingBatches()).map((b) => b.nonce + 1), ...(await this.unbatchedNonces()).map((n) => n + 1));
    const nonce = await this.nonces.peek(floor);
    const raw = await this.sign({ to: this.client.address, data, nonce, gasLimit, ...(await this.currentFees()) });
    const tx: TransactionRecord = { hash: keccak256(raw), nonce, raw, createdAt: this.nowIso() };
    const batch = await this.store.recordBatch({
      nonce,
      tx,
      steps: members.map((m) => ({ stepId: m.step.id, expectedSeq: m.expectedSeq, sentCall: m.sentCall })),
    });
    this.nonces.commit(nonce);
    for (const m of members) this.firstSeen.delete(m.step.id);
    await this.options.hooks?.afterStore?.(batch);
    await this.broadcastRaw(tx);
    this.options.metrics?.transactionsSent.inc({ kind: "new" });
    this.options.logger.debug({ batch: batch.id, nonce, size: members.length, gasLimit: String(gasLimit) }, "batch sent");
    this.emit("batch", { batchId: batch.id, nonce, size: members.length, gasLimit } satisfies BatchSent);
    await this.options.hooks?.afterBroadcast?.(batch);
    return true;
  }

  /** Starts the wait budget of newly seen queued steps; forgets the steps no longer queued. */
  private forgetUnqueued(queued: StepRecord[]): void {
    const now = this.monotonicMs();
    const ids = new Set(queued.map((s) => s.id));
    for (const id of this.firstSeen.keys()) if (!ids.has(id)) this.firstSeen.delete(id);
    for (const s of queued) if (!this.firstSeen.has(s.id)) this.firstSeen.set(s.id, now);
  }

  /** The scorer signs the step's decision with the account's decision nonce; "failed" when it refuses (the step is failed). */
  private async signDecision(step: StepRecord, call: LedgerCall, account: LedgerAccount): Promise<SignedDecision | "failed"> {
    if (!needsDecision(call)) throw new Error(`${call.fn} takes no decision`);
    // The scorer's decision the call was accepted with: a line decision's, or a restructure's
    // (purpose Restructure, for exactly its terms) or a reinstatement's (purpose Reinstate).
    const approval = isDecisionCall(call) ? { id: call.scorerDecision, draft: call.decision } : call.approval;
    if (approval === undefined) {
      // Queued before restructures and reinstatements needed decisions: fails, naming what is
      // missing; never a gateway-made signature.
      const [code, detail] =
        call.fn === "restructure"
          ? ["RestructureDecisionUnavailable", "a restructure needs a scorer decision of purpose Restructure for its terms, and this step has none; restructure again"]
          : ["ReinstateDecisionUnavailable", "a reinstatement needs a scorer decision of purpose Reinstate for the line, and this step has none; reinstate again"];
      await this.settleFailed(step, { kind: "scorer-refusal", code, status: 422, detail, details: {} }, code);
      return "failed";
    }
    const latest = await this.client.latestBlock();
    try {
      return await this.options.scorer.sign(approval.id, approval.draft, account.decisionNonce, latest.timestamp);
    } catch (error) {
      // The scorer's answer about this decision fails the step; an unreachable scorer is retried.
      if (!isDecisionRefusal(error)) {
        await this.store.recordAttempt(step.id, messageOf(error));
        throw error;
      }
      await this.settleFailed(step, { kind: "scorer-refusal", code: error.code, status: error.status, detail: error.detail, details: error.details }, error.code);
      return "failed";
    }
  }

  /** The fees a new transaction offers: the node's suggestion, read once per block. */
  private async currentFees(): Promise<TransactionRequest> {
    const block = await this.provider.getBlockNumber();
    if (this.fees?.block !== block) {
      const f = await this.provider.getFeeData();
      this.fees = { block, maxFeePerGas: f.maxFeePerGas, maxPriorityFeePerGas: f.maxPriorityFeePerGas, gasPrice: f.gasPrice };
    }
    const { maxFeePerGas, maxPriorityFeePerGas, gasPrice } = this.fees;
    const base = { chainId: this.client.chainId };
    if (maxFeePerGas !== null && maxPriorityFeePerGas !== null) return { ...base, type: 2, maxFeePerGas, maxPriorityFeePerGas };
    return gasPrice !== null ? { ...base, gasPrice } : base;
  }

  private async sign(request: TransactionRequest): Promise<string> {
    const populated = await this.options.operator.populateTransaction(request);
    return this.options.operator.signTransaction(populated);
  }

  /**
   * Broadcasts a stored transaction; false when the node refused this transaction itself (too
   * cheap now, or asking for more gas than it takes): it must be replaced at its nonce. Throws
   * only when the node could not be asked (retried with backoff).
   */
  private async broadcastRaw(tx: TransactionRecord): Promise<boolean> {
    try {
      await this.provider.broadcastTransaction(tx.raw);
      return true;
    } catch (error) {
      // Already known, nonce spent, or (on nodes that answer a mined revert with an error)
      // reverted: following the batch finds out what happened from receipts.
      const message = messageOf(error);
      if (isError(error, "NONCE_EXPIRED") || isError(error, "REPLACEMENT_UNDERPRICED")) return true;
      if (/already known|known transaction|nonce too low|nonce has already been used|already imported/i.test(message)) return true;
      if (this.client.decodeRevert(error) !== undefined || isError(error, "CALL_EXCEPTION")) return true;
      if (/underpriced|fee too low|less than block base fee|feecap|fee cap|gas limit|gas cap|intrinsic gas/i.test(message)) {
        this.options.logger.warn({ tx: tx.hash, nonce: tx.nonce, err: error }, "the node refused a batch transaction's fees or gas; it is replaced at its nonce");
        return false;
      }
      throw error; // unreachable, or refused for a reason a replacement does not fix (funds): retried with backoff
    }
  }

  // ---------------------------------------------------------------- in flight: follow to an outcome

  /** Follows one pending batch: resolved (or dropped), moved (broadcast again or replaced), or waiting. */
  private async followBatch(batch: BatchRecord, latest: number): Promise<"resolved" | "moved" | "waiting"> {
    const seenUnmined = this.checkedAt.get(batch.id);
    const newest = batch.transactions[batch.transactions.length - 1];
    if (seenUnmined === latest) {
      // Unmined when this block was the latest: only the time can have made it stuck.
      return this.stuck(newest) ? this.replace(batch, newest) : "waiting";
    }
    const receipt = await this.receiptOf(batch);
    if (receipt) {
      this.checkedAt.delete(batch.id);
      if (latest - receipt.blockNumber + 1 < this.options.confirmations) return "waiting"; // not deep enough: a reorg may drop it
      await this.resolve(batch, receipt);
      return "resolved";
    }
    const confirmedBlock = Math.max(0, latest - this.options.confirmations + 1);
    if (await this.nonces.isUsed(batch.nonce, confirmedBlock)) {
      // Spent, as deep as the confirmations. Looked at again: a transaction of the batch mined
      // between the two reads is not taken for another's.
      const late = await this.receiptOf(batch);
      if (late) return this.followBatch(batch, Math.max(latest, late.blockNumber));
      this.checkedAt.delete(batch.id);
      await this.drop(batch, `nonce ${batch.nonce} was spent by a transaction that is none of batch ${batch.id}'s`);
      return "resolved";
    }
    this.checkedAt.set(batch.id, latest);
    if ((await this.provider.getTransaction(newest.hash)) === null) {
      // The node does not know it: stored before a crash, dropped from its pool, or mined in
      // blocks a reorg took away. Broadcast again, so its nonce is no gap for the later ones.
      this.options.logger.warn({ batch: batch.id, nonce: batch.nonce, tx: newest.hash }, "broadcasting a batch transaction the node does not know");
      if (await this.broadcastRaw(newest)) {
        this.options.metrics?.transactionsSent.inc({ kind: "rebroadcast" });
        return "moved";
      }
      return this.replace(batch, newest); // refused as too cheap now: a lost one is replaced
    }
    return this.stuck(newest) ? this.replace(batch, newest) : "waiting";
  }

  private async receiptOf(batch: BatchRecord): Promise<TransactionReceipt | null> {
    // Newest first: a replacement is the likelier to have landed.
    for (const tx of [...batch.transactions].reverse()) {
      const receipt = await this.provider.getTransactionReceipt(tx.hash);
      if (receipt) return receipt;
    }
    return null;
  }

  private stuck(newest: TransactionRecord): boolean {
    return this.options.clock.nowMs() - Date.parse(newest.createdAt) >= this.options.stuckAfterMs;
  }

  /** The batch's receipt is deep enough: each step's outcome from its entry or its refusal. */
  private async resolve(batch: BatchRecord, receipt: TransactionReceipt): Promise<void> {
    const steps = await this.store.batchSteps(batch.id);
    const applied = receipt.status === 1;
    const entries = new Map<string, LedgerEntry>();
    if (applied) {
      for (const log of receipt.logs) {
        const entry = this.client.decodeEntry(log);
        if (entry) entries.set(entry.ref.toLowerCase(), entry);
      }
    }
    const refusals = applied ? this.client.refusalsIn(receipt.logs) : new Map();
    const outcomes: StepOutcome[] = steps.map((step, position) => {
      const entry = entries.get(step.ref.toLowerCase());
      if (entry) return { stepId: step.id, outcome: "confirmed", landed: entry };
      const refusal = refusals.get(position);
      if (refusal && refusal.reason.name !== "SeqMismatch") {
        return { stepId: step.id, outcome: "failed", error: { kind: "ledger-revert", revert: refusal.reason } satisfies StepFailure };
      }
      const why = !applied
        ? `batch ${batch.id} (${receipt.hash}) reverted as a whole`
        : refusal
          ? `refused with SeqMismatch in batch ${batch.id}: an earlier step of the account was not applied`
          : `neither applied nor refused in batch ${batch.id}`;
      return this.requeueOrGiveUp(step, why);
    });
    await this.store.resolveBatch(batch.id, outcomes, "resolved");
    this.remember(steps, outcomes);
    this.settled(steps, outcomes);
  }

  /** What a resolved batch says of its accounts' seqs: the seq after their entries; unknown after a requeue. */
  private remember(steps: StepRecord[], outcomes: StepOutcome[]): void {
    outcomes.forEach((o, i) => {
      const account = steps[i].accountId.toLowerCase();
      if (o.outcome === "confirmed") {
        const known = this.knownSeq.get(account);
        if (known === undefined || o.landed.seq > known) this.knownSeq.set(account, o.landed.seq);
      }
    });
    outcomes.forEach((o, i) => {
      if (o.outcome === "requeued") this.knownSeq.delete(steps[i].accountId.toLowerCase());
    });
  }

  /** None of the batch's transactions can apply any more: its steps back to queued (unless their entry landed after all). */
  private async drop(batch: BatchRecord, why: string): Promise<void> {
    this.nonces.reset();
    const steps = await this.store.batchSteps(batch.id);
    const outcomes: StepOutcome[] = [];
    for (const step of steps) {
      const entry = await this.client.findEntryByRef(step.accountId, step.ref, step.fromBlock);
      outcomes.push(entry ? { stepId: step.id, outcome: "confirmed", landed: entry } : this.requeueOrGiveUp(step, why));
    }
    this.knownSeq.clear();
    this.options.logger.warn({ batch: batch.id, nonce: batch.nonce, why }, "batch dropped; its steps go back to queued");
    await this.store.resolveBatch(batch.id, outcomes, "dropped");
    this.settled(steps, outcomes);
  }

  private requeueOrGiveUp(step: StepRecord, why: string): StepOutcome {
    if (step.requeues + 1 >= MAX_REQUEUES) {
      const error: StepFailure = { kind: "ledger-revert", revert: { name: "NotApplied", args: { reason: why, requeues: step.requeues + 1 }, data: "0x" } };
      return { stepId: step.id, outcome: "failed", error };
    }
    return { stepId: step.id, outcome: "requeued", reason: why };
  }

  private async replace(batch: BatchRecord, stuck: TransactionRecord): Promise<"moved"> {
    const previous = Transaction.from(stuck.raw);
    const fees = await this.provider.getFeeData();
    const request: TransactionRequest = {
      to: previous.to,
      data: previous.data,
      nonce: stuck.nonce,
      gasLimit: min(previous.gasLimit, TX_GAS_CAP),
      ...(previous.maxFeePerGas !== null
        ? {
            maxFeePerGas: bumped(previous.maxFeePerGas, fees.maxFeePerGas),
            maxPriorityFeePerGas: bumped(previous.maxPriorityFeePerGas, fees.maxPriorityFeePerGas),
          }
        : { gasPrice: bumped(previous.gasPrice, fees.gasPrice) }),
    };
    const raw = await this.sign(request);
    const tx: TransactionRecord = { hash: keccak256(raw), nonce: stuck.nonce, raw, createdAt: this.nowIso() };
    await this.store.recordBatchReplacement(batch.id, tx);
    this.options.logger.warn({ batch: batch.id, stuck: stuck.hash, replacement: tx.hash }, "replacing a stuck batch transaction");
    await this.broadcastRaw(tx);
    this.options.metrics?.transactionsSent.inc({ kind: "replacement" });
    return "moved";
  }

  // ---------------------------------------------------------------- steps signed one by one (before batches)

  /** Nonces of the transactions of steps signed one by one before batches, still followed. */
  private async unbatchedNonces(): Promise<number[]> {
    return (await this.store.unbatchedSentSteps()).flatMap((s) => s.transactions.map((t) => t.nonce));
  }

  /**
   * A step a gateway before batches signed and sent alone: confirmed by its entry (in a receipt
   * or by ref), queued again once every nonce of its transactions is spent without it, its
   * newest transaction broadcast again while the node does not know it.
   */
  private async followUnbatched(): Promise<boolean> {
    let moved = false;
    for (const step of await this.store.unbatchedSentSteps()) {
      const newest = step.transactions[step.transactions.length - 1];
      if (!newest) {
        await this.store.requeue(step.id, "sent without a stored transaction");
        moved = true;
        continue;
      }
      const latest = await this.provider.getBlockNumber();
      const entry = await this.client.findEntryByRef(step.accountId, step.ref, step.fromBlock);
      if (entry) {
        if (latest - entry.blockNumber + 1 < this.options.confirmations) continue;
        await this.confirm(step, entry);
        moved = true;
        continue;
      }
      if (await this.nonces.isUsed(newest.nonce, Math.max(0, latest - this.options.confirmations + 1))) {
        const seq = (await this.client.accountOf(step.accountId)).seq;
        if (step.expectedSeq !== undefined && seq > step.expectedSeq && step.attempts < MAX_REF_LOOKUPS) {
          await this.store.recordAttempt(step.id, `seq is ${seq}, past ${step.expectedSeq}, entry not found yet`);
          continue;
        }
        this.nonces.reset();
        if (step.transactions.length >= MAX_LEGACY_RESENDS) {
          await this.settleFailed(step, { kind: "ledger-revert", revert: { name: "NotApplied", args: { reason: "no transaction of the step applied" }, data: "0x" } }, "NotApplied");
        } else {
          await this.store.requeue(step.id, `nonce ${newest.nonce} spent without the step's entry`);
        }
        moved = true;
        continue;
      }
      if ((await this.provider.getTransaction(newest.hash)) === null) {
        await this.broadcastRaw(newest);
        moved = true;
      }
    }
    return moved;
  }

  // ---------------------------------------------------------------- outcomes

  /** Logs, counts and announces the steps a batch resolved. */
  private settled(steps: StepRecord[], outcomes: StepOutcome[]): void {
    outcomes.forEach((o, i) => {
      const step = steps[i];
      if (o.outcome === "requeued") {
        this.options.logger.info({ operation: step.operationId, fn: step.fn, why: o.reason }, "outbox step back to queued");
        return;
      }
      this.options.metrics?.stepsSettled.inc({ fn: step.fn, outcome: o.outcome });
      if (o.outcome === "confirmed") {
        this.options.logger.info({ operation: step.operationId, fn: step.fn, tx: o.landed.txHash, seq: String(o.landed.seq) }, "outbox step confirmed");
      } else {
        const failure = o.error as StepFailure;
        const rule = failure.kind === "ledger-revert" ? failure.revert.name : failure.code;
        this.options.logger.info({ operation: step.operationId, fn: step.fn, rule }, "outbox step refused by the ledger");
      }
      this.emit("settled", step.operationId);
    });
  }

  private async confirm(step: StepRecord, entry: LedgerEntry): Promise<void> {
    await this.store.recordConfirmed(step.id, entry);
    this.settled([step], [{ stepId: step.id, outcome: "confirmed", landed: entry }]);
  }

  private async settleFailed(step: StepRecord, failure: StepFailure, rule: string): Promise<void> {
    await this.store.recordFailed(step.id, failure);
    this.options.metrics?.stepsSettled.inc({ fn: step.fn, outcome: "failed" });
    this.options.logger.info(
      { operation: step.operationId, fn: step.fn, rule },
      failure.kind === "scorer-refusal" ? "outbox step refused by the scorer" : "outbox step refused by the ledger"
    );
    this.emit("settled", step.operationId);
  }

  private nowIso(): string {
    return new Date(this.options.clock.nowMs()).toISOString();
  }
}

/** A queued step that may go in the next batch, and the seq after its account's steps in flight (undefined: none in flight). */
interface Candidate {
  step: StepRecord;
  account: string;
  seqAfter?: bigint;
}

/**
 * The queued steps that may go in the next batch, in outbox order (at most `maxOps`). An
 * account's steps keep their order: once one of its steps must wait, its later ones wait too.
 * A step waits when a step of its account with a later outbox position is in flight (it came
 * back to queued behind them), and a decision step waits while its account has anything in
 * flight or already has a decision step in this batch (its nonce is read when it is signed).
 */
export function chooseSteps(queued: readonly StepRecord[], inFlight: readonly StepRecord[], maxOps: number): Candidate[] {
  const flying = new Map<string, { maxId: number; seqAfter: bigint }>();
  for (const s of inFlight) {
    const account = s.accountId.toLowerCase();
    const prev = flying.get(account);
    const seqAfter = (s.expectedSeq ?? 0n) + 1n;
    flying.set(account, { maxId: Math.max(prev?.maxId ?? 0, s.id), seqAfter: prev && prev.seqAfter > seqAfter ? prev.seqAfter : seqAfter });
  }
  const blocked = new Set<string>();
  const decided = new Set<string>();
  const out: Candidate[] = [];
  for (const step of queued) {
    if (out.length >= maxOps) break;
    const call = step.call as LedgerCall;
    const account = accountOfCall(call).toLowerCase();
    if (blocked.has(account)) continue;
    const flight = flying.get(account);
    const waits = (flight !== undefined && flight.maxId > step.id) || (needsDecision(call) && (flight !== undefined || decided.has(account)));
    if (waits) {
      blocked.add(account);
      continue;
    }
    if (needsDecision(call)) decided.add(account);
    out.push({ step, account, seqAfter: flight?.seqAfter });
  }
  return out;
}

/** A fee raised by FEE_BUMP_PERCENT (and at least to what the node asks now). */
function bumped(old: bigint | null, current: bigint | null): bigint | undefined {
  if (old === null) return current ?? undefined;
  const raised = (old * (100n + FEE_BUMP_PERCENT) + 99n) / 100n + 1n;
  return current !== null && current > raised ? current : raised;
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
