/**
 * The scorer boundary at the gateway (issue 11): the gateway cannot drive the scorer. A
 * decision written into the gateway's database is never signed (the scorer refuses what it
 * did not compute, or computed differently), the step fails with a problem saying so, and the
 * line on-chain is unchanged. The identity tier comes only from KYC evidence the scorer
 * checks: a word in the request is refused, a review without evidence keeps the tier, another
 * partner's verifier does not count.
 */
import { expect } from "chai";
import { hexlify, randomBytes } from "ethers";

import { fromTaggedJson, taggedJson } from "../../core/json";
import type { DecisionCall } from "../../server/chain/ledger-calls";
import { PAY_LATER_ID } from "../helpers/fixtures";
import { applicationBody, get, kycEvidence, partnerIdOf, post, testGateway, type TestGateway } from "../helpers/gateway";
import { GOOD_FEATURES, randomNationalId } from "../helpers/identities";

const FORGED = { score: 350, modelId: `0x${"00".repeat(32)}`, limit: 20_000_000n };

describe("trust boundaries: a scorer the gateway cannot drive", function () {
  let t: TestGateway;

  before(async () => {
    t = await testGateway();
  });

  after(async () => {
    await t.gateway.stop();
  });

  /** A tier-0 account (no evidence) with its pay-later line, and the applicant's national id. */
  async function tierZeroAccount(): Promise<{ accountId: string; nationalId: string }> {
    const body = applicationBody();
    const res = await post(t, "/v1/applications", body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ tier: 0, limit: "300000" });
    return { accountId: res.body.accountId, nationalId: body.identity.nationalId };
  }

  it("never signs a decision altered in the gateway's outbox row (score 350, model id zero, limit 20,000,000): DecisionAltered fails the step, the limit on-chain is unchanged", async () => {
    const { accountId, nationalId } = await tierZeroAccount();
    await t.gateway.sender.stop();
    let operationId: string;
    try {
      const accepted = await post(t, `/v1/accounts/${accountId}/limit-reviews?wait=false`, {
        product: "pay_later",
        features: GOOD_FEATURES,
        evidence: await kycEvidence(t, nationalId),
      });
      expect(accepted.status, JSON.stringify(accepted.body)).to.equal(202);
      operationId = accepted.body.operation.id;
      // Someone with the database rewrites the queued decision.
      const row = t.store.db.prepare("SELECT id, call FROM outbox WHERE operation_id = ?").get(operationId) as { id: number; call: string };
      const call = fromTaggedJson<DecisionCall>(row.call);
      expect(call.fn).to.equal("increaseLimit");
      const forged = { ...call, decision: { ...call.decision, ...FORGED } };
      t.store.db.prepare("UPDATE outbox SET call = ? WHERE id = ?").run(taggedJson(forged), row.id);
    } finally {
      t.gateway.sender.start();
    }
    const op = await t.gateway.operations.wait(operationId, 30_000);
    expect(op.status).to.equal("failed");
    expect(op.steps[0].transactions, "nothing was sent to the chain").to.have.length(0);
    const shown = await get(t, `/v1/operations/${operationId}`);
    expect(shown.body.problem).to.include({ type: "/problems/scorer-refused", status: 422, scorerCode: "DecisionAltered" });
    expect(shown.body.problem.values.fields).to.deep.equal(["limit", "modelId", "score"]);
    expect(shown.body.problem.detail).to.match(/apply or review again/);
    expect(await t.l.ledger.effectiveLimit(accountId, PAY_LATER_ID)).to.equal(300_000n);
    expect((await t.l.ledger.accountOf(accountId)).tier).to.equal(0n);
  });

  it("never signs a decision the scorer did not compute, written into the outbox as a new operation: UnknownDecision", async () => {
    const { accountId } = await tierZeroAccount();
    const seq = (await t.l.ledger.accountOf(accountId)).seq;
    const decision = {
      account: accountId,
      productId: PAY_LATER_ID,
      approved: true,
      tier: 2,
      limitExpiry: 0n,
      ratePpmPerDay: 0n,
      featuresHash: `0x${"11".repeat(32)}`,
      reasonCodes: [0, 0, 0, 0] as [number, number, number, number],
      ...FORGED,
    };
    const id = `op_${hexlify(randomBytes(16)).slice(2)}`;
    const accepted = await t.store.accept({
      idempotency: { owner: "attacker", key: id, fingerprint: "f" },
      operation: {
        id,
        kind: "limit_review",
        accountId,
        context: {},
        fromBlock: await t.provider.getBlockNumber(),
        steps: [{ accountId, fn: "increaseLimit", call: { fn: "increaseLimit", decision, scorerDecision: "forged-1" }, ref: hexlify(randomBytes(32)) }],
      },
    });
    expect(accepted.accepted).to.equal(true);
    t.gateway.sender.notify();
    const op = await t.gateway.operations.wait(id, 30_000);
    expect(op.status).to.equal("failed");
    expect(op.error).to.deep.include({ kind: "scorer-refusal", code: "UnknownDecision", status: 404 });
    expect(await t.l.ledger.effectiveLimit(accountId, PAY_LATER_ID)).to.equal(300_000n);
    expect((await t.l.ledger.accountOf(accountId)).seq).to.equal(seq);
  });
});

