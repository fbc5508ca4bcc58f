/**
 * The servicing day end to end on the local system: a borrower buys, the admin clock moves the
 * chain past the due date a few days at a time, and the reminders arrive at a real HTTP
 * receiver, signed (checked with the documented verification code) and in order; the penalty
 * is the ledger's (DESIGN.md: overdue principal x penalty rate x days), the loan moves
 * between buckets, a repayment clears it, and the credit report shows each month's status.
 */
import { expect } from "chai";

import { DAY } from "../../core/loan-math";
import { REMINDER_TYPES } from "../../server/schemas/servicing";
import { verifyWebhook } from "../../server/servicing/webhook-signature";
import { localTime } from "../../core/zone-time";
import { applicationBody, get, post, testGateway, type TestGateway } from "../helpers/gateway";
import { startReceiver, zoneAtNoon, type Receiver } from "./receiver";
import { expectAuditPasses } from "../helpers/audit";

describe("servicing end to end: reminders, penalty, buckets, repayment, credit report", function () {
  let t: TestGateway;
  let reminders: Receiver;
  let decisions: Receiver;

  before(async () => {
    t = await testGateway({ GATEWAY_LIMIT_REVIEW_INTERVAL_DAYS: "0" });
    reminders = await startReceiver();
    decisions = await startReceiver();
  });

  after(async () => {
    await t.gateway.stop();
    await reminders.close();
    await decisions.close();
  });

  const advance = async (days: number) => {
    const res = await post(t, "/v1/admin/clock/advance", { days }, { key: t.keys.admin });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };
  const types = () => reminders.received.map((r) => r.body.type);

  it("delivers each reminder signed and in order, accrues the ledger's penalty, moves buckets, and reports the months", async () => {
    const hook = await post(t, "/v1/webhooks", { url: reminders.url, events: [...REMINDER_TYPES] });
    expect(hook.status, JSON.stringify(hook.body)).to.equal(201);
    const secret: string = hook.body.secret;
    expect(secret).to.match(/^whsec_/);
    const other = await post(t, "/v1/webhooks", { url: decisions.url, events: ["decision.made", "operation.confirmed"] });
    expect(other.status).to.equal(201);

    // A borrower whose local time is around noon, so quiet hours do not hold the reminders back.
    const now = Number((await t.provider.getBlock("latest"))!.timestamp);
    const zone = zoneAtNoon(now);
    const applied = await post(t, "/v1/applications", applicationBody({ timeZone: zone }));
    expect(applied.status, JSON.stringify(applied.body)).to.equal(201);
    const accountId: string = applied.body.accountId;
    const buy = await post(t, "/v1/purchases", { accountId, amount: "100000" });
    expect(buy.status, JSON.stringify(buy.body)).to.equal(201);
    const loanNo: number = buy.body.loanNo;
    const [terms] = await t.l.ledger.loanOf(accountId, loanNo);
    const start = terms.startTime;
    expect(terms.firstDueDay).to.equal(40n);

    // 37 days: due in 3 days.
    await advance(37);
    expect(types()).to.deep.equal(["reminder.due_soon"]);
    // 40: due today; 41: one day past due, bucket 1-30.
    await advance(3);
    expect(types()).to.deep.equal(["reminder.due_soon", "reminder.due_today"]);
    const firstOverdue = await advance(1);
    expect(types().slice(2)).to.deep.equal(["reminder.overdue_day_1"]);
    expect(firstOverdue.run.bucketMoves).to.deep.include({
      loanId: `${accountId}:${loanNo}`,
      from: "current",
      to: "1-30",
      daysPastDue: 1,
      at: Number(start + 41n * DAY),
    });
    expect((await get(t, `/v1/accounts/${accountId}`)).body.delinquency).to.deep.equal({ daysPastDue: 1, bucket: "1-30" });

    // 47: a week past due. Penalty = overdue principal x 500 ppm/day x 7 days, as the ledger computes it.
    await advance(6);
    const week = reminders.received[reminders.received.length - 1].body;
    expect(week.type).to.equal("reminder.overdue_day_7");
    const expectedPenalty = (100_000n * terms.penaltyPpmPerDay * 7n) / 1_000_000n;
    expect(expectedPenalty).to.equal(350n);
    expect(week.data.penalty).to.equal(expectedPenalty.toString());
    const onChain = await t.l.ledger.positionOf(accountId, loanNo, BigInt(week.created));
    expect(onChain.penalty).to.equal(expectedPenalty);
    expect(week.data.daysPastDue).to.equal(7);
    expect(week.data.amountDue).to.equal((100_000n + expectedPenalty).toString());

    // 70: a month past due; 71: bucket 31-60.
    await advance(23);
    expect(types().slice(-1)).to.deep.equal(["reminder.overdue_day_30"]);
    const second = await advance(1);
    expect(second.run.bucketMoves.map((m: { from: string; to: string }) => `${m.from}>${m.to}`)).to.deep.equal(["1-30>31-60"]);
    expect((await get(t, `/v1/accounts/${accountId}`)).body.delinquency.bucket).to.equal("31-60");

    // Keep it overdue until a month has ended inside the overdue stretch, so the report has an overdue month.
    const overdueFrom = start + 41n * DAY;
    const monthEnded = () => localTime(overdueFrom, zone).month !== localTime(BigInt(second.businessTime), zone).month;
    while (!monthEnded()) second.businessTime = (await advance(1)).businessTime;

    // The repayment of the payoff clears the loan; the next run moves it back to current.
    const loan = await get(t, `/v1/loans/${accountId}:${loanNo}`);
    const repay = await post(t, "/v1/repayments", { loanId: `${accountId}:${loanNo}`, amount: loan.body.position.payoff });
    expect(repay.status, JSON.stringify(repay.body)).to.equal(200);
    expect(repay.body.loanStatus).to.equal("closed");
    expect(BigInt(repay.body.allocation.penalty)).to.be.greaterThan(expectedPenalty);
    const run = await post(t, "/v1/admin/servicing/run", { tasks: ["delinquency", "reminders", "deliveries"] }, { key: t.keys.admin });
    expect(run.status).to.equal(200);
    expect(run.body.bucketMoves.map((m: { from: string; to: string }) => `${m.from}>${m.to}`)).to.deep.equal(["31-60>current"]);
    expect((await get(t, `/v1/accounts/${accountId}`)).body.delinquency.bucket).to.equal("current");
    // The ledger counts whole loan days: the repayment is effective from the start of its day.
    const history = await get(t, `/v1/accounts/${accountId}/history`);
    const repaidDay = BigInt(history.body.entries.find((e: { kind: string }) => e.kind === "Repaid").fields.day);
    const repaidAt = start + repaidDay * DAY;

    // Every delivery verifies with the documented code; ids are unique; the order is the business order.
    expect(types()).to.deep.equal([...REMINDER_TYPES]);
    const ids = new Set<string>();
    for (const r of reminders.received) {
      const verdict = verifyWebhook(r.headers["webhook-signature"] as string, r.rawBody, secret, Math.floor(t.clock.nowMs() / 1000));
      expect(verdict, r.body.type).to.deep.include({ ok: true });
      expect(r.headers["webhook-id"]).to.equal(r.body.id);
      ids.add(r.body.id);
    }
    expect(ids.size).to.equal(reminders.received.length);
    const attempts = await t.gateway.servicingStore.contactAttempts(accountId);
    expect(attempts.filter((a) => a.outcome === "sent")).to.have.length(REMINDER_TYPES.length);
    expect(attempts.every((a) => a.reason.length > 0 && a.timeZone === zone)).to.equal(true);

    // The other endpoint got the decision and the confirmations, not the reminders.
    expect(decisions.received.map((r) => r.body.type)).to.include("decision.made");
    expect(decisions.received.every((r) => !r.body.type.startsWith("reminder."))).to.equal(true);

    // The credit report: each month read at its end, N before the due date, 1-7 by days past due, C once repaid.
    const report = await get(t, `/v1/accounts/${accountId}/credit-report`);
    expect(report.status, JSON.stringify(report.body)).to.equal(200);
    expect(report.body.timeZone).to.equal(zone);
    const months: Array<{ month: string; status: string; asOf: number }> = report.body.months;
    const dueDayEnd = start + 41n * DAY; // overdue from the start of loan day 41
    const expected = (asOf: bigint) => {
      if (asOf >= repaidAt) return "C";
      if (asOf < dueDayEnd) return "N";
      const dpd = (asOf - start) / DAY - 40n;
      return String(dpd > 180n ? 7n : (dpd + 29n) / 30n);
    };
    expect(months.length).to.be.greaterThan(1);
    for (const [i, m] of months.entries()) {
      const asOf = BigInt(m.asOf);
      expect(localTime(asOf, zone).month, "read within its month").to.equal(m.month);
      if (i < months.length - 1) expect(localTime(asOf + 1n, zone).month, "read at the month's last second").to.not.equal(m.month);
      expect(m.status, m.month).to.equal(expected(asOf));
    }
    expect(months.map((m) => m.status)).to.include.members(["N", "C"]);
    expect(months.some((m) => /^[1-7]$/.test(m.status)), "an overdue month").to.equal(true);

    // The auditor's verifier, reading only the chain, finds every rule kept through all of it.
    const audited = await expectAuditPasses(await t.l.ledger.getAddress());
    expect(audited.stats.entries).to.be.greaterThan(0);
  });
});
