/**
 * The gateway's view of the CreditLedger contract: typed reads (typechain), calls encoded
 * from named arguments, pre-flight simulation from the operator's address, and entries found
 * by their reference. No key is here: only the outbox sender sends
 * (server/chain/outbox-sender.ts), and only the scorer process signs decisions (scorer/).
 */
import {
  getAddress,
  zeroPadValue,
  type Provider,
  type TypedDataDomain,
  type Log,
  type Interface,
  type BlockTag,
} from "ethers";

import { decisionDomain } from "../../core/decision";
import { decodeLedgerLog, isEntry, type LedgerEntry, type LogLike } from "../../core/ledger-events";
import {
  accountFromFields,
  lineFromFields,
  plain,
  productFromFields,
  stateFromFields,
  termsFromFields,
  tierPolicyFromFields,
  type LedgerAccount,
  type LedgerLine,
  type LedgerProduct,
  type Plain,
  type TierPolicy,
} from "../../core/ledger-structs";
import type { LoanState, LoanTerms } from "../../core/loan-math";
import { CreditLedger__factory, ICreditLedger__factory, type CreditLedger } from "../../typechain-types";
import { decodeRevert, LedgerRevertError, type LedgerRevert } from "./ledger-errors";
import type { LedgerFunction } from "./ledger-calls";

/** Largest block range asked of `eth_getLogs` at once (many providers limit it). */
export const LOG_RANGE = 5_000;

export interface LedgerClientOptions {
  provider: Provider;
  ledgerAddress: string;
  /** The address transactions come from (the operator); pre-flights simulate from it. */
  operatorAddress: string;
  chainId: bigint;
}

export class LedgerClient {
  readonly contract: CreditLedger;
  /** The implementation's ABI: decodes events and every custom error (the ledger's and OpenZeppelin's). */
  readonly iface: Interface;
  /** The documented interface (ICreditLedger.sol): calls are encoded with its parameter names. */
  readonly callIface: Interface;
  readonly address: string;
  readonly provider: Provider;
  readonly operatorAddress: string;
  readonly chainId: bigint;
  readonly domain: TypedDataDomain;

  constructor(options: LedgerClientOptions) {
    this.address = getAddress(options.ledgerAddress);
    this.provider = options.provider;
    this.contract = CreditLedger__factory.connect(this.address, options.provider);
    this.iface = this.contract.interface as unknown as Interface;
    this.callIface = ICreditLedger__factory.createInterface() as unknown as Interface;
    this.operatorAddress = getAddress(options.operatorAddress);
    this.chainId = options.chainId;
    this.domain = decisionDomain(options.chainId, this.address);
  }

  /** Connects to the ledger at `ledgerAddress`, checking that code is there. */
  static async connect(options: Omit<LedgerClientOptions, "chainId">): Promise<LedgerClient> {
    const network = await options.provider.getNetwork();
    const code = await options.provider.getCode(options.ledgerAddress);
    if (code === "0x") throw new Error(`no contract at ${options.ledgerAddress} on chain ${network.chainId}`);
    return new LedgerClient({ ...options, chainId: network.chainId });
  }

  // ---------------------------------------------------------------- reads (typed by the core's struct readers)

  async accountOf(account: string, blockTag?: BlockTag): Promise<LedgerAccount> {
    return accountFromFields(plain(await this.contract.accountOf(account, { blockTag })) as Record<string, Plain>);
  }

  async lineOf(account: string, productId: number, blockTag?: BlockTag): Promise<LedgerLine> {
    return lineFromFields(plain(await this.contract.lineOf(account, productId, { blockTag })) as Record<string, Plain>);
  }

  async loanOf(account: string, loanNo: number, blockTag?: BlockTag): Promise<{ terms: LoanTerms; state: LoanState }> {
    const [terms, state] = await this.contract.loanOf(account, loanNo, { blockTag });
    return { terms: termsFromFields(plain(terms) as Record<string, Plain>), state: stateFromFields(plain(state) as Record<string, Plain>) };
  }

  async productOf(productId: number): Promise<LedgerProduct> {
    return productFromFields(plain(await this.contract.productOf(productId)) as Record<string, Plain>);
  }

  async tierPolicyOf(tier: number): Promise<TierPolicy> {
    return tierPolicyFromFields(plain(await this.contract.tierPolicyOf(tier)) as Record<string, Plain>);
  }

  async effectiveLimit(account: string, productId: number): Promise<bigint> {
    return this.contract.effectiveLimit(account, productId);
  }

