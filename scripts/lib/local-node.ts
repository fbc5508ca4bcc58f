/**
 * A Hardhat Network JSON-RPC node served from this process, bound to the loopback
 * interface. It runs in-process (Hardhat's own `node` subtasks), so stopping this process
 * stops the node: there is no child process to leave behind.
 */
import { createServer } from "node:net";
import type { HardhatRuntimeEnvironment, EIP1193Provider } from "hardhat/types";
import {
  TASK_NODE_CREATE_SERVER,
  TASK_NODE_GET_PROVIDER,
} from "hardhat/builtin-tasks/task-names";

export interface LocalNode {
  rpcUrl: string;
  /** The in-process provider the server answers from. */
  provider: EIP1193Provider;
  /** Log each JSON-RPC call the node serves (Hardhat's `node` output). */
  setLogging(enabled: boolean): Promise<void>;
  /** Mine by interval from now on (see `setBlockTime`). */
  setBlockTime(blockTimeMs: number): Promise<void>;
  close(): Promise<void>;
}

const portBusy = (host: string, port: number) =>
  new Error(
    `port ${port} on ${host} is busy (another node or \`npm start\` running?): ` +
      "stop it, or choose another port with --port <n> or LEDGER_PORT=<n>",
  );

/** Fails with a clear message when something already listens on host:port. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => {
      reject(error.code === "EADDRINUSE" ? portBusy(host, port) : new Error(`cannot listen on ${host}:${port}: ${error.message}`));
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** Starts the JSON-RPC server on the Hardhat Network of `hre` (which must be "hardhat"). */
export async function startLocalNode(hre: HardhatRuntimeEnvironment, host: string, port: number): Promise<LocalNode> {
  if (hre.network.name !== "hardhat") {
    throw new Error(`the local node runs the in-process Hardhat Network, not "${hre.network.name}" (unset HARDHAT_NETWORK)`);
  }
  const provider: EIP1193Provider = await hre.run(TASK_NODE_GET_PROVIDER, {});
  const setLogging = async (enabled: boolean) => {
    await provider.request({ method: "hardhat_setLoggingEnabled", params: [enabled] });
  };
  await setLogging(false);
  const server = await hre.run(TASK_NODE_CREATE_SERVER, { hostname: host, port, provider });
  // Checked again here: the first compile can take a while after the caller's check.
  await assertPortFree(host, port);
  const { address, port: actualPort } = (await server.listen()) as { address: string; port: number };
  const rpcUrl = `http://${address}:${actualPort}`;
  return {
    rpcUrl,
    provider,
    setLogging,
    setBlockTime: (blockTimeMs) => setBlockTime(provider, blockTimeMs),
    close: async () => {
      await server.close();
    },
  };
}

/** Polls `eth_chainId` over HTTP until the node answers; returns the chain id. */
export async function waitUntilAnswering(rpcUrl: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      const body = (await response.json()) as { result?: string };
      if (typeof body.result === "string") return Number(BigInt(body.result));
      lastError = new Error(`unexpected answer ${JSON.stringify(body)}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`node at ${rpcUrl} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

/**
 * Makes the node mine like a real chain: a block every `blockTimeMs` milliseconds, whether or
 * not transactions wait (`evm_setIntervalMining`), and none when a transaction arrives
 * (`evm_setAutomine false`): a transaction sent now waits in the mempool for the next block.
 * Interval mining starts first, so no transaction sent in between is left without a block.
 */
export async function setBlockTime(provider: EIP1193Provider, blockTimeMs: number): Promise<void> {
  if (!Number.isInteger(blockTimeMs) || blockTimeMs < 1) throw new Error(`a block time is a whole number of milliseconds >= 1, got ${blockTimeMs}`);
  await provider.request({ method: "evm_setIntervalMining", params: [blockTimeMs] });
  await provider.request({ method: "evm_setAutomine", params: [false] });
}
