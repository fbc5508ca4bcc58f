/**
 * The gateway's side of the scorer (scorer/, docs/SCORER.md): it asks the scorer process to
 * score an application and, just before sending, to sign the decision id it was given. The
 * gateway holds the scorer's URL and bearer token, never its key. A refusal becomes a
 * `ScorerRefusedError` carrying the scorer's code and details.
 */
import type { Decision } from "../../core/decision";
import { jsonValue } from "../../core/json";
import type { DecisionDraft } from "./ledger-calls";

export class ScorerRefusedError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly details: Record<string, unknown> = {}
  ) {
    super(`the scorer refused (${status} ${code}): ${detail}`);
    this.name = "ScorerRefusedError";
  }
}

/**
 * Whether a scorer error is an answer about this decision (the step fails with it) rather than
 * the scorer being unreachable, failing or misconfigured (the step waits and is retried, as
 * for an RPC outage): a 4xx other than 401 (a wrong token is fixed by configuration) and 429.
 */
export function isDecisionRefusal(error: unknown): error is ScorerRefusedError {
  return error instanceof ScorerRefusedError && error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 429;
}

/** The scorer cannot be reached, answered something that is not JSON, or failed (5xx). */
export class ScorerUnavailableError extends Error {
  constructor(readonly url: string, readonly reason: string) {
    super(`the scorer at ${url} cannot be used: ${reason}`);
    this.name = "ScorerUnavailableError";
  }
}

/** What the outbox sender and the pre-flight need of the scorer: a signature on a decision it computed. */
export interface DecisionSigner {
  sign(id: string, decision: DecisionDraft, nonce: bigint, chainTime?: bigint): Promise<SignedByScorer>;
}

export interface ScoredDecision {
  id: string;
  decision: DecisionDraft;
  /** `DecisionPurpose` (0 Line, 1 Restructure, 2 Reinstate) and the subject the scorer will sign it with. */
  purpose: number;
  subject: string;
  tier: number;
  cappedBy?: "tier" | "partner-reported";
  expiresAt: number;
}

export interface SignedByScorer {
  decision: Decision;
  scorer: string;
  signature: string;
}

type Wire = Record<string, unknown>;

function draftFromWire(d: Wire): DecisionDraft {
  return {
    account: d.account as string,
    productId: d.productId as number,
    approved: d.approved as boolean,
    tier: d.tier as number,
    score: d.score as number,
    limit: BigInt(d.limit as string),
    limitExpiry: BigInt(d.limitExpiry as string),
    ratePpmPerDay: BigInt(d.ratePpmPerDay as string),
    modelId: d.modelId as string,
    featuresHash: d.featuresHash as string,
    reasonCodes: d.reasonCodes as [number, number, number, number],
  };
}

export class ScorerClient implements DecisionSigner {
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly timeoutMs = 10_000
  ) {}

  private async call(path: string, body: unknown): Promise<Wire> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
        body: JSON.stringify(jsonValue(body)),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      throw new ScorerUnavailableError(this.url, cause);
    }
    const answer = (await res.json().catch(() => undefined)) as Wire | undefined;
    if (answer === undefined || res.status >= 500) throw new ScorerUnavailableError(this.url, `${path} answered ${res.status}${answer?.code ? ` ${String(answer.code)}` : ""}`);
    if (!res.ok) {
      throw new ScorerRefusedError(res.status, String(answer.code ?? "Unknown"), String(answer.detail ?? res.statusText), (answer.details as Record<string, unknown>) ?? {});
    }
    return answer;
  }

  async health(): Promise<{ status: string; scorer: string }> {
    try {
      const res = await this.fetchImpl(`${this.url}/health`, { signal: AbortSignal.timeout(this.timeoutMs) });
      return (await res.json()) as { status: string; scorer: string };
    } catch (error) {
      const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      throw new ScorerUnavailableError(this.url, cause);
    }
  }

  /** POST /v1/score: the request's shape is the scorer's (scorer/http.ts). */
  async score(request: Record<string, unknown>): Promise<ScoredDecision> {
    const a = await this.call("/v1/score", request);
    return { ...(a as unknown as ScoredDecision), decision: draftFromWire(a.decision as Wire) };
  }

  /**
   * POST /v1/sign: the scorer signs its own decision `id` with `nonce`, if `decision` equals
   * what it stored (`chainTime`: the latest block's time, see docs/SCORER.md).
   */
  async sign(id: string, decision: DecisionDraft, nonce: bigint, chainTime?: bigint): Promise<SignedByScorer> {
    const a = await this.call("/v1/sign", { id, account: decision.account, nonce, decision, ...(chainTime === undefined ? {} : { chainTime }) });
    const d = a.decision as Wire;
    return {
      decision: {
        ...draftFromWire(d),
        purpose: Number(d.purpose),
        subject: d.subject as string,
        scorer: d.scorer as string,
        nonce: BigInt(d.nonce as string),
        issuedAt: BigInt(d.issuedAt as string),
        deadline: BigInt(d.deadline as string),
      },
      scorer: a.scorer as string,
      signature: a.signature as string,
    };
  }
}
