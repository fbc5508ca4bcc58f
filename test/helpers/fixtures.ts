/**
 * Test fixtures: the ledger deployed by the real deployment module on the in-process Hardhat
 * network, with separate admin, operator, scorer and pauser keys, and small factories for
 * accounts, decisions and lines. Each scenario takes a fresh snapshot via `loadFixture`.
 */
import { ignition, ethers, network } from "hardhat";
import { hexlify, randomBytes, ZeroHash, type TypedDataDomain } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";

import CreditLedgerModule from "../../deploy/modules/CreditLedger";
import { CASH_LOAN_ID, PAY_LATER_ID } from "../../deploy/defaults";
import { decisionDomain, DecisionPurpose, restructureSubject, signDecision, type Decision } from "../../core/decision";
import type { CreditLedger } from "../../typechain-types";

export { CASH_LOAN_ID, PAY_LATER_ID };

export const MODEL_ID = ethers.id("scorecard-v1");
export const FEATURES_HASH = ethers.id("features");
export const DAY = 86_400;

export interface Ledger {
  ledger: CreditLedger;
  /** The ledger connected to the operator key (the gateway). */
  asOperator: CreditLedger;
  admin: HardhatEthersSigner;
  operator: HardhatEthersSigner;
  scorer: HardhatEthersSigner;
  pauser: HardhatEthersSigner;
  stranger: HardhatEthersSigner;
  domain: TypedDataDomain;
}

/** The ledger as deployed by the Ignition module; `adminDelay` is the admin hand-over delay (default 0). */
export async function deployLedger(options: { adminDelay?: number } = {}): Promise<Ledger> {
  const [admin, operator, scorer, pauser, stranger] = await ethers.getSigners();
  const { ledger } = await ignition.deploy(CreditLedgerModule, {
    parameters: {
      CreditLedger: {
        ...(options.adminDelay === undefined ? {} : { adminDelay: options.adminDelay }),
        operator: operator.address,
        scorer: scorer.address,
        pauser: pauser.address,
      },
    },
  });
  const typed = (await ethers.getContractAt("CreditLedger", await ledger.getAddress())) as unknown as CreditLedger;
  const chainId = BigInt(network.config.chainId ?? 31337);
  return {
    ledger: typed,
    asOperator: typed.connect(operator),
    admin,
    operator,
    scorer,
    pauser,
    stranger,
    domain: decisionDomain(chainId, await typed.getAddress()),
  };
}

export const newAccountId = (): string => hexlify(randomBytes(32));
export const newRef = (): string => hexlify(randomBytes(32));

export async function seqOf(l: Ledger, account: string): Promise<bigint> {
  return (await l.ledger.accountOf(account)).seq;
}

export async function now(): Promise<bigint> {
  const block = await ethers.provider.getBlock("latest");
  return BigInt(block!.timestamp);
}

/** Open an account (tier 1, exposure cap 8,000,000 fen by default). */
export async function openAccount(l: Ledger, tier = 1, exposureCap = 8_000_000n): Promise<string> {
  const account = newAccountId();
  await l.asOperator.openAccount(account, tier, exposureCap, newRef(), 0);
  return account;
}

/** A decision for `account` with sensible defaults; the nonce is read from the chain. */
export async function makeDecision(l: Ledger, account: string, overrides: Partial<Decision> = {}): Promise<Decision> {
  const a = await l.ledger.accountOf(account);
  const t = await now();
  return {
    account,
    purpose: DecisionPurpose.Line,
    productId: PAY_LATER_ID,
    approved: true,
    tier: Number(a.tier),
    score: 720,
    limit: 1_000_000n,
    limitExpiry: 0n,
    ratePpmPerDay: 0n,
    modelId: MODEL_ID,
    featuresHash: FEATURES_HASH,
    reasonCodes: [0, 0, 0, 0],
    subject: ZeroHash,
    scorer: l.scorer.address,
    nonce: a.decisionNonce,
    issuedAt: t,
    deadline: t + 3_600n,
    ...overrides,
  };
}

export async function sign(l: Ledger, d: Decision, signer: HardhatEthersSigner = l.scorer): Promise<string> {
  return signDecision(signer, l.domain, d);
}

/**
 * A scorer-signed restructure decision (purpose Restructure, subject binding the terms) and the
 * leading arguments of `restructure`: `(decision, scorer, signature, loanNo, newPeriods,
 * holidayDays, newRatePpmPerDay)`; the caller adds `ref` and `expectedSeq`.
 */
export async function restructureArgs(
  l: Ledger,
  account: string,
  loanNo: number | bigint,
  newPeriods: number | bigint,
  holidayDays: number | bigint,
  newRatePpmPerDay: number | bigint,
  overrides: Partial<Decision> = {}
): Promise<[Decision, string, string, bigint, bigint, bigint, bigint]> {
  const [terms] = await l.ledger.loanOf(account, loanNo);
  const d = await makeDecision(l, account, {
    purpose: DecisionPurpose.Restructure,
    productId: Number(terms.productId),
    limit: 0n,
    ratePpmPerDay: BigInt(newRatePpmPerDay),
    subject: restructureSubject(loanNo, Number(newPeriods), Number(holidayDays), BigInt(newRatePpmPerDay)),
    ...overrides,
  });
  const signature = await sign(l, d);
  return [d, d.scorer, signature, BigInt(loanNo), BigInt(newPeriods), BigInt(holidayDays), BigInt(newRatePpmPerDay)];
}

/** Grant a line on a scorer-signed decision. */
export async function grantLine(l: Ledger, account: string, overrides: Partial<Decision> = {}): Promise<Decision> {
  const d = await makeDecision(l, account, overrides);
  await l.asOperator.grantLine(d, l.scorer.address, await sign(l, d), newRef(), await seqOf(l, account));
  return d;
}

/** An account with a pay-later line (limit 1,000,000 fen) and a cash line (limit 2,000,000 fen at 500 ppm/day). */
export async function accountWithLines(l: Ledger): Promise<string> {
  const account = await openAccount(l);
  await grantLine(l, account, { productId: PAY_LATER_ID, limit: 1_000_000n });
  await grantLine(l, account, { productId: CASH_LOAN_ID, limit: 2_000_000n, ratePpmPerDay: 500n });
  return account;
}

export async function purchase(l: Ledger, account: string, amount: bigint, periods = 1): Promise<bigint> {
  const loanNo = await l.asOperator.purchase.staticCall(account, PAY_LATER_ID, amount, periods, newRef(), await seqOf(l, account));
  await l.asOperator.purchase(account, PAY_LATER_ID, amount, periods, newRef(), await seqOf(l, account));
  return loanNo;
}

export async function drawCash(l: Ledger, account: string, amount: bigint, periods = 6, method = 2): Promise<bigint> {
  const seq = await seqOf(l, account);
  const loanNo = await l.asOperator.drawCash.staticCall(account, CASH_LOAN_ID, amount, periods, method, newRef(), seq);
  await l.asOperator.drawCash(account, CASH_LOAN_ID, amount, periods, method, newRef(), seq);
  return loanNo;
}

export async function repay(l: Ledger, account: string, loanNo: bigint, amount: bigint) {
  return l.asOperator.repay(account, loanNo, amount, newRef(), await seqOf(l, account));
}

export { ZeroHash };
