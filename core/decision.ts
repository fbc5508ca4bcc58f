/**
 * Credit decisions as EIP-712 typed data, mirrored from `contracts/libraries/DecisionHash.sol`.
 * The scorer key signs these; the operator key submits them; the verifier re-derives the
 * digest and recovers the signer.
 */
import { TypedDataEncoder, type TypedDataDomain } from "ethers";

export interface Decision {
  account: string;
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
  nonce: bigint;
  deadline: bigint;
}

export const DECISION_TYPES = {
  Decision: [
    { name: "account", type: "bytes32" },
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
    { name: "nonce", type: "uint32" },
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
