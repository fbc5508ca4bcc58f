/**
 * Running `npm run audit` (scripts/audit.ts) as a child process, as an auditor runs it: its exit
 * code, stdout and stderr. Asynchronous, so that a node served from the test's own event loop
 * (`startLocalNode`) answers it.
 */
import { execFile } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const TS_NODE = require.resolve("ts-node/dist/bin.js");

export interface AuditRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runAudit(args: string[]): Promise<AuditRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TS_NODE, "--transpile-only", path.join(ROOT, "scripts", "audit.ts"), ...args],
      { cwd: ROOT, env: { ...process.env, CI: "true" }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A run, readable in an assertion message. */
export const showRun = (r: AuditRun): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
