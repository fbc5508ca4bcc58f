/**
 * The operator's command line for partners and their API keys, for operators without HTTP
 * access to the admin API. It opens the gateway's database itself (GATEWAY_DB_PATH, read as
 * the gateway reads it, or --db) and runs the same actions through the same `Partners` class as
 * the admin routes, validated by the same schemas (server/schemas/admin.ts), so the limits
 * agree and every change lands in the admin audit log, with `cli:<os user>` as the actor.
 *
 *   npm run admin -- admin-keys issue --name "ops lead"   # the first admin key, once
 *   npm run admin -- vault rotate --batch-size 500       # re-seal every record under GATEWAY_VAULT_KEY_ID
 *   npm run admin -- keystore new --out operator.json --password-file pw   # a role key, encrypted (no database needed)
 *   npm run admin -- partners list
 *   npm run admin -- partners create --name "Shop" --rate-per-minute 600 --burst 100
 *   npm run admin -- keys rotate ptr_... key_... --overlap-seconds 86400
 *   npm run admin -- --help
 *
 * The gateway may be running on the same file: SQLite's WAL journal lets it read while the CLI
 * writes, and both open the database with a busy timeout (5 s) so a write waits for the
 * other's instead of failing. Nothing about partners or keys is cached in the gateway's memory
 * (every request reads its key and partner from the database; the rate limiter compares the
 * partner's settings on every request), so a change made here takes effect at the gateway's
 * next request.
 *
 * Exit codes: 0 done, 1 no such partner or key, a live admin key already there (admin-keys issue),
 * or the database cannot be used; 2 bad input.
 */
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";

import { jsonValue } from "../core/json";
import { encryptKeystore, KeySourceError, readSecretFile } from "../core/key-source";
import { PRODUCT_NAMES } from "../core/names";
import { ApiKeys, keyView, type IssuedApiKey } from "../server/auth/api-keys";
import { Partners } from "../server/auth/partners";
import { systemClock, type Clock } from "../server/clock";
import { ConfigError, readStoreConfig, readVaultConfig } from "../server/config";
import { DomainError } from "../server/errors";
import { cryptoRandom } from "../server/randomness";
import * as M from "../server/schemas/admin";
import { SqliteStore } from "../server/store/sqlite-store";
import type { AdminAuditRecord, ApiKeyRecord, PartnerRecord } from "../server/store/store";
import { Keyring, VaultSealError } from "../server/vault/keyring";
import { rotateVault } from "../server/vault/rotation";

const SETTINGS_OPTIONS = "[--rate-per-minute <n>] [--burst <n>] [--products <list>] [--webhook-quota <n>]";

export const USAGE = `usage: npm run admin -- <command> [arguments] [--json] [--db <path>]

admin keys
  admin-keys issue --name <name>                  the first admin key (shown once), for a production gateway,
                                                  which prints none; refused while a live admin key exists
  admin-keys revoke <keyId> --reason <text>       an admin key stops authenticating at once (a lost key:
                                                  then issue a first one again)

vault
  vault rotate [--batch-size <n>]                 re-seal every sealed record (PII, decision features) under the
                                                  current key (GATEWAY_VAULT_KEY_ID of GATEWAY_VAULT_KEYS), <n>
                                                  records a transaction (default 500), with progress on stderr;
                                                  afterwards no record names an older key

role keys (no database needed; docs/DEPLOYMENT.md)
  keystore new --out <file> --password-file <file>
                                                  a fresh key in an encrypted JSON keystore (scrypt), written
                                                  0600, never over an existing file; prints its address
  keystore import --key-file <file> --out <file> --password-file <file>
                                                  the raw key a file holds (0x + 64 hex), encrypted likewise

partners
  partners list                                   every partner with its settings and status
  partners create --name <name> ${SETTINGS_OPTIONS}
                                                  a new partner and its first API key (shown once)
  partners show <partnerId>                       a partner and its keys (never the keys themselves)
  partners suspend <partnerId> --reason <text>    refuse every request with its keys (403) until reactivated
  partners reactivate <partnerId> --reason <text> let its keys in again
  partners set <partnerId> [--name <name>] ${SETTINGS_OPTIONS}
                                                  change its settings (at least one); the gateway applies
                                                  them at the partner's next request

keys
  keys issue <partnerId> --name <name>            another API key for the partner (shown once)
  keys list <partnerId>                           its keys, live, expired and revoked
  keys rotate <partnerId> <keyId> --overlap-seconds <s>
                                                  a new key (shown once); the old one keeps working for
                                                  <s> seconds (0 to 2592000, i.e. 30 days; 0 stops it at once)
  keys revoke <partnerId> <keyId> --reason <text> the key stops authenticating at once

audit
  audit [--limit <n>] [--before <id>]             the admin audit log, newest first (default 100, at most
                                                  1000 records; --before <id> gives the next page)

settings (the admin API's limits)
  --rate-per-minute <n>   requests a minute, all the partner's keys together, 1 to 1000000 (default 600)
  --burst <n>             requests above the rate within the same minute, 0 to 1000000 (default 100)
  --products <list>       comma-separated, of ${PRODUCT_NAMES.join(", ")} (default all; "" for none)
  --webhook-quota <n>     webhook endpoints it may register, 0 to 1000 (default 20)
  --name, --reason        1 to 100 characters (a reason up to 200)

options
  --json                  machine-readable output (the admin API's answer bodies)
  --db <path>             the gateway's SQLite database (default: GATEWAY_DB_PATH, as the gateway reads it)
  -h, --help              this text

Changes are written to the admin audit log with the actor cli:<your OS user name>. The gateway may
be running on the same database: it sees a change at its next request.

exit codes: 0 done, 1 no such partner or key, a live admin key already there (admin-keys issue),
            or the database cannot be used; 2 bad input`;

