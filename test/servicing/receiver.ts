/**
 * A webhook receiver for tests: a real HTTP server on 127.0.0.1 (ephemeral port) that keeps
 * every request's headers and exact body, and answers with the statuses it is told to (200
 * once the list is used up). Held (`hold()`), it keeps each request waiting, unanswered, until
 * the test releases it: a slow endpoint without any timer.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: { id: string; type: string; created: number; accountId: string | null; data: Record<string, unknown> };
  answered: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Statuses for the next requests, in order. */
  answers: number[];
  /** From now on, requests wait unanswered until released. */
  hold(): void;
  /** Answers the `n` oldest waiting requests (all of them by default) and, with no `n`, stops holding. */
  release(n?: number): void;
  /** Requests that arrived and wait for an answer. */
  readonly waiting: number;
  /** The most requests that were ever waiting at once. */
  readonly mostWaiting: number;
  /** Resolves once `n` requests have arrived (answered or not). */
  arrived(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(path = "/hooks"): Promise<Receiver> {
  const received: Received[] = [];
  const answers: number[] = [];
  const held: Array<() => void> = [];
  const arrivals: Array<{ n: number; resolve: () => void }> = [];
  let arrivedCount = 0;
  let holding = false;
  let mostWaiting = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      const answer = () => {
        const answered = answers.shift() ?? 200;
        received.push({ headers: req.headers, rawBody, body: JSON.parse(rawBody), answered });
        res.writeHead(answered, { "content-type": "text/plain" }).end(answered === 200 ? "ok" : "no");
      };
      arrivedCount += 1;
      if (holding) {
        held.push(answer);
        mostWaiting = Math.max(mostWaiting, held.length);
      } else answer();
      for (const a of arrivals.filter((x) => arrivedCount >= x.n)) {
        arrivals.splice(arrivals.indexOf(a), 1);
        a.resolve();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    answers,
    hold: () => {
      holding = true;
    },
    release: (n?: number) => {
      if (n === undefined) holding = false;
      for (const answer of held.splice(0, n ?? held.length)) answer();
    },
    get waiting() {
      return held.length;
    },
    get mostWaiting() {
      return mostWaiting;
    },
    arrived: (n: number) => (arrivedCount >= n ? Promise.resolve() : new Promise<void>((resolve) => arrivals.push({ n, resolve }))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** An IANA zone (Etc/GMT±N) in which the instant `unixSeconds` falls in the local hour `hour`. */
export function zoneAtHour(unixSeconds: number, hour: number): string {
  const utcHour = new Date(unixSeconds * 1000).getUTCHours();
  let offset = hour - utcHour; // hours ahead of UTC
  if (offset > 12) offset -= 24;
  if (offset < -11) offset += 24;
  // Etc/GMT zones have the POSIX sign: Etc/GMT-8 is UTC+8.
  return offset === 0 ? "Etc/GMT" : offset > 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}

/** A zone in which `unixSeconds` is between 12:00 and 12:59 local time. */
export const zoneAtNoon = (unixSeconds: number): string => zoneAtHour(unixSeconds, 12);
