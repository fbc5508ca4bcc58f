/**
 * The explorer page's script (bundled by verifier/explorer/bundle.ts ahead of time). Asks for the auditor key
 * (kept in sessionStorage), gets the ledger's address, the RPC URL and the compiled code from
 * the gateway, then reads the chain itself and verifies what it read with the verifier library.
 * Routes are location hashes: `#/overview`, `#/account/<id>`, `#/loan/<id>/<n>`.
 */
import type { JsonRpcProvider } from "ethers";

import type { ExplorerConfig } from "../config";
import { connectChain, ExplorerError, fetchConfig, load, replayAccount, resolveOperation, type Loaded } from "./connection";
import { byId, h, replaceChildren } from "./dom";
import { count } from "./format";
import { hashOf, parseLookup, routeOf, type Lookup } from "./model";
import { readSummary, renderAccount, renderOverview } from "./views";
import { crossCheck, verifiedLines } from "../../report";

const KEY_STORAGE = "credit-ledger.explorer.auditor-key";
/** The auditor's own RPC URL, when they entered one (the gateway's is only the default). */
const RPC_STORAGE = "credit-ledger.explorer.rpc-url";

interface Session {
  key: string;
  config: ExplorerConfig;
  provider: JsonRpcProvider;
  /** The RPC URL read from: the auditor's own, or the gateway's default. */
  rpcUrl: string;
  /** The whole ledger, once read. */
  full?: Promise<Loaded>;
  /** Single accounts read before the whole ledger was. */
  accounts: Map<string, Promise<Loaded>>;
}

let session: Session | undefined;
/** Bumped by every navigation: a slower, older render never overwrites a newer one. */
let generation = 0;

const el = {
  keySection: () => byId("key-section"),
  keyInput: () => byId<HTMLInputElement>("api-key"),
  nav: () => byId("nav"),
  connection: () => byId("connection"),
  status: () => byId("status"),
  error: () => byId("error"),
  progressBox: () => byId("progress-box"),
  progress: () => byId<HTMLProgressElement>("progress"),
  progressText: () => byId("progress-text"),
  content: () => byId("content"),
  rpcInput: () => byId<HTMLInputElement>("rpc-url"),
  rpcNav: () => byId<HTMLInputElement>("rpc-nav"),
  verified: () => byId("verified"),
};

function setStatus(text: string): void {
  el.status().textContent = text;
}

function showError(error: unknown): void {
  const box = el.error();
  const known = error instanceof ExplorerError;
  const message = known ? error.message : `Something went wrong: ${error instanceof Error ? error.message : String(error)}`;
  const action = known ? error.action : "Reload the page; if it persists, the browser console has the details.";
  replaceChildren(box, h("strong", {}, message), " ", h("span", { "data-testid": "error-action" }, action));
  box.hidden = false;
  if (!known) console.error(error);
}

function clearError(): void {
  el.error().hidden = true;
  el.error().textContent = "";
}

const PHASE_TEXT: Record<string, string> = {
  logs: "ledger logs, blocks",
  blocks: "block times",
  views: "account views",
  signatures: "decision signatures",
  bytecode: "deployed code",
};

function showProgress(done: number, total: number, phase: string): void {
  el.progressBox().hidden = false;
  const bar = el.progress();
  bar.max = Math.max(total, 1);
  bar.value = Math.min(done, bar.max);
  el.progressText().textContent = `${PHASE_TEXT[phase] ?? phase}: ${count(done)} of ${count(total)}`;
}

function hideProgress(): void {
  el.progressBox().hidden = true;
}

function askForKey(): void {
  el.keySection().hidden = false;
  el.nav().hidden = true;
  el.keyInput().focus();
}

/** `own`: the auditor's RPC URL ("" or undefined: the gateway's default). */
async function connect(key: string, own: string | undefined): Promise<void> {
  clearError();
  setStatus("Asking the gateway for the ledger's address and RPC URL…");
  const ownUrl = own?.trim() ? own.trim() : undefined;
  try {
    if (ownUrl !== undefined && !/^https?:\/\/./.test(ownUrl)) {
      throw new ExplorerError(`"${ownUrl}" is not an http(s) URL.`, "Enter the RPC URL as http://host:port or https://host/path, or clear it to use the gateway's default.");
    }
    const config = await fetchConfig(key);
    sessionStorage.setItem(KEY_STORAGE, key);
    const rpcUrl = ownUrl ?? config.rpcUrl;
    setStatus(`Connecting to the chain at ${rpcUrl}…`);
    const provider = await connectChain(config, rpcUrl);
    if (ownUrl !== undefined) sessionStorage.setItem(RPC_STORAGE, ownUrl);
    else sessionStorage.removeItem(RPC_STORAGE);
    session?.provider.destroy();
    session = { key, config, provider, rpcUrl, accounts: new Map() };
  } catch (error) {
    setStatus("");
    showError(error);
    if (error instanceof ExplorerError && error.badKey) {
      sessionStorage.removeItem(KEY_STORAGE);
      askForKey();
    }
    return;
  }
  el.keySection().hidden = true;
  el.nav().hidden = false;
  const s = session;
  const from =
    s.rpcUrl === s.config.rpcUrl
      ? `read from ${s.rpcUrl}, the gateway's default RPC URL (set by the gateway's operator, the party being audited: enter your own to read the chain from a node you trust)`
      : `read from ${s.rpcUrl}, your own RPC URL (the gateway's default is ${s.config.rpcUrl})`;
  el.connection().textContent = `Ledger ${s.config.ledger} on chain ${s.config.chainId} (as the gateway names it: compare the address with the one you were given), ${from}.`;
  el.connection().dataset.rpc = s.rpcUrl === s.config.rpcUrl ? "default" : "own";
  el.rpcNav().value = s.rpcUrl === s.config.rpcUrl ? "" : s.rpcUrl;
  await route();
}