/** Input the operator must fix: exit 2. */
class UsageError extends Error {}

const CLI_FAILED = 1;
const BAD_INPUT = 2;

// ---------------------------------------------------------------- parsing

type Flags = Record<string, string | boolean | undefined>;

interface Invocation {
  ids: Record<string, string>;
  flags: Flags;
}

interface Context {
  env: NodeJS.ProcessEnv;
  apiKeys: ApiKeys;
  partners: Partners;
  store: SqliteStore;
  clock: Clock;
  actor: string;
}

/** What a command prints: `json` with --json, else `text`; `note` goes to stderr either way. */
interface Output {
  json: unknown;
  text: string;
  note?: string;
}

interface Command {
  /** Positional arguments after the command's words, by name. */
  ids: ("partnerId" | "keyId")[];
  /** Its own options (besides --json, --db, --help), all strings. */
  options: string[];
  /** A command that needs no database (the keystore commands): run instead of `run`. */
  standalone?: (input: Invocation) => Promise<Output>;
  run(ctx: Context, input: Invocation): Promise<Output>;
}

/** A new keystore for `privateKey` (or a fresh key) at --out, its password from --password-file. */
async function writeKeystore(flags: Flags, privateKey: string | undefined): Promise<Output> {
  const out = typeof flags.out === "string" ? flags.out : undefined;
  const passwordFile = typeof flags["password-file"] === "string" ? flags["password-file"] : undefined;
  if (out === undefined || passwordFile === undefined) throw new UsageError("--out <file> and --password-file <file> are required");
  if (existsSync(out)) throw new UsageError(`--out: ${out} exists already; a keystore is never overwritten (choose another file)`);
  let password: string;
  try {
    password = readSecretFile("--password-file", passwordFile, "the password to encrypt the key with");
  } catch (error) {
    if (error instanceof KeySourceError) throw new UsageError(error.message);
    throw error;
  }
  if (password.length < 12) throw new UsageError("--password-file: the password must be at least 12 characters");
  const { address, json } = await encryptKeystore(password, privateKey);
  writeFileSync(out, `${json}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(out, 0o600);
  return {
    json: { address, keystore: out },
    text: [
      `keystore ${out} holds the key of ${address} (encrypted with the password in ${passwordFile}).`,
      "Next: grant it its role (OPERATOR_ROLE for the gateway, SCORER_ROLE for the scorer) from the admin key, fund an",
      "operator with gas, and point the process at it: GATEWAY_OPERATOR_KEYSTORE / SCORER_KEYSTORE and their",
      "_KEYSTORE_PASSWORD_FILE (docs/DEPLOYMENT.md, key rotation).",
    ].join("\n"),
  };
}

const SETTINGS = ["rate-per-minute", "burst", "products", "webhook-quota"];

/** A flag's name for a schema field: ratePerMinute -> --rate-per-minute. */
const flagOf = (field: string): string => (field === "partnerId" || field === "keyId" ? `<${field}>` : `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);

/** Parses with an admin API schema; a failure names the flag to fix. */
function validate<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    if (issue.path.length === 0) return issue.message;
    return `${flagOf(String(issue.path[0]))}: ${plainMessage(issue)}`;
  });
  throw new UsageError(lines.join("\n"));
}

