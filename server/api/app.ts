/**
 * The Express application: JSON bodies (size-limited), the route table under /v1 with API-key
 * auth and scopes, the Idempotency-Key on every POST, strict validation of params, query and
 * body, and problem documents for every error. Plus /healthz, /metrics, /openapi.json, /docs.
 */
import { STATUS_CODES, type Server } from "node:http";
import type { Duplex } from "node:stream";
import express, { type NextFunction, type Request, type Response } from "express";
import { z } from "zod";

import type { ApiKeys } from "../auth/api-keys";
import type { Logger } from "../logger";
import type { GatewayMetrics } from "../metrics";
import type { NewAdminAudit } from "../store/store";
import type { ExplorerScript } from "../../verifier/explorer/bundle";
import { authenticate } from "./auth";
import { DOCS_PAGE } from "./docs-page";
import { asApiError, problemMiddleware } from "./error-answers";
import { mountExplorer, type ExplorerConfigSource } from "./explorer";
import { idempotencyKeyOf, requestFingerprint } from "./idempotency";
import { ApiError, sendProblem, validationProblem } from "./problems";
import type { PartnerRateLimits } from "./rate-limits";
import { expressPath, type HandlerContext, type RouteDef } from "./route-table";

export interface HealthReport {
  healthy: boolean;
  body: unknown;
}

export interface AppDeps {
  routes: RouteDef[];
  apiKeys: ApiKeys;
  logger: Logger;
  metrics: GatewayMetrics;
  openApi: () => Record<string, unknown>;
  health: () => Promise<HealthReport>;
  bodyLimitBytes: number;
  /** Whether POSTs without ?wait= wait for confirmation. */
  defaultWait: boolean;
  /** Per-partner rate limits (partners' requests only). */
  rateLimits: PartnerRateLimits;
  /** Writes an admin action to the admin audit log. */
  recordAudit(audit: NewAdminAudit): Promise<void>;
  /** The explorer page (/explorer, /explorer/app.js), when given, with its built script (undefined: not built). */
  explorer?: ExplorerConfigSource;
  explorerScript?: ExplorerScript;
}

/** A change only an admin may make, that its route does not log itself. */
const isAdminAction = (route: RouteDef): boolean => route.method !== "get" && !route.auditsItself && route.scopes.length === 1 && route.scopes[0] === "admin";

/**
 * A body is UTF-8, and valid UTF-8: JSON text is UTF-8 (RFC 8259 section 8.1), and decoded
 * leniently a stray byte would become U+FFFD and land on-chain inside a merchant reference.
 * Another charset is refused (415) rather than decoded, leniently, by the parser.
 */
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });
function requireUtf8(_req: unknown, _res: unknown, body: Buffer, encoding: string): void {
  if (!/^utf-?8$/i.test(encoding)) throw Object.assign(new Error(`the charset ${encoding} is not UTF-8`), { type: "charset.unsupported" });
  try {
    STRICT_UTF8.decode(body);
  } catch {
    throw Object.assign(new Error("the body is not valid UTF-8"), { type: "entity.encoding.invalid" });
  }
}

/** Routes without query parameters refuse any. */
const NO_QUERY = z.strictObject({});

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, prefix?: string): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw validationProblem(result.error, prefix);
  return result.data;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  app.set("etag", false);

  // Timing and a request log line (no bodies: they hold PII).
  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const route = (req.route?.path as string | undefined) ?? "unmatched";
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      deps.metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
      deps.metrics.httpDuration.observe({ route, method: req.method }, seconds);
      deps.logger.debug({ method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) }, "request");
    });
    next();
  });

  app.use(express.json({ limit: deps.bodyLimitBytes, strict: true, type: ["application/json", "application/*+json"], verify: requireUtf8 }));

  app.get("/healthz", async (_req, res) => {
    const report = await deps.health();
    res.status(report.healthy ? 200 : 503).json(report.body);
  });
  app.get("/metrics", async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  app.get("/openapi.json", (_req, res) => {
    res.json(deps.openApi());
  });
  app.get("/docs", (_req, res) => {
    res.type("text/html").send(DOCS_PAGE);
  });
  if (deps.explorer) mountExplorer(app, deps.explorer, deps.explorerScript);

  for (const route of deps.routes) {
    app[route.method](expressPath(route.path), async (req: Request, res: Response) => {
      const auth = await authenticate(deps.apiKeys, req, route.scopes);
      if (auth.partner) await deps.rateLimits.take(auth.partner, res);
      if (route.method === "post") {
        if (!req.is(["application/json", "application/*+json"])) {
          throw new ApiError("unsupported-media-type", "send the body as JSON with Content-Type: application/json", {
            field: "Content-Type",
          });
        }
      }
      const params = parse(route.params, req.params);
      const query = parse(route.query ?? NO_QUERY, req.query);
      const body = parse(route.body, req.body);
      const ctx: HandlerContext<unknown, unknown, unknown> = {
        params,
        query,
        body,
        auth,
        req,
        idempotency: { owner: auth.owner, partnerId: auth.partner?.id, key: "", fingerprint: "" },
        wait: deps.defaultWait,
      };
      if (route.method === "post") {
        ctx.idempotency = {
          owner: auth.owner,
          partnerId: auth.partner?.id,
          key: idempotencyKeyOf(req),
          fingerprint: requestFingerprint(req.method, req.path, req.body),
        };
        const wait = (query as { wait?: string } | undefined)?.wait;
        ctx.wait = wait === undefined ? deps.defaultWait : wait === "true";
      }
      const result = await route.handle(ctx);
      if (isAdminAction(route) && result.status < 400 && result.headers?.["Idempotent-Replayed"] === undefined) {
        // Every admin action is in the admin audit log (partner management writes its own, with before and after).
        await deps.recordAudit({ actor: auth.key.id, action: route.operationId, target: JSON.stringify(params ?? {}), after: { request: ctx.body ?? null, status: result.status } });
      }
      for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
      if (result.body === undefined) {
        res.status(result.status).end();
        return;
      }
      res
        .status(result.status)
        .type(result.contentType ?? "application/json")
        .send(JSON.stringify(result.body));
    });
  }

  app.use((req: Request, res: Response) => {
    sendProblem(res, new ApiError("not-found", `no route ${req.method} ${req.path}`).toProblem(req.path));
  });
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    const apiError = asApiError(error);
    if (apiError.status === 401) res.setHeader("WWW-Authenticate", 'Bearer realm="credit-ledger"');
    problemMiddleware(deps.logger)(error, req, res, next);
  });
  return app;
}

/**
 * Requests Node's HTTP parser refuses before the app sees them (bytes not allowed in a header,
 * a header injected with CR or LF, oversized headers) get a problem document too, instead of
 * Node's bare "400 Bad Request"; the connection is closed.
 */
export function answerClientErrors(server: Server): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || error.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    const problem =
      error.code === "HPE_HEADER_OVERFLOW"
        ? new ApiError("headers-too-large", "the request's headers exceed the server's limit")
        : new ApiError("malformed-request", "the request could not be parsed as HTTP/1.1 (a bad character, line ending or header)");
    const body = JSON.stringify(problem.toProblem());
    socket.end(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
