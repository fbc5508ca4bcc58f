/**
 * The servicing routes: webhooks (register, list, delete, deliveries, replay) and the admin
 * clock and servicing run. Mounted and documented like every other route (route-table.ts).
 */
import { z } from "zod";

import { DomainError, idempotencyKeyReused } from "../errors";
import * as V from "../schemas/servicing";
import type { Delivery, DeliveryAttempt } from "../servicing/servicing-store";
import { WebhookSecrets } from "../servicing/webhooks";
import { immediateAnswer } from "./mutations";
import { POST_PROBLEMS } from "./problems";
import { ADMIN, defineRoute, PARTNER, READ_PROBLEMS, type HandlerContext, type HandlerResult, type RouteDef, type RouteDeps } from "./route-table";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function deliveryBody(d: Delivery & { attemptLog: DeliveryAttempt[] }) {
  return {
    id: d.id,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === "pending" ? iso(d.nextAttemptMs) : null,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: d.createdAt,
    event: JSON.parse(d.body) as Record<string, unknown>,
    attemptLog: d.attemptLog.map((a) => ({
      attempt: a.attempt,
      trigger: a.trigger,
      at: iso(a.atMs)!,
      statusCode: a.statusCode,
      error: a.error,
      durationMs: a.durationMs,
    })),
  };
}

