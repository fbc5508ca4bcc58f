/**
 * The outbox sender: the only code that sends transactions. It drains the outbox one step at
 * a time, in order, so the operator's nonces and each account's seq advance predictably:
 *
 *   queued -> read the account's seq (and, for a decision, its nonce: the scorer process signs
 *             the decision id it computed, or refuses: the step fails with the scorer's
 *             code; a scorer that cannot be reached is retried like the RPC) ->
 *             simulate (a refusal fails the step with the decoded custom error) ->
 *             sign with the next nonce -> STORE the signed transaction -> broadcast
 *   sent   -> a receipt with the step's entry and enough confirmations: confirmed, with tx
 *             hash, block, log index and the decoded event (the Drawn loanNo, the Repaid
 *             allocation); no receipt: broadcast again after a restart, replace with a higher
 *             fee when stuck; reverted or nonce taken: look for the entry by its `ref`
 *             (an earlier transaction may have landed), else back to queued.
 *
 * Why a crash loses nothing and posts nothing twice: a step is durable before anything is
 * sent (the API accepted it into the outbox), a transaction is stored before it is broadcast,
 * and every transaction of a step names the seq it expects, so once one lands the others
 * revert with SeqMismatch; the step is only re-signed with a fresh seq when none of its
 * transactions can apply any more (their nonce is spent and the entry is not on-chain).
 * Transient RPC failures are retried with backoff; the step stays where it was.
 */
import { EventEmitter } from "node:events";
import { isError, keccak256, Transaction, type Provider, type Signer, type TransactionRequest } from "ethers";

import type { Clock } from "../clock";
import type { Logger } from "../logger";
import type { GatewayMetrics } from "../metrics";
import type { StepRecord, Store, TransactionRecord } from "../store/store";
import { backoffDelay, DEFAULT_BACKOFF, Sleeper, type BackoffPolicy } from "./backoff";
import { isDecisionRefusal, type DecisionSigner } from "./scorer-client";
import { accountOfCall, callArguments, isDecisionCall, needsDecision, type LedgerCall, type SignedDecision } from "./ledger-calls";
import type { LedgerEntry } from "../../core/ledger-events";
import type { LedgerClient } from "./ledger-client";
import type { LedgerRevert } from "./ledger-errors";
import { NonceManager } from "./nonce-manager";

/** How a failed step's error is stored (and later mapped to a problem document). */
export type StepFailure =
  | { kind: "ledger-revert"; revert: LedgerRevert }
  /** The scorer would not sign the step's decision (docs/SCORER.md: UnknownDecision, DecisionAltered, DecisionExpired, …). */
  | { kind: "scorer-refusal"; code: string; status: number; detail: string; details: Record<string, unknown> };

/** Points of a send where a test can simulate a crash (throw) or watch. */
export interface SenderHooks {
  /** The signed transaction is stored; nothing is broadcast yet. */
  afterStore?(step: StepRecord): void | Promise<void>;
  /** The transaction is broadcast; its outcome is not recorded yet. */
  afterBroadcast?(step: StepRecord): void | Promise<void>;
}

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
  backoff?: BackoffPolicy;
  hooks?: SenderHooks;
}

/** How many transactions a step may have signed (resends and replacements) before it is failed. */
const MAX_RESENDS = 5;
/** How many times to look again for an entry when the seq moved on without it (slow log indexing). */
const MAX_REF_LOOKUPS = 10;

export class OutboxSender extends EventEmitter {
  private readonly store: Store;
  private readonly client: LedgerClient;
  private readonly provider: Provider;
  private readonly nonces: NonceManager;
  private readonly idle = new Sleeper();
  private readonly backoffSleep = new Sleeper();
  /** Transactions broadcast by this process (after a restart, stored ones are broadcast again once). */
  private readonly broadcast = new Set<string>();
  private running = false;
  private loop?: Promise<void>;

