/**
 * `npm run gas:targets`: gas of the operations that have targets in issue 2 (and the batch
 * targets of issue 12, per operation at 50 per batch), each in one
 * named scenario on the in-process Hardhat network (the suite-wide min/avg/max per function
 * is docs/GAS.md). A measurement, not a test: it prints a markdown table.
 */
import { time } from "@nomicfoundation/hardhat-network-helpers";

import {
  accountWithLines,
  CASH_LOAN_ID,
  DAY,
  deployLedger,
  makeDecision,
  newRef,
  openAccount,
  PAY_LATER_ID,
  seqOf,
  sign,
} from "../test/helpers/fixtures";

import { BATCH_TARGETS, measureBatchGas, type BatchKind } from "./lib/batch-gas";

type Sent = Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>;

async function main(): Promise<void> {
  const l = await deployLedger();
  const rows: Array<[string, bigint, string]> = [];
  const measure = async (name: string, target: string, tx: Sent) => {
    const receipt = await (await tx).wait();
    rows.push([name, receipt!.gasUsed, target]);
  };

  const fresh = await openAccount(l);
  const d = await makeDecision(l, fresh);
  await measure(
    "grantLine (signed decision, new line)",
    "≤ 140,000",
    l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), await seqOf(l, fresh)),
  );

  const a = await accountWithLines(l);
  const op = l.asOperator;
  await measure("purchase, single payment", "≤ 90,000", op.purchase(a, PAY_LATER_ID, 100_000n, 1, newRef(), await seqOf(l, a)));
  await measure("purchase, 3 installments", "", op.purchase(a, PAY_LATER_ID, 100_000n, 3, newRef(), await seqOf(l, a)));
  await measure("drawCash, 6 periods annuity", "", op.drawCash(a, CASH_LOAN_ID, 500_000n, 6, 2, newRef(), await seqOf(l, a)));
  await measure("drawCash, 12 periods equal principal", "", op.drawCash(a, CASH_LOAN_ID, 500_000n, 12, 1, newRef(), await seqOf(l, a)));
  await time.increase(20 * DAY);
  await measure("repay, single-payment purchase, on time", "≤ 80,000", op.repay(a, 1, 50_000n, newRef(), await seqOf(l, a)));
  await measure("repay, installment purchase, on time", "≤ 80,000", op.repay(a, 2, 50_000n, newRef(), await seqOf(l, a)));
  await measure("repay, cash annuity 6, on time", "≤ 80,000", op.repay(a, 3, 50_000n, newRef(), await seqOf(l, a)));
  await measure("repay, cash equal principal 12, on time", "≤ 80,000", op.repay(a, 4, 50_000n, newRef(), await seqOf(l, a)));
  await time.increase(60 * DAY);
  await measure("repay, cash annuity 6, 50 days overdue", "≤ 80,000", op.repay(a, 3, 50_000n, newRef(), await seqOf(l, a)));

  console.log("| operation | gas | target |\n|---|---:|---|");
  for (const [name, gas, target] of rows) console.log(`| ${name} | ${gas.toLocaleString("en-US")} | ${target} |`);

  // Issue 12: gas per operation in a batch of 50 over distinct accounts (the batch's gasUsed / 50).
  const batch = await measureBatchGas([50]);
  console.log("\n| operation, 50 per batch | gas/op | target |\n|---|---:|---|");
  for (const [kind, target] of Object.entries(BATCH_TARGETS) as Array<[BatchKind, bigint]>) {
    const gas = batch.get(kind)!.get(50)!;
    console.log(`| ${kind} | ${gas.toLocaleString("en-US")} | ≤ ${target.toLocaleString("en-US")}${gas > target ? " (missed)" : ""} |`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
