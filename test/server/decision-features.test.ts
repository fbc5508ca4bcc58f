/**
 * Decision features (declared income among them) are stored sealed by the vault's keyring, in
 * the decisions and in the limit reviews, and erasing the person (DELETE
 * /v1/accounts/{id}/identity) blanks them: the stored rows hold no clear income, and after the
 * erasure the features are gone.
 */
import { expect } from "chai";

import { applicationBody, approvedAccount, del, get, post, testGateway, type TestGateway } from "../helpers/gateway";
import { MIDDLE_FEATURES } from "../helpers/identities";

/** A declared income no other feature or id could contain by chance. */
const INCOME = 987_654;

describe("decision features are sealed, and erased with the person", function () {
  this.timeout(120_000);
  let t: TestGateway;
  before(async () => {
    t = await testGateway();
  });
  after(() => t.gateway.stop());

  const rowsOf = (table: "decisions" | "limit_reviews", accountId: string) =>
    t.store.db.prepare(`SELECT features FROM ${table} WHERE account_id = ?`).all(accountId) as { features: string }[];

  async function accountWithReview(): Promise<string> {
    const applied = await post(t, "/v1/applications", applicationBody({ features: { ...MIDDLE_FEATURES, monthlyIncomeYuan: INCOME } }));
    expect(applied.status, JSON.stringify(applied.body)).to.equal(201);
    const accountId = applied.body.accountId as string;
    const review = await post(t, `/v1/accounts/${accountId}/limit-reviews`, { product: "pay_later", features: { ...MIDDLE_FEATURES, monthlyIncomeYuan: INCOME } });
    expect(review.status, JSON.stringify(review.body)).to.equal(200);
    return accountId;
  }

  it("stores a decision's and a limit review's features sealed (v1:<keyId>:…), with no clear income, and reads them back", async () => {
    const accountId = await accountWithReview();
    const decisions = rowsOf("decisions", accountId);
    const reviews = rowsOf("limit_reviews", accountId);
    expect(decisions.length).to.be.greaterThan(0);
    expect(reviews.length).to.be.greaterThan(0);
    for (const { features } of [...decisions, ...reviews]) {
      expect(features).to.match(/^v1:k0:/);
      expect(features).not.to.include(String(INCOME));
      expect(features).not.to.include("monthlyIncomeYuan");
    }
    expect((await t.gateway.servicingStore.latestDecisionFeatures(accountId, 1))?.monthlyIncomeYuan).to.equal(INCOME);
    expect((await t.gateway.servicingStore.reviewsOf(accountId)).map((r) => r.features.monthlyIncomeYuan)).to.deep.equal([INCOME]);
  });

  it("blanks the features of the person's decisions and reviews when the person is erased, and no one else's", async () => {
    const erased = await accountWithReview();
    const kept = await approvedAccount(t);
    const res = await del(t, `/v1/accounts/${erased}/identity`, t.keys.admin);
    expect(res.status).to.equal(204);
    for (const { features } of [...rowsOf("decisions", erased), ...rowsOf("limit_reviews", erased)]) expect(features).to.equal("");
    expect(await t.gateway.servicingStore.latestDecisionFeatures(erased, 1)).to.deep.equal({});
    expect((await t.gateway.servicingStore.reviewsOf(erased)).map((r) => r.features)).to.deep.equal([{}]);
    expect(rowsOf("decisions", kept).every(({ features }) => features.startsWith("v1:k0:"))).to.equal(true);
    // The account itself is still there, on-chain and in the read model.
    expect((await get(t, `/v1/accounts/${erased}`, t.keys.auditor)).status).to.equal(200);
  });
});
