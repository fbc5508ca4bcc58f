/**
 * The gateway's configuration: read once from the environment through one zod schema,
 * validated, and passed down. Nothing else in server/ reads `process.env`.
 *
 *   GATEWAY_MODE                development | production (docs/DEPLOYMENT.md): development    production
 *                               turns on the clock-advance route, plain-http webhooks to
 *                               loopback and waiting POSTs by default; production refuses
 *                               Hardhat's public test keys
 *   GATEWAY_RPC_URL             JSON-RPC URL of the chain (http or https)                 required
 *   GATEWAY_LEDGER_ADDRESS      address of the CreditLedger contract                      required
 *   GATEWAY_LEDGER_START_BLOCK  block the indexer starts from (the ledger's deploy block) 0
 *   GATEWAY_OPERATOR_KEYSTORE   the operator key (the one that sends transactions) as an     required: one
 *                               encrypted JSON keystore, its password in                   of the three
 *   GATEWAY_OPERATOR_KEYSTORE_PASSWORD_FILE (or GATEWAY_OPERATOR_KEYSTORE_PASSWORD, secret);     sources
 *   GATEWAY_OPERATOR_SIGNER_URL or a remote signer (eth_signTransaction) and
 *   GATEWAY_OPERATOR_SIGNER_ADDRESS the address it signs for (GATEWAY_OPERATOR_SIGNER_TOKEN:
 *                               its bearer token, secret); core/key-source.ts
 *   GATEWAY_OPERATOR_KEY        or 0x + 64 hex, the raw key (secret): development mode only
 *   GATEWAY_SCORER_URL          the scorer process (scorer/, docs/SCORER.md): it scores and
 *                               signs decisions; the gateway never holds its key          required
 *   GATEWAY_SCORER_TOKEN        >= 32 characters: the scorer's bearer token (secret)      required
 *   GATEWAY_DB_PATH             SQLite database file                                      required
 *   GATEWAY_VAULT_KEY           32 bytes, hex or base64: AES-256-GCM key for PII (secret);  required, or
 *                               alone it is the keyring {k0: key}                          the two below
 *   GATEWAY_VAULT_KEYS          the vault keyring, "id:key,id2:key2" (ids 1-32 of A-Z a-z 0-9 _ -;
 *                               keys 32 bytes, base64 or hex), so keys rotate (secret)
 *   GATEWAY_VAULT_KEY_ID        the id of the keyring's key that seals (the others only open) with KEYS
 *   GATEWAY_IDENTITY_PEPPER     >= 16 bytes, hex or base64: HMAC key of identities (secret) required
 *   GATEWAY_HOST, GATEWAY_PORT  listen address                                            127.0.0.1, 8080
 *   GATEWAY_CONFIRMATIONS       blocks a transaction needs before it counts               1
 *   GATEWAY_WAIT_DEFAULT        true | false | auto: whether POSTs wait for confirmation
 *                               when the request has no ?wait= (auto: true in development mode) auto
 *   GATEWAY_WAIT_TIMEOUT_MS     longest a waiting request waits before answering 202      30000
 *   GATEWAY_POLL_INTERVAL_MS    how often the sender and indexer poll the chain           1000
 *   GATEWAY_STUCK_AFTER_MS      a transaction unmined this long is replaced (fee bump)    120000
 *   GATEWAY_BLOCK_TIME_MS       the chain's block interval (0: blocks are mined on demand,
 *                               as on the local automine chain); sets the batch wait below  0
 *   GATEWAY_BATCH_MAX_OPS       most ledger calls in one batch transaction                50
 *   GATEWAY_BATCH_WAIT_MS       longest a queued step waits for its batch to fill before  a quarter of
 *                               the batch goes as it is: a fraction of the block time, so  GATEWAY_BLOCK_TIME_MS
 *                               a batch still makes the next block (0: at once)
 *   GATEWAY_MAX_IN_FLIGHT       most batch transactions in flight at once (consecutive    8
 *                               nonces): with GATEWAY_BATCH_MAX_OPS, the calls per block
 *   GATEWAY_BODY_LIMIT_BYTES    largest request body accepted                             16384
 *   GATEWAY_LOG_LEVEL           pino level (fatal..trace, silent)                         info
 *
 * Servicing (docs/SERVICING.md, docs/WEBHOOKS.md):
 *   GATEWAY_QUIET_HOURS         no reminder or collection contact in these local hours,
 *                               "<start>-<end>" (start inclusive, end exclusive, may wrap)  22-8
 *   GATEWAY_CONTACTS_PER_DAY    most reminder/collection contacts per borrower per local day 3
 *   GATEWAY_REMINDER_DAYS_BEFORE  the "due soon" reminder goes this many days before a due date 3
 *   GATEWAY_LIMIT_REVIEW_INTERVAL_DAYS  a line is re-scored from its history this often (0: never) 90
 *   GATEWAY_VELOCITY_DRAWDOWNS_PER_HOUR  more drawdowns than this on an account in an hour freeze the line 10
 *   GATEWAY_VELOCITY_SPIKE_MULTIPLE  a drawdown above this multiple of the account's mean drawdown
 *                               freezes the line (once it has GATEWAY_VELOCITY_SPIKE_MIN_HISTORY)  5
 *   GATEWAY_VELOCITY_SPIKE_MIN_HISTORY  drawdowns the spike rule needs before it judges          3
 *   GATEWAY_VELOCITY_ACCOUNTS_PER_DEVICE  more accounts than this applied from one device freeze  3
 *   GATEWAY_VELOCITY_ACCOUNTS_PER_PHONE   more accounts than this with one phone number freeze    3
 *   GATEWAY_WEBHOOK_REPLAY_WINDOW_SECONDS  the signature timestamp window receivers should enforce 300
 *   GATEWAY_WEBHOOK_RETRY_HOURS  a failing delivery is retried with exponential backoff this long 24
 *   GATEWAY_WEBHOOK_TIMEOUT_MS  how long one delivery attempt may take, all of it (DNS lookup,
 *                               connect, request, the answer's body)                      10000
 *   GATEWAY_WEBHOOK_CONCURRENCY  delivery attempts in flight at once, all endpoints together 16
 *   GATEWAY_WEBHOOK_CONCURRENCY_PER_ENDPOINT  attempts in flight at once to one endpoint
 *                               (1 keeps an endpoint's deliveries in order)                1
 *   GATEWAY_WEBHOOK_BREAKER_FAILURES  consecutive failed attempts that open an endpoint's circuit 5
 *   GATEWAY_WEBHOOK_BREAKER_COOLDOWN_SECONDS  how long an open circuit makes no attempt before
 *                               one probe                                                 300
 *   GATEWAY_WEBHOOK_MAX_SUBSCRIPTIONS  most webhook endpoints of an operator key (a partner's
 *                               own quota is a partner setting, webhookQuota)              20
 *   GATEWAY_EXPLORER_RPC_URL    JSON-RPC URL the explorer page's browser reads the chain  GATEWAY_RPC_URL
 *                               from (http or https; the node must allow CORS)
 *   GATEWAY_EXPLORER_PAGE_BLOCKS  blocks per eth_getLogs the explorer page asks for (lower  2000
 *                               it for providers that limit log ranges)
 *   GATEWAY_PREFLIGHT_BATCH_MAX  most pre-flight simulations sent in one JSON-RPC batch:  20
 *                               the simulations of concurrent requests share one HTTP
 *                               request (1: one request each, for a provider that refuses
 *                               batches)
 *
 * Secret values are wrapped in `Secret`, which prints as "[redacted]" in logs, JSON and
 * `util.inspect`; error messages name a bad secret setting but never show its value.
 */
