/**
 * The shape of the route table: each route's method, path, scopes, schemas (params, query,
 * body, responses), the problems it documents, and its handler. The Express app mounts the
 * table (app.ts) and the OpenAPI document is generated from it (openapi.ts), so what is
 * documented is what runs. The routes themselves are in lending-routes.ts, account-routes.ts,
 * servicing-routes.ts and routes.ts, which puts them together.
 */
import type { Request } from "express";
import type { z } from "zod";

import type { Partners } from "../auth/partners";
import type { Accounts } from "../lending/accounts";
import type { Applications } from "../lending/applications";
import type { Drawdowns } from "../lending/drawdowns";
import type { LineChanges } from "../lending/line-changes";
import type { LoanChanges } from "../lending/loan-changes";
import type { IdempotencyScope, Operations } from "../lending/operations";
import type { Reach, Viewer } from "../lending/reach";
import type { ScorecardModel } from "../scoring/scorecard";
import type { BusinessClock } from "../servicing/business-clock";
import type { CreditReports } from "../servicing/credit-reports";
import type { LimitReviews } from "../servicing/limit-reviews";
import type { Servicing } from "../servicing/scheduler";
import type { VelocityGuard } from "../servicing/velocity-guard";
import type { WebhookSubscriptions } from "../servicing/webhooks";
import type { Principal } from "../auth/api-keys";
import type { Scope, Store } from "../store/store";
import type { ExplorerConfigSource } from "./explorer";
import { POST_PROBLEMS, type ProblemSlug } from "./problems";

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface HandlerContext<P = unknown, Q = unknown, B = unknown> {
  params: P;
  query: Q;
  body: B;
  /** Who asks: the key, the partner it acts for, the owner of what it creates. */
  auth: Principal;
  req: Request;
  /** Set on POST routes: the request's idempotency scope and whether to wait for confirmation. */
  idempotency: IdempotencyScope;
  wait: boolean;
}

export interface HandlerResult {
  status: number;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: "get" | "post" | "delete";
  /** OpenAPI-style path: `/v1/loans/{loanId}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  scopes: readonly Scope[];
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  problems: ProblemSlug[];
  /** The handler writes its own admin audit records (with before and after); else an admin route's change is logged by the app. */
  auditsItself?: boolean;
  handle(ctx: HandlerContext<P, Q, B>): Promise<HandlerResult>;
}

/** What the routes' handlers use: the services, the servicing and the pipeline's edges. */
export interface RouteDeps {
  store: Store;
  operations: Operations;
  waitTimeoutMs: number;
  model: ScorecardModel;
  applications: Applications;
  drawdowns: Drawdowns;
  loanChanges: LoanChanges;
  lineChanges: LineChanges;
  accounts: Accounts;
  reach: Reach;
  partners: Partners;
  velocity: VelocityGuard;
  servicing: Servicing;
  limitReviews: LimitReviews;
  creditReports: CreditReports;
  webhooks: WebhookSubscriptions;
  businessClock: BusinessClock;
  explorer: ExplorerConfigSource;
  /** Development mode (GATEWAY_MODE): mounts the clock-advance route. */
  development: boolean;
}

/** A route whose handler's params, query and body are typed from its schemas. */
export function defineRoute<
  PS extends z.ZodType | undefined = undefined,
  QS extends z.ZodType | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
>(def: Omit<RouteDef<Out<PS>, Out<QS>, Out<BS>>, "params" | "query" | "body"> & { params?: PS; query?: QS; body?: BS }): RouteDef {
  return def as unknown as RouteDef;
}

export const PARTNER: readonly Scope[] = ["partner", "admin"];
export const READERS: readonly Scope[] = ["partner", "auditor", "admin"];
export const ADMIN: readonly Scope[] = ["admin"];
export const AUDITORS: readonly Scope[] = ["auditor", "admin"];

/** The problems any GET can answer before it does anything of its own. */
export const READ_PROBLEMS: ProblemSlug[] = [
  "unauthorized",
  "forbidden",
  "validation-failed",
  // A read takes no body, but one sent is still parsed: it can be malformed, too large or of another type.
  "malformed-json",
  "body-too-large",
  "unsupported-media-type",
];

/** A POST the scorer process decides (applications, limit reviews): its refusals, its budget, its absence (docs/SCORER.md). */
export const SCORER_PROBLEMS: ProblemSlug[] = ["evidence-refused", "scorer-refused", "scorer-budget-exceeded", "scorer-unavailable"];

/** A POST that reaches the ledger can also find it unavailable. */
export const LEDGER_POST_PROBLEMS: ProblemSlug[] = [...POST_PROBLEMS, "ledger-unavailable", "gateway-misconfigured"];

/** Documented answers of a ledger-writing POST. */
export const written = (status: number, schema: z.ZodType, what: string) => ({
  [status]: { description: `${what}: confirmed on-chain (when waiting)`, schema },
  202: { description: "Accepted into the outbox, not yet confirmed: poll the operation", schema },
});

/** Express's form of an OpenAPI path: `{loanId}` -> `:loanId`. */
export const expressPath = (path: string): string => path.replace(/\{([A-Za-z]+)\}/g, ":$1");

/** What the request may reach: its partner's accounts, loans and products (the operator's keys: everything). */
export const viewerOf = (ctx: HandlerContext): Viewer =>
  ctx.auth.partner ? { partnerId: ctx.auth.partner.id, products: ctx.auth.partner.products } : {};

/** The request path, the `instance` of problem documents. */
export const instanceOf = (ctx: HandlerContext): string => ctx.req.originalUrl.split("?")[0];
