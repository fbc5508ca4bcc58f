/**
 * The life of a POST: replay if its Idempotency-Key was seen (the first response, or the
 * same operation's current state), else prepare (validation and pre-flight: a refusal is a
 * 4xx and nothing is written), accept (idempotency record + outbox, one transaction), then
 * wait for confirmation or answer 202 with the operation. Responses are encoded through the
 * route's schema; a final one (confirmed, failed, or immediate) is stored for replays.
 */
import { z } from "zod";

import type { StepFailure } from "../chain/outbox-sender";
import type { OperationRecord, Store, StoredResponse } from "../store/store";
import { isImmediate, summarize, type IdempotencyScope, type Operations, type Prepared } from "../services/operations";
import { ledgerProblem } from "./ledger-problems";
import { ApiError } from "./problems";

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
  const { store, operations } = deps;
  const { apiKeyId, key } = request.idempotency;

  const seen = await store.findIdempotency(apiKeyId, key);
  if (seen) return replay(deps, request, spec, seen.fingerprint, seen.response, seen.operationId);

  let prepared = await spec.prepare();
  if (isImmediate(prepared)) {
    const response: StoredResponse = { status: spec.successStatus, body: await encode(spec, prepared.immediate, undefined) };
    const outcome = await operations.acceptImmediate(request.idempotency, response);
    if (!outcome.accepted && outcome.conflict === "idempotency") {
      return replay(deps, request, spec, outcome.existing.fingerprint, outcome.existing.response, outcome.existing.operationId);
    }
    return { ...response, replayed: false };
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
      return replay(
        deps,
        request,
        spec,
        accepted.existing.fingerprint,
        accepted.existing.response,
        accepted.existing.operationId
      );
    }
    throw new Error("the identity changed twice while the request was accepted");
  }
  const id = accepted.operationId!;
  const op = request.wait ? await operations.wait(id, deps.waitTimeoutMs) : (await operations.get(id))!;
  return respond(deps, request, spec, op, false);
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
