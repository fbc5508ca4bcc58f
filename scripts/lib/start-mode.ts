/**
 * Which mode `npm start` runs the gateway in (server/config.ts, GATEWAY_MODE), and what each
 * mode allows at start-up. The chain id decides nothing: 31337 is also anvil's default and
 * many private chains'.
 *
 *   npm start                        the embedded local chain: development, always (its role
 *                                    keys are Hardhat's public ones)
 *   npm start -- --rpc URL ...       production, unless --dev (or GATEWAY_MODE=development)
 *
 * Development: secrets generated into the data folder (secrets.json, 0600) when the
 * environment has none, Hardhat's accounts 1 and 2 as operator and scorer on a 31337 chain,
 * demo partners and keys printed, --seed allowed. Production: every secret from the
 * environment (missing ones are named, with how to set them, before anything is written),
 * nothing written beside the data, no key printed (the first admin key comes from
 * `npm run admin -- admin-keys issue`), no --seed.
 */
import { keySourceHelp } from "../../core/key-source";
import { GATEWAY_MODES, SECRET_SETTINGS, type GatewayMode } from "../../server/config";
import { ConfigError } from "./config";

export interface StartModeInput {
  /** The embedded local chain (no --rpc). */
  embedded: boolean;
  /** --dev was given. */
  dev: boolean;
  /** --seed was given. */
  seed: boolean;
  env: Readonly<Record<string, string | undefined>>;
}

/** The mode of this start; throws `ConfigError` for a combination the mode refuses. */
export function startMode({ embedded, dev, seed, env }: StartModeInput): GatewayMode {
  const requested = env.GATEWAY_MODE?.trim() || undefined;
  if (requested !== undefined && !(GATEWAY_MODES as readonly string[]).includes(requested)) {
    throw new ConfigError([`GATEWAY_MODE must be "development" or "production", not "${requested}"`]);
  }
  if (embedded) {
    if (requested === "production") {
      throw new ConfigError([
        "the embedded local chain runs in development mode only (its role keys are Hardhat's public ones): " +
          "unset GATEWAY_MODE, or run a production gateway for your chain with npm start -- --rpc <url> --ledger <address>",
      ]);
    }
    return "development";
  }
  const mode: GatewayMode = dev || requested === "development" ? "development" : "production";
  if (mode === "production" && seed) {
    throw new ConfigError(["--seed (demo data) is for development mode only: add --dev for a development chain, or leave --seed out"]);
  }
  return mode;
}

/**
 * The secrets a production `npm start` needs: the gateway's, and the key of the scorer process it
 * runs beside the gateway (handed to that process only; the gateway refuses to see it).
 */
export const START_SECRETS: Readonly<Record<string, string>> = {
  ...SECRET_SETTINGS,
  SCORER_KEYSTORE: `the scorer key (holding SCORER_ROLE; only the scorer process gets it): ${keySourceHelp("SCORER")}`,
};

/** A secret that is set another way: the vault keyring, or a key source's remote signer (or raw key, which the config then judges). */
const ALTERNATIVES: Readonly<Record<string, readonly string[]>> = {
  GATEWAY_VAULT_KEY: ["GATEWAY_VAULT_KEYS"],
  GATEWAY_OPERATOR_KEYSTORE: ["GATEWAY_OPERATOR_SIGNER_URL", "GATEWAY_OPERATOR_KEY"],
  SCORER_KEYSTORE: ["SCORER_SIGNER_URL", "SCORER_KEY"],
};

/** The secret settings a production start lacks, each with how to set it (empty: none missing). */
export function missingSecrets(env: Readonly<Record<string, string | undefined>>): string[] {
  const set = (name: string) => Boolean(env[name]?.trim());
  return Object.entries(START_SECRETS)
    .filter(([name]) => !set(name) && !(ALTERNATIVES[name] ?? []).some(set))
    .map(([name, how]) => `${name} is not set (set it to ${how})`);
}

/** Refuses a production start that lacks a secret, naming every missing one. */
export function requireProductionSecrets(mode: GatewayMode, env: Readonly<Record<string, string | undefined>>): void {
  if (mode !== "production") return;
  const raw = ["GATEWAY_OPERATOR_KEY", "SCORER_KEY"].filter((name) => Boolean(env[name]?.trim()));
  const missing = [
    ...raw.map(
      (name) =>
        `${name} is a raw private key in the environment, which production mode refuses: keep the key in ${keySourceHelp(name.replace(/_KEY$/, ""))}; or add --dev for a development chain`
    ),
    ...missingSecrets(env),
  ];
  if (missing.length > 0) {
    throw new ConfigError([
      ...missing,
      "production mode (npm start -- --rpc without --dev) generates no secrets and uses no test keys: see docs/DEPLOYMENT.md",
    ]);
  }
}
