/**
 * Pre-flight: before a request is accepted, its ledger call is simulated from the operator's
 * address against the account's current state, so a rule violation is answered at once
 * (a `LedgerRefusal` naming the rule) with nothing written. When earlier operations on the
 * account are still in the outbox the chain does not show their effect yet; the simulation is
 * then left to the sender, and a refusal fails the operation (visible on it, and in a waiting
 * response).
 *
 * A call without a decision names the account seq it expects, and that seq comes from the read
 * model (the indexer's copy of the account, in the gateway's database): one eth_call per
 * pre-flight, the simulation itself, where reading the account from the chain first made two.
 * The pre-flight runs only when none of the account's steps is open, so the read model's seq is
 * the chain's as soon as the indexer has seen the account's last entry. A read model that is
 * behind (or ahead, after a reorg) cannot make the answer wrong: the ledger refuses the stale
 * seq with SeqMismatch, and only then is the account read from the chain and the call
 * simulated again, so every answer, a pass or a refusal, is the ledger's own for the call as
 * it would be sent. (Checking with the TypeScript mirror against the read model would save the
 * simulation too, but then the answer would be the mirror's and the read model's, not the
 * ledger's: a rule the mirror got wrong, or state the indexer has not seen yet, would accept
 * a drawdown the ledger refuses.)
 *
 * A call that needs a scorer's decision is simulated with the decision unsigned (an empty
 * signature, named for the scorer's address; the pre-flight
 * holds that address only, no signer): the ledger checks the signature last, so
 * `InvalidDecisionSignature` alone means every other rule passes. The scorer is never asked
 * to sign for a simulation, so no valid signature reaches the RPC provider before the
 * operation is accepted; the sender has it signed just before sending.
 */
import { ZeroHash } from "ethers";

import type { Plain } from "../../core/ledger-structs";
import { lineDecision, reinstateDecision, restructureDecision, type Decision } from "../../core/decision";
import { callArguments, isDecisionCall, accountOfCall, needsDecision, type LedgerCall } from "../chain/ledger-calls";
import type { LedgerClient } from "../chain/ledger-client";
import { LedgerRevertError } from "../chain/ledger-errors";
import { LedgerRefusal, ledgerUnavailable } from "../errors";
import type { Store } from "../store/store";
import type { Reach, Viewer } from "./reach";

/** The deadline of a simulated decision, after the latest block (well within the ledger's MAX_DECISION_LIFETIME). */
const SIMULATED_DECISION_SECONDS = 3_600n;

export class Preflight {
  /** How many simulations of calls without a decision used which seq (the read model's should be the rule). */
  readonly seqSources: Record<SeqSource, number> = { "read model": 0, chain: 0 };

  constructor(
    private readonly client: LedgerClient,
    private readonly store: Store,
    private readonly reach: Reach,
    /** The scorer process's address (its decisions name it). */
    private readonly scorerAddress: string
  ) {}

  /** Whether the account has operations not yet on-chain (their effects are not visible to a simulation). */
  async hasPending(accountId: string): Promise<boolean> {
    return (await this.store.openStepsOf(accountId)).length > 0;
  }

  /**
   * Simulates `call`; throws a `LedgerRefusal` when the ledger would refuse it (`fieldAliases`:
   * the request's names for the call's parameters). A partner's call on an account or loan it
   * may not reach is refused first, as the ledger refuses an unknown one (reach.ts). Returns
   * the call's decoded result, or undefined when the simulation was left to the sender.
   */
  async check(
    call: LedgerCall,
    options: { fieldAliases?: Record<string, string>; viewer?: Viewer } = {}
  ): Promise<Record<string, Plain> | Plain[] | undefined> {
    const { fieldAliases } = options;
    if (options.viewer) await this.reach.checkCall(options.viewer, call, fieldAliases);
    const accountId = accountOfCall(call);
    if (await this.hasPending(accountId)) return undefined;
    try {
      if (!needsDecision(call)) return await this.simulate(call, accountId);
      const account = await this.client.accountOf(accountId);
      const latest = await this.client.latestBlock();
      const signing = {
        scorer: this.scorerAddress,
        nonce: account.decisionNonce,
        issuedAt: latest.timestamp,
        deadline: latest.timestamp + SIMULATED_DECISION_SECONDS,
      };
      let decision: Decision;
      if (isDecisionCall(call)) decision = lineDecision(call.decision, signing);
      else if (call.fn === "reinstateLine") decision = reinstateDecision({ account: call.account, productId: call.productId, tier: account.tier }, signing);
      else {
        const { terms } = await this.client.loanOf(call.account, call.loanNo).catch((error: unknown) => {
          const revert = this.client.decodeRevert(error);
          throw revert ? new LedgerRevertError(revert) : error;
        });
        decision = restructureDecision({ account: call.account, productId: terms.productId, tier: account.tier }, call, signing);
      }
      const args = callArguments(call, ZeroHash, account.seq, { decision, scorer: signing.scorer, signature: "0x" });
      try {
        await this.client.preflight(call.fn, args);
      } catch (error) {
        // The signature is the ledger's last check: refused for it alone, everything else passes.
        if (error instanceof LedgerRevertError && error.revert.name === "InvalidDecisionSignature") return undefined;
        throw error;
      }
    } catch (error) {
      if (error instanceof LedgerRevertError) throw new LedgerRefusal(error.revert, fieldAliases);
      throw ledgerUnavailable(error);
    }
    // An empty signature accepted: a bug, not an answer (500), whatever the ledger says next.
    throw new Error(`${call.fn} simulated with an empty signature did not revert: the ledger must check the scorer's signature`);
  }

  /**
   * Simulates a call without a decision with the seq the read model holds (openAccount: 0, the
   * account does not exist yet). When the ledger refuses that seq, its SeqMismatch names the
   * account's actual seq, and the call is simulated again with it; when the read model does not
   * have the account, the account is read from the chain first.
   */
  private async simulate(call: LedgerCall, accountId: string): Promise<Record<string, Plain> | Plain[]> {
    const known = call.fn === "openAccount" ? 0n : (await this.store.accountSnapshot(accountId))?.account.seq;
    if (known === undefined) {
      this.seqSources.chain += 1;
      return this.client.preflight(call.fn, callArguments(call, ZeroHash, (await this.client.accountOf(accountId)).seq));
    }
    try {
      const result = await this.client.preflight(call.fn, callArguments(call, ZeroHash, known));
      this.seqSources["read model"] += 1;
      return result;
    } catch (error) {
      const actual = call.fn === "openAccount" ? undefined : actualSeqOf(error);
      if (actual === undefined) throw error;
      this.seqSources.chain += 1;
      return this.client.preflight(call.fn, callArguments(call, ZeroHash, actual));
    }
  }
}

/** The account's seq on-chain, from the ledger's refusal of another one (SeqMismatch(account, expected, actual)). */
function actualSeqOf(error: unknown): bigint | undefined {
  if (!(error instanceof LedgerRevertError) || error.revert.name !== "SeqMismatch") return undefined;
  const args = error.revert.args;
  const actual = Array.isArray(args) ? args[2] : args.actual;
  return typeof actual === "bigint" ? actual : undefined;
}

/** How a call without a decision was simulated: with the read model's seq, or with the chain's after it. */
export type SeqSource = "read model" | "chain";

/** Runs a chain read; a failure that is not an answer of the ledger means it cannot be reached. */
export async function chainRead<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw ledgerUnavailable(error);
  }
}
