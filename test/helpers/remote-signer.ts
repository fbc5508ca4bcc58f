/**
 * A remote signer for tests: a real HTTP JSON-RPC server on 127.0.0.1 holding one key and
 * answering the signing methods a Web3Signer (eth1 mode) or Clef answers: eth_accounts,
 * eth_signTransaction, eth_signTypedData_v4, behind an optional bearer token. It can misbehave
 * on purpose (sign with another key, alter the nonce) so the client's checks can be shown
 * catching it. It counts what it signed.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Transaction, Wallet, type TypedDataField } from "ethers";

export type Misbehaviour = "none" | "other-key" | "alter-nonce" | "clef-shape";

export interface TestRemoteSigner {
  url: string;
  address: string;
  /** How many eth_signTransaction / eth_signTypedData_v4 calls it answered with a signature. */
  signed: { transactions: number; typedData: number };
  misbehave(mode: Misbehaviour): void;
  close(): Promise<void>;
}

interface RpcRequest {
  id: number;
  method: string;
  params: unknown[];
}

export async function startRemoteSigner(key: string, options: { token?: string } = {}): Promise<TestRemoteSigner> {
  const wallet = new Wallet(key);
  const other = Wallet.createRandom();
  let mode: Misbehaviour = "none";
  const signed = { transactions: 0, typedData: 0 };

  const answer = async (req: RpcRequest): Promise<unknown> => {
    const signer = mode === "other-key" ? other : wallet;
    if (req.method === "eth_accounts") return [wallet.address];
    if (req.method === "eth_signTransaction") {
      const [ask] = req.params as Array<Record<string, string | undefined>>;
      if (ask.from?.toLowerCase() !== wallet.address.toLowerCase()) throw new Error(`unknown account ${ask.from}`);
      const tx = Transaction.from({
        type: Number(ask.type ?? "0x2"),
        to: ask.to ?? null,
        data: ask.data ?? "0x",
        value: BigInt(ask.value ?? "0x0"),
        nonce: Number(BigInt(ask.nonce!)) + (mode === "alter-nonce" ? 1 : 0),
        gasLimit: BigInt(ask.gas!),
        chainId: BigInt(ask.chainId!),
        ...(ask.maxFeePerGas !== undefined
          ? { maxFeePerGas: BigInt(ask.maxFeePerGas), maxPriorityFeePerGas: BigInt(ask.maxPriorityFeePerGas!) }
          : { gasPrice: BigInt(ask.gasPrice!) }),
      });
      const raw = await signer.signTransaction(tx);
      signed.transactions += 1;
      return mode === "clef-shape" ? { raw, tx: {} } : raw;
    }
    if (req.method === "eth_signTypedData_v4") {
      const [account, json] = req.params as [string, string];
      if (account.toLowerCase() !== wallet.address.toLowerCase()) throw new Error(`unknown account ${account}`);
      const payload = JSON.parse(json) as { domain: Record<string, unknown>; types: Record<string, TypedDataField[]>; message: Record<string, unknown> };
      const { EIP712Domain: _domain, ...types } = payload.types;
      void _domain;
      signed.typedData += 1;
      return signer.signTypedData(payload.domain, types, payload.message);
    }
    throw new Error(`the method ${req.method} does not exist`);
  };

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(body));
      };
      if (options.token !== undefined && request.headers.authorization !== `Bearer ${options.token}`) return reply(401, { error: "unauthorized" });
      let req: RpcRequest;
      try {
        req = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RpcRequest;
      } catch {
        return reply(400, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
      }
      answer(req).then(
        (result) => reply(200, { jsonrpc: "2.0", id: req.id, result }),
        (error: Error) => reply(200, { jsonrpc: "2.0", id: req.id, error: { code: -32000, message: error.message } })
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    address: wallet.address,
    signed,
    misbehave(m) {
      mode = m;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
