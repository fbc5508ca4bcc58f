/**
 * Bearer API keys and scopes. A request names its key in `Authorization: Bearer <key>`; a
 * route names the scopes allowed to call it (`partner`, `auditor`, `admin`). A partner key of
 * a suspended partner is refused on every route.
 */
import type { Request } from "express";

import type { ApiKeys, Principal } from "../auth/api-keys";
import type { Scope } from "../store/store";
import { ApiError } from "./problems";

export async function authenticate(apiKeys: ApiKeys, req: Request, allowed: readonly Scope[]): Promise<Principal> {
  const header = req.get("Authorization");
  const match = header === undefined ? null : /^Bearer ([^\s]+)$/.exec(header);
  const principal = match ? await apiKeys.authenticate(match[1]) : undefined;
  if (!principal) {
    throw new ApiError("unauthorized", header === undefined ? "send Authorization: Bearer <api key>" : "the API key is not valid", {
      field: "Authorization",
    });
  }
  const scopes = principal.key.scopes;
  if (!scopes.some((s) => allowed.includes(s))) {
    throw new ApiError("forbidden", `this needs one of the scopes ${allowed.join(", ")}; the key has ${scopes.join(", ")}`, {
      field: "Authorization",
    });
  }
  // After the scope: a route a partner could never call stays forbidden, suspended or not.
  if (principal.partner?.status === "suspended") {
    throw new ApiError("partner-suspended", "the partner is suspended: ask the operator to reactivate it", { field: "Authorization" });
  }
  return principal;
}
