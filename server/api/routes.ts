/**
 * The partner API, as a table (route-table.ts): the lending routes, the account routes, the
 * servicing routes, the explorer's configuration and the admin routes for partners. The Express app mounts it and the OpenAPI
 * document is generated from it, so what is documented is what runs.
 */
import { ExplorerConfigResponse } from "../../verifier/explorer/config";
import { accountRoutes } from "./account-routes";
import { adminRoutes } from "./admin-routes";
import { lendingRoutes } from "./lending-routes";
import { AUDITORS, defineRoute, READ_PROBLEMS, type RouteDef, type RouteDeps } from "./route-table";
import { servicingRoutes } from "./servicing-routes";

export function buildRoutes(deps: RouteDeps): RouteDef[] {
  return [
    ...lendingRoutes(deps),
    ...accountRoutes(deps),
    defineRoute({
      method: "get",
      path: "/v1/explorer/config",
      operationId: "getExplorerConfig",
      tag: "Explorer",
      summary: "What the explorer page (/explorer) needs to read and verify the chain itself",
      description:
        "The RPC URL for the browser, the ledger's address, chain id and deploy block, and this gateway's compiled runtime code " +
        "of the ledger and its library (for the bytecode check). No account data: the page reads that from the chain.",
      scopes: AUDITORS,
      responses: { 200: { description: "The explorer's configuration", schema: ExplorerConfigResponse } },
      problems: READ_PROBLEMS,
      handle: async () => ({ status: 200, body: deps.explorer.config() }),
    }),
    ...servicingRoutes(deps),
    ...adminRoutes(deps),
  ];
}
