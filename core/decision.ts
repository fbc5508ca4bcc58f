/**
 * Credit decisions as EIP-712 typed data, mirrored from `contracts/libraries/DecisionHash.sol`.
 * The scorer key signs these; the operator key submits them; the verifier re-derives the
 * digest and recovers the signer.
 */
import { AbiCoder, keccak256, TypedDataEncoder, ZeroHash, type TypedDataDomain } from "ethers";

/** What a decision authorises (`ICreditLedger.DecisionPurpose`). */
export const DecisionPurpose = { Line: 0, Restructure: 1, Reinstate: 2 } as const;
export type DecisionPurposeValue = (typeof DecisionPurpose)[keyof typeof DecisionPurpose];

export interface Decision {
  account: string;
  /** `DecisionPurpose`: 0 Line (grant, increase, decline), 1 Restructure, 2 Reinstate. */
  purpose: number;
  productId: number;
  approved: boolean;
  tier: number;
  score: number;
  limit: bigint;
  limitExpiry: bigint;
  ratePpmPerDay: bigint;
  modelId: string;
  featuresHash: string;
  reasonCodes: [number, number, number, number];
  /** The operation the decision authorises: zero for Line, `restructureSubject(...)` for Restructure. */
  subject: string;
  /** The signer's address (EOA or ERC-1271 wallet); the ledger requires it to equal the `scorer` argument. */
  scorer: string;
  nonce: bigint;
  /** Unix seconds the scorer made the decision. */
  issuedAt: bigint;
  deadline: bigint;
}

/** A decision lives at most this long on-chain: `deadline - issuedAt` at most 30 days (`CreditLedger.MAX_DECISION_LIFETIME`). */
export const MAX_DECISION_LIFETIME = 30n * 86_400n;

/**
 * The entries that advance the account's decision nonce besides a decision itself: adverse
 * events (a limit cut, a freeze, a write-off) invalidate every decision issued before them.
 */
export const NONCE_ADVANCING_ENTRIES: ReadonlySet<string> = new Set(["LimitCut", "LineFrozen", "WrittenOff"]);

/** What a decision path expects of a decision: its purpose, its subject and the scorer it is submitted with. */
export interface DecisionBinding {
  purpose: number;
  subject: string;
  scorer: string;
}

/**
 * The ledger's binding and lifetime checks of a decision used at `time`, in the ledger's order
 * (purpose, subject, scorer, issue time, lifetime, deadline); nonce, role and signature are the
 * caller's. Each problem says what is wrong with the values.
 */
export function decisionBindingProblems(d: Decision, expected: DecisionBinding, time: bigint): string[] {
  const problems: string[] = [];
  if (d.purpose !== expected.purpose) problems.push(`the decision's purpose is ${d.purpose}, this operation needs purpose ${expected.purpose}`);
  if (d.subject.toLowerCase() !== expected.subject.toLowerCase()) {
    problems.push(`the decision's subject is ${d.subject}, this operation's is ${expected.subject}`);
  }
  if (d.scorer.toLowerCase() !== expected.scorer.toLowerCase()) {
    problems.push(`the decision was made for scorer ${d.scorer}, submitted with scorer ${expected.scorer}`);
  }
  if (d.issuedAt > time) problems.push(`the decision was issued at ${d.issuedAt}, after its use at ${time}`);
  if (d.deadline > d.issuedAt + MAX_DECISION_LIFETIME) {
    problems.push(`the decision's deadline ${d.deadline} is more than ${MAX_DECISION_LIFETIME} s after its issue time ${d.issuedAt}`);
  }
  if (d.deadline < time) problems.push(`the decision expired at ${d.deadline}, used at ${time}`);
  return problems;
}

/**
 * A line decision as the scorer computes it: everything but the fields set when it is signed
 * (purpose Line and subject zero are implied; scorer, nonce, issuedAt and deadline are the signer's).
 */
export type DecisionDraft = Omit<Decision, "purpose" | "subject" | "scorer" | "nonce" | "issuedAt" | "deadline">;

/** The fields a signer completes a draft with. */
export interface DecisionSigning {
  scorer: string;
  nonce: bigint;
  issuedAt: bigint;
  deadline: bigint;
}

/** A line decision (purpose Line, subject zero) from a draft and its signing fields. */
export function lineDecision(draft: DecisionDraft, signing: DecisionSigning): Decision {
  return { ...draft, purpose: DecisionPurpose.Line, subject: ZeroHash, ...signing };
}

