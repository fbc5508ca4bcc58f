/**
 * Pre-flight: before a request is accepted, its ledger call is simulated from the operator's
 * address against the account's current state, so a rule violation is answered at once
 * (a `LedgerRefusal` naming the rule) with nothing written. When earlier operations on the
 * account are still in the outbox the chain does not show their effect yet; the simulation is
 * then left to the sender, and a refusal fails the operation (visible on it, and in a waiting
 * response).
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
      const account = await this.client.accountOf(accountId);
      const seq = call.fn === "openAccount" ? 0n : account.seq;
      let args: Record<string, unknown>;
      if (needsDecision(call)) {
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
        args = callArguments(call, ZeroHash, seq, { decision, scorer: signing.scorer, signature: "0x" });
        try {
          await this.client.preflight(call.fn, args);
        } catch (error) {
          // The signature is the ledger's last check: refused for it alone, everything else passes.
          if (error instanceof LedgerRevertError && error.revert.name === "InvalidDecisionSignature") return undefined;
          throw error;
        }
      } else {
        args = callArguments(call, ZeroHash, seq);
        return await this.client.preflight(call.fn, args);
      }
    } catch (error) {
      if (error instanceof LedgerRevertError) throw new LedgerRefusal(error.revert, fieldAliases);
      throw ledgerUnavailable(error);
    }
    // An empty signature accepted: a bug, not an answer (500), whatever the ledger says next.
    throw new Error(`${call.fn} simulated with an empty signature did not revert: the ledger must check the scorer's signature`);
  }
}

/** Runs a chain read; a failure that is not an answer of the ledger means it cannot be reached. */
export async function chainRead<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw ledgerUnavailable(error);
  }
}
