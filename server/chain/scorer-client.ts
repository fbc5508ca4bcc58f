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

export interface ScoredDecision {
  id: string;
  decision: DecisionDraft;
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

export class ScorerClient {
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch
  ) {}

  private async call(path: string, body: unknown): Promise<Wire> {
    const res = await this.fetchImpl(`${this.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
      body: JSON.stringify(jsonValue(body)),
    });
    const answer = (await res.json().catch(() => ({}))) as Wire;
    if (!res.ok) {
      throw new ScorerRefusedError(res.status, String(answer.code ?? "Unknown"), String(answer.detail ?? res.statusText), (answer.details as Record<string, unknown>) ?? {});
    }
    return answer;
  }

  async health(): Promise<{ status: string; scorer: string }> {
    const res = await this.fetchImpl(`${this.url}/health`);
    return (await res.json()) as { status: string; scorer: string };
  }

  /** POST /v1/score: the request's shape is the scorer's (scorer/http.ts). */
  async score(request: Record<string, unknown>): Promise<ScoredDecision> {
    const a = await this.call("/v1/score", request);
    return { ...(a as unknown as ScoredDecision), decision: draftFromWire(a.decision as Wire) };
  }

  /** POST /v1/sign: the scorer signs its own decision `id` with `nonce`, if `decision` equals what it stored. */
  async sign(id: string, decision: DecisionDraft, nonce: bigint): Promise<SignedByScorer> {
    const a = await this.call("/v1/sign", { id, account: decision.account, nonce, decision });
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
