/**
 * The life of a POST: replay if its Idempotency-Key was seen (the first response, or the
 * same operation's current state), else prepare (validation and pre-flight: a refusal is a
 * 4xx and nothing is written), run the route's guard (drawdowns: the velocity rules), accept
 * (idempotency record + outbox, one transaction), then wait for confirmation or answer 202
 * with the operation. Responses are encoded through the route's schema; a final one
 * (confirmed, failed, or immediate) is stored for replays. A guard that holds a drawdown hands
 * back the operation to accept instead (the line's freeze) and the refusal that answers the
 * request: both are written in one transaction, so a retry gets the same refusal. A guard runs
 * the section from the idempotency check to the acceptance exclusively (one drawdown per
 * account at a time), so what it counted still holds when the operation is written.
 */
import { z } from "zod";

import type { StepFailure } from "../chain/outbox-sender";
import { idempotencyKeyReused } from "../errors";
import { isImmediate, summarize, type IdempotencyScope, type Operations, type Prepared, type PreparedOperation } from "../lending/operations";
import type { GuardVerdict } from "../servicing/velocity-guard";
import type { OperationRecord, Store, StoredResponse } from "../store/store";
import { asApiError, stepFailureProblem } from "./error-answers";
import { instanceOf, type HandlerContext, type HandlerResult } from "./route-table";

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
   * What of an immediate answer is stored for retries, when not all of it may be (an issued API
   * key is shown once: a retry gets the answer without it). Default: all of it.
   */
  storedAs?(body: unknown): unknown;
  /** Screens the prepared operation before acceptance, inside its exclusive section. */
  guard?: MutationGuard<C>;
  /** Called once a new request is accepted (not on a replay): the context and the operation id, if any. */
  afterAccept?(context: C, operationId: string | undefined): Promise<void>;
}

export interface MutationGuard<C> {
  /** Runs the section from the idempotency check to the acceptance with no other request of its scope in between. */
  section<T>(work: () => Promise<T>): Promise<T>;
  screen(prepared: PreparedOperation<C>, partnerId?: string): Promise<GuardVerdict>;
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
  const exclusive = spec.guard ? <T>(work: () => Promise<T>) => spec.guard!.section(work) : <T>(work: () => Promise<T>) => work();
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
  const { owner, key } = request.idempotency;
  const seen = await store.findIdempotency(owner, key);
  if (seen) return { seen };

  let prepared: Prepared<C> = await spec.prepare();
  if (isImmediate(prepared)) {
    const response: StoredResponse = { status: spec.successStatus, body: await encode(spec, prepared.immediate, undefined) };
    const stored = spec.storedAs ? { ...response, body: spec.storedAs(response.body) } : response;
    const answered = await answerNow(deps, request, stored, response);
    if ("result" in answered) await spec.afterAccept?.(prepared.immediate, undefined);
    return answered;
  }

  const verdict = spec.guard ? await spec.guard.screen(prepared, request.idempotency.partnerId) : { hold: false as const };
  if (verdict.hold) return hold(deps, request, verdict);

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

/** A held request: its substitute (the freeze) accepted with the refusal as its final answer, atomically. */
async function hold(
  deps: MutationDeps,
  request: MutationRequest,
  verdict: Extract<GuardVerdict, { hold: true }>
): Promise<{ result: MutationResult } | { seen: Seen }> {
  let response: StoredResponse | undefined;
  const accepted = await deps.operations.accept(verdict.freeze, request.idempotency, (id) => {
    const problem = asApiError(verdict.refusal(id));
    response = { status: problem.status, body: problem.toProblem(request.instance) };
    return response;
  });
  if (!accepted.accepted) {
    if (accepted.conflict === "idempotency") return { seen: accepted.existing };
    throw new Error("a velocity hold's freeze met an identity conflict");
  }
  await verdict.recorded(accepted.operationId!);
  return { result: { ...response!, replayed: false } };
}

/** What an Idempotency-Key already answered. */
interface Seen {
  fingerprint: string;
  response?: StoredResponse;
  operationId?: string;
}

/** Stores a final answer with the Idempotency-Key (or finds the one a concurrent request stored); answers `live` (default: what was stored). */
async function answerNow(
  deps: MutationDeps,
  request: MutationRequest,
  response: StoredResponse,
  live: StoredResponse = response
): Promise<{ result: MutationResult } | { seen: Seen }> {
  const outcome = await deps.operations.acceptImmediate(request.idempotency, response);
  if (!outcome.accepted && outcome.conflict === "idempotency") return { seen: outcome.existing };
  return { result: { ...live, replayed: false } };
}

async function replay<C>(
  deps: MutationDeps,
  request: MutationRequest,
  spec: MutationSpec<C>,
  fingerprint: string,
  response: StoredResponse | undefined,
  operationId: string | undefined
): Promise<MutationResult> {
  if (fingerprint !== request.idempotency.fingerprint) throw idempotencyKeyReused();
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
    const problem = stepFailureProblem(failure, { fieldAliases: spec.fieldAliases, extensions: { operation: summarize(op) } });
    response = { status: problem.status, body: problem.toProblem(request.instance) };
  } else {
    response = { status: op.status === "confirmed" ? spec.successStatus : 202, body: await encode(spec, context, op) };
  }
  if (op.status !== "pending") await deps.store.saveResponse(request.idempotency.owner, request.idempotency.key, response);
  return { ...response, replayed };
}

async function encode<C>(spec: MutationSpec<C>, context: C, op: OperationRecord | undefined): Promise<unknown> {
  return z.encode(spec.schema, await spec.present(context, op));
}

/** Runs a route's POST through the pipeline and answers it (a problem document when it failed). */
export async function mutationAnswer<C>(deps: MutationDeps, ctx: HandlerContext, spec: MutationSpec<C>): Promise<HandlerResult> {
  const result = await runMutation(deps, { idempotency: ctx.idempotency, wait: ctx.wait, instance: instanceOf(ctx) }, spec);
  return {
    status: result.status,
    body: result.body,
    contentType: result.status >= 400 ? "application/problem+json" : "application/json",
    headers: result.replayed ? { "Idempotent-Replayed": "true" } : {},
  };
}

/** A POST answered at once through the pipeline (a retry with the same key returns the first answer, as `storedAs` keeps it). */
export function immediateAnswer(
  deps: MutationDeps,
  ctx: HandlerContext,
  schema: z.ZodType,
  status: number,
  work: () => Promise<unknown>,
  storedAs?: (body: unknown) => unknown
): Promise<HandlerResult> {
  return mutationAnswer(deps, { ...ctx, wait: false }, { prepare: async () => ({ immediate: await work() }), present: (c) => c, schema, successStatus: status, storedAs });
}