import { getAddress, isAddress } from "ethers";
import { z } from "zod";

export { Secret } from "../core/secret";
import { Secret } from "../core/secret";

import { keySourceHelp, readKeySource, secretKeySourceSettings, type KeySource } from "../core/key-source";
import { KEY_ID_PATTERN, SINGLE_KEY_ID, type KeyringKeys } from "./vault/keyring";

export const GATEWAY_MODES = ["development", "production"] as const;
export type GatewayMode = (typeof GATEWAY_MODES)[number];

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Optional: an empty or blank variable counts as unset. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (v) => (typeof v === "string" && v.trim() === "" ? undefined : typeof v === "string" ? v.trim() : v),
    schema.optional()
  );
const required = <T extends z.ZodType<unknown, string>>(schema: T) =>
  z.preprocess(
    (v) => (typeof v === "string" ? v.trim() : v),
    z.string({ error: "is not set" }).min(1, "is not set").pipe(schema)
  );

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number ${min}-${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

/** Bytes given as hex (optionally 0x-prefixed) or base64. */
function decodeBytes(value: string): Buffer | undefined {
  const hex = value.startsWith("0x") ? value.slice(2) : value;
  if (/^([0-9a-fA-F]{2})+$/.test(hex)) return Buffer.from(hex, "hex");
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) return Buffer.from(value, "base64");
  return undefined;
}