export function servicingRoutes(deps: RouteDeps): RouteDef[] {
  const ownedOr404 = async (ctx: HandlerContext<{ webhookId: string }>) => {
    const sub = await deps.webhooks.owned(ctx.auth.owner, ctx.params.webhookId);
    if (!sub) throw new DomainError("webhook-not-found", `no webhook ${ctx.params.webhookId} registered by this partner`, { field: "webhookId" });
    return sub;
  };

  return [
    // ------------------------------------------------------------ webhooks
    defineRoute({
      method: "post",
      path: "/v1/webhooks",
      operationId: "registerWebhook",
      tag: "Webhooks",
      summary: "Register an endpoint for event types; the answer carries its signing secret (shown once)",
      description:
        "Deliveries are POSTed as JSON, signed `Webhook-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>`, " +
        "retried with exponential backoff for up to a day. See docs/WEBHOOKS.md.",
      scopes: PARTNER,
      body: V.WebhookRequest,
      responses: { 201: { description: "Registered", schema: V.WebhookResponse } },
      problems: [...POST_PROBLEMS, "webhook-quota-exceeded"],
      handle: async (ctx) => {
        const { owner, key, fingerprint } = ctx.idempotency;
        const withSecret = (body: { id: string }) => ({ ...body, secret: deps.webhooks.secrets.secretOf(body.id) });
        const replay = (existing: { fingerprint: string; response?: { status: number; body: unknown } }): HandlerResult => {
          if (existing.fingerprint !== fingerprint || !existing.response) throw idempotencyKeyReused();
          return { status: existing.response.status, body: withSecret(existing.response.body as { id: string }), headers: { "Idempotent-Replayed": "true" } };
        };
        const seen = await deps.store.findIdempotency(owner, key);
        if (seen) return replay(seen);
        deps.webhooks.checkUrl(ctx.body.url);
        const sub = deps.webhooks.newSubscription(ctx.auth.key.id, owner, ctx.body.url, ctx.body.events);
        const body = z.encode(V.WebhookResponse, deps.webhooks.view(sub)) as { id: string };
        const secret = deps.webhooks.secrets.secretOf(sub.id);
        const quota = deps.webhooks.quotaOf(ctx.auth.partner);
        const outcome = await deps.webhooks.store.insertSubscription(sub, WebhookSecrets.hashOf(secret), { owner, key, fingerprint }, { status: 201, body }, quota);
        if ("quotaReached" in outcome) {
          const whose = ctx.auth.partner ? "the partner's webhook quota (ask the operator to raise it)" : "the most an operator key may have (GATEWAY_WEBHOOK_MAX_SUBSCRIPTIONS)";
          throw new DomainError("webhook-quota-exceeded", `${quota} webhook endpoints are registered, ${whose}: delete one first`, { field: "url" });
        }
        if (!outcome.accepted) return replay(outcome.existing);
        deps.webhooks.logRegistered(sub);
        return { status: 201, body: withSecret(body) };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/webhooks",
      operationId: "listWebhooks",
      tag: "Webhooks",
      summary: "The endpoints registered with this API key",
      scopes: PARTNER,
      responses: { 200: { description: "The webhooks", schema: V.WebhookListResponse } },
      problems: READ_PROBLEMS,
      handle: async (ctx) => ({
        status: 200,
        body: z.encode(V.WebhookListResponse, { webhooks: (await deps.webhooks.list(ctx.auth.owner)).map((s) => deps.webhooks.view(s)) }),
      }),
    }),
    defineRoute({
      method: "delete",
      path: "/v1/webhooks/{webhookId}",
      operationId: "deleteWebhook",
      tag: "Webhooks",
      summary: "Delete an endpoint: nothing more is delivered to it (pending deliveries are cancelled)",
      scopes: PARTNER,
      params: V.WebhookParams,
      responses: { 204: { description: "Deleted" } },
      problems: [...READ_PROBLEMS, "webhook-not-found"],
      handle: async (ctx) => {
        if (!(await deps.webhooks.remove(ctx.auth.owner, ctx.params.webhookId))) {
          throw new DomainError("webhook-not-found", `no webhook ${ctx.params.webhookId} registered with this API key`, { field: "webhookId" });
        }
        return { status: 204 };
      },
    }),
    defineRoute({
      method: "get",
      path: "/v1/webhooks/{webhookId}/deliveries",
      operationId: "listWebhookDeliveries",
      tag: "Webhooks",
      summary: "An endpoint's deliveries, newest first, with every attempt (time, HTTP status, error, trigger)",
      scopes: PARTNER,
      params: V.WebhookParams,
      query: V.DeliveriesQuery,
      responses: { 200: { description: "The deliveries", schema: V.DeliveriesResponse } },
      problems: [...READ_PROBLEMS, "webhook-not-found"],
      handle: async (ctx) => {
        const sub = await ownedOr404(ctx);
        const deliveries = await deps.webhooks.deliveries(sub.id, ctx.query.limit ?? 100);
        return { status: 200, body: z.encode(V.DeliveriesResponse, { deliveries: deliveries.map(deliveryBody) }) };
      },
    }),
    defineRoute({
      method: "post",
      path: "/v1/webhooks/{webhookId}/replays",
      operationId: "replayWebhookDelivery",
      tag: "Webhooks",
      summary: "Send a delivery again: the same event (same id and body), signed anew; answers once it was attempted",
      scopes: PARTNER,
      params: V.WebhookParams,
      body: V.ReplayRequest,
      responses: { 200: { description: "The delivery after the replay attempt", schema: V.DeliveryView } },
      problems: [...POST_PROBLEMS, "webhook-not-found", "delivery-not-found"],
      handle: async (ctx) => {
        const sub = await ownedOr404(ctx);
        return immediateAnswer(deps, ctx, V.DeliveryView, 200, async () => {
          const d = await deps.webhooks.replay(sub.id, ctx.body.deliveryId);
          if (!d) throw new DomainError("delivery-not-found", `no delivery ${ctx.body.deliveryId} to webhook ${sub.id}`, { field: "deliveryId" });
          return deliveryBody(d);
        });
      },
    }),

    // ------------------------------------------------------------ admin: clock and servicing
    ...(deps.development ? [clockAdvanceRoute(deps)] : []),
    defineRoute({
      method: "post",
      path: "/v1/admin/servicing/run",
      operationId: "runServicing",
      tag: "Admin",
      summary: "Run the servicing day now (it also runs by itself at each new business day)",
      scopes: ADMIN,
      body: V.ServicingRunRequest,
      responses: { 200: { description: "What the run did", schema: V.RunSummaryResponse } },
      problems: [...POST_PROBLEMS, "ledger-unavailable"],
      handle: (ctx) => immediateAnswer(deps, ctx, V.RunSummaryResponse, 200, () => deps.servicing.run(ctx.body.tasks)),
    }),
  ];
}

/** Moving the chain's time: development mode only (a production gateway has no such route). */
function clockAdvanceRoute(deps: RouteDeps): RouteDef {
  return defineRoute({
    method: "post",
    path: "/v1/admin/clock/advance",
    operationId: "advanceClock",
    tag: "Admin",
    summary: "Development mode only: move the chain's time N days forward and run the servicing for the skipped days",
    description:
      "evm_increaseTime + evm_mine on the chain (a Hardhat or anvil node); the business clock follows. Mounted in development mode only (GATEWAY_MODE=development); refused (409) where the chain's time cannot be moved.",
    scopes: ADMIN,
    body: V.ClockAdvanceRequest,
    responses: { 200: { description: "The new time and the servicing run", schema: V.ClockAdvanceResponse } },
    problems: [...POST_PROBLEMS, "clock-advance-refused", "ledger-unavailable"],
    handle: (ctx) =>
      immediateAnswer(deps, ctx, V.ClockAdvanceResponse, 200, () =>
        deps.servicing.advance(ctx.body.days, { request: `${ctx.idempotency.owner}:${ctx.idempotency.key}`, fingerprint: ctx.idempotency.fingerprint })
      ),
  });
}
