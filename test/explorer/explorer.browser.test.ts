/**
 * The explorer page in a real browser (Debian's chromium driven by playwright-core) against
 * `npm start`'s whole system: the local chain, the ledger and the gateway with its seeded demo
 * accounts. The page reads the chain itself and verifies it in the browser; this test checks
 * what it shows against the chain, read here independently with ethers, and that the badges
 * turn red when the gateway's compiled code or the RPC's answers are wrong. It saves the
 * screenshots the README shows (docs/images/explorer-*.png, refreshed with REFRESH_SCREENSHOTS=1).
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs it). No timing
 * assertions: the timeouts are hang guards.
 */
import { expect } from "chai";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { JsonRpcProvider, zeroPadValue } from "ethers";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

import { CreditLedger__factory, type CreditLedger } from "../../typechain-types";
import { yuan } from "../../verifier/explorer/client/format";
import { CHECKS } from "../../verifier/types";
import { startLocalSystem, type LocalSystem } from "../helpers/local-system";
import { startRpcProxy } from "../helpers/rpc-proxy";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];
/**
 * Screenshots go to the ignored cache/screenshots/; REFRESH_SCREENSHOTS=1 writes the ones the
 * README shows (docs/images/) instead. A test run never changes tracked files.
 */
const SCREENSHOTS = path.resolve(__dirname, "..", "..", ...(process.env.REFRESH_SCREENSHOTS === "1" ? ["docs", "images"] : ["cache", "screenshots"]));
/** Hang guard for anything the page does (reading the chain included). */
const WAIT = { timeout: 60_000 };

