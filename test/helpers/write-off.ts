/**
 * A line frozen by a write-off, staged through the API and the ledger fixture: a single-payment
 * purchase through the gateway, the chain moved to the day its loan is `writeOffDays` past due,
 * the write-off sent with the operator key straight to the ledger (the API's write-off route is
 * tested in test/server/api-credit-admin.test.ts), and the gateway's clock put at the chain's time.
 */
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";

import { DAY, newRef, PAY_LATER_ID } from "./fixtures";
import { approvedAccount, followChainTime, post, type TestGateway } from "./gateway";

export async function writtenOffPayLaterLine(t: TestGateway): Promise<{ accountId: string; loanNo: number }> {
  const accountId = await approvedAccount(t, "pay_later");
  const purchase = await post(t, "/v1/purchases", { accountId, amount: "80000" });
  expect(purchase.status, JSON.stringify(purchase.body)).to.equal(201);
  const loanNo = Number(purchase.body.loanNo);
  const [terms] = await t.l.ledger.loanOf(accountId, loanNo);
  const pastDueDay = terms.firstDueDay + terms.writeOffDays + 1n;
  await time.increaseTo(terms.startTime + pastDueDay * BigInt(DAY));
  const { seq } = await t.l.ledger.accountOf(accountId);
  await (await t.l.asOperator.writeOff(accountId, loanNo, newRef(), seq)).wait();
  const line = await t.l.ledger.lineOf(accountId, PAY_LATER_ID);
  expect([line.frozen, line.freezeReason]).to.deep.equal([true, 0xffffn]);
  await followChainTime(t.clock, t.provider);
  return { accountId, loanNo };
}
