import { expect } from "chai";

import {
  applicationBody,
  approvedAccount,
  get,
  newIdempotencyKey,
  post,
  testGateway,
  type TestGateway,
} from "../helpers/gateway";

describe("API: idempotency and waiting", function () {
  let t: TestGateway;

  before(async () => {
    t = await testGateway();
  });

  after(async () => {
    await t.gateway.stop();
  });

  it("answers a retry with the first response and posts nothing twice", async () => {
    const account = await approvedAccount(t);
    const key = newIdempotencyKey();
    const first = await post(t, "/v1/purchases", { accountId: account, amount: "10000" }, { idempotencyKey: key });
    expect(first.status).to.equal(201);
    expect(first.headers["idempotent-replayed"]).to.equal(undefined);
    const seq = (await t.l.ledger.accountOf(account)).seq;
    const retry = await post(t, "/v1/purchases", { amount: "10000", accountId: account }, { idempotencyKey: key }); // keys reordered
    expect(retry.status).to.equal(201);
    expect(retry.headers["idempotent-replayed"]).to.equal("true");
    expect(retry.body).to.deep.equal(first.body);
    expect((await t.l.ledger.accountOf(account)).seq).to.equal(seq);
    expect((await t.l.ledger.accountOf(account)).loanCount).to.equal(1n);
  });

  it("refuses the same key with a different body: 409, and nothing written", async () => {
    const account = await approvedAccount(t);
    const key = newIdempotencyKey();
    await post(t, "/v1/purchases", { accountId: account, amount: "10000" }, { idempotencyKey: key });
    const seq = (await t.l.ledger.accountOf(account)).seq;
    const other = await post(t, "/v1/purchases", { accountId: account, amount: "20000" }, { idempotencyKey: key });
    expect(other.status).to.equal(409);
    expect(other.body).to.include({ type: "/problems/idempotency-key-reused", field: "Idempotency-Key" });
    const otherPath = await post(t, "/v1/quotes", { product: "pay_later", amount: "100" }, { idempotencyKey: key });
    expect(otherPath.status).to.equal(409);
    expect((await t.l.ledger.accountOf(account)).seq).to.equal(seq);
  });

  it("scopes keys to the partner: another partner's same key is another request", async () => {
    // One person, one account, applied for through both partners (a cash line through the second).
    const nationalId = applicationBody().identity.nationalId;
    const account = await approvedAccount(t, "pay_later", { nationalId });
    expect(await approvedAccount(t, "cash_loan", { nationalId }, t.keys.partner2)).to.equal(account);
    const key = newIdempotencyKey();
    const mine = await post(t, "/v1/purchases", { accountId: account, amount: "1000" }, { idempotencyKey: key });
    const theirs = await post(
      t,
      "/v1/purchases",
      { accountId: account, amount: "1000" },
      { idempotencyKey: key, key: t.keys.partner2 }
    );
    expect(mine.status).to.equal(201);
    expect(theirs.status).to.equal(201);
    expect(theirs.body.loanNo).to.equal(mine.body.loanNo + 1);
  });

  it("replays a refusal found at send time as the same problem", async () => {
    // Two purchases accepted without waiting: both pass pre-flight against the chain, the
    // second exceeds the limit once the first is on-chain and fails when the sender sends it.
    const account = await approvedAccount(t);
    await t.gateway.sender.stop(); // hold the outbox so both are accepted before either is sent
    const first = await post(t, "/v1/purchases?wait=false", { accountId: account, amount: "1500000" });
    const key = newIdempotencyKey();
    const second = await post(t, "/v1/purchases?wait=false", { accountId: account, amount: "1500000" }, { idempotencyKey: key });
    expect([first.status, second.status]).to.deep.equal([202, 202]);
    t.gateway.sender.start();
    const settled = await post(t, "/v1/purchases?wait=true", { accountId: account, amount: "1500000" }, { idempotencyKey: key });
    expect(settled.status).to.equal(422);
    expect(settled.body).to.include({ rule: "LimitExceeded", field: "amount" });
    expect(settled.body.values).to.include({ requested: "1500000", available: "500000" });
    expect(settled.body.operation).to.include({ id: second.body.operation.id, status: "failed" });
    const replay = await post(t, "/v1/purchases", { accountId: account, amount: "1500000" }, { idempotencyKey: key });
    expect(replay.status).to.equal(422);
    expect(replay.body).to.deep.equal(settled.body);
    const op = await get(t, `/v1/operations/${second.body.operation.id}`, t.keys.auditor);
    expect(op.body.status).to.equal("failed");
    expect(op.body.problem.rule).to.equal("LimitExceeded");
    expect(op.body.steps[0]).to.include({ call: "purchase", status: "failed" });
    expect((await t.l.ledger.accountOf(account)).loanCount).to.equal(1n);
  });

  it("answers 202 with the operation when not waiting; the operation and a retry show it confirmed", async () => {
    const key = newIdempotencyKey();
    const body = applicationBody();
    await t.gateway.sender.stop();
    const accepted = await post(t, "/v1/applications?wait=false", body, { idempotencyKey: key });
    t.gateway.sender.start();
    expect(accepted.status).to.equal(202);
    expect(accepted.body.operation.status).to.equal("pending");
    expect(accepted.body).to.include({ outcome: "approved", score: 920 }); // the decision is known at once
    const id = accepted.body.operation.id;
    await t.gateway.operations.wait(id, 60_000);
    const op = await get(t, `/v1/operations/${id}`);
    expect(op.status).to.equal(200);
    expect(op.body).to.include({ id, kind: "application", status: "confirmed", accountId: accepted.body.accountId });
    expect(op.body.steps.map((s: { call: string; status: string }) => [s.call, s.status])).to.deep.equal([
      ["openAccount", "confirmed"],
      ["grantLine", "confirmed"],
    ]);
    expect(op.body.steps[1].entrySeq).to.equal("2");
    expect(op.body.steps[1].event).to.equal("LineGranted");
    const retry = await post(t, "/v1/applications", body, { idempotencyKey: key });
    expect(retry.status).to.equal(201);
    expect(retry.body.operation).to.include({ id, status: "confirmed" });
    expect(retry.body.accountId).to.equal(accepted.body.accountId);
  });

  it("accepts operations on an account whose opening is still in the outbox, in order", async () => {
    await t.gateway.sender.stop(); // the account's opening stays in the outbox: no pre-flight on the chain is possible
    const applied = await post(t, "/v1/applications?wait=false", applicationBody());
    const account = applied.body.accountId;
    const purchase = await post(t, "/v1/purchases?wait=false", { accountId: account, amount: "7000" });
    expect(purchase.status).to.equal(202);
    expect((await t.l.ledger.accountOf(account)).exists).to.equal(false);
    t.gateway.sender.start();
    const op = await t.gateway.operations.wait(purchase.body.operation.id, 60_000);
    expect(op.status).to.equal("confirmed");
    expect((await t.l.ledger.accountOf(account)).seq).to.equal(3n);
  });

  it("runs concurrent identical requests once", async () => {
    const account = await approvedAccount(t);
    const key = newIdempotencyKey();
    const results = await Promise.all(
      [1, 2, 3].map(() => post(t, "/v1/purchases", { accountId: account, amount: "3000" }, { idempotencyKey: key }))
    );
    expect(results.map((r) => r.status)).to.deep.equal([201, 201, 201]);
    expect(new Set(results.map((r) => r.body.operation.id)).size).to.equal(1);
    expect((await t.l.ledger.accountOf(account)).loanCount).to.equal(1n);
  });

  it("answers unknown operations with 404 and malformed ids with 400", async () => {
    expect((await get(t, `/v1/operations/op_${"0".repeat(32)}`)).status).to.equal(404);
    expect((await get(t, "/v1/operations/nope")).status).to.equal(400);
  });
});
