/**
 * Asking the scorer process for a decision (docs/SCORER.md). The gateway sends what it knows:
 * the account, the partner the request comes through, the product, the model id, the
 * features with the ones only the partner reports marked, the KYC evidence and its subject
 * (`kycSubjectOf` the applicant's national id), the line's current limit (a review) and the
 * ledger's cap of each tier. The scorer derives the tier from the evidence, scores, caps,
 * keeps to its budget and stores the decision; the gateway keeps the decision and its id in
 * the outbox step and the record of it (features, salt) off-chain. It never computes the
 * decision it sends.
 */
import { randomBytes } from "node:crypto";

import { kycSubjectOf } from "../../core/kyc-attestation";
import type { ProductName } from "../../core/names";
import { modelId, type Features, type ScorecardModel } from "../../core/scoring/scorecard";
import type { DecisionDraft } from "../chain/ledger-calls";
import type { LedgerClient } from "../chain/ledger-client";
import { ScorerRefusedError, ScorerUnavailableError, type ScoredDecision, type ScorerClient } from "../chain/scorer-client";
import { scorerProblem } from "../errors";
import type { DecisionRecord } from "../store/store";
import { chainRead } from "./preflight";
import type { Viewer } from "./viewer";

/** The partner id the scorer knows requests made by the operator (admin keys, the gateway's own reviews) by. */
export const OPERATOR_PARTNER = "operator";

/** The tiers whose ledger caps the scorer is given (the tier it derives is one of them). */
const TIERS = [0, 1, 2] as const;

/**
 * The feature only the partner reports: income (the others are the partner's observations of
 * repayment behaviour, which the scorecard is built on). The scorer counts it as evidenced from
 * tier 2 (an attestation of income evidence) and otherwise caps the limit a tier lower when it
 * is given (docs/SCORER.md, "Partner-reported features").
 */
export const INCOME_FEATURE = "monthlyIncomeYuan";

export interface EvidenceInput {
  attestation: { subject: string; level: number; issuedAt: bigint; expiry: bigint; partner: string };
  signature: string;
}

export interface ScorerQuestion {
  accountId: string;
  viewer: Viewer;
  product: ProductName;
  features: Features;
  salt: string;
  evidence?: EvidenceInput;
  /** The applicant's normalized national id: the subject the evidence must be about. */
  nationalId?: string;
  /** A review: the line's current effective limit. */
  currentLimit?: bigint;
  /** A temporary raise: the Unix time its limit lapses at. */
  limitExpiry?: bigint;
}

export class ScorerDecisions {
  constructor(
    private readonly scorer: ScorerClient,
    private readonly client: LedgerClient,
    private readonly model: ScorecardModel
  ) {}

  /** Asks the scorer; its refusal (or its absence) is answered as a problem, nothing is written. */
  async decide(q: ScorerQuestion): Promise<ScoredDecision> {
    const caps = await chainRead(async () => {
      const policies = await Promise.all(TIERS.map((t) => this.client.tierPolicyOf(t)));
      return Object.fromEntries(TIERS.map((t, i) => [t, policies[i].maxLineLimit]));
    });
    const partnerReported = q.features[INCOME_FEATURE] !== undefined ? [INCOME_FEATURE] : [];
    try {
      return await this.scorer.score({
        account: q.accountId,
        partner: q.viewer.partnerId ?? OPERATOR_PARTNER,
        product: q.product,
        modelId: modelId(this.model),
        features: { values: q.features, partnerReported },
        salt: q.salt,
        ledgerCaps: caps,
        ...(q.evidence ? { evidence: q.evidence } : {}),
        ...(q.evidence && q.nationalId !== undefined ? { subject: kycSubjectOf(q.nationalId) } : {}),
        ...(q.currentLimit !== undefined ? { currentLimit: q.currentLimit } : {}),
        ...(q.limitExpiry !== undefined ? { limitExpiry: q.limitExpiry } : {}),
      });
    } catch (error) {
      if (error instanceof ScorerRefusedError || error instanceof ScorerUnavailableError) throw scorerProblem(error);
      throw error;
    }
  }

  /**
   * Asks the scorer for the decision of purpose Restructure a restructure needs (an operator's
   * request: no features, no evidence; the scorer approves within its own bounds, the ledger
   * within its own).
   */
  async decideRestructure(q: RestructureQuestion): Promise<ScoredDecision> {
    try {
      return await this.scorer.score({
        account: q.accountId,
        partner: OPERATOR_PARTNER,
        product: q.product,
        modelId: modelId(this.model),
        features: { values: {}, partnerReported: [] },
        salt: `0x${randomBytes(16).toString("hex")}`,
        purpose: "restructure",
        restructure: { loanNo: q.loanNo, newPeriods: q.newPeriods, holidayDays: q.holidayDays, newRatePpmPerDay: q.newRatePpmPerDay },
      });
    } catch (error) {
      if (error instanceof ScorerRefusedError || error instanceof ScorerUnavailableError) throw scorerProblem(error);
      throw error;
    }
  }

  /**
   * Asks the scorer for the decision of purpose Reinstate a line frozen by a write-off needs
   * (an operator's request): the scorer re-scores the account on `features` at the tier it last
   * accepted evidence for, and approves only on a passing score.
   */
  async decideReinstate(q: ReinstateQuestion): Promise<ScoredDecision> {
    const partnerReported = q.features[INCOME_FEATURE] !== undefined ? [INCOME_FEATURE] : [];
    try {
      return await this.scorer.score({
        account: q.accountId,
        partner: OPERATOR_PARTNER,
        product: q.product,
        modelId: modelId(this.model),
        features: { values: q.features, partnerReported },
        salt: q.salt,
        purpose: "reinstate",
      });
    } catch (error) {
      if (error instanceof ScorerRefusedError || error instanceof ScorerUnavailableError) throw scorerProblem(error);
      throw error;
    }
  }
}

/** The line a reinstate decision is about and the features the scorer re-scores it on. */
export interface ReinstateQuestion {
  accountId: string;
  product: ProductName;
  features: Features;
  salt: string;
}

/** The terms a restructure decision authorises (its subject binds exactly these). */
export interface RestructureQuestion {
  accountId: string;
  product: ProductName;
  loanNo: number;
  newPeriods: number;
  holidayDays: number;
  newRatePpmPerDay: bigint;
}

/** The off-chain record of a decision the scorer computed: its values, the features and the salt of their hash. */
export function decisionRecordOf(d: DecisionDraft, features: Features, salt: string): Omit<DecisionRecord, "operationId" | "createdAt"> {
  return {
    accountId: d.account,
    productId: d.productId,
    approved: d.approved,
    tier: d.tier,
    score: d.score,
    limit: d.limit,
    ratePpmPerDay: d.ratePpmPerDay,
    reasonCodes: reasonCodesOf(d),
    modelId: d.modelId,
    features,
    salt,
    featuresHash: d.featuresHash,
  };
}

/** The decision's reason codes without the empty slots. */
export const reasonCodesOf = (d: DecisionDraft): number[] => d.reasonCodes.filter((c) => c !== 0);
