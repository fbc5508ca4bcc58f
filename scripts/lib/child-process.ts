/**
 * One of our own TypeScript entry points as a child process:
 * `node -r ts-node/register/transpile-only -r exit-with-parent <entry>`, configured by the
 * environment it is given (the parent's settings under the component's prefixes are not passed
 * on), ready once a line of its stdout says so, stopped by a signal, never outliving its parent
 * (scripts/lib/exit-with-parent.ts, and a SIGKILL when the parent exits first). The gateway
 * (gateway-process.ts) and the scorer (scorer-process.ts) start this way.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";

const ROOT = path.resolve(__dirname, "..", "..");

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildProcess<T> {
  /** What `ready` read from the line that said the process is ready. */
  ready: T;
  pid: number;
  /** Resolves once the process has exited. */
  exited: Promise<ProcessExit>;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
  /** The last lines it printed (stdout and stderr), for failure messages. */
  output(): string;
}

export interface ChildProcessSpec<T> {
  /** Named in errors: "the <name> did not start …". */
  name: string;
  /** The entry point, relative to the project root (`server/main.ts`). */
  entry: string;
  env: Record<string, string>;
  /** Settings of the parent's environment not passed on (`GATEWAY_`, …). */
  dropPrefixes: readonly string[];
  /** Reads a stdout line: what it announces once the process is ready, else undefined. */
  ready: (line: string) => T | undefined;
  /** Longest wait for the ready line (a hang guard); 60 s by default. */
  timeoutMs?: number;
  /** Lines kept for `output()`; 200 by default. */
  keepLines?: number;
  /** Node's own options before the entry (`--cpu-prof`, which NODE_OPTIONS does not take). */
  nodeArgs?: readonly string[];
}

export async function startChildProcess<T>(spec: ChildProcessSpec<T>): Promise<ChildProcess<T>> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !spec.dropPrefixes.some((prefix) => name.startsWith(prefix))),
  );
  const child = spawn(
    process.execPath,
    [...(spec.nodeArgs ?? []), "-r", "ts-node/register/transpile-only", "-r", path.join(ROOT, "scripts", "lib", "exit-with-parent.ts"), path.join(ROOT, spec.entry)],
    { cwd: ROOT, env: { ...inherited, ...spec.env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const keep = spec.keepLines ?? 200;
  const lines: string[] = [];
  const remember = (line: string) => {
    lines.push(line);
    if (lines.length > keep) lines.shift();
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

  const timeoutMs = spec.timeoutMs ?? 60_000;
  const ready = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the ${spec.name} did not start within ${timeoutMs} ms:\n${lines.join("\n")}`));
    }, timeoutMs);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      remember(line);
      const announced = spec.ready(line);
      if (announced === undefined) return;
      clearTimeout(timer);
      resolve(announced);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the ${spec.name} exited before listening (code ${code}, signal ${signal}):\n${lines.join("\n")}`));
    });
  });

  return {
    ready,
    pid: child.pid!,
    exited,
    async kill(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    output: () => lines.join("\n"),
  };
}
