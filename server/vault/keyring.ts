/**
 * The vault's keyring: AES-256-GCM keys by id, one of them the key that seals. A sealed value
 * names the key that sealed it, so keys rotate: a new key is added and made current, old
 * records still open under the key they name, and `npm run admin -- vault rotate` re-seals
 * them under the current one (reseal.ts), after which the old key can be dropped.
 *
 *   v1:<keyId>:<iv>:<tag>:<ciphertext>      iv 12 bytes, tag 16 bytes, all base64
 *
 * A value in the old format (base64 of iv | tag | ciphertext, no key id) is still read: it is
 * opened with each key of the ring until one authenticates (GCM refuses a wrong key), and
 * re-sealed in the new format by a rotation. Decryption pins the tag length: a tag shorter than
 * 16 bytes is refused (`createDecipheriv`'s authTagLength), so a truncated tag cannot weaken
 * the check. The associated data (the record's account id) binds a sealed value to its row.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = "v1";

/** A key id: letters, digits, `_` and `-`, 1 to 32 of them (it is written into every sealed value). */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** The key id `GATEWAY_VAULT_KEY` alone stands for (a keyring of one key). */
export const SINGLE_KEY_ID = "k0";

/** A sealed value that cannot be opened: which key it names, and why. */
export class VaultSealError extends Error {
  constructor(
    message: string,
    /** The key id the value names (undefined for the old format or a malformed value). */
    readonly keyId?: string
  ) {
    super(message);
    this.name = "VaultSealError";
  }
}

export interface KeyringKeys {
  /** The id of the key that seals. */
  currentId: string;
  keys: ReadonlyArray<readonly [id: string, key: Buffer]>;
}

export class Keyring {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly currentId: string;

  constructor({ currentId, keys }: KeyringKeys) {
    const map = new Map<string, Buffer>();
    for (const [id, key] of keys) {
      if (!KEY_ID_PATTERN.test(id)) throw new Error(`vault key id "${id}" must be 1-32 letters, digits, _ or -`);
      if (key.length !== KEY_BYTES) throw new Error(`vault key "${id}" must be ${KEY_BYTES} bytes`);
      if (map.has(id)) throw new Error(`vault key id "${id}" appears twice`);
      map.set(id, key);
    }
    if (!map.has(currentId)) throw new Error(`the sealing key "${currentId}" is not in the keyring (${[...map.keys()].join(", ")})`);
    this.#keys = map;
    this.currentId = currentId;
  }

  /** A keyring of one key (tests, and `GATEWAY_VAULT_KEY` alone). */
  static single(key: Buffer, id = SINGLE_KEY_ID): Keyring {
    return new Keyring({ currentId: id, keys: [[id, key]] });
  }

  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** Seals `plaintext` under the current key, `aad` bound in. */
  seal(plaintext: string, aad: string, iv: Buffer = randomBytes(IV_BYTES)): string {
    const cipher = createCipheriv("aes-256-gcm", this.#keys.get(this.currentId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return [FORMAT, this.currentId, iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(":");
  }

  /** Opens a sealed value (either format); throws `VaultSealError` when it cannot. */
  open(sealed: string, aad: string): string {
    if (!sealed.startsWith(`${FORMAT}:`)) return this.openLegacy(sealed, aad);
    const parts = sealed.split(":");
    if (parts.length !== 5) throw new VaultSealError("a sealed value must be v1:<keyId>:<iv>:<tag>:<ciphertext>");
    const [, keyId, iv, tag, body] = parts;
    const key = this.#keys.get(keyId);
    if (key === undefined) {
      throw new VaultSealError(`sealed under vault key "${keyId}", which is not in the keyring (${this.keyIds.join(", ")}): add it back to GATEWAY_VAULT_KEYS`, keyId);
    }
    return decrypt(key, Buffer.from(iv, "base64"), Buffer.from(tag, "base64"), Buffer.from(body, "base64"), aad, keyId);
  }

  /** Whether a sealed value is sealed under the current key in the current format (a rotation leaves it). */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(`${FORMAT}:${this.currentId}:`);
  }

  /** The prefix of every value sealed under the current key (for finding the others in SQL). */
  get currentPrefix(): string {
    return `${FORMAT}:${this.currentId}:`;
  }

  private openLegacy(sealed: string, aad: string): string {
    const raw = Buffer.from(sealed, "base64");
    if (raw.length < IV_BYTES + TAG_BYTES) throw new VaultSealError("a sealed value (old format) is too short");
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
    const body = raw.subarray(IV_BYTES + TAG_BYTES);
    for (const [id, key] of this.#keys) {
      try {
        return decrypt(key, iv, tag, body, aad, id);
      } catch {
        // another key of the ring may have sealed it
      }
    }
    throw new VaultSealError(`a sealed value in the old format opens under none of the vault keys (${this.keyIds.join(", ")})`);
  }

  toJSON(): string {
    return "[redacted]";
  }
}

function decrypt(key: Buffer, iv: Buffer, tag: Buffer, body: Buffer, aad: string, keyId: string): string {
  if (iv.length !== IV_BYTES) throw new VaultSealError(`a sealed value's iv must be ${IV_BYTES} bytes, not ${iv.length}`, keyId);
  if (tag.length !== TAG_BYTES) throw new VaultSealError(`a sealed value's tag must be ${TAG_BYTES} bytes, not ${tag.length} (truncated)`, keyId);
  const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, "utf8"));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
  } catch {
    throw new VaultSealError(`a sealed value does not authenticate under vault key "${keyId}" (altered, moved to another record, or another key)`, keyId);
  }
}
