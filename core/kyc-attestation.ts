/**
 * KYC attestations as EIP-712 typed data: a partner's verifier key states that it checked a
 * subject's identity to a level, from `issuedAt` until `expiry`. The scorer (scorer/) takes the
 * identity tier only from an attestation it can check against the verifier it holds for that
 * partner; never from a word in the request. The domain names the scorer's service, not the
 * ledger: an attestation is evidence for the scorer, it never goes on-chain.
 */
import { TypedDataEncoder, verifyTypedData, type TypedDataDomain } from "ethers";

import type { TypedDataSigner } from "./decision";

export interface KycAttestation {
  /** The account id (bytes32) or the keyed identity hash the verifier checked. */
  subject: string;
  /** 1 = verified identity, 2 = verified identity with income evidence (the tier it allows). */
  level: number;
  /** Unix seconds. */
  issuedAt: bigint;
  /** Unix seconds; at or after it the attestation is refused. */
  expiry: bigint;
  /** The partner whose verifier signed it. */
  partner: string;
}

export const KYC_ATTESTATION_TYPES = {
  KycAttestation: [
    { name: "subject", type: "bytes32" },
    { name: "level", type: "uint8" },
    { name: "issuedAt", type: "uint64" },
    { name: "expiry", type: "uint64" },
    { name: "partner", type: "string" },
  ],
} as const;

/** The attestations' EIP-712 domain: name "CreditScorer", version "1", the chain. */
export function kycDomain(chainId: bigint): TypedDataDomain {
  return { name: "CreditScorer", version: "1", chainId };
}

const types = () => ({ KycAttestation: [...KYC_ATTESTATION_TYPES.KycAttestation] });

export function kycAttestationDigest(domain: TypedDataDomain, a: KycAttestation): string {
  return TypedDataEncoder.hash(domain, types(), a);
}

/** Sign an attestation with a partner's verifier key. */
export function signKycAttestation(signer: TypedDataSigner, domain: TypedDataDomain, a: KycAttestation): Promise<string> {
  return signer.signTypedData(domain, types(), { ...a });
}

/** The address that signed `a` (throws on a malformed signature). */
export function kycAttestationSigner(domain: TypedDataDomain, a: KycAttestation, signature: string): string {
  return verifyTypedData(domain, types(), { ...a }, signature);
}
