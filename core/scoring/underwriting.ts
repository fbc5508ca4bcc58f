/**
 * Underwriting: the scorecard and the policy together, giving everything a signed decision
 * needs. Pure: the model, the features, the tier, the product and the salt go in, the
 * decision's content comes out. The features hash that goes on-chain is keccak256 of the
 * canonical JSON of `{features, salt}`: salted, because a handful of small integers could be
 * guessed from a plain hash; the salt stays off-chain with the features.
 */
import { canonicalHash } from "../json";
import modelV1 from "./models/scorecard-v1.json";
import type { TierPolicy } from "../ledger-structs";
import { PRODUCT_IDS, type ProductName } from "../names";
import { decide, REASON_SCORE_TOO_LOW } from "./policy";
import { MAX_REASON_CODES, modelId, score, validateModel, type Features, type ScorecardModel } from "./scorecard";

/** The default model shipped with the gateway (core/scoring/models/scorecard-v1.json). */
export const DEFAULT_MODEL: ScorecardModel = modelV1 as ScorecardModel;
validateModel(DEFAULT_MODEL);

export interface UnderwritingInput {
  model: ScorecardModel;
  features: Features;
  tier: number;
  /** The tier's caps as the ledger holds them (undefined: the tier has no policy). */
  caps: Pick<TierPolicy, "maxLineLimit"> | undefined;
  product: ProductName;
  /** 0x-hex salt of the features hash. */
  salt: string;
}

export interface Underwriting {
  productId: number;
  approved: boolean;
  tier: number;
  score: number;
  limit: bigint;
  ratePpmPerDay: bigint;
  /** Up to four codes; a decline below every band leads with REASON_SCORE_TOO_LOW. */
  reasonCodes: number[];
  cappedByTier: boolean;
  modelId: string;
  featuresHash: string;
}

export function featuresHash(features: Features, salt: string): string {
  return canonicalHash({ features, salt });
}

export function underwrite(input: UnderwritingInput): Underwriting {
  const scored = score(input.model, input.features);
  const policy = decide(scored.score, input.caps, input.product);
  const reasonCodes = policy.approved
    ? scored.reasonCodes
    : [REASON_SCORE_TOO_LOW, ...scored.reasonCodes].slice(0, MAX_REASON_CODES);
  return {
    productId: PRODUCT_IDS[input.product],
    approved: policy.approved,
    tier: input.tier,
    score: scored.score,
    limit: policy.limit,
    ratePpmPerDay: policy.ratePpmPerDay,
    reasonCodes,
    cappedByTier: policy.cappedByTier,
    modelId: modelId(input.model),
    featuresHash: featuresHash(input.features, input.salt),
  };
}

/** Reason codes as the decision's fixed `uint16[4]`, unused slots 0. */
export function reasonCodeSlots(codes: readonly number[]): [number, number, number, number] {
  const slots = [...codes.slice(0, MAX_REASON_CODES)];
  while (slots.length < MAX_REASON_CODES) slots.push(0);
  return slots as [number, number, number, number];
}
