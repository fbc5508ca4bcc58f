/**
 * Identity keys and PII encryption for the vault. An 18-digit national id number has so little
 * entropy that a plain hash of it is a lookup table away from the person, so the identity key
 * is HMAC-SHA256 under a secret pepper; PII is sealed with AES-256-GCM, the account id bound
 * in as associated data so a row's ciphertext cannot be moved to another account.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";

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

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Seal `plaintext` with AES-256-GCM: base64(iv | tag | ciphertext), `aad` bound in. */
export function seal(key: Buffer, plaintext: string, aad: string, iv: Buffer = randomBytes(IV_BYTES)): string {
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
}

/** Open what `seal` produced; throws if the ciphertext, tag, key or aad do not match. */
export function open(key: Buffer, sealed: string, aad: string): string {
  const raw = Buffer.from(sealed, "base64");
  const iv = raw.subarray(0, IV_BYTES);
  const tag = raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(Buffer.from(aad, "utf8"));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
}
