/**
 * Hostile input against every endpoint. The endpoints are enumerated from the route table
 * (the same table the Express app mounts and the OpenAPI document is generated from), and the
 * app's router is checked to hold nothing else, so a new endpoint without hostile cases here
 * fails this file. Each endpoint gets malformed JSON, wrong types, missing and extra fields,
 * bad amounts (negative, fractional, beyond uint64), oversized and compressed bodies, wrong
 * content types, missing, garbled and under-scoped credentials, bad Idempotency-Keys, path
 * parameters that are not ids, hostile queries and prototype-pollution keys; each must be
 * answered with a 4xx `application/problem+json` document (naming the field where one is at
 * fault), never a 500. After every group the database (every row of every table) and the
 * chain (block number, the operator's nonce, every account's seq and head) must be exactly
 * as before. Requests the HTTP parser itself refuses (header injection, oversized headers)
 * are sent over a raw socket.
 *
 * Each case is built around a valid request (a real account, real loans) that would write if
 * the defence were missing, so a gap shows up as a changed database or chain.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import request from "supertest";

import { answerClientErrors } from "../../server/api/app";
import { expressPath, type RouteDef } from "../../server/api/route-table";
import { buildRoutes } from "../../server/api/routes";
import { DEFAULT_MODEL } from "../../server/scoring/underwriting";
import { GOOD_FEATURES, nationalIdFrom } from "../helpers/identities";
import { approvedAccount, post, testGateway, type TestGateway } from "../helpers/gateway";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const BODY_LIMIT = 4_096;

/** The fixture's person, and a person new to the gateway (an application for them would open an account). */
const KNOWN_PERSON = nationalIdFrom("11010119900307803");
const NEW_PERSON = nationalIdFrom("11010119850101123");

/** The route table as the app mounts it (only `model` is used when the table is built). */
const ROUTES: RouteDef[] = buildRoutes({ model: DEFAULT_MODEL, development: true } as Parameters<typeof buildRoutes>[0]);

/** Endpoints outside the route table: no input, no auth. */
const SYSTEM_PATHS = ["/healthz", "/metrics", "/openapi.json", "/docs", "/explorer", "/explorer/app.js"];

/** What a valid request of each endpoint looks like (built from the fixture); hostile cases start from it. */
interface Valid {
  params: Record<string, string>;
  body?: Json;
  /** The key of the scope that may call it. */
  key: "partner" | "admin";
}

interface Fixture {
  accountId: string;
  purchaseLoanId: string;
  cashLoanId: string;
  operationId: string;
  webhookId: string;
  partnerId: string;
  keyId: string;
}