/** zod's words for a missing or non-numeric flag, in the operator's. */
function plainMessage(issue: z.core.$ZodIssue): string {
  if (issue.code !== "invalid_type") return issue.message;
  if (/received undefined$/.test(issue.message)) return "is required";
  if (issue.expected === "number" || issue.expected === "int") return "must be a whole number";
  return issue.message;
}

/** A whole number as a number (so the schema checks its range); anything else stays a string, which the schema refuses. */
const numberOf = (v: string | boolean | undefined): unknown => (typeof v === "string" && /^-?[0-9]+$/.test(v.trim()) ? Number(v) : v);

/** The settings flags as the admin API's body fields (absent flags stay absent). */
function settingsOf(flags: Flags): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: flags.name,
    ratePerMinute: numberOf(flags["rate-per-minute"]),
    burst: numberOf(flags.burst),
    products: typeof flags.products === "string" ? flags.products.split(",").map((p) => p.trim()).filter(Boolean) : undefined,
    webhookQuota: numberOf(flags["webhook-quota"]),
  };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}

const partnerIdOf = (input: Invocation): string => validate(M.PartnerParams, { partnerId: input.ids.partnerId }).partnerId;
const keyIdsOf = (input: Invocation) => validate(M.PartnerKeyParams, { partnerId: input.ids.partnerId, keyId: input.ids.keyId });

// ---------------------------------------------------------------- text output

