/**
 * Applications: an identity applies for a product. The vault gives the person's account (the
 * same one for their second product); the scorecard and policy decide; the decision is
 * recorded on-chain either way (a grant on a scorer-signed approval, or the signed decline),
 * after opening the account if it is new. The features and the salt of their on-chain hash
 * are kept off-chain with the decision.
 */
import type { DecisionDraft, LedgerCall } from "../chain/ledger-calls";
import type { LedgerClient } from "../chain/ledger-client";
import { randomHex, type Random } from "../randomness";
import type { ProductName } from "../scoring/policy";
import type { Features, ScorecardModel } from "../scoring/scorecard";
import { reasonCodeSlots, underwrite } from "../scoring/underwriting";
import { representativeCashApr } from "../servicing/quotes";
import { DEFAULT_TIME_ZONE } from "../servicing/zone-time";
import type { Store } from "../store/store";
import type { PersonalData, Vault } from "../vault/vault";
import { landedResult, summarize, type OperationSummary, type PreparedOperation } from "./operations";
import { chainUnavailable, type Preflight } from "./preflight";
import type { OperationRecord } from "../store/store";

export type Verification = "none" | "verified" | "enhanced";

/** Identity verification level -> the ledger's identity tier. */
export const TIER_OF: Record<Verification, number> = { none: 0, verified: 1, enhanced: 2 };

export interface ApplicationInput {
  identity: PersonalData & { verification: Verification };
  product: ProductName;
  features: Features;
  consent: true;
  /** The borrower's IANA time zone (servicing: quiet hours, report months); default Asia/Shanghai. */
  timeZone?: string;
  /** The partner's id of the applicant's device (kept only as a keyed hash, for velocity rules). */
  deviceId?: string;
}

export interface ApplicationContext {
  accountId: string;
  newAccount: boolean;
  product: ProductName;
  outcome: "approved" | "declined";
  tier: number;
  score: number;
  limit: bigint;
  ratePpmPerDay: bigint;
  aprPpm: bigint;
  reasonCodes: number[];
  modelId: string;
  featuresHash: string;
  cappedByTier: boolean;
}

export interface ApplicationView extends Omit<ApplicationContext, "newAccount" | "ratePpmPerDay"> {
  dailyRatePpm: bigint;
  /** The seq of the decision's entry (LineGranted or DecisionDeclined) once recorded. */
  decisionSeq: bigint | null;
  operation: OperationSummary;
}

export class Applications {
  constructor(
    private readonly vault: Vault,
    private readonly client: LedgerClient,
    private readonly store: Store,
    private readonly preflight: Preflight,
    private readonly model: ScorecardModel,
    private readonly random: Random
  ) {}

  async prepare(input: ApplicationInput): Promise<PreparedOperation<ApplicationContext>> {
    const tier = TIER_OF[input.identity.verification];
    const person = await this.vault.resolve(input.identity);
    const accountId = person.accountId;
    let onChain: Record<string, unknown>;
    let caps: { maxLineLimit: bigint; maxExposure: bigint };
    try {
      onChain = await this.client.accountOf(accountId);
      caps = await this.client.tierPolicyOf(tier);
    } catch (error) {
      throw chainUnavailable(error);
    }
    const exists = onChain.exists === true;
    const pendingOpen = (await this.store.openStepsOf(accountId)).some((s) => s.fn === "openAccount");
    const opening = !exists && !pendingOpen;

    const salt = randomHex(this.random, 16);
    const u = underwrite({ model: this.model, features: input.features, tier, product: input.product, salt });
    const limit = u.approved ? (u.limit < caps.maxLineLimit ? u.limit : caps.maxLineLimit) : 0n;
    const decision: DecisionDraft = {
      account: accountId,
      productId: u.productId,
      approved: u.approved,
      tier,
      score: u.score,
      limit,
      limitExpiry: 0n,
      ratePpmPerDay: u.ratePpmPerDay,
      modelId: u.modelId,
      featuresHash: u.featuresHash,
      reasonCodes: reasonCodeSlots(u.reasonCodes),
    };

    const calls: LedgerCall[] = [];
    if (opening) calls.push({ fn: "openAccount", account: accountId, tier, exposureCap: caps.maxExposure });
    calls.push(u.approved ? { fn: "grantLine", decision } : { fn: "recordDecline", decision });
    if (u.approved && exists && (onChain.exposureCap as bigint) < caps.maxExposure && (onChain.tier as bigint) < BigInt(tier)) {
      // A stronger identity than the account was opened with raises its exposure cap to the new tier's.
      calls.push({ fn: "setExposureCap", account: accountId, newCap: caps.maxExposure });
    }
    // Simulate what the chain can check now: opening a new account, or the decision on an existing one.
    await this.preflight.check(calls[0]);

    return {
      kind: "application",
      accountId,
      calls,
      vault: person.newRecord,
      profile: {
        accountId,
        timeZone: input.timeZone ?? (person.newRecord ? DEFAULT_TIME_ZONE : undefined),
        phoneKey: this.vault.contactKeyOf("phone", input.identity.phone),
        deviceKey: input.deviceId === undefined ? undefined : this.vault.contactKeyOf("device", input.deviceId),
      },
      decisions: [
        {
          accountId,
          productId: u.productId,
          approved: u.approved,
          tier,
          score: u.score,
          limit,
          ratePpmPerDay: u.ratePpmPerDay,
          reasonCodes: u.reasonCodes,
          modelId: u.modelId,
          features: input.features,
          salt,
          featuresHash: u.featuresHash,
        },
      ],
      context: {
        accountId,
        newAccount: opening,
        product: input.product,
        outcome: u.approved ? "approved" : "declined",
        tier,
        score: u.score,
        limit,
        ratePpmPerDay: u.ratePpmPerDay,
        aprPpm: input.product === "cash_loan" && u.approved ? representativeCashApr(u.productId, limit, u.ratePpmPerDay) : 0n,
        reasonCodes: u.reasonCodes,
        modelId: u.modelId,
        featuresHash: u.featuresHash,
        cappedByTier: u.approved && (u.cappedByTier || limit < u.limit),
      },
    };
  }

  present(context: ApplicationContext, op: OperationRecord): ApplicationView {
    const { newAccount: _new, ratePpmPerDay, ...facts } = context;
    const entry = landedResult(op, context.outcome === "approved" ? "grantLine" : "recordDecline");
    return { ...facts, dailyRatePpm: ratePpmPerDay, decisionSeq: entry ? (entry.seq as bigint) : null, operation: summarize(op) };
  }
}
