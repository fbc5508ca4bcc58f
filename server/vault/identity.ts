/**
 * Identity keys and PII encryption for the vault. An 18-digit national id number has so little
 * entropy that a plain hash of it is a lookup table away from the person, so the identity key
 * is HMAC-SHA256 under a secret pepper. PII is sealed by the keyring (keyring.ts).
 */
import { createHmac } from "node:crypto";

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

/** Normalize a national id number (trim, upper-case X); undefined when malformed or the checksum fails (GB 11643). */
export function normalizeNationalId(raw: string): string | undefined {
  const id = raw.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(id)) return undefined;
  const sum = WEIGHTS.reduce((acc, w, i) => acc + w * Number(id[i]), 0);
  return CHECK[sum % 11] === id[17] ? id : undefined;
}

/** The identity key: HMAC-SHA256(pepper, normalized id), hex. */
export function identityKey(pepper: Buffer, normalizedId: string): string {
  return createHmac("sha256", pepper).update(normalizedId, "utf8").digest("hex");
}
