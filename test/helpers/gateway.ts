/**
 * A gateway built against the in-process Hardhat network: the ledger deployed by the real
 * Ignition module (test/helpers/fixtures.ts), the operator and scorer keys of Hardhat's
 * accounts 1 and 2 as ethers Wallets, an in-memory SQLite store, a manual clock that follows
 * the chain's time, and a silent logger. Each test file builds its own.
 */
import hre, { network } from "hardhat";
import { BrowserProvider, Wallet } from "ethers";

import { ManualClock } from "../../server/clock";
import { localAccountKey, type HdAccountsConfig } from "../../server/chain/local-keys";
import { LedgerClient } from "../../server/chain/ledger-client";
import { createLogger } from "../../server/logger";
import { SqliteStore } from "../../server/store/sqlite-store";
import { deployLedger, type Ledger } from "./fixtures";

export interface ChainEdges {
  l: Ledger;
  provider: BrowserProvider;
  operator: Wallet;
  scorer: Wallet;
  client: LedgerClient;
  clock: ManualClock;
}

export function hardhatKey(index: number): string {
  return localAccountKey(hre.config.networks.hardhat.accounts as unknown as HdAccountsConfig, index);
}

/** A fresh ledger and the chain-side edges of a gateway for it. */
export async function chainEdges(): Promise<ChainEdges> {
  const l = await deployLedger();
  const provider = new BrowserProvider(network.provider as never, undefined, { cacheTimeout: -1, pollingInterval: 50 });
  const operator = new Wallet(hardhatKey(1), provider);
  const scorer = new Wallet(hardhatKey(2));
  if (operator.address !== l.operator.address || scorer.address !== l.scorer.address) {
    throw new Error("hardhat accounts 1 and 2 are not the operator and scorer of the fixture");
  }
  const client = await LedgerClient.connect({
    provider,
    ledgerAddress: await l.ledger.getAddress(),
    operatorAddress: operator.address,
    scorer,
  });
  const clock = new ManualClock(0);
  await followChainTime(clock, provider);
  return { l, provider, operator, scorer, client, clock };
}

/** Puts the clock at the latest block's time. */
export async function followChainTime(clock: ManualClock, provider: BrowserProvider): Promise<void> {
  const block = await provider.getBlock("latest");
  clock.setSeconds(block!.timestamp);
}

export const silentLogger = () => createLogger("silent");

export const memoryStore = (clock: ManualClock) => new SqliteStore(":memory:", clock);
