/**
 * The admin routes for partners (server/auth/partners.ts): create, list, read, suspend,
 * reactivate and configure a partner; issue, list, rotate (with an overlap) and revoke its API
 * keys; read the admin audit log. A key is in the answer that issued it, and nowhere else: a
 * retry of that request with its Idempotency-Key answers the same ids with `key: null`. These
 * routes write their own audit records (before and after); the same actions are on the
 * operator's command line (`npm run admin`).
 */
import { z } from "zod";

import { jsonValue } from "../../core/json";
import { keyView, type IssuedApiKey } from "../auth/api-keys";
import type { ApiKeyRecord } from "../store/store";
import * as M from "../schemas/admin";
import { immediateAnswer } from "./mutations";
import { POST_PROBLEMS } from "./problems";
import { ADMIN, defineRoute, READ_PROBLEMS, type RouteDef, type RouteDeps } from "./route-table";

/** An issued key as answered: the key record and the key itself. */
const issued = (k: IssuedApiKey, record: ApiKeyRecord) => ({ ...keyView(record), key: k.key });

/** What a retry gets of an answer that issued keys: everything but the keys. */
function withoutKeys(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(withoutKeys);
  if (body !== null && typeof body === "object") {
    return Object.fromEntries(Object.entries(body as Record<string, unknown>).map(([k, v]) => [k, k === "key" && typeof v === "string" ? null : withoutKeys(v)]));
  }
  return body;
}

