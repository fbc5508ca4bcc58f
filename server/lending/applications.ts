/**
 * Applications: an identity applies for a product. The vault gives the person's account (the
 * same one for their second product); the scorecard and policy decide; the decision is
 * recorded on-chain either way (a grant on a scorer-signed approval, or the signed decline),
 * after opening the account if it is new. The features and the salt of their on-chain hash
 * are kept off-chain with the decision.
 */
import type { z } from "zod";

import { representativeCashApr } from "../../core/pricing";
import { DEFAULT_TIME_ZONE } from "../../core/zone-time";
import type { LedgerCall } from "../chain/ledger-calls";
import type { LedgerClient } from "../chain/ledger-client";
import { LedgerRefusal } from "../errors";
import { randomHex, type Random } from "../randomness";
import type { Verification } from "../schemas/common";
import type { applicationRequest, ApplicationResponse } from "../schemas/lending";
import type { ScorecardModel } from "../scoring/scorecard";
import { underwrite } from "../scoring/underwriting";
import type { OperationRecord, Store } from "../store/store";
import type { Vault } from "../vault/vault";
import { decisionParts } from "./decisions";
import { landedResult, summarize, type PreparedOperation } from "./operations";
import { chainRead, type Preflight } from "./preflight";
import { OPERATOR, type Reach, type Viewer } from "./reach";

export type ApplicationInput = z.output<ReturnType<typeof applicationRequest>>;
export type ApplicationView = z.output<typeof ApplicationResponse>;

/** Identity verification level -> the ledger's identity tier. */
export const TIER_OF: Record<z.output<typeof Verification>, number> = { none: 0, verified: 1, enhanced: 2 };

/** The request-time facts of an application (the response is built from them). */
export interface ApplicationContext extends Omit<ApplicationView, "dailyRatePpm" | "decisionSeq" | "operation"> {
  newAccount: boolean;
  ratePpmPerDay: bigint;
}

export class Applications {
  constructor(
    private readonly vault: Vault,
    private readonly client: LedgerClient,
    private readonly store: Store,
    private readonly preflight: Preflight,
    private readonly reach: Reach,
    private readonly model: ScorecardModel,
    private readonly random: Random
  ) {}

  /**
   * The borrower applies through the viewer (a partner): the acceptance links the account to
   * it (server/lending/operations.ts), whoever else the person came through before.
   */
  async prepare(input: ApplicationInput, viewer: Viewer = OPERATOR): Promise<PreparedOperation<ApplicationContext>> {
    this.reach.requireProduct(viewer, input.product);
    const tier = TIER_OF[input.identity.verification];
    const person = await this.vault.resolve(input.identity);
    const accountId = person.accountId;
    const { onChain, caps } = await chainRead(async () => ({
      onChain: await this.client.accountOf(accountId),
      caps: await this.client.tierPolicyOf(tier),
    }));
    const exists = onChain.exists;
    const pendingOpen = (await this.store.openStepsOf(accountId)).some((s) => s.fn === "openAccount");
    const opening = !exists && !pendingOpen;

    const salt = randomHex(this.random, 16);
    const u = underwrite({ model: this.model, features: input.features, tier, caps, product: input.product, salt });
    const limit = u.approved ? (u.limit < caps.maxLineLimit ? u.limit : caps.maxLineLimit) : 0n;
    const { draft: decision, record } = decisionParts(u, accountId, limit, input.features, salt);

    const calls: LedgerCall[] = [];
    if (opening) calls.push({ fn: "openAccount", account: accountId, tier, exposureCap: caps.maxExposure });
    calls.push(u.approved ? { fn: "grantLine", decision } : { fn: "recordDecline", decision });
    if (u.approved && exists && onChain.exposureCap < caps.maxExposure && onChain.tier < tier) {
      // A stronger identity than the account was opened with raises its exposure cap to the new tier's.
      calls.push({ fn: "setExposureCap", account: accountId, newCap: caps.maxExposure });
    }
    // Simulate what the chain can check now: opening a new account, or the decision on an existing one.
    try {
      await this.preflight.check(calls[0]);
    } catch (error) {
      // The person already holds this line, opened through another partner (or this one): the
      // borrower applied through this partner with consent, so it is linked and may sell on the
      // line; the refusal names only the account and the product, nothing of other partners.
      if (viewer.partnerId !== undefined && error instanceof LedgerRefusal && error.revert.name === "LineExists") {
        await this.store.linkAccount(viewer.partnerId, accountId);
      }
      throw error;
    }

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
      decisions: [record],
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
