/**
 * Product and tier configuration by the admin: validation of product terms (including the
 * penalty against the cost ceiling), and events that carry the previous terms, the new terms
 * and who changed them.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";

import { CASH_LOAN_ID, deployLedger, PAY_LATER_ID } from "../helpers/fixtures";
import { EMPTY_PRODUCT, productTuple, tierTuple } from "../helpers/tuples";
import { CASH_LOAN, PAY_LATER, PRODUCT_KIND, TIERS, type ProductConfig } from "../../deploy/defaults";

const NEW_ID = 3;

describe("products", () => {
  describe("configureProduct", () => {
    it("deploys the default pay-later and cash-loan products", async () => {
      const l = await loadFixture(deployLedger);
      expect([...(await l.ledger.productOf(PAY_LATER_ID))].map(String)).to.deep.equal(productTuple(PAY_LATER).map(String));
      expect([...(await l.ledger.productOf(CASH_LOAN_ID))].map(String)).to.deep.equal(productTuple(CASH_LOAN).map(String));
    });

    it("creates a product, recording the previous (empty) terms, the new terms and who set them", async () => {
      const l = await loadFixture(deployLedger);
      await expect(l.ledger.connect(l.admin).configureProduct(NEW_ID, CASH_LOAN))
        .to.emit(l.ledger, "ProductConfigured")
        .withArgs(NEW_ID, productTuple(EMPTY_PRODUCT), productTuple(CASH_LOAN), l.admin.address);
      expect((await l.ledger.productOf(NEW_ID)).active).to.equal(true);
    });

    it("changes a product, recording its previous terms, the new terms and who changed them", async () => {
      const l = await loadFixture(deployLedger);
      const lower: ProductConfig = { ...PAY_LATER, costCeilingPpmPerYear: 200_000, penaltyPpmPerDay: 400 };
      await expect(l.ledger.connect(l.admin).configureProduct(PAY_LATER_ID, lower))
        .to.emit(l.ledger, "ProductConfigured")
        .withArgs(PAY_LATER_ID, productTuple(PAY_LATER), productTuple(lower), l.admin.address);
      const stored = await l.ledger.productOf(PAY_LATER_ID);
      expect(stored.costCeilingPpmPerYear).to.equal(200_000n);
      expect(stored.penaltyPpmPerDay).to.equal(400n);
    });

    it("rejects changing the kind of an existing product, so open loans keep their meaning", async () => {
      const l = await loadFixture(deployLedger);
      await expect(l.ledger.connect(l.admin).configureProduct(PAY_LATER_ID, { ...CASH_LOAN }))
        .to.be.revertedWithCustomError(l.ledger, "InvalidProduct")
        .withArgs(PAY_LATER_ID, "kind");
      expect((await l.ledger.productOf(PAY_LATER_ID)).kind).to.equal(BigInt(PRODUCT_KIND.PayLater));
    });

    it("accepts a cash-loan product without grace days", async () => {
      const l = await loadFixture(deployLedger);
      await expect(l.ledger.connect(l.admin).configureProduct(NEW_ID, { ...CASH_LOAN, graceDays: 0 })).to.emit(
        l.ledger,
        "ProductConfigured",
      );
    });

    const invalid: Array<[string, Partial<ProductConfig>]> = [
      ["kind", { kind: 0 }],
      ["costCeilingPpmPerYear", { costCeilingPpmPerYear: 0 }],
      ["allowedPeriods", { allowedPeriods: 0 }],
      ["graceDays", { kind: PRODUCT_KIND.PayLater, graceDays: 0 }],
    ];
    for (const [field, change] of invalid) {
      it(`rejects a product with an invalid ${field}`, async () => {
        const l = await loadFixture(deployLedger);
        await expect(l.ledger.connect(l.admin).configureProduct(NEW_ID, { ...PAY_LATER, ...change }))
          .to.be.revertedWithCustomError(l.ledger, "InvalidProduct")
          .withArgs(NEW_ID, field);
      });
    }

    it("accepts a penalty that, annualized, is within the cost ceiling", async () => {
      const l = await loadFixture(deployLedger);
      // 657 ppm/day x 365 = 239,805 ppm/year <= 240,000.
      await expect(l.ledger.connect(l.admin).configureProduct(NEW_ID, { ...CASH_LOAN, penaltyPpmPerDay: 657 })).to.emit(
        l.ledger,
        "ProductConfigured",
      );
    });

    it("rejects a penalty that, annualized, is above the cost ceiling", async () => {
      const l = await loadFixture(deployLedger);
      // 658 ppm/day x 365 = 240,170 ppm/year > 240,000.
      await expect(l.ledger.connect(l.admin).configureProduct(NEW_ID, { ...CASH_LOAN, penaltyPpmPerDay: 658 }))
        .to.be.revertedWithCustomError(l.ledger, "PenaltyAboveCeiling")
        .withArgs(NEW_ID, 240_170n, 240_000n);
    });

    it("rejects lowering a ceiling below the product's existing penalty", async () => {
      const l = await loadFixture(deployLedger);
      // Default penalty 500 ppm/day = 182,500 a year; a 15 % ceiling is below it.
      await expect(l.ledger.connect(l.admin).configureProduct(PAY_LATER_ID, { ...PAY_LATER, costCeilingPpmPerYear: 150_000 }))
        .to.be.revertedWithCustomError(l.ledger, "PenaltyAboveCeiling")
        .withArgs(PAY_LATER_ID, 182_500n, 150_000n);
    });
  });

  describe("setTierPolicy", () => {
    it("deploys the default identity tiers", async () => {
      const l = await loadFixture(deployLedger);
      for (const [tier, policy] of Object.entries(TIERS)) {
        const stored = await l.ledger.tierPolicyOf(Number(tier));
        expect([stored.maxLineLimit, stored.maxExposure]).to.deep.equal(tierTuple(policy));
      }
    });

    it("sets a tier's caps, recording the previous caps, the new caps and who set them", async () => {
      const l = await loadFixture(deployLedger);
      const raised = { maxLineLimit: 6_000_000n, maxExposure: 9_000_000n };
      await expect(l.ledger.connect(l.admin).setTierPolicy(1, raised))
        .to.emit(l.ledger, "TierPolicySet")
        .withArgs(1, tierTuple(TIERS[1]), tierTuple(raised), l.admin.address);
      const stored = await l.ledger.tierPolicyOf(1);
      expect(stored.maxLineLimit).to.equal(6_000_000n);
      expect(stored.maxExposure).to.equal(9_000_000n);
    });

    it("rejects a tier policy with a zero cap", async () => {
      const l = await loadFixture(deployLedger);
      await expect(l.ledger.connect(l.admin).setTierPolicy(4, { maxLineLimit: 0n, maxExposure: 1_000n }))
        .to.be.revertedWithCustomError(l.ledger, "UnknownTier")
        .withArgs(4);
      await expect(l.ledger.connect(l.admin).setTierPolicy(4, { maxLineLimit: 1_000n, maxExposure: 0n }))
        .to.be.revertedWithCustomError(l.ledger, "UnknownTier")
        .withArgs(4);
    });
  });
});