const VALID: Record<string, (f: Fixture) => Valid> = {
  apply: () => ({
    params: {},
    body: {
      identity: { nationalId: NEW_PERSON, name: "王五", phone: "+86 138 0000 0000" },
      product: "pay_later",
      features: GOOD_FEATURES,
      consent: true,
    },
    key: "partner",
  }),
  quote: () => ({ params: {}, body: { product: "pay_later", amount: "100000", installments: 3 }, key: "partner" }),
  purchase: (f) => ({ params: {}, body: { accountId: f.accountId, amount: "1000", installments: 1, merchantReference: "order-1" }, key: "partner" }),
  refund: (f) => ({ params: { loanId: f.purchaseLoanId }, body: { amount: "100" }, key: "partner" }),
  drawCashLoan: (f) => ({ params: {}, body: { accountId: f.accountId, amount: "10000", periods: 6, method: "annuity" }, key: "partner" }),
  repay: (f) => ({ params: {}, body: { loanId: f.cashLoanId, amount: "100" }, key: "partner" }),
  restructure: (f) => ({ params: { loanId: f.cashLoanId }, body: { periods: 12, holidayDays: 10 }, key: "admin" }),
  writeOff: (f) => ({ params: { loanId: f.cashLoanId }, body: {}, key: "admin" }),
  getAccount: (f) => ({ params: { accountId: f.accountId }, key: "partner" }),
  getAccountHistory: (f) => ({ params: { accountId: f.accountId }, key: "partner" }),
  getLoan: (f) => ({ params: { loanId: f.cashLoanId }, key: "partner" }),
  getOperation: (f) => ({ params: { operationId: f.operationId }, key: "partner" }),
  freezeLine: (f) => ({ params: { accountId: f.accountId }, body: { product: "pay_later", reasonCode: 7 }, key: "partner" }),
  unfreezeLine: (f) => ({ params: { accountId: f.accountId }, body: { product: "pay_later", reasonCode: 7 }, key: "admin" }),
  reinstateLine: (f) => ({ params: { accountId: f.accountId }, body: { product: "pay_later", features: GOOD_FEATURES }, key: "admin" }),
  reviewLimit: (f) => ({ params: { accountId: f.accountId }, body: { product: "pay_later", features: GOOD_FEATURES }, key: "partner" }),
  raiseLimitTemporarily: (f) => ({ params: { accountId: f.accountId }, body: { product: "pay_later", features: GOOD_FEATURES, days: 7 }, key: "partner" }),
  setExposureCap: (f) => ({ params: { accountId: f.accountId }, body: { exposureCap: "100000" }, key: "admin" }),
  forgetIdentity: (f) => ({ params: { accountId: f.accountId }, key: "admin" }),
  getExplorerConfig: () => ({ params: {}, key: "admin" }),
  registerWebhook: () => ({ params: {}, body: { url: "http://127.0.0.1:9/hooks", events: ["reminder.due_today", "line.frozen"] }, key: "partner" }),
  listWebhooks: () => ({ params: {}, key: "partner" }),
  deleteWebhook: (f) => ({ params: { webhookId: f.webhookId }, key: "partner" }),
  listWebhookDeliveries: (f) => ({ params: { webhookId: f.webhookId }, key: "partner" }),
  replayWebhookDelivery: (f) => ({ params: { webhookId: f.webhookId }, body: { deliveryId: `dlv_${"0".repeat(32)}` }, key: "partner" }),
  getCreditReport: (f) => ({ params: { accountId: f.accountId }, key: "partner" }),
  advanceClock: () => ({ params: {}, body: { days: 1 }, key: "admin" }),
  runServicing: () => ({ params: {}, body: { tasks: ["delinquency", "reminders"] }, key: "admin" }),
  createPartner: () => ({ params: {}, body: { name: "a new partner", ratePerMinute: 60, burst: 10, products: ["pay_later"], webhookQuota: 2 }, key: "admin" }),
  listPartners: () => ({ params: {}, key: "admin" }),
  getPartner: (f) => ({ params: { partnerId: f.partnerId }, key: "admin" }),
  suspendPartner: (f) => ({ params: { partnerId: f.partnerId }, body: { reason: "a hostile test" }, key: "admin" }),
  reactivatePartner: (f) => ({ params: { partnerId: f.partnerId }, body: { reason: "a hostile test" }, key: "admin" }),
  configurePartner: (f) => ({ params: { partnerId: f.partnerId }, body: { ratePerMinute: 120 }, key: "admin" }),
  issuePartnerKey: (f) => ({ params: { partnerId: f.partnerId }, body: { name: "another key" }, key: "admin" }),
  listPartnerKeys: (f) => ({ params: { partnerId: f.partnerId }, key: "admin" }),
  rotatePartnerKey: (f) => ({ params: { partnerId: f.partnerId, keyId: f.keyId }, body: { overlapSeconds: 60 }, key: "admin" }),
  revokePartnerKey: (f) => ({ params: { partnerId: f.partnerId, keyId: f.keyId }, body: { reason: "a hostile test" }, key: "admin" }),
  getAdminAuditLog: () => ({ params: {}, key: "admin" }),
};

// ---------------------------------------------------------------- cases

/** One hostile request and what must come back. */
interface Case {
  label: string;
  method?: string;
  /** The path with any query; default: the route's path with the valid params. */
  path?: string;
  /** Header values; `null` leaves the header out. Defaults: the route's key, a fresh Idempotency-Key, JSON. */
  headers?: Record<string, string | null>;
  /** The raw body; default: the valid body (POST) or none. */
  body?: string | Buffer | null;
  status?: number;
  field?: string;
  type?: string;
}

const RAW = Symbol("raw JSON text");
/** A JSON value written as raw text (numbers JSON.stringify cannot write, such as 1e400). */
const raw = (text: string) => ({ [RAW]: text }) as unknown as Json;
const REMOVE = Symbol("remove");

/** JSON text of `value`, with `raw()` values spliced in and own `__proto__` keys kept. */
function jsonText(value: Json): string {
  if (value !== null && typeof value === "object" && RAW in (value as object)) return (value as unknown as Record<symbol, string>)[RAW];
  if (Array.isArray(value)) return `[${value.map(jsonText).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .map((k) => `${JSON.stringify(k)}:${jsonText((value as Record<string, Json>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A copy of `root` with the value at `path` replaced (or removed, or an own key added to the object there). */
function edit(root: Json, path: string[], change: Json | typeof REMOVE, addKey?: string): Json {
  const copy = (v: Json): Json => (v === null || typeof v !== "object" ? v : Array.isArray(v) ? v.map(copy) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)])));
  const out = copy(root);
  let target = out as Record<string, Json>;
  const keys = addKey === undefined ? path.slice(0, -1) : path;
  for (const k of keys) target = target[k] as Record<string, Json>;
  if (addKey !== undefined) {
    Object.defineProperty(target, addKey, { value: change as Json, enumerable: true, writable: true, configurable: true });
  } else if (change === REMOVE) {
    delete target[path[path.length - 1]];
  } else {
    target[path[path.length - 1]] = change;
  }
  return out;
}

