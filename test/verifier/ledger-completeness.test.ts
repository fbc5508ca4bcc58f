/**
 * Ledger-wide completeness (verifier/ledger-completeness.ts), end to end: `npm run audit`
 * against endpoints that lie by omission, each a filtering JSON-RPC proxy
 * (test/helpers/rpc-proxy.ts) in front of the in-process node. One hides every log of an
 * account, one drops a ledger-wide pause/unpause pair, one reports an older latest block; the
 * ledger double stages a ledger whose `ledgerHead()` disagrees with its logs. A clean history
 * with batches and a refused call passes and reports the refusal.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { loadFixture, mine } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { zeroPadValue, type Log } from "ethers";

import { startLocalNode, type LocalNode } from "../../scripts/lib/local-node";
import { ledgerInterface } from "../../verifier/abi";
import { accountWithLines, deployLedger, newAccountId, newRef, PAY_LATER_ID, purchase, repay, seqOf, type Ledger } from "../helpers/fixtures";
import { audit, describeFindings, failingChecks, firstFinding } from "../helpers/audit";
import { runAudit, showRun } from "../helpers/audit-cli";
import { deployDouble, StagedLedger } from "../helpers/ledger-double";
import { LEDGER_ADVANCED_TOPIC, startRpcProxy, type RpcProxy } from "../helpers/rpc-proxy";

/** Every log of the ledger, in order. */
async function ledgerLogs(address: string): Promise<Log[]> {
  return ethers.provider.getLogs({ address, fromBlock: 0, toBlock: "latest" });
}

/** The ledger seq and block of the LedgerAdvanced right after each log `pick` selects. */
async function advancesAfter(address: string, pick: (log: Log) => boolean): Promise<{ seq: bigint; block: number }[]> {
  const logs = await ledgerLogs(address);
  const out: { seq: bigint; block: number }[] = [];
  logs.forEach((log, i) => {
    if (!pick(log)) return;
    const next = logs[i + 1];
    expect(next.topics[0]).to.equal(LEDGER_ADVANCED_TOPIC);
    out.push({ seq: ledgerInterface.parseLog(next)!.args.ledgerSeq as bigint, block: next.blockNumber });
  });
  return out;
}

/** The block of the LedgerAdvanced with ledger seq `seq`. */
async function blockOfLedgerSeq(address: string, seq: bigint): Promise<number> {
  const log = (await ledgerLogs(address)).find((l) => l.topics[0] === LEDGER_ADVANCED_TOPIC && ledgerInterface.parseLog(l)!.args.ledgerSeq === seq);
  return log!.blockNumber;
}

