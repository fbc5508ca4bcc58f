/**
 * Staging a ledger of many entries quickly on the in-process Hardhat network, for the
 * verifier's scale tests and measurements: accounts opened and granted a pay-later line, then
 * rounds of purchases and repayments. Transactions are sent without waiting for each receipt
 * (explicit nonces and gas limits, automine off) and mined `perBlock` at a time, so the ledger
 * spreads over many blocks with several entries each, as on a real chain.
 */
import { network } from "hardhat";

import { PAY_LATER_ID, deployLedger, makeDecision, newAccountId, newRef, sign, type Ledger } from "./fixtures";

export interface BigLedgerOptions {
  accounts: number;
  /** Purchase-and-repayment pairs per account. */
  rounds: number;
  /** Transactions per block (default 50). */
  perBlock?: number;
  onProgress?: (entries: number) => void;
}

/** Entries a staged ledger holds: per account, the opening, the grant and two per round. */
export const bigLedgerEntries = (o: Pick<BigLedgerOptions, "accounts" | "rounds">): number => o.accounts * (2 + 2 * o.rounds);

/** Deploy a ledger and write `bigLedgerEntries(options)` entries into it. */
export async function stageBigLedger(options: BigLedgerOptions, l?: Ledger): Promise<{ l: Ledger; address: string; accounts: string[] }> {
  const ledger = l ?? (await deployLedger());
  const perBlock = options.perBlock ?? 50;
  const operator = ledger.operator;
  const to = await ledger.ledger.getAddress();
  let nonce = await operator.getNonce();
  let pending = 0;
  let written = 0;
  await network.provider.send("evm_setAutomine", [false]);
  const mine = async () => {
    await network.provider.send("evm_mine", []);
    pending = 0;
    options.onProgress?.(written);
  };
  const send = async (data: string) => {
    await operator.sendTransaction({ to, data, nonce: nonce++, gasLimit: 1_000_000 });
    written += 1;
    if (++pending >= perBlock) await mine();
  };
  const iface = ledger.ledger.interface;
  try {
    const accounts = Array.from({ length: options.accounts }, () => newAccountId());
    for (const account of accounts) await send(iface.encodeFunctionData("openAccount", [account, 1, 8_000_000n, newRef(), 0n]));
    await mine();
    for (const account of accounts) {
      // The decision is read from the account as the chain holds it now (nonce 0, tier 1).
      const d = await makeDecision(ledger, account, { productId: PAY_LATER_ID, limit: 1_000_000n });
      await send(iface.encodeFunctionData("grantLine", [d, ledger.scorer.address, await sign(ledger, d), newRef(), 1n]));
    }
    await mine();
    for (let round = 0; round < options.rounds; round++) {
      const seq = BigInt(2 + 2 * round);
      for (const account of accounts) await send(iface.encodeFunctionData("purchase", [account, PAY_LATER_ID, 1_000n, 1, newRef(), seq]));
      await mine();
      for (const account of accounts) await send(iface.encodeFunctionData("repay", [account, round + 1, 1_000n, newRef(), seq + 1n]));
      await mine();
    }
    for (const account of [accounts[0], accounts[accounts.length - 1]]) {
      const { seq } = await ledger.ledger.accountOf(account);
      const want = BigInt(2 + 2 * options.rounds);
      if (seq !== want) throw new Error(`staging failed: account ${account} is at seq ${seq}, expected ${want} (a transaction was refused)`);
    }
    return { l: ledger, address: to, accounts };
  } finally {
    await network.provider.send("evm_setAutomine", [true]);
  }
}

