/**
 * The scorer's configuration: read once from the environment (SCORER_… only) through one zod
 * schema, validated, and passed down. Nothing else in scorer/ reads `process.env`. The scorer
 * is its own process with its own key; the gateway holds only its URL and bearer token.
 *
 *   SCORER_MODE                development | production: production refuses a raw key  production
 *   SCORER_KEYSTORE            the key that signs decisions, as an encrypted JSON keystore required: one
 *                              (SCORER_KEYSTORE_PASSWORD_FILE or _PASSWORD), or a remote   of the three
 *   SCORER_SIGNER_URL          signer (eth_signTypedData_v4) with SCORER_SIGNER_ADDRESS    sources
 *                              (and SCORER_SIGNER_TOKEN); core/key-source.ts
 *   SCORER_KEY                 or 0x + 64 hex, the raw key (secret): SCORER_MODE=development only
 *   SCORER_TOKEN               >= 32 characters: the bearer token the gateway sends (secret) required
 *   SCORER_ADMIN_TOKEN         >= 32 characters: the bearer token of the admin API, which
 *                              registers a partner's KYC verifier; the gateway never holds
 *                              it (secret; unset: no admin API)                          unset
 *   SCORER_DB_PATH             SQLite database of the decisions it computed                required
 *   SCORER_CHAIN_ID            chain id of the ledger's EIP-712 domain                     required
 *   SCORER_LEDGER_ADDRESS      the CreditLedger contract (the domain's verifyingContract)  required
 *   SCORER_HOST, SCORER_PORT   listen address (loopback only)                              127.0.0.1, 8091
 *   SCORER_KYC_VERIFIERS       JSON {"<partner id>": "<verifier address>", …}: whose KYC
 *                              attestations count for which partner                       {}
 *   SCORER_TIER_MAX_LIMITS     JSON {"<tier>": "<fen>", …}: the largest line limit of one
 *                              decision per tier (a tier not listed declines)             see DEFAULT_TIER_MAX_LIMITS
 *   SCORER_BUDGET_PER_HOUR     fen: most new limit granted (grants + increases) per hour  200000000
 *   SCORER_BUDGET_PER_DAY      fen: most new limit granted per day                        1000000000
 *   SCORER_DECISION_TTL_SECONDS  a decision it computed may be signed this long            3600
 *   SCORER_MAX_HOLIDAY_DAYS    longest payment holiday a restructure decision grants      90
 *   SCORER_MAX_RESTRUCTURES_PER_LOAN  restructure decisions it signs for one loan          2
 *   SCORER_MAX_CHAIN_AHEAD_SECONDS  how far ahead of the scorer's clock a sign request's
 *                              chain time may move the signed deadline (a local chain
 *                              whose time was advanced; 0: never)                          300
 *   SCORER_LOG_LEVEL           pino level                                                  info
 */
import { getAddress, isAddress } from "ethers";
import { z } from "zod";

import { MAX_DECISION_LIFETIME } from "../core/decision";
import { keySourceSettings, readKeySource, secretKeySourceSettings, type KeySource } from "../core/key-source";
import { Secret } from "../core/secret";

export { Secret };

/** Largest limit of one decision per tier, fen (tier 0: behavioural score alone). */
export const DEFAULT_TIER_MAX_LIMITS: Readonly<Record<number, bigint>> = { 0: 300_000n, 1: 2_000_000n, 2: 5_000_000n };

const fen = z.union([z.string().regex(/^\d{1,19}$/), z.int().nonnegative()]).transform((v) => BigInt(v));
const address = z.string().refine(isAddress, "must be an address").transform((a) => getAddress(a));
const jsonText = <T extends z.ZodType>(inner: T) =>
  z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be JSON" });
      return z.NEVER;
    }
  }).pipe(inner);

