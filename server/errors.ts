/**
 * Errors as values with codes. A service that cannot do what it was asked throws one of
 * these; it says what went wrong in the domain's words (a code, a detail for people, the input
 * at fault and the values involved) and nothing about HTTP. Only server/api/problems.ts turns
 * them into problem documents (status, title, type URI), in one place.
 *
 *   DomainError     an answer of the gateway's own rules (no such loan, a quote that needs a
 *                   rate, the ledger unreachable, a velocity hold)
 *   LedgerRefusal   the ledger would refuse the call (a pre-flight simulation reverted): the
 *                   decoded custom error, mapped to its rule's problem
 *   scorerProblem   the scorer process refused (its code: evidence, budget, decision) or could
 *                   not be reached
 */
import type { LedgerRevert } from "./chain/ledger-errors";
import { ScorerRefusedError, type ScorerUnavailableError } from "./chain/scorer-client";

/** The codes of the gateway's own answers. `ledger/<rule>` is a ledger rule the gateway checks before asking the ledger. */
export type DomainErrorCode =
  | "validation-failed"
  | "account-not-found"
  | "loan-not-found"
  | "loan-pending"
  | "operation-not-found"
  | "identity-not-found"
  | "webhook-not-found"
  | "delivery-not-found"
  | "idempotency-key-reused"
  | "clock-advance-refused"
  | "ledger-unavailable"
  | "velocity-hold"
  | "partner-not-found"
  | "key-not-found"
  | "partner-suspended"
  | "product-not-allowed"
  | "webhook-quota-exceeded"
  | "rate-limited"
  | "evidence-refused"
  | "scorer-refused"
  | "scorer-budget-exceeded"
  | "scorer-unavailable"
  | `ledger/${string}`;

export interface DomainErrorFields {
  /** The input at fault, in the request's words (a dotted body path, a path parameter, a header). */
  field?: string;
  /** Further facts of the answer (the rule's name and values, the freeze operation of a hold...). */
  extensions?: Record<string, unknown>;
}

export class DomainError extends Error {
  constructor(readonly code: DomainErrorCode, readonly detail: string, readonly fields: DomainErrorFields = {}) {
    super(detail);
    this.name = "DomainError";
  }
}

/** The ledger would refuse the call: the custom error it reverted with, and the request's names for the fields it blames. */
export class LedgerRefusal extends Error {
  constructor(readonly revert: LedgerRevert, readonly fieldAliases?: Record<string, string>) {
    super(`the ledger refused the call with ${revert.name}`);
    this.name = "LedgerRefusal";
  }
}

/** A chain read that failed for another reason than a revert: the ledger cannot be reached. */
export function ledgerUnavailable(error: unknown): DomainError | LedgerRefusal {
  if (error instanceof DomainError || error instanceof LedgerRefusal) return error;
  // The cause stays out of the answer: an RPC error can quote the node's URL, which may hold a key.
  return new DomainError("ledger-unavailable", "the ledger could not be reached; retry the request with the same Idempotency-Key", {
    extensions: {},
  });
}

/** The same Idempotency-Key with another request. */
export const idempotencyKeyReused = (): DomainError =>
  new DomainError("idempotency-key-reused", "this Idempotency-Key was used with a different request; use a new key for a new request", {
    field: "Idempotency-Key",
  });

/** The scorer's codes that refuse the KYC evidence of a request (docs/SCORER.md, "Tiers"). */
const EVIDENCE_CODES = new Set([
  "NoVerifierForPartner",
  "AttestationPartnerMismatch",
  "AttestationSignatureInvalid",
  "AttestationNotByVerifier",
  "SubjectRequired",
  "AttestationSubjectMismatch",
  "AttestationNotYetValid",
  "AttestationExpired",
  "AttestationLevelUnknown",
]);

/** The problem type of a scorer refusal with `code`. */
export function scorerRefusalCode(code: string): "evidence-refused" | "scorer-budget-exceeded" | "scorer-refused" {
  if (EVIDENCE_CODES.has(code)) return "evidence-refused";
  if (code === "RateBudgetExceeded") return "scorer-budget-exceeded";
  return "scorer-refused";
}

const NEXT_STEP: Record<ReturnType<typeof scorerRefusalCode>, string> = {
  "evidence-refused": "send an attestation by this partner's KYC verifier about this applicant (docs/SCORER.md), or none (tier 0)",
  "scorer-budget-exceeded": "the scorer's budget of new credit is spent for now: retry later with the same Idempotency-Key",
  "scorer-refused": "nothing was sent to the ledger; apply or review again for a fresh decision",
};

/** A scorer refusal as the gateway's answer: its code and values, and what to do next. */
export function scorerRefusal(code: string, detail: string, details: Record<string, unknown>): DomainError {
  const kind = scorerRefusalCode(code);
  return new DomainError(kind, `the scorer refused with ${code}: ${detail}; ${NEXT_STEP[kind]}`, {
    ...(kind === "evidence-refused" ? { field: "evidence" } : {}),
    extensions: { scorerCode: code, values: details },
  });
}

/** A scorer error at request time: its refusal, or (unreachable, failing) the scorer unavailable. */
export function scorerProblem(error: ScorerRefusedError | ScorerUnavailableError): DomainError {
  if (error instanceof ScorerRefusedError && error.status !== 401) return scorerRefusal(error.code, error.detail, error.details);
  // The cause stays in the log; the answer says only what to do.
  return new DomainError("scorer-unavailable", "the scorer could not be reached; retry the request with the same Idempotency-Key", {
    extensions: {},
  });
}
