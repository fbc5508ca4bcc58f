/**
 * GET /explorer: the explorer's HTML shell. It holds no data and no inline script: the
 * bundled script (/explorer/app.js) asks for the auditor key, reads the chain and renders
 * into `#content`. Self-contained (no CDN, no external fonts): the gateway runs offline.
 */
import { createHash } from "node:crypto";

const STYLE = `
  :root { --ink: #1d2330; --muted: #5b6474; --line: #d5d9e0; --bg: #f7f8fa; --card: #fff;
    --pass: #0b7a3e; --pass-bg: #e3f4ea; --fail: #b42318; --fail-bg: #fde8e6; --skip: #5b6474; --skip-bg: #eceef2;
    --warn: #9a5b00; --warn-bg: #fff1d6; --accent: #1f5fbf; }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: var(--ink); background: var(--bg); }
  a { color: var(--accent); }
  .skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px; z-index: 1; }
  header { background: var(--ink); color: #fff; padding: 12px 32px; }
  header h1 { margin: 0; font-size: 20px; display: inline-block; margin-right: 24px; }
  header a { color: #cfe0ff; }
  #connection { margin: 4px 0 0; font-size: 13px; color: #c3c9d4; overflow-wrap: anywhere; }
  nav { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; margin-top: 10px; }
  nav form { display: flex; gap: 6px; align-items: center; flex: 1 1 520px; }
  nav label { font-size: 13px; color: #c3c9d4; }
  nav input { flex: 1; min-width: 200px; }
  input, button { font: inherit; padding: 5px 10px; border-radius: 4px; border: 1px solid var(--line); }
  button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
  button.secondary { background: transparent; color: #cfe0ff; border-color: #56607a; }
  button:disabled { opacity: .6; cursor: default; }
  main { max-width: 1200px; margin: 0 auto; padding: 16px 32px 48px; }
  main:focus { outline: none; }
  h2 { margin: 24px 0 8px; font-size: 20px; } h3 { margin: 20px 0 6px; font-size: 16px; }
  section.panel { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 12px 0; }
  #key-section form { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
  #key-section input { width: 420px; max-width: 100%; }
  #key-section .field { display: flex; flex-direction: column; gap: 2px; }
  #verified { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; margin: 8px 0; font-size: 14px; }
  #verified p { margin: 2px 0; overflow-wrap: anywhere; }
  #verified pre { margin: 4px 0 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12px; }
  #key-section p { color: var(--muted); margin: 6px 0 0; }
  #error { background: var(--fail-bg); color: var(--fail); border: 1px solid #f3b8b1; border-radius: 6px; padding: 10px 14px; margin: 12px 0; }
  #status { color: var(--muted); min-height: 1.5em; }
  #progress-box { display: flex; gap: 10px; align-items: center; margin: 8px 0; }
  #progress-box progress { width: 320px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 10px; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
  .card .label { color: var(--muted); font-size: 13px; }
  .card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .badges { display: flex; flex-wrap: wrap; gap: 8px; margin: 6px 0; padding: 0; list-style: none; }
  .badge { display: inline-flex; flex-direction: column; border-radius: 6px; padding: 6px 10px; min-width: 150px; border: 1px solid transparent; }
  .badge .name { font-weight: 600; font-family: ui-monospace, monospace; font-size: 13px; }
  .badge .verdict { font-size: 13px; }
  .badge.pass { background: var(--pass-bg); color: var(--pass); border-color: #b5e0c6; }
  .badge.fail { background: var(--fail-bg); color: var(--fail); border-color: #f3b8b1; }
  .badge.skipped { background: var(--skip-bg); color: var(--skip); border-color: var(--line); }
  .findings { margin: 6px 0; color: var(--fail); font-size: 14px; }
  table.data { border-collapse: collapse; width: 100%; font-size: 14px; background: var(--card); }
  table.data th, table.data td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e6e9ee; vertical-align: top; }
  table.data th { background: #f0f2f5; font-weight: 600; }
  table.data th[scope=row] { background: var(--card); }
  table.data td.mono { white-space: nowrap; }
  table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  table.data caption { text-align: left; color: var(--muted); font-size: 13px; padding: 4px 0; caption-side: bottom; }
  .scroll { overflow-x: auto; }
  .mono { font-family: ui-monospace, monospace; font-size: 13px; }
  .muted { color: var(--muted); }
  .pill { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; }
  .pill.paid { background: var(--pass-bg); color: var(--pass); }
  .pill.overdue { background: var(--fail-bg); color: var(--fail); }
  .pill.partly-paid, .pill.due { background: var(--warn-bg); color: var(--warn); }
  .pill.upcoming, .pill.closed, .pill.waived { background: var(--skip-bg); color: var(--skip); }
  .pill.active { background: #e1ecfb; color: var(--accent); }
  .pill.written-off { background: var(--fail-bg); color: var(--fail); }
  .chart svg { width: 100%; height: auto; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
  .chart .axis { stroke: #9aa3b2; stroke-width: 1; }
  .chart .grid { stroke: #eceef2; stroke-width: 1; }
  .chart .series { fill: none; stroke: var(--accent); stroke-width: 2; }
  .chart .area { fill: #1f5fbf22; stroke: none; }
  .chart .dot { fill: var(--accent); }
  .chart text { font-size: 11px; fill: var(--muted); font-family: system-ui, sans-serif; }
  .loan { border-top: 1px solid var(--line); padding-top: 8px; margin-top: 12px; }
  .loan.focused { outline: 2px solid var(--accent); outline-offset: 6px; border-radius: 4px; }
  dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 6px 0; }
  dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; font-variant-numeric: tabular-nums; }
  footer { max-width: 1200px; margin: 0 auto; padding: 0 32px 32px; color: var(--muted); font-size: 13px; }
`;