function table(header: string[], rows: string[][]): string {
  if (rows.length === 0) return "(none)";
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

const productsText = (p: readonly string[]): string => (p.length === 0 ? "(none)" : p.join(","));

function partnerText(p: PartnerRecord): string {
  return [
    `partner      ${p.id}`,
    `name         ${p.name}`,
    `status       ${p.status}`,
    `rate         ${p.ratePerMinute} a minute, burst ${p.burst}`,
    `products     ${productsText(p.products)}`,
    `webhooks     at most ${p.webhookQuota}`,
    `created      ${p.createdAt}`,
    `updated      ${p.updatedAt}`,
  ].join("\n");
}

function keyState(k: ApiKeyRecord, clock: Clock): string {
  if (k.revokedAt !== undefined) return "revoked";
  if (k.expiresAt === undefined) return "live";
  return Date.parse(k.expiresAt) <= clock.nowMs() ? "expired" : "expiring";
}

function keysText(keys: ApiKeyRecord[], clock: Clock): string {
  return table(
    ["KEY", "NAME", "STATE", "CREATED", "EXPIRES", "REVOKED"],
    keys.map((k) => [k.id, k.name, keyState(k, clock), k.createdAt, k.expiresAt ?? "-", k.revokedAt ?? "-"])
  );
}

/** The key itself, once: nothing keeps it but the hash. */
function issuedText(k: IssuedApiKey): string {
  return [`key ${k.id} (${k.name}) for partner ${k.partnerId}:`, "", `  ${k.key}`, ""].join("\n");
}

const SHOWN_ONCE = "This key will not be shown again (the gateway keeps only its hash): hand it to the partner now.";

async function issuedJson(store: SqliteStore, k: IssuedApiKey) {
  return { ...keyView((await store.apiKey(k.id))!), key: k.key };
}

// ---------------------------------------------------------------- commands

/** An admin key exists already: exit 1. */
class AdminKeyExists extends Error {}

const COMMANDS: Record<string, Command> = {
  "admin-keys revoke": {
    ids: ["keyId"],
    options: ["reason"],
    async run({ store, actor }, input) {
      const { keyId } = validate(M.PartnerKeyParams.pick({ keyId: true }), { keyId: input.ids.keyId });
      const { reason } = validate(M.ReasonRequest, { reason: input.flags.reason });
      const key = await store.apiKey(keyId);
      if (!key || key.partnerId !== undefined || !key.scopes.includes("admin") || key.revokedAt !== undefined) {
        throw new DomainError("key-not-found", `no live admin key ${keyId}`, { field: "keyId" });
      }
      const revoked = { ...key, revokedAt: new Date().toISOString() };
      await store.updateApiKey(keyId, { revokedAt: revoked.revokedAt }, { actor, action: "admin_key.revoke", target: keyId, reason, before: keyView(key), after: keyView(revoked) });
      return { json: keyView(revoked), text: `admin key ${keyId} revoked at ${revoked.revokedAt}: it no longer authenticates.` };
    },
  },
  "vault rotate": {
    ids: [],
    options: ["batch-size"],
    async run({ store, env }, { flags }) {
      const batchSize = flags["batch-size"] === undefined ? 500 : numberOf(flags["batch-size"]);
      if (typeof batchSize !== "number" || batchSize < 1 || batchSize > 100_000) throw new UsageError("--batch-size: must be a whole number 1 to 100000");
      let keyring: Keyring;
      try {
        keyring = new Keyring(readVaultConfig(env).reveal());
      } catch (error) {
        if (error instanceof ConfigError) throw new UsageError(`${error.message}\nset the gateway's vault keys (GATEWAY_VAULT_KEYS and GATEWAY_VAULT_KEY_ID, or GATEWAY_VAULT_KEY)`);
        throw error;
      }
      const report = rotateVault(store.db, keyring, {
        batchSize,
        onProgress: (p) => console.error(`vault rotate: ${p.table} ${p.done}/${p.total} re-sealed under key ${keyring.currentId}`),
      });
      const lines = Object.entries(report.resealed).map(([table, n]) => `  ${table.padEnd(14)} ${n}`);
      return {
        json: report,
        text: [`every sealed record is now sealed under vault key ${report.keyId}; re-sealed:`, ...lines].join("\n"),
      };
    },
  },
  "keystore new": {
    ids: [],
    options: ["out", "password-file"],
    standalone: ({ flags }) => writeKeystore(flags, undefined),
    run: () => Promise.reject(new Error("keystore new needs no database")),
  },
  "keystore import": {
    ids: [],
    options: ["key-file", "out", "password-file"],
    async standalone({ flags }) {
      if (typeof flags["key-file"] !== "string") throw new UsageError("--key-file <file> is required: a file (mode 0600) holding the raw key, 0x + 64 hex");
      let key: string;
      try {
        key = readSecretFile("--key-file", flags["key-file"], "the raw private key, 0x + 64 hex").trim();
      } catch (error) {
        if (error instanceof KeySourceError) throw new UsageError(error.message);
        throw error;
      }
      if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new UsageError("--key-file: the file must hold 0x and 64 hex digits (its content is not shown)");
      return writeKeystore(flags, key);
    },
    run: () => Promise.reject(new Error("keystore import needs no database")),
  },
  "admin-keys issue": {
    ids: [],
    options: ["name"],
    async run({ apiKeys, store, actor }, { flags }) {
      const { name } = validate(M.KeyIssueRequest, { name: flags.name });
      const result = await apiKeys.issueFirstAdmin(name, actor);
      if ("existing" in result) {
        throw new AdminKeyExists(
          `an admin key is live already (${result.existing.id}, "${result.existing.name}", since ${result.existing.createdAt}): ` +
            "this command issues the first one only; to replace a lost one, npm run admin -- admin-keys revoke <keyId> --reason <text> first"
        );
      }
      const key = result.issued;
      return {
        json: { ...keyView((await store.apiKey(key.id))!), key: key.key },
        text: [`admin key ${key.id} (${key.name}):`, "", `  ${key.key}`, ""].join("\n"),
        note: "This key will not be shown again (the gateway keeps only its hash): keep it in your secret store now.",
      };
    },
  },
  "partners list": {
    ids: [],
    options: [],
    async run({ partners }) {
      const list = await partners.list();
      return {
        json: z.encode(M.PartnerListResponse, { partners: list }),
        text: table(
          ["PARTNER", "NAME", "STATUS", "RATE/MIN", "BURST", "PRODUCTS", "WEBHOOKS", "CREATED"],
          list.map((p) => [p.id, p.name, p.status, String(p.ratePerMinute), String(p.burst), productsText(p.products), String(p.webhookQuota), p.createdAt])
        ),
      };
    },
  },
  "partners create": {
    ids: [],
    options: ["name", ...SETTINGS],
    async run({ partners, store, actor }, { flags }) {
      const body = validate(M.PartnerCreateRequest, settingsOf(flags));
      const { partner, key } = await partners.create(body, actor);
      return {
        json: z.encode(M.PartnerCreatedResponse, { partner, key: await issuedJson(store, key) }),
        text: `${partnerText(partner)}\n\n${issuedText(key)}`,
        note: SHOWN_ONCE,
      };
    },
  },
  "partners show": {
    ids: ["partnerId"],
    options: [],
    async run({ partners, clock }, input) {
      const partner = await partners.get(partnerIdOf(input));
      const keys = await partners.keys(partner.id);
      return {
        json: z.encode(M.PartnerDetailResponse, { partner, keys: keys.map(keyView) }),
        text: `${partnerText(partner)}\n\n${keysText(keys, clock)}`,
      };
    },
  },
  "partners suspend": {
    ids: ["partnerId"],
    options: ["reason"],
    async run({ partners, actor }, input) {
      const id = partnerIdOf(input);
      const { reason } = validate(M.ReasonRequest, { reason: input.flags.reason });
      const partner = await partners.suspend(id, reason, actor);
      return { json: z.encode(M.PartnerView, partner), text: `${partnerText(partner)}\n\nIts keys are refused (403 partner-suspended) until it is reactivated.` };
    },
  },
  "partners reactivate": {
    ids: ["partnerId"],
    options: ["reason"],
    async run({ partners, actor }, input) {
      const id = partnerIdOf(input);
      const { reason } = validate(M.ReasonRequest, { reason: input.flags.reason });
      const partner = await partners.reactivate(id, reason, actor);
      return { json: z.encode(M.PartnerView, partner), text: partnerText(partner) };
    },
  },
  "partners set": {
    ids: ["partnerId"],
    options: ["name", ...SETTINGS],
    async run({ partners, actor }, input) {
      const id = partnerIdOf(input);
      const settings = settingsOf(input.flags);
      if (Object.keys(settings).length === 0) throw new UsageError(`partners set needs at least one of --name, ${SETTINGS.map((s) => `--${s}`).join(", ")}`);
      const partner = await partners.updateSettings(id, validate(M.PartnerSettingsRequest, settings), actor);
      return { json: z.encode(M.PartnerView, partner), text: partnerText(partner) };
    },
  },
  "keys issue": {
    ids: ["partnerId"],
    options: ["name"],
    async run({ partners, store, actor }, input) {
      const id = partnerIdOf(input);
      const { name } = validate(M.KeyIssueRequest, { name: input.flags.name });
      const key = await partners.issueKey(id, name, actor);
      return { json: z.encode(M.IssuedKey, await issuedJson(store, key)), text: issuedText(key), note: SHOWN_ONCE };
    },
  },
  "keys list": {
    ids: ["partnerId"],
    options: [],
    async run({ partners, clock }, input) {
      const keys = await partners.keys(partnerIdOf(input));
      return { json: z.encode(M.KeyListResponse, { keys: keys.map(keyView) }), text: keysText(keys, clock) };
    },
  },
  "keys rotate": {
    ids: ["partnerId", "keyId"],
    options: ["overlap-seconds"],
    async run({ partners, store, actor }, input) {
      const { partnerId, keyId } = keyIdsOf(input);
      if (input.flags["overlap-seconds"] === undefined) throw new UsageError("--overlap-seconds: say how long the old key keeps working (0 stops it at once)");
      const { overlapSeconds } = validate(M.KeyRotateRequest, { overlapSeconds: numberOf(input.flags["overlap-seconds"]) });
      const { key, previous } = await partners.rotateKey(partnerId, keyId, overlapSeconds, actor);
      return {
        json: z.encode(M.KeyRotatedResponse, { key: await issuedJson(store, key), previous: keyView(previous) }),
        text: `${issuedText(key)}The old key ${previous.id} stops working at ${previous.expiresAt}.`,
        note: SHOWN_ONCE,
      };
    },
  },
  "keys revoke": {
    ids: ["partnerId", "keyId"],
    options: ["reason"],
    async run({ partners, actor }, input) {
      const { partnerId, keyId } = keyIdsOf(input);
      const { reason } = validate(M.ReasonRequest, { reason: input.flags.reason });
      const key = await partners.revokeKey(partnerId, keyId, reason, actor);
      return { json: z.encode(M.KeyView, keyView(key)), text: `key ${key.id} revoked at ${key.revokedAt}: it no longer authenticates.` };
    },
  },
  audit: {
    ids: [],
    options: ["limit", "before"],
    async run({ store }, { flags }) {
      const query = validate(M.AuditQuery, Object.fromEntries(Object.entries({ limit: flags.limit, before: flags.before }).filter(([, v]) => v !== undefined)));
      const records = (await store.auditLog(query.limit ?? 100, query.before)).map(auditView);
      return {
        json: z.encode(M.AuditLogResponse, { records }),
        text: table(
          ["ID", "AT", "ACTOR", "ACTION", "TARGET", "REASON"],
          records.map((r) => [String(r.id), r.at, r.actor, r.action, r.target ?? "-", r.reason ?? "-"])
        ),
      };
    },
  },
};

/** An audit record as the admin API answers it. */
const auditView = (r: AdminAuditRecord) => ({
  id: r.id,
  at: r.at,
  actor: r.actor,
  action: r.action,
  target: r.target ?? null,
  reason: r.reason ?? null,
  before: r.before === undefined ? null : jsonValue(r.before),
  after: r.after === undefined ? null : jsonValue(r.after),
});

// ---------------------------------------------------------------- running

/** The command its first words name ("partners create", "audit"), and the rest of the arguments. */
function commandOf(argv: string[]): { name: string; command: Command; rest: string[] } {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    const command = COMMANDS[name];
    if (command !== undefined) return { name, command, rest: argv.slice(words) };
  }
  const given = argv[0].startsWith("-") ? "the command comes first" : `unknown command "${argv.slice(0, 2).join(" ")}"`;
  throw new UsageError(`${given}: one of ${Object.keys(COMMANDS).join(", ")}`);
}

