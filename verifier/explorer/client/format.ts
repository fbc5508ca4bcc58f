/**
 * How the explorer writes values: money in yuan from integer fen (bigint, exact, no float),
 * chain times in UTC, rates from ppm, hashes shortened for tables. Pure: tested in Node.
 */

/** `123456n` -> `"¥1,234.56"`; negative amounts get a minus sign. */
export function yuan(fen: bigint): string {
  const negative = fen < 0n;
  const abs = negative ? -fen : fen;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = (abs % 100n).toString().padStart(2, "0");
  return `${negative ? "-" : ""}¥${whole}.${cents}`;
}

/** A count with thousands separators (bigint or safe integer). */
export function count(n: bigint | number): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Unix seconds -> `2025-11-23 14:05:09 UTC` (chain time is shown in UTC, as the chain keeps it). */
export function utc(seconds: bigint): string {
  if (seconds <= 0n) return "—";
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** Unix seconds -> `2025-11-23` (UTC). */
export function utcDate(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().slice(0, 10);
}

/** A daily rate in ppm as a percentage per day, exact: `500n` -> `"0.05 %/day"`. */
export function ratePerDay(ppm: bigint): string {
  return `${percentOfPpm(ppm)} %/day`;
}

/** ppm -> percent, exact decimal with trailing zeros trimmed: `45000n` -> `"4.5"`. */
export function percentOfPpm(ppm: bigint): string {
  const negative = ppm < 0n;
  const abs = negative ? -ppm : ppm;
  const whole = abs / 10_000n;
  const fraction = (abs % 10_000n).toString().padStart(4, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** `0x1234...cdef`: the first `head` and last 4 hex digits. */
export function short(hex: string, head = 6): string {
  return hex.length <= head + 6 ? hex : `${hex.slice(0, head + 2)}…${hex.slice(-4)}`;
}

/** Days as `"1 day"` / `"12 days"`. */
export function days(n: bigint | number): string {
  return `${n.toString()} day${BigInt(n) === 1n ? "" : "s"}`;
}
