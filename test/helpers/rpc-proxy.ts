/**
 * A filtering JSON-RPC proxy for the verifier's tests: a small HTTP server on 127.0.0.1 in
 * front of a node (the in-process Hardhat network served by `startLocalNode`) that forwards
 * every request and rewrites some answers, as a dishonest or lagging endpoint would:
 *
 *   - `hideLog`: logs left out of every `eth_getLogs` answer (one account's, a ledger-wide
 *     event), and with each the `LedgerAdvanced` right after it (same transaction, next log
 *     index) unless `keepAdvances`, the careful liar;
 *   - `behindBy`: `eth_blockNumber` answers that many blocks fewer (an endpoint that is behind);
 *   - `call`: rewrite an `eth_call` answer.
 *
 * Batches (JSON arrays) are forwarded as they come; any origin may call it (CORS), as a public
 * node allows, so the explorer page can use it as an auditor's own RPC. The server is `unref`'d, so it never keeps
 * the test process alive, and `close()` stops it.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { id } from "ethers";

/** A log as JSON-RPC gives it. */
export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  transactionHash: string;
  logIndex: string;
}

export interface ProxyRules {
  hideLog?: (log: RpcLog) => boolean;
  keepAdvances?: boolean;
  behindBy?: number;
  call?: (params: unknown[], result: string) => string;
}

export interface RpcProxy {
  url: string;
  /** JSON-RPC requests answered so far (a batch counts each of its requests). */
  requests: number;
  /** Logs hidden so far. */
  hidden: RpcLog[];
  close(): Promise<void>;
}

export const LEDGER_ADVANCED_TOPIC = id("LedgerAdvanced(uint64,bytes32)");

interface RpcRequest {
  jsonrpc?: string;
  id: unknown;
  method: string;
  params?: unknown[];
}
interface RpcAnswer {
  id: unknown;
  result?: unknown;
  error?: unknown;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Start the proxy in front of `upstream` (an http JSON-RPC URL). */
export async function startRpcProxy(upstream: string, rules: ProxyRules): Promise<RpcProxy> {
  const hidden: RpcLog[] = [];

  const forward = async (request: RpcRequest): Promise<RpcAnswer> => {
    const response = await fetch(upstream, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) });
    return (await response.json()) as RpcAnswer;
  };

  const rewrite = async (request: RpcRequest, answer: RpcAnswer): Promise<RpcAnswer> => {
    if (answer.error !== undefined || answer.result === undefined) return answer;
    if (request.method === "eth_getLogs" && rules.hideLog) {
      const logs = answer.result as RpcLog[];
      const key = (log: RpcLog, offset = 0) => `${log.transactionHash}:${Number(log.logIndex) + offset}`;
      const drop = new Set<string>();
      for (const log of logs) {
        if (!rules.hideLog(log)) continue;
        hidden.push(log);
        drop.add(key(log));
      }
      if (!rules.keepAdvances) {
        // The LedgerAdvanced after each hidden log, found in every log of the range (a topic
        // filter, as an --account audit asks, answers the LedgerAdvanced without the entries).
        const [filter] = (request.params ?? []) as { address?: string; fromBlock?: string; toBlock?: string }[];
        const all = await forward({ jsonrpc: "2.0", id: request.id, method: "eth_getLogs", params: [{ address: filter.address, fromBlock: filter.fromBlock, toBlock: filter.toBlock }] });
        for (const log of (all.result ?? []) as RpcLog[]) if (rules.hideLog(log)) drop.add(`${key(log, 1)}:advance`);
      }
      return {
        ...answer,
        result: logs.filter((log) => !drop.has(key(log)) && !(log.topics[0] === LEDGER_ADVANCED_TOPIC && drop.has(`${key(log)}:advance`))),
      };
    }
    if (request.method === "eth_blockNumber" && rules.behindBy) {
      return { ...answer, result: `0x${(Number(answer.result) - rules.behindBy).toString(16)}` };
    }
    if (request.method === "eth_call" && rules.call) return { ...answer, result: rules.call(request.params ?? [], answer.result as string) };
    return answer;
  };

  let requests = 0;
  // Answers browsers too (the explorer's own-RPC field): any origin, as a public node does.
  const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "content-type", "access-control-allow-methods": "POST, OPTIONS" };
  const server: Server = createServer((req, res) => {
    if (req.method === "OPTIONS") {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    void (async () => {
      try {
        const parsed = JSON.parse(await body(req)) as RpcRequest | RpcRequest[];
        const batch = Array.isArray(parsed) ? parsed : [parsed];
        requests += batch.length;
        const answers = await Promise.all(batch.map(async (r) => await rewrite(r, await forward(r))));
        res.writeHead(200, { "content-type": "application/json", ...cors });
        res.end(JSON.stringify(Array.isArray(parsed) ? answers : answers[0]));
      } catch (error) {
        res.writeHead(500, { "content-type": "text/plain", ...cors });
        res.end(`rpc proxy: ${(error as Error).message}`);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    hidden,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
