/**
 * The page's two sources: the gateway, asked only for its explorer configuration (and, for an
 * operation id, which loan it drew), and the chain, read directly with ethers at the RPC URL
 * the configuration names. Failures become `ExplorerError`s that say what to do.
 */
import { JsonRpcProvider, Network } from "ethers";

import type { ExplorerConfig } from "../config";
import { readLedger, type Phase } from "../../source";
import { ledgerOverview, replayAccount, type LedgerOverview } from "../../account-view";
import { replay, type Replay } from "../../replay";
import { verifyHistory } from "../../verify";
import type { AuditReport, LedgerHistory } from "../../types";

/** A problem the user can act on: `message` says what happened, `action` what to do. */
export class ExplorerError extends Error {
  override readonly name = "ExplorerError";
  constructor(
    message: string,
    readonly action: string,
    /** The key was refused: ask for it again. */
    readonly badKey = false
  ) {
    super(message);
  }
}

async function gatewayGet(path: string, key: string): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetch(path, { headers: { Authorization: `Bearer ${key}`, Accept: "application/json" } });
  } catch (error) {
    throw new ExplorerError(
      `The gateway does not answer (${(error as Error).message}).`,
      "Check that the gateway (npm start) is running, then reload this page."
    );
  }
  let body: Record<string, unknown> = {};
  try {
    body = (await response.json()) as Record<string, unknown>;
  } catch {
    /* a problem without a body */
  }
  if (response.status === 401) {
    throw new ExplorerError("The gateway did not accept this API key.", "Paste the auditor key `npm start` printed (\"auditor key\").", true);
  }
  if (response.status === 403) {
    throw new ExplorerError("This API key has no auditor scope.", "Use the auditor key (a partner key cannot open the explorer).", true);
  }
  return { status: response.status, body };
}

/** GET /v1/explorer/config with the key. */
export async function fetchConfig(key: string): Promise<ExplorerConfig> {
  const { status, body } = await gatewayGet("/v1/explorer/config", key);
  if (status !== 200) {
    throw new ExplorerError(`The gateway answered ${status}: ${String(body.detail ?? body.title ?? "no detail")}.`, "Reload the page; if it persists, check the gateway's log.");
  }
  return body as unknown as ExplorerConfig;
}

/** The loan an operation drew (the gateway names it; the page then reads the loan from the chain). */
export async function resolveOperation(key: string, operationId: string): Promise<{ account: string; loanNo: number }> {
  const { status, body } = await gatewayGet(`/v1/loans/${encodeURIComponent(operationId)}`, key);
  if (status === 200 && typeof body.accountId === "string" && typeof body.loanNo === "number") {
    return { account: body.accountId.toLowerCase(), loanNo: body.loanNo };
  }
  if (status === 404) throw new ExplorerError(`The gateway knows no loan drawn by ${operationId}.`, "Check the operation id, or look the loan up as <account id>:<loan number>.");
  if (status === 409) throw new ExplorerError(`The operation ${operationId} has not drawn its loan on-chain yet.`, "Try again once the operation is confirmed.");
  throw new ExplorerError(`The gateway answered ${status} for ${operationId}: ${String(body.detail ?? "no detail")}.`, "Look the loan up as <account id>:<loan number>.");
}

/**
 * A provider for `rpcUrl` (the auditor's own, or the gateway's default), after checking it
 * answers for the configured chain.
 */
export async function connectChain(config: ExplorerConfig, rpcUrl: string = config.rpcUrl): Promise<JsonRpcProvider> {
  const own = rpcUrl !== config.rpcUrl;
  const setting = own ? "Check the RPC URL you entered (or clear it to use the gateway's default)" : "the gateway's GATEWAY_EXPLORER_RPC_URL sets the default URL; you can enter your own";
  let chainId: bigint;
  try {
    const response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    const body = (await response.json()) as { result?: string };
    if (typeof body.result !== "string") throw new Error(`unexpected answer (HTTP ${response.status})`);
    chainId = BigInt(body.result);
  } catch (error) {
    throw new ExplorerError(
      `This browser cannot reach the chain's RPC at ${rpcUrl} (${(error as Error).message}).`,
      `Check that the node is running and reachable from this browser, and that it allows cross-origin requests (CORS); ${setting}.`
    );
  }
  if (chainId.toString() !== config.chainId) {
    throw new ExplorerError(
      `The RPC at ${rpcUrl} serves chain ${chainId}, but the ledger is on chain ${config.chainId}.`,
      own ? "Enter the URL of a node of the ledger's chain." : "Point GATEWAY_EXPLORER_RPC_URL at a node of the ledger's chain, or enter your own RPC URL."
    );
  }
  return new JsonRpcProvider(rpcUrl, Network.from(chainId), { staticNetwork: true, batchMaxCount: 20, cacheTimeout: -1 });
}

/** A history read from the chain, replayed and verified in this browser. */
export interface Loaded {
  history: LedgerHistory;
  replayed: Replay;
  report: AuditReport;
  overview: LedgerOverview;
  /** The one account read, when not the whole ledger. */
  account?: string;
}

export type Progress = (done: number, total: number, phase: Phase) => void;

/** Reads the ledger (or one account of it) from the chain and verifies it. */
export async function load(provider: JsonRpcProvider, config: ExplorerConfig, account: string | undefined, onProgress: Progress): Promise<Loaded> {
  let history: LedgerHistory;
  try {
    history = await readLedger(provider, {
      ledger: config.ledger,
      fromBlock: config.deployBlock,
      pageBlocks: config.pageBlocks,
      ...(account !== undefined ? { account } : {}),
      ...(config.artifacts ? { artifacts: config.artifacts } : {}),
      onProgress,
    });
  } catch (error) {
    throw new ExplorerError(
      `Reading the chain failed: ${(error as Error).message}`,
      "Check that the RPC node is up (Re-read the chain to try again)."
    );
  }
  const replayed = replay(history);
  return { history, replayed, report: verifyHistory(history, replayed), overview: ledgerOverview(history, replayed), ...(account ? { account } : {}) };
}

export { replayAccount };