export function adminRoutes(deps: RouteDeps): RouteDef[] {
  const { partners } = deps;
  const keyRecord = async (id: string) => (await deps.store.apiKey(id))!;
  return [
    defineRoute({
      method: "post",
      path: "/v1/admin/partners",
      operationId: "createPartner",
      tag: "Admin",
      summary: "Create a partner and its first API key (shown once)",
      scopes: ADMIN,
      auditsItself: true,
      body: M.PartnerCreateRequest,
      responses: { 201: { description: "The partner and its key", schema: M.PartnerCreatedResponse } },
      problems: [...POST_PROBLEMS],
      handle: (ctx) =>
        immediateAnswer(
          deps,
          ctx,
          M.PartnerCreatedResponse,
          201,
          async () => {
            const { partner, key } = await partners.create(ctx.body, ctx.auth.key.id);
            return { partner, key: issued(key, await keyRecord(key.id)) };
          },
          withoutKeys
        ),
    }),
    defineRoute({
      method: "get",
      path: "/v1/admin/partners",
      operationId: "listPartners",
      tag: "Admin",
      summary: "Every partner with its settings and status",
      scopes: ADMIN,
      responses: { 200: { description: "The partners", schema: M.PartnerListResponse } },
      problems: READ_PROBLEMS,
      handle: async () => ({ status: 200, body: z.encode(M.PartnerListResponse, { partners: await partners.list() }) }),
    }),
    defineRoute({
      method: "get",
      path: "/v1/admin/partners/{partnerId}",
      operationId: "getPartner",
      tag: "Admin",
      summary: "A partner and its API keys (never the keys themselves)",
      scopes: ADMIN,
      params: M.PartnerParams,
      responses: { 200: { description: "The partner", schema: M.PartnerDetailResponse } },
      problems: [...READ_PROBLEMS, "partner-not-found"],
      handle: async (ctx) => {
        const partner = await partners.get(ctx.params.partnerId);
        const keys = (await partners.keys(partner.id)).map(keyView);
        return { status: 200, body: z.encode(M.PartnerDetailResponse, { partner, keys }) };
      },
    }),
    defineRoute({
      method: "post",
      path: "/v1/admin/partners/{partnerId}/suspend",
      operationId: "suspendPartner",
      tag: "Admin",
      summary: "Suspend a partner: every request with its keys is refused (403) until it is reactivated",
      scopes: ADMIN,
      auditsItself: true,
      params: M.PartnerParams,
      body: M.ReasonRequest,
      responses: { 200: { description: "The partner, suspended", schema: M.PartnerView } },
      problems: [...POST_PROBLEMS, "partner-not-found"],
      handle: (ctx) => immediateAnswer(deps, ctx, M.PartnerView, 200, () => partners.suspend(ctx.params.partnerId, ctx.body.reason, ctx.auth.key.id)),
    }),
    defineRoute({
      method: "post",
      path: "/v1/admin/partners/{partnerId}/reactivate",
      operationId: "reactivatePartner",
      tag: "Admin",
      summary: "Reactivate a suspended partner",
      scopes: ADMIN,
      auditsItself: true,
      params: M.PartnerParams,
      body: M.ReasonRequest,
      responses: { 200: { description: "The partner, active", schema: M.PartnerView } },
      problems: [...POST_PROBLEMS, "partner-not-found"],
      handle: (ctx) => immediateAnswer(deps, ctx, M.PartnerView, 200, () => partners.reactivate(ctx.params.partnerId, ctx.body.reason, ctx.auth.key.id)),
    }),
    defineRoute({
      method: "post",
      path: "/v1/admin/partners/{partnerId}/settings",
      operationId: "configurePartner",
      tag: "Admin",
      summary: "Change a partner's name, rate limit and burst, products or webhook quota (effective at its next request)",
      scopes: ADMIN,
      auditsItself: true,
      params: M.PartnerParams,
      body: M.PartnerSettingsRequest,
      responses: { 200: { description: "The partner, changed", schema: M.PartnerView } },
      problems: [...POST_PROBLEMS, "partner-not-found"],
      handle: (ctx) => immediateAnswer(deps, ctx, M.PartnerView, 200, () => partners.updateSettings(ctx.params.partnerId, ctx.body, ctx.auth.key.id)),
    }),
    defineRoute({
      method: "post",
      path: "/v1/admin/partners/{partnerId}/keys",
      operationId: "issuePartnerKey",
      tag: "Admin",
      summary: "Issue another API key for a partner (shown once)",
      scopes: ADMIN,
      auditsItself: true,
      params: M.PartnerParams,
      body: M.KeyIssueRequest,
      responses: { 201: { description: "The key", schema: M.IssuedKey } },
      problems: [...POST_PROBLEMS, "partner-not-found"],
      handle: (ctx) =>
        immediateAnswer(
          deps,
          ctx,
          M.IssuedKey,
          201,
          async () => {
            const partner = await partners.get(ctx.params.partnerId);
            const key = await partners.issueKey(partner.id, ctx.body.name, ctx.auth.key.id);
            return issued(key, await keyRecord(key.id));
          },
          withoutKeys
        ),
    }),
    defineRoute({
      method: "get",
      path: "/v1/admin/partners/{partnerId}/keys",
      operationId: "listPartnerKeys",
      tag: "Admin",
      summary: "A partner's API keys, live and revoked (never the keys themselves)",
      scopes: ADMIN,
      params: M.PartnerParams,
      responses: { 200: { description: "The keys", schema: M.KeyListResponse } },
      problems: [...READ_PROBLEMS, "partner-not-found"],
      handle: async (ctx) => ({ status: 200, body: z.encode(M.KeyListResponse, { keys: (await partners.keys(ctx.params.partnerId)).map(keyView) }) }),
    }),
    defineRoute({
      method: "post",
      path: "/v1/admin/partners/{partnerId}/keys/{keyId}/rotate",
      operationId: "rotatePartnerKey",
      tag: "Admin",
      summary: "Rotate a partner's key: a new key (shown once); the old one keeps working for the overlap, then stops",
      scopes: ADMIN,
      auditsItself: true,
      params: M.PartnerKeyParams,
      body: M.KeyRotateRequest,
      responses: { 201: { description: "The new key and the old one's expiry", schema: M.KeyRotatedResponse } },
      problems: [...POST_PROBLEMS, "partner-not-found", "key-not-found"],
      handle: (ctx) =>
        immediateAnswer(
          deps,
          ctx,
          M.KeyRotatedResponse,
          201,
          async () => {
            const { key, previous } = await partners.rotateKey(ctx.params.partnerId, ctx.params.keyId, ctx.body.overlapSeconds, ctx.auth.key.id);
            return { key: issued(key, await keyRecord(key.id)), previous: keyView(previous) };
          },
          withoutKeys
        ),
    }),
    defineRoute({
      method: "post",
      path: "/v1/admin/partners/{partnerId}/keys/{keyId}/revoke",
      operationId: "revokePartnerKey",
      tag: "Admin",
      summary: "Revoke a partner's key: it stops authenticating at once",
      scopes: ADMIN,
      auditsItself: true,
      params: M.PartnerKeyParams,
      body: M.ReasonRequest,
      responses: { 200: { description: "The key, revoked", schema: M.KeyView } },
      problems: [...POST_PROBLEMS, "partner-not-found", "key-not-found"],
      handle: (ctx) =>
        immediateAnswer(deps, ctx, M.KeyView, 200, async () => keyView(await partners.revokeKey(ctx.params.partnerId, ctx.params.keyId, ctx.body.reason, ctx.auth.key.id))),
    }),
    defineRoute({
      method: "get",
      path: "/v1/admin/audit-log",
      operationId: "getAdminAuditLog",
      tag: "Admin",
      summary: "Every admin action, newest first: who, when, what, before and after",
      scopes: ADMIN,
      query: M.AuditQuery,
      responses: { 200: { description: "The records", schema: M.AuditLogResponse } },
      problems: READ_PROBLEMS,
      handle: async (ctx) => {
        const records = await deps.store.auditLog(ctx.query.limit ?? 100, ctx.query.before);
        const body = {
          records: records.map((r) => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target ?? null, reason: r.reason ?? null, before: jsonOrNull(r.before), after: jsonOrNull(r.after) })),
        };
        return { status: 200, body: z.encode(M.AuditLogResponse, body) };
      },
    }),
  ];
}

const jsonOrNull = (v: unknown): unknown => (v === undefined ? null : jsonValue(v));
