import { expect } from "chai";
import { ZeroHash } from "ethers";

import { DecisionPurpose } from "../../core/decision";
import { PAY_LATER_ID } from "../helpers/fixtures";
import { approvedAccount, post, testGateway, type TestGateway } from "../helpers/gateway";
import { GOOD_FEATURES } from "../helpers/identities";
import { writtenOffPayLaterLine } from "../helpers/write-off";

/** Features the scorecard does not pass (the scorer declines a reinstatement on them). */
const WEAK_FEATURES = { onTimeRepaymentPct: 50, utilizationPct: 95, tenureMonths: 1, overdueCount12m: 5, monthlyIncomeYuan: 1000, paymentActivityMonths: 1 };

describe("API: reinstating a line a write-off froze", function () {
  let t: TestGateway;

  before(async () => {
    // No periodic limit reviews: the chain moves months ahead here, and a review due then would cut limits beside the requests under test.
    t = await testGateway({ GATEWAY_LIMIT_REVIEW_INTERVAL_DAYS: "0" });
  });

  after(async () => {
    await t.gateway.stop();
  });

  it("refuses to unfreeze a write-off freeze with a DecisionRequired problem naming the reinstate route", async () => {
    const { accountId } = await writtenOffPayLaterLine(t);
    const res = await post(t, `/v1/accounts/${accountId}/unfreeze`, { product: "pay_later", reasonCode: 1 }, { key: t.keys.admin });
    expect(res.status, JSON.stringify(res.body)).to.equal(409);
    expect(res.body).to.include({ type: "/problems/ledger/decision-required", rule: "DecisionRequired", field: "product" });
    expect(res.body.values).to.deep.include({ productId: String(PAY_LATER_ID), freezeReason: "65535" });
    expect(res.body.detail).to.include("the pay_later line was frozen by a write-off (reason 65535)");
    expect(res.body.detail).to.include(`POST /v1/accounts/${accountId}/reinstate`);
    expect((await t.l.ledger.lineOf(accountId, PAY_LATER_ID)).frozen).to.equal(true);
  });

  it("reinstates it on the scorer's Reinstate decision (LineReinstated), idempotently, and the line draws again", async () => {
    const { accountId } = await writtenOffPayLaterLine(t);
    const nonceBefore = (await t.l.ledger.accountOf(accountId)).decisionNonce;
    const key = `reinstate-${accountId}`;
    const body = { product: "pay_later", features: GOOD_FEATURES };
    const res = await post(t, `/v1/accounts/${accountId}/reinstate`, body, { key: t.keys.admin, idempotencyKey: key });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ accountId, product: "pay_later", outcome: "reinstated" });
    expect(res.body.operation.status).to.equal("confirmed");
    const line = await t.l.ledger.lineOf(accountId, PAY_LATER_ID);
    expect([line.frozen, line.freezeReason]).to.deep.equal([false, 0n]);
    // The entry carries the scorer's decision: purpose Reinstate, subject zero, signed by the scorer process, its nonce spent.
    const events = await t.l.ledger.queryFilter(t.l.ledger.filters.LineReinstated(accountId));
    expect(events).to.have.length(1);
    const { decision, scorer } = events[0].args;
    expect(decision.purpose).to.equal(BigInt(DecisionPurpose.Reinstate));
    expect(decision.subject).to.equal(ZeroHash);
    expect(decision.approved).to.equal(true);
    expect(decision.nonce).to.equal(nonceBefore);
    expect(scorer).to.equal(t.scoring.address);
    expect((await t.l.ledger.accountOf(accountId)).decisionNonce).to.equal(nonceBefore + 1n);
    // The same request again answers the same operation and writes nothing more.
    const again = await post(t, `/v1/accounts/${accountId}/reinstate`, body, { key: t.keys.admin, idempotencyKey: key });
    expect(again.status).to.equal(200);
    expect(again.body.operation.id).to.equal(res.body.operation.id);
    expect(await t.l.ledger.queryFilter(t.l.ledger.filters.LineReinstated(accountId))).to.have.length(1);
    const drawn = await post(t, "/v1/purchases", { accountId, amount: "1000" });
    expect(drawn.status, JSON.stringify(drawn.body)).to.equal(201);
  });

  it("keeps the line frozen and writes nothing when the scorer declines (outcome declined)", async () => {
    const { accountId } = await writtenOffPayLaterLine(t);
    const seq = (await t.l.ledger.accountOf(accountId)).seq;
    const res = await post(t, `/v1/accounts/${accountId}/reinstate`, { product: "pay_later", features: WEAK_FEATURES }, { key: t.keys.admin });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ outcome: "declined", operation: null });
    expect(res.body.reasonCodes).to.not.be.empty;
    expect((await t.l.ledger.accountOf(accountId)).seq).to.equal(seq);
    expect((await t.l.ledger.lineOf(accountId, PAY_LATER_ID)).frozen).to.equal(true);
  });

  it("refuses a partner key with 403, and a line that is not frozen with FreezeStateUnchanged", async () => {
    const { accountId } = await writtenOffPayLaterLine(t);
    const partner = await post(t, `/v1/accounts/${accountId}/reinstate`, { product: "pay_later", features: GOOD_FEATURES });
    expect(partner.status).to.equal(403);
    expect(partner.body.type).to.equal("/problems/forbidden");
    expect((await t.l.ledger.lineOf(accountId, PAY_LATER_ID)).frozen).to.equal(true);
    const healthy = await approvedAccount(t, "pay_later");
    const res = await post(t, `/v1/accounts/${healthy}/reinstate`, { product: "pay_later", features: GOOD_FEATURES }, { key: t.keys.admin });
    expect(res.status, JSON.stringify(res.body)).to.equal(409);
    expect(res.body).to.include({ rule: "FreezeStateUnchanged" });
  });
});
