/**
 * The audit CLI's JSON-RPC provider: ethers' JsonRpcProvider (its batching, formatting and
 * errors), with its HTTP exchange replaced. ethers decodes each response body with its own
 * JavaScript UTF-8 decoder, which took more of an audit's time than the checks (the eth_getLogs
 * answers are megabytes); here the runtime's fetch and JSON.parse do it. A request lost on the
 * way (a network error, HTTP 429 or 5xx) is sent again up to 4 times with backoff; then the
 * error names the endpoint and what to do.
 */
import { JsonRpcProvider, type JsonRpcPayload, type JsonRpcResult, type Networkish } from "ethers";

import { VerifierInputError } from "./source";

export const RPC_RETRIES = 4;

/** The HTTP exchanges and JSON-RPC calls a provider made (for --stats and the bench). */
export interface RpcCounts {
  httpRequests: number;
  calls: number;
  retries: number;
}

export class AuditRpcProvider extends JsonRpcProvider {
  readonly counts: RpcCounts = { httpRequests: 0, calls: 0, retries: 0 };

  constructor(
    private readonly url: string,
    network: Networkish,
    options: { batchMaxCount?: number; backoffMs?: number } = {}
  ) {
    super(url, network, { staticNetwork: true, batchMaxCount: options.batchMaxCount ?? 20 });
    this.backoffMs = options.backoffMs ?? 250;
  }

  private readonly backoffMs: number;

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const body = JSON.stringify(payload);
    this.counts.calls += Array.isArray(payload) ? payload.length : 1;
    let lastError = "";
    for (let attempt = 0; attempt <= RPC_RETRIES; attempt++) {
      if (attempt > 0) {
        this.counts.retries += 1;
        await new Promise((resolve) => setTimeout(resolve, this.backoffMs * 2 ** (attempt - 1)));
      }
      this.counts.httpRequests += 1;
      let response: Response;
      try {
        response = await fetch(this.url, { method: "POST", headers: { "content-type": "application/json" }, body });
      } catch (error) {
        lastError = (error as Error).message;
        continue;
      }
      if (response.status === 429 || response.status >= 500) {
        lastError = `HTTP ${response.status}`;
        await response.arrayBuffer().catch(() => undefined);
        continue;
      }
      const text = await response.text();
      let answer: unknown;
      try {
        answer = JSON.parse(text);
      } catch {
        throw new Error(`${this.url} answered HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
      }
      // Error answers (JsonRpcError) pass through as ethers' own _send passes them.
      return (Array.isArray(answer) ? answer : [answer]) as JsonRpcResult[];
    }
    throw new RpcUnreachableError(
      `a JSON-RPC request to ${this.url} failed ${RPC_RETRIES + 1} times (last: ${lastError}); check that the node is up and not rate-limiting, then run the audit again`
    );
  }
}

/** Every retry of a request failed: the CLI's exit code 2. */
export class RpcUnreachableError extends VerifierInputError {}
