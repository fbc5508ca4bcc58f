/**
 * The scorer's rules, apart from HTTP: score an application's evidence and features with the
 * versioned model, take the tier only from a KYC attestation it can check, apply the policy,
 * the per-tier cap and the rate budget, store the decision it computed; sign only a decision
 * it stored, with the exact values it stored, before it expires.
 */
import { randomUUID } from "node:crypto";
import { getAddress, ZeroHash, type TypedDataDomain } from "ethers";

import { decisionDomain, DecisionPurpose, restructureSubject, signDecision, type Decision, type TypedDataSigner } from "../core/decision";
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
  /**
   * KYC attestation; without one the tier is the one the scorer last accepted an attestation
   * for this account (until that attestation's expiry), else 0 (behavioural score alone).
   */
  evidence?: Evidence;
  /** The KYC subject of the applicant (`kycSubjectOf`), derived by the gateway from the identity: needed with `evidence`. */
  subject?: string;
  /** The line's current limit (a review): only the raise above it counts in the rate budget. */
  currentLimit?: bigint;
  /** The ledger's cap for the tier (`tierPolicyOf`), if the gateway read one: it can only lower the limit. */
  ledgerCap?: bigint;
  /** The ledger's cap per tier (`tierPolicyOf(t).maxLineLimit`), when the gateway does not know the tier yet: the derived tier's can only lower the limit. */
  ledgerCaps?: Readonly<Record<number, bigint>>;
  /** Unix seconds the line's limit lapses at; 0 or absent: no expiry (as the gateway grants today). */
  limitExpiry?: bigint;
  /**
   * What the decision is for (default "line": a grant, raise or decline). "restructure" needs
   * `restructure` (the new terms it authorises, bound by the decision's subject); "reinstate"
   * authorises reinstating a line frozen by a write-off.
   */
  purpose?: "line" | "restructure" | "reinstate";
  restructure?: { loanNo: number; newPeriods: number; holidayDays: number; newRatePpmPerDay: bigint };
}

export interface ScoreAnswer {
  id: string;
  decision: DecisionDraft;
  /** `DecisionPurpose`: 0 Line, 1 Restructure, 2 Reinstate; signed with `subject`. */
  purpose: number;
  subject: string;
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
  /**
   * The chain's latest block time as the caller read it (unix seconds). A chain ahead of the
   * scorer's clock (a local chain whose time was advanced) moves the deadline by as much, at
   * most SCORER_MAX_CHAIN_AHEAD_SECONDS; it never shortens or lengthens the time the decision may be signed.
   */
  chainTime?: bigint;
}

export interface SignAnswer {
  decision: Decision;
  scorer: string;
  signature: string;
}

export interface ScorerServiceOptions {
  config: ScorerConfig;
  store: ScorerStore;
  /** The scorer key, opened from `config.key` (core/key-source.ts `openSigner`): it signs decisions only. */
  signer: TypedDataSigner & { readonly address: string };
  /** Unix seconds now. */
  now?: () => number;
  models?: readonly ScorecardModel[];
}

/**
 * Features a KYC attestation evidences from a level on: a level-2 attestation is the
 * verifier's check of income evidence, so from tier 2 a partner-reported income is evidenced.
 */
export const EVIDENCED_FROM_TIER: Readonly<Record<string, number>> = { monthlyIncomeYuan: 2 };

const HOUR = 3600;
const DAY = 86_400;

export class ScorerService {
  readonly address: string;
  private readonly signer: TypedDataSigner;
  private readonly domain: TypedDataDomain;
  private readonly kyc: TypedDataDomain;
  private readonly models: Map<string, ScorecardModel>;
  private readonly now: () => number;

