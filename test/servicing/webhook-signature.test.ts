import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";

import { signWebhook, verifyWebhook } from "../../server/servicing/webhook-signature";

const SECRET = "whsec_test-secret";
const BODY = JSON.stringify({ id: "evt_1", type: "reminder.due_today", created: 1_700_000_000, accountId: null, data: { amountDue: "1000" } });
const T = 1_700_000_000;

describe("webhook signatures: the documented verification code", () => {
  it("accepts a delivery signed with the endpoint's secret within the replay window", () => {
    expect(verifyWebhook(signWebhook(SECRET, T, BODY), BODY, SECRET, T + 299)).to.deep.equal({ ok: true, timestamp: T });
    expect(verifyWebhook(signWebhook(SECRET, T, BODY), BODY, SECRET, T - 299).ok).to.equal(true);
  });

  it("rejects a tampered body", () => {
    const header = signWebhook(SECRET, T, BODY);
    const tampered = BODY.replace('"1000"', '"10"');
    expect(verifyWebhook(header, tampered, SECRET, T)).to.deep.equal({ ok: false, reason: "signature does not match" });
  });

  it("rejects a tampered timestamp (the signature covers it)", () => {
    const header = signWebhook(SECRET, T, BODY).replace(`t=${T}`, `t=${T + 60}`);
    expect(verifyWebhook(header, BODY, SECRET, T + 60).ok).to.equal(false);
  });

  it("rejects a stale delivery outside the replay window, and one from the future", () => {
    const header = signWebhook(SECRET, T, BODY);
    const stale = verifyWebhook(header, BODY, SECRET, T + 301);
    expect(stale.ok).to.equal(false);
    if (!stale.ok) expect(stale.reason).to.match(/outside the replay window of 300 s/);
    expect(verifyWebhook(header, BODY, SECRET, T - 301).ok).to.equal(false);
    expect(verifyWebhook(header, BODY, SECRET, T + 3_600, 7_200).ok).to.equal(true);
  });

  it("rejects another endpoint's secret, a missing header and malformed headers", () => {
    const header = signWebhook(SECRET, T, BODY);
    expect(verifyWebhook(header, BODY, "whsec_other", T).ok).to.equal(false);
    for (const bad of [undefined, "", "v1=abc", `t=${T}`, `t=abc,v1=${"0".repeat(64)}`, `t=${T},t=${T},v1=00`, `t=${T},v1=zz`, "garbage"]) {
      expect(verifyWebhook(bad, BODY, SECRET, T).ok, String(bad)).to.equal(false);
    }
  });

  it("accepts any matching v1 among several (for secret rotation)", () => {
    const good = signWebhook(SECRET, T, BODY).split(",")[1];
    expect(verifyWebhook(`t=${T},v1=${"ab".repeat(32)},${good}`, BODY, SECRET, T).ok).to.equal(true);
  });

  it("is the code docs/WEBHOOKS.md shows", () => {
    const source = readFileSync(path.join(__dirname, "../../server/servicing/webhook-signature.ts"), "utf8");
    const docs = readFileSync(path.join(__dirname, "../../docs/WEBHOOKS.md"), "utf8");
    const start = source.indexOf("export type WebhookVerification");
    const snippet = source.slice(start).trim();
    expect(start).to.be.greaterThan(0);
    expect(docs, "docs/WEBHOOKS.md holds the verification function verbatim").to.include(snippet);
  });
});