/** The whole ledger or one account, read once per session (Re-read drops them). */
function loadFor(s: Session, account: string | undefined): Promise<Loaded> {
  const progress = (done: number, total: number, phase: string) => showProgress(done, total, phase);
  if (account === undefined || s.full) {
    s.full ??= load(s.provider, s.config, undefined, progress).catch((error: unknown) => {
      s.full = undefined;
      throw error;
    });
    return s.full;
  }
  let one = s.accounts.get(account);
  if (!one) {
    one = load(s.provider, s.config, account, progress).catch((error: unknown) => {
      s.accounts.delete(account);
      throw error;
    });
    s.accounts.set(account, one);
  }
  return one;
}

async function route(): Promise<void> {
  const s = session;
  if (!s) return;
  const mine = ++generation;
  const lookup: Lookup = routeOf(location.hash);
  clearError();
  if (lookup.kind === "operation") {
    setStatus(`Asking the gateway which loan ${lookup.id} drew…`);
    try {
      const loan = await resolveOperation(s.key, lookup.id);
      if (mine === generation) location.replace(hashOf({ kind: "loan", account: loan.account, loanNo: loan.loanNo }));
    } catch (error) {
      setStatus("");
      showError(error);
    }
    return;
  }
  const account = lookup.kind === "overview" ? undefined : lookup.account;
  setStatus(account ? `Reading account ${account} from the chain…` : "Reading the whole ledger from the chain…");
  let loaded: Loaded;
  try {
    loaded = await loadFor(s, account);
  } catch (error) {
    if (mine !== generation) return;
    hideProgress();
    setStatus("");
    showError(error);
    return;
  }
  if (mine !== generation) return;
  hideProgress();
  const view =
    lookup.kind === "overview"
      ? renderOverview(loaded)
      : renderAccount(loaded, lookup.account, replayAccount(loaded.history, lookup.account, loaded.replayed), lookup.kind === "loan" ? lookup.loanNo : undefined);
  replaceChildren(el.content(), view);
  showVerified(loaded);
  document.title = `${lookup.kind === "overview" ? "Ledger overview" : lookup.kind === "loan" ? `Loan ${lookup.loanNo}` : "Account"} · credit-ledger explorer`;
  setStatus(`${readSummary(loaded, s.rpcUrl)} ${loaded.report.ok ? "Every check passes." : "Some checks FAIL: see the badges."}`);
  view.querySelector<HTMLElement>("[data-testid=view-heading]")?.focus();
}

/** The block and ledger head verified, and the calls that cross-check them against another endpoint. */
function showVerified(loaded: Loaded): void {
  const box = el.verified();
  const lines = verifiedLines(loaded.report);
  const calls = crossCheck(loaded.report);
  replaceChildren(
    box,
    ...lines.map((line, i) => h("p", { "data-testid": i === 0 ? "verified-block" : "verified-head" }, line)),
    calls.length > 0 ? h("p", {}, "To cross-check with another endpoint (the same answers):") : null,
    calls.length > 0 ? h("pre", { "data-testid": "cross-check" }, calls.join("\n")) : null,
  );
  box.hidden = lines.length === 0;
}

function onLookup(event: SubmitEvent): void {
  event.preventDefault();
  const input = byId<HTMLInputElement>("lookup");
  const parsed = parseLookup(input.value);
  if ("error" in parsed) {
    showError(new ExplorerError(parsed.error, "Correct the id and look it up again."));
    input.focus();
    return;
  }
  const hash = hashOf(parsed);
  if (location.hash === hash) void route();
  else location.hash = hash;
}

function main(): void {
  byId<HTMLFormElement>("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = el.keyInput().value.trim();
    if (key !== "") void connect(key, el.rpcInput().value);
  });
  byId<HTMLFormElement>("rpc-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!session) return;
    el.verified().hidden = true;
    replaceChildren(el.content());
    void connect(session.key, el.rpcNav().value);
  });
  byId<HTMLFormElement>("lookup-form").addEventListener("submit", onLookup);
  byId("reread").addEventListener("click", () => {
    if (!session) return;
    session.full = undefined;
    session.accounts.clear();
    void route();
  });
  byId("forget-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    sessionStorage.removeItem(RPC_STORAGE);
    el.verified().hidden = true;
    session?.provider.destroy();
    session = undefined;
    replaceChildren(el.content());
    el.connection().textContent = "Not connected.";
    setStatus("The key is forgotten in this tab.");
    askForKey();
  });
  window.addEventListener("hashchange", () => void route());
  const key = sessionStorage.getItem(KEY_STORAGE);
  const own = sessionStorage.getItem(RPC_STORAGE) ?? undefined;
  if (own !== undefined) el.rpcInput().value = own;
  if (key) void connect(key, own);
  else askForKey();
}

main();