/** Every value in `body` with its path, objects included (the root is the empty path). */
function walk(value: Json, path: string[] = []): Array<{ path: string[]; value: Json }> {
  const here = [{ path, value }];
  if (value === null || typeof value !== "object" || Array.isArray(value)) return here;
  return [...here, ...Object.entries(value).flatMap(([k, v]) => walk(v, [...path, k]))];
}

const WRONG_TYPES: Record<string, Json[]> = {
  string: [12345, true, null, {}, [], "", "x".repeat(300)],
  number: ["3", true, null, {}, [], 1.5, -1, raw("1e400"), raw("-1e400"), raw("9007199254740993"), raw("1e-7")],
  boolean: ["true", 1, null, false, {}, []],
  object: ["x", 1, null, [], true],
};

const BAD_AMOUNTS: Json[] = [
  "-1",
  "-0",
  "0",
  "0.5",
  "1.0",
  "1e3",
  "0x10",
  " 100",
  "100 ",
  "+100",
  "00100",
  "١٢٣",
  "NaN",
  "Infinity",
  "18446744073709551616", // 2^64: beyond uint64
  "99999999999999999999",
  "1" + "0".repeat(40),
  100,
  -100,
  1.5,
  raw("1e21"),
  raw("18446744073709551616"),
];

/** Values that are not ids, for path parameters (already URL-encoded). */
const BAD_IDS = [
  "123",
  `0x${"g".repeat(64)}`,
  `0x${"a".repeat(63)}`,
  `0x${"a".repeat(65)}`,
  `0x${"a".repeat(64)}:0`,
  `0x${"a".repeat(64)}:-1`,
  `0x${"a".repeat(64)}:1.5`,
  `op_${"Z".repeat(32)}`,
  "%00",
  "%ZZ",
  "%E0%A4%A",
  "..%2F..%2Fetc%2Fpasswd",
  "%2e%2e",
  "__proto__",
  "constructor",
  "%E2%80%AE",
  "null",
  "x".repeat(3_000),
];

const POLLUTION_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"];