  async positionOf(account: string, loanNo: number, time: bigint): Promise<Record<string, Plain>> {
    return plain(await this.contract.positionOf(account, loanNo, time)) as Record<string, Plain>;
  }

  async paused(): Promise<boolean> {
    return this.contract.paused();
  }

  async latestBlock(): Promise<{ number: number; timestamp: bigint }> {
    const block = await this.provider.getBlock("latest");
    if (!block) throw new Error("the node returned no latest block");
    return { number: block.number, timestamp: BigInt(block.timestamp) };
  }

  // ---------------------------------------------------------------- calls

  /** ABI-encodes `fn` with arguments looked up by their parameter names in ICreditLedger. */
  encode(fn: LedgerFunction, args: Record<string, unknown>): string {
    const fragment = this.callIface.getFunction(fn);
    if (!fragment) throw new Error(`the ledger has no function ${fn}`);
    const values = fragment.inputs.map((input) => {
      if (!(input.name in args)) throw new Error(`${fn}: no value for parameter ${input.name}`);
      return args[input.name];
    });
    return this.callIface.encodeFunctionData(fragment, values);
  }

  /**
   * Simulates the call from the operator's address at the latest block; throws
   * `LedgerRevertError` with the decoded custom error when the ledger would refuse it.
   */
  async preflight(fn: LedgerFunction, args: Record<string, unknown>): Promise<Record<string, Plain> | Plain[]> {
    const data = this.encode(fn, args);
    try {
      const result = await this.provider.call({ from: this.operatorAddress, to: this.address, data });
      return plain(this.callIface.decodeFunctionResult(fn, result)) as Record<string, Plain> | Plain[];
    } catch (error) {
      const revert = this.decodeRevert(error);
      if (revert) throw new LedgerRevertError(revert);
      throw error;
    }
  }

  decodeRevert(error: unknown): LedgerRevert | undefined {
    return decodeRevert(this.iface, error);
  }

  /** The `batch(calls)` call of already encoded ledger calls (ICreditLedger.batch). */
  encodeBatch(calls: readonly string[]): string {
    return this.callIface.encodeFunctionData("batch", [calls]);
  }

  /** The reason a batch recorded for a refused call: the ledger's custom error with its values (`UnknownError` for empty or unknown data). */
  decodeReason(data: string): LedgerRevert {
    return decodeRevert(this.iface, { data }) ?? { name: "UnknownError", args: { selector: data.slice(0, 10) }, data };
  }

  /** The `OperationRefused` records among a receipt's logs, by their index in the batch. */
  refusalsIn(logs: readonly LogLike[]): Map<number, { account: string; reason: LedgerRevert }> {
    const out = new Map<number, { account: string; reason: LedgerRevert }>();
    for (const log of logs) {
      const event = decodeLedgerLog(this.iface, log, this.address);
      if (event?.name !== "OperationRefused") continue;
      out.set(Number(event.args.index as bigint), { account: String(event.args.account).toLowerCase(), reason: this.decodeReason(String(event.args.reason)) });
    }
    return out;
  }

  // ---------------------------------------------------------------- entries

  /** Decodes a ledger log into its entry (core/ledger-events.ts), or undefined for logs that are not entries. */
  decodeEntry(log: LogLike): LedgerEntry | undefined {
    const event = decodeLedgerLog(this.iface, log, this.address);
    return event && isEntry(event) ? event : undefined;
  }

  /** The ledger's logs in [fromBlock, toBlock], optionally of one account, asked in ranges of LOG_RANGE. */
  async logs(fromBlock: number, toBlock: number, account?: string): Promise<Log[]> {
    const topics = account === undefined ? undefined : [null, zeroPadValue(account, 32)];
    const out: Log[] = [];
    for (let from = fromBlock; from <= toBlock; from += LOG_RANGE) {
      const to = Math.min(toBlock, from + LOG_RANGE - 1);
      out.push(...(await this.provider.getLogs({ address: this.address, fromBlock: from, toBlock: to, topics })));
    }
    return out;
  }

  /** The entry carrying `ref` on `account` since `fromBlock`, if it landed. */
  async findEntryByRef(account: string, ref: string, fromBlock: number): Promise<LedgerEntry | undefined> {
    const latest = await this.provider.getBlockNumber();
    for (const log of await this.logs(fromBlock, latest, account)) {
      const entry = this.decodeEntry(log);
      if (entry && entry.ref.toLowerCase() === ref.toLowerCase()) return entry;
    }
    return undefined;
  }
}
