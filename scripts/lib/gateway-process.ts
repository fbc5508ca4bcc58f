/**
 * The gateway as a child process: `node -r ts-node/register/transpile-only server/main.ts`,
 * configured by its environment (server/config.ts), ready once it prints the URL it listens
 * on, stopped by a signal. The crash-recovery test kills it with SIGKILL and starts it again
 * on the same database; `npm run bench` runs it beside the node so the two do not share one
 * event loop. A child never outlives its parent (scripts/lib/child-process.ts).
 */
import { createServer } from "node:net";

import { startChildProcess, type ProcessExit } from "./child-process";

export type { ProcessExit } from "./child-process";

export interface GatewayProcess {
  /** `http://127.0.0.1:<port>`, as the gateway printed it. */
  url: string;
  pid: number;
  /** Resolves once the process has exited. */
  exited: Promise<ProcessExit>;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
  /** The last lines it printed (stdout and stderr), for failure messages. */
  output(): string;
}

export interface GatewayProcessOptions {
  /** Longest wait for "gateway listening on ..." (a hang guard). */
  timeoutMs?: number;
  /** Lines kept for `output()`. */
  keepLines?: number;
  /** Node's own options (`--cpu-prof`). */
  nodeArgs?: readonly string[];
}

/** A TCP port nobody listens on at the moment (the OS picks it). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Starts server/main.ts with `env` (GATEWAY_* settings; the parent's own GATEWAY_* are not passed on). */
export async function startGatewayProcess(env: Record<string, string>, options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  const { ready: url, ...child } = await startChildProcess({
    name: "gateway",
    entry: "server/main.ts",
    env,
    dropPrefixes: ["GATEWAY_"],
    ready: (line) => /^gateway listening on (http:\/\/\S+?) /.exec(line)?.[1],
    ...options,
  });
  return { url, ...child };
}
