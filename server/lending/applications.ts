/**
 * Applications: an identity applies for a product. The vault gives the person's account (the
 * same one for their second product); the scorer process decides, the tier from the KYC
 * evidence it checks (scorer-decisions.ts); the decision is recorded on-chain either way (a
 * grant on a scorer-signed approval, or the signed decline), after opening the account at the
 * scorer's tier if it is new. The features and the salt of their on-chain hash are kept
 * off-chain with the decision.
 */
import type { z } from "zod";

import { principalReasons } from "../../core/reasons";
import { representativeCashApr } from "../../core/pricing";
import { DEFAULT_TIME_ZONE } from "../../core/zone-time";
import type { LedgerCall } from "../chain/ledger-calls";
import type { LedgerClient } from "../chain/ledger-client";
import { LedgerRefusal } from "../errors";
import { randomHex, type Random } from "../randomness";
import type { applicationRequest, ApplicationResponse } from "../schemas/lending";
import type { OperationRecord, Store } from "../store/store";
import { normalizeNationalId } from "../vault/identity";
import type { Vault } from "../vault/vault";
import { landedResult, summarize, type PreparedOperation } from "./operations";
import { chainRead, type Preflight } from "./preflight";
import { OPERATOR, type Reach, type Viewer } from "./reach";
import { decisionRecordOf, reasonCodesOf, type ScorerDecisions } from "./scorer-decisions";

export type ApplicationInput = z.output<ReturnType<typeof applicationRequest>>;
export type ApplicationView = z.output<typeof ApplicationResponse>;

/** The request-time facts of an application (the response is built from them). */
export interface ApplicationContext extends Omit<ApplicationView, "dailyRatePpm" | "decisionSeq" | "operation" | "reasons"> {
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
    private readonly decisions: ScorerDecisions,
    private readonly random: Random
  ) {}

  /**
   * The borrower applies through the viewer (a partner): the acceptance links the account to
   * it (server/lending/operations.ts), whoever else the person came through before.
   */
  async prepare(input: ApplicationInput, viewer: Viewer = OPERATOR): Promise<PreparedOperation<ApplicationContext>> {
    this.reach.requireProduct(viewer, input.product);
    const person = await this.vault.resolve(input.identity);
    const accountId = person.accountId;
    const onChain = await chainRead(() => this.client.accountOf(accountId));
    const exists = onChain.exists;
    const pendingOpen = (await this.store.openStepsOf(accountId)).some((s) => s.fn === "openAccount");
    const opening = !exists && !pendingOpen;

    const salt = randomHex(this.random, 16);
    const scored = await this.decisions.decide({
      accountId,
      viewer,
      product: input.product,
      features: input.features,
      salt,
      evidence: input.evidence,
      nationalId: normalizeNationalId(input.identity.nationalId),
    });
    const decision = scored.decision;
    const tier = scored.tier;
    const caps = await chainRead(() => this.client.tierPolicyOf(tier));
    const record = decisionRecordOf(decision, input.features, salt);
    const approved = decision.approved;
    const decisionCall = { decision, scorerDecision: scored.id };

    const calls: LedgerCall[] = [];
    if (opening) calls.push({ fn: "openAccount", account: accountId, tier, exposureCap: caps.maxExposure });
    calls.push(approved ? { fn: "grantLine", ...decisionCall } : { fn: "recordDecline", ...decisionCall });
    if (approved && exists && onChain.exposureCap < caps.maxExposure && onChain.tier < tier) {
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
        outcome: approved ? "approved" : "declined",
        tier,
        score: decision.score,
        limit: decision.limit,
        ratePpmPerDay: decision.ratePpmPerDay,
        aprPpm: input.product === "cash_loan" && approved ? representativeCashApr(decision.productId, decision.limit, decision.ratePpmPerDay) : 0n,
        reasonCodes: reasonCodesOf(decision),
        modelId: decision.modelId,
        featuresHash: decision.featuresHash,
        cappedByTier: approved && scored.cappedBy !== undefined,
      },
    };
  }

  present(context: ApplicationContext, op: OperationRecord): ApplicationView {
    const { newAccount: _new, ratePpmPerDay, ...facts } = context;
    const entry = landedResult(op, context.outcome === "approved" ? "grantLine" : "recordDecline");
    return {
      ...facts,
      dailyRatePpm: ratePpmPerDay,
      reasons: principalReasons(context.reasonCodes),
      decisionSeq: entry ? (entry.seq as bigint) : null,
      operation: summarize(op),
    };
  }
}
