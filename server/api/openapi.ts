/**
 * The OpenAPI 3.1 document, generated from the route table and the same zod schemas that
 * validate requests and encode responses (`z.toJSONSchema`, JSON side: amounts are decimal
 * strings). Components are the schemas with an id; everything else is inlined.
 */
import { z } from "zod";

import { ProblemSchema } from "../schemas/problem";
import { problemStatus } from "./ledger-problems";
import { problemTypeUri } from "./problems";
import type { RouteDef } from "./route-table";

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const id = z.globalRegistry.get(schema)?.id;
  if (typeof id === "string") return ref(id);
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}

function parameters(schema: z.ZodType | undefined, where: "path" | "query"): unknown[] {
  if (!schema) return [];
  const s = jsonSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || (s.required ?? []).includes(name),
    description: property.description,
    schema: property,
  }));
}

export interface OpenApiInfo {
  version: string;
  ledgerAddress?: string;
  chainId?: string;
}

/**
 * Every problem a route can answer: its own, a partner's suspension and rate limit on a
 * partner's route, and an internal error on any.
 */
export function declaredProblems(r: RouteDef): string[] {
  return [...r.problems, ...(r.scopes.includes("partner") ? ["partner-suspended", "rate-limited"] : []), "internal"];
}

export function buildOpenApi(routes: RouteDef[], info: OpenApiInfo): Record<string, unknown> {
  const components = z.toJSONSchema(z.globalRegistry, {
    io: "input",
    unrepresentable: "any",
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas as Record<string, Record<string, unknown>>;
  for (const schema of Object.values(components)) {
    delete schema.$schema;
    delete schema.$id;
  }

  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(r.responses)) {
      responses[status] = response.schema
        ? { description: response.description, content: { "application/json": { schema: jsonSchema(response.schema) } } }
        : { description: response.description };
    }
    const byStatus = new Map<number, string[]>();
    // A partner's request can always meet its partner's suspension and rate limit.
    const problems = declaredProblems(r);
    for (const slug of problems) {
      const status = problemStatus(slug);
      byStatus.set(status, [...(byStatus.get(status) ?? []), problemTypeUri(slug)]);
    }
    for (const [status, types] of [...byStatus.entries()].sort(([a], [b]) => a - b)) {
      responses[String(status)] = {
        description: `Problem document; type one of: ${types.join(", ")}`,
        content: { "application/problem+json": { schema: ref("Problem") } },
        // The same list for machines: a generated client can tell every problem it may get.
        "x-problem-types": types,
      };
    }
    const headerParams =
      r.method === "post"
        ? [
            {
              name: "Idempotency-Key",
              in: "header",
              required: true,
              description:
                "A unique key per request (1-255 visible ASCII). A retry with the same key returns the first response; the same key with another body is 409.",
              schema: { type: "string", minLength: 1, maxLength: 255 },
            },
          ]
        : [];
    paths[r.path] ??= {};
    paths[r.path][r.method] = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [r.tag],
      security: [{ apiKey: [] }],
      "x-scopes": r.scopes,
      parameters: [...parameters(r.params, "path"), ...parameters(r.query, "query"), ...headerParams],
      ...(r.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(r.body) } } } } : {}),
      responses,
    };
  }

  const system = (summary: string, schema?: unknown, type = "application/json") => ({
    get: {
      summary,
      tags: ["System"],
      security: [],
      responses: { 200: { description: summary, ...(schema ? { content: { [type]: { schema } } } : {}) } },
    },
  });
  paths["/healthz"] = system("Health: chain and scorer reachable, outbox depth, indexer lag (503 when degraded)", ref("Health"));
  paths["/metrics"] = system("Prometheus metrics", { type: "string" }, "text/plain");
  paths["/openapi.json"] = system("This document", { type: "object" });
  paths["/docs"] = system("The API reference rendered from this document", { type: "string" }, "text/html");
  paths["/explorer"] = system("The ledger explorer page (asks for an auditor key; reads the chain in the browser)", { type: "string" }, "text/html");
  paths["/explorer/app.js"] = system("The explorer page's script", { type: "string" }, "text/javascript");
  (paths["/explorer/app.js"].get as { responses: Record<string, unknown> }).responses["503"] = {
    description: `Problem document; type ${problemTypeUri("explorer-not-built")}: the script was not built (npm run build)`,
    content: { "application/problem+json": { schema: ref("Problem") } },
  };

  return {
    openapi: "3.1.0",
    info: {
      title: "credit-ledger partner gateway",
      version: info.version,
      description:
        "Apply, quote, draw, repay and read balances on the credit-ledger. Amounts are integers in fen (1/100 yuan) " +
        "as decimal strings; rates are integers in ppm. Every POST needs an Idempotency-Key. Errors are RFC 9457 " +
        "problem documents. Writes are recorded on-chain by the gateway's outbox; `?wait=false` answers 202 with the " +
        "operation to poll." +
        (info.ledgerAddress ? ` Ledger ${info.ledgerAddress} on chain ${info.chainId}.` : ""),
    },
    servers: [{ url: "/" }],
    tags: ["Applications", "Purchases", "Loans", "Accounts", "Operations", "Admin", "Explorer", "System"].map((name) => ({ name })),
    paths,
    components: {
      schemas: { ...components, Problem: components.Problem ?? jsonSchema(ProblemSchema) },
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "An API key with the partner, auditor or admin scope" },
      },
    },
  };
}
