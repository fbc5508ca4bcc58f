/**
 * The start-up check of `npm run audit` (verifier/artifacts-node.ts `changedSources`) on a
 * Hardhat build that was compiled more than once: Hardhat recompiles only what changed (and
 * what imports it) into a new build info, so the ledger's build info can still hold the older
 * text of a source it does not import. Staged in a temporary folder: a build info per
 * compile and the artifacts' `.dbg.json` files that point to them.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";

import { changedSources } from "../../verifier/artifacts-node";

function stage(root: string, sources: Record<string, string>, builds: Record<string, Record<string, string>>, pointers: Record<string, string>) {
  for (const [name, text] of Object.entries(sources)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  mkdirSync(path.join(root, "artifacts", "build-info"), { recursive: true });
  for (const [id, compiled] of Object.entries(builds)) {
    const input = { sources: Object.fromEntries(Object.entries(compiled).map(([n, content]) => [n, { content }])) };
    writeFileSync(path.join(root, "artifacts", "build-info", `${id}.json`), JSON.stringify({ input, output: { contracts: {} } }));
  }
  for (const [source, id] of Object.entries(pointers)) {
    const dir = path.join(root, "artifacts", source);
    mkdirSync(dir, { recursive: true });
    const relative = path.relative(dir, path.join(root, "artifacts", "build-info", `${id}.json`));
    writeFileSync(path.join(dir, `${path.basename(source, ".sol")}.dbg.json`), JSON.stringify({ buildInfo: relative }));
  }
}

function buildInfo(root: string, id: string) {
  const file = path.join(root, "artifacts", "build-info", `${id}.json`);
  return { ...(JSON.parse(readFileSync(file, "utf8")) as { input: { sources: Record<string, { content: string }> }; output: { contracts: {} } }), file };
}

describe("npm run audit start-up: the build checked against the sources", function () {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), "artifacts-node-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("accepts a ledger build whose older copy of a test double was compiled again into a newer build info", function () {
    stage(
      root,
      { "contracts/Ledger.sol": "ledger v1", "contracts/test/Double.sol": "double v2" },
      { first: { "contracts/Ledger.sol": "ledger v1", "contracts/test/Double.sol": "double v1" }, second: { "contracts/test/Double.sol": "double v2" } },
      { "contracts/Ledger.sol": "first", "contracts/test/Double.sol": "second" }
    );
    expect(changedSources(root, buildInfo(root, "first"))).to.deep.equal([]);
  });

  it("names a source changed on disk since the build that holds it, and one that is gone", function () {
    stage(
      root,
      { "contracts/Ledger.sol": "ledger v2" },
      { first: { "contracts/Ledger.sol": "ledger v1", "contracts/Gone.sol": "gone" } },
      { "contracts/Ledger.sol": "first", "contracts/Gone.sol": "first" }
    );
    expect(changedSources(root, buildInfo(root, "first"))).to.deep.equal(["contracts/Ledger.sol", "contracts/Gone.sol"]);
  });

  it("still names a test double changed on disk after its own latest compile", function () {
    stage(
      root,
      { "contracts/Ledger.sol": "ledger v1", "contracts/test/Double.sol": "double v3" },
      { first: { "contracts/Ledger.sol": "ledger v1", "contracts/test/Double.sol": "double v1" } },
      { "contracts/Ledger.sol": "first", "contracts/test/Double.sol": "first" }
    );
    expect(changedSources(root, buildInfo(root, "first"))).to.deep.equal(["contracts/test/Double.sol"]);
  });
});
