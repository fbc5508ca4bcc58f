/**
 * Stages a large ledger for the verifier's benchmark (`npm run bench -- --audit-entries N`):
 * accounts opened, lines granted on scorer-signed decisions, then purchases and repayments in
 * rounds, all sent straight from the operator key in `batch` transactions (ICreditLedger.batch)
 * of `batchSize` calls, not through the gateway: staging is not what is measured. Each call
 * names the seq its account will be at when it runs (the calls of one account go in order,
 * across batches too), and the run stops at the first call the ledger refuses (a
 * batch records it as OperationRefused): the staged ledger is exactly the one planned.
 *
 * Per account: openAccount, grantLine, then purchases and repayments in turn (repayment k repays
 * purchase k), `entriesPerAccount` entries in all.
 */
import { Interface, Wallet, hexlify, randomBytes, type Provider, type TransactionReceipt } from "ethers";

import { decisionDomain, lineDecision, signDecision } from "../../core/decision";
import { PAY_LATER_ID } from "../../deploy/defaults";
import { ICreditLedger__factory } from "../../typechain-types";

export interface StagingOptions {
  provider: Provider;
  ledger: string;
  chainId: bigint;
  operatorKey: string;
  scorerKey: string;
  /** Account entries to write in all (rounded up to whole accounts). */
  entries: number;
  entriesPerAccount: number;
  batchSize: number;
  progress?: (message: string) => void;
}

export interface Staged {
  accounts: number;
  entries: number;
  transactions: number;
  blocks: number;
  gasUsed: bigint;
  seconds: number;
}

const newId = () => hexlify(randomBytes(32));
const EXPOSURE_CAP = 8_000_000n;
const LIMIT = 1_000_000n;
const PURCHASE = 1_000n;
const REPAYMENT = 100n;
/** EIP-7825's cap on one transaction's gas. */
const MAX_TX_GAS = 16_777_216n;

export async function stageLedger(options: StagingOptions): Promise<Staged> {
  const { provider, ledger, entriesPerAccount, batchSize } = options;
  if (entriesPerAccount < 3) throw new Error(`entriesPerAccount is at least 3 (open, grant, one purchase), got ${entriesPerAccount}`);
  const started = performance.now();
  const iface = ICreditLedger__factory.createInterface() as unknown as Interface;
  const refusedTopic = iface.getEvent("OperationRefused")?.topicHash;
  if (refusedTopic === undefined) throw new Error("the ledger's interface has no OperationRefused event: batch (issue 12) is needed to stage a ledger");
  const operator = new Wallet(options.operatorKey, provider);
  const scorer = new Wallet(options.scorerKey);
  const domain = decisionDomain(options.chainId, ledger);
  const n = Math.ceil(options.entries / entriesPerAccount);
  const accounts = Array.from({ length: n }, newId);
  const latest = await provider.getBlock("latest");
  const issuedAt = BigInt(latest!.timestamp);

  let nonce = await provider.getTransactionCount(operator.address, "pending");
  let transactions = 0;
  let gasUsed = 0n;
  const blocks = new Set<number>();
  let entries = 0;
  let lastReport = performance.now();
  /** Sends the calls in batches, one after the other, each receipt checked. */
  const send = async (calls: string[]) => {
    for (let i = 0; i < calls.length; i += batchSize) {
      const data = iface.encodeFunctionData("batch", [calls.slice(i, i + batchSize)]);
      // No estimate (it would run the batch twice): the cap itself; a batch that needs more reverts as a whole and says so.
      const tx = await operator.sendTransaction({ to: ledger, data, nonce: nonce++, gasLimit: MAX_TX_GAS });
      await settle(tx.wait());
    }
  };
  const settle = async (waiting: Promise<TransactionReceipt | null>) => {
    const receipt = await waiting;
    if (!receipt || receipt.status !== 1) throw new Error(`a staging batch of ${batchSize} calls reverted as a whole (${receipt?.hash ?? "no receipt"}): out of gas under ${MAX_TX_GAS}? lower --audit-batch`);
    const refused = receipt.logs.find((log) => log.topics[0] === refusedTopic);
    if (refused) {
      const parsed = iface.parseLog(refused)!;
      throw new Error(`the ledger refused staged call ${parsed.args.index} of ${receipt.hash}: ${String(parsed.args.reason)}`);
    }
    transactions += 1;
    gasUsed += receipt.gasUsed;
    blocks.add(receipt.blockNumber);
    if (performance.now() - lastReport > 2_000) {
      lastReport = performance.now();
      options.progress?.(`  staging: ${transactions} batch transactions, about ${Math.min(entries, transactions * batchSize)} of ${n * entriesPerAccount} entries`);
    }
  };

  // Round 0: open every account (expected seq 0); round 1: grant each its pay-later line (seq 1).
  await send(accounts.map((a) => iface.encodeFunctionData("openAccount", [a, 1, EXPOSURE_CAP, newId(), 0])));
  entries += n;
  const grants: string[] = [];
  for (const account of accounts) {
    const decision = lineDecision(
      {
        account,
        productId: PAY_LATER_ID,
        approved: true,
        tier: 1,
        score: 720,
        limit: LIMIT,
        limitExpiry: 0n,
        ratePpmPerDay: 0n,
        modelId: newId(),
        featuresHash: newId(),
        reasonCodes: [0, 0, 0, 0],
      },
      { scorer: scorer.address, nonce: 0n, issuedAt, deadline: issuedAt + 86_400n },
    );
    grants.push(iface.encodeFunctionData("grantLine", [decision, scorer.address, await signDecision(scorer, domain, decision), newId(), 1]));
  }
  await send(grants);
  entries += n;
  // Then purchases and repayments in turn: the entry at seq s (from 2) is purchase k or the repayment of purchase k.
  for (let seq = 2; seq < entriesPerAccount; seq++) {
    const k = Math.floor((seq - 2) / 2) + 1;
    const purchase = (seq - 2) % 2 === 0;
    await send(
      accounts.map((a) =>
        purchase
          ? iface.encodeFunctionData("purchase", [a, PAY_LATER_ID, PURCHASE, 1, newId(), seq])
          : iface.encodeFunctionData("repay", [a, k, REPAYMENT, newId(), seq]),
      ),
    );
    entries += n;
  }
  return { accounts: n, entries, transactions, blocks: blocks.size, gasUsed, seconds: (performance.now() - started) / 1000 };
}
