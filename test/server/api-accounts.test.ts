import { expect } from "chai";

import { CASH_LOAN_ID, PAY_LATER_ID } from "../helpers/fixtures";
import { applicationBody, approvedAccount, del, get, post, testGateway, type TestGateway, kycEvidence } from "../helpers/gateway";
import { GOOD_FEATURES, MIDDLE_FEATURES, randomNationalId, WEAK_FEATURES } from "../helpers/identities";

describe("API: accounts, history, freezes, limit reviews, vault deletion", function () {
  let t: TestGateway;

  before(async () => {
    t = await testGateway();
  });

  after(async () => {
    await t.gateway.stop();
  });

  it("shows an account's lines, limits, outstanding and next due from the read model", async () => {
    const identity = { nationalId: randomNationalId() };
    const account = await approvedAccount(t, "pay_later", identity);
    await approvedAccount(t, "cash_loan", identity);
    const purchase = await post(t, "/v1/purchases", { accountId: account, amount: "120000", installments: 3 });
    const res = await get(t, `/v1/accounts/${account}`, t.keys.auditor);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ accountId: account, tier: 2, exposureCap: "30000000", used: "120000", seq: "4" });
    expect(res.body.lines).to.have.length(2);
    const [payLater, cash] = res.body.lines;
    expect(payLater).to.include({
      product: "pay_later",
      productId: PAY_LATER_ID,
      limit: "2000000",
      effectiveLimit: "2000000",
      used: "120000",
      available: "1880000",
      frozen: false,
    });
    expect(cash).to.include({ product: "cash_loan", productId: CASH_LOAN_ID, limit: "5000000", used: "0", dailyRatePpm: 300 });
    expect(res.body.outstanding.principal).to.equal("120000");
    const [terms] = await t.l.ledger.loanOf(account, 1);
    expect(res.body.nextDue.time).to.equal(Number(terms.startTime) + 40 * 86_400);
    expect(res.body.delinquency).to.deep.equal({ daysPastDue: 0, bucket: "current" });
    expect(res.body.loans[0]).to.include({ loanId: purchase.body.loanId, status: "active", principalOutstanding: "120000" });
  });

  it("shows every history entry with seq, head, tx hash and block, and verifies the chain against the account's head", async () => {
    const account = await approvedAccount(t);
    await post(t, "/v1/purchases", { accountId: account, amount: "1000" });
    const res = await get(t, `/v1/accounts/${account}/history`, t.keys.auditor);
    expect(res.status).to.equal(200);
    expect(res.body.verified).to.equal(true);
    const onChain = await t.l.ledger.accountOf(account);
    expect(res.body.seq).to.equal(onChain.seq.toString());
    expect(res.body.head).to.equal(onChain.head);
    expect(res.body.entries.map((e: { seq: string; kind: string }) => [e.seq, e.kind])).to.deep.equal([
      ["1", "AccountOpened"],
      ["2", "LineGranted"],
      ["3", "Drawn"],
    ]);
    for (const e of res.body.entries) {
      const receipt = await t.provider.getTransactionReceipt(e.txHash);
      expect(receipt?.blockNumber).to.equal(e.blockNumber);
    }
    expect(res.body.entries[2].fields.terms.principal).to.equal("1000");
    expect(res.body.entries[res.body.entries.length - 1].head).to.equal(onChain.head);
  });

  it("answers 404 for an account that is not on the ledger, 400 for a malformed id", async () => {
    const unknown = await get(t, `/v1/accounts/0x${"12".repeat(32)}`);
    expect(unknown.status).to.equal(404);
    expect(unknown.body.type).to.equal("/problems/account-not-found");
    const malformed = await get(t, "/v1/accounts/0x1234");
    expect(malformed.status).to.equal(400);
    expect(malformed.body.field).to.equal("accountId");
  });

  it("freezes a line (drawdowns refused, repayments accepted); only an admin unfreezes", async () => {
    const account = await approvedAccount(t);
    const purchase = await post(t, "/v1/purchases", { accountId: account, amount: "5000" });
    const frozen = await post(t, `/v1/accounts/${account}/freeze`, { product: "pay_later", reasonCode: 7 });
    expect(frozen.status, JSON.stringify(frozen.body)).to.equal(200);
    expect(frozen.body).to.include({ frozen: true, product: "pay_later", reasonCode: 7 });
    expect((await t.l.ledger.lineOf(account, PAY_LATER_ID)).frozen).to.equal(true);

    const again = await post(t, `/v1/accounts/${account}/freeze`, { product: "pay_later", reasonCode: 7 });
    expect(again.status).to.equal(409);
    expect(again.body.rule).to.equal("FreezeStateUnchanged");
    const draw = await post(t, "/v1/purchases", { accountId: account, amount: "100" });
    expect(draw.status).to.equal(422);
    expect(draw.body).to.include({ rule: "LineIsFrozen" });
    const repay = await post(t, "/v1/repayments", { loanId: purchase.body.loanId, amount: "1000" });
    expect(repay.status).to.equal(200);
    const view = await get(t, `/v1/accounts/${account}`);
    expect(view.body.lines[0]).to.include({ frozen: true, freezeReasonCode: 7 });

    const byPartner = await post(t, `/v1/accounts/${account}/unfreeze`, { product: "pay_later", reasonCode: 8 });
    expect(byPartner.status).to.equal(403);
    const byAdmin = await post(
      t,
      `/v1/accounts/${account}/unfreeze`,
      { product: "pay_later", reasonCode: 8 },
      { key: t.keys.admin }
    );
    expect(byAdmin.status).to.equal(200);
    expect(byAdmin.body.frozen).to.equal(false);
    expect((await t.l.ledger.lineOf(account, PAY_LATER_ID)).frozen).to.equal(false);
  });

  it("raises a limit on a new signed decision when the re-score is better", async () => {
    // Start low: a tier-0 application (no KYC evidence) gets the scorer's tier-0 cap, 300,000.
    const body = applicationBody();
    const low = await post(t, "/v1/applications", body);
    const lowAccount = low.body.accountId;
    expect(low.body.limit).to.equal("300000");
    const review = await post(t, `/v1/accounts/${lowAccount}/limit-reviews`, {
      product: "pay_later",
      features: GOOD_FEATURES,
      evidence: await kycEvidence(t, body.identity.nationalId),
    });
    expect(review.status, JSON.stringify(review.body)).to.equal(200);
    expect(review.body).to.include({ outcome: "increased", previousLimit: "300000", newLimit: "2000000", score: 920 });
    expect(review.body.operation.status).to.equal("confirmed");
    expect(await t.l.ledger.effectiveLimit(lowAccount, PAY_LATER_ID)).to.equal(2_000_000n);
    const [raised] = await t.l.ledger.queryFilter(t.l.ledger.filters.LimitIncreased(lowAccount));
    expect(raised.args.decision.score).to.equal(920n);
    expect(raised.args.scorer).to.equal(t.scorer.address);
  });

  it("cuts a limit with a reason code when the re-score is worse, and changes nothing when it is the same", async () => {
    const account = await approvedAccount(t);
    const same = await post(t, `/v1/accounts/${account}/limit-reviews`, { product: "pay_later", features: GOOD_FEATURES });
    expect(same.status).to.equal(200);
    expect(same.body).to.include({ outcome: "unchanged", previousLimit: "2000000", newLimit: "2000000", operation: null });
    const seq = (await t.l.ledger.accountOf(account)).seq;

    const middle = await post(t, `/v1/accounts/${account}/limit-reviews`, { product: "pay_later", features: MIDDLE_FEATURES });
    expect(middle.body).to.include({ outcome: "cut", previousLimit: "2000000", newLimit: "1000000", cutReasonCode: 101 });
    const [cut] = await t.l.ledger.queryFilter(t.l.ledger.filters.LimitCut(account));
    expect(cut.args.reasonCode).to.equal(101n);
    expect(cut.args.newLimit).to.equal(1_000_000n);
    expect((await t.l.ledger.accountOf(account)).seq).to.equal(seq + 1n);

    const weak = await post(t, `/v1/accounts/${account}/limit-reviews`, { product: "pay_later", features: WEAK_FEATURES });
    expect(weak.body).to.include({ outcome: "cut", newLimit: "0", cutReasonCode: 900 });
    expect(await t.l.ledger.effectiveLimit(account, PAY_LATER_ID)).to.equal(0n);
  });

  it("refuses a limit review of a line the account does not hold", async () => {
    const account = await approvedAccount(t, "pay_later");
    const res = await post(t, `/v1/accounts/${account}/limit-reviews`, { product: "cash_loan", features: GOOD_FEATURES });
    expect(res.status).to.equal(422);
    expect(res.body).to.include({ rule: "NoLine", field: "product" });
  });

  it("lets an admin delete a person from the vault: the account stays on-chain, unlinked", async () => {
    const nationalId = randomNationalId();
    const account = await approvedAccount(t, "pay_later", { nationalId });
    const byPartner = await del(t, `/v1/accounts/${account}/identity`);
    expect(byPartner.status).to.equal(403);
    const deleted = await del(t, `/v1/accounts/${account}/identity`, t.keys.admin);
    expect(deleted.status).to.equal(204);
    expect(await t.store.findIdentityByAccount(account)).to.equal(undefined);
    const twice = await del(t, `/v1/accounts/${account}/identity`, t.keys.admin);
    expect(twice.status).to.equal(404);
    // The ledger keeps the history; the same person applying again is a new, unlinked account.
    expect((await get(t, `/v1/accounts/${account}`)).status).to.equal(200);
    const again = await approvedAccount(t, "pay_later", { nationalId });
    expect(again).to.not.equal(account);
  });
});
