/**
 * The scorer part of `npm start`: the scorer runs as a child process of its own
 * (scorer-process.ts) beside the gateway, with its own key, database (`scorer.sqlite` in the
 * deployment's data folder), a fresh bearer token for the gateway and a fresh admin token that
 * only this script holds. On a local chain a development KYC verifier (Hardhat's public
 * account 9) is registered for the operator and the demo partners, so that the demo data's
 * tiers come from real attestations (docs/SCORER.md).
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Wallet } from "ethers";

import { kycDomain, kycSubjectOf, signKycAttestation } from "../../core/kyc-attestation";
import type { EvidenceInput } from "../../server/lending/scorer-decisions";
import { normalizeNationalId } from "../../server/vault/identity";
import { DEVELOPMENT_CHAIN_AHEAD, startScorerProcess, type ScorerProcess } from "./scorer-process";

export interface ScorerSetup {
  /** Development only: the raw scorer key (production: the environment's SCORER_KEYSTORE or SCORER_SIGNER_URL, in `env`). */
  key?: string;
  chainId: bigint;
  ledger: string;
  dataDir: string;
  /** A development chain: deadlines follow its (advanced) time; a development KYC verifier is registered. */
  development: boolean;
  /** The development KYC verifier's key (development only). */
  devVerifierKey?: string;
  /** Further SCORER_* settings (the environment's). */
  env?: Record<string, string>;
}

export interface LocalScorer {
  process: ScorerProcess;
  url: string;
  /** The gateway's bearer token (GATEWAY_SCORER_TOKEN). */
  token: string;
  address: string;
  /** The development KYC verifier, if any. */
  devVerifier?: Wallet;
  /** Registers `verifier` as `partnerId`'s KYC verifier through the admin API. */
  registerVerifier(partnerId: string, verifier: string): Promise<void>;
  /** KYC evidence about `nationalId` at `level` for `partnerId`, by the development verifier. */
  devEvidence(partnerId: string, nationalId: string, level: number): Promise<EvidenceInput>;
  stop(): Promise<void>;
}

/** The partner id the gateway asks the scorer in the operator's name (server/lending/scorer-decisions.ts). */
const OPERATOR_PARTNER = "operator";

export async function startLocalScorer(setup: ScorerSetup): Promise<LocalScorer> {
  const token = randomBytes(32).toString("hex");
  const adminToken = randomBytes(32).toString("hex");
  const devVerifier = setup.development && setup.devVerifierKey ? new Wallet(setup.devVerifierKey) : undefined;
  const child = await startScorerProcess({
    SCORER_PORT: "0",
    SCORER_DB_PATH: path.join(setup.dataDir, "scorer.sqlite"),
    ...(setup.development ? DEVELOPMENT_CHAIN_AHEAD : {}),
    ...(devVerifier ? { SCORER_KYC_VERIFIERS: JSON.stringify({ [OPERATOR_PARTNER]: devVerifier.address }) } : {}),
    ...setup.env,
    ...(setup.development ? { SCORER_MODE: "development" } : { SCORER_MODE: "production" }),
    ...(setup.key !== undefined ? { SCORER_KEY: setup.key } : {}),
    SCORER_TOKEN: token,
    SCORER_ADMIN_TOKEN: adminToken,
    SCORER_CHAIN_ID: setup.chainId.toString(),
    SCORER_LEDGER_ADDRESS: setup.ledger,
  });
  const registerVerifier = async (partnerId: string, verifier: string): Promise<void> => {
    const res = await fetch(`${child.url}/admin/v1/kyc-verifiers/${encodeURIComponent(partnerId)}`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ verifier }),
    });
    if (!res.ok) throw new Error(`the scorer did not register ${partnerId}'s KYC verifier: ${res.status} ${await res.text()}`);
  };
  return {
    process: child,
    url: child.url,
    token,
    address: child.address,
    devVerifier,
    registerVerifier,
    async devEvidence(partnerId, nationalId, level) {
      if (!devVerifier) throw new Error("no development KYC verifier (not a development chain)");
      const now = BigInt(Math.floor(Date.now() / 1000));
      const attestation = {
        subject: kycSubjectOf(normalizeNationalId(nationalId) ?? nationalId),
        level,
        issuedAt: now - 60n,
        expiry: now + 365n * 86_400n,
        partner: partnerId,
      };
      return { attestation, signature: await signKycAttestation(devVerifier, kycDomain(setup.chainId), attestation) };
    },
    async stop() {
      await child.kill();
    },
  };
}

/**
 * The environment's SCORER_* settings for the scorer process: its key source among them (a
 * keystore or remote signer; a raw SCORER_KEY too, which the scorer refuses outside development
 * mode); its tokens, mode, chain and ledger are set by the setup.
 */
export function scorerSettingsOf(env: NodeJS.ProcessEnv): Record<string, string> {
  const fixed = new Set(["SCORER_MODE", "SCORER_TOKEN", "SCORER_ADMIN_TOKEN", "SCORER_CHAIN_ID", "SCORER_LEDGER_ADDRESS"]);
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[0].startsWith("SCORER_") && !fixed.has(e[0]) && e[1] !== undefined)
  );
}
