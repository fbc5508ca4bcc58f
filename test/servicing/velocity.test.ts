/**
 * Velocity rules: the pure screen, and on the local system a drawdown that trips a rule
 * freezes the line through the outbox (on-chain, with the rule's reason code), raises an
 * `alert.velocity` event and draws nothing.
 */
import { expect } from "chai";

import { PAY_LATER_ID } from "../helpers/fixtures";
import { screenDrawdown, VELOCITY_REASON_CODES, type VelocityPolicy } from "../../server/servicing/velocity";
import { applicationBody, post, testGateway, type TestGateway } from "../helpers/gateway";
import { randomNationalId } from "../helpers/identities";
import { startReceiver, type Receiver } from "./receiver";

const POLICY: VelocityPolicy = { maxDrawdownsPerHour: 3, spikeMultiple: 5, spikeMinHistory: 3, maxAccountsPerDevice: 2, maxAccountsPerPhone: 2 };
const HOUR = 3_600_000;
const at = (ms: number, amount: bigint) => ({ atMs: ms, amount });
const input = { nowMs: 10 * HOUR, amount: 1_000n, history: [] as Array<{ atMs: number; amount: bigint }>, accountsOnDevice: 1, accountsOnPhone: 1 };

describe("velocity rules (pure)", () => {
  it("trips drawdowns_per_hour on the drawdown past the hourly limit, counting only the last hour", () => {
    const recent = [at(9.5 * HOUR, 1_000n), at(9.8 * HOUR, 1_000n)];
    expect(screenDrawdown(POLICY, { ...input, history: recent }).tripped).to.equal(false);
    const three = [...recent, at(9.9 * HOUR, 1_000n)];
    expect(screenDrawdown(POLICY, { ...input, history: three })).to.deep.include({ tripped: true, rule: "drawdowns_per_hour", reasonCode: 7101 });
    const old = [at(8 * HOUR, 1_000n), ...recent];
    expect(screenDrawdown(POLICY, { ...input, history: old }).tripped).to.equal(false);
  });

  it("trips amount_spike above the multiple of the mean, only with enough history", () => {
    const history = [at(1 * HOUR, 1_000n), at(2 * HOUR, 2_000n), at(3 * HOUR, 3_000n)]; // mean 2,000
    expect(screenDrawdown(POLICY, { ...input, history, amount: 10_000n }).tripped).to.equal(false); // exactly 5x
    expect(screenDrawdown(POLICY, { ...input, history, amount: 10_001n })).to.deep.include({ rule: "amount_spike", reasonCode: 7102 });
    expect(screenDrawdown(POLICY, { ...input, history: history.slice(0, 2), amount: 1_000_000n }).tripped).to.equal(false);
  });

  it("trips shared_device and shared_phone past the number of accounts allowed", () => {
    expect(screenDrawdown(POLICY, { ...input, accountsOnDevice: 2 }).tripped).to.equal(false);
    expect(screenDrawdown(POLICY, { ...input, accountsOnDevice: 3 })).to.deep.include({ rule: "shared_device", reasonCode: 7103 });
    expect(screenDrawdown(POLICY, { ...input, accountsOnPhone: 3 })).to.deep.include({ rule: "shared_phone", reasonCode: 7104 });
  });
});