/** Body-level cases of a POST route: structure, types, fields, amounts, pollution. */
function bodyCases(valid: Json, requiredAt: (path: string[]) => string[]): Case[] {
  const cases: Case[] = [];
  const field = (path: string[]) => path.join(".") || "(body)";
  for (const { path, value } of walk(valid)) {
    const where = field(path);
    if (path.length > 0) {
      const kind = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
      for (const wrong of WRONG_TYPES[kind] ?? []) {
        cases.push({ label: `${where} = ${jsonText(wrong).slice(0, 40)}`, body: jsonText(edit(valid, path, wrong)), status: 400, field: where });
      }
      if (path[path.length - 1] === "amount") {
        for (const amount of BAD_AMOUNTS) {
          cases.push({ label: `amount ${jsonText(amount).slice(0, 30)}`, body: jsonText(edit(valid, path, amount)), status: 400, field: where });
        }
        // Well-formed, the largest uint64: more than any line holds, and with a fee or interest
        // more than 64 bits hold (a quote of it once failed with a 500). A 4xx, no write.
        cases.push({ label: "amount 2^64 - 1", body: jsonText(edit(valid, path, "18446744073709551615")), field: where });
      }
    }
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const key of requiredAt(path)) {
        cases.push({ label: `missing ${field([...path, key])}`, body: jsonText(edit(valid, [...path, key], REMOVE)), status: 400, field: field([...path, key]) });
      }
      cases.push({ label: `extra field in ${where}`, body: jsonText(edit(valid, path, 1, "unexpectedField")), status: 400, field: field([...path, "unexpectedField"]) });
      for (const key of POLLUTION_KEYS) {
        const payload: Json = key === "constructor" ? { prototype: { polluted: true } } : { polluted: true, isAdmin: true };
        cases.push({ label: `${key} in ${where}`, body: jsonText(edit(valid, path, payload, key)), status: 400, field: field([...path, key]) });
      }
    }
  }
  const validText = jsonText(valid);
  const malformed = [
    "{",
    '{"a":}',
    "{'amount':'1'}",
    '{"amount":"1",}',
    `${validText}x`,
    `${validText}${validText}`,
    validText.slice(0, -1),
    `\ufeff{`,
    "nul",
    "undefined",
    "NaN",
    '{"amount":"1\u0000"',
    "{".repeat(2_000),
  ];
  malformed.forEach((text, i) => cases.push({ label: `malformed JSON #${i + 1}`, body: text, status: 400, field: "(body)", type: "/problems/malformed-json" }));
  for (const text of ["null", '"a string"', "12345", "true"]) {
    cases.push({ label: `top-level ${text}`, body: text, status: 400, field: "(body)" });
  }
  // A body of no fields (a write-off's) is the empty object, which an empty body also parses to.
  const empty = validText === "{}" ? [] : ["{}", "", "   "];
  for (const text of ["[]", `[${validText}]`, "[".repeat(1_500) + "]".repeat(1_500), ...empty]) {
    cases.push({ label: `body ${JSON.stringify(text.slice(0, 20))}${text.length > 20 ? "..." : ""}`, body: text, status: 400 });
  }
  // The last of duplicate keys wins in JSON.parse: a bad value after a good one is still bad.
  if (validText.includes('"amount":')) {
    cases.push({ label: "duplicate amount, the last bad", body: validText.replace('"amount":', '"amount":"1","amount":"-1","x":'), status: 400 });
  }
  cases.push({ label: "invalid UTF-8 in a value", body: Buffer.concat([Buffer.from('{"amount":"1'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), status: 400 });
  // The valid body with bytes that are not UTF-8 inside a free-text value (the purchase's
  // merchantReference, a name, a reason): decoded leniently they would pass validation and be written.
  const text = /"(merchantReference|name|reason)":"/.exec(validText);
  if (text) {
    const at = text.index + text[0].length;
    const bytes = Buffer.concat([Buffer.from(validText.slice(0, at)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(validText.slice(at))]);
    cases.push({ label: "bytes ff fe c3 inside a valid string", body: bytes, status: 400, type: "/problems/malformed-json", field: "(body)" });
  }
  return cases;
}

/** Size, encoding and media-type cases of a POST route, around its valid body. */
function transportCases(valid: Json): Case[] {
  const text = jsonText(valid);
  const padded = text.replace(/^\{/, `{"pad":"${"x".repeat(BODY_LIMIT)}",`);
  const bomb = gzipSync(Buffer.from(`{"pad":"${" ".repeat(1_000_000)}"}`));
  return [
    { label: "body over the limit", body: padded, status: 413, field: "(body)", type: "/problems/body-too-large" },
    { label: "body of 1 MB", body: `{"pad":"${"x".repeat(1_000_000)}"}`, status: 413, type: "/problems/body-too-large" },
    { label: "gzip bomb (1 MB inflated)", body: bomb, headers: { "Content-Encoding": "gzip" }, status: 413, type: "/problems/body-too-large" },
    { label: "gzip of garbage", body: Buffer.from("not gzip at all"), headers: { "Content-Encoding": "gzip" }, status: 400 },
    { label: "unknown Content-Encoding", body: text, headers: { "Content-Encoding": "x-bogus" }, status: 415, field: "Content-Type" },
    ...["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "application/xml", "application/octet-stream", "application/jso", "json", "text/json"].map(
      (type): Case => ({ label: `Content-Type ${type}`, body: text, headers: { "Content-Type": type }, status: 415, field: "Content-Type" }),
    ),
    // Decoded as UTF-16 the UTF-8 text is not JSON: a 400 or a 415, either way nothing is read.
    { label: "Content-Type json, charset utf-16", body: text, headers: { "Content-Type": "application/json; charset=utf-16" } },
    { label: "Content-Type json, charset koi8-r", body: text, headers: { "Content-Type": "application/json; charset=koi8-r" }, status: 415 },
    { label: "no Content-Type", body: Buffer.from(text), headers: { "Content-Type": null }, status: 415, field: "Content-Type" },
    { label: "no body at all", body: null, headers: { "Content-Type": null }, status: 415, field: "Content-Type" },
  ];
}

/** Credential and Idempotency-Key cases, each around the valid request (so a gap would write). */
function headerCases(route: RouteDef, keys: TestGateway["keys"], validKey: "partner" | "admin"): Case[] {
  const key = keys[validKey];
  const cases: Case[] = [
    { label: "no Authorization", headers: { Authorization: null }, status: 401, field: "Authorization" },
    ...[
      "Bearer",
      "Bearer  ",
      `bearer ${key}`,
      `Basic ${Buffer.from(`user:${key}`).toString("base64")}`,
      `Token ${key}`,
      `Bearer ${key} ${key}`,
      `Bearer ${key}x`,
      `Bearer ${key.slice(0, -1)}`,
      `Bearer clk_${"A".repeat(43)}`,
      `Bearer ${"A".repeat(8_000)}`,
      "Bearer caf\u00e9",
      `Bearer ${key},Bearer ${key}`,
      `Bearer ${key}\u0085`,
    ].map((value): Case => ({ label: `Authorization ${JSON.stringify(value.slice(0, 30))}`, headers: { Authorization: value }, status: 401, field: "Authorization" })),
  ];
  const weaker = route.scopes.includes("partner") ? ["auditor"] : ["auditor", "partner"];
  for (const scope of weaker) {
    if (route.scopes.includes(scope as never)) continue;
    cases.push({ label: `a key of scope ${scope}`, headers: { Authorization: `Bearer ${keys[scope as keyof typeof keys]}` }, status: 403, field: "Authorization" });
  }
  if (route.method === "post") {
    cases.push(
      { label: "no Idempotency-Key", headers: { "Idempotency-Key": null }, status: 400, field: "Idempotency-Key" },
      ...["", "k".repeat(256), "k".repeat(10_000), "has space", "caf\u00e9", "tab\there", "nel\u0085Set-Cookie:x=1", "\u00ff".repeat(10)].map(
        (value): Case => ({ label: `Idempotency-Key ${JSON.stringify(value.slice(0, 24))}`, headers: { "Idempotency-Key": value }, status: 400, field: "Idempotency-Key" }),
      ),
    );
  }
  return cases;
}

/** Path-parameter and query cases. */
function urlCases(route: RouteDef, valid: Valid): Case[] {
  const cases: Case[] = [];
  const pathWith = (params: Record<string, string>) => route.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name]);
  for (const name of Object.keys(valid.params)) {
    for (const bad of BAD_IDS) {
      // Encoded slashes and dots stay in the parameter (it is decoded after matching); a broken
      // percent-encoding cannot be decoded at all, so no field can be named for it.
      const broken = bad === "%ZZ" || bad === "%E0%A4%A";
      cases.push({ label: `${name} = ${bad.slice(0, 30)}`, path: pathWith({ ...valid.params, [name]: bad }), field: broken ? undefined : name });
    }
  }
  const base = pathWith(valid.params);
  const queries = [
    "unknown=1",
    "__proto__=1",
    "constructor=1",
    "__proto__[polluted]=1",
    "wait=maybe",
    "wait=true&wait=false",
    "wait[]=true",
    "wait=%ZZ",
    "at=-1",
    "at=1e9",
    "at=9999999999999",
    "at=",
    `x=${"y".repeat(5_000)}`,
  ];
  for (const query of queries) {
    cases.push({ label: `query ${query.slice(0, 30)}`, path: `${base}?${query}`, status: 400, field: query.split("=")[0] });
  }
  // A trailing segment is an unknown path, unless a route of the same method takes an id
  // there (GET /v1/admin/partners/extra is getPartner with a malformed partner id).
  const depth = route.path.split("/").length;
  const shadow = ROUTES.find((r) => r.method === route.method && r.path.startsWith(`${route.path}/{`) && r.path.split("/").length === depth + 1);
  cases.push(
    shadow
      ? { label: "trailing path segment (another route's malformed id)", path: `${base}/extra`, status: 400, field: /\{(\w+)\}$/.exec(shadow.path)![1] }
      : { label: "trailing path segment", path: `${base}/extra`, status: 404 }
  );
  cases.push({ label: "double slash", path: base.replace("/v1/", "/v1//"), status: 404 });
  return cases;
}

// ---------------------------------------------------------------- the state that must not change

interface StateSnapshot {
  tables: Record<string, { rows: number; hash: string }>;
  chain: { block: number; operatorNonce: number; accounts: Record<string, string> };
}

async function snapshot(t: TestGateway): Promise<StateSnapshot> {
  const db = t.store.db;
  const tables: StateSnapshot["tables"] = {};
  for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>) {
    const rows = db.prepare(`SELECT * FROM "${name}"`).all() as Array<Record<string, unknown>>;
    const text = rows.map((r) => JSON.stringify(r)).sort();
    tables[name] = { rows: rows.length, hash: createHash("sha256").update(text.join("\n")).digest("hex") };
  }
  const ids = new Set<string>();
  for (const table of ["accounts", "vault", "operations"]) {
    for (const r of db.prepare(`SELECT DISTINCT account_id AS id FROM "${table}"`).all() as Array<{ id: string }>) ids.add(r.id.toLowerCase());
  }
  const accounts: Record<string, string> = {};
  for (const id of [...ids].sort()) {
    const a = await t.l.ledger.accountOf(id);
    accounts[id] = `seq ${a.seq} head ${a.head} used ${a.used}`;
  }
  return {
    tables,
    chain: { block: await t.provider.getBlockNumber(), operatorNonce: await t.provider.getTransactionCount(t.operator.address), accounts },
  };
}

