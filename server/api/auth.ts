/**
 * Bearer API keys and scopes. A request names its key in `Authorization: Bearer <key>`; a
 * route names the scopes allowed to call it (`partner`, `auditor`, `admin`).
 */
import type { Request } from "express";

import type { ApiKeys } from "../auth/api-keys";
import type { ApiKeyRecord, Scope } from "../store/store";
import { ApiError } from "./problems";

export async function authenticate(apiKeys: ApiKeys, req: Request, allowed: readonly Scope[]): Promise<ApiKeyRecord> {
  const header = req.get("Authorization");
  const match = header === undefined ? null : /^Bearer ([^\s]+)$/.exec(header);
  const record = match ? await apiKeys.authenticate(match[1]) : undefined;
  if (!record) {
    throw new ApiError(
      "unauthorized",
      header === undefined ? "send Authorization: Bearer <api key>" : "the API key is not valid",
      {
        field: "Authorization",
      }
    );
  }
  if (!record.scopes.some((s) => allowed.includes(s))) {
    throw new ApiError(
      "forbidden",
      `this needs one of the scopes ${allowed.join(", ")}; the key has ${record.scopes.join(", ")}`,
      {
        field: "Authorization",
      }
    );
  }
  return record;
}
