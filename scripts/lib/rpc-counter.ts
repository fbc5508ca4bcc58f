/**
 * A JSON-RPC endpoint in front of another that counts what it is asked: HTTP requests, and
 * JSON-RPC calls by method (each element of a batch is one call). For `npm run bench --
 * --audit-entries`, which measures the verifier's calls per entry from outside it, whatever the
 * verifier says of itself. Bound to 127.0.0.1; forwards bodies unchanged.
 */
import { createServer, type Server } from "node:http";

export interface RpcCounts {
  httpRequests: number;
  calls: number;
  byMethod: Record<string, number>;
}

export interface RpcCounter {
  url: string;
  counts(): RpcCounts;
  close(): Promise<void>;
}

export async function startRpcCounter(upstream: string): Promise<RpcCounter> {
  const counts: RpcCounts = { httpRequests: 0, calls: 0, byMethod: {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      counts.httpRequests += 1;
      try {
        const parsed = JSON.parse(body) as { method?: string } | Array<{ method?: string }>;
        for (const call of Array.isArray(parsed) ? parsed : [parsed]) {
          counts.calls += 1;
          const method = call.method ?? "(none)";
          counts.byMethod[method] = (counts.byMethod[method] ?? 0) + 1;
        }
      } catch {
        // Not JSON: forwarded as it is, for the upstream to answer.
      }
      fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body })
        .then(async (answer) => {
          res.writeHead(answer.status, { "content-type": "application/json" });
          res.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch((error: unknown) => {
          res.writeHead(502, { "content-type": "application/json" });
          res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32603, message: `upstream: ${String(error)}` } }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts, byMethod: { ...counts.byMethod } }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