// ---------------------------------------------------------------- sending

interface Answer {
  status: number;
  type: string;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

let idempotencyCounter = 0;
let casesSent = 0;

async function sendCase(t: TestGateway, route: RouteDef, valid: Valid, c: Case): Promise<Answer> {
  casesSent += 1;
  const method = (c.method ?? route.method).toLowerCase() as "get" | "post" | "delete" | "put" | "patch";
  const path = c.path ?? route.path.replace(/\{(\w+)\}/g, (_, name: string) => valid.params[name]);
  const headers: Record<string, string | null> = {
    Authorization: `Bearer ${t.keys[valid.key]}`,
    ...(method === "post" ? { "Idempotency-Key": `hostile-${Date.now()}-${++idempotencyCounter}`, "Content-Type": "application/json" } : {}),
    ...c.headers,
  };
  let req = request(t.gateway.app)[method](path);
  for (const [name, value] of Object.entries(headers)) if (value !== null) req = req.set(name, value);
  const body = c.body !== undefined ? c.body : method === "post" && valid.body !== undefined ? jsonText(valid.body) : null;
  // Bytes go out as they are (superagent would JSON-encode a Buffer sent as application/json).
  const res = body === null ? await req : typeof body === "string" ? await req.send(body) : await req.serialize((b: unknown) => b as string).send(body);
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(res.text) as Record<string, unknown>;
  } catch {
    /* not JSON: reported by the check */
  }
  return { status: res.status, type: String(res.headers["content-type"] ?? ""), body: parsed, headers: res.headers as Record<string, string> };
}

