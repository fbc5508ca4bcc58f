/**
 * Checking an exported account history against the chain (`verifier/export.ts`). The export
 * is the real one: the gateway (built in-process by test/helpers/gateway.ts) records an
 * account's life through its partner API, and the auditor downloads
 * `GET /v1/accounts/{id}/history`. The unaltered export must verify against one on-chain read
 * of the account's seq and head; every way of editing it (an entry deleted, an amount altered,
 * an entry inserted, entries reordered, an export that stops early) must be found and located
 * at the seq where the export departs from the ledger.
 */
import { expect } from "chai";

import { nextHead, entryKindOf } from "../../core/hash-chain";
import { payloadHashOfFields, verifyExport, type ExportedEntry, type HistoryExport } from "../../verifier/export";
import { audit } from "../helpers/audit";
import { approvedAccount, get, post, testGateway, type TestGateway } from "../helpers/gateway";
import { randomNationalId } from "../helpers/identities";

interface Exported extends HistoryExport {
  seq: string;
  head: string;
  entries: (ExportedEntry & { seq: string; ref: string })[];
}

describe("verifier: exported account histories", function () {
  let t: TestGateway;
  let account: string;
  /** The export as downloaded (never modified: each test edits a copy). */
  let original: Exported;
  let onchain: { seq: bigint; head: string };
  /** The head of each seq, from the ledger's own events (what an auditor reads with the verifier). */
  let eventHeads: Map<bigint, string>;

  before(async () => {
    t = await testGateway();
    const identity = { nationalId: randomNationalId() };
    account = await approvedAccount(t, "pay_later", identity);
    await approvedAccount(t, "cash_loan", identity);
    const purchase = await post(t, "/v1/purchases", { accountId: account, amount: "300000", installments: 3 });
    expect(purchase.status, JSON.stringify(purchase.body)).to.equal(201);
    const refund = await post(t, `/v1/purchases/${purchase.body.loanId}/refunds`, { amount: "100000" });
    expect(refund.status, JSON.stringify(refund.body)).to.equal(200);
    const loan = await post(t, "/v1/loans", { accountId: account, amount: "600000", periods: 6, method: "annuity" });
    expect(loan.status, JSON.stringify(loan.body)).to.equal(201);
    const repaid = await post(t, "/v1/repayments", { loanId: loan.body.loanId, amount: "50000" });
    expect(repaid.status, JSON.stringify(repaid.body)).to.equal(200);

    const res = await get(t, `/v1/accounts/${account}/history`, t.keys.auditor);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    original = JSON.parse(JSON.stringify(res.body)) as Exported;
    const a = await t.l.ledger.accountOf(account);
    onchain = { seq: a.seq, head: a.head };

    const { history } = await audit({ ledger: await t.l.ledger.getAddress(), account });
    eventHeads = new Map(
      history.events
        .filter((e) => e.payloadHash !== undefined && String(e.args.account).toLowerCase() === account.toLowerCase())
        .map((e) => [BigInt(e.args.seq as bigint), String(e.args.head)])
    );
  });

  after(async () => {
    await t.gateway.stop();
  });

  const copy = (): Exported => structuredClone(original);
  const seqs = (x: { findings: { seq?: bigint }[] }) => x.findings.map((f) => f.seq);

  /** Recompute every entry's payload hash and head from its fields, as a forger hiding an edit would. */
  function rehash(e: Exported): Exported {
    let head = "0x" + "00".repeat(32);
    e.entries.forEach((entry, i) => {
      entry.seq = String(i + 1);
      entry.payloadHash = payloadHashOfFields(entry.kind, entry.fields);
      head = nextHead(head, BigInt(entry.seq), entryKindOf(entry.kind)!, entry.payloadHash);
      entry.head = head;
    });
    return e;
  }

  it("downloads an export of the account's whole history (the subject of the tests below)", function () {
    expect(original.entries.map((e) => e.kind)).to.deep.equal([
      "AccountOpened",
      "LineGranted",
      "LineGranted",
      "Drawn",
      "Refunded",
      "Drawn",
      "Repaid",
    ]);
    expect(BigInt(original.seq)).to.equal(onchain.seq);
  });

  it("passes an unaltered export against the ledger's seq and head", function () {
    const check = verifyExport(copy(), onchain);
    expect(check.findings).to.deep.equal([]);
    expect(check).to.include({ ok: true, entries: 7 });
  });

  it("passes an unaltered export against the ledger's event heads too", function () {
    expect(verifyExport(copy(), onchain, eventHeads)).to.include({ ok: true });
  });

  it("fails an export with one entry deleted, naming the seq that is missing", function () {
    const e = copy();
    e.entries.splice(4, 1); // seq 5, the refund
    const check = verifyExport(e, onchain);
    expect(check.ok).to.equal(false);
    expect(check.findings[0]).to.deep.include({ check: "hash-chain", account: account.toLowerCase(), seq: 5n });
  });

  it("fails an export with the first entry deleted, naming seq 1", function () {
    const e = copy();
    e.entries.shift();
    const check = verifyExport(e, onchain);
    expect(check.ok).to.equal(false);
    expect(check.findings[0]).to.deep.include({ check: "hash-chain", seq: 1n });
  });

  it("fails an export with one amount altered, naming the entry's seq and transaction", function () {
    const e = copy();
    const repaid = e.entries[6];
    (repaid.fields as { amount: string }).amount = "5000";
    const check = verifyExport(e, onchain);
    expect(check.ok).to.equal(false);
    expect(check.findings[0]).to.deep.include({ check: "hash-chain", seq: 7n, txHash: original.entries[6].txHash });
  });

  it("fails an export with an amount altered inside a struct (a drawdown's principal), naming the entry's seq", function () {
    const e = copy();
    (e.entries[3].fields.terms as { principal: string }).principal = "30000";
    const check = verifyExport(e, onchain);
    expect(check.ok).to.equal(false);
    expect(check.findings[0]).to.deep.include({ seq: 4n, txHash: original.entries[3].txHash });
  });

  it("fails an export whose altered amount was hidden by recomputing every hash, locating it with the ledger's event heads", function () {
    const e = copy();
    (e.entries[3].fields.terms as { principal: string }).principal = "30000";
    rehash(e);
    // Against the account's head alone the forgery shows only at the end...
    const alone = verifyExport(e, onchain);
    expect(alone.ok).to.equal(false);
    // ...against the ledger's events it is located at the altered entry.
    const located = verifyExport(e, onchain, eventHeads);
    expect(located.ok).to.equal(false);
    expect(located.findings[0]).to.deep.include({ seq: 4n });
  });

  it("fails an export with a duplicated entry, naming the repeated seq", function () {
    const e = copy();
    e.entries.splice(4, 0, structuredClone(e.entries[3])); // seq 4 twice
    const check = verifyExport(e, onchain);
    expect(check.ok).to.equal(false);
    expect(check.findings[0]).to.deep.include({ check: "hash-chain", seq: 4n });
  });

  it("fails an export with a fabricated entry inserted under an existing seq, naming that seq", function () {
    const e = copy();
    const fabricated = structuredClone(e.entries[3]);
    (fabricated.fields.terms as { principal: string }).principal = "999";
    fabricated.txHash = "0x" + "ee".repeat(32);
    e.entries.splice(4, 0, fabricated);
    const check = verifyExport(e, onchain);
    expect(check.ok).to.equal(false);
    expect(check.findings[0]).to.deep.include({ seq: 4n, txHash: fabricated.txHash });
  });

  it("fails an export with a fabricated entry inserted and the chain rebuilt around it, locating it with the ledger's event heads", function () {
    const e = copy();
    const fabricated = structuredClone(e.entries[5]); // a second cash drawdown that never happened
    (fabricated.fields as { loanNo: string }).loanNo = "9";
    e.entries.splice(6, 0, fabricated);
    rehash(e);
    expect(verifyExport(e, onchain).ok, "the export now claims one entry more than the ledger holds").to.equal(false);
    const located = verifyExport(e, onchain, eventHeads);
    expect(located.ok).to.equal(false);
    expect(located.findings[0]).to.deep.include({ seq: 7n });
  });

  it("fails an export with two entries swapped, naming the first out-of-place seq", function () {
    const e = copy();
    [e.entries[4], e.entries[5]] = [e.entries[5], e.entries[4]];
    const check = verifyExport(e, onchain);
    expect(check.ok).to.equal(false);
    expect(check.findings[0]).to.deep.include({ check: "hash-chain", seq: 5n });
  });

  it("fails an export that stops before the ledger's head, naming the first seq it lacks", function () {
    const e = copy();
    e.entries.splice(5); // seqs 6 and 7 missing
    const check = verifyExport(e, onchain);
    expect(check.ok).to.equal(false);
    expect(seqs(check)).to.deep.equal([6n]);
    expect(check.findings[0].message).to.match(/stops at seq 5.*seq 7/);
  });

  it("fails an export checked against a head the ledger moved past after it was downloaded", async function () {
    const repaid = await post(t, "/v1/repayments", { loanId: `${account}:2`, amount: "1000" });
    expect(repaid.status, JSON.stringify(repaid.body)).to.equal(200);
    const a = await t.l.ledger.accountOf(account);
    const check = verifyExport(copy(), { seq: a.seq, head: a.head });
    expect(check.ok).to.equal(false);
    expect(seqs(check)).to.deep.equal([8n]);
  });
});
