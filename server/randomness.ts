/**
 * Randomness as an injected edge: account ids, references, salts and API keys come from a
 * `Random`, so tests can make them deterministic.
 */
import { randomBytes } from "node:crypto";

export type Random = (bytes: number) => Buffer;

export const cryptoRandom: Random = (bytes) => randomBytes(bytes);

/** 0x-prefixed hex of `bytes` random bytes. */
export const randomHex = (random: Random, bytes: number): string => `0x${random(bytes).toString("hex")}`;
