/**
 * The life of a POST: replay if its Idempotency-Key was seen (the first response, or the
 * same operation's current state), else prepare (validation and pre-flight: a refusal is a
 * 4xx and nothing is written), accept (idempotency record + outbox, one transaction), then
 * wait for confirmation or answer 202 with the operation. Responses are encoded through the
 * route's schema; a final one (confirmed, failed, or immediate) is stored for replays, and so
 * is a problem the route declares final (a velocity hold). A route can run the section from
 * the idempotency check to the acceptance exclusively (drawdowns: one per account at a time).
 */
import { z } from "zod";

import type { StepFailure } from "../chain/outbox-sender";
import type { OperationRecord, Store, StoredResponse } from "../store/store";
import { isImmediate, summarize, type IdempotencyScope, type Operations, type Prepared } from "../services/operations";
import { ledgerProblem } from "./ledger-problems";
import { ApiError, type ProblemSlug } from "./problems";

export interface MutationDeps {
  store: Store;
  operations: Operations;
  waitTimeoutMs: number;
}

export interface MutationSpec<C> {
  prepare(): Promise<Prepared<C>>;
  /** The response body (domain values) for the context and the operation's current state. */
  present(context: C, op: OperationRecord | undefined): unknown | Promise<unknown>;
  schema: z.ZodType;
  /** Status of a confirmed (or immediate) answer. */
  successStatus: number;
  /** The request's names for fields a ledger rule blames. */
  fieldAliases?: Record<string, string>;
  /**
   * Runs the section from the idempotency check to the acceptance (prepare included) so that no
   * other request of the same scope interleaves: a rule checked in `prepare` (velocity) still
   * holds when the operation is written. Default: no exclusion.
   */
  exclusive?: <T>(section: () => Promise<T>) => Promise<T>;
  /**
   * Problems `prepare` throws that are final answers (something was recorded, e.g. a velocity
   * hold froze the line): stored with the Idempotency-Key, so a retry gets the same answer.
   */
  finalProblems?: readonly ProblemSlug[];
  /** Called once a new request is accepted (not on a replay): the context and the operation id, if any. */
  afterAccept?(context: C, operationId: string | undefined): Promise<void>;
}

export interface MutationRequest {
  idempotency: IdempotencyScope;
  wait: boolean;
  /** The request path, the `instance` of problem documents. */
  instance: string;
}

export interface MutationResult extends StoredResponse {
  replayed: boolean;
}

export async function runMutation<C>(
  deps: MutationDeps,
  request: MutationRequest,
  spec: MutationSpec<C>
): Promise<MutationResult> {
  const { operations } = deps;
  const exclusive = spec.exclusive ?? (<T>(section: () => Promise<T>) => section());
  const outcome = await exclusive(() => prepareAndAccept(deps, request, spec));
  // A replay may wait for its operation: outside the exclusive section.
  if ("seen" in outcome) return replay(deps, request, spec, outcome.seen.fingerprint, outcome.seen.response, outcome.seen.operationId);
  if ("result" in outcome) return outcome.result;
  const id = outcome.operationId;
  const op = request.wait ? await operations.wait(id, deps.waitTimeoutMs) : (await operations.get(id))!;
  return respond(deps, request, spec, op, false);
}

/** The idempotency check, prepare and accept: an answer, or the id of the operation accepted. */
async function prepareAndAccept<C>(
  deps: MutationDeps,
  request: MutationRequest,
  spec: MutationSpec<C>
): Promise<{ result: MutationResult } | { operationId: string } | { seen: Seen }> {
  const { store, operations } = deps;
  const { apiKeyId, key } = request.idempotency;
  const seen = await store.findIdempotency(apiKeyId, key);
  if (seen) return { seen };

  let prepared: Prepared<C>;
  try {
    prepared = await spec.prepare();
  } catch (error) {
    if (!(error instanceof ApiError) || !spec.finalProblems?.includes(error.slug)) throw error;
    return answerNow(deps, request, { status: error.status, body: error.toProblem(request.instance) });
  }
  if (isImmediate(prepared)) {
    const response: StoredResponse = { status: spec.successStatus, body: await encode(spec, prepared.immediate, undefined) };
    const answered = await answerNow(deps, request, response);
    if ("result" in answered) await spec.afterAccept?.(prepared.immediate, undefined);
    return answered;
  }

  let accepted = await operations.accept(prepared, request.idempotency);
  if (!accepted.accepted && accepted.conflict === "identity") {
    // The same person was enrolled by a concurrent request: prepare again with their account.
    const again = await spec.prepare();
    if (isImmediate(again)) throw new Error("a prepared operation became immediate");
    prepared = again;
    accepted = await operations.accept(prepared, request.idempotency);
  }
  if (!accepted.accepted) {
    if (accepted.conflict === "idempotency") {
      return { seen: accepted.existing };
    }
    throw new Error("the identity changed twice while the request was accepted");
  }
  const id = accepted.operationId!;
  await spec.afterAccept?.(prepared.context, id);
  return { operationId: id };
}

/** What an Idempotency-Key already answered. */
interface Seen {
  fingerprint: string;
  response?: StoredResponse;
  operationId?: string;
}

/** Stores a final answer with the Idempotency-Key (or finds the one a concurrent request stored). */
async function answerNow(deps: MutationDeps, request: MutationRequest, response: StoredResponse): Promise<{ result: MutationResult } | { seen: Seen }> {
  const outcome = await deps.operations.acceptImmediate(request.idempotency, response);
  if (!outcome.accepted && outcome.conflict === "idempotency") return { seen: outcome.existing };
  return { result: { ...response, replayed: false } };
}

async function replay<C>(
  deps: MutationDeps,
  request: MutationRequest,
  spec: MutationSpec<C>,
  fingerprint: string,
  response: StoredResponse | undefined,
  operationId: string | undefined
): Promise<MutationResult> {
  if (fingerprint !== request.idempotency.fingerprint) {
    throw new ApiError(
      "idempotency-key-reused",
      "this Idempotency-Key was used with a different request; use a new key for a new request",
      {
        field: "Idempotency-Key",
      }
    );
  }
  if (response) return { ...response, replayed: true };
  const op = operationId === undefined ? undefined : await deps.operations.get(operationId);
  if (!op) throw new Error(`idempotency record without operation or response`);
  const current = request.wait && op.status === "pending" ? await deps.operations.wait(op.id, deps.waitTimeoutMs) : op;
  return respond(deps, request, spec, current, true);
}

async function respond<C>(
  deps: MutationDeps,
  request: MutationRequest,
  spec: MutationSpec<C>,
  op: OperationRecord,
  replayed: boolean
): Promise<MutationResult> {
  const context = op.context as C;
  let response: StoredResponse;
  if (op.status === "failed") {
    const failure = op.error as StepFailure;
    const problem = ledgerProblem(failure.revert, { fieldAliases: spec.fieldAliases, extensions: { operation: summarize(op) } });
    response = { status: problem.status, body: problem.toProblem(request.instance) };
  } else {
    response = { status: op.status === "confirmed" ? spec.successStatus : 202, body: await encode(spec, context, op) };
  }
  if (op.status !== "pending") await deps.store.saveResponse(request.idempotency.apiKeyId, request.idempotency.key, response);
  return { ...response, replayed };
}

async function encode<C>(spec: MutationSpec<C>, context: C, op: OperationRecord | undefined): Promise<unknown> {
  return z.encode(spec.schema, await spec.present(context, op));
}
