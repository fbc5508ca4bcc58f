/**
 * The admin routes' schemas: partners (their settings and status), their API keys (a key is
 * shown once, in the answer that issued it), and the admin audit log.
 */
import { z } from "zod";

import { PRODUCT_NAMES } from "../../core/names";
import { pageLimit } from "./common";

const PartnerId = z.string().regex(/^ptr_[0-9a-z_]{1,40}$/, "must be a partner id (ptr_ and hex digits)");
const KeyId = z.string().regex(/^key_[0-9a-f]{16}$/, "must be an API key id (key_ and 16 hex digits)");

export const PartnerParams = z.strictObject({ partnerId: PartnerId });
export const PartnerKeyParams = z.strictObject({ partnerId: PartnerId, keyId: KeyId });

const Settings = {
  ratePerMinute: z.int().min(1).max(1_000_000).describe("Requests a minute, counted for all the partner's keys together"),
  burst: z.int().min(0).max(1_000_000).describe("Requests a partner may send above its rate within the same minute"),
  products: z.array(z.enum(PRODUCT_NAMES)).max(PRODUCT_NAMES.length).describe("The products the partner may apply for, quote and draw"),
  webhookQuota: z.int().min(0).max(1_000).describe("The most webhook endpoints it may have registered"),
};

export const PartnerCreateRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(100).describe("The partner's name (shown to operators only)"),
    ratePerMinute: Settings.ratePerMinute.optional(),
    burst: Settings.burst.optional(),
    products: Settings.products.optional(),
    webhookQuota: Settings.webhookQuota.optional(),
  })
  .meta({ id: "PartnerCreateRequest" });

export const PartnerSettingsRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    ratePerMinute: Settings.ratePerMinute.optional(),
    burst: Settings.burst.optional(),
    products: Settings.products.optional(),
    webhookQuota: Settings.webhookQuota.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, "name at least one setting to change")
  .meta({ id: "PartnerSettingsRequest" });

export const KeyIssueRequest = z
  .strictObject({ name: z.string().trim().min(1).max(100).describe("A name for the key, to tell it from the partner's others (\"production\", \"2027 rotation\")") })
  .meta({ id: "KeyIssueRequest" });

export const KeyRotateRequest = z
  .strictObject({
    overlapSeconds: z
      .int()
      .min(0)
      .max(30 * 86_400)
      .describe("How long the old key keeps working beside the new one, at most 30 days (0 stops it at once)"),
  })
  .meta({ id: "KeyRotateRequest" });

export const ReasonRequest = z
  .strictObject({ reason: z.string().trim().min(1).max(200).describe("Why, for the admin audit log") })
  .meta({ id: "AdminReasonRequest" });

export const AuditQuery = z.strictObject({
  limit: pageLimit("At most this many records, newest first (default 100)"),
  before: z
    .string()
    .regex(/^[0-9]{1,15}$/, "must be an audit record id")
    .transform(Number)
    .optional()
    .describe("Records older than this id (the next page)"),
});

export const PartnerView = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(["active", "suspended"]),
    ratePerMinute: z.int(),
    burst: z.int(),
    products: z.array(z.enum(PRODUCT_NAMES)),
    webhookQuota: z.int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "Partner" });

export const KeyView = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(z.string()),
    partnerId: z.string().nullable(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
    expiresAt: z.string().nullable().describe("After this the key no longer authenticates (a rotated key's overlap end)"),
  })
  .meta({ id: "ApiKey" });

export const IssuedKey = KeyView.extend({
  key: z
    .string()
    .nullable()
    .describe("The key itself: in the answer that issued it only (a retry of that request answers null: it is stored hashed)"),
}).meta({ id: "IssuedApiKey" });

export const PartnerCreatedResponse = z.object({ partner: PartnerView, key: IssuedKey }).meta({ id: "PartnerCreated" });
export const PartnerListResponse = z.object({ partners: z.array(PartnerView) }).meta({ id: "PartnerList" });
export const PartnerDetailResponse = z.object({ partner: PartnerView, keys: z.array(KeyView) }).meta({ id: "PartnerDetail" });
export const KeyListResponse = z.object({ keys: z.array(KeyView) }).meta({ id: "ApiKeyList" });
export const KeyRotatedResponse = z.object({ key: IssuedKey, previous: KeyView }).meta({ id: "ApiKeyRotated" });

export const AuditLogResponse = z
  .object({
    records: z.array(
      z.object({
        id: z.int(),
        at: z.string(),
        actor: z.string().describe("An admin key's id, or cli:<user> for the operator's command line"),
        action: z.string(),
        target: z.string().nullable(),
        reason: z.string().nullable(),
        before: z.unknown().nullable(),
        after: z.unknown().nullable(),
      })
    ),
  })
  .meta({ id: "AdminAuditLog" });
