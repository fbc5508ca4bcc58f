import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { AuditRpcProvider, RPC_RETRIES, RpcUnreachableError } from "../../verifier/rpc";
import { VerifierInputError } from "../../verifier/source";

/** A JSON-RPC endpoint on 127.0.0.1 that answers eth_blockNumber, failing its first `failures` requests with HTTP 503. */
async function flakyNode(failures: number): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      requests += 1;
      if (requests <= failures) {
        res.writeHead(503).end("busy");
        return;
      }
      const payload = JSON.parse(body) as { id: number } | { id: number }[];
      const answer = (p: { id: number }) => ({ jsonrpc: "2.0", id: p.id, result: "0x2a" });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(Array.isArray(payload) ? payload.map(answer) : answer(payload)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests: () => requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("verifier: the audit's JSON-RPC transport retries lost requests", () => {
  it(`answers after ${RPC_RETRIES} failed attempts of the same request (one request, ${RPC_RETRIES} retries)`, async () => {
    const node = await flakyNode(RPC_RETRIES);
    const provider = new AuditRpcProvider(node.url, 31337, { backoffMs: 1 });
    try {
      expect(await provider.getBlockNumber()).to.equal(42);
      expect(node.requests()).to.equal(RPC_RETRIES + 1);
      expect(provider.counts.retries).to.equal(RPC_RETRIES);
    } finally {
      provider.destroy();
      await node.close();
    }
  });

  it("gives up after the retries with an input error (the CLI's exit 2) that names the endpoint and what to do", async () => {
    const node = await flakyNode(RPC_RETRIES + 1);
    const provider = new AuditRpcProvider(node.url, 31337, { backoffMs: 1 });
    try {
      const error = await provider.getBlockNumber().then(
        () => undefined,
        (e: unknown) => e
      );
      expect(error).to.be.instanceOf(RpcUnreachableError);
      expect(error).to.be.instanceOf(VerifierInputError);
      expect((error as Error).message).to.include(node.url).and.include("HTTP 503").and.include("run the audit again");
      expect(node.requests()).to.equal(RPC_RETRIES + 1);
    } finally {
      provider.destroy();
      await node.close();
    }
  });
});
