/**
 * Foundry's anvil as the local JSON-RPC node: a second EVM node implementation beside Hardhat's
 * in-process one (`npm start -- --node anvil`, the anvil end-to-end tests). Anvil is a native
 * binary from the npm package `@foundry-rs/anvil` (its platform package holds the binary; its
 * postinstall download is not needed and is denied in `allowScripts`), or the program `ANVIL_BIN`
 * names. It runs as a child under scripts/lib/guarded-child.cjs, so it never outlives this
 * process, even one killed by SIGKILL.
 *
 * Anvil's default mnemonic ("test test … junk") is Hardhat's: accounts 0-9 are the same keys, so
 * the role holders `npm start` deploys with do not depend on the node. Where the two differ
 * (docs/NODES.md): `evm_setIntervalMining` takes seconds on anvil, milliseconds on Hardhat, and
 * anvil's interval mining already stops mining on a transaction's arrival (no `evm_setAutomine
 * false` after it, which would stop the interval too); anvil's RPC log is its own stdout.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";

import { assertPortFree, waitUntilAnswering } from "./local-node";

/** The nodes `npm start -- --node` runs. */
export const NODE_KINDS = ["hardhat", "anvil"] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

export interface AnvilNode {
  rpcUrl: string;
  chainId: number;
  pid: number;
  /** Mine a block every `blockTimeMs` (whole seconds on anvil), none on a transaction's arrival. */
  setBlockTime(blockTimeMs: number): Promise<void>;
  /** The last lines anvil printed, for failure messages. */
  output(): string;
  close(): Promise<void>;
}

export interface AnvilOptions {
  host: string;
  /** 0: a free port anvil picks is not supported; give one (scripts/lib/gateway-process.ts `freePort`). */
  port: number;
  chainId: number;
  /** Interval mining from the start (whole seconds); absent: a block per transaction. */
  blockTimeMs?: number;
  /** Pass anvil's own log of the calls it serves to this process's stdout. */
  logRpc?: boolean;
  /** Longest wait for anvil to answer (a hang guard); 30 s by default. */
  timeoutMs?: number;
}

const ROOT = path.resolve(__dirname, "..", "..");
const PLATFORM_PACKAGE = `@foundry-rs/anvil-${process.platform}-${process.arch === "x64" ? "amd64" : process.arch}`;

/** The anvil program: `ANVIL_BIN`, else the binary of the installed platform package. */
export function anvilBinary(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const configured = env.ANVIL_BIN?.trim();
  if (configured) {
    if (!existsSync(configured)) throw new Error(`ANVIL_BIN is ${configured}, which does not exist: point it at an anvil binary, or unset it to use the npm package's`);
    return configured;
  }
  let packageJson: string;
  try {
    packageJson = require.resolve(`${PLATFORM_PACKAGE}/package.json`, { paths: [ROOT] });
  } catch {
    throw new Error(
      `anvil is not installed (${PLATFORM_PACKAGE} not found): run \`npm ci\` (it installs @foundry-rs/anvil and its binary for this platform), or set ANVIL_BIN to an anvil binary`
    );
  }
  const binary = path.join(path.dirname(packageJson), "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
  if (!existsSync(binary)) throw new Error(`${PLATFORM_PACKAGE} has no binary at ${binary}: run \`npm ci\` again, or set ANVIL_BIN`);
  return binary;
}

/** Whole seconds for anvil's interval mining; refuses a fraction, which anvil's clock cannot keep. */
export function anvilBlockSeconds(blockTimeMs: number): number {
  if (!Number.isInteger(blockTimeMs) || blockTimeMs < 1_000 || blockTimeMs % 1_000 !== 0) {
    throw new Error(`anvil mines by whole seconds: a block time of ${blockTimeMs / 1_000} s cannot be kept; give --block-time a whole number of seconds`);
  }
  return blockTimeMs / 1_000;
}

async function rpc(rpcUrl: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/** Starts anvil on host:port (loopback only) and waits until it answers. */
export async function startAnvil(options: AnvilOptions): Promise<AnvilNode> {
  const binary = anvilBinary();
  await assertPortFree(options.host, options.port);
  const args = ["--host", options.host, "--port", String(options.port), "--chain-id", String(options.chainId)];
  if (options.blockTimeMs !== undefined) args.push("--block-time", String(anvilBlockSeconds(options.blockTimeMs)));
  if (!options.logRpc) args.push("--silent");
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, "guarded-child.cjs"), binary, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const remember = (line: string) => {
    lines.push(line);
    if (lines.length > 200) lines.shift();
  };
  createInterface({ input: child.stdout! }).on("line", (line) => {
    remember(line);
    if (options.logRpc) console.log(`[anvil] ${line}`);
  });
  createInterface({ input: child.stderr! }).on("line", (line) => remember(`[stderr] ${line}`));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      process.removeListener("exit", killOnExit);
      resolve();
    })
  );
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const guard = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(guard);
    }
  };
  const rpcUrl = `http://${options.host}:${options.port}`;
  let chainId: number;
  try {
    chainId = await Promise.race([
      waitUntilAnswering(rpcUrl, options.timeoutMs ?? 30_000),
      exited.then(() => {
        throw new Error(`anvil exited before it answered (code ${child.exitCode}, signal ${child.signalCode})`);
      }),
    ]);
  } catch (error) {
    await close();
    throw new Error(`${(error as Error).message}\n${lines.join("\n")}`);
  }
  return {
    rpcUrl,
    chainId,
    pid: child.pid!,
    async setBlockTime(blockTimeMs: number) {
      // Anvil: seconds. Its interval mining replaces automine; evm_setAutomine(false) would stop both.
      await rpc(rpcUrl, "evm_setIntervalMining", [anvilBlockSeconds(blockTimeMs)]);
    },
    output: () => lines.join("\n"),
    close,
  };
}