describe("trust boundaries: the pre-flight simulates without real signatures", function () {
  let t: TestGateway;

  before(async () => {
    t = await testGateway();
  });

  after(async () => {
    await t.gateway.stop();
  });

  const signatures = () => (t.scoring.store.db.prepare("SELECT COUNT(*) AS n FROM signatures").get() as { n: number }).n;

  it("the scorer signs a decision once, when the sender sends it; one the pre-flight refuses (LineExists) is never signed", async () => {
    const body = applicationBody();
    const before = signatures();
    const first = await post(t, "/v1/applications", body);
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect(signatures(), "the grant, signed by the sender only").to.equal(before + 1);
    // The account exists now: the second application's grant is the pre-flight's own simulation.
    const again = await post(t, "/v1/applications", body);
    expect(again.status).to.equal(409);
    expect(again.body).to.include({ type: "/problems/ledger/line-exists", rule: "LineExists" });
    expect(signatures(), "nothing signed for a simulation").to.equal(before + 1);
  });

  it("simulates a limit raise without a signature; the scorer signs it once, when the sender sends it", async () => {
    const body = applicationBody();
    const applied = await post(t, "/v1/applications", body);
    const accountId = applied.body.accountId as string;
    const before = signatures();
    const raised = await post(t, `/v1/accounts/${accountId}/limit-reviews`, { product: "pay_later", features: GOOD_FEATURES, evidence: await kycEvidence(t, body.identity.nationalId) });
    expect(raised.status, JSON.stringify(raised.body)).to.equal(200);
    expect(raised.body.outcome).to.equal("increased");
    expect(signatures(), "the raise was signed once, by the sender").to.equal(before + 1);
  });
});

