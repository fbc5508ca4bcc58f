/**
 * The HTTP answers for errors: RFC 9457 problem documents (`application/problem+json`). Every
 * problem has a stable `type` (`/problems/<slug>`), its HTTP status and title from the catalog
 * below, a `detail` for people and, where one input is at fault, the offending `field`. The
 * services throw domain errors (server/errors.ts); error-answers.ts turns every error into one
 * of these, in one place.
 */
import type { Response } from "express";
import { z } from "zod";

import { jsonValue } from "../../core/json";

/** The problem types this API answers with: slug -> status and title. */
export const PROBLEM_TYPES = {
  "validation-failed": { status: 400, title: "The request is not valid" },
  "malformed-request": { status: 400, title: "The request is not valid HTTP" },
  "malformed-json": { status: 400, title: "The body is not valid JSON" },
  "idempotency-key-required": { status: 400, title: "An Idempotency-Key header is required" },
  unauthorized: { status: 401, title: "A valid API key is required" },
  forbidden: { status: 403, title: "The API key does not have the scope this needs" },
  "not-found": { status: 404, title: "No such resource" },
  "account-not-found": { status: 404, title: "No such account" },
  "loan-not-found": { status: 404, title: "No such loan" },
  "operation-not-found": { status: 404, title: "No such operation" },
  "identity-not-found": { status: 404, title: "No such person in the vault" },
  "idempotency-key-reused": { status: 409, title: "The Idempotency-Key was used with another request" },
  "loan-pending": { status: 409, title: "The loan's operation is not confirmed yet" },
  "body-too-large": { status: 413, title: "The body is too large" },
  "headers-too-large": { status: 431, title: "The request's headers are too large" },
  "unsupported-media-type": { status: 415, title: "The body must be application/json" },
  "ledger-rule": { status: 422, title: "The ledger refused the request" },
  "velocity-hold": { status: 422, title: "A velocity rule tripped: the line is frozen and nothing was drawn" },
  "clock-advance-refused": { status: 409, title: "The clock can only be advanced in development mode, on a chain whose time can be moved" },
  "webhook-not-found": { status: 404, title: "No such webhook subscription" },
  "delivery-not-found": { status: 404, title: "No such webhook delivery" },
  "partner-not-found": { status: 404, title: "No such partner" },
  "key-not-found": { status: 404, title: "No such live API key of this partner" },
  "partner-suspended": { status: 403, title: "The partner is suspended: its keys are refused until an admin reactivates it" },
  "product-not-allowed": { status: 403, title: "The partner may not offer this product" },
  "webhook-quota-exceeded": { status: 409, title: "The partner has as many webhook endpoints as its quota allows" },
  "rate-limited": { status: 429, title: "Too many requests: the partner's rate limit is reached" },
  "evidence-refused": { status: 422, title: "The scorer refused the KYC evidence" },
  "scorer-refused": { status: 422, title: "The scorer refused to decide or to sign the decision" },
  "scorer-budget-exceeded": { status: 429, title: "The scorer's budget of new credit is spent for now" },
  "scorer-unavailable": { status: 503, title: "The scorer cannot be reached" },
  "ledger-unavailable": { status: 503, title: "The ledger cannot be reached" },
  "ledger-paused": { status: 503, title: "The ledger is paused: no new credit until it resumes" },
  "explorer-not-built": { status: 503, title: "The explorer page's script was not built" },
  "gateway-misconfigured": { status: 500, title: "The gateway's keys or roles are misconfigured" },
  internal: { status: 500, title: "Internal error" },
} as const;

export type ProblemSlug = keyof typeof PROBLEM_TYPES | `ledger/${string}`;

/** The problems any mutating (POST) route can answer, before it does anything of its own. */
export const POST_PROBLEMS: readonly ProblemSlug[] = [
  "validation-failed",
  "malformed-json",
  "idempotency-key-required",
  "idempotency-key-reused",
  "unauthorized",
  "forbidden",
  "body-too-large",
  "unsupported-media-type",
];

export const problemTypeUri = (slug: string): string => `/problems/${slug}`;

export interface ProblemFields {
  /** The input at fault, as a dotted path into the body (`identity.nationalId`) or a header name. */
  field?: string;
  /** Further members of the problem document (values are made JSON-safe). */
  extensions?: Record<string, unknown>;
  /** Overrides the catalog's status (ledger rules carry their own). */
  status?: number;
  title?: string;
}

/** An error that is an answer: it becomes a problem document. */
export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  constructor(readonly slug: ProblemSlug, readonly detail: string, readonly fields: ProblemFields = {}) {
    super(detail);
    this.name = "ApiError";
    const known = (PROBLEM_TYPES as Record<string, { status: number; title: string }>)[slug];
    this.status = fields.status ?? known?.status ?? 500;
    this.title = fields.title ?? known?.title ?? "Error";
  }

  toProblem(instance?: string): ProblemDocument {
    return {
      type: problemTypeUri(this.slug),
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...(instance !== undefined ? { instance } : {}),
      ...(this.fields.field !== undefined ? { field: this.fields.field } : {}),
      ...((jsonValue(this.fields.extensions ?? {}) as Record<string, unknown>) ?? {}),
    };
  }
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  field?: string;
  [extension: string]: unknown;
}

/** A zod failure as a 400 naming every offending field (the first one as `field`). */
export function validationProblem(error: z.ZodError, prefix?: string): ApiError {
  const errors = error.issues.flatMap((issue) => {
    const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)];
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ field: [...path, key].join("."), message: `unknown field "${key}"` }));
    }
    return [{ field: path.join(".") || "(body)", message: issue.message }];
  });
  const first = errors[0];
  return new ApiError("validation-failed", errors.map((e) => `${e.field}: ${e.message}`).join("; "), {
    field: first?.field,
    extensions: { errors },
  });
}

export function sendProblem(res: Response, problem: ProblemDocument): void {
  res.status(problem.status).type("application/problem+json").send(JSON.stringify(problem));
}
