/**
 * The identity vault: maps a person to their pseudonymous account id and keeps their PII
 * sealed. The identity key is HMAC-SHA256(pepper, normalized national id), never a plain
 * hash; the account id is 32 random bytes; name, national id and phone are sealed together
 * with AES-256-GCM by the keyring (keyring.ts: the record names its key, so keys rotate), the
 * account id bound in as associated data. Deleting a person's row
 * leaves the on-chain history with nothing that links it to them.
 */
import type { Clock } from "../clock";
import { randomHex, type Random } from "../randomness";
import type { Store, VaultRecord } from "../store/store";
import { identityKey, normalizeNationalId } from "./identity";
import type { Keyring } from "./keyring";

export interface PersonalData {
  nationalId: string;
  name: string;
  phone: string;
}

export interface VaultKeys {
  keyring: Keyring;
  identityPepper: Buffer;
}

/** A national id number that is malformed or fails its checksum. */
export class InvalidNationalId extends Error {
  constructor() {
    super("national id number is malformed or its check digit is wrong");
    this.name = "InvalidNationalId";
  }
}

export interface ResolvedIdentity {
  identityKey: string;
  accountId: string;
  /** Set for a person the vault does not hold yet: the row to insert when the request is accepted. */
  newRecord?: VaultRecord;
}

export class Vault {
  constructor(
    private readonly store: Store,
    private readonly keys: VaultKeys,
    private readonly random: Random,
    private readonly clock: Clock
  ) {}

  /** The identity key of a national id number; throws `InvalidNationalId`. */
  identityKeyOf(nationalId: string): string {
    const normalized = normalizeNationalId(nationalId);
    if (normalized === undefined) throw new InvalidNationalId();
    return identityKey(this.keys.identityPepper, normalized);
  }

  /**
   * A keyed hash of a contact detail (a phone number, digits only, or a device id), so velocity
   * rules can count accounts sharing one without keeping it in the clear.
   */
  contactKeyOf(kind: "phone" | "device", value: string): string {
    const normalized = kind === "phone" ? value.replace(/[^0-9]/g, "") : value.trim();
    return identityKey(this.keys.identityPepper, `${kind}:${normalized}`);
  }

  /** The person's account id: theirs if the vault holds them, else a new one (not stored yet). */
  async resolve(person: PersonalData): Promise<ResolvedIdentity> {
    const key = this.identityKeyOf(person.nationalId);
    const existing = await this.store.findIdentity(key);
    if (existing) return { identityKey: key, accountId: existing.accountId };
    const accountId = randomHex(this.random, 32);
    return { identityKey: key, accountId, newRecord: this.sealRecord(key, accountId, person) };
  }

  /** Resolves and stores at once (for seeding and administration; applications store through the outbox acceptance). */
  async enroll(person: PersonalData): Promise<{ accountId: string; created: boolean }> {
    const resolved = await this.resolve(person);
    if (!resolved.newRecord) return { accountId: resolved.accountId, created: false };
    const held = await this.store.insertIdentity(resolved.newRecord);
    return { accountId: held.accountId, created: held.accountId === resolved.accountId };
  }

  /** The person's PII, or undefined once forgotten. */
  async reveal(accountId: string): Promise<PersonalData | undefined> {
    const row = await this.store.findIdentityByAccount(accountId);
    if (!row) return undefined;
    return JSON.parse(this.keys.keyring.open(row.sealedPii, accountId)) as PersonalData;
  }

  /** Deletes the person's vault row: the account stays on-chain, unlinkable to them. */
  forget(accountId: string): Promise<boolean> {
    return this.store.deleteIdentity(accountId);
  }

  private sealRecord(key: string, accountId: string, person: PersonalData): VaultRecord {
    const normalized = normalizeNationalId(person.nationalId)!;
    const pii: PersonalData = { nationalId: normalized, name: person.name, phone: person.phone };
    const iv = this.random(12);
    return {
      identityKey: key,
      accountId,
      sealedPii: this.keys.keyring.seal(JSON.stringify(pii), accountId, iv),
      createdAt: new Date(this.clock.nowMs()).toISOString(),
    };
  }
}
