/**
 * Case counts and seeds for the differential and property tests (test/differential,
 * test/property).
 *
 *   LEDGER_FUZZ_RUNS  a multiplier (default 1) applied to every fuzz file's default case
 *                     count: `LEDGER_FUZZ_RUNS=10 npx hardhat test test/differential/...`
 *                     runs ten times as many cases; `0.1` runs a tenth (at least 1).
 *   LEDGER_FUZZ_SEED  the fast-check seed, to replay a failure (fast-check prints the seed
 *                     and the shrunk counterexample's path when a property fails).
 *
 * CI uses the defaults. Read once here, so the test files never touch `process.env`.
 */
import type { Parameters } from "fast-check";

function readScale(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0)
    throw new Error(`LEDGER_FUZZ_RUNS must be a positive number, got "${raw}"`);
  return scale;
}

function readSeed(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const seed = Number(raw);
  if (!Number.isInteger(seed)) throw new Error(`LEDGER_FUZZ_SEED must be an integer, got "${raw}"`);
  return seed;
}

/** The multiplier from LEDGER_FUZZ_RUNS (1 when unset). */
export const FUZZ_SCALE = readScale(process.env.LEDGER_FUZZ_RUNS);
/** The seed from LEDGER_FUZZ_SEED, if any. */
export const FUZZ_SEED = readSeed(process.env.LEDGER_FUZZ_SEED);

/** `defaultRuns` scaled by LEDGER_FUZZ_RUNS, at least 1. */
export function fuzzRuns(defaultRuns: number): number {
  return Math.max(1, Math.round(defaultRuns * FUZZ_SCALE));
}

/** fast-check parameters for `numRuns` cases, with the seed from LEDGER_FUZZ_SEED if set. */
export function fuzzParameters<T>(numRuns: number, extra: Parameters<T> = {}): Parameters<T> {
  return { numRuns, ...(FUZZ_SEED === undefined ? {} : { seed: FUZZ_SEED }), ...extra };
}

/**
 * A mocha timeout for a fuzz test: the base allowance times the scale (a larger run needs
 * longer; this is a hang guard, not a timing assertion).
 */
export function fuzzTimeout(baseMs: number): number {
  return Math.ceil(baseMs * Math.max(1, FUZZ_SCALE));
}
