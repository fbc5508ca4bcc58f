/**
 * The gateway's logger (pino). Secrets and personal data are redacted by path as a second
 * line of defence: configuration secrets are `Secret` values that print as "[redacted]"
 * anyway, and request bodies (which hold PII) are never logged.
 */
import pino, { type Logger } from "pino";

import type { LogLevel } from "./config";

export type { Logger };

/** Paths pino replaces with "[redacted]" wherever they appear in a log line. */
export const REDACTED_PATHS = [
  "authorization",
  "*.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
  "apiKey",
  "*.apiKey",
  "privateKey",
  "*.privateKey",
  "*.operatorKey",
  "*.scorerKey",
  "*.encryptionKey",
  "*.identityPepper",
  "keys",
  "*.keys",
  "vault",
  "*.vault",
  "nationalId",
  "*.nationalId",
  "phone",
  "*.phone",
  "identity",
  "*.identity",
];

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "credit-ledger-gateway" },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    destination
  );
}