  constructor(private readonly options: ScorerServiceOptions) {
    this.signer = options.signer;
    this.address = getAddress(options.signer.address);
    this.domain = decisionDomain(options.config.chainId, options.config.ledgerAddress);
    this.kyc = kycDomain(options.config.chainId);
    this.models = new Map((options.models ?? [DEFAULT_MODEL]).map((m) => [modelId(m).toLowerCase(), m]));
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** The address whose KYC attestations count for `partner`: registered through the admin API, else configured. */
  verifierOf(partner: string): string | undefined {
    return this.options.store.verifierOf(partner) ?? this.options.config.kycVerifiers[partner];
  }

  /** Registers `partner`'s KYC verifier (the admin API; the gateway cannot call it). */
  registerVerifier(partner: string, verifier: string): void {
    this.options.store.registerVerifier(partner, getAddress(verifier), this.now());
  }

  /**
   * The tier the evidence proves for `subject` through `partner`. Without evidence: the tier
   * last attested for `account` while that attestation is unexpired, else 0. Refuses evidence
   * it cannot accept.
   */
  tierOf(account: string, partner: string, evidence: Evidence | undefined, subject?: string): number {
    const now = BigInt(this.now());
    if (!evidence) {
      const last = this.options.store.attestedTier(account);
      return last !== undefined && BigInt(last.expiry) > now ? last.tier : 0;
    }
    const a = evidence.attestation;
    const verifier = this.verifierOf(partner);
    if (!verifier) {
      throw new ScorerRefusal("NoVerifierForPartner", 422, `no KYC verifier is registered for partner ${partner}; apply without an attestation (tier 0) or register the partner's verifier (SCORER_KYC_VERIFIERS or the scorer's admin API)`, { partner });
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
    if (subject === undefined) {
      throw new ScorerRefusal("SubjectRequired", 400, "an attestation needs the applicant's subject (kycSubjectOf the national id) beside it", {});
    }
    if (a.subject.toLowerCase() !== subject.toLowerCase()) {
      throw new ScorerRefusal("AttestationSubjectMismatch", 422, `the attestation is about subject ${a.subject}, not about this applicant (${subject}); the subject is kycSubjectOf(national id), see docs/SCORER.md`, { subject: a.subject, expected: subject });
    }
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
    const tier = this.tierOf(request.account, request.partner, request.evidence, request.subject);
    // Features only the partner reports (and no evidence of the tier covers) cap the limit at the tier below (never below tier 0).
    const evidenced = (f: string) => EVIDENCED_FROM_TIER[f] !== undefined && tier >= EVIDENCED_FROM_TIER[f];
    const partnerReported = request.features.partnerReported.some((f) => request.features.values[f] !== undefined && !evidenced(f));
    const capTier = partnerReported ? Math.max(0, tier - 1) : tier;
    const caps = this.options.config.tierMaxLimits;
    const ledgerCap = [request.ledgerCap, request.ledgerCaps?.[tier]].reduce<bigint | undefined>(
      (low, c) => (c === undefined ? low : low === undefined || c < low ? c : low),
      undefined
    );
    let cap = caps[capTier];
    if (cap !== undefined && ledgerCap !== undefined && ledgerCap < cap) cap = ledgerCap;
    const tierCapOnly = caps[tier] !== undefined && ledgerCap !== undefined && ledgerCap < caps[tier] ? ledgerCap : caps[tier];

    const u = underwrite({
      model,
      features: request.features.values,
      tier,
      caps: cap === undefined ? undefined : { maxLineLimit: cap },
      product: request.product,
      salt: request.salt,
    });
    const kind = this.purposeOf(request);
    const line = kind.purpose === DecisionPurpose.Line;
    const draft: DecisionDraft = {
      account: request.account,
      productId: u.productId,
      // A restructure is a hardship decision: approved within the scorer's bounds (purposeOf), whatever the score.
      approved: kind.purpose === DecisionPurpose.Restructure ? true : u.approved,
      tier,
      score: u.score,
      limit: line ? u.limit : 0n,
      limitExpiry: line && u.approved ? (request.limitExpiry ?? 0n) : 0n,
      ratePpmPerDay: kind.purpose === DecisionPurpose.Restructure ? request.restructure!.newRatePpmPerDay : line ? u.ratePpmPerDay : 0n,
      modelId: u.modelId,
      featuresHash: u.featuresHash,
      reasonCodes: reasonCodeSlots(u.reasonCodes),
    };
    const newLimit = line && u.approved ? (u.limit > (request.currentLimit ?? 0n) ? u.limit - (request.currentLimit ?? 0n) : 0n) : 0n;
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
      if (kind.loanNo !== undefined) {
        const done = store.restructuresOf(request.account, kind.loanNo);
        const most = this.options.config.maxRestructuresPerLoan;
        if (done >= most) {
          throw new ScorerRefusal("RestructureNotAllowed", 422, `loan ${kind.loanNo} was restructured ${done} times already, the most SCORER_MAX_RESTRUCTURES_PER_LOAN allows; collect or write it off instead`, { loanNo: kind.loanNo, restructures: done, most });
        }
      }
      store.insert({ id, draft, newLimit, createdAt: now, expiresAt, purpose: kind.purpose, subject: kind.subject, loanNo: kind.loanNo });
      if (request.evidence) {
        store.recordAttestedTier({ account: request.account, tier, expiry: Number(request.evidence.attestation.expiry), partner: request.partner, attestedAt: now });
      }
    });
    const cappedBy = u.cappedByTier ? (cap !== undefined && tierCapOnly !== undefined && cap < tierCapOnly ? "partner-reported" : "tier") : undefined;
    return { id, decision: draft, purpose: kind.purpose, subject: kind.subject, tier, ...(line && cappedBy ? { cappedBy } : {}), expiresAt };
  }

