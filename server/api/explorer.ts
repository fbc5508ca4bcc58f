/**
 * The gateway's side of the explorer (the auditor's page lives in verifier/explorer/): GET
 * /explorer (the HTML shell: it holds no data), GET /explorer/app.js (the script built ahead of
 * time, read once at start), and the answer of GET /v1/explorer/config (an ordinary route of
 * the table, auditor key): the RPC URL, the ledger and this gateway's compiled code.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type express from "express";

import { loadRuntimeArtifacts } from "../../verifier/artifacts-node";
import type { RuntimeArtifacts } from "../../verifier/bytecode";
import type { ExplorerScript } from "../../verifier/explorer/bundle";
import type { ExplorerConfig } from "../../verifier/explorer/config";
import { EXPLORER_PAGE, EXPLORER_STYLE_HASH } from "../../verifier/explorer/page";
import { ApiError, sendProblem } from "./problems";

export const EXPLORER_PATHS = ["/explorer", "/explorer/app.js"] as const;

/** The repository root (or the build's root, dist/), whose `artifacts/` is this gateway's build. */
const ROOT = path.resolve(__dirname, "..", "..");

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

/**
 * Scripts only from the gateway, no inline script, the page's one stylesheet by hash, and
 * connections to the gateway, the configured RPC node and any other http(s) RPC node: the
 * auditor may enter their own RPC URL (the configured one is the operator's, the party being
 * audited). The page holds no secret but the auditor key, and runs only the gateway's script.
 */
export function explorerCsp(rpcOrigin: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src '${EXPLORER_STYLE_HASH}'`,
    `connect-src 'self' ${rpcOrigin} http: https:`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Mounts the page and its script (`script` undefined: not built, the script path answers 503 saying how to build it). */
export function mountExplorer(app: express.Express, source: ExplorerConfigSource, script: ExplorerScript | undefined): void {
  const common = { "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache" };
  const pageHeaders = { ...common, "Content-Security-Policy": explorerCsp(source.rpcOrigin()), "X-Frame-Options": "DENY" };
  app.get("/explorer", (_req, res) => {
    res.set(pageHeaders).type("text/html").send(EXPLORER_PAGE);
  });
  app.get("/explorer/app.js", (req, res) => {
    if (!script) {
      const problem = new ApiError("explorer-not-built", "the explorer page's script was not built: run `npm run build` (npm start builds it too) and restart the gateway");
      sendProblem(res, problem.toProblem(req.path));
      return;
    }
    res.set({ ...common, ETag: script.etag });
    if (req.headers["if-none-match"] === script.etag) {
      res.status(304).end();
      return;
    }
    res.type("text/javascript").send(script.text);
  });
}
