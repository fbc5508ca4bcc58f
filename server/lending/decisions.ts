/**
 * A credit decision in the two forms the gateway keeps it: the draft the scorer signs (its
 * nonce and deadline are added when the outbox sender signs it, server/chain/ledger-calls.ts)
 * and the record kept off-chain with it (the features and the salt of their on-chain hash, so
 * the decision can be recomputed).
 */
import type { DecisionDraft } from "../chain/ledger-calls";
import { reasonCodeSlots, type Underwriting } from "../scoring/underwriting";
import type { Features } from "../scoring/scorecard";
import type { DecisionRecord } from "../store/store";

export interface DecisionParts {
  draft: DecisionDraft;
  record: Omit<DecisionRecord, "operationId" | "createdAt">;
}

/** The decision of `u` on `accountId` at `limit` (the underwriting's limit within the tier's cap, or 0). */
export function decisionParts(u: Underwriting, accountId: string, limit: bigint, features: Features, salt: string): DecisionParts {
  return {
    draft: {
      account: accountId,
      productId: u.productId,
      approved: u.approved,
      tier: u.tier,
      score: u.score,
      limit,
      limitExpiry: 0n,
      ratePpmPerDay: u.ratePpmPerDay,
      modelId: u.modelId,
      featuresHash: u.featuresHash,
      reasonCodes: reasonCodeSlots(u.reasonCodes),
    },
    record: {
      accountId,
      productId: u.productId,
      approved: u.approved,
      tier: u.tier,
      score: u.score,
      limit,
      ratePpmPerDay: u.ratePpmPerDay,
      reasonCodes: u.reasonCodes,
      modelId: u.modelId,
      features,
      salt,
      featuresHash: u.featuresHash,
    },
  };
}
