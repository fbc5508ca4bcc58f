/**
 * Wall-clock time in a borrower's IANA time zone, with the platform's `Intl` (no time-zone
 * library): the local date and hour of an instant, whether a zone name is known, and the next
 * instant at which the local clock shows a given hour. Pure: instants in, values out.
 */

/** The default zone of a borrower whose application named none. */
export const DEFAULT_TIME_ZONE = "Asia/Shanghai";

export interface LocalTime {
  /** YYYY-MM-DD in the zone. */
  date: string;
  /** YYYY-MM in the zone. */
  month: string;
  hour: number;
  minute: number;
  /** HH:MM in the zone. */
  clock: string;
  /** The local wall-clock reading as if it were UTC, in unix seconds (for offset arithmetic). */
  wallSeconds: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether `zone` is an IANA time zone the platform knows. */
export function isTimeZone(zone: string): boolean {
  if (zone.length === 0 || zone.length > 64) return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The local date and time of the instant `unixSeconds` in `zone`. */
export function localTime(unixSeconds: bigint | number, zone: string): LocalTime {
  const parts = Object.fromEntries(
    formatter(zone)
      .formatToParts(new Date(Number(unixSeconds) * 1000))
      .map((p) => [p.type, p.value])
  );
  const hour = Number(parts.hour);
  const minute = Number(parts.minute);
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    month: `${parts.year}-${parts.month}`,
    hour,
    minute,
    clock: `${parts.hour}:${parts.minute}`,
    wallSeconds:
      Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), hour, minute, Number(parts.second)) / 1000,
  };
}

/** The instant local midnight starts the day `year`-`month`-`day` (month 1-12; overflow rolls over) in `zone`. */
export function localMidnight(year: number, month: number, day: number, zone: string): bigint {
  const wanted = Date.UTC(year, month - 1, day) / 1000;
  let t = wanted;
  for (let i = 0; i < 4; i++) {
    const diff = localTime(t, zone).wallSeconds - wanted;
    if (diff === 0) break;
    t -= diff;
  }
  return BigInt(t);
}

/**
 * The first instant at or after `fromSeconds` (rounded up to a whole minute) whose local time in
 * `zone` is `hour`:00. Steps a minute at a time through the zone's offset changes, so daylight
 * saving is handled by the platform's zone data; at most two days are searched.
 */
export function nextLocalHour(fromSeconds: bigint, zone: string, hour: number): bigint {
  let t = fromSeconds % 60n === 0n ? fromSeconds : fromSeconds + (60n - (fromSeconds % 60n));
  const first = localTime(t, zone);
  // Jump close first: whole minutes to the target hour, then correct minute by minute.
  const minutesAway = (((hour - first.hour) * 60 - first.minute) % 1440 + 1440) % 1440;
  t += BigInt(Math.max(0, minutesAway - 120)) * 60n;
  for (let i = 0; i < 2 * 1440; i++) {
    const l = localTime(t, zone);
    if (l.hour === hour && l.minute === 0 && t >= fromSeconds) return t;
    t += 60n;
  }
  throw new Error(`the local clock in ${zone} never shows ${hour}:00 after ${fromSeconds}`);
}

/** The first instant of the local day after the one holding `unixSeconds`, at `hour`:00 local time. */
export function nextLocalDayAt(unixSeconds: bigint, zone: string, hour: number): bigint {
  const today = localTime(unixSeconds, zone).date;
  let t = nextLocalHour(unixSeconds, zone, hour);
  while (localTime(t, zone).date === today) t = nextLocalHour(t + 60n, zone, hour);
  return t;
}
