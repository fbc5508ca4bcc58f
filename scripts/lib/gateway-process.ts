/**
 * The gateway as a child process: `node -r ts-node/register/transpile-only server/main.ts`,
 * configured by its environment (server/config.ts), ready once it prints the URL it listens
 * on, stopped by a signal. The crash-recovery test kills it with SIGKILL and starts it again
 * on the same database; `npm run bench` runs it beside the node so the two do not share one
 * event loop. A child never outlives its parent (scripts/lib/exit-with-parent.ts).
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";

const ROOT = path.resolve(__dirname, "..", "..");

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

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
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("GATEWAY_")));
  const child = spawn(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", "-r", path.join(ROOT, "scripts", "lib", "exit-with-parent.ts"), path.join(ROOT, "server", "main.ts")],
    { cwd: ROOT, env: { ...inherited, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const keep = options.keepLines ?? 200;
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
  const stderr = createInterface({ input: child.stderr! });
  stderr.on("line", (line) => remember(`[stderr] ${line}`));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the gateway did not start within ${options.timeoutMs ?? 60_000} ms:\n${lines.join("\n")}`));
    }, options.timeoutMs ?? 60_000);
    const stdout = createInterface({ input: child.stdout! });
    stdout.on("line", (line) => {
      remember(line);
      const match = /^gateway listening on (http:\/\/\S+?) /.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited before listening (code ${code}, signal ${signal}):\n${lines.join("\n")}`));
    });
  });

  return {
    url,
    pid: child.pid!,
    exited,
    async kill(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    output: () => lines.join("\n"),
  };
}