/** Why `a` is not the problem `c` asks for; undefined when it is. */
function mismatch(c: Case, a: Answer): string | undefined {
  const what = `${a.status} ${a.type} ${JSON.stringify(a.body).slice(0, 300)}`;
  if (a.status < 400 || a.status > 499) return `not a 4xx: ${what}`;
  if (!/^application\/problem\+json/.test(a.type)) return `not a problem document: ${what}`;
  const b = a.body;
  if (typeof b.type !== "string" || !b.type.startsWith("/problems/") || typeof b.title !== "string" || typeof b.detail !== "string" || b.status !== a.status) {
    return `not a well-formed problem: ${what}`;
  }
  if (c.status !== undefined && a.status !== c.status) return `status ${a.status}, expected ${c.status}: ${what}`;
  if (c.type !== undefined && b.type !== c.type) return `type ${String(b.type)}, expected ${c.type}: ${what}`;
  if (c.field !== undefined && b.field !== c.field) return `field ${String(b.field)}, expected ${c.field}: ${what}`;
  if (Object.keys(a.headers).some((h) => /injected|set-cookie/i.test(h))) return `a header was injected: ${JSON.stringify(a.headers)}`;
  return undefined;
}

// ---------------------------------------------------------------- the tests

describe("hostile input: every endpoint answers a 4xx problem document and nothing changes", function () {
  let t: TestGateway;
  let fixture: Fixture;
  let openApi: Record<string, any>;
  let before_: StateSnapshot;

  before(async () => {
    t = await testGateway({ GATEWAY_BODY_LIMIT_BYTES: String(BODY_LIMIT) });
    const accountId = await approvedAccount(t, "pay_later", { nationalId: KNOWN_PERSON });
    expect(await approvedAccount(t, "cash_loan", { nationalId: KNOWN_PERSON })).to.equal(accountId);
    const purchase = await post(t, "/v1/purchases", { accountId, amount: "30000", installments: 3 });
    const loan = await post(t, "/v1/loans", { accountId, amount: "60000", periods: 6, method: "annuity" });
    expect([purchase.status, loan.status]).to.deep.equal([201, 201]);
    // A webhook for an event this file never causes: no delivery is attempted while the state is compared.
    const hook = await post(t, "/v1/webhooks", { url: "http://127.0.0.1:9/hooks", events: ["reminder.overdue_day_30"] });
    expect(hook.status).to.equal(201);
    const created = await t.gateway.partners.create({ name: "fixture partner" }, "test");
    fixture = {
      partnerId: created.partner.id,
      keyId: created.key.id,
      accountId,
      purchaseLoanId: purchase.body.loanId,
      cashLoanId: loan.body.loanId,
      operationId: loan.body.operation.id,
      webhookId: hook.body.id,
    };
    openApi = (await request(t.gateway.app).get("/openapi.json")).body;
    await t.gateway.indexer.syncTo(await t.provider.getBlockNumber());
    expect((await t.store.outboxDepth()).depth).to.equal(0);
    before_ = await snapshot(t);
  });

  /** Fails when the database or the chain moved since the last check (and takes the new state as the base, so one failure does not cascade). */
  async function expectUnchanged(what: string): Promise<void> {
    const now = await snapshot(t);
    const previous = before_;
    before_ = now;
    expect(now, `${what}: the database and the chain are unchanged`).to.deep.equal(previous);
    expect(({} as Record<string, unknown>).polluted, "Object.prototype is not polluted").to.equal(undefined);
    expect(({} as Record<string, unknown>).isAdmin, "Object.prototype is not polluted").to.equal(undefined);
  }

  after(async () => {
    console.log(`      ${casesSent} hostile requests to ${ROUTES.length} endpoints`);
    await t?.gateway.stop();
  });

  it("knows every endpoint: the app mounts the route table and the system endpoints, and nothing else", () => {
    const mounted = (t.gateway.app as unknown as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } }).router.stack
      .filter((layer) => layer.route)
      .flatMap((layer) => Object.keys(layer.route!.methods).map((m) => `${m.toUpperCase()} ${layer.route!.path}`))
      .sort();
    const expected = [...ROUTES.map((r) => `${r.method.toUpperCase()} ${expressPath(r.path)}`), ...SYSTEM_PATHS.map((p) => `GET ${p}`)].sort();
    expect(mounted).to.deep.equal(expected);
    expect(t.gateway.routes.map((r) => r.operationId).sort()).to.deep.equal(ROUTES.map((r) => r.operationId).sort());
    const documented = Object.entries(openApi.paths as Record<string, Record<string, { operationId?: string }>>)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented).to.deep.equal([...ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`), ...SYSTEM_PATHS.map((p) => `GET ${p}`)].sort());
    const missing = ROUTES.filter((r) => VALID[r.operationId] === undefined).map((r) => r.operationId);
    expect(missing, "endpoints without hostile cases in this file").to.deep.equal([]);
  });

  /**
   * The required fields at a path of a route's body, from the OpenAPI document (`$ref`s
   * resolved; in a union, the first branch: the valid bodies above are of the first branch).
   */
  function requiredFields(route: RouteDef): (path: string[]) => string[] {
    const resolve = (s: any): any => (s && typeof s.$ref === "string" ? resolve(openApi.components.schemas[s.$ref.split("/").pop()]) : s);
    const branch = (s: any): any => resolve(s?.oneOf?.[0] ?? s?.anyOf?.[0] ?? s);
    const root = resolve(openApi.paths[route.path][route.method].requestBody?.content["application/json"].schema);
    return (path) => {
      let schema = branch(root);
      for (const key of path) schema = branch(resolve(schema?.properties?.[key]));
      return (schema?.required ?? []) as string[];
    };
  }

  for (const route of ROUTES) {
    describe(`${route.method.toUpperCase()} ${route.path}`, () => {
      const check = async (cases: (valid: Valid) => Case[]) => {
        const valid = VALID[route.operationId](fixture);
        const failures: string[] = [];
        for (const c of cases(valid)) {
          const answer = await sendCase(t, route, valid, c);
          const why = mismatch(c, answer);
          if (why) failures.push(`${c.label}: ${why}`);
        }
        expect(failures, `${route.method.toUpperCase()} ${route.path}`).to.deep.equal([]);
        await expectUnchanged(`${route.method.toUpperCase()} ${route.path}`);
      };

      it("refuses missing, garbled and under-scoped credentials and bad Idempotency-Keys", () => check((v) => headerCases(route, t.keys, v.key)));

      it("refuses path parameters that are not ids and hostile queries", () => check((v) => urlCases(route, v)));

      if (route.method === "post") {
        it("refuses malformed JSON, wrong types, missing, extra and prototype-polluting fields, bad amounts", () =>
          check((v) => bodyCases(v.body!, requiredFields(route))));

        it("refuses oversized and compressed bodies and wrong content types", () => check((v) => transportCases(v.body!)));
      } else {
        it("refuses a malformed JSON body and an unsupported method", () =>
          check(() => [
            { label: "malformed JSON body", body: "{", headers: { "Content-Type": "application/json" }, status: 400, type: "/problems/malformed-json" },
            { label: "oversized body", body: `{"pad":"${"x".repeat(BODY_LIMIT)}"}`, headers: { "Content-Type": "application/json" }, status: 413 },
            { label: "PUT", method: "put", status: 404 },
            { label: "PATCH", method: "patch", status: 404 },
          ]));
      }
    });
  }

  describe("system endpoints and unknown paths", () => {
    it("answers unknown paths and methods with a problem document", async () => {
      const failures: string[] = [];
      const cases: Array<[string, string]> = [
        ["post", "/healthz"],
        ["delete", "/openapi.json"],
        ["get", "/v1"],
        ["get", "/v1/"],
        ["get", "/v2/accounts"],
        ["get", "/%ZZ"],
        ["get", "/v1/accounts/%ZZ/history/%ZZ"],
        ["get", `/${"a".repeat(5_000)}`],
      ];
      for (const [method, path] of cases) {
        const res = await (request(t.gateway.app) as unknown as Record<string, (p: string) => request.Test>)[method](path).set("Content-Type", "application/json");
        const answer = { status: res.status, type: String(res.headers["content-type"] ?? ""), body: (res.body ?? {}) as Record<string, unknown>, headers: {} };
        const why = mismatch({ label: path }, answer);
        if (why) failures.push(`${method.toUpperCase()} ${path.slice(0, 40)}: ${why}`);
      }
      expect(failures).to.deep.equal([]);
      await expectUnchanged("unknown paths");
    });
  });

  describe("requests the HTTP parser refuses", () => {
    let server: Server;
    let port: number;

    before(async () => {
      server = createServer(t.gateway.app);
      answerClientErrors(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as AddressInfo).port;
    });

    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    /** Writes `text` to a fresh connection and reads the whole answer. */
    const rawRequest = (text: string | Buffer) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1");
        let data = "";
        socket.setTimeout(10_000, () => socket.destroy(new Error("no answer within 10 s")));
        socket.on("data", (chunk) => (data += chunk.toString("latin1")));
        socket.on("end", () => resolve(data));
        socket.on("close", () => resolve(data));
        socket.on("error", reject);
        socket.write(text);
      });

    it("answers header injection, bad header bytes and oversized headers with a 4xx problem document, writing nothing", async () => {
      // A body the app refuses too (amount -1): should the parser let a case through, it still writes nothing.
      const body = jsonText({ accountId: fixture.accountId, amount: "-1" });
      const head = (extra: string, path = "/v1/purchases") =>
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${t.keys.partner}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
      const cases: Array<[string, string | Buffer, number]> = [
        ["CR LF injected into the Idempotency-Key", head("Idempotency-Key: a\r\nX-Injected: 1\rSet-Cookie: x=1\r\n"), 400],
        ["bare LF inside a header value", head("Idempotency-Key: a\nX-Injected: 1\r\n"), 400],
        ["NUL in a header value", head("Idempotency-Key: a\u0000b\r\n"), 400],
        ["obsolete line folding", head("Idempotency-Key: a\r\n X-Injected: 1\r\n"), 400],
        ["a space before the colon", head("Idempotency-Key : a\r\n"), 400],
        ["a header name with a bad character", head("Idem(potency)-Key: a\r\n"), 400],
        ["CR LF injected into the path", head("Idempotency-Key: hostile-path\r\n", "/v1/purchases\r\nX-Injected: 1"), 400],
        ["64 KB of headers", head(`Idempotency-Key: big\r\nX-Padding: ${"p".repeat(65_536)}\r\n`), 431],
        ["two Content-Lengths that disagree", head(`Idempotency-Key: cl\r\nContent-Length: ${Buffer.byteLength(body) + 5}\r\n`), 400],
        ["Content-Length and chunked together", head("Idempotency-Key: te\r\nTransfer-Encoding: chunked\r\n"), 400],
        ["not HTTP at all", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003", 400],
      ];
      const failures: string[] = [];
      for (const [label, text, status] of cases) {
        const answer = await rawRequest(text);
        const [statusLine, ...rest] = answer.split("\r\n");
        const split = answer.indexOf("\r\n\r\n");
        const headers = answer.slice(0, split).toLowerCase();
        let problem: Record<string, unknown> = {};
        try {
          problem = JSON.parse(answer.slice(split + 4)) as Record<string, unknown>;
        } catch {
          /* reported below */
        }
        if (!statusLine.startsWith(`HTTP/1.1 ${status} `)) failures.push(`${label}: ${statusLine} ${rest.join(" | ").slice(0, 200)}`);
        else if (!headers.includes("content-type: application/problem+json") || problem.status !== status || typeof problem.type !== "string") {
          failures.push(`${label}: not a problem document: ${answer.slice(0, 300)}`);
        } else if (/x-injected|set-cookie/.test(headers)) failures.push(`${label}: a header was injected: ${headers}`);
      }
      expect(failures).to.deep.equal([]);
      await expectUnchanged("raw requests");
    });
  });
});
