/**
 * API keys: issued once (the caller sees the key one time), stored only as their SHA-256
 * hash, each with scopes (`partner`, `auditor`, `admin`). A presented key is hashed and
 * looked up; a revoked or unknown key authenticates nobody.
 */
import { createHash } from "node:crypto";

import type { Clock } from "../clock";
import type { Random } from "../randomness";
import { SCOPES, type ApiKeyRecord, type Scope, type Store } from "../store/store";

export interface IssuedApiKey {
  id: string;
  name: string;
  scopes: Scope[];
  /** The key itself: shown once, never stored. */
  key: string;
}

const KEY_PREFIX = "clk_";

export const hashApiKey = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex");

/** A well-formed key: the prefix and 43 base64url characters (32 random bytes). */
export const isWellFormedApiKey = (key: string): boolean => /^clk_[A-Za-z0-9_-]{43}$/.test(key);

export class ApiKeys {
  constructor(private readonly store: Store, private readonly random: Random, private readonly clock: Clock) {}

  async issue(name: string, scopes: Scope[]): Promise<IssuedApiKey> {
    if (scopes.length === 0 || scopes.some((s) => !SCOPES.includes(s))) throw new Error(`invalid scopes ${scopes.join(",")}`);
    const key = `${KEY_PREFIX}${this.random(32).toString("base64url")}`;
    const id = `key_${this.random(8).toString("hex")}`;
    await this.store.insertApiKey({
      id,
      name,
      keyHash: hashApiKey(key),
      scopes: [...new Set(scopes)],
      createdAt: new Date(this.clock.nowMs()).toISOString(),
    });
    return { id, name, scopes, key };
  }

  /** The key's record, or undefined for a malformed, unknown or revoked key. */
  async authenticate(presented: string): Promise<ApiKeyRecord | undefined> {
    if (!isWellFormedApiKey(presented)) return undefined;
    const record = await this.store.findApiKeyByHash(hashApiKey(presented));
    return record && record.revokedAt === undefined ? record : undefined;
  }
}
