/**
 * GET /v1/explorer/config: what the explorer page needs before it reads the chain itself —
 * the RPC URL its browser should use, the ledger's address, chain id and deploy block, and the
 * compiled runtime code of the ledger and its library for the bytecode check. Nothing here is
 * account data: the page reads every fact from the chain, not from the gateway.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

import type { RuntimeArtifacts } from "../../verifier/bytecode";
import { loadRuntimeArtifacts } from "../../verifier/artifacts-node";

/** The repository root, whose `artifacts/` is this gateway's build. */
const ROOT = path.resolve(__dirname, "..", "..");

const Reference = z.strictObject({ start: z.int().min(0), length: z.int().min(1) });

const Runtime = z.strictObject({
  name: z.string().describe("Fully qualified name: contracts/CreditLedger.sol:CreditLedger"),
  object: z.string().describe("Runtime code as hex, with `__$...$__` placeholders where libraries are linked"),
  linkReferences: z.record(z.string(), z.record(z.string(), z.array(Reference))),
  immutableReferences: z.record(z.string(), z.array(Reference)).optional(),
});

export const ExplorerConfigResponse = z
  .strictObject({
    rpcUrl: z.string().describe("The JSON-RPC URL the page's browser reads the chain from (GATEWAY_EXPLORER_RPC_URL)"),
    ledger: z.string().describe("The CreditLedger address"),
    chainId: z.string().describe("The chain id, as a decimal string"),
    deployBlock: z.int().min(0).describe("The block the ledger's history starts at (GATEWAY_LEDGER_START_BLOCK)"),
    pageBlocks: z.int().min(1).describe("Blocks per eth_getLogs request the page makes (GATEWAY_EXPLORER_PAGE_BLOCKS)"),
    artifacts: z
      .strictObject({ ledger: Runtime, libraries: z.array(Runtime) })
      .nullable()
      .describe("This gateway's build of the ledger and its library (null when it runs without a build: the bytecode check is skipped)"),
  })
  .meta({ id: "ExplorerConfig" });

export type ExplorerConfig = z.output<typeof ExplorerConfigResponse>;

export interface ExplorerSettings {
  rpcUrl: string;
  ledger: string;
  chainId: bigint;
  deployBlock: number;
  /** Blocks per eth_getLogs request (default 2,000). */
  pageBlocks?: number;
  /** The folder whose `artifacts/` holds the Hardhat build; default this repository. */
  root?: string;
}

/** Answers the explorer's configuration; the build is read once, on first use. */
export class ExplorerConfigSource {
  private artifacts?: { value: RuntimeArtifacts | null };

  constructor(private readonly settings: ExplorerSettings) {}

  config(): ExplorerConfig {
    this.artifacts ??= { value: buildOf(this.settings.root ?? ROOT) };
    return {
      rpcUrl: this.settings.rpcUrl,
      ledger: this.settings.ledger,
      chainId: this.settings.chainId.toString(),
      deployBlock: this.settings.deployBlock,
      pageBlocks: this.settings.pageBlocks ?? 2_000,
      artifacts: this.artifacts.value,
    };
  }

  /** The origin of the RPC URL, for the page's Content-Security-Policy (connect-src). */
  rpcOrigin(): string {
    return new URL(this.settings.rpcUrl).origin;
  }
}

/** The build's runtime artifacts, or null when the gateway runs without a build. */
function buildOf(root: string): RuntimeArtifacts | null {
  if (!existsSync(path.join(root, "artifacts", "contracts", "CreditLedger.sol"))) return null;
  return loadRuntimeArtifacts(root);
}
