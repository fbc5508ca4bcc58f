/**
 * What a reason code means, in words a borrower reads: one catalog, in Chinese and English,
 * for every code the system writes on-chain itself. The scorecard's codes name the
 * characteristic that cost the most points (worst first, at most four: `MAX_REASON_CODES`);
 * 900 is a score below every approval band; 7101-7104 are the velocity rules that freeze a line;
 * 65535 is the freeze a write-off puts on its line. A code a partner or operator chose (a
 * freeze's or a cut's reason code in a request) has no text of ours: it is answered as such,
 * never guessed at. The gateway's answers and webhooks, and the explorer, read it from here.
 */
import { LEDGER_LIMITS } from "./loan-math";
import { MAX_REASON_CODES } from "./scoring/scorecard";

export interface ReasonText {
  code: number;
  en: string;
  zh: string;
}

const CATALOG: ReadonlyMap<number, { en: string; zh: string }> = new Map([
  // scorecard characteristics (core/scoring/models/scorecard-v1.json)
  [101, { en: "Too few repayments paid on time in the last 24 months", zh: "近24个月按时还款的比例偏低" }],
  [102, { en: "Balances are high compared with credit limits", zh: "已用额度占授信额度的比例偏高" }],
  [103, { en: "A short history with the platform", zh: "在平台的使用时间较短" }],
  [104, { en: "Repayments more than 3 days late in the last 12 months", zh: "近12个月有逾期超过3天的还款" }],
  [105, { en: "Monthly income is low for the credit asked", zh: "月收入相对所申请的额度偏低" }],
  [106, { en: "Few months with payments through the platform in the last 12", zh: "近12个月通过平台付款的月份较少" }],
  // the policy (core/scoring/policy.ts REASON_SCORE_TOO_LOW)
  [900, { en: "The credit score is below the lowest approval band", zh: "信用评分低于最低准入标准" }],
  // velocity rules (server/servicing/velocity.ts VELOCITY_REASON_CODES)
  [7101, { en: "Too many drawdowns within one hour", zh: "一小时内支用次数过多" }],
  [7102, { en: "A drawdown far above the account's usual amounts", zh: "支用金额远高于该账户的一贯水平" }],
  [7103, { en: "The device is used by too many accounts", zh: "该设备关联的账户过多" }],
  [7104, { en: "The phone number is used by too many accounts", zh: "该手机号关联的账户过多" }],
  // the ledger's write-off freeze (LoanServicing.sol WRITE_OFF_FREEZE_REASON)
  [LEDGER_LIMITS.writeOffFreezeReason, { en: "A loan on this line was written off", zh: "该额度下有贷款已被核销" }],
]);

/** The codes the catalog has words for. */
export const CATALOGED_REASON_CODES: readonly number[] = [...CATALOG.keys()];

/** The words for `code`; a code the catalog does not hold (a partner's or an operator's own) says so. */
export function reasonText(code: number): ReasonText {
  const known = CATALOG.get(code);
  if (known) return { code, ...known };
  return { code, en: `Reason code ${code}, set by the lender (no standard wording)`, zh: `原因代码 ${code}（由放贷方设定，无标准说明）` };
}

/** The principal reasons of a decision or change, in order, without empty slots (0), at most `MAX_REASON_CODES`. */
export function principalReasons(codes: readonly (number | bigint)[]): ReasonText[] {
  return codes
    .map(Number)
    .filter((c) => c !== 0)
    .slice(0, MAX_REASON_CODES)
    .map(reasonText);
}
