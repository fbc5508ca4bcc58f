/**
 * The scorer's HTTP API (loopback only; every call but /health needs the bearer token):
 *
 *   GET  /health      {"status":"ok","scorer":"0x…"}
 *   POST /v1/score    evidence + features (partner-reported ones marked) + model id -> the
 *                     decision it computed and stored, with its id
 *   POST /v1/sign     {id, account, nonce, decision?, chainTime?} -> the stored decision signed;
 *                     anything the scorer did not compute, or computed differently, is refused
 *   PUT  /admin/v1/kyc-verifiers/{partner}  {verifier}: whose KYC attestations count for the
 *                     partner; only with SCORER_ADMIN_TOKEN (which the gateway does not hold)
 *
 * Amounts and other uint64s travel as decimal strings. Refusals are problem documents
 * (`application/problem+json`) with the rule's `code`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Server } from "node:http";
import express, { type NextFunction, type Request, type Response } from "express";
import { z } from "zod";

import { jsonValue } from "../core/json";
import { PRODUCT_IDS, type ProductName } from "../core/names";
import { ScorerRefusal, type ScorerService } from "./service";

const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x and 64 hex digits");
const uint = z.string().regex(/^\d{1,20}$/, "must be a decimal integer string").transform((v) => BigInt(v));
const products = Object.keys(PRODUCT_IDS) as [ProductName, ...ProductName[]];

const ScoreBody = z.strictObject({
  account: bytes32,
  partner: z.string().min(1),
  product: z.enum(products),
  modelId: bytes32,
  features: z.strictObject({
    values: z.record(z.string(), z.int().optional()),
    partnerReported: z.array(z.string()).default([]),
  }),
  salt: z.string().regex(/^0x[0-9a-fA-F]+$/),
  evidence: z
    .strictObject({
      attestation: z.strictObject({
        subject: bytes32,
        level: z.int().min(0).max(255),
        issuedAt: uint,
        expiry: uint,
        partner: z.string(),
      }),
      signature: z.string().regex(/^0x[0-9a-fA-F]+$/),
    })
    .optional(),
  subject: bytes32.optional(),
  currentLimit: uint.optional(),
  ledgerCap: uint.optional(),
  ledgerCaps: z.record(z.string().regex(/^\d{1,3}$/), uint).transform((r) => Object.fromEntries(Object.entries(r).map(([t, v]) => [Number(t), v]))).optional(),
  limitExpiry: uint.optional(),
  purpose: z.enum(["line", "restructure", "reinstate"]).optional(),
  restructure: z
    .strictObject({
      loanNo: z.int().min(1).max(0xffff_ffff),
      newPeriods: z.int().min(0).max(255),
      holidayDays: z.int().min(0).max(65_535),
      newRatePpmPerDay: uint,
    })
    .optional(),
});

const DraftBody = z.strictObject({
  account: bytes32,
  productId: z.int(),
  approved: z.boolean(),
  tier: z.int(),
  score: z.int(),
  limit: uint,
  limitExpiry: uint,
  ratePpmPerDay: uint,
  modelId: bytes32,
  featuresHash: bytes32,
  reasonCodes: z.tuple([z.int(), z.int(), z.int(), z.int()]),
});

const SignBody = z.strictObject({ id: z.string().min(1).max(100), account: bytes32, nonce: uint, decision: DraftBody.optional(), chainTime: uint.optional() });

const VerifierBody = z.strictObject({ verifier: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be an address") });

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

function problem(res: Response, status: number, code: string, detail: string, extra: Record<string, unknown> = {}): void {
  res.status(status).type("application/problem+json").send(JSON.stringify({ type: `urn:scorer:${code}`, title: code, status, code, detail, ...extra }));
}

const bearer = (req: Request, expected: Buffer): boolean => {
  const given = req.get("authorization");
  return given !== undefined && timingSafeEqual(digest(given), expected);
};

export function scorerApp(service: ScorerService, token: string, adminToken?: string): express.Express {
  const app = express();
  app.disable("x-powered-by");
  const expected = digest(`Bearer ${token}`);
  const expectedAdmin = adminToken === undefined ? undefined : digest(`Bearer ${adminToken}`);

  app.get("/health", (_req, res) => {
    res.json({ status: "ok", scorer: service.address });
  });

  // The admin API: its own token, never the gateway's.
  app.put("/admin/v1/kyc-verifiers/:partner", express.json({ limit: "4kb" }), (req, res) => {
    if (expectedAdmin === undefined) return problem(res, 404, "NotFound", "the admin API is off: set SCORER_ADMIN_TOKEN to register KYC verifiers");
    if (!bearer(req, expectedAdmin)) return problem(res, 401, "Unauthenticated", "send Authorization: Bearer <SCORER_ADMIN_TOKEN>");
    const body = VerifierBody.safeParse(req.body);
    if (!body.success) return problem(res, 400, "InvalidRequest", z.prettifyError(body.error));
    const partner = String(req.params.partner);
    service.registerVerifier(partner, body.data.verifier);
    res.json({ partner, verifier: service.verifierOf(partner) });
  });

  app.use((req: Request, res: Response, next: NextFunction) => {
    if (!bearer(req, expected)) {
      problem(res, 401, "Unauthenticated", "send Authorization: Bearer <the scorer token> (SCORER_TOKEN / GATEWAY_SCORER_TOKEN)");
      return;
    }
    next();
  });
  app.use(express.json({ limit: "32kb" }));

  app.post("/v1/score", (req, res) => {
    const body = ScoreBody.safeParse(req.body);
    if (!body.success) return problem(res, 400, "InvalidRequest", z.prettifyError(body.error));
    const answer = service.score(body.data);
    res.status(201).json(jsonValue(answer));
  });

  app.post("/v1/sign", async (req, res) => {
    const body = SignBody.safeParse(req.body);
    if (!body.success) return problem(res, 400, "InvalidRequest", z.prettifyError(body.error));
    const answer = await service.sign(body.data);
    res.json(jsonValue(answer));
  });

  app.use((_req, res) => problem(res, 404, "NotFound", "the scorer serves GET /health, POST /v1/score and POST /v1/sign"));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof ScorerRefusal) return problem(res, error.status, error.code, error.message, { details: jsonValue(error.details) });
    if (error instanceof SyntaxError) return problem(res, 400, "InvalidJson", "the body is not JSON");
    problem(res, 500, "Internal", "the scorer failed; see its log");
  });
  return app;
}

/** Listens on `host:port` (port 0: any free one) and resolves with the server and its URL. */
export function listen(app: express.Express, host: string, port: number): Promise<{ server: Server; url: string }> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => {
      if (error) return reject(error);
      const a = server.address();
      const actual = typeof a === "object" && a ? a.port : port;
      resolve({ server, url: `http://${host.includes(":") ? `[${host}]` : host}:${actual}` });
    });
  });
}
