/**
 * The explorer's pure parts (verifier/explorer/client/format.ts and model.ts): money written
 * exactly from fen, lookups and routes, installment status by the ledger's overdue rule, and
 * the chart's geometry. The browser test covers them rendered; these pin the edge cases.
 */
import { expect } from "chai";
import fc from "fast-check";

import { LoanStatus, RepaymentMethod, schedule, type LoanState, type LoanTerms } from "../../core/loan-math";
import { percentOfPpm, ratePerDay, short, utc, yuan } from "../../verifier/explorer/client/format";
import { chartGeometry, hashOf, installmentRows, loanSeries, parseLookup, routeOf, tickStep } from "../../verifier/explorer/client/model";
import type { TimedEvent } from "../../verifier/types";

const DAY = 86_400n;
const ACCOUNT = `0x${"ab".repeat(32)}`;

describe("explorer: formatting", () => {
  it("writes fen as yuan exactly, with separators, for any uint64 and negatives", () => {
    expect(yuan(0n)).to.equal("¥0.00");
    expect(yuan(5n)).to.equal("¥0.05");
    expect(yuan(123_456n)).to.equal("¥1,234.56");
    expect(yuan(-100_001n)).to.equal("-¥1,000.01");
    expect(yuan(2n ** 64n - 1n)).to.equal("¥184,467,440,737,095,516.15");
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (fen) => {
        const text = yuan(fen);
        const digits = text.replace(/[¥,.]/g, "");
        expect(BigInt(digits)).to.equal(fen); // nothing lost or rounded
        expect(text).to.match(/^¥\d{1,3}(,\d{3})*\.\d{2}$/);
      })
    );
  });

  it("writes ppm rates exactly and chain times in UTC", () => {
    expect(percentOfPpm(45_000n)).to.equal("4.5");
    expect(percentOfPpm(1n)).to.equal("0.0001");
    expect(ratePerDay(500n)).to.equal("0.05 %/day");
    expect(utc(1_700_000_000n)).to.equal("2023-11-14 22:13:20 UTC");
    expect(short(`0x${"1".repeat(64)}`)).to.equal("0x111111…1111");
  });
});

describe("explorer: lookups", () => {
  it("accepts an account id, a loan as account:n or account/n, and an operation id", () => {
    expect(parseLookup(` ${ACCOUNT.toUpperCase().replace("0X", "0x")} `)).to.deep.equal({ kind: "account", account: ACCOUNT });
    expect(parseLookup(`${ACCOUNT}:3`)).to.deep.equal({ kind: "loan", account: ACCOUNT, loanNo: 3 });
    expect(parseLookup(`${ACCOUNT}/12`)).to.deep.equal({ kind: "loan", account: ACCOUNT, loanNo: 12 });
    expect(parseLookup(`op_${"0".repeat(32)}`)).to.deep.equal({ kind: "operation", id: `op_${"0".repeat(32)}` });
  });

  it("refuses anything else with a message saying what to type", () => {
    for (const bad of ["", "hello", `${ACCOUNT}:0`, `${ACCOUNT}:4294967296`, `${ACCOUNT}:99999999999`, `0x${"a".repeat(40)}`, `${ACCOUNT}x`, "<script>"]) {
      const parsed = parseLookup(bad);
      expect(parsed, bad).to.have.property("error");
      expect((parsed as { error: string }).error, bad).to.match(/0x followed by 64 hex digits|up to 4294967295/);
    }
  });

  it("round-trips lookups through the location hash, and falls back to the overview", () => {
    for (const lookup of [{ kind: "overview" }, { kind: "account", account: ACCOUNT }, { kind: "loan", account: ACCOUNT, loanNo: 7 }] as const) {
      expect(routeOf(hashOf(lookup))).to.deep.equal(lookup);
    }
    expect(routeOf("#/account/not-an-id")).to.deep.equal({ kind: "overview" });
    expect(routeOf("")).to.deep.equal({ kind: "overview" });
  });
});