describe("trust boundaries: identity tiers from evidence only", function () {
  let t: TestGateway;

  before(async () => {
    t = await testGateway();
  });

  after(async () => {
    await t.gateway.stop();
  });

  async function tierZeroAccount(): Promise<{ accountId: string; nationalId: string }> {
    const body = applicationBody();
    const res = await post(t, "/v1/applications", body);
    expect(res.body).to.include({ tier: 0, limit: "300000" });
    return { accountId: res.body.accountId, nationalId: body.identity.nationalId };
  }

  const review = (accountId: string, body: Record<string, unknown>, key?: string) =>
    post(t, `/v1/accounts/${accountId}/limit-reviews`, { product: "pay_later", features: GOOD_FEATURES, ...body }, { key });

  it('refuses the word verification: "enhanced" as an unknown field, on an application and on a limit review', async () => {
    const applied = await post(t, "/v1/applications", applicationBody({}, { verification: "enhanced" }));
    expect(applied.status).to.equal(400);
    expect(applied.body).to.include({ type: "/problems/validation-failed", field: "identity.verification" });
    const { accountId } = await tierZeroAccount();
    const reviewed = await review(accountId, { verification: "enhanced" });
    expect(reviewed.status).to.equal(400);
    expect(reviewed.body).to.include({ type: "/problems/validation-failed", field: "verification" });
    expect((await t.l.ledger.accountOf(accountId)).tier).to.equal(0n);
  });

  it("does not raise the tier on a limit review without an attestation; a valid attestation by the partner's verifier does", async () => {
    const { accountId, nationalId } = await tierZeroAccount();
    const without = await review(accountId, {});
    expect(without.status, JSON.stringify(without.body)).to.equal(200);
    expect(without.body).to.include({ outcome: "unchanged", newLimit: "300000" });
    expect((await t.l.ledger.accountOf(accountId)).tier).to.equal(0n);

    const withEvidence = await review(accountId, { evidence: await kycEvidence(t, nationalId) });
    expect(withEvidence.status, JSON.stringify(withEvidence.body)).to.equal(200);
    expect(withEvidence.body).to.include({ outcome: "increased", previousLimit: "300000", newLimit: "2000000" });
    const [raised] = await t.l.ledger.queryFilter(t.l.ledger.filters.LimitIncreased(accountId));
    expect(raised.args.decision.tier).to.equal(2n);
    expect((await t.l.ledger.accountOf(accountId)).tier).to.equal(2n);

    // Later reviews without evidence keep the tier the scorer attested (until the attestation expires).
    const later = await review(accountId, {});
    expect(later.body).to.include({ outcome: "unchanged", newLimit: "2000000" });
  });

  it("refuses an attestation signed by another partner's verifier with AttestationNotByVerifier, writing nothing", async () => {
    const nationalId = randomNationalId();
    const partner = await partnerIdOf(t, t.keys.partner);
    const otherVerifier = await t.scoring.verifierFor(await partnerIdOf(t, t.keys.partner2));
    const evidence = await t.scoring.attest(partner, nationalId, 2, { by: otherVerifier });
    const depth = (await t.store.outboxDepth()).depth;
    const res = await post(t, "/v1/applications", { ...applicationBody({}, { nationalId }), evidence });
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body).to.include({ type: "/problems/evidence-refused", field: "evidence", scorerCode: "AttestationNotByVerifier" });
    expect(res.body.values).to.deep.include({ signer: otherVerifier.address, partner });
    expect((await t.store.outboxDepth()).depth).to.equal(depth);
    expect(await t.store.findIdentity(t.gateway.vault.identityKeyOf(nationalId))).to.equal(undefined);
  });

  it("refuses another partner's attestation (naming it, by its verifier) with AttestationPartnerMismatch", async () => {
    const nationalId = randomNationalId();
    const evidence = await kycEvidence(t, nationalId, { key: t.keys.partner2 });
    const res = await post(t, "/v1/applications", { ...applicationBody({}, { nationalId }), evidence });
    expect(res.status).to.equal(422);
    expect(res.body).to.include({ type: "/problems/evidence-refused", scorerCode: "AttestationPartnerMismatch" });
  });

  it("refuses an attestation about another person with AttestationSubjectMismatch, on an application and on a review", async () => {
    const evidence = await kycEvidence(t, randomNationalId());
    const res = await post(t, "/v1/applications", { ...applicationBody(), evidence });
    expect(res.status).to.equal(422);
    expect(res.body).to.include({ type: "/problems/evidence-refused", scorerCode: "AttestationSubjectMismatch" });
    const { accountId } = await tierZeroAccount();
    const reviewed = await review(accountId, { evidence });
    expect(reviewed.status).to.equal(422);
    expect(reviewed.body).to.include({ scorerCode: "AttestationSubjectMismatch" });
    expect((await t.l.ledger.accountOf(accountId)).tier).to.equal(0n);
  });
});