  constructor(private readonly options: OutboxSenderOptions) {
    super();
    this.store = options.store;
    this.client = options.client;
    this.provider = options.client.provider;
    this.nonces = new NonceManager(this.provider, options.client.operatorAddress);
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

  /** Finishes the step in hand and stops. */
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
        if (!worked && this.running) await this.idle.sleep(this.options.pollIntervalMs);
      } catch (error) {
        failures += 1;
        this.options.metrics?.rpcRetries.inc({ component: "sender" });
        this.options.logger.warn({ err: error, failures }, "outbox sender: step failed transiently, retrying with backoff");
        this.nonces.reset();
        if (this.running) await this.backoffSleep.sleep(backoffDelay(this.options.backoff ?? DEFAULT_BACKOFF, failures));
      }
    }
  }

  /** Moves the first open step one transition forward; false when the outbox is empty. */
  async processNext(): Promise<boolean> {
    const step = await this.store.nextOpenStep();
    if (!step) return false;
    try {
      if (step.status === "queued") await this.send(step);
      else await this.follow(step);
    } catch (error) {
      await this.store.recordAttempt(step.id, error instanceof Error ? error.message : String(error));
      throw error;
    }
    return true;
  }

  /** Processes until the outbox is empty (for scripts and tests that run the sender inline). */
  async drain(): Promise<void> {
    while (await this.processNext()) {
      /* next */
    }
  }

  // ---------------------------------------------------------------- queued: sign, store, broadcast

  private async send(step: StepRecord): Promise<void> {
    const call = step.call as LedgerCall;
    const account = await this.client.accountOf(accountOfCall(call));
    const expectedSeq = call.fn === "openAccount" ? 0n : account.seq;
    let signed: SignedDecision | undefined;
    if (needsDecision(call)) {
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
        return;
      }
      const latest = await this.client.latestBlock();
      try {
        signed = await this.options.scorer.sign(approval.id, approval.draft, account.decisionNonce, latest.timestamp);
      } catch (error) {
        // The scorer's answer about this decision fails the step; an unreachable scorer is retried.
        if (!isDecisionRefusal(error)) throw error;
        await this.settleFailed(step, { kind: "scorer-refusal", code: error.code, status: error.status, detail: error.detail, details: error.details }, error.code);
        return;
      }
    }
    const args = callArguments(call, step.ref, expectedSeq, signed);
    const data = this.client.encode(call.fn, args);

    let gas: bigint;
    try {
      gas = await this.provider.estimateGas({ from: this.client.operatorAddress, to: this.client.address, data });
    } catch (error) {
      const revert = this.client.decodeRevert(error);
      if (!revert) throw error;
      // A seq that moved between the read and the simulation is a race, not a refusal: try again.
      if (revert.name === "SeqMismatch") throw new Error(`seq moved while sending step ${step.id}; retrying`);
      await this.fail(step, revert);
      return;
    }

    const nonce = await this.nonces.peek();
    const raw = await this.sign({ to: this.client.address, data, nonce, gasLimit: gas + gas / 5n + 20_000n });
    const tx: TransactionRecord = { hash: keccak256(raw), nonce, raw, createdAt: this.nowIso() };
    await this.store.recordSigned(step.id, expectedSeq, args, tx);
    this.nonces.commit(nonce);
    await this.options.hooks?.afterStore?.(step);
    await this.broadcastRaw(tx);
    this.options.metrics?.transactionsSent.inc({ kind: "new" });
    await this.options.hooks?.afterBroadcast?.(step);
  }

  private async sign(request: TransactionRequest): Promise<string> {
    const populated = await this.options.operator.populateTransaction(request);
    return this.options.operator.signTransaction(populated);
  }

  private async broadcastRaw(tx: TransactionRecord): Promise<void> {
    this.broadcast.add(tx.hash);
    try {
      await this.provider.broadcastTransaction(tx.raw);
    } catch (error) {
      // Already known, nonce spent, or (on nodes that answer a mined revert with an error)
      // reverted: `follow` finds out what happened from receipts and the ref.
      const message = error instanceof Error ? error.message : String(error);
      if (isError(error, "NONCE_EXPIRED") || isError(error, "REPLACEMENT_UNDERPRICED")) return;
      if (/already known|known transaction|nonce too low|nonce has already been used/i.test(message)) return;
      if (this.client.decodeRevert(error) !== undefined || isError(error, "CALL_EXCEPTION")) return;
      throw error;
    }
  }

  // ---------------------------------------------------------------- sent: follow to an outcome

  private async follow(step: StepRecord): Promise<void> {
    const newest = step.transactions[step.transactions.length - 1];
    if (!newest) {
      await this.store.requeue(step.id, "sent without a stored transaction");
      return;
    }
    for (const tx of [...step.transactions].reverse()) {
      const receipt = await this.provider.getTransactionReceipt(tx.hash);
      if (!receipt) continue;
      if (!(await this.deepEnough(receipt.blockNumber))) return this.pause();
      if (receipt.status === 1) {
        const entry = receipt.logs
          .map((log) => this.client.decodeEntry(log))
          .find((e) => e?.ref.toLowerCase() === step.ref.toLowerCase());
        if (entry) return this.confirm(step, entry);
      }
      return this.resolveByRef(step, `transaction ${tx.hash} reverted`);
    }
    if (await this.nonces.isUsed(newest.nonce)) {
      return this.resolveByRef(step, `nonce ${newest.nonce} was used by a transaction not of this step`);
    }
    if (!this.broadcast.has(newest.hash)) {
      await this.broadcastRaw(newest); // stored before a crash, maybe never sent
      return;
    }
    if (this.options.clock.nowMs() - Date.parse(newest.createdAt) >= this.options.stuckAfterMs) {
      await this.replace(step, newest);
      return;
    }
    await this.pause();
  }

  /** No transaction of the step has its entry: find the entry by ref, else (when safe) send afresh. */
  private async resolveByRef(step: StepRecord, why: string): Promise<void> {
    const entry = await this.client.findEntryByRef(step.accountId, step.ref, step.fromBlock);
    if (entry) {
      if (!(await this.deepEnough(entry.blockNumber))) return this.pause();
      return this.confirm(step, entry);
    }
    const seq = (await this.client.accountOf(step.accountId)).seq;
    if (step.expectedSeq !== undefined && seq > step.expectedSeq && step.attempts < MAX_REF_LOOKUPS) {
      // The seq moved on but the entry is not (yet) in the logs: look again before resending.
      await this.store.recordAttempt(step.id, `${why}; seq is ${seq}, past ${step.expectedSeq}, entry not found yet`);
      return this.pause();
    }
    // Every transaction of this step has a spent nonce and none applied: none can apply any more.
    this.nonces.reset();
    if (step.transactions.length >= MAX_RESENDS) {
      await this.fail(step, { name: "NotApplied", args: { reason: why }, data: "0x" });
      return;
    }
    this.options.logger.warn({ step: step.id, why }, "outbox step not applied; signing it again with a fresh seq");
    await this.store.requeue(step.id, why);
  }

  private async replace(step: StepRecord, stuck: TransactionRecord): Promise<void> {
    const previous = Transaction.from(stuck.raw);
    const fees = await this.provider.getFeeData();
    const bump = (old: bigint | null, current: bigint | null): bigint | undefined => {
      if (old === null) return current ?? undefined;
      const raised = old + old / 4n + 1n;
      return current !== null && current > raised ? current : raised;
    };
    const request: TransactionRequest = {
      to: previous.to,
      data: previous.data,
      nonce: stuck.nonce,
      gasLimit: previous.gasLimit,
      ...(previous.maxFeePerGas !== null
        ? {
            maxFeePerGas: bump(previous.maxFeePerGas, fees.maxFeePerGas),
            maxPriorityFeePerGas: bump(previous.maxPriorityFeePerGas, fees.maxPriorityFeePerGas),
          }
        : { gasPrice: bump(previous.gasPrice, fees.gasPrice) }),
    };
    const raw = await this.sign(request);
    const tx: TransactionRecord = { hash: keccak256(raw), nonce: stuck.nonce, raw, createdAt: this.nowIso() };
    await this.store.recordReplacement(step.id, tx);
    this.options.logger.warn({ step: step.id, stuck: stuck.hash, replacement: tx.hash }, "replacing a stuck transaction");
    await this.broadcastRaw(tx);
    this.options.metrics?.transactionsSent.inc({ kind: "replacement" });
  }

  // ---------------------------------------------------------------- outcomes

  private async confirm(step: StepRecord, entry: LedgerEntry): Promise<void> {
    await this.store.recordConfirmed(step.id, entry);
    this.options.metrics?.stepsSettled.inc({ fn: step.fn, outcome: "confirmed" });
    this.options.logger.info(
      { operation: step.operationId, fn: step.fn, tx: entry.txHash, seq: String(entry.seq) },
      "outbox step confirmed"
    );
    this.emit("settled", step.operationId);
  }

  private async fail(step: StepRecord, revert: LedgerRevert): Promise<void> {
    await this.settleFailed(step, { kind: "ledger-revert", revert }, revert.name);
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

  private async deepEnough(blockNumber: number): Promise<boolean> {
    const latest = await this.provider.getBlockNumber();
    return latest - blockNumber + 1 >= this.options.confirmations;
  }

  private pause(): Promise<void> {
    return this.idle.sleep(this.options.pollIntervalMs);
  }

  private nowIso(): string {
    return new Date(this.options.clock.nowMs()).toISOString();
  }
}