describe("explorer page in a browser, against npm start's system", function () {
  let system: LocalSystem;
  let browser: Browser;
  let chain: JsonRpcProvider;
  let ledger: CreditLedger;
  let wang: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the explorer's browser test needs Debian's chromium; run \`apt-get install -y chromium\` (as root)`);
    }
    system = await startLocalSystem();
    wang = system.demo.find((d) => d.name === "Wang")!.accountId.toLowerCase();
    chain = new JsonRpcProvider(system.rpcUrl, system.chainId, { staticNetwork: true });
    ledger = CreditLedger__factory.connect(system.ledger, chain);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async function () {
    await browser?.close();
    chain?.destroy();
    await system?.stop();
  });

  /** A fresh tab (its own sessionStorage), with page errors collected. */
  async function newPage(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    return { context, page, errors };
  }

  /** Opens the explorer (at `hash`) and enters `key`. */
  async function connect(page: Page, key: string, hash = ""): Promise<void> {
    await page.goto(`${system.gateway.explorer}${hash}`);
    await page.getByTestId("key-input").fill(key);
    await page.getByTestId("key-submit").click();
  }

  async function expectBadges(page: Page, scope: string, expected: (check: string) => string): Promise<void> {
    const badges = page.getByTestId(scope).locator("[data-testid^=badge-]");
    const statuses = Object.fromEntries(
      await badges.evaluateAll((els) => els.map((e) => [e.getAttribute("data-testid")!.slice("badge-".length), e.getAttribute("data-status")]))
    );
    expect(statuses, `${scope}: one badge per check, with its status`).to.deep.equal(Object.fromEntries(CHECKS.map((c) => [c.name, expected(c.name)])));
  }

  it("refuses a key without the auditor scope and an unknown key, saying which key to use", async () => {
    const { context, page, errors } = await newPage();
    await connect(page, system.gateway.keys.partner);
    await page.getByTestId("error").waitFor(WAIT);
    expect(await page.getByTestId("error").textContent()).to.match(/no auditor scope.*auditor key/);
    expect(await page.getByTestId("key-input").isVisible()).to.equal(true);

    await page.getByTestId("key-input").fill("clk_not-a-key");
    await page.getByTestId("key-submit").click();
    await page.getByTestId("error").getByText("did not accept").waitFor(WAIT);
    expect(await page.getByTestId("error").textContent()).to.include("auditor key");
    expect(errors).to.deep.equal([]);
    await context.close();
  });

  it("shows the ledger overview verified in the browser: every check passes, and the figures are the chain's", async () => {
    const { context, page, errors } = await newPage();
    await connect(page, system.gateway.keys.auditor);
    await page.getByTestId("overview").waitFor(WAIT);
    await expectBadges(page, "ledger-badges", () => "pass");

    const opened = await ledger.queryFilter(ledger.filters.AccountOpened());
    const accounts = opened.map((e) => e.args.account.toLowerCase());
    let entries = 0n;
    let used = 0n;
    for (const account of accounts) {
      const a = await ledger.accountOf(account);
      entries += a.seq;
      used += a.used;
    }
    expect(await page.getByTestId("stat-accounts").locator(".value").textContent()).to.equal(String(accounts.length));
    expect(await page.getByTestId("stat-entries").locator(".value").textContent()).to.equal(entries.toString());
    expect(await page.getByTestId("stat-outstanding").locator(".value").textContent()).to.equal(yuan(used));
    const listed = await page.getByTestId("account-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-account")));
    expect([...listed].sort()).to.deep.equal([...accounts].sort());
    // Every bucket is shown; the demo's loans are all current at the chain's time.
    for (const bucket of ["current", "1-30", "31-60", "61-90", "90+"]) await page.getByTestId(`bucket-${bucket}`).waitFor(WAIT);
    expect(await page.getByTestId("bucket-90+").locator("td").first().textContent()).to.equal("0");
    expect(Number(await page.getByTestId("bucket-current").locator("td").first().textContent())).to.be.greaterThan(0);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, "explorer-overview.png"), fullPage: true });
    expect(errors).to.deep.equal([]);
    await context.close();
  });

  it("reads the chain from the auditor's own RPC URL (the gateway's is only the default) and shows the block and ledger head verified, to cross-check", async () => {
    const own = await startRpcProxy(system.rpcUrl, {});
    try {
      const { context, page, errors } = await newPage();
      await page.goto(system.gateway.explorer);
      expect(await page.getByTestId("rpc-input").getAttribute("placeholder")).to.include("the gateway's default");
      await page.getByTestId("key-input").fill(system.gateway.keys.auditor);
      await page.getByTestId("rpc-input").fill(own.url);
      await page.getByTestId("key-submit").click();
      await page.getByTestId("overview").waitFor(WAIT);
      await expectBadges(page, "ledger-badges", () => "pass");
      const connection = page.getByTestId("connection");
      expect(await connection.getAttribute("data-rpc")).to.equal("own");
      expect(await connection.textContent()).to.include(`read from ${own.url}, your own RPC URL (the gateway's default is ${system.rpcUrl})`);
      expect(own.requests, "the page read the chain through the auditor's RPC").to.be.greaterThan(0);

      const shown = (await page.getByTestId("verified-block").textContent())!;
      const number = Number(/verified at block (\d+)/.exec(shown)![1]);
      const block = (await chain.getBlock(number))!;
      expect(shown).to.include(`verified at block ${number}, hash ${block.hash}`);
      const [seq, head] = await ledger.ledgerHead({ blockTag: number });
      expect(await page.getByTestId("verified-head").textContent()).to.include(`ledger head: seq ${seq}, head ${head}`);
      expect(await page.getByTestId("cross-check").textContent()).to.include(`--expect-block ${number}:${block.hash} --expect-head ${seq}:${head}`);

      // Back to the gateway's default from the navigation bar.
      await page.getByTestId("rpc-nav-input").fill("");
      await page.getByTestId("rpc-submit").click();
      await page.locator("[data-testid=connection][data-rpc=default]").waitFor(WAIT);
      expect(await connection.textContent()).to.include(`read from ${system.rpcUrl}, the gateway's default RPC URL (set by the gateway's operator, the party being audited`);
      await page.getByTestId("overview").waitFor(WAIT);
      expect(errors).to.deep.equal([]);
      await context.close();
    } finally {
      await own.close();
    }
  });

  it("looks up a demo account: the timeline's tx hashes and blocks are on the chain, the chart has a point per entry, every badge passes", async () => {
    const { context, page, errors } = await newPage();
    await connect(page, system.gateway.keys.auditor);
    await page.getByTestId("overview").waitFor(WAIT);
    await page.getByTestId("lookup-input").fill(wang);
    await page.getByTestId("lookup-submit").click();
    const view = page.getByTestId("account-view");
    await view.waitFor(WAIT);
    expect(await view.getAttribute("data-account")).to.equal(wang);

    const onChain = await ledger.accountOf(wang);
    const rows = page.getByTestId("timeline-row");
    expect(await rows.count(), "one timeline row per entry of the account").to.equal(Number(onChain.seq));
    const cells = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({
        seq: tr.getAttribute("data-seq"),
        tx: tr.querySelector("[data-testid=entry-tx]")!.getAttribute("data-tx")!,
        block: Number(tr.querySelector("[data-testid=entry-block]")!.getAttribute("data-block")),
      }))
    );
    const accountTopic = zeroPadValue(wang, 32);
    for (const [i, cell] of cells.entries()) {
      expect(cell.seq).to.equal(String(i + 1));
      expect(cell.tx).to.match(/^0x[0-9a-f]{64}$/);
      const receipt = await chain.getTransactionReceipt(cell.tx);
      expect(receipt, `tx ${cell.tx} is on the chain`).to.not.equal(null);
      expect(receipt!.blockNumber, `block of tx ${cell.tx}`).to.equal(cell.block);
      expect(receipt!.logs.some((l) => l.address === system.ledger && l.topics[1] === accountTopic), `tx ${cell.tx} wrote an entry of the account`).to.equal(true);
    }

    const d = (await page.getByTestId("balance-chart-path").getAttribute("d"))!;
    expect(d).to.match(/^M[\d.]+,[\d.]+ V[\d.]+( H[\d.]+ V[\d.]+)+ H[\d.]+$/);
    expect(await page.getByTestId("balance-chart-point").count(), "a chart point per entry").to.equal(Number(onChain.seq));
    expect(await page.getByTestId("balance-chart-point").last().locator("title").textContent()).to.include(yuan(onChain.used));
    expect(await page.getByTestId("stat-used").locator(".value").textContent()).to.equal(yuan(onChain.used));

    await expectBadges(page, "account-badges", () => "pass");
    expect(await page.getByTestId("line-row").count()).to.equal(2);
    await page.getByTestId("schedule-3").waitFor(WAIT);
    // The demo borrower is current: every month of the credit report so far is N.
    const months = await page.getByTestId("credit-month").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-status")));
    expect(months.length, "a credit-report row per month since the account opened").to.be.greaterThan(0);
    expect(months).to.deep.equal(months.map(() => "N"));

    await page.screenshot({ path: path.join(SCREENSHOTS, "explorer-account.png"), fullPage: true });
    expect(errors).to.deep.equal([]);
    await context.close();
  });

  it("opens a loan as <account>:<n> or <account>/<n>, with its schedule from the chain", async () => {
    const { context, page, errors } = await newPage();
    await connect(page, system.gateway.keys.auditor);
    await page.getByTestId("overview").waitFor(WAIT);
    for (const [separator, loanNo] of [[":", 3], ["/", 1]] as const) {
      await page.getByTestId("lookup-input").fill(`${wang}${separator}${loanNo}`);
      await page.getByTestId("lookup-submit").click();
      await page.getByTestId("loan-view").getByTestId(`schedule-${loanNo}`).waitFor(WAIT);
      const [terms] = await ledger.loanOf(wang, loanNo);
      const schedule = await ledger.scheduleOf(wang, loanNo);
      const rows = page.getByTestId(`schedule-${loanNo}`).getByTestId("installment-row");
      expect(await rows.count()).to.equal(Number(terms.periods));
      const principals = await rows.evaluateAll((trs) => trs.map((tr) => tr.querySelectorAll("td")[2].textContent));
      expect(principals).to.deep.equal(schedule.map((s) => yuan(s.principal)));
      const statuses = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-status")));
      expect(statuses.every((s) => ["paid", "due", "upcoming", "overdue"].includes(s!)), statuses.join(", ")).to.equal(true);
      // The timeline holds this loan's entries only.
      const kinds = await page.getByTestId("timeline-row").evaluateAll((trs) => trs.map((tr) => tr.querySelectorAll("td")[2].textContent));
      expect(kinds[0]).to.equal("Drawn");
    }
    expect(errors).to.deep.equal([]);
    await context.close();
  });

  it("says what to type for a malformed id, and that an unknown account is not on the ledger", async () => {
    const { context, page } = await newPage();
    await connect(page, system.gateway.keys.auditor);
    await page.getByTestId("overview").waitFor(WAIT);
    await page.getByTestId("lookup-input").fill("hello");
    await page.getByTestId("lookup-submit").click();
    await page.getByTestId("error").waitFor(WAIT);
    expect(await page.getByTestId("error").textContent()).to.include("0x followed by 64 hex digits");

    const unknown = `0x${"ab".repeat(32)}`;
    await page.getByTestId("lookup-input").fill(unknown);
    await page.getByTestId("lookup-submit").click();
    await page.getByTestId("not-found").waitFor(WAIT);
    expect(await page.getByTestId("not-found-detail").textContent()).to.include(unknown);
    await context.close();
  });

  it("fails the bytecode badge when the gateway's compiled code does not match the deployed code", async () => {
    const { context, page } = await newPage();
    await page.route("**/v1/explorer/config", async (route) => {
      const response = await route.fetch();
      const config = await response.json();
      const code: string = config.artifacts.ledger.object;
      const at = 200; // inside the code, far from link and immutable references
      config.artifacts.ledger.object = code.slice(0, at) + (code[at] === "0" ? "1" : "0") + code.slice(at + 1);
      await route.fulfill({ response, json: config });
    });
    await connect(page, system.gateway.keys.auditor);
    await page.getByTestId("overview").waitFor(WAIT);
    await expectBadges(page, "ledger-badges", (check) => (check === "bytecode" ? "fail" : "pass"));
    expect(await page.getByTestId("ledger-badges-findings").textContent()).to.match(/CreditLedger.*differs/);
    await context.close();
  });

  it("fails the hash-chain badge when the RPC withholds one of the account's entries", async () => {
    const { context, page } = await newPage();
    const accountTopic = zeroPadValue(wang, 32);
    let withheld = 0;
    await page.route((url) => url.origin === new URL(system.rpcUrl).origin, async (route) => {
      if (route.request().method() !== "POST") return route.continue();
      const response = await route.fetch();
      const body = await response.json();
      const answers = (Array.isArray(body) ? body : [body]) as Array<{ result?: unknown }>;
      for (const answer of answers) {
        if (!Array.isArray(answer.result) || withheld > 0) continue;
        const logs = answer.result as Array<{ topics?: string[] }>;
        const mine = logs.filter((l) => l.topics?.[1] === accountTopic);
        if (mine.length > 2) {
          answer.result = logs.filter((l) => l !== mine[1]); // the account's second entry
          withheld += 1;
        }
      }
      await route.fulfill({ response, json: body });
    });
    await connect(page, system.gateway.keys.auditor, `#/account/${wang}`);
    await page.getByTestId("account-view").waitFor(WAIT);
    expect(withheld, "the RPC withheld an entry").to.equal(1);
    const badge = page.getByTestId("account-badges").getByTestId("badge-hash-chain");
    expect(await badge.getAttribute("data-status")).to.equal("fail");
    expect(await page.getByTestId("account-badges-findings").textContent()).to.include("hash-chain");
    await context.close();
  });
});
