import { expect } from "chai";

import { guardContact, isQuietHour, type GuardPolicy } from "../../server/servicing/collection-guard";
import { isTimeZone, localMidnight, localTime, nextLocalHour } from "../../core/zone-time";

const POLICY: GuardPolicy = { quietHours: { startHour: 22, endHour: 8 }, maxContactsPerDay: 3 };
/** Unix seconds of a UTC wall time. */
const utc = (iso: string) => BigInt(Date.parse(`${iso}Z`) / 1000);

describe("collection guard: quiet hours and the daily cap, in the borrower's time zone", () => {
  it("treats 22:00-07:59 as quiet and 08:00-21:59 as allowed (the window wraps past midnight)", () => {
    const quiet = [22, 23, 0, 3, 7].map((h) => isQuietHour(h, POLICY.quietHours));
    const allowed = [8, 9, 12, 21].map((h) => isQuietHour(h, POLICY.quietHours));
    expect(quiet).to.deep.equal([true, true, true, true, true]);
    expect(allowed).to.deep.equal([false, false, false, false]);
    expect(isQuietHour(3, { startHour: 1, endHour: 5 })).to.equal(true);
    expect(isQuietHour(5, { startHour: 1, endHour: 5 })).to.equal(false);
  });

  it("defers a contact at 23:30 in Shanghai to 08:00 the next morning there", () => {
    const now = utc("2025-03-10T15:30:00"); // 23:30 in Asia/Shanghai (UTC+8)
    const d = guardContact(POLICY, { now, zone: "Asia/Shanghai", contactsToday: 0 });
    expect(d.action).to.equal("defer");
    if (d.action !== "defer") return;
    expect(d.until).to.equal(utc("2025-03-11T00:00:00")); // 08:00 in Shanghai
    expect(d.reason).to.match(/quiet hours 22:00-08:00 in Asia\/Shanghai \(local time 23:30\)/);
  });

  it("defers a contact at 07:59 local and sends one at 08:00 local", () => {
    const early = guardContact(POLICY, { now: utc("2025-03-10T23:59:00"), zone: "Asia/Shanghai", contactsToday: 0 });
    const eight = guardContact(POLICY, { now: utc("2025-03-11T00:00:00"), zone: "Asia/Shanghai", contactsToday: 0 });
    expect(early.action).to.equal("defer");
    if (early.action === "defer") expect(early.until).to.equal(utc("2025-03-11T00:00:00"));
    expect(eight.action).to.equal("send");
    expect(eight.localClock).to.equal("08:00");
  });

  it("judges the hour in the borrower's zone, not the server's: noon UTC is quiet in Honolulu and allowed in London", () => {
    const now = utc("2025-07-01T12:00:00");
    expect(guardContact(POLICY, { now, zone: "Pacific/Honolulu", contactsToday: 0 }).action).to.equal("defer"); // 02:00
    expect(guardContact(POLICY, { now, zone: "Europe/London", contactsToday: 0 }).action).to.equal("send"); // 13:00
  });

  it("finds 08:00 across a daylight-saving change (New York, 9 March 2025)", () => {
    const now = utc("2025-03-09T05:00:00"); // 00:00 EST; clocks jump 02:00 -> 03:00
    const until = nextLocalHour(now, "America/New_York", 8);
    expect(until).to.equal(utc("2025-03-09T12:00:00")); // 08:00 EDT = 12:00 UTC
    expect(localTime(until, "America/New_York").clock).to.equal("08:00");
  });

  it("stops at the daily cap and defers the next contact to 08:00 the next local day", () => {
    const now = utc("2025-03-10T04:00:00"); // 12:00 in Shanghai
    const third = guardContact(POLICY, { now, zone: "Asia/Shanghai", contactsToday: 2 });
    const fourth = guardContact(POLICY, { now, zone: "Asia/Shanghai", contactsToday: 3 });
    expect(third.action).to.equal("send");
    expect(third.reason).to.match(/contact 3 of 3 on 2025-03-10/);
    expect(fourth.action).to.equal("defer");
    if (fourth.action !== "defer") return;
    expect(fourth.until).to.equal(utc("2025-03-11T00:00:00"));
    expect(fourth.reason).to.match(/daily cap of 3 contacts reached on 2025-03-10 in Asia\/Shanghai/);
  });

  it("counts the cap by the borrower's local date", () => {
    // 23:00 UTC on the 10th is already the 11th in Shanghai (07:00, quiet) and still the 10th in London.
    const now = utc("2025-03-10T23:00:00");
    expect(localTime(now, "Asia/Shanghai").date).to.equal("2025-03-11");
    expect(localTime(now, "Europe/London").date).to.equal("2025-03-10");
  });

  it("knows IANA zones and refuses made-up ones; local midnight is the zone's", () => {
    expect(isTimeZone("Asia/Shanghai")).to.equal(true);
    expect(isTimeZone("Etc/GMT-8")).to.equal(true);
    expect(isTimeZone("Mars/Olympus")).to.equal(false);
    expect(isTimeZone("")).to.equal(false);
    expect(localMidnight(2025, 3, 1, "Asia/Shanghai")).to.equal(utc("2025-02-28T16:00:00"));
    expect(localMidnight(2025, 13, 1, "UTC")).to.equal(utc("2026-01-01T00:00:00"));
  });
});