const secretBytes = (check: (b: Buffer) => boolean, expected: string) =>
  z.string().transform((value, ctx) => {
    const bytes = decodeBytes(value);
    if (bytes === undefined || !check(bytes)) {
      ctx.addIssue({ code: "custom", message: `must be ${expected}, as hex or base64 (the value is not shown)` });
      return z.NEVER;
    }
    return new Secret(bytes);
  });

/** "id:key,id2:key2": the keyring's keys, each 32 bytes (hex or base64). */
const vaultKeys = z.string().transform((value, ctx) => {
  const keys: Array<readonly [string, Buffer]> = [];
  for (const entry of value.split(",").map((e) => e.trim())) {
    const at = entry.indexOf(":");
    const id = at < 0 ? "" : entry.slice(0, at);
    const key = at < 0 ? undefined : decodeBytes(entry.slice(at + 1));
    if (!KEY_ID_PATTERN.test(id) || key === undefined || key.length !== 32 || keys.some(([known]) => known === id)) {
      ctx.addIssue({
        code: "custom",
        message: `must be "id:key,id2:key2", ids unique (1-32 of A-Z a-z 0-9 _ -), each key 32 bytes as base64 or hex (entry ${keys.length + 1} is not; the value is not shown)`,
      });
      return z.NEVER;
    }
    keys.push([id, key]);
  }
  return new Secret(keys);
});

const httpUrl = z.string().refine((v) => /^https?:\/\/[^\s]+$/.test(v) && URL.canParse(v), "must be an http(s) URL");

