/**
 * Every error becomes an answer here, in one place: an `ApiError` as it is, a `DomainError` of
 * the services as the problem type its code names (a `ledger/<rule>` code as that rule's
 * problem), a `LedgerRefusal` as its rule's problem (ledger-problems.ts), the framework's client
 * errors (bad JSON, a body too large) as 4xx problems, and anything else as a 500 whose detail
 * says nothing internal. The Express error middleware sends the result.
 */
import type { NextFunction, Request, Response } from "express";

import type { StepFailure } from "../chain/outbox-sender";
import { DomainError, LedgerRefusal, scorerRefusal } from "../errors";
import type { Logger } from "../logger";
import { ledgerProblem, ledgerRuleOfSlug, problemStatus, type LedgerProblemOptions } from "./ledger-problems";
import { ApiError, PROBLEM_TYPES, sendProblem } from "./problems";

/** A service's answer as a problem: the catalog's status for its code, or its ledger rule's. */
export function domainProblem(error: DomainError): ApiError {
  const known = (PROBLEM_TYPES as Record<string, { status: number; title: string } | undefined>)[error.code];
  const rule = known ? undefined : ledgerRuleOfSlug(error.code);
  return new ApiError(error.code, error.detail, {
    field: error.fields.field,
    extensions: error.fields.extensions,
    ...(known ? {} : { status: problemStatus(error.code), title: rule?.title ?? "The ledger refused the request" }),
  });
}

/** A failed outbox step as its problem: the ledger's rule, or the scorer's refusal to sign its decision. */
export function stepFailureProblem(failure: StepFailure, options: LedgerProblemOptions = {}): ApiError {
  if (failure.kind === "scorer-refusal") {
    const refusal = scorerRefusal(failure.code, failure.detail, failure.details);
    return domainProblem(new DomainError(refusal.code, refusal.detail, { ...refusal.fields, extensions: { ...refusal.fields.extensions, ...options.extensions } }));
  }
  return ledgerProblem(failure.revert, options);
}

/** The error middleware: every error leaves as a problem document. */
export function problemMiddleware(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const apiError = asApiError(error);
    if (apiError.status >= 500) logger.error({ err: error, path: req.path }, "request failed");
    if (res.headersSent) return;
    sendProblem(res, apiError.toProblem(req.originalUrl.split("?")[0]));
  };
}

/** Any error as the problem it answers: the gateway's own, the ledger's, the framework's; anything else is internal. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof DomainError) return domainProblem(error);
  if (error instanceof LedgerRefusal) return ledgerProblem(error.revert, { fieldAliases: error.fieldAliases });
  const e = error as { type?: string; status?: number; message?: string } | null;
  if (e?.type === "entity.parse.failed")
    return new ApiError("malformed-json", "the body could not be parsed as JSON", { field: "(body)" });
  if (e?.type === "entity.encoding.invalid") {
    // JSON text is UTF-8 (RFC 8259 section 8.1): a body that is not is not JSON.
    return new ApiError("malformed-json", "the body is not valid UTF-8: send the JSON text encoded as UTF-8", { field: "(body)" });
  }
  if (e?.type === "entity.too.large")
    return new ApiError("body-too-large", "the body exceeds the size limit", { field: "(body)" });
  if (e?.type === "encoding.unsupported" || e?.type === "charset.unsupported") {
    return new ApiError("unsupported-media-type", "the body's encoding or charset is not supported", { field: "Content-Type" });
  }
  // Any other client error the framework raises (a body that does not inflate, a path
  // parameter that is not valid percent-encoding: status 400 without a body-parser type).
  if (typeof e?.status === "number" && e.status >= 400 && e.status < 500) {
    return new ApiError("validation-failed", "the request could not be read (its encoding is broken)", e.status === 400 ? {} : { status: e.status });
  }
  return new ApiError("internal", "the gateway could not complete the request");
}
