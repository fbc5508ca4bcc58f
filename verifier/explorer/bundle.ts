/**
 * The explorer page's script: `client/main.ts` bundled by esbuild with ethers, the shared core
 * and the verifier library inside, so the page needs nothing from a CDN. Built ahead of time
 * (`npm run build`, and `npm start` before it serves) into `EXPLORER_SCRIPT_FILE`, beside this
 * module's compiled code (dist/verifier/explorer/app.js in a build); the gateway reads the file
 * once when it starts. esbuild is a build tool: it is loaded only when the script is built.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Plugin } from "esbuild";

/** The page's entry point (TypeScript source; the build bundles it). */
export const CLIENT_ENTRY = path.join(__dirname, "client", "main.ts");
/** Where the bundle is written and read. */
export const EXPLORER_SCRIPT_FILE = path.join(__dirname, "app.js");

export interface ExplorerScript {
  text: string;
  /** A strong ETag of the text. */
  etag: string;
}

const etagOf = (text: string): string => `"${createHash("sha256").update(text).digest("base64url").slice(0, 32)}"`;

/**
 * A Hardhat artifact imported by the verifier (for the ABI) is cut down to its ABI: the page
 * gets the compiled code for the bytecode check from /v1/explorer/config instead.
 */
const abiOnlyArtifacts: Plugin = {
  name: "abi-only-artifacts",
  setup(build) {
    build.onLoad({ filter: /[\\/]artifacts[\\/].*\.json$/ }, async (args) => {
      const { readFile } = await import("node:fs/promises");
      const artifact = JSON.parse(await readFile(args.path, "utf8")) as { contractName?: string; abi?: unknown };
      return { contents: JSON.stringify({ contractName: artifact.contractName, abi: artifact.abi }), loader: "json" };
    });
  },
};

/** Bundles the page's script and writes it to `out`; returns what was written. */
export async function buildExplorerScript(out = EXPLORER_SCRIPT_FILE, entry = CLIENT_ENTRY): Promise<ExplorerScript> {
  if (!existsSync(entry)) throw new Error(`the explorer's source ${entry} is not here: build from a checkout (npm run build)`);
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: "es2020", // bigint literals
    minify: true,
    legalComments: "eof",
    charset: "utf8",
    logLevel: "silent",
    plugins: [abiOnlyArtifacts],
  });
  const text = result.outputFiles[0].text;
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, text);
  return { text, etag: etagOf(text) };
}

/** The built script, or undefined when it has not been built. */
export function readExplorerScript(file = EXPLORER_SCRIPT_FILE): ExplorerScript | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, "utf8");
  return { text, etag: etagOf(text) };
}
