/**
 * Demo data for `npm start`: a few accounts with purchases, a cash loan, a refund and
 * repayments, created through the gateway's own services (the same prepare -> outbox ->
 * confirm path an API request takes), so the local system has something to look at. The
 * identity tiers come from real KYC attestations, signed by the development KYC verifier key
 * that `npm start` registers with the scorer for the operator (`kyc`).
 */
import { jsonValue } from "../../core/json";
import type { Gateway } from "../../server/gateway";
import type { PreparedOperation } from "../../server/lending/operations";
import type { EvidenceInput } from "../../server/lending/scorer-decisions";

/** KYC evidence about the person with `nationalId` at `level`, by the operator's (development) verifier. */
export type DemoKyc = (nationalId: string, level: number) => Promise<EvidenceInput>;

export interface DemoAccount {
  name: string;
  accountId: string;
  story: string;
}

const FEATURES = {
  strong: {
    onTimeRepaymentPct: 99,
    utilizationPct: 20,
    tenureMonths: 40,
    overdueCount12m: 0,
    monthlyIncomeYuan: 12_000,
    paymentActivityMonths: 12,
  },
  middle: {
    onTimeRepaymentPct: 85,
    utilizationPct: 70,
    tenureMonths: 10,
    overdueCount12m: 1,
    monthlyIncomeYuan: 4_000,
    paymentActivityMonths: 5,
  },
  weak: {
    onTimeRepaymentPct: 60,
    utilizationPct: 95,
    tenureMonths: 2,
    overdueCount12m: 4,
    monthlyIncomeYuan: 1_000,
    paymentActivityMonths: 1,
  },
};

/** Made-up identities with valid check digits (GB 11643). */
const PEOPLE = {
  wang: { nationalId: "11010119900307803X", name: "王小明", phone: "+86 138 0000 0001" },
  zhao: { nationalId: "110101199512120013", name: "赵丽", phone: "+86 138 0000 0002" },
  sun: { nationalId: "110101200001010037", name: "孙强", phone: "+86 138 0000 0003" },
};

/** Seeds the demo accounts as `partnerId`'s borrowers (linked to it, its loans). */
export async function seedDemo(gateway: Gateway, partnerId: string, kyc: DemoKyc): Promise<DemoAccount[]> {
  let n = 0;
  const run = async <C>(prepared: PreparedOperation<C>): Promise<Record<string, unknown>> => {
    const key = `demo-seed-${++n}`;
    const accepted = await gateway.operations.accept(prepared, { owner: partnerId, partnerId, key, fingerprint: key });
    if (!accepted.accepted) throw new Error(`demo step ${n} was not accepted (${accepted.conflict})`);
    const op = await gateway.operations.wait(accepted.operationId!, 120_000);
    if (op.status !== "confirmed")
      throw new Error(
        `demo step ${n} (${prepared.kind}) ended ${op.status}: ${JSON.stringify(jsonValue(op.error))}`
      );
    return op.steps[op.steps.length - 1].landed!.args;
  };
  const { applications, drawdowns, loanChanges } = gateway;

  const wangPayLater = await applications.prepare({
    identity: PEOPLE.wang,
    product: "pay_later",
    features: FEATURES.strong,
    evidence: await kyc(PEOPLE.wang.nationalId, 2),
    consent: true,
  });
  await run(wangPayLater);
  const wang = wangPayLater.accountId;
  await run(
    await applications.prepare({
      identity: PEOPLE.wang,
      product: "cash_loan",
      features: FEATURES.strong,
      evidence: await kyc(PEOPLE.wang.nationalId, 2),
      consent: true,
    })
  );
  const phone = await run(
    await drawdowns.preparePurchase({ accountId: wang, amount: 599_900n, installments: 6, merchantReference: "phone-order-1001" })
  );
  await run(await drawdowns.preparePurchase({ accountId: wang, amount: 8_850n, installments: 1, merchantReference: "coffee-88" }));
  await run(await loanChanges.prepareRefund(`${wang}:${phone.loanNo}`, 100_000n));
  const cash = await run(await drawdowns.prepareCashLoan({ accountId: wang, amount: 1_200_000n, periods: 6, method: "annuity" }));
  await run(await loanChanges.prepareRepayment(`${wang}:${cash.loanNo}`, 150_000n));

  const zhaoPayLater = await applications.prepare({
    identity: PEOPLE.zhao,
    product: "pay_later",
    features: FEATURES.middle,
    consent: true,
  });
  await run(zhaoPayLater);
  const zhao = zhaoPayLater.accountId;
  const groceries = await run(await drawdowns.preparePurchase({ accountId: zhao, amount: 45_000n, installments: 1 }));
  await run(await loanChanges.prepareRepayment(`${zhao}:${groceries.loanNo}`, 45_000n));

  const sunApplication = await applications.prepare({
    identity: PEOPLE.sun,
    product: "cash_loan",
    features: FEATURES.weak,
    evidence: await kyc(PEOPLE.sun.nationalId, 1),
    consent: true,
  });
  await run(sunApplication);

  return [
    {
      name: "Wang",
      accountId: wang,
      story:
        "pay-later and cash lines; 6-installment purchase with a partial refund, a coffee, a 6-month cash loan partly repaid",
    },
    { name: "Zhao", accountId: zhao, story: "no KYC evidence (tier 0, small limit); a purchase repaid in full" },
    { name: "Sun", accountId: sunApplication.accountId, story: "declined cash-loan application, recorded on-chain" },
  ];
}
