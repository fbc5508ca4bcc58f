/**
 * The reason catalog (core/reasons.ts): every code the system writes on-chain itself has words
 * in English and Chinese, and the answers, webhooks and explorer read them from the one catalog.
 */
import { expect } from "chai";

import { LEDGER_LIMITS } from "../../core/loan-math";
import { CATALOGED_REASON_CODES, principalReasons, reasonText } from "../../core/reasons";
import { REASON_SCORE_TOO_LOW } from "../../core/scoring/policy";
import { DEFAULT_MODEL } from "../../core/scoring/underwriting";
import { VELOCITY_REASON_CODES } from "../../server/servicing/velocity";
import { summarizeEntry } from "../../verifier/explorer/client/model";

const CJK = /[\u4e00-\u9fff]/;

describe("reason catalog: codes in words a borrower reads, in Chinese and English", () => {
  it("has words for every code the system writes itself: the scorecard's, the policy's, the velocity rules' and the write-off freeze", () => {
    const written = [
      ...DEFAULT_MODEL.characteristics.map((c) => c.reasonCode),
      REASON_SCORE_TOO_LOW,
      ...Object.values(VELOCITY_REASON_CODES),
      LEDGER_LIMITS.writeOffFreezeReason,
    ];
    expect(CATALOGED_REASON_CODES).to.include.members(written);
    for (const code of written) {
      const r = reasonText(code);
      expect(r.en, `code ${code}`).to.match(/^[A-Z][^]{10,}$/);
      expect(r.en, `code ${code}`).to.not.include("set by the lender");
      expect(r.zh, `code ${code}`).to.match(CJK);
    }
    // Distinct words for distinct codes: no copy-paste entry.
    expect(new Set(written.map((c) => reasonText(c).en)).size).to.equal(new Set(written).size);
    expect(new Set(written.map((c) => reasonText(c).zh)).size).to.equal(new Set(written).size);
  });

  it("says a code it does not hold is the lender's own, in both languages, without guessing", () => {
    expect(reasonText(7)).to.deep.equal({ code: 7, en: "Reason code 7, set by the lender (no standard wording)", zh: "原因代码 7（由放贷方设定，无标准说明）" });
  });

  it("keeps at most four principal reasons in order, without the empty slots", () => {
    expect(principalReasons([104, 0, 101, 0]).map((r) => r.code)).to.deep.equal([104, 101]);
    expect(principalReasons([900n, 101n, 102n, 103n, 104n]).map((r) => r.code)).to.deep.equal([900, 101, 102, 103]);
    expect(principalReasons([0, 0, 0, 0])).to.deep.equal([]);
  });

  it("is what the explorer shows for a decision's reasons and a freeze's reason", () => {
    const decision = { productId: 1n, limit: 0n, limitExpiry: 0n, ratePpmPerDay: 0n, score: 540n, tier: 0n, reasonCodes: [900n, 104n, 0n, 0n] };
    const declined = summarizeEntry({ name: "DecisionDeclined", args: { seq: 2n, decision } } as never, new Map([[1, "pay_later"]]));
    expect(declined.detail).to.include(`reasons 900 ${reasonText(900).en} (${reasonText(900).zh}); 104 ${reasonText(104).en}`);
    const frozen = summarizeEntry({ name: "LineFrozen", args: { seq: 3n, productId: 1n, reasonCode: 7101n } } as never, new Map([[1, "pay_later"]]));
    expect(frozen.detail).to.equal(`pay_later · reason 7101 ${reasonText(7101).en} (${reasonText(7101).zh})`);
  });
});
