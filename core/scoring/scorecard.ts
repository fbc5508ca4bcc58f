/**
 * A versioned points scorecard: characteristics, bins and integer points, giving a score in
 * 350–950 and up to four reason codes. Pure and deterministic: the same model and features
 * give the same score and reasons. The model id that goes on-chain is the keccak256 of the
 * model's canonical JSON, so any edit to a model is a new model id.
 */
import { canonicalHash } from "../json";

export interface Bin {
  /** Inclusive lower bound; absent = no lower bound. */
  min?: number;
  /** Exclusive upper bound; absent = no upper bound. */
  max?: number;
  points: number;
}

export interface Characteristic {
  feature: string;
  description: string;
  reasonCode: number;
  /** Points when the feature is absent. */
  missing: number;
  bins: Bin[];
}

export interface ScorecardModel {
  name: string;
  version: string;
  description: string;
  baseScore: number;
  minScore: number;
  maxScore: number;
  characteristics: Characteristic[];
}

/** Features are integers keyed by characteristic name; an absent key is "missing". */
export type Features = Record<string, number | undefined>;

export interface ScoreResult {
  score: number;
  /** Up to four reason codes: the characteristics that cost the most points, worst first. */
  reasonCodes: number[];
  /** Points per characteristic, for explanation and review. */
  points: Record<string, number>;
}

export const MAX_REASON_CODES = 4;

/** Check a model's structure: bins sorted, contiguous and covering all integers. */
export function validateModel(model: ScorecardModel): void {
  if (!(model.minScore < model.maxScore)) throw new Error(`model ${model.version}: minScore must be below maxScore`);
  const seen = new Set<string>();
  for (const c of model.characteristics) {
    if (seen.has(c.feature)) throw new Error(`model ${model.version}: feature ${c.feature} appears twice`);
    seen.add(c.feature);
    if (c.bins.length === 0) throw new Error(`model ${model.version}: ${c.feature} has no bins`);
    if (c.bins[0].min !== undefined) throw new Error(`model ${model.version}: ${c.feature}'s first bin must have no min`);
    if (c.bins[c.bins.length - 1].max !== undefined) {
      throw new Error(`model ${model.version}: ${c.feature}'s last bin must have no max`);
    }
    for (let i = 1; i < c.bins.length; i++) {
      if (c.bins[i].min !== c.bins[i - 1].max) {
        throw new Error(`model ${model.version}: ${c.feature} bins ${i - 1} and ${i} are not contiguous`);
      }
    }
    for (const b of [...c.bins, { points: c.missing }]) {
      if (!Number.isInteger(b.points)) throw new Error(`model ${model.version}: ${c.feature} has non-integer points`);
    }
  }
}

/** The model id: keccak256 of the model's canonical JSON. */
export function modelId(model: ScorecardModel): string {
  return canonicalHash(model);
}

function pointsFor(c: Characteristic, value: number | undefined): number {
  if (value === undefined) return c.missing;
  const bin = c.bins.find((b) => (b.min === undefined || value >= b.min) && (b.max === undefined || value < b.max));
  return bin!.points; // bins cover every number (validateModel)
}

const maxPoints = (c: Characteristic): number => Math.max(c.missing, ...c.bins.map((b) => b.points));

/** Score the features with the model. */
export function score(model: ScorecardModel, features: Features): ScoreResult {
  const points: Record<string, number> = {};
  let total = model.baseScore;
  const gaps: Array<{ gap: number; reasonCode: number }> = [];
  for (const c of model.characteristics) {
    const p = pointsFor(c, features[c.feature]);
    points[c.feature] = p;
    total += p;
    const gap = maxPoints(c) - p;
    if (gap > 0) gaps.push({ gap, reasonCode: c.reasonCode });
  }
  gaps.sort((a, b) => b.gap - a.gap || a.reasonCode - b.reasonCode);
  return {
    score: Math.min(model.maxScore, Math.max(model.minScore, total)),
    reasonCodes: gaps.slice(0, MAX_REASON_CODES).map((g) => g.reasonCode),
    points,
  };
}
