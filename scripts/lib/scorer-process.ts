/**
 * The scorer as a child process: `node -r ts-node/register/transpile-only scorer/main.ts`,
 * configured by its own SCORER_… environment (scorer/config.ts; the parent's GATEWAY_… and
 * SCORER_… settings are not passed on), ready once it prints its JSON line
 * {"scorer":"<url>","address":"0x…"}, stopped by a signal, never outliving its parent.
 * For `npm start` and the tests that run a gateway beside a scorer.
 */
import { startChildProcess, type ProcessExit } from "./child-process";

export interface ScorerProcess {
  url: string;
  /** The scorer key's address (the one that needs SCORER_ROLE). */
  address: string;
  pid: number;
  exited: Promise<ProcessExit>;
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
  output(): string;
}

/**
 * How far ahead of the scorer's clock a development chain may run (the clock route moves it by
 * days): ten years. Production keeps the scorer's default (SCORER_MAX_CHAIN_AHEAD_SECONDS).
 */
export const DEVELOPMENT_CHAIN_AHEAD: Readonly<Record<string, string>> = { SCORER_MAX_CHAIN_AHEAD_SECONDS: String(10 * 365 * 86_400) };

export async function startScorerProcess(env: Record<string, string>, options: { timeoutMs?: number } = {}): Promise<ScorerProcess> {
  const { ready, ...child } = await startChildProcess({
    name: "scorer",
    entry: "scorer/main.ts",
    env,
    dropPrefixes: ["GATEWAY_", "SCORER_"],
    ready: (line) => (line.startsWith('{"scorer":') ? (JSON.parse(line) as { scorer: string; address: string }) : undefined),
    ...options,
  });
  return { url: ready.scorer, address: ready.address, ...child };
}
