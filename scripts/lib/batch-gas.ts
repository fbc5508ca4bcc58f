/**
 * Gas per operation of `batch` (issue 12): for each kind and batch size, a batch of that many
 * operations over as many distinct accounts, each account prepared beforehand (in batches) so
 * that the measured batch does only its own kind. Gas/op is the batch transaction's gasUsed
 * (the 21,000 base, calldata and all) divided by the batch size. Used by
 * `npm run gas:targets` and `npm run gas` (the table of docs/GAS.md). A measurement on the
 * in-process Hardhat network, not a test.
 */
import { time } from "@nomicfoundation/hardhat-network-helpers";

import {
  CASH_LOAN_ID,
  DAY,
  deployLedger,
  makeDecision,
  newAccountId,
  newRef,
  PAY_LATER_ID,
  sign,
  type Ledger,
} from "../../test/helpers/fixtures";

export const BATCH_SIZES = [1, 10, 50, 200] as const;
/** The most gas one transaction may use (EIP-7825, Osaka). */
export const TX_GAS_CAP = 16_777_216n;

export type BatchKind =
  | "purchase, single payment"
  | "purchase, 3 installments"
  | "drawCash, 6 periods annuity"
  | "repay, single-payment purchase"
  | "refund, single-payment purchase"
  | "openAccount"
  | "grantLine";

export const BATCH_KINDS: readonly BatchKind[] = [
  "purchase, single payment",
  "purchase, 3 installments",
  "drawCash, 6 periods annuity",
  "repay, single-payment purchase",
  "refund, single-payment purchase",
  "openAccount",
  "grantLine",
];

/** The issue's targets, at 50 operations per batch over distinct accounts. */
export const BATCH_TARGETS: Partial<Record<BatchKind, bigint>> = {
  "purchase, single payment": 50_000n,
  "repay, single-payment purchase": 40_000n,
};

async function send(l: Ledger, calls: string[]): Promise<bigint> {
  let gas = 0n;
  // Preparation batches of at most 100 calls stay well inside the block gas limit.
  for (let i = 0; i < calls.length; i += 100) {
    const receipt = await (await l.asOperator.batch(calls.slice(i, i + 100), { gasLimit: TX_GAS_CAP })).wait();
    gas += receipt!.gasUsed;
  }
  return gas;
}

/** `n` accounts, opened; with `lines`, each with a pay-later line of 1,000,000 and a cash line of 2,000,000 at 500 ppm/day. */
async function accounts(l: Ledger, n: number, lines: boolean): Promise<string[]> {
  const ids = Array.from({ length: n }, newAccountId);
  const i = l.ledger.interface;
  await send(l, ids.map((a) => i.encodeFunctionData("openAccount", [a, 1, 8_000_000n, newRef(), 0n])));
  if (lines) {
    for (const [productId, limit, rate, seq] of [
      [PAY_LATER_ID, 1_000_000n, 0n, 1n],
      [CASH_LOAN_ID, 2_000_000n, 500n, 2n],
    ] as const) {
      const calls = [];
      for (const a of ids) {
        const d = await makeDecision(l, a, { productId, limit, ratePpmPerDay: rate, nonce: seq - 1n });
        calls.push(i.encodeFunctionData("grantLine", [d, l.scorer.address, await sign(l, d), newRef(), seq]));
      }
      await send(l, calls);
    }
  }
  return ids;
}

/** The calls of one batch of `kind` over `n` fresh accounts. */
async function batchOf(l: Ledger, kind: BatchKind, n: number): Promise<string[]> {
  const i = l.ledger.interface;
  if (kind === "openAccount") {
    return Array.from({ length: n }, () => i.encodeFunctionData("openAccount", [newAccountId(), 1, 8_000_000n, newRef(), 0n]));
  }
  if (kind === "grantLine") {
    const ids = await accounts(l, n, false);
    const calls = [];
    for (const a of ids) {
      const d = await makeDecision(l, a, { productId: PAY_LATER_ID, limit: 1_000_000n, nonce: 0n });
      calls.push(i.encodeFunctionData("grantLine", [d, l.scorer.address, await sign(l, d), newRef(), 1n]));
    }
    return calls;
  }
  const ids = await accounts(l, n, true);
  if (kind === "purchase, single payment" || kind === "purchase, 3 installments") {
    const periods = kind === "purchase, single payment" ? 1 : 3;
    return ids.map((a) => i.encodeFunctionData("purchase", [a, PAY_LATER_ID, 100_000n, periods, newRef(), 3n]));
  }
  if (kind === "drawCash, 6 periods annuity") {
    return ids.map((a) => i.encodeFunctionData("drawCash", [a, CASH_LOAN_ID, 500_000n, 6, 2, newRef(), 3n]));
  }
  // repay and refund: each account holds one single-payment purchase (loan 1), 20 days old.
  await send(l, ids.map((a) => i.encodeFunctionData("purchase", [a, PAY_LATER_ID, 100_000n, 1, newRef(), 3n])));
  await time.increase(20 * DAY);
  if (kind === "repay, single-payment purchase") return ids.map((a) => i.encodeFunctionData("repay", [a, 1, 50_000n, newRef(), 4n]));
  return ids.map((a) => i.encodeFunctionData("refund", [a, 1, 50_000n, newRef(), 4n]));
}

/** Gas per operation by kind and batch size. */
export async function measureBatchGas(sizes: readonly number[] = BATCH_SIZES): Promise<Map<BatchKind, Map<number, bigint>>> {
  const l = await deployLedger();
  const table = new Map<BatchKind, Map<number, bigint>>();
  for (const kind of BATCH_KINDS) {
    const row = new Map<number, bigint>();
    for (const n of sizes) {
      const calls = await batchOf(l, kind, n);
      // Sent at the transaction gas cap (EIP-7825: 2^24; the node's estimate starts above it and
      // fails for large batches): a batch that does not fit is left out, and the table says so.
      const receipt = await l.asOperator
        .batch(calls, { gasLimit: TX_GAS_CAP })
        .then((tx) => tx.wait())
        .catch(() => undefined);
      if (!receipt) continue;
      const logs = receipt!.logs.map((log) => l.ledger.interface.parseLog(log));
      const refused = logs.filter((d) => d?.name === "OperationRefused");
      if (refused.length) throw new Error(`${kind} x${n}: ${refused.length} refused (${String(refused[0]!.args.reason)})`);
      row.set(n, receipt!.gasUsed / BigInt(n));
    }
    table.set(kind, row);
  }
  return table;
}

/**
 * The table as markdown: one row per kind, one column per batch size, the target column last;
 * "over the cap" where the whole batch would use more than `TX_GAS_CAP`.
 */
export function batchGasMarkdown(table: Map<BatchKind, Map<number, bigint>>, sizes: readonly number[] = BATCH_SIZES): string {
  const fmt = (v: bigint | undefined) => (v === undefined ? "over the cap" : v.toLocaleString("en-US"));
  const lines = [
    `| operation | ${sizes.map((n) => `${n} per batch`).join(" | ")} | target (50 per batch) |`,
    `| :-- | ${sizes.map(() => "--:").join(" | ")} | --: |`,
  ];
  for (const [kind, row] of table) {
    const target = BATCH_TARGETS[kind];
    lines.push(`| ${kind} | ${sizes.map((n) => fmt(row.get(n))).join(" | ")} | ${target ? `≤ ${target.toLocaleString("en-US")}` : ""} |`);
  }
  return lines.join("\n");
}
