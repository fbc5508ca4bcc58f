/**
 * `npm run audit -- books` end to end, as an auditor runs it against a JSON-RPC node: exit 0 and
 * a balanced trial balance on a clean history, CSV files a spreadsheet opens (parsed back here:
 * RFC 4180, header row, yuan and fen columns that agree), exit 1 naming the portfolio account
 * and the journal entry when an endpoint hides a repayment (the views still show it), exit 2 on
 * bad usage.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { id } from "ethers";

import { startLocalNode, type LocalNode } from "../../../scripts/lib/local-node";
import { parseCsv, yuanDecimal } from "../../../verifier/books/csv";
import { accountWithLines, deployLedger, drawCash, PAY_LATER_ID, purchase, repay } from "../../helpers/fixtures";
import { runAudit, showRun } from "../../helpers/audit-cli";
import { startRpcProxy } from "../../helpers/rpc-proxy";

const REPAID_TOPIC = id("Repaid(bytes32,uint32,uint64,bytes32,bytes32,uint64,(uint64,uint64,uint64,uint64,uint64,uint64),uint16,uint64,uint64,uint8,address)");

describe("npm run audit -- books (the auditor's books)", function () {
  this.timeout(240_000);
  let node: LocalNode;
  let dir: string;

  before(async function () {
    node = await startLocalNode(hre, "127.0.0.1", 0);
    dir = mkdtempSync(path.join(tmpdir(), "audit-books-"));
  });

  after(async function () {
    await node?.close();
  });

  async function history(): Promise<string> {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    const loanNo = await purchase(l, account, 120_000n, 3);
    await repay(l, account, loanNo, 50_000n);
    await drawCash(l, account, 300_000n, 6);
    return l.ledger.getAddress();
  }

  it("exits 0 on a clean history and writes CSVs that parse back to a balanced trial balance", async function () {
    const ledger = await history();
    const out = path.join(dir, "clean");
    const run = await runAudit(["books", "--rpc", node.rpcUrl, "--ledger", ledger, "--csv", out]);
    expect(run.code, showRun(run)).to.equal(0);
    expect(run.stdout).to.contain("RESULT: the books balance and agree with the ledger's views");
    const tb = parseCsv(readFileSync(path.join(out, "trial-balance.csv"), "utf8"));
    expect(tb[0]).to.deep.equal(["account", "account_name", "type", "debit_yuan", "debit_fen", "credit_yuan", "credit_fen", "balance_yuan", "balance_fen"]);
    const total = tb.find((r) => r[0] === "total")!;
    expect(total[4], "debits equal credits").to.equal(total[6]);
    for (const r of tb.slice(1)) expect(r[3], "yuan and fen columns agree").to.equal(yuanDecimal(BigInt(r[4])));
    const portfolio = tb.find((r) => r[0] === `1100-${PAY_LATER_ID}`)!;
    expect(portfolio[8], "pay-later portfolio: 120,000 drawn less 50,000 less the fee paid first").to.equal(String(120_000n - (50_000n - BigInt(tb.find((r) => r[0] === "1210")![6]))));
    const journal = parseCsv(readFileSync(path.join(out, "journal.csv"), "utf8"));
    expect(journal.slice(1).some((r) => r[5] === "Repaid")).to.equal(true);
    expect(readFileSync(path.join(out, "journal.csv"), "utf8")).to.match(/\r\n$/);
    const tape = parseCsv(readFileSync(path.join(out, "loan-tape.csv"), "utf8"));
    expect(tape.length - 1, "one tape row per loan").to.equal(2);
  });

  it("exits 1 naming the portfolio account and the entry when the endpoint hides a repayment", async function () {
    const ledger = await history();
    const proxy = await startRpcProxy(node.rpcUrl, { hideLog: (log) => log.topics[0] === REPAID_TOPIC });
    try {
      const run = await runAudit(["books", "--rpc", proxy.url, "--ledger", ledger, "--basis", "cash"]);
      expect(run.code, showRun(run)).to.equal(1);
      expect(run.stdout).to.match(new RegExp(`\\[1100-${PAY_LATER_ID}\\] entry 1: Loan portfolio, product ${PAY_LATER_ID} \\(1100-${PAY_LATER_ID}\\) of loan 1`));
    } finally {
      await proxy.close();
    }
  });

  it("draws the books up as of the end of a past day: later entries are left out and the views are read at that day's last block", async function () {
    const l = await loadFixture(deployLedger);
    const account = await accountWithLines(l);
    const loanNo = await purchase(l, account, 80_000n, 1);
    const bought = (await l.ledger.loanOf(account, loanNo))[0].startTime;
    await time.increaseTo(bought + 3n * 86_400n);
    await repay(l, account, loanNo, 30_000n);
    const day = new Date(Number(bought) * 1000).toISOString().slice(0, 10);
    const out = path.join(dir, "as-of");
    const run = await runAudit(["books", "--rpc", node.rpcUrl, "--ledger", await l.ledger.getAddress(), "--as-of", day, "--csv", out]);
    expect(run.code, showRun(run)).to.equal(0);
    const kinds = parseCsv(readFileSync(path.join(out, "journal.csv"), "utf8")).slice(1).map((r) => r[5]);
    expect(kinds).to.include("Drawn");
    expect(kinds, "the repayment three days later is not in the books").to.not.include("Repaid");
    const tb = parseCsv(readFileSync(path.join(out, "trial-balance.csv"), "utf8"));
    expect(tb.find((r) => r[0] === `1100-${PAY_LATER_ID}`)![8]).to.equal("80000");
  });

  it("exits 2 on a bad basis or date", async function () {
    for (const bad of [["--basis", "modified"], ["--as-of", "2025-13-45x"]]) {
      const run = await runAudit(["books", "--rpc", node.rpcUrl, ...bad]);
      expect(run.code, showRun(run)).to.equal(2);
      expect(run.stderr).to.contain(bad[0]);
    }
  });
});
