/**
 * The scorer beside a test gateway: the real scorer (scorer/service.ts, scorer/http.ts) on
 * 127.0.0.1 on a free port, in the test's process, with Hardhat's account 2 as its key (it
 * holds SCORER_ROLE on the fixture's ledger), its own in-memory store, a bearer token for the
 * gateway and an admin token the gateway never gets. Test partners get their ids at run time:
 * `verifierFor` makes a KYC verifier key for one and registers it through the scorer's admin
 * API; `attest` signs a KYC attestation with it, as a partner's verifier would. The listening
 * socket is unref'd: it never keeps a test run alive.
 */
import type { Server } from "node:http";
import { randomBytes } from "node:crypto";
import { Wallet } from "ethers";
import { DEVELOPMENT_CHAIN_AHEAD } from "../../scripts/lib/scorer-process";

import { kycDomain, kycSubjectOf, signKycAttestation, type KycAttestation } from "../../core/kyc-attestation";
import { loadScorerConfig } from "../../scorer/config";
import { listen, scorerApp } from "../../scorer/http";
import { ScorerService } from "../../scorer/service";
import { ScorerStore } from "../../scorer/store";
import { normalizeNationalId } from "../../server/vault/identity";

/** KYC evidence as a request carries it (JSON numbers for the times). */
export interface EvidenceBody {
  attestation: { subject: string; level: number; issuedAt: number; expiry: number; partner: string };
  signature: string;
}

export interface TestScorer {
  url: string;
  /** The gateway's bearer token (GATEWAY_SCORER_TOKEN). */
  token: string;
  /** The admin API's token: the test's, never the gateway's. */
  adminToken: string;
  /** The scorer key's address. */
  address: string;
  service: ScorerService;
  store: ScorerStore;
  chainId: bigint;
  /** The KYC verifier of `partnerId` (made and registered on first use). */
  verifierFor(partnerId: string): Promise<Wallet>;
  /** A KYC attestation about the person with `nationalId`, by `partnerId`'s verifier (or `by`). */
  attest(partnerId: string, nationalId: string, level: number, options?: { by?: Wallet; fields?: Partial<KycAttestation> }): Promise<EvidenceBody>;
  stop(): Promise<void>;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export async function startTestScorer(options: { key: string; chainId: bigint; ledgerAddress: string; env?: Record<string, string> }): Promise<TestScorer> {
  const token = randomBytes(24).toString("hex");
  const adminToken = randomBytes(24).toString("hex");
  const config = loadScorerConfig({
    SCORER_MODE: "development",
    SCORER_KEY: options.key,
    SCORER_TOKEN: token,
    SCORER_ADMIN_TOKEN: adminToken,
    SCORER_DB_PATH: ":memory:",
    SCORER_CHAIN_ID: options.chainId.toString(),
    SCORER_LEDGER_ADDRESS: options.ledgerAddress,
    // Tests move the local chain's time forward by months: signed deadlines follow it.
    ...DEVELOPMENT_CHAIN_AHEAD,
    SCORER_BUDGET_PER_HOUR: "100000000000",
    SCORER_BUDGET_PER_DAY: "100000000000",
    ...options.env,
  });
  const store = new ScorerStore(config.dbPath);
  const service = new ScorerService({ config, store, signer: new Wallet(options.key) });
  const { server, url } = await listen(scorerApp(service, token, adminToken), "127.0.0.1", 0);
  (server as Server).unref();
  const verifiers = new Map<string, Wallet>();
  const domain = kycDomain(options.chainId);

  const verifierFor = async (partnerId: string): Promise<Wallet> => {
    const known = verifiers.get(partnerId);
    if (known) return known;
    const wallet = Wallet.createRandom() as unknown as Wallet;
    const res = await fetch(`${url}/admin/v1/kyc-verifiers/${encodeURIComponent(partnerId)}`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ verifier: wallet.address }),
    });
    if (!res.ok) throw new Error(`registering ${partnerId}'s verifier: ${res.status} ${await res.text()}`);
    verifiers.set(partnerId, wallet);
    return wallet;
  };

  return {
    url,
    token,
    adminToken,
    address: service.address,
    service,
    store,
    chainId: options.chainId,
    verifierFor,
    async attest(partnerId, nationalId, level, o = {}) {
      const now = nowSeconds();
      const attestation: KycAttestation = {
        subject: kycSubjectOf(normalizeNationalId(nationalId) ?? nationalId),
        level,
        issuedAt: BigInt(now - 60),
        expiry: BigInt(now + 30 * 86_400),
        partner: partnerId,
        ...o.fields,
      };
      const signer = o.by ?? (await verifierFor(partnerId));
      const signature = await signKycAttestation(signer, domain, attestation);
      return {
        attestation: { ...attestation, issuedAt: Number(attestation.issuedAt), expiry: Number(attestation.expiry) },
        signature,
      };
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
      store.close();
    },
  };
}
