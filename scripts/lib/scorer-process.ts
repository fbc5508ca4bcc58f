/**
 * The scorer as a child process: `node -r ts-node/register/transpile-only scorer/main.ts`,
 * configured by its own SCORER_… environment (scorer/config.ts; the parent's GATEWAY_… and
 * SCORER_… settings are not passed on), ready once it prints its JSON line
 * {"scorer":"<url>","address":"0x…"}, stopped by a signal, never outliving its parent.
 * For `npm start` and the tests that run a gateway beside a scorer.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";

import type { ProcessExit } from "./gateway-process";

const ROOT = path.resolve(__dirname, "..", "..");

export interface ScorerProcess {
  url: string;
  /** The scorer key's address (the one that needs SCORER_ROLE). */
  address: string;
  pid: number;
  exited: Promise<ProcessExit>;
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
  output(): string;
}

export async function startScorerProcess(env: Record<string, string>, options: { timeoutMs?: number } = {}): Promise<ScorerProcess> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("GATEWAY_") && !name.startsWith("SCORER_"))
  );
  const child = spawn(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", "-r", path.join(ROOT, "scripts", "lib", "exit-with-parent.ts"), path.join(ROOT, "scorer", "main.ts")],
    { cwd: ROOT, env: { ...inherited, ...env }, stdio: ["ignore", "pipe", "pipe"] }
  );
  const lines: string[] = [];
  const remember = (line: string) => {
    lines.push(line);
    if (lines.length > 200) lines.shift();
  };
  const killOnParentExit = () => child.kill("SIGKILL");
  process.once("exit", killOnParentExit);
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once("exit", (code, signal) => {
      process.removeListener("exit", killOnParentExit);
      resolve({ code, signal });
    });
  });
  createInterface({ input: child.stderr! }).on("line", (line) => remember(`[stderr] ${line}`));

  const timeoutMs = options.timeoutMs ?? 60_000;
  const ready = await new Promise<{ scorer: string; address: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the scorer did not start within ${timeoutMs} ms:\n${lines.join("\n")}`));
    }, timeoutMs);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      remember(line);
      if (!line.startsWith('{"scorer":')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { scorer: string; address: string });
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the scorer exited before listening (code ${code}, signal ${signal}):\n${lines.join("\n")}`));
    });
  });

  return {
    url: ready.scorer,
    address: ready.address,
    pid: child.pid!,
    exited,
    async kill(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    output: () => lines.join("\n"),
  };
}