  /** The purpose, subject and (a restructure) loan of a request; refuses a restructure past the scorer's bounds. */
  private purposeOf(request: ScoreRequest): { purpose: number; subject: string; loanNo?: number } {
    if (request.purpose === "reinstate") return { purpose: DecisionPurpose.Reinstate, subject: ZeroHash };
    if (request.purpose !== "restructure") {
      if (request.restructure) throw new ScorerRefusal("InvalidRequest", 400, "restructure terms need purpose \"restructure\"");
      return { purpose: DecisionPurpose.Line, subject: ZeroHash };
    }
    const r = request.restructure;
    if (!r) throw new ScorerRefusal("InvalidRequest", 400, "a restructure decision needs restructure: {loanNo, newPeriods, holidayDays, newRatePpmPerDay}");
    const most = this.options.config.maxHolidayDays;
    if (r.holidayDays > most) {
      throw new ScorerRefusal("RestructureNotAllowed", 422, `a payment holiday of ${r.holidayDays} days is more than the ${most} SCORER_MAX_HOLIDAY_DAYS allows`, { holidayDays: r.holidayDays, most });
    }
    return { purpose: DecisionPurpose.Restructure, subject: restructureSubject(r.loanNo, r.newPeriods, r.holidayDays, r.newRatePpmPerDay), loanNo: r.loanNo };
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
    // The chain's clock, as far as the scorer lets a caller move it: ahead up to
    // SCORER_MAX_CHAIN_AHEAD_SECONDS (a development chain whose time was advanced) moves the
    // deadline and the issue time; behind (a block a few seconds old) only the issue time, so it is never after the chain's now.
    const maxAhead = BigInt(this.options.config.maxChainAheadSeconds);
    const offset = request.chainTime === undefined ? 0n : request.chainTime - BigInt(now);
    const clamped = offset > maxAhead ? maxAhead : offset < -maxAhead ? -maxAhead : offset;
    const shift = clamped > 0n ? clamped : 0n;
    // The decision with the purpose and subject it was computed for, signed by this scorer's address, issued now (on the chain's clock).
    const decision: Decision = {
      ...stored.draft,
      purpose: stored.purpose,
      subject: stored.subject,
      scorer: this.address,
      nonce: request.nonce,
      issuedAt: BigInt(now) + clamped,
      deadline: BigInt(stored.expiresAt) + shift,
    };
    const signature = await signDecision(this.signer, this.domain, decision);
    this.options.store.recordSignature({ decisionId: stored.id, nonce: request.nonce, deadline: decision.deadline, signature, signedAt: now });
    return { decision, scorer: this.address, signature };
  }
}
