/**
 * Webhook signatures. Every delivery carries
 *
 *   Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * signed anew for each attempt. A receiver recomputes the HMAC over the exact bytes it
 * received, compares in constant time, and refuses a timestamp outside its replay window
 * (default 300 s either way), so a captured delivery cannot be replayed later. Pure and
 * self-contained (node:crypto only): the verification half below is the snippet
 * docs/WEBHOOKS.md shows, and the tests verify every delivery with it.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "Webhook-Signature";

/** The signature header value for `body` sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const v1 = createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${v1}`;
}

// --- verification (docs/WEBHOOKS.md) ---------------------------------------------------------

export type WebhookVerification = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * Verifies a delivery: `header` is the Webhook-Signature header, `rawBody` the exact request
 * body as received (before any JSON parsing), `secret` the endpoint's secret, `nowSeconds` the
 * receiver's clock. Rejects a missing or malformed header, a timestamp outside the window, and
 * a signature that does not match.
 */
export function verifyWebhook(
  header: string | undefined,
  rawBody: string,
  secret: string,
  nowSeconds: number,
  toleranceSeconds = 300
): WebhookVerification {
  if (!header) return { ok: false, reason: "no Webhook-Signature header" };
  const parts = new Map<string, string[]>();
  for (const item of header.split(",")) {
    const eq = item.indexOf("=");
    if (eq <= 0) return { ok: false, reason: "malformed Webhook-Signature header" };
    const key = item.slice(0, eq).trim();
    parts.set(key, [...(parts.get(key) ?? []), item.slice(eq + 1).trim()]);
  }
  const t = parts.get("t");
  if (!t || t.length !== 1 || !/^\d{1,12}$/.test(t[0])) return { ok: false, reason: "no valid timestamp (t=)" };
  const timestamp = Number(t[0]);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    return { ok: false, reason: `timestamp ${timestamp} outside the replay window of ${toleranceSeconds} s` };
  }
  const expected = createHmac("sha256", secret).update(`${timestamp}.${rawBody}`, "utf8").digest();
  const matches = (parts.get("v1") ?? []).some((v) => {
    if (!/^[0-9a-f]{64}$/.test(v)) return false;
    return timingSafeEqual(Buffer.from(v, "hex"), expected);
  });
  return matches ? { ok: true, timestamp } : { ok: false, reason: "signature does not match" };
}