const EnvSchema = z.object({
  GATEWAY_MODE: optional(z.enum(GATEWAY_MODES, { error: 'must be "development" or "production"' })).default("production"),
  GATEWAY_RPC_URL: required(httpUrl),
  GATEWAY_LEDGER_ADDRESS: required(
    z
      .string()
      .refine((v) => isAddress(v), "must be a contract address (0x + 40 hex digits)")
      .transform((v) => getAddress(v))
  ),
  GATEWAY_LEDGER_START_BLOCK: optional(int(0, Number.MAX_SAFE_INTEGER)).default(0),
  GATEWAY_SCORER_URL: required(httpUrl),
  GATEWAY_SCORER_TOKEN: required(
    z
      .string()
      .min(32, "must be at least 32 characters (the value is not shown)")
      .transform((v) => new Secret(v))
  ),
  GATEWAY_DB_PATH: required(z.string()),
  GATEWAY_VAULT_KEY: optional(secretBytes((b) => b.length === 32, "32 bytes")),
  GATEWAY_VAULT_KEYS: optional(vaultKeys),
  GATEWAY_VAULT_KEY_ID: optional(z.string().regex(KEY_ID_PATTERN, "must be 1-32 letters, digits, _ or -")),
  GATEWAY_IDENTITY_PEPPER: required(secretBytes((b) => b.length >= 16, "at least 16 bytes")),
  GATEWAY_HOST: optional(z.ipv4({ error: "must be an IPv4 address such as 127.0.0.1" })).default("127.0.0.1"),
  GATEWAY_PORT: optional(int(0, 65_535)).default(8080),
  GATEWAY_CONFIRMATIONS: optional(int(1, 1_000)).default(1),
  GATEWAY_WAIT_DEFAULT: optional(z.enum(["true", "false", "auto"], { error: 'must be "true", "false" or "auto"' })).default(
    "auto"
  ),
  GATEWAY_WAIT_TIMEOUT_MS: optional(int(0, 600_000)).default(30_000),
  GATEWAY_POLL_INTERVAL_MS: optional(int(10, 600_000)).default(1_000),
  GATEWAY_STUCK_AFTER_MS: optional(int(0, 86_400_000)).default(120_000),
  GATEWAY_BLOCK_TIME_MS: optional(int(0, 600_000)).default(0),
  GATEWAY_BATCH_MAX_OPS: optional(int(1, 1_000)).default(50),
  GATEWAY_BATCH_WAIT_MS: optional(int(0, 600_000)),
  GATEWAY_MAX_IN_FLIGHT: optional(int(1, 256)).default(8),
  GATEWAY_BODY_LIMIT_BYTES: optional(int(1_024, 1_048_576)).default(16_384),
  GATEWAY_LOG_LEVEL: optional(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` })).default("info"),
  GATEWAY_EXPLORER_RPC_URL: optional(httpUrl),
  GATEWAY_EXPLORER_PAGE_BLOCKS: optional(int(1, 1_000_000)).default(2_000),
  GATEWAY_PREFLIGHT_BATCH_MAX: optional(int(1, 1_000)).default(20),
  GATEWAY_QUIET_HOURS: optional(
    z
      .string()
      .regex(/^([01]?\d|2[0-3])-([01]?\d|2[0-3])$/, 'must be "<start hour>-<end hour>", e.g. 22-8')
      .transform((v) => {
        const [startHour, endHour] = v.split("-").map(Number);
        return { startHour, endHour };
      })
  ).default({ startHour: 22, endHour: 8 }),
  GATEWAY_CONTACTS_PER_DAY: optional(int(1, 100)).default(3),
  GATEWAY_REMINDER_DAYS_BEFORE: optional(int(0, 30)).default(3),
  GATEWAY_LIMIT_REVIEW_INTERVAL_DAYS: optional(int(0, 3_650)).default(90),
  GATEWAY_VELOCITY_DRAWDOWNS_PER_HOUR: optional(int(1, 10_000)).default(10),
  GATEWAY_VELOCITY_SPIKE_MULTIPLE: optional(int(2, 1_000)).default(5),
  GATEWAY_VELOCITY_SPIKE_MIN_HISTORY: optional(int(1, 1_000)).default(3),
  GATEWAY_VELOCITY_ACCOUNTS_PER_DEVICE: optional(int(1, 10_000)).default(3),
  GATEWAY_VELOCITY_ACCOUNTS_PER_PHONE: optional(int(1, 10_000)).default(3),
  GATEWAY_WEBHOOK_REPLAY_WINDOW_SECONDS: optional(int(30, 86_400)).default(300),
  GATEWAY_WEBHOOK_RETRY_HOURS: optional(int(1, 168)).default(24),
  GATEWAY_WEBHOOK_TIMEOUT_MS: optional(int(100, 120_000)).default(10_000),
  GATEWAY_WEBHOOK_CONCURRENCY: optional(int(1, 1_000)).default(16),
  GATEWAY_WEBHOOK_CONCURRENCY_PER_ENDPOINT: optional(int(1, 16)).default(1),
  GATEWAY_WEBHOOK_BREAKER_FAILURES: optional(int(1, 1_000)).default(5),
  GATEWAY_WEBHOOK_BREAKER_COOLDOWN_SECONDS: optional(int(1, 86_400)).default(300),
  GATEWAY_WEBHOOK_MAX_SUBSCRIPTIONS: optional(int(1, 1_000)).default(20),
});

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface GatewayConfig {
  /** development: the clock route, loopback webhooks, waiting by default; production: none of them. */
  mode: GatewayMode;
  chain: {
    rpcUrl: string;
    ledgerAddress: string;
    startBlock: number;
    confirmations: number;
    pollIntervalMs: number;
    stuckAfterMs: number;
    /** The chain's block interval (0: mined on demand). */
    blockTimeMs: number;
    /** How the outbox sender groups steps into batch transactions and how many it keeps in flight. */
    batching: { maxOps: number; waitMs: number; maxInFlight: number };
  };
  /** Where the operator key comes from (core/key-source.ts): a keystore, a remote signer, or (development only) a raw key. */
  keys: { operator: KeySource };
  /** The scorer process: its URL and bearer token (never its key). */
  scorer: { url: string; token: Secret<string> };
  store: { path: string };
  /** The keyring (keyring.ts) and the pepper of identity keys (never rotated: identity keys depend on it). */
  vault: { keyring: Secret<KeyringKeys>; identityPepper: Secret<Buffer> };
  http: { host: string; port: number; bodyLimitBytes: number };
  /** `auto` waits in development mode only. */
  waitDefault: "true" | "false" | "auto";
  waitTimeoutMs: number;
  logLevel: LogLevel;
  /** The explorer page (/explorer): the RPC URL its browser reads the chain from. */
  explorer: { rpcUrl: string; pageBlocks: number };
  /** Pre-flight simulations (server/lending/preflight.ts): at most `batchMax` per JSON-RPC batch. */
  preflight: { batchMax: number };
  servicing: ServicingConfig;
}

export interface ServicingConfig {
  quietHours: { startHour: number; endHour: number };
  maxContactsPerDay: number;
  reminderDaysBefore: number;
  /** 0: no periodic limit reviews. */
  reviewIntervalDays: number;
  velocity: {
    maxDrawdownsPerHour: number;
    spikeMultiple: number;
    spikeMinHistory: number;
    maxAccountsPerDevice: number;
    maxAccountsPerPhone: number;
  };
  webhooks: {
    replayWindowSeconds: number;
    retryForMs: number;
    timeoutMs: number;
    concurrency: number;
    perEndpointConcurrency: number;
    breakerFailures: number;
    breakerCooldownMs: number;
    maxSubscriptions: number;
  };
}

/** A configuration problem; the message names every missing or invalid setting. */
export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(readonly problems: string[]) {
    super(`invalid gateway configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** The problem of a production setting that holds one of Hardhat's public keys. */
export const publicTestKeyProblem = (name: string): string =>
  `${name} is one of Hardhat's public test keys (anyone can sign with it): use a key of your own, or GATEWAY_MODE=development`;

/** How to set each secret setting, said when one is missing. */
export const SECRET_SETTINGS: Readonly<Record<string, string>> = {
  GATEWAY_OPERATOR_KEYSTORE: `the operator key (holding OPERATOR_ROLE): ${keySourceHelp("GATEWAY_OPERATOR")}`,
  GATEWAY_VAULT_KEY: "32 random bytes, made once and kept: openssl rand -hex 32 (or set GATEWAY_VAULT_KEYS and GATEWAY_VAULT_KEY_ID)",
  GATEWAY_IDENTITY_PEPPER: "at least 16 random bytes, made once and never changed: openssl rand -hex 32",
};

const settingProblems = (error: z.ZodError): string[] =>
  error.issues.map((issue) => {
    const setting = issue.path.length > 0 ? String(issue.path[0]) : "environment";
    const hint = issue.message === "is not set" ? SECRET_SETTINGS[setting] : undefined;
    return `${setting} ${issue.message}${hint === undefined ? "" : ` (set it to ${hint})`}`;
  });

/**
 * The database setting alone, read and validated as the gateway reads it: for tools that open
 * the gateway's database without the chain (scripts/admin.ts), so they need no chain keys.
 */
export function readStoreConfig(env: Env): Pick<GatewayConfig, "store"> {
  const parsed = EnvSchema.pick({ GATEWAY_DB_PATH: true }).safeParse({ ...env });
  if (!parsed.success) throw new ConfigError(settingProblems(parsed.error));
  return { store: { path: parsed.data.GATEWAY_DB_PATH } };
}

const VaultSchema = EnvSchema.pick({ GATEWAY_VAULT_KEY: true, GATEWAY_VAULT_KEYS: true, GATEWAY_VAULT_KEY_ID: true });
type VaultSettings = z.output<typeof VaultSchema>;

/** The keyring of GATEWAY_VAULT_KEY, or of GATEWAY_VAULT_KEYS + GATEWAY_VAULT_KEY_ID; pushes what is wrong to `problems`. */
function keyringOf(e: VaultSettings, problems: string[]): Secret<KeyringKeys> | undefined {
  if (e.GATEWAY_VAULT_KEY !== undefined && e.GATEWAY_VAULT_KEYS !== undefined) {
    problems.push("GATEWAY_VAULT_KEY and GATEWAY_VAULT_KEYS are both set: set one (a single key is the keyring {k0: key})");
    return undefined;
  }
  if (e.GATEWAY_VAULT_KEYS !== undefined) {
    const keys = e.GATEWAY_VAULT_KEYS.reveal();
    const currentId = e.GATEWAY_VAULT_KEY_ID;
    if (currentId === undefined) {
      problems.push(`GATEWAY_VAULT_KEY_ID is not set: name the key of GATEWAY_VAULT_KEYS that seals (one of ${keys.map(([id]) => id).join(", ")})`);
      return undefined;
    }
    if (!keys.some(([id]) => id === currentId)) {
      problems.push(`GATEWAY_VAULT_KEY_ID "${currentId}" is not a key of GATEWAY_VAULT_KEYS (${keys.map(([id]) => id).join(", ")})`);
      return undefined;
    }
    return new Secret({ currentId, keys });
  }
  if (e.GATEWAY_VAULT_KEY !== undefined) {
    if (e.GATEWAY_VAULT_KEY_ID !== undefined && e.GATEWAY_VAULT_KEY_ID !== SINGLE_KEY_ID) {
      problems.push(`GATEWAY_VAULT_KEY_ID goes with GATEWAY_VAULT_KEYS (GATEWAY_VAULT_KEY alone is key "${SINGLE_KEY_ID}")`);
      return undefined;
    }
    return new Secret({ currentId: SINGLE_KEY_ID, keys: [[SINGLE_KEY_ID, e.GATEWAY_VAULT_KEY.reveal()]] });
  }
  problems.push(`GATEWAY_VAULT_KEY is not set (set it to ${SECRET_SETTINGS.GATEWAY_VAULT_KEY})`);
  return undefined;
}

/** The vault keyring alone, read as the gateway reads it: for `npm run admin -- vault rotate`. */
export function readVaultConfig(env: Env): Pick<GatewayConfig, "vault">["vault"]["keyring"] {
  const parsed = VaultSchema.safeParse({ ...env });
  const problems = parsed.success ? [] : settingProblems(parsed.error);
  const keyring = parsed.success ? keyringOf(parsed.data, problems) : undefined;
  if (keyring === undefined || problems.length > 0) throw new ConfigError(problems);
  return keyring;
}

/** Reads and validates the configuration; throws `ConfigError` naming every bad setting. */
export function readGatewayConfig(env: Env): GatewayConfig {
  const parsed = EnvSchema.safeParse({ ...env });
  const problems = parsed.success ? [] : settingProblems(parsed.error);
  // The scorer key belongs to the scorer process alone (scorer/): a gateway that could read it could sign.
  for (const name of ["GATEWAY_SCORER_KEY", ...secretKeySourceSettings("SCORER")]) {
    if (env[name] !== undefined && env[name]!.trim() !== "") {
      problems.push(
        `${name} must not be in the gateway's environment: the scorer key belongs to the scorer process (SCORER_KEY of scorer/); the gateway holds only GATEWAY_SCORER_URL and GATEWAY_SCORER_TOKEN`
      );
    }
  }
  // A raw key in the environment only in development mode; production reads a keystore or asks a remote signer.
  const mode = parsed.success ? parsed.data.GATEWAY_MODE : env.GATEWAY_MODE?.trim() === "development" ? "development" : "production";
  const operator = readKeySource(env, "GATEWAY_OPERATOR", { allowRaw: mode === "development", developmentSwitch: "GATEWAY_MODE=development", role: "the operator key (holding OPERATOR_ROLE)" }, problems);
  // The keyring's rules span three settings: judged whenever those three parse, so a missing key is named with the rest.
  const vaultSettings = VaultSchema.safeParse({ ...env });
  const keyring = vaultSettings.success ? keyringOf(vaultSettings.data, problems) : undefined;
  if (!parsed.success || problems.length > 0 || keyring === undefined || operator === undefined) throw new ConfigError([...new Set(problems)]);
  const e = parsed.data;
  return {
    mode: e.GATEWAY_MODE,
    chain: {
      rpcUrl: e.GATEWAY_RPC_URL,
      ledgerAddress: e.GATEWAY_LEDGER_ADDRESS,
      startBlock: e.GATEWAY_LEDGER_START_BLOCK,
      confirmations: e.GATEWAY_CONFIRMATIONS,
      pollIntervalMs: e.GATEWAY_POLL_INTERVAL_MS,
      stuckAfterMs: e.GATEWAY_STUCK_AFTER_MS,
      blockTimeMs: e.GATEWAY_BLOCK_TIME_MS,
      batching: {
        maxOps: e.GATEWAY_BATCH_MAX_OPS,
        waitMs: e.GATEWAY_BATCH_WAIT_MS ?? Math.floor(e.GATEWAY_BLOCK_TIME_MS / 4),
        maxInFlight: e.GATEWAY_MAX_IN_FLIGHT,
      },
    },
    keys: { operator },
    scorer: { url: e.GATEWAY_SCORER_URL.replace(/\/+$/, ""), token: e.GATEWAY_SCORER_TOKEN },
    store: { path: e.GATEWAY_DB_PATH },
    vault: { keyring, identityPepper: e.GATEWAY_IDENTITY_PEPPER },
    http: { host: e.GATEWAY_HOST, port: e.GATEWAY_PORT, bodyLimitBytes: e.GATEWAY_BODY_LIMIT_BYTES },
    waitDefault: e.GATEWAY_WAIT_DEFAULT,
    waitTimeoutMs: e.GATEWAY_WAIT_TIMEOUT_MS,
    logLevel: e.GATEWAY_LOG_LEVEL,
    explorer: { rpcUrl: e.GATEWAY_EXPLORER_RPC_URL ?? e.GATEWAY_RPC_URL, pageBlocks: e.GATEWAY_EXPLORER_PAGE_BLOCKS },
    preflight: { batchMax: e.GATEWAY_PREFLIGHT_BATCH_MAX },
    servicing: {
      quietHours: e.GATEWAY_QUIET_HOURS,
      maxContactsPerDay: e.GATEWAY_CONTACTS_PER_DAY,
      reminderDaysBefore: e.GATEWAY_REMINDER_DAYS_BEFORE,
      reviewIntervalDays: e.GATEWAY_LIMIT_REVIEW_INTERVAL_DAYS,
      velocity: {
        maxDrawdownsPerHour: e.GATEWAY_VELOCITY_DRAWDOWNS_PER_HOUR,
        spikeMultiple: e.GATEWAY_VELOCITY_SPIKE_MULTIPLE,
        spikeMinHistory: e.GATEWAY_VELOCITY_SPIKE_MIN_HISTORY,
        maxAccountsPerDevice: e.GATEWAY_VELOCITY_ACCOUNTS_PER_DEVICE,
        maxAccountsPerPhone: e.GATEWAY_VELOCITY_ACCOUNTS_PER_PHONE,
      },
      webhooks: {
        replayWindowSeconds: e.GATEWAY_WEBHOOK_REPLAY_WINDOW_SECONDS,
        retryForMs: e.GATEWAY_WEBHOOK_RETRY_HOURS * 3_600_000,
        timeoutMs: e.GATEWAY_WEBHOOK_TIMEOUT_MS,
        concurrency: e.GATEWAY_WEBHOOK_CONCURRENCY,
        perEndpointConcurrency: e.GATEWAY_WEBHOOK_CONCURRENCY_PER_ENDPOINT,
        breakerFailures: e.GATEWAY_WEBHOOK_BREAKER_FAILURES,
        breakerCooldownMs: e.GATEWAY_WEBHOOK_BREAKER_COOLDOWN_SECONDS * 1_000,
        maxSubscriptions: e.GATEWAY_WEBHOOK_MAX_SUBSCRIPTIONS,
      },
    },
  };
}

/** Whether POSTs wait for confirmation by default (`auto`: in development mode). */
export function waitsByDefault(config: Pick<GatewayConfig, "waitDefault" | "mode">): boolean {
  return config.waitDefault === "auto" ? config.mode === "development" : config.waitDefault === "true";
}
