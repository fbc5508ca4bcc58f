/**
 * KYC attestations as EIP-712 typed data: a partner's verifier key states that it checked a
 * subject's identity to a level, from `issuedAt` until `expiry`. The scorer (scorer/) takes the
 * identity tier only from an attestation it can check against the verifier it holds for that
 * partner; never from a word in the request. The domain names the scorer's service, not the
 * ledger: an attestation is evidence for the scorer, it never goes on-chain.
 */
import { keccak256, toUtf8Bytes, TypedDataEncoder, verifyTypedData, type TypedDataDomain } from "ethers";

import type { TypedDataSigner } from "./decision";

export interface KycAttestation {
  /**
   * Whom the verifier checked: `kycSubjectOf(nationalId)`, computable by the partner before
   * the person applies (the account id and the gateway's identity key are keyed hashes the
   * partner cannot compute).
   */
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

/** Domain-separation prefix of `kycSubjectOf`. */
export const KYC_SUBJECT_PREFIX = "CreditLedger KYC subject v1:";

/**
 * The subject of a KYC attestation about a person: keccak256 of the UTF-8 bytes of
 * "CreditLedger KYC subject v1:" followed by the normalized national id number (18
 * characters, a final check character x written X). The partner computes it from what the
 * applicant gives it, before applying; the gateway computes it from the identity in the
 * request (or sealed in its vault, for a limit review) and sends it to the scorer, which
 * refuses an attestation about any other subject. It never goes on-chain.
 */
export function kycSubjectOf(normalizedNationalId: string): string {
  return keccak256(toUtf8Bytes(`${KYC_SUBJECT_PREFIX}${normalizedNationalId}`));
}

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