describe("explorer: installment status", () => {
  const terms: LoanTerms = {
    principal: 300_000n,
    startTime: 1_000n * DAY,
    periods: 3,
    method: RepaymentMethod.EqualPrincipal,
    productId: 1,
    ratePpmPerDay: 0n,
    totalFee: 6_900n,
    firstDueDay: 30n,
    penaltyPpmPerDay: 500n,
    writeOffDays: 180n,
  };
  const state = (principalSettled: bigint, feeSettled: bigint, status = LoanStatus.Active): LoanState => ({
    principalSettled,
    feeSettled,
    interestOwed: 0n,
    penaltyOwed: 0n,
    checkpointDay: 0n,
    status,
    principalRefunded: 0n,
    restructures: 0n,
    holidayDaysGranted: 0n,
  });
  const loan = (s: LoanState) => ({ terms, state: s, schedule: schedule(terms) });
  const at = (day: bigint) => terms.startTime + day * DAY;

  it("fills settled amounts oldest period first and marks the first unpaid period due", () => {
    const rows = installmentRows(loan(state(150_000n, 2_300n)), at(10n));
    expect(rows.map((r) => r.status)).to.deep.equal(["paid", "due", "upcoming"]);
    expect(rows[1].paid).to.equal(50_000n);
    expect(rows[1].owed).to.equal(50_000n + 2_300n);
  });

  it("counts a period overdue only once its due day has passed (not on the due day itself)", () => {
    expect(installmentRows(loan(state(0n, 0n)), at(30n)).map((r) => r.status)).to.deep.equal(["due", "upcoming", "upcoming"]);
    const late = installmentRows(loan(state(0n, 0n)), at(65n));
    expect(late.map((r) => r.status)).to.deep.equal(["overdue", "overdue", "due"]);
    expect(late.map((r) => r.daysOverdue)).to.deep.equal([35n, 5n, 0n]);
  });

  it("shows the fees a payoff waived as waived, and a written-off loan's unpaid periods as written off", () => {
    expect(installmentRows(loan(state(300_000n, 2_300n, LoanStatus.Closed)), at(10n)).map((r) => r.status)).to.deep.equal(["paid", "waived", "waived"]);
    expect(installmentRows(loan(state(100_000n, 2_300n, LoanStatus.WrittenOff)), at(400n)).map((r) => r.status)).to.deep.equal(["paid", "written-off", "written-off"]);
  });
});

describe("explorer: chart", () => {
  const point = (timestamp: bigint, outstanding: bigint, blockNumber = 1) => ({ timestamp, outstanding, blockNumber });

  it("draws a step line with a point per entry, inside the plot area, from the first entry to the end time", () => {
    const series = [point(100n, 0n), point(200n, 500_000n), point(250n, 350_000n)];
    const g = chartGeometry(series, 400n);
    expect(g.points).to.have.length(3);
    expect(g.path).to.match(/^M[\d.]+,[\d.]+ V[\d.]+( H[\d.]+ V[\d.]+){2} H[\d.]+$/);
    for (const p of g.points) {
      expect(p.x).to.be.within(g.x0, g.x1);
      expect(p.y).to.be.within(g.y1, g.y0);
    }
    expect(g.points[0].y).to.equal(g.y0); // zero on the axis
    expect(g.points[1].y).to.be.lessThan(g.points[2].y); // more is higher
    expect(g.xTicks.at(-1)!.x).to.equal(g.x1);
    expect(g.yTicks.at(-1)!.label).to.equal("¥5,000.00");
  });

  it("handles one entry, no entries and all entries in one second", () => {
    expect(chartGeometry([], 0n).points).to.deep.equal([]);
    expect(chartGeometry([point(5n, 100n)], 5n).points).to.have.length(1);
    expect(chartGeometry([point(5n, 100n), point(5n, 0n)], 5n).path).to.not.include("NaN");
  });

  it("picks round tick steps that cover the maximum in at most five steps", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), (max) => {
        const step = tickStep(max);
        expect(step * 5n >= max).to.equal(true);
        expect(String(step)).to.match(/^[125]0*$/);
      })
    );
  });

  it("follows one loan's outstanding principal through draw, refund, repayment and write-off", () => {
    const e = (name: string, args: Record<string, unknown>, t: bigint): TimedEvent => ({ name, args: { loanNo: 2n, ...args }, blockNumber: Number(t), logIndex: 0, txHash: "0x", timestamp: t });
    const entries = [
      e("Drawn", { terms: { principal: 10_000n } }, 1n),
      e("Drawn", { loanNo: 1n, terms: { principal: 99n } }, 2n),
      e("Refunded", { amount: 1_000n }, 3n),
      e("Repaid", { allocation: { penalty: 5n, fee: 5n, interest: 5n, overduePrincipal: 100n, currentPrincipal: 200n, prepaidPrincipal: 300n } }, 4n),
      e("WrittenOff", { principalWrittenOff: 8_400n }, 5n),
    ];
    expect(loanSeries(entries, 2).map((p) => p.outstanding)).to.deep.equal([10_000n, 9_000n, 8_400n, 0n]);
  });
});
