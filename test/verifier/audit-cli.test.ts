/**
 * `npm run audit` end to end: the CLI as a child process against a JSON-RPC node (the
 * in-process Hardhat network served over HTTP on 127.0.0.1), as an auditor runs it. Exit codes
 * (0 every check holds, 1 a violation, 2 usage or connection error), the summary naming the
 * failing check and entry, the JSON and HTML reports, and `verify-export`.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";

import { startLocalNode, type LocalNode } from "../../scripts/lib/local-node";
import { readLedger } from "../../verifier/source";
import { accountWithLines, deployLedger, drawCash, purchase, repay, type Ledger } from "../helpers/fixtures";
import { rpcProvider } from "../helpers/audit";
import { deployDouble, StagedLedger } from "../helpers/ledger-double";

const ROOT = path.resolve(__dirname, "..", "..");
const TS_NODE = require.resolve("ts-node/dist/bin.js");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI asynchronously: the node it reads is served from this process's event loop. */
function runAudit(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TS_NODE, "--transpile-only", path.join(ROOT, "scripts", "audit.ts"), ...args],
      { cwd: ROOT, env: { ...process.env, CI: "true" }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      }
    );
  });
}

const show = (r: Run): string => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** An account history in the shape of the gateway's GET /v1/accounts/{id}/history, built from the ledger's events. */
async function exportOf(ledger: string, account: string) {
  const history = await readLedger(rpcProvider(), { ledger, account });
  const json = (v: unknown): unknown =>
    typeof v === "bigint" ? v.toString() : Array.isArray(v) ? v.map(json) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, json(x)])) : v;
  return {
    accountId: account,
    entries: history.events
      .filter((e) => e.payloadHash !== undefined)
      .map((e) => ({
        seq: String(e.args.seq),
        kind: e.name,
        head: e.args.head,
        payloadHash: e.payloadHash,
        ref: e.args.ref,
        txHash: e.txHash,
        blockNumber: e.blockNumber,
        logIndex: e.logIndex,
        fields: json(e.args),
      })),
  };
}

