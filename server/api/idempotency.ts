/**
 * Idempotency keys: every POST carries one (`Idempotency-Key`, 1-255 visible ASCII
 * characters). A key is scoped to the API key that used it; the request it was first used
 * with is remembered by a fingerprint (method, path and the canonical JSON of the body, keys
 * sorted), so a retry is recognised and the same key with another request is a conflict.
 */
import { createHash } from "node:crypto";
import type { Request } from "express";

import { canonicalJson } from "../../core/json";
import { ApiError } from "./problems";

export const IDEMPOTENCY_HEADER = "Idempotency-Key";

export function idempotencyKeyOf(req: Request): string {
  const key = req.get(IDEMPOTENCY_HEADER);
  if (key === undefined || key === "") {
    throw new ApiError(
      "idempotency-key-required",
      `every POST needs an ${IDEMPOTENCY_HEADER} header (a unique value per request)`,
      {
        field: IDEMPOTENCY_HEADER,
      }
    );
  }
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new ApiError("validation-failed", `${IDEMPOTENCY_HEADER} must be 1-255 visible ASCII characters`, {
      field: IDEMPOTENCY_HEADER,
    });
  }
  return key;
}

export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash("sha256")
    .update(`${method.toUpperCase()} ${path}\n${canonicalJson(body ?? null, { anyNumber: true })}`)
    .digest("hex");
}