function invocationOf(name: string, command: Command, args: string[]): Invocation & { json: boolean; db?: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        json: { type: "boolean", default: false },
        db: { type: "string" },
        ...Object.fromEntries(command.options.map((o) => [o, { type: "string" as const }])),
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const positionals = parsed.positionals;
  if (positionals.length !== command.ids.length) {
    const wanted = command.ids.length === 0 ? "no arguments" : command.ids.map((i) => `<${i}>`).join(" ");
    throw new UsageError(`${name} takes ${wanted}, got ${positionals.length === 0 ? "none" : positionals.join(" ")}`);
  }
  const ids = Object.fromEntries(command.ids.map((id, i) => [id, positionals[i]]));
  const { json, db, ...flags } = parsed.values as Flags;
  return { ids, flags, json: json === true, ...(typeof db === "string" ? { db } : {}) };
}

/** The gateway's database: it must exist already (a mistyped path would otherwise make a new, empty one). */
function openStore(dbFlag: string | undefined, env: NodeJS.ProcessEnv, clock: Clock): SqliteStore {
  let path = dbFlag;
  if (path === undefined) {
    try {
      path = readStoreConfig(env).store.path;
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(`${error.message}\nset GATEWAY_DB_PATH to the gateway's database file, or pass --db <path>`);
      throw error;
    }
  }
  if (path !== ":memory:" && !existsSync(path)) {
    throw new UsageError(`no database at ${path}: name the gateway's database file (GATEWAY_DB_PATH or --db); the gateway creates it when it first starts`);
  }
  return new SqliteStore(path, clock);
}