describe("velocity rules on the local system: a trip freezes the line instead of drawing", function () {
  let t: TestGateway;
  let alerts: Receiver;

  before(async () => {
    t = await testGateway({ GATEWAY_VELOCITY_DRAWDOWNS_PER_HOUR: "2", GATEWAY_VELOCITY_ACCOUNTS_PER_DEVICE: "2" });
    alerts = await startReceiver();
    const hook = await post(t, "/v1/webhooks", { url: alerts.url, events: ["alert.velocity", "line.frozen"] });
    expect(hook.status).to.equal(201);
  });

  after(async () => {
    await t.gateway.stop();
    await alerts.close();
  });

  const apply = async (identity: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => {
    const res = await post(t, "/v1/applications", applicationBody(extra, identity));
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.accountId as string;
  };

  it("freezes the line when the drawdowns per hour are exceeded, and draws nothing", async () => {
    const account = await apply();
    for (let i = 0; i < 2; i++) expect((await post(t, "/v1/purchases", { accountId: account, amount: "1000" })).status).to.equal(201);
    const usedBefore = (await t.l.ledger.lineOf(account, PAY_LATER_ID)).used;
    const third = await post(t, "/v1/purchases", { accountId: account, amount: "1000" });
    expect(third.status, JSON.stringify(third.body)).to.equal(422);
    expect(third.body).to.include({ type: "/problems/velocity-hold", rule: "drawdowns_per_hour", reasonCode: 7101 });
    await t.gateway.operations.wait(third.body.freezeOperationId, 30_000);
    const line = await t.l.ledger.lineOf(account, PAY_LATER_ID);
    expect(line.frozen).to.equal(true);
    expect(line.freezeReason).to.equal(BigInt(VELOCITY_REASON_CODES.drawdowns_per_hour));
    expect(line.used).to.equal(usedBefore);
    expect((await t.gateway.servicingStore.holdsOf(account)).map((h) => h.rule)).to.deep.equal(["drawdowns_per_hour"]);

    // An hour later the line stays frozen: only an explicit unfreeze clears a freeze.
    t.clock.advanceMs(3_600_000);
    const later = await post(t, "/v1/purchases", { accountId: account, amount: "1000" });
    expect(later.status).to.equal(422);
    expect(later.body.rule).to.equal("LineIsFrozen");

    await t.gateway.deliverer.deliverDue();
    const types = alerts.received.filter((r) => r.body.accountId === account).map((r) => r.body.type);
    expect(types).to.include.members(["alert.velocity", "line.frozen"]);
    const alert = alerts.received.find((r) => r.body.type === "alert.velocity" && r.body.accountId === account)!;
    expect(alert.body.data).to.include({ rule: "drawdowns_per_hour", reasonCode: 7101, amount: "1000" });
  });

  it("freezes the line of the third account applied from one device", async () => {
    const device = "device-7f3a";
    const first = await apply({ nationalId: randomNationalId() }, { deviceId: device });
    const second = await apply({ nationalId: randomNationalId() }, { deviceId: device });
    expect((await post(t, "/v1/purchases", { accountId: first, amount: "1000" })).status).to.equal(201);
    expect((await post(t, "/v1/purchases", { accountId: second, amount: "1000" })).status).to.equal(201);
    const third = await apply({ nationalId: randomNationalId() }, { deviceId: device });
    const res = await post(t, "/v1/purchases", { accountId: third, amount: "1000" });
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body.rule).to.equal("shared_device");
    await t.gateway.operations.wait(res.body.freezeOperationId, 30_000);
    expect((await t.l.ledger.lineOf(third, PAY_LATER_ID)).frozen).to.equal(true);
    expect((await t.l.ledger.lineOf(first, PAY_LATER_ID)).frozen).to.equal(false);
  });

  it("keeps only keyed hashes of device and phone, and forgets them with the person", async () => {
    // A phone of its own: the velocity rules count accounts sharing one. Its 8-digit subscriber part would not
    // turn up in hex keys by chance, unlike a short prefix such as "139" (seen: a hash holding "139" failed this).
    const subscriber = String(10_000_000 + (Date.now() % 89_999_999));
    const account = await apply({ nationalId: randomNationalId(), phone: `+86 139 ${subscriber}` }, { deviceId: "device-plain-text" });
    const row = t.store.db.prepare("SELECT * FROM account_profiles WHERE account_id = ?").get(account) as Record<string, string>;
    expect(row.device_key).to.match(/^[0-9a-f]{64}$/);
    expect(row.phone_key).to.match(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).to.not.include("device-plain-text");
    expect(JSON.stringify(row)).to.not.include(subscriber);
    expect((await t.gateway.accounts.forget(account), t.store.db.prepare("SELECT device_key, phone_key FROM account_profiles WHERE account_id = ?").get(account))).to.deep.equal({
      device_key: null,
      phone_key: null,
    });
  });
});