describe("verifier: ledger-wide completeness (ledger-head)", function () {
  this.timeout(240_000);
  let node: LocalNode;
  let proxy: RpcProxy | undefined;
  let dir: string;

  before(async function () {
    node = await startLocalNode(hre, "127.0.0.1", 0);
    dir = mkdtempSync(path.join(tmpdir(), "ledger-completeness-"));
  });

  afterEach(async function () {
    await proxy?.close();
    proxy = undefined;
  });

  after(async function () {
    await node?.close();
  });

  /** Two accounts; the second's entries all lie between the first's purchase and its repayment. */
  async function twoAccounts(): Promise<{ l: Ledger; address: string; a: string; b: string }> {
    const l = await loadFixture(deployLedger);
    const a = await accountWithLines(l);
    const loanA = await purchase(l, a, 120_000n, 3);
    const b = await accountWithLines(l);
    const loanB = await purchase(l, b, 100_000n);
    await repay(l, b, loanB, 50_000n);
    await repay(l, a, loanA, 30_000n);
    return { l, address: await l.ledger.getAddress(), a, b };
  }

  it("fails the audit (exit 1) naming the ledger seq range and the blocks around it when an endpoint hides every log of one account", async function () {
    const { address, b } = await twoAccounts();
    const topic = zeroPadValue(b, 32).toLowerCase();
    const hidden = await advancesAfter(address, (log) => log.topics[1]?.toLowerCase() === topic);
    const first = hidden[0].seq;
    const last = hidden[hidden.length - 1].seq;
    expect(last - first + 1n, "the account's entries are consecutive ledger entries").to.equal(BigInt(hidden.length));
    const before = await blockOfLedgerSeq(address, first - 1n);
    const after = await blockOfLedgerSeq(address, last + 1n);
    proxy = await startRpcProxy(node.rpcUrl, { hideLog: (log) => log.topics[1]?.toLowerCase() === topic });

    const run = await runAudit(["--rpc", proxy.url, "--ledger", address, "--no-bytecode"]);
    expect(proxy.hidden.length, "the proxy hid the account's logs").to.equal(hidden.length);
    expect(run.code, showRun(run)).to.equal(1);
    expect(run.stdout, showRun(run)).to.match(/FAIL {2}ledger-head/);
    expect(run.stdout, showRun(run)).to.contain(`ledger entries ${first}..${last} are missing: no LedgerAdvanced for them in the logs read, between block ${before} (ledger seq ${first - 1n}) and block ${after} (ledger seq ${last + 1n})`);
    expect(run.stdout, showRun(run)).to.match(/RESULT: VIOLATIONS in ledger-head/);
  });

  it("fails the audit naming each LedgerAdvanced without its event when the endpoint hides an account's entries but keeps their LedgerAdvanced", async function () {
    const { address, b } = await twoAccounts();
    const topic = zeroPadValue(b, 32).toLowerCase();
    const hidden = await advancesAfter(address, (log) => log.topics[1]?.toLowerCase() === topic);
    proxy = await startRpcProxy(node.rpcUrl, { hideLog: (log) => log.topics[1]?.toLowerCase() === topic, keepAdvances: true });
    const run = await runAudit(["--rpc", proxy.url, "--ledger", address, "--no-bytecode"]);
    expect(run.code, showRun(run)).to.equal(1);
    expect(run.stdout, showRun(run)).to.contain(`LedgerAdvanced(${hidden[0].seq}) at block ${hidden[0].block}`);
    expect(run.stdout, showRun(run)).to.contain("follows no entry or ledger-wide event");
    expect(run.stdout, showRun(run)).to.match(new RegExp(`FAIL {2}ledger-head +\\d+ checked {2}${hidden.length} violation`));
  });

  it("fails the audit when the hidden account's entries are the last ones: the logs read end short of ledgerHead()", async function () {
    const { l, address } = await twoAccounts();
    const c = await accountWithLines(l);
    const topic = zeroPadValue(c, 32).toLowerCase();
    const hidden = await advancesAfter(address, (log) => log.topics[1]?.toLowerCase() === topic);
    const [seq] = await l.ledger.ledgerHead();
    proxy = await startRpcProxy(node.rpcUrl, { hideLog: (log) => log.topics[1]?.toLowerCase() === topic });
    const run = await runAudit(["--rpc", proxy.url, "--ledger", address, "--no-bytecode"]);
    expect(run.code, showRun(run)).to.equal(1);
    expect(run.stdout, showRun(run)).to.contain(`ledger entries ${hidden[0].seq}..${seq} are missing: ledgerHead() at block ${await ethers.provider.getBlockNumber()} says seq ${seq}`);
  });

  it("still checks the ledger-wide chain in an --account audit: another account hidden fails it by count", async function () {
    const { address, a, b } = await twoAccounts();
    const topic = zeroPadValue(b, 32).toLowerCase();
    const hidden = await advancesAfter(address, (log) => log.topics[1]?.toLowerCase() === topic);
    const json = path.join(dir, "scoped.json");
    const honest = await runAudit(["--rpc", node.rpcUrl, "--ledger", address, "--account", a, "--no-bytecode", "--json", json]);
    expect(honest.code, showRun(honest)).to.equal(0);
    expect(honest.stdout).to.contain("--account audits check the ledger-wide chain by count");
    const report = JSON.parse(readFileSync(json, "utf8")) as { ledgerHead: { scoped: boolean; unread: number } };
    expect(report.ledgerHead.scoped).to.equal(true);
    expect(report.ledgerHead.unread, "the other account's entries, counted by their LedgerAdvanced").to.equal(hidden.length);

    proxy = await startRpcProxy(node.rpcUrl, { hideLog: (log) => log.topics[1]?.toLowerCase() === topic });
    const run = await runAudit(["--rpc", proxy.url, "--ledger", address, "--account", a, "--no-bytecode"]);
    expect(run.code, showRun(run)).to.equal(1);
    expect(run.stdout, showRun(run)).to.contain(`ledger entries ${hidden[0].seq}..${hidden[hidden.length - 1].seq} are missing`);
  });

  it("fails the audit (exit 1) when the endpoint drops a ledger-wide Paused/Unpaused pair", async function () {
    const l = await loadFixture(deployLedger);
    const a = await accountWithLines(l);
    await l.ledger.connect(l.pauser).pause();
    await l.ledger.connect(l.pauser).unpause();
    await purchase(l, a, 50_000n);
    const address = await l.ledger.getAddress();
    const topics = new Set([ledgerInterface.getEvent("Paused")!.topicHash, ledgerInterface.getEvent("Unpaused")!.topicHash]);
    const dropped = await advancesAfter(address, (log) => topics.has(log.topics[0]));
    expect(dropped.map((d) => d.seq)).to.deep.equal([dropped[0].seq, dropped[0].seq + 1n]);

    const honest = await runAudit(["--rpc", node.rpcUrl, "--ledger", address, "--no-bytecode"]);
    expect(honest.code, showRun(honest)).to.equal(0);
    proxy = await startRpcProxy(node.rpcUrl, { hideLog: (log) => topics.has(log.topics[0]) });
    const run = await runAudit(["--rpc", proxy.url, "--ledger", address, "--no-bytecode"]);
    expect(run.code, showRun(run)).to.equal(1);
    expect(run.stdout, showRun(run)).to.contain(`ledger entries ${dropped[0].seq}..${dropped[1].seq} are missing`);
    expect(run.stdout, "the timeline shows no pause").to.not.contain("paused by");
  });

  it("passes an endpoint that reports an older latest block alone, and fails it (exit 1) with --expect-block or --expect-head of the real chain", async function () {
    const { l, address, a } = await twoAccounts();
    await purchase(l, a, 10_000n);
    await mine(2);
    const latest = (await ethers.provider.getBlock("latest"))!;
    const [seq, head] = await l.ledger.ledgerHead();
    proxy = await startRpcProxy(node.rpcUrl, { behindBy: 3 });

    const alone = await runAudit(["--rpc", proxy.url, "--ledger", address, "--no-bytecode"]);
    expect(alone.code, showRun(alone)).to.equal(0);
    expect(alone.stdout).to.contain(`verified at block ${latest.number - 3}`);

    const block = await runAudit(["--rpc", proxy.url, "--ledger", address, "--no-bytecode", "--expect-block", `${latest.number}:${latest.hash}`]);
    expect(block.code, showRun(block)).to.equal(1);
    expect(block.stdout).to.contain(`expected block ${latest.number} (hash ${latest.hash}); the endpoint's latest verified block is ${latest.number - 3}`);
    expect(block.stdout).to.contain("it is behind");

    const headRun = await runAudit(["--rpc", proxy.url, "--ledger", address, "--no-bytecode", "--expect-head", `${seq}:${head}`]);
    expect(headRun.code, showRun(headRun)).to.equal(1);
    expect(headRun.stdout).to.contain(`expected ledger head seq ${seq} (head ${head}); the endpoint gave seq ${seq - 1n}`);

    // The real endpoint meets both; a wrong hash is another chain.
    const json = path.join(dir, "cross.json");
    const real = await runAudit(["--rpc", node.rpcUrl, "--ledger", address, "--no-bytecode", "--expect-block", `${latest.number}:${latest.hash}`, "--expect-head", `${seq}:${head}`, "--json", json]);
    expect(real.code, showRun(real)).to.equal(0);
    expect(real.stdout).to.contain(`verified at block ${latest.number}, hash ${latest.hash}`);
    expect(real.stdout).to.contain(`ledger head: seq ${seq}, head ${head}`);
    expect(real.stdout).to.contain(`--expect-block ${latest.number}:${latest.hash} --expect-head ${seq}:${head}`);
    const report = JSON.parse(readFileSync(json, "utf8")) as { verifiedBlock: { number: number; hash: string }; ledgerHead: { seq: string; head: string } };
    expect(report.verifiedBlock).to.deep.include({ number: latest.number, hash: latest.hash });
    expect(report.ledgerHead).to.deep.include({ seq: String(seq), head });
    const older = await runAudit(["--rpc", node.rpcUrl, "--ledger", address, "--no-bytecode", "--expect-block", `${latest.number - 1}:${latest.hash}`, "--expect-head", `${seq - 1n}:${head}`]);
    expect(older.code, showRun(older)).to.equal(1);
    expect(older.stdout).to.contain(`the endpoint's block ${latest.number - 1} has hash ${(await ethers.provider.getBlock(latest.number - 1))!.hash}: another chain`);
    expect(older.stdout).to.contain(`expected ledger head ${head} at seq ${seq - 1n}; the endpoint's chain has`);
  });

  it("fails a staged ledger whose ledgerHead() disagrees with its logs, one whose entry has no LedgerAdvanced, and one with a stray LedgerAdvanced", async function () {
    const s = new StagedLedger(await loadFixture(deployDouble));
    const opened = await s.openAccount();
    await s.grantLine(opened.account, { limit: 100_000n });
    await s.syncViews();
    const honest = (await audit({ ledger: s.f.address, fromBlock: s.f.deployBlock })).report;
    expect(failingChecks(honest), describeFindings(honest)).to.deep.equal([]);
    const [seq, head] = await s.double.ledgerHead();

    await (await s.double.setLedgerHead(seq + 1n, head)).wait();
    const ahead = (await audit({ ledger: s.f.address, fromBlock: s.f.deployBlock })).report;
    expect(failingChecks(ahead), describeFindings(ahead)).to.deep.equal(["ledger-head"]);
    expect(firstFinding(ahead, "ledger-head")?.message).to.contain(`ledger entries ${seq + 1n}..${seq + 1n} are missing: ledgerHead() at block`);

    const other = ethers.id("another head");
    await (await s.double.setLedgerHead(seq, other)).wait();
    const altered = (await audit({ ledger: s.f.address, fromBlock: s.f.deployBlock })).report;
    expect(firstFinding(altered, "ledger-head")?.message).to.contain(`says head ${other}: an entry was altered or replaced`);
    await (await s.double.setLedgerHead(seq, head)).wait();

    await (await s.double.setAdvancing(false)).wait();
    const unadvanced = await s.purchase(opened.account, 10_000n);
    await (await s.double.setAdvancing(true)).wait();
    await s.syncViews();
    const missing = (await audit({ ledger: s.f.address, fromBlock: s.f.deployBlock })).report;
    expect(failingChecks(missing), describeFindings(missing)).to.deep.equal(["ledger-head"]);
    expect(firstFinding(missing, "ledger-head")).to.deep.include({ event: "Drawn", txHash: unadvanced.txHash, account: opened.account.toLowerCase(), seq: unadvanced.seq });
    expect(firstFinding(missing, "ledger-head")?.message).to.contain(`is not followed by its LedgerAdvanced (ledger seq ${seq + 1n} expected)`);

    const stray = new StagedLedger(await loadFixture(deployDouble));
    await stray.openAccount();
    const [n, h] = await stray.double.ledgerHead();
    const tx = await (await stray.double.emitLedgerAdvanced(n + 1n, h)).wait();
    await (await stray.double.setLedgerHead(n + 1n, h)).wait();
    await stray.syncViews();
    const strayReport = (await audit({ ledger: stray.f.address, fromBlock: stray.f.deployBlock })).report;
    expect(failingChecks(strayReport), describeFindings(strayReport)).to.deep.equal(["ledger-head"]);
    expect(firstFinding(strayReport, "ledger-head")).to.deep.include({ txHash: tx!.hash, event: "LedgerAdvanced" });
    expect(firstFinding(strayReport, "ledger-head")?.message).to.contain(`LedgerAdvanced(${n + 1n}) at block ${tx!.blockNumber} log 0 follows no entry or ledger-wide event`);
  });

  it("passes a clean history with batches and a refused call, reporting the refusal (index, account, ref, expectedSeq, decoded error) with no balance changed", async function () {
    const l = await loadFixture(deployLedger);
    const a = await accountWithLines(l);
    const loanNo = await purchase(l, a, 100_000n);
    const i = l.ledger.interface;
    const refusedRef = newRef();
    const seq = await seqOf(l, a);
    await l.asOperator.batch([
      i.encodeFunctionData("openAccount", [newAccountId(), 1, 1_000_000n, newRef(), 0n]),
      i.encodeFunctionData("purchase", [a, PAY_LATER_ID, 10_000n, 1, refusedRef, 99n]),
      i.encodeFunctionData("repay", [a, loanNo, 40_000n, newRef(), seq]),
    ]);
    const address = await l.ledger.getAddress();
    const json = path.join(dir, "refused.json");
    const html = path.join(dir, "refused.html");
    const run = await runAudit(["--rpc", node.rpcUrl, "--ledger", address, "--no-bytecode", "--json", json, "--html", html]);
    expect(run.code, showRun(run)).to.equal(0);
    expect(run.stdout, showRun(run)).to.contain("Refused batch calls (1;");
    expect(run.stdout, showRun(run)).to.contain(`call 1: purchase for account ${a.toLowerCase()} (ref ${refusedRef.toLowerCase()}, expectedSeq 99) refused with SeqMismatch(account=${a.toLowerCase()}, expected=99, actual=${seq})`);
    const report = JSON.parse(readFileSync(json, "utf8")) as { ok: boolean; refused: Record<string, unknown>[]; checks: { check: string; status: string; checked: number }[] };
    expect(report.refused).to.have.length(1);
    expect(report.refused[0]).to.deep.include({ index: 1, operation: "purchase", account: a.toLowerCase(), ref: refusedRef.toLowerCase(), expectedSeq: "99" });
    expect(report.checks.find((c) => c.check === "ledger-head")).to.deep.include({ status: "pass" });
    expect(report.checks.find((c) => c.check === "balances")).to.deep.include({ status: "pass" });
    const page = readFileSync(html, "utf8");
    expect(page).to.contain("Refused batch calls (1)");
    expect(page).to.contain("SeqMismatch(");
    expect(page).to.contain("To cross-check with another endpoint");
  });
});