function print(output: Output, json: boolean): void {
  console.log(json ? JSON.stringify(output.json, null, 2) : output.text);
  if (output.note !== undefined) console.error(output.note);
}

/** Runs one command; resolves to the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return argv.length === 0 ? BAD_INPUT : 0;
  }
  let store: SqliteStore | undefined;
  try {
    const { name, command, rest } = commandOf(argv);
    const input = invocationOf(name, command, rest);
    if (command.standalone) {
      print(await command.standalone(input), input.json);
      return 0;
    }
    const clock = systemClock;
    store = openStore(input.db, env, clock);
    const apiKeys = new ApiKeys(store, cryptoRandom, clock);
    const ctx: Context = { env, store, clock, apiKeys, partners: new Partners(store, apiKeys, cryptoRandom, clock), actor: `cli:${userInfo().username}` };
    print(await command.run(ctx, input), input.json);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n(npm run admin -- --help lists the commands and their arguments)`);
      return BAD_INPUT;
    }
    if (error instanceof VaultSealError) {
      console.error(`vault rotate stopped: ${error.message}`);
      return CLI_FAILED;
    }
    if (error instanceof AdminKeyExists) {
      console.error(error.message);
      return CLI_FAILED;
    }
    if (error instanceof DomainError) {
      console.error(`${error.detail}: see npm run admin -- partners list, or keys list <partnerId>`);
      return CLI_FAILED;
    }
    console.error(`admin failed: ${error instanceof Error ? error.message : String(error)}`);
    return CLI_FAILED;
  } finally {
    await store?.close();
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
