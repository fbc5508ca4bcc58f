/**
 * The explorer page's script: `server/explorer/client/main.ts` bundled by esbuild, in memory,
 * with ethers, the shared loan math and hash chain (core/) and the verifier library
 * (verifier/) inside, so the page needs nothing from a CDN. Built on first request and kept
 * for the life of the process (the sources do not change under a running gateway).
 */
import { createHash } from "node:crypto";
import path from "node:path";
import type { Plugin } from "esbuild";

export const CLIENT_ENTRY = path.join(__dirname, "client", "main.ts");

export interface ExplorerScript {
  text: string;
  /** A strong ETag of the text. */
  etag: string;
}

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

/** Bundles the page's script (no cache: see `explorerScript`). */
export async function bundleExplorer(entry = CLIENT_ENTRY): Promise<ExplorerScript> {
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
  return { text, etag: `"${createHash("sha256").update(text).digest("base64url").slice(0, 32)}"` };
}

let cached: Promise<ExplorerScript> | undefined;

/** The bundle, built once per process; a failed build is retried on the next request. */
export function explorerScript(): Promise<ExplorerScript> {
  cached ??= bundleExplorer().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}