describe("npm run audit (the verifier CLI)", function () {
  this.timeout(240_000);
  let node: LocalNode;
  let dir: string;

  before(async function () {
    node = await startLocalNode(hre, "127.0.0.1", 0);
    dir = mkdtempSync(path.join(tmpdir(), "audit-cli-"));
  });

  after(async function () {
    await node?.close();
  });

  async function honestLedger(): Promise<{ l: Ledger; address: string; account: string }> {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    const loanNo = await purchase(l, account, 120_000n, 3);
    await repay(l, account, loanNo, 50_000n);
    await drawCash(l, account, 300_000n, 6);
    await accountWithLines(l);
    return { l, address: await l.ledger.getAddress(), account };
  }

  it("exits 0 with every check passing on an honest ledger, and writes the JSON and HTML reports", async function () {
    const { address } = await honestLedger();
    const json = path.join(dir, "report.json");
    const html = path.join(dir, "report.html");
    const run = await runAudit(["--rpc", node.rpcUrl, "--ledger", address, "--json", json, "--html", html]);
    expect(run.code, show(run)).to.equal(0);
    expect(run.stdout).to.contain("RESULT: every check holds");
    const report = JSON.parse(readFileSync(json, "utf8")) as { ok: boolean; checks: { check: string; status: string; checked: number }[]; stats: { accounts: number } };
    expect(report.ok).to.equal(true);
    expect(report.checks.map((c) => [c.check, c.status])).to.deep.equal(
      ["hash-chain", "ledger-head", "roles", "decisions", "balances", "charges", "cost-ceiling", "limits", "references", "bytecode"].map((c) => [c, "pass"])
    );
    expect(report.checks.every((c) => c.checked > 0), "every check looked at something").to.equal(true);
    expect(report.stats.accounts).to.equal(2);
    expect(readFileSync(html, "utf8")).to.contain("Every check holds.");
    expect(run.stderr, "progress is reported on stderr").to.match(/\[audit\] logs: \d+\/\d+/);
  });

  it("verifies one account with --account", async function () {
    const { address, account } = await honestLedger();
    const json = path.join(dir, "one.json");
    const run = await runAudit(["--rpc", node.rpcUrl, "--ledger", address, "--account", account, "--json", json, "--no-bytecode"]);
    expect(run.code, show(run)).to.equal(0);
    const report = JSON.parse(readFileSync(json, "utf8")) as { accounts: { account: string }[]; checks: { check: string; status: string }[] };
    expect(report.accounts.map((a) => a.account)).to.deep.equal([account.toLowerCase()]);
    expect(report.checks.find((c) => c.check === "bytecode")?.status).to.equal("skipped");
  });

  it("exits 1 naming the check and the entry when a drawdown went above the line limit (staged on the ledger double), and flags the double's bytecode", async function () {
    const s = new StagedLedger(await loadFixture(deployDouble));
    const opened = await s.openAccount();
    const account = opened.account;
    await s.grantLine(account, { limit: 100_000n });
    const over = await s.purchase(account, 150_000n);
    const run = await runAudit(["--rpc", node.rpcUrl, "--ledger", s.f.address]);
    expect(run.code, show(run)).to.equal(1);
    expect(run.stdout).to.match(/FAIL {2}limits/);
    expect(run.stdout).to.contain(`account ${account.toLowerCase()}, seq ${over.seq}`);
    expect(run.stdout).to.contain(over.txHash);
    expect(run.stdout).to.match(/FAIL {2}bytecode/);
    expect(run.stdout).to.match(/RESULT: VIOLATIONS in .*limits/);
  });

  it("verify-export exits 0 on a complete export and 1 naming the seq of a deleted or altered entry", async function () {
    const { address, account } = await honestLedger();
    const exported = await exportOf(address, account);
    const file = (name: string, value: unknown) => {
      const p = path.join(dir, name);
      writeFileSync(p, JSON.stringify(value));
      return p;
    };
    const good = await runAudit(["verify-export", file("good.json", exported), "--rpc", node.rpcUrl, "--ledger", address]);
    expect(good.code, show(good)).to.equal(0);
    expect(good.stdout).to.contain("the export is complete and unaltered");

    const deleted = structuredClone(exported);
    deleted.entries.splice(2, 1);
    const del = await runAudit(["verify-export", file("deleted.json", deleted), "--rpc", node.rpcUrl, "--ledger", address]);
    expect(del.code, show(del)).to.equal(1);
    expect(del.stdout).to.contain("seq 3 missing");

    const altered = structuredClone(exported);
    const repaid = altered.entries.find((e) => e.kind === "Repaid")!;
    (repaid.fields as Record<string, string>).amount = "49999";
    const alt = await runAudit(["verify-export", file("altered.json", altered), "--rpc", node.rpcUrl, "--ledger", address]);
    expect(alt.code, show(alt)).to.equal(1);
    expect(alt.stdout).to.contain(`seq ${repaid.seq}: the fields do not hash`);
  });

  it("exits 2 with what to do on an unreachable node, a malformed or unknown account, a missing --rpc and an address with no contract", async function () {
    const unreachable = await runAudit(["--rpc", "http://127.0.0.1:9", "--ledger", "0x0000000000000000000000000000000000000001"]);
    expect(unreachable.code, show(unreachable)).to.equal(2);
    expect(unreachable.stderr).to.contain("cannot reach a JSON-RPC node at http://127.0.0.1:9");

    const badAccount = await runAudit(["--rpc", node.rpcUrl, "--account", "0x1234"]);
    expect(badAccount.code, show(badAccount)).to.equal(2);
    expect(badAccount.stderr).to.contain("--account must be 0x followed by 64 hex digits");

    const noRpc = await runAudit(["--ledger", "0x0000000000000000000000000000000000000001"]);
    expect(noRpc.code, show(noRpc)).to.equal(2);
    expect(noRpc.stderr).to.contain("--rpc <url> is required");

    const { address } = await honestLedger();
    const unknown = await runAudit(["--rpc", node.rpcUrl, "--ledger", address, "--account", `0x${"ab".repeat(32)}`, "--no-bytecode"]);
    expect(unknown.code, show(unknown)).to.equal(2);
    expect(unknown.stderr).to.contain(`no account 0x${"ab".repeat(32)} on the ledger`);

    const noContract = await runAudit(["--rpc", node.rpcUrl, "--ledger", "0x0000000000000000000000000000000000000001"]);
    expect(noContract.code, show(noContract)).to.equal(2);
    expect(noContract.stderr).to.contain("no contract at");
  });
});
