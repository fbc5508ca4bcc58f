/**
 * The scorer's rules, apart from HTTP: score an application's evidence and features with the
 * versioned model, take the tier only from a KYC attestation it can check, apply the policy,
 * the per-tier cap and the rate budget, store the decision it computed; sign only a decision
 * it stored, with the exact values it stored, before it expires.
 */
import { randomUUID } from "node:crypto";
import { getAddress, Wallet, type TypedDataDomain } from "ethers";

import { decisionDomain, lineDecision, signDecision, type Decision } from "../core/decision";
import { kycAttestationSigner, kycDomain, type KycAttestation } from "../core/kyc-attestation";
import type { ProductName } from "../core/names";
import { DEFAULT_MODEL, reasonCodeSlots, underwrite } from "../core/scoring/underwriting";
import { modelId, type Features, type ScorecardModel } from "../core/scoring/scorecard";
import type { ScorerConfig } from "./config";
import { differingFields, type DecisionDraft } from "./decision-values";
import type { ScorerStore } from "./store";

/** A refusal: `code` names the rule, `status` the HTTP status, the message says what to do. */
export class ScorerRefusal extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {}
  ) {
    super(message);
    this.name = "ScorerRefusal";
  }
}

export interface Evidence {
  attestation: KycAttestation;
  signature: string;
}

export interface ScoreRequest {
  /** The ledger account id (bytes32). */
  account: string;
  /** The partner the application comes through (its verifier's attestations count). */
  partner: string;
  product: ProductName;
  modelId: string;
  /** The values, and which of them only the partner reports (no evidence behind them). */
  features: { values: Features; partnerReported: string[] };
  /** 0x-hex salt of the features hash. */
  salt: string;
  /** KYC attestation; without one the tier is 0 (behavioural score alone). */
  evidence?: Evidence;
  /** The line's current limit (a review): only the raise above it counts in the rate budget. */
  currentLimit?: bigint;
  /** The ledger's cap for the tier (`tierPolicyOf`), if the gateway read one: it can only lower the limit. */
  ledgerCap?: bigint;
  /** Unix seconds the line's limit lapses at; 0 or absent: no expiry (as the gateway grants today). */
  limitExpiry?: bigint;
}

export interface ScoreAnswer {
  id: string;
  decision: DecisionDraft;
  tier: number;
  /** Why the limit is below the band's: "tier" (the tier's cap), "partner-reported" (features without evidence). */
  cappedBy?: "tier" | "partner-reported";
  expiresAt: number;
}

export interface SignRequest {
  id: string;
  account: string;
  nonce: bigint;
  /** The decision as the caller holds it: it must equal the stored one field by field. */
  decision?: DecisionDraft;
}

export interface SignAnswer {
  decision: Decision;
  scorer: string;
  signature: string;
}

export interface ScorerServiceOptions {
  config: ScorerConfig;
  store: ScorerStore;
  /** Unix seconds now. */
  now?: () => number;
  models?: readonly ScorecardModel[];
}

const HOUR = 3600;
const DAY = 86_400;

export class ScorerService {
  readonly address: string;
  private readonly wallet: Wallet;
  private readonly domain: TypedDataDomain;
  private readonly kyc: TypedDataDomain;
  private readonly models: Map<string, ScorecardModel>;
  private readonly now: () => number;

