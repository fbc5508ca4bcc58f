/**
 * `npm start`'s whole system as a child process, for tests that use it from outside (the
 * explorer's browser test): the program `npm start` runs (`ts-node scripts/start.ts`), on
 * free ports, with `--ready-file`, ready once it prints "[start] serving". It is run without
 * npm's wrapper so that it is our direct child: start.ts stops itself when its parent goes
 * away, so a test run that dies leaves no system behind. `stop()` sends SIGTERM (start.ts
 * stops the gateway, then the node) and removes what the run wrote to `.gateway/`.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

import { freePort } from "../../scripts/lib/gateway-process";

const ROOT = path.resolve(__dirname, "..", "..");

/** What start.ts writes to its `--ready-file`. */
export interface ReadyFile {
  rpcUrl: string;
  /** The node implementation (`--node`). */
  node: "hardhat" | "anvil";
  chainId: number;
  ledger: string;
  /** With `blockTimeSeconds`: the node's block time in ms (interval mining); absent: automine. */
  blockTimeMs?: number;
  /** Absent with `chainOnly`. */
  gateway: { url: string; explorer: string; dataDir: string; keys: { partner: string; partner2: string; auditor: string; admin: string } };
  demo: Array<{ name: string; accountId: string; story: string }>;
}

export interface LocalSystem extends ReadyFile {
  /** The last lines it printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the system (`chainOnly`: the node and the ledger, no gateway: `npm start -- --chain-only`;
 * `blockTimeSeconds`: interval mining, `npm start -- --block-time <s>`; `node`: the node
 * implementation, `npm start -- --node anvil`).
 */
export async function startLocalSystem(options: { timeoutMs?: number; chainOnly?: boolean; blockTimeSeconds?: number; node?: "hardhat" | "anvil" } = {}): Promise<LocalSystem> {
  const dir = mkdtempSync(path.join(tmpdir(), "credit-ledger-system-"));
  const readyFile = path.join(dir, "ready.json");
  const [nodePort, gatewayPort] = [await freePort(), await freePort()];
  // The system's settings come from the flags; none of the parent's own.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(GATEWAY_|LEDGER_|HARDHAT_NETWORK$)/.test(name))
  );
  const child = spawn(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.join("scripts", "start.ts"), "--port", String(nodePort), "--gateway-port", String(gatewayPort), "--ready-file", readyFile, ...(options.chainOnly ? ["--chain-only"] : []), ...(options.blockTimeSeconds !== undefined ? ["--block-time", String(options.blockTimeSeconds)] : []), ...(options.node ? ["--node", options.node] : [])],
    { cwd: ROOT, env: { ...env, TS_NODE_TRANSPILE_ONLY: "true" }, stdio: ["ignore", "pipe", "pipe"] }
  );
  const lines: string[] = [];
  /** The gateway's database folder of this run, as start.ts names it when it starts the gateway. */
  let dataDir: string | undefined;
  const remember = (line: string) => {
    dataDir ??= /starting the gateway \(database (\.gateway\/[^/\s]+)\//.exec(line)?.[1];
    lines.push(line);
    if (lines.length > 200) lines.shift();
  };
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      process.removeListener("exit", killOnExit);
      resolve();
    })
  );
  createInterface({ input: child.stderr! }).on("line", (line) => remember(`[stderr] ${line}`));
  const stdout = createInterface({ input: child.stdout! });
  const output = () => lines.join("\n");

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(guard);
    }
    if (dataDir) rmSync(path.join(ROOT, dataDir), { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 100_000;
      const timer = setTimeout(() => reject(new Error(`npm start's system was not up within ${timeoutMs} ms:\n${output()}`)), timeoutMs);
      stdout.on("line", (line) => {
        remember(line);
        if (line.startsWith("[start] serving")) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`npm start's system exited before it was up (code ${child.exitCode}, signal ${child.signalCode}):\n${output()}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const ready = JSON.parse(readFileSync(readyFile, "utf8")) as ReadyFile;
  return { ...ready, output, stop };
}
