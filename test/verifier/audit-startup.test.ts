/**
 * How `npm run audit` starts: scripts/audit.ts bundled in memory (scripts/lib/run-bundled.cjs),
 * no compile, the build checked against the contract sources on disk. Run in a copy of the
 * repository whose contracts/ is a copy and everything else a link (tests never change tracked
 * files): the copy's unchanged sources start an audit that passes, and one changed source
 * makes it exit 2 naming the file and saying to run `npx hardhat compile`.
 */
import { execFile } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";

import { startLocalNode, type LocalNode } from "../../scripts/lib/local-node";
import { accountWithLines, deployLedger, purchase } from "../helpers/fixtures";

const ROOT = path.resolve(__dirname, "..", "..");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run audit -- <args>` as package.json runs it, in `root`. */
function runAudit(root: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, "scripts", "lib", "run-bundled.cjs"), path.join(root, "scripts", "audit.ts"), ...args],
      { cwd: root, env: { ...process.env, CI: "true" }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr })
    );
  });
}

const show = (r: Run): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** A copy of the repository: contracts/ copied, every other top-level entry linked. */
function repositoryCopy(): string {
  const root = mkdtempSync(path.join(tmpdir(), "audit-startup-"));
  for (const name of readdirSync(ROOT)) {
    if (name === ".git" || name === "contracts") continue;
    symlinkSync(path.join(ROOT, name), path.join(root, name));
  }
  cpSync(path.join(ROOT, "contracts"), path.join(root, "contracts"), { recursive: true });
  return root;
}

describe("npm run audit start-up (bundled, the build checked against the sources)", function () {
  this.timeout(240_000);
  let node: LocalNode;
  let root: string;

  before(async function () {
    node = await startLocalNode(hre, "127.0.0.1", 0);
    root = repositoryCopy();
  });

  after(async function () {
    await node?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function ledger(): Promise<string> {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    await purchase(l, account, 120_000n, 3);
    return l.ledger.getAddress();
  }

  it("starts from the compiled contracts without compiling when the sources are the build's, and every check holds", async function () {
    const address = await ledger();
    const run = await runAudit(root, ["--rpc", node.rpcUrl, "--ledger", address]);
    expect(run.code, show(run)).to.equal(0);
    expect(run.stdout).to.contain("RESULT: every check holds");
    expect(run.stdout + run.stderr).not.to.match(/Compil/);
  });

  it("exits 2 naming the changed source and saying to run npx hardhat compile when a contract source differs from the build", async function () {
    const address = await ledger();
    appendFileSync(path.join(root, "contracts", "CreditLedger.sol"), "\n// changed after the last compile\n");
    const run = await runAudit(root, ["--rpc", node.rpcUrl, "--ledger", address]);
    expect(run.code, show(run)).to.equal(2);
    expect(run.stderr).to.contain("contracts/CreditLedger.sol");
    expect(run.stderr).to.contain("run `npx hardhat compile`");
    expect(run.stdout).not.to.contain("RESULT");
  });
});