  constructor(private readonly options: ScorerServiceOptions) {
    this.wallet = new Wallet(options.config.key.reveal());
    this.address = this.wallet.address;
    this.domain = decisionDomain(options.config.chainId, options.config.ledgerAddress);
    this.kyc = kycDomain(options.config.chainId);
    this.models = new Map((options.models ?? [DEFAULT_MODEL]).map((m) => [modelId(m).toLowerCase(), m]));
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** The tier the evidence proves for `account` through `partner`; 0 without evidence. Refuses evidence it cannot accept. */
  tierOf(account: string, partner: string, evidence: Evidence | undefined): number {
    if (!evidence) return 0;
    const a = evidence.attestation;
    const verifier = this.options.config.kycVerifiers[partner];
    if (!verifier) {
      throw new ScorerRefusal("NoVerifierForPartner", 422, `no KYC verifier is configured for partner ${partner}; apply without an attestation (tier 0) or configure SCORER_KYC_VERIFIERS`, { partner });
    }
    if (a.partner !== partner) {
      throw new ScorerRefusal("AttestationPartnerMismatch", 422, `the attestation is for partner ${a.partner}, the application comes through ${partner}`, { attested: a.partner, partner });
    }
    let signer: string;
    try {
      signer = kycAttestationSigner(this.kyc, a, evidence.signature);
    } catch {
      throw new ScorerRefusal("AttestationSignatureInvalid", 422, "the attestation's signature is malformed; ask the verifier for a new attestation");
    }
    if (getAddress(signer) !== getAddress(verifier)) {
      throw new ScorerRefusal("AttestationNotByVerifier", 422, `the attestation is signed by ${signer}, not by partner ${partner}'s verifier ${verifier} (or its fields were changed)`, { signer, verifier, partner });
    }
    if (a.subject.toLowerCase() !== account.toLowerCase()) {
      throw new ScorerRefusal("AttestationSubjectMismatch", 422, `the attestation is about ${a.subject}, not account ${account}`, { subject: a.subject, account });
    }
    const now = BigInt(this.now());
    if (a.issuedAt > now) {
      throw new ScorerRefusal("AttestationNotYetValid", 422, `the attestation is issued at ${a.issuedAt}, after now (${now})`, { issuedAt: a.issuedAt.toString(), now: now.toString() });
    }
    if (a.expiry <= now) {
      throw new ScorerRefusal("AttestationExpired", 422, `the attestation expired at ${a.expiry} (now ${now}); ask the verifier for a new one`, { expiry: a.expiry.toString(), now: now.toString() });
    }
    if (a.level !== 1 && a.level !== 2) {
      throw new ScorerRefusal("AttestationLevelUnknown", 422, `attestation level ${a.level} is not 1 or 2`, { level: a.level });
    }
    return a.level;
  }

  score(request: ScoreRequest): ScoreAnswer {
    const model = this.models.get(request.modelId.toLowerCase());
    if (!model) {
      throw new ScorerRefusal("UnknownModel", 422, `model ${request.modelId} is not one the scorer holds; use ${[...this.models.keys()].join(", ")}`, { modelId: request.modelId });
    }
    const tier = this.tierOf(request.account, request.partner, request.evidence);
    // Features only the partner reports cap the limit at the tier below (never below tier 0).
    const partnerReported = request.features.partnerReported.some((f) => request.features.values[f] !== undefined);
    const capTier = partnerReported ? Math.max(0, tier - 1) : tier;
    const caps = this.options.config.tierMaxLimits;
    let cap = caps[capTier];
    if (cap !== undefined && request.ledgerCap !== undefined && request.ledgerCap < cap) cap = request.ledgerCap;
    const tierCapOnly = caps[tier] !== undefined && request.ledgerCap !== undefined && request.ledgerCap < caps[tier] ? request.ledgerCap : caps[tier];

    const u = underwrite({
      model,
      features: request.features.values,
      tier,
      caps: cap === undefined ? undefined : { maxLineLimit: cap },
      product: request.product,
      salt: request.salt,
    });
    const draft: DecisionDraft = {
      account: request.account,
      productId: u.productId,
      approved: u.approved,
      tier,
      score: u.score,
      limit: u.limit,
      limitExpiry: u.approved ? (request.limitExpiry ?? 0n) : 0n,
      ratePpmPerDay: u.ratePpmPerDay,
      modelId: u.modelId,
      featuresHash: u.featuresHash,
      reasonCodes: reasonCodeSlots(u.reasonCodes),
    };
    const newLimit = u.approved ? (u.limit > (request.currentLimit ?? 0n) ? u.limit - (request.currentLimit ?? 0n) : 0n) : 0n;
    const now = this.now();
    const id = randomUUID();
    const expiresAt = now + this.options.config.decisionTtlSeconds;
    const { perHour, perDay } = this.options.config.budget;
    const store = this.options.store;
    store.transaction(() => {
      if (newLimit > 0n) {
        const hour = store.newLimitSince(now - HOUR + 1);
        const day = store.newLimitSince(now - DAY + 1);
        if (hour + newLimit > perHour || day + newLimit > perDay) {
          const [window, used, budget] = hour + newLimit > perHour ? ["hour", hour, perHour] : ["day", day, perDay];
          throw new ScorerRefusal(
            "RateBudgetExceeded",
            429,
            `this decision would add ${newLimit} fen of limit; ${used} of the ${budget} fen per ${window} are already granted; try again later or raise SCORER_BUDGET_PER_${window.toUpperCase()}`,
            { newLimit: newLimit.toString(), used: used.toString(), budget: budget.toString(), window }
          );
        }
      }
      store.insert({ id, draft, newLimit, createdAt: now, expiresAt });
    });
    const cappedBy = u.cappedByTier ? (cap !== undefined && tierCapOnly !== undefined && cap < tierCapOnly ? "partner-reported" : "tier") : undefined;
    return { id, decision: draft, tier, ...(cappedBy ? { cappedBy } : {}), expiresAt };
  }

  async sign(request: SignRequest): Promise<SignAnswer> {
    const stored = this.options.store.get(request.id);
    if (!stored) {
      throw new ScorerRefusal("UnknownDecision", 404, `the scorer computed no decision ${request.id}; only a decision scored by POST /v1/score is signed`, { id: request.id });
    }
    const now = this.now();
    if (now >= stored.expiresAt) {
      throw new ScorerRefusal("DecisionExpired", 409, `decision ${request.id} expired at ${stored.expiresAt} (now ${now}); score the application again`, { id: request.id, expiresAt: stored.expiresAt, now });
    }
    if (request.account.toLowerCase() !== stored.draft.account.toLowerCase()) {
      throw new ScorerRefusal("DecisionAccountMismatch", 409, `decision ${request.id} is for account ${stored.draft.account}, not ${request.account}`, { id: request.id });
    }
    if (request.decision) {
      const differing = differingFields(stored.draft, request.decision);
      if (differing.length > 0) {
        throw new ScorerRefusal("DecisionAltered", 409, `decision ${request.id} differs from the one the scorer computed in ${differing.join(", ")}; it is not signed`, { id: request.id, fields: differing });
      }
    }
    if (request.nonce < 0n || request.nonce > 0xffff_ffffn) {
      throw new ScorerRefusal("BadNonce", 400, `nonce ${request.nonce} is not a uint32`, { nonce: request.nonce.toString() });
    }
    // A line decision, signed by this scorer's address, issued now.
    const decision: Decision = lineDecision(stored.draft, {
      scorer: this.address,
      nonce: request.nonce,
      issuedAt: BigInt(now),
      deadline: BigInt(stored.expiresAt),
    });
    const signature = await signDecision(this.wallet, this.domain, decision);
    this.options.store.recordSignature({ decisionId: stored.id, nonce: request.nonce, deadline: decision.deadline, signature, signedAt: now });
    return { decision, scorer: this.address, signature };
  }
}
