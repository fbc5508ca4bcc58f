/**
 * The JSON edge for money and other chain integers: the one place bigints become decimal
 * strings and back. Amounts are fen (integer minor units) as decimal strings in JSON, so no
 * client ever parses money into a float. `fen` is a zod codec: request schemas decode
 * "12345" to 12345n, response schemas encode 12345n to "12345" (`z.encode`), and the
 * OpenAPI document shows the JSON side (a string with a pattern).
 */
import { z } from "zod";

const UINT64_MAX = 2n ** 64n - 1n;
const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;

/** An amount in fen (or any uint64) as a decimal string. */
export const fen = z
  .codec(z.string().regex(DECIMAL, 'must be a decimal string of an integer, e.g. "12345"'), z.bigint(), {
    decode: (s) => BigInt(s),
    encode: (b) => b.toString(),
  })
  .refine((v) => v <= UINT64_MAX, "must fit in 64 bits")
  .describe("An amount in fen (1/100 yuan) as a decimal string");

/** A strictly positive amount in fen. */
export const positiveFen = fen
  .refine((v) => v > 0n, "must be greater than 0")
  .describe("An amount in fen (1/100 yuan), greater than 0, as a decimal string");

/** A uint64 counter (seq) as a decimal string. */
export const uint64 = z
  .codec(z.string().regex(DECIMAL), z.bigint(), { decode: (s) => BigInt(s), encode: (b) => b.toString() })
  .describe("An unsigned 64-bit integer as a decimal string");

/** A small chain integer (rates in ppm, days, timestamps) that is safe as a JSON number. */
export const safeInt = z.codec(z.int().min(0), z.bigint(), { decode: (n) => BigInt(n), encode: (b) => Number(b) });

/** A rate in ppm given as a JSON integer in [min, max], as bigint inside. */
export const ratePpmIn = (min: number, max: number) =>
  z.codec(z.int().min(min).max(max), z.bigint(), { decode: (n) => BigInt(n), encode: (b) => Number(b) });
