/**
 * Partners (merchants, apps) as the operator manages them, through the admin API or the
 * command line (scripts/admin.ts): create, list, suspend and reactivate a partner, change its
 * settings (rate limit and burst, products, webhook quota); issue, list, rotate (the old key
 * keeps working for an overlap window) and revoke its API keys. A key is shown once, when it
 * is issued. Every change is written together with its admin audit record (who, what, before,
 * after), in one transaction.
 */
import type { Clock } from "../clock";
import { DomainError } from "../errors";
import type { Random } from "../randomness";
import type { ApiKeyRecord, NewAdminAudit, PartnerRecord, PartnerSettings, Store } from "../store/store";
import { keyView, type ApiKeys, type IssuedApiKey } from "./api-keys";

/** What a new partner gets unless the operator says otherwise. */
export const DEFAULT_PARTNER_SETTINGS: PartnerSettings = {
  ratePerMinute: 600,
  burst: 100,
  products: ["pay_later", "cash_loan"],
  webhookQuota: 20,
};

/** Who made a change: an admin key's id, or `cli:<user>`. */
export type Actor = string;

export class Partners {
  constructor(
    private readonly store: Store,
    private readonly apiKeys: ApiKeys,
    private readonly random: Random,
    private readonly clock: Clock
  ) {}

  private now(): string {
    return new Date(this.clock.nowMs()).toISOString();
  }

  /** Creates a partner and its first API key (shown once). */
  async create(input: { name: string } & Partial<PartnerSettings>, actor: Actor): Promise<{ partner: PartnerRecord; key: IssuedApiKey }> {
    const now = this.now();
    const partner: PartnerRecord = {
      id: `ptr_${this.random(8).toString("hex")}`,
      name: input.name,
      status: "active",
      ratePerMinute: input.ratePerMinute ?? DEFAULT_PARTNER_SETTINGS.ratePerMinute,
      burst: input.burst ?? DEFAULT_PARTNER_SETTINGS.burst,
      products: input.products ?? [...DEFAULT_PARTNER_SETTINGS.products],
      webhookQuota: input.webhookQuota ?? DEFAULT_PARTNER_SETTINGS.webhookQuota,
      createdAt: now,
      updatedAt: now,
    };
    // The partner and its first key in one transaction: a partner never exists without a key.
    const { record, key } = this.apiKeys.newKey(`${input.name} key`, ["partner"], partner.id);
    await this.store.insertPartner(
      partner,
      { actor, action: "partner.create", target: partner.id, after: partner },
      { record, audit: { actor, action: "key.issue", target: partner.id, after: keyView(record) } }
    );
    return { partner, key: { id: record.id, name: record.name, scopes: record.scopes, partnerId: partner.id, key } };
  }

  list(): Promise<PartnerRecord[]> {
    return this.store.partners();
  }

  async get(id: string): Promise<PartnerRecord> {
    const partner = await this.store.partner(id);
    if (!partner) throw new DomainError("partner-not-found", `no partner ${id}`, { field: "partnerId" });
    return partner;
  }

  /** A suspended partner's keys are refused on every route (403) until it is reactivated. */
  suspend(id: string, reason: string, actor: Actor): Promise<PartnerRecord> {
    return this.change(id, actor, "partner.suspend", (p) => ({ ...p, status: "suspended" }), reason);
  }

  reactivate(id: string, reason: string, actor: Actor): Promise<PartnerRecord> {
    return this.change(id, actor, "partner.reactivate", (p) => ({ ...p, status: "active" }), reason);
  }

  updateSettings(id: string, settings: Partial<PartnerSettings> & { name?: string }, actor: Actor): Promise<PartnerRecord> {
    return this.change(id, actor, "partner.settings", (p) => ({ ...p, ...definedOnly(settings) }));
  }

  private async change(id: string, actor: Actor, action: string, apply: (p: PartnerRecord) => PartnerRecord, reason?: string): Promise<PartnerRecord> {
    const before = await this.get(id);
    const after = { ...apply(before), updatedAt: this.now() };
    await this.store.updatePartner(after, { actor, action, target: id, ...(reason !== undefined ? { reason } : {}), before, after });
    return after;
  }

  // ---------------------------------------------------------------- keys

  async issueKey(partnerId: string, name: string, actor: Actor): Promise<IssuedApiKey> {
    await this.get(partnerId);
    return this.apiKeys.issue(name, ["partner"], { partnerId, audit: { actor, action: "key.issue", target: partnerId } });
  }

  async keys(partnerId: string): Promise<ApiKeyRecord[]> {
    await this.get(partnerId);
    return this.store.apiKeysOf(partnerId);
  }

  /**
   * A new key for the partner; the old one keeps working for `overlapSeconds` (0: it stops at
   * once), so the partner can switch without a gap.
   */
  async rotateKey(partnerId: string, keyId: string, overlapSeconds: number, actor: Actor): Promise<{ key: IssuedApiKey; previous: ApiKeyRecord }> {
    const old = await this.liveKey(partnerId, keyId);
    const expiresAt = new Date(this.clock.nowMs() + overlapSeconds * 1000).toISOString();
    const { record, key } = this.apiKeys.newKey(old.name, old.scopes, partnerId);
    const previous = { ...old, expiresAt: old.expiresAt !== undefined && old.expiresAt < expiresAt ? old.expiresAt : expiresAt };
    const audit: NewAdminAudit = { actor, action: "key.rotate", target: `${partnerId}/${keyId}`, before: keyView(old), after: { previous: keyView(previous), replacement: keyView(record) } };
    await this.store.rotateApiKey(old.id, expiresAt, record, audit);
    return { key: { id: record.id, name: record.name, scopes: record.scopes, partnerId, key }, previous };
  }

  /** The key stops authenticating at once. */
  async revokeKey(partnerId: string, keyId: string, reason: string, actor: Actor): Promise<ApiKeyRecord> {
    const old = await this.liveKey(partnerId, keyId);
    const revoked = { ...old, revokedAt: this.now() };
    const audit: NewAdminAudit = { actor, action: "key.revoke", target: `${partnerId}/${keyId}`, reason, before: keyView(old), after: keyView(revoked) };
    await this.store.updateApiKey(keyId, { revokedAt: revoked.revokedAt }, audit);
    return revoked;
  }

  private async liveKey(partnerId: string, keyId: string): Promise<ApiKeyRecord> {
    await this.get(partnerId);
    const key = await this.store.apiKey(keyId);
    if (!key || key.partnerId !== partnerId || key.revokedAt !== undefined) {
      throw new DomainError("key-not-found", `partner ${partnerId} has no live key ${keyId}`, { field: "keyId" });
    }
    return key;
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