const Env = z.object({
  SCORER_MODE: z.enum(["development", "production"], { error: 'must be "development" or "production"' }).default("production"),
  SCORER_TOKEN: z.string().min(32, "must be at least 32 characters"),
  SCORER_ADMIN_TOKEN: z.string().min(32, "must be at least 32 characters").optional(),
  SCORER_DB_PATH: z.string().min(1),
  SCORER_CHAIN_ID: z.string().regex(/^\d+$/).transform((v) => BigInt(v)),
  SCORER_LEDGER_ADDRESS: address,
  SCORER_HOST: z.enum(["127.0.0.1", "::1", "localhost"]).default("127.0.0.1"),
  SCORER_PORT: z.coerce.number().int().min(0).max(65535).default(8091),
  SCORER_KYC_VERIFIERS: jsonText(z.record(z.string().min(1), address)).default({}),
  SCORER_TIER_MAX_LIMITS: jsonText(z.record(z.string().regex(/^\d+$/), fen)).optional(),
  SCORER_BUDGET_PER_HOUR: fen.default(200_000_000n),
  SCORER_BUDGET_PER_DAY: fen.default(1_000_000_000n),
  // A decision signed later than the ledger's maximum lifetime after it was made would be refused on-chain.
  SCORER_DECISION_TTL_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .max(Number(MAX_DECISION_LIFETIME), `at most the ledger's maximum decision lifetime, ${MAX_DECISION_LIFETIME} s (30 days)`)
    .default(3600),
  SCORER_MAX_CHAIN_AHEAD_SECONDS: z.coerce.number().int().nonnegative().default(300),
  SCORER_MAX_HOLIDAY_DAYS: z.coerce.number().int().min(0).max(65_535).default(90),
  SCORER_MAX_RESTRUCTURES_PER_LOAN: z.coerce.number().int().min(0).max(1_000).default(2),
  SCORER_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export interface ScorerConfig {
  /** Where the scorer key comes from: a keystore, a remote signer or (development only) a raw key. */
  key: KeySource;
  token: Secret<string>;
  /** The admin API's token (registering KYC verifiers); undefined: no admin API. */
  adminToken?: Secret<string>;
  dbPath: string;
  chainId: bigint;
  ledgerAddress: string;
  host: string;
  port: number;
  /** partner id -> the address whose KYC attestations count for it. */
  kycVerifiers: Readonly<Record<string, string>>;
  /** tier -> largest limit of one decision, fen. */
  tierMaxLimits: Readonly<Record<number, bigint>>;
  budget: { perHour: bigint; perDay: bigint };
  decisionTtlSeconds: number;
  /** Most seconds a sign request's chain time may lie ahead of the scorer's clock and move the deadline. */
  maxChainAheadSeconds: number;
  /** Longest payment holiday of a restructure decision, days. */
  maxHolidayDays: number;
  /** Restructure decisions signed for one loan at most. */
  maxRestructuresPerLoan: number;
  logLevel: string;
}

const SECRET = new Set([...secretKeySourceSettings("SCORER"), "SCORER_TOKEN", "SCORER_ADMIN_TOKEN"]);
const KEY_SETTINGS = new Set(keySourceSettings("SCORER"));

/** Parses the SCORER_… settings; throws naming every bad setting (never a secret's value). */
export function loadScorerConfig(env: Record<string, string | undefined>): ScorerConfig {
  const settings = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith("SCORER_") && !KEY_SETTINGS.has(k) && v !== ""));
  const parsed = Env.safeParse(settings);
  const problems: string[] = [];
  const mode = parsed.success ? parsed.data.SCORER_MODE : env.SCORER_MODE === "development" ? "development" : "production";
  const key = readKeySource(env, "SCORER", { allowRaw: mode === "development", developmentSwitch: "SCORER_MODE=development", role: "the scorer key (holding SCORER_ROLE)" }, problems);
  if (!parsed.success || key === undefined) {
    const lines = [
      ...(parsed.success
        ? []
        : parsed.error.issues.map((i) => {
            const name = String(i.path[0] ?? "");
            return `${name}: ${SECRET.has(name) ? "invalid (value not shown)" : i.message}`;
          })),
      ...problems,
    ];
    throw new Error(`scorer configuration is invalid:\n  ${lines.join("\n  ")}\nSee scorer/config.ts for every setting.`);
  }
  const e = parsed.data;
  const tierMaxLimits = e.SCORER_TIER_MAX_LIMITS
    ? Object.fromEntries(Object.entries(e.SCORER_TIER_MAX_LIMITS).map(([t, v]) => [Number(t), v]))
    : { ...DEFAULT_TIER_MAX_LIMITS };
  return {
    key,
    token: new Secret(e.SCORER_TOKEN),
    ...(e.SCORER_ADMIN_TOKEN ? { adminToken: new Secret(e.SCORER_ADMIN_TOKEN) } : {}),
    dbPath: e.SCORER_DB_PATH,
    chainId: e.SCORER_CHAIN_ID,
    ledgerAddress: e.SCORER_LEDGER_ADDRESS,
    host: e.SCORER_HOST,
    port: e.SCORER_PORT,
    kycVerifiers: e.SCORER_KYC_VERIFIERS,
    tierMaxLimits,
    budget: { perHour: e.SCORER_BUDGET_PER_HOUR, perDay: e.SCORER_BUDGET_PER_DAY },
    decisionTtlSeconds: e.SCORER_DECISION_TTL_SECONDS,
    maxChainAheadSeconds: e.SCORER_MAX_CHAIN_AHEAD_SECONDS,
    maxHolidayDays: e.SCORER_MAX_HOLIDAY_DAYS,
    maxRestructuresPerLoan: e.SCORER_MAX_RESTRUCTURES_PER_LOAN,
    logLevel: e.SCORER_LOG_LEVEL,
  };
}
