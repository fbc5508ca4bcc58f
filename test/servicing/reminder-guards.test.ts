/**
 * The collection guard inside the servicing run, on the local system: reminders that fall in
 * the borrower's quiet hours wait until 08:00 there, the daily cap holds the rest to the next
 * day, a reminder that is no longer true is not sent, and every decision is logged with its
 * reason. The admin clock moves only on the local network.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";

import { readGatewayConfig } from "../../server/config";
import { createGateway } from "../../server/gateway";
import { GatewayMetrics } from "../../server/metrics";
import { REMINDER_TYPES } from "../../server/schemas/servicing";
import { applicationBody, hardhatKey, memoryStore, post, silentLogger, testGateway, type TestGateway, scorerEnv } from "../helpers/gateway";
import { startReceiver, zoneAtHour, type Receiver } from "./receiver";

const HOUR_MS = 3_600_000;

describe("reminders pass the collection guard: quiet hours, daily cap, stale reminders", function () {
  let t: TestGateway;
  let r: Receiver;

  before(async () => {
    t = await testGateway({ GATEWAY_CONTACTS_PER_DAY: "1", GATEWAY_LIMIT_REVIEW_INTERVAL_DAYS: "0" });
    r = await startReceiver();
    expect((await post(t, "/v1/webhooks", { url: r.url, events: [...REMINDER_TYPES] })).status).to.equal(201);
  });

  after(async () => {
    await t.gateway.stop();
    await r.close();
  });

  const run = async () => {
    const res = await post(t, "/v1/admin/servicing/run", { tasks: ["delinquency", "reminders", "deliveries"] }, { key: t.keys.admin });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body;
  };

  it("holds reminders in quiet hours until 08:00 local, then sends one a day, and drops one that is no longer true", async () => {
    // A borrower for whom it is 23:xx now.
    const zone = zoneAtHour((await t.provider.getBlock("latest"))!.timestamp, 23);
    const applied = await post(t, "/v1/applications", applicationBody({ timeZone: zone }));
    const accountId: string = applied.body.accountId;
    expect((await post(t, "/v1/purchases", { accountId, amount: "20000" })).status).to.equal(201);

    // Day 40 at 23:xx: "due soon" (day 37) and "due today" are both due, and both wait.
    const late = await post(t, "/v1/admin/clock/advance", { days: 40 }, { key: t.keys.admin });
    expect(late.status).to.equal(200);
    expect(late.body.run.contacts).to.deep.equal({ sent: 0, deferred: 2, suppressed: 0 });
    expect(r.received).to.have.length(0);
    let log = await t.gateway.servicingStore.contactAttempts(accountId);
    expect(log.map((a) => a.outcome)).to.deep.equal(["deferred", "deferred"]);
    for (const a of log) expect(a.reason).to.match(new RegExp(`^quiet hours 22:00-08:00 in ${zone.replace(/[+]/g, "\\+")} \\(local time 23:`));

    // 9.5 hours later it is 08:30-09:29 there: the first goes; the cap (1 a day) holds the second to tomorrow 08:00.
    t.clock.advanceMs(9.5 * HOUR_MS);
    await run(); // (the gateway's own loop may have run it first: the log and the receiver tell)
    expect(r.received.map((x) => x.body.type)).to.deep.equal(["reminder.due_soon"]);
    log = await t.gateway.servicingStore.contactAttempts(accountId);
    expect(log.map((a) => a.outcome)).to.deep.equal(["deferred", "deferred", "sent", "deferred"]);
    expect(log[log.length - 1].reason).to.match(/^daily cap of 1 contact reached on \d{4}-\d\d-\d\d in /);

    // A day later "due today" is no longer true (the loan is past due): it is suppressed, and "overdue day 1" goes.
    t.clock.advanceMs(24 * HOUR_MS);
    await run();
    expect(r.received.map((x) => x.body.type)).to.deep.equal(["reminder.due_soon", "reminder.overdue_day_1"]);
    log = await t.gateway.servicingStore.contactAttempts(accountId);
    expect(log.map((a) => a.outcome)).to.deep.equal(["deferred", "deferred", "sent", "deferred", "suppressed", "sent"]);
    expect(log[4].reason).to.match(/^superseded: period 1 is already past due/);
    expect(log.every((a) => a.timeZone === zone && a.reason.length > 0)).to.equal(true);

    // Running again sends nothing twice.
    const again = await run();
    expect(again.contacts).to.deep.equal({ sent: 0, deferred: 0, suppressed: 0 });
    expect(r.received).to.have.length(2);
  });

  it("refuses to move the clock on a chain that is not the local network, with a 409 problem, changing nothing", async () => {
    const config = readGatewayConfig({
      GATEWAY_RPC_URL: "http://127.0.0.1:9",
      GATEWAY_LEDGER_ADDRESS: t.client.address,
      GATEWAY_MODE: "development", // Hardhat's public keys are refused in production mode
      GATEWAY_OPERATOR_KEY: hardhatKey(1),
      ...scorerEnv(t.scoring),
      GATEWAY_DB_PATH: ":memory:",
      GATEWAY_VAULT_KEY: randomBytes(32).toString("hex"),
      GATEWAY_IDENTITY_PEPPER: randomBytes(32).toString("hex"),
      GATEWAY_LOG_LEVEL: "silent",
    });
    let moved = 0;
    const remote = await createGateway(config, {
      provider: t.provider,
      operator: t.operator,
      store: memoryStore(t.clock),
      clock: t.clock,
      logger: silentLogger(),
      metrics: new GatewayMetrics({ defaultMetrics: false }),
      chainControl: {
        local: false,
        increaseTime: async () => {
          moved += 1;
          return 0n;
        },
        blockTime: async () => 0n,
      },
    });
    const admin = (await remote.apiKeys.issue("admin", ["admin"])).key;
    const block = await t.provider.getBlockNumber();
    const res = await post({ gateway: remote, keys: { admin } } as unknown as TestGateway, "/v1/admin/clock/advance", { days: 1 }, { key: admin });
    expect(res.status).to.equal(409);
    expect(res.body).to.include({ type: "/problems/clock-advance-refused", field: "days" });
    expect(res.headers["content-type"]).to.match(/^application\/problem\+json/);
    expect(moved).to.equal(0);
    expect(await t.provider.getBlockNumber()).to.equal(block);
    await remote.stop();
  });
});
