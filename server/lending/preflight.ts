/**
 * Pre-flight: before a request is accepted, its ledger call is simulated from the operator's
 * address against the account's current state, so a rule violation is answered at once
 * (a `LedgerRefusal` naming the rule) with nothing written. When earlier operations on the
 * account are still in the outbox the chain does not show their effect yet; the simulation is
 * then left to the sender, and a refusal fails the operation (visible on it, and in a waiting
 * response).
 *
 * A call that needs a scorer's decision is simulated with the decision unsigned (an empty
 * signature): the ledger checks the signature last, so `InvalidDecisionSignature` alone means
 * every other rule passes. No real signature is ever made for a simulation, so none reaches
 * the RPC provider before the operation is accepted and sent.
 */
import { ZeroHash } from "ethers";

import type { Plain } from "../../core/ledger-structs";
import { accountOfCall, callArguments, needsDecision, type LedgerCall } from "../chain/ledger-calls";
import type { LedgerClient } from "../chain/ledger-client";
import { LedgerRevertError } from "../chain/ledger-errors";
import { LedgerRefusal, ledgerUnavailable } from "../errors";
import type { Store } from "../store/store";
import type { Reach, Viewer } from "./reach";

export class Preflight {
  constructor(
    private readonly client: LedgerClient,
    private readonly store: Store,
    private readonly reach: Reach,
    private readonly decisionTtlSeconds: number
  ) {}

  /** Whether the account has operations not yet on-chain (their effects are not visible to a simulation). */
  async hasPending(accountId: string): Promise<boolean> {
    return (await this.store.openStepsOf(accountId)).length > 0;
  }

  /**
   * Simulates `call`; throws a `LedgerRefusal` when the ledger would refuse it (`fieldAliases`:
   * the request's names for the call's parameters). A partner's call on an account or loan it
   * may not reach is refused first, as the ledger refuses an unknown one (reach.ts). Returns
   * the call's decoded result, or undefined when the simulation was left to the sender or the
   * call carries a decision (simulated unsigned, so it has no result).
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
      if (needsDecision(call)) {
        const latest = await this.client.latestBlock();
        const decision = await this.client.decisionFor(call, account, latest.timestamp, latest.timestamp + BigInt(this.decisionTtlSeconds));
        const args = callArguments(call, ZeroHash, seq, { decision, scorer: decision.scorer, signature: "0x" });
        try {
          await this.client.preflight(call.fn, args);
        } catch (error) {
          // The signature is the ledger's last check: refused for it alone, everything else passes.
          if (error instanceof LedgerRevertError && error.revert.name === "InvalidDecisionSignature") return undefined;
          throw error;
        }
        return undefined;
      }
      return await this.client.preflight(call.fn, callArguments(call, ZeroHash, seq));
    } catch (error) {
      if (error instanceof LedgerRevertError) throw new LedgerRefusal(error.revert, fieldAliases);
      throw ledgerUnavailable(error);
    }
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
