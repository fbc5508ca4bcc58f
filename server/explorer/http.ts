/**
 * The explorer's two public paths: GET /explorer (the HTML shell: it holds no data) and GET
 * /explorer/app.js (the bundled script). The page's data comes from the chain, read by the
 * browser; the one gateway call it makes, /v1/explorer/config, is an ordinary route of the
 * table (auditor key).
 */
import type express from "express";

import { explorerScript } from "./bundle";
import type { ExplorerConfigSource } from "./explorer-config";
import { EXPLORER_PAGE, EXPLORER_STYLE_HASH } from "./page";

export const EXPLORER_PATHS = ["/explorer", "/explorer/app.js"] as const;

/**
 * Scripts only from the gateway, no inline script, the page's one stylesheet by hash, and
 * connections only to the gateway and the configured RPC node.
 */
export function explorerCsp(rpcOrigin: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src '${EXPLORER_STYLE_HASH}'`,
    `connect-src 'self' ${rpcOrigin}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function mountExplorer(app: express.Express, source: ExplorerConfigSource): void {
  const common = { "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache" };
  const pageHeaders = { ...common, "Content-Security-Policy": explorerCsp(source.rpcOrigin()), "X-Frame-Options": "DENY" };
  app.get("/explorer", (_req, res) => {
    res.set(pageHeaders).type("text/html").send(EXPLORER_PAGE);
  });
  app.get("/explorer/app.js", async (req, res) => {
    const script = await explorerScript();
    res.set({ ...common, ETag: script.etag });
    if (req.headers["if-none-match"] === script.etag) {
      res.status(304).end();
      return;
    }
    res.type("text/javascript").send(script.text);
  });
}
