import { expect } from "chai";

import { DAY } from "../../core/loan-math";
import { creditReport, overdueCode } from "../../core/credit-report";
import { localMidnight } from "../../core/zone-time";

const ZONE = "Asia/Shanghai";
const terms = (start: bigint, principal = 100_000n) => ({
  principal,
  startTime: start,
  periods: 1n,
  method: 0n,
  productId: 1n,
  ratePpmPerDay: 0n,
  totalFee: 0n,
  firstDueDay: 40n,
  penaltyPpmPerDay: 500n,
  writeOffDays: 180n,
});

describe("credit report: monthly statuses rebuilt from the ledger's entries (pure)", () => {
  it("codes days past due in 30-day steps: 1-30 is 1, 31-60 is 2, ... 181 and more is 7", () => {
    expect([0n, 1n, 30n, 31n, 60n, 61n, 150n, 151n, 180n, 181n, 900n].map(overdueCode)).to.deep.equal(
      ["N", "1", "1", "2", "2", "3", "5", "6", "6", "7", "7"]
    );
  });

  it("reads each month at its end in the borrower's zone: N, then the overdue code, then C once repaid", () => {
    const opened = localMidnight(2025, 1, 10, ZONE) + 12n * 3600n; // 10 Jan, noon in Shanghai
    const entries = [
      { seq: 3n, name: "Drawn", args: { loanNo: 1n, terms: terms(opened) } },
      // Repaid on loan day 85 (45 days past due): 100,000 + 45 days x 50 fen penalty.
      { seq: 4n, name: "Repaid", args: { loanNo: 1n, day: 85n, amount: 102_250n } },
    ];
    const now = opened + 120n * DAY;
    const months = creditReport(entries, opened, now, ZONE);
    expect(months.map((m) => m.month)).to.deep.equal(["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]);
    // Due day 40 = 19 Feb; at the end of February 9 days past due, at the end of March 40; repaid 5 April.
    expect(months.map((m) => [m.month, m.status, Number(m.daysPastDue)])).to.deep.equal([
      ["2025-01", "N", 0],
      ["2025-02", "1", 9],
      ["2025-03", "2", 40],
      ["2025-04", "C", 0],
      ["2025-05", "C", 0],
    ]);
    expect(months[0].asOf).to.equal(localMidnight(2025, 2, 1, ZONE) - 1n);
    expect(months[4].asOf).to.equal(now);
  });

  it("reports D from the month of a write-off, and the worst loan decides", () => {
    const opened = localMidnight(2025, 1, 1, ZONE);
    const entries = [
      { seq: 3n, name: "Drawn", args: { loanNo: 1n, terms: terms(opened) } },
      { seq: 4n, name: "Drawn", args: { loanNo: 2n, terms: terms(opened + 20n * DAY, 5_000n) } },
      { seq: 5n, name: "WrittenOff", args: { loanNo: 1n, daysPastDue: 100n } }, // day 140: 21 May
    ];
    const months = creditReport(entries, opened, opened + 160n * DAY, ZONE);
    expect(months.map((m) => m.status)).to.deep.equal(["N", "1", "2", "3", "D", "D"]);
  });
});
