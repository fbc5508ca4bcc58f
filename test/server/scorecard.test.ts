import { expect } from "chai";

import { TIERS } from "../../deploy/defaults";
import { decide, POLICY_BANDS, REASON_SCORE_TOO_LOW } from "../../server/scoring/policy";
import { modelId, score, validateModel, type ScorecardModel } from "../../server/scoring/scorecard";
import { DEFAULT_MODEL, featuresHash, reasonCodeSlots, underwrite } from "../../server/scoring/underwriting";
import { GOOD_FEATURES, MIDDLE_FEATURES, WEAK_FEATURES } from "../helpers/identities";

const STRONG = {
  onTimeRepaymentPct: 100,
  utilizationPct: 10,
  tenureMonths: 72,
  overdueCount12m: 0,
  monthlyIncomeYuan: 25000,
  paymentActivityMonths: 12,
};

describe("scorecard v1 and policy", () => {
  it("has a pinned model id (any edit to the model is a new model id)", () => {
    expect(modelId(DEFAULT_MODEL)).to.equal("0xeb024107e9382ca091eaf69ba6eac21b0d109b426a17efac2bd0ab26306f0ae3");
  });

  it("pins scores and reason codes for known inputs", () => {
    const cases: Array<[Record<string, number>, number, number[]]> = [
      [STRONG, 950, []], // 1050 before clamping to the 950 ceiling
      [GOOD_FEATURES, 920, [101, 102, 103, 105]],
      [MIDDLE_FEATURES, 650, [101, 102, 103, 104]],
      [{}, 570, [103, 101, 105, 104]], // every feature missing: the model's "missing" points
      [WEAK_FEATURES, 350, [101, 104, 102, 103]], // 200 before clamping to the 350 floor
    ];
    for (const [features, expected, reasons] of cases) {
      const result = score(DEFAULT_MODEL, features);
      expect(result.score, JSON.stringify(features)).to.equal(expected);
      expect(result.reasonCodes, JSON.stringify(features)).to.deep.equal(reasons);
    }
  });

  it("puts a value on a bin's lower bound in that bin (bins are [min, max))", () => {
    const at = (v: number) => score(DEFAULT_MODEL, { onTimeRepaymentPct: v }).points.onTimeRepaymentPct;
    expect([at(69), at(70), at(89), at(90), at(97), at(98)]).to.deep.equal([-60, 10, 10, 70, 70, 120]);
  });

  it("is deterministic: the same features in any key order give the same score and hash", () => {
    const reordered = Object.fromEntries(Object.entries(GOOD_FEATURES).reverse());
    expect(score(DEFAULT_MODEL, reordered)).to.deep.equal(score(DEFAULT_MODEL, GOOD_FEATURES));
    expect(featuresHash(reordered, "0x01")).to.equal(featuresHash(GOOD_FEATURES, "0x01"));
  });

  it("salts the features hash", () => {
    expect(featuresHash(GOOD_FEATURES, "0x01")).not.to.equal(featuresHash(GOOD_FEATURES, "0x02"));
  });

  it("caps limits by the identity tier: small on behaviour alone, larger when verified", () => {
    expect(decide(920, TIERS[0], "pay_later")).to.deep.equal({ approved: true, limit: 500_000n, ratePpmPerDay: 0n, cappedByTier: true });
    expect(decide(920, TIERS[1], "pay_later")).to.deep.equal({
      approved: true,
      limit: 2_000_000n,
      ratePpmPerDay: 0n,
      cappedByTier: false,
    });
    expect(decide(920, TIERS[1], "cash_loan")).to.deep.equal({
      approved: true,
      limit: 5_000_000n,
      ratePpmPerDay: 300n,
      cappedByTier: false,
    });
    expect(decide(650, TIERS[1], "cash_loan")).to.deep.equal({
      approved: true,
      limit: 2_000_000n,
      ratePpmPerDay: 450n,
      cappedByTier: false,
    });
  });

  it("declines below the lowest band, leading the reasons with REASON_SCORE_TOO_LOW", () => {
    const lowest = POLICY_BANDS[POLICY_BANDS.length - 1].minScore;
    expect(decide(lowest - 1, TIERS[2], "pay_later").approved).to.equal(false);
    const u = underwrite({ model: DEFAULT_MODEL, features: WEAK_FEATURES, tier: 1, caps: TIERS[1], product: "cash_loan", salt: "0x01" });
    expect(u).to.include({ approved: false, score: 350, limit: 0n, ratePpmPerDay: 0n, productId: 2 });
    expect(u.reasonCodes).to.deep.equal([REASON_SCORE_TOO_LOW, 101, 104, 102]);
    expect(reasonCodeSlots(u.reasonCodes)).to.deep.equal([900, 101, 104, 102]);
    expect(reasonCodeSlots([101])).to.deep.equal([101, 0, 0, 0]);
  });

  it("refuses a model whose bins leave a gap", () => {
    const broken = structuredClone(DEFAULT_MODEL) as ScorecardModel;
    broken.characteristics[0].bins[1].min = 71;
    expect(() => validateModel(broken)).to.throw(/not contiguous/);
  });
});
