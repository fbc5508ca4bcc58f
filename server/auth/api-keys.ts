/**
 * API keys: issued once (the caller sees the key one time), stored only as their SHA-256
 * hash, each with scopes (`partner`, `auditor`, `admin`); a partner-scope key acts for one
 * partner. A presented key is hashed and looked up: a revoked, expired or unknown key
 * authenticates nobody; a key of a suspended partner authenticates, and is refused (403).
 */
import { createHash } from "node:crypto";

import type { Clock } from "../clock";
import type { Random } from "../randomness";
import { SCOPES, type ApiKeyRecord, type NewAdminAudit, type PartnerRecord, type Scope, type Store } from "../store/store";

export interface IssuedApiKey {
  id: string;
  name: string;
  scopes: Scope[];
  partnerId?: string;
  /** The key itself: shown once, never stored. */
  key: string;
}

/** Who a request is: its key, the partner the key acts for, and the owner its resources belong to. */
export interface Principal {
  key: ApiKeyRecord;
  partner?: PartnerRecord;
  /**
   * What idempotency keys, operations and webhooks belong to: the partner's id for a partner
   * key (all its keys share them, so a rotated key keeps them), the key's own id otherwise.
   */
  owner: string;
}

const KEY_PREFIX = "clk_";

export const hashApiKey = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex");

/** A well-formed key: the prefix and 43 base64url characters (32 random bytes). */
export const isWellFormedApiKey = (key: string): boolean => /^clk_[A-Za-z0-9_-]{43}$/.test(key);

/** The owner scope of a key (see `Principal.owner`). */
export const ownerOf = (key: Pick<ApiKeyRecord, "id" | "partnerId">): string => key.partnerId ?? key.id;

export class ApiKeys {
  constructor(private readonly store: Store, private readonly random: Random, private readonly clock: Clock) {}

  /** A new key record and the key (not stored yet: `issue` stores it; a rotation stores it with the old key's expiry). */
  newKey(name: string, scopes: Scope[], partnerId?: string): { record: ApiKeyRecord; key: string } {
    if (scopes.length === 0 || scopes.some((s) => !SCOPES.includes(s))) throw new Error(`invalid scopes ${scopes.join(",")}`);
    if (scopes.includes("partner") !== (partnerId !== undefined)) throw new Error("a key has the partner scope exactly when it acts for a partner");
    const key = `${KEY_PREFIX}${this.random(32).toString("base64url")}`;
    const record: ApiKeyRecord = {
      id: `key_${this.random(8).toString("hex")}`,
      name,
      keyHash: hashApiKey(key),
      scopes: [...new Set(scopes)],
      ...(partnerId !== undefined ? { partnerId } : {}),
      createdAt: new Date(this.clock.nowMs()).toISOString(),
    };
    return { record, key };
  }

  /** Issues and stores a key (a partner's with `partnerId`), with its audit record when an admin asked. */
  async issue(name: string, scopes: Scope[], options: { partnerId?: string; audit?: NewAdminAudit } = {}): Promise<IssuedApiKey> {
    const { record, key } = this.newKey(name, scopes, options.partnerId);
    await this.store.insertApiKey(record, options.audit && { ...options.audit, after: keyView(record) });
    return { id: record.id, name, scopes: record.scopes, ...(record.partnerId ? { partnerId: record.partnerId } : {}), key };
  }

  /**
   * The first admin key (`npm run admin -- admin-keys issue`): issued only while no live admin key
   * exists, so the command cannot mint a second one beside the admin API; when one does, nothing
   * is issued and the live one (its record, never the key) comes back.
   */
  async issueFirstAdmin(name: string, actor: string): Promise<{ issued: IssuedApiKey } | { existing: ApiKeyRecord }> {
    const { record, key } = this.newKey(name, ["admin"]);
    const result = await this.store.insertFirstAdminKey(record, { actor, action: "admin_key.issue_first", target: record.id, after: keyView(record) });
    if (!result.inserted) return { existing: result.existing };
    return { issued: { id: record.id, name, scopes: record.scopes, key } };
  }

  /** The request's principal, or undefined for a malformed, unknown, revoked or expired key. */
  async authenticate(presented: string): Promise<Principal | undefined> {
    if (!isWellFormedApiKey(presented)) return undefined;
    const key = await this.store.findApiKeyByHash(hashApiKey(presented));
    if (!key || key.revokedAt !== undefined) return undefined;
    if (key.expiresAt !== undefined && Date.parse(key.expiresAt) <= this.clock.nowMs()) return undefined;
    const partner = key.partnerId === undefined ? undefined : await this.store.partner(key.partnerId);
    if (key.partnerId !== undefined && !partner) return undefined;
    return { key, ...(partner ? { partner } : {}), owner: ownerOf(key) };
  }
}

/** A key as the admin API and the audit log show it: never its hash. */
export function keyView(k: ApiKeyRecord) {
  return {
    id: k.id,
    name: k.name,
    scopes: k.scopes,
    partnerId: k.partnerId ?? null,
    createdAt: k.createdAt,
    revokedAt: k.revokedAt ?? null,
    expiresAt: k.expiresAt ?? null,
  };
}
