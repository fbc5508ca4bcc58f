/**
 * Pre-flight: before a request is accepted, its ledger call is simulated from the operator's
 * address against the account's current state, so a rule violation is answered at once
 * (a 4xx naming the rule) with nothing written. When earlier operations on the account are
 * still in the outbox the chain does not show their effect yet; the simulation is then left
 * to the sender, and a refusal fails the operation (visible on it, and in a waiting response).
 */
import { ZeroHash } from "ethers";

import { callArguments, isDecisionCall, accountOfCall, type LedgerCall } from "../chain/ledger-calls";
import type { LedgerClient } from "../chain/ledger-client";
import { LedgerRevertError } from "../chain/ledger-errors";
import type { Plain } from "../chain/chain-values";
import { ledgerProblem } from "../api/ledger-problems";
import { ApiError } from "../api/problems";
import type { Store } from "../store/store";

export class Preflight {
  constructor(
    private readonly client: LedgerClient,
    private readonly store: Store,
    private readonly decisionTtlSeconds: number
  ) {}

  /** Whether the account has operations not yet on-chain (their effects are not visible to a simulation). */
  async hasPending(accountId: string): Promise<boolean> {
    return (await this.store.openStepsOf(accountId)).length > 0;
  }

  /**
   * Simulates `call`; throws the rule's problem when the ledger would refuse it. Returns the
   * call's decoded result, or undefined when the simulation was left to the sender.
   */
  async check(call: LedgerCall, fieldAliases?: Record<string, string>): Promise<Record<string, Plain> | Plain[] | undefined> {
    const accountId = accountOfCall(call);
    if (await this.hasPending(accountId)) return undefined;
    try {
      const account = await this.client.accountOf(accountId);
      const seq = call.fn === "openAccount" ? 0n : (account.seq as bigint);
      let args: Record<string, unknown>;
      if (isDecisionCall(call)) {
        const latest = await this.client.latestBlock();
        const signed = await this.client.signDecision(
          call.decision,
          account.decisionNonce as bigint,
          latest.timestamp + BigInt(this.decisionTtlSeconds)
        );
        args = callArguments(call, ZeroHash, seq, signed);
      } else {
        args = callArguments(call, ZeroHash, seq);
      }
      return await this.client.preflight(call.fn, args);
    } catch (error) {
      if (error instanceof LedgerRevertError) throw ledgerProblem(error.revert, { fieldAliases });
      throw chainUnavailable(error);
    }
  }
}

/** A chain read that failed for another reason than a revert: the ledger is unreachable. */
export function chainUnavailable(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  // The cause stays in the log: an RPC error can quote the node's URL, which may hold a key.
  return new ApiError("ledger-unavailable", "the ledger could not be reached; retry the request with the same Idempotency-Key", {
    extensions: {},
  });
}