/** The terms a restructure decision authorises (the ledger's `restructure` arguments). */
export interface RestructureTerms {
  loanNo: number | bigint;
  newPeriods: number;
  holidayDays: number;
  newRatePpmPerDay: bigint;
}

/**
 * A restructure decision (purpose Restructure, approved, subject binding `terms`) about the
 * loan of `account` in product `productId`, at the account's `tier`; no limit, score or model.
 */
export function restructureDecision(
  about: { account: string; productId: number; tier: number },
  terms: RestructureTerms,
  signing: DecisionSigning
): Decision {
  return {
    account: about.account,
    purpose: DecisionPurpose.Restructure,
    productId: about.productId,
    approved: true,
    tier: about.tier,
    score: 0,
    limit: 0n,
    limitExpiry: 0n,
    ratePpmPerDay: terms.newRatePpmPerDay,
    modelId: ZeroHash,
    featuresHash: ZeroHash,
    reasonCodes: [0, 0, 0, 0],
    subject: restructureSubject(terms.loanNo, terms.newPeriods, terms.holidayDays, terms.newRatePpmPerDay),
    ...signing,
  };
}

/**
 * A reinstate decision (purpose Reinstate, approved, subject zero) about the line of `account`
 * in product `productId`, at the account's `tier`: what the pre-flight simulates
 * `reinstateLine` with (the scorer's own carries its score, model and features hash).
 */
export function reinstateDecision(about: { account: string; productId: number; tier: number }, signing: DecisionSigning): Decision {
  return {
    account: about.account,
    purpose: DecisionPurpose.Reinstate,
    productId: about.productId,
    approved: true,
    tier: about.tier,
    score: 0,
    limit: 0n,
    limitExpiry: 0n,
    ratePpmPerDay: 0n,
    modelId: ZeroHash,
    featuresHash: ZeroHash,
    reasonCodes: [0, 0, 0, 0],
    subject: ZeroHash,
    ...signing,
  };
}

/** The subject of a restructure decision: `keccak256(abi.encode(uint32 loanNo, uint8 newPeriods, uint16 holidayDays, uint32 newRate))`. */
export function restructureSubject(loanNo: number | bigint, newPeriods: number, holidayDays: number, newRatePpmPerDay: bigint): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["uint32", "uint8", "uint16", "uint32"], [loanNo, newPeriods, holidayDays, newRatePpmPerDay])
  );
}

export const DECISION_TYPES = {
  Decision: [
    { name: "account", type: "bytes32" },
    { name: "purpose", type: "uint8" },
    { name: "productId", type: "uint8" },
    { name: "approved", type: "bool" },
    { name: "tier", type: "uint8" },
    { name: "score", type: "uint16" },
    { name: "limit", type: "uint64" },
    { name: "limitExpiry", type: "uint40" },
    { name: "ratePpmPerDay", type: "uint32" },
    { name: "modelId", type: "bytes32" },
    { name: "featuresHash", type: "bytes32" },
    { name: "reasonCodes", type: "uint16[4]" },
    { name: "subject", type: "bytes32" },
    { name: "scorer", type: "address" },
    { name: "nonce", type: "uint32" },
    { name: "issuedAt", type: "uint40" },
    { name: "deadline", type: "uint64" },
  ],
} as const;

/** The ledger's EIP-712 domain: name "CreditLedger", version "1", the chain and the ledger address. */
export function decisionDomain(chainId: bigint, ledger: string): TypedDataDomain {
  return { name: "CreditLedger", version: "1", chainId, verifyingContract: ledger };
}

/** The digest a scorer signs (equal to the ledger's `decisionDigest`). */
export function decisionDigest(domain: TypedDataDomain, d: Decision): string {
  return TypedDataEncoder.hash(domain, { Decision: [...DECISION_TYPES.Decision] }, d);
}

/** Anything that can sign typed data (an ethers Wallet or a Hardhat signer). */
export interface TypedDataSigner {
  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, Array<{ name: string; type: string }>>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

/** Sign a decision with the scorer's key. */
export function signDecision(signer: TypedDataSigner, domain: TypedDataDomain, d: Decision): Promise<string> {
  return signer.signTypedData(domain, { Decision: [...DECISION_TYPES.Decision] }, { ...d });
}