/** The CSP source of the page's one stylesheet. */
export const EXPLORER_STYLE_HASH = `sha256-${createHash("sha256").update(STYLE).digest("base64")}`;

export const EXPLORER_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>credit-ledger explorer</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<a class="skip" href="#view">Skip to content</a>
<header>
  <h1>credit-ledger explorer</h1>
  <p id="connection" data-testid="connection">Not connected.</p>
  <nav aria-label="Explorer" id="nav" hidden>
    <a href="#/overview" data-testid="nav-overview">Ledger overview</a>
    <form id="lookup-form" role="search" data-testid="lookup-form">
      <label for="lookup">Account or loan</label>
      <input id="lookup" name="lookup" data-testid="lookup-input" autocomplete="off" spellcheck="false"
        placeholder="account id (0x + 64 hex), loan (account:n or account/n) or op_..." aria-describedby="lookup-help">
      <button type="submit" data-testid="lookup-submit">Look up</button>
    </form>
    <form id="rpc-form" data-testid="rpc-form">
      <label for="rpc-nav">RPC URL</label>
      <input id="rpc-nav" name="rpc-nav" type="url" data-testid="rpc-nav-input" autocomplete="off" spellcheck="false" placeholder="empty: the gateway's default">
      <button type="submit" class="secondary" data-testid="rpc-submit">Read from this RPC</button>
    </form>
    <button type="button" class="secondary" id="reread" data-testid="reread">Re-read the chain</button>
    <button type="button" class="secondary" id="forget-key" data-testid="forget-key">Forget key</button>
    <span id="lookup-help" hidden>An account id, a loan as account:loan number, or the id of the operation that drew a loan.</span>
  </nav>
</header>
<main id="view" tabindex="-1">
  <section id="key-section" class="panel" aria-labelledby="key-heading" hidden>
    <h2 id="key-heading">Auditor key</h2>
    <form id="key-form" data-testid="key-form">
      <span class="field"><label for="api-key">API key with the auditor scope</label>
      <input id="api-key" name="api-key" type="password" autocomplete="off" spellcheck="false" data-testid="key-input" required></span>
      <span class="field"><label for="rpc-url">Your own RPC URL (optional)</label>
      <input id="rpc-url" name="rpc-url" type="url" autocomplete="off" spellcheck="false" data-testid="rpc-input"
        placeholder="empty: the gateway's default" aria-describedby="rpc-help"></span>
      <button type="submit" data-testid="key-submit">Connect</button>
    </form>
    <p>The key is kept in this tab only (sessionStorage). The gateway answers with the ledger's
    address, the RPC URL and its compiled code; every fact on this page is then read from the
    chain by this browser and checked here with the verifier library.</p>
    <p id="rpc-help">The gateway's RPC URL is set by the gateway's operator, the party being audited:
    it is only the default. Enter the URL of a node you trust (your own, or another provider's,
    allowing cross-origin requests) to read the chain from there, and compare the ledger head and
    block shown with another endpoint's.</p>
  </section>
  <div id="error" role="alert" data-testid="error" hidden></div>
  <div id="progress-box" data-testid="progress-box" hidden>
    <label for="progress">Reading the chain</label>
    <progress id="progress" data-testid="progress"></progress>
    <span id="progress-text" class="muted"></span>
  </div>
  <div id="status" role="status" aria-live="polite" data-testid="status"></div>
  <section id="verified" data-testid="verified" aria-label="Block and ledger head verified" hidden></section>
  <div id="content" data-testid="content"></div>
</main>
<footer>Figures are read from the chain by this browser and verified here (docs/EXPLORER.md); amounts are yuan (¥), exact to the fen.</footer>
<noscript><p>The explorer runs in the browser: enable JavaScript.</p></noscript>
<script src="/explorer/app.js" defer></script>
</body>
</html>
`;
